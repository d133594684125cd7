"""The GitHub Action (``action.yml``), its steps run as written.

The test reads ``action.yml``, stands in for the runner (the one ``uses:``
step, ``actions/setup-python``, is replaced by this interpreter; ``${{ }}``
expressions are evaluated from the inputs, the step outputs and the runner
context), and runs each ``run:`` script with bash as GitHub does
(``bash --noprofile --norc -eo pipefail``) in a temporary workspace with the
real CLI.  The install step really installs this checkout with pip into a
fresh virtual environment, once for the module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_sarif import validate

pytestmark = pytest.mark.slow

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")

WILDCARD_TF = """\
resource "aws_kms_key" "shared" {
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Everyone"
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = ["kms:Decrypt", "kms:PutKeyPolicy"]
      Resource  = "*"
    }]
  })
}
"""

NO_ROTATION_TEMPLATE = """\
Resources:
  LogsKey:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: KeyAdministrators
            Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/KeyAdmin"}
            Action: ["kms:PutKeyPolicy", "kms:Describe*"]
            Resource: "*"
"""


@dataclass
class Runner:
    """Enough of a GitHub runner to run this composite action's steps."""

    workspace: Path
    temp: Path
    step_outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    # The `github.event` context: what triggered the workflow (a pull request's base commit).
    event: dict[str, Any] = field(default_factory=dict)

    @property
    def summary_file(self) -> Path:
        return self.temp / "step-summary.md"

    def evaluate(self, text: str, inputs: dict[str, str]) -> str:
        def value(match: re.Match[str]) -> str:
            # `a || b`: the first operand that is not empty, as GitHub's expressions do for strings.
            return next((v for v in map(one, match.group(1).split("||")) if v), "")

        def one(expr: str) -> str:
            expr = expr.strip()
            if expr.startswith("inputs."):
                # An input's default may be an expression of the github context, evaluated by GitHub.
                return self.evaluate(inputs[expr.removeprefix("inputs.")], inputs)
            if expr.startswith("github.event."):
                found: Any = self.event
                for name in expr.removeprefix("github.event.").split("."):
                    found = found.get(name, "") if isinstance(found, dict) else ""
                return str(found)
            if expr == "github.action_path":
                return str(ROOT)
            if expr == "runner.temp":
                return str(self.temp)
            m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
            if m:
                return self.step_outputs.get(m.group(1), {}).get(m.group(2), "")
            raise AssertionError(f"the test runner does not know the expression {expr!r}")

        return EXPR.sub(value, text)

    def run_step(self, step: dict[str, Any], inputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
        assert step.get("shell") == "bash", step
        step_id = step["id"]
        output_file = self.temp / f"output-{step_id}-{len(self.step_outputs)}"
        output_file.write_text("")
        script = self.temp / f"{step_id}.sh"
        script.write_text(self.evaluate(step["run"], inputs))
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", str(self.temp)),
            "LANG": "C.UTF-8",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTION_PATH": str(ROOT),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(self.summary_file),
            "RUNNER_TEMP": str(self.temp),
            "RUNNER_OS": "Linux",
        }
        for name in ("PIP_FIND_LINKS", "PIP_CONSTRAINT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CERT"):
            if name in os.environ:
                env[name] = os.environ[name]
        env.update({k: self.evaluate(str(v), inputs) for k, v in (step.get("env") or {}).items()})
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        outputs: dict[str, str] = {}
        for line in output_file.read_text().splitlines():
            name, _, val = line.partition("=")
            outputs[name] = val
        self.step_outputs[step_id] = outputs
        return proc


def inputs_with(**given: str) -> dict[str, str]:
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    for name, val in given.items():
        key = name.replace("_", "-")
        assert key in values, f"action.yml has no input {key}"
        values[key] = val
    return values


def steps() -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ACTION["runs"]["steps"]
    return result


def step(step_id: str) -> dict[str, Any]:
    [found] = [s for s in steps() if s.get("id") == step_id]
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """Run the set-up steps once: setup-python stands in as this interpreter, then the real install step."""
    temp = tmp_path_factory.mktemp("runner-temp")
    runner = Runner(workspace=tmp_path_factory.mktemp("workspace"), temp=temp)
    inputs = inputs_with()
    setup, install = step("python"), step("install")
    assert [s["id"] for s in steps()] == ["python", "install", "run", "access-diff"]
    assert setup["uses"].startswith("actions/setup-python@")
    runner.step_outputs[setup["id"]] = {"python-path": sys.executable}
    proc = runner.run_step(install, inputs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    python = runner.step_outputs["install"]["python"]
    assert Path(python).is_file()
    assert Path(python).parent.parent == temp / "kmslint-venv"
    assert "kmslint" in proc.stdout  # `kmslint --version`
    return runner


def run_action(
    runner: Runner, workspace: Path, **given: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    runner.workspace = workspace
    proc = runner.run_step(step("run"), inputs_with(**given))
    return proc, runner.step_outputs["run"]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(WILDCARD_TF)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "logs.yaml").write_text(NO_ROTATION_TEMPLATE)
    (tmp_path / "package.json").write_text('{"name": "app"}')
    return tmp_path


def test_action_metadata() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) >= {"paths", "format", "fail-on", "config", "sarif-file", "baseline"}
    assert ACTION["inputs"]["format"]["default"] == "github"
    assert ACTION["inputs"]["sarif-file"]["default"] == "kmslint.sarif"
    install = steps()[1]["run"]
    assert "pip install" in install
    assert steps()[1]["env"]["KMSLINT_SOURCE"] == "${{ github.action_path }}"


def test_no_input_is_pasted_into_a_script() -> None:
    """Inputs go through env: a path like `$(rm -rf ~)` must stay a string."""
    for step in steps():
        assert "${{" not in step.get("run", ""), step["name"]


def test_findings_fail_the_step_with_annotations_and_a_sarif_file(installed: Runner, workspace: Path) -> None:
    proc, outputs = run_action(installed, workspace)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(
        line.startswith("::error file=infra/main.tf,line=") and ",title=KMS003 wildcard-principal::[critical]" in line
        for line in lines
    ), proc.stdout
    assert any(
        line.startswith("::error file=stacks/logs.yaml,") and "title=KMS002 rotation-disabled" in line for line in lines
    ), proc.stdout
    assert outputs == {"sarif-file": "kmslint.sarif", "exit-code": "1"}
    log = json.loads((workspace / "kmslint.sarif").read_text())
    results = log["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"infra/main.tf", "stacks/logs.yaml"}
    validate(log)


def test_fail_on_threshold_and_none(installed: Runner, workspace: Path) -> None:
    (workspace / "infra" / "main.tf").unlink()  # leaves KMS002 (high)
    proc, outputs = run_action(installed, workspace, fail_on="critical")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "title=KMS002 rotation-disabled" in proc.stdout  # still annotated
    assert outputs["exit-code"] == "0"
    proc, outputs = run_action(installed, workspace, fail_on="high")
    assert proc.returncode == 1
    proc, outputs = run_action(installed, workspace, fail_on="none")
    assert proc.returncode == 0
    assert outputs["exit-code"] == "0"


def test_paths_format_and_sarif_location(installed: Runner, workspace: Path) -> None:
    proc, outputs = run_action(
        installed, workspace, paths="infra\n  stacks/logs.yaml\n", format="text", sarif_file="reports/ci/kmslint.sarif"
    )
    assert proc.returncode == 1
    assert "infra/main.tf:" in proc.stdout
    assert "stacks/logs.yaml:" in proc.stdout
    assert not proc.stdout.startswith("::")
    assert outputs["sarif-file"] == "reports/ci/kmslint.sarif"
    assert json.loads((workspace / "reports" / "ci" / "kmslint.sarif").read_text())["version"] == "2.1.0"


def test_only_the_named_paths_and_no_sarif(installed: Runner, workspace: Path) -> None:
    proc, outputs = run_action(installed, workspace, paths="stacks", sarif_file="")
    assert proc.returncode == 1
    assert "infra/main.tf" not in proc.stdout
    assert outputs["sarif-file"] == ""
    assert not (workspace / "kmslint.sarif").exists()


def test_clean_workspace_passes(installed: Runner, tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing to see\n")
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n')
    proc, outputs = run_action(installed, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("kmslint: no findings")
    assert json.loads((tmp_path / "kmslint.sarif").read_text())["runs"][0]["results"] == []
    assert outputs["exit-code"] == "0"


def test_a_workspace_with_nothing_to_lint_fails(installed: Runner, tmp_path: Path) -> None:
    # A job pointed at the wrong directory must not pass for ever (OUTPUT.md, "Exit codes").
    (tmp_path / "README.md").write_text("nothing to see\n")
    proc, outputs = run_action(installed, tmp_path)
    assert proc.returncode == 2
    assert outputs["exit-code"] == "2"
    said = proc.stdout + proc.stderr
    assert said.count("kmslint: error: .: nothing to lint") == 1  # said once: kmslint ran once
    # A report of a run that read nothing would close every code-scanning alert: none is placed.
    assert not (tmp_path / "kmslint.sarif").exists()
    assert "::error title=kmslint::no SARIF report written to kmslint.sarif" in proc.stdout
    assert "kmslint stopped with an error (exit code 2)" in installed.summary_file.read_text()


def test_kmslint_runs_once_for_the_log_the_sarif_and_the_summary(installed: Runner, workspace: Path) -> None:
    real = installed.step_outputs["install"]["python"]
    calls = installed.temp / "calls.log"
    calls.unlink(missing_ok=True)
    wrapper = installed.temp / "python-counting"
    wrapper.write_text(f'#!/bin/sh\necho "$2" >> "{calls}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    installed.step_outputs["install"]["python"] = str(wrapper)
    try:
        proc, outputs = run_action(installed, workspace)
    finally:
        installed.step_outputs["install"]["python"] = real
    assert outputs["sarif-file"] == "kmslint.sarif"
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert calls.read_text().split() == ["kmslint", "kmslint.action_summary"]
    sarif = json.loads((workspace / "kmslint.sarif").read_text())
    in_sarif = sorted(r["ruleId"] for r in sarif["runs"][0]["results"])
    in_log = sorted(re.findall(r"^::error file=.*title=(KMS\d+)", proc.stdout, re.M))
    assert in_sarif == in_log == ["KMS002", "KMS003"]


def test_a_path_that_looks_like_a_command_stays_a_path(installed: Runner, workspace: Path) -> None:
    marker = workspace / "pwned"
    proc, outputs = run_action(installed, workspace, paths=f"$(touch {marker}) ;touch {marker}")
    assert not marker.exists()
    assert proc.returncode == 2  # no such paths: a usage error
    assert outputs["exit-code"] == "2"


def test_bad_format_is_a_usage_error(installed: Runner, workspace: Path) -> None:
    proc, outputs = run_action(installed, workspace, format="xml")
    assert proc.returncode == 2
    assert outputs["exit-code"] == "2"


def test_config_input(installed: Runner, workspace: Path) -> None:
    (workspace / "ci").mkdir()
    (workspace / "ci" / "kmslint.toml").write_text('ignore = ["KMS003"]\n')
    proc, _ = run_action(installed, workspace, config="ci/kmslint.toml")
    assert proc.returncode == 1
    assert "KMS003" not in proc.stdout
    assert "KMS002" in proc.stdout


def test_baseline_input(installed: Runner, workspace: Path) -> None:
    python = installed.step_outputs["install"]["python"]
    subprocess.run(
        [python, "-m", "kmslint", "--write-baseline", "kmslint-baseline.json", "."],
        cwd=workspace,
        capture_output=True,
        check=True,
        timeout=60,
    )
    proc, outputs = run_action(installed, workspace, baseline="kmslint-baseline.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs["exit-code"] == "0"
    # A new finding after the baseline still fails.
    shutil.copy(workspace / "stacks" / "logs.yaml", workspace / "stacks" / "audit.yaml")
    proc, _ = run_action(installed, workspace, baseline="kmslint-baseline.json")
    assert proc.returncode == 1
    assert "stacks/audit.yaml" in proc.stdout


def test_paths_one_a_line_with_spaces_and_globs(installed: Runner, workspace: Path) -> None:
    spaced = workspace / "my stacks"
    spaced.mkdir()
    shutil.move(workspace / "stacks" / "logs.yaml", spaced / "logs.yaml")
    (workspace / "infra" / "extra.tf").write_text(WILDCARD_TF)
    proc, _ = run_action(installed, workspace, paths="  my stacks  \ninfra/*.tf\n\n", format="text", sarif_file="")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for name in ("my stacks/logs.yaml:", "infra/main.tf:", "infra/extra.tf:"):
        assert name in proc.stdout
    # A pattern that matches nothing is passed as written, and is a missing path.
    proc, outputs = run_action(installed, workspace, paths="infra/*.tfvars", sarif_file="")
    assert proc.returncode == 2
    assert "infra/*.tfvars" in proc.stdout + proc.stderr
    assert outputs["exit-code"] == "2"


def test_a_config_error_leaves_no_sarif_and_says_what_failed(installed: Runner, workspace: Path) -> None:
    (workspace / "kmslint.sarif").write_text("")  # left by an earlier step: must not be uploaded
    (workspace / "bad.toml").write_text('fail_on = "high"\n')
    proc, outputs = run_action(installed, workspace, config="bad.toml")
    assert proc.returncode == 2
    assert not (workspace / "kmslint.sarif").exists()
    assert "::error title=kmslint::no SARIF report written to kmslint.sarif" in proc.stdout
    assert "fail_on" in proc.stderr  # kmslint's own line about the key
    assert outputs == {"sarif-file": "", "exit-code": "2"}


def test_action_documents_only_config_keys_the_config_accepts() -> None:
    from kmslint.config import KEYS

    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    named = set(re.findall(r"configuration file's `([\w-]+)`", text))
    assert named == {"fail-on"}
    assert named <= set(KEYS)


BARE_ARRAY = re.compile(r'(?<!\+)"\$\{(\w+)\[@\]\}"')


def test_no_array_is_expanded_in_the_form_bash_3_2_rejects() -> None:
    for step in steps():
        assert not BARE_ARRAY.findall(step.get("run", "")), step["name"]


def test_empty_arrays_under_bash_3_2_semantics(installed: Runner, workspace: Path) -> None:
    """bash 3.2 stops on "${a[@]}" of an empty array under set -u; bash 5 does not.

    The run step is rewritten so that every bare "${a[@]}" becomes "${a[@]?}",
    which fails on an empty array here as the bare form does on 3.2, and is
    run with every input that fills an array left empty (no config, baseline
    or fail-on).  The rewrite is first shown to catch the construct.
    """
    run = step("run")
    emulated = {**run, "run": BARE_ARRAY.sub(r'"${\1[@]?}"', run["run"])}
    workspace.joinpath("infra", "main.tf").unlink()
    installed.workspace = workspace
    proc = installed.run_step(emulated, inputs_with(paths="stacks"))
    assert "parameter not set" not in proc.stderr
    assert proc.returncode == 1, proc.stdout + proc.stderr
    broken = {**run, "run": run["run"].replace('${args[@]+"${args[@]}"}', '"${args[@]}"', 1)}
    broken["run"] = BARE_ARRAY.sub(r'"${\1[@]?}"', broken["run"])
    proc = installed.run_step(broken, inputs_with(paths="stacks"))
    assert "args[@]: parameter not set" in proc.stderr


def test_runner_python_replaces_setup_python() -> None:
    setup, install = step("python"), step("install")
    assert setup["if"] == "inputs.python == ''"
    runner = Runner(workspace=ROOT, temp=ROOT)
    base = install["env"]["KMSLINT_BASE_PYTHON"]
    assert runner.evaluate(base, inputs_with(python="/usr/bin/python3")) == "/usr/bin/python3"
    runner.step_outputs["python"] = {"python-path": "/opt/hostedtoolcache/python"}
    assert runner.evaluate(base, inputs_with()) == "/opt/hostedtoolcache/python"


def test_job_summary_counts_and_top_findings(installed: Runner, workspace: Path) -> None:
    installed.summary_file.write_text("")
    proc, _ = run_action(installed, workspace)
    assert proc.returncode == 1
    summary = installed.summary_file.read_text()
    assert summary.startswith("## kmslint\n")
    assert "| critical | 1 |" in summary
    assert "| high | " in summary
    assert "| KMS003 wildcard-principal | critical | `infra/main.tf:" in summary
    installed.summary_file.write_text("")
    run_action(installed, workspace, summary="false")
    assert installed.summary_file.read_text() == ""


def test_annotations_past_the_runner_limit_are_noted(installed: Runner, workspace: Path) -> None:
    proc, _ = run_action(installed, workspace)
    assert "::notice title=kmslint::" not in proc.stdout
    for i in range(11):
        (workspace / "stacks" / f"copy{i}.yaml").write_text(NO_ROTATION_TEMPLATE)
    proc, _ = run_action(installed, workspace)
    notes = [line for line in proc.stdout.splitlines() if line.startswith("::notice title=kmslint::")]
    assert len(notes) == 1, proc.stdout
    assert "GitHub shows 10 annotations of each level per step" in notes[0]
    proc, _ = run_action(installed, workspace, format="text")
    assert "::notice" not in proc.stdout


def test_summary_module_escapes_cells_and_reports_an_unreadable_report(tmp_path: Path) -> None:
    from kmslint.action_summary import main, summary

    finding = {"rule_id": "KMS003", "rule": "r", "severity": "low", "file": "a|b.tf", "line": 2, "message": "x | y\nz"}
    text = summary({"findings": [finding], "summary": {"files": 1}})
    assert "| KMS003 r | low | `a\\|b.tf:2` | x \\| y z |" in text
    assert main([str(tmp_path / "missing.json"), str(tmp_path / "s.md")]) == 2
    assert not (tmp_path / "s.md").exists()


def test_readme_workflow_uploads_with_v4_and_the_permissions_it_needs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## GitHub Action\n") : readme.index("## Editors\n")]
    workflow = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    assert workflow["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}
    steps_ = workflow["jobs"]["kmslint"]["steps"]
    [upload] = [s for s in steps_ if "upload-sarif" in s.get("uses", "")]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
    assert "hashFiles('kmslint.sarif') != ''" in upload["if"]
    [lint] = [s for s in steps_ if s.get("uses", "").startswith("kmslint/kmslint@")]
    assert set(lint["with"]) <= set(ACTION["inputs"])
    assert "Fork pull requests" in section


# --------------------------------------------------------------------------- the access diff

DIFF_DATA = ROOT / "tests" / "data" / "access_diffcmd"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        capture_output=True,
        check=True,
        timeout=60,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"},
    )
    return done.stdout.decode("utf-8", "surrogateescape").strip()


@pytest.fixture
def pull_request(tmp_path: Path) -> tuple[Path, str]:
    """A checkout of a pull request: the base commit, then the head commit that adds a principal,
    drops a condition, removes a statement and moves a queue to the other key; the base's ID."""
    repo = tmp_path / "checkout"
    (repo / "infra").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "infra" / "main.tf").write_text((DIFF_DATA / "one.tf").read_text())
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "infra" / "main.tf").write_text((DIFF_DATA / "two.tf").read_text())
    git(repo, "commit", "-q", "-a", "-m", "head")
    return repo, base


def run_access_diff(
    runner: Runner, workspace: Path, base: str | None, **given: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    runner.workspace = workspace
    runner.event = {"pull_request": {"base": {"sha": base}}} if base is not None else {}
    runner.summary_file.write_text("")
    try:
        proc = runner.run_step(step("access-diff"), inputs_with(access_diff="true", **given))
    finally:
        runner.event = {}
    return proc, runner.step_outputs["access-diff"]


def test_access_diff_is_off_by_default_and_compares_with_the_pull_requests_base() -> None:
    diff = step("access-diff")
    assert ACTION["inputs"]["access-diff"]["default"] == "false"
    assert ACTION["inputs"]["access-diff-fail-on-widening"]["default"] == "false"
    assert "inputs.access-diff == 'true'" in diff["if"]
    assert "!cancelled()" in diff["if"]  # after the lint, which fails the step on findings
    assert "fetch-depth: 0" in ACTION["inputs"]["access-diff"]["description"]
    runner = Runner(workspace=ROOT, temp=ROOT, event={"pull_request": {"base": {"sha": "1a2b" * 10}}})
    assert runner.evaluate(diff["env"]["INPUT_BASE"], inputs_with()) == "1a2b" * 10
    assert runner.evaluate(diff["env"]["INPUT_BASE"], inputs_with(access_diff_base="v1.2")) == "v1.2"


def test_access_diff_writes_the_markdown_to_the_job_summary(installed: Runner, pull_request: tuple[Path, str]) -> None:
    repo, base = pull_request
    before = git(repo, "status", "--porcelain"), (repo / ".git" / "index").read_bytes()
    proc, outputs = run_access_diff(installed, repo, base)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs == {"exit-code": "0"}
    summary = installed.summary_file.read_text()
    assert summary.startswith("## Key access changes\n\nFrom `" + base + " (" + base[:8] + ")` to `the work tree`.")
    assert "| **widened** | `arn:aws:iam::111122223333:role/app` |" in summary
    assert "| **added** | `arn:aws:iam::111122223333:role/deploy` |" in summary
    assert "| removed | `arn:aws:iam::111122223333:role/legacy` |" in summary
    assert "| `aws_sqs_queue.jobs` | `infra/main.tf:37` | `aws_kms_key.app` | `aws_kms_key.logs` |" in summary
    assert (git(repo, "status", "--porcelain"), (repo / ".git" / "index").read_bytes()) == before
    assert not list(installed.temp.glob("kmslint-access-diff.*"))


def test_access_diff_can_fail_on_widening(installed: Runner, pull_request: tuple[Path, str]) -> None:
    repo, base = pull_request
    proc, outputs = run_access_diff(installed, repo, base, access_diff_fail_on_widening="true")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert outputs == {"exit-code": "1"}
    assert "**Access was added or widened.**" in installed.summary_file.read_text()
    # A pull request that only narrows passes.
    (repo / "infra" / "main.tf").write_text((DIFF_DATA / "narrowed.tf").read_text())
    git(repo, "commit", "-q", "-a", "-m", "narrow")
    proc, outputs = run_access_diff(
        installed, repo, git(repo, "rev-parse", "HEAD~1"), access_diff_fail_on_widening="true"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| narrowed | `arn:aws:iam::111122223333:role/app` |" in installed.summary_file.read_text()


def test_access_diff_without_the_base_commit_says_to_fetch_it(
    installed: Runner, pull_request: tuple[Path, str], tmp_path: Path
) -> None:
    repo, base = pull_request
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", repo.as_uri(), str(shallow))  # actions/checkout's default
    proc, outputs = run_access_diff(installed, shallow, base)
    assert proc.returncode == 2
    assert outputs == {"exit-code": "2"}
    assert f"kmslint: error: --diff: unknown revision '{base}'" in proc.stderr
    assert "::error title=kmslint::the access diff could not be made (exit code 2;" in proc.stdout
    assert "fetch-depth: 0" in proc.stdout
    assert "could not compare with the base revision" in installed.summary_file.read_text()


def test_access_diff_outside_a_pull_request_needs_a_base(installed: Runner, pull_request: tuple[Path, str]) -> None:
    repo, _base = pull_request
    proc, outputs = run_access_diff(installed, repo, None)
    assert proc.returncode == 2
    assert outputs == {"exit-code": "2"}
    assert proc.stdout.startswith("::error title=kmslint::access-diff: no base revision")
    assert "No base revision to compare with" in installed.summary_file.read_text()


def test_access_diff_base_and_paths_stay_data(installed: Runner, pull_request: tuple[Path, str]) -> None:
    repo, _base = pull_request
    marker = repo / "pwned"  # the scripts run in the workspace
    for base in ("$(touch pwned)", "--output=/tmp/x", "HEAD~1\n::error::forged"):
        proc, outputs = run_access_diff(installed, repo, base)
        assert proc.returncode == 2, base
        assert "::error::forged" not in proc.stdout.splitlines()
    named = repo / "infra" / "$(touch pwned) <b>`x`|.tf"
    named.write_text('resource "aws_kms_key" "named" {}\n')
    proc, outputs = run_access_diff(installed, repo, "HEAD~1", paths="infra\n$(touch pwned)")
    assert proc.returncode == 2  # the second path does not exist: a usage error, said
    proc, outputs = run_access_diff(installed, repo, "HEAD~1", paths="infra/*.tf")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs == {"exit-code": "0"}
    assert not marker.exists()
    summary = installed.summary_file.read_text()
    assert "`aws_kms_key.named`" in summary
    assert "<b>" in summary
    outside_code = re.sub(r"(`+)(.+?)\1", "", summary)
    assert "<b>" not in outside_code  # a file's name is only ever inside a code span


def test_access_diff_empty_arrays_under_bash_3_2_semantics(installed: Runner, pull_request: tuple[Path, str]) -> None:
    repo, base = pull_request
    diff = step("access-diff")
    emulated = {**diff, "run": BARE_ARRAY.sub(r'"${\1[@]?}"', diff["run"])}
    installed.workspace = repo
    installed.event = {"pull_request": {"base": {"sha": base}}}
    try:
        proc = installed.run_step(emulated, inputs_with(access_diff="true"))
    finally:
        installed.event = {}
    assert "parameter not set" not in proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_lint_then_access_diff_in_one_summary(installed: Runner, pull_request: tuple[Path, str]) -> None:
    repo, base = pull_request
    installed.summary_file.write_text("")
    installed.workspace = repo
    installed.event = {"pull_request": {"base": {"sha": base}}}
    try:
        for one in (step("run"), step("access-diff")):
            installed.run_step(one, inputs_with(access_diff="true", sarif_file=""))
    finally:
        installed.event = {}
    summary = installed.summary_file.read_text()
    assert summary.index("## kmslint\n") < summary.index("## Key access changes\n")


def test_readme_access_diff_workflow_fetches_the_base() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Access diff in the job summary\n") : readme.index("## Editors\n")]
    workflow = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as true
    checkout, lint = workflow["jobs"]["access"]["steps"]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0
    assert lint["uses"].startswith("kmslint/kmslint@")
    assert set(lint["with"]) <= set(ACTION["inputs"])
    assert lint["with"]["access-diff"] is True


def test_access_diff_too_large_for_the_summary_goes_to_the_log(
    installed: Runner, pull_request: tuple[Path, str]
) -> None:
    repo, base = pull_request
    diff = step("access-diff")
    assert diff["env"]["KMSLINT_SUMMARY_MAX_BYTES"] == "1000000"  # GitHub's limit is 1 MiB a step
    small = {**diff, "env": {**diff["env"], "KMSLINT_SUMMARY_MAX_BYTES": "500"}}
    installed.workspace = repo
    installed.event = {"pull_request": {"base": {"sha": base}}}
    installed.summary_file.write_text("")
    try:
        proc = installed.run_step(small, inputs_with(access_diff="true"))
    finally:
        installed.event = {}
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = installed.summary_file.read_text()
    assert "more than a job summary holds: it is in the step log" in summary
    assert "role/deploy" not in summary
    assert "| **added** | `arn:aws:iam::111122223333:role/deploy` |" in proc.stdout
