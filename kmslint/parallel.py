"""Running units of work: from the findings cache, in this process, or in a process pool.

Every unit (a Terraform directory, a template, a policy file) is linted on
its own by :func:`kmslint.engine.lint_unit`, so units can run in any order
and in any process.  Results come back in unit order whatever the number of
workers, and the report sorts findings anyway: output is the same bytes for
``--jobs 1`` and ``--jobs 8``.

A pool pays only when there is enough work to cover starting it (measured
on 2 cores: from about 64 units).  ``jobs=None`` (the default) picks a pool of
one worker per available core for large runs and no pool otherwise.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

from kmslint import catalog
from kmslint.discovery import Unit
from kmslint.engine import UnitResult, lint_unit
from kmslint.model import SUPPRESSION_KINDS, Finding, NotFollowed, ParseError, Project, Severity
from kmslint.parsers.common import ParseOptions
from kmslint.record import Record, fields, replace
from kmslint.settings import Settings

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Any, Protocol

    class _Counter(Protocol):
        """``multiprocessing.Value``: how many of the job's units have been taken."""

        value: int

        def get_lock(self) -> AbstractContextManager[Any]: ...


# Below this many units to lint, a pool costs more than it saves.  Measured on 2
# cores (bench/gen.py trees, medians of 9 alternating runs, alone / 2 processes):
# 39 units (160 files) 148 / 191 ms, 65 units (256 files) 226 / 205 ms, 129 units
# (512 files) 358 / 255 ms, 253 units (1,000 Terraform files) 699 / 409 ms.
AUTO_MIN_UNITS = 64
AUTO_MAX_JOBS = 8


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def resolve_jobs(jobs: int | None, units: int) -> int:
    """How many processes to lint ``units`` units with: ``jobs`` if given (>= 1), else automatic."""
    if jobs is not None and jobs >= 1:
        return min(jobs, max(units, 1))
    if units < AUTO_MIN_UNITS:
        return 1
    return max(1, min(available_cores(), AUTO_MAX_JOBS, units // (AUTO_MIN_UNITS // 2)))  # >= 32 units each


class _Job(Record, frozen=True):
    units: Sequence[Unit]
    opts: ParseOptions
    settings: Settings
    rules: dict[str, catalog.Rule]
    display: dict[Path, str]
    todo: Sequence[int] = ()  # the units to lint, by index, in the order they are taken


# The work a pool worker serves and the counter it takes units by, set by _init.
_JOB: _Job | None = None
_TAKEN: _Counter | None = None


def _init(job: _Job, taken: _Counter) -> None:
    global _JOB, _TAKEN
    _JOB, _TAKEN = job, taken


def _drain(job: _Job, taken: _Counter) -> list[tuple[int, UnitResult]]:
    """Lint units, taking the next one not yet taken by any process, until none is left."""
    done: list[tuple[int, UnitResult]] = []
    while True:
        with taken.get_lock():
            k = taken.value
            if k >= len(job.todo):
                return done
            taken.value = k + 1
        i = job.todo[k]
        done.append((i, lint_unit(job.units[i], job.opts, job.settings, job.rules, job.display)))


def _work(_: int) -> list[tuple[int, UnitResult]]:
    assert _JOB is not None
    assert _TAKEN is not None
    return _drain(_JOB, _TAKEN)


def run_units(
    units: Sequence[Unit],
    opts: ParseOptions,
    settings: Settings,
    rules: dict[str, catalog.Rule],
    display: dict[Path, str],
    *,
    jobs: int | None = None,
    cache_dir: str | None = None,
    on_project: Callable[[Project], None] | None = None,
) -> Iterator[UnitResult]:
    """Each unit's result, in unit order.

    ``on_project`` (:func:`kmslint.engine.lint_unit`) sees the projects of the units linted: with
    it every unit is linted here, in this process, and none is taken from the cache.
    """
    job = _Job(units, opts, settings, rules, display)
    results: list[UnitResult | None] = [None] * len(units)
    keys: list[str | None] = [None] * len(units)
    store = None
    if cache_dir is not None and on_project is None:
        from kmslint.cache import FindingsCache

        store = FindingsCache(cache_dir, [catalog.digest(), settings, _opts_context(opts)], opts.scan_root)
    try:
        if store is not None and store.refused is None:
            for i, unit in enumerate(units):
                if _is_entry(unit, cache_dir):
                    results[i] = UnitResult()
                    continue
                key = keys[i] = _unit_key(store, unit, opts, display)
                if key is not None:
                    results[i] = _cached(store, key, unit, opts, display)
        todo = [i for i, r in enumerate(results) if r is None]
        workers = resolve_jobs(jobs, len(todo)) if on_project is None else 1
        if workers <= 1:
            fresh: Iterable[UnitResult] = (
                lint_unit(units[i], opts, settings, rules, display, on_project) for i in todo
            )
        else:
            fresh = _pool_map(job, todo, workers)
        for i, result in zip(todo, fresh):
            results[i] = result
            key = keys[i]
            if store is not None and key is not None and result.cacheable:
                _store(store, key, result, units[i], opts, display)
    finally:
        if store is not None:
            store.close()
    if store is not None and store.refused is not None and results:
        first = results[0]
        assert first is not None
        first.notes.insert(0, f"the findings cache (--cache-dir) is not used: {store.refused}")
    for done in results:
        assert done is not None
        yield done


def _pool_map(job: _Job, todo: list[int], workers: int) -> list[UnitResult]:
    """``workers`` processes' worth of work: this process and a pool of ``workers - 1``.

    Every process takes the next unit nobody has taken yet (a shared counter)
    until none is left, so they all finish within about one unit of each
    other whatever the units cost; results are put back in unit order.
    Letting the parent work, rather than wait, saves one process's memory
    (~20 MB) and its start.  A pool that cannot start its processes, or a
    worker that fails, leaves its units to this process, as with ``--jobs 1``.
    """
    import multiprocessing  # ~20 ms to import with concurrent.futures: only when a pool is used
    from concurrent.futures import ProcessPoolExecutor

    # fork shares the imported modules and the job with the workers for free;
    # elsewhere the job is pickled to each worker once.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    ctx = multiprocessing.get_context(method)
    job = replace(job, todo=todo)
    done: dict[int, UnitResult] = {}
    before = set(multiprocessing.active_children())
    try:
        taken: _Counter = ctx.Value("q", 0)
        with ProcessPoolExecutor(
            max_workers=workers - 1, mp_context=ctx, initializer=_init, initargs=(job, taken)
        ) as pool:
            theirs = [pool.submit(_work, w) for w in range(workers - 1)]  # they start while we work
            try:
                done.update(_drain(job, taken))
            except BaseException:  # interrupted, or a failure here: the workers take no more units
                with taken.get_lock():
                    taken.value = len(todo)
                raise
            for future in theirs:
                # A worker that failed (or a pool that broke) returns nothing: its units are linted below.
                with contextlib.suppress(Exception):
                    done.update(future.result())
    except OSError:  # no shared counter, or the pool could not start a process
        # A pool refused its second process keeps its first, waiting for work that never
        # comes: ended here, or the exit would wait for it forever (ulimit -u).
        for process in set(multiprocessing.active_children()) - before:
            process.terminate()
            process.join()
    for i in todo:
        if i not in done:
            done[i] = lint_unit(job.units[i], job.opts, job.settings, job.rules, job.display)
    return [done[i] for i in todo]


# --------------------------------------------------------------------------- cache entries
#
# What a unit's result depends on, for kmslint.cache: the key covers what is
# known before linting (the unit's files and the tfvars beside them), the pins
# what only the lint finds out (each file()/templatefile() path, read or not).
# Entries from the cache are data anyone with write access to it may have
# written: _decode checks every field before a result is used.


def _opts_context(opts: ParseOptions) -> list[Any]:
    """The parse options a result depends on.

    Not ``display_names``, which lists every file of the run (one new file
    anywhere would change every key): a unit's own names are in its key,
    and the names of files its reads gave are checked on every hit.  Editor
    buffers count by name (a unit with one is never cached).
    """
    return [
        str(opts.scan_root),
        opts.max_file_bytes,
        opts.max_depth,
        [[str(p), name] for p, name in opts.display_roots],
        sorted(str(p) for p in opts.sources),
    ]


def _text_state(path: Path, opts: ParseOptions) -> str:
    """What a parser reading ``path`` gets: a sha256 of the text, or why it cannot read it."""
    from kmslint.cache import sha256_hex
    from kmslint.parsers.common import ParseFailure

    try:
        text = opts.read_text(path)
    except ParseFailure as exc:
        return f"unreadable {exc.line}:{exc.column} {exc.message}"
    return sha256_hex(text.encode("utf-8", "surrogatepass"))


def _tfvars_states(directory: Path, opts: ParseOptions) -> list[list[str]]:
    """Every ``*.tfvars``/``*.tfvars.json`` entry of a Terraform directory and what reading it gives.

    Terraform (and kmslint) read ``terraform.tfvars`` and ``*.auto.tfvars``
    beside the configuration; any name ending so is covered, present or
    absent, so that adding, changing or removing one is a different key.
    """
    out: list[list[str]] = []
    try:
        with os.scandir(directory) as it:
            entries = sorted((e for e in it if e.name.endswith((".tfvars", ".tfvars.json"))), key=lambda e: e.name)
            for e in entries:
                try:
                    is_file = e.is_file()
                except OSError:
                    is_file = False
                out.append([e.name, _text_state(Path(e.path), opts) if is_file else "not a file"])
    except OSError as exc:
        out.append(["(directory)", f"cannot be listed: {exc.errno}"])
    return out


def _is_entry(unit: Unit, cache_dir: str | None) -> bool:
    """Is ``unit`` a file of the cache itself, walked because the cache lies in the scanned tree?

    Entries are kmslint's own output, not input: linting them would only
    cache results about the cache, run after run.
    """
    if cache_dir is None or unit.explicit:
        return False
    try:
        inside = os.path.join(os.path.abspath(cache_dir), "")
        return os.path.abspath(unit.path).startswith(inside)
    except OSError:  # the current directory is gone (then the cache was refused anyway)
        return False


def _unit_key(store: Any, unit: Unit, opts: ParseOptions, display: dict[Path, str]) -> str | None:
    if any(f in opts.sources or f.absolute() in opts.sources for f in unit.files):
        return None  # an editor buffer on stdin: never cached
    parts: list[Any] = [
        unit.kind,
        str(unit.path),
        str(unit.scan_root),  # what file() may read depends on it
        sorted(display.get(p) or opts.display(p) for p in unit.reported),
        sorted(display.get(p) or opts.display(p) for p in unit.explicit),
        [[display.get(f) or opts.display(f), _text_state(f, opts)] for f in unit.files],
    ]
    if unit.kind == "terraform":
        parts.append(_tfvars_states(unit.path, opts))
    key: str = store.key(parts)
    return key


class _Reads:
    """Asks a ``file()``/``templatefile()`` read again, as the evaluator makes it, and notes the files it read."""

    def __init__(self, opts: ParseOptions) -> None:
        self.opts = opts
        self.read: set[str] = set()  # display names of the files read

    def __call__(self, directory: str, path: str) -> str:
        from kmslint.cache import sha256_hex
        from kmslint.model import Known, Location, Unknown
        from kmslint.parsers.common import TF_LISTING, tf_listing
        from kmslint.parsers.hcl_eval import Config, Evaluator

        if path == TF_LISTING:  # a module directory's .tf files, not a file (see tf_listing)
            return sha256_hex(f"listing\0{tf_listing(directory)}".encode("utf-8", "surrogatepass"))
        nowhere = Location(directory, 1, 1, 1, 1)  # only an Unknown's reason is compared, never its place
        got = Evaluator(Config(Path(directory)), self.opts).read_file(Known(path), nowhere)
        if isinstance(got, Unknown):
            payload = f"unknown\0{got.reason}"
        else:
            self.read.add(self.opts.display(got[0]))
            payload = f"read\0{got[0]}\0{got[1]}"
        return sha256_hex(payload.encode("utf-8", "surrogatepass"))


def _unit_opts(unit: Unit, opts: ParseOptions) -> ParseOptions:
    """The options ``unit`` was linted with (``engine.load_unit``): reads are asked again inside its own tree."""
    if unit.scan_root is not None and unit.scan_root != opts.scan_root:
        return replace(opts, scan_root=unit.scan_root)
    return opts


def _store(store: Any, key: str, result: UnitResult, unit: Unit, opts: ParseOptions, display: dict[Path, str]) -> None:
    from kmslint.cache import MAX_PINS

    if len(result.tried) > MAX_PINS:
        return
    reads = _Reads(_unit_opts(unit, opts))
    pins = [(directory, path, reads(directory, path)) for directory, path in result.tried]
    encoded = _encode(result)
    # Only what a later run would accept is written (a result this version cannot check is not cached).
    if _decode(encoded, _Allowed.of(unit, opts, display, reads.read)) is not None:
        store.put(key, encoded, pins)


def _cached(store: Any, key: str, unit: Unit, opts: ParseOptions, display: dict[Path, str]) -> UnitResult | None:
    reads = _Reads(_unit_opts(unit, opts))
    data = store.get(key, reads)
    if data is None:
        return None
    return _decode(data, _Allowed.of(unit, opts, display, reads.read))


def _encode(result: UnitResult) -> dict[str, Any]:
    return {
        "findings": [[_plain(getattr(f, name)) for name in _STORED_FINDING] for f in result.findings],
        "errors": [[e.file, e.line, e.column, e.message] for e in result.errors],
        "notes": list(result.notes),
        "files": result.files,
        "skipped": list(result.skipped),
        "resources": result.resources,
        "usage_error": result.usage_error,
        "deps": list(result.deps),
        "not_followed": [[n.file, n.line, n.module, n.source] for n in result.not_followed],
        "called": list(result.called),
    }


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, Severity) else value


class _Allowed(Record, frozen=True):
    """What a cached result of one unit may name: its files, the files its reads gave, the rules."""

    reported: frozenset[str]
    own: frozenset[str]
    read: frozenset[str]

    @classmethod
    def of(cls, unit: Unit, opts: ParseOptions, display: dict[Path, str], read: set[str]) -> _Allowed:
        reported = frozenset(display.get(p) or opts.display(p) for p in unit.reported)
        own = frozenset(display.get(p) or opts.display(p) for p in unit.files) | reported
        return cls(reported, own, frozenset(read))


_MAX_INT = 2**31
_SEVERITIES = frozenset(int(s) for s in Severity)


@lru_cache(maxsize=1)
def _slugs() -> dict[str, str]:
    """Rule ID -> slug, for every rule of the catalogue."""
    return {r.id: r.slug for r in catalog.rules().values()}


@lru_cache(maxsize=1)
def _finding_fields() -> tuple[str, ...] | None:
    """The fields of Finding in stored order, when they are the ones _finding checks (else nothing is cached)."""
    names = tuple(name for name in fields(Finding) if name not in _NOT_STORED)
    return names if names == _STORED_FINDING else None


# In-process only: an editor's quick fix is made on the lint it asks for, never from a stored result.
_NOT_STORED = frozenset({"fix"})


_STORED_FINDING = (
    "file",
    "line",
    "column",
    "rule_id",
    "resource",
    "message",
    "end_line",
    "end_column",
    "slug",
    "severity",
    "suppressed",
    "suppression_reason",
    "content",
    "suppression_kind",
)


def _count(value: Any) -> bool:
    return type(value) is int and 0 <= value < _MAX_INT


def _position(value: Any) -> bool:
    return type(value) is int and 1 <= value < _MAX_INT


# A control character in a stored string could act on the terminal or CI log that shows
# it; a real result with one (a file named so) is simply not cached.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _text(value: Any) -> bool:
    return type(value) is str and _CONTROL.search(value) is None


def _strings(value: Any) -> bool:
    return type(value) is list and all(_text(v) for v in value)


def _finding(row: Any, allowed: _Allowed) -> Finding | None:
    """A stored finding row, when every field has the type and range a real finding has."""
    if type(row) is not list or len(row) != len(_STORED_FINDING):
        return None
    (
        file,
        line,
        column,
        rule_id,
        resource,
        message,
        end_line,
        end_column,
        slug,
        severity,
        suppressed,
        reason,
        content,
        kind,
    ) = row
    if not (_text(file) and (file in allowed.own or file in allowed.read)):
        return None
    if not (_position(line) and _position(column) and _position(end_line) and _position(end_column)):
        return None
    if not (_text(rule_id) and _slugs().get(rule_id) == slug and type(severity) is int and severity in _SEVERITIES):
        return None
    if not (_text(resource) and _text(message) and _text(content) and type(suppressed) is bool):
        return None
    if not (reason is None or _text(reason)) or not (kind is None or kind in SUPPRESSION_KINDS):
        return None
    return Finding(
        file=file,
        line=line,
        column=column,
        rule_id=rule_id,
        resource=resource,
        message=message,
        end_line=end_line,
        end_column=end_column,
        slug=slug,
        severity=Severity(severity),
        suppressed=suppressed,
        suppression_reason=reason,
        content=content,
        suppression_kind=kind,
    )


def _error(row: Any, allowed: _Allowed) -> ParseError | None:
    if not (type(row) is list and len(row) == 4):
        return None
    file, line, column, message = row
    if not (_text(file) and (file in allowed.reported or file in allowed.read)):  # read: a called module's
        return None
    if not (_position(line) and _position(column) and _text(message)):
        return None
    return ParseError(file, line, column, message)


def _not_followed(row: Any, allowed: _Allowed) -> NotFollowed | None:
    """A stored module call not followed, when it names a file this unit may name."""
    if not (type(row) is list and len(row) == 4):
        return None
    file, line, module, source = row
    if not (_text(file) and (file in allowed.own or file in allowed.read) and _position(line)):
        return None
    if not (_text(module) and _text(source)):
        return None
    return NotFollowed(file, line, module, source)


def _decode(data: Any, allowed: _Allowed) -> UnitResult | None:
    """A cached result, or None unless every field has the type and range this version writes."""
    keys = {
        "findings",
        "errors",
        "notes",
        "skipped",
        "files",
        "resources",
        "usage_error",
        "deps",
        "not_followed",
        "called",
    }
    if _finding_fields() is None or not (type(data) is dict and set(data) == keys):
        return None
    if not (type(data["findings"]) is list and type(data["errors"]) is list):
        return None
    if not (_strings(data["notes"]) and _strings(data["deps"]) and set(data["deps"]) <= allowed.read):
        return None
    if not (_strings(data["called"]) and _strings(data["skipped"])):
        return None
    if not (_count(data["files"]) and _count(data["resources"]) and type(data["usage_error"]) is bool):
        return None
    findings = [_finding(row, allowed) for row in data["findings"]]
    errors = [_error(row, allowed) for row in data["errors"]]
    rows = data["not_followed"]
    calls = [_not_followed(row, allowed) for row in rows] if type(rows) is list else [None]
    if None in findings or None in errors or None in calls:
        return None
    return UnitResult(
        findings=[f for f in findings if f is not None],
        errors=[e for e in errors if e is not None],
        notes=list(data["notes"]),
        files=data["files"],
        skipped=list(data["skipped"]),
        resources=data["resources"],
        usage_error=data["usage_error"],
        deps=list(data["deps"]),
        not_followed=[n for n in calls if n is not None],
        called=list(data["called"]),
    )
