"""The built wheel, installed in a clean virtual environment (not editable).

Proves the rule catalogue ships inside the package (``kmslint/_catalog``):
``kmslint explain`` and a real lint must work with no source checkout around.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_wheel_in_a_clean_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = dist.glob("kmslint-*.whl")

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    install = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr

    # Run from an empty directory so nothing of the checkout can be found.
    work = tmp_path / "work"
    work.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    explain = subprocess.run(
        [str(bin_dir / "kmslint"), "explain", "KMS003"],
        cwd=work,
        capture_output=True,
        text=True,
        env=clean_env,
        check=False,
    )
    assert explain.returncode == 0, explain.stderr
    assert explain.stdout.startswith("KMS003 wildcard-principal")
    assert "How to fix" in explain.stdout

    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import kmslint.catalog as c; print(c.catalog_dir())"],
        cwd=work,
        capture_output=True,
        text=True,
        env=clean_env,
        check=False,
    )
    assert where.stdout.strip().endswith("kmslint/_catalog"), where.stdout

    policy = work / "key.json"
    policy.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Any",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": ["kms:Decrypt", "kms:PutKeyPolicy"],
                        "Resource": "*",
                    }
                ],
            }
        )
    )
    lint = subprocess.run(
        [str(bin_dir / "kmslint"), "--format", "json", "key.json"],
        cwd=work,
        capture_output=True,
        text=True,
        env=clean_env,
        check=False,
    )
    assert lint.returncode == 1, lint.stderr
    assert [f["rule_id"] for f in json.loads(lint.stdout)["findings"]] == ["KMS003"]
