"""Rule selection: one small pure function, tested with tables.

Order of precedence (as in flake8's decision engine and ruff): ``ignore``
beats ``select``, except that a rule named by its exact ID in ``select`` or
``extend_select`` beats an ``ignore`` given only as a broader prefix.

``KMS000`` (a file that could not be read or parsed) is not a rule one
selects: it is reported whatever ``select`` says, and only ``ignore`` naming
it by ID or slug turns it off (RULES.md).  A prefix or ``ALL`` in ``ignore``
does not: ``--ignore KMS00`` means the checks KMS001 to KMS009, and a file
nobody could check must not pass a gate unless someone said so by name.

A ``[require-customer-managed-key]`` table in the configuration turns
``KMS022`` on as if it were enabled by default: an ``ignore`` (or
``--ignore``) of it, or a ``select`` that does not name it, leaves it off.
"""

from __future__ import annotations

from kmslint.catalog import Rule, specificity
from kmslint.model import PARSE_ERROR, Severity
from kmslint.settings import Settings

# The rule a [require-customer-managed-key] table turns on (its one reader).
REQUIRE_CMK_RULE = "KMS022"


def _matches(rule: Rule, names: frozenset[str]) -> int:
    """How specifically ``names`` name ``rule``: 3 by ID or slug, 1-2 by prefix or ALL, 0 not at all."""
    return max((specificity(rule, name) for name in names), default=0)


def is_enabled(rule: Rule, settings: Settings) -> bool:
    if rule.id == PARSE_ERROR:
        return _matches(rule, settings.ignore) < 3
    by_default = 1 if rule.enabled_by_default else 0
    if rule.id == REQUIRE_CMK_RULE and settings.require_customer_managed_key is not None:
        by_default = 1  # the table asks for what the rule checks
    chosen = by_default if settings.select is None else _matches(rule, settings.select)
    selected = max(chosen, _matches(rule, settings.extend_select))
    ignored = _matches(rule, settings.ignore)
    if selected == 0:
        return False
    return ignored == 0 or selected > ignored


def severity(rule: Rule, settings: Settings) -> Severity:
    return settings.severity.get(rule.id, rule.severity)
