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
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from kmslint import catalog
from kmslint.discovery import Unit
from kmslint.engine import UnitResult, lint_unit
from kmslint.model import Finding, ParseError, Severity
from kmslint.parsers.common import ParseOptions
from kmslint.record import Record, fields, replace
from kmslint.settings import Settings

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Any, NoReturn, Protocol

    class _Counter(Protocol):
        """``multiprocessing.Value``: how many of the job's units have been taken."""

        value: int

        def get_lock(self) -> AbstractContextManager[Any]: ...


# Below this many units to lint, a pool costs more than it saves.  Measured on 2
# cores: starting one costs ~60 ms; 51 units (80 files) broke even, 100 units (160
# files) took 425 ms instead of 552, 1,000 Terraform files 1.3 s instead of 2.3.
AUTO_MIN_UNITS = 64
AUTO_MAX_JOBS = 8
# Workers are forks of this process where the OS has fork (not on Windows).
CAN_FORK = hasattr(os, "fork")


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
) -> Iterator[UnitResult]:
    """Each unit's result, in unit order."""
    job = _Job(units, opts, settings, rules, display)
    results: list[UnitResult | None] = [None] * len(units)
    keys: list[str | None] = [None] * len(units)
    store = None
    if cache_dir is not None:
        from kmslint.cache import FindingsCache

        store = FindingsCache(cache_dir, [catalog.digest(), settings, str(opts.scan_root)])
        for i, unit in enumerate(units):
            key = keys[i] = _unit_key(store, unit, opts, display)
            if key is not None:
                cached = store.get(key, opts.max_file_bytes)
                results[i] = _decode(cached) if cached is not None else None
    todo = [i for i, r in enumerate(results) if r is None]
    workers = resolve_jobs(jobs, len(todo))
    if workers <= 1:
        fresh: Iterable[UnitResult] = (lint_unit(units[i], opts, settings, rules, display) for i in todo)
    elif CAN_FORK:
        fresh = _fork_map(job, todo, workers)
    else:
        fresh = _pool_map(job, todo, workers)
    for i, result in zip(todo, fresh):
        results[i] = result
        key = keys[i]
        if store is not None and key is not None and result.cacheable:
            store.put(key, _encode(result), result.deps, opts.max_file_bytes)
    for done in results:
        assert done is not None
        yield done


def _fork_map(job: _Job, todo: list[int], workers: int) -> list[UnitResult]:
    """``workers`` processes' worth of work: this process and ``workers - 1`` forks of it.

    The index of the next unit to take is passed around in a pipe, as a
    baton: a process reads it, writes back the one after, and lints that
    unit, so all processes finish within about one unit of each other
    whatever the units cost.  A fork shares everything imported and the
    job for free and starts in ~5 ms, where ``ProcessPoolExecutor`` costs
    30-60 ms to import and start on 2 cores (5% of a 1,000-file run).
    Each child sends its results back pickled and ends with ``os._exit``;
    the units of a child that fails are linted here, so a failure surfaces
    as it would with ``--jobs 1``.
    """
    import pickle

    job = replace(job, todo=todo)
    baton = os.pipe()
    os.write(baton[1], (0).to_bytes(8, "little"))
    children: list[tuple[int, int]] = []  # (pid, the read end of its results)
    done: dict[int, UnitResult] = {}
    try:
        for _ in range(workers - 1):
            results_r, results_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(results_r)
                _child(job, baton, results_w)
            os.close(results_w)
            children.append((pid, results_r))
        done.update(_take_turns(job, baton))
        while children:
            pid, results_r = children[0]
            with os.fdopen(results_r, "rb") as stream:
                data = stream.read()
            children.pop(0)
            os.waitpid(pid, 0)
            # Our own fork wrote it; a child that failed sent nothing, and its units are linted below.
            with contextlib.suppress(Exception):
                done.update(pickle.loads(data))  # noqa: S301
    finally:
        for pid, results_r in children:  # interrupted: do not leave children behind
            _end_child(pid, results_r)
        os.close(baton[0])
        os.close(baton[1])
    for i in todo:
        if i not in done:
            done[i] = lint_unit(job.units[i], job.opts, job.settings, job.rules, job.display)
    return [done[i] for i in todo]


def _take_turns(job: _Job, baton: tuple[int, int]) -> list[tuple[int, UnitResult]]:
    """Lint units while any is left, taking the next one from the baton."""
    done: list[tuple[int, UnitResult]] = []
    end = len(job.todo)
    while True:
        k = int.from_bytes(os.read(baton[0], 8), "little")
        os.write(baton[1], min(k + 1, end).to_bytes(8, "little"))  # pass it on at once
        if k >= end:
            return done
        i = job.todo[k]
        done.append((i, lint_unit(job.units[i], job.opts, job.settings, job.rules, job.display)))


def _child(job: _Job, baton: tuple[int, int], results_w: int) -> NoReturn:
    """A forked worker: take turns, send the results, and end without running any exit handler."""
    import pickle

    status = 0
    try:
        payload = pickle.dumps(_take_turns(job, baton), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(results_w, "wb") as stream:
            stream.write(payload)
    except BaseException:
        status = 1
    os._exit(status)


def _end_child(pid: int, results_r: int) -> None:
    import signal

    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(OSError):
        os.close(results_r)
    with contextlib.suppress(OSError):
        os.waitpid(pid, 0)


def _pool_map(job: _Job, todo: list[int], workers: int) -> list[UnitResult]:
    """``workers`` processes' worth of work: this process and a pool of ``workers - 1``
    (where there is no ``os.fork``).

    Every process takes the next unit nobody has taken yet (a shared counter)
    until none is left, so they all finish within about one unit of each
    other whatever the units cost; results are put back in unit order.
    Letting the parent work, rather than wait, saves one process's memory
    (~20 MB) and its start.
    """
    import multiprocessing  # 10+ ms to import: only when a pool is used
    from concurrent.futures import ProcessPoolExecutor

    # fork shares the imported modules and the job with the workers for free;
    # elsewhere the job is pickled to each worker once.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    ctx = multiprocessing.get_context(method)
    job = replace(job, todo=todo)
    taken: _Counter = ctx.Value("q", 0)
    done: dict[int, UnitResult] = {}
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=ctx, initializer=_init, initargs=(job, taken)) as pool:
        theirs = [pool.submit(_work, w) for w in range(workers - 1)]  # they start while we work
        done.update(_drain(job, taken))
        for future in theirs:
            done.update(future.result())
    return [done[i] for i in todo]


# --------------------------------------------------------------------------- cache entries


def _unit_key(store: Any, unit: Unit, opts: ParseOptions, display: dict[Path, str]) -> str | None:
    if any(f in opts.sources or f.absolute() in opts.sources for f in unit.files):
        return None  # an editor buffer on stdin: never cached
    shown = [(display.get(f) or opts.display(f), f) for f in unit.files]
    extra = [
        unit.kind,
        str(unit.path),
        sorted(display.get(p) or opts.display(p) for p in unit.reported),
        sorted(display.get(p) or opts.display(p) for p in unit.explicit),
    ]
    key: str | None = store.key(shown, extra, opts.max_file_bytes)
    return key


def _encode(result: UnitResult) -> dict[str, Any]:
    return {
        "findings": [[_plain(getattr(f, name)) for name in fields(Finding)] for f in result.findings],
        "errors": [[e.file, e.line, e.column, e.message] for e in result.errors],
        "notes": list(result.notes),
        "files": result.files,
        "resources": result.resources,
        "usage_error": result.usage_error,
        "deps": list(result.deps),
    }


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, Severity) else value


def _decode(data: Any) -> UnitResult | None:
    """A cached result, or None when it does not have the shape this version writes."""
    try:
        names = fields(Finding)
        findings = []
        for row in data["findings"]:
            values = dict(zip(names, row, strict=True))
            values["severity"] = Severity(values["severity"])
            findings.append(Finding(**values))
        return UnitResult(
            findings=findings,
            errors=[ParseError(*row) for row in data["errors"]],
            notes=[str(n) for n in data["notes"]],
            files=int(data["files"]),
            resources=int(data["resources"]),
            usage_error=bool(data["usage_error"]),
            deps=[str(d) for d in data["deps"]],
        )
    except (KeyError, TypeError, ValueError):
        return None
