"""Output formats, keyed by ``--format`` name and imported only when chosen."""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Iterable

from kmslint.api import Report
from kmslint.model import Finding
from kmslint.record import Record

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Protocol

    class Formatter(Protocol):
        def __call__(self, report: Report, ctx: RenderContext) -> str: ...


FORMATS: dict[str, str] = {
    "text": "kmslint.formatters.text",
    "json": "kmslint.formatters.json",
    "sarif": "kmslint.formatters.sarif",
    "github": "kmslint.formatters.github",
    "junit": "kmslint.formatters.junit",
    "gitlab": "kmslint.formatters.gitlab",
}

# Where the project and each rule's documentation live (SARIF helpUri, LSP codeDescription).
HOMEPAGE = "https://github.com/kmslint/kmslint"
# docs/rules.md is generated from rules/*.yaml, one section per rule.
RULE_DOCS = HOMEPAGE + "/blob/main/docs/rules.md#{anchor}"


class RenderContext(Record, frozen=True):
    version: str
    show_suppressed: bool = False
    color: bool = False


def get(name: str) -> Formatter:
    module = importlib.import_module(FORMATS[name])
    render: Formatter = module.render
    return render


def rule_doc_url(rule_id: str) -> str:
    """The page documenting one rule: its section of docs/rules.md (``#kms003-wildcard-principal``)."""
    from kmslint import catalog

    rule = catalog.rules().get(rule_id)
    anchor = f"{rule_id.lower()}-{rule.slug}" if rule is not None else rule_id.lower()
    return RULE_DOCS.format(anchor=anchor)


def fingerprint(finding: Finding) -> str:
    """A hash of what a finding is about, not where: rule, resource, file and content.

    It survives lines moving (an edit above the statement), so CI systems
    (SARIF ``partialFingerprints``, GitLab's ``fingerprint``) match a finding
    across runs.  Findings without content fall back to the message.
    """
    import hashlib

    what = finding.content or finding.message
    file = finding.file.replace("\\", "/")
    text = "\x1f".join((finding.rule_id, finding.resource, file, what))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def fingerprints(findings: Iterable[Finding]) -> list[str]:
    """:func:`fingerprint` of each finding, made unique by an occurrence suffix (``:2``, ``:3``...)."""
    seen: Counter[str] = Counter()
    out: list[str] = []
    for f in findings:
        fp = fingerprint(f)
        seen[fp] += 1
        out.append(fp if seen[fp] == 1 else f"{fp}:{seen[fp]}")
    return out
