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

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kmslint import catalog
from kmslint.discovery import Unit
from kmslint.engine import UnitResult, lint_unit
from kmslint.model import Finding, ParseError, Severity
from kmslint.parsers.common import ParseOptions
from kmslint.record import Record, fields
from kmslint.settings import Settings

# Below this many units to lint, a pool costs more than it saves.  Measured on 2
# cores: starting one costs ~60 ms; 51 units (80 files) broke even, 100 units (160
# files) took 425 ms instead of 552, 1,000 Terraform files 1.3 s instead of 2.3.
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


_JOB: _Job | None = None  # the work a pool worker serves, set by _init


def _init(job: _Job) -> None:
    global _JOB
    _JOB = job


def _work(index: int) -> UnitResult:
    job = _JOB
    assert job is not None
    return lint_unit(job.units[index], job.opts, job.settings, job.rules, job.display)


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
    else:
        fresh = _pool_map(job, todo, workers)
    for i, result in zip(todo, fresh):
        results[i] = result
        key = keys[i]
        if store is not None and key is not None:
            store.put(key, _encode(result), result.deps, opts.max_file_bytes)
    for done in results:
        assert done is not None
        yield done


def _pool_map(job: _Job, todo: list[int], workers: int) -> list[UnitResult]:
    """``workers`` processes' worth of work: this process and a pool of ``workers - 1``.

    The units are dealt out in turn (sorted units of one kind sit together,
    so every share gets a mix); this process lints its share while the pool
    lints the rest.  Letting the parent work, rather than wait, saves one
    process's memory (~20 MB) and its start.
    """
    import multiprocessing  # 10+ ms to import: only when a pool is used
    from concurrent.futures import ProcessPoolExecutor

    # fork shares the imported modules and the job with the workers for free;
    # elsewhere the job is pickled to each worker once.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    ctx = multiprocessing.get_context(method)
    mine = todo[::workers]
    theirs = [i for k in range(1, workers) for i in todo[k::workers]]
    chunk = max(1, min(16, len(theirs) // (workers * 8)))
    done: dict[int, UnitResult] = {}
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=ctx, initializer=_init, initargs=(job,)) as pool:
        pending = pool.map(_work, theirs, chunksize=chunk)  # submitted now, run while we work
        for i in mine:
            done[i] = lint_unit(job.units[i], job.opts, job.settings, job.rules, job.display)
        done.update(zip(theirs, pending))
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
