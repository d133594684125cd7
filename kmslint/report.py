"""What a lint gives: the :class:`Report` every front end and output format reads.

Data only: the formatters, the CLI and the language server depend on this
module, not on :mod:`kmslint.api`, which runs the lint that fills it.
"""

from __future__ import annotations

from collections import Counter

from kmslint.model import PARSE_ERROR, Finding, NotFollowed, ParseError, Severity
from kmslint.record import Record, field


class Report(Record):
    findings: list[Finding] = field(default_factory=list)  # sorted; suppressed ones included, marked
    errors: list[ParseError] = field(default_factory=list)  # files that could not be read or parsed
    files: int = 0
    # A note for each file skipped as not IaC, sorted (OUTPUT.md, summary.skipped counts them).
    skipped: list[str] = field(default_factory=list)
    resources: int = 0
    notes: list[str] = field(default_factory=list)  # one-line remarks for stderr
    # A named path is missing, or a file named on the command line could not be parsed.
    usage_error: bool = False
    # Directories named that hold nothing kmslint read, as given (OUTPUT.md, "Exit codes").
    nothing_read: list[str] = field(default_factory=list)
    # IDs of the rules that ran (SARIF lists them as the tool's rules).
    rules: list[str] = field(default_factory=list)
    # Module calls whose source is not on disk, sorted, each once (OUTPUT.md, summary.not_followed).
    not_followed: list[NotFollowed] = field(default_factory=list)

    def visible(self, show_suppressed: bool = False) -> list[Finding]:
        return [f for f in self.findings if show_suppressed or not f.suppressed]

    def by_severity(self, show_suppressed: bool = False) -> dict[str, int]:
        counts = Counter(f.severity for f in self.visible(show_suppressed))
        return {sev.label: counts[sev] for sev in sorted(counts, reverse=True)}

    def failing(self, fail_on: Severity) -> list[Finding]:
        """The findings that fail the run at ``--fail-on fail_on``.

        Those at or above ``fail_on``, and every KMS000 whatever its severity
        (RULES.md): a file nobody could check must not pass a gate.  Only
        suppression or ``--ignore`` takes a KMS000 out (and ``--exit-zero``
        the whole exit code).
        """
        return [f for f in self.findings if not f.suppressed and (f.severity >= fail_on or f.rule_id == PARSE_ERROR)]


def nothing_read_line(given: str) -> str:
    """Why a directory named holds nothing to lint: one line (OUTPUT.md, "Exit codes")."""
    return (
        f"{given}: nothing to lint: no Terraform, CloudFormation, plan or key-policy file found in it "
        "(--allow-nothing-to-lint accepts that)"
    )


__all__ = ["PARSE_ERROR", "Report", "nothing_read_line"]
