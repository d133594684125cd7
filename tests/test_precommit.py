"""The pre-commit hook, run for real: ``pre-commit try-repo`` on this checkout in a temporary repository.

``try-repo`` builds the hook's environment the way users get it (a virtual
environment with this repository installed by pip) and runs it on the
staged files.  The hook is tried at this checkout's HEAD commit, so what is
tested is what is committed (in CI, a clean clone, that is the whole tree).

The case is the one pre-commit makes hard: only ``infra/main.tf`` changes,
and its key's policy is attached in ``infra/policy.tf`` (an
``aws_kms_key_policy``), which does not.  The hook
must judge the key with that policy (no KMS001 "no key policy"), report the
missing rotation (KMS002), and pass once rotation is enabled.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kmslint import api
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

POLICY_TF = """\
data "aws_caller_identity" "current" {}

resource "aws_kms_key_policy" "orders" {
  key_id = aws_kms_key.orders.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "KeyAdministrators"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/KeyAdmin" }
        Action    = ["kms:PutKeyPolicy", "kms:Describe*", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion"]
        Resource  = "*"
      },
      {
        Sid       = "OrdersService"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/orders" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
      }
    ]
  })
}
"""

MAIN_TF = """\
resource "aws_kms_key" "orders" {
  description = "orders table"
}
"""

FIXED_MAIN_TF = """\
resource "aws_kms_key" "orders" {
  description         = "orders table"
  enable_key_rotation = true
}
"""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "kmslint test",
    "GIT_AUTHOR_EMAIL": "test@kmslint.invalid",
    "GIT_COMMITTER_NAME": "kmslint test",
    "GIT_COMMITTER_EMAIL": "test@kmslint.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(cwd.parent)}
    proc = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return proc.stdout.strip()


def pre_commit_exe() -> str:
    local = Path(sys.executable).parent / "pre-commit"
    found = str(local) if local.exists() else shutil.which("pre-commit")
    assert found, "pre-commit is a test dependency (pip install -e '.[test]')"
    return found


def try_repo(repo: Path, rev: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_COLOR": "never"}
    env.pop("PRE_COMMIT_HOME", None)
    return subprocess.run(
        [pre_commit_exe(), "try-repo", str(ROOT), "kmslint", "--ref", rev, "--verbose"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_hook_manifest() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "kmslint"
    assert hook["language"] == "python"
    assert hook["entry"] == "kmslint"
    assert hook["pass_filenames"] is True
    assert hook["require_serial"] is True
    import re

    pattern = re.compile(hook["files"])
    for name in ("main.tf", "a/b.tf.json", "policy.json", "t.yaml", "t.yml", "stack.template"):
        assert pattern.search(name), name
    for name in ("README.md", "main.py", "terraform.tfvars", "x.tf.bak"):
        assert not pattern.search(name), name
    # pre-commit passes a file that `files` matches and `exclude` does not.
    exclude = re.compile(hook["exclude"])
    for name in (".pre-commit-config.yaml", "sub/.pre-commit-hooks.yaml"):
        assert pattern.search(name) and exclude.search(name), name
    for name in ("main.tf", "pre-commit-config.yaml", "stacks/x.pre-commit-config.yaml.tf"):
        assert not exclude.search(name), name


def test_directory_context_without_pre_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: main.tf alone has no policy (KMS001); with its directory it has one."""
    alone = tmp_path / "alone"
    both = tmp_path / "both"
    alone.mkdir()
    both.mkdir()
    (alone / "main.tf").write_text(MAIN_TF)
    (both / "main.tf").write_text(MAIN_TF)
    (both / "policy.tf").write_text(POLICY_TF)
    monkeypatch.chdir(tmp_path)
    assert {f.rule_id for f in api.lint(["alone/main.tf"]).findings} == {"KMS001", "KMS002"}
    assert [(f.rule_id, f.file, f.line) for f in api.lint(["both/main.tf"]).findings] == [("KMS002", "both/main.tf", 1)]


def test_try_repo_fails_on_the_finding_and_passes_after_the_fix(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("this checkout is not a git repository, so pre-commit cannot try it")
    rev = git("rev-parse", "HEAD", cwd=ROOT)
    committed = subprocess.run(
        ["git", "cat-file", "-e", f"{rev}:.pre-commit-hooks.yaml"], cwd=ROOT, capture_output=True, check=False
    )
    if committed.returncode != 0:
        pytest.fail(".pre-commit-hooks.yaml is not committed; try-repo tests the committed HEAD")

    repo = tmp_path / "project"
    (repo / "infra").mkdir(parents=True)
    git("init", "-q", cwd=repo)
    (repo / "infra" / "policy.tf").write_text(POLICY_TF)
    (repo / "infra" / "main.tf").write_text("# the orders key comes next\n")
    (repo / "README.md").write_text("infrastructure\n")
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "initial", cwd=repo)

    # Only main.tf changes; its policy is in the unchanged policy.tf.
    (repo / "infra" / "main.tf").write_text(MAIN_TF)
    git("add", "infra/main.tf", cwd=repo)
    failed = try_repo(repo, rev)
    out = failed.stdout + failed.stderr
    assert failed.returncode == 1, out
    assert "infra/main.tf:1:1: KMS002" in out, out
    assert "KMS001" not in out, out  # the policy in policy.tf was found
    assert "policy.tf" not in out.split("Using config:")[-1].split("=" * 79)[-1], out  # unchanged: not reported

    (repo / "infra" / "main.tf").write_text(FIXED_MAIN_TF)
    git("add", "infra/main.tf", cwd=repo)
    passed = try_repo(repo, rev)
    out = passed.stdout + passed.stderr
    assert passed.returncode == 0, out
    assert "KMS0" not in out.split("=" * 79)[-1], out


def pre_commit_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_COLOR": "never", "PRE_COMMIT_HOME": str(tmp_path / "store")}
    return env


def test_manifest_and_config_are_valid_for_pre_commit(tmp_path: Path) -> None:
    for command, name in (
        ("validate-manifest", ".pre-commit-hooks.yaml"),
        ("validate-config", ".pre-commit-config.yaml"),
    ):
        proc = subprocess.run(
            [pre_commit_exe(), command, name],
            cwd=ROOT,
            env=pre_commit_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dogfood_kmslint_hook_passes_on_this_repository(tmp_path: Path) -> None:
    """The repository's own kmslint hook (fixtures excluded) passes on every file it selects."""
    if not (ROOT / ".git").exists():
        pytest.skip("this checkout is not a git repository")
    if not (ROOT / ".venv" / "bin" / "kmslint").exists():
        pytest.skip("the hook runs .venv/bin/kmslint, from the README's development setup")
    proc = subprocess.run(
        [pre_commit_exe(), "run", "kmslint", "--all-files", "--verbose"],
        cwd=ROOT,
        env=pre_commit_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "kmslint (this repository, fixtures excluded)" in out
