"""The ``access`` command (``kmslint access [PATH ...]``): load as a lint loads, build, render.

Discovery, parsing and their limits are the lint path's (:mod:`kmslint.discovery`,
:func:`kmslint.engine.load_unit`): nothing outside a unit's scan root is read, a file
that is too large, too deep or too costly is not read, and a Terraform directory that
another directory of the run calls as a module is read only through those calls.  A
file that cannot be parsed (KMS000) is said in a note on stderr; its keys are not in the
report.  Exit status: 0 when the report was written, 2 for a usage error (a path that
does not exist or cannot be read) or when the report cannot be written.
"""

from __future__ import annotations

from collections.abc import Sequence

from kmslint import access
from kmslint.model import Project, clip
from kmslint.settings import Settings

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from kmslint.access import JSON


class Loaded:
    """What reading the paths gave: the configurations, the notes for stderr, and whether a
    path given was wrong (a usage error)."""

    def __init__(self) -> None:
        self.projects: list[Project] = []
        self.notes: list[str] = []
        self.usage_error = False


def load(paths: Sequence[str], settings: Settings) -> Loaded:
    from kmslint import catalog
    from kmslint.api import _widest, called_only
    from kmslint.discovery import discover
    from kmslint.engine import UnitResult, load_unit
    from kmslint.parsers.common import ParseOptions

    out = Loaded()
    found = discover(list(paths) or ["."], settings.exclude, settings.key_policy_files)
    for missing in found.missing:
        out.notes.append(f"error: {missing}: no such file or directory")
        out.usage_error = True
    for problem in found.unreadable:
        out.notes.append(f"error: {problem}")
        out.usage_error = True
    out.notes.extend(found.notes)
    opts = ParseOptions(
        scan_root=_widest(u.scan_root for u in found.units),
        max_file_bytes=settings.max_file_bytes,
        max_depth=settings.max_depth,
        display_names=found.display,
        display_roots=tuple(found.roots),
        rules=frozenset(catalog.rules()),  # every rule's markers: whatever any rule reads is read
    )
    loaded = []
    results = []
    for unit in found.units:
        one = load_unit(unit, opts)
        loaded.append(one)
        results.append(UnitResult(called=sorted({d for p in one.projects for d in p.called})))
    dropped = called_only(found.units, results)
    errors: set[tuple[str, int, int, str]] = set()
    for unit, one in zip(found.units, loaded, strict=True):
        if unit.path in dropped:
            continue
        reported = {found.display.get(p, str(p)) for p in unit.reported}
        out.notes.extend(one.notes)
        for err in one.errors:
            errors.add((err.file, err.line, err.column, err.message))
        for project in one.projects:
            for err in project.errors:
                if err.file in reported or err.file in project.files:
                    errors.add((err.file, err.line, err.column, err.message))
            out.projects.append(project)
    not_followed = {(n.file, n.line, n.module) for p in out.projects for n in p.not_followed}
    if not_followed:
        calls = "module call" if len(not_followed) == 1 else "module calls"
        out.notes.append(
            f"note: {len(not_followed)} {calls} not followed (sources not on disk), so their keys are not"
            " in the report: run terraform init, or give the plan JSON"
        )
    for file, line, column, message in sorted(errors):
        out.notes.append(f"note: {file}:{line}:{column}: KMS000 {message} (its keys are not in the access report)")
    return out


def report(projects: Sequence[Project], settings: Settings) -> JSON:
    """The report of the loaded configurations; a configuration too costly to read is left out."""
    from kmslint.parsers.common import BudgetExceeded

    out: list[JSON] = []
    for project in projects:
        try:
            out.extend(access.build([project], settings.account_id)["keys"])
        except BudgetExceeded:
            continue
    out.sort(key=lambda k: (k["key"], k["file"], k["line"]))
    return {"version": access.VERSION, "keys": out}


# --------------------------------------------------------------------------- formats


def render_json(doc: JSON) -> str:
    from kmslint.formatters import json_text

    return json_text(doc)


_CAPABILITY = {"administer": "administer", "use": "use", "delegate": "delegate", "full": "full"}
_KIND = {
    "wildcard": "WILDCARD (anyone)",
    "account-root": "account root (delegates to IAM)",
    "other-account": "OTHER ACCOUNT",
    "service": "service",
    "principal": "principal",
    "unknown": "unknown",
}


# A principal longer than this is shortened in the table (the JSON has it whole, up to 200 characters).
_SHOWN = 90


def _actions(actions: list[str]) -> str:
    return ", ".join(a.removeprefix("kms:") for a in actions)


def render_text(doc: JSON) -> str:
    """A table per key for a terminal: every field from the input escaped (no control characters)."""
    from kmslint.formatters import log_line, terminal

    lines: list[str] = []
    keys = doc.get("keys", [])
    if not keys:
        return "No KMS keys found.\n"
    for key in keys:
        if lines:
            lines.append("")
        lines.append(f"{terminal(key['key'])}  ({terminal(key['file'])}:{key['line']})")
        rows = [("CAPABILITY", "PRINCIPAL", "KIND", "ACTIONS", "CONDITIONS", "SOURCE")]
        for e in key["access"]:
            src = e["source"]
            rows.append(
                (
                    _CAPABILITY[e["capability"]],
                    terminal(clip(e["principal"], _SHOWN)),
                    _KIND[e["kind"]],
                    terminal(_actions(e["actions"])),
                    terminal("; ".join(e["conditions"])) or "-",
                    terminal(f"{src['via']} {src['resource']} {src['file']}:{src['line']}"),
                )
            )
        if len(rows) == 1:
            lines.append("  (no access written in this configuration)")
        else:
            widths = [max(len(r[i]) for r in rows) for i in range(5)]
            for r in rows:
                cells = [r[i].ljust(widths[i]) for i in range(5)]
                lines.append(("  " + "  ".join(cells) + "  " + r[5]).rstrip())
        for use in key["used_by"]:
            lines.append(f"  used by {terminal(use['resource'])} ({terminal(use['file'])}:{use['line']})")
    return "\n".join(log_line(line) for line in lines) + "\n"


def render_markdown(doc: JSON) -> str:
    from kmslint.access_render import render_markdown

    return render_markdown(doc)


def render_dot(doc: JSON) -> str:
    from kmslint.access_render import render_dot

    return render_dot(doc)


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown, "dot": render_dot}
# The formats programs read, written as UTF-8 whatever the terminal's encoding.
UTF8_FORMATS = frozenset({"json", "markdown", "dot"})


def read_settings(paths: Sequence[str], account_id: str | None, config_file: str | None) -> Settings | None:
    """The settings the access commands run with (the configuration found from the first path,
    or ``config_file``, and ``--account-id``); None after saying why on stderr."""
    from kmslint import config
    from kmslint.lintcmd import note

    try:
        overrides = config.Overrides(account_id=account_id) if account_id else config.NO_OVERRIDES
        return config.settings_for(next(iter(paths), None), overrides, config_file=config_file)
    except config.ConfigError as exc:
        for problem in exc.problems:
            note(f"kmslint: error: {problem}")
        return None


def emit(text: str, output: str | None, utf8: bool, what: str) -> bool:
    """Write ``text`` to ``output`` (stdout when None); False after saying why on stderr."""
    from kmslint.lintcmd import note, write_report_file, write_stdout

    try:
        if output is not None:
            write_report_file(text, output)
        else:
            write_stdout(text, utf8=utf8)
    except OSError as exc:
        note(f"kmslint: error: cannot write the {what}: {exc.strerror or exc}")
        return False
    return True


def run(paths: Sequence[str], fmt: str, output: str | None, account_id: str | None, config_file: str | None) -> int:
    """Everything ``kmslint access`` does after parsing its arguments; the exit status."""
    from kmslint import exitcodes
    from kmslint.lintcmd import note

    settings = read_settings(paths, account_id, config_file)
    if settings is None:
        return exitcodes.ERROR
    loaded = load(paths, settings)
    for line in loaded.notes:
        note(line)
    text = RENDERERS[fmt](report(loaded.projects, settings))
    if not emit(text, output, fmt in UTF8_FORMATS, "access report"):
        return exitcodes.ERROR
    return exitcodes.ERROR if loaded.usage_error else exitcodes.OK


__all__ = [
    "Loaded",
    "emit",
    "load",
    "read_settings",
    "render_dot",
    "render_json",
    "render_markdown",
    "render_text",
    "report",
    "run",
]
