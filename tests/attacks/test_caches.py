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

# Each case runs the console script, most several times: the default local run leaves them to .ci/run.
pytestmark = pytest.mark.slow

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


# --------------------------------------------------------------------------- the findings cache: entries are validated

VAR_KEY = """\
variable "principal" {
  default = "arn:aws:iam::111122223333:root"
}

resource "aws_kms_key" "k" {
  description         = "k"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Admin"
      Effect    = "Allow"
      Principal = { AWS = var.principal }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}
"""
ROOT_ONLY = [("KMS001", "main.tf", 10, 18, "aws_kms_key.k")]
OPENED = [("KMS003", "main.tf", 10, 18, "aws_kms_key.k"), ("KMS005", "main.tf", 10, 18, "aws_kms_key.k")]

OPEN_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}],
    }
)
ADMIN_POLICY = json.dumps(
    {
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
)


def cached(cwd: Path, cache: str = ".kmslint-cache", *paths: str) -> subprocess.CompletedProcess[str]:
    return kmslint(cwd, "--format", "json", "--cache-dir", cache, *(paths or (".",)), timeout=60)


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*.json") if p.is_file() and not p.is_symlink())


OUTSIDE = "../cache"  # beside the scanned tree, so that the walk does not lint the entries themselves


@pytest.fixture
def wildcard(tmp_path: Path) -> Path:
    """A scanned tree whose one unit has a wildcard-principal finding, its cache (../cache) warm."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text(WILDCARD_KEY)
    first = cached(work, OUTSIDE)
    assert findings(first) == WILDCARD_FINDINGS
    assert len(entries(tmp_path / "cache")) == 1
    return work


def _forge(entry: dict, how: str) -> dict:
    """One way of tampering with a stored entry; each also drops the KMS005 finding, so a hit would hide it."""
    result = entry["result"]
    row = result["findings"][0]
    result["findings"] = [row]
    if how == "no-findings-wrong-format":
        return {**entry, "format": 1, "result": {**result, "findings": []}}
    if how == "extra-top-level-key":
        return {**entry, "trusted": True}
    if how == "pins-not-hashes":
        return {**entry, "pins": [["/", "x", "not a hash"]]}
    if how == "deps-hide-another-file":
        result["deps"] = ["policy.json"]
    elif how == "note-with-terminal-escapes":
        result["notes"] = ["\x1b[31mfake error\x1b[0m"]
    elif how == "negative-count":
        result["files"] = -1
    else:
        index, value = ROW_FORGERIES[how]
        if index is None:
            row.append(value)
        else:
            row[index] = value
    return entry


# (index in the stored finding row, or None to append; the forged value)
ROW_FORGERIES: dict[str, tuple[int | None, object]] = {
    "unknown-rule": (3, "KMS999"),
    "slug-of-another-rule": (8, "default-key-policy"),
    "unknown-severity": (9, 99),
    "line-zero": (1, 0),
    "negative-column": (2, -4),
    "line-as-text": (1, "6"),
    "line-as-bool": (1, True),
    "huge-integer": (1, 10**40),
    "message-not-text": (5, {"$": "x"}),
    "file-of-another-unit": (0, "elsewhere/main.tf"),
    "message-with-terminal-escapes": (5, "fine\x1b[2K\x1b]0;owned\x07"),
    "resource-with-a-line-break": (4, "aws_kms_key.open\n::error::forged"),
    "extra-field": (None, "x"),
}


FORGERIES = [
    "no-findings-wrong-format",
    "extra-top-level-key",
    "pins-not-hashes",
    "deps-hide-another-file",
    "note-with-terminal-escapes",
    "negative-count",
    *ROW_FORGERIES,
]


@pytest.mark.parametrize("how", FORGERIES)
def test_a_tampered_cache_entry_is_a_miss(wildcard: Path, how: str) -> None:
    """An entry with any field of the wrong type or range (rule, severity, line, file, control characters) is a miss."""
    (entry_path,) = entries(wildcard.parent / "cache")
    entry = json.loads(entry_path.read_text())
    entry_path.write_text(json.dumps(_forge(entry, how)))
    again = cached(wildcard, OUTSIDE)
    assert findings(again) == WILDCARD_FINDINGS
    assert again.returncode == 1


def test_an_entry_stored_under_another_key_is_a_miss(wildcard: Path) -> None:
    """An entry copied under another unit's name (its key field disagrees) is never used."""
    (entry_path,) = entries(wildcard.parent / "cache")
    benign = wildcard / "benign"
    benign.mkdir()
    (benign / "main.tf").write_text(WILDCARD_KEY.replace('Principal = "*"', 'Principal = { AWS = "111122223333" }'))
    cached(wildcard, OUTSIDE, "benign")
    clean = [p for p in entries(wildcard.parent / "cache") if p != entry_path]
    assert len(clean) == 1
    entry_path.write_bytes(clean[0].read_bytes())  # the clean result, under the wildcard unit's name
    again = cached(wildcard, OUTSIDE)
    assert [f for f in findings(again) if f[1] == "main.tf"] == WILDCARD_FINDINGS
    assert again.returncode == 1


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "oversized", "deep-nesting"])
def test_a_cache_entry_that_is_not_a_small_regular_file_is_a_miss(wildcard: Path, kind: str) -> None:
    """An entry that is a FIFO, a /dev/zero link, a directory, oversized or nested too deep is a miss, never a hang."""
    from kmslint.cache import MAX_ENTRY_BYTES

    (entry_path,) = entries(wildcard.parent / "cache")
    entry_path.unlink()
    if kind == "fifo":
        os.mkfifo(entry_path)
    elif kind == "dev-zero":
        entry_path.symlink_to("/dev/zero")
    elif kind == "directory":
        entry_path.mkdir()
    elif kind == "oversized":
        with open(entry_path, "wb") as fh:
            fh.truncate(MAX_ENTRY_BYTES + 1)
    else:
        entry_path.write_text("[" * 200_000 + "]" * 200_000)
    again = cached(wildcard, OUTSIDE)
    assert findings(again) == WILDCARD_FINDINGS
    assert again.returncode == 1


# --------------------------------------------------------------------------- the findings cache: never through a link


def test_a_planted_subdirectory_link_is_never_written_through(tmp_path: Path) -> None:
    """With the cache in the repository, `.kmslint-cache/ab -> elsewhere` (any prefix) is neither written nor read."""
    work = tmp_path / "work"
    (work / ".kmslint-cache").mkdir(parents=True)
    (work / "main.tf").write_text(WILDCARD_KEY)
    victim = tmp_path / "victim"
    victim.mkdir()
    for i in range(256):
        (work / ".kmslint-cache" / f"{i:02x}").symlink_to(victim)
    # A result that would hide the finding, waiting in the directory the links point to.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "main.tf").write_text(WILDCARD_KEY)
    cached(fresh)
    (entry_path,) = entries(fresh / ".kmslint-cache")
    entry = json.loads(entry_path.read_text())
    entry["result"]["findings"] = []
    (victim / entry_path.name).write_text(json.dumps(entry))
    before = tree_of(victim)
    for _ in range(2):
        proc = cached(work)
        assert findings(proc) == WILDCARD_FINDINGS
        assert proc.returncode == 1
    assert tree_of(victim) == before


@pytest.mark.parametrize("layout", ["cache-dir-is-a-link", "parent-is-a-link"])
def test_a_cache_directory_planted_as_a_link_in_the_tree_is_refused(tmp_path: Path, layout: str) -> None:
    """A cache directory given inside the scanned tree that is (or lies under) a committed link is not used at all."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text(WILDCARD_KEY)
    victim = tmp_path / "victim"
    victim.mkdir()
    if layout == "cache-dir-is-a-link":
        (work / ".kmslint-cache").symlink_to(victim)
        given = ".kmslint-cache"
    else:
        (work / "build").symlink_to(victim)
        given = "build/kmslint-cache"
    proc = cached(work, given)
    assert findings(proc) == WILDCARD_FINDINGS
    assert proc.returncode == 1
    assert "the findings cache (--cache-dir) is not used" in proc.stderr
    assert tree_of(victim) == []


def test_a_planted_entry_link_is_replaced_not_followed(wildcard: Path, tmp_path: Path) -> None:
    """An entry name planted as a link to another file is replaced by the new entry; that file is unchanged."""
    (entry_path,) = entries(wildcard.parent / "cache")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    entry_path.unlink()
    entry_path.symlink_to(victim)
    proc = cached(wildcard, OUTSIDE)
    assert findings(proc) == WILDCARD_FINDINGS
    assert victim.read_text() == "precious\n"
    assert not entry_path.is_symlink()
    assert json.loads(entry_path.read_text())["key"] == entry_path.stem


def test_a_cache_directory_everyone_may_write_is_refused(tmp_path: Path, project: Path) -> None:
    """A cache directory writable by every user (anyone could plant entries) is not used."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    proc = cached(project, str(shared), "main.tf")
    assert findings(proc) == WILDCARD_FINDINGS
    assert "the findings cache (--cache-dir) is not used: everyone may write it" in proc.stderr
    assert tree_of(shared) == []


# --------------------------------------------------------------------------- the findings cache: never stale


def test_a_new_or_changed_tfvars_file_invalidates_the_entry(tmp_path: Path) -> None:
    """Adding, changing or removing terraform.tfvars or *.auto.tfvars beside a cached unit is a miss."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text(VAR_KEY)
    assert findings(cached(work)) == ROOT_ONLY
    (work / "terraform.tfvars").write_text('principal = "*"\n')
    assert findings(cached(work)) == OPENED
    (work / "terraform.tfvars").write_text('principal = "arn:aws:iam::111122223333:root"\n')
    assert findings(cached(work)) == ROOT_ONLY
    (work / "z.auto.tfvars").write_text('principal = "*"\n')
    assert findings(cached(work)) == OPENED
    (work / "z.auto.tfvars").unlink()
    (work / "z.auto.tfvars.json").write_text('{"principal": "*"}')
    assert findings(cached(work)) == OPENED
    (work / "z.auto.tfvars.json").unlink()
    assert findings(cached(work)) == ROOT_ONLY


FILE_KEY = """\
resource "aws_kms_key" "f" {
  description         = "f"
  enable_key_rotation = true
  policy              = %s
}
"""
FILED = [("KMS003", "policy.json", 1, 41, "aws_kms_key.f"), ("KMS005", "policy.json", 1, 41, "aws_kms_key.f")]


@pytest.mark.parametrize(
    "call",
    [
        'file("${path.module}/policy.json")',
        'file ("${path.module}/policy.json")',
        'file(\n    "policy.json"\n  )',
        'templatefile ("${path.module}/policy.json", {})',
        'core::file("policy.json")',
    ],
    ids=["file", "file-space", "file-newline", "templatefile-space", "core-namespace"],
)
def test_a_file_read_by_a_cached_unit_is_pinned_present_or_absent(tmp_path: Path, call: str) -> None:
    """A file that file()/templatefile() read, or tried to read while it was absent, is rechecked on every hit."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text(FILE_KEY % call)
    assert findings(cached(work)) == []  # policy.json does not exist yet: an unknown policy
    assert findings(cached(work)) == []
    (work / "policy.json").write_text(OPEN_POLICY)
    assert findings(cached(work)) == FILED
    (work / "policy.json").write_text(ADMIN_POLICY)
    assert findings(cached(work)) == []
    (work / "policy.json").write_text(OPEN_POLICY)
    assert findings(cached(work)) == FILED
    (work / "policy.json").unlink()
    assert findings(cached(work)) == []


def test_a_retargeted_link_read_by_a_cached_unit_is_pinned(tmp_path: Path) -> None:
    """A link that a cached unit reads through file(), retargeted to other content, is rechecked.

    (A template cannot read another through templatefile(): Terraform forbids the call there.)
    """
    work = tmp_path / "work"
    (work / "t").mkdir(parents=True)
    (work / "main.tf").write_text(FILE_KEY % 'file("${path.module}/t/inner.tpl")')
    (work / "t" / "admin.json").write_text(ADMIN_POLICY)
    (work / "t" / "open.json").write_text(OPEN_POLICY)
    (work / "t" / "inner.tpl").symlink_to("admin.json")
    first = findings(cached(work))
    assert findings(cached(work)) == first
    (work / "t" / "inner.tpl").unlink()
    (work / "t" / "inner.tpl").symlink_to("open.json")
    assert findings(cached(work)) == findings(kmslint(work, "--format", "json", "."))
    assert findings(cached(work)) != first


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_a_pinned_fifo_never_hangs_the_cache_check(tmp_path: Path, where: str) -> None:
    """A path file() tried, made a FIFO after caching (in or out of the tree), neither hangs the check nor is read."""
    work = tmp_path / "work"
    work.mkdir()
    target = work / "policy.json" if where == "inside" else tmp_path / "outside.json"
    (work / "main.tf").write_text(FILE_KEY % f'file("{target}")')
    assert findings(cached(work)) == []
    os.mkfifo(target)
    proc = cached(work)
    assert findings(proc) == []
    assert proc.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_cache_directory_of_another_user_is_refused(tmp_path: Path, project: Path) -> None:
    """A cache directory owned by another user (who could plant entries) is not used."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, 12345, 12345)
    proc = cached(project, str(theirs), "main.tf")
    assert findings(proc) == WILDCARD_FINDINGS
    assert "the findings cache (--cache-dir) is not used: it belongs to another user" in proc.stderr
    assert tree_of(theirs) == []
