"""Terraform functions on hostile input: bounded, paid for from the budget, never a hang or
a traceback (kmslint.parsers.tf_functions).

A regular expression from the input runs on Python's backtracking ``re`` only when its
worst case is bounded; functions that grow a value pay for it and stop at the
evaluator's size limits with a KMS000 (BudgetExceeded), never an Unknown that passes.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kmslint.model import Known, Unknown, Value
from kmslint.parsers import common
from kmslint.parsers.common import Budget, ParseOptions
from kmslint.parsers.hcl_syntax import Src, parse_hcl
from kmslint.parsers.tf_functions import is_error


def value_of(source: str, budget: Budget | None = None) -> Value | None:
    """The value of ``x`` in HCL ``source`` (its ``locals`` block available)."""
    from kmslint.parsers.hcl_eval import Config, Evaluator

    parsed = parse_hcl(Src("t.tf", source.encode()), 200)
    local_attrs = dict(parsed.blocks[0].attrs) if parsed.blocks else {}
    opts = ParseOptions(scan_root=Path("."), budget=budget)
    return Evaluator(Config(Path("."), locals=local_attrs), opts).eval(parsed.attrs["x"].expr)


LONG = (
    "locals {\n"
    '  a = "${join("", [for i in range(1000) : "aaaaaaaaaaaaaaaaaaaa"])}b"\n'
    '  short = "${join("", [for i in range(100) : "aaaaaaaaaaaaaaaaaaaa"])}b"\n'
    '  huge = "${join("", [for i in range(20) : "${local.a}"])}"\n'
    "}\n"
)


@pytest.mark.parametrize(
    "pattern",
    [
        "(a+)+$",  # nested repetition: exponential
        "(a|aa)*$",  # an alternative under a repetition: exponential
        "(?:a?){30}a{30}",  # the classic: exponential
        ".*.*.*.*x",  # polynomial, degree 5, on a 20,000-character text
        "a*a*a*a*a*a*a*a*a*c",
    ],
)
@pytest.mark.parametrize("function", ["regex", "regexall", "replace"])
def test_a_backtracking_pattern_is_unknown_at_once(pattern: str, function: str) -> None:
    call = f'replace(local.a, "/{pattern}/", "")' if function == "replace" else f'{function}("{pattern}", local.a)'
    start = time.perf_counter()
    got = value_of(LONG + f"x = {call}\n")
    assert time.perf_counter() - start < 2
    assert isinstance(got, Unknown) and not is_error(got), got


def test_a_linear_pattern_runs_on_a_long_text() -> None:
    got = value_of(LONG + 'x = replace(local.short, "/a+b$/", "X")\n')
    assert got == Known("X")


@pytest.mark.parametrize(
    ("call", "what"),
    [
        ('regexall("a", local.huge)', "a list of over 200,000 elements"),
        ("setproduct(range(1000), range(1000))", "a value of over 200,000 nodes"),
        ('indent(100000000, "a\\nb")', "a string of over 8,388,608 characters"),
    ],
)
def test_functions_that_grow_a_value_stop_at_the_size_limits(call: str, what: str) -> None:
    with pytest.raises(common.BudgetExceeded, match=f"^it (built {what}|took over .*)$"):
        value_of(LONG + f"x = {call}\n")


@pytest.mark.parametrize(
    "call",
    [
        'formatlist("%s", split("", local.a))',
        'chunklist(split("", local.a), 1)',
        'csvdecode(replace(local.a, "a", "a\\n"))',
        "base64decode(base64encode(local.a))",
        'cidrsubnets("10.0.0.0/8", [for i in range(1000) : 20]...)',
        'regexall("a", local.a)',
        "flatten([for i in range(100) : [range(100), range(100)]])",
    ],
)
def test_functions_pay_for_what_they_build(call: str) -> None:
    """With a small budget, large results run out of it (a KMS000), whatever the function."""
    with pytest.raises(common.BudgetExceeded):
        value_of(LONG + f"x = {call}\n", Budget(steps=5_000))


@pytest.mark.parametrize(
    "call",
    [
        "range(1000000000)",
        "pow(10, 100000)",
        "log(0, 2)",
        "log(8, 1)",
        'parseint("zzzzzzzz", 10)',
        'cidrhost("10.0.0.0/8", 100000000000)',
        'cidrsubnet("::/0", 200, 1)',
        'regex("a{99999999999}", "a")',
        'regex("(a)\\\\1", "aa")',
        'textdecodebase64("aGk=", "EBCDIC-nope")',
        "element([], 0)",
        "sum([])",
        'substr("abc", 10, 1)',
    ],
)
def test_impossible_calls_are_values_not_tracebacks(call: str) -> None:
    got = value_of(f"x = {call}\n")
    assert isinstance(got, Unknown), got
