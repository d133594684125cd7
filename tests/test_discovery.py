"""Walking directories: .gitignore, skipped folders, symlinks, order, Terraform directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kmslint.discovery import discover


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
