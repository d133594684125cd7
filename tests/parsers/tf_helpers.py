"""Shared helpers for the Terraform parser tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from kmslint.model import KeyResource, Known, Project, Value
from kmslint.parsers.common import ParseOptions
from kmslint.parsers.terraform import parse_directory


def write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def parse(directory: Path, files: dict[str, str] | None = None, *, scan_root: Path | None = None) -> Project:
    """Write ``files`` into ``directory`` and parse it as one configuration."""
    if files:
        write(directory, files)
    tf = sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith((".tf", ".tf.json")))
    opts = ParseOptions(scan_root=scan_root or directory, display_names={p: p.name for p in tf})
    return parse_directory(directory, tf, opts)


def key(project: Project, name: str) -> KeyResource:
    found = [k for k in project.keys if k.name == name]
    assert found, f"no key {name}: {[k.name for k in project.keys]}"
    return found[0]


def d(value: Value | None) -> dict[str, Value]:
    assert isinstance(value, Known) and isinstance(value.value, dict), value
    return value.value


def lst(value: Value | None) -> list[Value]:
    assert isinstance(value, Known) and isinstance(value.value, list), value
    return value.value


def statements(value: Value | None) -> list[Value]:
    return lst(d(value)["Statement"])
