"""Attacks on the condition evaluator: templates built to make conditions costly.

A template's ``Conditions`` are read into a circuit and searched (see
kmslint.parsers.cfn_conditions).  Many conditions, long chains, cycles, deep
nesting and huge ``AllowedValues`` must give an answer in bounded time, never
a traceback or a hang; past a bound a combination counts as possible (every
combination checked, as without the evaluator), never as ruled out.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kmslint import api
from kmslint.settings import Settings

Row = tuple[str, int, str | None, str]
ROOT_STATEMENT = {
    "Sid": "Root",
    "Effect": "Allow",
    "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
    "Action": "kms:*",
    "Resource": "*",
}


def lint(tmp_path: Path, template: dict[str, object], seconds: float = 10.0) -> list[Row]:
    """Lint the template (as JSON) with every rule; it must take less than ``seconds``."""
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template, indent=1))
    started = time.perf_counter()
    report = api.lint([str(path)], Settings(select=frozenset({"ALL"})))
    assert time.perf_counter() - started < seconds
    return [(f.rule_id, f.line, f.resource_name, f.message) for f in report.findings]


def key(properties: dict[str, object]) -> dict[str, object]:
    return {"Type": "AWS::KMS::Key", "Properties": properties}


@pytest.mark.slow
def test_two_hundred_exclusive_conditions(tmp_path: Path) -> None:
    """200 conditions on one free parameter, each adding a statement: at most one is true,
    so only the combinations with one (or none) true are read, and quickly."""
    n = 200
    conditions = {f"Is{i}": {"Fn::Equals": [{"Ref": "Pick"}, f"v{i}"]} for i in range(n)}
    statements: list[object] = [ROOT_STATEMENT]
    for i in range(n):
        principal: object = "*" if i == 0 else {"AWS": f"arn:aws:iam::111122223333:role/r{i}"}
        statements.append(
            {
                "Fn::If": [
                    f"Is{i}",
                    {"Sid": f"S{i}", "Effect": "Allow", "Principal": principal, "Action": "kms:Decrypt"},
                    {"Ref": "AWS::NoValue"},
                ]
            }
        )
    rotation = {"Fn::If": ["Is0", {"Fn::If": ["Is1", False, True]}, True]}  # Is0 and Is1 never both
    template = {
        "Parameters": {"Pick": {"Type": "String"}},
        "Conditions": conditions,
        "Resources": {
            "Key": key({"EnableKeyRotation": rotation, "KeyPolicy": {"Version": "2012-10-17", "Statement": statements}})
        },
    }
    found = lint(tmp_path, template)
    assert not [r for r in found if r[0] in ("KMS000", "KMS002")]
    wildcard = [r for r in found if r[0] == "KMS003"]
    text = (tmp_path / "template.json").read_text()
    statement_line = text[: text.index('"Sid": "S0"')].count("\n")  # the line of its opening brace
    assert [r[:3] for r in wildcard] == [("KMS003", statement_line, "Key")]
    assert wildcard[0][3].endswith("(when condition Is0 is true)")


def test_a_thousand_conditions_in_a_chain_are_decided(tmp_path: Path) -> None:
    """C0 is decided by a default; C999 is C0 negated 999 times: decided false, with no
    recursion as deep as the chain."""
    n = 1000
    conditions: dict[str, object] = {"C0": {"Fn::Equals": [{"Ref": "On"}, "yes"]}}
    conditions.update({f"C{i}": {"Fn::Not": [{"Condition": f"C{i - 1}"}]} for i in range(1, n)})
    template = {
        "Parameters": {"On": {"Type": "String", "Default": "yes"}},
        "Conditions": conditions,
        "Resources": {"Key": key({"EnableKeyRotation": {"Fn::If": [f"C{n - 1}", True, False]}})},
    }
    found = lint(tmp_path, template)
    rotation = [r for r in found if r[0] == "KMS002"]
    assert len(rotation) == 1 and "condition" not in rotation[0][3]
    assert not [r for r in found if r[0] == "KMS000"]


def test_a_long_cycle_of_conditions_is_free(tmp_path: Path) -> None:
    n = 500
    conditions = {f"C{i}": {"Condition": f"C{(i + 1) % n}"} for i in range(n)}
    template = {
        "Conditions": conditions,
        "Resources": {"Key": key({"EnableKeyRotation": {"Fn::If": ["C0", True, False]}})},
    }
    found = lint(tmp_path, template)
    rotation = [r for r in found if r[0] == "KMS002"]
    assert len(rotation) == 1 and rotation[0][3].endswith("(when condition C0 is false)")


def test_deep_nesting_past_the_bound_is_free(tmp_path: Path) -> None:
    """Fn::Not nested 90 deep (within the parser's depth limit, past the evaluator's): the
    condition is free, so both branches are checked."""
    body: object = {"Fn::Equals": ["a", "a"]}  # true; negated an even number of times, still true
    for _ in range(90):
        body = {"Fn::Not": [body]}
    template = {
        "Conditions": {"Deep": body},
        "Resources": {"Key": key({"EnableKeyRotation": {"Fn::If": ["Deep", True, False]}})},
    }
    found = lint(tmp_path, template)
    rotation = [r for r in found if r[0] == "KMS002"]
    assert len(rotation) == 1 and rotation[0][3].endswith("(when condition Deep is false)")


@pytest.mark.slow
@pytest.mark.parametrize("depth", [15, 60])
def test_huge_allowed_values(tmp_path: Path, depth: int) -> None:
    """20,000 allowed values and 300 conditions over them, ``depth`` of them nested in one
    property: a domain is only the values compared, plus one for all the others.  The
    combination in which none of them holds (rotation off) is found when there are few;
    with sixty, enumeration reaches its bound first, as it would without the evaluator."""
    allowed = [f"value-{i}" for i in range(20_000)]
    conditions = {f"Is{i}": {"Fn::Equals": [{"Ref": "Pick"}, f"value-{i}"]} for i in range(300)}
    rotation: object = False
    for i in range(depth - 1, -1, -1):  # at most 60 deep: within the parser's depth limit
        rotation = {"Fn::If": [f"Is{i}", True, rotation]}
    template = {
        "Parameters": {"Pick": {"Type": "String", "AllowedValues": allowed}},
        "Conditions": conditions,
        "Resources": {"Key": key({"EnableKeyRotation": rotation})},
    }
    found = lint(tmp_path, template)
    assert not [r for r in found if r[0] == "KMS000"]
    rotation_rows = [r for r in found if r[0] == "KMS002"]
    if depth == 15:
        assert len(rotation_rows) == 1
        assert (
            "(when condition Is0 is false and condition Is1 is false and condition Is10 is false"
            in (rotation_rows[0][3])
        )
    else:
        assert len(rotation_rows) <= 1


def test_shared_subformulas_do_not_blow_up(tmp_path: Path) -> None:
    """Each condition uses the previous one twice: written out, 2**200 leaves; as a circuit,
    linear."""
    n = 200
    conditions: dict[str, object] = {f"E{i}": {"Fn::Equals": [{"Ref": f"P{i % 10}"}, "x"]} for i in range(n)}
    conditions["C0"] = {"Condition": "E0"}
    for i in range(1, n):
        prev, e = {"Condition": f"C{i - 1}"}, {"Condition": f"E{i}"}
        conditions[f"C{i}"] = {"Fn::Or": [{"Fn::And": [prev, e]}, {"Fn::And": [prev, {"Fn::Not": [e]}]}]}
    template = {
        "Parameters": {f"P{i}": {"Type": "String"} for i in range(10)},
        "Conditions": conditions,
        "Resources": {"Key": key({"EnableKeyRotation": {"Fn::If": [f"C{n - 1}", True, False]}})},
    }
    found = lint(tmp_path, template)
    rotation = [r for r in found if r[0] == "KMS002"]
    assert len(rotation) == 1 and rotation[0][3].endswith(f"(when condition C{n - 1} is false)")
