"""The services that call KMS as themselves (kmslint.policy.service_use) and whether a key
policy lets them (kmslint.policy.service_access).

Each row's passing policy is written here from the facts of the row's AWS page: the
service principal, the actions, the conditions the page shows.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmslint.model import Conditional, Expression, Interpolated, KeyPolicy, Known, Location, Meaning, Unknown, Value
from kmslint.policy import actions as act
from kmslint.policy.service_access import SEGMENT, UsingResource, can_match, missing_actions, missing_by_reading
from kmslint.policy.service_use import REQUIREMENTS, Requirement, requirement, requirements

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
HERE = UsingResource(partition="aws", region="us-east-1", account=ACCOUNT, name="app", sender="source")
NOTHING_KNOWN = UsingResource()

ROOT = {
    "Sid": "Enable IAM policies",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def policy(*statements: object) -> Value:
    """A key policy as JSON text, the root delegation first."""
    return Known(json.dumps({"Version": "2012-10-17", "Statement": [ROOT, *statements]}))


def tree(data: object) -> Value:
    """A value tree from plain data; Value leaves are kept as they are."""
    if isinstance(data, Known | Unknown | Interpolated | Conditional):
        return data
    if isinstance(data, dict):
        return Known({k: tree(v) for k, v in data.items()})
    if isinstance(data, list):
        return Known([tree(v) for v in data])
    return Known(data)  # type: ignore[arg-type]


def tree_policy(*statements: object) -> Value:
    return tree({"Version": "2012-10-17", "Statement": [ROOT, *statements]})


def allow(principal: object, actions: object, condition: object = None) -> dict[str, object]:
    st: dict[str, object] = {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": "*"}
    if condition is not None:
        st["Condition"] = condition
    return st


def service(name: str) -> dict[str, str]:
    return {"Service": name}


# --------------------------------------------------------------------------- the table


def test_every_row_cites_an_aws_page_over_https() -> None:
    for row in REQUIREMENTS:
        assert row.doc.startswith("https://docs.aws.amazon.com/"), row.id


def test_every_action_is_a_kms_action_and_every_documented_pattern_names_one() -> None:
    for row in REQUIREMENTS:
        for action in row.actions:
            assert act.canonical(action) == action, (row.id, action)
        for pattern in row.documented:
            assert act.expand(pattern), (row.id, pattern)
        # what the row needs is what its documented statement allows
        for action in row.actions:
            assert any(act.matches(p, action) for p in row.documented), (row.id, action)


def test_rows_are_unique_and_name_terraform_and_cloudformation_types() -> None:
    assert len({row.id for row in REQUIREMENTS}) == len(REQUIREMENTS)
    for row in REQUIREMENTS:
        types = [u.resource_type for u in row.uses]
        assert any(t.startswith("aws_") for t in types), row.id
        assert any(t.startswith("AWS::") for t in types), row.id
        senders = row.senders
        assert not senders or (
            any(t.startswith("aws_") for t in senders) and any(t.startswith("AWS::") for t in senders)
        )


def test_a_service_row_needs_actions_and_an_identity_row_none() -> None:
    for row in REQUIREMENTS:
        assert bool(row.actions) == row.needs_statement, row.id
        if row.principal is not None:
            assert row.principal.endswith(".amazonaws.com"), row.id
        if row.context_key:
            assert row.context_key.startswith("kms:EncryptionContext:") and row.context_arn, row.id


def test_the_rows_the_issue_asks_for() -> None:
    ids = {row.id for row in REQUIREMENTS}
    assert {
        "logs-log-group",
        "cloudtrail-trail",
        "sns-from-s3",
        "sns-from-eventbridge",
        "sns-from-cloudwatch",
        "sqs-from-sns",
        "s3-log-delivery",
        "config-delivery",
    } <= ids
    for identity in ("s3-sse-kms", "ebs-volume", "rds-storage", "dynamodb-table", "secretsmanager-secret"):
        assert not requirement(identity).needs_statement


def test_requirements_by_resource_type() -> None:
    assert [r.id for r in requirements("aws_cloudwatch_log_group")] == ["logs-log-group"]
    assert [r.id for r in requirements("AWS::Logs::LogGroup")] == ["logs-log-group"]
    assert {r.id for r in requirements("aws_sns_topic")} == {
        "sns-from-s3",
        "sns-from-eventbridge",
        "sns-from-cloudwatch",
    }
    assert {r.id for r in requirements("AWS::SQS::Queue")} == {"sqs-from-s3", "sqs-from-eventbridge", "sqs-from-sns"}
    assert {r.id for r in requirements("AWS::S3::Bucket")} == {"s3-log-delivery", "s3-sse-kms"}
    assert requirements("aws_lambda_function") == ()
    with pytest.raises(KeyError):
        requirement("nope")


# --------------------------------------------------------------------------- documented policies pass


def _sender_statement(name: str, source_arn: str) -> dict[str, object]:
    return allow(
        service(name),
        ["kms:GenerateDataKey*", "kms:Decrypt"],
        {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": source_arn}},
    )


DOCUMENTED: dict[str, list[dict[str, object]]] = {
    "logs-log-group": [
        allow(
            service("logs.us-east-1.amazonaws.com"),
            ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:app"}},
        )
    ],
    "cloudtrail-trail": [
        allow(
            service("cloudtrail.amazonaws.com"),
            "kms:GenerateDataKey*",
            {
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"},
                "StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/app"},
            },
        ),
        allow(service("cloudtrail.amazonaws.com"), "kms:DescribeKey"),
    ],
    "cloudtrail-event-data-store": [allow(service("cloudtrail.amazonaws.com"), ["kms:GenerateDataKey", "kms:Decrypt"])],
    "sns-from-s3": [_sender_statement("s3.amazonaws.com", "arn:aws:s3:::source")],
    "sns-from-eventbridge": [_sender_statement("events.amazonaws.com", f"arn:aws:events:us-east-1:{ACCOUNT}:rule/*")],
    "sns-from-cloudwatch": [
        _sender_statement("cloudwatch.amazonaws.com", f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:source")
    ],
    "sqs-from-s3": [_sender_statement("s3.amazonaws.com", "arn:aws:s3:::source")],
    "sqs-from-eventbridge": [
        _sender_statement("events.amazonaws.com", f"arn:aws:events:us-east-1:{ACCOUNT}:rule/source")
    ],
    "sqs-from-sns": [_sender_statement("sns.amazonaws.com", f"arn:aws:sns:us-east-1:{ACCOUNT}:source")],
    "s3-log-delivery": [
        allow(
            service("delivery.logs.amazonaws.com"),
            "kms:GenerateDataKey*",
            {
                "StringEquals": {"aws:SourceAccount": [ACCOUNT]},
                "ArnLike": {"aws:SourceArn": [f"arn:aws:logs:us-east-1:{ACCOUNT}:*"]},
            },
        )
    ],
    "config-delivery": [
        allow(
            service("config.amazonaws.com"),
            ["kms:Decrypt", "kms:GenerateDataKey"],
            {"StringEquals": {"AWS:SourceAccount": ACCOUNT}},
        )
    ],
}
SERVICE_ROWS = [row for row in REQUIREMENTS if row.needs_statement]


def test_every_service_row_has_its_documented_policy_here() -> None:
    assert sorted(DOCUMENTED) == sorted(row.id for row in SERVICE_ROWS)


@pytest.mark.parametrize("row", SERVICE_ROWS, ids=lambda r: r.id)
def test_the_documented_policy_is_enough(row: Requirement) -> None:
    assert missing_actions(policy(*DOCUMENTED[row.id]), row, HERE) == ()


@pytest.mark.parametrize("row", SERVICE_ROWS, ids=lambda r: r.id)
def test_the_documented_policy_is_enough_where_nothing_of_the_resource_is_known(row: Requirement) -> None:
    assert missing_actions(policy(*DOCUMENTED[row.id]), row, NOTHING_KNOWN) == ()


@pytest.mark.parametrize("row", SERVICE_ROWS, ids=lambda r: r.id)
def test_a_root_only_policy_gives_the_service_nothing(row: Requirement) -> None:
    assert missing_actions(policy(), row, HERE) == row.actions


@pytest.mark.parametrize("row", SERVICE_ROWS, ids=lambda r: r.id)
def test_a_key_without_a_policy_has_the_default_one(row: Requirement) -> None:
    assert missing_actions(None, row, HERE) == row.actions


@pytest.mark.parametrize("row", [r for r in REQUIREMENTS if not r.needs_statement], ids=lambda r: r.id)
def test_services_using_the_callers_identity_need_no_statement(row: Requirement) -> None:
    assert missing_actions(policy(), row, HERE) == ()
    assert missing_actions(None, row, HERE) == ()


# --------------------------------------------------------------------------- broken shapes

LOGS = requirement("logs-log-group")
TRAIL = requirement("cloudtrail-trail")
FROM_S3 = requirement("sns-from-s3")
LOGS_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]


def logs_statement(arn: object = None, principal: object = "logs.us-east-1.amazonaws.com") -> dict[str, object]:
    cond = None if arn is None else {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": arn}}
    return allow({"Service": principal}, LOGS_ACTIONS, cond)


def test_a_statement_for_another_service() -> None:
    assert missing_actions(policy(logs_statement()), TRAIL, HERE) == TRAIL.actions
    sns = allow(service("sns.amazonaws.com"), ["kms:GenerateDataKey*", "kms:Decrypt"])
    assert missing_actions(policy(sns), FROM_S3, HERE) == FROM_S3.actions


def test_a_logs_statement_for_another_region_or_its_global_name() -> None:
    assert missing_actions(policy(logs_statement(principal="logs.eu-west-1.amazonaws.com")), LOGS, HERE) == (
        LOGS.actions
    )
    # Where the group's Region is not known, any Regional name may be it.
    assert missing_actions(policy(logs_statement(principal="logs.eu-west-1.amazonaws.com")), LOGS, NOTHING_KNOWN) == ()
    assert missing_actions(policy(logs_statement(principal="logs.amazonaws.com")), LOGS, HERE) == ()
    assert missing_actions(policy(logs_statement(principal="LOGS.US-EAST-1.AMAZONAWS.COM")), LOGS, HERE) == ()


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:other",  # another group
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:app",  # another Region
        f"arn:aws:logs:us-east-1:{OTHER_ACCOUNT}:log-group:*",  # another account
        [f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:b*", f"arn:aws:logs:*:{OTHER_ACCOUNT}:*"],
    ],
)
def test_a_logs_statement_whose_context_names_another_group(arn: object) -> None:
    assert missing_actions(policy(logs_statement(arn)), LOGS, HERE) == LOGS.actions


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:app",
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*",
        f"arn:aws:logs:*:{ACCOUNT}:*",
        "*",
        [f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:other", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:ap?"],
    ],
)
def test_a_logs_statement_whose_context_can_name_this_group(arn: object) -> None:
    assert missing_actions(policy(logs_statement(arn)), LOGS, HERE) == ()


def test_an_unknown_part_of_the_group_matches_anything() -> None:
    only_region = UsingResource(partition="aws", account=ACCOUNT, name="app")
    assert (
        missing_actions(policy(logs_statement(f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:app")), LOGS, only_region)
        == ()
    )
    # ... but a known part that cannot match is still a finding
    other = policy(logs_statement(f"arn:aws:logs:eu-west-1:{OTHER_ACCOUNT}:log-group:app"))
    assert missing_actions(other, LOGS, only_region) == LOGS.actions


def test_one_action_missing() -> None:
    st = allow(service("logs.us-east-1.amazonaws.com"), ["kms:Encrypt", "kms:GenerateDataKey*"])
    assert missing_actions(policy(st), LOGS, HERE) == ("kms:Decrypt",)
    trail = allow(service("cloudtrail.amazonaws.com"), "kms:GenerateDataKey*")
    assert missing_actions(policy(trail), TRAIL, HERE) == ("kms:DescribeKey",)


def test_actions_match_case_insensitively_and_with_wildcards() -> None:
    st = allow(service("logs.us-east-1.amazonaws.com"), ["KMS:generatedatakey", "kms:De*"])
    assert missing_actions(policy(st), LOGS, HERE) == ()
    not_action = {"Effect": "Allow", "Principal": service("logs.us-east-1.amazonaws.com"), "NotAction": "kms:Sign"}
    not_action["Resource"] = "*"
    assert missing_actions(policy(not_action), LOGS, HERE) == ()


def test_a_resource_that_is_not_the_key() -> None:
    st = allow(service("logs.us-east-1.amazonaws.com"), LOGS_ACTIONS)
    st["Resource"] = "arn:aws:s3:::bucket/*"
    assert missing_actions(policy(st), LOGS, HERE) == LOGS.actions
    st["Resource"] = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert missing_actions(policy(st), LOGS, HERE) == ()


def test_source_account_and_source_arn() -> None:
    wrong_account = allow(
        service("cloudtrail.amazonaws.com"),
        ["kms:GenerateDataKey*", "kms:DescribeKey"],
        {"StringEquals": {"aws:SourceAccount": OTHER_ACCOUNT}},
    )
    assert missing_actions(policy(wrong_account), TRAIL, HERE) == TRAIL.actions
    assert missing_actions(policy(wrong_account), TRAIL, NOTHING_KNOWN) == ()
    other_bucket = _sender_statement("s3.amazonaws.com", "arn:aws:s3:::another-bucket")
    assert missing_actions(policy(other_bucket), FROM_S3, HERE) == FROM_S3.actions
    # A source account written as a YAML number is the same text.
    as_number = allow(service("s3.amazonaws.com"), ["kms:GenerateDataKey*", "kms:Decrypt"])
    as_number["Condition"] = {"StringEquals": {"aws:SourceAccount": int(ACCOUNT)}}
    assert missing_actions(policy(as_number), FROM_S3, HERE) == ()
    # An Allow for every source but this account's holds if the service sends no source account.
    all_but_this = allow(
        service("cloudtrail.amazonaws.com"),
        ["kms:GenerateDataKey*", "kms:DescribeKey"],
        {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}},
    )
    assert missing_actions(policy(all_but_this), TRAIL, HERE) is None
    if_sent = allow(
        service("cloudtrail.amazonaws.com"),
        ["kms:GenerateDataKey*", "kms:DescribeKey"],
        {"StringEqualsIfExists": {"aws:SourceAccount": OTHER_ACCOUNT}},
    )
    assert missing_actions(policy(if_sent), TRAIL, HERE) is None


def test_negated_conditions() -> None:
    not_this = logs_statement()
    not_this["Condition"] = {"ArnNotLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:*:*:log-group:app"}}
    assert missing_actions(policy(not_this), LOGS, HERE) == LOGS.actions
    not_other = logs_statement()
    not_other["Condition"] = {"StringNotEquals": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:x:1:log-group:y"}}
    assert missing_actions(policy(not_other), LOGS, HERE) == ()


# --------------------------------------------------------------------------- principals


def test_a_wildcard_principal_allows_when_its_conditions_can_match() -> None:
    assert missing_actions(policy(allow("*", "kms:*")), LOGS, HERE) == ()
    assert missing_actions(policy(allow({"AWS": "*"}, "kms:*")), LOGS, HERE) == ()
    scoped = allow("*", "kms:*", {"StringEquals": {"kms:CallerAccount": ACCOUNT}})
    assert missing_actions(policy(scoped), LOGS, HERE) is None  # a key this module does not read: may
    wrong_group = allow(
        "*", "kms:*", {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:*:*:log-group:x"}}
    )
    assert missing_actions(policy(wrong_group), LOGS, HERE) == LOGS.actions


def test_account_principals_do_not_cover_a_service() -> None:
    st = allow({"AWS": [f"arn:aws:iam::{ACCOUNT}:role/app", ACCOUNT]}, "kms:*")
    assert missing_actions(policy(st), LOGS, HERE) == LOGS.actions


def test_an_unknown_principal_cannot_be_told() -> None:
    unknown = allow({"Service": Unknown("var.service", ref="var.service")}, LOGS_ACTIONS)
    assert missing_actions(tree_policy(unknown), LOGS, HERE) is None
    built = allow(
        {"Service": Interpolated(("logs.", Unknown("region", meaning=Meaning.REGION), ".amazonaws.com"))}, LOGS_ACTIONS
    )
    assert missing_actions(tree_policy(built), LOGS, HERE) is None
    # ... unless what is known of it cannot be the service
    other = allow({"Service": Interpolated(("sns.", Unknown("region"), ".amazonaws.com"))}, LOGS_ACTIONS)
    assert missing_actions(tree_policy(other), LOGS, HERE) == LOGS.actions
    aws_var = allow({"AWS": Unknown("var.principal", ref="var.principal")}, LOGS_ACTIONS)
    assert missing_actions(tree_policy(aws_var), LOGS, HERE) is None
    account = allow({"AWS": Unknown("AWS::AccountId", meaning=Meaning.ACCOUNT_ID)}, LOGS_ACTIONS)
    assert missing_actions(tree_policy(account), LOGS, HERE) == LOGS.actions


def test_an_unknown_condition_value_cannot_be_told() -> None:
    st = logs_statement(Unknown("var.group_arn", ref="var.group_arn"))
    assert missing_actions(tree_policy(st), LOGS, HERE) is None
    built = logs_statement(
        Interpolated(
            (
                "arn:aws:logs:",
                Unknown("region"),
                f":{ACCOUNT}:log-group:app",
            )
        )
    )
    assert missing_actions(tree_policy(built), LOGS, HERE) is None
    cannot = logs_statement(
        Interpolated(
            (
                "arn:aws:logs:",
                Unknown("region"),
                f":{OTHER_ACCOUNT}:log-group:app",
            )
        )
    )
    assert missing_actions(tree_policy(cannot), LOGS, HERE) == LOGS.actions
    block = allow(service("logs.us-east-1.amazonaws.com"), LOGS_ACTIONS, Unknown("var.conditions"))
    assert missing_actions(tree_policy(block), LOGS, HERE) is None


def test_not_principal() -> None:
    everyone_else = {"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"}}
    everyone_else.update({"Action": "kms:*", "Resource": "*"})
    assert missing_actions(policy(everyone_else), LOGS, HERE) == ()
    not_logs = {"Effect": "Allow", "NotPrincipal": service("logs.us-east-1.amazonaws.com")}
    not_logs.update({"Action": "kms:*", "Resource": "*"})
    assert missing_actions(policy(not_logs), LOGS, HERE) == LOGS.actions


# --------------------------------------------------------------------------- deny


def test_a_deny_that_surely_applies_takes_the_action_away() -> None:
    deny = {"Effect": "Deny", "Principal": service("logs.us-east-1.amazonaws.com"), "Action": "kms:Decrypt"}
    deny["Resource"] = "*"
    assert missing_actions(policy(*DOCUMENTED["logs-log-group"], deny), LOGS, HERE) == ("kms:Decrypt",)
    everyone = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    assert missing_actions(policy(*DOCUMENTED["logs-log-group"], everyone), LOGS, HERE) == LOGS.actions


def test_a_deny_that_may_apply_leaves_it_undecided() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    deny["Condition"] = {"Bool": {"aws:SecureTransport": "false"}}
    assert missing_actions(policy(*DOCUMENTED["logs-log-group"], deny), LOGS, HERE) is None
    # A deny for other accounts' sources: this account's calls are spared only if the service
    # sends aws:SourceAccount with them, which not every row's page says; so it may apply.
    other = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    other["Condition"] = {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}
    assert missing_actions(policy(*DOCUMENTED["cloudtrail-trail"], other), TRAIL, HERE) is None
    # A deny of this very account's sources is never certain either (the key may be absent).
    own = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    own["Condition"] = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert missing_actions(policy(*DOCUMENTED["cloudtrail-trail"], own), TRAIL, HERE) is None
    # ... but a deny on the encryption context, which the service always sends, is.
    context = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    context["Condition"] = {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:*:*:log-group:app"}}
    assert missing_actions(policy(*DOCUMENTED["logs-log-group"], context), LOGS, HERE) == LOGS.actions


def test_an_unknown_effect_may_allow() -> None:
    st = logs_statement()
    st["Effect"] = Unknown("var.effect")
    assert missing_actions(tree_policy(st), LOGS, HERE) is None


# --------------------------------------------------------------------------- readings and hostile input


def test_fn_if_branches() -> None:
    doc = tree(
        {
            "Version": "2012-10-17",
            "Statement": [ROOT, Conditional("AllowLogs", tree(logs_statement()), None)],
        }
    )
    assert missing_actions(doc, LOGS, HERE) == LOGS.actions
    readings = missing_by_reading(doc, LOGS, HERE)
    assert sorted(readings) == [((("AllowLogs", False),), LOGS.actions), ((("AllowLogs", True),), ())]


def test_a_branch_the_resource_never_meets_is_left_out() -> None:
    # Terraform: `var.cmk ? [root, logs] : [root]` as the policy, and the group names the key
    # only when var.cmk is true: the false side is no use of the key.
    statements = Conditional(Expression("var.cmk"), tree([ROOT, logs_statement()]), tree([ROOT]))
    doc = tree({"Version": "2012-10-17", "Statement": statements})
    assert missing_actions(doc, LOGS, HERE) == LOGS.actions
    assert missing_actions(doc, LOGS, HERE, when=((Expression("var.cmk"), True),)) == ()
    assert missing_actions(doc, LOGS, HERE, when=((Expression("var.cmk"), False),)) == LOGS.actions
    assert missing_actions(doc, LOGS, HERE, when=((Expression("var.other"), True),)) == LOGS.actions


def test_a_key_policy_record_is_read_once() -> None:
    kp = KeyPolicy(policy(*DOCUMENTED["logs-log-group"]), Location("main.tf", 1, 1, 1, 1), "aws_kms_key.k")
    assert missing_actions(kp, LOGS, HERE) == ()
    assert kp.readings is not None
    assert missing_actions(kp, TRAIL, HERE) == TRAIL.actions


@pytest.mark.parametrize(
    "document",
    [
        Known("{not json"),
        Known("[]"),
        Known(42),
        Unknown("data.aws_iam_policy_document.x.json"),
        Known(json.dumps({"Statement": "nope"})),
        Known(json.dumps({"Statement": [1, "two", None]})),
        Known(json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": [1, {"a": 2}]}, "Action": 3}]})),
        Known(json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": [1]}]})),
        Known(json.dumps({"Statement": {"Effect": "Allow", "Principal": "*", "Action": ["*"], "Resource": {"a": 1}}})),
        Known(
            json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "*",
                            "Resource": "*",
                            "Condition": {"StringEquals": {"aws:SourceAccount": [None, {"x": 1}]}},
                        }
                    ]
                }
            )
        ),
        Known(json.dumps({"Statement": [{"Effect": 7}]})),
    ],
)
def test_hostile_policies_do_not_crash(document: Value) -> None:
    for row in REQUIREMENTS:
        answer = missing_actions(document, row, HERE)
        assert answer is None or isinstance(answer, tuple)


def test_a_statement_without_principal_or_resource_may_apply() -> None:
    st: dict[str, object] = {"Effect": "Allow", "Action": "kms:*"}
    assert missing_actions(policy(st), LOGS, HERE) is None


# --------------------------------------------------------------------------- matching with unknown parts


def test_can_match() -> None:
    assert can_match(("arn:aws:logs:*:1:log-group:*",), ("arn:aws:logs:", SEGMENT, ":1:log-group:app"))
    assert not can_match(("arn:aws:logs:*:2:log-group:*",), ("arn:aws:logs:", SEGMENT, ":1:log-group:app"))
    # A part that may hold colons may be "r:2:log-group:x" (a whole ARN's tail).
    assert can_match(("arn:aws:logs:*:2:log-group:*",), ("arn:aws:logs:", None, ":1:log-group:app"))
    assert can_match(("a", None, "c"), ("abc",))
    assert not can_match(("a", None, "c"), ("abd",))
    assert can_match(("a?c",), ("abc",))
    assert not can_match(("a?c",), ("abc",), wildcards=False)
    assert can_match(("a*c",), ("a*c",), wildcards=False)
    assert can_match(("*",), ())
    assert not can_match(("?",), ())
    assert not can_match(("x" * 5000,), ("y",))  # literal heads that differ: no walk
    assert can_match(("*a" * 400 + "*",), ("b" * 400,))  # too long to walk: may match


def test_a_pathological_pattern_is_quick() -> None:
    import time

    start = time.perf_counter()
    assert not can_match(("*a" * 150 + "b",), ("a" * 300,))
    assert time.perf_counter() - start < 2


def test_statements_that_name_the_key_by_its_arn() -> None:
    # The CloudTrail console writes the key's own ARN as the Resource of its statements.
    key_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    encrypt = allow(
        {"Service": ["cloudtrail.amazonaws.com"]},
        "kms:GenerateDataKey*",
        {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": [f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"]}},
    )
    describe = allow({"Service": ["cloudtrail.amazonaws.com"]}, "kms:DescribeKey")
    encrypt["Resource"] = describe["Resource"] = key_arn
    assert missing_actions(policy(encrypt, describe), TRAIL, HERE) == ()
    # A trail of another account is not this one.
    other = UsingResource(partition="aws", region="us-east-1", account=OTHER_ACCOUNT, name="app")
    assert missing_actions(policy(encrypt, describe), TRAIL, other) == ("kms:GenerateDataKey",)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(["*", "kms:*", "Allow", "Deny", "logs.us-east-1.amazonaws.com"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Statement",
                    "Effect",
                    "Principal",
                    "Service",
                    "AWS",
                    "Action",
                    "NotAction",
                    "Resource",
                    "Condition",
                    "ArnLike",
                    "StringNotEquals",
                    "aws:SourceAccount",
                    "NotPrincipal",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(_json)
def test_any_shape_of_policy_gives_an_answer(data: object) -> None:
    for row in (LOGS, TRAIL, FROM_S3):
        answer = missing_actions(Known(json.dumps(data)), row, HERE)
        assert answer is None or set(answer) <= set(row.actions)
