"""The command line: exit codes, output, subcommands (OUTPUT.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmslint import __version__, exitcodes
from kmslint.cli import main

DEFAULT_POLICY = {
    "Version": "2012-10-17",
    "Id": "key-default-1",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


def star_policy(condition: dict[str, object] | None = None) -> dict[str, object]:
    statement: dict[str, object] = {
        "Sid": "Everyone",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["kms:Decrypt", "kms:PutKeyPolicy"],
        "Resource": "*",
    }
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) if not isinstance(data, str) else data)
    return path


def run(*args: str) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(main, ["--format", "json", *args])
    return result.exit_code, json.loads(result.stdout), result.stderr


def rules_and_lines(doc: dict[str, object]) -> list[tuple[str, int]]:
    return [(f["rule_id"], f["line"]) for f in doc["findings"]]  # type: ignore[index, union-attr, attr-defined]


def test_default_policy_gives_exactly_kms001(tmp_path: Path) -> None:
    code, doc, _ = run(str(write(tmp_path / "key.json", DEFAULT_POLICY)))
    assert code == exitcodes.FINDINGS
    assert rules_and_lines(doc) == [("KMS001", 5)]
    (finding,) = doc["findings"]  # type: ignore[misc]
    assert finding["resource"] is None
    assert finding["severity"] == "medium"
    assert finding["rule"] == "default-key-policy"


def test_star_principal_without_condition_is_kms003_on_the_statement_line(tmp_path: Path) -> None:
    code, doc, _ = run(str(write(tmp_path / "key.json", star_policy())))
    assert code == exitcodes.FINDINGS
    assert rules_and_lines(doc) == [("KMS003", 4)]


def test_star_principal_pinned_to_an_organization_is_clean(tmp_path: Path) -> None:
    policy = star_policy({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})
    code, doc, _ = run(str(write(tmp_path / "key.json", policy)))
    assert (code, doc["findings"]) == (exitcodes.OK, [])


def test_star_principal_with_if_exists_is_still_kms003(tmp_path: Path) -> None:
    policy = star_policy({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})
    code, doc, _ = run(str(write(tmp_path / "key.json", policy)))
    assert code == exitcodes.FINDINGS
    assert rules_and_lines(doc) == [("KMS003", 4)]


def test_broken_json_is_kms000_exit_2_and_other_files_are_still_linted(tmp_path: Path) -> None:
    broken = write(tmp_path / "a.json", '{\n  "Statement": [\n    {"Action": "kms:*",}\n  ]\n}\n')
    good = write(tmp_path / "b.json", star_policy())
    code, doc, _ = run(str(broken), str(good))
    assert code == exitcodes.ERROR
    assert [(f["rule_id"], Path(f["file"]).name, f["line"]) for f in doc["findings"]] == [  # type: ignore[index, union-attr, attr-defined]
        ("KMS000", "a.json", 3),
        ("KMS003", "b.json", 4),
    ]
    assert doc["errors"] == [
        {
            "file": str(broken),
            "line": 3,
            "message": "invalid JSON: a comma before `}`: JSON allows no comma after the last item",
        }
    ]


def test_broken_json_found_by_walking_is_a_finding_not_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "a.json", '{"Statement": [kms')
    code, doc, _ = run(str(tmp_path))
    assert code == exitcodes.FINDINGS
    assert rules_and_lines(doc) == [("KMS000", 1)]


def test_a_broken_file_with_nothing_kms_related_is_skipped_not_an_error(tmp_path: Path) -> None:
    # JSON-with-comments files (tsconfig.json, devcontainer.json) must not fail a pre-commit run.
    tsconfig = write(tmp_path / "tsconfig.json", '{\n  // strict mode\n  "strict": true\n}\n')
    code, doc, err = run(str(tsconfig))
    assert (code, doc["findings"]) == (exitcodes.OK, [])
    assert "tsconfig.json: skipped" in err


def test_unrelated_named_file_is_skipped_with_a_note(tmp_path: Path) -> None:
    pkg = write(tmp_path / "package.json", {"name": "kms-web", "version": "1.0.0"})
    code, doc, err = run(str(pkg))
    assert (code, doc["findings"]) == (exitcodes.OK, [])
    assert "package.json: skipped" in err


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    code, _doc, err = run(str(tmp_path / "nope.json"))
    assert code == exitcodes.ERROR
    assert "no such file or directory" in err


def test_fail_on_raises_the_bar(tmp_path: Path) -> None:
    path = str(write(tmp_path / "key.json", DEFAULT_POLICY))  # KMS001 is medium
    assert run("--fail-on", "high", path)[0] == exitcodes.OK
    assert run("--fail-on", "medium", path)[0] == exitcodes.FINDINGS


def test_select_and_ignore(tmp_path: Path) -> None:
    path = str(write(tmp_path / "key.json", star_policy()))
    assert run("--ignore", "wildcard-principal", path)[1]["findings"] == []
    assert run("--select", "KMS001", path)[1]["findings"] == []
    # A prefix selects every rule under it, off-by-default ones too (KMS007 here).
    assert rules_and_lines(run("--select", "KMS00", path)[1]) == [("KMS003", 4), ("KMS007", 4)]
    result = CliRunner().invoke(main, ["--select", "KMS999", path])
    assert result.exit_code == exitcodes.ERROR
    assert "unknown rule(s): KMS999 (did you mean KMS901?) (see `kmslint rules`)" in result.stderr
    result = CliRunner().invoke(main, ["--select", "wildcard-principals,zzz", path])
    assert "unknown rule(s): wildcard-principals (did you mean wildcard-principal?), zzz (see" in result.stderr


def test_text_output_and_summary(tmp_path: Path) -> None:
    path = write(tmp_path / "key.json", star_policy())
    result = CliRunner().invoke(main, [str(path)])
    assert result.exit_code == exitcodes.FINDINGS
    first, summary = result.stdout.splitlines()
    assert first.startswith(f"{path}:4:5: KMS003 [critical] statement `Everyone` allows `*`")
    assert "\x1b[" not in first  # no colour when not a terminal
    assert summary == "Found 1 finding (1 critical) in 1 file."
    # A JSON file that is no template, plan or policy is skipped, and not counted (OUTPUT.md).
    clean = CliRunner().invoke(main, [str(write(tmp_path / "ok" / "p.json", {"name": "x"}))])
    assert clean.exit_code == exitcodes.OK  # a named file that is not IaC never changes the exit code
    last = "Nothing linted: no Terraform, CloudFormation or key-policy file read; 1 file skipped (not IaC)."
    assert clean.stdout.splitlines()[-1] == last


def test_exit_zero(tmp_path: Path) -> None:
    path = str(write(tmp_path / "key.json", star_policy()))
    assert CliRunner().invoke(main, ["--exit-zero", path]).exit_code == exitcodes.OK


def test_stdin(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--format", "json", "--stdin-filename", "keys/policy.json", "-"], input=json.dumps(star_policy())
    )
    assert result.exit_code == exitcodes.FINDINGS
    doc = json.loads(result.stdout)
    assert [(f["file"], f["rule_id"]) for f in doc["findings"]] == [("keys/policy.json", "KMS003")]


def test_version_rules_and_explain() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--version"]).stdout == f"kmslint {__version__}\n"
    table = runner.invoke(main, ["rules"]).stdout.splitlines()
    assert table[0].split() == ["ID", "SLUG", "SEVERITY", "DEFAULT", "SUMMARY"]
    assert any(line.startswith("KMS003  wildcard-principal") for line in table)
    text = runner.invoke(main, ["explain", "kms003"]).stdout
    for heading in ("KMS003 wildcard-principal", "Why it matters", "How to fix", "Bad (policy)", "References"):
        assert heading in text
    assert runner.invoke(main, ["explain", "wildcard-principal"]).stdout == text
    unknown = runner.invoke(main, ["explain", "KMS999"])
    assert unknown.exit_code == exitcodes.ERROR


@pytest.mark.parametrize("module", [True, False])
def test_runs_as_a_process(tmp_path: Path, module: bool) -> None:
    path = write(tmp_path / "key.json", DEFAULT_POLICY)
    exe = [sys.executable, "-m", "kmslint"] if module else [str(Path(sys.executable).parent / "kmslint")]
    assert Path(exe[0]).exists(), "the kmslint console script is installed beside the interpreter (pyproject's scripts)"
    proc = subprocess.run([*exe, "--format", "json", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == exitcodes.FINDINGS, proc.stderr
    assert rules_and_lines(json.loads(proc.stdout)) == [("KMS001", 5)]
    assert proc.stderr == ""


def _text(*args: str) -> tuple[int, list[str], list[str]]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout.splitlines(), result.stderr.splitlines()


def test_an_empty_directory_is_nothing_to_lint(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    code, out, err = _text(str(tmp_path / "infra"))
    assert code == exitcodes.ERROR
    assert out == []  # one line, on stderr: no summary that could read as a result
    assert err == [
        f"kmslint: error: {tmp_path / 'infra'}: nothing to lint: no Terraform, CloudFormation, plan or key-policy"
        " file found in it (--allow-nothing-to-lint accepts that)"
    ]


def test_a_directory_without_iac_is_nothing_to_lint_and_counts_what_it_skipped(tmp_path: Path) -> None:
    write(tmp_path / "package.json", {"name": "web"})
    write(tmp_path / "ok" / "main.tf", 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n')
    code, out, err = _text("--select", "KMS002", str(tmp_path), str(tmp_path / "web"))
    assert code == exitcodes.ERROR  # one path given that does not exist is enough
    assert out == ["No findings in 1 file; 1 file skipped (not IaC)."]
    assert err == [f"kmslint: error: {tmp_path / 'web'}: no such file or directory"]
    _code, doc, _err = run(str(tmp_path))
    assert (doc["summary"]["files"], doc["summary"]["skipped"]) == (1, 1)  # type: ignore[index]
    (tmp_path / "ok" / "main.tf").unlink()
    code, out, err = _text(str(tmp_path))
    assert code == exitcodes.ERROR
    assert out == []
    assert err == [
        f"kmslint: error: {tmp_path}: nothing to lint: no Terraform, CloudFormation, plan or key-policy"
        " file found in it (--allow-nothing-to-lint accepts that)"
    ]
    code, out, err = _text("--allow-nothing-to-lint", str(tmp_path))
    assert (code, err) == (exitcodes.OK, [])
    assert out == ["Nothing linted: no Terraform, CloudFormation or key-policy file read; 1 file skipped (not IaC)."]
    write(tmp_path / ".kmslint.toml", "allow-nothing-to-lint = true\n")
    code, out, err = _text(str(tmp_path))
    assert (code, err) == (exitcodes.OK, [])


def test_a_mistyped_path_is_one_line_and_no_clean_summary(tmp_path: Path) -> None:
    code, out, err = _text(str(tmp_path / "infar"))
    assert code == exitcodes.ERROR
    assert err == [f"kmslint: error: {tmp_path / 'infar'}: no such file or directory"]
    assert out == []  # not "No findings in 0 files.", which reads as a pass


def test_an_unreadable_directory_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kmslint import discovery

    locked = tmp_path / "locked"
    locked.mkdir()
    real = discovery._sorted_entries

    def refuse(path: str) -> object:  # chmod 000 does not stop root, who runs CI containers
        if path == str(locked):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(discovery, "_sorted_entries", refuse)
    code, out, err = _text(str(locked))
    assert code == exitcodes.ERROR
    assert err == [f"kmslint: error: {locked}: cannot read this directory: Permission denied"]
    assert out == []


def test_many_named_files_that_are_not_iac_give_one_line_and_exit_0(tmp_path: Path) -> None:
    # pre-commit names every changed YAML and JSON file: none of them may fail the hook.
    names = [str(write(tmp_path / f"p{i}.json", {"name": i})) for i in range(3)]
    code, _out, err = _text(*names)
    assert code == exitcodes.OK
    assert err == [
        "kmslint: skipped 3 files that are not Terraform, CloudFormation or key policies; --verbose lists them"
    ]
    code, _out, err = _text("--verbose", *names)
    assert code == exitcodes.OK
    assert err == [f"kmslint: {name}: skipped, nothing KMS-related in it" for name in names]
    code, _out, err = _text(names[0])
    assert err == [f"kmslint: {names[0]}: skipped, nothing KMS-related in it"]


def test_help_shows_the_lint_options_and_how_paths_and_commands_differ() -> None:
    text = CliRunner().invoke(main, ["--help"]).stdout
    assert "Lint options (kmslint [OPTIONS] [PATH ...]):" in text
    assert "--fail-on" in text and "--allow-nothing-to-lint" in text
    assert "Commands:" in text
    assert "kmslint ./rules" in " ".join(text.split())


def test_a_command_name_is_the_command_and_says_how_to_lint_a_path_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "rules" / "key.json", star_policy())
    monkeypatch.chdir(tmp_path)
    listed = CliRunner().invoke(main, ["rules"])
    assert listed.exit_code == exitcodes.OK
    assert listed.stdout.startswith("ID ")
    assert listed.stderr == "kmslint: running `kmslint rules`; to lint the path rules, run `kmslint ./rules`\n"
    for args in (["./rules"], ["check", "rules"]):
        linted = CliRunner().invoke(main, args)
        assert linted.exit_code == exitcodes.FINDINGS, args
        assert "KMS003" in linted.stdout
    (tmp_path / "rules" / "key.json").unlink()
    (tmp_path / "rules").rmdir()
    assert CliRunner().invoke(main, ["rules"]).stderr == ""  # no such path: nothing to say


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ('resource "aws_kms_key" "k" {\n  multi_region = true\n}\n', "stdin.tf:1:1: KMS002"),
        (
            "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: false\n",
            "stdin.yaml:5:7: KMS002",
        ),
        (
            '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}',
            "stdin.json:1:16: KMS003",
        ),
        ('\n  {"Statement": [kms\n', "stdin.json:2:"),  # JSON all the same: broken JSON is KMS000
    ],
    ids=["terraform", "yaml-template", "json-policy", "broken-json"],
)
def test_stdin_without_a_name_is_read_as_what_it_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, first: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--select", "KMS002,KMS003", "-"], input=text)
    assert result.stdout.startswith(first), result.stdout
    assert result.exit_code in (exitcodes.FINDINGS, exitcodes.ERROR)


def test_report_writes_more_formats_from_the_same_run(tmp_path: Path) -> None:
    write(tmp_path / "main.tf", 'resource "aws_kms_key" "k" {}\n')
    sarif, doc = tmp_path / "out" / "k.sarif", tmp_path / "k.json"
    (tmp_path / "out").mkdir()
    code, out, err = _text("--report", f"sarif:{sarif}", "--report", f"json:{doc}", str(tmp_path / "main.tf"))
    assert (code, err) == (exitcodes.FINDINGS, [])
    assert out[-1] == "Found 2 findings (1 high, 1 medium) in 1 file."
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == ["KMS001", "KMS002"]
    assert rules_and_lines(json.loads(doc.read_text())) == [("KMS001", 1), ("KMS002", 1)]


@pytest.mark.parametrize(
    ("spec", "says"),
    [("sarif", "expected FORMAT:FILE"), ("sarif:", "expected FORMAT:FILE"), ("xml:k.xml", "unknown format 'xml'")],
)
def test_report_needs_a_known_format_and_a_file(tmp_path: Path, spec: str, says: str) -> None:
    write(tmp_path / "main.tf", 'resource "aws_kms_key" "k" {}\n')
    code, _out, err = _text("--report", spec, str(tmp_path))
    assert code == exitcodes.ERROR
    assert says in err[-1]


def test_sarif_of_a_run_that_read_nothing_is_not_a_success(tmp_path: Path) -> None:
    sarif = tmp_path / "k.sarif"
    (tmp_path / "empty").mkdir()
    code, _out, _err = _text("--report", f"sarif:{sarif}", str(tmp_path / "empty"))
    assert code == exitcodes.ERROR
    [invocation] = json.loads(sarif.read_text())["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert "nothing to lint" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    code, _out, _err = _text("--allow-nothing-to-lint", "--report", f"sarif:{sarif}", str(tmp_path / "empty"))
    assert code == exitcodes.OK
    [invocation] = json.loads(sarif.read_text())["runs"][0]["invocations"]
    assert invocation == {"executionSuccessful": True, "toolExecutionNotifications": []}
