"""A finding's fingerprint: what it is about, not where it is.

One identity for every consumer that matches findings across runs: the
rule ID, the file, the resource, and the offending node's normalised
content (``Finding.content``, set by the check; a finding without one falls
back on its message, which names the node in words, never a line number).
It survives lines moving (an edit above the statement), so the baseline
(:mod:`kmslint.baseline`), SARIF ``partialFingerprints`` and GitLab's
``fingerprint`` keep a finding's identity when code above it changes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

from kmslint.model import Finding

Identity = tuple[str, str, str, str]  # rule ID, file (with /), resource, content or message


def identity(finding: Finding, file: str | None = None) -> Identity:
    """What ``finding`` is about; ``file``: its file as the consumer names it (default: as reported, with ``/``)."""
    shown = finding.file.replace("\\", "/") if file is None else file
    return (finding.rule_id, shown, finding.resource, finding.content or finding.message)


def _sha256(text: str) -> str:
    # surrogatepass: a lone surrogate (a JSON "\ud800" in the input) hashes instead of crashing.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def fingerprint(finding: Finding) -> str:
    """The identity as one hash (SARIF ``partialFingerprints``, GitLab ``fingerprint``)."""
    rule_id, file, resource, what = identity(finding)
    return _sha256("\x1f".join((rule_id, resource, file, what)))


def fingerprints(findings: Iterable[Finding]) -> list[str]:
    """:func:`fingerprint` of each finding, made unique by an occurrence suffix (``:2``, ``:3``...)."""
    seen: Counter[str] = Counter()
    out: list[str] = []
    for f in findings:
        fp = fingerprint(f)
        seen[fp] += 1
        out.append(fp if seen[fp] == 1 else f"{fp}:{seen[fp]}")
    return out


def content_hash(finding: Finding) -> str:
    """A short hash of the content (or message) the identity holds."""
    return _sha256(identity(finding)[3])[:32]


def recorded(finding: Finding, file: str) -> Identity:
    """The identity as a baseline records it: ``file`` relative to the baseline, the content as a short hash."""
    rule_id, shown, resource, _what = identity(finding, file)
    return (rule_id, shown, resource, content_hash(finding))
