"""SARIF 2.1.0 (``--format sarif``), for GitHub code scanning and other SARIF viewers.

One run; ``tool.driver`` lists every rule that ran, with its documentation
from ``rules/*.yaml`` (short and full description, help as text and
Markdown, ``helpUri``, ``security-severity`` and tags, which GitHub uses to
rank alerts).  Each result has a relative ``artifactLocation.uri``, a region
with start and end line and column, and ``partialFingerprints`` that hash the
rule, resource, file and offending content, not the line, so an alert keeps
its identity when code above it moves.

Text from the input is written as data: :func:`kmslint.formatters.json_text`
keeps the file valid UTF-8 JSON with control and bidi characters escaped.

Suppressed findings follow ``--show-suppressed``, as in every format: by
default they are left out; with the flag they are results carrying
``suppressions: [{kind, justification}]``, kind ``external`` for a finding
recorded in a baseline file and ``inSource`` for the rest (inline comments,
template ``Metadata``, configuration).  Left out by default
because a consumer that ignores ``suppressions`` would open alerts for
decisions already taken and reviewed in the code.
"""

from __future__ import annotations

from urllib.parse import quote

from kmslint import HOMEPAGE, catalog, ruledoc
from kmslint.fingerprint import fingerprints
from kmslint.formatters import RenderContext, json_text, rule_doc_url
from kmslint.model import SUPPRESSED_BY_BASELINE, Finding, Severity
from kmslint.report import Report, nothing_read_line

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "kmslintFingerprint/v1"

# GitHub ranks alerts by security-severity: >= 9.0 critical, 7.0-8.9 high,
# 4.0-6.9 medium, below 4.0 low.
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
LEVEL: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def level(severity: Severity) -> str:
    return LEVEL[severity]


def _descriptor(rule: catalog.Rule, severity: Severity) -> dict[str, Any]:
    tags = ["security", "aws-kms", *rule.applies_to]
    return {
        "id": rule.id,
        "name": rule.slug,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": "\n\n".join(ruledoc.paragraphs(rule.why))},
        "help": {"text": ruledoc.text(rule), "markdown": ruledoc.markdown(rule)},
        "helpUri": rule_doc_url(rule.id),
        "defaultConfiguration": {"level": level(severity), "enabled": rule.enabled_by_default},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "problem.severity": {"error": "error", "warning": "warning"}.get(level(severity), "recommendation"),
            "severity": severity.label,
            "tags": tags,
            "precision": "high",
        },
    }


def artifact_uri(path: str) -> str:
    """A URI reference for a reported path: relative paths stay relative (to the repository root).

    Percent-encoded from the name's bytes: a name that is not UTF-8
    (``b"\\xff.json"``, carried as a lone surrogate) becomes ``%FF.json``,
    the very file, where encoding it as text would fail.
    """
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return "file://" + quote(_name_bytes(posix), safe="/")
    if len(posix) > 1 and posix[1] == ":":  # a Windows drive letter
        return "file:///" + quote(_name_bytes(posix), safe="/:")
    return quote(_name_bytes(posix), safe="/")


def _name_bytes(name: str) -> bytes:
    """The bytes of a file name as the OS gave them (lone surrogates are the bytes that were not UTF-8)."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no byte stands for (a Windows name): spelled as UTF-8 would
        return b"".join(_char_bytes(c) for c in name)


def _char_bytes(char: str) -> bytes:
    try:
        return char.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return char.encode("utf-8", "surrogatepass")


def _region(f: Finding) -> dict[str, int]:
    region = {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)}
    if (f.end_line, f.end_column) >= (f.line, f.column) and f.end_line >= 1 and f.end_column >= 1:
        region["endLine"] = f.end_line
        region["endColumn"] = f.end_column
    return region


def suppression_kind(f: Finding) -> str:
    """``external`` for a finding recorded in a baseline file (README, Baseline), else ``inSource``."""
    return "external" if f.suppression_kind == SUPPRESSED_BY_BASELINE else "inSource"


def _rule_ids(report: Report) -> list[str]:
    known = catalog.rules()
    ids = list(report.rules) or [rid for rid, r in known.items() if r.enabled_by_default]
    ids += [f.rule_id for f in report.findings if f.rule_id not in ids]
    return sorted({rid for rid in ids if rid in known})


def _result(f: Finding, fp: str, index: dict[str, int]) -> dict[str, Any]:
    """One finding as a SARIF result; ``fp`` its fingerprint, ``index`` each rule's place in the driver's list."""
    text = f.message + (f" ({f.resource})" if f.resource else "")
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(f.file)},
            "region": _region(f),
        }
    }
    if f.resource:
        location["logicalLocations"] = [{"name": f.resource, "kind": "resource"}]
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": level(f.severity),
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fp},
        "properties": {"severity": f.severity.label},
    }
    if f.rule_id in index:
        result["ruleIndex"] = index[f.rule_id]
    if f.suppressed:
        result["suppressions"] = [{"kind": suppression_kind(f), "justification": f.suppression_reason or ""}]
    return result


def _invocation(report: Report) -> dict[str, Any]:
    return {
        # A missing path, or a directory named that held nothing to read: the run
        # did not check what it was asked to (the exit code is 2).
        "executionSuccessful": not (report.usage_error or report.nothing_read),
        "toolExecutionNotifications": [
            {"level": "error", "message": {"text": nothing_read_line(given)}} for given in report.nothing_read
        ]
        + [
            {
                "level": "error",
                "message": {"text": e.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": artifact_uri(e.file)},
                            "region": {"startLine": max(e.line, 1), "startColumn": max(e.column, 1)},
                        }
                    }
                ],
            }
            for e in report.errors
        ],
    }


def build(report: Report, ctx: RenderContext) -> dict[str, Any]:
    """The SARIF log as a Python object."""
    known = catalog.rules()
    ids = _rule_ids(report)
    # A rule's effective severity (a configured override) is what its findings carry.
    effective = {f.rule_id: f.severity for f in report.findings}
    index = {rid: i for i, rid in enumerate(ids)}
    visible = report.visible(ctx.show_suppressed)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "kmslint",
                "version": ctx.version,
                "semanticVersion": ctx.version,
                "informationUri": HOMEPAGE,
                "rules": [_descriptor(known[rid], effective.get(rid, known[rid].severity)) for rid in ids],
            }
        },
        "invocations": [_invocation(report)],
        "results": [_result(f, fp, index) for f, fp in zip(visible, fingerprints(visible), strict=True)],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, ctx: RenderContext) -> str:
    return json_text(build(report, ctx))
