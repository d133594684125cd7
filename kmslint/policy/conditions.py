"""Condition semantics: which conditions constrain *who* the caller is."""

from __future__ import annotations

from kmslint.model import Known, Location, Value, as_dict, as_list
from kmslint.record import Record

# Keys whose test narrows the caller's identity (RULES.md, vocabulary).
IDENTITY_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalArn",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:userid",
        "kms:CallerAccount",
    )
)

POSITIVE_OPERATORS = frozenset(o.lower() for o in ("StringEquals", "StringLike", "ArnEquals", "ArnLike"))

_BASE_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
    }
)


class Condition(Record, frozen=True):
    """One ``operator: {key: values}`` test of a statement."""

    operator: str
    key: str
    values: tuple[Value, ...]
    loc: Location | None

    @property
    def set_qualifier(self) -> str | None:
        head, sep, _ = self.operator.partition(":")
        return head.lower() if sep else None

    @property
    def base_operator(self) -> str:
        op = self.operator.rpartition(":")[2]
        return op[: -len("IfExists")] if op.endswith("IfExists") else op

    @property
    def if_exists(self) -> bool:
        return self.operator.endswith("IfExists")


def is_known_operator(operator: str) -> bool:
    """Is this a condition operator IAM accepts (with set qualifiers and IfExists)?"""
    head, sep, op = operator.rpartition(":")
    if sep and head.lower() not in ("forallvalues", "foranyvalue"):
        return False
    if op == "Null":
        return not sep
    if op.endswith("IfExists"):
        op = op[: -len("IfExists")]
    return op in _BASE_OPERATORS


def parse_conditions(block: Value | None) -> tuple[list[Condition], bool]:
    """Flatten a ``Condition`` block.

    Returns ``(conditions, fully_known)``; ``fully_known`` is False when some
    part of the block could not be resolved (it may then constrain anything).
    """
    if block is None:
        return [], True
    ops = as_dict(block)
    if ops is None:
        return [], False
    out: list[Condition] = []
    known = True
    for operator, tests in ops.items():
        entries = as_dict(tests)
        if entries is None:
            known = False
            continue
        for key, values in entries.items():
            out.append(Condition(operator, key, tuple(as_list(values)), values.loc or tests.loc))
    return out, known


def _value_is_bare_wildcard(value: Value) -> bool:
    if isinstance(value, Known) and isinstance(value.value, str):
        text = value.value.strip()
        return text == "" or set(text) <= {"*", "?"}
    return False


def is_positive_test(cond: Condition) -> bool:
    """RULES.md's operator rules for a condition that narrows who or how: a positive operator
    (``StringEquals``, ``StringLike``, ``ArnEquals``, ``ArnLike``, or their ``ForAnyValue:``
    forms), not ``...IfExists``, with values none of which is a bare ``*``."""
    qualifier = cond.set_qualifier
    if qualifier not in (None, "foranyvalue"):
        return False  # ForAllValues: is true when the key is absent
    if cond.if_exists:
        return False  # an anonymous caller has no such key, so the test passes
    if cond.base_operator.lower() not in POSITIVE_OPERATORS:
        return False
    if not cond.values:
        return False
    return not any(_value_is_bare_wildcard(v) for v in cond.values)


def constrains_identity(cond: Condition) -> bool:
    """RULES.md: a positive test (:func:`is_positive_test`) on an identity key."""
    return cond.key.lower() in IDENTITY_KEYS and is_positive_test(cond)


def has_identity_constraint(conditions: list[Condition], fully_known: bool) -> bool:
    """True when some condition constrains the caller, or the block cannot be read."""
    if not fully_known:
        return True
    return any(constrains_identity(c) for c in conditions)


# --------------------------------------------------------------------------- more questions


def _truth(value: Value) -> bool | None:
    """A condition value read as a boolean: True/False when known, None when not."""
    if isinstance(value, Known):
        if isinstance(value.value, bool):
            return value.value
        if isinstance(value.value, str) and value.value.strip().lower() in ("true", "false"):
            return value.value.strip().lower() == "true"
        return False if value.is_scalar else None
    return None


def _all_true(values: tuple[Value, ...]) -> bool:
    """Every value is true or unknown (an unknown value may be true: no finding from it)."""
    return bool(values) and all(_truth(v) is not False for v in values)


def _all_false(values: tuple[Value, ...]) -> bool:
    return bool(values) and all(_truth(v) is not True for v in values)


def constrains_via_service(cond: Condition) -> bool:
    """A positive test (:func:`is_positive_test`: not IfExists, not ForAllValues, no bare
    ``*``) on ``kms:ViaService``: the key can only be used through the named AWS services."""
    return cond.key.lower() == "kms:viaservice" and is_positive_test(cond)


def requires_mfa(cond: Condition) -> bool:
    """Does this test on an Allow statement require the caller to have used MFA?

    ``Bool`` ``aws:MultiFactorAuthPresent`` = true, or ``NumericLessThan(Equals)``
    on ``aws:MultiFactorAuthAge`` (the key exists only after MFA).  The
    ``IfExists`` forms pass for long-term access keys, which carry no MFA key.
    """
    if cond.set_qualifier is not None or cond.if_exists:
        return False
    key = cond.key.lower()
    op = cond.base_operator.lower()
    if key == "aws:multifactorauthpresent":
        return op == "bool" and _all_true(cond.values)
    if key == "aws:multifactorauthage":
        return op in ("numericlessthan", "numericlessthanequals") and bool(cond.values)
    return False


def denies_without_mfa(cond: Condition) -> bool:
    """Does this test on a Deny statement make it apply to callers without MFA?

    ``BoolIfExists``/``Bool`` ``aws:MultiFactorAuthPresent`` = false, or
    ``Null`` ``aws:MultiFactorAuthPresent`` = true (the AWS-documented pattern).
    """
    if cond.set_qualifier is not None or cond.key.lower() != "aws:multifactorauthpresent":
        return False
    op = cond.base_operator.lower()
    if op == "bool":
        return _all_false(cond.values)
    if op == "null":
        return _all_true(cond.values)
    return False


def limits_grants_to_aws_resources(cond: Condition) -> bool:
    """``Bool`` (or ``BoolIfExists``) ``kms:GrantIsForAWSResource`` = true."""
    if cond.set_qualifier is not None or cond.key.lower() != "kms:grantisforawsresource":
        return False
    return cond.base_operator.lower() == "bool" and _all_true(cond.values)


# Condition keys that narrow *which keys* an identity policy statement reaches
# (RULES.md, KMS012); prefixes end with the separator AWS uses.
_KEY_NARROWING_KEYS = frozenset(
    k.lower()
    for k in (
        "kms:ViaService",
        "kms:ResourceAliases",
        "kms:EncryptionContextKeys",
        "kms:CallerAccount",
        "aws:ResourceAccount",
    )
)
_KEY_NARROWING_PREFIXES = ("aws:resourcetag/", "kms:encryptioncontext:")


def narrows_keys(cond: Condition) -> bool:
    """Is this a test on a key that narrows which KMS keys an identity policy reaches?

    Any operator counts: a linter cannot weigh every way a test on these keys
    narrows the set, and a reader who wrote one has thought about it.
    """
    key = cond.key.lower()
    return key in _KEY_NARROWING_KEYS or key.startswith(_KEY_NARROWING_PREFIXES)
