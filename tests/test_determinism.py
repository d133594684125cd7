"""The same input gives the same bytes, in every output format.

Whatever the order the files were created in (directory listing order),
the number of worker processes (``--jobs``), the hash seed of the Python
process (set iteration order) or the findings cache: a tree is linted as
two copies made in opposite creation orders, each with different
``--jobs`` and ``PYTHONHASHSEED``, and every format in
``kmslint.formatters.FORMATS`` must come out byte for byte the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kmslint.formatters import FORMATS
from tests.conftest import FIXTURES, ROOT

# Dozens of CLI processes: the default local run leaves them to .ci/run.
pytestmark = pytest.mark.slow

OPEN = {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}


def tree_files() -> dict[str, bytes]:
    """A mixed tree: the fixture projects, fixture inputs, and generated modules with several findings."""
    files: dict[str, bytes] = {}
    for p in sorted(FIXTURES.rglob("*")):
        rel = p.relative_to(FIXTURES)
        if p.is_file() and rel.parts[0] != "golden" and p.name != "expected.yaml":
            files[f"fixtures/{rel.as_posix()}"] = p.read_bytes()
    hcl_open = json.dumps(OPEN).replace('":', '" =')
    for i in range(60):
        files[f"modules/m{i:02d}/main.tf"] = (
            f'resource "aws_kms_key" "k{i}" {{\n  enable_key_rotation = {"true" if i % 3 else "false"}\n'
            f"  multi_region = {'true' if i % 5 == 0 else 'false'}\n"
            f'  policy = jsonencode({{Version = "2012-10-17", Statement = [{hcl_open}]}})\n}}\n'
        ).encode()
        files[f"modules/m{i:02d}/variables.tf"] = b'variable "x" {\n  default = "kms"\n}\n'
        files[f"stacks/s{i:02d}.yaml"] = (
            "AWSTemplateFormatVersion: '2010-09-09'\nConditions:\n  C: !Equals [a, b]\nResources:\n"
            f"  Key{i}:\n    Type: AWS::KMS::Key\n    Properties:\n"
            f"      EnableKeyRotation: !If [C, true, {'false' if i % 2 else 'true'}]\n"
            f"      KeyPolicy:\n        Version: '2012-10-17'\n        Statement:\n          - {json.dumps(OPEN)}\n"
        ).encode()
    files["broken/policy.json"] = b'{"Statement": [{"Principal": "*", "Action": "kms:*",}]}'
    files["broken/main.tf"] = b'resource "aws_kms_key" "k" {\n  policy = jsonencode({\n'
    files["binary/key.json"] = b'{"kms": "\x00"}'
    return files


def write_tree(root: Path, files: dict[str, bytes], reverse: bool) -> None:
    """Create the files (and their directories) in sorted or reverse order."""
    for rel in sorted(files, reverse=reverse):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[rel])


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    files = tree_files()
    a = tmp_path_factory.mktemp("first") / "tree"
    b = tmp_path_factory.mktemp("second") / "tree"
    write_tree(a, files, reverse=False)
    write_tree(b, files, reverse=True)
    assert sorted(p.relative_to(a) for p in a.rglob("*")) == sorted(p.relative_to(b) for p in b.rglob("*"))
    return a, b


def run(tree: Path, fmt: str, *args: str, hashseed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": hashseed, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "kmslint", "--no-config", "--format", fmt, *args, "."],
        cwd=tree,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr.decode()[-2000:]
    assert b"Traceback" not in proc.stderr
    return proc.stdout


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_same_bytes_whatever_the_order_the_jobs_and_the_hash_seed(fmt: str, copies: tuple[Path, Path]) -> None:
    a, b = copies
    first = run(a, fmt, "--jobs", "1", hashseed="1")
    assert first.strip()
    assert run(b, fmt, "--jobs", "2", hashseed="2") == first
    assert run(b, fmt, "--jobs", "1", hashseed="3") == first
    assert run(a, fmt, hashseed="4") == first  # automatic: a pool, for this many units


def test_same_bytes_from_the_cache(copies: tuple[Path, Path], tmp_path: Path) -> None:
    a, _b = copies
    cache = tmp_path / "cache"
    plain = run(a, "json", "--jobs", "1", hashseed="1")
    assert run(a, "json", "--jobs", "2", "--cache-dir", str(cache), hashseed="5") == plain
    assert run(a, "json", "--jobs", "1", "--cache-dir", str(cache), hashseed="6") == plain  # served from it


def test_the_tree_has_findings_of_several_kinds(copies: tuple[Path, Path]) -> None:
    a, _b = copies
    report = json.loads(run(a, "json", hashseed="0"))
    rules = {f["rule_id"] for f in report["findings"]}
    assert {"KMS000", "KMS002", "KMS003"} <= rules, rules
    assert len(report["findings"]) > 150


def test_same_report_whatever_the_listing_order(copies: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Directory listings shuffled (this file system may list in name order whatever the creation order)."""
    import random

    from kmslint import api, discovery, formatters
    from kmslint.settings import Settings

    a, _b = copies
    monkeypatch.chdir(a)

    def render() -> dict[str, str]:
        report = api.lint(["."], Settings(), jobs=1)
        ctx = formatters.RenderContext("0", show_suppressed=False, color=False)
        return {fmt: formatters.get(fmt)(report, ctx) for fmt in sorted(FORMATS)}

    expected = render()
    rng = random.Random(7)
    real_scandir, real_listdir = os.scandir, os.listdir

    class Listing(list[os.DirEntry[str]]):
        """Used as os.scandir's result is: iterated, or in a `with` (as pathlib does from Python 3.13)."""

        def __enter__(self) -> Listing:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    def shuffled_scandir(path: object = ".") -> Listing:
        with real_scandir(path) as it:  # type: ignore[call-overload]
            entries = Listing(it)
        rng.shuffle(entries)
        return entries

    def shuffled_listdir(path: object = ".") -> list[str]:
        names = real_listdir(path)  # type: ignore[call-overload]
        rng.shuffle(names)
        return names

    monkeypatch.setattr(discovery.os, "scandir", shuffled_scandir)
    monkeypatch.setattr(discovery.os, "listdir", shuffled_listdir)
    for _ in range(2):
        assert render() == expected
