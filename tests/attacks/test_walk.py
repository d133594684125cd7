"""Attacks on the walk: .gitignore and the skip list, the scan root, patterns, the file system.

Every input may come from a stranger's pull request.  These tests back the
promises of issue 11 for discovery (``kmslint/discovery.py``,
``kmslint/gitindex.py``, ``kmslint/ignore.py``, ``kmslint/modsources.py``):
what Terraform deploys is linted whatever a ``.gitignore`` or a directory's
name says, ``file()`` and links never read outside the scanned tree
whichever directory kmslint runs from, no pattern can make matching slow,
and nothing the file system holds produces a traceback.

git is used here only to build fixtures (kmslint itself never runs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmslint import api, discovery, gitindex, ignore, modsources
from kmslint.ignore import MAX_PATTERN_CHARS, MAX_PATTERNS, RuleList
from kmslint.settings import Settings

KMSLINT = Path(sys.executable).parent / "kmslint"
GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git builds these fixtures and is not installed")

# A finding's identity in these tests: (rule ID, file, line, resource).
Found = tuple[str, str, int, str]


def key_tf(name: str = "k", sid: str = "Open") -> str:
    """A key whose only defect is a policy open to everyone (KMS003 and KMS005 on line 4)."""
    return (
        f'resource "aws_kms_key" "{name}" {{\n'
        "  enable_key_rotation     = true\n"
        "  deletion_window_in_days = 30\n"
        f'  policy = jsonencode({{ Version = "2012-10-17", Statement = [{{ Sid = "{sid}", Effect = "Allow",'
        ' Principal = "*", Action = "kms:*", Resource = "*" }] })\n'
        "}\n"
    )


def open_key(file: str, name: str = "k", module: str = "") -> list[Found]:
    """The findings of :func:`key_tf` in ``file`` (``module``: the path of the call that creates it)."""
    return [("KMS003", file, 4, f"{module}aws_kms_key.{name}"), ("KMS005", file, 4, f"{module}aws_kms_key.{name}")]


def policy_json(sid: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}],
        }
    )


def file_key_tf(name: str, path_expr: str) -> str:
    """A key whose policy is ``file(<path_expr>)``, the call on line 4."""
    return (
        f'resource "aws_kms_key" "{name}" {{\n'
        "  enable_key_rotation     = true\n"
        "  deletion_window_in_days = 30\n"
        f"  policy                  = file({path_expr})\n"
        "}\n"
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def lint(*paths: str, **settings: object) -> api.Report:
    return api.lint(list(paths), Settings(**settings), jobs=1)  # type: ignore[arg-type]


def found(report: api.Report) -> list[Found]:
    return [(f.rule_id, f.file, f.line, f.resource) for f in report.visible()]


def git(repo: Path, *args: str) -> None:
    assert GIT is not None
    subprocess.run(
        [GIT, "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    return path


def run(
    *args: str, cwd: Path | str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """The real console script in a fresh process; never a traceback."""
    assert KMSLINT.exists(), "the kmslint console script is installed beside the interpreter (pyproject's scripts)"
    proc = subprocess.run(
        [*prefix, str(KMSLINT), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def json_findings(proc: subprocess.CompletedProcess[str]) -> list[Found]:
    return [(f["rule_id"], f["file"], f["line"], f["resource"]) for f in json.loads(proc.stdout)["findings"]]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# =========================================================================== 1. tracked files and .gitignore


@needs_git
def test_tracked_files_are_linted_whatever_gitignore_says(here: Path) -> None:
    """A file git tracks is linted even when a .gitignore lists it; an untracked ignored one is not."""
    repo = git_repo(here / "repo")
    write(repo / ".gitignore", "*.tf\nsecret/\n")
    write(repo / "main.tf", key_tf("main"))
    write(repo / "secret" / "kms.tf", key_tf("secret"))
    git(repo, "add", "-f", "main.tf", "secret/kms.tf", ".gitignore")
    write(repo / "scratch.tf", key_tf("scratch"))  # untracked and ignored
    assert found(lint("repo")) == [*open_key("repo/main.tf", "main"), *open_key("repo/secret/kms.tf", "secret")]


@needs_git
def test_an_ignored_directory_is_entered_for_its_tracked_files_only(here: Path) -> None:
    """An ignored directory holding tracked files is walked: tracked files linted, untracked ones still ignored."""
    repo = git_repo(here / "repo")
    write(repo / ".gitignore", "build/\n!build/extra.tf\n")
    write(repo / "build" / "deep" / "main.tf", key_tf("tracked"))
    git(repo, "add", "-f", "build/deep/main.tf")
    write(repo / "build" / "deep" / "other.tf", key_tf("other"))  # untracked, in an ignored directory
    write(repo / "build" / "extra.tf", key_tf("extra"))  # a negation cannot re-include it (git's rule)
    write(repo / "build" / "untracked" / "x.tf", key_tf("x"))
    assert found(lint("repo")) == open_key("repo/build/deep/main.tf", "tracked")


@needs_git
@pytest.mark.parametrize("version", [2, 3, 4])
def test_every_index_format_is_read(here: Path, version: int) -> None:
    """Index versions 2, 3 (extended flags) and 4 (prefix-compressed paths) all say what is tracked."""
    repo = git_repo(here / "repo")
    write(repo / ".gitignore", "*.tf\n")
    names = ["a/b/keys.tf", "a/b/keys2.tf", "a/bb/k.tf", "z.tf"]
    for i, name in enumerate(names):
        write(repo / name, key_tf(f"k{i}"))
    git(repo, "add", "-f", *names)
    if version >= 3:
        write(repo / "a" / "intent.tf", key_tf("intent"))
        git(repo, "add", "-N", "-f", "a/intent.tf")  # intent-to-add: an entry with extended flags
        git(repo, "update-index", "--skip-worktree", "z.tf")
    git(repo, "update-index", "--index-version", str(version))
    raw = (repo / ".git" / "index").read_bytes()
    assert int.from_bytes(raw[4:8], "big") == version
    parsed = gitindex.parse_index(raw)
    assert parsed is not None
    expected = sorted(names + (["a/intent.tf"] if version >= 3 else []))
    assert sorted(parsed[0]) == expected
    files = {f for _, f, _, _ in found(lint("repo"))}
    assert files == {f"repo/{n}" for n in expected}


@needs_git
def test_a_split_index_is_read_with_its_shared_index(here: Path) -> None:
    """With core.splitIndex the entries in the shared index count as tracked too."""
    repo = git_repo(here / "repo")
    write(repo / ".gitignore", "*.tf\n")
    write(repo / "old.tf", key_tf("old"))
    git(repo, "add", "-f", "old.tf")
    git(repo, "update-index", "--split-index")
    write(repo / "new.tf", key_tf("new"))
    git(repo, "add", "-f", "new.tf")
    assert list((repo / ".git").glob("sharedindex.*"))
    assert found(lint("repo")) == [*open_key("repo/new.tf", "new"), *open_key("repo/old.tf", "old")]


@needs_git
def test_a_sparse_index_directory_entry_counts_as_tracked(here: Path) -> None:
    """A sparse index's directory entry (dir/) makes everything under it tracked."""
    repo = git_repo(here / "repo")
    write(repo / "in" / "a.tf", "# nothing\n")
    write(repo / "out" / "b.tf", key_tf("b"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "x")
    git(repo, "sparse-checkout", "set", "--cone", "--sparse-index", "in")
    parsed = gitindex.parse_index((repo / ".git" / "index").read_bytes())
    assert parsed is not None
    assert parsed[1] is True  # it holds a directory entry
    assert "out/" in parsed[0]
    tracked = gitindex.read_tracked(str(repo / ".git"))
    assert tracked.has_file("out/b.tf")
    assert tracked.has_under("out")
    assert not tracked.has_file("elsewhere.tf")


@needs_git
def test_linked_worktrees_and_separate_git_dirs_are_followed(here: Path) -> None:
    """A .git file (gitdir: ...) of a linked worktree or a submodule leads to its index."""
    main = git_repo(here / "main")
    write(main / ".gitignore", "*.tf\n")
    write(main / "kms.tf", key_tf("main"))
    git(main, "add", "-f", ".gitignore", "kms.tf")
    git(main, "commit", "-qm", "x")
    git(main, "worktree", "add", "-q", str(here / "linked"))
    assert (here / "linked" / ".git").is_file()
    write(here / "linked" / "untracked.tf", key_tf("untracked"))
    sub = here / "sub"
    sub.mkdir()
    git(sub, "init", "-q", f"--separate-git-dir={here / 'elsewhere.git'}")
    write(sub / ".gitignore", "*.tf\n")
    write(sub / "kms.tf", key_tf("sub"))
    git(sub, "add", "-f", "kms.tf")
    assert found(lint("linked", "sub")) == [*open_key("linked/kms.tf", "main"), *open_key("sub/kms.tf", "sub")]


@needs_git
@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "bad-checksum", "fifo", "link-to-dev-zero", "directory", "over-the-cap"],
)
def test_a_damaged_index_means_everything_is_linted(here: Path, damage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index that cannot be read (damaged, not a file, too big) makes kmslint lint ignored files, never hang."""
    repo = git_repo(here / "repo")
    write(repo / ".gitignore", "*.tf\nnode_modules/\n")
    write(repo / "kms.tf", key_tf("kms"))
    git(repo, "add", "-f", "kms.tf")
    write(repo / "node_modules" / "m.tf", key_tf("m"))
    index = repo / ".git" / "index"
    raw = index.read_bytes()
    index.unlink()
    if damage == "garbage":
        index.write_bytes(b"DIRC\x00\x00\x00\x02\xff\xff\xff\xff" + os.urandom(64))
    elif damage == "truncated":
        index.write_bytes(raw[: len(raw) // 2])
    elif damage == "bad-checksum":
        index.write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    elif damage == "fifo":
        os.mkfifo(index)
    elif damage == "link-to-dev-zero":
        index.symlink_to("/dev/zero")
    elif damage == "directory":
        index.mkdir()
    else:
        index.write_bytes(raw)
        monkeypatch.setattr(gitindex, "MAX_INDEX_BYTES", len(raw) - 1)
    report = lint("repo")
    assert found(report) == [*open_key("repo/kms.tf", "kms"), *open_key("repo/node_modules/m.tf", "m")]
    assert report.notes == ["repo: the git index could not be read, so ignored and skipped directories are linted"]


def test_outside_a_git_work_tree_gitignore_means_nothing(here: Path) -> None:
    """Outside a git work tree a .gitignore skips nothing (as for git, ripgrep and ruff)."""
    write(here / "tree" / ".gitignore", "*.tf\nignored/\n")
    write(here / "tree" / "main.tf", key_tf("main"))
    write(here / "tree" / "ignored" / "kms.tf", key_tf("kms"))
    assert found(lint("tree")) == [*open_key("tree/ignored/kms.tf", "kms"), *open_key("tree/main.tf", "main")]


@needs_git
def test_the_index_is_read_only_when_something_would_be_skipped(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A walk that skips nothing never reads the git index (a normal walk costs nothing more)."""
    repo = git_repo(here / "repo")
    write(repo / ".gitignore", "*.bak\n")
    write(repo / "main.tf", key_tf("main"))
    git(repo, "add", "-A")

    def refuse(gitdir: str) -> gitindex.Tracked:
        raise AssertionError("the index was read")

    monkeypatch.setattr(discovery, "read_tracked", refuse)
    assert found(lint("repo")) == open_key("repo/main.tf", "main")


@needs_git
def test_a_hostile_repository_configuration_is_never_executed(tmp_path: Path) -> None:
    """kmslint never runs git, so a repository's core.fsmonitor or hooks cannot run a program."""
    repo = git_repo(tmp_path / "repo")
    marker = tmp_path / "ran"
    script = write(tmp_path / "fsmonitor.sh", f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    write(repo / ".gitignore", "*.tf\n")
    write(repo / "main.tf", key_tf("main"))
    git(repo, "add", "-f", "main.tf")
    with (repo / ".git" / "config").open("a") as fh:
        fh.write(f"[core]\n\tfsmonitor = {script}\n\thooksPath = {tmp_path}\n")
    proc = run("--format", "json", "repo", cwd=tmp_path)
    assert json_findings(proc) == open_key("repo/main.tf", "main")
    assert not marker.exists()


# =========================================================================== 2. skip list and module sources


@pytest.mark.parametrize("name", ["venv", "__pycache__", ".tox", "node_modules", ".venv", ".terraform"])
def test_a_module_in_a_skip_list_directory_is_linted(here: Path, name: str) -> None:
    """A directory named by a local module source is linted whatever its name (Terraform loads it)."""
    write(here / "root" / "main.tf", f'module "m" {{\n  source = "./{name}"\n}}\n')
    write(here / "root" / name / "kms.tf", key_tf("mod"))
    write(here / "root" / "node_modules" / "unrelated" / "kms.tf", key_tf("unrelated"))
    assert found(lint("root")) == open_key(f"root/{name}/kms.tf", "mod", "module.m.")


@pytest.mark.parametrize(
    ("file", "text"),
    [
        ("main.tf", 'module "m" {\n  source = "./v\\u0065nv"\n}\n'),
        ("main.tf", 'module "m" {\n  source = "\\u002e/venv/"\n}\n'),
        ("main.tf", 'module "m" {\n  source = "./${"ve"}nv"\n}\n'),
        ("main.tf", 'module "m" {\n  source = true ? "./venv" : "x"\n}\n'),
        ("main.tf", 'module "m" { source = "./lib/../venv" }\n'),
        ("main.tf.json", '{"\\u006dodule": {"m": {"sour\\u0063e": "./\\u0076env"}}}'),
        ("main.tf.json", '{"module": [{"m": [{"source": "./venv"}]}]}'),
    ],
)
def test_module_sources_are_read_as_terraform_reads_them(here: Path, file: str, text: str) -> None:
    """Escapes, templates, conditionals and JSON syntax cannot hide a module source from the walk."""
    write(here / "root" / file, text)
    write(here / "root" / "venv" / "kms.tf", key_tf("mod"))
    assert found(lint("root")) == open_key("root/venv/kms.tf", "mod", "module.m.")


def test_module_sources_are_followed_through_parent_paths_and_nested_calls(here: Path) -> None:
    """../ sources and modules called by skipped modules are linted too; uncalled siblings stay skipped."""
    write(here / "tree" / "envs" / "prod" / "main.tf", 'module "a" {\n  source = "../../node_modules/a"\n}\n')
    write(here / "tree" / "node_modules" / "a" / "main.tf", 'module "b" {\n  source = "../../.tox/b"\n}\n')
    write(here / "tree" / "node_modules" / "a" / "kms.tf", key_tf("a"))
    write(here / "tree" / ".tox" / "b" / "kms.tf", key_tf("b"))
    write(here / "tree" / ".tox" / "c" / "kms.tf", key_tf("c"))
    assert found(lint("tree")) == [
        *open_key("tree/.tox/b/kms.tf", "b", "module.a.module.b."),
        *open_key("tree/node_modules/a/kms.tf", "a", "module.a."),
    ]


@needs_git
def test_an_ignored_untracked_module_directory_is_linted(here: Path) -> None:
    """A .gitignore cannot hide an untracked local module that a configuration calls."""
    repo = git_repo(here / "repo")
    write(repo / ".gitignore", "modules/\nlocal.tf\n")
    write(repo / "main.tf", 'module "kms" {\n  source = "./modules/kms"\n}\n')
    write(repo / "modules" / "kms" / "kms.tf", key_tf("mod"))
    write(repo / "modules" / "other" / "kms.tf", key_tf("other"))
    write(repo / "local.tf", 'module "l" {\n  source = "./venv"\n}\n')  # ignored itself: not a caller
    write(repo / "venv" / "kms.tf", key_tf("venv"))
    assert found(lint("repo")) == open_key("repo/modules/kms/kms.tf", "mod", "module.kms.")


@needs_git
def test_tracked_files_in_skip_list_directories_are_linted(here: Path) -> None:
    """In a git work tree a tracked file in node_modules or venv is linted even if no module calls it."""
    repo = git_repo(here / "repo")
    write(repo / "venv" / "kms.tf", key_tf("tracked"))
    git(repo, "add", "venv/kms.tf")
    write(repo / "venv" / "untracked.tf", key_tf("untracked"))
    write(repo / "node_modules" / "kms.tf", key_tf("nm"))
    assert found(lint("repo")) == open_key("repo/venv/kms.tf", "tracked")


def test_module_sources_never_lead_out_of_the_walked_tree(here: Path) -> None:
    """A module source through a link or ../ out of the scanned tree is not followed."""
    write(here / "outside" / "venv" / "kms.tf", key_tf("outside"))
    write(
        here / "tree" / "main.tf",
        'module "a" {\n  source = "../outside/venv"\n}\nmodule "b" {\n  source = "./venv"\n}\n',
    )
    (here / "tree" / "venv").symlink_to(here / "outside" / "venv", target_is_directory=True)
    assert found(lint("tree")) == []


def test_excludes_still_apply_to_module_directories(here: Path) -> None:
    """The configuration's excludes (the user's choice) apply to module directories too."""
    write(here / "root" / "main.tf", 'module "m" {\n  source = "./venv"\n}\n')
    write(here / "root" / "venv" / "kms.tf", key_tf("mod"))
    assert found(lint("root", exclude=("venv/",))) == []
    assert found(lint("root", exclude=("kms.tf",))) == []


def test_module_sources_are_looked_for_only_when_something_was_skipped(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A walk that skipped nothing never parses files for module sources."""

    def refuse(files: object) -> set[str]:
        raise AssertionError("module sources were looked for")

    monkeypatch.setattr(modsources, "local_sources", refuse)
    write(here / "tree" / "main.tf", 'module "m" {\n  source = "./mod"\n}\n')
    write(here / "tree" / "mod" / "kms.tf", key_tf("mod"))
    assert found(lint("tree")) == open_key("tree/mod/kms.tf", "mod", "module.m.")


# =========================================================================== 3. the scan root


SECRET = "SECRET-SID-never-printed"


@pytest.fixture
def public_tmp() -> Iterator[Path]:
    """A temporary directory every user can enter (for runs as another user, and from /)."""
    path = Path(tempfile.mkdtemp(prefix="kmslint-walk-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for p in (path, *path.rglob("*")):
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(path)


def hostile_tree(base: Path) -> Path:
    """``base/repo`` holds a secret; ``base/repo-evil`` (a prefix of its name) tries every way to read it."""
    write(base / "repo" / "secret.json", policy_json(SECRET))
    write(base / "home" / ".aws" / "credentials", policy_json(SECRET))
    evil = base / "repo-evil"
    write(evil / "policy.json", policy_json("InTree"))
    write(evil / "home.json", "{}")
    attempts = [
        '"${path.module}/policy.json"',
        '"../repo/secret.json"',
        f'"{base}/repo/secret.json"',
        '"${path.cwd}/repo/secret.json"',
        '"${path.module}/../../../../../../../../etc/hostname"',
        '"/etc/hostname"',
        '"~/.aws/credentials"',
        '"../home/.aws/credentials"',
        '"${path.module}/link.json"',
        '"${path.module}/linkdir/secret.json"',
        '"${path.module}/../repo-evil/../repo/secret.json"',
    ]
    write(evil / "main.tf", "".join(file_key_tf(f"k{i}", a) for i, a in enumerate(attempts)))
    (evil / "link.json").symlink_to(base / "repo" / "secret.json")
    (evil / "linkdir").symlink_to(base / "repo", target_is_directory=True)
    return evil


@pytest.mark.slow
def test_file_reads_nothing_outside_the_scanned_tree_from_any_cwd(public_tmp: Path) -> None:
    """From any cwd the same JSON, byte for byte; file() and links never read ../repo from repo-evil, /etc, ~, ../.."""
    evil = hostile_tree(public_tmp)
    env = {**os.environ, "HOME": str(public_tmp / "home")}
    outputs = set()
    for cwd in ("/", public_tmp / "home", evil, public_tmp / "repo", public_tmp):
        proc = run("--format", "json", str(evil), cwd=cwd, env=env)
        assert SECRET not in proc.stdout + proc.stderr
        outputs.add(proc.stdout)
    (stdout,) = outputs
    policy = f"{evil}/policy.json"
    assert json_findings(subprocess.CompletedProcess([], 1, stdout, "")) == [
        ("KMS003", policy, 1, "aws_kms_key.k0"),
        ("KMS005", policy, 1, "aws_kms_key.k0"),
    ]


def test_a_named_link_to_a_sibling_repository_is_not_read(public_tmp: Path) -> None:
    """A link in repo-evil to ../repo/secret.json is outside the scanned tree, compared by path components."""
    evil = hostile_tree(public_tmp)
    proc = run("--format", "json", "repo-evil/link.json", cwd=public_tmp)
    assert proc.returncode == 2
    assert SECRET not in proc.stdout + proc.stderr
    (finding,) = json.loads(proc.stdout)["findings"]
    assert (finding["rule_id"], finding["file"], finding["line"]) == ("KMS000", "repo-evil/link.json", 1)
    assert finding["message"] == "symbolic link to a file outside the scanned tree: not read"
    assert evil.exists()


@needs_git
def test_the_scan_root_is_the_work_tree_of_each_scanned_path(here: Path) -> None:
    """Each scanned path has its own scan root: its git work tree, else the directory named; never the cwd."""
    repo_a = git_repo(here / "a")
    write(repo_a / "policies" / "p.json", policy_json("RepoA"))
    write(repo_a / "infra" / "main.tf", file_key_tf("a", '"../policies/p.json"'))
    write(here / "b" / "p.json", policy_json("B"))
    write(here / "b" / "infra" / "main.tf", file_key_tf("b", '"../p.json"'))
    write(here / "b" / "infra" / "cross.tf", file_key_tf("cross", '"../../a/policies/p.json"'))
    report = lint("a/infra", "b/infra")
    # a: its work tree is the scan root, so ../policies is inside; b is not in git: only b/infra is.
    assert found(report) == [
        ("KMS003", "a/policies/p.json", 1, "aws_kms_key.a"),
        ("KMS005", "a/policies/p.json", 1, "aws_kms_key.a"),
    ]


def test_a_named_file_outside_git_may_read_only_its_own_directory(here: Path) -> None:
    """Outside git, a named file's scan root is its directory: ../ is outside, whatever the cwd holds."""
    write(here / "p.json", policy_json("Parent"))
    write(here / "infra" / "p.json", policy_json("Here"))
    write(here / "infra" / "main.tf", file_key_tf("up", '"../p.json"') + file_key_tf("here", '"p.json"'))
    assert found(lint("infra/main.tf")) == [
        ("KMS003", "infra/p.json", 1, "aws_kms_key.here"),
        ("KMS005", "infra/p.json", 1, "aws_kms_key.here"),
    ]


def test_stdin_uses_the_named_paths_tree(here: Path) -> None:
    """On stdin (--stdin-filename) the scan root is the named path's directory or work tree, not the cwd."""
    write(here / "p.json", policy_json("Parent"))
    write(here / "infra" / "p.json", policy_json("Here"))
    text = file_key_tf("up", '"../p.json"') + file_key_tf("here", '"p.json"')
    report = api.lint([], Settings(), stdin_text=text, stdin_filename="infra/main.tf", jobs=1)
    assert found(report) == [
        ("KMS003", "infra/p.json", 1, "aws_kms_key.here"),
        ("KMS005", "infra/p.json", 1, "aws_kms_key.here"),
    ]


def test_file_outside_the_tree_is_refused_without_saying_whether_it_exists(tmp_path: Path) -> None:
    """file() of a path outside the tree gives the same answer whether or not that path exists (no probing)."""
    from kmslint.model import Known, Location
    from kmslint.parsers.common import ParseOptions
    from kmslint.parsers.hcl_eval import Config, Evaluator

    tree = tmp_path / "tree"
    tree.mkdir()
    ev = Evaluator(Config(tree), ParseOptions(scan_root=tree))
    loc = Location("main.tf", 1, 1, 1, 1)
    reasons = []
    for target in ("/etc/hostname", "/nonexistent/x", str(tmp_path / "nope"), "../../.."):
        got = ev.read_file(Known(target, loc), loc)
        assert not isinstance(got, tuple)
        reasons.append(got.reason)
    assert reasons == [f"file `{t}` is outside the scanned tree" for t in ("/etc/hostname", "/nonexistent/x")] + [
        f"file `{tmp_path / 'nope'}` is outside the scanned tree",
        "file `../../..` is outside the scanned tree",
    ]


# =========================================================================== 4. patterns


SLOW = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"


@needs_git
def test_backtracking_patterns_are_matched_in_linear_time(here: Path) -> None:
    """Patterns like *a*a*a*...b in .gitignore, excludes and per-path ignores cannot make matching slow."""
    repo = git_repo(here / "repo")
    names = ["a" * 200 + ".tf", "a" * 100 + "/" + "a" * 150 + ".json", "x" * 100 + "/" + "a" * 60 + "c.tf"]
    write(repo / ".gitignore", "\n".join([SLOW, f"**/{SLOW}/**/{SLOW}", "[a]" * 60 + "*b"] * 50) + "\n")
    for name in names:
        write(repo / name, policy_json("Open") if name.endswith(".json") else key_tf("k"))
    config = write(
        repo / ".kmslint.toml",
        f'exclude = ["{SLOW}", "a*/**/{SLOW}"]\n'
        f'[[per-path-ignores]]\npath = "{SLOW}"\nrules = ["KMS003"]\nreason = "slow"\n',
    )
    from kmslint import config as kmsconfig

    settings = kmsconfig.load(config)
    start = time.perf_counter()
    report = api.lint(["repo"], settings, jobs=1)
    assert time.perf_counter() - start < 10
    assert sorted({f for _, f, _, _ in found(report)}) == sorted(f"repo/{n}" for n in names)
    start = time.perf_counter()
    rules = RuleList([SLOW] * 200 + [f"{SLOW}/**/{SLOW}"] * 100)
    assert rules.match_path("a" * 4000) is False
    assert rules.match_path("/".join(["a" * 200] * 20)) is False
    assert time.perf_counter() - start < 1


def test_many_costly_patterns_times_many_files_stay_bounded(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A walk's pattern matching work is capped: past the cap .gitignore skips nothing more (so more is linted)."""
    monkeypatch.setattr(ignore, "MAX_MATCH_STEPS", 700_000)  # the 300 directories cost 600,300
    (here / "repo" / ".git").mkdir(parents=True)
    write(here / "repo" / ".gitignore", "*.json\n" + "".join(f"*a*b*c{i}\n" for i in range(2000)))
    for i in range(300):
        write(here / "repo" / f"d{i:03}" / "abc.json", policy_json("X"))
    start = time.perf_counter()
    report = lint("repo")
    assert time.perf_counter() - start < 20
    assert report.notes == [
        "repo: .gitignore patterns took over 700000 steps to match, so from there on they skip nothing"
    ]
    linted = sorted({f for _, f, _, _ in found(report)})
    every = [f"repo/d{i:03}/abc.json" for i in range(300)]
    assert linted and linted == every[len(every) - len(linted) :]  # ignored until the cap, then all linted
    assert len(linted) < len(every)


def test_pattern_count_and_length_are_capped(here: Path) -> None:
    """A .gitignore's patterns past the cap, and overlong patterns, are dropped (so they skip nothing), with a note."""
    (here / "repo" / ".git").mkdir(parents=True)
    lines = [f"unused{i}" for i in range(MAX_PATTERNS)] + ["*.tf"]
    write(here / "repo" / ".gitignore", "\n".join(lines) + "\n" + "x" * (MAX_PATTERN_CHARS + 1) + "*\n")
    write(here / "repo" / "main.tf", key_tf("main"))
    write(here / "repo" / ("x" * (MAX_PATTERN_CHARS + 1) + "y.json")[:200], policy_json("X"))
    report = lint("repo")
    assert found(report) == open_key("repo/main.tf", "main")
    assert report.notes == [f"repo/.gitignore: only its first {MAX_PATTERNS} patterns are applied"]
    assert RuleList(["y" * (MAX_PATTERN_CHARS + 1)]).rules == []


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "link-out", "huge"])
def test_a_gitignore_that_is_not_a_small_file_is_not_read(here: Path, kind: str) -> None:
    """A .gitignore that is a FIFO, a symbolic link (to a device, out of the tree) or huge is never read."""
    (here / "repo" / ".git").mkdir(parents=True)
    gitignore = here / "repo" / ".gitignore"
    if kind == "fifo":
        os.mkfifo(gitignore)
    elif kind == "dev-zero":
        gitignore.symlink_to("/dev/zero")
    elif kind == "link-out":
        gitignore.symlink_to(write(here / "outside" / "patterns", "*.tf\n"))
    else:
        write(gitignore, "*.tf\n" * (discovery.MAX_GITIGNORE_BYTES // 5 + 1))
    write(here / "repo" / "main.tf", key_tf("main"))
    report = lint("repo")
    assert found(report) == open_key("repo/main.tf", "main")
    assert report.notes == [
        f"repo/.gitignore: not read (not a readable file of at most {discovery.MAX_GITIGNORE_BYTES} bytes,"
        " or a symbolic link), so it ignores nothing"
    ]


@pytest.mark.skipif(GIT is None, reason="git check-ignore is the oracle")
def test_gitignore_matching_agrees_with_git_on_edge_cases(tmp_path: Path) -> None:
    """Classes, escapes, ** forms, anchoring, trailing spaces and excluded parents are matched as git does."""
    patterns = [
        "x[a/b]y",
        "[[:digit:]]d",
        "[]]z",
        "[!]]q",
        "r[a-]",
        "\\#hash",
        "\\!bang",
        "sp\\ ",
        "tr  ",
        "/anch",
        "mid/dle",
        "**/deep",
        "top/**",
        "a/**/b",
        "dir/**/",
        "*.log",
        "!keep.log",
        "ex/",
        "!ex/in.txt",
        "[a-c]?.c",
        "bad[",
        "esc\\*",
    ]
    paths = [
        "xay", "x/y", "1d", "ad", "]z", "az", "bq", "]q", "r-", "ra", "rb", "#hash", "!bang", "sp ", "sp", "tr",
        "anch", "s/anch", "mid/dle", "s/mid/dle", "deep", "s/t/deep", "top/f", "top/s/f", "a/b", "a/s/t/b",
        "dir/f", "dir/s/f", "x.log", "s/x.log", "keep.log", "s/keep.log", "ex/in.txt", "ex/o.txt", "ab.c", "dd.c",
        "bad[", "bad", "esc*", "escx",
    ]  # fmt: skip
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run([GIT, "init", "-q"], cwd=repo, check=True)
    (repo / ".gitignore").write_text("\n".join(patterns) + "\n")
    for p in paths:
        write(repo / p, "")
    proc = subprocess.run(
        [GIT, "check-ignore", "--no-index", "--stdin"],
        cwd=repo,
        input="\n".join(paths) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    by_git = set(proc.stdout.split("\n")) - {""}
    rules = RuleList(patterns)
    mine = {p for p in paths if rules.match_path(p)}
    assert mine == by_git
    assert {"xay", "1d", "]z", "bq", "r-", "#hash", "!bang", "sp ", "tr", "ex/in.txt"} <= mine


# =========================================================================== 5. the file system


@pytest.fixture
def as_user() -> tuple[str, ...]:
    """A prefix that runs a command as an unprivileged user (root reads a chmod 000 directory anyway)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a directory cannot be made unreadable")
    prefix = (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")
    if subprocess.run([*prefix, sys.executable, "-c", ""], capture_output=True, check=False).returncode != 0:
        pytest.skip(f"{sys.executable} cannot run as an unprivileged user (installed under a private home?)")
    return prefix


def test_an_unreadable_named_directory_is_one_clear_line_and_exit_2(public_tmp: Path, as_user: tuple[str, ...]) -> None:
    """A named directory that cannot be read is reported in one line, exit 2, as a missing path is."""
    write(public_tmp / "ok" / "main.tf", key_tf("ok")).chmod(0o644)
    (public_tmp / "ok").chmod(0o755)
    locked = public_tmp / "locked"
    write(locked / "main.tf", key_tf("locked"))
    locked.chmod(0)
    proc = run("--format", "json", "locked", "locked/main.tf", "ok", cwd=public_tmp, prefix=as_user)
    assert proc.returncode == 2
    assert proc.stderr == (
        "kmslint: error: locked: cannot read this directory: Permission denied\n"
        "kmslint: error: locked/main.tf: cannot be read: Permission denied\n"
    )
    assert json_findings(proc) == open_key("ok/main.tf", "ok")


def test_an_unreadable_subdirectory_is_a_note_and_the_scan_goes_on(public_tmp: Path, as_user: tuple[str, ...]) -> None:
    """A subdirectory that cannot be read is named in a note on stderr; the rest is linted."""
    tree = public_tmp / "tree"
    write(tree / "a" / "main.tf", key_tf("a")).chmod(0o644)
    write(tree / "b" / "locked" / "main.tf", key_tf("locked"))
    write(tree / "c" / "main.tf", key_tf("c")).chmod(0o644)
    for d in (tree, tree / "a", tree / "b", tree / "c"):
        d.chmod(0o755)
    (tree / "b" / "locked").chmod(0)
    proc = run("--format", "json", "tree", cwd=public_tmp, prefix=as_user)
    assert proc.returncode == 1
    assert proc.stderr == "kmslint: tree/b/locked: cannot read this directory (Permission denied); not linted\n"
    assert json_findings(proc) == [*open_key("tree/a/main.tf", "a"), *open_key("tree/c/main.tf", "c")]


def test_unreadable_directories_in_process(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same promises without a second user: scandir failing on a named or a walked directory is no crash."""
    write(here / "tree" / "a" / "main.tf", key_tf("a"))
    write(here / "tree" / "b" / "main.tf", key_tf("b"))
    real = os.scandir
    locked = {str(here / "tree" / "b"), str(here / "locked")}

    def scandir(path: str) -> object:
        if os.path.abspath(path) in locked:
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    (here / "locked").mkdir()
    monkeypatch.setattr(discovery.os, "scandir", scandir)
    report = lint("tree", "locked")
    assert found(report) == open_key("tree/a/main.tf", "a")
    assert report.usage_error
    assert report.notes == [
        "error: locked: cannot read this directory: Permission denied",
        "tree/b: cannot read this directory (Permission denied); not linted",
    ]


def test_an_overlong_path_component_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    """A named path with a 256-byte component (ENAMETOOLONG) is reported in one line, exit 2, no traceback."""
    name = "a" * 256
    proc = run("--format", "json", name, f"{name}/main.tf", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == "".join(
        f"kmslint: error: {p}: cannot be read: File name too long\n" for p in (name, f"{name}/main.tf")
    )
    assert json.loads(proc.stdout)["findings"] == []


def test_a_deleted_current_directory_is_no_traceback(tmp_path: Path) -> None:
    """Run from a deleted directory, kmslint reports '.' as unreadable (exit 2) and still lints absolute paths."""
    write(tmp_path / "tree" / "main.tf", key_tf("main"))
    gone = tmp_path / "gone"
    gone.mkdir()
    assert KMSLINT.exists(), "the kmslint console script is installed beside the interpreter (pyproject's scripts)"
    script = f'cd "{gone}" && rmdir "{gone}" && exec "{KMSLINT}" --format json "$@"'
    gone_line = "kmslint: error: {}: cannot be read: the current directory is gone{}\n"
    for args, code, stderr in (
        (["--stdin-filename", "main.tf", "-"], 2, gone_line.format("main.tf", "")),
        (["."], 2, gone_line.format(".", " (No such file or directory)")),
        ([str(tmp_path / "tree")], 1, ""),
    ):
        gone.mkdir(exist_ok=True)
        proc = subprocess.run(
            ["sh", "-c", script, "sh", *args], input=key_tf("stdin"), capture_output=True, text=True, check=False
        )
        assert "Traceback" not in proc.stderr
        assert (proc.returncode, proc.stderr) == (code, stderr)
    assert json_findings(proc) == open_key(f"{tmp_path}/tree/main.tf", "main")


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse names that are not UTF-8")
def test_file_names_that_are_not_utf8_are_walked_and_linted(here: Path) -> None:
    """Files and directories whose names are not UTF-8 are walked and linted like any other."""
    raw = os.fsencode(here) + b"/tree/d\xff/k\xfe.tf"
    os.makedirs(os.path.dirname(raw))
    with open(raw, "w") as fh:
        fh.write(key_tf("odd"))
    write(here / "tree" / "ok.tf", key_tf("ok"))
    report = lint("tree")
    assert found(report) == [*open_key("tree/d\udcff/k\udcfe.tf", "odd"), *open_key("tree/ok.tf", "ok")]


@needs_git
@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse names that are not UTF-8")
def test_a_tracked_file_whose_name_is_not_utf8_is_linted_though_ignored(here: Path) -> None:
    """The index's names are matched to the file system's byte for byte, UTF-8 or not."""
    repo = git_repo(here / "repo")
    write(repo / ".gitignore", "*.tf\n")
    with open(os.fsencode(repo) + b"/k\xfe.tf", "w") as fh:
        fh.write(key_tf("odd"))
    git(repo, "add", "-f", "--", os.fsdecode(b"k\xfe.tf"))
    with open(os.fsencode(repo) + b"/u\xfe.tf", "w") as fh:
        fh.write(key_tf("untracked"))
    assert found(lint("repo")) == open_key("repo/k\udcfe.tf", "odd")


def test_symlink_loops_and_links_out_are_still_not_followed(here: Path) -> None:
    """Links out of the tree are never followed and loops end, in repositories and nested repositories too."""
    write(here / "outside" / "kms.tf", key_tf("outside"))
    tree = here / "tree"
    (tree / "nested" / ".git").mkdir(parents=True)
    write(tree / "nested" / "main.tf", key_tf("nested"))
    (tree / "nested" / "out").symlink_to(here / "outside", target_is_directory=True)
    (tree / "nested" / "loop").symlink_to(tree, target_is_directory=True)
    (tree / "venv").symlink_to(here / "outside", target_is_directory=True)
    write(tree / "main.tf", 'module "v" {\n  source = "./venv"\n}\n')
    assert found(lint("tree")) == open_key("tree/nested/main.tf", "nested")


def test_a_hostile_version_4_index_cannot_ask_for_gigabytes() -> None:
    """Version 4 paths grow from the previous one: overlong or too many path bytes make the index unread, not huge."""
    import hashlib

    def index(entries: list[tuple[int, bytes]]) -> bytes:
        parts = [b"DIRC" + (4).to_bytes(4, "big") + len(entries).to_bytes(4, "big")]
        for strip, suffix in entries:
            flags = min(len(suffix), 0xFFF).to_bytes(2, "big")
            parts.append(b"\0" * 24 + (0o100644).to_bytes(4, "big") + b"\0" * 12 + b"\x11" * 20 + flags)
            parts.append(bytes([strip]) + suffix + b"\0")
        body = b"".join(parts)
        return body + hashlib.sha1(body).digest()

    good = gitindex.parse_index(index([(0, b"a/b.tf"), (4, b"c.tf")]))
    assert good is not None
    assert good[0] == ["a/b.tf", "a/c.tf"]
    growing = index([(0, b"x" * 1000)] * 5)  # strip nothing: 1000, 2000, ... bytes
    assert gitindex.parse_index(growing) is None
    amplifier = index([(0, b"y" * 3000)] + [(0, b"")] * 20000)  # 1.3 MB that would be 60 MB of paths
    start = time.perf_counter()
    assert gitindex.parse_index(amplifier) is None
    assert time.perf_counter() - start < 2


def test_deeply_nested_gitignore_files_cost_no_more_than_a_bounded_chain(here: Path) -> None:
    """Past 32 nested .gitignore files deeper ones are not applied (one note), so depth cannot square the cost."""
    (here / "repo" / ".git").mkdir(parents=True)
    d = here / "repo"
    for i in range(40):
        write(d / ".gitignore", f"skip{i}.json\n")
        write(d / f"skip{i}.json", policy_json("S"))
        d = d / "a"
    write(d / "p.json", policy_json("P"))
    report = lint("repo")
    deep = "repo" + "/a" * 32
    assert report.notes == [
        f"{deep}/.gitignore: not applied, nor any deeper one: 32 .gitignore files above it already apply"
    ]
    linted = sorted({f for _, f, _, _ in found(report)})
    assert linted == sorted(
        {"repo" + "/a" * i + f"/skip{i}.json" for i in range(32, 40)} | {"repo" + "/a" * 40 + "/p.json"}
    )


def test_a_module_source_built_to_be_costly_neither_crashes_nor_slows_the_walk(here: Path) -> None:
    """A module source that is a costly expression (Terraform takes only a literal) ends fast, no internal error."""
    items = "[" + ", ".join(str(i) for i in range(150)) + "]"
    costly = f"[for a in {items} : [for b in {items} : [for c in {items} : c]]]"
    write(here / "t" / "main.tf", f'module "m" {{\n  source = length({costly}) > 0 ? "./venv" : "./x"\n}}\n')
    write(here / "t" / "venv" / "main.tf", key_tf("k"))
    start = time.perf_counter()
    r = subprocess.run([KMSLINT, "--format", "json", "t"], cwd=here, capture_output=True, text=True, check=False)
    assert time.perf_counter() - start < 5
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    assert r.returncode == 0
