"""Property tests: whatever the input, the parser gives a Project or None, or raises ParseFailure."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmslint.model import Conditional, Interpolated, Known, Location, Project, Unknown, Value
from kmslint.parsers import cloudformation
from kmslint.parsers.common import ParseFailure, ParseOptions
from tests.parsers.cfn_samples import _Dumper, _Tagged

# Generated templates: the default local run leaves them to .ci/run.
pytestmark = pytest.mark.slow

WORDS = [
    "Resources",
    "Type",
    "Properties",
    "Metadata",
    "Parameters",
    "Mappings",
    "Default",
    "AWS::KMS::Key",
    "AWS::KMS::ReplicaKey",
    "AWS::KMS::Alias",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::Serverless::Function",
    "AWS::DynamoDB::GlobalTable",
    "AWS::RDS::DBCluster",
    "AWS::RDS::GlobalCluster",
    "KeyPolicy",
    "PolicyDocument",
    "Policies",
    "Statement",
    "Replicas",
    "SSESpecification",
    "KMSMasterKeyId",
    "KmsKeyId",
    "GlobalClusterIdentifier",
    "SourceDBClusterIdentifier",
    "PrimaryKeyArn",
    "TargetKeyId",
    "Tags",
    "Key",
    "Value",
    "EnableKeyRotation",
    "MultiRegion",
    "kmslint",
    "ignore",
    "id",
    "reason",
    "Ref",
    "Fn::Sub",
    "Fn::Join",
    "Fn::If",
    "Fn::GetAtt",
    "Fn::FindInMap",
    "Fn::ImportValue",
    "AWS::NoValue",
    "AWS::AccountId",
    "K",
    "R",
    "${K}",
    "${K.Arn}",
    "${!x}",
    "${AWS::Region}",
    "${",
]
TAGS = ["!Ref", "!Sub", "!GetAtt", "!Join", "!If", "!FindInMap", "!Select", "!Equals", "!Condition", "!Rain::Embed"]

scalars = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=8),
    st.integers(min_value=-5, max_value=10**12),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)
keys = st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=6))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(keys, inner, max_size=4),
        st.builds(lambda k, v: {k: v}, st.sampled_from(WORDS[-16:]), inner),
    ),
    max_leaves=25,
)
resources = st.dictionaries(
    st.sampled_from(["K", "R", "A", "T", "C"]),
    st.fixed_dictionaries(
        {"Type": st.sampled_from(WORDS[7:15])},
        optional={"Properties": st.dictionaries(st.sampled_from(WORDS[15:36]), values, max_size=5), "Metadata": values},
    ),
    max_size=4,
)
templates = st.fixed_dictionaries(
    {"Resources": resources},
    optional={
        "AWSTemplateFormatVersion": st.just("2010-09-09"),
        "Parameters": st.dictionaries(st.sampled_from(["K", "P"]), values, max_size=2),
        "Mappings": values,
        "Conditions": values,
    },
)


def tagged(data: Any, draw_tag: Any) -> Any:
    """Replace some single-key intrinsic mappings with short-form tags."""
    if isinstance(data, dict):
        if len(data) == 1 and draw_tag():
            ((_, arg),) = data.items()
            return _Tagged(draw_tag.tag(), tagged(arg, draw_tag))
        return {k: tagged(v, draw_tag) for k, v in data.items()}
    if isinstance(data, list):
        return [tagged(v, draw_tag) for v in data]
    return data


def check_project(result: Project | None, text: str) -> None:
    if result is None:
        return
    lines = len(re.split(r"\r\n|[\r\n]", text))  # as an editor counts them
    for key in result.keys:
        assert 1 <= key.loc.line <= lines
        for loc in key.attr_locs.values():
            assert_loc(loc, lines)
        if key.policy is not None:
            walk(key.policy.document, lines)
    for policy in result.identity_policies:
        walk(policy.document, lines)
    for name, (_file, first, last) in result.resource_spans.items():
        assert 1 <= first <= last <= lines, name


def assert_loc(loc: Location | None, lines: int) -> None:
    if loc is None:
        return
    assert 1 <= loc.line <= loc.end_line <= lines
    assert loc.column >= 1 and loc.end_column >= 1


def walk(value: Value | None, lines: int) -> None:
    if value is None:
        return
    assert_loc(value.loc, lines)
    if isinstance(value, Known):
        if isinstance(value.value, dict):
            for v in value.value.values():
                walk(v, lines)
        elif isinstance(value.value, list):
            for v in value.value:
                walk(v, lines)
    elif isinstance(value, Conditional):
        walk(value.then, lines)
        walk(value.otherwise, lines)
    elif isinstance(value, Interpolated):
        for p in value.parts:
            if isinstance(p, Unknown):
                assert_loc(p.loc, lines)


def run(text: str, *, is_json: bool) -> Project | None:
    path = Path("/virtual/t.json" if is_json else "/virtual/t.yaml")
    opts = ParseOptions(display_names={path: path.name}, max_depth=40)
    failure: ParseFailure | None = None
    try:
        result = cloudformation.parse_template(path, text, opts, is_json=is_json)
    except ParseFailure as exc:
        failure, result = exc, None
    if failure is not None:
        assert failure.line >= 1 and failure.column >= 1
        return None
    check_project(result, text)
    return result


FUZZ = settings(
    max_examples=int(os.environ.get("KMSLINT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(templates)
def test_any_json_template_gives_a_project_or_none(template: dict[str, Any]) -> None:
    run(json.dumps(template, indent=1), is_json=True)


@FUZZ
@given(templates, st.data())
def test_any_yaml_template_gives_a_project_or_none(template: dict[str, Any], data: st.DataObject) -> None:
    class Draw:
        def __call__(self) -> bool:
            return data.draw(st.booleans())

        def tag(self) -> str:
            return data.draw(st.sampled_from(TAGS))

    text = yaml.dump(tagged(template, Draw()), Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    run(text, is_json=False)


@FUZZ
@given(
    templates,
    st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(list("{}[]:,-#&*!'\"\n \t|>%@`"))), max_size=4),
)
def test_mangled_yaml_never_raises_anything_but_parse_failure(
    template: dict[str, Any], edits: list[tuple[int, str]]
) -> None:
    text = yaml.dump(template, Dumper=_Dumper, sort_keys=False)
    for at, char in edits:
        i = at % (len(text) + 1)
        text = text[:i] + char + text[i:]
    run(text, is_json=False)
    run(text.replace("\n", "\r\n"), is_json=False)


@FUZZ
@given(st.lists(st.sampled_from([*"ab:-[]{},'\"!&*#|>\n ", "Resources", "Type", "AWS::KMS::Key", "  "]), max_size=40))
def test_arbitrary_text_never_raises_anything_but_parse_failure(pieces: list[str]) -> None:
    text = "".join(pieces)
    run(text, is_json=False)
    run(text, is_json=True)


# Fn::ForEach loops (AWS::LanguageExtensions) at any level, well formed or not.
LOOP_KEYS = ["Fn::ForEach::L", "Fn::ForEach::M", "Key${X}", "&{Y}", "${X}${Y}", "${Z}", "Type", "Properties"]
loop_scalars = st.one_of(st.sampled_from(["X", "Y", "a.b", "${X}", "&{X}", "", "AWS::KMS::Key", "kms:*"]), scalars)
loop_values = st.recursive(
    loop_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(LOOP_KEYS), inner, max_size=3),
        st.builds(lambda i, c, o: {"Fn::ForEach::L": [i, c, o]}, st.sampled_from(["X", "Y"]), inner, inner),
        st.builds(lambda k, v: {k: v}, st.sampled_from(["Ref", "Fn::Sub", "Fn::ToJsonString"]), inner),
    ),
    max_leaves=20,
)
loop_resources = st.builds(
    lambda ident, collection, props: [ident, collection, {"Key${X}": {"Type": "AWS::KMS::Key", "Properties": props}}],
    st.sampled_from(["X", "Y"]),
    st.one_of(st.lists(st.sampled_from(["a", "b.c", "${X}", ""]), max_size=3), loop_values),
    loop_values,
)
loop_templates = st.fixed_dictionaries(
    {
        "Resources": st.dictionaries(
            st.sampled_from(["Fn::ForEach::L", "K", "Fn::ForEach::M"]),
            st.one_of(loop_values, loop_resources),
            max_size=3,
        )
    },
    optional={"Transform": st.just("AWS::LanguageExtensions"), "Parameters": loop_values, "Mappings": loop_values},
)


@FUZZ
@given(loop_templates)
def test_any_template_with_loops_gives_a_project_or_none(template: dict[str, Any]) -> None:
    run(json.dumps(template, indent=1), is_json=True)
    run(yaml.dump(template, Dumper=_Dumper, sort_keys=False), is_json=False)
