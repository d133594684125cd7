"""kmslint.gitrev: a revision's files in a temporary directory, the work tree and index untouched.

Each test builds its repository in a temporary directory with git (two
commits, or trees made by hand with ``git mktree`` for names ``git add``
refuses), isolated from the user's git configuration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kmslint import gitrev
from kmslint.gitindex import find_worktree, read_tracked
from kmslint.gitrev import GitRevError, materialise

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

V1 = 'resource "aws_kms_key" "app" {\n  description = "v1"\n}\n'
V2 = 'resource "aws_kms_key" "app" {\n  description = "v2"\n}\n'
MODULE = 'resource "aws_kms_key" "in_module" {}\n'


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No global or system git configuration of the user's; commits signed by a test identity."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name, value in {"NAME": "Test", "EMAIL": "test@example.com"}.items():
        monkeypatch.setenv(f"GIT_AUTHOR_{name}", value)
        monkeypatch.setenv(f"GIT_COMMITTER_{name}", value)
    return tmp_path


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=True)
    return done.stdout.decode("utf-8", "surrogateescape").strip()


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(isolated: Path) -> Path:
    """Two commits: infra/main.tf v1 with a module outside infra/, then v2; then a dirty work tree
    (an untracked file, a staged change, an unstaged one)."""
    root = isolated / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root / "infra" / "main.tf", V1)
    write(root / "modules" / "kms" / "main.tf", MODULE)
    write(root / "README.md", "docs\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "one")
    write(root / "infra" / "main.tf", V2)
    write(root / "infra" / "new.tf", "# added in two\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "two")
    write(root / "infra" / "new.tf", "# staged\n")
    git(root, "add", "infra/new.tf")
    write(root / "infra" / "main.tf", "# unstaged\n")
    write(root / "untracked.tf", "# untracked\n")
    return root


def snapshot(root: Path) -> tuple[str, bytes, dict[str, bytes]]:
    """git status, the index file's bytes, and every work-tree file's bytes."""
    files = {}
    for path in sorted(root.rglob("*")):
        if ".git" not in path.relative_to(root).parts and path.is_file():
            files[str(path.relative_to(root))] = path.read_bytes()
    return git(root, "status", "--porcelain"), (root / ".git" / "index").read_bytes(), files


def tree_files(root: str) -> dict[str, bytes]:
    found = {}
    for here, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(here, name)
            found[os.path.relpath(path, root)] = Path(path).read_bytes()
    return found


def test_the_older_revision_is_read_and_the_work_tree_and_index_are_untouched(repo: Path) -> None:
    before = snapshot(repo)
    with materialise("HEAD~1", [str(repo / "infra")]) as rev:
        assert rev.commit == git(repo, "rev-parse", "HEAD~1")
        assert rev.paths == [os.path.join(rev.root, "infra")]
        assert tree_files(rev.root) == {
            os.path.join("infra", "main.tf"): V1.encode(),
            os.path.join("modules", "kms", "main.tf"): MODULE.encode(),
            "README.md": b"docs\n",
            os.path.join(".git", "index"): gitrev.INDEX_MARKER,
        }
        assert rev.files == 3
        assert rev.skipped == []
        root = rev.root
    assert not os.path.exists(root)
    assert snapshot(repo) == before


def test_the_revision_looks_like_a_work_tree_whose_every_file_is_tracked(repo: Path) -> None:
    with materialise("main", [str(repo / "infra" / "main.tf")]) as rev:
        assert rev.paths == [os.path.join(rev.root, "infra", "main.tf")]
        assert Path(rev.paths[0]).read_text(encoding="utf-8") == V2
        assert Path(rev.root, "infra", "new.tf").read_text(encoding="utf-8") == "# added in two\n"
        assert not Path(rev.root, "untracked.tf").exists()
        # The scan root is the revision's root, as the repository's is in the work tree.
        assert find_worktree(os.path.join(rev.root, "infra")) == rev.root
        assert read_tracked(os.path.join(rev.root, ".git")).everything


def test_scanned_paths_map_to_the_same_relative_paths(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "infra")
    with materialise("HEAD~1", [".", "../modules", "gone.tf"]) as rev:
        assert rev.paths == [
            os.path.join(rev.root, "infra"),
            os.path.join(rev.root, "modules"),
            os.path.join(rev.root, "infra", "gone.tf"),
        ]
        assert not os.path.exists(rev.paths[2])  # not in the revision: the caller finds nothing there


def test_files_of_the_revision_are_named_as_in_the_work_tree(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    with materialise("HEAD~1", ["infra", "./modules/kms/"]) as rev:
        name = rev.display
        assert name(os.path.join(rev.root, "infra", "main.tf")) == os.path.join("infra", "main.tf")
        assert name(os.path.join(rev.root, "infra")) == "infra"
        assert name(os.path.join(rev.root, "modules", "kms", "main.tf")) == os.path.join("modules", "kms", "main.tf")
        assert name(os.path.join(rev.root, "README.md")) == str(repo.resolve() / "README.md")
        assert name(rev.root + "-other/x.tf") == rev.root + "-other/x.tf"
        assert name("main.tf") == "main.tf"


def test_the_directory_is_removed_when_the_block_raises(repo: Path) -> None:
    seen: list[str] = []

    def fail() -> None:
        with materialise("HEAD", [str(repo)]) as rev:
            seen.append(rev.root)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail()
    assert seen
    assert not os.path.exists(seen[0])


@pytest.mark.parametrize(
    ("rev", "said"),
    [
        ("--output=/tmp/x", "does not start with '-'"),
        ("-h", "does not start with '-'"),
        ("", "empty"),
        ("HEAD\nmain", "control character"),
        ("x" * 2000, "longer than"),
        ("no-such-branch", "unknown revision 'no-such-branch'"),
        ("HEAD^{tree}", "unknown revision"),
        ("HEAD~5", "unknown revision"),
    ],
)
def test_a_bad_revision_is_one_line(repo: Path, rev: str, said: str) -> None:
    before = snapshot(repo)
    with pytest.raises(GitRevError) as caught, materialise(rev, [str(repo)]):
        pass
    message = str(caught.value)
    assert said in message
    assert "\n" not in message
    assert snapshot(repo) == before


def test_an_option_as_revision_writes_nothing(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "x"
    with pytest.raises(GitRevError), materialise(f"--output={target}", [str(repo)]):
        pass
    assert not target.exists()


def test_outside_a_repository(isolated: Path) -> None:
    plain = isolated / "plain"
    plain.mkdir()
    with pytest.raises(GitRevError, match="is not inside a git work tree"), materialise("HEAD", [str(plain)]):
        pass


def test_a_path_outside_the_repository(repo: Path, isolated: Path) -> None:
    other = isolated / "other"
    other.mkdir()
    with pytest.raises(GitRevError, match="outside the git work tree"), materialise("HEAD", [str(repo), str(other)]):
        pass


def test_git_not_installed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-bin"))
    with pytest.raises(GitRevError, match="git is not installed"), materialise("HEAD", [str(repo)]):
        pass


def test_git_variables_of_the_caller_do_not_redirect_git(
    repo: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoy = isolated / "decoy"
    decoy.mkdir()
    git(decoy, "init", "-q")
    write(decoy / "infra" / "main.tf", "# decoy\n")
    git(decoy, "add", ".")
    git(decoy, "commit", "-q", "-m", "decoy")
    monkeypatch.setenv("GIT_DIR", str(decoy / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(decoy))
    monkeypatch.setenv("GIT_INDEX_FILE", str(decoy / ".git" / "index"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.pager'='touch {isolated / 'owned'}'")
    monkeypatch.setenv("GIT_PAGER", f"touch {isolated / 'owned'}")
    monkeypatch.setenv("GIT_EXEC_PATH", str(decoy))
    with materialise("HEAD~1", [str(repo / "infra")]) as rev:
        assert Path(rev.paths[0], "main.tf").read_text(encoding="utf-8") == V1
    assert not (isolated / "owned").exists()


def test_git_env_keeps_no_git_variable() -> None:
    env = gitrev.git_env({"GIT_DIR": "x", "git_config_global": "y", "PATH": "/bin", "HOME": "/h"})
    assert env == {
        "PATH": "/bin",
        "HOME": "/h",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_NO_LAZY_FETCH": "1",
    }


def test_the_repository_configuration_runs_nothing(repo: Path, isolated: Path) -> None:
    proof = isolated / "ran"
    script = isolated / "hook.sh"
    script.write_text(f"#!/bin/sh\ntouch {proof}\n", encoding="utf-8")
    script.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(script))
    git(repo, "config", "core.pager", str(script))
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for name in ("post-checkout", "post-index-change", "reference-transaction"):
        shutil.copy(script, hooks / name)
    with materialise("HEAD~1", [str(repo)]):
        pass
    assert not proof.exists()


def commit_tree(repo: Path, entries: list[tuple[str, str, bytes]]) -> str:
    """A commit whose root tree holds ``entries`` (mode, type and object ID, name), names unchecked."""
    listing = b"".join(f"{mode} {kind} {oid}\t".encode() + name + b"\n" for mode, kind, oid, name in entries)
    tree = git(repo, "mktree", stdin=listing)
    return git(repo, "commit-tree", tree, "-m", "hostile")


def blob(repo: Path, data: bytes) -> str:
    return git(repo, "hash-object", "-w", "--stdin", stdin=data)


def test_hostile_names_are_skipped_and_nothing_leaves_the_directory(repo: Path, isolated: Path) -> None:
    evil = blob(repo, b"# evil\n")
    inner = git(repo, "mktree", stdin=f"100644 blob {evil}\tevil.tf\n".encode())
    link = blob(repo, b"/etc/passwd")
    commit = commit_tree(
        repo,
        [
            ("040000", "tree", inner, b".."),
            ("040000", "tree", inner, b".GIT"),
            ("100644", "blob", evil, b"."),
            ("120000", "blob", link, b"passwd.tf"),
            ("160000", "commit", git(repo, "rev-parse", "HEAD"), b"sub"),
            ("100644", "blob", evil, b"ok.tf"),
        ],
    )
    before = snapshot(repo)
    with materialise(commit, [str(repo)]) as rev:
        assert tree_files(rev.root) == {"ok.tf": b"# evil\n", os.path.join(".git", "index"): gitrev.INDEX_MARKER}
        assert sorted(rev.skipped) == [
            "../evil.tf: an empty, '.' or '..' component, not read",
            ".: an empty, '.' or '..' component, not read",
            ".GIT/evil.tf: a .git component, not read",
            "passwd.tf: a symbolic link, not read",
            "sub: a submodule, not read",
        ]
    assert not (isolated / "evil.tf").exists()
    assert not (repo / "evil.tf").exists()
    assert snapshot(repo) == before


def test_a_committed_symlink_to_etc_passwd_is_not_followed(repo: Path) -> None:
    (repo / "infra" / "passwd.tf").symlink_to("/etc/passwd")
    (repo / "infra" / "dir").symlink_to("/etc")
    git(repo, "add", "infra/passwd.tf", "infra/dir")
    git(repo, "commit", "-q", "-m", "links")
    with materialise("HEAD", [str(repo / "infra")]) as rev:
        infra = Path(rev.root, "infra")
        assert sorted(p.name for p in infra.iterdir()) == ["main.tf", "new.tf"]
        assert "infra/passwd.tf: a symbolic link, not read" in rev.skipped
        assert all(not p.is_symlink() for p in Path(rev.root).rglob("*"))


def test_a_name_with_control_characters_is_written_and_shown_escaped(repo: Path) -> None:
    name = b"a\x1b[2Jb\x07.tf"
    data = blob(repo, b"# odd\n")
    commit = commit_tree(repo, [("100644", "blob", data, name), ("120000", "blob", data, b"l\x1b]0;x\x07")])
    with materialise(commit, [str(repo)]) as rev:
        assert Path(rev.root, os.fsdecode(name)).read_bytes() == b"# odd\n"
        assert rev.skipped == ["l\\x1b]0;x\\x07: a symbolic link, not read"]


def test_a_huge_file_is_skipped_and_the_caps_hold(repo: Path) -> None:
    write(repo / "big.tf", "#" * 5000)
    git(repo, "add", "big.tf")
    git(repo, "commit", "-q", "-m", "big")
    with materialise("HEAD", [str(repo)], max_file_bytes=4096) as rev:
        assert not Path(rev.root, "big.tf").exists()
        assert "big.tf: 5000 bytes, over the 4096-byte limit" in rev.skipped
    with pytest.raises(GitRevError, match=r"over the limit of 2$"), materialise("HEAD", [str(repo)], max_files=2):
        pass
    with (
        pytest.raises(GitRevError, match=r"bytes, over the limit of 100$"),
        materialise("HEAD", [str(repo)], max_total_bytes=100),
    ):
        pass


def test_a_huge_tree_listing_is_cut_short(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gitrev, "MAX_LISTING_BYTES", 100)
    too_large = r"^git ls-tree wrote over 100 bytes: the revision is too large$"
    with pytest.raises(GitRevError, match=too_large), materialise("HEAD", [str(repo)]):
        pass


def test_unsafe_path() -> None:
    assert gitrev.unsafe_path(b"a/b/c.tf") is None
    assert gitrev.unsafe_path(b"/etc/passwd") == "an absolute path"
    assert gitrev.unsafe_path(b"a/../b") == "an empty, '.' or '..' component"
    assert gitrev.unsafe_path(b"a//b") == "an empty, '.' or '..' component"
    assert gitrev.unsafe_path(b"x/.Git/config") == "a .git component"
    assert gitrev.unsafe_path(b"a\0b") == "an empty path or a NUL"
    assert gitrev.unsafe_path(b"") == "an empty path or a NUL"
