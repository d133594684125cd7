"""The files of a git revision, written to a fresh temporary directory, never over the work tree.

``kmslint access --diff REV`` compares the access report of the work tree
with that of ``REV``.  :func:`materialise` gives the second one something to
read: a temporary directory holding the regular files committed in ``REV``
(every one the caps allow, so that modules and ``file()`` reads outside the
scanned paths are there too), with each scanned path mapped to the same
relative path inside it.  The contract:

* git is run as a subprocess with a fixed argv, no shell, in the directory
  of the first scanned path: ``rev-parse`` (find the work tree, resolve
  ``REV``), ``ls-tree -r -l -z`` (the tree, with sizes) and ``cat-file
  --batch`` (the raw blobs).  Nothing is checked out; no command used reads
  or writes the index or the work tree, so ``git status`` and the index
  file are the same bytes afterwards.  Raw blobs mean no ``.gitattributes``
  filter, ``export-subst`` or ``export-ignore`` applies: the files are what
  the commit holds.  :meth:`Revision.display` names a file of the revision
  as the work tree's report names the same file.
* The child's environment has no ``GIT_*`` variable of the caller's (they
  could point git at another repository, index, configuration or
  executable); it gets ``GIT_TERMINAL_PROMPT=0``, ``GIT_OPTIONAL_LOCKS=0``
  and ``GIT_NO_LAZY_FETCH=1``.  ``-c`` options turn off what a hostile
  repository's configuration could make these commands run: the fsmonitor,
  hooks, and every transport (``protocol.allow=never``; a partial clone's
  missing blob is then an error, not a download); replace refs are ignored.
* ``REV`` is refused when empty, over :data:`MAX_REV_CHARS`, starting with
  ``-`` or holding a control character, then verified with ``git rev-parse
  --verify --end-of-options REV^{commit}``; the tree is read by the commit
  ID that gives.
* Paths from the tree are never trusted: one with an empty, ``.`` or ``..``
  component, a ``.git`` component (any case), a separator of this system
  inside a component, or a NUL is skipped; symbolic links and submodules
  are skipped (never created, so nothing can lead out of the directory);
  files are created with ``O_EXCL|O_NOFOLLOW`` in directories this module
  made.  A file over ``max_file_bytes`` is skipped; more than ``max_files``
  files, more than ``max_total_bytes`` in all, or a listing of the tree
  over :data:`MAX_LISTING_BYTES` is an error.  What was
  skipped is in :attr:`Revision.skipped`, each with why.
* The directory looks to discovery like a work tree whose every file is
  tracked (everything in it was committed): it has a ``.git`` directory
  whose ``index`` is a marker :mod:`kmslint.gitindex` reads as "everything"
  -- so the scan root is the revision's root, as in the work tree, and no
  ``.gitignore`` hides a committed file.
* Errors (git not installed, not inside a git work tree, a scanned path
  outside it, an unknown revision, a revision over the caps, a failure of
  git) raise :class:`GitRevError`, whose message is one line; the caller
  prints it and exits 2 (:data:`kmslint.exitcodes.ERROR`).  The directory is
  removed when the ``with`` block ends, however it ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile

from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import IO

MAX_REV_CHARS = 1024
# As kmslint's own default max-file-bytes: a larger file would not be linted in the work tree either.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_FILES = 100_000
MAX_TOTAL_BYTES = 512 * 1024 * 1024
# ls-tree's listing: ~100 bytes a path, so MAX_FILES paths with room for the ones skipped.
MAX_LISTING_BYTES = 64 * 1024 * 1024
# git's own commands here take milliseconds on real repositories; a hung one is an error.
TIMEOUT_SECONDS = 300.0

# Read by kmslint.gitindex as an index that makes no sense: every file counts as tracked.
INDEX_MARKER = b"kmslint: every file of this directory was committed in the revision it was read from\n"

_CONFIG = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    f"core.hooksPath={os.devnull}",
    "-c",
    "protocol.allow=never",
)
_REGULAR_MODES = (b"100644", b"100755", b"100664")


class GitRevError(Exception):
    """Why a revision could not be read: one line, for stderr before exit 2."""


class Revision(Record):
    root: str  # the temporary directory: the revision's work-tree root
    commit: str  # the commit ID REV resolved to
    paths: list[str]  # each scanned path, mapped into root (may not exist in the revision)
    files: int = 0  # files written
    skipped: list[str] = field(default_factory=list)  # "path: why", for each entry not written
    top: str = ""  # the work tree's root (resolved)
    given: list[str] = field(default_factory=list)  # the scanned paths as the caller wrote them

    def display(self, path: str) -> str:
        """The name ``path`` (a file of the revision) has in the work tree, so that both reports
        name a file alike: below a scanned path, as that path was written (``infra/main.tf``);
        elsewhere below :attr:`root`, the work tree's absolute path; anything else unchanged."""
        for mapped, given in sorted(zip(self.paths, self.given), key=lambda pair: -len(pair[0])):
            rest = _below(path, mapped)
            if rest is not None:
                return os.path.normpath(os.path.join(given, rest)) if rest else given
        rest = _below(path, self.root)
        if rest is None or not self.top:
            return path
        return os.path.join(self.top, rest) if rest else self.top


def _below(path: str, directory: str) -> str | None:
    """``path`` relative to ``directory`` ("" for itself), or None when not inside it."""
    if path == directory:
        return ""
    prefix = directory.rstrip(os.sep) + os.sep
    return path[len(prefix) :] if path.startswith(prefix) else None


class _Entry(Record, frozen=True):
    path: bytes
    oid: str
    size: int


def git_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment git runs in: the caller's without any ``GIT_*`` variable, plus ours."""
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if not k.upper().startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", GIT_NO_LAZY_FETCH="1")
    return env


def check_rev(rev: object) -> str:
    """``rev`` if it may be passed to git at all, else :class:`GitRevError`."""
    if not isinstance(rev, str) or not rev:
        raise GitRevError("the revision to compare with is empty")
    if len(rev) > MAX_REV_CHARS:
        raise GitRevError(f"the revision is longer than {MAX_REV_CHARS} characters")
    if rev.startswith("-"):
        raise GitRevError(f"not a revision: {_quoted(rev)} (a revision does not start with '-')")
    if not rev.isprintable():
        raise GitRevError(f"not a revision: {_quoted(rev)} (it holds a control character)")
    return rev


def _quoted(text: str) -> str:
    from kmslint.formatters import terminal

    return repr(terminal(text[:80]))


class _Git:
    """git, run in one directory with the fixed options and environment."""

    def __init__(self, cwd: str) -> None:
        exe = shutil.which("git")
        if exe is None:
            raise GitRevError("git is not installed (no git on PATH): cannot read another revision")
        self.argv = [exe, "--no-pager", "--no-replace-objects", *_CONFIG]
        self.cwd = cwd
        self.env = git_env()

    def run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                [*self.argv, *args],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except FileNotFoundError:
            raise GitRevError("git is not installed (no git on PATH): cannot read another revision") from None
        except subprocess.TimeoutExpired:
            raise GitRevError(f"git {args[0]} took over {TIMEOUT_SECONDS:.0f} s") from None
        except OSError as exc:
            raise GitRevError(f"cannot run git: {exc.strerror or exc}") from None

    def listing(self, *args: str, limit: int) -> bytes:
        """The output of a git command that may be huge, at most ``limit`` bytes of it, else an error."""
        with tempfile.TemporaryFile() as errors:
            try:
                proc = subprocess.Popen(
                    [*self.argv, *args],
                    cwd=self.cwd,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=errors,
                )
            except OSError as exc:
                raise GitRevError(f"cannot run git: {exc.strerror or exc}") from None
            assert proc.stdout is not None
            with proc:
                out = proc.stdout.read(limit + 1)
                if len(out) > limit:
                    proc.kill()
                    raise GitRevError(f"git {args[0]} wrote over {limit} bytes: the revision is too large")
                if proc.wait() != 0:
                    errors.seek(0)
                    raise GitRevError(f"git {args[0]} failed: {_first_line(errors.read(4096))}")
        return out

    def batch(self) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(
                [*self.argv, "cat-file", "--batch"],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise GitRevError(f"cannot run git: {exc.strerror or exc}") from None


def _first_line(data: bytes) -> str:
    from kmslint.formatters import terminal

    lines = [ln for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    return terminal(lines[0].strip()[:200]) if lines else "no message"


def _toplevel(paths: Sequence[str]) -> tuple[str, str, list[str]]:
    """(the directory git runs in, the work tree's root, each path relative to it), all resolved."""
    if not paths:
        paths = ["."]
    resolved = [os.path.realpath(p) for p in paths]
    first = resolved[0]
    cwd = first if os.path.isdir(first) else os.path.dirname(first)
    if not os.path.isdir(cwd):
        raise GitRevError(f"{_quoted(paths[0])}: no such directory")
    git = _Git(cwd)
    done = git.run("rev-parse", "--show-toplevel")
    top = done.stdout.decode("utf-8", "surrogateescape").strip() if done.returncode == 0 else ""
    if not top:
        raise GitRevError(f"{_quoted(paths[0])} is not inside a git work tree: {_first_line(done.stderr)}")
    top = os.path.realpath(top)
    rels = []
    for given, path in zip(paths, resolved):
        rel = os.path.relpath(path, top)
        if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
            raise GitRevError(f"{_quoted(given)} is outside the git work tree {_quoted(top)}")
        rels.append(rel)
    return cwd, top, rels


def resolve(git: _Git, rev: str) -> str:
    """The commit ID ``rev`` names, or :class:`GitRevError`."""
    check_rev(rev)
    done = git.run("rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}")
    oid = done.stdout.decode("ascii", "replace").strip()
    if done.returncode != 0 or not oid or not all(c in "0123456789abcdef" for c in oid):
        raise GitRevError(f"unknown revision {_quoted(rev)}: not a commit of this repository")
    return oid


def _tree(git: _Git, commit: str, skipped: list[str]) -> list[_Entry]:
    """The regular files of ``commit``'s tree with safe paths; the rest noted in ``skipped``."""
    listing = git.listing("ls-tree", "-r", "-l", "-z", "--full-tree", commit, limit=MAX_LISTING_BYTES)
    entries: list[_Entry] = []
    for record in listing.split(b"\0"):
        head, tab, path = record.partition(b"\t")
        if not tab:
            continue
        parts = head.split()
        if len(parts) != 4:
            continue
        mode, kind, oid, size = parts
        shown = _shown_path(path)
        if kind != b"blob" or mode not in _REGULAR_MODES:
            skipped.append(f"{shown}: {_KIND.get(mode, 'not a regular file')}, not read")
            continue
        why = unsafe_path(path)
        if why:
            skipped.append(f"{shown}: {why}, not read")
            continue
        entries.append(_Entry(path, oid.decode("ascii", "replace"), int(size) if size.isdigit() else -1))
    return entries


_KIND = {b"120000": "a symbolic link", b"160000": "a submodule"}


def _shown_path(path: bytes) -> str:
    from kmslint.formatters import terminal

    return terminal(os.fsdecode(path))


def unsafe_path(path: bytes) -> str | None:
    """Why a path from a tree may not be written below the directory, or None if it may."""
    if not path or b"\0" in path:
        return "an empty path or a NUL"
    if path.startswith(b"/"):
        return "an absolute path"
    seps = {os.sep.encode(), (os.altsep or "/").encode(), b"/"}
    for part in path.split(b"/"):
        if part in (b"", b".", b".."):
            return "an empty, '.' or '..' component"
        if part.lower() == b".git":
            return "a .git component"
        if any(sep in part for sep in seps):
            return "a path separator inside a name"
        if os.name == "nt" and (b":" in part or part.rstrip(b" .") != part):
            return "a name Windows cannot hold"
    return None


def _select(entries: list[_Entry], max_file_bytes: int, skipped: list[str]) -> list[_Entry]:
    kept = []
    for entry in entries:
        if entry.size < 0 or entry.size > max_file_bytes:
            skipped.append(f"{_shown_path(entry.path)}: {entry.size} bytes, over the {max_file_bytes}-byte limit")
        else:
            kept.append(entry)
    return kept


def _check_caps(entries: list[_Entry], max_files: int, max_total_bytes: int) -> None:
    if len(entries) > max_files:
        raise GitRevError(f"the revision has {len(entries)} files, over the limit of {max_files}")
    total = sum(e.size for e in entries)
    if total > max_total_bytes:
        raise GitRevError(f"the revision's files hold {total} bytes, over the limit of {max_total_bytes}")


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    read = stream.read
    chunks = []
    left = size
    while left > 0:
        chunk = read(min(left, 1 << 20))
        if not chunk:
            raise GitRevError("git cat-file ended early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _blobs(git: _Git, entries: list[_Entry]) -> Iterator[tuple[_Entry, bytes]]:
    """Each entry with its content, read by object ID from one ``git cat-file --batch``."""
    proc = git.batch()
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        for entry in entries:
            proc.stdin.write(entry.oid.encode("ascii") + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline(256).split()
            if len(header) != 3 or header[1] != b"blob" or not header[2].isdigit() or int(header[2]) != entry.size:
                raise GitRevError(f"git cat-file could not read {_shown_path(entry.path)} ({entry.oid[:12]})")
            data = _read_exact(proc.stdout, entry.size)
            _read_exact(proc.stdout, 1)  # the newline after the content
            yield entry, data
    except (BrokenPipeError, ValueError):
        raise GitRevError("git cat-file ended early") from None
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()
        proc.kill()
        proc.wait()
        proc.stdout.close()


_O_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def _write(root: str, path: bytes, data: bytes) -> None:
    """Write ``data`` at ``path`` below ``root``, making its directories; OSError if it cannot be."""
    parts = [os.fsdecode(p) for p in path.split(b"/")]
    here = root
    for part in parts[:-1]:
        here = os.path.join(here, part)
        try:
            os.mkdir(here, 0o700)
        except FileExistsError:
            if not os.path.isdir(here) or os.path.islink(here):
                raise
    target = os.path.join(here, parts[-1])
    fd = os.open(target, _O_FLAGS, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _mark_tracked(root: str) -> None:
    os.mkdir(os.path.join(root, ".git"), 0o700)
    fd = os.open(os.path.join(root, ".git", "index"), _O_FLAGS, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(INDEX_MARKER)


@contextlib.contextmanager
def materialise(
    rev: str,
    paths: Sequence[str],
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_files: int = MAX_FILES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> Iterator[Revision]:
    """The files of revision ``rev`` of the repository holding ``paths``, in a temporary directory.

    Yields a :class:`Revision`; the directory is removed when the block ends.
    Raises :class:`GitRevError` (one line) for anything that stops the read.
    """
    check_rev(rev)
    given = list(paths) or ["."]
    cwd, top, rels = _toplevel(given)
    git = _Git(cwd)
    commit = resolve(git, rev)
    skipped: list[str] = []
    entries = _select(_tree(git, commit, skipped), max_file_bytes, skipped)
    _check_caps(entries, max_files, max_total_bytes)
    root = os.path.realpath(tempfile.mkdtemp(prefix="kmslint-rev-"))
    try:
        _mark_tracked(root)
        written = 0
        for entry, data in _blobs(git, entries):
            try:
                _write(root, entry.path, data)
            except OSError as exc:
                skipped.append(f"{_shown_path(entry.path)}: cannot be written here ({exc.strerror or exc})")
                continue
            written += 1
        mapped = [root if rel == os.curdir else os.path.join(root, rel) for rel in rels]
        yield Revision(root, commit, mapped, written, skipped, top, given)
    finally:
        shutil.rmtree(root, ignore_errors=True)
