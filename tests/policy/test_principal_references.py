"""Principals written as references (RULES.md, "Unknown value"): the same reference is one
principal, and a reference standing for an account ID is an account root."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmslint.model import Interpolated, Known, Meaning, Unknown, Value
from kmslint.policy.principals import PrincipalClass, PrincipalEntry, classify, is_reference, names_account_id
from tests.parsers.test_cloudformation import principal, with_principal
from tests.parsers.tf_helpers import d, parse


def entry(value: Value, ptype: str = "AWS") -> PrincipalEntry:
    return PrincipalEntry(ptype, value, None)


PARAM = Unknown("parameter AdminRole has no default", None, ref="AdminRole")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (PARAM, True),
        (Unknown("variable has no default", None, ref="var.admin_role_arn"), True),
        (Unknown("Fn::ImportValue", None, ref="Fn::ImportValue:admin"), True),
        (Interpolated((Unknown("p", None, ref="Prefix"), "-admin")), True),
        (Unknown("Fn::Select of a list that cannot be resolved", None), False),  # no reference
        (Interpolated((Unknown("p", None, ref="Prefix"), Unknown("x", None))), False),
        (Unknown("account", None, Meaning.ACCOUNT_ID, ref="TrustedAccountId"), False),  # an account root
        (Unknown("pseudo parameter AWS::StackName", None, ref="AWS::StackName"), False),
        (Unknown("the ARN of Role", None, Meaning.RESOURCE_ARN, ref="Role.Arn"), False),  # specific already
        (Known("arn:aws:iam::111122223333:role/Admin"), False),
        (Known("*"), False),
    ],
)
def test_what_is_a_reference(value: Value, expected: bool) -> None:
    assert is_reference(entry(value)) is expected


def test_the_same_reference_is_the_same_identity() -> None:
    written_twice = [entry(Unknown("why", None, ref="AdminRole")), entry(Unknown("other words", None, ref="AdminRole"))]
    assert written_twice[0].identity == written_twice[1].identity
    assert entry(Unknown("why", None, ref="OpsRole")).identity != written_twice[0].identity


@pytest.mark.parametrize(
    ("name", "description", "pattern", "expected"),
    [
        ("SecurityAccount", "", "", True),
        ("TrustedAccountId", "", "", True),
        ("TrustedAccountIDs", "", "", True),
        ("AccountIdSource", "", "", True),
        ("account_number", "", "", True),
        ("Target", "The 12-digit ID of the AWS account that manages the key", "", True),
        ("Target", "ID of the account", "", True),
        ("Peer", "", r"^\d{12}$", True),
        ("Peers", "", r"^[0-9]{12}(,[0-9]{12})*$", True),
        ("AdminRoleArn", "", "", False),
        ("AccountRoleArn", "The role in the account ID 111122223333", "", False),  # an ARN, whatever else
        ("Admin", "ARN of the role in the security account", "", False),
        ("Admin", "", r"arn:aws:iam::\d{12}:role/.*", False),
        ("MyAccountIdentityProvider", "", "", False),
        ("LogArchiveAccountEmail", "", "", False),
    ],
)
def test_what_stands_for_an_account_id(name: str, description: str, pattern: str, expected: bool) -> None:
    assert names_account_id(name, description, pattern) is expected


def test_cloudformation_parameters_standing_for_an_account_are_account_roots() -> None:
    header = (
        "Parameters:\n"
        "  Peer: {Type: String, AllowedPattern: '^\\d{12}$'}\n"
        "  Target: {Type: String, Description: The account ID of the target}\n"
        "  SecurityAccount: {Type: String}\n"
        "  Defaulted: {Type: String, Default: '111122223333'}\n"
        "  AdminRole: {Type: String}\n"
    )
    for name in ("Peer", "Target", "SecurityAccount"):
        value = principal(with_principal(f"!Ref {name}", header=header))
        assert isinstance(value, Unknown) and value.meaning is Meaning.ACCOUNT_ID, name
        assert classify(entry(value)) is PrincipalClass.ACCOUNT_ROOT
    assert principal(with_principal("!Ref Defaulted", header=header)) == Known("111122223333")
    admin = principal(with_principal("!Ref AdminRole", header=header))
    assert isinstance(admin, Unknown) and admin.meaning is Meaning.NOTHING and is_reference(entry(admin))


def test_terraform_variables_described_or_validated_as_account_ids(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            variable "peer" {
              description = "Account ID of the peer"
            }
            variable "trusted" {
              validation {
                condition     = can(regex("^\\\\d{12}$", var.trusted))
                error_message = "Twelve digits."
              }
            }
            variable "role" {
              description = "ARN of a role in the security account"
            }
            resource "aws_kms_key" "k" {
              tags = { a = var.peer, b = var.trusted, c = var.role }
            }
            """
        },
    )
    tags = d(p.keys[0].tags)
    assert [getattr(tags[n], "meaning", None) for n in "abc"] == [
        Meaning.ACCOUNT_ID,
        Meaning.ACCOUNT_ID,
        Meaning.NOTHING,
    ]
