"""Attacks on Terraform parsing and evaluation (issue 11).

* valid HCL that tree-sitter-hcl rejects still parses, as Terraform reads it,
  so that it cannot hide a file's findings behind one KMS000;
* every step of a unit's evaluation, parsing and checking is paid for from one
  budget (time, steps, memory): inputs built to be slow or large end in a
  KMS000 where evaluation gave up, within seconds, never in a hang or a pass;
* a policy value shared by many keys is read once;
* escapes evaluate to what Terraform sees.

CLI tests run the real console script in a fresh process and measure its wall
time and peak memory (see tests/measure.py for why a launcher process).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from kmslint import api
from kmslint.model import Value, to_plain
from kmslint.parsers.common import ParseOptions
from kmslint.parsers.hcl_syntax import Src, hcl_tree, parse_hcl
from kmslint.settings import Settings
from tests import measure
from tests.parsers.tf_helpers import parse

KMSLINT = Path(sys.executable).with_name("kmslint")
OPEN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}],
}
# What a run may use on any input under the size limit (the acceptance bar).
RUN_SECONDS = 10.0
RUN_BYTES = 500_000_000


def open_key(name: str = "k") -> str:
    """A key whose policy allows `*`: KMS003 and KMS005 at its statement, line 3 of the block, column 63."""
    return (
        f'resource "aws_kms_key" "{name}" {{\n'
        "  enable_key_rotation = true\n"
        f"  policy = jsonencode({json.dumps(OPEN_POLICY)})\n"
        "}\n"
    )


def findings(report: api.Report) -> list[tuple[str, str, int, int, str]]:
    return [(f.rule_id, Path(f.file).name, f.line, f.column, f.resource) for f in report.findings]


def lint(path: Path) -> api.Report:
    return api.lint([str(path)], Settings(), jobs=1)


def value_of(text: str, files: dict[str, str] | None = None) -> Value | None:
    """The value of ``x`` in HCL ``text`` (with ``files`` beside it for file functions)."""
    from kmslint.parsers.hcl_eval import Config, Evaluator

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, body in (files or {}).items():
            (root / name).write_text(body)
        parsed = parse_hcl(Src("t.tf", text.encode()), 200)
        config = Config(root, locals=dict(parsed.attrs))
        return Evaluator(config, ParseOptions(scan_root=root)).eval(parsed.attrs["x"].expr)


def plain(text: str, files: dict[str, str] | None = None) -> object:
    return to_plain(value_of(text, files))


class Run:
    """The console script's result in a fresh process, with wall time and peak memory."""

    def __init__(self, code: int, stdout: str, stderr: str, wall: float, peak: int) -> None:
        self.code, self.stdout, self.stderr, self.wall, self.peak = code, stdout, stderr, wall, peak

    def json(self) -> list[tuple[str, str, int, str]]:
        out = json.loads(self.stdout)
        return [(f["rule_id"], f["file"], f["line"], f["resource"] or "") for f in out["findings"]]


def run(args: list[str], cwd: Path, timeout: float = 60) -> Run:
    """``kmslint ARGS`` (the installed console script) in ``cwd``; no traceback may reach stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        report, out, err = Path(tmp) / "report.json", Path(tmp) / "out", Path(tmp) / "err"
        with out.open("wb") as fo, err.open("wb") as fe:
            subprocess.run(
                [sys.executable, "-c", measure._LAUNCHER, str(report), str(timeout), str(KMSLINT), *args],
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=fo,
                stderr=fe,
                timeout=timeout + 30,
                check=True,
            )
        data = json.loads(report.read_text())
        result = Run(data["code"], out.read_text("utf-8"), err.read_text("utf-8"), data["wall"], data["peak"])
    assert "Traceback" not in result.stderr, result.stderr
    return result


# --------------------------------------------------------------------------- valid HCL the grammar rejects


@pytest.mark.parametrize("number", ["1e3", "1E3", "1e+3", "7e-2", "-1e3", "2E-0"])
def test_an_exponent_without_a_fraction_does_not_hide_the_files_findings(tmp_path: Path, number: str) -> None:
    """`x = 1e3` is valid HCL: the file parses and its KMS003 is reported, with no KMS000."""
    (tmp_path / "main.tf").write_text(f"locals {{\n  x = {number}\n}}\n" + open_key())
    assert findings(lint(tmp_path / "main.tf")) == [
        ("KMS003", "main.tf", 6, 63, "aws_kms_key.k"),
        ("KMS005", "main.tf", 6, 63, "aws_kms_key.k"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x = 1e3", 1000),
        ("x = 1E3", 1000),
        ("x = 1e+3", 1000),
        ("x = 7e-2", 0.07),
        ("x = -1e3", -1000),
        ("x = 5-1e3", -995),
        ("x = [1e3, 2e1]", [1000, 20]),
        ('x = "${1e3}"', 1000),
        ('x = "n=${1e3}"', "n=1000"),
        ("x = { 1e3 = 1 }", {"1000": 1}),
        ("x = <<EOT\n${2e0}\nEOT", 2),
        ('x = "%{ if 1e0 > 0 }y%{ endif }"', "${template directives (%{...}) are not evaluated}"),
        ("x = 1.5e3", 1500),
    ],
)
def test_exponent_numbers_have_terraforms_values(text: str, expected: object) -> None:
    """Numbers written with an exponent evaluate as Terraform evaluates them, wherever an expression is."""
    assert plain(text + "\n") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('x = "1e3"', "1e3"),
        ("x = <<EOT\n1e3 ${1e3}\nEOT", "1e3 1000\n"),
        ("x = [1] # 1e3\n", [1]),
        ("x = [1] /* 1e3 */", [1]),
        ('x = "a\\"1e3"', 'a"1e3'),
        ('x = "$${1e3}"', "${1e3}"),
        ("x = local.a-1e3", "${local.a-1e3}"),
    ],
)
def test_the_exponent_rewrite_leaves_strings_comments_heredocs_and_names_alone(text: str, expected: object) -> None:
    """Only number literals in expression position are read past the grammar: text and identifiers keep their bytes."""
    assert plain(text + "\n") == expected


def test_the_grammar_sees_the_same_offsets_as_the_file() -> None:
    """The rewritten text has the original's length, so every node, line and column stays where it was written."""
    data = 'locals {\n  é = 1e3 # é\n  y = [2E+1, "1e1"]\n}\n'.encode()
    tree = hcl_tree(data)
    assert not tree.root_node.has_error
    body = tree.root_node.named_children[0].named_children[0]
    block_body = next(c for c in body.named_children if c.type == "body")
    first, second = (a.named_children[-1] for a in block_body.named_children if a.type == "attribute")
    assert (data[first.start_byte : first.end_byte], tuple(first.start_point)) == (b"1e3", (1, 7))
    assert data[second.start_byte : second.end_byte] == b'[2E+1, "1e1"]'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x = <<ÉTÉ\nhello\nÉTÉ\n", "hello\n"),
        ("x = <<é\nA0\né\n", "A0\n"),  # the stand-in marker is found nowhere in the file
        ("x = <<EOT\nhello\nEOT\u00a0\n", "hello\n"),
        ("x = <<EOT\nhello\n\u3000EOT  \u2003\n", "hello\n"),
        ("x = <<-ÉTÉ\n    a\n    ÉTÉ\u00a0\n", "a\n"),
    ],
)
def test_heredocs_close_where_terraform_closes_them(text: str, expected: str) -> None:
    """Non-ASCII heredoc markers and Unicode spaces around a closing marker (bytes.TrimSpace) parse as in Terraform."""
    assert plain(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('x = <<EOT\r\n{"a": 1}\r\nEOT\r\n', {"a": 1}),
        ("x = {\r\n  a = 1\r\n  b = [\r\n    2,\r\n  ]\r\n}\r\n", {"a": 1, "b": [2]}),
        ("x = {\n\ta\t=\t1\n}\n", {"a": 1}),
        ("x = <<EOT\nhello\nEOT   \n", "hello\n"),
        ("x = <<EOT\nhello\n\tEOT\t\n", "hello\n"),
        ("x = <<-EOT\n    hello\n      x\n    EOT\n", "hello\n  x\n"),
        ("x = <<-EOT\n\thello\n\tEOT\n", "hello\n"),
        ("x = { résumé = 1, 名前 = 2 }\n", {"résumé": 1, "名前": 2}),
        ("x = [\n  1, # one\n  2 // two\n  /* three */, 3\n]\n", [1, 2, 3]),
        ("x = /* c */ { # c\n  a = 1 /* c */\n}\n", {"a": 1}),
        ('x = "a${ "b${ "c${"d"}" }" }"\n', "abcd"),
        ("x = (\n  1 +\n  2\n)\n", 3),
        ('x = (\n  true\n  ? "a"\n  : "b"\n)\n', "a"),
        ("x = concat([1], [[2]]...)\n", [1, 2]),
        ("x = [[1, 2]].0\n", [1, 2]),
        ('x = provider::aws::arn_parse("a")\n', "${function provider::aws::arn_parse() is not evaluated}"),
        ('x = core::lower("A")\n', "a"),
        ("x = { for k, v in { a = 1 } : k => v... }\n", {"a": [1]}),
        ('x = "%{ for v in ["a"] }${v}%{ endfor }"\n', "${template directives (%{...}) are not evaluated}"),
    ],
)
def test_valid_hcl_forms_parse_with_their_values(text: str, expected: object) -> None:
    """CRLF, tabs, `<<-`, Unicode names, comments anywhere, nested templates, `...`, `.0`, `provider::`: no KMS000."""
    assert plain(text) == expected


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("locals {\n  x = 1e\n}\n", 3, 1),
        ("locals {\n  x = 1e3e\n}\n", 3, 1),
        ("locals {\n  x = <<EOT\nhello\n}\n", 9, 1),
    ],
)
def test_invalid_hcl_is_still_kms000_at_its_line(tmp_path: Path, text: str, line: int, column: int) -> None:
    """What Terraform rejects stays a KMS000 with a line: the rewrite never makes invalid HCL pass."""
    (tmp_path / "main.tf").write_text(text + open_key())
    assert [(f.rule_id, f.line, f.column) for f in lint(tmp_path / "main.tf").findings] == [("KMS000", line, column)]


# --------------------------------------------------------------------------- escapes


ESCAPED_STATEMENT = '{ Sid = "Open", Effect = "Allow", "\\u0050rincipal" = "\\u002a", Action = "kms:*", Resource = "*"}'
ESCAPED_POLICY = f'jsonencode({{ Version = "2012-10-17", Statement = [{ESCAPED_STATEMENT}] }})'


@pytest.mark.parametrize(
    ("label", "policy", "where"),
    [
        ('"aws_\\u006Bms_key"', ESCAPED_POLICY, (3, 62)),
        (
            '"aws_kms_\\u006bey"',
            '<<EOT\n{"Version": "2012-10-17", "Statement": [{"Sid": "Open", "Effect": "Allow",'
            ' "\\u0050rincipal": "\\u002a", "Action": "kms:*", "Resource": "*"}]}\nEOT',
            (4, 41),
        ),
        (
            '"aws_\\U0000006Bms_key"',
            'jsonencode(jsondecode("{\\"Version\\": \\"2012-10-17\\", \\"Statement\\": [{\\"Sid\\": \\"Open\\",'
            ' \\"Effect\\": \\"Allow\\", \\"\\\\u0050rincipal\\": \\"\\\\u002a\\", \\"Action\\": \\"kms:*\\",'
            ' \\"Resource\\": \\"*\\"}]}"))',
            (3, 75),
        ),
    ],
)
def test_escaped_type_names_and_policy_keys_are_what_terraform_sees(
    tmp_path: Path, label: str, policy: str, where: tuple[int, int]
) -> None:
    """`aws_\\u006Bms_key`, `"\\u0050rincipal"`, `"\\u002a"` (jsonencode, heredoc JSON, jsondecode): open to `*`."""
    body = f"  enable_key_rotation = true\n  policy = {policy}\n"
    (tmp_path / "main.tf").write_text(f'resource {label} "k" {{\n{body}}}\n')
    assert [k.name for k in parse(tmp_path).keys] == ["aws_kms_key.k"]
    line, column = where
    assert findings(lint(tmp_path)) == [
        ("KMS003", "main.tf", line, column, "aws_kms_key.k"),
        ("KMS005", "main.tf", line, column, "aws_kms_key.k"),
    ]


def test_escaped_keys_in_terraform_json_are_what_terraform_sees(tmp_path: Path) -> None:
    """In `.tf.json`, JSON escapes in block types, names and policy keys decode before anything reads them."""
    statement = '{"Sid": "Open", "Effect": "Allow", "\\u0050rincipal": "\\u002a", "Action": "kms:*", "Resource": "*"}'
    (tmp_path / "main.tf.json").write_text(
        '{"resource": {"aws_\\u006bms_key": {"k": {"enable_key_rotation": true,'
        f' "policy": "${{jsonencode({{Version = \\"2012-10-17\\", Statement = [{json.dumps(statement)[1:-1]}]}})}}"'
        "}}}}\n"
    )
    project = parse(tmp_path)
    assert [k.name for k in project.keys] == ["aws_kms_key.k"]
    assert findings(lint(tmp_path)) == [
        ("KMS003", "main.tf.json", 1, 81, "aws_kms_key.k"),
        ("KMS005", "main.tf.json", 1, 81, "aws_kms_key.k"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('x = "a\\ud800b"', "a\ufffdb"),
        ('x = "\\ud83d\\ude00"', "\ufffd\ufffd"),  # HCL reads each \u alone, as Go encodes runes
        ('x = "\\U0001F600"', "\U0001f600"),
        ('x = "\\U00110000"', "\ufffd"),
        ('x = jsondecode("\\"\\\\ud800\\"")', "\ufffd"),
        ('x = jsondecode("\\"\\\\ud83d\\\\ude00\\"")', "\U0001f600"),  # JSON pairs surrogates, as Go does
        ('x = <<EOT\n{"a\\ud800": "\\udc00"}\nEOT', {"a\ufffd": "\ufffd"}),
    ],
)
def test_surrogate_escapes_read_as_terraform_reads_them(text: str, expected: object) -> None:
    """A lone surrogate escape is U+FFFD, as in Terraform, never a string no output can encode."""
    assert plain(text + "\n") == expected


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("main.tf", 'resource "aws_kms_key" "a\\ud800" {\n  enable_key_rotation = false\n}\n'),
        ("main.tf.json", '{"resource": {"aws_kms_key": {"a\\ud800": {"enable_key_rotation": false}}}}'),
        (
            "main.tf",
            'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n  policy = <<EOT\n{"Version": "2012-10-17",'
            ' "Statement": [{"Sid": "\\udc00", "Effect": "Allow", "Principal": "*", "Action": "kms:*",'
            ' "Resource": "*"}]}\nEOT\n}\n',
        ),
    ],
)
def test_surrogate_escapes_reach_the_output_as_replacement_characters(tmp_path: Path, name: str, text: str) -> None:
    """A finding quoting a lone surrogate escape prints U+FFFD: no traceback, the usual exit code."""
    (tmp_path / name).write_text(text)
    result = run([name], tmp_path)
    assert result.code == 1
    assert "\ufffd" in result.stdout
    assert result.stderr == ""
