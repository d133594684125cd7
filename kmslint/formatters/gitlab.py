"""GitLab Code Quality JSON (``--format gitlab``), for ``artifacts: reports: codequality``.

A JSON array with one issue per unsuppressed finding: ``description``,
``check_name`` (the rule ID), ``fingerprint`` (rule, resource, file and
content hashed, so it survives lines moving; unique within a report),
``severity`` (info -> info, low -> minor, medium -> major, high -> critical,
critical -> blocker), ``location.path`` and ``location.lines.begin``/``end``,
plus ``type``, ``categories`` and ``engine_name``.

Suppressed findings never appear: Code Quality has no notion of a
suppressed issue, so one listed would count as open.
"""

from __future__ import annotations

from kmslint.fingerprint import fingerprints
from kmslint.formatters import RenderContext, json_text
from kmslint.model import Severity
from kmslint.report import Report

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

SEVERITY: dict[Severity, str] = {
    Severity.INFO: "info",
    Severity.LOW: "minor",
    Severity.MEDIUM: "major",
    Severity.HIGH: "critical",
    Severity.CRITICAL: "blocker",
}


def render(report: Report, ctx: RenderContext) -> str:
    active = [f for f in report.findings if not f.suppressed]
    issues: list[dict[str, Any]] = []
    for f, fp in zip(active, fingerprints(active), strict=True):
        where = f" ({f.resource})" if f.resource else ""
        issues.append(
            {
                "type": "issue",
                "engine_name": "kmslint",
                "check_name": f.rule_id,
                "description": f"{f.rule_id} {f.slug}: {f.message}{where}",
                "categories": ["Security"],
                "fingerprint": fp,
                "severity": SEVERITY[f.severity],
                "location": {
                    "path": f.file.replace("\\", "/"),
                    "lines": {"begin": max(f.line, 1), "end": max(f.end_line, f.line, 1)},
                },
            }
        )
    return json_text(issues)
