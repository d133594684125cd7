"""The GitHub Action's job summary and annotation-limit note, from a ``--format json`` report.

    python -m kmslint.action_summary REPORT.json SUMMARY.md [--annotations]

Appends Markdown to ``SUMMARY.md`` (the runner's ``$GITHUB_STEP_SUMMARY``):
the counts by severity and the first findings, worst first.  With
``--annotations`` (the log was printed as ``--format github``) it also prints
a ``::notice`` when there are more error or warning annotations than the
runner shows for one step, so those past the limit are not dropped unsaid.
Exit 2 with one line when the report cannot be read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from kmslint.model import SEVERITY_NAMES

# GitHub shows at most this many annotations of each level (error, warning) per step.
ANNOTATION_LIMIT = 10
SEVERITIES = tuple(reversed(SEVERITY_NAMES))  # worst first
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "warning"}
TOP = 10


def _cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def summary(report: dict[str, Any]) -> str:
    findings = [f for f in report.get("findings", []) if not f.get("suppressed")]
    counts = {sev: sum(1 for f in findings if f.get("severity") == sev) for sev in SEVERITIES}
    files = report.get("summary", {}).get("files", 0)
    lines = ["## kmslint", ""]
    if not findings:
        lines.append(f"No findings in {files} file{'' if files == 1 else 's'}.")
    else:
        lines += [f"{len(findings)} finding{'' if len(findings) == 1 else 's'} in {files} files.", ""]
        lines += ["| Severity | Findings |", "| --- | ---: |"]
        lines += [f"| {sev} | {n} |" for sev, n in counts.items() if n]
        findings.sort(key=lambda f: (SEVERITIES.index(f.get("severity", "info")), f["file"], f["line"]))
        lines += ["", f"Top {min(TOP, len(findings))}:", "", "| Rule | Severity | Where | Message |"]
        lines.append("| --- | --- | --- | --- |")
        for f in findings[:TOP]:
            where = f"{f['file']}:{f['line']}"
            lines.append(f"| {f['rule_id']} {f['rule']} | {f['severity']} | `{_cell(where)}` | {_cell(f['message'])} |")
    errors = report.get("errors", [])
    if errors:
        lines += ["", f"{len(errors)} file{'' if len(errors) == 1 else 's'} could not be read (KMS000)."]
    return "\n".join(lines) + "\n"


def annotation_note(report: dict[str, Any]) -> str | None:
    by_level = {"error": 0, "warning": 0}
    for f in report.get("findings", []):
        level = LEVEL.get(f.get("severity", ""))
        if level and not f.get("suppressed"):
            by_level[level] += 1
    over = {level: n for level, n in by_level.items() if n > ANNOTATION_LIMIT}
    if not over:
        return None
    said = " and ".join(f"{n} {level}s" for level, n in over.items())
    return (
        f"::notice title=kmslint::{said}: GitHub shows {ANNOTATION_LIMIT} annotations of each level per step;"
        " every finding is in this log, the job summary and the SARIF report"
    )


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[2:] not in ([], ["--annotations"]):
        print("usage: python -m kmslint.action_summary REPORT.json SUMMARY.md [--annotations]", file=sys.stderr)
        return 2
    try:
        report = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"kmslint: no job summary: cannot read the report {argv[0]}: {exc}", file=sys.stderr)
        return 2
    with Path(argv[1]).open("a", encoding="utf-8") as out:
        out.write(summary(report))
    note = annotation_note(report) if argv[2:] else None
    if note:
        print(note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
