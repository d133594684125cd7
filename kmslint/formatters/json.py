"""The JSON report of OUTPUT.md (schema: ``kmslint/schemas/report.schema.json``)."""

from __future__ import annotations

from kmslint.formatters import RenderContext, json_text
from kmslint.model import Finding
from kmslint.report import Report


def finding_dict(f: Finding) -> dict[str, object]:
    return {
        "rule_id": f.rule_id,
        "rule": f.slug,
        "severity": f.severity.label,
        "message": f.message,
        "file": f.file,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "resource": f.resource_name,
        "suppressed": f.suppressed,
        "suppression_reason": f.suppression_reason,
    }


def render(report: Report, ctx: RenderContext) -> str:
    visible = report.visible(ctx.show_suppressed)
    doc = {
        "version": ctx.version,
        "findings": [finding_dict(f) for f in visible],
        "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in report.errors],
        "summary": {
            "files": report.files,
            "skipped": len(report.skipped),
            "resources": report.resources,
            "findings": len([f for f in visible if not f.suppressed]),
            "by_severity": report.by_severity(),
            "not_followed": [
                {"file": n.file, "line": n.line, "module": n.module, "source": n.source} for n in report.not_followed
            ],
        },
    }
    return json_text(doc)
