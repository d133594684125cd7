"""The CloudFormation / SAM parser: templates in, model out, with exact locations."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from kmslint.model import (
    Conditional,
    Interpolated,
    KeyKind,
    KeyPolicy,
    KeyResource,
    Known,
    Location,
    Meaning,
    MultiRegionUse,
    Project,
    Unknown,
    UsageKind,
    Value,
    as_dict,
    to_plain,
)
from kmslint.parsers import cfn_sources, cloudformation
from kmslint.parsers.common import ParseFailure, ParseOptions

FILE = "template.yaml"


def parse(text: str, *, is_json: bool = False, name: str = FILE, **limits: int) -> Project | None:
    path = Path("/virtual") / name
    opts = ParseOptions(display_names={path: name}, **limits)  # type: ignore[arg-type]
    return cloudformation.parse_template(path, textwrap.dedent(text), opts, is_json=is_json)


def project(text: str, **kw: Any) -> Project:
    result = parse(text, **kw)
    assert result is not None
    return result


def pos(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the nth occurrence of ``needle`` in the dedented text."""
    text = textwrap.dedent(text)
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def the_key(p: Project, name: str = "Key") -> KeyResource:
    return next(k for k in p.keys if k.name == name)


def prop(p: Project, name: str, resource: str = "Key") -> Value | None:
    """A key property's value, by its model name."""
    return getattr(the_key(p, resource), name)  # type: ignore[no-any-return]


def statement(p: Project, index: int = 0, key: str = "Key") -> dict[str, Value]:
    policy = the_key(p, key).policy
    assert policy is not None
    doc = as_dict(policy.document)
    assert doc is not None
    stmts = doc["Statement"]
    assert isinstance(stmts, Known) and isinstance(stmts.value, list)
    found = as_dict(stmts.value[index])
    assert found is not None
    return found


def dig(policy: KeyPolicy | None, *path: str | int) -> Value | None:
    """The value at ``path`` inside a key policy document."""
    assert policy is not None
    value: Value | None = policy.document
    for step in path:
        assert isinstance(value, Known)
        container: Any = value.value
        value = container[step]
    return value


def principal(p: Project, index: int = 0) -> Value:
    return as_dict(statement(p, index)["Principal"])["AWS"]  # type: ignore[index]


def sym(value: object) -> object:
    """A comparable form of a value: unknowns by what they mean and refer to, not by their wording."""
    if isinstance(value, Unknown):
        return ("?", value.meaning, value.ref)
    if isinstance(value, Interpolated):
        return tuple(sym(p) for p in value.parts)
    if isinstance(value, Conditional):
        return ("if", value.condition, sym(value.then), sym(value.otherwise))
    if isinstance(value, Known):
        return sym(value.value)
    if isinstance(value, dict):
        return {k: sym(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sym(v) for v in value]
    return value


def key_template(properties: str, *, extra: str = "", header: str = "") -> str:
    """A template with one AWS::KMS::Key ``Key`` whose Properties are ``properties``."""
    body = textwrap.indent(textwrap.dedent(properties), " " * 6)
    return (
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        + textwrap.dedent(header)
        + "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n"
        + body
        + textwrap.indent(textwrap.dedent(extra), "  ")
    )


POLICY_WITH = """\
KeyPolicy:
  Version: 2012-10-17
  Statement:
    - Effect: Allow
      Principal:
        AWS: {principal}
      Action: kms:*
      Resource: "*"
"""


def with_principal(expr: str, header: str = "", extra: str = "") -> Project:
    return project(key_template(POLICY_WITH.format(principal=expr), header=header, extra=extra))


# --------------------------------------------------------------------------- recognition


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kms}\ndata: {Resources: AWS::KMS::Key}\n",
        "apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\n",
        "- AWS::KMS::Key\n",
        "just a string with AWS::KMS::Key in it\n",
        "Resources:\n  Thing:\n    Type: My::Own::Type\n",
        "Resources: AWS::KMS::Key\n",
        "",
        "# only a comment\n",
    ],
)
def test_yaml_that_is_not_a_template_gives_none(text: str) -> None:
    assert parse(text) is None


def test_json_that_is_not_a_template_gives_none() -> None:
    assert parse('{"name": "kms-tools", "dependencies": {"aws-sdk": "2"}}', is_json=True, name="package.json") is None
    assert parse("[1, 2]", is_json=True, name="x.json") is None


@pytest.mark.parametrize(
    "text",
    [
        "AWSTemplateFormatVersion: '2010-09-09'\n",
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: Custom::Thing\n",
        "Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\n",
    ],
)
def test_templates_are_recognised_by_content(text: str) -> None:
    p = project(text, name="anything.txt")
    assert p.kind.value == "cloudformation"
    assert p.root == p.files[0] == "anything.txt"


def test_the_first_template_document_of_a_multi_document_file_is_read() -> None:
    p = project("kind: Notes\n---\nResources:\n  Key:\n    Type: AWS::KMS::Key\n")
    assert the_key(p).loc.line == 4


def test_invalid_yaml_is_a_parse_failure_with_its_position() -> None:
    with pytest.raises(ParseFailure) as err:
        parse("Resources:\n  Key:\n    Type: AWS::KMS::Key\n   Properties: {}\n")
    assert err.value.line == 4


def test_invalid_json_is_a_parse_failure_with_its_position() -> None:
    with pytest.raises(ParseFailure) as err:
        parse('{\n  "Resources": {\n    "Key": {"Type": "AWS::KMS::Key",}\n  }\n}\n', is_json=True, name="t.json")
    assert err.value.message.startswith("invalid JSON")
    assert (err.value.line, err.value.column) == (3, 37)


def test_a_key_written_twice_takes_its_last_value_and_is_recorded_at_the_second() -> None:
    text = key_template("EnableKeyRotation: true\nEnableKeyRotation: false\n")
    p = project(text)
    assert sym(prop(p, "rotation")) is False
    [twice] = the_key(p).duplicate_keys
    assert (twice.name, twice.loc.line, twice.loc.column, twice.first.line) == ("EnableKeyRotation", 7, 7, 6)
    assert p.duplicate_keys == [twice]


def test_files_over_the_size_limit_are_refused() -> None:
    with pytest.raises(ParseFailure) as err:
        parse("AWSTemplateFormatVersion: '2010-09-09'\nDescription: " + "x" * 200 + "\n", max_file_bytes=100)
    assert "limit" in err.value.message


def test_nesting_over_the_limit_is_refused_in_both_formats() -> None:
    deep = "[" * 30 + "]" * 30
    with pytest.raises(ParseFailure):
        parse(f"AWSTemplateFormatVersion: x\nMetadata: {deep}\n", max_depth=20)
    with pytest.raises(ParseFailure):
        parse(f'{{"AWSTemplateFormatVersion": "x", "Metadata": {deep}}}', is_json=True, max_depth=20)


@pytest.mark.parametrize("odd", ["\x85", "\u2028", "\u2029"])
def test_lines_are_counted_as_editors_count_them(odd: str) -> None:
    # YAML 1.1 (libyaml) breaks lines at NEL, LS and PS too; findings must use the editor's lines.
    text = (
        f"Description: 'first{odd}second'\nResources:\n  # kmslint:ignore KMS004 -- replicated\n"
        f"  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      Description: 'x{odd}y'\n      MultiRegion: true\n"
    )
    p = project(text)
    key = the_key(p)
    assert key.loc == Location(FILE, 4, 3, 4, 6)
    assert key.attr_locs["multi_region"] == Location(FILE, 8, 7, 8, 24)
    assert p.resource_spans == {"Key": (FILE, 4, 8)}
    assert [(s.resource, s.loc.line, s.reason) for s in p.suppressions] == [("Key", 3, "replicated")]


# --------------------------------------------------------------------------- keys


KEY_PROPS = """\
Description: all the settings
KeySpec: SYMMETRIC_DEFAULT
KeyUsage: ENCRYPT_DECRYPT
Origin: AWS_KMS
EnableKeyRotation: "true"
RotationPeriodInDays: 180
MultiRegion: false
PendingWindowInDays: 7
BypassPolicyLockoutSafetyCheck: false
Enabled: true
Tags:
  - Key: owner
    Value: platform
  - Key: kmslint:multi-region-justification
    Value: ""
"""


def test_key_properties_and_their_spans() -> None:
    text = key_template(KEY_PROPS)
    p = project(text)
    key = the_key(p)
    assert key.kind is KeyKind.KEY
    assert key.loc == Location(FILE, 3, 3, 3, 6)
    assert key.policy is None  # no KeyPolicy: AWS attaches the default one
    expected = {
        "key_spec": ("KeySpec", "SYMMETRIC_DEFAULT"),
        "key_usage": ("KeyUsage", "ENCRYPT_DECRYPT"),
        "origin": ("Origin", "AWS_KMS"),
        "rotation": ("EnableKeyRotation", "true"),  # the string, as written
        "rotation_period": ("RotationPeriodInDays", 180),
        "multi_region": ("MultiRegion", False),
        "deletion_window": ("PendingWindowInDays", 7),
        "bypass_lockout_check": ("BypassPolicyLockoutSafetyCheck", False),
        "enabled": ("Enabled", True),
    }
    for attr, (name, value) in expected.items():
        assert to_plain(getattr(key, attr)) == value, attr
        line, col = pos(text, name + ":")
        loc = key.attr_locs[attr]
        assert (loc.line, loc.column) == (line, col), attr
        assert loc.end_line == line
        assert loc.end_column == len(textwrap.dedent(text).splitlines()[line - 1]) + 1
    assert to_plain(key.tags) == {"owner": "platform", "kmslint:multi-region-justification": ""}
    assert key.attr_locs["tags"] == Location(FILE, pos(text, "Tags:")[0], 7, pos(text, 'Value: ""')[0], 20)
    assert sym(key.account) == ("?", Meaning.ACCOUNT_ID, "AWS::AccountId")
    assert p.resource_count == 1
    assert p.resource_spans == {"Key": (FILE, 3, pos(text, 'Value: ""')[0])}


def test_a_key_policy_object_keeps_every_location() -> None:
    text = key_template(POLICY_WITH.format(principal='"arn:aws:iam::111122223333:root"'))
    p = project(text)
    key = the_key(p)
    policy = key.policy
    assert policy is not None
    assert policy.attached_by == "Key" and policy.key is key
    assert policy.loc == Location(FILE, 6, 7, 13, 26)
    assert key.attr_locs["policy"] == policy.loc
    st = statement(p)
    line, col = pos(text, "Allow")
    assert st["Effect"].loc == Location(FILE, line, col, line, col + 5)
    line, col = pos(text, '"arn:aws')
    assert principal(p).loc == Location(FILE, line, col, line, col + 32)
    assert to_plain(as_dict(policy.document)["Version"]) == "2012-10-17"  # type: ignore[index]


def test_a_key_policy_string_is_read_where_its_text_is_written() -> None:
    text = key_template(
        """\
        KeyPolicy: |
          {"Version": "2012-10-17", "Statement": []}
        """
    )
    policy = the_key(project(text)).policy
    assert policy is not None
    assert to_plain(policy.document) == {"Version": "2012-10-17", "Statement": []}
    assert policy.loc == Location(FILE, 6, 7, 7, 51)
    assert policy.document.loc == Location(FILE, 7, 9, 7, 51)
    assert dig(policy, "Version") == Known("2012-10-17", Location(FILE, 7, 21, 7, 33))


def test_key_policy_set_to_no_value_means_no_policy() -> None:
    p = project(key_template("KeyPolicy: !Ref AWS::NoValue\nEnableKeyRotation: {Ref: AWS::NoValue}\n"))
    assert the_key(p).policy is None
    assert the_key(p).rotation is None
    assert "rotation" not in the_key(p).attr_locs


def test_properties_that_cannot_be_read_make_every_setting_unknown() -> None:
    text = (
        "Conditions:\n  C: !Equals [a, b]\nResources:\n  Key:\n    Type: AWS::KMS::Key\n"
        "    Properties: !If [C, {EnableKeyRotation: true}, {}]\n"
    )
    key = the_key(project(text))
    assert isinstance(key.rotation, Unknown)
    assert key.policy is not None and isinstance(key.policy.document, Unknown)
    assert key.where("rotation") == Location(FILE, 6, 5, 6, 55)


def test_a_key_without_properties_has_nothing_set() -> None:
    key = the_key(project("Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n"))
    assert key.rotation is None and key.policy is None and key.attr_locs == {}


def test_replica_keys_know_their_primary() -> None:
    text = textwrap.dedent(
        """\
        Resources:
          Primary:
            Type: AWS::KMS::Key
            Properties:
              MultiRegion: true
          Replica:
            Type: AWS::KMS::ReplicaKey
            Properties:
              PrimaryKeyArn: !GetAtt Primary.Arn
              KeyPolicy: {Version: "2012-10-17", Statement: []}
          Elsewhere:
            Type: AWS::KMS::ReplicaKey
            Properties:
              PrimaryKeyArn: arn:aws:kms:us-east-1:111122223333:key/mrk-1234
        """
    )
    p = project(text)
    replica = the_key(p, "Replica")
    assert replica.kind is KeyKind.REPLICA and replica.is_replica
    assert replica.primary == "Primary"
    assert replica.policy is not None and replica.policy.attached_by == "Replica"
    assert the_key(p, "Elsewhere").primary is None


def test_tags_that_cannot_be_resolved_are_unknown() -> None:
    for tags in (
        "Tags: !Ref TagList",
        "Tags:\n  - !If [C, {Key: a, Value: b}, !Ref AWS::NoValue]",
        "Tags: [{Key: !Ref K}]",
    ):
        key = the_key(project(key_template(tags + "\n")))
        assert isinstance(key.tags, Unknown), tags


# --------------------------------------------------------------------------- intrinsics


PARAMS = """\
Parameters:
  Account:
    Type: String
    Default: "444455556666"
  NoDefault:
    Type: String
  Admins:
    Type: CommaDelimitedList
    Default: arn:aws:iam::111122223333:role/a,arn:aws:iam::111122223333:role/b
  FromSsm:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /org/account
Mappings:
  Env:
    us-east-1:
      Account: "111122223333"
      Same: shared
    eu-west-1:
      Account: "222233334444"
      Same: shared
Conditions:
  IsProd: !Equals [!Ref Account, "444455556666"]
"""


def test_ref_to_a_parameter_default_is_known_at_the_use_site() -> None:
    p = with_principal("!Ref Account", header=PARAMS)
    value = principal(p)
    assert value == Known("444455556666")
    line, col = pos(key_template(POLICY_WITH.format(principal="!Ref Account"), header=PARAMS), "!Ref Account", 1)
    assert value.loc == Location(FILE, line, col, line, col + len("!Ref Account"))


def test_ref_to_a_list_parameter_gives_its_items() -> None:
    value = principal(with_principal("!Ref Admins", header=PARAMS))
    assert to_plain(value) == ["arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"]


@pytest.mark.parametrize(("name", "why"), [("NoDefault", "no default"), ("FromSsm", "SSM"), ("Nowhere", "not declare")])
def test_ref_to_an_unresolvable_parameter_is_unknown(name: str, why: str) -> None:
    value = principal(with_principal(f"!Ref {name}", header=PARAMS))
    assert isinstance(value, Unknown)
    assert value.ref == name and value.meaning is Meaning.NOTHING and why in value.reason


@pytest.mark.parametrize(
    ("pseudo", "meaning"),
    [
        ("AWS::AccountId", Meaning.ACCOUNT_ID),
        ("AWS::Partition", Meaning.PARTITION),
        ("AWS::Region", Meaning.REGION),
        ("AWS::StackName", Meaning.NOTHING),
    ],
)
def test_pseudo_parameters_are_symbolic(pseudo: str, meaning: Meaning) -> None:
    for expr in (f"!Ref {pseudo}", f"{{Ref: {pseudo}}}", f"!Sub '${{{pseudo}}}'"):
        value = principal(with_principal(expr))
        assert sym(value) == ("?", meaning, pseudo), expr


def test_ref_and_getatt_of_resources() -> None:
    extra = "Role:\n  Type: AWS::IAM::Role\n"
    ref = principal(with_principal("!Ref Role", extra=extra))
    assert isinstance(ref, Unknown) and ref.meaning is Meaning.RESOURCE_ID and ref.ref == "Role"
    for expr in ("!GetAtt Role.Arn", "!GetAtt [Role, Arn]", "{'Fn::GetAtt': [Role, Arn]}", "{'Fn::GetAtt': Role.Arn}"):
        value = principal(with_principal(expr, extra=extra))
        assert isinstance(value, Unknown), expr
        assert value.meaning is Meaning.RESOURCE_ARN and value.ref == "Role.Arn", expr
    other = principal(with_principal("!GetAtt Role.RoleId", extra=extra))
    assert isinstance(other, Unknown) and other.meaning is Meaning.NOTHING and other.ref == "Role.RoleId"


def test_sub_builds_an_interpolated_account_root() -> None:
    for expr in (
        "!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root",
        "{'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'}",
        "!Sub ['arn:${P}:iam::${AWS::AccountId}:root', {P: !Ref AWS::Partition}]",
        "!Join ['', ['arn:', !Ref AWS::Partition, ':iam::', !Ref AWS::AccountId, ':root']]",
        "{'Fn::Join': [':', [arn, {Ref: AWS::Partition}, iam, '', {Ref: AWS::AccountId}, root]]}",
    ):
        value = principal(with_principal(expr))
        assert isinstance(value, Interpolated), expr
        assert sym(value) == (
            "arn:",
            ("?", Meaning.PARTITION, "AWS::Partition"),
            ":iam::",
            ("?", Meaning.ACCOUNT_ID, "AWS::AccountId"),
            ":root",
        ), expr


def test_sub_and_join_of_known_parts_fold_into_a_string() -> None:
    for expr in (
        "!Sub 'arn:aws:iam::${Account}:root'",
        "!Sub ['arn:aws:iam::${A}:root', {A: !FindInMap [Env, eu-west-1, Account]}]",
        "!Join ['', ['arn:aws:iam::', !Ref Account, ':root']]",
    ):
        value = principal(with_principal(expr, header=PARAMS))
        assert isinstance(value, Known), expr
    assert principal(with_principal("!Sub 'arn:aws:iam::${Account}:root'", header=PARAMS)) == Known(
        "arn:aws:iam::444455556666:root"
    )


def test_sub_literal_dollar_and_resource_attributes() -> None:
    extra = "Role:\n  Type: AWS::IAM::Role\n"
    value = principal(with_principal("!Sub '${!NotAVar}-${Role.Arn}-${Role}-${Nope}'", extra=extra))
    assert isinstance(value, Interpolated)
    assert value.parts[0] == "${NotAVar}-"
    arn, rid, nope = (p for p in value.parts if isinstance(p, Unknown))
    assert (arn.meaning, arn.ref) == (Meaning.RESOURCE_ARN, "Role.Arn")
    assert (rid.meaning, rid.ref) == (Meaning.RESOURCE_ID, "Role")
    assert (nope.meaning, nope.ref) == (Meaning.NOTHING, "Nope")


def test_find_in_map() -> None:
    assert principal(with_principal("!FindInMap [Env, us-east-1, Account]", header=PARAMS)) == Known("111122223333")
    # A key that is not literal, but every entry agrees: that value.
    same = principal(with_principal("!FindInMap [Env, !Ref AWS::Region, Same]", header=PARAMS))
    assert same == Known("shared")
    differ = principal(with_principal("!FindInMap [Env, !Ref AWS::Region, Account]", header=PARAMS))
    assert isinstance(differ, Unknown)
    missing = principal(with_principal("!FindInMap [Env, ap-south-1, Account]", header=PARAMS))
    assert isinstance(missing, Unknown)
    default = principal(with_principal("!FindInMap [Env, ap-south-1, Account, {DefaultValue: x}]", header=PARAMS))
    assert default == Known("x")


@pytest.mark.parametrize(
    "expr",
    [
        "!ImportValue shared-admin-arn",
        "!Select [2, [a, b]]",
        "!Select [0, !Split [',', !Ref Nowhere]]",
        "!Base64 text",
        "!GetAZs ''",
        "!Cidr [10.0.0.0/16, 2, 8]",
        "!Rain::Embed admin.txt",
        "!SomethingElse {a: b}",
        "{'Fn::Transform': {Name: X}}",
        "{'Fn::Unheard': 1}",
        "!Sub [1, 2, 3]",
        "!Join [{a: 1}, [x]]",
        "!Join ['', !Ref Nowhere]",
        "!GetAtt [Role, !Ref Attr]",
        "!If [OnlyTwo, x]",
    ],
)
def test_what_cannot_be_evaluated_is_unknown(expr: str) -> None:
    value = principal(with_principal(expr))
    assert isinstance(value, Unknown), expr
    assert value.loc is not None and value.loc.line == 11


def test_import_value_names_the_export() -> None:
    value = principal(with_principal("!ImportValue shared-admin-arn"))
    assert isinstance(value, Unknown) and value.ref == "Fn::ImportValue:shared-admin-arn"


def test_fn_if_is_conditional_and_no_value_removes() -> None:
    text = key_template(
        """\
        EnableKeyRotation: !If [IsProd, true, !Ref AWS::NoValue]
        KeyPolicy:
          Statement:
            - !If
              - IsProd
              - {Effect: Allow, Principal: "*", Action: "kms:*", Resource: "*"}
              - !Ref AWS::NoValue
            - Effect: Allow
              Principal: {AWS: !Sub "arn:aws:iam::${AWS::AccountId}:${Kind}"}
              Action: !If [IsProd, "kms:Decrypt", ["kms:Encrypt", !Ref AWS::NoValue]]
              Resource: "*"
              Sid: !Ref AWS::NoValue
        """,
        header=(
            "Conditions:\n  IsProd: !Equals [!Ref Stage, prod]\n"
            "Parameters:\n  Kind: {Type: String, Default: root}\n  Stage: {Type: String}\n"
        ),
    )
    p = project(text)
    rotation = prop(p, "rotation")
    assert isinstance(rotation, Conditional)
    assert rotation.condition == "IsProd" and rotation.then == Known(True) and rotation.otherwise is None
    line, col = pos(text, "true, !Ref")
    assert rotation.then is not None and rotation.then.loc == Location(FILE, line, col, line, col + 4)
    first = dig(the_key(p).policy, "Statement", 0)
    assert isinstance(first, Conditional) and first.otherwise is None
    second = statement(p, 1)
    assert "Sid" not in second
    assert sym(second["Principal"]) == {"AWS": ("arn:aws:iam::", ("?", Meaning.ACCOUNT_ID, "AWS::AccountId"), ":root")}
    action = second["Action"]
    assert isinstance(action, Conditional)
    assert to_plain(action.then) == "kms:Decrypt" and to_plain(action.otherwise) == ["kms:Encrypt"]


def test_fn_if_inside_a_string_gives_a_conditional_string() -> None:
    value = principal(
        with_principal(
            "!Sub ['arn:aws:iam::${AWS::AccountId}:${Who}', {Who: !If [IsProd, root, 'role/ops']}]",
            header="Parameters:\n  Stage: {Type: String}\nConditions:\n  IsProd: !Equals [!Ref Stage, prod]\n",
        )
    )
    assert isinstance(value, Conditional) and value.condition == "IsProd"
    assert to_plain(value.then) == "arn:aws:iam::${AWS::AccountId}:root"
    assert to_plain(value.otherwise) == "arn:aws:iam::${AWS::AccountId}:role/ops"


def test_short_and_long_forms_give_the_same_values() -> None:
    short = project(
        key_template(
            """\
            KeyPolicy:
              Statement:
                - Principal: {AWS: [!Ref A, !GetAtt R.Arn, !Sub "x${A}", !Join [",", [a, !Ref B]], !ImportValue E]}
                  Action: !If [C, !FindInMap [M, k, v], !Select [0, [a]]]
                  Condition: {Bool: {x: !Base64 y}, Null: {y: !GetAZs ""}, D: !Split [",", !Cidr [a, 1, 2]]}
            """,
            header="Parameters: {A: {Type: String, Default: pa}}\nMappings: {M: {k: {v: mv}}}\n",
            extra="R:\n  Type: AWS::IAM::Role\n",
        )
    )
    long = project(
        key_template(
            """\
            KeyPolicy:
              Statement:
                - Principal:
                    AWS:
                      - Ref: A
                      - Fn::GetAtt: [R, Arn]
                      - Fn::Sub: "x${A}"
                      - Fn::Join: [",", [a, {Ref: B}]]
                      - Fn::ImportValue: E
                  Action: {"Fn::If": [C, {"Fn::FindInMap": [M, k, v]}, {"Fn::Select": [0, [a]]}]}
                  Condition:
                    Bool: {x: {"Fn::Base64": y}}
                    Null: {y: {"Fn::GetAZs": ""}}
                    D: {"Fn::Split": [",", {"Fn::Cidr": [a, 1, 2]}]}
            """,
            header="Parameters: {A: {Type: String, Default: pa}}\nMappings: {M: {k: {v: mv}}}\n",
            extra="R:\n  Type: AWS::IAM::Role\n",
        )
    )
    assert the_key(short).policy.document == the_key(long).policy.document  # type: ignore[union-attr]
    assert to_plain(the_key(short).policy.document) == to_plain(the_key(long).policy.document)  # type: ignore[union-attr]


def test_scalars_inside_tags_have_their_own_marks() -> None:
    text = key_template("Description: !If [C, 'left', !Join ['-', [a, 'b']]]\nKeyPolicy: !If [C, {}, !Ref X]\n")
    p = project(text)
    policy = the_key(p).policy
    assert policy is not None and isinstance(policy.document, Conditional)
    line, col = pos(text, "{}, !Ref X")
    assert policy.document.then is not None and policy.document.then.loc == Location(FILE, line, col, line, col + 2)
    otherwise = policy.document.otherwise
    assert isinstance(otherwise, Unknown)
    line, col = pos(text, "!Ref X")
    assert otherwise.loc == Location(FILE, line, col, line, col + 6)


# --------------------------------------------------------------------------- other resources


RESOURCES = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      Key:
        Type: AWS::KMS::Key
        Properties:
          MultiRegion: true
      Replica:
        Type: AWS::KMS::ReplicaKey
        Properties:
          PrimaryKeyArn: !GetAtt Key.Arn
          KeyPolicy: {}
      Alias:
        Type: AWS::KMS::Alias
        Properties:
          AliasName: alias/app
          TargetKeyId: !Ref Key
      ArnAlias:
        Type: AWS::KMS::Alias
        Properties:
          AliasName: !Sub alias/${AWS::StackName}
          TargetKeyId: !GetAtt Replica.Arn
      ForeignAlias:
        Type: AWS::KMS::Alias
        Properties:
          AliasName: alias/other
          TargetKeyId: 1234abcd-12ab-34cd-56ef-1234567890ab
      Policy:
        Type: AWS::IAM::Policy
        Properties:
          PolicyName: p
          PolicyDocument:
            Statement: [{Effect: Allow, Action: "kms:Decrypt", Resource: "*"}]
      Managed:
        Type: AWS::IAM::ManagedPolicy
        Properties:
          PolicyDocument: '{"Statement": []}'
      RolePolicy:
        Type: AWS::IAM::RolePolicy
        Properties:
          PolicyDocument: {Statement: []}
      UserPolicy:
        Type: AWS::IAM::UserPolicy
        Properties:
          PolicyDocument: {Statement: []}
      GroupPolicy:
        Type: AWS::IAM::GroupPolicy
        Properties:
          PolicyDocument: {Statement: []}
      Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: "*", Action: "sts:AssumeRole"}]}
          Policies:
            - PolicyName: one
              PolicyDocument: {Statement: [{Effect: Allow, Action: "kms:*", Resource: "*"}]}
            - !If
              - C
              - PolicyName: two
                PolicyDocument: {Statement: []}
              - !Ref AWS::NoValue
      User:
        Type: AWS::IAM::User
        Properties:
          Policies: [{PolicyName: u, PolicyDocument: {Statement: []}}]
      Group:
        Type: AWS::IAM::Group
        Properties:
          Policies: !Ref AWS::NoValue
      Table:
        Type: AWS::DynamoDB::GlobalTable
        Properties:
          Replicas:
            - Region: us-east-1
              SSESpecification: {KMSMasterKeyId: !GetAtt Key.Arn}
            - Region: eu-west-1
              SSESpecification: {KMSMasterKeyId: !Ref Replica}
            - Region: ap-south-1
              SSESpecification: {KMSMasterKeyId: alias/app}
            - Region: us-west-2
              SSESpecification: {KMSMasterKeyId: arn:aws:kms:us-west-2:111122223333:key/mrk-1}
      Global:
        Type: AWS::RDS::GlobalCluster
        Properties:
          SourceDBClusterIdentifier: !Ref Member
      Member:
        Type: AWS::RDS::DBCluster
        Properties:
          KmsKeyId: !Ref Alias
      Secondary:
        Type: AWS::RDS::DBCluster
        Properties:
          GlobalClusterIdentifier: !Ref Global
          KmsKeyId: !If [C, !GetAtt Replica.Arn, !Ref AWS::NoValue]
      Lonely:
        Type: AWS::RDS::DBCluster
        Properties:
          KmsKeyId: !Ref Key
    """
)


def test_aliases_identity_policies_and_multi_region_uses() -> None:
    p = project(RESOURCES)
    assert [(a.name, to_plain(a.alias_name), a.target) for a in p.aliases] == [
        ("Alias", "alias/app", "Key"),
        ("ArnAlias", "alias/${AWS::StackName}", "Replica"),
        ("ForeignAlias", "alias/other", None),
    ]
    alias = p.aliases[0]
    assert alias.loc == Location(FILE, 12, 3, 12, 8)
    assert alias.attr_locs == {
        "alias_name": Location(FILE, 15, 7, 15, 27),
        "target": Location(FILE, 16, 7, 16, 28),
    }
    names = [(i.name, i.loc.line) for i in p.identity_policies]
    assert names == [
        ("Policy", 31),
        ("Managed", 36),
        ("RolePolicy", 40),
        ("UserPolicy", 44),
        ("GroupPolicy", 48),
        ("Role", 55),
        ("Role", 56),
        ("User", 64),
    ]
    policy = p.identity_policies[0]
    assert policy.loc == Location(FILE, 31, 7, 32, 75)
    managed = p.identity_policies[1].document  # a JSON string, read where it is written
    assert to_plain(managed) == {"Statement": []}
    assert managed.loc == Location(FILE, 36, 24, 36, 41)
    conditional = p.identity_policies[6].document
    assert isinstance(conditional, Conditional) and conditional.otherwise is None
    assert p.multi_region_uses == [
        MultiRegionUse("Key", "Member", UsageKind.GLOBAL_CLUSTER),
        MultiRegionUse("Key", "Table", UsageKind.GLOBAL_TABLE),
        MultiRegionUse("Replica", "Secondary", UsageKind.GLOBAL_CLUSTER),
        MultiRegionUse("Replica", "Table", UsageKind.GLOBAL_TABLE),
    ]
    assert p.resource_count == 18
    assert the_key(p, "Replica").primary == "Key"


SAM = textwrap.dedent(
    """\
    Transform: AWS::Serverless-2016-10-31
    Globals:
      Function:
        Runtime: python3.12
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          CodeUri: src/
          KmsKeyArn: !GetAtt FnKey.Arn
          Policies:
            - AWSLambdaBasicExecutionRole
            - KMSDecryptPolicy:
                KeyId: !Ref FnKey
            - Version: "2012-10-17"
              Statement:
                - Effect: Allow
                  Action: kms:Decrypt
                  Resource: "*"
      Single:
        Type: AWS::Serverless::Function
        Properties:
          Policies:
            Statement: [{Effect: Allow, Action: "kms:Decrypt", Resource: "*"}]
      Named:
        Type: AWS::Serverless::Function
        Properties:
          Policies: AmazonS3ReadOnlyAccess
      OwnRole:
        Type: AWS::Serverless::Function
        Properties:
          Role: arn:aws:iam::111122223333:role/existing
          Policies:
            - Statement: [{Effect: Allow, Action: "kms:Decrypt", Resource: "*"}]
      FnKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
    """
)


def test_sam_function_inline_policies_and_kms_policy_templates() -> None:
    p = project(SAM)
    # OwnRole names its Role, so SAM ignores its Policies; managed policy names are not read.
    assert [(i.name, i.loc.line) for i in p.identity_policies] == [("Fn", 14), ("Fn", 16), ("Single", 25)]
    assert to_plain(p.identity_policies[0].document) == {
        "Statement": [
            {
                "Sid": "KMSDecryptPolicy",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${FnKey}",
            }
        ],
    }
    assert to_plain(p.identity_policies[1].document) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}],
    }
    assert [k.name for k in p.keys] == ["FnKey"]


# --------------------------------------------------------------------------- suppressions


SUPPRESSED = textwrap.dedent(
    """\
    Resources:
      # kmslint:ignore KMS004 -- replicated for the global table
      Key:
        Type: AWS::KMS::Key
        Metadata:
          kmslint:
            ignore:
              - {id: KMS002, reason: "rotated by the HSM team"}
              - id: KMS003, kms001
              - KMS009
        Properties:
          Description: "# kmslint:ignore KMS017 -- inside a string"
          MultiRegion: true  # kmslint:ignore KMS015 -- on a property line
          KeyPolicy: |
            # kmslint:ignore KMS013 -- inside a block scalar
        # kmslint:ignore KMS019 -- closing the block
      Other:  # kmslint:ignore KMS012
        Type: AWS::IAM::Policy
        Metadata: {kmslint: {ignore: []}, cfn-lint: {config: {ignore_checks: [W1]}}}
    # kmslint:ignore KMS001 -- nowhere near a resource

    Outputs: {}
    """
)


def test_metadata_and_comment_suppressions() -> None:
    p = project(SUPPRESSED)
    got = sorted((s.resource or "", s.rule_ids, s.reason, s.loc.line, s.loc.column) for s in p.suppressions)
    assert got == sorted(
        [
            ("Key", ("KMS002",), "rotated by the HSM team", 8, 13),
            ("Key", ("KMS003", "KMS001"), "", 9, 13),
            ("Key", ("KMS009",), "", 10, 13),
            ("Key", ("KMS004",), "replicated for the global table", 2, 5),
            ("Key", ("KMS015",), "on a property line", 13, 28),
            ("Key", ("KMS019",), "closing the block", 16, 7),
            ("Other", ("KMS012",), "", 17, 13),
            ("", ("KMS001",), "nowhere near a resource", 20, 3),
        ]
    )
    assert all(s.file == FILE for s in p.suppressions)
    assert p.resource_spans["Key"] == (FILE, 3, 16)


def test_metadata_suppressions_in_json() -> None:
    text = json.dumps(
        {
            "Resources": {
                "Key": {
                    "Type": "AWS::KMS::Key",
                    "Metadata": {"kmslint": {"ignore": [{"id": "KMS004", "reason": "global table in another stack"}]}},
                }
            }
        },
        indent=2,
    )
    p = project(text, is_json=True, name="t.json")
    assert [(s.resource, s.rule_ids, s.reason, s.loc.line) for s in p.suppressions] == [
        ("Key", ("KMS004",), "global table in another stack", 8)
    ]


# --------------------------------------------------------------------------- YAML and JSON flavours


KEY_ATTRS = (
    *("key_spec", "key_usage", "origin", "rotation", "rotation_period", "multi_region"),
    *("deletion_window", "bypass_lockout_check", "enabled", "tags"),
)


def summary(p: Project) -> dict[str, Any]:
    """Everything of a project but the locations (which differ between the two flavours)."""
    return {
        "keys": [
            {
                "name": k.name,
                "kind": k.kind,
                "primary": k.primary,
                "attrs": sorted(k.attr_locs),
                "lines": k.loc.line > 0,
                **{a: to_plain(getattr(k, a)) for a in KEY_ATTRS},
                "policy": None if k.policy is None else (to_plain(k.policy.document), k.policy.attached_by),
            }
            for k in p.keys
        ],
        "identity": [(i.name, to_plain(i.document)) for i in p.identity_policies],
        "aliases": [(a.name, to_plain(a.alias_name), a.target, sorted(a.attr_locs)) for a in p.aliases],
        "uses": p.multi_region_uses,
        "suppressions": [(s.resource, s.rule_ids, s.reason) for s in p.suppressions],
        "count": p.resource_count,
        "spans": sorted(p.resource_spans),
    }


def yaml_to_json(text: str) -> str:
    """The JSON flavour of a YAML template: short-form tags in their long form."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def long_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
        tag = "!" + suffix
        name = cfn_sources.SHORT_TAGS[tag]
        if isinstance(node, yaml.ScalarNode):
            value: object = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    Loader.add_multi_constructor("!", long_form)

    def as_text(loader: Loader, node: yaml.Node) -> str:
        return str(node.value)

    Loader.add_constructor("tag:yaml.org,2002:timestamp", as_text)
    return json.dumps(yaml.load(text, Loader=Loader), indent=2)


@pytest.mark.parametrize("name", ["RESOURCES", "SAM", "PARAMS_AND_POLICY"])
def test_yaml_and_json_flavours_give_the_same_model(name: str) -> None:
    text = {
        "RESOURCES": RESOURCES,
        "SAM": SAM,
        "PARAMS_AND_POLICY": key_template(
            KEY_PROPS + POLICY_WITH.format(principal="[!Ref Admins, !Sub 'arn:aws:iam::${Account}:root']"),
            header=PARAMS,
        ),
    }[name]
    from_yaml = project(text)
    from_json = project(yaml_to_json(textwrap.dedent(text)), is_json=True, name="template.json")
    assert summary(from_yaml) == summary(from_json)


def test_json_locations_cover_keys_and_values() -> None:
    text = '{\n  "Resources": {\n    "Key": {\n      "Type": "AWS::KMS::Key",\n      "Properties": {\n' + (
        '        "EnableKeyRotation"  :\n          false,\n        "Tags": [{"Key": "a\\"b", "Value": "c"}]\n'
        '      },\n      "Metadata": {"kmslint": {"ignore": []}}\n    }\n  }\n}\n'
    )
    p = project(text, is_json=True, name="t.json")
    key = the_key(p)
    assert key.loc == Location("t.json", 3, 5, 3, 10)
    assert key.attr_locs["rotation"] == Location("t.json", 6, 9, 7, 16)
    assert key.attr_locs["tags"] == Location("t.json", 8, 9, 8, 48)
    assert to_plain(key.tags) == {'a"b': "c"}
    assert p.resource_spans == {"Key": ("t.json", 3, 11)}


def test_resource_spans_are_recorded_only_where_a_suppression_can_be() -> None:
    text = '{"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true}}}}'
    assert project(text, is_json=True, name="t.json").resource_spans == {}
    assert project(RESOURCES).resource_spans == {}
    commented = RESOURCES.replace("Resources:", "# kmslint: see the README\nResources:", 1)
    assert project(commented).resource_spans  # every resource, for `kmslint:ignore` comments


# --------------------------------------------------------------------------- a CDK-synthesised template


CDK = {
    "Resources": {
        "AppKeyB1F6C4A2": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "KeyPolicy": {
                    "Statement": [
                        {
                            "Action": "kms:*",
                            "Effect": "Allow",
                            "Principal": {
                                "AWS": {
                                    "Fn::Join": [
                                        "",
                                        [
                                            "arn:",
                                            {"Ref": "AWS::Partition"},
                                            ":iam::",
                                            {"Ref": "AWS::AccountId"},
                                            ":root",
                                        ],
                                    ]
                                }
                            },
                            "Resource": "*",
                        }
                    ],
                    "Version": "2012-10-17",
                },
                "MultiRegion": True,
            },
            "UpdateReplacePolicy": "Retain",
            "DeletionPolicy": "Retain",
            "Metadata": {"aws:cdk:path": "AppStack/AppKey/Resource"},
        },
        "CDKMetadata": {
            "Type": "AWS::CDK::Metadata",
            "Properties": {"Analytics": "v2:deflate64:H4sIAAAAAAAA"},
            "Condition": "CDKMetadataAvailable",
        },
    },
    "Conditions": {"CDKMetadataAvailable": {"Fn::Or": [{"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}]}},
    "Parameters": {
        "BootstrapVersion": {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": "/cdk-bootstrap/hnb659fds/version",
        }
    },
}


def test_a_cdk_synthesised_template() -> None:
    text = json.dumps(CDK, indent=1)
    p = project(text, is_json=True, name="AppStack.template.json")
    key = the_key(p, "AppKeyB1F6C4A2")
    assert key.multi_region == Known(True)
    principal_value = dig(key.policy, "Statement", 0, "Principal", "AWS")
    assert isinstance(principal_value, Interpolated)
    assert to_plain(principal_value) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
    assert key.loc.line == 3
    assert p.resource_count == 2


# --------------------------------------------------------------------------- speed


def test_a_two_thousand_line_template_parses_fast() -> None:
    import time

    from tests.parsers.cfn_samples import big_template, to_json, to_yaml

    template = big_template(28)
    for text, is_json in ((to_yaml(template), False), (to_json(template), True)):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            p = project(text, is_json=is_json)
            best = min(best, time.perf_counter() - start)
        assert len(p.keys) == 28
        assert best < 0.5  # typically a few tens of ms: this only catches an accidental blow-up
