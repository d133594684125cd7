"""The engine: load configurations, run the checks, apply the mask, decide.

units -> projects -> checks -> suppression mask -> decide -> sorted findings

What a file is, and which parser reads it, is the parser registry's to say
(:mod:`kmslint.parsers.registry`): the engine knows no format's markers or
structure.  It decides what RULES.md makes of the answer: a file that does
not parse is a KMS000 only when it shows a sign of being IaC, and
``files`` counts only what was read as Terraform, a plan, a template or a
policy (OUTPUT.md, ``summary.files``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from kmslint import catalog, decide, suppressions
from kmslint.discovery import Unit
from kmslint.model import (
    MESSAGE_LIMIT,
    Finding,
    Location,
    NotFollowed,
    ParseError,
    Project,
    ProjectKind,
    Severity,
    Violation,
    clip,
    instance_index,
    note_existence,
)
from kmslint.parsers import registry
from kmslint.parsers.common import Budget, BudgetExceeded, ParseFailure, ParseOptions
from kmslint.record import Record, field, replace
from kmslint.rules import CheckFn, RuleContext, checks_for
from kmslint.settings import Settings


def might_matter(text: str, kind: str = "terraform") -> bool:
    """Could a file of this kind (``"terraform"``, ``"yaml"``, ``"json"``) hold anything a
    rule looks at?  A file that cannot is skipped before it is parsed (see
    :mod:`kmslint.parsers.sniff`, which escapes cannot fool)."""
    return registry.might_matter(text, kind)


class Loaded(Record):
    """What loading one unit gave: projects, plus errors and notes about files."""

    projects: list[Project] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0  # files read as Terraform, a plan, a template or a policy (OUTPUT.md, summary.files)
    skipped: list[str] = field(default_factory=list)  # a note for each file skipped as not IaC


def load_unit(unit: Unit, opts: ParseOptions) -> Loaded:
    """Parse one unit into projects, within ``opts.budget`` (the unit's own when there is none).

    Every project it gives carries that budget on to its checks.  ``file()``
    and links are read inside the unit's own scan root.
    """
    if unit.scan_root is not None and unit.scan_root != opts.scan_root:
        opts = replace(opts, scan_root=unit.scan_root)
    if opts.budget is None:
        opts = replace(opts, budget=Budget())
    out = Loaded()
    if unit.kind == "terraform":
        _load_terraform(unit, opts, out)
    else:
        _load_file(unit, opts, out)
    for project in out.projects:
        project.budget = opts.budget
    return out


def _load_terraform(unit: Unit, opts: ParseOptions, out: Loaded) -> None:
    """A Terraform directory: its files are Terraform by their names, so every reported one
    counts, and one that cannot be read or parsed is a KMS000 whatever it holds."""
    texts: dict[Path, str] = {}
    for f in unit.files:
        try:
            texts[f] = opts.read_text(f)
        except ParseFailure as exc:
            if f in unit.reported:
                out.errors.append(ParseError(opts.display(f), exc.line, exc.column, exc.message))
    out.files += len(unit.reported)
    if not registry.directory_matters(texts.values(), opts.rules):
        return
    assert opts.budget is not None
    size = sum(map(len, texts.values()))
    opts.budget.allow_for_input(size)
    opts.budget.measure_memory_from_here(size)
    readable = [f for f in unit.files if f in texts]
    sources = dict(opts.sources)
    sources.update(texts)
    project = registry.read_directory(unit.path, readable, replace(opts, sources=sources))
    out.projects.append(project)


def _load_file(unit: Unit, opts: ParseOptions, out: Loaded) -> None:
    """One file that is not Terraform: what the registry reads it as, if anything.

    A file that does not parse is a KMS000 only when it shows a sign of being
    IaC (or the configuration lists it as a key policy); otherwise it is
    skipped like any file that is not IaC (RULES.md), with a note when it
    was named on the command line.
    """
    one = _OneFile(unit, opts, out)
    text = one.read()
    if text is None:
        return
    reading = "json" if one.listed else registry.reading_of(unit.path, text)
    if not one.listed and not registry.might_matter(text, reading, opts.rules):
        # Nothing a rule reads can be in it; a template or plan all the same counts as read.
        read = registry.is_unmarked_iac(text, reading)
        out.files += read
        one.skip("nothing KMS-related in it", counted=not read)
        return
    project = one.parse(text, reading)
    if project is not None:
        out.files += 1
        out.projects.append(project)


class _OneFile:
    """Loading one file that is not Terraform: what it is named, and what to say about it."""

    def __init__(self, unit: Unit, opts: ParseOptions, out: Loaded) -> None:
        self.path = unit.path
        self.listed = unit.key_policy  # key-policy-files: a key policy, not a guess
        self.explicit = unit.path in unit.explicit
        self.opts = opts
        self.out = out
        self.display = opts.display(unit.path)

    def skip(self, why: str, counted: bool = True) -> None:
        """Not IaC: counted as skipped (unless it was read all the same), and a note when it
        was named on the command line."""
        note = f"{self.display}: skipped, {why}"
        if counted:
            self.out.skipped.append(note)
        if self.explicit:
            self.out.notes.append(note)

    def fail(self, line: int, column: int, message: str) -> None:
        """A KMS000: IaC (so it counts as read) that could not be read or parsed."""
        self.out.files += 1
        self.out.errors.append(ParseError(self.display, line, column, message))

    def read(self) -> str | None:
        try:
            text = self.opts.read_text(self.path)
        except ParseFailure as exc:
            if self.listed or _unreadable_shows_signs(self.path, self.opts):
                self.fail(exc.line, exc.column, exc.message)
            else:
                self.skip("not readable as text, and not a template, plan or policy")
            return None
        if self.opts.budget is not None:
            self.opts.budget.measure_memory_from_here(len(text))
        return text

    def parse(self, text: str, reading: str) -> Project | None:
        try:
            found = registry.read_file(self.path, text, self.opts, listed=self.listed, reading=reading)
        except ParseFailure as exc:
            if self.listed or registry.shows_signs(text):
                self.fail(exc.line, exc.column, exc.message)
            else:
                self.skip(f"not valid {reading.upper()} and not a template, plan or policy")
            return None
        except BudgetExceeded as exc:  # a plan, template or policy too costly to read
            where = exc.where
            if where is None or where.file != self.display:
                where = Location.point(self.display, 1)
            self.fail(
                where.line,
                where.column,
                f"this file is too costly to read: kmslint gave up here because {exc.why}, so it is not checked",
            )
            return None
        if found.project is None:
            self.skip(found.why)
        return found.project


# How much of a file that cannot be read as text is looked at for signs of IaC.
SIGNS_HEAD_BYTES = 64 * 1024


def _unreadable_shows_signs(path: Path, opts: ParseOptions) -> bool:
    """Does a file that could not be read as text show a sign of IaC in its first bytes?

    Over the size limit, not UTF-8, binary: such a file is a KMS000 when it
    was meant to be a template, plan or policy, and skipped when it was not
    (a large ``package-lock.json``, a UTF-16 export).  What cannot be looked
    into at all (a link out of the tree, a FIFO, no permission) is a KMS000.
    """
    from kmslint import fsio

    try:
        if os.path.islink(path) and not opts.inside_scan_root(path):
            return True
        head = fsio.read_head(path, SIGNS_HEAD_BYTES)
    except (OSError, ParseFailure):
        return True
    # NULs out: UTF-16 text shows its ASCII words so.
    return registry.shows_signs(head.replace(b"\x00", b"").decode("utf-8", "replace"))


class UnitResult(Record):
    """What linting one unit gives: its reported files' findings and errors, and counts."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    skipped: list[str] = field(default_factory=list)  # a note for each file skipped as not IaC (summary.skipped)
    resources: int = 0
    usage_error: bool = False  # a file named on the command line could not be parsed
    deps: list[str] = field(default_factory=list)  # other files read (file(), templatefile())
    tried: list[tuple[str, str]] = field(default_factory=list)  # (directory, path) of every file() call, read or not
    # False when the unit ran out of time or memory: not a result to keep in a cache.
    cacheable: bool = True
    # Module calls not followed, reached from its reported files (OUTPUT.md, summary.not_followed).
    not_followed: list[NotFollowed] = field(default_factory=list)
    # Directories (resolved) its configuration evaluated as modules of its calls: linted through
    # them, so not again as units of their own (kmslint.api.called_only).
    called: list[str] = field(default_factory=list)


def lint_unit(
    unit: Unit,
    opts: ParseOptions,
    settings: Settings,
    rules: dict[str, catalog.Rule],
    display: dict[Path, str],
    on_project: Callable[[Project], None] | None = None,
) -> UnitResult:
    """Load, check and filter one unit: a pure function of the unit's files and the settings.

    ``on_project`` sees each project once it is checked (the language server builds its access
    hovers from it: :mod:`kmslint.access_hover`), within the unit's budget.

    Units are independent, so ``kmslint.parallel`` may run them in any
    process and in any order.  Everything is done within one
    :class:`~kmslint.parsers.common.Budget`; running out of it is a KMS000.
    """
    budget = Budget()  # the whole unit's: parsing, evaluating and checking
    loaded = load_unit(unit, replace(opts, budget=budget))
    out = UnitResult(notes=list(loaded.notes), files=loaded.files, skipped=list(loaded.skipped))
    reported = {display.get(p, str(p)) for p in unit.reported}
    explicit = {display.get(p, str(p)) for p in unit.explicit}
    own = {display.get(p) or opts.display(p) for p in unit.files}
    own |= reported
    errors = list(loaded.errors)
    unchecked: list[ParseError] = []
    modules: set[str] = set()  # the files of modules its configuration calls (and files file() read)
    for project in loaded.projects:
        out.resources += project.resource_count
        out.findings.extend(f for f in check_project(project, settings, rules) if _reported(f, project, reported, own))
        errors.extend(project.errors)
        out.not_followed.extend(n for n in project.not_followed if (n.anchor or n.file) in reported)
        out.called.extend(sorted(project.called))
        modules.update(f for f in project.files if f not in own)
        out.deps.extend(f for f in project.files if f not in own and f not in out.deps)
        out.tried = list(dict.fromkeys([*out.tried, *project.files_tried]))
        if project.gave_up is not None and project.gave_up.file not in reported:
            unchecked.extend(_unchecked(project.gave_up, reported))
        if on_project is not None:
            on_project(project)
        _release(project)
    errors.extend(unchecked)
    for err in errors:
        if err.file not in reported and err.file not in modules:
            continue
        out.errors.append(err)
        if err.file in explicit:
            out.usage_error = True
    if "KMS000" in rules:
        unparsed = [*loaded.errors, *unchecked]
        out.findings.extend(parse_error_finding(e, settings) for e in unparsed if e.file in reported)
    out.cacheable = not budget.timed_out
    return out


def _unchecked(gave_up: ParseError, reported: set[str]) -> list[ParseError]:
    """A KMS000 for each reported file of a configuration that ran out of budget elsewhere.

    Linting one file of a directory loads the others for context; when the
    budget runs out in one of those, what the reported file declares was not
    all checked either, and must not pass.
    """
    message = (
        f"this file's configuration is too costly to evaluate: kmslint gave up in {gave_up.file},"
        f" line {gave_up.line}, which is loaded with it, so this file is not fully checked"
    )
    return [ParseError(f, 1, 1, message) for f in sorted(reported)]


def _release(project: Project) -> None:
    """Break the one cycle of a checked project (a key and its policy name each other), so
    its values are freed when the unit is done, not at the next garbage collection."""
    for key in project.keys:
        if key.policy is not None:
            key.policy.key = None


def _reported(f: Finding, project: Project, reported: set[str], own: set[str]) -> bool:
    """Is ``f`` one of the findings this unit reports?

    A finding in a reported file is.  So is one in a file the configuration
    only read with ``file()``/``templatefile()`` or as a module it calls (not
    one of its own files) when its resource is declared in a reported file,
    or called from one: RULES.md puts the line where the statement is
    written, and that file belongs to the resource.  A module's file that
    does not parse (KMS000, no resource) is reported by the configurations
    that call it, since it is linted only through them.
    """
    if f.file in reported:
        return True
    if f.file in own:
        return False
    if not f.resource:
        return f.file in project.files
    span = project.resource_spans.get(f.resource)
    return span is not None and span[0] in reported


# --------------------------------------------------------------------------- checking


def enabled_rules(settings: Settings) -> dict[str, catalog.Rule]:
    return {rid: r for rid, r in catalog.rules().items() if decide.is_enabled(r, settings)}


def _context(rule: catalog.Rule, settings: Settings) -> RuleContext:
    options = {name: spec["default"] for name, spec in rule.options.items()}
    options.update(settings.options.get(rule.id, {}))
    return RuleContext(
        options=options,
        account_id=settings.account_id,
        require_customer_managed_key=settings.require_customer_managed_key,
    )


def _finding(rule: catalog.Rule, sev: Severity, v: Violation, constructs: dict[str, str] | None = None) -> Finding:
    """The finding of a violation; ``constructs`` (a CDK template's resource -> construct path)
    adds the construct path to the message, so a CDK user can find the source (RULES.md)."""
    loc = v.loc
    message = clip(v.message, MESSAGE_LIMIT)
    if constructs and v.resource in constructs:
        construct = f" (construct {clip(constructs[v.resource])})"
        message = clip(v.message, MESSAGE_LIMIT - len(construct)) + construct
    return Finding(
        file=loc.file,
        line=loc.line,
        column=loc.column,
        rule_id=rule.id,
        resource=str(v.resource or ""),  # the plain name: an InstanceName's instance is in the message
        message=message,
        end_line=loc.end_line,
        end_column=loc.end_column,
        slug=rule.slug,
        severity=sev,
        content=v.content,
        fix=v.fix,
    )


Plan = list[tuple[catalog.Rule, CheckFn, RuleContext, Severity]]
# The plan of the last (settings, rules) asked for: a run asks with the same two
# objects for each of its configurations (thousands in a large tree).
_last_plan: tuple[Settings, dict[str, catalog.Rule], Plan] | None = None


def _plan(settings: Settings, rules: dict[str, catalog.Rule]) -> Plan:
    """Each enabled rule with a check, with its context and severity under ``settings``."""
    global _last_plan
    if _last_plan is not None and _last_plan[0] is settings and _last_plan[1] is rules:
        return _last_plan[2]
    checks = checks_for(rules)
    plan = [
        (rule, checks[rid], _context(rule, settings), decide.severity(rule, settings))
        for rid, rule in rules.items()
        if rid in checks
    ]
    _last_plan = (settings, rules, plan)
    return plan


# What a finding costs the budget: findings are the objects a run keeps, and a
# policy shared by many keys can describe millions of them.
FINDING_STEPS = 16


def run_checks(project: Project, settings: Settings, rules: dict[str, catalog.Rule]) -> Iterator[Finding]:
    budget = project.budget
    conditions = project.resource_conditions  # a resource's findings name the condition it exists under
    constructs = project.constructs
    by_place = project.kind is not ProjectKind.TERRAFORM_PLAN
    for rule, fn, ctx, sev in _plan(settings, rules):
        violations = drop_repeats(fn(project, ctx))
        if project.has_instances:
            violations = merge_instances(violations, by_place)
        for violation in violations:
            if budget is not None:
                budget.spend(FINDING_STEPS)
            violation = note_existence(violation, conditions) if conditions else violation
            yield _finding(rule, sev, violation, constructs)


def drop_repeats(violations: Iterable[Violation]) -> Iterator[Violation]:
    """A check's violations, each finding once: the first of those that are the same finding.

    A check reads every ``Fn::If`` branch (Terraform conditional) of what it
    looks at, and each reading may find the same thing again.  Two violations
    of one rule are the same finding when they have the same resource and
    instance (:class:`kmslint.model.InstanceName`), the same place (file,
    line, column) and the same content: the violation's ``subject``, else its
    message (the severity is the rule's, the same for all).  A message names
    the branch it was found under, so a check that reads several branches
    gives a subject that does not: the statement (``""``, its place says
    which), the principal, the problem.  Instances are told apart here and
    merged after (:func:`merge_instances`).
    """
    seen: set[tuple[object, ...]] = set()
    for v in violations:
        loc = v.loc
        content = v.message if v.subject is None else v.subject
        key = (v.resource, instance_index(v.resource), loc.file, loc.line, loc.column, content)
        if key not in seen:
            seen.add(key)
            yield v


# How many instances a merged finding's message names before "and N more".
INSTANCES_NAMED = 5


def merge_instances(violations: Iterable[Violation], by_place: bool = True) -> Iterator[Violation]:
    """One violation for each set of resource instances that share it, naming the instances.

    RULES.md, "Instances": a finding that holds for several ``count``/``for_each``
    instances of one resource at the same place is reported once, its message naming
    them (``for each.key "payments", "ledger"``); one that holds for one instance names
    it.  Violations are the same when their resource, message and place (file, line,
    column) are.  A plan (``by_place`` false) locates each instance's values in that
    instance's own object, though all come from one configuration block: there the
    place is not compared, and the merged finding is at the first instance's.  The
    rules know nothing of this: the instance travels on the resource's name
    (:class:`kmslint.model.InstanceName`), as rules pass it on.
    """
    groups: dict[tuple[object, ...], list[Violation]] = {}
    for v in violations:
        if not instance_index(v.resource):
            yield v
            continue
        loc = v.loc
        place = (loc.file, loc.line, loc.column) if by_place else ()
        groups.setdefault((v.resource, v.message, *place), []).append(v)
    for group in groups.values():
        first = group[0]
        keys = list(dict.fromkeys(instance_index(v.resource) for v in group))
        message = f"{first.message} ({_instances(keys)})"
        yield Violation(first.loc, str(first.resource), message, first.content)


def _instances(keys: list[str]) -> str:
    """``for count.index 0, 1`` or ``for each.key "a", "b"``, from addresses' indexes ``[0]``, ``["a"]``;
    instances in instances of modules by their addresses (``for module.m["a"].aws_kms_key.k``)."""
    more = f" and {len(keys) - INSTANCES_NAMED} more" if len(keys) > INSTANCES_NAMED else ""
    keys = keys[:INSTANCES_NAMED]
    if all(k.startswith('["') for k in keys):
        return f"for each.key {', '.join(k[1:-1] for k in keys)}{more}"
    if all(k.startswith("[") for k in keys):
        return f"for count.index {', '.join(k[1:-1] for k in keys)}{more}"
    return f"for {', '.join(keys)}{more}"


def _checks_gave_up(project: Project, exc: BudgetExceeded) -> ParseError:
    """The KMS000 of checks that ran out of budget: at the policy being read, else the first file."""
    where = exc.where
    if where is None:
        file = project.files[0] if project.files else project.root
        where = Location.point(file, 1)
    return ParseError(
        where.file,
        where.line,
        where.column,
        f"this configuration is too costly to check: kmslint gave up here because {exc.why}, so it is"
        " not fully checked; split it into smaller directories, or give large policies to fewer keys",
    )


def parse_error_finding(err: ParseError, settings: Settings) -> Finding:
    rule = catalog.rules()["KMS000"]
    loc = Location(err.file, err.line, err.column, err.line, err.column)
    return _finding(rule, decide.severity(rule, settings), Violation(loc, None, err.message, content="parse-error"))


def check_project(project: Project, settings: Settings, rules: dict[str, catalog.Rule]) -> list[Finding]:
    """All findings for one configuration, suppressions applied (suppressed ones marked).

    The checks spend from the project's budget; when it runs out they stop,
    and a KMS000 where they stopped says so.
    """
    findings: list[Finding] = []
    try:
        findings.extend(run_checks(project, settings, rules))
    except BudgetExceeded as exc:
        if project.gave_up is None:
            project.gave_up = _checks_gave_up(project, exc)
            project.errors.append(project.gave_up)
    if "KMS000" in rules:
        findings.extend(parse_error_finding(e, settings) for e in project.errors)
    matcher = _path_matcher(settings) if settings.per_path_ignores else None
    mask = suppressions.apply(findings, project.suppressions, settings.per_path_ignores, matcher)
    findings = mask.findings
    for rule, violation in suppressions.problems(mask, rules, settings.strict):
        findings.append(_finding(rule, decide.severity(rule, settings), violation, project.constructs))
    return findings


def _path_matcher(settings: Settings) -> Callable[[str, str], bool]:
    """Match per-path ignore patterns against a finding's file.

    A pattern from a configuration file is relative to that file's directory
    (as a ``.gitignore`` is), whichever directory kmslint runs in; files
    outside that directory never match it.  Patterns are matched by
    :mod:`kmslint.ignore` (linear time, whatever the pattern, and within a
    budget past which they suppress nothing: findings are kept, not lost).
    """
    import os

    from kmslint.ignore import Budget, RuleList

    cache: dict[str, RuleList] = {}
    bases = {pi.pattern: os.path.dirname(pi.source) for pi in reversed(settings.per_path_ignores) if pi.source}
    budget = Budget()  # spent (a configuration built to be slow), patterns suppress nothing more

    def match(pattern: str, file: str) -> bool:
        rules = cache.get(pattern)
        if rules is None:
            rules = cache[pattern] = RuleList([pattern], budget)
        base = bases.get(pattern)
        if base:
            try:
                rel = os.path.relpath(os.path.abspath(file), os.path.abspath(base))
            except (OSError, ValueError):  # the cwd is gone, or another drive
                return False
            if rel == os.pardir or rel.startswith(os.pardir + os.sep):
                return False
            file = rel.replace(os.sep, "/")
        return rules.match_path(file)

    return match


__all__ = [
    "Loaded",
    "ProjectKind",
    "UnitResult",
    "check_project",
    "enabled_rules",
    "lint_unit",
    "load_unit",
    "might_matter",
]
