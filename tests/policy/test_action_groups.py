"""The named action groups rules ask about."""

from __future__ import annotations

import pytest

from kmslint.policy import actions as act

GROUPS = {
    "ADMIN_ACTIONS": act.ADMIN_ACTIONS,
    "CRYPTO_USE_ACTIONS": act.CRYPTO_USE_ACTIONS,
    "CRYPTOGRAPHIC_OPERATIONS": act.CRYPTOGRAPHIC_OPERATIONS,
    "GRANT_ACTIONS": act.GRANT_ACTIONS,
    "DESTRUCTIVE_ACTIONS": act.DESTRUCTIVE_ACTIONS,
}


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_every_group_member_is_a_kms_action(name: str) -> None:
    members = GROUPS[name]
    assert len(set(members)) == len(members)
    assert all(act.canonical(a) == a for a in members), [a for a in members if act.canonical(a) != a]


def test_grant_operations_are_not_administration() -> None:
    assert not set(act.GRANT_ACTIONS) & set(act.ADMIN_ACTIONS)


def test_crypto_use_is_generate_data_key_star_written_out() -> None:
    assert act.expand("kms:GenerateDataKey*") <= set(act.CRYPTO_USE_ACTIONS)
    assert set(act.CRYPTO_USE_ACTIONS) <= set(act.CRYPTOGRAPHIC_OPERATIONS)


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("kms:Decapsulate", False),
        ("kms:encapsulate", False),
        ("kms:Decript", True),
        ("kms:Decrypt*", False),
        ("s3:GetObject", False),
    ],
)
def test_ml_kem_actions_are_known(text: str, unknown: bool) -> None:
    assert act.is_unknown_kms_action(text) is unknown
