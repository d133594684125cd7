"""Attacks on kmslint's caches: a cache is validated, never trusted, and never a way out of the tree.

The rule catalogue is built into the package, so nothing under the user's
home can change which rules run.  The findings cache (``--cache-dir``) is
read from regular files only, within a size cap, validated field by field,
written without following links, and pins every input a result depended on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from kmslint import __version__, catalog

KMSLINT = str(Path(sys.executable).parent / "kmslint")

WILDCARD_KEY = """\
resource "aws_kms_key" "open" {
  description         = "open"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Everyone"
      Effect    = "Allow"
      Principal = "*"
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}
"""

WILDCARD_FINDINGS = [("KMS003", "main.tf", 6, 18, "aws_kms_key.open"), ("KMS005", "main.tf", 6, 18, "aws_kms_key.open")]


def kmslint(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real console script, as CI runs it."""
    proc = subprocess.run(
        [KMSLINT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def findings(proc: subprocess.CompletedProcess[str]) -> list[tuple[str, str, int, int, str]]:
    report = json.loads(proc.stdout)
    return [(f["rule_id"], f["file"], f["line"], f["column"], f["resource"]) for f in report["findings"]]


def home_env(home: Path, xdg: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "HOME")}
    env["HOME"] = str(home)
    if xdg is not None:
        env["XDG_CACHE_HOME"] = str(xdg)
    return env


def tree_of(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text(WILDCARD_KEY)
    return work


# --------------------------------------------------------------------------- the rule catalogue


def _old_catalogue_entry_name() -> str:
    """Where kmslint 0.1 looked for its parsed catalogue (a name anyone can compute from the rule files)."""
    files = sorted(catalog.catalog_dir().glob("KMS*.yaml"))
    blob = f"catalog/1/{__version__}".encode() + b"".join(
        b"\0" + p.stem.encode() + b"\0" + len(p.read_bytes()).to_bytes(8, "big") + p.read_bytes() for p in files
    )
    return f"catalog-{zlib.crc32(blob):08x}{zlib.adler32(blob):08x}{len(blob):x}.json"


def _all_rules_off() -> dict[str, object]:
    docs = {}
    for stem, doc in catalog.raw_documents().items():
        docs[stem] = {**doc, "enabled_by_default": False}
    return docs


@pytest.mark.parametrize("where", ["xdg", "home"])
def test_a_poisoned_catalogue_cache_in_the_home_directory_changes_nothing(
    project: Path, tmp_path: Path, where: str
) -> None:
    """A catalogue planted in ~/.cache/kmslint or $XDG_CACHE_HOME/kmslint cannot turn a rule off."""
    home = tmp_path / "home"
    base = home / ".cache" if where == "home" else tmp_path / "xdg"
    (base / "kmslint").mkdir(parents=True)
    (base / "kmslint" / _old_catalogue_entry_name()).write_text(json.dumps(_all_rules_off()))
    env = home_env(home, base if where == "xdg" else None)
    proc = kmslint(project, "--format", "json", "main.tf", env=env)
    assert findings(proc) == WILDCARD_FINDINGS
    assert proc.returncode == 1


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_a_catalogue_cache_that_is_a_fifo_or_an_endless_file_is_never_opened(
    project: Path, tmp_path: Path, kind: str
) -> None:
    """A FIFO, /dev/zero link or directory where the catalogue cache was neither hangs nor exhausts memory."""
    home = tmp_path / "home"
    (home / ".cache" / "kmslint").mkdir(parents=True)
    entry = home / ".cache" / "kmslint" / _old_catalogue_entry_name()
    if kind == "fifo":
        os.mkfifo(entry)
    elif kind == "dev-zero":
        entry.symlink_to("/dev/zero")
    else:
        entry.mkdir()
    proc = kmslint(project, "--format", "json", "main.tf", env=home_env(home), timeout=30)
    assert findings(proc) == WILDCARD_FINDINGS
    assert proc.returncode == 1


def test_a_lint_writes_nothing_in_the_home_directory(project: Path, tmp_path: Path) -> None:
    """Linting (Terraform, CloudFormation, a policy) creates no file under $HOME or $XDG_CACHE_HOME."""
    home = tmp_path / "home"
    home.mkdir()
    xdg = tmp_path / "xdg"
    xdg.mkdir()
    (project / "policy.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}],
            }
        )
    )
    for env in (home_env(home), home_env(home, xdg)):
        proc = kmslint(project, "--format", "json", ".", env=env)
        assert proc.returncode == 1
        assert tree_of(home) == []
        assert tree_of(xdg) == []
        assert tree_of(project) == ["main.tf", "policy.json"]
