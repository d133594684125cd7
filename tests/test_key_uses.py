"""The model of key use: every row of kmslint.policy.datastores is read, in each syntax it has
(Terraform ``.tf``, plan JSON, CloudFormation YAML and JSON), with its switch, its key and the
key it resolves to; and what a store's state is when settings are left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmslint.model import (
    ENCRYPTION_AWS_MANAGED,
    ENCRYPTION_KMS,
    ENCRYPTION_OFF,
    ENCRYPTION_UNKNOWN,
    KeyUse,
    Known,
    Project,
    as_bool,
    known_str,
)
from kmslint.parsers import cloudformation
from kmslint.parsers.common import ParseOptions
from kmslint.parsers.terraform_plan import parse_plan
from kmslint.policy.datastores import CFN, STORES, TF, Store
from tests.parsers.tf_helpers import parse

TF_ROWS = [row for row in STORES if row.syntax == TF]
CFN_ROWS = [row for row in STORES if row.syntax == CFN]


def _row_id(row: Store) -> str:
    return f"{row.rtype}:{'.'.join(row.part) or '-'}"


def _switch_value(row: Store) -> str | None:
    """A value of the row's switch that turns encryption on with the key (else any it knows)."""
    if row.switch is None:
        return None
    on = [text for text, state in row.states if state == ENCRYPTION_KMS]
    return (on or [row.states[0][0]])[0]


def _literal(text: str) -> object:
    return {"true": True, "false": False}.get(text, text)


def _the_use(project: Project, row: Store, name: str) -> KeyUse:
    found = [u for u in project.key_uses if u.name == name and u.rtype == row.rtype and u.kind == row.kind]
    if row.key is not None:
        found = [u for u in found if u.key_attr and u.key_attr.endswith(row.key)]
    if row.part:
        found = [u for u in found if (u.key_attr or u.switch_attr or "").startswith(row.part[0])]
    assert len(found) == 1, [(u.name, u.part, u.key_attr) for u in project.key_uses]
    return found[0]


def _check(use: KeyUse, row: Store, key_name: str | None) -> None:
    switch = _switch_value(row)
    if switch is not None:
        assert use.switch_loc is not None
        written = use.switch
        assert isinstance(written, Known)
        assert str(written.value).lower() == switch
    if row.key is not None:
        assert use.key is not None and use.key_loc is not None
        assert use.key_resource == key_name
    if row.key is not None and (switch is None or dict(row.states).get(switch) == ENCRYPTION_KMS):
        assert use.state(use.switch, use.key) == ENCRYPTION_KMS


# --------------------------------------------------------------------------- Terraform .tf


def _hcl_value(value: object) -> str:
    return json.dumps(value)


def _tf_body(row: Store) -> str:
    """The resource's settings as HCL: the row's part as nested blocks around its switch and key."""
    inner: list[str] = []
    switch = _switch_value(row)
    if switch is not None:
        inner.append(f"{row.switch} = {_hcl_value(_literal(switch))}")
    if row.key is not None:
        *blocks, name = row.key.split(".")
        line = f"{name} = aws_kms_key.k.arn"
        for b in reversed(blocks):
            line = f"{b} {{\n{line}\n}}"
        inner.append(line)
    body = "\n".join(inner)
    for block in reversed(row.part):
        body = f"{block} {{\n{body}\n}}"
    return body


@pytest.mark.parametrize("row", TF_ROWS, ids=_row_id)
def test_terraform_row_is_read(tmp_path: Path, row: Store) -> None:
    text = f'resource "aws_kms_key" "k" {{}}\n\nresource "{row.rtype}" "s" {{\n{_tf_body(row)}\n}}\n'
    project = parse(tmp_path, {"main.tf": text})
    use = _the_use(project, row, f"{row.rtype}.s")
    assert use.syntax == TF and use.loc.line == 3
    _check(use, row, "aws_kms_key.k")


@pytest.mark.parametrize("row", TF_ROWS, ids=_row_id)
def test_terraform_row_is_read_in_a_module(tmp_path: Path, row: Store) -> None:
    files = {
        "main.tf": 'module "m" {\n  source = "./mod"\n}\n',
        "mod/main.tf": f'resource "aws_kms_key" "k" {{}}\n\nresource "{row.rtype}" "s" {{\n{_tf_body(row)}\n}}\n',
    }
    project = parse(tmp_path, files)
    use = _the_use(project, row, f"module.m.{row.rtype}.s")
    _check(use, row, "module.m.aws_kms_key.k")


# --------------------------------------------------------------------------- plan JSON


def _plan_settings(row: Store) -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
    """The row's settings as planned values, as configuration expressions, and what is known
    only after apply (the key's ARN)."""
    values: dict[str, object] = {}
    config: dict[str, object] = {}
    unknown: dict[str, object] = {}
    switch = _switch_value(row)
    if switch is not None:
        assert row.switch is not None
        values[row.switch] = _literal(switch)
        config[row.switch] = {"constant_value": _literal(switch)}
    if row.key is not None:
        *blocks, name = row.key.split(".")
        value: dict[str, object] = {name: None}
        expr: dict[str, object] = {name: {"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]}}
        later: dict[str, object] = {name: True}
        for b in reversed(blocks):
            value, expr, later = {b: [value]}, {b: [expr]}, {b: [later]}
        values.update(value)
        config.update(expr)
        unknown.update(later)
    for block in reversed(row.part):
        values, config, unknown = {block: [values]}, {block: [config]}, {block: [unknown]}
    return values, config, unknown


@pytest.mark.parametrize("row", TF_ROWS, ids=_row_id)
def test_plan_row_is_read(tmp_path: Path, row: Store) -> None:
    values, config, unknown = _plan_settings(row)
    address = f"{row.rtype}.s"
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "planned_values": {
            "root_module": {
                "resources": [
                    {"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k", "values": {}},
                    {"address": address, "mode": "managed", "type": row.rtype, "name": "s", "values": values},
                ]
            }
        },
        "resource_changes": [
            {"address": "aws_kms_key.k", "change": {"actions": ["create"], "after_unknown": {"arn": True}}},
            {"address": address, "change": {"actions": ["create"], "after_unknown": unknown}},
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k"},
                    {"address": address, "mode": "managed", "type": row.rtype, "name": "s", "expressions": config},
                ]
            }
        },
    }
    path = tmp_path / "plan.json"
    text = json.dumps(plan, indent=2)
    path.write_text(text)
    project = parse_plan(path, text, ParseOptions(display_names={path: "plan.json"}))
    use = _the_use(project, row, address)
    _check(use, row, "aws_kms_key.k")


# --------------------------------------------------------------------------- CloudFormation


def _cfn_properties(row: Store) -> dict[str, object]:
    settings: dict[str, object] = {}
    switch = _switch_value(row)
    if switch is not None:
        assert row.switch is not None
        settings[row.switch] = _literal(switch)
    if row.key is not None:
        *blocks, name = row.key.split(".")
        value: dict[str, object] = {name: {"Fn::GetAtt": ["Key", "Arn"]}}
        for b in reversed(blocks):
            value = {b: value}
        settings.update(value)
    for step in reversed(row.part):
        settings = {step: settings}
    return settings


@pytest.mark.parametrize("row", CFN_ROWS, ids=_row_id)
@pytest.mark.parametrize("is_json", [False, True], ids=["yaml", "json"])
def test_cloudformation_row_is_read(row: Store, is_json: bool) -> None:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
            "Store": {"Type": row.rtype, "Properties": _cfn_properties(row)},
        },
    }
    text = json.dumps(template, indent=2)  # JSON is YAML too
    name = "template.json" if is_json else "template.yaml"
    path = Path("/virtual") / name
    project = cloudformation.parse_template(path, text, ParseOptions(display_names={path: name}), is_json=is_json)
    assert project is not None
    use = _the_use(project, row, "Store")
    assert use.syntax == CFN
    _check(use, row, "Key")


# --------------------------------------------------------------------------- states


def _tf_uses(tmp_path: Path, text: str) -> dict[str, KeyUse]:
    project = parse(tmp_path, {"main.tf": text})
    return {f"{u.name}{':' + u.part if u.part else ''}": u for u in project.key_uses}


def _state(use: KeyUse) -> str:
    return use.state(use.switch, use.key)


def test_states_when_settings_are_left_out(tmp_path: Path) -> None:
    uses = _tf_uses(
        tmp_path,
        """
        resource "aws_ebs_volume" "plain" { availability_zone = "a" }
        resource "aws_ebs_volume" "from_snapshot" { snapshot_id = "snap-1" }
        resource "aws_sqs_queue" "q" {}
        resource "aws_sns_topic" "t" {}
        resource "aws_secretsmanager_secret" "s" {}
        resource "aws_rds_cluster" "v1" { engine_mode = "serverless" }
        resource "aws_elasticache_replication_group" "valkey" { engine = "valkey" }
        resource "aws_instance" "i" {
          root_block_device { volume_size = 8 }
        }
        """,
    )
    assert _state(uses["aws_ebs_volume.plain"]) == ENCRYPTION_OFF
    assert _state(uses["aws_ebs_volume.from_snapshot"]) == ENCRYPTION_UNKNOWN
    assert uses["aws_ebs_volume.from_snapshot"].inherits == "snapshot_id"
    assert _state(uses["aws_sqs_queue.q"]) == "aws-owned"
    assert _state(uses["aws_sns_topic.t"]) == ENCRYPTION_OFF
    assert _state(uses["aws_secretsmanager_secret.s"]) == ENCRYPTION_AWS_MANAGED
    assert _state(uses["aws_rds_cluster.v1"]) == ENCRYPTION_AWS_MANAGED
    assert _state(uses["aws_elasticache_replication_group.valkey"]) == "aws-owned"
    assert _state(uses["aws_instance.i:root_block_device"]) == ENCRYPTION_UNKNOWN


def test_keys_named_by_alias_name_arn_or_aws_managed_alias(tmp_path: Path) -> None:
    uses = _tf_uses(
        tmp_path,
        """
        resource "aws_kms_key" "k" {}
        resource "aws_kms_alias" "a" {
          name          = "alias/app"
          target_key_id = aws_kms_key.k.key_id
        }
        resource "aws_sqs_queue" "by_name" { kms_master_key_id = "alias/app" }
        resource "aws_sqs_queue" "by_arn" { kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:alias/app" }
        resource "aws_sqs_queue" "by_alias_ref" { kms_master_key_id = aws_kms_alias.a.arn }
        resource "aws_sqs_queue" "outside" { kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:key/1234" }
        resource "aws_sns_topic" "managed" { kms_master_key_id = "alias/aws/sns" }
        resource "aws_sns_topic" "unknown" { kms_master_key_id = var.key }
        """,
    )
    for name in ("by_name", "by_arn", "by_alias_ref"):
        assert uses[f"aws_sqs_queue.{name}"].key_resource == "aws_kms_key.k", name
        assert _state(uses[f"aws_sqs_queue.{name}"]) == ENCRYPTION_KMS
    assert uses["aws_sqs_queue.outside"].key_resource is None
    managed = uses["aws_sns_topic.managed"]
    assert managed.aws_managed_alias() and _state(managed) == ENCRYPTION_AWS_MANAGED
    assert uses["aws_sns_topic.unknown"].key_resource is None
    assert _state(uses["aws_sns_topic.unknown"]) == ENCRYPTION_KMS


def test_account_default_and_tags(tmp_path: Path) -> None:
    uses = _tf_uses(
        tmp_path,
        """
        resource "aws_ebs_encryption_by_default" "on" {}
        resource "aws_ebs_volume" "v" {
          availability_zone = "a"
          tags = { "data-classification" = "confidential" }
        }
        """,
    )
    volume = uses["aws_ebs_volume.v"]
    assert as_bool(volume.account_default) is True
    tags = volume.tags
    assert isinstance(tags, Known) and isinstance(tags.value, dict)
    assert known_str(tags.value["data-classification"]) == "confidential"


def test_unknown_dynamic_settings_block_gives_no_use(tmp_path: Path) -> None:
    uses = _tf_uses(
        tmp_path,
        """
        resource "aws_opensearch_domain" "d" {
          dynamic "encrypt_at_rest" {
            for_each = var.settings
            content { enabled = encrypt_at_rest.value }
          }
        }
        """,
    )
    assert "aws_opensearch_domain.d" not in uses


@pytest.mark.parametrize(
    "properties",
    [
        "BlockDeviceMappings: 42",
        "BlockDeviceMappings: [7, {Ebs: [1, 2]}, {Ebs: {Encrypted: {Nested: [1]}}}]",
        "BlockDeviceMappings: {Ebs: {KmsKeyId: [1, 2]}}",
        "BlockDeviceMappings: !Ref Mappings",
    ],
)
def test_hostile_cloudformation_shapes_do_not_crash(properties: str) -> None:
    text = f"Resources:\n  I:\n    Type: AWS::EC2::Instance\n    Properties:\n      {properties}\n"
    path = Path("/virtual/template.yaml")
    opts = ParseOptions(display_names={path: "template.yaml"})
    project = cloudformation.parse_template(path, text, opts, is_json=False)
    assert project is not None
    for use in project.key_uses:
        use.state(use.switch, use.key)


def test_hostile_terraform_values_do_not_crash_or_invent_findings(tmp_path: Path) -> None:
    uses = _tf_uses(
        tmp_path,
        """
        resource "aws_ebs_volume" "list" {
          encrypted  = [1, 2]
          kms_key_id = { a = 1 }
        }
        resource "aws_ebs_volume" "word" { encrypted = "maybe" }
        resource "aws_opensearch_domain" "argument" {
          encrypt_at_rest = { enabled = false }
        }
        resource "aws_instance" "number" { root_block_device = 5 }
        resource "aws_eks_cluster" "text" {
          encryption_config { provider = "x" }
        }
        resource "aws_db_instance" "odd" {
          engine            = ["aurora"]
          instance_class    = 7
          storage_encrypted = 0
        }
        """,
    )
    for name in ("aws_ebs_volume.list", "aws_ebs_volume.word", "aws_db_instance.odd"):
        assert _state(uses[name]) == ENCRYPTION_UNKNOWN, name
    assert "aws_opensearch_domain.argument" not in uses  # a block written as an argument: not read
    assert not any(name.startswith("aws_instance.number") for name in uses)
    assert uses["aws_eks_cluster.text"].key is None


def test_sam_function_takes_its_key_from_globals() -> None:
    text = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    KmsKeyArn: !GetAtt Key.Arn
Resources:
  Key:
    Type: AWS::KMS::Key
  Inherits:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
  Own:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      KmsKeyArn: alias/aws/lambda
"""
    path = Path("/virtual/template.yaml")
    project = cloudformation.parse_template(
        path, text, ParseOptions(display_names={path: "template.yaml"}), is_json=False
    )
    assert project is not None
    uses = {u.name: u for u in project.key_uses}
    inherits = uses["Inherits"]
    assert inherits.key_resource == "Key" and inherits.key_loc is not None and inherits.key_loc.line == 5
    assert _state(uses["Own"]) == ENCRYPTION_AWS_MANAGED and uses["Own"].key_resource is None


def test_a_key_named_beside_a_switch_to_a_key_aws_holds_is_not_used(tmp_path: Path) -> None:
    uses = _tf_uses(
        tmp_path,
        """
        resource "aws_kms_key" "k" {}
        resource "aws_dynamodb_table" "t" {
          server_side_encryption {
            enabled     = false
            kms_key_arn = aws_kms_key.k.arn
          }
        }
        resource "aws_sqs_queue" "q" {
          sqs_managed_sse_enabled = true
          kms_master_key_id       = aws_kms_key.k.arn
        }
        resource "aws_sns_topic" "managed" {
          kms_master_key_id = "arn:aws:kms:${var.region}:111122223333:alias/aws/sns"
        }
        """,
    )
    assert _state(uses["aws_dynamodb_table.t"]) == "aws-owned"
    assert _state(uses["aws_sqs_queue.q"]) == ENCRYPTION_KMS  # SQS: a key named is SSE-KMS
    assert _state(uses["aws_sns_topic.managed"]) == ENCRYPTION_AWS_MANAGED
    assert uses["aws_sns_topic.managed"].aws_managed_alias()


def test_every_row_cites_its_page() -> None:
    assert all(row.doc.startswith("https://") for row in STORES)


def test_terraform_views_are_made_of_every_store_type() -> None:
    from kmslint.parsers.tf_model import KEY_USE_TYPES
    from kmslint.policy.datastores import EBS_DEFAULT_KEY_TYPE, EBS_DEFAULT_TYPE, TERRAFORM_TYPES

    assert TERRAFORM_TYPES | {EBS_DEFAULT_TYPE, EBS_DEFAULT_KEY_TYPE} == KEY_USE_TYPES


def test_the_prefilter_reads_every_file_kms021_can_report() -> None:
    """A store KMS021 may report is off by its type's default (its type is a marker) or by a
    switch written off (the switch's name is a marker); the file needs no word of KMS."""
    from kmslint.parsers.formats import cloudformation as cfn_format
    from kmslint.parsers.formats import terraform as tf_format
    from kmslint.rules.kms021_data_not_encrypted import _STORES

    words = {TF: {m.word for m in tf_format.KEY_USE}, CFN: {m.word for m in cfn_format.MARKERS}}
    for row in STORES:
        if row.kind not in _STORES:
            continue
        by_default = row.unset == ENCRYPTION_OFF or (
            row.unset_by is not None and ENCRYPTION_OFF in dict(row.unset_by[1]).values()
        )
        if by_default or row.switch is None:
            assert any(w in row.rtype.lower() for w in words[row.syntax]), row.rtype
        if ENCRYPTION_OFF in dict(row.states).values() and row.switch is not None:
            switch = row.switch.lower()
            assert any(w in switch for w in words[row.syntax]) or any(
                w in row.rtype.lower() for w in words[row.syntax]
            ), (row.rtype, row.switch)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ('resource "aws_instance" "a" {\n  root_block_device {\n    encrypted = true\n  }\n}\n', False),
        ('resource "aws_instance" "a" {\n  root_block_device {\n    encrypted = false\n  }\n}\n', True),
        ('resource "aws_instance" "a" {\n  ebs_block_device {\n    encrypted = var.encrypt\n  }\n}\n', True),
        ('resource "aws_sqs_queue" "q" {\n  sqs_managed_sse_enabled = true\n}\n', False),
        ('resource "aws_sqs_queue" "q" {\n  sqs_managed_sse_enabled = false\n}\n', True),
        # one switch written off among others written true
        ("encrypted = true\nstorage_encrypted = false\n", True),
    ],
)
def test_a_switch_written_true_is_no_reason_to_read_a_file(text: str, read: bool) -> None:
    """KMS021 reports a switch written off, never one written true: a file whose switches all
    say true is skipped by the prefilter (unless something else in it matters)."""
    from kmslint.parsers import registry

    assert registry.might_matter(text, "terraform") is read


@pytest.mark.parametrize(("value", "read"), [("true", False), ('"true"', False), ("false", True), ("!Ref On", True)])
def test_a_template_switch_written_true_is_no_reason_to_read_it(value: str, read: bool) -> None:
    from kmslint.parsers import registry

    text = (
        "Resources:\n  I:\n    Type: AWS::EC2::Instance\n    Properties:\n      BlockDeviceMappings:\n"
        f"        - DeviceName: /dev/xvda\n          Ebs:\n            Encrypted: {value}\n"
    )
    assert registry.might_matter(text, "yaml") is read
    assert registry.might_matter(text.replace("Encrypted: ", '"Encrypted": '), "json") is read
