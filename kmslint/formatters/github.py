r"""GitHub Actions workflow commands (``--format github``): one annotation per finding.

    ::error file=main.tf,line=12,endLine=20,title=KMS003 wildcard-principal::statement ... (aws_kms_key.x)

Printed in a workflow step, each line becomes an annotation on the
pull-request diff.  Severity sets the command: critical and high are
``error``, medium and low ``warning``, info ``notice``; suppressed findings
(shown only with ``--show-suppressed``) are ``notice`` with their reason.

``col``/``endColumn`` are given only when a finding starts and ends on one
line: GitHub's check-run annotations accept columns on single-line spans
only, and drop them otherwise.  Property values escape ``%``, CR, LF, ``:``
and ``,``; the message escapes ``%``, CR and LF, as the runner expects.  A
closing plain line (not a command) gives the summary in the job log.

Every field quoting the input (file, message, resource, reason) is first
shown through :func:`kmslint.formatters.terminal`, so a control, bidi or
lone surrogate character arrives as the text ``\x1b``, ``\u202e`` or
``\xff`` (CR and LF are left to the command escaping, as ``%0D`` and
``%0A``), and the workflow-command escaping then holds for whatever is left:
a finding is always exactly one line, one command, and cannot forge another
(``::add-mask::``, ``::stop-commands::``, ``::error file=...``).
"""

from __future__ import annotations

from kmslint.formatters import RenderContext, terminal
from kmslint.model import Finding, Severity
from kmslint.report import Report

_LINE_BREAKS = "\r\n"  # escaped as the runner expects (%0D, %0A); terminal() shows every other control

COMMAND: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "warning",
    Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    """Escape a command's message (first shown through :func:`kmslint.formatters.terminal`)."""
    return terminal(text, keep=_LINE_BREAKS).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property's value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    props = [("file", f.file.replace("\\", "/")), ("line", str(max(f.line, 1)))]
    single_line = f.end_line == f.line
    if f.end_line > f.line:
        props.append(("endLine", str(f.end_line)))
    if single_line and f.column >= 1:
        props.append(("col", str(f.column)))
        if f.end_column > f.column:
            props.append(("endColumn", str(f.end_column)))
    props.append(("title", f"{f.rule_id} {f.slug}"))
    message = f"[{f.severity.label}] {f.message}"
    if f.resource:
        message += f" ({f.resource})"
    command = COMMAND[f.severity]
    if f.suppressed:
        command = "notice"
        message += f" [suppressed: {f.suppression_reason}]"
    rendered = ",".join(f"{name}={escape_property(value)}" for name, value in props)
    return f"::{command} {rendered}::{escape_data(message)}"


def render(report: Report, ctx: RenderContext) -> str:
    lines = [annotation(f) for f in report.visible(ctx.show_suppressed)]
    active = [f for f in report.findings if not f.suppressed]
    files = f"{report.files} file{'' if report.files == 1 else 's'}"
    if active:
        counts = ", ".join(f"{n} {sev}" for sev, n in report.by_severity().items())
        lines.append(f"kmslint: {len(active)} finding{'' if len(active) == 1 else 's'} ({counts}) in {files}.")
    else:
        lines.append(f"kmslint: no findings in {files}.")
    return "\n".join(lines) + "\n"
