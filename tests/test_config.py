"""Configuration files: discovery, validation with exact errors, the command line on top."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmslint import api, config, exitcodes
from kmslint.cli import main
from kmslint.model import Severity
from kmslint.settings import PathIgnore, Settings
from tests.conftest import ROOT

STAR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Everyone",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["kms:Decrypt", "kms:PutKeyPolicy"],
            "Resource": "*",
        }
    ],
}
CLEAN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Administration",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"},
            "Action": ["kms:PutKeyPolicy", "kms:DescribeKey"],
            "Resource": "*",
        }
    ],
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def load_text(tmp_path: Path, text: str, name: str = ".kmslint.toml") -> Settings:
    return config.load(write(tmp_path / name, text))


def errors_of(tmp_path: Path, text: str, name: str = ".kmslint.toml") -> list[str]:
    with pytest.raises(config.ConfigError) as info:
        load_text(tmp_path, text, name)
    return info.value.problems


# --------------------------------------------------------------------------- good configurations

GOOD = [
    ("empty file", "", {}),
    ("select", 'select = ["KMS003", "default-key-policy"]', {"select": frozenset({"KMS003", "default-key-policy"})}),
    ("select ALL", 'select = ["ALL"]', {"select": frozenset({"ALL"})}),
    ("select a prefix", 'select = ["KMS00"]', {"select": frozenset({"KMS00"})}),
    ("empty select", "select = []", {"select": frozenset()}),
    ("extend-select", 'extend-select = ["KMS9"]', {"extend_select": frozenset({"KMS9"})}),
    ("ignore by slug", 'ignore = ["rotation-disabled"]', {"ignore": frozenset({"rotation-disabled"})}),
    (
        "severity by id and by slug",
        '[severity]\nKMS004 = "high"\nwildcard-principal = "medium"',
        {"severity": {"KMS004": Severity.HIGH, "KMS003": Severity.MEDIUM}},
    ),
    (
        "rule option, kebab case, rule by slug",
        '[rules.unjustified-multi-region]\njustification-tag = "why-multi-region"',
        {"options": {"KMS004": {"justification_tag": "why-multi-region"}}},
    ),
    (
        "rule option, catalogue spelling",
        '[rules.KMS004]\njustification_tag = "why"',
        {"options": {"KMS004": {"justification_tag": "why"}}},
    ),
    ("empty rule table", "[rules.KMS003]", {"options": {}}),
    ("account-id", 'account-id = "012345678901"', {"account_id": "012345678901"}),
    ("fail-on", 'fail-on = "high"', {"fail_on": Severity.HIGH}),
    ("strict", "strict = true", {"strict": True}),
    ("limits", "max-file-bytes = 1000\nmax-depth = 50", {"max_file_bytes": 1000, "max_depth": 50}),
    ("allow-nothing-to-lint", "allow-nothing-to-lint = true", {"allow_nothing_to_lint": True}),
    ("unanchored excludes are kept", 'exclude = ["*.bak", "legacy/"]', {"exclude": ("*.bak", "legacy/")}),
]


@pytest.mark.parametrize(("text", "expected"), [g[1:] for g in GOOD], ids=[g[0] for g in GOOD])
def test_good_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: dict[str, object]) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_text(tmp_path, text)
    for attr, value in expected.items():
        assert getattr(settings, attr) == value, attr
    untouched = {"select": None, "fail_on": Severity.LOW, "strict": False, "account_id": None}
    for attr, value in untouched.items():
        if attr not in expected:
            assert getattr(settings, attr) == value, attr
    assert settings.config_file == ".kmslint.toml"


def test_anchored_excludes_are_relative_to_the_config_file(tmp_path: Path) -> None:
    settings = load_text(tmp_path, 'exclude = ["infra/legacy/", "/top.json", "!infra/legacy/keep.tf", "*.bak"]')
    root = tmp_path.resolve().as_posix()
    assert settings.exclude == (f"{root}/infra/legacy/", f"{root}/top.json", f"!{root}/infra/legacy/keep.tf", "*.bak")


def test_rebase_escapes_glob_characters_in_the_directory() -> None:
    assert config.rebase_pattern("a/b", Path("/x/[odd]*dir")) == r"/x/\[odd\]\*dir/a/b"


def test_per_path_ignores(tmp_path: Path) -> None:
    settings = load_text(
        tmp_path,
        """
        [[per-path-ignores]]
        path = "legacy/**"
        rules = ["KMS002", "wildcard-principal", "kms002"]
        reason = "  decommissioned in Q3  "
        """,
    )
    source = str((tmp_path / ".kmslint.toml").resolve())
    assert settings.per_path_ignores == (
        PathIgnore("legacy/**", ("KMS002", "KMS003"), "decommissioned in Q3", source=source),
    )


def test_pyproject_table(tmp_path: Path) -> None:
    settings = load_text(
        tmp_path,
        """
        [project]
        name = "infra"

        [tool.kmslint]
        ignore = ["KMS004"]
        fail-on = "critical"
        """,
        name="pyproject.toml",
    )
    assert settings.ignore == frozenset({"KMS004"})
    assert settings.fail_on == Severity.CRITICAL


# --------------------------------------------------------------------------- bad configurations

RULE_NAMES = "expected a rule ID, an ID prefix such as KMS00, a slug, or ALL (see `kmslint rules`)"
TOP_KEYS = (
    "select, extend-select, ignore, severity, rules, account-id, exclude, key-policy-files, per-path-ignores, fail-on, "
    "strict, max-file-bytes, max-depth, allow-nothing-to-lint, require-customer-managed-key"
)
CMK = "require-customer-managed-key"
SEVERITIES = "info, low, medium, high, critical"

BAD = [
    (
        "typo in a key",
        'extnd-select = ["KMS007"]',
        [f".kmslint.toml: extnd-select: unknown key (did you mean extend-select?); expected one of: {TOP_KEYS}"],
    ),
    (
        "snake case key",
        "fail_on = 'high'",
        [f".kmslint.toml: fail_on: unknown key (did you mean fail-on?); expected one of: {TOP_KEYS}"],
    ),
    (
        "a key kmslint does not have (no plugins: config never loads code)",
        'plugins = ["my_module"]',
        [f".kmslint.toml: plugins: unknown key; expected one of: {TOP_KEYS}"],
    ),
    (
        "select is a string",
        'select = "KMS003"',
        [
            '.kmslint.toml: select: expected a list of rule IDs, ID prefixes, slugs or ALL, got the string "KMS003"',
        ],
    ),
    (
        "select item of the wrong type",
        'select = ["KMS003", 3]',
        [".kmslint.toml: select[1]: expected a rule ID, ID prefix, slug or ALL, as a string, got the integer 3"],
    ),
    (
        "unknown rule in select",
        'select = ["KMS003", "KMS999"]',
        [f'.kmslint.toml: select[1]: unknown rule "KMS999"; {RULE_NAMES}'],
    ),
    (
        "unknown slug in ignore",
        'ignore = ["wildcard-principals"]',
        [f'.kmslint.toml: ignore[0]: unknown rule "wildcard-principals"; {RULE_NAMES}'],
    ),
    (
        "prefix that matches nothing",
        'extend-select = ["KMS8"]',
        [f'.kmslint.toml: extend-select[0]: unknown rule "KMS8"; {RULE_NAMES}'],
    ),
    (
        "bad severity",
        '[severity]\nKMS003 = "severe"',
        [f'.kmslint.toml: severity.KMS003: expected one of {SEVERITIES}, got the string "severe"'],
    ),
    (
        "severity for an unknown rule",
        '[severity]\nKMS777 = "low"',
        ['.kmslint.toml: severity.KMS777: unknown rule "KMS777"; expected a rule ID or slug'],
    ),
    (
        "severity is not a table",
        'severity = "high"',
        ['.kmslint.toml: severity: expected a table of rule ID or slug = severity, got the string "high"'],
    ),
    (
        "option of the wrong type",
        "[rules.KMS004]\njustification-tag = 5",
        [".kmslint.toml: rules.KMS004.justification-tag: expected a string, got the integer 5"],
    ),
    (
        "misspelt option",
        '[rules.KMS004]\njustification-tags = "x"',
        [
            ".kmslint.toml: rules.KMS004.justification-tags: unknown option (did you mean justification-tag?); "
            "expected one of: justification-tag"
        ],
    ),
    (
        "option of a rule that has none",
        "[rules.KMS003]\nminimum-days = 30",
        [".kmslint.toml: rules.KMS003.minimum-days: unknown option; KMS003 has no options"],
    ),
    (
        "option given twice",
        '[rules.KMS004]\njustification-tag = "a"\njustification_tag = "b"',
        [".kmslint.toml: rules.KMS004.justification_tag: option justification_tag of KMS004 is given twice"],
    ),
    (
        "options for an unknown rule",
        "[rules.KMS999]\nminimum-days = 30",
        ['.kmslint.toml: rules.KMS999: unknown rule "KMS999"; expected a rule ID or slug'],
    ),
    (
        "rule options not a table",
        "[rules]\nKMS004 = 5",
        [".kmslint.toml: rules.KMS004: expected a table of the rule's options, got the integer 5"],
    ),
    (
        "account id as a number",
        "account-id = 111122223333",
        [
            ".kmslint.toml: account-id: expected a 12-digit AWS account ID, as a string, got the integer 111122223333"
            ' (quote it: "111122223333")'
        ],
    ),
    (
        "account id too short",
        'account-id = "1234"',
        ['.kmslint.toml: account-id: expected a 12-digit AWS account ID, as a string, got the string "1234"'],
    ),
    (
        "fail-on unknown",
        'fail-on = "none"',
        [f'.kmslint.toml: fail-on: expected one of {SEVERITIES}, got the string "none"'],
    ),
    ("strict as a string", 'strict = "yes"', ['.kmslint.toml: strict: expected true or false, got the string "yes"']),
    ("strict as a number", "strict = 1", [".kmslint.toml: strict: expected true or false, got the integer 1"]),
    (
        "limits",
        "max-file-bytes = 0\nmax-depth = true",
        [
            ".kmslint.toml: max-file-bytes: expected a positive integer, got the integer 0",
            ".kmslint.toml: max-depth: expected a positive integer, got true",
        ],
    ),
    (
        "exclude is a string",
        'exclude = "legacy/"',
        ['.kmslint.toml: exclude: expected a list of gitignore-style path patterns, got the string "legacy/"'],
    ),
    (
        "per-path ignore without reason",
        '[[per-path-ignores]]\npath = "legacy/**"\nrules = ["KMS002"]',
        [".kmslint.toml: per-path-ignores[0].reason: required key is missing; expected a non-empty string saying why"],
    ),
    (
        "per-path ignore with a blank reason",
        '[[per-path-ignores]]\npath = "legacy/**"\nrules = ["KMS002"]\nreason = "  "',
        [
            ".kmslint.toml: per-path-ignores[0].reason: a per-path ignore needs a reason; "
            "expected a non-empty string saying why"
        ],
    ),
    (
        "per-path ignore with no rules and a typo",
        '[[per-path-ignores]]\npath = "x"\nrules = []\nreasn = "r"\nreason = "r"',
        [
            ".kmslint.toml: per-path-ignores[0].rules: expected a list of rule IDs or slugs, with at least one item",
            ".kmslint.toml: per-path-ignores[0].reasn: unknown key (did you mean reason?); "
            "expected one of: path, rules, reason",
        ],
    ),
    (
        "per-path ignore naming groups and unknown rules",
        '[[per-path-ignores]]\npath = "x"\nrules = ["ALL", "KMS00", "nope", "KMS003"]\nreason = "r"',
        [
            '.kmslint.toml: per-path-ignores[0].rules[0]: "ALL" names several rules; expected one rule ID or slug'
            " per entry (to skip whole files, use exclude)",
            '.kmslint.toml: per-path-ignores[0].rules[1]: "KMS00" names several rules; expected one rule ID or slug'
            " per entry (to skip whole files, use exclude)",
            '.kmslint.toml: per-path-ignores[0].rules[2]: unknown rule "nope"; expected a rule ID or slug'
            " (see `kmslint rules`)",
        ],
    ),
    (
        "per-path-ignores as a table",
        '[per-path-ignores]\npath = "x"',
        [".kmslint.toml: per-path-ignores: expected a list of tables with path, rules and reason, got a table"],
    ),
    (
        "errors come in the file's order, all of them",
        'strict = "no"\nselct = []\nfail-on = 3',
        [
            '.kmslint.toml: strict: expected true or false, got the string "no"',
            f".kmslint.toml: selct: unknown key (did you mean select?); expected one of: {TOP_KEYS}",
            f".kmslint.toml: fail-on: expected one of {SEVERITIES}, got the integer 3",
        ],
    ),
    (
        "invalid TOML",
        'select = ["KMS003"\n',
        [
            ".kmslint.toml: invalid TOML: Unclosed array (at end of document)",
        ],
    ),
    (
        "a quoted key with a dot is quoted in the path",
        '"fail.on" = "x"',
        [f'.kmslint.toml: "fail.on": unknown key (did you mean fail-on?); expected one of: {TOP_KEYS}'],
    ),
    (
        "a misspelt key in require-customer-managed-key",
        "[require-customer-managed-key]\nresource_types = ['aws_sqs_queue']",
        [
            f".kmslint.toml: {CMK}.resource_types: unknown key (did you mean resource-types?); "
            "expected one of: everywhere, resource-types, tags"
        ],
    ),
    (
        "not a resource type",
        "[require-customer-managed-key]\nresource-types = ['sqs queue']",
        [
            f".kmslint.toml: {CMK}.resource-types[0]: expected a resource type (aws_sqs_queue, AWS::SQS::Queue), "
            'got the string "sqs queue"'
        ],
    ),
    (
        "a tag with a value, not a list of values",
        "[require-customer-managed-key.tags]\ndata-classification = 'confidential'",
        [
            f".kmslint.toml: {CMK}.tags.data-classification: expected a list of tag values, as strings, "
            'got the string "confidential"'
        ],
    ),
    (
        "a tag with no values",
        "[require-customer-managed-key.tags]\ndata-classification = []",
        [
            f".kmslint.toml: {CMK}.tags.data-classification: expected a list of the values that ask for a "
            "customer managed key, with at least one item"
        ],
    ),
    (
        "a table that asks for nothing",
        "[require-customer-managed-key]\neverywhere = false",
        [f".kmslint.toml: {CMK}: asks for nothing; set everywhere = true, resource-types or tags"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert errors_of(tmp_path, text) == expected


def test_pyproject_errors_name_the_full_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = '[tool.kmslint]\nfail-on = "urgent"\n[tool.kmslint.rules.KMS004]\ntag = "x"\n'
    assert errors_of(tmp_path, text, "pyproject.toml") == [
        f'pyproject.toml: tool.kmslint.fail-on: expected one of {SEVERITIES}, got the string "urgent"'
    ]
    text = '[tool.kmslint.rules.KMS004]\ntag = "x"\n'
    assert errors_of(tmp_path, text, "pyproject.toml") == [
        "pyproject.toml: tool.kmslint.rules.KMS004.tag: unknown option; expected one of: justification-tag"
    ]


def test_pyproject_without_the_table_named_explicitly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert errors_of(tmp_path, '[project]\nname = "x"\n', "pyproject.toml") == [
        "pyproject.toml: has no [tool.kmslint] table"
    ]
    assert errors_of(tmp_path, 'tool = {kmslint = "on"}\n', "pyproject.toml") == [
        'pyproject.toml: tool.kmslint: expected a table, got the string "on"'
    ]


def test_unreadable_configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(config.ConfigError) as info:
        config.load(tmp_path / "missing.toml")
    assert info.value.problems == ["missing.toml: no such configuration file"]
    (tmp_path / "latin1.toml").write_bytes(b'account-id = "\xe9"\n')
    with pytest.raises(config.ConfigError) as info:
        config.load(tmp_path / "latin1.toml")
    assert info.value.problems == ["latin1.toml: not valid UTF-8, so not a TOML file"]


def test_outside_the_cwd_the_file_is_named_absolutely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "repo" / ".kmslint.toml", "strict = 2\n")
    monkeypatch.chdir(ROOT)
    with pytest.raises(config.ConfigError) as info:
        config.load(cfg)
    assert info.value.problems == [f"{cfg}: strict: expected true or false, got the integer 2"]


# --------------------------------------------------------------------------- discovery


def test_find_walks_up_to_the_nearest(tmp_path: Path) -> None:
    top = write(tmp_path / ".kmslint.toml", "")
    nested = write(tmp_path / "a" / ".kmslint.toml", "")
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    assert config.find_config(tmp_path / "a" / "b" / "c") == nested
    assert config.find_config(tmp_path / "a" / "b" / "c" / "main.tf") == nested  # a file that need not exist
    assert config.find_config(tmp_path / "a") == nested
    assert config.find_config(tmp_path) == top


def test_find_prefers_kmslint_toml_and_skips_other_pyprojects(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.kmslint]\nstrict = true\n")
    write(tmp_path / "a" / "pyproject.toml", '[project]\nname = "a"\n')  # no [tool.kmslint]: not a config
    write(tmp_path / "a" / "b" / "pyproject.toml", '[project]\ndescription = "uses kmslint"\n')
    assert config.find_config(tmp_path / "a" / "b") == tmp_path / "pyproject.toml"
    both = write(tmp_path / ".kmslint.toml", "")
    assert config.find_config(tmp_path / "a") == both


def test_find_stops_at_the_repository_root(tmp_path: Path) -> None:
    write(tmp_path / ".kmslint.toml", "strict = true\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "infra").mkdir()
    assert config.find_config(repo / "infra") is None
    inside = write(repo / ".kmslint.toml", "")
    assert config.find_config(repo / "infra") == inside


def test_find_uses_the_cwd_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / ".kmslint.toml", "")
    (tmp_path / ".git").mkdir()
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert config.find_config() == cfg


def test_a_broken_pyproject_with_the_table_is_found_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", "[tool.kmslint\n")
    assert config.find_config(tmp_path) == tmp_path / "pyproject.toml"
    with pytest.raises(config.ConfigError) as info:
        config.settings_for(str(tmp_path))
    assert info.value.problems[0].startswith("pyproject.toml: invalid TOML: ")


# --------------------------------------------------------------------------- the command line on top

FILE = Settings(
    select=frozenset({"KMS00"}),
    extend_select=frozenset({"KMS012"}),
    ignore=frozenset({"KMS002", "destructive-admin-without-mfa"}),
    exclude=("legacy/",),
    fail_on=Severity.HIGH,
    strict=True,
    account_id="111122223333",
)

MERGES = [
    ("nothing given keeps the file", config.Overrides(), {}),
    (
        "select replaces the whole selection",
        config.Overrides(select=frozenset({"KMS003"})),
        {"select": frozenset({"KMS003"}), "extend_select": frozenset(), "ignore": frozenset()},
    ),
    (
        "extend-select adds and re-enables what the file ignores",
        config.Overrides(extend_select=frozenset({"KMS007"})),
        {"extend_select": frozenset({"KMS012", "KMS007"}), "ignore": frozenset({"KMS002"})},
    ),
    (
        "ignore adds",
        config.Overrides(ignore=frozenset({"KMS003"})),
        {"ignore": frozenset({"KMS002", "destructive-admin-without-mfa", "KMS003"})},
    ),
    ("exclude adds", config.Overrides(exclude=("*.bak",)), {"exclude": ("legacy/", "*.bak")}),
    (
        "scalars replace",
        config.Overrides(fail_on=Severity.LOW, strict=False, account_id="222233334444", baseline="b.json"),
        {"fail_on": Severity.LOW, "strict": False, "account_id": "222233334444", "baseline": "b.json"},
    ),
]


@pytest.mark.parametrize(("cli", "changed"), [m[1:] for m in MERGES], ids=[m[0] for m in MERGES])
def test_merge(cli: config.Overrides, changed: dict[str, object]) -> None:
    merged = config.merge(FILE, cli)
    for attr in ("select", "extend_select", "ignore", "exclude", "fail_on", "strict", "account_id", "baseline"):
        assert getattr(merged, attr) == changed.get(attr, getattr(FILE, attr)), attr


def test_settings_for_reads_the_discovered_file_unless_told_not_to(tmp_path: Path) -> None:
    write(tmp_path / ".kmslint.toml", 'fail-on = "critical"\n')
    other = write(tmp_path / "other.toml", 'fail-on = "medium"\n')
    assert config.settings_for(str(tmp_path)).fail_on == Severity.CRITICAL
    assert config.settings_for(str(tmp_path), use_config=False).fail_on == Severity.LOW
    assert config.settings_for(str(tmp_path), config_file=str(other)).fail_on == Severity.MEDIUM
    cli = config.Overrides(fail_on=Severity.INFO)
    assert config.settings_for(str(tmp_path), cli).fail_on == Severity.INFO


# --------------------------------------------------------------------------- end to end


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_typo_exits_2_naming_file_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "key.json", json.dumps(STAR_POLICY))
    write(tmp_path / ".kmslint.toml", 'fail-onn = "high"\n')
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("key.json")
    assert code == exitcodes.ERROR
    assert out == ""
    assert err == (
        f"kmslint: error: .kmslint.toml: fail-onn: unknown key (did you mean fail-on?); expected one of: {TOP_KEYS}\n"
    )


def test_cli_no_config_and_explicit_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "key.json", json.dumps(STAR_POLICY))
    write(tmp_path / ".kmslint.toml", 'ignore = ["KMS003"]\n')
    write(tmp_path / "ci.toml", 'fail-on = "critical"\n')
    monkeypatch.chdir(tmp_path)
    assert cli("key.json")[0] == exitcodes.OK  # the discovered file ignores KMS003
    assert cli("--no-config", "key.json")[0] == exitcodes.FINDINGS
    assert cli("--config", "ci.toml", "key.json")[0] == exitcodes.FINDINGS
    code, _, err = cli("--config", "missing.toml", "key.json")
    assert (code, err) == (exitcodes.ERROR, "kmslint: error: missing.toml: no such configuration file\n")
    code, _, err = cli("--config", "ci.toml", "--no-config", "key.json")
    assert code == exitcodes.ERROR
    assert "--config and --no-config contradict each other" in err


def test_cli_flags_override_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "key.json", json.dumps(STAR_POLICY))
    write(tmp_path / ".kmslint.toml", 'ignore = ["KMS003"]\n[severity]\nKMS003 = "info"\n')
    monkeypatch.chdir(tmp_path)
    assert cli("key.json")[0] == exitcodes.OK
    code, out, _ = cli("--extend-select", "KMS003", "--format", "json", "key.json")
    assert code == exitcodes.OK  # re-enabled, but at severity info, below the default --fail-on low
    findings = json.loads(out)["findings"]
    assert [(f["rule_id"], f["severity"]) for f in findings] == [("KMS003", "info")]


def test_cli_config_is_found_from_the_first_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / "infra" / "key.json", json.dumps(STAR_POLICY))
    write(tmp_path / "infra" / ".kmslint.toml", 'fail-on = "critical"\nignore = ["KMS003"]\n')
    monkeypatch.chdir(tmp_path)
    assert cli("infra/key.json")[0] == exitcodes.OK
    assert cli("infra")[0] == exitcodes.OK
    monkeypatch.chdir(tmp_path / "infra")
    assert cli()[0] == exitcodes.OK


def test_config_excludes_and_per_path_ignores_are_relative_to_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    for rel in ("infra/legacy/key.json", "infra/live/key.json", "infra/old/key.json", "other/legacy/key.json"):
        write(tmp_path / rel, json.dumps(STAR_POLICY))
    write(
        tmp_path / ".kmslint.toml",
        """
        exclude = ["infra/old/"]

        [[per-path-ignores]]
        path = "infra/legacy/*.json"
        rules = ["wildcard-principal"]
        reason = "retired with the old account"
        """,
    )

    def files(args: list[str]) -> list[tuple[str, bool, str | None]]:
        code, out, _ = cli("--format", "json", "--show-suppressed", *args)
        assert code == exitcodes.FINDINGS
        return [(f["file"], f["suppressed"], f["suppression_reason"]) for f in json.loads(out)["findings"]]

    monkeypatch.chdir(tmp_path)
    assert files(["."]) == [
        ("infra/legacy/key.json", True, "retired with the old account"),
        ("infra/live/key.json", False, None),
        ("other/legacy/key.json", False, None),
    ]
    monkeypatch.chdir(tmp_path / "infra")
    assert files(["."]) == [("legacy/key.json", True, "retired with the old account"), ("live/key.json", False, None)]


def test_config_limits_reach_the_parsers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "key.json", json.dumps(STAR_POLICY))
    write(tmp_path / ".kmslint.toml", "max-file-bytes = 10\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("--format", "json", "key.json")
    assert code == exitcodes.ERROR
    assert [f["rule_id"] for f in json.loads(out)["findings"]] == ["KMS000"]


def test_rule_options_reach_the_checks(tmp_path: Path) -> None:
    write(
        tmp_path / "main.tf",
        """
        resource "aws_kms_key" "k" {
          enable_key_rotation = true
          multi_region        = true
          policy              = file("${path.module}/policy.json")
          tags = { "why-multi" = "global table in eu-west-1" }
        }
        """,
    )
    default = api.lint([str(tmp_path)], Settings(select=frozenset({"KMS004"})))
    assert [f.rule_id for f in default.findings] == ["KMS004"]
    cfg = write(tmp_path / ".kmslint.toml", '[rules.KMS004]\njustification-tag = "why-multi"\n')
    configured = api.lint(
        [str(tmp_path)], config.merge(config.load(cfg), config.Overrides(select=frozenset({"KMS004"})))
    )
    assert configured.findings == []


def _modules_after_run(cwd: Path, *args: str) -> set[str]:
    code = (
        "import sys\n"
        "from kmslint.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "watched = ('pydantic', 'pydantic_core', 'tomllib', 'tomli', 'jsonschema')\n"
        "print(' '.join(m for m in watched if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT)},
    )
    return set(result.stderr.strip().splitlines()[-1].split()) if result.stderr.strip() else set()


def test_pydantic_is_imported_only_when_a_config_file_exists(tmp_path: Path) -> None:
    # Only pydantic's validation engine (pydantic-core) is loaded, never the pydantic package itself.
    (tmp_path / ".git").mkdir()
    write(tmp_path / "key.json", json.dumps(STAR_POLICY))
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert _modules_after_run(tmp_path, "key.json") == set()
    write(tmp_path / ".kmslint.toml", "strict = true\n")
    toml = "tomllib" if sys.version_info >= (3, 11) else "tomli"  # the same parser, before it joined the library
    assert _modules_after_run(tmp_path, "key.json") == {"pydantic_core", toml}


# --------------------------------------------------------------------------- exit codes

EXIT_CODES = [
    # (id, config text or None, extra files, args, expected exit code)
    ("clean file, no config", None, {}, ["clean.json"], exitcodes.OK),
    ("finding, no config", None, {}, ["key.json"], exitcodes.FINDINGS),
    ("finding below the config's fail-on", 'fail-on = "critical"\n[severity]\nKMS003 = "high"', {}, ["key.json"], 0),
    ("config fail-on, finding at it", 'fail-on = "critical"', {}, ["key.json"], exitcodes.FINDINGS),
    ("--fail-on beats the config", 'fail-on = "info"', {}, ["--fail-on", "critical", "clean.json"], exitcodes.OK),
    ("config ignores the rule", 'ignore = ["wildcard-principal"]', {}, ["key.json"], exitcodes.OK),
    ("--select beats the config's ignore", 'ignore = ["KMS003"]', {}, ["--select", "KMS003", "key.json"], 1),
    ("typo in the config", "selct = []", {}, ["clean.json"], exitcodes.ERROR),
    ("wrong type in the config", "strict = 1", {}, ["clean.json"], exitcodes.ERROR),
    ("unknown rule in the config", 'ignore = ["KMS777"]', {}, ["clean.json"], exitcodes.ERROR),
    ("invalid TOML", "strict = ", {}, ["clean.json"], exitcodes.ERROR),
    ("--no-config skips a broken config", "strict = ", {}, ["--no-config", "clean.json"], exitcodes.OK),
    ("--config names a broken file", None, {"bad.toml": "x = 1"}, ["--config", "bad.toml", "clean.json"], 2),
    ("--config with --no-config", None, {"ok.toml": ""}, ["--config", "ok.toml", "--no-config", "clean.json"], 2),
    ("--exit-zero with a config", 'fail-on = "info"', {}, ["--exit-zero", "key.json"], exitcodes.OK),
    ("missing baseline", None, {}, ["--baseline", "nope.json", "clean.json"], exitcodes.ERROR),
    ("writing a baseline", None, {}, ["--write-baseline", "b.json", "key.json"], exitcodes.OK),
    ("stdin finds the config from --stdin-filename", "selct = []", {}, ["--stdin-filename", "x.json", "-"], 2),
]


@pytest.mark.parametrize(
    ("cfg", "files", "args", "expected"), [e[1:] for e in EXIT_CODES], ids=[e[0] for e in EXIT_CODES]
)
def test_exit_codes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cfg: str | None,
    files: dict[str, str],
    args: list[str],
    expected: int,
) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / "key.json", json.dumps(STAR_POLICY))
    write(tmp_path / "clean.json", json.dumps(CLEAN_POLICY))
    if cfg is not None:
        write(tmp_path / ".kmslint.toml", cfg)
    for name, text in files.items():
        write(tmp_path / name, text)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args, input=json.dumps(STAR_POLICY))
    assert result.exit_code == expected, result.stderr or result.stdout
    if expected == exitcodes.ERROR:
        assert result.stderr.strip(), "an error exit says why on stderr"


def test_require_customer_managed_key(tmp_path: Path) -> None:
    settings = load_text(
        tmp_path,
        "[require-customer-managed-key]\nresource-types = ['aws_sqs_queue', 'AWS::SNS::Topic']\n"
        "[require-customer-managed-key.tags]\ndata-classification = ['confidential', 'secret']\n",
    )
    cmk = settings.require_customer_managed_key
    assert cmk is not None and not cmk.everywhere
    assert cmk.resource_types == {"aws_sqs_queue", "AWS::SNS::Topic"}
    assert cmk.tags == {"data-classification": {"confidential", "secret"}}
    assert load_text(tmp_path, "fail-on = 'high'\n").require_customer_managed_key is None
    everywhere = load_text(tmp_path, "[require-customer-managed-key]\neverywhere = true\n")
    assert everywhere.require_customer_managed_key is not None
    assert everywhere.require_customer_managed_key.everywhere
