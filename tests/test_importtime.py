"""Start-up stays cheap: a plain lint imports nothing heavy it does not need.

Each case runs ``python -X importtime -m kmslint --format json FILE`` in a
fresh process (in an empty directory, so no configuration file is found)
and reads the modules it imported from stderr.  Heavy modules -- cfn-lint,
pydantic, JSON Schema, the language server, checkov's HCL parser, SymPy,
NetworkX, the AWS SDK, requests -- must only be imported on the paths that
need them (a config file, ``--format sarif``, ``kmslint lsp``), never for a
plain Terraform or CloudFormation lint.  With the catalogue cache warm, a
Terraform lint does not even import PyYAML.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

HEAVY = (
    "cfnlint",
    "pydantic",
    "pydantic_core",
    "jsonschema",
    "pygls",
    "lsprotocol",
    "sympy",
    "networkx",
    "hcl2",
    "lark",
    "xml.dom",
    "boto3",
    "botocore",
    "requests",
    "urllib3",
    "checkov",
)

TERRAFORM = """\
data "aws_caller_identity" "current" {}

resource "aws_kms_key" "app" {
  description         = "app"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Root"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}
"""

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: Root
            Effect: Allow
            Principal:
              AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
            Action: "kms:*"
            Resource: "*"
"""

_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$")


def imported(workdir: Path, env: dict[str, str], *args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kmslint", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    names = {m.group(1) for m in map(_LINE.match, proc.stderr.splitlines()) if m}
    assert "kmslint.cli" in names or "kmslint" in names, proc.stderr[-2000:]
    return names


def heavy(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == h or n.startswith(h + ".") for h in HEAVY))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    out["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    out["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return out


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


def test_terraform_lint_imports_nothing_heavy(workdir: Path, env: dict[str, str]) -> None:
    (workdir / "main.tf").write_text(TERRAFORM)
    first = imported(workdir, env, "--format", "json", "main.tf")  # cold catalogue cache
    assert heavy(first) == []
    warm = imported(workdir, env, "--format", "json", "main.tf")
    assert heavy(warm) == []
    assert "yaml" not in warm, "a Terraform lint with a warm catalogue cache should not need PyYAML"
    assert "kmslint.parsers.cloudformation" not in warm


def test_cloudformation_lint_imports_nothing_heavy(workdir: Path, env: dict[str, str]) -> None:
    (workdir / "template.yaml").write_text(TEMPLATE)
    imported(workdir, env, "--format", "json", "template.yaml")
    warm = imported(workdir, env, "--format", "json", "template.yaml")
    assert heavy(warm) == []
    assert "kmslint.parsers.terraform" not in warm
    assert "tree_sitter_hcl" not in warm


def test_policy_and_text_output_import_nothing_heavy(workdir: Path, env: dict[str, str]) -> None:
    policy = ROOT / "fixtures" / "KMS001" / "fail_policy_default_written_out" / "policy.json"
    (workdir / "policy.json").write_bytes(policy.read_bytes())
    imported(workdir, env, "policy.json")
    warm = imported(workdir, env, "policy.json")
    assert heavy(warm) == []
    assert "yaml" not in warm
