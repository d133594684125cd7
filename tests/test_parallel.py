"""Worker processes: the pool and this process taking turns, failures.

Every way of running the units must give the report ``--jobs 1`` gives;
output bytes across ``--jobs`` are checked end to end in test_determinism.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from kmslint import api, engine, parallel
from kmslint.model import Finding

OPEN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*"}]}


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Forty policies of unequal size and ten Terraform directories: 50 units."""
    for i in range(40):
        statements = [dict(OPEN["Statement"][0], Sid=f"S{j}") for j in range(1 + i % 7)]  # type: ignore[call-overload]
        (tmp_path / f"p{i:02d}.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    for i in range(10):
        d = tmp_path / f"tf{i}"
        d.mkdir()
        rotation = "true" if i % 2 else "false"
        (d / "main.tf").write_text(f'resource "aws_kms_key" "k{i}" {{\n  enable_key_rotation = {rotation}\n}}\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _findings(jobs: int) -> list[Finding]:
    report = api.lint(["."], jobs=jobs)
    assert not report.errors
    return sorted(report.findings)


@pytest.mark.parametrize("jobs", [2, 3, 7])
def test_a_pool_gives_what_one_process_gives(tree: Path, jobs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _findings(1)
    assert len(alone) > 50
    used: list[int] = []
    pool_map = parallel._pool_map

    def spy(job: parallel._Job, todo: list[int], workers: int) -> list[engine.UnitResult]:
        used.append(workers)
        return pool_map(job, todo, workers)

    monkeypatch.setattr(parallel, "_pool_map", spy)
    assert _findings(jobs) == alone
    assert used == [jobs]


def test_units_of_a_child_that_dies_are_linted_by_the_parent(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _findings(1)
    parent = os.getpid()
    real = parallel.lint_unit

    def dies_in_a_child(*args: object) -> engine.UnitResult:
        if os.getpid() != parent:
            os._exit(3)  # as a crash would: no results sent
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "lint_unit", dies_in_a_child)
    assert _findings(3) == alone


def test_an_error_in_a_child_surfaces_as_with_one_process(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> engine.UnitResult:
        raise RuntimeError("a bug in a check")

    monkeypatch.setattr(parallel, "lint_unit", broken)
    with pytest.raises(RuntimeError, match="a bug in a check"):
        api.lint(["."], jobs=2)


def test_no_child_is_left_behind(tree: Path) -> None:
    _findings(3)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every fork has been waited for


def test_an_interrupted_parent_leaves_the_workers_no_more_units(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C sent to kmslint alone (not its process group) ends the run at once, not after the workers' share."""
    parent = os.getpid()
    real = parallel.lint_unit
    linted = tree / "linted-by-workers"
    linted.mkdir()

    def slow_in_workers_interrupted_here(*args: object) -> engine.UnitResult:
        if os.getpid() == parent:
            raise KeyboardInterrupt
        time.sleep(0.05)
        (linted / str(time.monotonic_ns())).touch()
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "lint_unit", slow_in_workers_interrupted_here)
    with pytest.raises(KeyboardInterrupt):
        api.lint(["."], jobs=2)
    assert len(list(linted.iterdir())) < 10  # of the 50 units: at most those under way
