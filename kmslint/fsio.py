"""Reading and writing files whose names a pull request may have planted.

kmslint runs on pull requests, so any name in the scanned tree may be a
symbolic link (to ``~/.bashrc``, ``/dev/zero``, a FIFO), and a file it is
asked to write may have a planted neighbour.  Every file kmslint reads that
is not an input passed through the parsers (configuration, baseline) and
every file it writes goes through here:

* :func:`read_regular` reads a regular file only (a device, FIFO or socket is
  refused without blocking on it) and never more than a cap, in chunks, so
  neither ``/dev/zero`` nor a huge file nor a huge cap can exhaust memory;
* :func:`read_head` reads the first bytes of a regular file, however large
  (a file over the size limit is looked at for signs of IaC);
* :func:`read_stream` reads a stream (stdin) under the same cap;
* :func:`write_atomic` writes a new file under a fresh random name created
  with ``O_CREAT|O_EXCL|O_NOFOLLOW`` in the target's directory, then renames
  it over the target: ``os.replace`` replaces a symbolic link at the target,
  never the file it points to, and no fixed temporary name exists for
  anyone to plant.

:func:`kmslint.parsers.common.read_source` reads sources with
:func:`read_regular` too.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO

# Read past the first chunk (a file that grew after fstat, or a /proc file
# whose size says 0) this much at a time.
CHUNK = 65536


class NotRegularFile(OSError):
    """A device, FIFO, socket or directory where a regular file was expected: not read."""


class TooLarge(OSError):
    """More than the cap allows; ``size`` is the size fstat gave, None when the file grew past it."""

    def __init__(self, limit: int, size: int | None = None) -> None:
        super().__init__(f"over the {limit}-byte limit")
        self.limit = limit
        self.size = size


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file at ``path`` (links followed), at most ``limit`` of them.

    Raises :class:`NotRegularFile`, :class:`TooLarge`, or the ``OSError``
    opening or reading gave.  What is not a regular file is not even opened
    (opening some devices acts: a tape rewinds, a watchdog starts); should
    the name change in between, the file is opened non-blocking, so a FIFO
    cannot stall the run before fstat refuses it.
    """
    fd, size = _open_regular(path)
    try:
        if size > limit:
            raise TooLarge(limit, size)
        return _read_capped(lambda n: os.read(fd, n), limit, size)
    finally:
        os.close(fd)


def read_head(path: str | os.PathLike[str], size: int) -> bytes:
    """At most the first ``size`` bytes of the regular file at ``path``, however large it is
    (with :func:`read_regular`'s care: a device, FIFO or socket is never read)."""
    fd, _ = _open_regular(path)
    try:
        chunks: list[bytes] = []
        left = size
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _open_regular(path: str | os.PathLike[str]) -> tuple[int, int]:
    """A descriptor of the regular file at ``path``, and its size (see :func:`read_regular`)."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise NotRegularFile(f"{os.fspath(path)!r} is not a regular file")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotRegularFile(f"{os.fspath(path)!r} is not a regular file")
    return fd, info.st_size


def read_stream(stream: BinaryIO, limit: int) -> bytes:
    """All of a binary stream up to its end, at most ``limit`` bytes (:class:`TooLarge` beyond)."""
    return _read_capped(stream.read, limit, CHUNK)


def _read_capped(read: Callable[[int], bytes], limit: int, expected: int) -> bytes:
    """Read until end of file; raise :class:`TooLarge` past ``limit`` bytes.

    The first read asks for what fstat promised plus one byte (so a normal
    file is two system calls: its bytes, then the end), later ones a chunk
    at a time: never an allocation the size of the cap itself.
    """
    chunks: list[bytes] = []
    total = 0
    want = min(expected, limit) + 1
    while total <= limit:
        chunk = read(min(want, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = CHUNK
    if total > limit:
        raise TooLarge(limit)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def write_atomic(path: str | os.PathLike[str], data: bytes, *, dir_fd: int | None = None, mode: int = 0o666) -> None:
    """Make ``path`` a new regular file holding ``data``, without following any link at ``path``.

    The bytes go to a fresh, randomly named file created exclusively and
    without following links in the same directory, which is then renamed
    over ``path``.  A symbolic link at ``path`` is replaced by the file,
    never written through; a planted temporary name cannot exist, since
    the name is new and creating it fails rather than opening whatever is
    there.  Nor is the file written through a directory link that leads out
    of the repository holding it (:class:`LinkOutOfRepository`): a pull
    request may plant ``reports -> ~/.config``.  ``dir_fd``: ``path`` is a
    name in that open directory (its caller vouches for it).  ``mode``: as
    for ``os.open`` (the umask applies).  Raises the
    ``OSError`` of the step that failed; nothing is left behind then.
    """
    head, name = os.path.split(os.fspath(path))
    if not name:
        raise IsADirectoryError(f"{os.fspath(path)!r} names a directory")
    if dir_fd is None and directory_escapes(head or "."):
        raise LinkOutOfRepository
    if dir_fd is None and os.open in os.supports_dir_fd:
        directory = os.open(head or ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            _write_in(directory, name, data, mode)
        finally:
            os.close(directory)
    elif dir_fd is not None:
        if head:
            raise ValueError("with dir_fd, path must be a name in that directory")
        _write_in(dir_fd, name, data, mode)
    else:  # no dir_fd support (Windows): the same steps on joined paths
        _write_in(None, os.fspath(path), data, mode, head)


def _write_in(directory: int | None, name: str, data: bytes, mode: int, head: str = "") -> None:
    flags = (
        os.O_WRONLY
        | os.O_CREAT
        | os.O_EXCL
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_BINARY", 0)
        | getattr(os, "O_CLOEXEC", 0)
    )
    for _attempt in range(16):
        tmp = os.path.join(head, f".kmslint-{os.urandom(8).hex()}.tmp")
        try:
            fd = os.open(tmp, flags, mode, dir_fd=directory)
        except FileExistsError:  # astronomically unlikely, unless someone guesses: draw again
            continue
        break
    else:
        raise FileExistsError(f"no fresh temporary name in {head or '.'!r}")
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=directory)
        raise


def link_escapes(path: str | os.PathLike[str], *, outside_repositories: bool = True) -> bool:
    """Is ``path`` a symbolic link to something outside the repository that holds the link?

    The repository is the nearest real directory above the link that holds
    ``.git`` (a pull request cannot commit a ``.git``, so it cannot move
    that boundary); outside any repository, the link's own directory, or,
    with ``outside_repositories=False``, no boundary at all.  A pull request
    can commit ``.kmslint.toml -> ~/.aws/credentials``: kmslint must not
    read outside the tree it was given.  A broken link is not an escape
    (reading it fails anyway).
    """
    if not os.path.islink(path):
        return False
    try:
        here = os.path.realpath(os.path.dirname(os.path.abspath(path)))
        target = os.path.realpath(path, strict=True)
    except OSError:  # broken, or relative with the current directory deleted: it cannot be read anyway
        return False
    root = _repository(here)
    if root is None:
        if not outside_repositories:
            return False
        root = here
    return os.path.commonpath([target, root]) != root


def directory_escapes(directory: str | os.PathLike[str]) -> bool:
    """Does the way to ``directory`` pass through a link that leads out of the repository holding it?

    Each link on the path is judged by :func:`link_escapes`; a link outside
    any repository (``/home -> /data/home``, a user's own) is the user's.
    """
    try:
        absolute = os.path.abspath(directory)
    except OSError:
        return False
    return any(os.path.islink(p) and link_escapes(p, outside_repositories=False) for p in _ancestors(absolute))


class LinkOutOfRepository(OSError):
    """A name that leads out of its repository through a symbolic link: not read, not written through."""

    def __init__(self) -> None:
        super().__init__(errno.EPERM, "a symbolic link on the way leads out of the repository")


def _repository(directory: str) -> str | None:
    """The nearest directory at or above ``directory`` (a real path) that holds ``.git``."""
    for candidate in _ancestors(directory):
        if os.path.exists(os.path.join(candidate, ".git")):
            return candidate
    return None


def _ancestors(directory: str) -> list[str]:
    out = [directory]
    while os.path.dirname(out[-1]) != out[-1]:
        out.append(os.path.dirname(out[-1]))
    return out


def cwd() -> str | None:
    """The current directory, or None when it has been deleted (or cannot be named)."""
    try:
        return os.getcwd()
    except OSError:
        return None
