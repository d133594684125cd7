"""Statement.covered / covers_any, and statements that are not objects."""

from __future__ import annotations

import json

import pytest

from kmslint.model import Known, Location, Unknown
from kmslint.parsers import jsonpos
from kmslint.policy.document import read_policy

LOC = Location.point("policy.json", 1)


def statement(body: dict[str, object]) -> object:
    doc = read_policy(jsonpos.parse(json.dumps({"Version": "2012-10-17", "Statement": [body]}), "p.json"), LOC)[0]
    return doc.statements[0]


@pytest.mark.parametrize(
    ("action", "asked", "covered"),
    [
        ("kms:*", ["kms:Decrypt", "kms:PutKeyPolicy"], ["kms:Decrypt", "kms:PutKeyPolicy"]),
        (
            ["kms:Put*", "kms:encrypt"],
            ["kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy"],
            ["kms:Encrypt", "kms:PutKeyPolicy"],
        ),
        ("s3:*", ["kms:Decrypt"], []),
    ],
)
def test_covered(action: object, asked: list[str], covered: list[str]) -> None:
    st = statement({"Effect": "Allow", "Principal": "*", "Action": action, "Resource": "*"})
    assert st.covered(asked) == covered  # type: ignore[attr-defined]


def test_covers_any_is_unknown_when_an_action_cannot_be_read() -> None:
    action = Known([Known("kms:Encrypt"), Unknown("var.extra_action")])
    doc = read_policy(Known({"Statement": Known([Known({"Effect": Known("Allow"), "Action": action})])}), LOC)[0]
    st = doc.statements[0]
    assert st.covers_any(["kms:Decrypt"]) is None
    assert st.covers_any(["kms:Decrypt", "kms:Encrypt"]) is True
    doc = read_policy(jsonpos.parse('{"Statement": [{"Effect": "Allow", "NotAction": "kms:Decrypt"}]}', "p"), LOC)[0]
    assert doc.statements[0].covers_any(["kms:Decrypt", "kms:Encrypt"]) is True
    assert doc.statements[0].covers_any(["kms:Decrypt"]) is False


def test_a_statement_that_is_not_an_object_is_a_problem() -> None:
    value = jsonpos.parse('{"Version": "2012-10-17",\n "Statement": ["Allow everything"]}', "p.json")
    doc = read_policy(value, LOC)[0]
    assert doc.unknown
    assert [(m, loc.line, loc.column) for m, loc in doc.problems] == [("statement 1 is not a JSON object", 2, 16)]
