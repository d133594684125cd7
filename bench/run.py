"""Time kmslint against checkov, cfn-lint and trivy on generated trees; print a Markdown table.

    python bench/run.py [--runs 10] [--tree-runs 3] [--tools kmslint,checkov,cfn-lint,trivy] [--quick]

Every case runs its tools alternately (A B C A B C ...) in one session, so
a slow patch of the machine hits all of them alike.  Each run is one fresh
process; wall time comes from ``time.perf_counter`` around it, CPU time
(user + system) and peak RSS from ``os.wait4`` (which includes the
descendants the tool itself waited for, so checkov's worker processes
count).  The table gives medians over the runs (peak RSS: the largest seen)
and each tool's median wall time as a multiple of kmslint's.

The anchor tools live in their own virtual environments under ``.bench/``
(``make bench-venvs``): checkov's ``bc-python-hcl2`` and ``python-hcl2``
install the same ``hcl2`` package, so they cannot share one.  A tool whose
environment is missing is left out of the table with the reason.  All tools
run offline: checkov with ``--skip-download``, trivy with
``--skip-check-update --skip-version-check --disable-telemetry`` (its checks
are embedded in the binary).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BENCH = ROOT / ".bench"
# Outside the repository: kmslint (like git) ignores what the repository's .gitignore
# ignores, and .bench/ is in it.
TREES = Path(os.environ.get("KMSLINT_BENCH_TREES") or Path(tempfile.gettempdir()) / "kmslint-bench-trees")
sys.path.insert(0, str(HERE))

import gen  # noqa: E402

CHECKOV_KMS_CHECKS = "CKV_AWS_7,CKV_AWS_33,CKV_AWS_227,CKV2_AWS_64"
TRIVY_OFFLINE = ["--skip-check-update", "--skip-version-check", "--disable-telemetry", "--quiet"]


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_kb: int
    code: int


@dataclass
class Tool:
    name: str
    exe: Path
    # (case, target) -> argv, or None when the tool does not handle the case.
    argv: Callable[[Case], list[str] | None]
    missing: str = ""


@dataclass
class Case:
    key: str
    title: str
    target: Path  # a file or a directory
    kind: str  # terraform | cloudformation | mixed
    tree: bool
    stdin: Path | None = None
    tools: tuple[str, ...] = ("kmslint", "checkov", "cfn-lint", "trivy")
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- running one process


# A child forked from a big process starts with the parent's resident pages, and
# Linux keeps that high-water mark across exec: every tool is started by this tiny
# launcher (python -S: ~7 MB), which reports the tool's own wall time, CPU time and
# peak RSS (wait4: the largest of the tool and the processes it waited for).
_LAUNCHER = r"""
import json, os, signal, subprocess, sys, threading, time
report, timeout, stdin, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]
fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
start = time.perf_counter()
proc = subprocess.Popen(argv, stdin=fin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
timer.start()
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
timer.cancel()
with open(report, "w") as fh:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss,
               "code": os.waitstatus_to_exitcode(status)}, fh)
"""


def run_once(argv: list[str], cwd: Path, stdin: Path | None, timeout: float) -> Sample:
    """One fresh process of the tool, measured by the launcher."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "sample.json"
        subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, str(report), str(timeout), str(stdin or ""), *argv],
            cwd=cwd,
            check=True,
            timeout=timeout + 60,
        )
        data = json.loads(report.read_text())
    return Sample(data["wall"], data["cpu"], data["rss_kb"], data["code"])


# ----------------------------------------------------------------------------- tools


def _venv_tool(venv: str, exe: str) -> tuple[Path, str]:
    path = BENCH / venv / "bin" / exe
    if not path.exists():
        return path, f"not installed ({path.relative_to(ROOT)} missing: run `make bench-venvs`)"
    return path, ""


def make_tools() -> dict[str, Tool]:
    kmslint = ROOT / ".venv" / "bin" / "kmslint"

    def kmslint_argv(case: Case) -> list[str] | None:
        if case.stdin is not None:
            return [str(kmslint), "--stdin-filename", str(case.target), "-"]
        return [str(kmslint), str(case.target)]

    checkov, checkov_missing = _venv_tool("checkov", "checkov")

    def checkov_argv(case: Case) -> list[str] | None:
        if case.stdin is not None or case.kind == "mixed":
            return None
        where = ["-d", str(case.target)] if case.tree else ["-f", str(case.target)]
        return [
            str(checkov),
            *where,
            "--framework",
            case.kind,
            "--check",
            CHECKOV_KMS_CHECKS,
            "--quiet",
            "--compact",
            "--skip-download",
        ]

    cfnlint, cfnlint_missing = _venv_tool("cfnlint", "cfn-lint")

    def cfnlint_argv(case: Case) -> list[str] | None:
        if case.kind != "cloudformation" or case.stdin is not None:
            return None
        if case.tree:
            # cfn-lint expands the globs itself.
            return [str(cfnlint), str(case.target / "**" / "*.yaml"), str(case.target / "**" / "*.json")]
        return [str(cfnlint), str(case.target)]

    trivy, trivy_missing = _venv_tool("trivy", "trivy")

    def trivy_argv(case: Case) -> list[str] | None:
        if case.stdin is not None or case.kind == "mixed":
            return None
        return [str(trivy), "config", *TRIVY_OFFLINE, "--misconfig-scanners", case.kind, str(case.target)]

    return {
        "kmslint": Tool("kmslint", kmslint, kmslint_argv, "" if kmslint.exists() else "run `pip install -e .`"),
        "checkov": Tool("checkov", checkov, checkov_argv, checkov_missing),
        "cfn-lint": Tool("cfn-lint", cfnlint, cfnlint_argv, cfnlint_missing),
        "trivy": Tool("trivy", trivy, trivy_argv, trivy_missing),
    }


def version_of(tool: Tool) -> str:
    if tool.missing:
        return "-"
    try:
        out = subprocess.run([str(tool.exe), "--version"], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"? ({exc})"
    text = (out.stdout or out.stderr).strip().splitlines()
    if not text:
        return "?"
    words = [w for w in text[0].split() if w.lower() not in (tool.name, "version:", "version")]
    return " ".join(words) or "?"


# ----------------------------------------------------------------------------- trees


def tree(kind: str, n: int) -> Path:
    """The generated tree for (kind, n), made once; regenerated when the generator changes."""
    out = TREES / f"{kind}-{n}"
    stamp = out / ".generator"
    digest = str(hash_file(HERE / "gen.py"))
    if stamp.exists() and stamp.read_text() == digest:
        return out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    gen.generate(kind, n, out)
    stamp.write_text(digest)
    return out


def hash_file(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def first(root: Path, pattern: str, must_contain: str) -> Path:
    for p in sorted(root.rglob(pattern)):
        if must_contain in p.read_text(encoding="utf-8"):
            return p
    raise SystemExit(f"no {pattern} with {must_contain!r} under {root}")


def make_cases(n: int, big: int, quick: bool) -> list[Case]:
    tf = tree("terraform", n)
    cfn = tree("cloudformation", n)
    one_tf = first(tf, "kms.tf", "aws_kms_key")
    one_cfn = first(cfn, "*.yaml", "AWS::KMS::Key")
    cases = [
        Case("tf-1", "one Terraform file (its module directory loaded for context)", one_tf, "terraform", False),
        Case("cfn-1", "one CloudFormation template", one_cfn, "cloudformation", False),
        Case(
            "stdin-1",
            "one Terraform file on stdin (`--stdin-filename`)",
            one_tf,
            "terraform",
            False,
            stdin=one_tf,
            tools=("kmslint",),
        ),
        Case("tf-n", f"{n:,} Terraform files", tf, "terraform", True),
        Case("cfn-n", f"{n:,} CloudFormation templates", cfn, "cloudformation", True),
        Case("mixed-n", f"{n:,} mixed files", tree("mixed", n), "mixed", True, tools=("kmslint",)),
    ]
    if not quick:
        cases += [
            Case(
                "tf-big",
                f"{big:,} Terraform files (scaling)",
                tree("terraform", big),
                "terraform",
                True,
                tools=("kmslint",),
            ),
            Case(
                "cfn-big",
                f"{big:,} CloudFormation templates (scaling)",
                tree("cloudformation", big),
                "cloudformation",
                True,
                tools=("kmslint",),
            ),
        ]
    return cases


# ----------------------------------------------------------------------------- the session


def run_case(case: Case, tools: dict[str, Tool], runs: int, timeout: float, log: Callable[[str], None]) -> None:
    active: list[tuple[Tool, list[str]]] = []
    for name in case.tools:
        tool = tools.get(name)
        if tool is None:
            continue
        if tool.missing:
            case.notes[name] = tool.missing
            continue
        argv = tool.argv(case)
        if argv is None:
            continue
        active.append((tool, argv))
        case.samples[name] = []
    if not case.tree:  # warm the page cache and the bytecode caches, uncounted
        for _tool, argv in active:
            run_once(argv, case.target.parent, case.stdin, timeout)
    for i in range(runs):
        for tool, argv in active:  # A B C A B C ...
            cwd = case.target if case.tree else case.target.parent
            target_argv = [a if a != str(case.target) else _rel(case.target, cwd) for a in argv]
            s = run_once(target_argv, cwd, case.stdin, timeout)
            case.samples[tool.name].append(s)
            log(f"  {case.key:8} {tool.name:9} run {i + 1}/{runs}: {s.wall:8.3f} s  exit {s.code}")
            if s.code not in (0, 1, 2, 4, 6, 8, 12):  # cfn-lint uses 2/4/8 bit flags
                case.notes[tool.name] = f"exit code {s.code} ({' '.join(target_argv)})"


def _rel(target: Path, cwd: Path) -> str:
    return "." if target == cwd else os.path.relpath(target, cwd)


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def table(cases: list[Case]) -> str:
    rows = [
        "| case | tool | median wall | median CPU | peak RSS | wall vs kmslint | runs | exit codes |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for case in cases:
        base = case.samples.get("kmslint")
        base_wall = statistics.median(s.wall for s in base) if base else None
        for name, samples in case.samples.items():
            if not samples:
                continue
            wall = statistics.median(s.wall for s in samples)
            cpu = statistics.median(s.cpu for s in samples)
            rss = max(s.rss_kb for s in samples) / 1024
            codes = ",".join(str(c) for c in sorted({s.code for s in samples}))
            if name == "kmslint" or base_wall is None:
                ratio = "1×" if name == "kmslint" else "-"
            else:
                ratio = f"{wall / base_wall:.1f}× slower"
            rows.append(
                f"| {case.title} | {name} | {fmt_time(wall)} | {fmt_time(cpu)} | {rss:.0f} MB | {ratio} | "
                f"{len(samples)} | {codes} |"
            )
    return "\n".join(rows)


def scaling(cases: list[Case]) -> list[str]:
    by_key = {c.key: c for c in cases}
    out = []
    for small, big, what in (("tf-n", "tf-big", "Terraform"), ("cfn-n", "cfn-big", "CloudFormation")):
        a, b = by_key.get(small), by_key.get(big)
        if a and b and a.samples.get("kmslint") and b.samples.get("kmslint"):
            wa = statistics.median(s.wall for s in a.samples["kmslint"])
            wb = statistics.median(s.wall for s in b.samples["kmslint"])
            out.append(f"- {what} scaling: {b.title} took {wb / wa:.1f}× the time of {a.title} (linear would be 10×).")
    return out


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.0f} GB RAM"
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{system}, {cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="files in the tree cases (default 1000)")
    ap.add_argument("--big", type=int, default=10_000, help="files in the scaling cases (default 10000)")
    ap.add_argument("--runs", type=int, default=10, help="runs per tool for the one-file cases")
    ap.add_argument("--tree-runs", type=int, default=3, help="runs per tool for the tree cases")
    ap.add_argument("--tools", default="kmslint,checkov,cfn-lint,trivy")
    ap.add_argument("--cases", default="", help="comma-separated case keys (default: all)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is killed")
    ap.add_argument("--quick", action="store_true", help="skip the 10,000-file scaling cases")
    ap.add_argument("--write", type=Path, default=None, help="also write the report to this file")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    wanted = set(args.tools.split(","))
    tools = {k: v for k, v in make_tools().items() if k in wanted}
    log("generating trees (once) ...")
    cases = make_cases(args.n, args.big, args.quick)
    if args.cases:
        keep = set(args.cases.split(","))
        cases = [c for c in cases if c.key in keep]
    for case in cases:
        log(f"{case.key}: {case.title}")
        run_case(case, tools, args.tree_runs if case.tree else args.runs, args.timeout, log)

    versions = ", ".join(f"{t.name} {version_of(t)}" for t in tools.values() if not t.missing)
    lines = [
        "# kmslint benchmark",
        "",
        "Written by `make bench` (`bench/run.py`, trees from `bench/gen.py`); do not edit by hand.",
        "",
        f"Benchmark of {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        "",
        f"Tools: {versions}.",
        "",
        f"Medians of {args.runs} runs per tool (one-file cases, after one uncounted warm-up) and "
        f"{args.tree_runs} runs (trees), tools alternating A B C A B C; peak RSS is the largest seen of the "
        "tool's largest process (wait4: checkov's and kmslint's worker processes are not summed). "
        f"checkov runs only `--check {CHECKOV_KMS_CHECKS}` with `--framework` set to the input's; "
        "trivy runs `config` offline with `--misconfig-scanners` set likewise (all its checks); "
        "cfn-lint runs its default rules.",
        "",
        table(cases),
    ]
    extra = scaling(cases)
    notes = [f"- {c.title}, {tool}: {why}" for c in cases for tool, why in c.notes.items()]
    if extra or notes:
        lines += ["", *extra, *notes]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.write:
        args.write.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
