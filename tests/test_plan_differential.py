"""The same configuration as ``.tf`` files and as its plan JSON gives the same findings.

RULES.md, "Where a finding is reported": when every value the rules read is known
in both forms, linting the ``.tf`` files and linting ``terraform show -json`` of them
must agree.  ``tests/data/plan_twins/<RULE>__<case>/plan.json`` is the plan of
``fixtures/<RULE>/<case>/`` (hand-written in the shape Terraform 1.9 renders:
``planned_values`` with the resolved values, ``configuration`` with each argument's
expression and ``references``, ``resource_changes[].change.after_unknown``).

Findings are compared on (rule, resource, message).  Not on file, line and column:
those differ by nature (an attribute of ``main.tf`` is a value in ``plan.json``).
Each form must also find something when its fixture is a ``fail_`` case, so that an
empty-equals-empty comparison cannot hide a parser that reads nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kmslint import api
from kmslint.settings import Settings
from tests.conftest import FIXTURES

TWINS = Path(__file__).parent / "data" / "plan_twins"


def _twins() -> list[object]:
    return [pytest.param(d, id=d.name) for d in sorted(TWINS.iterdir()) if (d / "plan.json").is_file()]


def _findings(path: Path) -> list[tuple[str, str | None, str]]:
    report = api.lint([str(path)], Settings(select=frozenset({"ALL"})))
    return sorted((f.rule_id, f.resource_name, f.message) for f in report.findings if not f.suppressed)


def test_enough_twins() -> None:
    assert len(_twins()) >= 12


@pytest.mark.parametrize("twin", _twins())
def test_tf_and_plan_agree(twin: Path) -> None:
    rule, _, case = twin.name.partition("__")
    tf = FIXTURES / rule / case
    assert tf.is_dir(), f"{twin.name} is the twin of no fixture"
    from_tf = _findings(tf)
    from_plan = _findings(twin / "plan.json")
    assert from_plan == from_tf
    if case.startswith("fail_"):
        assert any(r == rule for r, _, _ in from_plan)
