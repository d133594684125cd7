"""Start-up stays cheap: a plain lint imports nothing heavy it does not need.

Each case runs ``python -X importtime -m kmslint --format json FILE`` in a
fresh process (in an empty directory, so no configuration file is found)
and reads the modules it imported from stderr.  Heavy modules -- cfn-lint,
pydantic, JSON Schema, the language server, checkov's HCL parser, SymPy,
NetworkX, the AWS SDK, requests -- must only be imported on the paths that
need them (a config file, ``--format sarif``, ``kmslint lsp``), never for a
plain Terraform or CloudFormation lint.  The rule catalogue is built into
the package (``kmslint/catalog.json``), so a Terraform or policy lint
does not even import PyYAML, on its first run as on every other.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

HEAVY = (
    "cfnlint",
    "pydantic",
    "pydantic_core",
    "jsonschema",
    "pygls",
    "lsprotocol",
    "sympy",
    "networkx",
    "hcl2",
    "lark",
    "xml.dom",
    "boto3",
    "botocore",
    "requests",
    "urllib3",
    "checkov",
)

TERRAFORM = """\
data "aws_caller_identity" "current" {}

resource "aws_kms_key" "app" {
  description         = "app"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Root"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}
"""

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: Root
            Effect: Allow
            Principal:
              AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
            Action: "kms:*"
            Resource: "*"
"""

_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$")


def imported(workdir: Path, env: dict[str, str], *args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kmslint", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    names = {m.group(1) for m in map(_LINE.match, proc.stderr.splitlines()) if m}
    assert "kmslint.cli" in names or "kmslint" in names, proc.stderr[-2000:]
    return names


def heavy(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == h or n.startswith(h + ".") for h in HEAVY))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    out["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    out["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return out


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


def test_terraform_lint_imports_nothing_heavy(workdir: Path, env: dict[str, str]) -> None:
    (workdir / "main.tf").write_text(TERRAFORM)
    first = imported(workdir, env, "--format", "json", "main.tf")  # a fresh home: nothing cached anywhere
    assert heavy(first) == []
    assert "yaml" not in first, "a Terraform lint should not need PyYAML: the catalogue is built in"
    assert "kmslint.parsers.cloudformation" not in first
    warm = imported(workdir, env, "--format", "json", "main.tf")
    assert heavy(warm) == []
    assert "yaml" not in warm


def test_cloudformation_lint_imports_nothing_heavy(workdir: Path, env: dict[str, str]) -> None:
    (workdir / "template.yaml").write_text(TEMPLATE)
    imported(workdir, env, "--format", "json", "template.yaml")
    warm = imported(workdir, env, "--format", "json", "template.yaml")
    assert heavy(warm) == []
    assert "kmslint.parsers.terraform" not in warm
    assert "tree_sitter_hcl" not in warm


def test_policy_and_text_output_import_nothing_heavy(workdir: Path, env: dict[str, str]) -> None:
    policy = ROOT / "fixtures" / "KMS001" / "fail_policy_default_written_out" / "policy.json"
    (workdir / "policy.json").write_bytes(policy.read_bytes())
    first = imported(workdir, env, "policy.json")
    assert "yaml" not in first
    warm = imported(workdir, env, "policy.json")
    assert heavy(warm) == []
    assert "yaml" not in warm


# Standard-library modules that cost a one-file lint several milliseconds each and
# that kmslint avoids: dataclasses (and the inspect it imports) writes and compiles
# methods per class (kmslint.record instead), pkgutil imports inspect, and
# tree-sitter-json's __init__ imports importlib.resources (kmslint loads the binding).
# typing is imported only by type checkers: py-tree-sitter imports it for Terraform
# and JSON, but a YAML template needs no tree-sitter.
COSTLY_STDLIB = ("dataclasses", "inspect", "pkgutil", "importlib.resources")


@pytest.mark.parametrize(
    ("name", "text", "avoided"),
    [("main.tf", TERRAFORM, COSTLY_STDLIB), ("template.yaml", TEMPLATE, (*COSTLY_STDLIB, "typing"))],
)
def test_a_plain_lint_avoids_costly_standard_modules(
    workdir: Path, env: dict[str, str], name: str, text: str, avoided: tuple[str, ...]
) -> None:
    (workdir / name).write_text(text)
    imported(workdir, env, "--format", "json", name)
    warm = imported(workdir, env, "--format", "json", name)
    assert sorted(set(avoided) & warm) == []


def test_a_plain_lint_does_not_import_click(workdir: Path, env: dict[str, str]) -> None:
    (workdir / "main.tf").write_text(TERRAFORM)
    imported(workdir, env, "--format", "json", "main.tf")
    warm = imported(workdir, env, "--format", "json", "--jobs", "1", "main.tf")
    assert "click" not in warm
    assert "click" in imported(workdir, env, "rules")  # anything else goes through click


# --------------------------------------------------------------------------- the fast path agrees with click


def _click_params(argv: list[str]) -> dict[str, object] | None:
    import click

    from kmslint import cli

    try:
        ctx = cli.check.make_context("check", list(argv))
    except click.exceptions.Exit:
        return None
    except click.UsageError:
        return None
    return dict(ctx.params)


def test_the_option_table_is_clicks() -> None:
    import click

    from kmslint import cli, entry

    table: dict[str, tuple[str, str]] = {}
    for param in cli.check.params:
        if not isinstance(param, click.Option) or param.name == "help":
            continue
        assert param.name is not None
        if param.is_flag and param.secondary_opts:
            kinds = [("true", param.opts), ("false", param.secondary_opts)]
        elif param.is_flag:
            kinds = [("true", param.opts)]
        else:
            kinds = [("multiple" if param.multiple else "value", param.opts)]
        for kind, opts in kinds:
            for opt in opts:
                table[opt] = (param.name, kind)
    assert table == entry.OPTIONS, "kmslint.entry.OPTIONS must list exactly the options of `kmslint check`"
    assert _click_params([]) == entry.DEFAULTS
    assert set(cli.main.commands) == entry.SUBCOMMANDS


def test_both_parsers_are_built_from_the_one_list() -> None:
    """click's options of ``check`` are kmslint.options.CHECK, in its order, with its help
    and limits; the fast path's table holds every name of it; LintArgs has a field for each."""
    import click

    from kmslint import cli, entry, options
    from kmslint.record import fields

    clicks = [p for p in cli.check.params if isinstance(p, click.Option) and p.name != "help"]
    assert [p.name for p in clicks] == [spec.param for spec in options.CHECK]
    for param, spec in zip(clicks, options.CHECK):
        assert sorted([*param.opts, *param.secondary_opts]) == sorted(spec.names)
        assert param.help == spec.help
        assert getattr(param.type, "min", None) == spec.minimum
        assert {name for name, (p, _) in entry.OPTIONS.items() if p == spec.param} == set(spec.names)
    assert fields(options.LintArgs) == ("paths", *(spec.param for spec in options.CHECK))


ARGVS = [
    [],
    ["main.tf"],
    ["-"],
    [".", "other", "-"],
    ["--format", "json", "a.tf"],
    ["--format=sarif", "a.tf"],
    ["a.tf", "--format", "junit", "b.tf"],
    ["--select", "KMS001,KMS002", "--select", "KMS003", "--ignore", "kms004", "--extend-select", "KMS007"],
    ["--fail-on", "high", "--exit-zero", "--strict", "--no-strict"],
    ["--no-color", "--color", "--show-suppressed", "--no-config"],
    ["--stdin-filename", "main.tf", "-"],
    ["--config", "x.toml", "--baseline", "b.json", "--write-baseline", "c.json"],
    ["-j", "2", "--jobs", "3", "-j4", "--cache-dir", "/tmp/c", "--max-file-bytes", "1000", "--max-depth", "9"],
    ["--jobs=0", "--max-depth=1", "--account-id", "111122223333", "--exclude", "a/**", "--exclude=b"],
    ["--report", "sarif:k.sarif", "--report=json:k.json", "--output-file", "o.txt", "-v", "--allow-nothing-to-lint"],
    ["--version"],
    # click must decide these: each is an error or not a plain lint
    ["--format", "yaml"],
    ["--fail-on", "HIGH"],
    ["--jobs", "-1"],
    ["--jobs", "two"],
    ["--max-depth", "0"],
    ["--help"],
    ["-h", "x"],
    ["--bogus"],
    ["--", "-weird-path"],
    ["--select"],
    ["--strict=yes"],
    ["rules"],
    ["explain", "KMS001"],
    ["--select", "--ignore", "x"],
]


@pytest.mark.parametrize("argv", ARGVS, ids=[" ".join(a) or "(none)" for a in ARGVS])
def test_the_fast_path_parses_as_click_does(argv: list[str]) -> None:
    from kmslint import entry

    fast = entry.fast_params(list(argv))
    if argv and argv[0] in entry.SUBCOMMANDS:
        assert fast is None
        return
    clicks = _click_params(argv)
    if clicks is None:  # click reports an error (or prints help, or a version): never the fast path
        assert fast is None
    elif fast is not None:
        assert fast == clicks


def test_a_rule_that_is_off_or_has_nothing_to_read_is_not_imported(tmp_path: Path) -> None:
    """KMS022 is off by default: its module is not imported; KMS020's service tables are
    imported only when a resource may use a key as a service (a file of keys alone has none)."""
    (tmp_path / "main.tf").write_text('resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n')
    code = (
        "import sys\nfrom kmslint import api\nfrom kmslint.settings import Settings\n"
        f"api.lint([{str(tmp_path / 'main.tf')!r}], Settings())\n"
        "print(sorted(m for m in sys.modules if m.startswith('kmslint')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert "kmslint.rules.kms021_data_not_encrypted" in out  # on by default: imported
    assert "kmslint.rules.kms022_aws_managed_key" not in out
    assert "kmslint.policy.service_use" not in out
    assert "kmslint.parsers.service_uses" not in out
