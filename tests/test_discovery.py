"""Walking directories: .gitignore, skipped folders, symlinks, order, Terraform directories, scan roots;
the gitignore matcher (against pathspec), the git index reader, the module-source pre-test."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pathspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmslint import discovery, gitindex
from kmslint.discovery import discover
from kmslint.ignore import RuleList
from kmslint.modsources import could_name


def touch(path: Path, text: str = "kms") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def names(paths: list[str]) -> list[str]:
    found = discover(paths)
    out = []
    for unit in found.units:
        out.extend(sorted(found.display[p] for p in unit.reported))
    return out


def test_walks_sorted_groups_terraform_by_directory_and_skips_tool_folders(tmp_path: Path) -> None:
    for rel in (
        "b/main.tf",
        "b/keys.tf.json",
        "a/t.yaml",
        "a/p.json",
        "a/readme.md",
        ".terraform/m/main.tf",
        "node_modules/x/p.json",
        ".git/hooks/x.json",
        "c/.venv/lib/p.json",
    ):
        touch(tmp_path / rel)
    found = discover([str(tmp_path)])
    kinds = [(u.kind, u.path.relative_to(tmp_path).as_posix()) for u in found.units]
    assert kinds == [("file", "a/p.json"), ("file", "a/t.yaml"), ("terraform", "b")]
    (tf,) = [u for u in found.units if u.kind == "terraform"]
    assert [p.name for p in tf.files] == ["keys.tf.json", "main.tf"]


def test_gitignore_files_in_the_tree_and_above_it_are_honoured(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    touch(tmp_path / ".gitignore", "generated/\n*.rendered.json\n")
    touch(tmp_path / "infra" / ".gitignore", "scratch.tf\n")
    touch(tmp_path / "infra" / "main.tf")
    touch(tmp_path / "infra" / "scratch.tf")
    touch(tmp_path / "infra" / "generated" / "p.json")
    touch(tmp_path / "infra" / "policy.rendered.json")
    touch(tmp_path / "infra" / "policy.json")
    given = str(tmp_path / "infra")
    assert names([given]) == [f"{given}/main.tf", f"{given}/policy.json"]


def test_excludes_and_named_files(tmp_path: Path) -> None:
    touch(tmp_path / "keep" / "p.json")
    touch(tmp_path / "skip" / "p.json")
    found = discover([str(tmp_path)], excludes=["skip/"])
    assert [u.path.relative_to(tmp_path).as_posix() for u in found.units] == ["keep/p.json"]
    # A file named on the command line is always scanned, and marked explicit.
    named = discover([str(tmp_path / "skip" / "p.json")], excludes=["skip/"])
    (unit,) = named.units
    assert unit.explicit == {tmp_path / "skip" / "p.json"}


def test_naming_one_tf_file_loads_its_directory_but_reports_that_file(tmp_path: Path) -> None:
    main = touch(tmp_path / "main.tf")
    touch(tmp_path / "policy.tf")
    (unit,) = discover([str(main)]).units
    assert [p.name for p in unit.files] == ["main.tf", "policy.tf"]
    assert unit.reported == {main}


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_symlinks_out_of_the_tree_and_loops_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    touch(outside / "secret.json")
    tree = tmp_path / "tree"
    touch(tree / "p.json")
    (tree / "escape").symlink_to(outside, target_is_directory=True)
    (tree / "escape.json").symlink_to(outside / "secret.json")
    (tree / "loop").symlink_to(tree, target_is_directory=True)
    assert names([str(tree)]) == [f"{tree}/p.json"]


def test_missing_paths_are_reported(tmp_path: Path) -> None:
    assert discover([str(tmp_path / "nope")]).missing == [str(tmp_path / "nope")]


def test_gitignore_means_nothing_outside_a_repository(tmp_path: Path) -> None:
    touch(tmp_path / ".gitignore", "*.tf\n")
    touch(tmp_path / "main.tf")
    assert names([str(tmp_path)]) == [f"{tmp_path}/main.tf"]


def test_units_carry_their_scan_root(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    touch(tmp_path / "repo" / "infra" / "main.tf")
    touch(tmp_path / "plain" / "sub" / "p.json")
    touch(tmp_path / "plain" / "named.tf")
    found = discover(
        [str(tmp_path / "repo" / "infra"), str(tmp_path / "plain" / "sub"), str(tmp_path / "plain" / "named.tf")]
    )
    roots = {u.path.relative_to(tmp_path).as_posix(): u.scan_root for u in found.units}
    assert roots == {
        "repo/infra": (tmp_path / "repo").resolve(),
        "plain/sub/p.json": (tmp_path / "plain" / "sub").resolve(),
        "plain": (tmp_path / "plain").resolve(),
    }


def test_a_unit_reached_twice_takes_the_widest_scan_root(tmp_path: Path) -> None:
    main = touch(tmp_path / "a" / "main.tf")
    for order in ([str(main), str(tmp_path)], [str(tmp_path), str(main)]):
        (unit,) = discover(order).units
        assert unit.scan_root == tmp_path.resolve()


def test_nested_repositories_have_their_own_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    touch(tmp_path / ".gitignore", "*.json\n")
    (tmp_path / "inner" / ".git").mkdir(parents=True)
    touch(tmp_path / "inner" / "p.json")
    touch(tmp_path / "outer.json")
    assert names([str(tmp_path)]) == [f"{tmp_path}/inner/p.json"]


# --------------------------------------------------------------------------- kmslint.ignore against pathspec

_TOKENS = ["a", "b", "*", "a*", "*b", "?", "[ab]", "a?", "*.tf", "[!a]*", "ab", "[a-b]", "\\*", "x\\ y", "\\[a]"]
_NAMES = ["a", "b", "ab", "ba", "a.tf", "x y", "[a]", "a*b", "*"]


@st.composite
def _pattern(draw: st.DrawFn, negated: bool) -> str:
    text = "/".join(draw(st.lists(st.sampled_from([*_TOKENS, "**"]), min_size=1, max_size=3)))
    if draw(st.booleans()):
        text = "/" + text
    if draw(st.booleans()) and not text.endswith("**"):
        text += "/"  # pathspec reads "dir/**/" unlike git (tests/attacks/test_walk.py asks git itself)
    if negated and draw(st.booleans()):
        text = "!" + text
    return text


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(
    st.lists(_pattern(negated=False), min_size=1, max_size=4),
    st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4),
)
def test_ignore_matches_as_pathspec_does_on_ordinary_patterns(patterns: list[str], parts: list[str]) -> None:
    path = "/".join(parts)
    expected = pathspec.GitIgnoreSpec.from_lines(patterns).match_file(path)
    assert RuleList(patterns).match_path(path) == expected


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(_pattern(negated=True), min_size=1, max_size=4), st.sampled_from(_NAMES))
def test_ignore_negations_match_as_pathspec_does(patterns: list[str], name: str) -> None:
    # At depth one no parent directory is involved, where pathspec and git differ.
    assert RuleList(patterns).match_path(name) == pathspec.GitIgnoreSpec.from_lines(patterns).match_file(name)


def test_glob_chunks_and_classes() -> None:
    rules = RuleList(["[[:upper:]][!0-9]*[[:digit:]]?.tf", "x*y*z", "?"])
    assert [rules.match_path(p) for p in ("Ab3c.tf", "A13c.tf", "ab3c.tf", "xaybz", "xzy", "q", "qq")] == [
        True, False, False, True, False, True, False,
    ]  # fmt: skip


# --------------------------------------------------------------------------- kmslint.gitindex


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([2, 3, 4]), st.integers(0, 50))
def test_a_damaged_index_is_refused_not_raised(body: bytes, version: int, count: int) -> None:
    data = b"DIRC" + version.to_bytes(4, "big") + count.to_bytes(4, "big") + body
    for candidate in (data, data + hashlib.sha1(data).digest(), data + b"\0" * 20):
        parsed = gitindex.parse_index(candidate)
        assert parsed is None or all(isinstance(p, str) for p in parsed[0])


def test_tracked_lookups() -> None:
    tracked = gitindex.Tracked(["a/b/c.tf", "sub", "z.tf", "sparse/"], sparse=True)
    assert [tracked.has_file(p) for p in ("a/b/c.tf", "a/b", "z.tf", "sparse/x/y.tf", "nope.tf")] == [
        True, False, True, True, False,
    ]  # fmt: skip
    assert [tracked.has_under(p) for p in ("a", "a/b", "sub", "sparse", "sparse/x", "a/bb", "z")] == [
        True, True, True, True, True, False, False,
    ]  # fmt: skip
    assert gitindex.EVERYTHING.has_file("anything") and gitindex.EVERYTHING.has_under("anywhere")


def test_a_gitdir_file_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real.git").mkdir()
    touch(tmp_path / "wt" / ".git", "gitdir: ../real.git\n")
    touch(tmp_path / "bogus" / ".git", "not a pointer\n")
    assert gitindex.git_dir(str(tmp_path / "wt")) == str(tmp_path / "real.git")
    assert gitindex.git_dir(str(tmp_path / "bogus")) is None
    assert gitindex.find_worktree(str(tmp_path / "wt")) == str(tmp_path / "wt")


# --------------------------------------------------------------------------- kmslint.modsources


def test_could_name_is_linear_and_conservative() -> None:
    start = time.perf_counter()
    assert could_name("${" * 200_000, ["venv"], is_json=False) is False
    assert could_name("${x" * 200_000 + '"', ["venv"], is_json=False) is True
    assert time.perf_counter() - start < 1
    cases = {
        'source = "./venv"': True,
        'source = "./${var.x}"': False,
        'source = "./${"v"}env"': True,
        'source = "./b${2}"': True,
        'source = "./${true}"': True,
        'source = "./%{if true}x%{endif}"': True,
        'source = "./\\u0076env"': True,
        'source = "./other"': False,
        'source = "./VENV"': True,
    }
    assert {text: could_name(text, ["venv"], is_json=False) for text in cases} == cases


def test_a_module_source_may_name_a_skipped_directory_otherwise(tmp_path: Path) -> None:
    # As on a case-insensitive file system, where ./VENV is venv: the directory's identity decides.
    touch(tmp_path / "tree" / "main.tf", 'module "m" {\n  source = "./alias"\n}\n')
    touch(tmp_path / "tree" / "venv" / "kms.tf")
    found = discover([str(tmp_path / "tree")])
    assert [u.path.name for u in found.units] == ["tree"]
    (tmp_path / "tree" / "alias").symlink_to(tmp_path / "tree" / "venv", target_is_directory=True)
    walk = discovery._Walk(str(tmp_path / "tree"), "tree", discovery._Roots(), discovery._Excludes([]), [])
    list(walk.files())
    assert walk.skipped == [str(tmp_path / "tree" / "venv")]
    assert discovery._skipped_by(walk, str(tmp_path / "tree" / "alias"))
    assert not discovery._skipped_by(walk, str(tmp_path / "tree"))
