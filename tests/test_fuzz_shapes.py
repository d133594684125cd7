"""Generated Terraform of the shapes that once grew faster than their input (issue 11).

Four generators: templates calling templatefile() on each other (and on
themselves), nested ``for`` expressions of any depth and width, many keys
sharing one policy value, and Terraform type names and policy keys written
with escapes.  Every configuration also holds a key whose policy allows
``*`` (KMS003), so that for every input:

* no exception escapes ``api.lint`` and each input takes bounded time;
* the open key is reported (KMS003), or the unit says it was too costly to
  check (KMS000): running out of budget is never a silent pass;
* sharing a policy value changes nothing but where a finding points, and an
  escaped name or key means what it spells.

The unit budget is made small here (so that exhaustion is common and each
example fast) and the clock generous (so that a busy machine does not decide
the outcome): the whole module takes well under a minute.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmslint import api
from kmslint.parsers import common
from kmslint.settings import Settings

# Generated configurations by the hundred: the default local run leaves them to .ci/run.
pytestmark = pytest.mark.slow

STEPS = 20_000  # the unit budget while fuzzing: a seventy-fifth of the usual
PER_INPUT_SECONDS = 5.0
SHAPES = settings(
    max_examples=60,
    deadline=None,  # the per-input bound below is the one that matters
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
OPEN = '{ Sid = "Open", Effect = "Allow", Principal = "*", Action = "kms:*", Resource = "*" }'
OPEN_KEY = (
    'resource "aws_kms_key" "open" {\n  enable_key_rotation = true\n'
    f'  policy = jsonencode({{ Version = "2012-10-17", Statement = [{OPEN}] }})\n}}\n'
)


@contextmanager
def small_budget(steps: int = STEPS) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(common, "UNIT_STEPS", steps)
        patch.setattr(common, "UNIT_SECONDS", 60.0)
        yield


def lint(files: dict[str, str], steps: int = STEPS) -> tuple[api.Report, str]:
    """Lint ``files`` as one directory within a small budget; bounded time per input."""
    with tempfile.TemporaryDirectory() as tmp, small_budget(steps):
        for name, text in files.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        start = time.perf_counter()
        report = api.lint([tmp], Settings(), jobs=1)
        assert time.perf_counter() - start < PER_INPUT_SECONDS
        return report, tmp


def gate_holds(report: api.Report, resource: str = "aws_kms_key.open") -> bool:
    """The open key is reported, or the unit ran out of budget and says so."""
    rules = {(f.rule_id, f.resource) for f in report.findings}
    costly = any(f.rule_id == "KMS000" and "too costly" in f.message for f in report.findings)
    return ("KMS003", resource) in rules or costly


# --------------------------------------------------------------------------- templates


@st.composite
def template_graphs(draw: st.DrawFn) -> dict[str, str]:
    """One to four templates whose text calls templatefile() and file() on any of them."""
    count = draw(st.integers(1, 4))
    names = [f"t{i}.tpl" for i in range(count)]
    part = st.one_of(
        st.sampled_from(["kms", "text ", "${1 + 1}", "%{ if true }y%{ endif }", "$${x}", "\n"]),
        st.sampled_from(names).map(lambda n: '${templatefile("' + n + '", {})}'),
        st.sampled_from(names).map(lambda n: '${file("' + n + '")}'),
    )
    files = {name: "".join(draw(st.lists(part, max_size=12))) for name in names}
    calls = ", ".join(f'templatefile("{n}", {{}})' for n in draw(st.lists(st.sampled_from(names), max_size=6)))
    files["main.tf"] = (
        OPEN_KEY
        + f"locals {{\n  rendered = [{calls}]\n}}\n"
        + 'resource "aws_kms_key" "t" {\n  enable_key_rotation = true\n  tags = { n = length(local.rendered) }\n}\n'
    )
    return files


@SHAPES
@given(template_graphs())
def test_templates_calling_templates_end_and_never_pass_silently(files: dict[str, str]) -> None:
    """Any graph of templates calling templatefile() and file() on each other ends quickly, never in a silent pass."""
    report, _ = lint(files)
    assert gate_holds(report)


# --------------------------------------------------------------------------- nested for expressions


@st.composite
def nested_fors(draw: st.DrawFn) -> str:
    """``depth`` nested for expressions (lists, objects, groups, filters) over lists of ``width`` items."""
    depth = draw(st.integers(1, 5))
    width = draw(st.integers(1, 40))
    names = [f"v{i}" for i in range(depth)]
    sid = '"Deny${' + names[-1] + '}"'
    expr = "{ Sid = " + sid + ', Effect = "Deny", Principal = "*", Action = "kms:Decrypt", Resource = "*" }'
    for name in reversed(names):
        kind = draw(st.sampled_from(["list", "object", "group", "filter"]))
        if kind == "list":
            expr = f"[for {name} in local.items : {expr}]"
        elif kind == "filter":
            expr = f"[for {name} in local.items : {expr} if {name} >= 0]"
        elif kind == "object":
            expr = f"values({{ for i, {name} in local.items : i => {expr} }})"
        else:
            expr = f'flatten(values({{ for {name} in local.items : "k" => {expr}... }}))'
    items = ", ".join(str(i) for i in range(width))
    return (
        OPEN_KEY
        + f"locals {{\n  items = [{items}]\n  denies = flatten({expr})\n}}\n"
        + 'resource "aws_kms_key" "nested" {\n  enable_key_rotation = true\n'
        + f'  policy = jsonencode({{ Version = "2012-10-17", Statement = concat([{OPEN}], local.denies) }})\n}}\n'
    )


@SHAPES
@given(nested_fors())
def test_nested_for_expressions_end_and_never_pass_silently(text: str) -> None:
    """Nested for expressions of any depth and width end within the budget: findings, or a KMS000, never silence."""
    report, _ = lint({"main.tf": text})
    assert gate_holds(report) and gate_holds(report, "aws_kms_key.nested")


# --------------------------------------------------------------------------- shared policies


@st.composite
def shared_policies(draw: st.DrawFn) -> tuple[int, int, list[bool]]:
    statements = draw(st.integers(1, 60))
    keys = draw(st.integers(1, 40))
    shared = draw(st.lists(st.booleans(), min_size=keys, max_size=keys))
    return statements, keys, shared


def policy_text(statements: int) -> str:
    body = [OPEN] + [
        f'{{ Sid = "S{i}", Effect = "Allow", Principal = {{ AWS = "arn:aws:iam::111122223333:role/r{i}" }},'
        ' Action = ["kms:Decrypt", "kms:CreateKey", "kms:PutKeyPolicy"], Resource = "*" }'
        for i in range(statements)
    ]
    return 'jsonencode({ Version = "2012-10-17", Statement = [' + ", ".join(body) + "] })"


@SHAPES
@given(shared_policies())
def test_keys_sharing_a_policy_get_the_findings_of_their_own_copy(shape: tuple[int, int, list[bool]]) -> None:
    """A policy value shared by many keys gives each key the same findings as a copy of its own would."""
    statements, keys, shared = shape
    policy = policy_text(statements)
    text = OPEN_KEY + f"locals {{\n  policy = {policy}\n}}\n"
    for i, by_reference in enumerate(shared):
        value = "local.policy" if by_reference else policy
        text += f'resource "aws_kms_key" "k{i}" {{\n  enable_key_rotation = true\n  policy = {value}\n}}\n'
    report, _ = lint({"main.tf": text}, steps=20 * STEPS)  # copies of the policy cost a key each
    if any(f.rule_id == "KMS000" for f in report.findings):
        assert gate_holds(report)
        return
    per_key = {
        f"aws_kms_key.k{i}": Counter(f.rule_id for f in report.findings if f.resource == f"aws_kms_key.k{i}")
        for i in range(keys)
    }
    assert len({tuple(sorted(c.items())) for c in per_key.values()}) == 1, per_key
    assert per_key["aws_kms_key.k0"]["KMS003"] == 1


# --------------------------------------------------------------------------- escapes


def escaped(text: str, choices: list[int], json_syntax: bool = False) -> str:
    """``text`` with the characters ``choices`` picks written as escapes (``\\u``, ``\\U`` in HCL only)."""
    out = []
    for i, ch in enumerate(text):
        how = choices[i % len(choices)]
        if how == 1 or (how == 2 and json_syntax):
            out.append(f"\\u{ord(ch):04X}")
        elif how == 2:
            out.append(f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


STATEMENT = {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}


def hcl_config(rtype: str, choices: list[int]) -> dict[str, str]:
    def e(text: str) -> str:
        return '"' + escaped(text, choices) + '"'

    statement = ", ".join(f"{e(k)} = {e(v)}" for k, v in STATEMENT.items())
    return {
        "main.tf": f'# kms\nresource {e(rtype)} "k" {{\n  enable_key_rotation = true\n'
        f'  policy = jsonencode({{ Version = "2012-10-17", Statement = [{{ {statement} }}] }})\n}}\n'
    }


def json_config(rtype: str, choices: list[int]) -> dict[str, str]:
    def e(text: str) -> str:
        return '"' + escaped(text, choices, json_syntax=True) + '"'

    statement = ", ".join(f"{e(k)}: {e(v)}" for k, v in STATEMENT.items())
    policy = f'{{"Version": "2012-10-17", "Statement": [{{{statement}}}]}}'
    # "kms" written plainly somewhere: the raw-text prefilter is not what this tests.
    return {
        "main.tf.json": f'{{"//": "kms", "resource": {{{e(rtype)}: {{"k": {{"enable_key_rotation": true,'
        f' "policy": {json.dumps(policy)}}}}}}}}}'
    }


@SHAPES
@given(
    st.lists(st.integers(0, 2), min_size=1, max_size=8),
    st.sampled_from(["aws_kms_key", "aws_kms_external_key", "aws_kms_replica_key"]),
    st.booleans(),
)
def test_escaped_type_names_and_keys_mean_what_they_spell(choices: list[int], rtype: str, as_json: bool) -> None:
    """A type name or policy key written with escapes (HCL or JSON syntax) is read as the text it spells."""
    files = json_config(rtype, choices) if as_json else hcl_config(rtype, choices)
    report, _ = lint(files)
    assert ("KMS003", f"{rtype}.k") in {(f.rule_id, f.resource) for f in report.findings}, files
