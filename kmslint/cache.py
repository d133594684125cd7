"""The findings cache, which makes repeated runs cheap.  It is safe to delete at any time.

* **Findings per unit** (``--cache-dir DIR``, off by default): what linting
  one unit (a Terraform directory, a template, a policy file) gave, keyed by
  a hash of the unit's file names and contents, the kmslint version, the
  catalogue and the settings.  Other files a result depends on are pinned
  by their hashes and checked on every hit; a unit that calls ``file()`` or
  ``templatefile()`` is never cached, since it may depend on a file that
  does not exist yet.

Entries are JSON, never pickle: a cache directory restored from a CI cache
could have been written by anyone, and loading it must not run code.  A
damaged or unreadable entry is a miss.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
from collections.abc import Iterable
from pathlib import Path

from kmslint import __version__
from kmslint.record import fields, is_record

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

FORMAT = 1  # bump when the entry layout changes


def _write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` so readers see the old file or the whole new one; False on any OS error."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return False
    return True


def _read_json(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


# --------------------------------------------------------------------------- findings per unit


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


def file_digest(path: Path | str, limit: int, refuse: bytes | None = None) -> str | None:
    """sha256 of a file's bytes; None when it cannot be read, is over ``limit`` bytes or contains ``refuse``."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError:
        return None
    if len(data) > limit or (refuse is not None and refuse in data):
        return None
    import hashlib

    return hashlib.sha256(data).hexdigest()


class FindingsCache:
    """Results per unit under ``directory``, for one run's settings.

    The caller builds a key with :meth:`key` (None: this unit is not
    cacheable), then :meth:`get` / :meth:`put` JSON-able results with the
    list of extra files (and their digests) that the result depends on.
    """

    def __init__(self, directory: str | Path, context: Any) -> None:
        import hashlib

        self._sha256 = hashlib.sha256
        self.directory = Path(directory)
        ctx = json.dumps(["kmslint", FORMAT, __version__, os.getcwd(), canonical(context)], sort_keys=True)
        self._context = self._sha256(ctx.encode("utf-8")).hexdigest()
        self.hits = 0
        self.misses = 0

    def key(self, parts: Iterable[tuple[str, Path]], extra: Any, limit: int) -> str | None:
        """A key from (display name, path) of each of the unit's files, plus ``extra``; None if unreadable."""
        h = self._sha256(self._context.encode())
        h.update(json.dumps(canonical(extra), sort_keys=True).encode("utf-8"))
        for shown, path in parts:
            # A unit that calls file()/templatefile() depends on files that may not exist
            # yet (a read that fails leaves no trace to check later): never cached.
            digest = file_digest(path, limit, refuse=b"file(")
            if digest is None:
                return None
            h.update(f"\0{shown}\0{digest}".encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, limit: int) -> Any:
        """The stored result, or None when missing, damaged or a dependency changed."""
        entry = _read_json(self._path(key))
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or "result" not in entry:
            self.misses += 1
            return None
        deps = entry.get("deps")
        if not isinstance(deps, list):
            self.misses += 1
            return None
        for dep in deps:
            if not (isinstance(dep, list) and len(dep) == 2 and isinstance(dep[0], str)):
                self.misses += 1
                return None
            if file_digest(dep[0], limit) != dep[1]:
                self.misses += 1
                return None
        self.hits += 1
        return entry["result"]

    def put(self, key: str, result: Any, deps: Iterable[str], limit: int) -> None:
        pinned: list[list[str | None]] = []
        for dep in deps:
            digest = file_digest(dep, limit)
            if digest is None:
                return  # a dependency we cannot pin: do not cache
            pinned.append([dep, digest])
        try:
            text = json.dumps({"format": FORMAT, "deps": pinned, "result": result}, ensure_ascii=False)
        except (TypeError, ValueError):
            return
        _write_atomic(self._path(key), text.encode("utf-8", "surrogatepass"))
