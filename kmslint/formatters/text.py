r"""``file:line:col: KMS003 [critical] message (resource)``, one line per finding, then a summary.

File names, messages, resources and suppression reasons quote the input, so
each is shown through :func:`kmslint.formatters.terminal`: a control or bidi
character in a Sid is printed as ``\x1b`` or ``\u202e``, and cannot erase,
reorder or recolour its own line or start another.  A line starts with a file
name, so :func:`kmslint.formatters.log_line` keeps a name like
``::error::x.tf`` from starting a GitHub workflow command (text output is a
documented choice for the Action's log).
"""

from __future__ import annotations

from kmslint.formatters import RenderContext, log_line, terminal
from kmslint.model import Severity
from kmslint.report import Report

_COLOURS = {
    Severity.CRITICAL: "\x1b[1;31m",
    Severity.HIGH: "\x1b[31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"


def render(report: Report, ctx: RenderContext) -> str:
    lines: list[str] = []
    visible = report.visible(ctx.show_suppressed)
    for f in visible:
        # The whole line is guarded, not the name alone: a file named ":" gives "::1:5: ...".
        where = f"{log_line(terminal(f.file) + ':')}{f.line}:{f.column}:"
        sev = f"[{f.severity.label}]"
        if ctx.color:
            where = f"{_BOLD}{where}{_RESET}"
            sev = f"{_COLOURS[f.severity]}{sev}{_RESET}"
        resource = f" ({terminal(f.resource)})" if f.resource else ""
        line = f"{where} {f.rule_id} {sev} {terminal(f.message)}{resource}"
        if f.suppressed:
            line += f" [suppressed: {terminal(str(f.suppression_reason))}]"
        lines.append(line)
    if not lines and not report.files and (report.usage_error or report.nothing_read):
        return ""  # the run failed before reading anything: its one line on stderr says why
    lines.append(_summary(report, ctx))
    return "\n".join(lines) + "\n"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(report: Report, ctx: RenderContext) -> str:
    active = [f for f in report.findings if not f.suppressed]
    suppressed = len(report.findings) - len(active)
    files = _plural(report.files, "file")
    tail = f", {suppressed} suppressed" if suppressed else ""
    if report.skipped:
        tail += f"; {_plural(len(report.skipped), 'file')} skipped (not IaC)"
    if not report.files and not report.findings:
        return f"Nothing linted: no Terraform, CloudFormation or key-policy file read{tail}."
    if not active:
        return f"No findings in {files}{tail}."
    counts = report.by_severity()
    detail = ", ".join(f"{n} {sev}" for sev, n in counts.items())
    return f"Found {_plural(len(active), 'finding')} ({detail}) in {files}{tail}."
