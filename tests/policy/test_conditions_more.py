"""Condition questions added for KMS007, KMS012, KMS014 and KMS016."""

from __future__ import annotations

import pytest

from kmslint.model import Interpolated, Known, Unknown, Value
from kmslint.policy.conditions import (
    Condition,
    constrains_via_service,
    denies_without_mfa,
    limits_grants_to_aws_resources,
    narrows_keys,
    requires_mfa,
)


def cond(operator: str, key: str, *values: Value | str | bool) -> Condition:
    vals = tuple(v if isinstance(v, Known | Unknown | Interpolated) else Known(v) for v in values)
    return Condition(operator, key, vals, None)


@pytest.mark.parametrize(
    ("c", "expected"),
    [
        (cond("Bool", "aws:MultiFactorAuthPresent", "true"), True),
        (cond("Bool", "aws:multifactorauthpresent", True), True),
        (cond("Bool", "aws:MultiFactorAuthPresent", Unknown("var")), True),
        (cond("Bool", "aws:MultiFactorAuthPresent", "false"), False),
        (cond("BoolIfExists", "aws:MultiFactorAuthPresent", "true"), False),
        (cond("ForAnyValue:Bool", "aws:MultiFactorAuthPresent", "true"), False),
        (cond("StringEquals", "aws:MultiFactorAuthPresent", "true"), False),
        (cond("NumericLessThan", "aws:MultiFactorAuthAge", "3600"), True),
        (cond("NumericLessThanIfExists", "aws:MultiFactorAuthAge", "3600"), False),
        (cond("NumericGreaterThan", "aws:MultiFactorAuthAge", "3600"), False),
        (cond("Bool", "aws:SecureTransport", "true"), False),
    ],
)
def test_requires_mfa(c: Condition, expected: bool) -> None:
    assert requires_mfa(c) is expected


@pytest.mark.parametrize(
    ("c", "expected"),
    [
        (cond("BoolIfExists", "aws:MultiFactorAuthPresent", "false"), True),
        (cond("Bool", "aws:MultiFactorAuthPresent", False), True),
        (cond("Null", "aws:MultiFactorAuthPresent", "true"), True),
        (cond("Null", "aws:MultiFactorAuthPresent", "false"), False),
        (cond("BoolIfExists", "aws:MultiFactorAuthPresent", "true"), False),
        (cond("Bool", "aws:SecureTransport", "false"), False),
    ],
)
def test_denies_without_mfa(c: Condition, expected: bool) -> None:
    assert denies_without_mfa(c) is expected


@pytest.mark.parametrize(
    ("c", "expected"),
    [
        (cond("Bool", "kms:GrantIsForAWSResource", "true"), True),
        (cond("Bool", "kms:GrantIsForAWSResource", True), True),
        (cond("BoolIfExists", "kms:GrantIsForAWSResource", "true"), True),
        (cond("Bool", "kms:GrantIsForAWSResource", "false"), False),
        (cond("Bool", "kms:GrantIsForAWSResource", "yes"), False),
        (cond("StringEquals", "kms:GrantIsForAWSResource", "true"), False),
        (cond("Bool", "kms:GrantIsForAWSResource"), False),
    ],
)
def test_limits_grants_to_aws_resources(c: Condition, expected: bool) -> None:
    assert limits_grants_to_aws_resources(c) is expected


@pytest.mark.parametrize(
    ("c", "expected"),
    [
        (cond("StringEquals", "kms:ViaService", "s3.eu-west-1.amazonaws.com"), True),
        (cond("StringLike", "kms:viaservice", "s3.*.amazonaws.com"), True),
        (cond("ForAnyValue:StringEquals", "kms:ViaService", "s3.eu-west-1.amazonaws.com"), True),
        (cond("StringEqualsIfExists", "kms:ViaService", "s3.eu-west-1.amazonaws.com"), False),
        (cond("ForAllValues:StringEquals", "kms:ViaService", "s3.eu-west-1.amazonaws.com"), False),
        (cond("StringNotEquals", "kms:ViaService", "s3.eu-west-1.amazonaws.com"), False),
        (cond("StringLike", "kms:ViaService", "*"), False),
        (cond("StringEquals", "aws:SourceVpce", "vpce-1"), False),
        # The positive operators of RULES.md's identity-constraining conditions, Arn* included.
        (cond("ArnLike", "kms:ViaService", "rds.eu-west-1.amazonaws.com"), True),
        (cond("ForAnyValue:StringLike", "kms:ViaService", "rds.*.amazonaws.com"), True),
        (cond("StringEqualsIgnoreCase", "kms:ViaService", "rds.eu-west-1.amazonaws.com"), False),
        (cond("ForAnyValue:StringLikeIfExists", "kms:ViaService", "rds.*.amazonaws.com"), False),
        (cond("StringEquals", "kms:ViaService", "rds.eu-west-1.amazonaws.com", "*"), False),
        (cond("StringEquals", "kms:ViaService"), False),
    ],
)
def test_constrains_via_service(c: Condition, expected: bool) -> None:
    assert constrains_via_service(c) is expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("kms:ViaService", True),
        ("kms:ResourceAliases", True),
        ("aws:ResourceTag/team", True),
        ("aws:resourcetag/Team", True),
        ("kms:EncryptionContext:tenant", True),
        ("kms:EncryptionContextKeys", True),
        ("kms:CallerAccount", True),
        ("aws:ResourceAccount", True),
        ("aws:SourceIp", False),
        ("aws:PrincipalOrgID", False),
        ("kms:RequestAlias", False),
    ],
)
def test_narrows_keys(key: str, expected: bool) -> None:
    assert narrows_keys(cond("StringEquals", key, "x")) is expected
