"""Suppressions as a mask, on hand-built projects: no parser involved.

The engine runs the checks over a :class:`Project`, then applies inline
suppressions (what parsers put in ``Project.suppressions``) and per-path
ignores from the configuration; KMS900 reports a suppression without a
reason (which suppresses nothing), KMS901 an unused one under ``--strict``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmslint import engine, formatters
from kmslint.api import Report
from kmslint.model import (
    SUPPRESSED_BY_CONFIG,
    SUPPRESSED_IN_SOURCE,
    Finding,
    KeyKind,
    KeyResource,
    Known,
    Location,
    ParseError,
    Project,
    ProjectKind,
    Severity,
    Suppression,
)
from kmslint.settings import PathIgnore, Settings

FILE = "infra/main.tf"
KEY = "aws_kms_key.legacy"
OTHER = "aws_kms_key.other"
# The rules these tests exercise; a fixed selection keeps them exact as the catalogue grows.
RULES = frozenset({"KMS001", "KMS002", "KMS004", "KMS900", "KMS901"})


def loc(line: int, column: int = 1) -> Location:
    return Location(FILE, line, column, line, column + 10)


def key(name: str = KEY, line: int = 2, rotation: bool | None = None) -> KeyResource:
    """A key with no policy (KMS001) and, unless ``rotation``, no rotation (KMS002)."""
    k = KeyResource(name=name, kind=KeyKind.KEY, loc=loc(line))
    if rotation is not None:
        k.rotation = Known(rotation, loc(line + 1, 3))
        k.attr_locs["rotation"] = loc(line + 1, 3)
    return k


def suppression(ids: str, reason: str = "", resource: str | None = KEY, line: int = 1) -> Suppression:
    names = tuple(n.strip() for n in ids.replace(",", " ").split() if n.strip())
    return Suppression(resource, names, reason, Location(FILE, line, 3, line, 60), FILE)


def project(*sups: Suppression, keys: list[KeyResource] | None = None) -> Project:
    p = Project(ProjectKind.TERRAFORM, "infra", files=[FILE])
    p.keys = keys if keys is not None else [key()]
    p.suppressions = list(sups)
    return p


def run(p: Project, **settings: object) -> list[Finding]:
    s = Settings(select=settings.pop("select", RULES), **settings)  # type: ignore[arg-type]
    return sorted(engine.check_project(p, s, engine.enabled_rules(s)))


def rows(findings: list[Finding]) -> list[tuple[str, int, str, bool, str | None]]:
    return [(f.rule_id, f.line, f.resource, f.suppressed, f.suppression_reason) for f in findings]


def test_without_suppressions() -> None:
    assert rows(run(project())) == [("KMS001", 2, KEY, False, None), ("KMS002", 2, KEY, False, None)]


def test_a_reason_suppresses_that_rule_on_that_resource() -> None:
    found = run(project(suppression("KMS002", "rotated by the yearly re-encryption job")))
    assert rows(found) == [
        ("KMS001", 2, KEY, False, None),
        ("KMS002", 2, KEY, True, "rotated by the yearly re-encryption job"),
    ]


@pytest.mark.parametrize(
    "ids",
    [
        "KMS001, KMS002",
        "KMS001,KMS002",
        "KMS002 KMS001",
        "default-key-policy, rotation-disabled",
        "KMS001, rotation-disabled",
    ],
)
def test_several_rules_ids_or_slugs(ids: str) -> None:
    found = run(project(suppression(ids, "managed by the platform team")), strict=True)
    assert rows(found) == [
        ("KMS001", 2, KEY, True, "managed by the platform team"),
        ("KMS002", 2, KEY, True, "managed by the platform team"),
    ]


def test_no_reason_keeps_the_finding_and_adds_kms900_on_the_suppressing_resource() -> None:
    found = run(project(suppression("KMS002", "", line=1)))
    assert rows(found) == [
        ("KMS900", 1, KEY, False, None),
        ("KMS001", 2, KEY, False, None),
        ("KMS002", 2, KEY, False, None),
    ]
    kms900 = found[0]
    assert (kms900.file, kms900.line, kms900.column, kms900.severity) == (FILE, 1, 3, Severity.LOW)
    assert kms900.message == ("this suppression of KMS002 gives no reason, so it is ignored; add the reason after `--`")


def test_a_reasonless_suppression_never_counts_as_unused() -> None:
    found = run(project(suppression("KMS004")), strict=True)
    assert [(f.rule_id, f.line) for f in found] == [("KMS900", 1), ("KMS001", 2), ("KMS002", 2)]


def test_a_suppression_applies_only_to_its_resource() -> None:
    p = project(suppression("KMS002", "legacy", resource=KEY), keys=[key(), key(OTHER, line=10)])
    assert rows(run(p)) == [
        ("KMS001", 2, KEY, False, None),
        ("KMS002", 2, KEY, True, "legacy"),
        ("KMS001", 10, OTHER, False, None),
        ("KMS002", 10, OTHER, False, None),
    ]


def test_unused_suppression_is_kms901_only_with_strict() -> None:
    p = project(suppression("KMS004", "replicated to eu-west-1"))
    assert [f.rule_id for f in run(p)] == ["KMS001", "KMS002"]
    found = run(p, strict=True)
    assert rows(found) == [
        ("KMS901", 1, KEY, False, None),
        ("KMS001", 2, KEY, False, None),
        ("KMS002", 2, KEY, False, None),
    ]
    assert found[0].message == "this suppression of KMS004 matches no finding; remove it"


def test_part_of_a_suppression_unused() -> None:
    found = run(project(suppression("KMS002, KMS004", "legacy key")), strict=True)
    assert rows(found) == [
        ("KMS901", 1, KEY, False, None),
        ("KMS001", 2, KEY, False, None),
        ("KMS002", 2, KEY, True, "legacy key"),
    ]
    assert found[0].message == "KMS004 in this suppression matches no finding; remove it from the list"


def test_a_suppression_of_a_rule_that_did_not_run_is_not_unused() -> None:
    p = project(suppression("KMS004", "replicated to eu-west-1"))
    assert [f.rule_id for f in run(p, strict=True, ignore=frozenset({"KMS004"}))] == ["KMS001", "KMS002"]


def test_unknown_rule_in_a_suppression_is_kms901() -> None:
    found = run(project(suppression("KMS999, no-such-rule", "typo")), strict=True)
    assert [(f.rule_id, f.message) for f in found if f.rule_id == "KMS901"] == [
        ("KMS901", "KMS999, no-such-rule are not kmslint rules")
    ]


def test_a_suppression_naming_no_rule_suppresses_nothing() -> None:
    found = run(project(suppression("", "everything is fine")), strict=True)
    assert rows(found) == [
        ("KMS901", 1, KEY, False, None),
        ("KMS001", 2, KEY, False, None),
        ("KMS002", 2, KEY, False, None),
    ]
    assert (
        found[0].message == "this suppression names no rule, so it suppresses nothing; name the rule IDs or remove it"
    )


def test_a_bare_suppression_without_reason_is_kms900() -> None:
    found = run(project(suppression("")))
    assert found[0].rule_id == "KMS900"
    assert (
        found[0].message == "this suppression of all rules gives no reason, so it is ignored; add the reason after `--`"
    )
    assert [f.suppressed for f in found] == [False, False, False]


def test_kms900_and_kms901_follow_selection() -> None:
    p = project(suppression("KMS002"), suppression("KMS004", "r", line=3))
    assert [f.rule_id for f in run(p, strict=True, ignore=frozenset({"KMS900", "KMS901"}))] == ["KMS001", "KMS002"]


def test_two_suppressions_of_one_finding_leave_the_second_unused() -> None:
    p = project(suppression("KMS002", "first", line=1), suppression("KMS002", "second", line=3))
    found = run(p, strict=True)
    assert rows(found) == [
        ("KMS001", 2, KEY, False, None),
        ("KMS002", 2, KEY, True, "first"),
        ("KMS901", 3, KEY, False, None),
    ]


def test_parse_errors_are_never_suppressed() -> None:
    p = project(suppression("KMS000, KMS001, KMS002", "generated file"))
    p.errors.append(ParseError(FILE, 7, 1, "unexpected token"))
    found = run(p, select=RULES | {"KMS000"})
    assert rows(found) == [
        ("KMS001", 2, KEY, True, "generated file"),
        ("KMS002", 2, KEY, True, "generated file"),
        ("KMS000", 7, "", False, None),
    ]


def test_per_path_ignores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = str(tmp_path / ".kmslint.toml")
    ignores = (PathIgnore("infra/*.tf", ("KMS002",), "keys retired in Q3", source=config),)
    assert rows(run(project(), per_path_ignores=ignores)) == [
        ("KMS001", 2, KEY, False, None),
        ("KMS002", 2, KEY, True, "keys retired in Q3"),
    ]
    elsewhere = (PathIgnore("other/*.tf", ("KMS002",), "r", source=config),)
    assert [f.suppressed for f in run(project(), per_path_ignores=elsewhere)] == [False, False]


def test_per_path_patterns_are_relative_to_their_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "infra").mkdir()
    monkeypatch.chdir(tmp_path)
    # The config lives in infra/, so its patterns are relative to infra/: main.tf, not infra/main.tf.
    config = str(tmp_path / "infra" / ".kmslint.toml")
    inner = (PathIgnore("main.tf", ("KMS002",), "r", source=config),)
    assert [f.suppressed for f in run(project(), per_path_ignores=inner)] == [False, True]
    outer = (PathIgnore("infra/main.tf", ("KMS002",), "r", source=config),)
    assert [f.suppressed for f in run(project(), per_path_ignores=outer)] == [False, False]
    # A file outside the config's directory is never matched by it, even by a catch-all.
    below = (PathIgnore("**", ("KMS002",), "r", source=str(tmp_path / "infra" / "sub" / ".kmslint.toml")),)
    assert [f.suppressed for f in run(project(), per_path_ignores=below)] == [False, False]


def test_an_inline_suppression_takes_its_reason_before_a_per_path_ignore(tmp_path: Path) -> None:
    ignores = (PathIgnore("*.tf", ("KMS002",), "from the config"),)
    found = run(project(suppression("KMS002", "inline")), per_path_ignores=ignores, strict=True)
    assert rows(found) == [("KMS001", 2, KEY, False, None), ("KMS002", 2, KEY, True, "inline")]


def test_each_suppressed_finding_says_what_suppressed_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ignores = (PathIgnore("infra/*.tf", ("KMS001",), "from the config", source=str(tmp_path / ".kmslint.toml")),)
    found = run(project(suppression("KMS002", "inline")), per_path_ignores=ignores)
    kinds = [(f.rule_id, f.suppression_kind) for f in found]
    assert kinds == [("KMS001", SUPPRESSED_BY_CONFIG), ("KMS002", SUPPRESSED_IN_SOURCE)]
    assert [f.suppression_kind for f in run(project())] == [None, None]


# --------------------------------------------------------------------------- --show-suppressed


def _report() -> Report:
    found = run(project(suppression("KMS002", "rotated by the yearly re-encryption job")))
    return Report(findings=found, files=1, resources=1)


def test_text_lists_suppressed_findings_with_reasons_only_when_asked() -> None:
    render = formatters.get("text")
    hidden = render(_report(), formatters.RenderContext("0", show_suppressed=False)).splitlines()
    assert [line.split()[1] for line in hidden[:-1]] == ["KMS001"]
    assert hidden[-1] == "Found 1 finding (1 medium) in 1 file, 1 suppressed."
    shown = render(_report(), formatters.RenderContext("0", show_suppressed=True)).splitlines()
    assert [line.split()[1] for line in shown[:-1]] == ["KMS001", "KMS002"]
    assert shown[1].endswith("(aws_kms_key.legacy) [suppressed: rotated by the yearly re-encryption job]")


def test_json_lists_suppressed_findings_with_reasons_only_when_asked() -> None:
    render = formatters.get("json")
    hidden = json.loads(render(_report(), formatters.RenderContext("0", show_suppressed=False)))
    assert [(f["rule_id"], f["suppressed"]) for f in hidden["findings"]] == [("KMS001", False)]
    shown = json.loads(render(_report(), formatters.RenderContext("0", show_suppressed=True)))
    assert [(f["rule_id"], f["suppressed"], f["suppression_reason"]) for f in shown["findings"]] == [
        ("KMS001", False, None),
        ("KMS002", True, "rotated by the yearly re-encryption job"),
    ]
    assert shown["summary"]["findings"] == 1
