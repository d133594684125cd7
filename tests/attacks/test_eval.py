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
import time
from pathlib import Path

import pytest

from kmslint import api
from kmslint.model import Value, to_plain
from kmslint.parsers import common
from kmslint.parsers.common import Budget, ParseOptions
from kmslint.parsers.hcl_syntax import Src, hcl_tree, parse_hcl
from kmslint.parsers.terraform import parse_directory
from kmslint.settings import Settings
from tests import measure
from tests.parsers.tf_helpers import d, key, parse

# Inputs built to be slow, large or deep, most through the CLI: the default local run leaves them to .ci/run.
pytestmark = pytest.mark.slow

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


# --------------------------------------------------------------------------- one budget per unit

NESTED_FOR = (
    "locals {{\n  a = [{ones}]\n"
    "  b = [for x in local.a : [for y in local.a : [for z in local.a : [for w in local.a : z]]]]\n}}\n"
)


def nested_for(n: int = 50) -> str:
    """Four nested for expressions over ``n`` items: n**4 evaluations from a few hundred bytes."""
    return NESTED_FOR.format(ones=",".join(["1"] * n)) + (
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n  policy = jsonencode(local.b)\n}\n'
    )


@pytest.fixture
def steps_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the step count, not the clock of a busy test machine, end an evaluation."""
    monkeypatch.setattr(common, "UNIT_SECONDS", 600.0)


@pytest.fixture
def few_steps(steps_decide: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fifth of the usual steps, so that a test runs out of them quickly."""
    monkeypatch.setattr(common, "UNIT_STEPS", 300_000)


def kms000(report: api.Report) -> list[tuple[str, int, int, str]]:
    return [(Path(f.file).name, f.line, f.column, f.message) for f in report.findings if f.rule_id == "KMS000"]


def test_templatefile_is_unknown_inside_a_template() -> None:
    """Terraform offers no templatefile() inside a template: a template calling itself (or another) ends at once."""
    files = {
        "self.tpl": '${templatefile("self.tpl", {})}${templatefile("self.tpl", {})}',
        "a.tpl": 'a${templatefile("b.tpl", {})}',
        "b.tpl": 'b${templatefile("a.tpl", {})}',
    }
    reason = "${templatefile() cannot be called from inside a template}"
    assert plain('x = templatefile("self.tpl", {})\n', files) == reason + reason
    assert plain('x = templatefile("a.tpl", {})\n', files) == "a" + reason


def test_a_self_calling_template_finishes_through_the_cli(tmp_path: Path) -> None:
    """An 83-byte template calling templatefile() on itself (once an exponential hang) is linted in well under 10 s."""
    call = '${templatefile("t.tpl", {})}'
    (tmp_path / "t.tpl").write_text(call * 2 + call.replace(" ", ""))
    (tmp_path / "main.tf").write_text(
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n  policy = templatefile("t.tpl", {})\n}\n'
    )
    result = run(["main.tf"], tmp_path)
    assert (result.code, result.stdout, result.stderr) == (0, "No findings in 1 file.\n", "")
    assert result.wall < RUN_SECONDS


def test_nested_for_expressions_end_in_a_kms000_where_evaluation_gave_up(tmp_path: Path, few_steps: None) -> None:
    """Nested for expressions (cubic and worse) stop at the unit's step budget with a KMS000 on the expression."""
    (tmp_path / "main.tf").write_text(nested_for())
    start = time.perf_counter()
    report = lint(tmp_path / "main.tf")
    assert time.perf_counter() - start < RUN_SECONDS
    assert kms000(report) == [
        (
            "main.tf",
            3,
            87,
            "this configuration is too costly to evaluate: kmslint gave up here because it needed over 300,000"
            " evaluation steps, so it is not checked; simplify the expression (nested for expressions, large shared"
            " values, templates) or lint the plan JSON (terraform show -json)",
        )
    ]
    assert [f.rule_id for f in report.findings] == ["KMS000"]


def test_nested_for_expressions_stay_within_time_and_memory_through_the_cli(tmp_path: Path) -> None:
    """1.5 KB of nested for expressions (once over 300 s and 3.5 GB) end in a KMS000 within 10 s and 500 MB."""
    (tmp_path / "main.tf").write_text(nested_for(400))
    result = run(["--format", "json", "."], tmp_path)
    assert result.code == 1
    assert result.json() == [("KMS000", "main.tf", 3, "")]
    assert result.wall < RUN_SECONDS and result.peak < RUN_BYTES


def test_exhaustion_is_a_kms000_and_fails_the_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever runs out (steps here), the unit gets a KMS000, which fails at any --fail-on: never a silent pass."""
    monkeypatch.setattr(common, "UNIT_STEPS", 40)
    (tmp_path / "main.tf").write_text(open_key())
    report = lint(tmp_path / "main.tf")
    assert [(f.rule_id, f.line, f.column) for f in report.findings] == [("KMS000", 3, 115)]
    assert "needed over 40 evaluation steps" in report.findings[0].message
    assert report.failing(max(f.severity for f in report.findings)) == report.findings


def test_exhaustion_in_a_file_loaded_for_context_fails_the_reported_file(tmp_path: Path, few_steps: None) -> None:
    """Linting one file of a directory whose other file is too costly gives that file a KMS000, not a pass."""
    (tmp_path / "main.tf").write_text(open_key("a"))
    (tmp_path / "other.tf").write_text(nested_for().replace('"k"', '"b"'))
    report = api.lint([str(tmp_path / "main.tf")], Settings(), jobs=1)
    assert kms000(report) == [
        (
            "main.tf",
            1,
            1,
            f"this file's configuration is too costly to evaluate: kmslint gave up in {tmp_path}/other.tf, line 3,"
            " which is loaded with it, so this file is not fully checked",
        )
    ]
    assert [f.rule_id for f in report.findings] == ["KMS000"]


def test_exhaustion_while_checking_is_a_kms000(tmp_path: Path) -> None:
    """Checks spend from the same budget: running out there is a KMS000 at the policy being read."""
    from kmslint import engine

    project = parse(tmp_path, {"main.tf": open_key("a") + open_key("b")})
    project.budget = Budget(steps=8)
    settings = Settings()
    found = engine.check_project(project, settings, engine.enabled_rules(settings))
    assert [(f.rule_id, f.line, f.column) for f in found if f.rule_id == "KMS000"] == [("KMS000", 7, 3)]
    assert "too costly to check" in next(f.message for f in found if f.rule_id == "KMS000")


def test_a_template_too_slow_to_parse_is_a_kms000(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A template that cannot be parsed within budget fails the unit at the attribute reading it, never Unknown."""
    monkeypatch.setattr(common, "PARSE_SECONDS", 0.2)
    monkeypatch.setattr(common, "PARSE_SECONDS_PER_MB", 0.0)
    (tmp_path / "t.tpl").write_text("${[" + " " * 60_000 + "]}")
    (tmp_path / "main.tf").write_text(
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n  policy = templatefile("t.tpl", {})\n}\n'
    )
    [(file, line, column, message)] = kms000(lint(tmp_path))
    assert (file, line, column) == ("main.tf", 3, 12)
    assert message.startswith(
        f"this configuration is too costly to evaluate: kmslint gave up here (in {tmp_path}/t.tpl, line 1) because"
        " the template could not be parsed (parsing gave up near here: it took over 0 s"
    )


def test_many_small_slow_files_stop_at_the_units_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files just under the no-callback size, each slow to parse, cannot add up past the unit's deadline."""
    monkeypatch.setattr(common, "UNIT_SECONDS", 1.0)
    for i in range(40):
        (tmp_path / f"f{i:02}.tf").write_text(f"# kms\nx{i} = [" + " " * (common.SMALL_INPUT - 20) + "]\n")
    start = time.perf_counter()
    report = lint(tmp_path)
    assert time.perf_counter() - start < 4.0
    assert [(f.rule_id, Path(f.file).name, f.line) for f in report.findings] == [("KMS000", "f00.tf", 1)]
    assert "because it took over 1 s" in report.findings[0].message


def test_parse_memory_stays_under_500_mb(tmp_path: Path) -> None:
    """4 MiB of blank lines in a block (~550 bytes of parser memory per byte) end in a KMS000 under 500 MB and 10 s."""
    (tmp_path / "main.tf").write_text('resource "aws_kms_key" "k" {\n' + "\n" * (4 * 1024 * 1024 - 40) + "}\n")
    result = run(["--format", "json", "main.tf"], tmp_path)
    assert result.code == 2  # a file named on the command line that cannot be parsed
    [(rule, file, line, _resource)] = result.json()
    assert (rule, file) == ("KMS000", "main.tf") and line > 1
    assert f"needed over {common.UNIT_MEMORY_BYTES >> 20} MiB" in result.stdout
    assert result.wall < RUN_SECONDS and result.peak < RUN_BYTES


def test_a_large_json_array_stays_under_500_mb(tmp_path: Path) -> None:
    """A 4 MB .tf.json of one array (jsonpos builds a located value per element) stops within 10 s and 500 MB."""
    body = {"locals": {"x": [0] * 2_000_000}, "resource": {"aws_kms_key": {"k": {"enable_key_rotation": False}}}}
    (tmp_path / "main.tf.json").write_text(json.dumps(body, separators=(",", ":")))
    result = run(["--format", "json", "."], tmp_path)
    assert result.code == 1
    assert result.json() == [("KMS000", "main.tf.json", 1, "")]
    assert result.wall < RUN_SECONDS and result.peak < RUN_BYTES


# --------------------------------------------------------------------------- shared and quadratic work


def large_policy(statements: int) -> str:
    body = [
        {
            "Sid": f"S{i}",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::111122223333:role/r{i}"},
            "Action": ["kms:Decrypt", "kms:Encrypt"],
            "Resource": "*",
        }
        for i in range(statements)
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": body}, indent=1)


def shared_policy_config(statements: int, keys: int) -> str:
    text = "locals {\n  policy = <<EOT\n" + large_policy(statements) + "\nEOT\n}\n"
    for k in range(keys):
        text += f'resource "aws_kms_key" "k{k}" {{\n  enable_key_rotation = true\n  policy = local.policy\n}}\n'
    return text


def test_a_policy_shared_by_many_keys_is_read_once(tmp_path: Path) -> None:
    """Keys given one policy value share one reading of it, and each get their own findings."""
    project = parse(tmp_path, {"main.tf": shared_policy_config(3, 3)})
    report = lint(tmp_path)
    assert findings(report) == [("KMS019", "main.tf", 3, 1, f"aws_kms_key.k{i}") for i in range(3)]
    project = parse(tmp_path)
    from kmslint.rules._common import key_policy_readings

    docs = [doc for _policy, doc in key_policy_readings(project)]
    assert len(docs) == 3 and docs[0] is docs[1] is docs[2]


def test_many_keys_sharing_a_large_policy_finish_in_time(tmp_path: Path) -> None:
    """300 keys sharing an 822 KB policy (once 114 s and 3 GB) are checked in under 10 s and 500 MB."""
    (tmp_path / "main.tf").write_text(shared_policy_config(5100, 300))
    result = run(["--format", "json", "."], tmp_path)
    assert result.code == 1
    expected = {(rule, "main.tf", 3, f"aws_kms_key.k{i}") for i in range(300) for rule in ("KMS013", "KMS019")}
    assert sorted(result.json()) == sorted(expected)
    assert result.wall < RUN_SECONDS and result.peak < RUN_BYTES


def test_merging_statements_by_sid_is_linear(tmp_path: Path) -> None:
    """A dynamic statement block over 5,000 items merges by Sid in linear time (it was quadratic: 25 M comparisons)."""
    items = ", ".join(f'"s{i}"' for i in range(5_000))
    project = parse(
        tmp_path,
        {
            "main.tf": 'data "aws_iam_policy_document" "d" {\n'
            f'  dynamic "statement" {{\n    for_each = [{items}]\n    content {{\n'
            '      sid = statement.value\n      actions = ["kms:Decrypt"]\n      resources = ["*"]\n'
            '      principals {\n        type = "AWS"\n        identifiers = ["arn:aws:iam::111122223333:root"]\n'
            "      }\n    }\n  }\n}\n"
            'resource "aws_kms_key" "k" {\n  policy = data.aws_iam_policy_document.d.json\n}\n'
        },
    )
    assert project.errors == []
    policy = key(project, "aws_kms_key.k").policy
    assert policy is not None
    sids = [to_plain(d(st)["Sid"]) for st in d(policy.document)["Statement"].value]  # type: ignore[union-attr]
    assert sids == [f"s{i}" for i in range(5_000)]


def test_grouping_for_expressions_are_linear() -> None:
    """`{ for ... : k => v... }` collects each key's values without copying them per item."""
    ones = ",".join(["1"] * 30_000)
    start = time.perf_counter()
    got = plain(f'x = {{ for v in [{ones}] : "k" => v... }}\n')
    assert time.perf_counter() - start < 5
    assert got == {"k": [1] * 30_000}


def test_format_precision_is_bounded() -> None:
    """format() with a precision no float has is a failed call (Unknown), not a 100 MB string."""
    assert plain('x = format("%.99999999f", 1)\n') == "${format() failed: precision over 1000}"


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "replace(" * 7 + '"aaaaaaaa"' + ', "a", "aaaaaaaaaa")' * 7,
        'x = "${local.s}${local.s}"',
        "x = [local.v, local.v] == [local.v, local.v]",
        'x = jsonencode({ Statement = concat([{ Principal = "*" }], local.w) })',
    ],
)
def test_values_too_large_to_evaluate_end_in_a_kms000(text: str) -> None:
    """Strings and values past the evaluator's size limits stop the unit (a KMS000), never become Unknown."""
    lines = ['  s0 = "kmskmskms"', '  v0 = ["kms"]']
    lines += [f'  s{i} = "${{local.s{i - 1}}}${{local.s{i - 1}}}"' for i in range(1, 22)]
    lines += [f"  v{i} = [local.v{i - 1}, local.v{i - 1}]" for i in range(1, 17)]
    lines += ["  s = local.s21", "  v = local.v16", "  w = [local.v16, local.v16]"]
    source = "locals {\n" + "\n".join(lines) + "\n}\n" + text + "\n"
    parsed = parse_hcl(Src("t.tf", source.encode()), 200)
    from kmslint.parsers.hcl_eval import Config, Evaluator

    ev = Evaluator(Config(Path("."), locals=dict(parsed.blocks[0].attrs)), ParseOptions(scan_root=Path(".")))
    with pytest.raises(common.BudgetExceeded, match=r"^it built a (string|value) of over [\d,]+ (characters|nodes)$"):
        ev.eval(parsed.attrs["x"].expr)


def test_a_value_made_too_large_cannot_hide_an_open_statement(tmp_path: Path) -> None:
    """An open statement concatenated with values built too large is a KMS000 (it was an Unknown policy: a pass)."""
    doubling = "\n".join(f"  a{i} = [local.a{i - 1}, local.a{i - 1}]" for i in range(1, 17))
    statement = json.dumps(OPEN_POLICY["Statement"][0])
    (tmp_path / "main.tf").write_text(
        f'locals {{\n  a0 = ["kms"]\n{doubling}\n}}\n'
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n'
        '  policy = jsonencode({ Version = "2012-10-17",'
        f" Statement = concat([{statement}], local.a16, local.a16) }})\n}}\n"
    )
    report = lint(tmp_path)
    assert [(f.rule_id, f.line, f.column) for f in report.findings] == [("KMS000", 22, 61)]
    assert "because it built a value of over 200,000 nodes" in report.findings[0].message


# --------------------------------------------------------------------------- calibration


def realistic_config(size: int, root: Path) -> str:
    """About ``size`` bytes of Terraform as bench/gen.py writes it (keys among buckets, roles, modules)."""
    sys.path.insert(0, str(measure.ROOT / "bench"))
    try:
        import gen  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    gen.generate("terraform", max(size // 1000, 1), root)
    chunks: list[str] = []
    for n, f in enumerate(sorted(root.rglob("*.tf"))):
        text = f.read_text()
        text = text.replace('" {', f'_{n}" {{') if text.startswith(("resource", "data")) else text
        chunks.append(text)
        if sum(map(len, chunks)) >= size:
            break
    return "\n".join(chunks)


def test_a_large_real_looking_file_is_far_from_the_limits(tmp_path: Path, steps_decide: None) -> None:
    """A 1 MB configuration (as large as real .tf files get) uses under a tenth of the steps, a third of the memory."""
    (tmp_path / "in").mkdir()
    (tmp_path / "main.tf").write_text(realistic_config(1_000_000, tmp_path / "in"))
    budget = Budget()
    start_rss = common._rss()
    project = parse_directory(tmp_path, [tmp_path / "main.tf"], ParseOptions(scan_root=tmp_path, budget=budget))
    from kmslint import engine

    settings = Settings()
    found = engine.check_project(project, settings, engine.enabled_rules(settings))
    budget.check()
    assert project.errors == [] and "KMS000" not in {f.rule_id for f in found}
    assert len(project.keys) > 100
    assert budget.spent < common.UNIT_STEPS // 10
    assert common._rss() - start_rss < common.UNIT_MEMORY_BYTES // 3


# --------------------------------------------------------------------------- more shapes that grew too fast


def test_many_suppressed_resources_are_matched_in_linear_time(tmp_path: Path) -> None:
    """10,000 resources each with a `kmslint:ignore` comment (30,000 took 150 s) lint in seconds, all suppressed."""
    block = "# kmslint:ignore KMS001, KMS002 -- test\n  enable_key_rotation = false\n}\n"
    body = "".join(f'resource "aws_kms_key" "k{i}" {{\n  ' + block for i in range(10_000))
    (tmp_path / "main.tf").write_text(body)
    result = run(["--format", "json", "main.tf"], tmp_path)
    assert (result.code, result.json()) == (0, [])
    assert result.wall < RUN_SECONDS and result.peak < RUN_BYTES


def test_a_template_read_in_a_loop_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """templatefile() over 200 items parses its 50 KB template once (each parse cost ~20 ms), not 200 times."""
    from kmslint.parsers import hcl_eval

    parses: list[int] = []
    real = hcl_eval.hcl_tree

    def counted(data: bytes, budget: Budget | None = None) -> object:
        parses.append(len(data))
        return real(data, budget)

    monkeypatch.setattr(hcl_eval, "hcl_tree", counted)
    (tmp_path / "t.tpl").write_text("kms\n" * 12_500)
    items = ", ".join(["1"] * 200)
    (tmp_path / "main.tf").write_text(
        f'locals {{\n  all = [for i in [{items}] : length(templatefile("t.tpl", {{}}))]\n}}\n'
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n  tags = { n = local.all[199] }\n}\n'
    )
    project = parse(tmp_path)
    assert project.errors == []
    assert to_plain(key(project, "aws_kms_key.k").tags) == {"n": 50_000}
    assert len(parses) == 1


@pytest.mark.parametrize(
    "body",
    [
        "x = [" + "1e1," * 250_000 + "]\n",
        "x = <<E\n" + "${1}\n" * 175_000 + "E\ny = 1e3\n",
        'x = "' + "${1}" * 175_000 + '"\ny = 1e3\n',
        "x = <<É\n" + "ÉÉ\n" * 200_000 + "É\ny = 1e3\n",
    ],
)
def test_the_lenient_scan_of_input_built_to_be_slow_is_linear(tmp_path: Path, body: str) -> None:
    """1 MB of exponents, interpolations or heredoc lines cannot make the rewrite for the grammar quadratic."""
    (tmp_path / "main.tf").write_text("# kms\n" + body)
    start = time.process_time()
    report = lint(tmp_path / "main.tf")
    assert time.process_time() - start < 5.0
    assert {f.rule_id for f in report.findings} <= {"KMS000"}


def test_a_plan_with_thousands_of_multi_region_keys_is_linear(tmp_path: Path, steps_decide: None) -> None:
    """A plan of 3,000 multi-Region keys, replicas and global tables (7 s of list scans) is read in linear time."""
    resources, config = [], []
    for i in range(3000):
        resources += [
            {"address": f"aws_kms_key.p{i}", "mode": "managed", "type": "aws_kms_key", "name": f"p{i}",
             "values": {"multi_region": True, "enable_key_rotation": True, "policy": None}},
            {"address": f"aws_kms_replica_key.r{i}", "mode": "managed", "type": "aws_kms_replica_key",
             "name": f"r{i}", "values": {"primary_key_arn": "x"}},
            {"address": f"aws_dynamodb_table.t{i}", "mode": "managed", "type": "aws_dynamodb_table",
             "name": f"t{i}", "values": {"replica": [{"region_name": "eu-west-2"}]}},
        ]  # fmt: skip
        config += [
            {"address": f"aws_kms_replica_key.r{i}", "type": "aws_kms_replica_key", "name": f"r{i}",
             "expressions": {"primary_key_arn": {"references": [f"aws_kms_key.p{i}.arn", f"aws_kms_key.p{i}"]}}},
            {"address": f"aws_dynamodb_table.t{i}", "type": "aws_dynamodb_table", "name": f"t{i}",
             "expressions": {"server_side_encryption": [{"kms_key_arn": {"references": [f"aws_kms_key.p{i}.arn"]}}]}},
        ]  # fmt: skip
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": resources}},
        "configuration": {"root_module": {"resources": config}},
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    start = time.process_time()
    report = lint(tmp_path / "plan.json")
    assert time.process_time() - start < 8.0
    # Every key has the default policy (KMS001, replicas too); each is used by its table (no KMS004).
    assert sorted((f.rule_id, f.resource) for f in report.findings) == sorted(
        [("KMS001", f"aws_kms_key.p{i}") for i in range(3000)]
        + [("KMS001", f"aws_kms_replica_key.r{i}") for i in range(3000)]
    )


def test_a_plan_too_costly_to_read_is_a_kms000(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan JSON whose reading runs out of budget is a KMS000 on the plan, never an exception or a pass."""
    monkeypatch.setattr(common, "UNIT_STEPS", 1000)
    resource = {
        "address": "aws_kms_key.k",
        "mode": "managed",
        "type": "aws_kms_key",
        "name": "k",
        "values": {"enable_key_rotation": False, "x": list(range(5000))},
    }
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": [resource]}},
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    report = lint(tmp_path / "plan.json")
    assert [(f.rule_id, f.line, f.column) for f in report.findings] == [("KMS000", 1, 1)]
    assert report.findings[0].message == (
        "this file is too costly to read: kmslint gave up here because it needed over 1,000 evaluation steps,"
        " so it is not checked"
    )


def test_a_unit_that_ran_out_of_time_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A KMS000 from the clock (a busy machine) is not kept in the findings cache: the next run checks again."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.tf").write_text(open_key())
    cache = str(tmp_path / "cache")
    with monkeypatch.context() as patch:
        patch.setattr(common, "UNIT_SECONDS", 0.0)
        first = api.lint([str(tmp_path / "src")], Settings(), jobs=1, cache_dir=cache)
    assert [f.rule_id for f in first.findings] == ["KMS000"]
    assert "because it took over 0 s" in first.findings[0].message
    again = api.lint([str(tmp_path / "src")], Settings(), jobs=1, cache_dir=cache)
    assert [(f.rule_id, f.line, f.column) for f in again.findings] == [("KMS003", 3, 63), ("KMS005", 3, 63)]


def test_plan_addresses_of_many_brackets_are_read_in_linear_time() -> None:
    """A plan address of 200,000 unclosed "[" (the plan is input too) loses its indexes in linear time."""
    from kmslint.parsers.terraform_plan import strip_indexes

    start = time.perf_counter()
    for address in ("[" * 200_000, '["' * 100_000, '["["' * 50_000):
        strip_indexes("aws_kms_key.k" + address)
    assert time.perf_counter() - start < 1
    assert strip_indexes('module.a[0].aws_kms_key.k["x]y"]') == "module.a.aws_kms_key.k"


def test_a_unit_holding_more_than_one_file_may_hold_gets_a_budget_in_proportion() -> None:
    """A directory holding n times what one file may hold gets n times the steps, time and memory; less, the base."""
    small = Budget()
    small.allow_for_input(common.DEFAULT_MAX_FILE_BYTES // 2)
    assert (small.max_steps, small.seconds, small.memory_bytes) == (
        common.UNIT_STEPS,
        common.UNIT_SECONDS,
        common.UNIT_MEMORY_BYTES,
    )
    large = Budget()
    large.allow_for_input(10 * common.DEFAULT_MAX_FILE_BYTES)
    assert large.max_steps == 10 * common.UNIT_STEPS
    assert large.seconds == pytest.approx(10 * common.UNIT_SECONDS)
    assert large.memory_bytes == 10 * common.UNIT_MEMORY_BYTES


def _many_keys(count: int, start: int) -> str:
    return "".join(
        f'resource "aws_kms_key" "k{i}" {{\n  enable_key_rotation = true\n'
        f'  policy = jsonencode({{ Version = "2012-10-17", Statement = [{{ Sid = "Root", Effect = "Allow",'
        f' Principal = {{ AWS = "arn:aws:iam::111122223333:root" }}, Action = "kms:*", Resource = "*" }}] }})\n}}\n'
        for i in range(start, start + count)
    )


def test_a_large_honest_directory_is_checked_not_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many files of plain keys, together over what one file may hold, are linted, not a KMS000 for cost."""
    for n in range(4):
        (tmp_path / f"f{n}.tf").write_text(_many_keys(40, n * 40))
    one_file = (tmp_path / "f0.tf").stat().st_size
    report = api.lint([str(tmp_path)], Settings(), jobs=1)
    assert [f.rule_id for f in report.findings].count("KMS001") == 160
    needed = _steps_of(tmp_path)
    # Shrink the per-file scale to one file's size and the base budget below what the
    # directory needs: the directory (four files' worth) still gets enough.
    monkeypatch.setattr(common, "DEFAULT_MAX_FILE_BYTES", one_file)
    monkeypatch.setattr(common, "UNIT_STEPS", needed // 2)
    report = api.lint([str(tmp_path)], Settings(), jobs=1)
    assert "KMS000" not in {f.rule_id for f in report.findings}
    assert [f.rule_id for f in report.findings].count("KMS001") == 160
    monkeypatch.setattr(common, "DEFAULT_MAX_FILE_BYTES", 4 * one_file * 100)
    report = api.lint([str(tmp_path)], Settings(), jobs=1)
    assert {f.rule_id for f in report.findings} == {"KMS000"}  # the same limits without the scale: refused


def _steps_of(directory: Path) -> int:
    """How many steps linting ``directory`` spends."""
    from kmslint import engine
    from kmslint.discovery import discover

    [unit] = discover([str(directory)]).units
    budget = Budget()
    opts = ParseOptions(scan_root=directory, budget=budget)
    loaded = engine.load_unit(unit, opts)
    for project in loaded.projects:
        engine.check_project(project, Settings(), engine.enabled_rules(Settings()))
    budget.check()
    return budget.spent


def test_many_keys_reading_one_policy_file_read_it_once(tmp_path: Path) -> None:
    """1,000 keys that each file() one 24 KB policy share one reading: findings for each, in about a second."""
    statements = [
        {
            "Sid": f"S{i}",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::111122223333:role/r{i}"},
            "Action": ["kms:Decrypt"],
            "Resource": "*",
        }
        for i in range(170)
    ]
    statements.append({"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"})
    (tmp_path / "p.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    (tmp_path / "main.tf").write_text(
        "".join(
            f'resource "aws_kms_key" "k{i}" {{\n  enable_key_rotation = true\n  policy = file("p.json")\n}}\n'
            for i in range(1000)
        )
    )
    start = time.perf_counter()
    report = api.lint([str(tmp_path)], Settings(), jobs=1)
    assert time.perf_counter() - start < 10
    rules = [f.rule_id for f in report.findings]
    assert (rules.count("KMS003"), rules.count("KMS005"), rules.count("KMS000")) == (1000, 1000, 0)
