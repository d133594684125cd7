"""Which KMS keys an identity policy's Resource reaches (KMS012)."""

from __future__ import annotations

import pytest

from kmslint.model import Interpolated, Known, Meaning, Unknown, Value
from kmslint.policy.resources import not_resource_reaches_all_keys, reaches_all_keys

ACCOUNT = Unknown("AWS::AccountId", meaning=Meaning.ACCOUNT_ID, ref="AWS::AccountId")
KEY_ID = Unknown("var.key_id", ref="var.key_id")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Known("*"), True),
        (Known("arn:aws:kms:*:111122223333:key/*"), True),
        (Known("arn:aws:kms:eu-west-1:111122223333:key/*"), True),
        (Known("arn:*:kms:*:*:*"), True),
        (Known("arn:aws:*:*:*:*"), True),
        (Known("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"), False),
        (Known("arn:aws:kms:eu-west-1:111122223333:key/mrk-*"), False),
        (Known("arn:aws:kms:eu-west-1:111122223333:alias/*"), False),
        (Known("arn:aws:s3:::*"), False),
        (Known("arn:aws:iam::aws:policy/AdministratorAccess"), False),
        (Interpolated(("arn:aws:kms:*:", ACCOUNT, ":key/*")), True),
        (Interpolated(("arn:aws:kms:eu-west-1:", ACCOUNT, ":key/", KEY_ID)), None),
        (Unknown("aws_kms_key.x.arn", meaning=Meaning.RESOURCE_ARN), None),
        (Known(["*"]), None),
    ],
)
def test_reaches_all_keys(value: Value, expected: bool | None) -> None:
    assert reaches_all_keys(value) is expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([Known("arn:aws:s3:::bucket/*")], True),
        ([Known("arn:aws:kms:eu-west-1:111122223333:key/abc")], False),
        ([Known("*")], False),
        ([Known("arn:aws:s3:::bucket"), Unknown("var.x")], None),
    ],
)
def test_not_resource_reaches_all_keys(values: list[Value], expected: bool | None) -> None:
    assert not_resource_reaches_all_keys(values) is expected
