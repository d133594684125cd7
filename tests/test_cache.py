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
    assert counter.calls == []  # every unit, filed/ (which reads a file) included
    assert snapshot(second) == snapshot(first)
    assert [(f.severity, f.slug, f.content) for f in second.findings] == [
        (f.severity, f.slug, f.content) for f in first.findings
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
    assert counter.calls == [str(Path.cwd() / "repo" / "open")]
    assert not [f for f in report.findings if f.rule_id == "KMS003" and f.file.startswith("repo/open")]
    assert snapshot(report) == snapshot(run(tree, None))


def test_a_unit_that_reads_files_is_cached_with_what_it_read(tree: Path, tmp_path: Path, monkeypatch) -> None:
    """A unit that calls file() is cached too, and editing or removing the file it read lints it again."""
    # filed/ reads policy.json.tpl with file() (not a unit of its own: its name is not linted).
    store = tmp_path / "cache"
    run(tree, store)
    counter = Counting(monkeypatch)
    run(tree, store)
    assert counter.calls == []
    filed = str(Path.cwd() / "repo" / "filed")
    (tree / "filed" / "policy.json.tpl").write_text(json.dumps(OPEN_POLICY))
    opened = run(tree, store)
    assert counter.calls == [filed]
    assert [(f.rule_id, f.file, f.line) for f in opened.findings if f.file.startswith("repo/filed")] == [
        ("KMS003", "repo/filed/policy.json.tpl", 1),
        ("KMS005", "repo/filed/policy.json.tpl", 1),
    ]
    assert snapshot(opened) == snapshot(run(tree, None))
    (tree / "filed" / "policy.json.tpl").unlink()
    counter.calls.clear()
    gone = run(tree, store)
    assert counter.calls == [filed]
    assert snapshot(gone) == snapshot(run(tree, None))
    assert [f for f in gone.findings if f.file.startswith("repo/filed")] == []


def test_pinned_reads_are_asked_again_on_every_hit(tmp_path: Path) -> None:
    """Every hit asks each pinned read again; one different answer is a miss."""
    store = cache.FindingsCache(tmp_path / "c", ["context"], tmp_path)
    answers = {"dep.json": "a" * 64}
    key = store.key(["main.tf", "b" * 64])
    store.put(key, {"answer": 1}, [(str(tmp_path), "dep.json", "a" * 64)])
    assert store.get(key, lambda d, p: answers[p]) == {"answer": 1}
    answers["dep.json"] = "c" * 64
    assert store.get(key, lambda d, p: answers[p]) is None
    assert store.key(["main.tf", "d" * 64]) != key
    store.close()


def test_other_settings_do_not_share_entries(tree: Path, tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "cache"
    run(tree, store)
    counter = Counting(monkeypatch)
    only = Settings(select=frozenset({"KMS002"}))
    report = run(tree, store, only)
    assert len(counter.calls) == 4  # every unit: open/, filed/, key.yaml, broken.json
    assert {f.rule_id for f in report.findings} == {"KMS000", "KMS002"}  # broken.json: KMS000 whatever --select says


def test_damaged_or_deleted_entries_are_misses(tree: Path, tmp_path: Path) -> None:
    store = tmp_path / "cache"
    expected = snapshot(run(tree, store))
    entries = sorted(store.rglob("*.json"))
    assert entries
    entries[0].write_text("{not json")
    key = entries[1].stem
    entries[1].write_text(
        json.dumps({"format": cache.FORMAT, "key": key, "pins": [], "result": {"findings": [[1, 2]]}})
    )
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
        assert set(data) == {"format", "key", "pins", "result"}
        assert data["key"] == entry.stem


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


def test_a_cache_inside_the_scanned_tree_is_used(tree: Path, monkeypatch) -> None:
    """The usual layout, `.kmslint-cache` in the repository, serves hits; its own entries are not linted."""
    monkeypatch.chdir(tree)
    first = api.lint(["."], Settings(), jobs=1, cache_dir=".kmslint-cache")
    counter = Counting(monkeypatch)
    second = api.lint(["."], Settings(), jobs=1, cache_dir=".kmslint-cache")
    assert counter.calls == []
    assert second.findings == first.findings
    assert (second.files, second.resources) == (first.files, first.resources) == (4, 3)
    assert len(list((tree / ".kmslint-cache").rglob("*.json"))) == 4  # one per unit, none about the cache


def test_a_cache_outside_the_tree_may_sit_under_the_users_own_links(
    tree: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch
) -> None:
    """Outside the scanned tree, links in the path up to the cache directory are the user's and are followed."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "real").mkdir()
    (elsewhere / "link").symlink_to(elsewhere / "real")
    store = elsewhere / "link" / "deeper" / "cache"
    first = run(tree, store)
    counter = Counting(monkeypatch)
    second = run(tree, store)
    assert counter.calls == []
    assert snapshot(second) == snapshot(first)
    assert sorted(p.name for p in (elsewhere / "real" / "deeper" / "cache").iterdir())
    assert first.notes == []


def test_units_that_tried_too_many_files_are_not_cached(tmp_path: Path, monkeypatch) -> None:
    """A unit whose file() calls exceed cache.MAX_PINS is linted every time (checking its pins would cost more)."""
    monkeypatch.setattr(cache, "MAX_PINS", 2)
    root = tmp_path / "repo"
    root.mkdir()
    calls = ", ".join(f'file("p{i}.json")' for i in range(3))
    (root / "main.tf").write_text(
        FILE_POLICY_KEY.replace('file("${path.module}/policy.json.tpl")', f"concat([{calls}])")
    )
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "cache"
    run(root, store)
    assert list(store.rglob("*.json")) == []
    monkeypatch.setattr(cache, "MAX_PINS", 3)
    run(root, store)
    assert len(list(store.rglob("*.json"))) == 1


def test_the_key_changes_with_kmslint_code_and_its_parsers(tmp_path: Path, monkeypatch) -> None:
    """Editing kmslint's code (a source checkout), upgrading a parser library or Python gives other keys."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "cache.py").write_text("x = 1\n")
    monkeypatch.setattr(cache, "__file__", str(package / "cache.py"))
    before = cache.code_fingerprint()
    assert cache.code_fingerprint() == before
    (package / "rules.py").write_text("y = 2\n")
    after_edit = cache.code_fingerprint()
    assert after_edit != before
    library = tmp_path / "lib"
    (library / "yaml").mkdir(parents=True)
    (library / "yaml" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(library))
    after_upgrade = cache.code_fingerprint()
    assert after_upgrade != after_edit
    monkeypatch.setattr(cache.sys, "version", "9.9.9")
    assert cache.code_fingerprint() != after_upgrade


def test_a_relative_cache_directory_after_the_cwd_is_deleted_is_refused(tmp_path: Path, monkeypatch) -> None:
    """With the current directory deleted, a relative --cache-dir is refused (not a crash); an absolute one works."""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    store = cache.FindingsCache("relative-cache", ["context"], None)
    assert store.refused == "cannot tell where it is: No such file or directory"
    store.close()
    store = cache.FindingsCache(tmp_path / "absolute-cache", ["context"], None)
    assert store.refused is None
    key = store.key(["x"])
    store.put(key, {"answer": 1}, [])
    assert store.get(key, lambda d, p: "") == {"answer": 1}
    store.close()
