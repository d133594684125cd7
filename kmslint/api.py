"""The one entry point every front end calls: ``lint(paths) -> Report``.

The CLI, pre-commit, the GitHub Action and the language server all go
through here; formatters take the whole sorted report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from kmslint import engine
from kmslint.decide import REQUIRE_CMK_RULE
from kmslint.discovery import Discovery, Unit, discover
from kmslint.model import Finding, NotFollowed, Project
from kmslint.parallel import run_units
from kmslint.parsers.common import ParseOptions
from kmslint.report import PARSE_ERROR as PARSE_ERROR  # re-exported: the report's data lives in kmslint.report
from kmslint.report import Report as Report
from kmslint.report import nothing_read_line as nothing_read_line
from kmslint.settings import Settings

# Said once a run (on stderr) when KMS022 runs with nothing to check against.
NO_CMK_TABLE = (
    "note: KMS022 is selected but the configuration has no [require-customer-managed-key] table, "
    "so it asks for no customer managed key and reports nothing"
)


def lint(
    paths: Sequence[str],
    settings: Settings | None = None,
    *,
    stdin_text: str | None = None,
    stdin_filename: str | None = None,
    jobs: int | None = None,
    cache_dir: str | None = None,
    on_project: Callable[[Project], None] | None = None,
) -> Report:
    """Lint files and directories; with ``stdin_text``, lint that buffer as ``stdin_filename``.

    ``jobs``: worker processes (None: automatic, a pool only for large runs);
    the report is the same whatever it is.  ``cache_dir``: reuse findings of
    unchanged units from there (kmslint.cache).  ``on_project``: called with each configuration
    once it is checked (the units are then all linted in this process, none from the cache).
    """
    settings = settings or Settings()
    recorded = None
    if settings.baseline is not None:
        from kmslint import baseline

        recorded = baseline.load(settings.baseline)  # BaselineError before any work
    report = Report()
    sources: dict[Path, str] = {}
    if stdin_text is not None:
        found = _discover_stdin(stdin_text, stdin_filename or "stdin.json", settings, sources)
    else:
        found = discover(paths, settings.exclude, settings.key_policy_files)
    for missing in found.missing:
        report.notes.append(f"error: {missing}: no such file or directory")
        report.usage_error = True
    for problem in found.unreadable:
        report.notes.append(f"error: {problem}")
        report.usage_error = True
    rules = engine.enabled_rules(settings)
    report.notes.extend([*found.notes, *_rule_notes(rules, settings)])

    opts = _parse_options(found, settings, sources, rules)
    report.rules = list(rules)
    # Each unit is linted on its own (engine.lint_unit): from the cache, here, or in a pool.
    units = run_units(
        found.units, opts, settings, rules, found.display, jobs=jobs, cache_dir=cache_dir, on_project=on_project
    )
    results = list(units)
    findings = _gather(report, found, results, settings)
    report.findings = sorted(set(findings))
    report.skipped.sort()
    report.nothing_read = nothing_read(found.roots, found.units, results)
    if recorded is not None:
        from kmslint import baseline

        report.findings = baseline.apply(report.findings, recorded)
    report.errors.sort(key=lambda e: (e.file, e.line, e.column))
    return report


def _parse_options(
    found: Discovery, settings: Settings, sources: dict[Path, str], rules: Iterable[str]
) -> ParseOptions:
    return ParseOptions(
        # Each unit reads only inside its own scan root (Unit.scan_root, set by engine.load_unit);
        # this one, all of them together, is only where the input lives (for the findings cache).
        scan_root=_widest(u.scan_root for u in found.units),
        max_file_bytes=settings.max_file_bytes,
        max_depth=settings.max_depth,
        display_names=found.display,
        display_roots=tuple(found.roots),
        sources=sources,
        rules=_marking(rules, settings),
    )


def _rule_notes(rules: Iterable[str], settings: Settings) -> list[str]:
    """What the run says once about its rules: KMS022 selected with nothing to check against."""
    return [NO_CMK_TABLE] if REQUIRE_CMK_RULE in rules and settings.require_customer_managed_key is None else []


def _marking(rules: Iterable[str], settings: Settings) -> frozenset[str]:
    """The enabled rules that may add markers to the prefilter: KMS022 only with its table (without
    one it reports nothing, and reading every data store would only cost time)."""
    if settings.require_customer_managed_key is None:
        return frozenset(rules).difference((REQUIRE_CMK_RULE,))
    return frozenset(rules)


def _gather(
    report: Report, found: Discovery, results: Sequence[engine.UnitResult], settings: Settings
) -> list[Finding]:
    """Add each unit's result to ``report``; return the findings to report, unsorted."""
    findings: list[Finding] = []
    read_by_configurations: set[str] = set()
    not_followed: set[NotFollowed] = set()  # a module called by several units is one call
    module_files: set[str] = set()  # Terraform files read as modules of other units' configurations
    dropped = called_only(found.units, results)
    for unit, result in zip(found.units, results, strict=True):
        if unit.path in dropped:
            # Linted through the calls of another unit of this run: its own result (with its
            # variables' defaults) is not the configuration Terraform deploys.  Its notes stay.
            report.notes.extend(result.notes)
            continue
        report.files += result.files
        report.skipped.extend(result.skipped)
        report.resources += result.resources
        report.notes.extend(result.notes)
        report.errors.extend(result.errors)
        report.usage_error = report.usage_error or result.usage_error
        findings.extend(result.findings)
        read_by_configurations.update(result.deps)
        module_files.update(d for d in result.deps if d.endswith((".tf", ".tf.json")))
        not_followed.update(result.not_followed)
    # A policy file that a Terraform configuration reads with file() is judged
    # there, on the key that uses it; the same file read again on its own as a
    # raw policy would report each defect twice.
    if settings.exclude and module_files:  # a module's files the user excluded: evaluated, not reported
        from kmslint.discovery import excluded_files

        hidden = excluded_files(module_files, (root for root, _ in found.roots), settings.exclude)
        findings = [f for f in findings if f.file not in hidden]
        report.errors = [e for e in report.errors if e.file not in hidden]
        module_files -= hidden
    report.files += len(module_files)  # read, so counted (OUTPUT.md), once however many units call them
    # (A module's file that does not parse is reported by the configurations that call it: its KMS000.)
    findings = [f for f in findings if f.resource or f.file not in read_by_configurations or f.file in module_files]
    report.not_followed = sorted(not_followed, key=lambda n: (n.file, n.line, n.module, n.source))
    return findings


def _discover_stdin(text: str, name: str, settings: Settings, sources: dict[Path, str]) -> Discovery:
    """The one unit of an editor's buffer ``text`` shown as ``name``; the text goes into ``sources``."""
    found = discover([], settings.exclude)
    try:
        target = Path(os.path.abspath(name))
    except OSError:  # a relative name, and the current directory is gone
        found.unreadable.append(f"{name}: cannot be read: the current directory is gone")
        return found
    sources[target] = text
    unit = _stdin_unit(target, settings.key_policy_files)
    found.units.append(unit)
    found.display[target] = name
    if unit.kind == "terraform":
        for f in unit.files:
            found.display.setdefault(f, os.path.normpath(os.path.join(os.path.dirname(name), f.name)))
    return found


def nothing_read(
    roots: Sequence[tuple[Path, str]], units: Sequence[Unit], results: Sequence[engine.UnitResult]
) -> list[str]:
    """The directories named (as given) in which no file was read as IaC, nor failed to be.

    Empty, holding no Terraform, template, plan or policy, or all of it
    excluded: a run that checked nothing there must not pass for a clean one.
    """
    read = [str(u.path) for u, r in zip(units, results, strict=True) if r.files or r.errors]
    return [
        given
        for root, given in roots
        if not any(p == str(root) or p.startswith(os.path.join(str(root), "")) for p in read)
    ]


def called_only(units: Sequence[Unit], results: Sequence[engine.UnitResult]) -> set[Path]:
    """The Terraform directories of this run that are linted only through other units' calls.

    RULES.md, "Modules": a directory that another directory of the same scan
    calls as a module is evaluated only through those calls (with their
    arguments; its findings come named with the module path), not again on
    its own with its defaults.  One that nothing calls, that is reached only
    through a cycle of calls, or that has a file named on the command line
    stays a configuration of its own.  Worked out from what each unit's
    evaluation followed, so a scan without module calls pays nothing for it.
    """
    if not any(r.called for r in results):
        return set()
    where: dict[str, int] = {}
    for i, unit in enumerate(units):
        if unit.kind == "terraform":
            where[os.path.realpath(unit.path)] = i
    calls: dict[int, set[int]] = {}
    for i, result in enumerate(results):
        callees = {where[d] for d in result.called if d in where} - {i}
        if callees:
            calls[i] = callees
    if not calls:
        return set()
    called = set().union(*calls.values())
    reached: set[int] = set()
    todo = [i for i in calls if i not in called]  # the tops of the call graph
    while todo:
        for callee in calls.get(todo.pop(), ()):
            if callee not in reached:
                reached.add(callee)
                todo.append(callee)
    return {units[i].path for i in reached if not units[i].explicit}


def _widest(roots: Iterable[Path | None]) -> Path | None:
    """The directory holding every scan root (never the current directory), None without any."""
    known = sorted({str(r) for r in roots if r is not None})
    return Path(os.path.commonpath(known)) if known else None


def _stdin_unit(target: Path, key_policy_files: tuple[str, ...]) -> Unit:
    """The unit of an editor's buffer named ``target``: its scan root is the named path's
    repository (or directory), as if the file were on disk."""
    from kmslint.discovery import _terraform_files, is_terraform, listed_matcher, scan_root_of_file

    scan_root = scan_root_of_file(str(target))
    if is_terraform(target.name):
        files = _terraform_files(target.parent)
        if target not in files:
            files = sorted([*files, target])
        return Unit("terraform", target.parent, files, {target}, {target}, scan_root)
    listed = listed_matcher(key_policy_files)
    unit = Unit("file", target, [target], {target}, {target}, scan_root)
    unit.key_policy = listed is not None and listed(str(target))
    return unit
