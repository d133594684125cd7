"""What the package says about itself: license, URLs, dependencies, what the sdist holds."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import kmslint
from tests.conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, before it joined the standard library
    import tomli as tomllib

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def test_license_file_is_the_license_the_metadata_names() -> None:
    assert PROJECT["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_every_url_comes_from_one_setting() -> None:
    """The repository's address is written once in the package; pyproject's URLs agree with it."""
    assert kmslint.HOMEPAGE.startswith("https://")
    written = [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "kmslint").rglob("*.py"))
        if kmslint.HOMEPAGE in path.read_text(encoding="utf-8")
    ]
    assert written == ["kmslint/__init__.py"]
    for name, url in PROJECT["urls"].items():
        assert url.startswith(kmslint.HOMEPAGE), name
    from kmslint.formatters import rule_doc_url

    assert rule_doc_url("KMS003").startswith(kmslint.HOMEPAGE + "/")


def test_classifiers_name_each_supported_python() -> None:
    versions = {c.rsplit(" :: ", 1)[1] for c in PROJECT["classifiers"] if re.fullmatch(r".*:: 3\.\d+", c)}
    assert versions == {"3.10", "3.11", "3.12", "3.13"}


def _imported(name: str) -> list[str]:
    pattern = re.compile(rf"^\s*(import|from)\s+{name}\b", re.MULTILINE)
    return [p.name for p in (ROOT / "kmslint").rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]


def test_runtime_dependencies_are_what_the_package_imports() -> None:
    runtime = {re.split(r"[<>=!~ ;\[]", dep, maxsplit=1)[0] for dep in PROJECT["dependencies"]}
    assert "jsonschema" not in runtime
    assert _imported("jsonschema") == []
    assert any(dep.startswith("jsonschema") for dep in PROJECT["optional-dependencies"]["test"])
    # pydantic's engine only: the pydantic package itself is imported by nothing.
    assert "pydantic" not in runtime
    assert _imported("pydantic") == []
    assert "pydantic-core" in runtime
    assert _imported("pydantic_core") == ["config.py"]


def test_cfnlint_plugin_without_cfn_lint_is_one_line(tmp_path: Path) -> None:
    # -S: no site-packages, so no cfn-lint; kmslint.cfnlint_plugin needs nothing else to say so.
    proc = subprocess.run(
        [sys.executable, "-S", "-m", "kmslint.cfnlint_plugin"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("kmslint: cfn-lint is not installed")


def test_readme_cites_only_files_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    cited = set(re.findall(r"\]\((?!https?:|#)([^)#]+)", readme))
    cited |= {m for m in re.findall(r"`([\w./-]+\.(?:md|yml|yaml|toml))`", readme) if "/" in m or m.isupper()}
    missing = sorted(path for path in cited if not (ROOT / path).exists() and not path.startswith("."))
    assert missing == []


@pytest.mark.slow
def test_sdist_holds_what_its_tests_and_users_need(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (sdist,) = tmp_path.glob("kmslint-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for needed in (
        "LICENSE",
        "CONTRIBUTING.md",  # the README links to it
        "action.yml",
        ".pre-commit-hooks.yaml",
        ".pre-commit-config.yaml",
        ".github/workflows/release.yml",
        "docs/rules.md",
        "docs/security.md",
        "examples/main.tf",
        "examples/good/main.tf",
        "rules/KMS003.yaml",
        "tests/conftest.py",
        "fixtures/golden",
        "bench/run.py",
    ):
        assert needed in names or any(n.startswith(needed + "/") for n in names), needed


def test_release_workflow_tests_the_wheel_then_publishes_with_trusted_publishing_then_tags() -> None:
    import yaml

    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    jobs = flow["jobs"]
    assert jobs["test"]["needs"] == "build"
    assert jobs["test"]["strategy"]["matrix"]["python"] == ["3.10", "3.11", "3.12", "3.13"]
    test_script = "\n".join(step.get("run", "") for step in jobs["test"]["steps"])
    assert "python -m venv" in test_script
    assert '"$wheel[test,lsp]"' in test_script
    assert "pytest" in test_script
    publish = jobs["publish"]
    assert publish["needs"] == "test"
    assert publish["permissions"] == {"id-token": "write"}
    assert any(step.get("uses", "").startswith("pypa/gh-action-pypi-publish@") for step in publish["steps"])
    assert not any("password" in (step.get("with") or {}) for step in publish["steps"])  # no token
    assert jobs["tag"]["needs"] == "publish"
    assert 'git tag "v$VERSION"' in jobs["tag"]["steps"][-1]["run"]
    assert flow["permissions"] == {"contents": "read"}


def test_the_whole_suite_runs_the_slow_tests_too() -> None:
    """pyproject's addopts skip `slow` locally; the README's test command, .ci/run and a release run everything."""
    assert "-m 'not slow'" in PYPROJECT["tool"]["pytest"]["ini_options"]["addopts"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = readme.split("Set up and run the whole test suite (ruff, mypy, pytest):\n\n    ", 1)[1].split("\n", 1)[0]
    assert command.endswith(" && .venv/bin/pytest -m ''")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert command + " || exit 1" in ci
    assert "\"$venv/bin/pytest\" -m '';" in ci
    release = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    assert re.findall(r"pytest.*", release) == ["pytest -p no:cacheprovider -m ''"]


def test_readme_first_command_output_is_what_examples_give() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split("which prints (long lines cut here):\n\n", 1)[1].split("\n\n", 1)[0]
    expected = [line.removeprefix("    ").removesuffix(" ...") for line in shown.splitlines()]
    proc = subprocess.run(
        [sys.executable, "-m", "kmslint", "--exit-zero", "examples/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    got = proc.stdout.splitlines()
    assert len(got) == len(expected)
    for line, prefix in zip(got, expected):
        assert line.startswith(prefix), (line, prefix)
    good = subprocess.run([sys.executable, "-m", "kmslint", "examples/good"], cwd=ROOT, capture_output=True, text=True)
    assert good.returncode == 0, good.stdout
