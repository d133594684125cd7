"""Baselines: fingerprints that survive line moves, counted matching, a stable file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmslint import baseline, exitcodes
from kmslint.cli import main
from kmslint.fingerprint import content_hash
from kmslint.model import SUPPRESSED_BY_BASELINE, Finding, Severity
from kmslint.record import replace


def finding(
    rule_id: str = "KMS003",
    line: int = 5,
    content: str = "statement:Everyone",
    file: str = "infra/main.tf",
    resource: str = "aws_kms_key.shared",
    **kw: object,
) -> Finding:
    return Finding(
        file=file,
        line=line,
        column=3,
        rule_id=rule_id,
        resource=resource,
        message=f"{rule_id} message",
        end_line=line + 4,
        end_column=4,
        slug="slug",
        severity=Severity.HIGH,
        content=content,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def roundtrip(findings: list[Finding], path: str = "kmslint-baseline.json") -> baseline.Baseline:
    baseline.write(findings, path)
    return baseline.load(path)


def new_ones(findings: list[Finding], recorded: baseline.Baseline) -> list[tuple[str, int]]:
    return [(f.rule_id, f.line) for f in baseline.apply(findings, recorded) if not f.suppressed]


def test_the_file(in_tmp: Path) -> None:
    count = baseline.write(
        [
            finding("KMS003", 40, "b"),
            finding("KMS002", 2, "rotation", resource="aws_kms_key.a"),
            finding("KMS003", 20, "a", file="policy.json", resource=""),
            finding("KMS004", 9, "x", suppressed=True, suppression_reason="tagged"),  # suppressed: not recorded
            finding("KMS000", 1, "parse-error", resource=""),  # parse errors: never recorded
        ],
        "kmslint-baseline.json",
    )
    assert count == 3
    doc = json.loads((in_tmp / "kmslint-baseline.json").read_text())
    assert doc["version"] == baseline.VERSION
    assert doc["tool"] == "kmslint"
    rows = [(e["rule_id"], e["file"], e["resource"], e["content"]) for e in doc["findings"]]
    assert rows == [
        ("KMS002", "infra/main.tf", "aws_kms_key.a", content_hash(finding(content="rotation"))),
        ("KMS003", "infra/main.tf", "aws_kms_key.shared", content_hash(finding(content="b"))),
        ("KMS003", "policy.json", None, content_hash(finding(content="a"))),
    ]
    assert all(len(e["content"]) == 32 for e in doc["findings"])


def test_the_file_is_byte_stable(in_tmp: Path) -> None:
    findings = [finding("KMS003", n, f"c{n % 3}") for n in range(10)]
    first = baseline.render(findings, "b.json")
    assert baseline.render(list(reversed(findings)), "b.json") == first
    assert baseline.render([replace(f, line=f.line + 100, message="reworded") for f in findings], "b.json") == first


def test_line_moves_and_rewording_match(in_tmp: Path) -> None:
    recorded = roundtrip([finding(line=5)])
    assert new_ones([finding(line=50)], recorded) == []
    assert new_ones([replace(finding(line=7), message="another wording", column=9)], recorded) == []


@pytest.mark.parametrize(
    ("changed", "why"),
    [
        ({"content": "statement:Other"}, "the offending node changed"),
        ({"rule_id": "KMS005"}, "another rule"),
        ({"resource": "aws_kms_key.other"}, "another resource"),
        ({"file": "infra/other.tf"}, "another file"),
    ],
)
def test_anything_else_is_new(in_tmp: Path, changed: dict[str, str], why: str) -> None:
    recorded = roundtrip([finding()])
    now = finding(**changed)  # type: ignore[arg-type]
    assert new_ones([now], recorded) == [(changed.get("rule_id", "KMS003"), 5)], why


def test_counts_match_one_for_one(in_tmp: Path) -> None:
    recorded = roundtrip([finding(line=5), finding(line=9)])
    assert len(recorded) == 2
    three = [finding(line=5), finding(line=9), finding(line=30)]
    assert new_ones(three, recorded) == [("KMS003", 30)]  # the last in report order is the new one
    assert new_ones(three[:1], recorded) == []  # fewer than recorded is fine


def test_baselined_findings_are_marked_suppressed_with_a_reason(in_tmp: Path) -> None:
    (in_tmp / "ci").mkdir()
    recorded = roundtrip([finding()], "ci/baseline.json")
    (marked,) = baseline.apply([finding()], recorded)
    assert (marked.suppressed, marked.suppression_reason) == (True, "in the baseline (ci/baseline.json)")
    assert marked.suppression_kind == SUPPRESSED_BY_BASELINE


def test_inline_suppressed_and_parse_errors_are_left_alone(in_tmp: Path) -> None:
    recorded = roundtrip([finding(), finding("KMS000", content="parse-error", resource="")])
    inline = finding(suppressed=True, suppression_reason="inline reason")
    parse = finding("KMS000", content="parse-error", resource="")
    out = baseline.apply([inline, parse], recorded)
    assert [(f.suppressed, f.suppression_reason) for f in out] == [(True, "inline reason"), (False, None)]


def test_files_are_relative_to_the_baseline_not_the_cwd(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (in_tmp / "infra").mkdir()
    baseline.write([finding(file="infra/main.tf")], "baseline.json")
    assert json.loads((in_tmp / "baseline.json").read_text())["findings"][0]["file"] == "infra/main.tf"
    monkeypatch.chdir(in_tmp / "infra")
    recorded = baseline.load("../baseline.json")
    assert new_ones([finding(file="main.tf")], recorded) == []  # the same file, named from infra/


def test_a_finding_without_content_falls_back_on_its_message(in_tmp: Path) -> None:
    recorded = roundtrip([finding(content="")])
    assert new_ones([finding(content="", line=99)], recorded) == []
    assert new_ones([replace(finding(content=""), message="other")], recorded) == [("KMS003", 5)]


BAD_FILES = [
    ("not json", "{", "b.json:1:2: not valid JSON: Expecting property name enclosed in double quotes"),
    ("a list", "[]", "b.json: not a kmslint baseline (expected an object with version and findings)"),
    ("no version", '{"findings": []}', "b.json: version: expected 1, got null"),
    ("future version", '{"version": 2, "findings": []}', "b.json: version: expected 1, got 2"),
    (
        "entry not an object",
        '{"version": 1, "findings": [3]}',
        "b.json: findings[0]: expected an object with rule_id, file, resource and content",
    ),
    (
        "entry without content",
        '{"version": 1, "findings": [{"rule_id": "KMS003", "file": "a.tf", "resource": null}]}',
        "b.json: findings[0].content: expected a non-empty string",
    ),
    (
        "resource of the wrong type",
        '{"version": 1, "findings": [{"rule_id": "KMS003", "file": "a.tf", "resource": 1, "content": "x"}]}',
        "b.json: findings[0].resource: expected a string or null",
    ),
]


@pytest.mark.parametrize(("text", "message"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_bad_baseline_files(in_tmp: Path, text: str, message: str) -> None:
    (in_tmp / "b.json").write_text(text)
    with pytest.raises(baseline.BaselineError) as info:
        baseline.load("b.json")
    assert str(info.value) == message


def test_missing_baseline(in_tmp: Path) -> None:
    with pytest.raises(baseline.BaselineError) as info:
        baseline.load("nope.json")
    assert str(info.value) == "nope.json: no such baseline file (create it with --write-baseline)"


# --------------------------------------------------------------------------- the command line

STATEMENT = {
    "Sid": "Everyone",
    "Effect": "Allow",
    "Principal": "*",
    "Action": ["kms:Decrypt", "kms:PutKeyPolicy"],
    "Resource": "*",
}


def policy(*statements: Mapping[str, object], pad: int = 0) -> str:
    return "\n" * pad + json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2) + "\n"


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--no-config", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_write_then_check(in_tmp: Path) -> None:
    (in_tmp / "policies").mkdir()
    key = in_tmp / "policies" / "key.json"
    key.write_text(policy(STATEMENT))
    code, out, err = cli("--write-baseline", "kmslint-baseline.json", "policies")
    assert (code, out) == (exitcodes.OK, "")
    assert err == "kmslint: wrote 1 finding to the baseline kmslint-baseline.json\n"

    key.write_text(policy(STATEMENT, pad=6))  # the statement moves down six lines
    code, out, _ = cli("--baseline", "kmslint-baseline.json", "policies")
    assert code == exitcodes.OK
    assert out == "No findings in 1 file, 1 suppressed.\n"

    code, out, _ = cli("--baseline", "kmslint-baseline.json", "--show-suppressed", "--format", "json", "policies")
    reasons = [(f["rule_id"], f["suppression_reason"]) for f in json.loads(out)["findings"]]
    assert reasons == [("KMS003", "in the baseline (kmslint-baseline.json)")]

    other = dict(STATEMENT, Sid="AlsoEveryone", Action="kms:Encrypt")
    key.write_text(policy(STATEMENT, other))
    code, out, _ = cli("--baseline", "kmslint-baseline.json", "--format", "json", "policies")
    assert code == exitcodes.FINDINGS
    assert [(f["rule_id"], f["line"]) for f in json.loads(out)["findings"]] == [("KMS003", 14)]


def test_cli_bad_baseline_exits_2(in_tmp: Path) -> None:
    (in_tmp / "key.json").write_text(policy(STATEMENT))
    code, out, err = cli("--baseline", "missing.json", "key.json")
    assert (code, out) == (exitcodes.ERROR, "")
    assert err == "kmslint: error: missing.json: no such baseline file (create it with --write-baseline)\n"


def test_cli_rewriting_a_baseline_ignores_the_old_one(in_tmp: Path) -> None:
    (in_tmp / "key.json").write_text(policy(STATEMENT))
    assert cli("--write-baseline", "b.json", "key.json")[0] == exitcodes.OK
    code, _, err = cli("--baseline", "b.json", "--write-baseline", "b.json", "key.json")
    assert (code, err) == (exitcodes.OK, "kmslint: wrote 1 finding to the baseline b.json\n")
