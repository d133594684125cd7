"""The findings cache (``--cache-dir DIR``, off by default): unit results, reused while nothing they read changed.

A unit is a Terraform directory, a template or a policy file.  Its entry is
named by a sha256 of everything the result depends on: the kmslint version
and code, the built-in catalogue, the settings and parse limits, the working
directory and scan root, the unit's file names and the text the parser
would read from each (or why it could not), and, for a Terraform
directory, every ``*.tfvars``/``*.tfvars.json`` entry in it (present or
absent, and its text).  Other inputs are *pinned* in the entry: every path
that ``file()``/``templatefile()`` read *or tried to read*, with what that
read gave (an absent file is pinned as absent, so creating it is a change).
A hit asks each pinned read again and is a miss when any answer differs.
:mod:`kmslint.parallel` decides what goes into the key and the pins; this
module stores, loads and checks entries.

Trust model, plainly: a cache directory is trusted as far as whoever can
write it.  Anyone who can write entries (another job sharing the runner, a
cache restored from another trust domain such as a fork's pull request, a
pull request that commits files into a cache directory kept inside the
repository) can make kmslint report a result that is not the tree's: an
entry can hide findings.  Use a cache only when everything that can write
it is as trusted as the code being linted, and never restore one across
trust domains.  Within that, nothing in the directory can do more than
that:

* Entries are JSON data, never pickle; reading one runs no code.
* An entry is read only from a regular file (opened with ``O_NOFOLLOW`` and
  ``O_NONBLOCK``, then ``fstat``), at most :data:`MAX_ENTRY_BYTES`, so a
  link to ``/dev/zero``, a FIFO or a huge file is a miss, never a hang or a
  memory blow-up.  It must name the key it is stored under and pass a
  schema check of every field (rule IDs that exist, known severities,
  positive lines and columns, strings that are strings, files that belong
  to the unit); anything else is a miss.
* Directories are opened and created without following links (directory
  descriptors with ``O_NOFOLLOW | O_DIRECTORY``, ``dir_fd=`` operations),
  from the scan root down when the cache lies inside the scanned tree, so
  a link planted in the tree or in the cache (``.kmslint-cache/ab ->
  ~/.ssh``) is never written through: the cache is refused instead.  So is
  a cache directory that another user owns or that everyone may write, and
  a system without ``dir_fd`` support.
* Writes go to a randomly named temporary file created with ``O_EXCL |
  O_NOFOLLOW`` and are renamed over the entry, so readers see a whole entry
  or none, and a planted name is replaced, never followed.

A file that changes while kmslint is reading it may be cached with what
kmslint read a moment earlier; whoever can change the tree during a run is
as trusted as the cache (see above).
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from kmslint import __version__
from kmslint.record import fields, is_record

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

FORMAT = 2  # bump when the entry layout changes
# No unit's honest result comes near this (a 4 MiB template with a finding every
# few lines encodes to ~2 MiB); a larger entry is neither read nor written.
MAX_ENTRY_BYTES = 8 * 1024 * 1024
# A unit that tried more files than this is not cached (checking that many pins
# on every hit would cost more than linting it).
MAX_PINS = 4096

# A pin: (directory, path as written, sha256 of what reading it gave).
Pin = tuple[str, str, str]

_NEEDED_FLAGS = ("O_NOFOLLOW", "O_DIRECTORY", "O_NONBLOCK")
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def sha256_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def canonical(value: Any) -> Any:
    """A JSON-able form of settings-like values whose text does not depend on hash order."""
    if is_record(value):
        return {name: canonical(getattr(value, name)) for name in fields(value)}
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, dict):
        return sorted(([str(k), canonical(v)] for k, v in value.items()), key=lambda kv: kv[0])
    if isinstance(value, set | frozenset):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


# The libraries whose behaviour shapes a result: the parsers.
_DEPENDENCIES = ("tree_sitter", "tree_sitter_hcl", "tree_sitter_json", "yaml", "_yaml")


def code_fingerprint() -> str:
    """kmslint's own code and data files, and its parsing libraries, by name, size and modification time.

    The version alone does not change when a source checkout is edited or a
    dependency upgraded; a stat of each file (~100, well under a
    millisecond) does.  Python's version is part of it too.
    """
    from importlib.machinery import PathFinder

    package = os.path.dirname(os.path.abspath(__file__))
    seen: list[str] = [sys.version]
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".json")):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    info = os.stat(path)
                    seen.append(f"{os.path.relpath(path, package)}\0{info.st_size}\0{info.st_mtime_ns}")
    for name in _DEPENDENCIES:
        spec = PathFinder.find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is not None:
            with contextlib.suppress(OSError):
                info = os.stat(origin)
                seen.append(f"{name}\0{origin}\0{info.st_size}\0{info.st_mtime_ns}")
    return sha256_hex("\n".join(seen).encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------- the directory, without following links


class CacheRefused(Exception):
    """The cache directory cannot be used safely; the run goes on without it."""


def _supported() -> bool:
    return (
        all(hasattr(os, flag) for flag in _NEEDED_FLAGS)
        and {os.open, os.mkdir, os.rename, os.unlink, os.stat} <= os.supports_dir_fd
    )


def _inside(path: str, root: str) -> str | None:
    """``path`` relative to ``root`` when it lies inside it (both absolute and normalised), else None."""
    if path == root:
        return ""
    prefix = root if root.endswith(os.sep) else root + os.sep
    return path[len(prefix) :] if path.startswith(prefix) else None


def _step(parent: int, name: str, create: bool) -> int:
    """Open (creating it when asked) the directory ``name`` in ``parent``, never through a link."""
    if name in ("", ".", ".."):
        raise CacheRefused(f"path component {name!r}")
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
    with contextlib.suppress(FileExistsError):  # made meanwhile by another run: open it as it is
        os.mkdir(name, 0o700, dir_fd=parent)
    return os.open(name, _DIR_FLAGS, dir_fd=parent)


def _walk(start: str, parts: list[str]) -> int:
    """A descriptor of ``start``/``parts``: ``start`` opened as the user named it, each part without following links."""
    fd = os.open(start, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        for name in parts:
            nxt = _step(fd, name, create=True)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_root(directory: str | Path, scan_root: str | Path | None) -> int:
    """A descriptor of the cache directory, created if missing; :class:`CacheRefused` when it is unsafe.

    Inside the scanned tree every component below the scan root is a name
    the input may have planted, so each is opened without following links.
    Outside it, the user's own path up to the cache directory is followed,
    and only the cache directory itself must not be a link.
    """
    if not _supported():
        raise CacheRefused("this system cannot open directories without following links")
    try:
        target = os.path.abspath(directory)
        roots = (os.path.abspath(scan_root), os.path.realpath(scan_root)) if scan_root is not None else ()
    except OSError as exc:  # a relative path, and the current directory is gone
        raise CacheRefused(f"cannot tell where it is: {exc.strerror or exc}") from None
    rel = None
    for root in dict.fromkeys(roots):
        rel = _inside(target, root)
        if rel is not None:
            start = root
            break
    if rel is None:
        start, last = os.path.split(target)
        if not last:
            raise CacheRefused("the cache directory cannot be the file system root")
        try:
            os.makedirs(start, exist_ok=True)
        except OSError as exc:
            raise CacheRefused(f"cannot create {start}: {exc.strerror or exc}") from None
        parts = [last]
    else:
        parts = [p for p in rel.split(os.sep) if p]
        if not parts:
            raise CacheRefused("the cache directory is the scanned tree itself")
    try:
        fd = _walk(start, parts)
    except OSError as exc:
        raise CacheRefused(f"cannot open it without following links: {exc.strerror or exc}") from None
    try:
        _check_owner(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_owner(fd: int) -> None:
    info = os.fstat(fd)
    if info.st_uid not in (os.geteuid(), 0):
        raise CacheRefused("it belongs to another user")
    if info.st_mode & stat.S_IWOTH:
        raise CacheRefused("everyone may write it")


def read_entry(parent: int, name: str, limit: int = MAX_ENTRY_BYTES) -> bytes | None:
    """The bytes of ``name`` in the directory ``parent`` when it is a regular file of at most ``limit`` bytes."""
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(name, flags, dir_fd=parent)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return None if size > limit else b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def write_entry(parent: int, name: str, data: bytes) -> bool:
    """Store ``data`` as ``name`` in the directory ``parent``: whole or not at all, never through a link."""
    from kmslint.fsio import write_atomic

    try:
        write_atomic(name, data, dir_fd=parent, mode=0o600)  # entries are the user's alone
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------- entries


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _pins(value: object) -> list[Pin] | None:
    """The entry's pins when each is [directory, path, 64 hex digits], none twice, and there are few enough."""
    if not isinstance(value, list) or len(value) > MAX_PINS:
        return None
    out: list[Pin] = []
    seen: set[tuple[str, str]] = set()
    for pin in value:
        if not (
            isinstance(pin, list)
            and len(pin) == 3
            and isinstance(pin[0], str)
            and isinstance(pin[1], str)
            and _is_hex64(pin[2])
            and (pin[0], pin[1]) not in seen
        ):
            return None
        seen.add((pin[0], pin[1]))
        out.append((pin[0], pin[1], pin[2]))
    return out


class FindingsCache:
    """Results per unit under ``directory``, for one run's settings.

    The caller builds a key with :meth:`key` from the unit's parts, then
    :meth:`get` / :meth:`put` JSON-able results with their pins.  When the
    directory is refused (see the module docs), :attr:`refused` says why and
    nothing is read or written.  Call :meth:`close` when done.
    """

    def __init__(self, directory: str | Path, context: Any, scan_root: str | Path | None) -> None:
        self.hits = 0
        self.misses = 0
        self.refused: str | None = None
        self._root: int | None = None
        # Subdirectories (by the key's first two digits) opened so far, or None where one cannot be.
        self._subdirs: dict[str, int | None] = {}
        try:
            self._root = open_root(directory, scan_root)
        except CacheRefused as exc:
            self.refused = str(exc)
        try:
            cwd: str | None = os.getcwd()  # display names are relative to it
        except OSError:  # deleted: names are absolute, still a key
            cwd = None
        ctx = ["kmslint", FORMAT, __version__, code_fingerprint(), cwd, canonical(context)]
        self._context = sha256_hex(json.dumps(ctx, sort_keys=True).encode("utf-8", "surrogatepass"))

    def close(self) -> None:
        for fd in self._subdirs.values():
            if fd is not None:
                os.close(fd)
        self._subdirs.clear()
        if self._root is not None:
            os.close(self._root)
            self._root = None

    def _subdir(self, key: str, create: bool) -> int | None:
        """The subdirectory for ``key``, opened once per run without following links."""
        prefix = key[:2]
        if prefix in self._subdirs and (self._subdirs[prefix] is not None or not create):
            return self._subdirs[prefix]
        if self._root is None:
            return None
        try:
            fd: int | None = _step(self._root, prefix, create)
        except OSError:  # missing (for a read), or a link, a file or unwritable: no entry here this run
            fd = None
        self._subdirs[prefix] = fd
        return fd

    def key(self, parts: list[Any]) -> str:
        """A sha256 of the run's context and ``parts`` (JSON data: names, digests, states, in a fixed order)."""
        text = json.dumps([self._context, parts], ensure_ascii=False)
        return sha256_hex(text.encode("utf-8", "surrogatepass"))

    def get(self, key: str, state: Callable[[str, str], str]) -> Any:
        """The stored result for ``key``, or None when missing, malformed, or a pinned read now gives another answer.

        ``state(directory, path)`` asks a pinned read again.  The result is
        returned as JSON data, for the caller to validate.
        """
        entry = self._load(key)
        if entry is None:
            self.misses += 1
            return None
        pins, result = entry
        for directory, path, pinned in pins:
            if state(directory, path) != pinned:
                self.misses += 1
                return None
        self.hits += 1
        return result

    def _load(self, key: str) -> tuple[list[Pin], Any] | None:
        parent = self._subdir(key, create=False) if _is_hex64(key) else None
        data = read_entry(parent, f"{key}.json") if parent is not None else None
        if data is None:
            return None
        try:
            entry = json.loads(data)
        except (ValueError, RecursionError):  # not JSON, or nested past what the decoder takes
            return None
        if not (isinstance(entry, dict) and set(entry) == {"format", "key", "pins", "result"}):
            return None
        if entry["format"] != FORMAT or entry["key"] != key:  # an entry copied under another key's name
            return None
        pins = _pins(entry["pins"])
        return None if pins is None else (pins, entry["result"])

    def put(self, key: str, result: Any, pins: list[Pin]) -> None:
        if self._root is None or len(pins) > MAX_PINS:
            return
        entry = {"format": FORMAT, "key": key, "pins": [list(p) for p in pins], "result": result}
        try:
            data = json.dumps(entry, ensure_ascii=False).encode("utf-8", "surrogatepass")
        except (TypeError, ValueError):
            return
        parent = self._subdir(key, create=True)
        if parent is not None and len(data) <= MAX_ENTRY_BYTES:
            write_entry(parent, f"{key}.json", data)
