"""Policy semantics, table-driven: principals, actions, conditions (RULES.md vocabulary)."""

from __future__ import annotations

import pytest

from kmslint.model import Interpolated, Known, Meaning, Unknown, Value
from kmslint.policy import actions
from kmslint.policy.conditions import Condition, constrains_identity, is_known_operator, parse_conditions
from kmslint.policy.document import read_policy
from kmslint.policy.principals import PrincipalClass, account_of, classify, principal_entries

W, R, S, X, U = (
    PrincipalClass.WILDCARD,
    PrincipalClass.ACCOUNT_ROOT,
    PrincipalClass.SERVICE,
    PrincipalClass.SPECIFIC,
    PrincipalClass.UNKNOWN,
)


def k(value: object) -> Value:
    """A Known tree from plain Python data."""
    if isinstance(value, dict):
        return Known({key: k(v) for key, v in value.items()})
    if isinstance(value, list):
        return Known([k(v) for v in value])
    if isinstance(value, Known | Unknown | Interpolated):
        return value
    return Known(value)  # type: ignore[arg-type]


ACCOUNT = Unknown("pseudo parameter", meaning=Meaning.ACCOUNT_ID, ref="AWS::AccountId")
PARTITION = Unknown("pseudo parameter", meaning=Meaning.PARTITION, ref="AWS::Partition")
ROLE_ARN = Unknown("resource attribute", meaning=Meaning.RESOURCE_ARN, ref="aws_iam_role.app.arn")
OPAQUE = Unknown("module output")

PRINCIPALS = [
    ("bare star", "*", [W]),
    ("AWS star", {"AWS": "*"}, [W]),
    ("AWS list with star", {"AWS": ["arn:aws:iam::111122223333:role/App", "*"]}, [X, W]),
    ("star inside an ARN", {"AWS": "arn:aws:iam::*:root"}, [W]),
    ("star in a role name", {"AWS": "arn:aws:iam::111122223333:role/*"}, [W]),
    ("root ARN", {"AWS": "arn:aws:iam::111122223333:root"}, [R]),
    ("root ARN, China partition", {"AWS": "arn:aws-cn:iam::111122223333:root"}, [R]),
    ("root ARN, GovCloud partition", {"AWS": "arn:aws-us-gov:iam::111122223333:root"}, [R]),
    ("root ARN, upper-case", {"AWS": "ARN:AWS:IAM::111122223333:ROOT"}, [R]),
    ("bare account ID", {"AWS": "111122223333"}, [R]),
    ("account ID with spaces", {"AWS": " 111122223333 "}, [R]),
    ("eleven digits is not an account", {"AWS": "11112222333"}, [X]),
    ("role ARN", {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"}, [X]),
    ("user ARN", {"AWS": "arn:aws:iam::111122223333:user/alice"}, [X]),
    ("assumed-role session", {"AWS": "arn:aws:sts::111122223333:assumed-role/App/s"}, [X]),
    ("service", {"Service": "logs.amazonaws.com"}, [S]),
    ("service list", {"Service": ["logs.amazonaws.com", "sns.amazonaws.com"]}, [S, S]),
    ("service wildcard", {"Service": "*"}, [W]),
    ("federated", {"Federated": "cognito-identity.amazonaws.com"}, [X]),
    ("canonical user", {"CanonicalUser": "79a59df900b949e55d96a1e698fbace"}, [X]),
    ("mixed types", {"AWS": "111122223333", "Service": "s3.amazonaws.com"}, [R, S]),
    ("account ID pseudo parameter alone", {"AWS": ACCOUNT}, [R]),
    (
        "Sub of partition and account root",
        {"AWS": Interpolated(("arn:", PARTITION, ":iam::", ACCOUNT, ":root"))},
        [R],
    ),
    ("Sub root with literal partition", {"AWS": Interpolated(("arn:aws:iam::", ACCOUNT, ":root"))}, [R]),
    ("interpolated account from a variable", {"AWS": Interpolated(("arn:aws:iam::", OPAQUE, ":root"))}, [R]),
    ("interpolated role", {"AWS": Interpolated(("arn:aws:iam::", ACCOUNT, ":role/App"))}, [X]),
    ("interpolated star", {"AWS": Interpolated(("arn:aws:iam::", OPAQUE, ":role/*"))}, [W]),
    ("root suffix from an unknown part", {"AWS": Interpolated(("arn:aws:iam::", OPAQUE))}, [X]),
    ("another resource's ARN", {"AWS": ROLE_ARN}, [X]),
    ("a module output", {"AWS": OPAQUE}, [U]),
    ("the whole principal unknown", OPAQUE, [U]),
    ("interpolated text that is not an ARN", {"AWS": Interpolated((OPAQUE, "-suffix"))}, [U]),
]


@pytest.mark.parametrize(("principal", "expected"), [pytest.param(p, e, id=i) for i, p, e in PRINCIPALS])
def test_principal_classification(principal: object, expected: list[PrincipalClass]) -> None:
    entries = principal_entries(k(principal))
    assert [classify(e) for e in entries] == expected


ACCOUNTS = [
    ({"AWS": "arn:aws:iam::444455556666:role/x"}, "444455556666"),
    ({"AWS": "444455556666"}, "444455556666"),
    ({"AWS": "arn:aws:iam::444455556666:root"}, "444455556666"),
    ({"Service": "123456789012"}, None),
    ({"AWS": ACCOUNT}, None),
]


@pytest.mark.parametrize(("principal", "account"), ACCOUNTS)
def test_account_of(principal: object, account: str | None) -> None:
    (entry,) = principal_entries(k(principal))
    assert account_of(entry) == account


ACTIONS = [
    ("kms:*", "kms:Decrypt", True),
    ("*", "kms:PutKeyPolicy", True),
    ("kms:Create*", "kms:CreateGrant", True),
    ("kms:Create*", "kms:CreateAlias", True),
    ("kms:Create*", "kms:Decrypt", False),
    ("kms:generatedatakey", "kms:GenerateDataKey", True),
    ("KMS:DECRYPT", "kms:Decrypt", True),
    ("kms:GenerateDataKey*", "kms:GenerateDataKeyPairWithoutPlaintext", True),
    ("kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", False),
    ("kms:ReEncrypt*", "kms:ReEncryptFrom", True),
    ("kms:Put*", "kms:PutKeyPolicy", True),
    ("kms:?ecrypt", "kms:Decrypt", True),
    ("kms:?ecrypt", "kms:Encrypt", False),
    ("s3:*", "kms:Decrypt", False),
    ("kms:Decrypt ", "kms:Decrypt", True),
    ("*:*", "kms:Decrypt", True),
]


@pytest.mark.parametrize(("pattern", "action", "covered"), ACTIONS)
def test_action_matching(pattern: str, action: str, covered: bool) -> None:
    assert actions.matches(pattern, action) is covered


def test_action_list_is_canonical_and_complete_for_wildcards() -> None:
    assert len(set(actions.KMS_ACTIONS)) == len(actions.KMS_ACTIONS)
    assert all(a.startswith("kms:") for a in actions.KMS_ACTIONS)
    assert actions.expand("kms:*") == frozenset(actions.KMS_ACTIONS)
    assert actions.expand("kms:Create*") == {
        "kms:CreateAlias",
        "kms:CreateCustomKeyStore",
        "kms:CreateGrant",
        "kms:CreateKey",
    }


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("kms:Decrypt", False),
        ("kms:decrypt", False),
        ("kms:Decrpyt", True),
        ("kms:Describe*", False),
        ("kms:NoSuch*", False),  # a wildcard is not a typo of one action
        ("s3:GetObject", False),
        ("kms:ReEncrypt", True),  # the API is ReEncrypt, the permissions are ReEncryptFrom/To
    ],
)
def test_unknown_kms_action(text: str, unknown: bool) -> None:
    assert actions.is_unknown_kms_action(text) is unknown


def cond(operator: str, key: str, *values: object) -> Condition:
    return Condition(operator, key, tuple(k(v) for v in values), None)


CONDITIONS = [
    ("StringEquals", "aws:PrincipalOrgID", ["o-a1b2c3d4e5"], True),
    ("StringEquals", "aws:principalorgid", ["o-a1b2c3d4e5"], True),
    ("StringLike", "aws:PrincipalOrgPaths", ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"], True),
    ("StringEquals", "aws:PrincipalAccount", ["111122223333"], True),
    ("ArnEquals", "aws:PrincipalArn", ["arn:aws:iam::111122223333:role/App"], True),
    ("ArnLike", "aws:PrincipalArn", ["arn:aws:iam::111122223333:role/*"], True),
    ("StringEquals", "aws:SourceAccount", ["111122223333"], True),
    ("ArnLike", "aws:SourceArn", ["arn:aws:s3:::my-bucket"], True),
    ("StringEquals", "aws:SourceOrgID", ["o-a1b2c3d4e5"], True),
    ("StringLike", "aws:SourceOrgPaths", ["o-a1b2c3d4e5/*"], True),
    ("StringLike", "aws:userid", ["AROAEXAMPLE:*"], True),
    ("StringEquals", "kms:CallerAccount", ["111122223333"], True),
    ("ForAnyValue:StringEquals", "aws:PrincipalOrgID", ["o-a1b2c3d4e5"], True),
    ("StringEquals", "aws:PrincipalOrgID", [ACCOUNT], True),  # unknown value: trusted to constrain
    ("StringEqualsIfExists", "aws:PrincipalOrgID", ["o-a1b2c3d4e5"], False),
    ("ArnLikeIfExists", "aws:PrincipalArn", ["arn:aws:iam::111122223333:role/App"], False),
    ("ForAllValues:StringEquals", "aws:PrincipalOrgID", ["o-a1b2c3d4e5"], False),
    ("StringNotEquals", "aws:PrincipalOrgID", ["o-a1b2c3d4e5"], False),
    ("StringEquals", "aws:PrincipalOrgID", ["*"], False),
    ("StringLike", "aws:PrincipalAccount", ["111122223333", "*"], False),
    ("StringEquals", "aws:SourceIp", ["203.0.113.0/24"], False),
    ("IpAddress", "aws:SourceIp", ["203.0.113.0/24"], False),
    ("StringEquals", "aws:SourceVpce", ["vpce-1a2b3c4d"], False),
    ("StringEquals", "aws:SourceVpc", ["vpc-1a2b3c4d"], False),
    ("Bool", "aws:SecureTransport", ["true"], False),
    ("StringEquals", "kms:ViaService", ["s3.eu-west-1.amazonaws.com"], False),
    ("Null", "aws:PrincipalOrgID", ["false"], False),
]


@pytest.mark.parametrize(("operator", "key", "values", "constrains"), CONDITIONS)
def test_identity_constraining_condition(operator: str, key: str, values: list[object], constrains: bool) -> None:
    assert constrains_identity(cond(operator, key, *values)) is constrains


@pytest.mark.parametrize(
    ("operator", "known"),
    [
        ("StringEquals", True),
        ("StringEqualsIfExists", True),
        ("ForAnyValue:StringLike", True),
        ("ForAllValues:ArnEquals", True),
        ("Null", True),
        ("NumericLessThanEquals", True),
        ("BinaryEquals", True),
        ("StringEqual", False),
        ("ForSomeValues:StringEquals", False),
        ("ForAllValues:Null", False),
        ("stringequals", False),
    ],
)
def test_known_operators(operator: str, known: bool) -> None:
    assert is_known_operator(operator) is known


def test_unreadable_condition_block_counts_as_constraining() -> None:
    conditions, fully_known = parse_conditions(OPAQUE)
    assert conditions == [] and not fully_known
    conditions, fully_known = parse_conditions(k({"StringEquals": OPAQUE}))
    assert conditions == [] and not fully_known


def test_policy_statements_case_insensitive_elements_and_not_forms() -> None:
    doc = read_policy(
        k(
            {
                "version": "2012-10-17",
                "statement": {"effect": "Allow", "notprincipal": {"AWS": "x"}, "NotAction": "kms:Decrypt"},
            }
        ),
        None,  # type: ignore[arg-type]
    )[0]
    (st,) = doc.statements
    assert st.not_principal and st.not_action and st.is_allow
    assert st.covers("kms:Encrypt") is True
    assert st.covers("kms:Decrypt") is False


def test_policy_json_string_that_does_not_parse_is_a_problem() -> None:
    (doc,) = read_policy(Known('{"Statement": ['), None)  # type: ignore[arg-type]
    assert doc.unknown and doc.problems and "not valid JSON" in doc.problems[0][0]


def test_unknown_action_makes_coverage_unknown() -> None:
    (doc,) = read_policy(k({"Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt", OPAQUE]}]}), None)  # type: ignore[arg-type]
    (st,) = doc.statements
    assert st.covers("kms:Decrypt") is True
    assert st.covers("kms:Encrypt") is None
