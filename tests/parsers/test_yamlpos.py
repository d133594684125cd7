"""The mark-keeping YAML loader: typing, locations, comments and the safety limits."""

from __future__ import annotations

import sys
import textwrap
import time
from typing import cast

import pytest
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kmslint.model import Location
from kmslint.parsers import yamlpos
from kmslint.parsers.common import MAX_DUPLICATE_KEYS, ParseFailure


def load_one(
    text: str, *, pure: bool = False, max_depth: int = 50, max_alias_nodes: int = 1000
) -> yamlpos.YamlDocument:
    docs = yamlpos.load(text, "t.yaml", max_depth=max_depth, max_alias_nodes=max_alias_nodes, pure=pure)
    assert len(docs) == 1
    return docs[0]


def child(node: Node, *path: str | int) -> Node:
    for step in path:
        if isinstance(step, int):
            assert isinstance(node, SequenceNode)
            node = node.value[step]
        else:
            assert isinstance(node, MappingNode)
            node = next(v for k, v in node.value if k.value == step)
    return node


def key_node(node: Node, name: str) -> Node:
    assert isinstance(node, MappingNode)
    return cast(Node, next(k for k, _ in node.value if k.value == name))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2012-10-17", "2012-10-17"),  # a date stays the string CloudFormation sees
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("true", True),
        ("False", False),
        ("yes", True),
        ("off", False),
        ("y", "y"),
        ("123456789012", 123456789012),
        ("-7", -7),
        ("012345670123", "012345670123"),  # YAML 1.1 octal: an account ID with a leading zero stays text
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("1:30", "1:30"),
        ("1.5", 1.5),
        ("1.", 1.0),
        (".inf", ".inf"),
        ("1e3", "1e3"),
        ("~", None),
        ("null", None),
        ("", None),
        ("kms:*", "kms:*"),
    ],
)
def test_plain_scalars_are_typed_like_yaml_1_1_but_keep_ambiguous_forms_as_text(text: str, expected: object) -> None:
    value = yamlpos.plain_value(text)
    assert value == expected
    assert type(value) is type(expected)


def test_locations_are_one_based_and_end_after_the_last_character() -> None:
    text = textwrap.dedent(
        """\
        Top:
          Plain: hello world
          Quoted: "a # b"
          Tagged: !Ref Thing
          Flow: [1, {x: 2}]
          Block:
            - one
            - two

          # a comment after the block

        Next: 1
        """
    )
    doc = load_one(text)
    top = child(doc.root, "Top")
    assert doc.loc(child(top, "Plain")) == Location("t.yaml", 2, 10, 2, 21)
    assert doc.loc(child(top, "Quoted")) == Location("t.yaml", 3, 11, 3, 18)
    assert doc.loc(child(top, "Tagged")) == Location("t.yaml", 4, 11, 4, 21)  # from the tag
    assert doc.loc(child(top, "Flow")) == Location("t.yaml", 5, 9, 5, 20)
    # A block collection ends at its last item, not at the next token lines later.
    assert doc.loc(child(top, "Block")) == Location("t.yaml", 7, 5, 8, 10)
    assert doc.loc(top) == Location("t.yaml", 2, 3, 8, 10)
    assert doc.span(key_node(top, "Block"), child(top, "Block")) == Location("t.yaml", 6, 3, 8, 10)
    assert doc.loc(child(doc.root, "Next")) == Location("t.yaml", 12, 7, 12, 8)


def test_block_scalar_ends_on_its_last_content_line() -> None:
    text = 'Doc: |\n  {\n    "a": 1\n  }\n\n\nAfter: x\n'
    doc = load_one(text)
    assert doc.loc(child(doc.root, "Doc")) == Location("t.yaml", 1, 6, 4, 4)


def test_columns_count_characters_not_bytes() -> None:
    doc = load_one("Désc: é\nKey: !Sub 'ça ${AWS::Region}'\n")
    assert doc.loc(child(doc.root, "Désc")) == Location("t.yaml", 1, 7, 1, 8)
    assert doc.loc(child(doc.root, "Key")) == Location("t.yaml", 2, 6, 2, 30)


def test_crlf_and_lf_give_the_same_locations() -> None:
    lf = "A:\n  B: [1, 2]\n  C: x\n"
    crlf = lf.replace("\n", "\r\n")
    a, b = load_one(lf), load_one(crlf)
    for path in (("A",), ("A", "B"), ("A", "C")):
        assert a.loc(child(a.root, *path)) == b.loc(child(b.root, *path))


def test_after_properties_points_at_a_tagged_nodes_content() -> None:
    doc = load_one("A: !Ref  Thing\nB: !Sub\n  - x\n  - {}\nC: &anchor !GetAtt R.Arn\n")
    assert doc.after_properties(child(doc.root, "A")) == (0, 9)
    assert doc.after_properties(child(doc.root, "B")) == (2, 2)
    assert doc.after_properties(child(doc.root, "C")) == (4, 19)


@pytest.mark.parametrize("pure", [False, True])
def test_a_key_written_twice_is_read_and_recorded_at_the_second(pure: bool) -> None:
    text = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Type: AWS::KMS::ReplicaKey\n"
    doc = load_one(text, pure=pure)
    [twice] = doc.duplicates
    assert twice.name == "Type"
    assert twice.loc == Location("t.yaml", 4, 5, 4, 9)
    assert twice.first == Location("t.yaml", 3, 5, 3, 9)


def test_a_key_written_three_times_is_recorded_twice_against_the_first() -> None:
    doc = load_one("a: 1\nb: 2\na: 3\n'a': 4\n")
    assert [(d.name, d.loc.line, d.first.line) for d in doc.duplicates] == [("a", 3, 1), ("a", 4, 1)]


def test_duplicates_in_an_aliased_mapping_are_recorded_once_where_written() -> None:
    doc = load_one("a: &x {k: 1, k: 2}\nb: *x\nc: *x\n")
    assert [(d.name, d.loc.line, d.loc.column, d.first.column) for d in doc.duplicates] == [("k", 1, 14, 8)]


def test_an_anchor_defined_again_keeps_duplicates_recorded() -> None:
    doc = load_one("a: &x {k: 1}\nb: &x {k: 2, k: 3}\nc: *x\n")
    assert [(d.name, d.loc.line, d.loc.column) for d in doc.duplicates] == [("k", 2, 14)]


def test_merge_keys_may_repeat_and_explicit_keys_override_them() -> None:
    doc = load_one("base: &b {x: 1}\nother: &o {y: 2}\nm:\n  <<: *b\n  <<: *o\n  x: 3\n  <<: [*b, *o]\n")
    assert isinstance(child(doc.root, "m"), MappingNode)
    assert doc.duplicates == ()


def test_a_quoted_merge_key_is_an_ordinary_key() -> None:
    doc = load_one('"<<": 1\n"<<": 2\n')
    assert [(d.name, d.loc.line) for d in doc.duplicates] == [("<<", 2)]


def test_duplicates_past_the_limit_are_read_but_not_recorded() -> None:
    text = "".join(f"k: {i}\n" for i in range(MAX_DUPLICATE_KEYS + 500))
    start = time.perf_counter()
    doc = load_one(text)
    assert time.perf_counter() - start < 2
    assert len(doc.duplicates) == MAX_DUPLICATE_KEYS
    assert doc.duplicates[-1].loc.line == MAX_DUPLICATE_KEYS + 1


def test_a_document_without_duplicates_records_none() -> None:
    doc = load_one("a: &x {k: 1, j: 2}\nb: [*x, {k: 1}]\nc: {d: {k: 1}, e: {k: 2}}\n")
    assert doc.duplicates == ()


def test_alias_bomb_is_refused_quickly() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        levels.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    text = "\n".join(levels) + "\n"
    start = time.perf_counter()
    with pytest.raises(ParseFailure) as err:
        load_one(text, max_alias_nodes=100_000)
    assert time.perf_counter() - start < 2
    assert "aliases expand" in err.value.message


def test_a_few_aliases_are_fine() -> None:
    doc = load_one("a: &x {k: [1, 2]}\nb: *x\nc: *x\n")
    assert doc.has_aliases
    assert child(doc.root, "b") is child(doc.root, "a")


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(ParseFailure) as err:
        load_one("a: &x\n  - *x\n")
    assert "recursive alias" in err.value.message


@pytest.mark.parametrize("anchor", ["", "&top "])
def test_nesting_deeper_than_the_limit_is_refused(anchor: str) -> None:
    text = "a: " + anchor + "[" * 60 + "]" * 60 + "\n"
    with pytest.raises(ParseFailure) as err:
        load_one(text, max_depth=50)
    assert "nesting deeper than 50" in err.value.message
    load_one("a: " + "[" * 40 + "]" * 40 + "\n", max_depth=50)


def test_aliases_count_towards_depth() -> None:
    inner = "[" * 30 + "]" * 30
    text = f"a: &deep {inner}\nb: [[[[[[[[[[[[[[[[[[[[[[[[*deep]]]]]]]]]]]]]]]]]]]]]]]]\n"
    with pytest.raises(ParseFailure):
        load_one(text, max_depth=50)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a: [1, 2\nb: 3\n", 2, 2),
        ("a:\n\tb: 1\n", 2, 1),
        ("a: 'unterminated\n", 2, 1),
        ("a: *missing\n", 1, 4),
        ("a: b: c\n", 1, 5),
    ],
)
def test_invalid_yaml_fails_with_a_position(text: str, line: int, column: int) -> None:
    with pytest.raises(ParseFailure) as err:
        load_one(text)
    assert err.value.message.startswith("invalid YAML")
    assert (err.value.line, err.value.column) == (line, column)


def test_the_pure_python_loader_gives_the_same_nodes_and_marks() -> None:
    text = "A:\n  B: !Sub 'x ${Y}'\n  C: [1, 'two', {d: e}]\n  D: |\n    text\n"
    fast, pure = load_one(text), load_one(text, pure=True)
    for path in (("A",), ("A", "B"), ("A", "C"), ("A", "C", 2), ("A", "D")):
        f, p = child(fast.root, *path), child(pure.root, *path)
        assert (f.tag, fast.loc(f)) == (p.tag, pure.loc(p))


def test_pure_loader_turns_recursion_errors_into_parse_failures() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)
    try:
        with pytest.raises(ParseFailure):
            yamlpos.load("a: " + "[" * 400 + "]" * 400, "t.yaml", max_depth=1000, pure=True)
    finally:
        sys.setrecursionlimit(limit)


def test_comment_start_ignores_hashes_inside_scalars() -> None:
    text = textwrap.dedent(
        """\
        # kmslint:ignore at the top
        A: "quoted # kmslint:ignore KMS001 -- not a comment"
        B: plain#nothing # kmslint:ignore KMS002 -- a comment
        C: |
          # kmslint:ignore KMS003 -- block scalar text
        D: 'it''s' # real
        E: [a, # inside a flow list
            b]
        F: |  # header comment
          text
        """
    )
    doc = load_one(text)
    assert doc.comment_start(1) == 0
    assert doc.comment_start(2) is None
    assert doc.comment_start(3) == 17
    assert doc.comment_start(5) is None
    assert doc.comment_start(6) == 11
    assert doc.comment_start(7) == 7
    assert doc.comment_start(9) == 6
    assert doc.comment_start(10) is None
    assert doc.comment_start(99) is None


def test_several_documents_are_all_returned() -> None:
    docs = yamlpos.load("a: 1\n---\nb: 2\n", "t.yaml", max_depth=10)
    assert [d.loc(d.root).line for d in docs] == [1, 3]


def test_nodes_are_never_constructed_into_python_objects() -> None:
    # A tag that the unsafe loader would turn into a call is just a tag here.
    doc = load_one("a: !!python/object/apply:os.system ['true']\n")
    node = child(doc.root, "a")
    assert node.tag == "tag:yaml.org,2002:python/object/apply:os.system"
    assert isinstance(node, SequenceNode)
    assert isinstance(node.value[0], ScalarNode)
