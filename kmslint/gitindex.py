"""Which files git tracks, read from the repository's index file, without running git.

OUTPUT.md: "Git-tracked files are always linted; .gitignore applies to
untracked files only" -- Terraform deploys what is committed, whatever a
``.gitignore`` says.  Knowing what is committed means reading the index
(``.git/index``).  Running ``git ls-files`` is not an option: a hostile
repository's configuration can make git run programs (``core.fsmonitor``,
hooks), and kmslint never executes anything found in its input.

The index format (git's ``Documentation/gitformat-index.txt``): a ``DIRC``
header with the version (2, 3 or 4) and the entry count; the entries, each
fixed-size stat data, the object ID (20 bytes for SHA-1, 32 for SHA-256),
16-bit flags (an extended-flags word follows when bit 14 is set, versions 3
and 4), and the path -- NUL-terminated and padded to a multiple of 8 bytes in
versions 2 and 3, prefix-compressed against the previous path in version 4;
then extensions; then the checksum of everything before it.  A split index
(``link`` extension) keeps most entries in a shared index file next to it,
whose entries are added; a sparse index has directory entries (``dir/``)
standing for everything under them.

Reading is defensive: the file is read only if it is a regular file under
:data:`MAX_INDEX_BYTES`, paths are capped (:data:`MAX_PATH_BYTES`, and
:data:`MAX_PATHS_BYTES` together), and anything unexpected (bad signature,
checksum, bounds) gives a :class:`Tracked` that says every path is tracked -- a
damaged index makes kmslint lint everything rather than skip something.
Paths are decoded as the file system's names are (``os.fsdecode``), so a
name that is not UTF-8 matches the name ``os.scandir`` returns.
"""

from __future__ import annotations

import os
import stat
from bisect import bisect_left

# git's own index for 400,000 files is about 40 MB; past this the index is not read (everything is tracked).
MAX_INDEX_BYTES = 64 * 1024 * 1024
# A path longer than this is not a path (PATH_MAX); version 4 rebuilds each path from the one
# before it, so all paths together are capped too (and to 8 times the index's size), or a small
# hostile index could ask for gigabytes.
MAX_PATH_BYTES = 4096
MAX_PATHS_BYTES = 128 * 1024 * 1024
# A ``.git`` file (worktrees, submodules) is one line; a bigger one is not a gitdir pointer.
_MAX_GITFILE_BYTES = 4096

_ENTRY_FIXED = 40  # ctime, mtime, dev, ino, mode, uid, gid, size: ten 32-bit words
_EXTENDED = 0x4000
_S_IFGITLINK = 0o160000
_S_IFDIR = 0o040000


class Tracked:
    """The paths of one index, relative to the work tree's root, ``/``-separated.

    ``everything``: the index could not be read, so every path counts as
    tracked.
    """

    __slots__ = ("_dirs", "_paths", "_sparse", "everything")

    def __init__(self, paths: list[str] | None, sparse: bool = False) -> None:
        self.everything = paths is None
        self._paths = sorted(paths or ())
        self._sparse = sparse
        self._dirs: set[str] | None = None

    def has_file(self, rel: str) -> bool:
        """Is the file ``rel`` tracked?"""
        if self.everything:
            return True
        i = bisect_left(self._paths, rel)
        if i < len(self._paths) and self._paths[i] == rel:
            return True
        return self._sparse and self._in_sparse_dir(rel)

    def has_under(self, rel_dir: str) -> bool:
        """Does the directory ``rel_dir`` hold a tracked path (or is it a tracked submodule)?"""
        if self.everything:
            return True
        i = bisect_left(self._paths, rel_dir)
        if i < len(self._paths) and self._paths[i] == rel_dir:
            return True  # a submodule (gitlink) entry
        prefix = rel_dir + "/"
        i = bisect_left(self._paths, prefix, i)
        if i < len(self._paths) and self._paths[i].startswith(prefix):
            return True
        return self._sparse and self._in_sparse_dir(rel_dir)

    def _in_sparse_dir(self, rel: str) -> bool:
        # A sparse-index entry "dir/" stands for every path under dir.
        cut = rel.find("/")
        while cut >= 0:
            prefix = rel[: cut + 1]
            i = bisect_left(self._paths, prefix)
            if i < len(self._paths) and self._paths[i] == prefix:
                return True
            cut = rel.find("/", cut + 1)
        return False


EVERYTHING = Tracked(None)


# --------------------------------------------------------------------------- finding the repository


def git_dir(worktree: str) -> str | None:
    """The git directory of the work tree rooted at ``worktree``: its ``.git`` directory, or
    where its ``.git`` file (linked worktrees, submodules) points; None if it has neither."""
    marker = os.path.join(worktree, ".git")
    try:
        info = os.stat(marker)
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(info.st_mode):
        return marker
    if not stat.S_ISREG(info.st_mode):
        return None
    data = read_capped(marker, _MAX_GITFILE_BYTES)
    if data is None:
        return None
    line = os.fsdecode(data).split("\n", 1)[0].strip()
    if not line.startswith("gitdir:"):
        return None
    target = line[len("gitdir:") :].strip()
    if not target:
        return None
    return os.path.normpath(os.path.join(worktree, target))


def find_worktree(directory: str) -> str | None:
    """The root of the git work tree holding ``directory`` (absolute), or None outside git.

    As git finds it: the nearest directory, ``directory`` or above, with a
    ``.git`` directory or a ``.git`` file pointing to one.
    """
    here = directory
    while True:
        if git_dir(here) is not None:
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


# --------------------------------------------------------------------------- reading the index


def read_capped(path: str, limit: int, follow: bool = True) -> bytes | None:
    """The bytes of a regular file of at most ``limit`` bytes; None otherwise (or if unreadable).

    Opened non-blocking, so a FIFO cannot stall the run before fstat refuses
    it; ``follow=False`` refuses a symbolic link as well.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError):
        return None
    try:
        with open(fd, "rb") as fh:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                return None
            data = fh.read(limit + 1)
    except OSError:
        return None
    return data if len(data) <= limit else None


def read_tracked(gitdir: str) -> Tracked:
    """What the index in ``gitdir`` tracks.  No index file: nothing (a new repository);
    an index that cannot be read or makes no sense: :data:`EVERYTHING`."""
    index = os.path.join(gitdir, "index")
    try:
        os.lstat(index)
    except FileNotFoundError:
        return Tracked([])
    except (OSError, ValueError):
        return EVERYTHING
    data = read_capped(index, MAX_INDEX_BYTES)
    if data is None:
        return EVERYTHING
    parsed = parse_index(data)
    if parsed is None:
        return EVERYTHING
    paths, sparse, shared = parsed
    if shared is not None:
        # A split index: most entries live in the shared index.  Its deletions are not
        # applied (they are EWAH bitmaps), so a path deleted since counts as tracked.
        shared_data = read_capped(os.path.join(gitdir, f"sharedindex.{shared}"), MAX_INDEX_BYTES)
        more = parse_index(shared_data) if shared_data is not None else None
        if more is None:
            return EVERYTHING
        paths.extend(more[0])
        sparse = sparse or more[1]
    return Tracked(paths, sparse)


def parse_index(data: bytes) -> tuple[list[str], bool, str | None] | None:
    """``(paths, has sparse directory entries, shared index ID or None)``, or None if damaged.

    The checksum tells the hash function (SHA-1 or SHA-256) and so the
    entries' layout; an index written with ``index.skipHash`` has a zero
    checksum, and both layouts are tried.
    """
    if len(data) < 12 + 20 or data[:4] != b"DIRC":
        return None
    version = int.from_bytes(data[4:8], "big")
    if version not in (2, 3, 4):
        return None
    count = int.from_bytes(data[8:12], "big")
    import hashlib

    for size, algorithm in ((20, "sha1"), (32, "sha256")):
        if len(data) < 12 + size:
            continue
        trailer = data[-size:]
        if trailer != hashlib.new(algorithm, data[:-size]).digest() and trailer.strip(b"\0"):
            continue
        parsed = _entries(data, version, count, size)
        if parsed is not None:
            return parsed
    return None


def _entries(data: bytes, version: int, count: int, hash_size: int) -> tuple[list[str], bool, str | None] | None:
    end = len(data) - hash_size
    fixed = _ENTRY_FIXED + hash_size + 2
    pos = 12
    paths: list[str] = []
    sparse = False
    previous = b""
    total = 0
    most = min(MAX_PATHS_BYTES, 8 * len(data))  # version 4 saves a few times the paths' size, not more
    fsdecode = os.fsdecode
    for _ in range(count):
        if pos + fixed > end:
            return None
        mode = int.from_bytes(data[pos + 24 : pos + 28], "big")
        flags = int.from_bytes(data[pos + fixed - 2 : pos + fixed], "big")
        start = pos + fixed
        if flags & _EXTENDED:
            if version < 3:
                return None
            start += 2
        if version == 4:
            strip, start = _varint(data, start, end)
            if strip < 0 or strip > len(previous):
                return None
            nul = data.find(b"\0", start, end)
            if nul < 0:
                return None
            name = previous[: len(previous) - strip] + data[start:nul]
            pos = nul + 1
        else:
            nul = data.find(b"\0", start, end)
            if nul < 0:
                return None
            name = data[start:nul]
            pos += (nul - pos + 8) & ~7  # the entry, its NUL and padding to a multiple of 8
            if pos > end:
                return None
        previous = name
        total += len(name)
        if not name or len(name) > MAX_PATH_BYTES or total > most:
            return None
        if stat.S_IFMT(mode) == _S_IFDIR:
            sparse = True
        elif mode & 0o170000 == _S_IFGITLINK:
            pass  # a submodule: its directory path, found by has_under
        paths.append(fsdecode(name))
    shared = _extensions(data, pos, end, hash_size)
    if shared is None:
        return None
    return paths, sparse, shared or None


def _varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """git's offset varint (version 4 path compression); ``(-1, pos)`` if it runs off the end."""
    if pos >= end:
        return -1, pos
    byte = data[pos]
    pos += 1
    value = byte & 0x7F
    while byte & 0x80:
        if pos >= end or value > 1 << 32:
            return -1, pos
        byte = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, pos


def _extensions(data: bytes, pos: int, end: int, hash_size: int) -> str | None:
    """The shared index ID of a ``link`` extension, "" if none, None if the extensions are damaged."""
    shared = ""
    while pos < end:
        if pos + 8 > end:
            return None
        signature = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "big")
        body = pos + 8
        if body + size > end:
            return None
        if signature == b"link":
            if size < hash_size:
                return None
            oid = data[body : body + hash_size]
            if oid.strip(b"\0"):
                shared = oid.hex()
        pos = body + size
    return shared


__all__ = ["EVERYTHING", "MAX_INDEX_BYTES", "Tracked", "find_worktree", "git_dir", "parse_index", "read_tracked"]
