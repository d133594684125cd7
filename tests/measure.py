"""Run the CLI in a fresh process and measure its wall time and peak memory.

Peak memory from ``wait4`` in the test process would be wrong: a child
forked from a large pytest process starts with the parent's resident pages,
and Linux keeps that high-water mark across ``exec``.  So a tiny launcher
process (small when it forks) starts kmslint and reports the grandchild's
``wait4`` figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_LAUNCHER = r"""
import json, os, subprocess, sys, threading, time
report, timeout, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
start = time.perf_counter()
proc = subprocess.Popen(argv)
timer = threading.Timer(timeout, proc.kill)
timer.start()
_, status, usage = os.wait4(proc.pid, 0)
timer.cancel()
peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
with open(report, "w") as fh:
    json.dump({"code": os.waitstatus_to_exitcode(status), "wall": time.perf_counter() - start, "peak": peak}, fh)
"""


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    wall: float  # seconds
    peak: int  # bytes


def run_cli(args: list[str], cwd: Path, stdin: bytes | None = None, timeout: float = 120) -> Run:
    """``python -m kmslint ARGS`` in ``cwd``; killed after ``timeout`` seconds."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        out, err, inp = Path(tmp) / "out", Path(tmp) / "err", Path(tmp) / "in"
        inp.write_bytes(stdin or b"")
        with out.open("wb") as fo, err.open("wb") as fe, inp.open("rb") as fi:
            subprocess.run(
                [sys.executable, "-c", _LAUNCHER, str(report), str(timeout), sys.executable, "-m", "kmslint", *args],
                cwd=cwd,
                env=env,
                stdin=fi,
                stdout=fo,
                stderr=fe,
                timeout=timeout + 30,
                check=True,
            )
        data = json.loads(report.read_text())
        return Run(
            data["code"],
            out.read_bytes().decode("utf-8", "replace"),
            err.read_bytes().decode("utf-8", "replace"),
            data["wall"],
            data["peak"],
        )
