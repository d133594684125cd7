"""``kmslint access --diff REV [PATH ...]``: what the work tree changes in the access report of ``REV``.

Two reports are built as ``kmslint access`` builds one (:mod:`kmslint.accesscmd`):
one of the files committed in ``REV``, read into a temporary directory by
:mod:`kmslint.gitrev` (nothing is checked out; the work tree and the index are
not touched), and one of the work tree.  :mod:`kmslint.access_diff` keeps only
what changed.

**One configuration for both sides: the work tree's.**  The configuration file
found from the first path (or given with ``--config``) and ``--account-id``
apply to both reports; a ``.kmslint.toml`` committed in ``REV`` is not read.
A comparison is only a comparison when both sides are read alike: with each
side's own configuration, a change of ``account-id`` would show every principal
of the account as newly "another account", and a change of ``exclude`` or
``key-policy-files`` would show access appearing or vanishing that no policy
changed.  The work tree's is the one the user is running with now (and the
one the next lint applies).  The configuration's patterns, anchored to its
directory in the work tree, are anchored to the same directory in the
revision.  When the revision holds that configuration file with other bytes,
a note on stderr says so: a pull request that changes what is excluded
changes what both reports read, and a reviewer should see that.

The revision's files are named as the work tree's are (:meth:`kmslint.gitrev.Revision.display`),
so that a key or a statement that did not move is the same in both reports.
A scanned path that does not exist in ``REV`` holds nothing there (it was
added since).  Exit status: 0, or 1 with ``--fail-on-widening`` when access was
added or widened; 2 for an error, said in one line on stderr (git missing,
not a git work tree, an unknown revision, a path missing in the work tree, a
configuration error, a report that cannot be written).
"""

from __future__ import annotations

import os

from kmslint import accesscmd, exitcodes

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from kmslint.access import JSON
    from kmslint.gitrev import Revision
    from kmslint.settings import Settings

FORMATS = ("text", "markdown", "json")
HEAD = "the work tree"
# How many of the revision's files that were not read are named on stderr (the rest are counted).
_SKIPPED_SHOWN = 3


def _anchored(patterns: tuple[str, ...], top: str, root: str) -> tuple[str, ...]:
    """Patterns anchored below the work tree's root ``top``, anchored below ``root`` instead."""
    from kmslint.config import _GLOB_SPECIAL

    old = _GLOB_SPECIAL.sub(r"\\\1", top.rstrip("/")) + "/"
    new = _GLOB_SPECIAL.sub(r"\\\1", root.rstrip("/")) + "/"
    out = []
    for pattern in patterns:
        negate = "!" if pattern.startswith("!") else ""
        body = pattern[len(negate) :]
        out.append(negate + new + body[len(old) :] if body.startswith(old) else pattern)
    return tuple(out)


def revision_settings(settings: Settings, revision: Revision) -> Settings:
    """The work tree's settings, their patterns anchored in the revision's directory."""
    if os.sep != "/" or not revision.top:
        return settings
    from kmslint.record import replace

    return replace(
        settings,
        exclude=_anchored(settings.exclude, revision.top, revision.root),
        key_policy_files=_anchored(settings.key_policy_files, revision.top, revision.root),
    )


def _renamed(doc: JSON, name: Callable[[str], str]) -> JSON:
    """The report with every file named by ``name`` (a key's, a source's, a resource's)."""
    for key in doc.get("keys", []):
        if isinstance(key.get("file"), str):
            key["file"] = name(key["file"])
        for entry in key.get("access", []):
            source = entry.get("source")
            if isinstance(source, dict) and isinstance(source.get("file"), str):
                source["file"] = name(source["file"])
        for use in key.get("used_by", []):
            if isinstance(use.get("file"), str):
                use["file"] = name(use["file"])
    doc["keys"] = sorted(doc.get("keys", []), key=lambda k: (k["key"], k["file"], k["line"]))
    return doc


def _config_note(settings: Settings, revision: Revision, base: str) -> str | None:
    """A note when the configuration applied to both sides reads otherwise in the revision."""
    if not settings.config_file or not revision.top:
        return None
    path = os.path.realpath(settings.config_file)
    rel = os.path.relpath(path, revision.top)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    try:
        with open(path, "rb") as mine:
            now = mine.read()
    except OSError:
        return None
    try:
        with open(os.path.join(revision.root, rel), "rb") as theirs:
            then: bytes | None = theirs.read()
    except OSError:
        then = None
    if then == now:
        return None
    how = "is not in" if then is None else "differs in"
    return (
        f"note: the configuration file {settings.config_file} {how} {base}; the work tree's applies to both"
        " reports (what it excludes or reads as key policies is read alike on both sides)"
    )


def _revision_report(revision: Revision, settings: Settings, base: str) -> tuple[JSON, list[str]]:
    """The revision's report, its files named as in the work tree, and the notes for stderr."""
    notes = []
    if revision.skipped:
        shown = "; ".join(revision.skipped[:_SKIPPED_SHOWN])
        more = len(revision.skipped) - _SKIPPED_SHOWN
        rest = f" (and {more} more)" if more > 0 else ""
        notes.append(f"note: {len(revision.skipped)} entries of {base} not read: {shown}{rest}")
    present = [p for p in revision.paths if os.path.lexists(p)]
    if not present:  # every path scanned was added since: nothing was there
        return {"version": 1, "keys": []}, notes
    old_settings = revision_settings(settings, revision)
    loaded = accesscmd.load(present, old_settings)
    prefix = revision.root + os.sep
    for line in loaded.notes:
        notes.append(f"in {base}: {line.replace(prefix, '')}")
    doc = accesscmd.report(loaded.projects, old_settings)
    return _renamed(doc, _work_tree_name(revision)), notes


def _work_tree_name(revision: Revision) -> Callable[[str], str]:
    """How the work tree's report names a file of the revision: :meth:`Revision.display`, and a
    file outside the scanned paths (a module called from them) relative to the current
    directory when inside it, as the work tree's files are (ParseOptions.display)."""
    try:
        here = os.path.realpath(os.getcwd()) + os.sep
    except OSError:  # the current directory was deleted: names stay absolute on both sides
        return revision.display

    def name(path: str) -> str:
        shown = revision.display(path)
        return shown[len(here) :] if os.path.isabs(shown) and shown.startswith(here) else shown

    return name


RENDERERS = {"text": "render_text", "markdown": "render_markdown", "json": "render_json"}


def run(
    rev: str,
    paths: Sequence[str],
    fmt: str,
    output: str | None,
    account_id: str | None,
    config_file: str | None,
    fail_on_widening: bool,
) -> int:
    """Everything ``kmslint access --diff`` does after parsing its arguments; the exit status."""
    from kmslint import access_diff, gitrev
    from kmslint.lintcmd import note

    if fmt not in FORMATS:
        note(f"kmslint: error: --diff writes {', '.join(FORMATS)}, not {fmt}")
        return exitcodes.ERROR
    settings = accesscmd.read_settings(paths, account_id, config_file)
    if settings is None:
        return exitcodes.ERROR
    try:
        with gitrev.materialise(rev, list(paths) or ["."], max_file_bytes=settings.max_file_bytes) as revision:
            base = f"{rev} ({revision.commit[:8]})"
            said = _config_note(settings, revision, base)
            old, notes = _revision_report(revision, settings, base)
    except gitrev.GitRevError as exc:
        note(f"kmslint: error: --diff: {exc}")
        return exitcodes.ERROR
    if said:
        notes.insert(0, said)
    loaded = accesscmd.load(paths, settings)
    if loaded.usage_error:  # a path missing in the work tree: no comparison to make
        for line in loaded.notes:
            note(line)
        return exitcodes.ERROR
    for line in [*notes, *loaded.notes]:
        note(line)
    new = accesscmd.report(loaded.projects, settings)
    diff = access_diff.compute(old, new, base=base, head=HEAD)
    text = getattr(access_diff, RENDERERS[fmt])(diff)
    if not accesscmd.emit(text, output, fmt != "text", "access diff"):
        return exitcodes.ERROR
    if fail_on_widening and access_diff.widened(diff):
        return exitcodes.FINDINGS
    return exitcodes.OK


__all__ = ["FORMATS", "HEAD", "revision_settings", "run"]
