"""``--format sarif``: valid SARIF 2.1.0 (the official schema), the tool's rules, and stable results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kmslint import __version__, api, catalog, engine
from kmslint.fingerprint import fingerprint
from kmslint.formatters import RenderContext, get
from kmslint.formatters.sarif import FINGERPRINT_KEY, SECURITY_SEVERITY, artifact_uri, suppression_kind
from kmslint.model import SUPPRESSED_BY_BASELINE, SUPPRESSED_BY_CONFIG, SUPPRESSED_IN_SOURCE, Finding, Severity
from kmslint.record import replace
from kmslint.settings import Settings
from tests.conftest import FIXTURES, ROOT, SARIF_SCHEMA

STAR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Everyone",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["kms:Decrypt"],
            "Resource": "*",
        }
    ],
}

TERRAFORM = """\
# kmslint:ignore KMS004 -- replicated for the orders global table in another repository
resource "aws_kms_key" "orders" {
  enable_key_rotation = true
  multi_region        = true
  policy              = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Everyone"
      Effect    = "Allow"
      Principal = "*"
      Action    = "kms:Decrypt"
      Resource  = "*"
    }]
  })
}
"""


def validate(log: dict[str, Any]) -> None:
    """Validate against the official schema (SARIF_SCHEMA: shared/ beside the checkout)."""
    import jsonschema

    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the SARIF 2.1.0 schema is not at {SARIF_SCHEMA} (the shared/ folder beside the checkout)")

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def sarif(
    paths: list[str], settings: Settings | None = None, show_suppressed: bool = False, select: str = ""
) -> dict[str, Any]:
    """The SARIF log for ``paths``; ``select`` (comma-separated IDs) pins the rules, so new rules do not interfere."""
    if settings is None:
        chosen = frozenset(select.split(",")) if select else None
        settings = Settings(show_suppressed=show_suppressed, select=chosen)
    report = api.lint(paths, settings)
    text = get("sarif")(report, RenderContext(__version__, show_suppressed=show_suppressed))
    log: dict[str, Any] = json.loads(text)
    return log


def test_golden_sarif_is_valid() -> None:
    validate(json.loads((FIXTURES / "golden" / "expected.sarif").read_text(encoding="utf-8")))


@pytest.mark.slow
def test_cli_sarif_is_valid_on_every_fixture() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kmslint", "--format", "sarif", "--select", "ALL", "--show-suppressed", "fixtures"],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (1, 2), proc.stderr.decode()
    log = json.loads(proc.stdout)
    validate(log)
    run = log["runs"][0]
    assert run["results"], "the fixtures hold findings"
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == set(catalog.rules())


def test_driver_lists_every_enabled_rule_with_its_docs(tmp_path: Path) -> None:
    (tmp_path / "policy.json").write_text(json.dumps(STAR_POLICY))
    log = sarif([str(tmp_path)])
    validate(log)
    assert log["version"] == "2.1.0"
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "kmslint"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    enabled = engine.enabled_rules(Settings())
    assert [r["id"] for r in driver["rules"]] == sorted(enabled)
    for desc in driver["rules"]:
        rule = catalog.rules()[desc["id"]]
        assert desc["name"] == rule.slug
        assert desc["shortDescription"]["text"] == rule.summary
        assert desc["fullDescription"]["text"]
        assert "How to fix" in desc["help"]["text"]
        assert "#### How to fix" in desc["help"]["markdown"]
        assert desc["helpUri"].endswith(f"/docs/rules.md#{rule.id.lower()}-{rule.slug}")
        assert desc["properties"]["security-severity"] == SECURITY_SEVERITY[rule.severity]
        assert 0.0 < float(desc["properties"]["security-severity"]) <= 10.0
        assert "security" in desc["properties"]["tags"]
        assert desc["defaultConfiguration"]["level"] in ("error", "warning", "note")


def test_security_severity_follows_githubs_bands() -> None:
    by_label = {sev.label: float(v) for sev, v in SECURITY_SEVERITY.items()}
    assert by_label["critical"] >= 9.0
    assert 7.0 <= by_label["high"] < 9.0
    assert 4.0 <= by_label["medium"] < 7.0
    assert 0.0 < by_label["low"] < 4.0
    assert 0.0 < by_label["info"] <= by_label["low"]


def test_result_location_region_and_rule_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "policy.json").write_text(json.dumps(STAR_POLICY, indent=2))
    monkeypatch.chdir(tmp_path)
    log = sarif(["keys"], select="KMS003")
    run = log["runs"][0]
    [result] = run["results"]
    assert result["ruleId"] == "KMS003"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "KMS003"
    assert result["level"] == "error"
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "keys/policy.json"
    assert loc["region"] == {"startLine": 4, "startColumn": 5, "endLine": 12, "endColumn": 6}
    assert "Everyone" in result["message"]["text"]


def test_fingerprints_survive_lines_moving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("main.tf").write_text(TERRAFORM)
    before = sarif(["main.tf"], select="KMS003")["runs"][0]["results"]
    moved = "# a comment\n\n" + TERRAFORM.replace("  enable_key_rotation", "\n  enable_key_rotation")
    Path("main.tf").write_text(moved)
    after = sarif(["main.tf"], select="KMS003")["runs"][0]["results"]
    assert [r["ruleId"] for r in before] == [r["ruleId"] for r in after] == ["KMS003"]
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in (before[0], after[0])]
    assert lines[0] != lines[1]
    assert before[0]["partialFingerprints"] == after[0]["partialFingerprints"]
    # ... and differ when what is wrong differs.
    Path("main.tf").write_text(TERRAFORM.replace("kms:Decrypt", "kms:Encrypt"))
    changed = sarif(["main.tf"], select="KMS003")["runs"][0]["results"]
    assert changed[0]["partialFingerprints"] != before[0]["partialFingerprints"]


def test_duplicate_fingerprints_get_an_occurrence_suffix(tmp_path: Path) -> None:
    report = api.lint([str(tmp_path)])
    base = api.lint([str(FIXTURES / "KMS003" / "fail_policy_bare_star")]).findings[0]
    report.findings = [base, base]
    log = json.loads(get("sarif")(report, RenderContext(__version__)))
    keys = [r["partialFingerprints"][FINGERPRINT_KEY] for r in log["runs"][0]["results"]]
    assert keys == [fingerprint(base), fingerprint(base) + ":2"]


def test_suppressed_findings_only_with_show_suppressed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("main.tf").write_text(TERRAFORM)
    hidden = sarif(["main.tf"], select="KMS003,KMS004")["runs"][0]["results"]
    assert [r["ruleId"] for r in hidden] == ["KMS003"]
    assert all("suppressions" not in r for r in hidden)
    shown = sarif(["main.tf"], show_suppressed=True, select="KMS003,KMS004")
    validate(shown)
    results = shown["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["KMS004", "KMS003"]
    assert results[0]["suppressions"] == [
        {"kind": "inSource", "justification": "replicated for the orders global table in another repository"}
    ]
    assert "suppressions" not in results[1]


def test_parse_errors_are_results_and_notifications(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("broken.json").write_text('{"Version": "2012-10-17", "Statement": [{"Action": "kms:Decrypt"},],}')
    log = sarif(["broken.json"])
    validate(log)
    run = log["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["KMS000"]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.json"


def test_severity_override_is_what_the_rule_descriptor_says(tmp_path: Path) -> None:
    from kmslint.model import Severity

    (tmp_path / "policy.json").write_text(json.dumps(STAR_POLICY))
    log = sarif([str(tmp_path)], Settings(select=frozenset({"KMS003"}), severity={"KMS003": Severity.LOW}))
    [desc] = [r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "KMS003"]
    assert desc["properties"]["security-severity"] == SECURITY_SEVERITY[Severity.LOW]
    assert log["runs"][0]["results"][0]["level"] == "note"


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("infra/main.tf", "infra/main.tf"),
        ("infra dir/main.tf", "infra%20dir/main.tf"),
        ("infra\\main.tf", "infra/main.tf"),
        ("/abs/main.tf", "file:///abs/main.tf"),
        ("C:\\src\\main.tf", "file:///C:/src/main.tf"),
    ],
)
def test_artifact_uri(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri


def test_baselined_findings_are_external_suppressions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("policy.json").write_text(json.dumps(STAR_POLICY))
    written = subprocess.run(
        [sys.executable, "-m", "kmslint", "--write-baseline", "baseline.json", "policy.json"],
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert written.returncode == 0, written.stderr.decode()
    assert Path("baseline.json").is_file()
    proc = subprocess.run(
        [sys.executable, "-m", "kmslint", "--format", "sarif", "--show-suppressed", "--baseline", "baseline.json", "."],
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr.decode()
    log = json.loads(proc.stdout)
    validate(log)
    results = log["runs"][0]["results"]
    assert "KMS003" in {r["ruleId"] for r in results}
    for result in results:
        assert result["suppressions"] == [{"kind": "external", "justification": "in the baseline (baseline.json)"}]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [(SUPPRESSED_IN_SOURCE, "inSource"), (SUPPRESSED_BY_CONFIG, "inSource"), (SUPPRESSED_BY_BASELINE, "external")],
)
def test_the_suppression_kind_comes_from_the_finding_not_its_reason(kind: str, expected: str) -> None:
    """A reason a user wrote may read like the baseline's ("in the baseline (...)"): the kind decides."""
    f = Finding("main.tf", 1, 1, "KMS003", "", "m", 1, 2, "wildcard-principal", Severity.CRITICAL, True)
    f = replace(f, suppression_reason="in the baseline (see ADR 7)", suppression_kind=kind)
    assert suppression_kind(f) == expected
