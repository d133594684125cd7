"""From command-line paths to units of work.

A unit is one configuration: a Terraform directory (all its ``.tf`` and
``.tf.json`` files), or one other file (a template, a plan, a policy).  Each
unit also says which of its files are *reported*: naming one ``.tf`` file
loads its whole directory for context but reports that file only.

Directories are walked recursively, in sorted order, honouring
``.gitignore`` files and the configuration's excludes, and skipping version
control, Terraform's module cache and virtual environments.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

    from pathspec import PathSpec

TF_SUFFIXES = (".tf", ".tf.json")
OTHER_SUFFIXES = (".json", ".yaml", ".yml", ".template")
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".terraform",
        ".terragrunt-cache",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "cdk.out.tmp",
    }
)


def is_terraform(name: str) -> bool:
    return name.endswith(TF_SUFFIXES)


def is_candidate(name: str) -> bool:
    return name.endswith(TF_SUFFIXES) or name.endswith(OTHER_SUFFIXES)


class Unit(Record):
    kind: str  # "terraform" (a directory) or "file"
    path: Path  # the directory, or the file
    files: list[Path] = field(default_factory=list)  # every file of the configuration
    reported: set[Path] = field(default_factory=set)  # files whose findings are reported
    explicit: set[Path] = field(default_factory=set)  # files named on the command line


class Discovery(Record):
    units: list[Unit]
    display: dict[Path, str]
    missing: list[str]  # named paths that do not exist
    # Directories walked (absolute) and how they were given, to name files
    # found later (a policy read by file()) the way the user named the tree.
    roots: list[tuple[Path, str]] = field(default_factory=list)


def _posix(path: str) -> str:
    return path if os.sep == "/" else path.replace(os.sep, "/")


def _below(path: str, directory: str) -> str:
    """``path`` relative to ``directory``, which contains it, with ``/`` separators."""
    return _posix(path[len(directory.rstrip(os.sep)) + 1 :])


class _Ignore:
    """Nested ``.gitignore`` files and config excludes, as git would apply them.

    Paths are absolute strings: a walk asks about every entry of the tree,
    and pathlib's parsing and hashing were most of a 1,000-file walk.
    """

    def __init__(self, excludes: Iterable[str]) -> None:
        self.excludes = list(excludes)
        self._spec_cache: dict[str, PathSpec[Any] | None] = {}
        self._exclude_spec: PathSpec[Any] | None = self._compile(self.excludes) if self.excludes else None

    @staticmethod
    def _compile(lines: list[str]) -> PathSpec[Any]:
        import pathspec

        return pathspec.GitIgnoreSpec.from_lines(lines)

    def _gitignore(self, directory: str) -> PathSpec[Any] | None:
        if directory not in self._spec_cache:
            gi = os.path.join(directory, ".gitignore")
            spec = None
            if os.path.isfile(gi):
                try:
                    with open(gi, encoding="utf-8", errors="replace") as handle:
                        lines = handle.read().splitlines()
                except OSError:
                    lines = []
                spec = self._compile(lines) if lines else None
            self._spec_cache[directory] = spec
        return self._spec_cache[directory]

    def ignored(self, path: str, is_dir: bool, chain: list[str], root: str) -> bool:
        suffix = "/" if is_dir else ""
        for directory in chain:
            spec = self._gitignore(directory)
            if spec is not None and spec.match_file(_below(path, directory) + suffix):
                return True
        if self._exclude_spec is not None:
            rel = _below(path, root) + suffix
            if self._exclude_spec.match_file(rel) or self._exclude_spec.match_file(_posix(path) + suffix):
                return True
        return False


def discover(paths: Iterable[str], excludes: Iterable[str] = ()) -> Discovery:
    """Expand ``paths`` into units; named files are always scanned, walked ones filtered."""
    ignore = _Ignore(excludes)
    display: dict[Path, str] = {}
    tf_dirs: dict[str, Unit] = {}
    singles: dict[Path, Unit] = {}
    missing: list[str] = []
    roots: list[tuple[Path, str]] = []

    def add(path: Path, shown: str, explicit: bool) -> None:
        display.setdefault(path, shown)
        if is_terraform(path.name):
            parent = os.path.dirname(path)  # a string: cheaper than Path.parent for every file
            unit = tf_dirs.get(parent)
            if unit is None:
                unit = tf_dirs[parent] = Unit("terraform", Path(parent))
            unit.reported.add(path)
            if explicit:
                unit.explicit.add(path)
        elif path not in singles:
            singles[path] = Unit("file", path, [path], {path}, {path} if explicit else set())
        elif explicit:
            singles[path].explicit.add(path)

    for given in paths:
        p = Path(given)
        if p.is_dir():
            roots.append((Path(os.path.abspath(given)), given))
            for file, shown in _walk(p, given, ignore):
                add(Path(file), shown, explicit=False)
        elif p.exists() or p.is_symlink():
            add(Path(os.path.abspath(given)), os.path.normpath(given), explicit=True)
        else:
            missing.append(given)

    for unit in tf_dirs.values():
        unit.files = _terraform_files(unit.path)
        for f in unit.files:
            if f not in display:
                display[f] = _sibling_display(f, unit, display)
    units = sorted([*tf_dirs.values(), *singles.values()], key=lambda u: str(u.path))
    return Discovery(units, display, missing, roots)


def _sibling_display(file: Path, unit: Unit, display: dict[Path, str]) -> str:
    # Name context files the way their reported neighbour is named.
    for reported in sorted(unit.reported):
        shown = display.get(reported)
        if shown is not None:
            return os.path.normpath(os.path.join(os.path.dirname(shown), file.name))
    return str(file)


def _terraform_files(directory: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []
    out = []
    for entry in entries:
        try:
            if is_terraform(entry.name) and entry.is_file():
                out.append(Path(entry.path))
        except OSError:
            continue
    return out


def _enclosing_repo_dirs(directory: Path) -> list[str]:
    """The directories above ``directory`` up to its repository root (the one with
    ``.git``), outermost first: their ``.gitignore`` files apply too, as in git."""
    chain: list[str] = []
    if (directory / ".git").exists():
        return chain
    for parent in directory.parents:
        chain.append(str(parent))
        if (parent / ".git").exists():
            return list(reversed(chain))
    return []  # not in a repository: only the walked tree's own .gitignore files


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _walk(top: Path, given: str, ignore: _Ignore) -> Iterable[tuple[str, str]]:
    """Every candidate file under ``top`` (an absolute path) and how to show it, in sorted order."""
    root = os.path.abspath(top)
    real_root = os.path.realpath(root)
    stack: list[tuple[str, list[str]]] = [(root, [*_enclosing_repo_dirs(Path(root)), root])]
    visited: set[tuple[int, int]] = set()
    while stack:
        directory, chain = stack.pop()
        try:
            info = os.stat(directory)  # one call, where resolve() is one per path component
        except (OSError, RuntimeError):
            continue
        if (info.st_dev, info.st_ino) in visited:
            continue  # a symlink loop, or a directory reached twice
        visited.add((info.st_dev, info.st_ino))
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[str] = []
        for entry in entries:
            path = os.path.join(directory, entry.name)
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError:
                continue
            if entry.is_symlink():
                # Never follow a link out of the scanned tree.
                try:
                    target = os.path.realpath(path, strict=True)
                except (OSError, RuntimeError, ValueError):
                    continue  # broken, looping, or not a path the OS takes
                if not _inside(target, real_root):
                    continue
            if is_dir:
                if entry.name in SKIP_DIRS or ignore.ignored(path, True, chain, root):
                    continue
                subdirs.append(path)
            elif is_file and is_candidate(entry.name) and not ignore.ignored(path, False, chain, root):
                yield path, os.path.normpath(os.path.join(given, _below(path, root)))
        for sub in reversed(subdirs):
            stack.append((sub, [*chain, sub]))
