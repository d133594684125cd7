"""The findings cache (``--cache-dir``): right answers, never stale, safe to delete."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kmslint import api, cache, engine, parallel
from kmslint.settings import Settings

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

FILE_POLICY_KEY = """\
resource "aws_kms_key" "from_file" {
  description         = "policy read with file()"
  enable_key_rotation = true
  policy              = file("${path.module}/policy.json.tpl")
}
"""

SAFE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Admins",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"},
            "Action": ["kms:Describe*", "kms:Put*"],
            "Resource": "*",
        }
    ],
}
OPEN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}],
}

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: "kms:*"
            Resource: "*"
"""


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "open").mkdir(parents=True)
    (root / "open" / "main.tf").write_text(WILDCARD_KEY)
    (root / "filed").mkdir()
    (root / "filed" / "main.tf").write_text(FILE_POLICY_KEY)
    (root / "filed" / "policy.json.tpl").write_text(json.dumps(SAFE_POLICY))
    (root / "stacks").mkdir()
    (root / "stacks" / "key.yaml").write_text(TEMPLATE)
    (root / "stacks" / "broken.json").write_text('{"Statement": [ "kms:*" ')
    monkeypatch.chdir(tmp_path)
    return root


class Counting:
    """Counts the units that were really linted (not served from the cache)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        real = engine.lint_unit

        def spy(unit, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.calls.append(str(unit.path))
            return real(unit, *args, **kwargs)

        monkeypatch.setattr(parallel, "lint_unit", spy)


def snapshot(report: api.Report) -> object:
    return (report.findings, report.errors, report.files, report.resources, report.notes, report.usage_error)


def run(root: Path, cache_dir: Path | None, settings: Settings | None = None) -> api.Report:
    return api.lint(["repo"], settings or Settings(), jobs=1, cache_dir=str(cache_dir) if cache_dir else None)


def test_second_run_is_served_from_the_cache_and_identical(tree: Path, tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "cache"
    first = run(tree, store)
    assert {f.rule_id for f in first.findings} >= {"KMS000", "KMS003"}
    counter = Counting(monkeypatch)
    second = run(tree, store)
    assert counter.calls == [str(Path.cwd() / "repo" / "filed")]  # it reads a file: never cached
    assert snapshot(second) == snapshot(first)
    assert [(f.severity, f.rule, f.content) for f in second.findings] == [
        (f.severity, f.rule, f.content) for f in first.findings
    ]
    assert snapshot(run(tree, None)) == snapshot(first)


def test_off_by_default_writes_nothing(tree: Path, tmp_path: Path) -> None:
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    run(tree, None)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_an_edited_file_is_linted_again_and_only_it(tree: Path, tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "cache"
    run(tree, store)
    rooted = 'Principal = { AWS = "arn:aws:iam::111122223333:root" }'
    (tree / "open" / "main.tf").write_text(WILDCARD_KEY.replace('Principal = "*"', rooted))
    counter = Counting(monkeypatch)
    report = run(tree, store)
    assert counter.calls == [str(Path.cwd() / "repo" / "filed"), str(Path.cwd() / "repo" / "open")]
    assert not [f for f in report.findings if f.rule_id == "KMS003" and f.file.startswith("repo/open")]
    assert snapshot(report) == snapshot(run(tree, None))


def test_a_unit_that_reads_files_is_never_cached(tree: Path, tmp_path: Path, monkeypatch) -> None:
    # filed/ reads policy.json.tpl with file() (not a unit of its own: its name is
    # not linted).  It could as well read a file that does not exist yet, so it is
    # linted every time; the other units come from the cache.
    store = tmp_path / "cache"
    run(tree, store)
    counter = Counting(monkeypatch)
    run(tree, store)
    assert counter.calls == [str(Path.cwd() / "repo" / "filed")]
    (tree / "filed" / "policy.json.tpl").write_text(json.dumps(OPEN_POLICY))
    assert snapshot(run(tree, store)) == snapshot(run(tree, None))
    (tree / "filed" / "policy.json.tpl").unlink()
    assert snapshot(run(tree, store)) == snapshot(run(tree, None))


def test_pinned_dependencies_are_checked_on_every_hit(tmp_path: Path) -> None:
    store = cache.FindingsCache(tmp_path / "c", ["context"])
    unit_file = tmp_path / "main.tf"
    unit_file.write_text("x")
    dep = tmp_path / "dep.json"
    dep.write_text("{}")
    key = store.key([("main.tf", unit_file)], ["extra"], 1000)
    assert key is not None
    store.put(key, {"answer": 1}, [str(dep)], 1000)
    assert store.get(key, 1000) == {"answer": 1}
    dep.write_text('{"changed": true}')
    assert store.get(key, 1000) is None
    dep.unlink()
    assert store.get(key, 1000) is None
    unit_file.write_text('y = file("z")')
    assert store.key([("main.tf", unit_file)], ["extra"], 1000) is None


def test_other_settings_do_not_share_entries(tree: Path, tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "cache"
    run(tree, store)
    counter = Counting(monkeypatch)
    only = Settings(select=frozenset({"KMS002"}))
    report = run(tree, store, only)
    assert len(counter.calls) == 4  # every unit: open/, filed/, key.yaml, broken.json
    assert {f.rule_id for f in report.findings} == {"KMS002"}


def test_damaged_or_deleted_entries_are_misses(tree: Path, tmp_path: Path) -> None:
    store = tmp_path / "cache"
    expected = snapshot(run(tree, store))
    entries = sorted(store.rglob("*.json"))
    assert entries
    entries[0].write_text("{not json")
    entries[1].write_text(json.dumps({"format": cache.FORMAT, "deps": [], "result": {"findings": [[1, 2]]}}))
    entries[2].write_bytes(b"\x00\xff")
    assert snapshot(run(tree, store)) == expected
    shutil.rmtree(store)
    assert snapshot(run(tree, store)) == expected
    assert snapshot(run(tree, store)) == expected


def test_entries_are_json_data_only(tree: Path, tmp_path: Path) -> None:
    store = tmp_path / "cache"
    run(tree, store)
    for entry in store.rglob("*.json"):
        data = json.loads(entry.read_text())
        assert set(data) == {"format", "deps", "result"}


def test_a_stdin_buffer_is_never_cached(tree: Path, tmp_path: Path) -> None:
    store = tmp_path / "cache"
    report = api.lint(
        [], Settings(), stdin_text=WILDCARD_KEY, stdin_filename="repo/open/main.tf", jobs=1, cache_dir=str(store)
    )
    assert [f.rule_id for f in report.findings if f.rule_id == "KMS003"]
    assert not list(store.rglob("*.json"))


def test_settings_fingerprint_does_not_depend_on_set_order() -> None:
    a = Settings(select=frozenset({"KMS001", "KMS002", "KMS003"}), ignore=frozenset({"b", "a"}))
    b = Settings(select=frozenset({"KMS003", "KMS001", "KMS002"}), ignore=frozenset({"a", "b"}))
    assert json.dumps(cache.canonical(a)) == json.dumps(cache.canonical(b))
    assert json.dumps(cache.canonical(a)) != json.dumps(cache.canonical(Settings()))
