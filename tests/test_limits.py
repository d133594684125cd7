"""Limits and confinement: kmslint runs on untrusted pull requests.

* file size and nesting depth limits, with defaults, from the CLI and Settings;
* the tree-sitter budgets (time, memory, syntax nodes) that turn an input
  built to be slow into a KMS000 instead of a hang;
* ``file()`` / ``templatefile()`` never read outside the scan root, symbolic
  links out of it are never followed (walked or named), devices and FIFOs
  are never opened for reading;
* nothing is fetched from the network, nothing from the input is executed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmslint import api
from kmslint.cli import main
from kmslint.parsers import common
from kmslint.settings import Settings
from tests import measure
from tests.parsers.tf_helpers import parse, write

# Inputs built to run into every limit: the default local run leaves them to .ci/run.
pytestmark = pytest.mark.slow

OPEN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}],
}
SECRET = "TOP-SECRET-do-not-print"


def lint(paths: list[str], **settings: object) -> api.Report:
    return api.lint(paths, Settings(**settings), jobs=1)  # type: ignore[arg-type]


def cli(*args: str, stdin: bytes | None = None) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(main, ["--format", "json", *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    out = result.stdout
    return result.exit_code, json.loads(out) if out.strip() else {}, result.stderr


def kms000(report: api.Report) -> list[tuple[str, int, str]]:
    return [(f.file, f.line, f.message) for f in report.findings if f.rule_id == "KMS000"]


def key_tf(policy_expr: str) -> str:
    return f'resource "aws_kms_key" "k" {{\n  enable_key_rotation = true\n  policy = {policy_expr}\n}}\n'


# --------------------------------------------------------------------------- size and depth


def test_defaults_protect_a_ci_runner() -> None:
    assert common.DEFAULT_MAX_FILE_BYTES == 4 * 1024 * 1024
    assert common.DEFAULT_MAX_DEPTH == 200
    assert Settings().max_file_bytes == common.DEFAULT_MAX_FILE_BYTES
    assert Settings().max_depth == common.DEFAULT_MAX_DEPTH


def test_max_file_bytes_from_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("policy.json").write_text(json.dumps(OPEN_POLICY))
    code, out, _ = cli("--max-file-bytes", "50", "policy.json")
    assert code == 2
    [finding] = out["findings"]  # type: ignore[misc]
    assert finding["rule_id"] == "KMS000" and finding["line"] == 1
    assert "over the 50-byte limit" in finding["message"]
    code, out, _ = cli("policy.json")
    assert code == 1
    assert "KMS000" not in {f["rule_id"] for f in out["findings"]}  # type: ignore[attr-defined]


def test_max_depth_from_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    deep: object = "x"
    for _ in range(30):
        deep = [deep]
    policy = dict(OPEN_POLICY, Deep=deep)
    Path("policy.json").write_text(json.dumps(policy))
    code, out, _ = cli("--max-depth", "10", "policy.json")
    assert code == 2
    assert [f["rule_id"] for f in out["findings"]] == ["KMS000"]  # type: ignore[attr-defined]
    assert "nesting deeper than 10" in out["findings"][0]["message"]  # type: ignore[index]
    code, out, _ = cli("policy.json")
    assert code == 1 and "KMS000" not in {f["rule_id"] for f in out["findings"]}  # type: ignore[attr-defined]


def test_limits_reject_nonsense_values() -> None:
    for args in (["--max-file-bytes", "0"], ["--max-depth", "-1"], ["--jobs", "-2"]):
        result = CliRunner().invoke(main, [*args, "."])
        assert result.exit_code == 2, args


def test_stdin_is_read_only_up_to_the_limit() -> None:
    code, _out, err = cli("--max-file-bytes", "100", "--stdin-filename", "main.tf", "-", stdin=b"#" * 10_000)
    assert code == 2
    assert "over the 100-byte limit" in err


def test_a_50_mb_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "huge.tf"
    with big.open("wb") as fh:
        fh.write(b'resource "aws_kms_key" "k" {\n  description = "')
        fh.write(b"k" * (50 * 1024 * 1024))
        fh.write(b'"\n}\n')
    proc, elapsed, peak = run_cli([str(big)], cwd=tmp_path)
    assert proc.returncode == 2
    found = json.loads(proc.stdout)["findings"]
    assert [(f["rule_id"], f["line"]) for f in found] == [("KMS000", 1)]
    assert "over the 4194304-byte limit" in found[0]["message"]
    assert elapsed < 30
    assert peak < 300 * 1024 * 1024, peak


def run_cli(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """The CLI in a fresh process: its result, wall time and peak RSS in bytes."""
    run = measure.run_cli(["--format", "json", *args], cwd)
    assert "Traceback" not in run.stderr, run.stderr
    return subprocess.CompletedProcess(args, run.code, run.stdout, run.stderr), run.wall, run.peak


# --------------------------------------------------------------------------- parse budgets


def test_a_whitespace_run_inside_an_expression_cannot_hang(tmp_path: Path, monkeypatch) -> None:
    # tree-sitter-hcl is quadratic in such a run: 40 KB took 10 s, 2 MB never finished.
    monkeypatch.setattr(common, "PARSE_SECONDS", 0.5)
    monkeypatch.setattr(common, "PARSE_SECONDS_PER_MB", 0.0)
    (tmp_path / "main.tf").write_text(key_tf("[" + " " * 60_000 + "]"))
    start = time.perf_counter()
    report = lint([str(tmp_path / "main.tf")])
    assert time.perf_counter() - start < 10
    [(_file, line, message)] = kms000(report)
    assert line == 3 and "parsing gave up" in message


def test_memory_budget_of_a_parse(tmp_path: Path, monkeypatch) -> None:
    # tree-sitter-hcl needs ~550 bytes per blank line inside a block.
    monkeypatch.setattr(common, "UNIT_MEMORY_BYTES", 8 << 20)
    (tmp_path / "main.tf").write_text('resource "aws_kms_key" "k" {\n' + "\n" * 300_000 + "}\n")
    report = lint([str(tmp_path / "main.tf")])
    [(_file, line, message)] = kms000(report)
    assert line > 1 and "needed over 8 MiB" in message


def test_syntax_node_budget(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(common, "MAX_SYNTAX_NODES", 1000)
    (tmp_path / "main.tf").write_text(key_tf("jsonencode([" + "1," * 2000 + "])"))
    (tmp_path / "policy.json").write_text(json.dumps(dict(OPEN_POLICY, X=list(range(2000)))))
    report = lint([str(tmp_path)])
    found = kms000(report)
    assert {f for f, _l, _m in found} == {f"{tmp_path}/main.tf", f"{tmp_path}/policy.json"}
    assert all("syntax elements (names, values, punctuation), over the 1000" in m for _f, _l, m in found)


def test_a_budget_stop_leaves_the_parser_usable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(common, "PARSE_SECONDS", 0.2)
    monkeypatch.setattr(common, "PARSE_SECONDS_PER_MB", 0.0)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "main.tf").write_text(key_tf("[" + " " * 60_000 + "]"))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "main.tf").write_text(key_tf(f"jsonencode({json.dumps(OPEN_POLICY)})"))
    report = lint([str(tmp_path)])
    assert [f.file.endswith("a/main.tf") for f in report.findings if f.rule_id == "KMS000"] == [True]
    assert any(f.rule_id == "KMS003" and f.file.endswith("b/main.tf") for f in report.findings)


def test_exponential_strings_through_locals_are_bounded(tmp_path: Path) -> None:
    lines = ['  a0 = "kms:*"']
    lines += [f'  a{i} = "${{local.a{i - 1}}}${{local.a{i - 1}}}"' for i in range(1, 64)]
    (tmp_path / "main.tf").write_text("locals {\n" + "\n".join(lines) + "\n}\n" + key_tf("local.a63"))
    start = time.perf_counter()
    lint([str(tmp_path)])
    assert time.perf_counter() - start < 20


def test_long_lines_are_not_quadratic(tmp_path: Path) -> None:
    # A minified policy: one line, 20,000 statements (columns were O(line) per node).
    statements = [
        {
            "Sid": f"é{i}",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::111122223333:role/r{i}"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
        for i in range(20_000)
    ]
    text = json.dumps(
        {"Version": "2012-10-17", "Statement": [*statements, *OPEN_POLICY["Statement"]]}, ensure_ascii=False
    )
    (tmp_path / "policy.json").write_text(text, encoding="utf-8")
    start = time.perf_counter()
    report = lint([str(tmp_path / "policy.json")])
    assert time.perf_counter() - start < 30
    column = text.index('{"Sid": "Everyone"') + 1  # characters, not bytes: every é is two bytes
    assert [(f.line, f.column) for f in report.findings if f.rule_id == "KMS003"] == [(1, column)]


def test_many_keys_in_one_directory_are_not_quadratic(tmp_path: Path) -> None:
    keys = "".join(f'resource "aws_kms_key" "k{i}" {{\n  enable_key_rotation = false\n}}\n' for i in range(4000))
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n' + keys)
    start = time.perf_counter()
    report = lint([str(tmp_path)])
    assert time.perf_counter() - start < 30
    assert sum(f.rule_id == "KMS002" for f in report.findings) == 4000


# --------------------------------------------------------------------------- confinement


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the scanned tree holding a 'secret' that would give findings if read."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret.json").write_text(json.dumps(dict(OPEN_POLICY, Id=SECRET)))
    (d / "main.tf").write_text(f"# {SECRET}\n" + key_tf(f"jsonencode({json.dumps(OPEN_POLICY)})"))
    return d


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "repo"
    d.mkdir()
    monkeypatch.chdir(d)
    return d


def test_file_and_templatefile_never_read_outside_the_scan_root(repo: Path, outside: Path) -> None:
    secret = outside / "secret.json"
    (repo / "link.json").symlink_to(secret)
    cases = {
        "absolute": f'file("{secret}")',
        "dotdot": 'file("${path.module}/../outside/secret.json")',
        "template": f'templatefile("{secret}", {{}})',
        "link": 'file("${path.module}/link.json")',
        "cwd": 'file("${path.cwd}/../outside/secret.json")',
        "root": 'file("${path.root}/../../outside/secret.json")',
    }
    for name, expr in cases.items():
        module = repo / name
        module.mkdir()
        (module / "main.tf").write_text(key_tf(expr))
    report = lint(["."])
    assert not [f for f in report.findings if f.rule_id == "KMS003"], report.findings
    assert not [f for f in report.findings if "outside" in f.file or "secret" in f.file]
    _code, out, err = cli(".")
    assert SECRET not in json.dumps(out) + err


def test_symlinks_out_of_the_tree_are_not_followed_when_walking(repo: Path, outside: Path) -> None:
    (repo / "linked_dir").symlink_to(outside, target_is_directory=True)
    (repo / "linked.json").symlink_to(outside / "secret.json")
    (repo / "linked.tf").symlink_to(outside / "main.tf")
    inside = repo / "real"
    inside.mkdir()
    (inside / "policy.json").write_text(json.dumps(OPEN_POLICY))
    (repo / "alias.json").symlink_to(inside / "policy.json")
    report = lint(["."])
    files = {f.file for f in report.findings}
    assert "real/policy.json" in files
    assert not [f for f in files if "linked" in f], files
    _code, out, err = cli(".")
    assert SECRET not in json.dumps(out) + err


def test_a_named_symlink_out_of_the_tree_is_not_read(repo: Path, outside: Path) -> None:
    (repo / "evil.json").symlink_to(outside / "secret.json")
    (repo / "evil.tf").symlink_to(outside / "main.tf")
    code, out, err = cli("evil.json", "evil.tf")
    assert code == 2
    assert SECRET not in json.dumps(out) + err
    messages = {f["file"]: f["message"] for f in out["findings"]}  # type: ignore[attr-defined]
    assert "outside the scanned tree" in messages["evil.json"]


def test_symlink_loops_terminate(repo: Path) -> None:
    (repo / "a").mkdir()
    (repo / "a" / "up").symlink_to(repo, target_is_directory=True)
    (repo / "a" / "self").symlink_to(repo / "a", target_is_directory=True)
    (repo / "loop1.tf").symlink_to(repo / "loop2.tf")
    (repo / "loop2.tf").symlink_to(repo / "loop1.tf")
    (repo / "loop.json").symlink_to(repo / "loop.json")
    (repo / "a" / "policy.json").write_text(json.dumps(OPEN_POLICY))
    report = lint(["."])
    assert [f.file for f in report.findings if f.rule_id == "KMS003"] == ["a/policy.json"]
    code, out, _err = cli("loop.json")
    assert code == 2
    assert [f["rule_id"] for f in out["findings"]] == ["KMS000"]  # type: ignore[attr-defined]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_devices_and_fifos_are_never_opened_for_reading(repo: Path) -> None:
    os.mkfifo(repo / "pipe.json")
    (repo / "zero.json").symlink_to("/dev/zero")
    (repo / "pipe_link.json").symlink_to(repo / "pipe.json")
    proc, elapsed, _peak = run_cli(["pipe.json", "pipe_link.json", "zero.json", "."], cwd=repo)
    assert elapsed < 60
    assert proc.returncode == 2
    messages = [f["message"] for f in json.loads(proc.stdout)["findings"]]
    assert any("not a regular file" in m for m in messages)


# --------------------------------------------------------------------------- no network, no execution


def test_nothing_is_fetched_from_the_network(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise AssertionError("kmslint opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    (repo / "main.tf").write_text(
        'module "remote" {\n  source = "git::https://example.com/modules.git//kms?ref=v1"\n}\n'
        'data "http" "policy" {\n  url = "https://example.com/policy.json"\n}\n'
        + key_tf('file("https://example.com/policy.json")')
        + 'resource "aws_kms_key" "fetched" {\n  policy = data.http.policy.response_body\n}\n'
    )
    (repo / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Transform:\n  Name: AWS::Include\n  Parameters:\n    Location: https://example.com/snippet.yaml\n"
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n"
        "      KeyPolicy:\n        Fn::Transform:\n          Name: AWS::Include\n"
        "          Parameters:\n            Location: s3://bucket/policy.json\n"
    )
    report = lint(["."])
    assert calls == []
    assert report.files == 2


def test_nothing_in_the_input_is_executed(repo: Path) -> None:
    marker = repo / "PWNED"
    (repo / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n"
        f"    Properties: !!python/object/apply:os.system ['touch {marker}']\n"
        f"    Metadata: !!python/object/new:subprocess.check_call [['touch', '{marker}']]\n"
    )
    (repo / "main.tf").write_text(
        key_tf(f'file("$(touch {marker})")')
        + f'resource "aws_kms_key" "b" {{\n  description = "${{file("`touch {marker}`")}}"\n}}\n'
    )
    (repo / "policy.json").write_text(json.dumps(dict(OPEN_POLICY, Id=f"$(touch {marker})")))
    proc, _elapsed, _peak = run_cli(["."], cwd=repo)
    assert proc.returncode in (0, 1, 2)
    assert not marker.exists()


# --------------------------------------------------------------------------- work not done


def test_files_and_directories_without_kms_text_are_not_parsed(tmp_path: Path, monkeypatch) -> None:
    from kmslint import engine
    from kmslint.parsers import cloudformation, terraform

    parsed: list[str] = []
    real_dir, real_template = terraform.parse_directory, cloudformation.parse_template

    def spy_dir(directory, *args, **kwargs):  # type: ignore[no-untyped-def]
        parsed.append(Path(directory).name)
        return real_dir(directory, *args, **kwargs)

    def spy_template(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        parsed.append(Path(path).name)
        return real_template(path, *args, **kwargs)

    monkeypatch.setattr(terraform, "parse_directory", spy_dir)
    monkeypatch.setattr(cloudformation, "parse_template", spy_template)
    (tmp_path / "network").mkdir()
    (tmp_path / "network" / "main.tf").write_text('resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n}\n')
    (tmp_path / "network" / "variables.tf").write_text('variable "x" {}\n')
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "main.tf").write_text('resource "aws_vpc" "v" {}\n')
    (tmp_path / "keys" / "kms.tf").write_text('resource "aws_kms_key" "k" {}\n')
    (tmp_path / "queue.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    )
    (tmp_path / "key.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  K:\n    Type: AWS::KMS::Key\n"
    )
    report = lint([str(tmp_path)])
    assert sorted(parsed) == ["key.yaml", "keys"]
    assert report.files == 6
    assert engine.might_matter('resource "aws_kms_key"') and not engine.might_matter('resource "aws_vpc"')


def test_automatic_jobs() -> None:
    from kmslint import parallel

    assert parallel.resolve_jobs(None, 10) == 1  # a pool costs more than it saves
    assert parallel.resolve_jobs(None, parallel.AUTO_MIN_UNITS - 1) == 1
    cores = parallel.available_cores()
    assert parallel.resolve_jobs(None, 10_000) == max(1, min(cores, parallel.AUTO_MAX_JOBS))
    assert parallel.resolve_jobs(3, 10_000) == 3
    assert parallel.resolve_jobs(8, 2) == 2  # never more processes than units
    assert parallel.resolve_jobs(0, 10) == 1  # 0: automatic


# --------------------------------------------------------------------------- module calls (kmslint.parsers.tf_modules)

MODULE_KEY = (
    'variable "enable_key_rotation" {\n  default = true\n}\n'
    'resource "aws_kms_key" "this" {\n  enable_key_rotation = var.enable_key_rotation\n}\n'
)


def test_a_cycle_of_calls_is_not_followed_and_ends(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a/main.tf": 'module "b" {\n  source = "../b"\n}\nresource "aws_kms_key" "k" {}\n',
            "b/main.tf": 'module "a" {\n  source = "../a"\n}\n',
        },
    )
    project = parse(tmp_path / "a", scan_root=tmp_path)
    # a calls b, b would call a again: that call is not followed (Terraform refuses the cycle).
    assert [k.name for k in project.keys] == ["aws_kms_key.k"]
    assert [(n.module, n.source) for n in project.not_followed] == [("b.a", "../a")]
    assert project.gave_up is None


def test_a_call_chain_deeper_than_the_bound_is_too_costly(tmp_path: Path) -> None:
    files = {f"m{i}/main.tf": f'module "n" {{\n  source = "../m{i + 1}"\n}}\n' for i in range(40)}
    files["m40/main.tf"] = 'resource "aws_kms_key" "k" {}\n'
    write(tmp_path, files)
    project = parse(tmp_path / "m0", scan_root=tmp_path)
    assert project.gave_up is not None and "nest deeper than 32" in project.gave_up.message


def _for_each_of(digits: int) -> str:
    """A for_each of 10**digits distinct strings, built by nested for expressions."""
    names = "${" + "}${".join(f"d{i}" for i in range(digits)) + "}"
    expr = f'"{names}"'
    for i in range(digits):
        expr = f"[for d{i} in local.ten : {expr}]"
    return f"toset(flatten({expr}))"


@pytest.mark.parametrize(("digits", "why"), [(4, "over 1,000 instances"), (6, "too costly")])
def test_a_for_each_over_a_huge_collection_is_too_costly_not_slow(tmp_path: Path, digits: int, why: str) -> None:
    write(tmp_path, {"modules/kms/main.tf": MODULE_KEY})
    start = time.monotonic()
    project = parse(
        tmp_path,
        {
            "main.tf": (
                'locals {\n  ten = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]\n}\n'
                f'module "k" {{\n  source   = "./modules/kms"\n  for_each = {_for_each_of(digits)}\n}}\n'
            )
        },
    )
    assert project.gave_up is not None and why in project.gave_up.message
    assert time.monotonic() - start < 30


def test_ten_levels_of_ten_calls_are_too_costly_not_slow(tmp_path: Path) -> None:
    files = {}
    for level in range(10):
        calls = "".join(f'module "c{j}" {{\n  source = "../l{level + 1}"\n}}\n' for j in range(10))
        files[f"l{level}/main.tf"] = calls
    files["l10/main.tf"] = 'resource "aws_kms_key" "k" {}\n'
    write(tmp_path, files)
    start = time.monotonic()
    project = parse(tmp_path / "l0", scan_root=tmp_path)
    assert project.gave_up is not None and "module instances" in project.gave_up.message
    assert time.monotonic() - start < 20


def test_the_cli_never_shows_a_traceback_for_module_bombs(tmp_path: Path) -> None:
    calls = 'module "c{j}" {{\n  source = "../l{i}"\n}}\n'
    files = {f"l{i}/main.tf": "".join(calls.format(j=j, i=i + 1) for j in range(10)) for i in range(10)}
    write(tmp_path, files)
    done = subprocess.run([sys.executable, "-m", "kmslint", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr and done.returncode == 1
    assert "KMS000" in done.stdout
