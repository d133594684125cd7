"""Policies written as JSON text in a template (a literal, !Sub, Fn::Join): read into trees whose
unknown parts keep their meaning, each value placed where its text is written."""

from __future__ import annotations

import json

import pytest

from kmslint.model import Conditional, Interpolated, Known, Location, Meaning, Unknown, Value, as_dict, to_plain
from kmslint.parsers.cfn_policy_text import Slot, Text, read, scalar_text
from kmslint.parsers.common import Budget, BudgetExceeded
from kmslint.policy.principals import PrincipalClass, classify_value
from tests.parsers.test_cloudformation import FILE, dig, key_template, pos, project, the_key

# --------------------------------------------------------------------------- where characters are written


def positions(found: Text) -> list[tuple[int, int]]:
    return [found.position(i) for i in range(len(found.text))]


@pytest.mark.parametrize(
    ("line", "text", "column"),
    [
        ("x: plain text", "plain text", 4),
        ("x: 'it''s'", "it's", 4),
        ('x: "a\\"b\\tc\\u00e9d"', 'a"b\tcéd', 4),
        ('"x": "{\\"A\\": 1}"', '{"A": 1}', 6),
    ],
)
def test_one_line_scalars_place_each_character(line: str, text: str, column: int) -> None:
    end = len(line) + 1
    found = scalar_text(text, Location(FILE, 1, column, 1, end), [line])
    assert found is not None
    got = positions(found)
    # Every character is placed on the written character it stands for.
    for i, (row, col) in enumerate(got):
        assert row == 1
        written = line[col - 1]
        assert written == text[i] or written == "\\" or (text[i] == "'" and written == "'"), (i, written)
    assert found.after(len(text))[1] <= end


def test_a_literal_block_places_each_line() -> None:
    lines = ["KeyPolicy: |", "  {", '    "A": 1', "  }"]
    found = scalar_text('{\n  "A": 1\n}\n', Location(FILE, 1, 12, 4, 4), lines)
    assert found is not None
    assert found.position(0) == (2, 3)
    assert found.position(found.text.index('"A"')) == (3, 5)
    assert found.position(found.text.index("}")) == (4, 3)


@pytest.mark.parametrize(
    ("lines", "text"),
    [
        (["x: >", "  {", "  }"], "{ }\n"),  # folded: lines are joined, not placed
        (["x: |2", "    {}"], "  {}\n"),  # an explicit indentation
        (["x: 'a", "  b'"], "a b"),  # a quoted scalar folded across lines
    ],
)
def test_what_cannot_be_placed_is_placed_at_the_start(lines: list[str], text: str) -> None:
    loc = Location(FILE, 1, 4, len(lines), len(lines[-1]) + 1)
    found = scalar_text(text, loc, lines)
    assert found is not None
    assert {found.position(i) for i in range(len(text))} == {(1, 4)}
    assert found.after(len(text)) == (loc.end_line, loc.end_column)


def test_a_scalar_that_does_not_match_its_lines_is_placed_at_the_start() -> None:
    found = scalar_text("other", Location(FILE, 1, 4, 1, 9), ["x: plain"])
    assert found is not None and found.position(3) == (1, 4)
    assert scalar_text("x", None, ["x"]) is None
    assert scalar_text("x", Location(FILE, 1, 1, 1, 2), None) is not None


# --------------------------------------------------------------------------- reading the text

ACCOUNT = Unknown("pseudo parameter AWS::AccountId", None, Meaning.ACCOUNT_ID, ref="AWS::AccountId")
PARAM = Unknown("parameter Admin has no default", None, ref="Admin")
WHERE = Location(FILE, 1, 1, 1, 2)


def segments(*parts: str | Unknown) -> list[Text | Slot]:
    return [Text.at(p, WHERE) if isinstance(p, str) else Slot(p, (1, 1), (1, 2)) for p in parts]


def test_a_placeholder_inside_a_string_keeps_its_meaning() -> None:
    got = read(segments('{"Statement": [{"Principal": {"AWS": "arn:aws:iam::', ACCOUNT, ':root"}}]}'), WHERE, 200, None)
    principal = as_dict(as_dict(as_dict(got)["Statement"].value[0])["Principal"])["AWS"]  # type: ignore[index, union-attr]
    assert isinstance(principal, Interpolated)
    assert principal.parts == ("arn:aws:iam::", ACCOUNT, ":root")
    assert classify_value(principal) is PrincipalClass.ACCOUNT_ROOT


def test_a_placeholder_that_is_a_whole_string_is_the_unknown_itself() -> None:
    got = read(segments('{"Principal": {"AWS": "', PARAM, '"}}'), WHERE, 200, None)
    principal = as_dict(as_dict(got)["Principal"])["AWS"]  # type: ignore[index]
    assert isinstance(principal, Unknown) and principal.ref == "Admin"


def test_a_placeholder_where_a_value_goes_is_that_value_unknown() -> None:
    got = read(segments('{"Statement": [{"Effect": "Allow"}, ', PARAM, "]}"), WHERE, 200, None)
    statements = as_dict(got)["Statement"]  # type: ignore[index]
    assert isinstance(statements, Known) and isinstance(statements.value, list)
    assert statements.value[0] == Known({"Effect": Known("Allow")})
    assert isinstance(statements.value[1], Unknown) and statements.value[1].ref == "Admin"


def test_a_placeholder_in_place_of_a_member_makes_the_policy_unknown() -> None:
    got = read(segments('{"Effect": "Allow", ', PARAM, "}"), WHERE, 200, None)
    assert isinstance(got, Unknown)


def test_text_invalid_whatever_its_pseudo_parameters_are_is_the_text() -> None:
    got = read(segments('{"A": "', ACCOUNT, '",}'), WHERE, 200, None)
    assert got == Known('{"A": "${AWS::AccountId}",}')
    got = read(segments('{"A": "', PARAM, '",}'), WHERE, 200, None)  # a parameter might hold `"`
    assert isinstance(got, Unknown)


def test_text_that_is_no_json_object_is_the_string() -> None:
    assert read(segments("[", ACCOUNT, "]"), WHERE, 200, None) == Interpolated(("[", ACCOUNT, "]"))
    assert read(segments("not json"), WHERE, 200, None) == Known("not json")
    assert read(segments(ACCOUNT), WHERE, 200, None) == ACCOUNT


def test_a_member_name_with_a_placeholder_shows_its_reference() -> None:
    got = read(segments('{"kms:EncryptionContext:', ACCOUNT, '": "x"}'), WHERE, 200, None)
    assert to_plain(got) == {"kms:EncryptionContext:${AWS::AccountId}": "x"}


def test_escaped_quotes_do_not_end_a_string() -> None:
    got = read(segments('{"A": "say \\"', ACCOUNT, '\\" \\\\"}'), WHERE, 200, None)
    assert isinstance(as_dict(got)["A"], Interpolated)  # type: ignore[index]


def test_reading_spends_the_budget() -> None:
    text = '{"A": [' + ", ".join(['"x"'] * 5000) + "]}"
    with pytest.raises(BudgetExceeded):
        read(segments(text), WHERE, 200, Budget(steps=1000))


# --------------------------------------------------------------------------- in templates


def policy_of(text: str, **kw: object) -> Value:
    policy = the_key(project(text, **kw)).policy
    assert policy is not None
    return policy.document


def test_a_sub_block_is_read_and_placed_line_by_line() -> None:
    text = key_template(
        """\
        KeyPolicy: !Sub |
          {
            "Version": "2012-10-17",
            "Statement": [{"Sid": "Root", "Effect": "Allow",
                           "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
                           "Action": "kms:*", "Resource": "*"}]
          }
        """
    )
    policy = the_key(project(text)).policy
    assert policy is not None
    statement = dig(policy, "Statement", 0)
    line, col = pos(text, '{"Sid"')
    assert statement is not None and statement.loc is not None
    assert (statement.loc.line, statement.loc.column) == (line, col)
    assert (statement.loc.end_line, statement.loc.end_column) == (line + 2, pos(text, '"*"}]')[1] + 4)
    principal = dig(policy, "Statement", 0, "Principal", "AWS")
    line, col = pos(text, '"arn:${AWS::Partition}')
    assert isinstance(principal, Interpolated)
    assert principal.loc == Location(
        FILE, line, col, line, col + len('"arn:${AWS::Partition}:iam::${AWS::AccountId}:root"')
    )
    assert [p.ref for p in principal.parts if isinstance(p, Unknown)] == ["AWS::Partition", "AWS::AccountId"]


def test_a_sub_with_variables_and_parameters() -> None:
    text = key_template(
        """\
        KeyPolicy: !Sub
          - '{"Statement": [{"Principal": {"AWS": ["${Root}", "${Admin}", "${Named}"]}}]}'
          - Root: !Sub "arn:aws:iam::${AWS::AccountId}:root"
            Named: arn:aws:iam::111122223333:role/Named
        """,
        header="Parameters:\n  Admin:\n    Type: String\n",
    )
    policy = the_key(project(text)).policy
    principals = dig(policy, "Statement", 0, "Principal", "AWS")
    assert isinstance(principals, Known) and isinstance(principals.value, list)
    root, admin, named = principals.value
    assert classify_value(root) is PrincipalClass.ACCOUNT_ROOT
    assert isinstance(admin, Unknown) and admin.ref == "Admin"
    assert named == Known("arn:aws:iam::111122223333:role/Named")
    line, col = pos(text, '"${Admin}"')
    assert admin.loc == Location(FILE, line, col, line, col + len('"${Admin}"'))


def test_a_join_of_pieces_in_a_json_template_is_placed_in_each_piece() -> None:
    lines = [
        '{"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Fn::Join": ["", [',
        '  "{\\"Statement\\": [{\\"Principal\\": {\\"AWS\\": \\"arn:aws:iam::",',
        '  {"Ref": "AWS::AccountId"},',
        '  ":root\\"}}]}"',
        "]]}}}}}",
    ]
    text = "\n".join(lines)
    p = project(text, is_json=True, name="template.json")
    policy = the_key(p).policy
    assert policy is not None
    statement = dig(policy, "Statement", 0)
    assert statement is not None and statement.loc is not None
    assert (statement.loc.file, statement.loc.line, statement.loc.column) == (
        "template.json",
        2,
        lines[1].index('{\\"P') + 1,
    )
    assert statement.loc.end_line == 4
    principal = dig(policy, "Statement", 0, "Principal", "AWS")
    assert classify_value(principal) is PrincipalClass.ACCOUNT_ROOT  # type: ignore[arg-type]


def test_a_policy_string_under_fn_if_is_read_on_each_branch() -> None:
    text = key_template(
        """\
        KeyPolicy: !If
          - C
          - !Sub '{"Statement": [{"Principal": {"AWS": "arn:aws:iam::${AWS::AccountId}:root"}}]}'
          - '{"Statement": []}'
        """,
        header="Conditions:\n  C: !Equals [!Ref AWS::Region, eu-west-1]\n",
    )
    document = policy_of(text)
    assert isinstance(document, Conditional)
    assert to_plain(document.then) == {"Statement": [{"Principal": {"AWS": "arn:aws:iam::${AWS::AccountId}:root"}}]}
    assert to_plain(document.otherwise) == {"Statement": []}


def test_inline_policies_of_roles_are_read_too() -> None:
    text = key_template(
        "KeyPolicy: {}\n",
        extra="""\
        Role:
          Type: AWS::IAM::Role
          Properties:
            Policies:
              - PolicyName: a
                PolicyDocument: !Sub '{"Statement": [{"Resource": "arn:aws:kms:*:${AWS::AccountId}:key/*"}]}'
              - !Ref AWS::NoValue
              - PolicyName: b
                PolicyDocument: '{"Statement": []}'
        """,
    )
    p = project(text)
    documents = [to_plain(ip.document) for ip in p.identity_policies]
    assert documents == [
        {"Statement": [{"Resource": "arn:aws:kms:*:${AWS::AccountId}:key/*"}]},
        {"Statement": []},
    ]


def test_a_policy_with_more_unknown_parts_than_placeholders_is_unknown() -> None:
    many = ", ".join('"${AWS::Region}"' for _ in range(4000))
    document = policy_of(key_template(f"KeyPolicy: !Sub '{{\"A\": [{many}]}}'\n"))
    assert isinstance(document, Unknown)


def test_a_deep_policy_string_is_unknown_not_a_crash() -> None:
    deep = "[" * 300 + "]" * 300
    document = policy_of(key_template(f'KeyPolicy: !Sub \'{{"A": {deep}, "B": "${{AWS::Region}}"}}\'\n'))
    assert isinstance(document, Unknown)
    assert json.dumps(to_plain(document))  # and it can be shown


@pytest.mark.slow
def test_a_long_policy_text_with_many_escapes_and_placeholders_is_read_in_linear_time() -> None:
    """Each placeholder used to slice the text's runs from the start: 3,000 placeholders in a
    JSON string of 100,000 escapes took minutes."""
    import time

    statement = {
        "Sid": 'a"b',
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "${AWS::Region}",
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement] * 3000})
    text = json.dumps(
        {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Fn::Sub": policy}}}}}
    )
    start = time.perf_counter()
    document = policy_of(text, is_json=True, name="template.json")
    assert time.perf_counter() - start < 20
    assert isinstance(document, Known) and len(document.value["Statement"].value) == 3000  # type: ignore[index, union-attr]


def test_placeholder_characters_written_in_the_text_are_text() -> None:
    """The private-use characters that mark slots, written by the template itself (or through a
    \\u escape), number no slot: they stay text, never an error."""
    forged = "\ue000\ueffe"
    got = read(
        segments('{"A": "', ACCOUNT, '", "B": "x' + forged + '", "C' + forged + '": "\\ue000\\ueffe"}'),
        WHERE,
        200,
        None,
    )
    fields = as_dict(got)
    assert fields is not None
    assert fields["B"] == Known("x" + forged) and fields["C" + forged] == Known(forged)
    assert classify_value(fields["A"]) is PrincipalClass.ACCOUNT_ROOT
