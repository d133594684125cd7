"""``kmslint --stdin-filename PATH -``: what editors run on an unsaved buffer.

The buffer replaces the file at PATH; the rest of a Terraform file's
directory is read from disk for context; findings are reported for PATH
only, under the path as given.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, ROOT

KEY_WITHOUT_ROTATION = """\
resource "aws_kms_key" "orders" {
  description = "orders table"
}
"""

KEY_WITH_ROTATION = """\
resource "aws_kms_key" "orders" {
  description         = "orders table"
  enable_key_rotation = true
}
"""

POLICY_TF = """\
data "aws_caller_identity" "current" {}

resource "aws_kms_key_policy" "orders" {
  key_id = aws_kms_key.orders.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "KeyAdministrators"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/KeyAdmin" }
      Action    = ["kms:PutKeyPolicy", "kms:Describe*"]
      Resource  = "*"
    }]
  })
}
"""

WILDCARD_POLICY_TF = POLICY_TF.replace(
    '{ AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/KeyAdmin" }', '"*"'
)


def lint_stdin(cwd: Path, name: str | None, text: str, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    args = [sys.executable, "-m", "kmslint", "--format", "json", *extra]
    if name is not None:
        args += ["--stdin-filename", name]
    args.append("-")
    proc = subprocess.run(args, cwd=cwd, input=text.encode(), capture_output=True, timeout=60, check=False)
    doc = json.loads(proc.stdout) if proc.stdout.strip() else {"findings": []}
    return proc.returncode, doc["findings"], proc.stderr.decode()


def rows(findings: list[dict[str, Any]]) -> list[tuple[str, str, int, str | None]]:
    return [(f["rule_id"], f["file"], f["line"], f["resource"]) for f in findings]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text(KEY_WITH_ROTATION)  # the saved file: fine
    (infra / "policy.tf").write_text(POLICY_TF)
    return tmp_path


def test_buffer_replaces_the_file_and_the_directory_gives_context(project: Path) -> None:
    code, findings, _ = lint_stdin(project, "infra/main.tf", KEY_WITHOUT_ROTATION)
    assert code == 1
    # KMS002 from the unsaved buffer; no KMS001, because policy.tf on disk attaches a policy.
    assert rows(findings) == [("KMS002", "infra/main.tf", 1, "aws_kms_key.orders")]


def test_the_saved_file_is_not_what_is_linted(project: Path) -> None:
    (project / "infra" / "main.tf").write_text(KEY_WITHOUT_ROTATION)  # the disk has the problem...
    code, findings, _ = lint_stdin(project, "infra/main.tf", KEY_WITH_ROTATION)  # ...the buffer does not
    assert (code, findings) == (0, [])


def test_without_the_directory_the_key_has_no_policy(tmp_path: Path) -> None:
    code, findings, _ = lint_stdin(tmp_path, "new/main.tf", KEY_WITHOUT_ROTATION)  # new/ does not exist
    assert code == 1
    assert rows(findings) == [
        ("KMS001", "new/main.tf", 1, "aws_kms_key.orders"),
        ("KMS002", "new/main.tf", 1, "aws_kms_key.orders"),
    ]


def test_only_the_buffers_findings_are_reported(project: Path) -> None:
    (project / "infra" / "policy.tf").write_text(WILDCARD_POLICY_TF)
    code, findings, _ = lint_stdin(project, "infra/main.tf", KEY_WITH_ROTATION)
    assert (code, findings) == (0, [])  # the wildcard is in policy.tf, not in this buffer
    # Editing policy.tf instead: its finding is reported on the key declared in main.tf.
    code, findings, _ = lint_stdin(project, "infra/policy.tf", WILDCARD_POLICY_TF)
    assert code == 1
    assert [(r, f, res) for r, f, _line, res in rows(findings)] == [
        ("KMS003", "infra/policy.tf", "aws_kms_key_policy.orders")
    ]


@pytest.mark.parametrize("given", ["infra/main.tf", "./infra/main.tf", "infra/../infra/main.tf"])
def test_paths_are_reported_as_given(project: Path, given: str) -> None:
    _, findings, _ = lint_stdin(project, given, KEY_WITHOUT_ROTATION)
    assert [f["file"] for f in findings] == [given]


def test_absolute_path(project: Path) -> None:
    given = str(project / "infra" / "main.tf")
    _, findings, _ = lint_stdin(ROOT, given, KEY_WITHOUT_ROTATION)
    assert rows(findings) == [("KMS002", given, 1, "aws_kms_key.orders")]


def test_cloudformation_and_policy_buffers(tmp_path: Path) -> None:
    template = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: false\n"
    code, findings, _ = lint_stdin(tmp_path, "stacks/kms.yaml", template)
    assert code == 1
    assert ("KMS002", "stacks/kms.yaml", 5, "Key") in rows(findings)

    policy = (FIXTURES / "KMS003" / "fail_policy_bare_star" / "policy.json").read_text()
    code, findings, _ = lint_stdin(tmp_path, "keys/policy.json", policy)
    assert rows(findings) == [("KMS003", "keys/policy.json", 4, None)]
    # Without a name, stdin is a JSON file called stdin.json.
    code, findings, _ = lint_stdin(tmp_path, None, policy)
    assert rows(findings) == [("KMS003", "stdin.json", 4, None)]


def test_text_format_and_exit_codes(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kmslint", "--stdin-filename", "infra/main.tf", "-"],
        cwd=project,
        input=KEY_WITHOUT_ROTATION.encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout.decode().startswith("infra/main.tf:1:1: KMS002 [high] ")


def test_unparsable_buffer_is_kms000(project: Path) -> None:
    code, findings, _ = lint_stdin(project, "infra/main.tf", 'resource "aws_kms_key" "x" {\n  description = \n')
    assert code == 2
    assert [f["rule_id"] for f in findings] == ["KMS000"]
    assert findings[0]["file"] == "infra/main.tf"
