"""Attacks on the cheap look that decides whether a file is parsed at all.

A file is skipped unparsed when it cannot hold anything a rule looks at
(:mod:`kmslint.parsers.sniff`).  Whatever a format lets a writer escape --
HCL and JSON ``\\u``, YAML ``\\x``/``\\u``/``\\U`` and escaped line breaks,
tags, anchors -- must not turn a world-open key into "No findings".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kmslint import api
from kmslint.parsers import registry, sniff

KMSLINT = Path(sys.executable).parent / "kmslint"


def cli(args: list[str], cwd: Path) -> tuple[int, dict[str, object], str]:
    """The installed console script in a fresh process: exit code, JSON report, stderr."""
    proc = subprocess.run(
        [str(KMSLINT), "--format", "json", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def found(doc: dict[str, object]) -> list[tuple[str, str, int, int, str | None]]:
    return [
        (f["rule_id"], f["file"], f["line"], f["column"], f["resource"])  # type: ignore[index]
        for f in doc["findings"]  # type: ignore[attr-defined]
    ]


def findings(report: api.Report) -> list[tuple[str, str, int, int, str | None]]:
    return [(f.rule_id, Path(f.file).name, f.line, f.column, f.resource or None) for f in report.findings]


def only(rule: str, rows: list[tuple[str, str, int, int, str | None]]) -> list[tuple[str, str, int, int, str | None]]:
    return [r for r in rows if r[0] == rule]


# --------------------------------------------------------------------------- Terraform

TF_KEY = """\
resource "{rtype}" "k" {{
  enable_key_rotation = true
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Principal = "\\u002a", Action = "\\u006Bms:*", Resource = "\\u002a" }}]
  }})
}}
"""


@pytest.mark.parametrize("rtype", ["aws_\\u006Bms_key", "aws_\\U0000006bms_key", "\\u0061ws_\\u006b\\u006d\\u0073_key"])
def test_an_escaped_terraform_resource_type_is_linted_named_and_walked(tmp_path: Path, rtype: str) -> None:
    """A Terraform key whose type label is written with \\u escapes is linted, named or walked."""
    (tmp_path / "main.tf").write_text(TF_KEY.format(rtype=rtype))
    expected = [("KMS003", "main.tf", 5, 18, "aws_kms_key.k")]
    for target in ("main.tf", "."):
        code, doc, _ = cli([target], tmp_path)
        assert only("KMS003", found(doc)) == expected
        assert code == 1


def test_an_escaped_terraform_json_resource_type_is_linted(tmp_path: Path) -> None:
    """A .tf.json key whose type is written with JSON \\u escapes is linted."""
    body = {
        "resource": {
            "aws_kms_key": {
                "k": {
                    "enable_key_rotation": True,
                    "policy": json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}],
                        }
                    ),
                }
            }
        }
    }
    text = json.dumps(body, indent=2).replace("kms", "\\u006bms")
    assert "kms" not in text.lower().replace("\\u006bms", "")
    (tmp_path / "main.tf.json").write_text(text)
    assert only("KMS003", findings(api.lint([str(tmp_path)]))) == [("KMS003", "main.tf.json", 6, 19, "aws_kms_key.k")]


def test_an_identity_policy_whose_kms_action_is_computed_is_linted(tmp_path: Path) -> None:
    """An IAM policy whose KMS action is built by an expression (no "kms" in the text) is still read."""
    (tmp_path / "iam.tf").write_text(
        'resource "aws_iam_policy" "p" {\n'
        "  policy = jsonencode({\n"
        '    Version   = "2012-10-17"\n'
        '    Statement = [{ Effect = "Allow", Action = "${"k"}ms:Decrypt", Resource = "\\u002a" }]\n'
        "  })\n"
        "}\n"
    )
    assert findings(api.lint([str(tmp_path)])) == [("KMS012", "iam.tf", 4, 18, "aws_iam_policy.p")]


# --------------------------------------------------------------------------- CloudFormation

YAML_KEY = """\
{resources}:
  Key:
    Type: {rtype}
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: All
            Effect: Allow
            Principal: "*"
            Action: "{action}"
            Resource: "*"
"""


@pytest.mark.parametrize(
    ("resources", "rtype", "action"),
    [
        ("Resources", '"AWS\\x3A:KMS::Key"', "kms:*"),
        ("Resources", '"AWS::\\x4BMS::Key"', "\\x6Bms:*"),
        ("Resources", '"AWS::\\u004bMS::Key"', "\\u006bms:*"),
        ("Resources", '"AWS::\\U0000004bMS::Key"', "\\U0000006bms:*"),
        ("Resources", '"AWS::K\\\n      MS::Key"', "k\\\n              ms:*"),
        ("Resources", '"AWS::K\\\r\n      MS::Key"', "\\x6Bms:*"),
        ("Resources", "!!str AWS::KMS::Key", "kms:*"),
        ('"Re\\x73ources"', '"AWS::\\x4bMS::Key"', "\\x6bms:*"),
        ("!!str Resources", "! AWS::KMS::Key", "kms:*"),
    ],
)
def test_an_escaped_cloudformation_yaml_type_is_linted(tmp_path: Path, resources: str, rtype: str, action: str) -> None:
    """A YAML template whose key type (or Resources key) is escaped, folded or tagged is linted, named or walked."""
    text = YAML_KEY.format(resources=resources, rtype=rtype, action=action)
    (tmp_path / "t.yaml").write_bytes(text.encode())
    line = text[: text.index("- Sid")].count("\n") + 1
    report = api.lint([str(tmp_path / "t.yaml")])
    assert only("KMS003", findings(report)) == [("KMS003", "t.yaml", line, 13, "Key")]
    assert only("KMS003", findings(api.lint([str(tmp_path)]))) == [("KMS003", "t.yaml", line, 13, "Key")]


def test_an_escaped_yaml_template_fails_the_console_script(tmp_path: Path) -> None:
    """The escaped YAML key of issue 11 exits 1 with its finding, named and walked."""
    (tmp_path / "t.yaml").write_text(
        YAML_KEY.format(resources='"Re\\x73ources"', rtype='"AWS\\x3A:KMS::Key"', action="\\x6bms:*")
    )
    for target in ("t.yaml", "."):
        code, doc, _ = cli([target], tmp_path)
        assert only("KMS003", found(doc)) == [("KMS003", "t.yaml", 9, 13, "Key")]
        assert code == 1


def json_key_template() -> str:
    doc = {
        "Resources": {
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "EnableKeyRotation": True,
                    "KeyPolicy": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}],
                    },
                },
            }
        }
    }
    return json.dumps(doc, indent=2)


@pytest.mark.parametrize(
    "escape",
    [
        lambda t: t.replace("KMS", "\\u004bMS").replace("kms", "\\u006bms"),
        lambda t: t.replace("KMS", "\\u004BMS").replace("kms", "\\u006Bms").replace('"Resources"', '"Re\\u0073ources"'),
        lambda t: (
            t.replace('"Type"', '"Typ\\u0065"').replace("KMS", "\\u004b\\u004d\\u0053").replace("kms", "\\u006bms")
        ),
    ],
)
def test_an_escaped_cloudformation_json_type_is_linted(tmp_path: Path, escape: object) -> None:
    """A JSON template whose key type, Type or Resources key is \\u-escaped is linted."""
    text = escape(json_key_template())  # type: ignore[operator]
    assert "kms" not in text.lower()
    (tmp_path / "t.json").write_text(text)
    assert only("KMS003", findings(api.lint([str(tmp_path)]))) == [("KMS003", "t.json", 10, 13, "Key")]


def test_an_escaped_raw_key_policy_is_linted(tmp_path: Path) -> None:
    """A raw key-policy file written entirely in \\u escapes is linted, walked or named."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}],
    }
    text = json.dumps(policy, indent=2)
    for word in ("Statement", "Principal", "kms"):
        text = text.replace(word, "".join(f"\\u{ord(c):04x}" for c in word))
    (tmp_path / "policy.json").write_text(text)
    for target in ("policy.json", "."):
        code, doc, _ = cli([target], tmp_path)
        assert only("KMS003", found(doc)) == [("KMS003", "policy.json", 4, 5, None)]
        assert code == 1


def test_an_escaped_plan_is_linted(tmp_path: Path) -> None:
    """A plan whose resource type is \\u-escaped is linted."""
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_kms_key.k",
                        "mode": "managed",
                        "type": "aws_kms_key",
                        "name": "k",
                        "values": {"enable_key_rotation": False},
                    }
                ]
            }
        },
    }
    text = json.dumps(plan, indent=2).replace("kms", "\\u006bms")
    (tmp_path / "plan.json").write_text(text)
    assert only("KMS002", findings(api.lint([str(tmp_path)]))) == [("KMS002", "plan.json", 13, 13, "aws_kms_key.k")]


def test_a_cloudformation_identity_policy_with_a_computed_action_is_linted(tmp_path: Path) -> None:
    """An AWS::IAM::Policy whose KMS action is built with Fn::Join (no "kms" in the text) is read."""
    (tmp_path / "t.yaml").write_text(
        "Resources:\n"
        "  P:\n"
        "    Type: AWS::IAM::ManagedPolicy\n"
        "    Properties:\n"
        "      PolicyDocument:\n"
        "        Statement:\n"
        "          - Effect: Allow\n"
        '            Action: !Join ["", [k, "ms:Decrypt"]]\n'
        "            Resource: !Join ['', ['*']]\n"
    )
    assert findings(api.lint([str(tmp_path)])) == [("KMS012", "t.yaml", 7, 13, "P")]


# --------------------------------------------------------------------------- what stays cheap


NOT_IAC = {
    "package.json": '{"name": "web", "type": "module", "dependencies": {"left-pad": "*"},'
    ' "scripts": {"b": "tsc \\\\\\n -p ."}}',
    "tsconfig.json": '{"compilerOptions": {"module": "esnext", "paths": {"*": ["src/*"]}, "outDir": "dist\\\\x"}}',
    "deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n"
    "    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/web\n"
    'spec:\n  template:\n    spec:\n      containers:\n        - name: web\n          args: ["a\\\\b", "\\u00e9"]\n',
    ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - run: |\n          pytest \\\n            -q\n      - uses: aws-actions/configure-aws-credentials@v4\n"
    "        with:\n          role-to-assume: arn:aws:iam::111122223333:role/ci\n",
}


def test_ordinary_non_iac_files_are_skipped_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """package.json, tsconfig.json, Kubernetes YAML and workflows (escapes and all) are skipped unparsed."""
    from kmslint.parsers import cloudformation, jsonpos

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"parsed: {args[0]}")

    monkeypatch.setattr(cloudformation, "parse_template", refuse)
    monkeypatch.setattr(jsonpos, "members", refuse)
    for name, text in NOT_IAC.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    report = api.lint([str(tmp_path / name) for name in NOT_IAC])
    assert (report.findings, report.errors) == ([], [])
    assert sorted(report.notes) == sorted(f"{tmp_path / name}: skipped, nothing KMS-related in it" for name in NOT_IAC)


def test_invalid_yaml_that_shows_no_sign_of_iac_is_skipped_quietly(tmp_path: Path) -> None:
    """A YAML file that mentions KMS but does not parse and has no template key is not a KMS000."""
    (tmp_path / "values.yaml").write_text("kms:\n  enabled: {{ .Values.kms }}\n  key: [unclosed\n")
    report = api.lint([str(tmp_path)])
    assert (report.findings, report.errors) == ([], [])


def test_invalid_yaml_with_an_escaped_resources_key_is_kms000(tmp_path: Path) -> None:
    """A broken template is KMS000 even when its Resources key is hidden behind an escape."""
    (tmp_path / "t.yaml").write_text('"Re\\x73ources":\n  Key:\n    Type: AWS::KMS::Key\n   Properties: {}\n')
    report = api.lint([str(tmp_path)])
    assert findings(report) == [("KMS000", "t.yaml", 4, 4, None)]


def test_a_broken_file_with_a_terraform_resource_block_is_kms000(tmp_path: Path) -> None:
    """A file that does not parse but declares an HCL resource block is KMS000 (RULES.md names it a sign of IaC)."""
    (tmp_path / "c.yaml").write_text('resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n  tags: [\n}\n')
    report = api.lint([str(tmp_path)])
    assert findings(report) == [("KMS000", "c.yaml", 3, 7, None)]


@pytest.mark.parametrize("kind", sniff.KINDS)
def test_the_sniff_decodes_every_escape_that_can_spell_a_marker(kind: str) -> None:
    """Each escape form that spells "kms" (\\x, \\u, \\U, an escaped line break) passes the sniff."""
    for spelled in ("\\x6bms", "\\u006Bms", "\\U0000006bms", "k\\\n   ms", "k\\\r\n\tms", "k\\\u2028ms"):
        assert registry.might_matter(f'x: "{spelled}"', kind)
    assert not registry.might_matter('x: "\\n\\t\\\\ \\u00e9 \\x41"', kind)


def test_every_type_a_parser_reads_passes_the_sniff() -> None:
    """Every key, key-policy and identity-policy type the parsers read passes the sniff of its format."""
    from kmslint.parsers import cloudformation, terraform

    tf_types = [*terraform.KEY_TYPES, *terraform.IDENTITY_POLICY_TYPES]
    tf_types += [t for t in terraform.OTHER_MODELLED if t.startswith("aws_kms_")]
    for rtype in tf_types:
        assert registry.might_matter(f'resource "{rtype}" "x" {{}}\n', "terraform"), rtype
        assert registry.might_matter(json.dumps({"resource": {rtype: {"x": {}}}}), "terraform"), rtype
        assert registry.might_matter(json.dumps({"resource_changes": [{"type": rtype}]}), "json"), rtype
    assert registry.might_matter('resource "aws_iam_role" "r" {\n  inline_policy {}\n}\n', "terraform")
    cfn_types = [*cloudformation._KEY_TYPES, *cloudformation._POLICY_DOCUMENT_TYPES, "AWS::KMS::Alias"]
    for rtype in cfn_types:
        assert registry.might_matter(f"Resources:\n  X:\n    Type: {rtype}\n", "yaml"), rtype
        assert registry.might_matter(json.dumps({"Resources": {"X": {"Type": rtype}}}), "json"), rtype
    for rtype in (*cloudformation._INLINE_POLICY_TYPES, cloudformation._SAM_FUNCTION):
        text = f"Resources:\n  X:\n    Type: {rtype}\n    Properties:\n      Policies: []\n"
        assert registry.might_matter(text, "yaml"), rtype


def test_roles_without_inline_policies_do_not_pass_the_sniff() -> None:
    """A role or a template without keys or inline policies stays cheap to skip.  A registry
    module call does not: it is listed as not followed (its calls are read from its text, see
    tests/parsers/test_terraform_modules.py), for the module may create keys."""
    assert not registry.might_matter('resource "aws_iam_role" "r" {\n  name = "${path.module}/x"\n}\n', "terraform")
    assert not registry.might_matter('resource "aws_iam_role_policy_attachment" "a" {}\n', "terraform")
    assert registry.might_matter('module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n', "terraform")
    assert not registry.might_matter("Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n", "yaml")
    assert not registry.might_matter('{"Statement": [{"Principal": "*", "Action": "*"}]}', "json")


def test_a_yaml_flow_template_that_is_not_json_is_read_as_yaml(tmp_path: Path) -> None:
    """A template in YAML flow syntax (starting with `{`) is linted as the YAML it is, not a JSON KMS000."""
    (tmp_path / "t.template").write_text("{Resources: {K: {Type: AWS::KMS::Key}}}\n")
    (tmp_path / "p.json").write_text('{"Statement": [{"Principal": "*", "Action": "kms:*"}],}\n')
    report = api.lint([str(tmp_path)])
    assert findings(report) == [
        ("KMS000", "p.json", 1, 55, None),
        ("KMS001", "t.template", 1, 14, "K"),
        ("KMS002", "t.template", 1, 14, "K"),
    ]


def test_a_terraform_state_rendered_as_json_is_linted(tmp_path: Path) -> None:
    """`terraform show -json` of a state (values.root_module, no planned_values) is read like a plan."""
    state = {
        "format_version": "1.0",
        "terraform_version": "1.9.0",
        "values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_kms_key.k",
                        "mode": "managed",
                        "type": "aws_kms_key",
                        "name": "k",
                        "values": {"enable_key_rotation": False},
                    }
                ]
            }
        },
    }
    (tmp_path / "state.json").write_text(json.dumps(state, indent=2))
    assert findings(api.lint([str(tmp_path)])) == [
        ("KMS001", "state.json", 7, 9, "aws_kms_key.k"),
        ("KMS002", "state.json", 13, 13, "aws_kms_key.k"),
    ]


def test_module_calls_whose_module_is_on_disk_are_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module call is parsed when its module can be on disk: a local source, or installed by terraform init."""
    from kmslint.parsers import terraform

    parsed: list[str] = []
    real = terraform.parse_directory

    def spy(directory: Path, *args: object, **kwargs: object) -> object:
        parsed.append(Path(directory).name)
        return real(directory, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(terraform, "parse_directory", spy)
    calls = {
        "local": 'module "k" {\n  source = "./keys"\n}\n',
        "escaped": 'module "k" {\n  source = "\\u002e./keys"\n}\n',
        "registry": 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n',
        "installed": 'module "k" {\n  source = "git::https://example.com/keys.git"\n}\n',
    }
    for name, text in calls.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(text)
    (tmp_path / "installed" / ".terraform" / "modules").mkdir(parents=True)
    api.lint([str(tmp_path / name) for name in calls])
    assert sorted(parsed) == ["escaped", "installed", "local"]
