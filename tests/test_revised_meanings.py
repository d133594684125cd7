"""The rule meanings revised with issue 12 (RULES.md): KMS001's default policy with extra
statements for the same root, KMS007 without the account-root statement, KMS013's principal
types, KMS016's kms:ViaService.  The fixtures pin positions; these pin words and edges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmslint import api
from kmslint.model import Finding, Interpolated, Known, Meaning, Unknown, Value
from kmslint.policy.principals import PrincipalEntry, root_account
from kmslint.settings import Settings
from tests.conftest import FIXTURES

ACCOUNT = Unknown("pseudo parameter AWS::AccountId", None, Meaning.ACCOUNT_ID, ref="AWS::AccountId")
PARTITION = Unknown("pseudo parameter AWS::Partition", None, Meaning.PARTITION, ref="AWS::Partition")
CALLER = Unknown("caller", None, Meaning.ACCOUNT_ID, ref="data.aws_caller_identity.current.account_id")
PARAM = Unknown("parameter AccountIdSource has no default", None, ref="AccountIdSource")


def findings(path: Path, rule: str) -> list[Finding]:
    return [f for f in api.lint([str(path)], Settings(select=frozenset({rule}))).findings if not f.suppressed]


def policy_file(tmp_path: Path, *statements: dict[str, object]) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=1))
    return path


def allow(principal: object, action: object = "kms:*", **more: object) -> dict[str, object]:
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": "*", **more}


# --------------------------------------------------------------------------- whose root


@pytest.mark.parametrize(
    ("value", "account"),
    [
        (Known("arn:aws:iam::111122223333:root"), "111122223333"),
        (Known("arn:aws-us-gov:iam::111122223333:root"), "111122223333"),  # any partition
        (Known("111122223333"), "111122223333"),
        (Known(111122223333), "111122223333"),  # an unquoted YAML number
        (ACCOUNT, "${AWS::AccountId}"),
        (Interpolated((ACCOUNT,)), "${AWS::AccountId}"),
        (Interpolated(("arn:", PARTITION, ":iam::", ACCOUNT, ":root")), "${AWS::AccountId}"),
        (Interpolated(("arn:aws:iam::", CALLER, ":root")), "${data.aws_caller_identity.current.account_id}"),
        (Interpolated(("arn:aws:iam::", PARAM, ":root")), "${AccountIdSource}"),
        (Known("arn:aws:iam::111122223333:role/App"), None),
        (Interpolated(("arn:aws:iam::", ACCOUNT, ":role/App")), None),
        (Known("*"), None),
        (Interpolated(("arn:aws:iam::\x000\x00", ACCOUNT, ":root")), None),  # NUL: no account read
    ],
)
def test_root_account_is_the_literal_account_or_the_expression_written(value: Value, account: str | None) -> None:
    assert root_account(PrincipalEntry("AWS", value, None)) == account


# --------------------------------------------------------------------------- KMS001


def test_kms001_says_the_extra_statements_add_nothing(tmp_path: Path) -> None:
    root = "arn:aws:iam::111122223333:root"
    path = policy_file(
        tmp_path, allow(root, Sid="Root"), allow(root, "kms:Decrypt"), allow("111122223333", "kms:Encrypt")
    )
    [finding] = findings(path, "KMS001")
    assert "statement `Root` gives the account root `kms:*`, and the 2 other statements give the same root" in (
        finding.message
    )
    assert "only what `kms:*` already does" in finding.message


@pytest.mark.parametrize(
    "extra",
    [
        allow("arn:aws:iam::444455556666:root", "kms:Decrypt"),  # another account
        allow(["111122223333", "444455556666"], "kms:Decrypt"),  # the same and another
        allow("arn:aws:iam::111122223333:role/App", "kms:Decrypt"),  # not a root
        allow("111122223333", "kms:Decrypt", Condition={"StringEquals": {"kms:ViaService": "s3.x.amazonaws.com"}}),
        {"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}, "Action": "kms:Decrypt", "Resource": "*"},
    ],
)
def test_kms001_is_not_the_default_policy_with_any_other_allow(tmp_path: Path, extra: dict[str, object]) -> None:
    path = policy_file(tmp_path, allow("arn:aws:iam::111122223333:root"), extra)
    assert findings(path, "KMS001") == []


def test_kms001_ignores_deny_statements_and_reports_the_full_access_statement(tmp_path: Path) -> None:
    root = "arn:aws:iam::111122223333:root"
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}
    path = policy_file(tmp_path, allow(root, "kms:Decrypt", Sid="First"), deny, allow(root, Sid="Full"))
    [finding] = findings(path, "KMS001")
    assert "statement `Full` gives the account root `kms:*`, and the other statement gives" in finding.message


# --------------------------------------------------------------------------- KMS007


def test_kms007_names_the_role_and_not_the_root_of_one_statement() -> None:
    [finding] = findings(FIXTURES / "KMS007" / "fail_tf_root_and_role_in_one_statement", "KMS007")
    assert "role/Operator` call `kms:ScheduleKeyDeletion`" in finding.message
    assert ":root" not in finding.message


# --------------------------------------------------------------------------- KMS013


def test_kms013_names_the_principal_type() -> None:
    found = findings(FIXTURES / "KMS013" / "fail_principal_types_other_than_aws_or_service", "KMS013")
    messages = sorted(f.message for f in found if Path(f.file).name == "policy.json")
    assert [m.split(";")[0] for m in messages] == [
        "statement `Canonical` names a principal of type `CanonicalUser`",
        "statement `Federated` names a principal of type `Federated`",
        "statement `Root` names a principal of type `AWSAccount`",
    ]
    assert all("takes only `AWS` (accounts, roles, users) and `Service` principals" in m for m in messages)


# --------------------------------------------------------------------------- KMS016


def test_kms016_offers_kms_via_service_as_a_fix() -> None:
    found = findings(FIXTURES / "KMS016" / "fail_via_service_that_does_not_limit", "KMS016")
    assert found and all("(or a `kms:ViaService` condition naming them)" in f.message for f in found)


def test_kms016_unknown_via_service_values_limit_grants(tmp_path: Path) -> None:
    """A ViaService value that cannot be resolved may name a service: no finding from it."""
    (tmp_path / "main.tf").write_text(
        """\
variable "service" {
  type = string
}

resource "aws_kms_key" "k" {
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::111122223333:role/KeyAdmin" }
        Action    = ["kms:PutKeyPolicy", "kms:DescribeKey"]
        Resource  = "*"
      },
      {
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::111122223333:role/App" }
        Action    = "kms:CreateGrant"
        Resource  = "*"
        Condition = { StringEquals = { "kms:ViaService" = var.service } }
      }
    ]
  })
}
"""
    )
    assert findings(tmp_path, "KMS016") == []


def test_a_problem_of_every_reading_names_no_condition() -> None:
    """A key policy's problem that every Fn::If reading has does not depend on a branch: its
    message names none; a problem of one branch names it."""
    found = findings(FIXTURES / "KMS013" / "fail_cfn_missing_version_beside_a_conditional_statement", "KMS013")
    messages = {f.line: f.message for f in found}
    assert messages[14] == (
        'the key policy has no `Version`, so it means the old 2008-10-17 language; add "Version": "2012-10-17"'
    )
    assert messages[26].endswith("(when condition IsCommercial is true)")
