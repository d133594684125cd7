"""Rule selection (``kmslint.decide``): one pure function, tested with a table.

The rules here are hand-built so the table does not move when the catalogue
grows: four rules on by default, one off by default (like KMS007).
"""

from __future__ import annotations

from collections.abc import Collection

import pytest

from kmslint import decide
from kmslint.catalog import Rule
from kmslint.model import Severity
from kmslint.settings import Settings


def _rule(rule_id: str, slug: str, on: bool = True, severity: Severity = Severity.MEDIUM) -> Rule:
    return Rule(rule_id, slug, "check", severity, on, "summary text", "why " * 10, "fix " * 5)


RULES = [
    _rule("KMS001", "default-key-policy"),
    _rule("KMS003", "wildcard-principal", severity=Severity.CRITICAL),
    _rule("KMS007", "destructive-admin-without-mfa", on=False, severity=Severity.LOW),
    _rule("KMS012", "identity-policy-decrypt-all-keys"),
    _rule("KMS900", "suppression-without-reason", severity=Severity.LOW),
]
DEFAULT = {"KMS001", "KMS003", "KMS012", "KMS900"}


def enabled(
    select: set[str] | None = None, extend: Collection[str] = frozenset(), ignore: Collection[str] = frozenset()
) -> set[str]:
    settings = Settings(
        select=frozenset(select) if select is not None else None,
        extend_select=frozenset(extend),
        ignore=frozenset(ignore),
    )
    return {r.id for r in RULES if decide.is_enabled(r, settings)}


CASES = [
    # (id, select, extend_select, ignore, enabled)
    ("defaults", None, set(), set(), DEFAULT),
    ("select one id", {"KMS003"}, set(), set(), {"KMS003"}),
    ("select is case-insensitive", {"kms003"}, set(), set(), {"KMS003"}),
    ("select by slug", {"wildcard-principal"}, set(), set(), {"KMS003"}),
    ("select a slug in upper case", {"WILDCARD-PRINCIPAL"}, set(), set(), {"KMS003"}),
    ("select enables an off-by-default rule", {"KMS007"}, set(), set(), {"KMS007"}),
    ("select ALL includes off-by-default rules", {"ALL"}, set(), set(), {r.id for r in RULES}),
    ("select all in lower case", {"all"}, set(), set(), {r.id for r in RULES}),
    ("select a prefix", {"KMS00"}, set(), set(), {"KMS001", "KMS003", "KMS007"}),
    ("select a broad prefix", {"KMS"}, set(), set(), {r.id for r in RULES}),
    ("select two", {"KMS001", "KMS012"}, set(), set(), {"KMS001", "KMS012"}),
    ("empty select enables nothing", set(), set(), set(), set()),
    ("extend-select adds to the defaults", None, {"KMS007"}, set(), DEFAULT | {"KMS007"}),
    ("extend-select by slug", None, {"destructive-admin-without-mfa"}, set(), DEFAULT | {"KMS007"}),
    ("extend-select adds to select", {"KMS003"}, {"KMS007"}, set(), {"KMS003", "KMS007"}),
    ("ignore removes a default", None, set(), {"KMS012"}, DEFAULT - {"KMS012"}),
    ("ignore by slug", None, set(), {"identity-policy-decrypt-all-keys"}, DEFAULT - {"KMS012"}),
    ("ignore a prefix", None, set(), {"KMS00"}, {"KMS012", "KMS900"}),
    ("ignore ALL", None, set(), {"ALL"}, set()),
    ("ignore an off-by-default rule changes nothing", None, set(), {"KMS007"}, DEFAULT),
    ("ignore beats select at the same specificity", {"KMS003"}, set(), {"KMS003"}, set()),
    ("ignore by slug beats select by id", {"KMS003"}, set(), {"wildcard-principal"}, set()),
    ("exact select beats a prefix ignore", {"KMS003"}, set(), {"KMS00"}, {"KMS003"}),
    ("exact extend-select beats a prefix ignore", None, {"KMS007"}, {"KMS00"}, {"KMS007", "KMS012", "KMS900"}),
    ("exact extend-select beats ignore ALL", None, {"KMS003"}, {"ALL"}, {"KMS003"}),
    ("prefix select beats ignore ALL", {"KMS01"}, set(), {"ALL"}, {"KMS012"}),
    ("prefix select loses to an exact ignore", {"KMS00"}, set(), {"KMS001"}, {"KMS003", "KMS007"}),
    ("ALL select loses to a prefix ignore", {"ALL"}, set(), {"KMS9"}, {"KMS001", "KMS003", "KMS007", "KMS012"}),
    ("exact extend-select loses to an exact ignore", None, {"KMS007"}, {"KMS007"}, DEFAULT),
    ("a name that is no rule selects nothing", {"KMS999"}, set(), set(), set()),
    ("blanks around a name, as the configuration accepts it", {" KMS003 "}, set(), {" kms01 "}, {"KMS003"}),
]


@pytest.mark.parametrize(("select", "extend", "ignore", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_selection(select: set[str] | None, extend: set[str], ignore: set[str], expected: set[str]) -> None:
    assert enabled(select, extend, ignore) == expected


@pytest.mark.parametrize(
    ("overrides", "rule_id", "expected"),
    [
        ({}, "KMS003", Severity.CRITICAL),
        ({"KMS003": Severity.LOW}, "KMS003", Severity.LOW),
        ({"KMS003": Severity.LOW}, "KMS001", Severity.MEDIUM),
        ({"KMS007": Severity.HIGH}, "KMS007", Severity.HIGH),
    ],
)
def test_severity_override(overrides: dict[str, Severity], rule_id: str, expected: Severity) -> None:
    rule = next(r for r in RULES if r.id == rule_id)
    assert decide.severity(rule, Settings(severity=overrides)) == expected


PARSE_ERROR = _rule("KMS000", "parse-error", severity=Severity.HIGH)

KMS000_CASES = [
    # (id, select, extend_select, ignore, KMS000 reported)
    ("by default", None, set(), set(), True),
    ("select names another rule", {"KMS003"}, set(), set(), True),
    ("select is empty", set(), set(), set(), True),
    ("select a prefix that does not cover it", {"KMS01"}, set(), set(), True),
    ("ignore by id", None, set(), {"KMS000"}, False),
    ("ignore by id in lower case", None, set(), {"kms000"}, False),
    ("ignore by slug", {"KMS003"}, set(), {"parse-error"}, False),
    ("ignore by id beats select by id", {"KMS000"}, set(), {"KMS000"}, False),
    ("ignore a prefix does not name it", None, set(), {"KMS00"}, True),
    ("ignore ALL does not name it", {"KMS003"}, set(), {"ALL"}, True),
]


@pytest.mark.parametrize(
    ("select", "extend", "ignore", "expected"), [c[1:] for c in KMS000_CASES], ids=[c[0] for c in KMS000_CASES]
)
def test_kms000_is_reported_whatever_select_says(
    select: set[str] | None, extend: set[str], ignore: set[str], expected: bool
) -> None:
    """KMS000 is no rule one selects: only ignoring it by ID or slug turns it off (RULES.md)."""
    settings = Settings(
        select=frozenset(select) if select is not None else None,
        extend_select=frozenset(extend),
        ignore=frozenset(ignore),
    )
    assert decide.is_enabled(PARSE_ERROR, settings) is expected
