"""JSON with positions: every node's span, errors with lines, limits."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmslint.model import Known, Location, to_plain
from kmslint.parsers import jsonpos
from kmslint.parsers.policy_json import looks_like_key_policy

TEXT = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "caf\\u00e9", "Effect": "Allow",
     "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}}
  ]
}
"""


def test_every_node_has_its_span() -> None:
    doc = jsonpos.parse(TEXT, "p.json")
    assert doc.loc == Location("p.json", 1, 1, 7, 2)
    assert isinstance(doc, Known) and isinstance(doc.value, dict)
    version = doc.value["Version"]
    assert version == Known("2012-10-17")
    assert version.loc == Location("p.json", 2, 14, 2, 26)
    stmt = doc.value["Statement"].value[0]  # type: ignore[index, union-attr]
    assert stmt.loc == Location("p.json", 4, 5, 5, 68)
    sid = stmt.value["Sid"]
    assert sid.value == "café"
    principals = stmt.value["Principal"].value["AWS"].value
    assert [p.loc.column for p in principals] == [28, 62]


def test_columns_count_characters_not_bytes() -> None:
    doc = jsonpos.parse('{"Sid": "é", "Effect": "Allow"}', "p.json")
    assert doc.value["Effect"].loc.column == 24  # type: ignore[index, union-attr]


def test_offsets_place_embedded_json() -> None:
    doc = jsonpos.parse('{"a":\n  1}', "main.tf", line_offset=10, first_line_col_offset=4)
    assert doc.loc == Location("main.tf", 11, 5, 12, 5)
    assert doc.value["a"].loc == Location("main.tf", 12, 3, 12, 4)  # type: ignore[index, union-attr]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{\n  "a": 1,\n}', 3, 1),
        ('{"a": [1, 2}', 1, 12),
        ("", 1, 1),
        ('{"a": tru}', 1, 7),
        ("{\n\n  'single': 1}", 3, 3),
    ],
)
def test_syntax_errors_carry_a_line(text: str, line: int, column: int) -> None:
    with pytest.raises(jsonpos.JSONSyntaxError) as info:
        jsonpos.parse(text, "bad.json")
    assert (info.value.line, info.value.column) == (line, column)


def test_deep_nesting_is_refused_not_a_crash() -> None:
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(jsonpos.JSONSyntaxError, match="nesting deeper"):
        jsonpos.parse(deep, "deep.json", max_depth=200)
    very_deep = "[" * 200_000 + "]" * 200_000
    with pytest.raises(jsonpos.JSONSyntaxError):
        jsonpos.parse(very_deep, "deep.json")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(json_values, st.booleans())
def test_round_trip_equals_the_standard_library(value: object, indent: bool) -> None:
    text = json.dumps(value, indent=2 if indent else None, ensure_ascii=False)
    tree = jsonpos.parse(text, "x.json")
    assert to_plain(tree) == json.loads(text)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}, True),
        ({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}}, True),
        ({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["*", "kms:Decrypt"]}]}, True),
        ({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}, False),  # VPC endpoint
        ({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "kms:*"}]}, False),  # Deny-only: RULES.md
        (
            {
                "Statement": [
                    {"Effect": "Deny", "Principal": "*", "Action": "s3:*"},
                    {"Principal": "*", "Action": "kms:*"},
                ]
            },
            True,
        ),
        ({"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}, False),  # identity policy
        ({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}, False),  # bucket policy
        ({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "sns:Publish"]}]}, False),
        ({"Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": "s3:*", "Resource": "*"}]}, False),
        ({"Statement": []}, False),
        ({"name": "web"}, False),
        (["Statement"], False),
    ],
)
def test_key_policy_detection(data: object, expected: bool) -> None:
    assert looks_like_key_policy(data) is expected
