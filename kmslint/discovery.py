"""From command-line paths to units of work.

A unit is one configuration: a Terraform directory (all its ``.tf`` and
``.tf.json`` files), or one other file (a template, a plan, a policy).  Each
unit also says which of its files are *reported*: naming one ``.tf`` file
loads its whole directory for context but reports that file only.

Directories are walked recursively, in sorted order, keeping the files whose
names some format may claim (:mod:`kmslint.parsers.registry`; those of a
format whose files a directory reads together, Terraform's, make a directory
unit) and the files the configuration lists in ``key-policy-files``,
honouring the configuration's excludes, and skipping version control,
Terraform's module cache and virtual environments.  Inside a git work tree, ``.gitignore`` files
are honoured for *untracked* files only: a file git tracks is linted
whatever a ``.gitignore`` or the skip list says, because Terraform deploys
what is committed (OUTPUT.md).  Which files are tracked is read from the
index (:mod:`kmslint.gitindex`), only when an ignore rule or the skip list
would skip something.  Outside a work tree ``.gitignore`` means nothing, as
for git itself.  And a directory that a walked Terraform configuration loads
as a local module (``source = "./venv"``) is never skipped by the skip list
or a ``.gitignore``.

Each unit carries its *scan root* (RULES.md): the git work tree holding the
scanned path, or outside git the scanned directory itself (a named file's
directory), symlinks resolved.  ``file()``/``templatefile()`` and symbolic
links are read only inside it; the current directory plays no part.

Nothing here raises for what the file system holds: a named path that cannot
be read is reported in :attr:`Discovery.unreadable` (exit 2, like a missing
one), a subdirectory that cannot be read in :attr:`Discovery.notes`.  Hostile
ignore files cannot make a walk slow: patterns match in linear time within a
budget (:mod:`kmslint.ignore`), and at most :data:`MAX_GITIGNORE_NESTING`
nested ``.gitignore`` files apply to a path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from kmslint.gitindex import Tracked, find_worktree, read_tracked
from kmslint.parsers import registry
from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from kmslint.ignore import Budget, RuleList

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
# A .gitignore larger than this is not read (so it ignores nothing); git's own are a few KB.
MAX_GITIGNORE_BYTES = 1024 * 1024
# .gitignore files applying to one path, nested: each path is matched against all of them, so a
# deep chain would cost its depth squared; deeper ones are not applied (real trees have a handful).
MAX_GITIGNORE_NESTING = 32


def is_terraform(name: str) -> bool:
    """Is this a file of a format whose files a directory reads together (``.tf``, ``.tf.json``)?"""
    return name.endswith(registry.directory_suffixes())


def is_candidate(name: str) -> bool:
    """May some format claim a file of this name (:mod:`kmslint.parsers.registry`)?"""
    return name.endswith(registry.suffixes())


def listed_matcher(patterns: Iterable[str]) -> Callable[[str], bool] | None:
    """Does the configuration list a file (an absolute path) in ``key-policy-files``?

    ``patterns`` are gitignore-style and absolute (``config.anchor_pattern``),
    matched in linear time within a budget (:mod:`kmslint.ignore`); None when
    there are none.
    """
    patterns = list(patterns)
    if not patterns:
        return None
    from kmslint.ignore import Budget, RuleList

    rules = RuleList(patterns, Budget())
    return lambda path: rules.match_path(_posix(path).lstrip("/"))


class Unit(Record):
    kind: str  # "terraform" (a directory) or "file"
    path: Path  # the directory, or the file
    files: list[Path] = field(default_factory=list)  # every file of the configuration
    reported: set[Path] = field(default_factory=set)  # files whose findings are reported
    explicit: set[Path] = field(default_factory=set)  # files named on the command line
    # file()/templatefile() and symbolic links read only inside this directory (resolved); None: nowhere.
    scan_root: Path | None = None
    # A file the configuration lists in key-policy-files: a key policy whatever it says.
    key_policy: bool = False


class Discovery(Record):
    units: list[Unit]
    display: dict[Path, str]
    missing: list[str]  # named paths that do not exist
    # Directories walked (absolute) and how they were given, to name files
    # found later (a policy read by file()) the way the user named the tree.
    roots: list[tuple[Path, str]] = field(default_factory=list)
    # Named paths that exist but cannot be read, each a message ("infra: cannot read ...").
    unreadable: list[str] = field(default_factory=list)
    # Remarks for stderr: subdirectories that could not be read, ignore files not applied.
    notes: list[str] = field(default_factory=list)


def _posix(path: str) -> str:
    return path if os.sep == "/" else path.replace(os.sep, "/")


def _below(path: str, directory: str) -> str:
    """``path`` relative to ``directory``, which contains it, with ``/`` separators."""
    return _posix(path[len(directory.rstrip(os.sep)) + 1 :])


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


# --------------------------------------------------------------------------- scan roots


class _Roots:
    """Work trees and scan roots of directories (real paths), each looked up once."""

    def __init__(self) -> None:
        self._worktrees: dict[str, str | None] = {}

    def worktree(self, real: str) -> str | None:
        if real not in self._worktrees:
            self._worktrees[real] = find_worktree(real)
        return self._worktrees[real]

    def of_directory(self, real: str) -> Path:
        """A walked directory's scan root: its work tree, or outside git the directory itself."""
        return Path(self.worktree(real) or real)

    def of_file(self, absolute: str) -> Path:
        """A named file's: from its directory (its own name is not resolved: a link to
        elsewhere does not move the root there)."""
        return self.of_directory(os.path.realpath(os.path.dirname(absolute)))


def scan_root_of_file(path: str) -> Path:
    """The scan root for a file named on the command line or on stdin (``--stdin-filename``)."""
    return _Roots().of_file(os.path.abspath(path))


def _outermost(a: Path | None, b: Path) -> Path:
    # Every candidate root of one unit contains the unit, so they are nested: take the widest.
    return b if a is None or len(b.parts) < len(a.parts) else a


# --------------------------------------------------------------------------- discovery


def discover(paths: Iterable[str], excludes: Iterable[str] = (), key_policy_files: Iterable[str] = ()) -> Discovery:
    """Expand ``paths`` into units; named files are always scanned, walked ones filtered.

    A walk keeps the files some format may claim by their names, and those
    ``key_policy_files`` lists (absolute patterns, whatever their names).
    """
    found = Discovery([], {}, [])
    excluded = _Excludes(list(excludes))
    units = _Units(found, listed_matcher(key_policy_files))
    roots = _Roots()
    walks: list[_Walk] = []
    for given in paths:
        walk = _take(given, found, units, roots, excluded)
        if walk is not None:
            walks.append(walk)
    if any(w.skipped or w.skipped_tf for w in walks):
        for walk, file in _module_files(walks, units.tf_dirs):
            units.add(Path(file), walk.shown(file), False, walk.scan_root)
    if excluded.budget is not None and excluded.budget.spent:
        found.notes.append(_too_costly("exclude"))
    found.units = units.finish()
    return found


def _take(given: str, found: Discovery, units: _Units, roots: _Roots, excluded: _Excludes) -> _Walk | None:
    """Add what one path given holds to ``units``; the walk when it is a directory."""
    try:
        absolute = os.path.abspath(given)
    except OSError as exc:  # a relative path, and the current directory was deleted
        found.unreadable.append(f"{given}: cannot be read: the current directory is gone ({_why(exc)})")
        return None
    kind = _kind(absolute)
    if kind == "dir":
        walk = _Walk(absolute, given, roots, excluded, found.notes, units.listed)
        if walk.problem:
            found.unreadable.append(walk.problem)
            return None
        found.roots.append((Path(absolute), given))
        for file, shown in walk.files():
            units.add(Path(file), shown, False, walk.scan_root)
        return walk
    if kind == "file":
        units.add(Path(absolute), os.path.normpath(given), True, roots.of_file(absolute))
    elif kind == "missing":
        found.missing.append(given)
    else:
        found.unreadable.append(f"{given}: cannot be read: {kind}")
    return None


class _Units:
    """The units found so far: one per Terraform directory, one per other file."""

    def __init__(self, found: Discovery, listed: Callable[[str], bool] | None) -> None:
        self.found = found
        self.listed = listed
        self.tf_dirs: dict[str, Unit] = {}
        self.singles: dict[Path, Unit] = {}

    def add(self, path: Path, shown: str, explicit: bool, scan_root: Path) -> None:
        self.found.display.setdefault(path, shown)
        if is_terraform(path.name):
            parent = os.path.dirname(path)  # a string: cheaper than Path.parent for every file
            unit = self.tf_dirs.get(parent)
            if unit is None:
                unit = self.tf_dirs[parent] = Unit("terraform", Path(parent))
            unit.reported.add(path)
            unit.scan_root = _outermost(unit.scan_root, scan_root)
            if explicit:
                unit.explicit.add(path)
        elif path not in self.singles:
            single = self.singles[path] = Unit("file", path, [path], {path}, {path} if explicit else set(), scan_root)
            single.key_policy = self.listed is not None and self.listed(str(path))
        else:
            self.singles[path].scan_root = _outermost(self.singles[path].scan_root, scan_root)
            if explicit:
                self.singles[path].explicit.add(path)

    def finish(self) -> list[Unit]:
        """The units, sorted, each Terraform directory with all its files (siblings shown beside the named)."""
        for unit in self.tf_dirs.values():
            unit.files = _terraform_files(unit.path)
            for f in unit.files:
                if f not in self.found.display:
                    self.found.display[f] = _sibling_display(f, unit, self.found.display)
        return sorted([*self.tf_dirs.values(), *self.singles.values()], key=lambda u: str(u.path))


def _too_costly(what: str) -> str:
    from kmslint.ignore import MAX_MATCH_STEPS

    return f"{what} patterns took over {MAX_MATCH_STEPS} steps to match, so from there on they skip nothing"


def _kind(absolute: str) -> str:
    """``dir``, ``file`` (anything else that exists, a dangling link too), ``missing``, or why it cannot be read."""
    try:
        info = os.stat(absolute)
    except FileNotFoundError:
        return "file" if os.path.islink(absolute) else "missing"
    except NotADirectoryError:
        return "missing"
    except OSError as exc:
        import errno

        if exc.errno == errno.ELOOP:
            return "file"  # a link loop: reading it reports KMS000
        return _why(exc)
    except ValueError:  # a NUL in the name
        return "missing"
    import stat

    return "dir" if stat.S_ISDIR(info.st_mode) else "file"


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


# --------------------------------------------------------------------------- excludes and .gitignore


class _Excludes:
    """The configuration's and command line's exclude patterns.

    A pattern is matched against the path relative to the walked directory
    and against the absolute path (a configuration file's anchored patterns
    are absolute, see ``config.rebase_pattern``).
    """

    def __init__(self, patterns: list[str]) -> None:
        self.rules: RuleList | None = None
        if patterns:
            from kmslint.ignore import Budget, RuleList

            self.rules = RuleList(patterns, Budget())

    @property
    def budget(self) -> Budget | None:
        return None if self.rules is None else self.rules.budget

    def entry(self, rel: str, absolute: str, is_dir: bool) -> bool:
        """Is this entry of a walk excluded?  (Its directories were not.)"""
        rules = self.rules
        if rules is None:
            return False
        return rules.decide(rel, is_dir) is True or rules.decide(_posix(absolute).lstrip("/"), is_dir) is True

    def tree(self, absolute: str) -> bool:
        """Is this directory, or a directory above it, excluded?"""
        return self.rules is not None and self.rules.match_path(_posix(absolute), is_dir=True)


class _Repo:
    """A git work tree met by a walk; its index is read the first time it is asked about."""

    __slots__ = ("_notes", "_tracked", "gitdir", "shown")

    def __init__(self, gitdir: str, shown: str, notes: list[str]) -> None:
        self.gitdir = gitdir
        self.shown = shown
        self._notes = notes
        self._tracked: Tracked | None = None

    def tracked(self) -> Tracked:
        if self._tracked is None:
            self._tracked = read_tracked(self.gitdir)
            if self._tracked.everything:
                self._notes.append(
                    f"{self.shown}: the git index could not be read, so ignored and skipped directories are linted"
                )
        return self._tracked


class _Dir:
    """A directory waiting to be walked, and what applies inside it."""

    __slots__ = ("chain", "path", "rel", "repo", "tracked_only")

    def __init__(self, path: str, rel: str, repo: _Repo | None, chain: Chain = (), tracked_only: bool = False) -> None:
        self.path = path  # absolute, as walked (not resolved)
        self.rel = rel  # relative to its work tree ("" at its root); unused outside git
        self.repo = repo
        # The .gitignore files that apply, outermost first: (their directory's rel, their patterns).
        self.chain = chain
        # Entered only for what git tracks in it (an ignored or skip-list directory that holds
        # tracked files): untracked files are not linted, untracked subdirectories not entered.
        self.tracked_only = tracked_only


Chain = tuple[tuple[str, "RuleList"], ...]


class _Walk:
    """One named directory, walked: its candidate files, and what it skipped.

    ``skipped`` lists the directories the skip list or a ``.gitignore`` left
    out, and ``skipped_tf`` the Terraform files a ``.gitignore`` left out, by
    directory: a module source may name them (:func:`_module_files`).
    ``problem`` says why the directory itself cannot be read.
    """

    def __init__(
        self,
        absolute: str,
        given: str,
        roots: _Roots,
        excluded: _Excludes,
        notes: list[str],
        listed: Callable[[str], bool] | None = None,
    ) -> None:
        self.root = absolute
        self.listed = listed  # key-policy-files: kept whatever their names
        self.given = given
        self.real_root = os.path.realpath(absolute)
        self.worktree = roots.worktree(self.real_root)
        self.scan_root = roots.of_directory(self.real_root)
        self.excluded = excluded
        self.notes = notes
        self.skipped: list[str] = []
        self.skipped_tf: dict[str, list[str]] = {}
        self.problem = ""
        self._budget: Budget | None = None  # shared by the walk's .gitignore files
        self._identities: tuple[set[tuple[int, int]], set[tuple[int, int]]] | None = None
        self._too_deep = False  # a .gitignore was nested past MAX_GITIGNORE_NESTING
        self._visited: set[tuple[int, int]] = set()
        self._top: list[os.DirEntry[str]] = []
        try:
            info = os.stat(absolute)
            self._visited.add((info.st_dev, info.st_ino))
            self._top = _sorted_entries(absolute)
        except OSError as exc:
            self.problem = f"{given}: cannot read this directory: {_why(exc)}"

    def skipped_identities(self) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
        """(device, inode) of the skipped directories, and of those holding skipped Terraform files."""
        if self._identities is None:
            self._identities = (_identities(self.skipped), _identities(self.skipped_tf))
        return self._identities

    def shown(self, path: str) -> str:
        """How a path under the walked directory is named: under the name it was given."""
        if not _inside(path, self.root):
            return path
        return self.given if path == self.root else os.path.normpath(os.path.join(self.given, _below(path, self.root)))

    def files(self) -> Iterator[tuple[str, str]]:
        """Every candidate file under the walked directory and how to show it, in sorted order."""
        if self.problem or self.excluded.tree(self.root):
            return
        stack = [self._start()]
        entries: list[os.DirEntry[str]] | None = self._top
        while stack:
            d = stack.pop()
            if entries is None:
                entries = self._read(d.path)
                if entries is None:
                    continue
                if any(e.name == ".git" for e in entries):
                    d = self._nested_repo(d)
            if d.repo is not None and not d.tracked_only and any(e.name == ".gitignore" for e in entries):
                d = self._with_gitignore(d)
            subdirs: list[_Dir] = []
            for entry in entries:
                shown = self._entry(d, entry, subdirs)
                if shown is not None:
                    yield shown
            stack.extend(reversed(subdirs))
            entries = None
        if self._budget is not None and self._budget.spent:
            self.notes.append(_too_costly(f"{self.given}: .gitignore"))

    def _start(self) -> _Dir:
        """The walked directory: its work tree (if any) and the ``.gitignore`` files above it in that tree."""
        worktree = self.worktree
        if worktree is None:
            return _Dir(self.root, "", None)
        from kmslint.gitindex import git_dir

        gitdir = git_dir(worktree)
        if gitdir is None:  # gone since it was found
            return _Dir(self.root, "", None)
        rel = _posix(os.path.relpath(self.real_root, worktree)) if self.real_root != worktree else ""
        repo = _Repo(gitdir, worktree if rel else self.given, self.notes)
        chain: Chain = ()
        if rel:
            parts = rel.split("/")
            for k in range(len(parts)):  # the work tree's root down to the walked directory's parent
                base = "/".join(parts[:k])
                rules = self._gitignore(os.path.join(worktree, base) if base else worktree)
                if rules is not None:
                    chain = (*chain, (base, rules))
        return _Dir(self.root, rel, repo, chain)

    def _read(self, directory: str) -> list[os.DirEntry[str]] | None:
        """The sorted entries of a directory, or None if seen before (a link loop) or unreadable."""
        try:
            info = os.stat(directory)  # one call, where resolve() is one per path component
        except PermissionError as exc:
            self._unreadable(directory, exc)
            return None
        except (OSError, ValueError):
            return None  # gone since it was listed
        if (info.st_dev, info.st_ino) in self._visited:
            return None  # a symlink loop, or a directory reached twice
        self._visited.add((info.st_dev, info.st_ino))
        try:
            return _sorted_entries(directory)
        except OSError as exc:
            self._unreadable(directory, exc)
            return None

    def _unreadable(self, directory: str, exc: OSError) -> None:
        self.notes.append(f"{self.shown(directory)}: cannot read this directory ({_why(exc)}); not linted")

    def _nested_repo(self, d: _Dir) -> _Dir:
        """A directory holding ``.git`` is a work tree of its own (a submodule, a nested clone):
        its own index and ``.gitignore`` files apply inside it, not the outer ones."""
        from kmslint.gitindex import git_dir

        gitdir = git_dir(d.path)
        if gitdir is None:
            return d
        return _Dir(d.path, "", _Repo(gitdir, self.shown(d.path), self.notes))

    def _with_gitignore(self, d: _Dir) -> _Dir:
        """``d`` with its own ``.gitignore`` applied below it."""
        if len(d.chain) >= MAX_GITIGNORE_NESTING:
            if not self._too_deep:  # said once: a hostile tree may hold thousands
                self._too_deep = True
                self.notes.append(
                    f"{self.shown(os.path.join(d.path, '.gitignore'))}: not applied, nor any deeper one:"
                    f" {MAX_GITIGNORE_NESTING} .gitignore files above it already apply"
                )
            return d
        rules = self._gitignore(d.path)
        return d if rules is None else _Dir(d.path, d.rel, d.repo, (*d.chain, (d.rel, rules)))

    def _gitignore(self, directory: str) -> RuleList | None:
        from kmslint.gitindex import read_capped

        path = os.path.join(directory, ".gitignore")
        # Not through a symbolic link (git does not follow them either): it could lead out of the tree.
        data = read_capped(path, MAX_GITIGNORE_BYTES, follow=False)
        if data is None:
            if os.path.lexists(path):
                self.notes.append(
                    f"{self.shown(path)}: not read (not a readable file of at most {MAX_GITIGNORE_BYTES} bytes,"
                    " or a symbolic link), so it ignores nothing"
                )
            return None
        from kmslint.ignore import MAX_PATTERNS, Budget, RuleList

        if self._budget is None:
            self._budget = Budget()
        rules = RuleList(os.fsdecode(data).split("\n"), self._budget)
        if rules.dropped:
            self.notes.append(f"{self.shown(path)}: only its first {MAX_PATTERNS} patterns are applied")
        return rules if rules else None

    def _entry(self, d: _Dir, entry: os.DirEntry[str], subdirs: list[_Dir]) -> tuple[str, str] | None:
        """A candidate file to yield (path, shown), or None; a directory to enter goes on ``subdirs``."""
        name = entry.name
        try:
            is_dir = entry.is_dir()
            if not is_dir and not (self._kept(name, d.path) and entry.is_file()):
                return None
            link = entry.is_symlink()
        except PermissionError as exc:  # a directory that may not be searched
            self._unreadable(os.path.join(d.path, name), exc)
            return None
        except OSError:
            return None  # a link loop, or gone since it was listed
        path = os.path.join(d.path, name)
        if link and not self.link_inside(path):
            return None  # never follow a link out of the scanned tree
        if self.excluded.rules is not None and self.excluded.entry(_below(path, self.root), path, is_dir):
            return None
        rel = f"{d.rel}/{name}" if d.rel else name
        if is_dir:
            if name == ".git":
                return None  # git tracks nothing in it
            if d.tracked_only or name in SKIP_DIRS or self._ignored(d, rel, name, True):
                if d.repo is not None and d.repo.tracked().has_under(rel):
                    subdirs.append(_Dir(path, rel, d.repo, d.chain, tracked_only=True))
                else:
                    self.skipped.append(path)
                return None
            subdirs.append(_Dir(path, rel, d.repo, d.chain))
            return None
        if (d.tracked_only or self._ignored(d, rel, name, False)) and not (d.repo and d.repo.tracked().has_file(rel)):
            if is_terraform(name):
                self.skipped_tf.setdefault(d.path, []).append(path)
            return None
        return path, self.shown(path)

    def _kept(self, name: str, directory: str) -> bool:
        """Is a file of this name, in this directory, one a walk lints?"""
        return is_candidate(name) or (self.listed is not None and self.listed(os.path.join(directory, name)))

    def link_inside(self, path: str) -> bool:
        try:
            target = os.path.realpath(path, strict=True)
        except (OSError, RuntimeError, ValueError):
            return False  # broken, looping, or not a path the OS takes
        return _inside(target, self.real_root)

    @staticmethod
    def _ignored(d: _Dir, rel: str, name: str, is_dir: bool) -> bool:
        """Does a ``.gitignore`` ignore ``rel`` (named ``name``)?  The deepest file with a matching
        pattern decides; one without anchored patterns needs the name only."""
        for base, rules in reversed(d.chain):
            decided = rules.decide((rel[len(base) + 1 :] if base else rel) if rules.anchored else name, is_dir)
            if decided is not None:
                return decided
        return False


def _identities(paths: Iterable[str]) -> set[tuple[int, int]]:
    out = set()
    for path in paths:
        try:
            info = os.stat(path)
        except (OSError, ValueError):
            continue
        out.add((info.st_dev, info.st_ino))
    return out


def _sorted_entries(directory: str) -> list[os.DirEntry[str]]:
    return sorted(os.scandir(directory), key=lambda e: e.name)  # reading to the end closes it


# --------------------------------------------------------------------------- module sources


def _module_files(walks: list[_Walk], tf_dirs: dict[str, Unit]) -> Iterator[tuple[_Walk, str]]:
    """Terraform files of local module directories that the walks skipped, with their walk.

    ``module "x" { source = "./venv" }`` makes Terraform load ``./venv``
    whatever its name or a ``.gitignore`` says, so its files are linted, and
    the modules they call in turn.  Only a directory inside the walked tree
    (symlinks resolved) and not excluded counts.
    """
    from kmslint.modsources import Candidate, local_sources

    ignored_tf = {d for w in walks for d in w.skipped_tf}
    names = {os.path.basename(d) for w in walks for d in (*w.skipped, *w.skipped_tf)}
    seen: set[str] = set()
    pending = [
        # A file at or below a directory with skipped files may reach it with "../" alone.
        Candidate(str(f), unit.scan_root, always=_at_or_below(unit.path, ignored_tf))
        for unit in sorted(tf_dirs.values(), key=lambda u: str(u.path))
        for f in sorted(unit.reported)
    ]
    while pending:
        sources = local_sources(pending, names)
        pending = []
        for source in sorted(sources - seen):
            seen.add(source)
            walk = next((w for w in walks if _skipped_by(w, source)), None)
            if walk is None or walk.excluded.tree(source) or not walk.link_inside(source):
                continue
            known = tf_dirs[source].reported if source in tf_dirs else set()
            for f in _terraform_files(Path(source)):
                path = str(f)
                if f in known or walk.excluded.entry(_below(path, walk.root), path, False):
                    continue
                if os.path.islink(path) and not walk.link_inside(path):
                    continue
                pending.append(Candidate(path, walk.scan_root, always=True))
                yield walk, path


def excluded_files(files: Iterable[str], walked: Iterable[Path], patterns: Iterable[str]) -> set[str]:
    """Those of ``files`` (as named in findings) that the excludes would have kept out of a walk.

    A configuration evaluates the modules it calls wherever they are (RULES.md,
    "Modules"); the excludes are the user's choice of what is reported, so a
    finding in an excluded module file is not (kmslint.api).
    """
    rules = _Excludes(list(patterns))
    if rules.rules is None:
        return set()
    roots = [str(r) for r in walked]
    out: set[str] = set()
    for name in files:
        absolute = os.path.abspath(name)
        for root in roots:
            if not _inside(absolute, root) or absolute == root:
                continue
            rel = _below(absolute, root)
            parts = rel.split("/")
            dirs = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
            if any(rules.entry(d, os.path.join(root, d), True) for d in dirs) or rules.entry(rel, absolute, False):
                out.add(name)
    return out


def _at_or_below(directory: Path, dirs: set[str]) -> bool:
    if not dirs:
        return False
    return any(str(d) in dirs for d in (directory, *directory.parents))


def _skipped_by(walk: _Walk, directory: str) -> bool:
    """Did ``walk`` skip ``directory``, a directory above it, or Terraform files in it?

    By name first; then by identity (device and inode), for a source that
    names a skipped directory otherwise than the walk met it: in another
    case on a case-insensitive file system (``./VENV`` for ``venv`` on macOS).
    """
    if directory in walk.skipped_tf or any(_inside(directory, s) for s in walk.skipped):
        return True
    skipped, with_tf = walk.skipped_identities()
    here = directory
    while _inside(here, walk.root):
        try:
            info = os.stat(here)
        except (OSError, ValueError):
            return False
        key = (info.st_dev, info.st_ino)
        if key in skipped or (here == directory and key in with_tf):
            return True
        if here == walk.root:
            return False
        here = os.path.dirname(here)
    return False
