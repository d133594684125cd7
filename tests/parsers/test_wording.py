"""KMS000 messages in a user's words (kmslint.parsers.wording; RULES.md, the KMS000 paragraph).

Each case is a mistake people make, with the exact position the parser gives
(unchanged: JSON's is Python's own) and the exact message: what is wrong, in
the words of the person who wrote the file, never a parser's token names.
"""

from __future__ import annotations

import json

import pytest

from kmslint.parsers import jsonpos, yamlpos
from kmslint.parsers.common import ParseFailure
from kmslint.parsers.hcl_syntax import Src, parse_hcl
from kmslint.parsers.wording import same_on_every_python

JARGON = ("Expecting", "node content", "stream", "quoted_template_end", "<<", "<block", "scalar", "delimiter")

JSON_CASES = [
    (
        "trailing comma in a list",
        '{\n  "Statement": [\n    {"Action": "kms:*"},\n  ]\n}\n',
        (4, 3, "a comma before `]`: JSON allows no comma after the last item"),
    ),
    (
        "trailing comma in an object",
        '{\n  "Statement": [],\n}\n',
        (3, 1, "a comma before `}`: JSON allows no comma after the last item"),
    ),
    (
        "missing comma",
        '{"Effect": "Allow" "Action": "kms:*"}',
        (1, 20, 'expected `,` or `}` after the item before, found `"Action"`: is a comma missing?'),
    ),
    (
        "missing comma in a list",
        '["kms:Decrypt" "kms:Encrypt"]',
        (1, 16, 'expected `,` or `]` after the item before, found `"kms:Encrypt"`: is a comma missing?'),
    ),
    ("missing colon", '{"Statement" []}', (1, 14, "expected `:` after the key, found `[`")),
    ("unclosed list", '{\n  "Statement": [\n    {"Action": "kms:*"}\n', (4, 1, "unclosed `[` opened at line 2")),
    ("unclosed object", '{\n  "Version": "2012-10-17",\n', (3, 1, "unclosed `{` opened at line 1")),
    (
        "brackets inside strings do not count",
        '{\n  "Sid": "[{",\n  "Statement": [\n',
        (4, 1, "unclosed `[` opened at line 3"),
    ),
    ("unclosed string", '{"Action": "kms:*}\n', (1, 19, 'a line break inside a string: is its closing `"` missing?')),
    (
        "unclosed string at the end",
        '{"Action": "kms:*',
        (1, 12, 'unclosed string: no `"` closes it before the end of the file'),
    ),
    ("single quotes", "{'Action': 'kms:*'}", (1, 2, "a key in single quotes: JSON keys take double quotes")),
    (
        "a bare word",
        '{"Action": kms}',
        (
            1,
            12,
            "expected a value (a string in double quotes, a number, true, false, null, {...} or [...]), found `kms`",
        ),
    ),
    ("extra data", '{"a": 1}\n}\n', (2, 1, "more text after the end of the JSON document, starting with `}`")),
    ("a tab in a string", '{"a": "x\ty"}', (1, 9, "a tab inside a string: write it as `\\t`")),
    (
        "a bad escape",
        '{"a": "\\q"}',
        (1, 8, 'invalid escape `\\q` in a string (JSON knows \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)'),
    ),
    ("a short \\u escape", '{"a": "\\u12"}', (1, 9, "a `\\u` escape takes four hexadecimal digits")),
    ("empty", "  \n", (2, 1, "the file is empty")),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in JSON_CASES], ids=[c[0] for c in JSON_CASES])
def test_json_errors_in_words_at_pythons_positions(text: str, expected: tuple[int, int, str]) -> None:
    with pytest.raises(json.JSONDecodeError) as reference:
        json.loads(text)
    with pytest.raises(jsonpos.JSONSyntaxError) as err:
        jsonpos.check_syntax(text)
    reported = same_on_every_python(reference.value)  # as Python 3.10 to 3.12 report it (3.13 moved some)
    assert (err.value.line, err.value.column) == (reported.lineno, reported.colno)
    assert (err.value.line, err.value.column, err.value.message) == expected
    assert not any(word in err.value.message for word in JARGON)


YAML_CASES = [
    (
        "a key indented too far",
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n     Properties: {}\n",
        (4, 16, "unexpected `:` here: a key at the wrong indentation, or a value with `: ` in it that needs quotes"),
    ),
    (
        "a list item among keys",
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n  - x\n",
        (
            4,
            3,
            "this line does not continue the mapping opened at line 2 (is it indented wrongly, or a list item `-`"
            " where a key should be?)",
        ),
    ),
    (
        "unclosed double quote",
        'Resources:\n  K:\n    Type: "AWS::KMS::Key\n',
        (4, 1, "unclosed quoted string opened at line 3"),
    ),
    ("unclosed single quote", "K:\n  Type: 'AWS::KMS::Key\n", (3, 1, "unclosed quoted string opened at line 2")),
    ("unclosed flow list", "K:\n  Action: [kms:Encrypt, kms:Decrypt\n", (3, 1, "unclosed `[` opened at line 2")),
    ("unclosed flow mapping", "Resources: {K: {Type: x}, y\n", (2, 1, "unclosed `{` opened at line 1")),
    (
        "a wrong closing bracket",
        "x: [a, {b: c]\n",
        (1, 13, "expected `,` or `}` in the mapping opened at line 1, found `]`"),
    ),
    ("undefined alias", "K:\n  Properties: *props\n", (2, 15, "`*props` names no anchor (`&...`) defined before it")),
    ("a tab", "K:\n  Type: x\n\tProperties: {}\n", (3, 1, "a tab in the indentation: YAML indents with spaces only")),
    ("unknown escape", 'K:\n  Type: "a\\qb"\n', (2, 11, "unknown escape `\\q` in a double-quoted string")),
    ("an at sign", "K:\n  Type: @x\n", (2, 9, "`@` cannot start a plain value: put the value in quotes")),
    ("a backtick", "K:\n  Type: `x`\n", (2, 9, "a backtick cannot start a plain value: put the value in quotes")),
]


@pytest.mark.parametrize("pure", [False, True], ids=["libyaml", "pure-python"])
@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in YAML_CASES], ids=[c[0] for c in YAML_CASES])
def test_yaml_errors_in_words(text: str, expected: tuple[int, int, str], pure: bool) -> None:
    """libyaml and PyYAML's own parser word their errors differently; the message is the same."""
    with pytest.raises(ParseFailure) as err:
        yamlpos.load(text, "t.yaml", max_depth=200, pure=pure)
    line, column, message = expected
    assert err.value.message == f"invalid YAML: {message}"
    assert err.value.line == line
    assert err.value.column == column or (pure and "escape" in message)  # PyYAML marks the escape's letter
    assert not any(word in err.value.message for word in JARGON)


HCL_CASES = [
    (
        "unclosed block",
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n\n',
        (4, 1, 'unclosed block `resource "aws_kms_key" "k"` opened at line 1'),
    ),
    (
        "unclosed object",
        'resource "aws_kms_key" "k" {\n  tags = {\n    a = "b"\n}\n',
        (5, 1, 'unclosed block `resource "aws_kms_key" "k"` opened at line 1'),
    ),
    (
        "unclosed list",
        'resource "aws_kms_key" "k" {\n  policy = jsonencode({\n    a = [1, 2\n  })\n}\n',
        (4, 3, "unclosed `[` opened at line 3"),
    ),
    (
        "unclosed call",
        'resource "aws_kms_key" "k" {\n  policy = jsonencode({a = 1}\n}\n',
        (3, 1, "unclosed `jsonencode(` opened at line 2"),
    ),
    (
        "unclosed string",
        'resource "aws_kms_key" "k" {\n  description = "abc\n}\n',
        (2, 17, 'unclosed string: no `"` ends the string that starts here'),
    ),
    (
        "unclosed string on line 3, lines before the end",
        'resource "aws_kms_key" "k" {\n  description = "ok"\n  policy = "abc\n  enable_key_rotation = true\n}\n',
        (3, 12, 'unclosed string: no `"` ends the string that starts here'),
    ),
    (
        "unclosed heredoc",
        'resource "aws_kms_key" "k" {\n  policy = <<EOF\n{}\n}\n',
        (5, 1, "unclosed heredoc `<<EOF` opened at line 2: no line `EOF` ends it"),
    ),
    (
        "two equals signs",
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = = true\n}\n',
        (2, 25, "unexpected `=`"),
    ),
    ("a value missing", 'resource "aws_kms_key" "k" {\n  a =\n}\n', (2, 3, "`a =` has no value")),
    (
        "an equals sign missing",
        'resource "aws_kms_key" "k" {\n  description "x"\n}\n',
        (3, 1, "expected `=` (or `{` to open a block) before `}`"),
    ),
    ("a stray brace", 'resource "aws_kms_key" "k" {\n  a = 1\n}\n}\n', (4, 1, "unexpected `}`")),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in HCL_CASES], ids=[c[0] for c in HCL_CASES])
def test_hcl_errors_in_words(text: str, expected: tuple[int, int, str]) -> None:
    with pytest.raises(ParseFailure) as err:
        parse_hcl(Src("main.tf", text.encode()), 200)
    line, column, message = expected
    assert (err.value.line, err.value.column, err.value.message) == (line, column, f"invalid HCL: {message}")
    assert not any(word in err.value.message.replace("<<EOF", "") for word in JARGON)
