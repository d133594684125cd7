"""KMS000 for invalid JSON: the same line, column and message on every Python.

Python 3.13 changed where and how ``json`` reports a comma before `]` or `}`
(at the comma, "Illegal trailing comma"; before, at the bracket).  kmslint
reports the same finding on each Python it supports, so this fixed table
fails on whichever version says something else (``.ci/run`` runs it on each).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kmslint import baseline
from kmslint.parsers import common, jsonpos

VALUES = "a string in double quotes, a number, true, false, null, {...} or [...]"
NO_TRAILING_COMMA = "JSON allows no comma after the last item"

# (text, line, column, message): written once, not computed on the Python that runs the test
EXPECTED = [
    ("[1,]", 1, 4, f"a comma before `]`: {NO_TRAILING_COMMA}"),
    ('{"a": 1,}', 1, 9, f"a comma before `}}`: {NO_TRAILING_COMMA}"),
    ('{\n  "a": 1,\n}\n', 3, 1, f"a comma before `}}`: {NO_TRAILING_COMMA}"),
    ('{"a": [1, 2,\n  ]}', 2, 3, f"a comma before `]`: {NO_TRAILING_COMMA}"),
    ("[1,\t\r\n]", 2, 1, f"a comma before `]`: {NO_TRAILING_COMMA}"),
    ("[1, 2", 1, 6, "unclosed `[` opened at line 1"),
    ('{"a" 1}', 1, 6, "expected `:` after the key, found `1`"),
    ("[1 2]", 1, 4, "expected `,` or `]` after the item before, found `2`: is a comma missing?"),
    ('"abc', 1, 1, 'unclosed string: no `"` closes it before the end of the file'),
    ("{,}", 1, 2, "expected a key in double quotes, found `,`"),
    ("[,]", 1, 2, f"expected a value ({VALUES}), found `,`"),
    ('{"a": 1,,}', 1, 9, "expected a key in double quotes, found `,`"),
    ("{'a': 1}", 1, 2, "a key in single quotes: JSON keys take double quotes"),
    ('{"a": "x\ny"}', 1, 9, 'a line break inside a string: is its closing `"` missing?'),
    ('{"a": "\\q"}', 1, 8, 'invalid escape `\\q` in a string (JSON knows \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)'),
    ('{"a": "\\u12"}', 1, 9, "a `\\u` escape takes four hexadecimal digits"),
    ("", 1, 1, "the file is empty"),
    ('{"a": 1} x', 1, 10, "more text after the end of the JSON document, starting with `x`"),
    ('{"a": tru}', 1, 7, f"expected a value ({VALUES}), found `tru`"),
    ('{"a": 01}', 1, 8, "expected `,` or `}` after the item before, found `1`: is a comma missing?"),
    ('{"a":\t"\t"}', 1, 8, "a tab inside a string: write it as `\\t`"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), EXPECTED)
def test_kms000_is_the_same_on_every_python(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(jsonpos.JSONSyntaxError) as info:
        jsonpos.check_syntax(text)
    assert (info.value.line, info.value.column, info.value.message) == (line, column, message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"findings": [],}', "1:17: not valid JSON: Expecting property name enclosed in double quotes"),
        ('{"findings": [\n  1,\n  ]}', "3:3: not valid JSON: Expecting value"),
    ],
)
def test_a_baseline_with_a_trailing_comma_is_reported_alike(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(baseline.BaselineError) as info:
        baseline.load(path)
    assert str(info.value) == f"{path}:{expected}"


def test_python_before_3_10_7_has_no_digit_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # sys.get_int_max_str_digits came with 3.10.7: before it, no limit, and jsonpos reads long numbers as text
    assert common.int_max_str_digits() == sys.get_int_max_str_digits()
    monkeypatch.delattr(sys, "get_int_max_str_digits")
    assert common.int_max_str_digits() == 0
    digits = "9" * 5000
    assert jsonpos.check_syntax(f'{{"n": {digits}}}') == {"n": digits}
