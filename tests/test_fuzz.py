"""Hostile input: nothing may crash or hang kmslint.

Inputs are the repository's own ``fixtures/`` files mutated (truncation,
byte flips, deleted and repeated chunks, stray tokens, splices, deep
nesting, invalid UTF-8, NUL bytes), hypothesis strategies (arbitrary bytes,
generated policy documents as JSON and YAML templates, generated HCL), and
a set of hand-made attacks (YAML alias bombs, 10 MB strings, binary files,
symbolic-link loops, a 50 MB file, a whitespace run tree-sitter-hcl is
quadratic in).

For every input:

* no exception escapes ``api.lint`` (in-process, for the bulk) and no
  traceback reaches stderr (a sample through the CLI in a fresh process);
* the result is clean or has findings, and every ``KMS000`` points at a
  line of the file (1 .. its line count + 1); every unreadable file has a
  ``KMS000``;
* the exit code is 0, 1 or 2;
* time per input and (CLI sample) peak memory stay bounded.

The whole module is bounded to about two minutes on 2 cores: fixed seeds,
``max_examples`` set per strategy, and a watchdog per input.  A failing
input is written to ``.hypothesis/fuzz-failures/`` to reproduce it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmslint import api
from kmslint.settings import Settings
from tests import measure
from tests.conftest import FIXTURES, ROOT

# Minutes of generated inputs: the default local run leaves them to .ci/run.
pytestmark = pytest.mark.slow

# KMSLINT_FUZZ_SEED / KMSLINT_FUZZ_SCALE run other or more inputs (a deeper run off CI).
SEED = int(os.environ.get("KMSLINT_FUZZ_SEED", "20240607"))
SCALE = max(1, int(os.environ.get("KMSLINT_FUZZ_SCALE", "1")))
MUTANTS = 1200 * SCALE  # mutated fixtures linted in-process
PER_INPUT_SECONDS = 30  # watchdog per in-process input (generous: CI runners are slow)
CLI_SECONDS = 60  # per CLI run
CLI_PEAK_BYTES = 1_500 * 1024 * 1024
FAILURES = ROOT / ".hypothesis" / "fuzz-failures"

SUFFIXES = (".tf", ".tf.json", ".json", ".yaml", ".yml", ".template", ".tfvars")


def seeds() -> list[Path]:
    """Every input fixture (not expected output): Terraform, CloudFormation, plans, policies."""
    out = []
    for p in sorted(FIXTURES.rglob("*")):
        if not p.is_file() or "golden" in p.relative_to(FIXTURES).parts[:1] or p.name == "expected.yaml":
            continue
        if p.name.endswith(SUFFIXES):
            out.append(p)
    return out


SEEDS = seeds()


# --------------------------------------------------------------------------- checking one input


class Hang(Exception):
    pass


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in this thread after ``seconds`` (main thread only; else no-op)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def fire(_sig: int, _frame: object) -> None:
        raise Hang(f"over {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def keep(name: str, data: bytes) -> Path:
    FAILURES.mkdir(parents=True, exist_ok=True)
    path = FAILURES / name
    path.write_bytes(data)
    return path


def check_report(report: api.Report, files: dict[str, bytes]) -> None:
    """The invariants every report must hold, whatever the input."""
    assert report.findings == sorted(report.findings)
    lines = {name: data.count(b"\n") + data.count(b"\r") + 1 for name, data in files.items()}
    for f in report.findings:
        assert f.line >= 1 and f.column >= 1, f
        if f.rule_id == "KMS000" and f.file in lines:
            assert f.line <= lines[f.file] + 1, (f, lines[f.file])
    flagged = {f.file for f in report.findings if f.rule_id == "KMS000"}
    for err in report.errors:
        assert err.line >= 1
        assert err.file in flagged, (err, flagged)


def lint_bytes(name: str, data: bytes, tag: str) -> api.Report:
    """Write ``data`` as ``name`` in a fresh directory, lint it in-process, check the report."""
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            Path(name).write_bytes(data)
            start = time.perf_counter()
            try:
                with watchdog(PER_INPUT_SECONDS):
                    report = api.lint([name], Settings(), jobs=1)
                check_report(report, {name: data})
            except BaseException as exc:
                saved = keep(f"{tag}-{name}", data)
                raise AssertionError(f"{type(exc).__name__}: {exc}; input saved to {saved}") from exc
            assert time.perf_counter() - start < PER_INPUT_SECONDS
            return report
        finally:
            os.chdir(cwd)


# --------------------------------------------------------------------------- mutations


TOKENS = [
    b"{",
    b"}",
    b"[",
    b"]",
    b"(",
    b")",
    b"${",
    b"%{",
    b'"',
    b"'",
    b"\n",
    b"  ",
    b"- ",
    b": ",
    b"&a ",
    b"*a",
    b"<<: *a",
    b"!Ref ",
    b"!If [",
    b"!!python/object/apply:os.system ",
    b"<<EOF\n",
    b"\nEOF\n",
    b"\\",
    b"\t",
    b"#",
    b"//",
    b"/*",
    b"*/",
    b",",
    b"=",
    b"?",
    b"...",
    b"for x in",
    b"jsonencode(",
    b"file(",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\x00",
    b"\r",
    b"\xef\xbb\xbf",
    b"1e999999",
    b"9" * 5000,
    b"\\u0000",
    b"\\ud800",
]


def mutate(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return rng.choice(TOKENS)
    op = rng.randrange(10)
    i = rng.randrange(len(data) + 1)
    j = min(len(data), i + rng.randint(1, 300))
    if op == 0:  # truncation
        return data[:i]
    if op == 1:  # byte flips
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if op == 2:  # delete a chunk
        return data[:i] + data[j:]
    if op == 3:  # repeat a chunk
        return data[:j] + data[i:j] * rng.randint(2, 30) + data[j:]
    if op == 4:  # stray tokens
        return data[:i] + rng.choice(TOKENS) * rng.randint(1, 4) + data[i:]
    if op == 5:  # deep nesting
        opener, closer = rng.choice([(b"[", b"]"), (b"{", b"}"), (b"(", b")"), (b"- ", b""), (b"${", b"}")])
        depth = rng.choice([50, 300, 3000])
        return data[:i] + opener * depth + closer * rng.choice([0, depth]) + data[i:]
    if op == 6:  # splice another fixture in
        other = rng.choice(SEEDS).read_bytes()
        k = rng.randrange(len(other) + 1)
        return data[:i] + other[k:]
    if op == 7:  # invalid UTF-8 / NUL
        return data[:i] + rng.choice([b"\xff\xfe", b"\xc3\x28", b"\x00", b"\xe2\x82", b"\xf0\x9f\x98"]) + data[i:]
    if op == 8:  # line endings
        return data.replace(b"\n", rng.choice([b"\r\n", b"\r", b"\x85", b"\n\n"]))
    # a long run of whitespace or one long string
    return data[:i] + rng.choice([b" ", b"\n", b"x", b"\t"]) * rng.choice([1000, 20_000]) + data[i:]


def mutants() -> list[tuple[str, bytes, str]]:
    rng = random.Random(SEED)
    out = []
    for n in range(MUTANTS):
        seed = rng.choice(SEEDS)
        data = seed.read_bytes()
        for _ in range(rng.randint(1, 3)):
            data = mutate(rng, data)
        out.append((seed.name, data, f"m{n}"))
    return out


def test_there_are_seeds() -> None:
    kinds = {p.suffix for p in SEEDS}
    assert len(SEEDS) > 50 and {".tf", ".json", ".yaml"} <= kinds, kinds


def test_mutated_fixtures() -> None:
    for name, data, tag in mutants():
        lint_bytes(name, data, tag)


# --------------------------------------------------------------------------- hypothesis strategies

FUZZ = settings(
    max_examples=200 * SCALE,
    deadline=None,  # the watchdog bounds each input; CI machines stall at random
    derandomize=SCALE == 1,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@FUZZ
@given(data=st.binary(max_size=2000), name=st.sampled_from(["main.tf", "policy.json", "template.yaml", "x.tf.json"]))
def test_arbitrary_bytes(data: bytes, name: str) -> None:
    lint_bytes(name, data, "bytes")


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "*",
            "kms:*",
            "kms:Decrypt",
            "kms:Create*",
            "Allow",
            "Deny",
            "2012-10-17",
            "arn:aws:iam::111122223333:root",
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:root",
            "aws:PrincipalOrgID",
            "o-abc",
            "${aws:username}",
            "",
        ]
    ),
    st.text(max_size=20),
)
_KEYS = st.sampled_from(
    [
        "Version",
        "Statement",
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "AWS",
        "Service",
        "Federated",
        "Action",
        "NotAction",
        "Resource",
        "Condition",
        "StringEquals",
        "Bool",
        "kms:CallerAccount",
        "Fn::If",
        "Fn::Sub",
        "Ref",
        "Fn::GetAtt",
        "Fn::Join",
        "Fn::Select",
        "Fn::Transform",
        "Type",
        "Properties",
        "KeyPolicy",
        "EnableKeyRotation",
        "MultiRegion",
        "KeySpec",
        "x",
    ]
)
JSONISH = st.recursive(
    _SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(_KEYS, children, max_size=6)),
    max_leaves=40,
)


def template_of(policy: object, extra: object) -> dict[str, object]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Conditions": {"C": {"Fn::Equals": ["a", "b"]}},
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": policy, "EnableKeyRotation": extra}},
            "Other": extra,
        },
    }


@FUZZ
@given(policy=JSONISH, extra=JSONISH)
def test_generated_policies_and_templates(policy: object, extra: object) -> None:
    lint_bytes("policy.json", json.dumps(policy).encode(), "policy")
    doc = template_of(policy, extra)
    lint_bytes("template.json", json.dumps(doc).encode(), "cfn-json")
    lint_bytes("template.yaml", yaml.safe_dump(doc, allow_unicode=True).encode(), "cfn-yaml")


# A small generator of Terraform: blocks, attributes and expressions of every kind.
_IDENT = st.sampled_from(["a", "b", "key", "policy", "this", "x"])
_HCL_ATOMS = st.one_of(
    st.sampled_from(
        [
            '"kms:*"',
            '"*"',
            "true",
            "false",
            "null",
            "1",
            "1.5e3",
            "var.a",
            "local.b",
            "data.aws_caller_identity.c.account_id",
            "aws_kms_key.a.arn",
            "each.value",
            "count.index",
            "path.module",
            '"${var.a}-${local.b}"',
            '"%{ if true }x%{ endif }"',
            '"arn:aws:iam::${data.aws_caller_identity.c.account_id}:root"',
            '<<EOF\n{"a": 1}\nEOF\n',
            "self.x",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10).map(json.dumps),
)


def _hcl_expr(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(_IDENT, children), max_size=4).map(
            lambda kv: "{" + ", ".join(f"{k} = {v}" for k, v in kv) + "}"
        ),
        st.tuples(
            st.sampled_from(
                [
                    "jsonencode",
                    "jsondecode",
                    "merge",
                    "concat",
                    "lookup",
                    "try",
                    "coalesce",
                    "toset",
                    "flatten",
                    "format",
                    "join",
                    "replace",
                    "file",
                    "templatefile",
                    "length",
                    "element",
                    "keys",
                    "values",
                    "tostring",
                    "tolist",
                    "distinct",
                    "range",
                    "split",
                    "upper",
                ]
            ),
            st.lists(children, max_size=3),
        ).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(children, children, children).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
        st.tuples(
            children, st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "&&", "||", "<", ">="]), children
        ).map(" ".join),
        st.tuples(_IDENT, children, children).map(lambda t: f"[for {t[0]} in {t[1]} : {t[2]}]"),
        st.tuples(_IDENT, children).map(lambda t: f"{{for k, {t[0]} in {t[1]} : k => {t[0]}}}"),
        children.map(lambda e: f"({e})"),
        children.map(lambda e: f"!{e}"),
        children.map(lambda e: f"{e}[0]"),
        children.map(lambda e: f"{e}.*.id"),
        children.map(lambda e: f'"${{{e}}}"'),
    )


HCL_EXPR = st.recursive(_HCL_ATOMS, _hcl_expr, max_leaves=25)
_RESOURCE = st.tuples(
    st.sampled_from(
        [
            "aws_kms_key",
            "aws_kms_replica_key",
            "aws_kms_alias",
            "aws_kms_grant",
            "aws_iam_policy",
            "aws_iam_role_policy",
            "aws_kms_external_key",
            "aws_s3_bucket",
        ]
    ),
    _IDENT,
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "policy",
                    "enable_key_rotation",
                    "multi_region",
                    "key_usage",
                    "description",
                    "deletion_window_in_days",
                    "target_key_id",
                    "tags",
                    "count",
                    "for_each",
                    "provider",
                    "customer_master_key_spec",
                    "rotation_period_in_days",
                ]
            ),
            HCL_EXPR,
        ),
        max_size=5,
    ),
)


def hcl_file(resources: list[tuple[str, str, list[tuple[str, str]]]], locals_: list[tuple[str, str]]) -> str:
    out = ['data "aws_caller_identity" "c" {}', 'variable "a" {\n  default = "x"\n}']
    if locals_:
        out.append("locals {\n" + "\n".join(f"  {k} = {v}" for k, v in locals_) + "\n}")
    for rtype, name, attrs in resources:
        body = "\n".join(f"  {k} = {v}" for k, v in attrs)
        out.append(f'resource "{rtype}" "{name}" {{\n{body}\n}}')
    return "\n\n".join(out) + "\n"


@FUZZ
@given(
    resources=st.lists(_RESOURCE, max_size=4),
    locals_=st.lists(st.tuples(st.sampled_from(["b", "c", "d"]), HCL_EXPR), max_size=3),
)
def test_generated_terraform(
    resources: list[tuple[str, str, list[tuple[str, str]]]], locals_: list[tuple[str, str]]
) -> None:
    lint_bytes("main.tf", hcl_file(resources, locals_).encode(), "hcl")


# --------------------------------------------------------------------------- hand-made attacks (in-process)

ATTACKS: dict[str, Callable[[], tuple[str, bytes]]] = {
    "alias_bomb": lambda: (
        "template.yaml",
        b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  K:\n    Type: AWS::KMS::Key\n"
        b'a: &a ["kms","kms","kms","kms","kms","kms","kms","kms","kms"]\n'
        + b"".join(
            b"%s: &%s [%s]\n" % (c.encode(), c.encode(), b",".join([b"*" + p.encode()] * 9))
            for p, c in zip("abcdefgh", "bcdefghi")
        ),
    ),
    "merge_bomb": lambda: (
        "template.yaml",
        b"AWSTemplateFormatVersion: '2010-09-09'\na: &a {x: kms}\n"
        + b"".join(
            b"m%d: &m%d {<<: [%s]}\n" % (i, i, b",".join([b"*a" if i == 0 else b"*m%d" % (i - 1)] * 10))
            for i in range(10)
        )
        + b"Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      <<: *m9\n",
    ),
    "recursive_alias": lambda: (
        "template.yaml",
        b"AWSTemplateFormatVersion: x\nResources: &r\n  K:\n    Type: AWS::KMS::Key\n    Properties: *r\n",
    ),
    "deep_json": lambda: ("policy.json", b'{"Statement": "kms", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "deep_yaml": lambda: (
        "template.yaml",
        b"AWSTemplateFormatVersion: x\nResources: {K: {Type: AWS::KMS::Key, P: "
        + b"[" * 50_000
        + b"]" * 50_000
        + b"}}\n",
    ),
    "deep_hcl": lambda: (
        "main.tf",
        b'resource "aws_kms_key" "k" {\n  policy = ' + b"[" * 20_000 + b"]" * 20_000 + b"\n}\n",
    ),
    "deep_blocks": lambda: ("main.tf", b'resource "aws_kms_key" "k" {\n' + b"b {\n" * 5000 + b"}\n" * 5000 + b"}\n"),
    "deep_template": lambda: (
        "main.tf",
        b'resource "aws_kms_key" "k" {\n  policy = "' + b"${" * 5000 + b"1" + b"}" * 5000 + b'"\n}\n',
    ),
    "whitespace_run": lambda: ("main.tf", b'resource "aws_kms_key" "k" {\n  policy = [' + b" " * 200_000 + b"]\n}\n"),
    "string_10mb_json": lambda: (
        "policy.json",
        b'{"Statement": [{"Sid": "' + b"k" * 10_000_000 + b'", "Principal": "*", "Action": "kms:*"}]}',
    ),
    "string_10mb_yaml": lambda: (
        "template.yaml",
        b"AWSTemplateFormatVersion: x\nResources:\n  K:\n    Type: AWS::KMS::Key\n    Description: '"
        + b"k" * 10_000_000
        + b"'\n",
    ),
    "string_3mb_hcl": lambda: (
        "main.tf",
        b'resource "aws_kms_key" "k" {\n  description = "' + b"k" * 3_000_000 + b'"\n}\n',
    ),
    "binary": lambda: ("main.tf", random.Random(SEED).randbytes(100_000)),
    "utf16": lambda: (
        "policy.json",
        json.dumps({"Statement": [{"Principal": "*", "Action": "kms:*"}]}).encode("utf-16"),
    ),
    "invalid_utf8": lambda: (
        "template.yaml",
        b"AWSTemplateFormatVersion: x\nResources:\n  K:\n    Type: AWS::KMS::Key\n    D: \xc3\x28\xff\n",
    ),
    "lone_surrogate": lambda: ("main.tf", b'resource "aws_kms_key" "k" {\n  description = "\xed\xa0\x80"\n}\n'),
    "escaped_surrogate": lambda: (
        "policy.json",
        b'{"Statement": [{"Sid": "\\ud800", "Principal": "\\udfff", "Action": "kms:*"}]}',
    ),
    "huge_number": lambda: (
        "policy.json",
        b'{"Statement": [{"Principal": "*", "Action": "kms:*", "N": 1' + b"0" * 100_000 + b"}]}",
    ),
    "string_doubling": lambda: (
        "main.tf",
        (
            'locals {\n  a0 = "kms:*"\n'
            + "".join(f'  a{i} = "${{local.a{i - 1}}}${{local.a{i - 1}}}"\n' for i in range(1, 64))
            + "}\n"
            'resource "aws_kms_key" "k" {\n  policy = local.a63\n}\n'
        ).encode(),
    ),
    "list_doubling": lambda: (
        "main.tf",
        (
            'locals {\n  l0 = ["kms:*"]\n'
            + "".join(f"  l{i} = concat(local.l{i - 1}, local.l{i - 1})\n" for i in range(1, 64))
            + "}\n"
            'resource "aws_kms_key" "k" {\n'
            '  policy = jsonencode({Statement = [{Action = local.l63, Principal = "*"}]})\n}\n'
        ).encode(),
    ),
    "python_tags": lambda: (
        "template.yaml",
        b"AWSTemplateFormatVersion: x\nResources:\n  K:\n    Type: AWS::KMS::Key\n"
        b"    Properties: !!python/object/apply:os.getpid []\n",
    ),
    "many_documents": lambda: (
        "template.yaml",
        b"AWSTemplateFormatVersion: x\nResources: {K: {Type: AWS::KMS::Key}}\n---\n" * 5000,
    ),
    # Found by this suite: the kmslint:ignore comment pattern backtracked cubically.
    "ignore_comment_whitespace": lambda: (
        "main.tf",
        b"# kmslint:ignore KMS004 " + b"\t" * 50_000 + b"-- \n# kmslint:ignore " + b" " * 50_000 + b"x*/\n"
        b'resource "aws_kms_key" "k" {\n  multi_region = true // kmslint:ignore KMS004' + b" " * 50_000 + b"--\n}\n",
    ),
    # Found while auditing patterns: IAM wildcards matched as a regular expression backtracked exponentially.
    "action_wildcards": lambda: (
        "policy.json",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": ["kms:" + "*?" * 40 + "*Z", "*" + "*a" * 40 + "Z"],
                        "Resource": "arn:aws:kms:*" + "*?" * 40 + "*Z",
                    }
                ],
            }
        ).encode(),
    ),
    "empty": lambda: ("main.tf", b""),
    "bom_only": lambda: ("policy.json", b"\xef\xbb\xbf"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_in_process(attack: str) -> None:
    name, data = ATTACKS[attack]()
    lint_bytes(name, data, attack)


# --------------------------------------------------------------------------- a sample through the CLI


def check_cli(args: list[str], cwd: Path, stdin: bytes | None = None) -> dict[str, object]:
    run = measure.run_cli(["--format", "json", *args], cwd, stdin, timeout=CLI_SECONDS * 2)
    code, out, err, wall, peak = run.code, run.stdout, run.stderr, run.wall, run.peak
    assert "Traceback" not in err, err[-3000:]
    assert code in (0, 1, 2), (code, err[-2000:])
    assert wall < CLI_SECONDS, wall
    assert peak < CLI_PEAK_BYTES, peak
    report: dict[str, object] = json.loads(out) if out.strip() else {"findings": []}
    for f in report["findings"]:  # type: ignore[attr-defined]
        assert f["line"] >= 1
    return report


CLI_SAMPLE = [
    "alias_bomb",
    "deep_json",
    "deep_hcl",
    "whitespace_run",
    "string_10mb_json",
    "binary",
    "invalid_utf8",
    "string_doubling",
]


@pytest.mark.parametrize("attack", CLI_SAMPLE)
def test_attack_through_the_cli(attack: str, tmp_path: Path) -> None:
    name, data = ATTACKS[attack]()
    (tmp_path / name).write_bytes(data)
    report = check_cli([name], tmp_path)
    check_cli(["."], tmp_path)
    assert isinstance(report["findings"], list)


def test_mutants_through_the_cli(tmp_path: Path) -> None:
    """A sample of mutants in one tree, linted walked and named, serially and with a pool."""
    sample = mutants()[:: max(1, MUTANTS // 40)]
    for i, (name, data, _tag) in enumerate(sample):
        d = tmp_path / f"case{i:03d}"
        d.mkdir()
        (d / name).write_bytes(data)
    check_cli(["--jobs", "1", "."], tmp_path)
    check_cli(["--jobs", "2", "."], tmp_path)
    named = [str(p.relative_to(tmp_path)) for p in sorted(tmp_path.rglob("*")) if p.is_file()]
    check_cli(named, tmp_path)


def test_stdin_through_the_cli(tmp_path: Path) -> None:
    for name, data, _tag in mutants()[:10]:
        check_cli(["--stdin-filename", name, "-"], tmp_path, stdin=data)


def test_a_50_mb_file_and_symlink_loops_through_the_cli(tmp_path: Path) -> None:
    with (tmp_path / "huge.json").open("wb") as fh:
        fh.write(b'{"Statement": "' + b"k" * (50 * 1024 * 1024) + b'"}')
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "again").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "a.tf").symlink_to(tmp_path / "b.tf")
    (tmp_path / "b.tf").symlink_to(tmp_path / "a.tf")
    (tmp_path / "self.yaml").symlink_to(tmp_path / "self.yaml")
    report = check_cli(["."], tmp_path)
    assert [f["rule_id"] for f in report["findings"] if f["file"] == "huge.json"] == ["KMS000"]  # type: ignore[index]
    check_cli(["huge.json", "self.yaml", "a.tf"], tmp_path)


# --------------------------------------------------------------------------- module trees

_KEY = 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n'


def _call(name: str, source: str, extra: str = "") -> str:
    return f'module "{name}" {{\n  source = "{source}"\n{extra}}}\n'


MODULE_TREES: dict[str, Callable[[], dict[str, str]]] = {
    "calls_itself": lambda: {"main.tf": _call("me", "./") + _KEY},
    "two_call_each_other": lambda: {
        "root/main.tf": _call("a", "../a"),
        "a/main.tf": _call("b", "../b") + _KEY,
        "b/main.tf": _call("a", "../a") + _KEY,
    },
    # Each level calls the next twice: 2**20 instances if nothing stopped it.
    "doubling_bomb": lambda: {
        **{f"m{i}/main.tf": _call("a", f"../m{i + 1}") + _call("b", f"../m{i + 1}") + _KEY for i in range(20)},
        "m20/main.tf": _KEY,
    },
    "for_each_bomb": lambda: {
        "main.tf": _call("m", "./m", "  for_each = toset([for i in range(1000) : tostring(i)])\n"),
        "m/main.tf": _call("n", "../n", "  count = 1000\n"),
        "n/main.tf": 'resource "aws_kms_key" "k" {\n  count = 100000\n}\n',
    },
    "chain_200_deep": lambda: {
        **{f"m{i}/main.tf": _call("next", f"../m{i + 1}") for i in range(200)},
        "m200/main.tf": _KEY,
    },
    "hostile_manifest": lambda: {
        "main.tf": _call("r", "org/kms/aws") + _call("s", "org/s/aws"),
        ".terraform/modules/modules.json": json.dumps(
            {"Modules": [{"Key": "r", "Dir": "/"}, {"Key": "s", "Dir": "."}, *([{"Key": "x", "Dir": "."}] * 5000)]}
        ),
    },
}


@pytest.mark.parametrize("tree", sorted(MODULE_TREES))
def test_module_recursion_and_instance_explosion_through_the_cli(tree: str, tmp_path: Path) -> None:
    """Modules that call themselves, each other, twice per level, a thousand times per call or
    200 deep: within the fuzz limits, each ends as findings, a KMS000 or a call not followed."""
    for name, text in MODULE_TREES[tree]().items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    report = check_cli(["."], tmp_path)
    summary = report.get("summary", {})
    assert report["findings"] or (isinstance(summary, dict) and summary.get("not_followed")), report
