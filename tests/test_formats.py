"""The CI formats (github, junit, gitlab) and the JSON report's schema."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from kmslint import __version__, api
from kmslint.fingerprint import fingerprint, fingerprints
from kmslint.formatters import FORMATS, RenderContext, get
from kmslint.formatters.github import annotation, escape_data, escape_property
from kmslint.model import Finding, Severity
from kmslint.record import replace
from kmslint.settings import Settings
from tests.conftest import ROOT

REPORT_SCHEMA = ROOT / "kmslint" / "schemas" / "report.schema.json"


def finding(**changes: Any) -> Finding:
    base = Finding(
        file="infra/kms.tf",
        line=12,
        column=5,
        rule_id="KMS003",
        resource="aws_kms_key.shared",
        message="statement `Everyone` allows `*` to use this key",
        end_line=12,
        end_column=40,
        slug="wildcard-principal",
        severity=Severity.CRITICAL,
        content='{"Principal": "*"}',
    )
    return replace(base, **changes)


def render(fmt: str, findings: list[Finding], show_suppressed: bool = False, **report: Any) -> str:
    rep = api.Report(findings=sorted(findings), files=report.pop("files", 1), **report)
    return get(fmt)(rep, RenderContext(__version__, show_suppressed=show_suppressed))


# --------------------------------------------------------------------------- github


def test_github_annotation_single_line_has_columns() -> None:
    assert annotation(finding()) == (
        "::error file=infra/kms.tf,line=12,col=5,endColumn=40,title=KMS003 wildcard-principal::"
        "[critical] statement `Everyone` allows `*` to use this key (aws_kms_key.shared)"
    )


def test_github_annotation_multi_line_has_end_line_and_no_columns() -> None:
    # Check-run annotations take columns only on a single line.
    assert annotation(finding(end_line=20, end_column=6)).startswith(
        "::error file=infra/kms.tf,line=12,endLine=20,title=KMS003 wildcard-principal::"
    )


@pytest.mark.parametrize(
    ("severity", "command"),
    [
        (Severity.CRITICAL, "error"),
        (Severity.HIGH, "error"),
        (Severity.MEDIUM, "warning"),
        (Severity.LOW, "warning"),
        (Severity.INFO, "notice"),
    ],
)
def test_github_severity_to_command(severity: Severity, command: str) -> None:
    assert annotation(finding(severity=severity)).startswith(f"::{command} ")


def test_github_escaping() -> None:
    assert escape_data("100% a\r\nb: c, d") == "100%25 a%0D%0Ab: c, d"
    assert escape_property("100% a\r\nb: c, d") == "100%25 a%0D%0Ab%3A c%2C d"
    line = annotation(finding(file="odd,dir:x/100%.tf", message="line one\nline two: 50%", slug="a,b"))
    assert line.startswith("::error file=odd%2Cdir%3Ax/100%25.tf,line=12,")
    assert ",title=KMS003 a%2Cb::" in line
    assert line.endswith("::[critical] line one%0Aline two: 50%25 (aws_kms_key.shared)")
    assert "\n" not in line


def test_github_suppressed_is_a_notice_with_reason_and_only_on_request() -> None:
    sup = finding(suppressed=True, suppression_reason="approved in SEC-1")
    assert render("github", [sup]).splitlines() == ["kmslint: no findings in 1 file."]
    [line, summary] = render("github", [sup], show_suppressed=True).splitlines()
    assert line.startswith("::notice ")
    assert line.endswith("[suppressed: approved in SEC-1]")
    assert summary == "kmslint: no findings in 1 file."


def test_github_summary() -> None:
    out = render("github", [finding(), finding(line=30, end_line=30, severity=Severity.LOW)], files=2)
    assert out.splitlines()[-1] == "kmslint: 2 findings (1 critical, 1 low) in 2 files."


# --------------------------------------------------------------------------- junit


def parse_junit(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_one_testcase_per_finding() -> None:
    parse_error = finding(
        file="bad.json", rule_id="KMS000", slug="parse-error", resource="", message="invalid JSON", line=3
    )
    sup = finding(line=40, end_line=40, rule_id="KMS004", slug="unjustified-multi-region", suppressed=True)
    sup = replace(sup, suppression_reason="global table")
    root = parse_junit(render("junit", [finding(), parse_error, sup], show_suppressed=True, files=2))
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    assert suite.attrib["name"] == "kmslint"
    assert (suite.attrib["tests"], suite.attrib["failures"], suite.attrib["errors"], suite.attrib["skipped"]) == (
        "3",
        "1",
        "1",
        "1",
    )
    cases = suite.findall("testcase")
    assert [c.attrib["classname"] for c in cases] == ["bad.json", "infra/kms.tf", "infra/kms.tf"]
    assert cases[0].find("error") is not None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "KMS003"
    assert cases[1].attrib["name"] == "KMS003 wildcard-principal in aws_kms_key.shared at line 12"
    assert cases[1].attrib["line"] == "12"
    assert "infra/kms.tf:12:5: KMS003 wildcard-principal [critical]" in (failure.text or "")
    skipped = cases[2].find("skipped")
    assert skipped is not None
    assert skipped.attrib["message"] == "suppressed: global table"


def test_junit_clean_run_has_one_passing_case() -> None:
    root = parse_junit(render("junit", []))
    [suite] = root.findall("testsuite")
    assert suite.attrib["tests"] == "1"
    assert suite.attrib["failures"] == "0"
    [case] = suite.findall("testcase")
    assert list(case) == []


def test_junit_survives_characters_xml_cannot_hold() -> None:
    root = parse_junit(render("junit", [finding(message='bad \x01 byte & <tag> "q"')]))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.attrib["message"].startswith('bad \ufffd byte & <tag> "q"')


# --------------------------------------------------------------------------- gitlab


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        (Severity.INFO, "info"),
        (Severity.LOW, "minor"),
        (Severity.MEDIUM, "major"),
        (Severity.HIGH, "critical"),
        (Severity.CRITICAL, "blocker"),
    ],
)
def test_gitlab_severity(severity: Severity, expected: str) -> None:
    [issue] = json.loads(render("gitlab", [finding(severity=severity)]))
    assert issue["severity"] == expected


def test_gitlab_issue_fields() -> None:
    f = finding(end_line=20)
    [issue] = json.loads(render("gitlab", [f]))
    assert issue["check_name"] == "KMS003"
    assert issue["description"] == (
        "KMS003 wildcard-principal: statement `Everyone` allows `*` to use this key (aws_kms_key.shared)"
    )
    assert issue["fingerprint"] == fingerprint(f)
    assert issue["location"] == {"path": "infra/kms.tf", "lines": {"begin": 12, "end": 20}}
    assert issue["type"] == "issue"
    assert issue["categories"] == ["Security"]


def test_gitlab_fingerprints_are_unique_and_suppressed_are_left_out() -> None:
    twin = finding(line=13, end_line=13)  # same rule, resource, file and content
    sup = finding(rule_id="KMS004", suppressed=True, suppression_reason="ok")
    issues = json.loads(render("gitlab", [finding(), twin, sup], show_suppressed=True))
    assert [i["check_name"] for i in issues] == ["KMS003", "KMS003"]
    assert len({i["fingerprint"] for i in issues}) == 2
    assert json.loads(render("gitlab", [])) == []


def test_fingerprint_ignores_position_but_not_substance() -> None:
    f = finding()
    assert fingerprint(f) == fingerprint(finding(line=99, column=1, end_line=120, end_column=2))
    assert fingerprint(f) != fingerprint(finding(resource="aws_kms_key.other"))
    assert fingerprint(f) != fingerprint(finding(file="infra/other.tf"))
    assert fingerprint(f) != fingerprint(finding(rule_id="KMS005"))
    assert fingerprint(f) != fingerprint(finding(content='{"Principal": {"AWS": "*"}}'))
    assert fingerprint(f) == fingerprint(finding(file="infra\\kms.tf"))
    assert fingerprints([f, f, f]) == [fingerprint(f), fingerprint(f) + ":2", fingerprint(f) + ":3"]


# --------------------------------------------------------------------------- json schema


def report_validator() -> Any:
    import jsonschema

    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.slow
def test_json_output_matches_its_schema() -> None:
    validator = report_validator()
    proc = subprocess.run(
        [sys.executable, "-m", "kmslint", "--format", "json", "--select", "ALL", "--show-suppressed", "fixtures"],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    doc = json.loads(proc.stdout)
    validator.validate(doc)
    assert doc["findings"] and doc["errors"]
    assert any(f["suppressed"] for f in doc["findings"])
    validator.validate(json.loads((ROOT / "fixtures" / "golden" / "expected.json").read_text(encoding="utf-8")))
    validator.validate(json.loads(render("json", [])))


def test_json_schema_rejects_what_the_contract_forbids() -> None:
    validator = report_validator()
    doc = json.loads(render("json", [finding()]))
    assert validator.is_valid(doc)
    bad_severity = json.loads(json.dumps(doc))
    bad_severity["findings"][0]["severity"] = "urgent"
    assert not validator.is_valid(bad_severity)
    unexplained = json.loads(json.dumps(doc))
    unexplained["findings"][0]["suppressed"] = True
    assert not validator.is_valid(unexplained)  # a suppressed finding carries its reason
    extra = json.loads(json.dumps(doc))
    extra["findings"][0]["line_hash"] = "x"
    assert not validator.is_valid(extra)


def test_report_schema_ships_in_the_package() -> None:
    from importlib.resources import files

    assert files("kmslint").joinpath("schemas/report.schema.json").is_file()


# --------------------------------------------------------------------------- registry and start-up


def test_every_format_renders_an_empty_report() -> None:
    report = api.lint([], Settings())
    for name in FORMATS:
        assert get(name)(report, RenderContext(__version__)).endswith("\n"), name


def test_plain_lint_path_imports_no_heavy_modules(tmp_path: Path) -> None:
    """Formats, the language server and the cfn-lint plugin load only when asked for."""
    (tmp_path / "policy.json").write_text('{"Version": "2012-10-17", "Statement": []}')
    code = (
        "import sys\n"
        "from kmslint.cli import main\n"
        "try:\n"
        f"    main([{str(tmp_path)!r}], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('xml.etree', 'jsonschema', 'pygls', 'lsprotocol', 'cfnlint', 'kmslint.formatters.sarif',\n"
        "         'kmslint.formatters.junit', 'kmslint.lsp', 'kmslint.cfnlint_plugin')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout + proc.stderr
