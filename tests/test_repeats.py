"""Repeated readings (RULES.md, "Conditional value"): the engine reports a finding once.

A check reads every ``Fn::If`` branch, and each reading may find the same
thing again; :func:`kmslint.engine.drop_repeats` keeps the first of a rule's
violations with the same resource, instance, place and content (the
violation's subject, else its message), so no check keeps a set of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kmslint import api, rules
from kmslint.engine import drop_repeats
from kmslint.model import InstanceName, Location, Project, Violation
from kmslint.rules import RuleContext, all_checks
from kmslint.settings import Settings
from tests.conftest import FIXTURES

# The Administrators statement (line 13) lets a role call kms:PutKeyPolicy without MFA (KMS007)
# under both branches of its Action's Fn::If: each reading finds it, naming its own branch.
CASE = FIXTURES / "KMS006" / "fail_cfn_conditional_use"


def _lint() -> list[tuple[str, int, int, str]]:
    report = api.lint([str(CASE)], Settings(select=frozenset({"KMS007"})))
    return sorted((f.rule_id, f.line, f.column, f.message) for f in report.findings)


def _wrap(monkeypatch: pytest.MonkeyPatch, also: str | None = None) -> list[Violation]:
    """Run KMS007's check as the engine would, keeping what it yields, and yielding a
    violation with the message ``also`` after each at the same place."""
    checks = all_checks()
    real = checks["KMS007"]
    yielded: list[Violation] = []

    def check(project: Project, ctx: RuleContext) -> Iterator[Violation]:
        for v in real(project, ctx):
            yielded.append(v)
            yield v
            if also is not None:
                yield Violation(v.loc, v.resource, also)

    monkeypatch.setitem(rules._REGISTRY, "KMS007", check)  # where the engine finds the checks
    return yielded


def test_a_finding_two_readings_repeat_is_reported_once(monkeypatch: pytest.MonkeyPatch) -> None:
    yielded = _wrap(monkeypatch)
    found = _lint()
    assert [(v.loc.line, v.loc.column) for v in yielded] == [(13, 13), (13, 13)]
    assert yielded[0].message != yielded[1].message  # each names its branch
    assert found == [("KMS007", 13, 13, yielded[0].message)]  # the first reading's
    assert yielded[0].message.endswith("(when condition AdminsMayDecrypt is true)")


def test_two_findings_at_one_place_are_both_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    yielded = _wrap(monkeypatch, also="another thing is wrong here")
    assert _lint() == [
        ("KMS007", 13, 13, "another thing is wrong here"),
        ("KMS007", 13, 13, yielded[0].message),
    ]


def test_a_subject_is_the_content_and_instances_are_apart() -> None:
    here, there = Location.point("main.tf", 3, 5), Location.point("main.tf", 4, 5)
    a, b = InstanceName("aws_kms_key.k", '["a"]'), InstanceName("aws_kms_key.k", '["b"]')
    kept = [
        Violation(here, a, "bad (when x)", subject=""),
        Violation(here, b, "bad (when x)", subject=""),  # another instance
        Violation(there, a, "bad (when x)", subject=""),  # another place
        Violation(here, a, "bad", subject="p1"),  # another subject
        Violation(here, "aws_kms_key.other", "bad"),  # another resource
    ]
    repeats = [
        Violation(here, a, "bad (when y)", subject=""),  # the same subject, another branch
        Violation(here, InstanceName("aws_kms_key.k", '["a"]'), "bad (when z)", subject=""),
        Violation(here, "aws_kms_key.other", "bad"),
    ]
    assert list(drop_repeats([*kept, *repeats])) == kept
