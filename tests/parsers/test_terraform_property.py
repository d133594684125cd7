"""Property: any text the Terraform parsers are given yields a Project (or a ParseError), never an exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmslint.model import Project
from kmslint.parsers.common import ParseFailure, ParseOptions
from kmslint.parsers.terraform import parse_directory
from kmslint.parsers.terraform_plan import parse_plan
from kmslint.policy.document import read_policy

# Generated inputs: the default local run leaves them to .ci/run.
pytestmark = pytest.mark.slow

DIRECTORY = Path("/nonexistent-kmslint-property-dir")

# Fragments that combine into plausible (and implausible) Terraform.
FRAGMENTS = [
    'resource "aws_kms_key" "k" {',
    'resource "aws_kms_key_policy" "p" {',
    'resource "aws_kms_alias" "a" {',
    'resource "aws_iam_role" "r" {',
    'resource "aws_dynamodb_table" "t" {',
    'data "aws_iam_policy_document" "d" {',
    'variable "v" {',
    "locals {",
    "statement {",
    'dynamic "statement" {',
    "content {",
    "principals {",
    "condition {",
    "replica {",
    "inline_policy {",
    "}",
    "\n",
    " ",
    "policy = ",
    "key_id = aws_kms_key.k.id",
    "target_key_id = aws_kms_key.k.arn",
    "kms_key_arn = aws_kms_key.k.arn",
    "enable_key_rotation = true",
    "multi_region = var.v",
    "tags = { a = local.x }",
    "for_each = [1, 2]",
    "for_each = local.m",
    "iterator = s",
    'type = "AWS"',
    'identifiers = ["*", statement.value]',
    'actions = ["kms:*"]',
    "default = ",
    "x = ",
    "= ",
    "<<EOT\n",
    "<<-EOT\n",
    "EOT\n",
    "EOT   \n",
    "jsonencode(",
    "file(",
    "templatefile(",
    "format(",
    "join(",
    "merge(",
    "concat(",
    ")",
    "(",
    "{",
    "[",
    "]",
    ",",
    ":",
    "?",
    "...",
    '"',
    '"x"',
    '"${',
    "${",
    "$${",
    "%{ if true }",
    "%{ endif }",
    '{"Version": "2012-10-17", "Statement": [',
    '{"Effect": "Allow", "Principal": "*"}',
    "data.aws_iam_policy_document.d.json",
    "data.aws_caller_identity.c.account_id",
    "local.x",
    "local.m",
    "var.v",
    "each.value",
    "count.index",
    "aws_iam_role.r.arn",
    "[for s in local.m : s]",
    "1",
    "-1.5e3",
    "true",
    "null",
    "# kmslint:ignore KMS004 -- reason\n",
    "// comment\n",
    "/* c */",
]


@st.composite
def hcl_text(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(FRAGMENTS), max_size=60))
    return "".join(parts)


def _lint(text: str, name: str = "main.tf") -> Project:
    path = DIRECTORY / name
    opts = ParseOptions(scan_root=DIRECTORY, sources={path: text}, display_names={path: name})
    project = parse_directory(DIRECTORY, [path], opts)
    for policy in project.key_policies():
        read_policy(policy.document, policy.loc)
    for ip in project.identity_policies:
        read_policy(ip.document, ip.loc)
    return project


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hcl_text())
def test_any_hcl_fragment_soup_yields_a_project(text: str) -> None:
    project = _lint(text)
    assert isinstance(project, Project)
    for err in project.errors:
        assert err.line >= 1 and err.column >= 1


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_yields_a_project(text: str) -> None:
    assert isinstance(_lint(text), Project)


_json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.sampled_from(["${var.x}", "${", "%{if}"])
)
_json_keys = st.sampled_from(
    [
        "resource",
        "data",
        "variable",
        "locals",
        "aws_kms_key",
        "aws_iam_policy_document",
        "k",
        "policy",
        "statement",
        "principals",
        "dynamic",
        "content",
        "for_each",
        "default",
        "//",
        "key_id",
    ]
)
_json = st.recursive(
    _json_leaf,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_json_keys, children, max_size=4)),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(_json)
def test_any_tf_json_yields_a_project(data: object) -> None:
    assert isinstance(_lint(json.dumps(data), "main.tf.json"), Project)


_plan_keys = st.sampled_from(
    [
        "planned_values",
        "root_module",
        "child_modules",
        "resources",
        "address",
        "mode",
        "type",
        "name",
        "values",
        "configuration",
        "module_calls",
        "module",
        "expressions",
        "references",
        "resource_changes",
        "change",
        "after_unknown",
        "policy",
        "key_id",
        "aws_kms_key",
        "managed",
    ]
)
_plan_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(["aws_kms_key", "aws_kms_key_policy", "aws_kms_key.k", "managed", "k", "module.m", "{}"]),
)
_plan = st.recursive(
    _plan_leaf,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_plan_keys, children, max_size=5)),
    max_leaves=40,
)


@settings(max_examples=100, deadline=None)
@given(_plan, _plan, _plan)
def test_any_plan_shaped_json_yields_a_project(planned: object, configuration: object, changes: object) -> None:
    text = json.dumps(
        {
            "format_version": "1",
            "terraform_version": "1",
            "planned_values": {"root_module": planned},
            "configuration": {"root_module": configuration},
            "resource_changes": changes,
        }
    )
    path = DIRECTORY / "plan.json"
    try:
        project = parse_plan(path, text, ParseOptions(scan_root=DIRECTORY))
    except ParseFailure:
        return
    assert isinstance(project, Project)
