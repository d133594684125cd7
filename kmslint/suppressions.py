"""Suppressions are a mask the engine applies after the checks ran.

Inline comments and CloudFormation ``Metadata`` come from the parsers as
:class:`~kmslint.model.Suppression` values on a resource; per-path ignores
come from the configuration.  Each needs a reason: one without does not
suppress and is reported as KMS900; one that matched nothing is KMS901
(with ``--strict``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kmslint import catalog
from kmslint.model import (
    PARSE_ERROR,
    SUPPRESSED_BY_CONFIG,
    SUPPRESSED_IN_SOURCE,
    Finding,
    Location,
    Suppression,
    Violation,
)
from kmslint.record import Record, field, replace
from kmslint.settings import PathIgnore


def _rule_ids(names: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for name in names:
        rule = catalog.resolve(name)
        out.add(rule.id if rule is not None else name.upper())
    return out


class MaskResult(Record):
    findings: list[Finding]
    missing_reason: list[Suppression]
    unused: list[Suppression]  # suppressions (with a reason) that matched no finding at all
    # Every suppression with a reason that names a rule it matched no finding of, with those names.
    unused_rules: list[tuple[Suppression, tuple[str, ...]]] = field(default_factory=list)


def apply(
    findings: list[Finding],
    inline: list[Suppression],
    path_ignores: tuple[PathIgnore, ...] = (),
    path_matcher: Callable[[str, str], bool] | None = None,
) -> MaskResult:
    """Mark suppressed findings; return reasonless and unused suppressions."""
    with_reason = [(s, _rule_ids(s.rule_ids)) for s in inline if s.reason]
    missing = [s for s in inline if not s.reason]
    # Each finding looks only at its resource's suppressions, in order (not at all of them:
    # a file of 5,000 suppressed resources took 25 s).
    by_resource: dict[str, list[tuple[int, Suppression, set[str]]]] = {}
    for i, (sup, ids) in enumerate(with_reason):
        if sup.resource is not None:
            by_resource.setdefault(sup.resource, []).append((i, sup, ids))
    used: set[int] = set()
    used_rules: set[tuple[int, str]] = set()
    out: list[Finding] = []
    for f in findings:
        reason: str | None = None
        kind = SUPPRESSED_IN_SOURCE
        if f.rule_id != PARSE_ERROR:
            for i, sup, ids in by_resource.get(f.resource, ()):
                if f.rule_id in ids:
                    reason = sup.reason
                    used.add(i)
                    used_rules.add((i, f.rule_id))
                    break
            if reason is None and path_ignores and path_matcher is not None:
                kind = SUPPRESSED_BY_CONFIG
                for pi in path_ignores:
                    if f.rule_id in _rule_ids(pi.rules) and path_matcher(pi.pattern, f.file):
                        reason = pi.reason
                        break
        out.append(replace(f, suppressed=True, suppression_reason=reason, suppression_kind=kind) if reason else f)
    unused = [s for i, (s, _ids) in enumerate(with_reason) if i not in used]
    unused_rules: list[tuple[Suppression, tuple[str, ...]]] = []
    for i, (sup, _ids) in enumerate(with_reason):
        names = tuple(n for n in sup.rule_ids if not ({(i, rid) for rid in _rule_ids((n,))} & used_rules))
        if names:
            unused_rules.append((sup, names))
    return MaskResult(out, missing, unused, unused_rules)


MISSING_REASON = "KMS900"
UNUSED = "KMS901"


def problems(
    mask: MaskResult, rules: dict[str, catalog.Rule], strict: bool = False
) -> Iterator[tuple[catalog.Rule, Violation]]:
    """The suppressions' own findings, for the rules that run: KMS900 for each suppression
    without a reason, and with ``strict`` KMS901 for each that matched nothing."""
    missing = rules.get(MISSING_REASON)
    if missing is not None:
        for s in mask.missing_reason:
            ids = ", ".join(s.rule_ids) or "all rules"
            message = f"this suppression of {ids} gives no reason, so it is ignored; add the reason after `--`"
            yield missing, Violation(s.loc, s.resource, message, content=f"{s.resource}:{ids}")
    unused = rules.get(UNUSED)
    if strict and unused is not None:
        for s, message in _unused_suppressions(mask, rules):
            yield unused, Violation(s.loc, s.resource, message, content=f"{s.resource}:{', '.join(s.rule_ids)}")


def _unused_suppressions(mask: MaskResult, rules: dict[str, catalog.Rule]) -> Iterator[tuple[Suppression, str]]:
    """KMS901 messages: rule names in a suppression that matched nothing.

    A rule that did not run (not selected) cannot have matched anything, so
    naming it is not reported; a name that is no rule at all is.
    """
    for s in mask.unused:
        if not s.rule_ids:
            yield s, "this suppression names no rule, so it suppresses nothing; name the rule IDs or remove it"
    for s, names in mask.unused_rules:
        stale: list[str] = []
        unknown: list[str] = []
        for name in names:
            rule = catalog.resolve(name)
            if rule is None:
                unknown.append(name)
            elif rule.id in rules:
                stale.append(name)
        if unknown:
            listed = ", ".join(unknown)
            yield s, f"{listed} {'is not a kmslint rule' if len(unknown) == 1 else 'are not kmslint rules'}"
        if stale:
            listed = ", ".join(stale)
            if len(stale) == len(s.rule_ids):
                yield s, f"this suppression of {listed} matches no finding; remove it"
            else:
                yield s, f"{listed} in this suppression matches no finding; remove it from the list"


def suppression_loc(s: Suppression) -> Location:
    return s.loc
