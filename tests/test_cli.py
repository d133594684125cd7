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
    assert "unknown rule(s): KMS999" in result.stderr


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
    assert clean.stdout.splitlines()[-1] == "No findings in 0 files."


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
    if not module and not Path(exe[0]).exists():
        pytest.skip("the kmslint console script is not installed in this environment")
    proc = subprocess.run([*exe, "--format", "json", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == exitcodes.FINDINGS, proc.stderr
    assert rules_and_lines(json.loads(proc.stdout)) == [("KMS001", 5)]
    assert proc.stderr == ""
