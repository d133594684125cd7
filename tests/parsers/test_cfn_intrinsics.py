"""CloudFormation intrinsics the resolver evaluates: Fn::Select, Fn::Split, and the references
that link an alias, a replica or a data store to a key."""

from __future__ import annotations

import pytest

from kmslint.model import Conditional, Known, Meaning, Project, Unknown, Value
from kmslint.parsers import cfn_intrinsics
from kmslint.parsers.common import Budget, BudgetExceeded
from tests.parsers.test_cloudformation import key_template, parse, principal, project, sym, with_principal

HEADER = """\
Parameters:
  Csv:
    Type: String
    Default: "a,b,c"
  Free:
    Type: String
Conditions:
  C: !Equals [!Ref Free, x]
"""


def value_of(expr: str) -> Value:
    """What ``expr`` resolves to, written as a key policy's principal."""
    return principal(with_principal(expr, header=HEADER))


# --------------------------------------------------------------------------- Fn::Select, Fn::Split


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("!Select [1, [a, b]]", "b"),
        ("!Select ['1', [a, b]]", "b"),  # an index written as a string, as CloudFormation accepts
        ("!Select [2, !Split [',', !Ref Csv]]", "c"),
        ("{'Fn::Select': [0, {'Fn::Split': [',', {Ref: Csv}]}]}", "a"),
        ("!Select [0, !Split [':', !Sub 'x:${Free}']]", "x"),  # the part before the unknown is known
        ("!Select [0, !Split ['/', !Ref AWS::StackId]]", ("arn:", ("?", Meaning.PARTITION, "AWS::Partition"))),
        ("!Select [1, !Split [',', 'a,,b']]", ""),
        ("!Select [5, !Split [':', !Ref AWS::StackId]]", ("stack/", ("?", Meaning.NOTHING, "AWS::StackName"))),
        ("!Select [0, !Select [1, [[x], [y, z]]]]", "y"),
    ],
)
def test_select_picks_a_known_item(expr: str, expected: object) -> None:
    got = value_of(expr)
    if isinstance(expected, str):
        assert isinstance(got, Known) and got.value == expected
    else:
        assert sym(got)[:2] == expected  # type: ignore[index]


def test_the_account_piece_of_the_stack_id_means_the_stacks_account() -> None:
    for expr in (
        "!Select [4, !Split [':', !Ref AWS::StackId]]",
        "!Select [4, !Split [':', !Sub '${AWS::StackId}']]",
        "{'Fn::Select': ['4', {'Fn::Split': [':', {Ref: AWS::StackId}]}]}",
    ):
        got = value_of(expr)
        assert isinstance(got, Unknown), expr
        assert (got.meaning, got.ref) == (Meaning.ACCOUNT_ID, "AWS::AccountId"), expr
        assert got.loc is not None and (got.loc.line, got.loc.column) == (19, 20)  # where the Fn::Select is


def test_the_region_and_stack_name_pieces() -> None:
    region = value_of("!Select [3, !Split [':', !Ref AWS::StackId]]")
    assert sym(region) == ("?", Meaning.REGION, "AWS::Region")
    name = value_of("!Select [1, !Split ['/', !Ref AWS::StackId]]")
    assert sym(name) == ("?", Meaning.NOTHING, "AWS::StackName")


@pytest.mark.parametrize(
    "expr",
    [
        "!Select [3, [a, b]]",  # out of range
        "!Select [-1, [a, b]]",
        "!Select [x, [a, b]]",
        "!Select [0, !GetAZs '']",
        "!Select [0, !Ref Free]",  # not a list
        "!Select [0, {a: b}]",
        "!Select [0]",
        "!Select [1, !Split [':', !Sub '${Free}:x']]",  # the parameter may hold ':' itself
        "!Select [0, !Split [':', !Sub '${Free}:x']]",
        "!Select [9, !Split [',', !Ref Csv]]",
        "!Select [0, !Split ['', abc]]",  # no delimiter
        "!Select [0, !Split [',', [a, b]]]",  # a list is not a string
        "!Select [0, !Split [!Ref Free, abc]]",
        "!Select [0, !Split [',']]",
        "!Select [0, !Split ['-', !Ref AWS::Region]]",  # a Region holds '-'
    ],
)
def test_what_select_cannot_pick_is_unknown(expr: str) -> None:
    got = value_of(expr)
    assert isinstance(got, Unknown), expr
    assert got.meaning is Meaning.NOTHING and got.ref is None, expr


def _attr(p: Project, name: str) -> Value | None:
    return getattr(p.keys[0], name)  # type: ignore[no-any-return]


def as_known_list(value: Value | None) -> list[object] | None:
    if isinstance(value, Known) and isinstance(value.value, list):
        return [v.value if isinstance(v, Known) else v for v in value.value]
    return None


def test_split_of_a_string_whose_parameter_may_hold_the_delimiter_is_unknown() -> None:
    p = project(key_template("KeySpec: !Split [',', !Sub '${Free},y']\n", header=HEADER))
    assert isinstance(_attr(p, "key_spec"), Unknown)


def test_split_of_a_known_string_is_its_pieces() -> None:
    p = project(key_template("KeySpec: !Split [', ', 'a, b, c']\n"))
    got = _attr(p, "key_spec")
    assert as_known_list(got) == ["a", "b", "c"]
    assert got is not None and got.loc is not None and (got.loc.line, got.loc.column) == (6, 16)


def test_select_and_split_under_a_condition_follow_each_branch() -> None:
    got = value_of("!Select [!If [C, 0, 1], [a, b]]")
    assert sym(got) == ("if", "C", "a", "b")
    got = value_of("!Select [0, !If [C, [a], [b]]]")
    assert sym(got) == ("if", "C", "a", "b")
    got = value_of("!Select [1, !Split [',', !If [C, 'x,y', 'p,q']]]")
    assert sym(got) == ("if", "C", "y", "q")
    assert isinstance(got, Conditional)


def _long_parameter(default: str) -> str:
    return f"Parameters:\n  Long:\n    Type: String\n    Default: '{default}'\n"


def test_a_split_into_too_many_pieces_is_unknown_not_a_hang() -> None:
    select = "KeySpec: !Select [0, !Split [',', !Ref Long]]\n"
    assert isinstance(_attr(project(key_template(select, header=_long_parameter("," * 300_000))), "key_spec"), Unknown)
    most = "a," * (cfn_intrinsics.MAX_SPLIT_PIECES - 1)
    assert _attr(project(key_template(select, header=_long_parameter(most))), "key_spec") == Known("a")


def test_splitting_long_strings_spends_the_units_budget() -> None:
    """A 100 KB default split 200 times costs its length each time: past the budget, a
    BudgetExceeded (the engine's KMS000), not minutes of work."""
    tags = "".join(f"  - {{Key: t{i}, Value: !Select [0, !Split [',', !Ref Long]]}}\n" for i in range(200))
    text = key_template("Tags:\n" + tags, header=_long_parameter("x" * 100_000))
    assert parse(text) is not None  # within the default budget
    with pytest.raises(BudgetExceeded):
        parse(text, budget=Budget(steps=100_000))


# --------------------------------------------------------------------------- references to keys

KEYS = """\
Parameters:
  Free:
    Type: String
Conditions:
  C: !Equals [!Ref Free, x]
Resources:
  KeyA:
    Type: AWS::KMS::Key
  KeyB:
    Type: AWS::KMS::ReplicaKey
    Properties: {PrimaryKeyArn: !GetAtt KeyA.Arn, KeyPolicy: {}}
  Bucket:
    Type: AWS::S3::Bucket
  Alias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: alias/x
"""


def alias_targets(target: str) -> frozenset[str] | None:
    p = project(KEYS + f"      TargetKeyId: {target}\n")
    return p.aliases[0].possible_targets()


@pytest.mark.parametrize(
    ("target", "keys"),
    [
        ("!Ref KeyA", {"KeyA"}),
        ("!GetAtt KeyA.KeyId", {"KeyA"}),
        ("!GetAtt KeyA.Arn", {"KeyA"}),
        ("{'Fn::GetAtt': [KeyA, KeyId]}", {"KeyA"}),
        ("{'Fn::GetAtt': [KeyB, Arn]}", {"KeyB"}),
        ("!Sub '${KeyA}'", {"KeyA"}),
        ("!Sub '${KeyA.Arn}'", {"KeyA"}),
        ("!Sub 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${KeyB}'", {"KeyB"}),
        ("!Join ['', ['arn:aws:kms:eu-west-1:', !Ref AWS::AccountId, ':key/', !GetAtt KeyA.KeyId]]", {"KeyA"}),
        ("!If [C, !GetAtt KeyA.KeyId, !Ref KeyB]", {"KeyA", "KeyB"}),
        ("!If [C, !GetAtt KeyA.KeyId, !Ref AWS::NoValue]", {"KeyA"}),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", set()),  # a literal: a key outside the template
        ("!Sub 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/1234abcd'", set()),
    ],
)
def test_an_alias_targets_the_key_it_names(target: str, keys: set[str]) -> None:
    assert alias_targets(target) == frozenset(keys)


@pytest.mark.parametrize(
    "target",
    [
        "!Ref Free",  # a parameter without a default: any key
        "!ImportValue shared-key",
        "!Sub 'arn:aws:kms:eu-west-1:111122223333:key/${Free}'",
        "!GetAtt Bucket.Arn",  # another resource's attribute
        "!GetAtt KeyA.Nothing",  # not an attribute of a key
        "!If [C, !Ref KeyA, !Ref Free]",
    ],
)
def test_an_alias_whose_target_cannot_be_told_may_be_any_key(target: str) -> None:
    assert alias_targets(target) is None


def test_a_replica_names_its_primary_in_every_form() -> None:
    for primary in ("!GetAtt KeyA.Arn", "!Sub '${KeyA.Arn}'", "{'Fn::GetAtt': [KeyA, Arn]}", "!GetAtt KeyA.KeyId"):
        text = KEYS.replace("!GetAtt KeyA.Arn, KeyPolicy", f"{primary}, KeyPolicy")
        replica = next(k for k in project(text).keys if k.name == "KeyB")
        assert replica.primary == "KeyA", primary
