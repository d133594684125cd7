"""The cfn-lint rules: one class per kmslint rule that applies to CloudFormation.

cfn-lint loads this file (``--append-rules`` with this directory) or the
package (``--append-rules kmslint.cfnlint_plugin``) and instantiates every
subclass of its ``CloudFormationLintRule`` found here.  The classes are
made from the rule catalogue (``rules/*.yaml``), so a new kmslint rule
appears in cfn-lint without code here.

Each rule's ``match`` lints the template file cfn-lint loaded through
:func:`kmslint.api.lint` (once per file; the other rules reuse the result)
and reports kmslint's findings of that rule at kmslint's lines and columns.
The configuration file that applies to the template (``.kmslint.toml`` or
``[tool.kmslint]``) is honoured, and so are kmslint's suppressions.

IDs: kmslint ``KMSnnn`` is cfn-lint ``E9nnn`` when its default severity is
critical or high, ``W9nnn`` when medium or low, ``I9nnn`` when info (KMS003
is E9003, KMS004 is W9004).  ``KMS000`` (parse errors) is not mapped:
cfn-lint reports those itself (E0000).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch  # type: ignore[import-untyped, import-not-found, unused-ignore]

from kmslint import api, catalog
from kmslint.formatters import rule_doc_url
from kmslint.model import PARSE_ERROR, Finding, Severity
from kmslint.settings import Settings

LOGGER = logging.getLogger("kmslint.cfnlint_plugin")
LETTER: dict[Severity, str] = {
    Severity.CRITICAL: "E",
    Severity.HIGH: "E",
    Severity.MEDIUM: "W",
    Severity.LOW: "W",
    Severity.INFO: "I",
}
NOT_MAPPED = frozenset({PARSE_ERROR})

_cache: dict[tuple[str, int, int], list[Finding]] = {}


def cfnlint_id(rule: catalog.Rule) -> str:
    """``KMS003`` -> ``E9003``: the letter from the default severity, 9 for the custom range, the number."""
    return f"{LETTER[rule.severity]}9{rule.id.removeprefix('KMS')}"


def mapped_rules() -> list[catalog.Rule]:
    return [r for r in catalog.rules().values() if "cloudformation" in r.applies_to and r.id not in NOT_MAPPED]


def _settings(filename: str) -> Settings:
    from kmslint import config

    try:
        return config.settings_for(filename)
    except config.ConfigError as exc:
        LOGGER.warning("kmslint: %s; using the default settings", exc)
        return Settings()


def findings_for(filename: str) -> list[Finding]:
    """kmslint's unsuppressed findings for a template file, linted once per file version."""
    st = os.stat(filename)
    key = (os.path.abspath(filename), st.st_mtime_ns, st.st_size)
    if key not in _cache:
        report = api.lint([filename], _settings(filename))
        _cache[key] = [f for f in report.findings if not f.suppressed]
    return _cache[key]


def _match(self: Any, cfn: Any) -> list[Any]:
    filename = getattr(cfn, "filename", None)
    if not filename or not os.path.isfile(filename):
        return []  # a template read from stdin: kmslint needs the file for its positions
    matches = []
    for f in findings_for(filename):
        if f.rule_id != self.kmslint_id:
            continue
        path: list[str] = ["Resources", f.resource] if f.resource else []
        location = (f.line - 1, f.column - 1, max(f.end_line, f.line) - 1, max(f.end_column, 1) - 1)
        message = f"{f.rule_id} {f.slug}: {f.message}" + (f" ({f.resource})" if f.resource else "")
        matches.append(RuleMatch(path, message, location=location))
    return matches


def _make(rule: catalog.Rule) -> type:
    """A CloudFormationLintRule subclass for one kmslint rule."""
    attrs = {
        "__doc__": f"kmslint {rule.id} {rule.slug}: {rule.summary}",
        "__module__": __name__,
        "id": cfnlint_id(rule),
        "shortdesc": f"{rule.id} {rule.slug}",
        "description": rule.summary,
        "source_url": rule_doc_url(rule.id),
        "tags": ["kmslint", "kms", rule.slug],
        "kmslint_id": rule.id,
        "match": _match,
    }
    return type(f"Kmslint{rule.id}", (CloudFormationLintRule,), attrs)


RULE_CLASSES: dict[str, type] = {f"Kmslint{r.id}": _make(r) for r in mapped_rules()}
globals().update(RULE_CLASSES)

__all__ = ["RULE_CLASSES", "cfnlint_id", "findings_for", "mapped_rules", *RULE_CLASSES]
