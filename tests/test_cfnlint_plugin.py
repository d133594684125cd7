"""kmslint's CloudFormation checks inside cfn-lint, run with the real ``cfn-lint --append-rules``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kmslint import api
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: two keys
Resources:
  SharedKey:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: KeyAdministrators
            Effect: Allow
            Principal:
              AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/KeyAdmin"
            Action: ["kms:PutKeyPolicy", "kms:Describe*"]
            Resource: "*"
          - Sid: Everyone
            Effect: Allow
            Principal: "*"
            Action: kms:Decrypt
            Resource: "*"
  LogsKey:
    Type: AWS::KMS::Key
    Properties:
      MultiRegion: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: KeyAdministrators
            Effect: Allow
            Principal:
              AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/KeyAdmin"
            Action: ["kms:PutKeyPolicy", "kms:Describe*"]
            Resource: "*"
"""

CLEAN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: KeyAdministrators
            Effect: Allow
            Principal:
              AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/KeyAdmin"
            Action: ["kms:PutKeyPolicy", "kms:Describe*"]
            Resource: "*"
"""


def cfn_lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "cfn-lint"
    assert exe.exists(), "cfn-lint is a test dependency (pip install -e '.[test]')"
    return subprocess.run(
        [str(exe), "--format", "parseable", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def parse(out: str) -> list[tuple[str, int, int, str, str]]:
    rows = []
    for line in out.splitlines():
        file, line_no, col, _end_line, _end_col, rule, message = line.split(":", 6)
        rows.append((file, int(line_no), int(col), rule, message))
    return rows


def kmslint_rows(path: Path) -> list[tuple[int, int, str]]:
    return [(f.line, f.column, f.rule_id) for f in api.lint([str(path)]).findings]


@pytest.mark.parametrize("how", ["module", "directory"])
def test_cfn_lint_reports_kmslint_findings_at_kmslint_lines(tmp_path: Path, how: str) -> None:
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    target = "kmslint.cfnlint_plugin" if how == "module" else str(ROOT / "kmslint" / "cfnlint_plugin")
    proc = cfn_lint(tmp_path, "--append-rules", target, "--", "stack.yaml")
    rows = parse(proc.stdout)
    ours = [(line, col, rule) for _file, line, col, rule, _msg in rows if rule[1:2] == "9"]
    assert ours == [(17, 13, "E9003"), (22, 3, "E9002"), (25, 7, "W9004")], proc.stdout + proc.stderr
    # The same places kmslint itself reports.
    assert [(line, col, rule) for line, col, rule in kmslint_rows(tmp_path / "stack.yaml")] == [
        (17, 13, "KMS003"),
        (22, 3, "KMS002"),
        (25, 7, "KMS004"),
    ]
    messages = {rule: msg for _f, _l, _c, rule, msg in rows}
    assert messages["E9003"].startswith("KMS003 wildcard-principal: statement `Everyone`")
    assert messages["E9003"].endswith("(SharedKey)")
    assert [r for r in rows if r[3][1:2] != "9"] == [], "the template is otherwise valid CloudFormation"
    assert proc.returncode != 0


def test_cfn_lint_ignores_and_clean_templates(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    (tmp_path / "clean.yaml").write_text(CLEAN)
    proc = cfn_lint(
        tmp_path, "--append-rules", "kmslint.cfnlint_plugin", "--ignore-checks", "E9003", "W9004", "--", "stack.yaml"
    )
    assert [r[3] for r in parse(proc.stdout)] == ["E9002"], proc.stdout + proc.stderr
    proc = cfn_lint(tmp_path, "--append-rules", "kmslint.cfnlint_plugin", "--", "clean.yaml")
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr


def test_kmslint_suppressions_and_config_apply_inside_cfn_lint(tmp_path: Path) -> None:
    suppressed = TEMPLATE.replace(
        "  LogsKey:\n    Type: AWS::KMS::Key\n",
        "  LogsKey:\n    Type: AWS::KMS::Key\n    Metadata:\n      kmslint:\n        ignore:\n"
        "          - {id: KMS004, reason: replicated for the logs archive in us-west-2}\n",
    )
    (tmp_path / "stack.yaml").write_text(suppressed)
    (tmp_path / ".kmslint.toml").write_text('ignore = ["KMS002"]\n')
    (tmp_path / ".git").mkdir()  # the repository root: configuration lookup stops here
    proc = cfn_lint(tmp_path, "--append-rules", "kmslint.cfnlint_plugin", "--", "stack.yaml")
    assert [r[3] for r in parse(proc.stdout)] == ["E9003"], proc.stdout + proc.stderr


def test_rule_ids_and_docs() -> None:
    from kmslint.cfnlint_plugin import kmslint_rules

    classes = {cls.id: cls for cls in kmslint_rules.RULE_CLASSES.values()}
    assert classes["E9003"].kmslint_id == "KMS003"
    assert classes["W9004"].kmslint_id == "KMS004"
    assert classes["E9003"].source_url.endswith("/docs/rules.md#kms003-wildcard-principal")
    assert "E9000" not in classes and "KMS000" not in {c.kmslint_id for c in classes.values()}
    for rule_id, cls in classes.items():
        assert rule_id[0] in "EWI" and rule_id[1] == "9" and len(rule_id) == 5
        assert cls.shortdesc and cls.description
