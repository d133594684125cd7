"""Terraform's built-in functions: each one's result, exactly, and how unknown arguments
travel through it (kmslint.parsers.tf_functions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmslint.model import Interpolated, Known, Unknown, Value, to_plain
from kmslint.parsers.tf_functions import is_error, is_spread
from tests.parsers.tf_helpers import d, key, lst, parse

UNKNOWN = object()  # an unknown value, not an error
ERROR = object()  # what Terraform reports as an error (try() passes over it)
SPREAD = object()  # marks the place of a spread element in an expected list


def evaluate(tmp_path: Path, exprs: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, Value]:
    """Each expression as the value of one tag of a key."""
    body = "\n".join(f"    {name} = {expr}" for name, expr in exprs.items())
    files = {
        "main.tf": 'resource "aws_kms_key" "k" {\n  tags = {\n' + body + "\n  }\n}\n",
        "vars.tf": 'variable "u" {}\nvariable "ul" {}\nvariable "um" {}\n',
    }
    files.update(extra or {})
    p = parse(tmp_path, files)
    assert p.errors == [], p.errors
    return d(key(p, "aws_kms_key.k").tags)


def shape(v: Value) -> object:
    """``v`` as plain data, with UNKNOWN / ERROR / SPREAD where it is not known."""
    if is_spread(v):
        return SPREAD
    if isinstance(v, Unknown):
        return ERROR if is_error(v) else UNKNOWN
    if isinstance(v, Known) and isinstance(v.value, list):
        return [shape(i) for i in v.value]
    if isinstance(v, Known) and isinstance(v.value, dict):
        return {k: shape(i) for k, i in v.value.items()}
    return to_plain(v)


CASES: dict[str, tuple[str, object]] = {
    # strings
    "chomp": ('chomp("a\\n\\n")', "a"),
    "chomp_crlf": ('chomp("a\\r\\n")', "a"),
    "endswith": ('endswith("hello", "lo")', True),
    "startswith": ('startswith("hello", "x")', False),
    "strcontains": ('strcontains("hello", "ell")', True),
    "format_one_arg": ('format("text")', "text"),
    "format_s": ('format("%s-%d", "a", 7)', "a-7"),
    "format_q": ('format("%q", "x")', '"x"'),
    "format_unknown": ('format("%s", var.u)', UNKNOWN),
    "formatlist": ('formatlist("%s=%s", ["a", "b"], "x")', ["a=x", "b=x"]),
    "formatlist_lengths": ('formatlist("%s%s", ["a"], ["b", "c"])', ERROR),
    "indent": ('indent(2, "a\\nb")', "a\n  b"),
    "join": ('join("-", ["a", "b"], ["c"])', "a-b-c"),
    "lower": ('lower("AbC")', "abc"),
    "upper_number": ("upper(5)", "5"),
    "regex_plain": ('regex("[a-z]+", "123abc456")', "abc"),
    "regex_groups": ('regex("(\\\\d+)-(\\\\d+)", "x 12-34")', ["12", "34"]),
    "regex_named": ('regex("(?P<acct>\\\\d{12})", "arn:aws:iam::111122223333:root")', {"acct": "111122223333"}),
    "regex_no_match": ('regex("z", "abc")', ERROR),
    "regex_posix": ('regex("[[:digit:]]+", "ab12")', "12"),
    "regex_backref": ('regex("(a)\\\\1", "aa")', ERROR),
    "regexall": ('regexall("[0-9]", "a1b2")', ["1", "2"]),
    "regexall_none": ('regexall("z", "abc")', []),
    "regex_nested_quantifier": ('regex("(a+)+$", "aaaa")', UNKNOWN),
    "replace": ('replace("a.b.c", ".", "-")', "a-b-c"),
    "replace_regex": ('replace("hello world", "/o(.)/", "0$1")', "hell0 w0rld"),
    "replace_regex_named": ('replace("ab", "/(?P<x>a)/", "$${x}$x")', "aab"),
    "replace_regex_long_name": ('replace("ab", "/(a)/", "$1x")', "b"),
    "split": ('split(",", "a,b")', ["a", "b"]),
    "strrev": ('strrev("abc")', "cba"),
    "substr": ('substr("hello world", 1, 4)', "ello"),
    "substr_negative": ('substr("hello world", -5, -1)', "world"),
    "title": ('title("hello wORLD-x_y")', "Hello WORLD-X_y"),
    "trim": ('trim("?!hello?!", "!?")', "hello"),
    "trimprefix": ('trimprefix("helloworld", "hello")', "world"),
    "trimsuffix": ('trimsuffix("helloworld", "world")', "hello"),
    "trimspace": ('trimspace("  x \\n")', "x"),
    # collections
    "alltrue": ('alltrue([true, "true"])', True),
    "alltrue_empty": ("alltrue([])", True),
    "alltrue_unknown": ("alltrue([true, var.u])", UNKNOWN),
    "alltrue_decided": ("alltrue([false, var.u])", False),
    "anytrue": ("anytrue([false, true])", True),
    "anytrue_decided": ("anytrue([var.u, true])", True),
    "chunklist": ('chunklist(["a", "b", "c"], 2)', [["a", "b"], ["c"]]),
    "chunklist_zero": ('chunklist(["a"], 0)', [["a"]]),
    "coalesce": ('coalesce(null, "", "x")', "x"),
    "coalesce_unknown_first": ('coalesce(var.u, "x")', UNKNOWN),
    "coalesce_none": ('coalesce("", null)', ERROR),
    "coalescelist": ('coalescelist([], ["a"])', ["a"]),
    "compact": ('compact(["a", "", null, "b"])', ["a", "b"]),
    "compact_unknown": ('compact(["a", var.u])', ["a", SPREAD]),
    "concat": ('concat(["a"], ["b"])', ["a", "b"]),
    "concat_unknown": ('concat(["a"], var.ul, ["b"])', ["a", SPREAD, "b"]),
    "concat_all_unknown": ("concat(var.ul)", UNKNOWN),
    "contains": ('contains(["a", "b"], "b")', True),
    "contains_no": ('contains(["a"], "b")', False),
    "contains_unknown": ('contains(["a", var.u], "b")', UNKNOWN),
    "contains_found_despite_unknown": ('contains(["a", var.u], "a")', True),
    "distinct": ('distinct(["b", "a", "b"])', ["b", "a"]),
    "element": ('element(["a", "b"], 3)', "b"),
    "element_spread": ('element(concat(["a"], var.ul), 0)', UNKNOWN),
    "flatten": ('flatten([["a"], [], [["b"]]])', ["a", "b"]),
    "flatten_unknown": ('flatten([["a"], var.ul])', ["a", SPREAD]),
    "index": ('index(["a", "b"], "b")', 1),
    "index_missing": ('index(["a"], "b")', ERROR),
    "keys": ("keys({ b = 1, a = 2 })", ["a", "b"]),
    "length": ("length({ a = 1 })", 1),
    "length_spread": ('length(concat(["a"], var.ul))', UNKNOWN),
    "length_unknown_elements": ('length(["a", var.u])', 2),
    "lookup": ('lookup({ a = "x" }, "a", "d")', "x"),
    "lookup_default": ('lookup({ a = "x" }, "b", false)', False),
    "lookup_unknown_map": ('lookup(var.um, "a", "d")', UNKNOWN),
    "matchkeys": ('matchkeys(["i1", "i2", "i3"], ["a", "b", "a"], ["a"])', ["i1", "i3"]),
    "merge": ("merge({ a = 1, b = 1 }, null, { b = 2 })", {"a": 1, "b": 2}),
    "merge_unknown": ("merge({ a = 1 }, var.um)", UNKNOWN),
    "merge_unknown_first": ("merge(var.um, { a = 1 })", UNKNOWN),
    "one": ('one(["a"])', "a"),
    "one_empty": ("one([])", None),
    "one_many": ('one(["a", "b"])', ERROR),
    "range": ("range(3)", [0, 1, 2]),
    "range_step": ("range(1, 8, 3)", [1, 4, 7]),
    "range_down": ("range(3, 0)", [3, 2, 1]),
    "range_too_many": ("range(5000)", ERROR),
    "reverse": ('reverse(["a", "b"])', ["b", "a"]),
    "setintersection": ('setintersection(["a", "b"], ["b", "c"])', ["b"]),
    "setproduct": ('setproduct(["a", "b"], [1])', [["a", 1], ["b", 1]]),
    "setsubtract": ('setsubtract(["a", "b"], ["a"])', ["b"]),
    "setunion": ('setunion(["b"], ["a", "b"])', ["a", "b"]),
    "setunion_unknown": ('setunion(["b"], var.ul)', ["b", SPREAD]),
    "slice": ('slice(["a", "b", "c"], 1, 3)', ["b", "c"]),
    "sort": ('sort(["b", "a", "10", "9"])', ["10", "9", "a", "b"]),
    "sum": ("sum([1, 2.5])", 3.5),
    "transpose": ('transpose({ a = ["1", "2"], b = ["2"] })', {"1": ["a"], "2": ["a", "b"]}),
    "values": ("values({ b = 1, a = 2 })", [2, 1]),
    "zipmap": ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}),
    # encoding
    "base64encode": ('base64encode("hi")', "aGk="),
    "base64decode": ('base64decode("aGk=")', "hi"),
    "base64decode_bad": ('base64decode("%%")', ERROR),
    "csvdecode": ('csvdecode("a,b\\n1,2\\n")', [{"a": "1", "b": "2"}]),
    "jsonencode": ('jsonencode("x")', '"x"'),
    "jsondecode": ('jsondecode("{\\"a\\": [1]}")', {"a": [1]}),
    "jsondecode_bad": ('jsondecode("{")', ERROR),
    "textencodebase64": ('textencodebase64("hi", "UTF-16LE")', "aABpAA=="),
    "textdecodebase64": ('textdecodebase64("aABpAA==", "UTF-16LE")', "hi"),
    "urlencode": ('urlencode("a b/c~")', "a+b%2Fc~"),
    # numbers
    "abs": ("abs(-2)", 2),
    "ceil": ("ceil(1.2)", 2),
    "floor": ("floor(-1.2)", -2),
    "log": ("log(8, 2)", 3),
    "max": ("max(1, 5, 3)", 5),
    "max_expanded": ("max([1, 5]...)", 5),
    "min": ("min(4, 2)", 2),
    "parseint": ('parseint("ff", 16)', 255),
    "parseint_bad": ('parseint("fz", 16)', ERROR),
    "pow": ("pow(2, 10)", 1024),
    "signum": ("signum(-7)", -1),
    # type conversion
    "can_ok": ('can(regex("a", "a"))', True),
    "can_error": ('can(regex("z", "a"))', False),
    "can_unknown": ("can(var.u)", UNKNOWN),
    "tobool": ('tobool("true")', True),
    "tobool_bad": ('tobool("yes")', ERROR),
    "tonumber": ('tonumber("5")', 5),
    "tostring": ("tostring(true)", "true"),
    "tolist": ('tolist(["a"])', ["a"]),
    "toset": ('toset(["b", "a", "b"])', ["a", "b"]),
    "toset_unknown": ('toset(["b", var.u, "a"])', ["a", "b", SPREAD]),
    "tomap": ("tomap({ a = 1 })", {"a": 1}),
    "sensitive": ('nonsensitive(sensitive("x"))', "x"),
    "try_first": ('try({ a = 1 }.b, "d")', "d"),
    "try_unknown_first": ('try(var.u, "d")', UNKNOWN),
    "try_none": ("try({ a = 1 }.b)", ERROR),
    # hashes
    "md5": ('md5("hello world")', "5eb63bbbe01eeed093cb22bb8f5acdc3"),
    "sha1": ('sha1("hello world")', "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"),
    "sha256": ('sha256("hello world")', "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"),
    "base64sha256": ('base64sha256("hello world")', "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="),
    "uuidv5": ('uuidv5("dns", "www.terraform.io")', "a5008fae-b28c-5ba5-96cd-82b4c53552d6"),
    # IP networks
    "cidrhost": ('cidrhost("10.12.112.0/20", 16)', "10.12.112.16"),
    "cidrhost_negative": ('cidrhost("10.12.112.0/20", -2)', "10.12.127.254"),
    "cidrnetmask": ('cidrnetmask("172.16.0.0/12")', "255.240.0.0"),
    "cidrsubnet": ('cidrsubnet("172.16.0.0/12", 4, 2)', "172.18.0.0/16"),
    "cidrsubnet_v6": ('cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)', "fd00:fd12:3456:7800:a200::/72"),
    "cidrsubnets": (
        'cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)',
        ["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"],
    ),
    # files and paths
    "basename": ('basename("foo/bar/baz.txt")', "baz.txt"),
    "dirname": ('dirname("foo/bar/baz.txt")', "foo/bar"),
    "dirname_bare": ('dirname("baz.txt")', "."),
    "fileexists": ('fileexists("main.tf")', True),
    "fileexists_not": ('fileexists("nope.txt")', False),
    "templatestring": ('templatestring(local.tpl, { name = "x" })', "hi x"),
    # not evaluated
    "timestamp": ("timestamp()", UNKNOWN),
    "uuid": ("uuid()", UNKNOWN),
    "provider_function": ('provider::aws::arn_parse("arn:aws:iam::111122223333:root")', UNKNOWN),
    "core_namespace": ('core::upper("a")', "A"),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Value]:
    tmp = tmp_path_factory.mktemp("functions")
    exprs = {name: expr for name, (expr, _) in CASES.items()}
    return evaluate(tmp, exprs, {"locals.tf": 'locals {\n  tpl = "hi $${name}"\n}\n'})


@pytest.mark.parametrize("name", sorted(CASES))
def test_function_result(results: dict[str, Value], name: str) -> None:
    assert shape(results[name]) == CASES[name][1], (CASES[name][0], results[name])


# --------------------------------------------------------------------------- end to end

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def lint_all(case: str) -> list[tuple[str, str, int, str]]:
    from kmslint import api
    from kmslint.settings import Settings

    report = api.lint([str(FIXTURES / case)], Settings(select=frozenset({"ALL"})))
    return [(f.rule_id, Path(f.file).name, f.line, f.message) for f in report.findings]


def test_an_unknown_part_of_a_statement_list_gives_no_finding_the_part_could_contradict() -> None:
    """Neither "the default policy" (KMS001) nor "nobody may manage the key" (KMS019), nor
    anything else: the caller's statements may be anything."""
    assert lint_all("KMS001/pass_tf_concat_root_and_unknown_statements") == []


def test_the_known_statements_of_a_concat_are_checked_and_named() -> None:
    got = lint_all("KMS003/fail_tf_concat_known_and_unknown_statements")
    assert [(rule, line) for rule, _, line, _ in got] == [("KMS003", 20), ("KMS003", 29)]
    assert "statement `Everyone` allows `*`" in got[0][3]
    assert "statement `OpenEncrypt` allows `*`" in got[1][3]


def test_a_template_file_is_rendered_with_its_vars() -> None:
    got = lint_all("KMS003/fail_tf_template_file_data_source")
    wrapped = [m for rule, file, _, m in got if file == "bare-placeholder.json.tpl" and rule == "KMS007"]
    # ${admin_arns} became the role's ARN: the statement names it.
    assert wrapped and "arn:aws:iam::111122223333:role/admin" in wrapped[0]


def test_rotation_through_functions_is_reported_where_it_is_set() -> None:
    got = [
        (rule, line) for rule, _, line, _ in lint_all("KMS002/fail_tf_rotation_through_functions") if rule == "KMS002"
    ]
    assert got == [("KMS002", 14), ("KMS002", 18), ("KMS002", 22), ("KMS002", 26), ("KMS002", 30)]
    assert [r for r, *_ in lint_all("KMS002/pass_tf_rotation_through_unknown_functions") if r == "KMS002"] == []


def test_a_for_expression_keeps_the_spread_of_an_unknown_part(tmp_path: Path) -> None:
    got = evaluate(
        tmp_path,
        {
            "listed": '[for s in concat(["a"], var.ul, ["b"]) : upper(s)]',
            "indexed": '[for i, s in concat(["a"], var.ul, ["b"]) : "${i}${s}"]',
            "counted": 'length([for s in concat(["a"], var.ul) : s])',
            "object": '{ for s in concat(["a"], var.ul) : s => 1 }',
        },
    )
    assert shape(got["listed"]) == ["A", SPREAD, "B"]
    # After the unknown part, an element's index is unknown.
    first, middle, last = lst(got["indexed"])
    assert (shape(first), shape(middle)) == ("0a", SPREAD)
    assert isinstance(last, Interpolated) and isinstance(last.parts[0], Unknown) and last.parts[1] == "b"
    assert shape(got["counted"]) is UNKNOWN
    assert shape(got["object"]) is UNKNOWN
