"""Terraform ``a ? b : c`` as a Conditional value: lifted through the evaluator, every branch
checked, messages naming the condition as written (RULES.md, "Conditional value")."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kmslint import api
from kmslint.model import Conditional, Expression, Known, Unknown, Value, branches, describe_branch, to_plain
from kmslint.settings import Settings
from tests.parsers.tf_helpers import d, key, parse, write

VARS = 'variable "x" {}\nvariable "y" {}\nvariable "env" {}\nvariable "list" {}\n'


def tags_of(tmp_path: Path, body: str) -> dict[str, Value]:
    files = {"main.tf": 'resource "aws_kms_key" "k" {\n  tags = {\n' + body + "\n  }\n}\n", "vars.tf": VARS}
    p = parse(tmp_path, files)
    assert p.errors == [], p.errors
    return d(key(p, "aws_kms_key.k").tags)


def readings(v: Value | None) -> list[tuple[str, object]]:
    """Each resolution as (its description, its plain value)."""
    return [(describe_branch(b), to_plain(plain)) for b, plain in branches(v)]


def lint(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, int, int, str]]:
    write(tmp_path, files)
    report = api.lint([str(tmp_path)], Settings(select=frozenset({"ALL"})))
    return sorted((f.rule_id, f.line, f.column, f.message) for f in report.findings)


def test_undecided_ternary_is_a_conditional_on_its_text(tmp_path: Path) -> None:
    t = tags_of(
        tmp_path,
        """
    plain    = var.x ? "a" : "b"
    spaced   = var.env   ==
                 "dev" ? "a" : "b"
    same     = var.x ? "a" : "a"
    unknowns = var.x ? var.y : var.env
    decided  = true ? "a" : var.y
    """,
    )
    plain = t["plain"]
    assert isinstance(plain, Conditional) and isinstance(plain.condition, Expression)
    assert plain.condition == "var.x"
    assert readings(plain) == [("when `var.x`", "a"), ("when `var.x` is false", "b")]
    spaced = t["spaced"]
    assert isinstance(spaced, Conditional) and spaced.condition == 'var.env == "dev"'  # whitespace normalised
    assert t["same"] == Known("a")  # equal sides need no Conditional
    assert isinstance(t["unknowns"], Unknown)  # two unknown sides are one unknown
    assert t["decided"] == Known("a")


def test_conditionals_lift_through_operators_calls_templates_and_steps(tmp_path: Path) -> None:
    t = tags_of(
        tmp_path,
        """
    text    = "${var.x ? "a" : "b"}-key"
    upper   = upper(var.x ? "a" : "b")
    concat  = concat(["k"], var.x ? ["a"] : [])
    eq      = (var.x ? "a" : "b") == "a" ? "yes" : "no"
    neg     = !(var.x ? true : false)
    sum     = (var.x ? 1 : 2) + 10
    attr    = (var.x ? { p = "a" } : { p = "b" }).p
    index   = (var.x ? ["a"] : ["b"])[0]
    for     = [for s in (var.x ? ["a"] : ["b", "c"]) : upper(s)]
    twice   = "${var.x ? "a" : "b"}${var.x ? "c" : "d"}"
    two     = "${var.x ? "a" : "b"}${var.y ? "c" : "d"}"
    """,
    )
    assert readings(t["text"]) == [("when `var.x`", "a-key"), ("when `var.x` is false", "b-key")]
    assert readings(t["upper"]) == [("when `var.x`", "A"), ("when `var.x` is false", "B")]
    assert readings(t["concat"]) == [("when `var.x`", ["k", "a"]), ("when `var.x` is false", ["k"])]
    assert readings(t["eq"]) == [("when `var.x`", "yes"), ("when `var.x` is false", "no")]
    assert readings(t["neg"]) == [("when `var.x`", False), ("when `var.x` is false", True)]
    assert readings(t["sum"]) == [("when `var.x`", 11), ("when `var.x` is false", 12)]
    assert readings(t["attr"]) == [("when `var.x`", "a"), ("when `var.x` is false", "b")]
    assert readings(t["index"]) == [("when `var.x`", "a"), ("when `var.x` is false", "b")]
    assert readings(t["for"]) == [("when `var.x`", ["A"]), ("when `var.x` is false", ["B", "C"])]
    # One condition takes one side throughout: two readings, not four.
    assert readings(t["twice"]) == [("when `var.x`", "ac"), ("when `var.x` is false", "bd")]
    assert [r[1] for r in readings(t["two"])] == ["ac", "ad", "bc", "bd"]


def test_chained_ternaries_read_right_to_left(tmp_path: Path) -> None:
    t = tags_of(tmp_path, '    tier = var.x == "a" ? "gold" : var.x == "b" ? "silver" : "bronze"\n')
    assert readings(t["tier"]) == [
        ('when `var.x == "a"`', "gold"),
        ('when `var.x == "a"` is false and `var.x == "b"`', "silver"),
        ('when `var.x == "a"` is false and `var.x == "b"` is false', "bronze"),
    ]


def test_cloudformation_branch_wording_is_unchanged() -> None:
    assert describe_branch((("IsProd", True), ("HasKey", False))) == (
        "when condition IsProd is true and condition HasKey is false"
    )
    assert describe_branch(((Expression('var.env == "dev"'), False),)) == 'when `var.env == "dev"` is false'


def test_messages_name_the_condition(tmp_path: Path) -> None:
    found = lint(
        tmp_path,
        {
            "vars.tf": VARS,
            "main.tf": """
            resource "aws_kms_key" "k" {
              enable_key_rotation     = var.env == "dev" ? false : true
              deletion_window_in_days = var.x ? 7 : 30
              policy = jsonencode({
                Version = "2012-10-17"
                Statement = concat([{
                  Sid = "Root", Effect = "Allow", Action = "kms:*", Resource = "*"
                  Principal = { AWS = "arn:aws:iam::111122223333:root" }
                }, {
                  Sid = "Admin", Effect = "Allow", Action = "kms:PutKeyPolicy", Resource = "*"
                  Principal = { AWS = "arn:aws:iam::111122223333:role/admin" }
                }], var.y ? [{
                  Sid = "Open", Effect = "Allow", Action = "kms:Decrypt", Resource = "*", Principal = "*"
                }] : [])
              })
            }
            """,
        },
    )
    by_rule = {rule: (line, col, message) for rule, line, col, message in found}
    assert {"KMS002", "KMS003", "KMS008"} <= set(by_rule), found
    assert by_rule["KMS002"][:2] == (2, 3)
    assert by_rule["KMS002"][2].endswith('(when `var.env == "dev"`)')
    assert by_rule["KMS008"][:2] == (3, 3)
    assert by_rule["KMS008"][2].endswith("(when `var.x`)")
    assert by_rule["KMS003"][:2] == (12, 18)
    assert "statement `Open`" in by_rule["KMS003"][2] and by_rule["KMS003"][2].endswith("(when `var.y`)")


def test_a_finding_on_every_branch_names_no_condition(tmp_path: Path) -> None:
    found = lint(
        tmp_path,
        {
            "vars.tf": VARS,
            "main.tf": """
            resource "aws_kms_key" "k" {
              enable_key_rotation = true
              policy = jsonencode({
                Version = "2012-10-17"
                Statement = concat([{
                  Sid = "Open", Effect = "Allow", Action = "kms:Decrypt", Resource = "*", Principal = "*"
                }, {
                  Sid = "Root", Effect = "Allow", Action = "kms:*", Resource = "*"
                  Principal = { AWS = "arn:aws:iam::111122223333:root" }
                }], var.y ? [{
                  Sid = "Admin", Effect = "Allow", Action = "kms:PutKeyPolicy", Resource = "*"
                  Principal = { AWS = "arn:aws:iam::111122223333:role/admin" }
                }] : [])
              })
            }
            """,
        },
    )
    kms003 = [f for f in found if f[0] == "KMS003"]
    assert [(line, col) for _, line, col, _ in kms003] == [(5, 25)]
    assert "when" not in kms003[0][3]


def test_unknown_elements_keep_the_known_statements(tmp_path: Path) -> None:
    """A dynamic statement over an unknown collection is unknown; the literal statement is checked,
    and "no statement allows X" (KMS019) is not said while an unknown one could."""
    found = lint(
        tmp_path,
        {
            "vars.tf": VARS,
            "main.tf": """
            data "aws_iam_policy_document" "p" {
              statement {
                sid = "Open"
                principals {
                  type        = "AWS"
                  identifiers = var.x ? ["*"] : ["arn:aws:iam::111122223333:role/app"]
                }
                actions   = ["kms:Decrypt"]
                resources = ["*"]
              }
              dynamic "statement" {
                for_each = var.list
                content {
                  principals {
                    type        = "AWS"
                    identifiers = [statement.value]
                  }
                  actions   = ["kms:PutKeyPolicy"]
                  resources = ["*"]
                }
              }
            }
            resource "aws_kms_key" "k" {
              enable_key_rotation = true
              policy              = data.aws_iam_policy_document.p.json
            }
            """,
        },
    )
    assert [(r, line, col) for r, line, col, _ in found] == [("KMS003", 2, 3)], found
    assert found[0][3].endswith("(when `var.x`)")


def _policy(statements: str) -> str:
    return f'jsonencode({{ Version = "2012-10-17", Statement = {statements} }})'


def test_a_chain_of_200_ternaries_stays_bounded(tmp_path: Path) -> None:
    """200 chained ternaries on distinct unknown conditions: read without recursion (no KMS000),
    their first MAX_BRANCHES paths checked."""
    chained = " : ".join(f'var.c{i} ? "arn:aws:iam::111122223333:role/r{i}"' for i in range(200)) + ' : "*"'
    early = '"*" : ' + " : ".join(f'var.c{i} ? "arn:aws:iam::111122223333:role/r{i}"' for i in range(1, 200))
    stmt = '[{{ Sid = "A", Effect = "Allow", Action = "kms:Decrypt", Resource = "*", Principal = {{ AWS = {} }} }}]'
    files = {
        "vars.tf": "\n".join(f'variable "c{i}" {{}}' for i in range(200)) + "\n",
        "main.tf": f"""
resource "aws_kms_key" "late" {{
  policy = {_policy(stmt.format(chained))}
}}

resource "aws_kms_key" "early" {{
  policy = {_policy(stmt.format("var.c0 ? " + early + ' : "arn:aws:iam::111122223333:role/last"'))}
}}
""",
    }
    start = time.monotonic()
    found = lint(tmp_path, files)
    assert time.monotonic() - start < 10
    assert not [f for f in found if f[0] == "KMS000"], found
    # The `*` on the first branch is found and named; the one after 200 links is past the bound.
    kms003 = [(line, message) for rule, line, _col, message in found if rule == "KMS003"]
    assert len(kms003) == 1 and kms003[0][0] == 6 and kms003[0][1].endswith("(when `var.c0`)"), kms003


@pytest.mark.slow
def test_conditional_statements_added_60_times_stay_bounded(tmp_path: Path) -> None:
    """Each concat() adds a statement under its own condition: past MAX_LIFT_LEAVES combinations
    the conditional parts count as unknown, fast, with no finding made up and no traceback."""
    concats = "\n".join(
        f'  s{i} = concat(local.s{i - 1}, var.c{i} ? [{{ Sid = "S{i}", Effect = "Allow", '
        f'Action = "kms:Decrypt", Resource = "*", '
        f'Principal = {{ AWS = "arn:aws:iam::111122223333:role/r{i}" }} }}] : [])'
        for i in range(1, 60)
    )
    files = {
        "vars.tf": "\n".join(f'variable "c{i}" {{}}' for i in range(200)) + "\n",
        "main.tf": f"""
locals {{
  s0 = [{{ Sid = "Open", Effect = "Allow", Action = "kms:Decrypt", Resource = "*", Principal = "*" }}]
{concats}
}}

resource "aws_kms_key" "k" {{
  enable_key_rotation = true
  policy = {_policy("local.s5")}
}}

resource "aws_kms_key" "many" {{
  enable_key_rotation = true
  policy = {_policy("local.s59")}
}}
""",
    }
    start = time.monotonic()
    found = lint(tmp_path, files)
    assert time.monotonic() - start < 10
    assert not [f for f in found if f[0] == "KMS000"], found
    # Five conditions: every combination is read, and the open statement is on each.
    assert [(rule, line) for rule, line, _c, message in found if rule == "KMS003"][:1] == [("KMS003", 2)]
    assert all("r59" not in message for *_rest, message in found)


def test_a_heredoc_policy_with_a_conditional_is_read_per_branch(tmp_path: Path) -> None:
    """A ternary inside a JSON string of a heredoc: each branch's text, the finding at the statement
    inside the heredoc, naming the condition."""
    found = lint(
        tmp_path,
        {
            "vars.tf": VARS,
            "main.tf": """
            resource "aws_kms_key" "k" {
              enable_key_rotation = true
              policy = <<EOT
            {
              "Version": "2012-10-17",
              "Statement": [
                {"Sid": "Root", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
                 "Principal": {"AWS": "arn:aws:iam::111122223333:root"}},
                {"Sid": "App", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                 "Principal": {"AWS": "${var.x ? "*" : "arn:aws:iam::111122223333:role/app"}"}}
              ]
            }
            EOT
            }
            """,
        },
    )
    kms003 = [(line, col, message) for rule, line, col, message in found if rule == "KMS003"]
    assert [(line, col) for line, col, _ in kms003] == [(9, 5)], found
    assert "statement `App`" in kms003[0][2] and kms003[0][2].endswith("(when `var.x`)")
