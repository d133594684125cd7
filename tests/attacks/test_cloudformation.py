"""Attacks on the CloudFormation reader: loops that hide keys, and input that crashed it.

``Fn::ForEach`` (the ``AWS::LanguageExtensions`` transform) must be expanded
as CloudFormation expands it, within bounds; numbers, anchors and nesting
that Python or PyYAML trip over must give a value or a KMS000 with a line,
never a traceback.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kmslint import api
from kmslint.parsers import cloudformation, jsonpos, yamlpos
from kmslint.settings import Settings

KMSLINT = Path(sys.executable).parent / "kmslint"

Row = tuple[str, int, int, str | None]


def cli(args: list[str], cwd: Path) -> tuple[int, dict[str, object], str]:
    """The installed console script in a fresh process: exit code, JSON report, stderr."""
    proc = subprocess.run(
        [str(KMSLINT), "--format", "json", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def lint(tmp_path: Path, name: str, text: str, **settings: object) -> list[Row]:
    (tmp_path / name).write_text(textwrap.dedent(text))
    report = api.lint([str(tmp_path / name)], Settings(**settings))  # type: ignore[arg-type]
    return [(f.rule_id, f.line, f.column, f.resource or None) for f in report.findings]


def rows(doc: dict[str, object]) -> list[Row]:
    return [(f["rule_id"], f["line"], f["column"], f["resource"]) for f in doc["findings"]]  # type: ignore[index, attr-defined]


def only(rules: str, found: list[Row]) -> list[Row]:
    return [r for r in found if r[0] in rules.split(",")]


# --------------------------------------------------------------------------- Fn::ForEach

OPEN_KEYS = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Keys:
    - Name
    - [A, B]
    - Key${Name}:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
          KeyPolicy:
            Version: "2012-10-17"
            Statement:
              - Sid: All
                Effect: Allow
                Principal: "*"
                Action: kms:*
                Resource: "*"
"""


def test_foreach_resources_are_each_linted(tmp_path: Path) -> None:
    """Each resource an Fn::ForEach makes is its own resource, reported at the lines of the loop body."""
    (tmp_path / "t.yaml").write_text(OPEN_KEYS)
    code, doc, _ = cli(["t.yaml"], tmp_path)
    assert rows(doc) == [
        ("KMS003", 14, 17, "KeyA"),
        ("KMS003", 14, 17, "KeyB"),
        ("KMS005", 14, 17, "KeyA"),
        ("KMS005", 14, 17, "KeyB"),
    ]
    assert code == 1
    assert doc["summary"]["resources"] == 2  # type: ignore[index]


def test_foreach_in_a_json_template_without_a_version_is_linted(tmp_path: Path) -> None:
    """A JSON template whose only resources are an Fn::ForEach is recognised and expanded."""
    body = {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}],
            }
        },
    }
    text = json.dumps({"Resources": {"Fn::ForEach::K": ["N", ["x", "y"], {"Key${N}": body}]}}, indent=2)
    assert only("KMS003", lint(tmp_path, "t.json", text)) == [("KMS003", 16, 17, "Keyx"), ("KMS003", 16, 17, "Keyy")]


def test_foreach_over_an_unknown_collection_checks_the_body_once(tmp_path: Path) -> None:
    """A loop over a collection kmslint cannot resolve is checked once, under its logical-ID template."""
    text = OPEN_KEYS.replace("    - [A, B]\n", "    - !Ref Names\n").replace(
        "Resources:\n", "Parameters:\n  Names:\n    Type: CommaDelimitedList\nResources:\n"
    )
    assert only("KMS003", lint(tmp_path, "t.yaml", text)) == [("KMS003", 17, 17, "Key${Name}")]


def test_foreach_collections_from_parameters_and_mappings(tmp_path: Path) -> None:
    """A loop over a list parameter's default or AllowedValues or Fn::FindInMap is expanded; &{} keeps alphanumerics."""
    found = lint(
        tmp_path,
        "t.yaml",
        """\
        Transform: AWS::LanguageExtensions
        Parameters:
          Defaulted:
            Type: CommaDelimitedList
            Default: "a-1,b.2"
          Allowed:
            Type: List<String>
            AllowedValues: [red, blue]
        Mappings:
          M:
            Envs:
              List: [dev]
        Resources:
          Fn::ForEach::D:
            - X
            - !Ref Defaulted
            - Key&{X}:
                Type: AWS::KMS::Key
          Fn::ForEach::A:
            - Y
            - !Ref Allowed
            - Key${Y}:
                Type: AWS::KMS::Key
          Fn::ForEach::M:
            - Z
            - !FindInMap [M, Envs, List]
            - Key${Z}:
                Type: AWS::KMS::Key
        """,
    )
    assert only("KMS001", found) == [
        ("KMS001", 17, 7, "Keya1"),
        ("KMS001", 17, 7, "Keyb2"),
        ("KMS001", 22, 7, "Keyblue"),
        ("KMS001", 22, 7, "Keyred"),
        ("KMS001", 27, 7, "Keydev"),
    ]


def test_foreach_ref_and_sub_take_each_item(tmp_path: Path) -> None:
    """Ref to the identifier and ${Identifier} in Fn::Sub are the item in each copy (principals, aliases)."""
    found = lint(
        tmp_path,
        "t.yaml",
        """\
        Transform: AWS::LanguageExtensions
        Mappings:
          Principals:
            Of:
              dev: "*"
              prod: arn:aws:iam::111122223333:root
        Resources:
          Fn::ForEach::Keys:
            - Env
            - [dev, prod]
            - Key${Env}:
                Type: AWS::KMS::Key
                Properties:
                  EnableKeyRotation: true
                  MultiRegion: true
                  KeyPolicy:
                    Version: "2012-10-17"
                    Statement:
                      - Sid: !Sub Open${Env}
                        Effect: Allow
                        Principal:
                          AWS: !FindInMap [Principals, Of, !Ref Env]
                        Action: kms:*
                        Resource: "*"
              Table${Env}:
                Type: AWS::DynamoDB::GlobalTable
                Properties:
                  Replicas:
                    - SSESpecification:
                        KMSMasterKeyId:
                          Ref: !Sub Key${Env}
        """,
    )
    assert found == [
        ("KMS001", 19, 17, "Keyprod"),
        ("KMS003", 19, 17, "Keydev"),
        ("KMS005", 19, 17, "Keydev"),
    ]


def test_nested_foreach_and_foreach_in_properties(tmp_path: Path) -> None:
    """Nested loops multiply; a loop inside Properties sets properties (here rotation, so no KMS002)."""
    found = lint(
        tmp_path,
        "t.yaml",
        """\
        Transform: AWS::LanguageExtensions
        Resources:
          Fn::ForEach::Outer:
            - O
            - [A, B]
            - Fn::ForEach::Inner:
                - I
                - [x, y]
                - Key${O}${I}:
                    Type: AWS::KMS::Key
                    Properties:
                      Fn::ForEach::Flags:
                        - F
                        - [EnableKeyRotation, MultiRegion]
                        - ${F}: true
        """,
    )
    assert found == [
        ("KMS001", 9, 11, "KeyAx"),
        ("KMS001", 9, 11, "KeyAy"),
        ("KMS001", 9, 11, "KeyBx"),
        ("KMS001", 9, 11, "KeyBy"),
        ("KMS004", 15, 19, "KeyAx"),
        ("KMS004", 15, 19, "KeyAy"),
        ("KMS004", 15, 19, "KeyBx"),
        ("KMS004", 15, 19, "KeyBy"),
    ]


def test_properties_from_an_unknown_loop_are_unknown(tmp_path: Path) -> None:
    """Properties named by a loop over an unknown collection may be any property: no finding assumes them absent."""
    found = lint(
        tmp_path,
        "t.yaml",
        """\
        Transform: AWS::LanguageExtensions
        Resources:
          Key:
            Type: AWS::KMS::Key
            Properties:
              Fn::ForEach::Flags:
                - F
                - !Split [",", !ImportValue flags]
                - ${F}: true
        """,
    )
    assert found == []


def test_suppressions_in_a_foreach_body_apply_to_every_copy(tmp_path: Path) -> None:
    """A kmslint:ignore comment or Metadata inside a loop body suppresses the finding in every copy."""
    (tmp_path / "t.yaml").write_text(
        OPEN_KEYS.replace("          EnableKeyRotation: true\n", "          # kmslint:ignore KMS005 -- break-glass\n")
        + "        Metadata:\n          kmslint:\n            ignore: [{id: KMS003, reason: public on purpose}]\n"
    )
    report = api.lint([str(tmp_path / "t.yaml")])
    assert [(f.rule_id, f.line, f.resource, f.suppression_reason) for f in report.findings] == [
        ("KMS002", 7, "KeyA", None),
        ("KMS002", 7, "KeyB", None),
        ("KMS003", 14, "KeyA", "public on purpose"),
        ("KMS003", 14, "KeyB", "public on purpose"),
        ("KMS005", 14, "KeyA", "break-glass"),
        ("KMS005", 14, "KeyB", "break-glass"),
    ]


@pytest.mark.slow
def test_foreach_expansion_is_bounded(tmp_path: Path) -> None:
    """Loops that would make 8,000 keys make 2,000, in order, and a KMS000 says the rest is unchecked."""
    items = [f"i{n}" for n in range(20)]
    body: dict[str, object] = {
        "Key${A}${B}${C}": {
            "Type": "AWS::KMS::Key",
            "Properties": {"EnableKeyRotation": True, "KeyPolicy": {"Version": "2012-10-17", "Statement": []}},
        }
    }
    for name in "CBA":
        body = {f"Fn::ForEach::{name}": [name, items, body]}
    (tmp_path / "t.json").write_text(json.dumps({"Resources": body}, indent=1))
    start = time.perf_counter()
    report = api.lint([str(tmp_path / "t.json")])
    assert time.perf_counter() - start < 30
    kms000 = [(f.line, f.column, f.message) for f in report.findings if f.rule_id == "KMS000"]
    assert kms000 == [
        (
            53,
            7,
            "Fn::ForEach::C: the template's loops make more than 2000 outputs or 200000 values; the rest of this "
            "loop and the loops after it are not checked (CloudFormation allows 500 resources in a stack)",
        )
    ]
    keys = [f.resource for f in report.findings if f.rule_id == "KMS019"]
    assert keys == sorted(f"Key{items[n // 400]}{items[n // 20 % 20]}{items[n % 20]}" for n in range(2000))


def test_a_malformed_foreach_is_kms000(tmp_path: Path) -> None:
    """An Fn::ForEach that is not [identifier, collection, outputs] is a KMS000 at the loop, not silence."""
    found = lint(tmp_path, "t.yaml", "Resources:\n  Fn::ForEach::Keys: [Name, [A]]\n  K:\n    Type: AWS::KMS::Key\n")
    assert only("KMS000", found) == [("KMS000", 2, 3, None)]


def test_a_key_policy_given_with_fn_tojsonstring_is_read(tmp_path: Path) -> None:
    """KeyPolicy: Fn::ToJsonString of a policy is that policy (a world-open one is still found)."""
    found = lint(
        tmp_path,
        "t.yaml",
        """\
        Transform: AWS::LanguageExtensions
        Resources:
          Key:
            Type: AWS::KMS::Key
            Properties:
              EnableKeyRotation: true
              KeyPolicy:
                Fn::ToJsonString:
                  Version: "2012-10-17"
                  Statement:
                    - {Effect: Allow, Principal: "*", Action: "kms:Decrypt", Resource: "*"}
        """,
    )
    assert only("KMS003", found) == [("KMS003", 11, 15, "Key")]


# --------------------------------------------------------------------------- numbers, anchors, nesting

HUGE = "9" * 4400


@pytest.mark.parametrize(
    "value",
    [HUGE, f"-{HUGE}", f"!!int {HUGE}", f"!!float {HUGE}", f"!FindInMap [M, {HUGE}, b]", f"!Select [{HUGE}, [a]]"],
)
def test_a_huge_yaml_integer_is_a_value_not_a_traceback(tmp_path: Path, value: str) -> None:
    """A YAML integer past Python's 4,300-digit limit, anywhere in a template, leaves the other findings intact."""
    template = f"""\
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      PendingWindowInDays: {value}
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: kms:Decrypt
            Resource: "*"
            Sid: {value}
"""
    (tmp_path / "t.yaml").write_text(template)
    report = api.lint([str(tmp_path / "t.yaml")])
    assert [(f.rule_id, f.line, f.column) for f in report.findings if f.rule_id in ("KMS000", "KMS003")] == [
        ("KMS003", 10, 13)
    ]


def test_a_huge_integer_through_the_console_script(tmp_path: Path) -> None:
    """The 4,400-digit integer of issue 11 gives findings and no traceback from the real process (YAML and JSON)."""
    (tmp_path / "t.yaml").write_text(
        OPEN_KEYS.replace("EnableKeyRotation: true", f"EnableKeyRotation: true\n          PendingWindowInDays: {HUGE}")
    )
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*"}]}
    (tmp_path / "p.json").write_text(json.dumps(policy).replace('"Action"', f'"Sid": {HUGE}, "Action"'))
    code, doc, _ = cli(["t.yaml", "p.json"], tmp_path)
    assert only("KMS003,KMS000", rows(doc)) == [
        ("KMS003", 1, 41, None),
        ("KMS003", 15, 17, "KeyA"),
        ("KMS003", 15, 17, "KeyB"),
    ]
    assert code == 1


def test_numbers_mean_what_they_say() -> None:
    """Plain scalars: decimal and dotted numbers are numbers (huge ones inf or text); other forms stay text."""
    values = {text: yamlpos.plain_value(text) for text in ("30", "-7", "1.5e3", "1.0e99999", HUGE)}
    assert values == {"30": 30, "-7": -7, "1.5e3": 1500.0, "1.0e99999": math.inf, HUGE: HUGE}
    for text in (".inf", "-.inf", ".nan", "0x1F", "0o17", "017", "1_000", "190:20:30", "1:" * 3000 + "1", "1e3"):
        assert yamlpos.plain_value(text) == text
    data = jsonpos.check_syntax(f'{{"a": {HUGE}, "b": 1e99999, "c": -{HUGE}, "d": 12}}')
    assert data == {"a": HUGE, "b": math.inf, "c": f"-{HUGE}", "d": 12}


def test_merge_key_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    """Merge keys (<<) over aliases nested ten deep are refused at the line where the budget runs out."""
    lines = ["Metadata:", "  l0: &l0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}"]
    for i in range(1, 10):
        lines.append(f"  l{i}: &l{i}\n    <<: [{', '.join([f'*l{i - 1}'] * 10)}]\n    k{i}: 1")
    lines.append("Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      Tags:\n        <<: *l9\n")
    (tmp_path / "t.yaml").write_text("\n".join(lines))
    start = time.perf_counter()
    report = api.lint([str(tmp_path / "t.yaml")])
    assert time.perf_counter() - start < 10
    assert [(f.rule_id, f.line, f.column, f.message) for f in report.findings] == [
        ("KMS000", 9, 7, "invalid YAML: aliases expand to more than 100000 nodes")
    ]


def test_an_anchor_defined_twice_means_the_latest(tmp_path: Path) -> None:
    """YAML lets an anchor be defined again (an alias means the latest); PyYAML's refusal is not a KMS000."""
    found = lint(
        tmp_path,
        "t.yaml",
        """\
        Resources:
          Queue:
            Type: &type AWS::SQS::Queue
          Key:
            Type: &type AWS::KMS::Key
          Other:
            Type: *type
            Properties:
              EnableKeyRotation: true
        """,
    )
    assert only("KMS000,KMS001", found) == [("KMS001", 4, 3, "Key"), ("KMS001", 6, 3, "Other")]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy: " + "[" * 5000 + "]" * 5000, 5),
        ("Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy: " + "{a: " * 3000 + "1", 5),
    ],
)
def test_deeply_nested_flow_collections_are_kms000(tmp_path: Path, text: str, line: int) -> None:
    """Flow collections nested thousands deep are a KMS000 with a line, not a crash."""
    found = lint(tmp_path, "t.yaml", text)
    assert [(r[0], r[1]) for r in found] == [("KMS000", line)]


def test_very_long_keys_are_read(tmp_path: Path) -> None:
    """A 200,000-character explicit key and a 100,000-character JSON key are just keys."""
    yaml_text = "Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      ? " + "k" * 200_000 + "\n      : 1\n"
    assert lint(tmp_path, "t.yaml", yaml_text) == [("KMS001", 2, 3, "K"), ("KMS002", 2, 3, "K")]
    json_text = json.dumps({"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"k" * 100_000: 1}}}})
    assert lint(tmp_path, "t.json", json_text) == [("KMS001", 1, 16, "K"), ("KMS002", 1, 16, "K")]


def test_the_loop_module_does_not_slow_templates_without_loops() -> None:
    """Templates without Fn::ForEach are read directly, not through the loop source."""
    assert not cloudformation._has_loops("Resources:\n  K:\n    Type: AWS::KMS::Key\n")
    assert cloudformation._has_loops('{"Fn::For\\u0045ach::X": []}')


# --------------------------------------------------------------------------- what CloudFormation reads

SAFE = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}'  # noqa: E501
OPEN = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}'  # noqa: E501


def test_a_duplicate_json_key_takes_its_last_value(tmp_path: Path) -> None:
    """A JSON template or policy that says a key twice is read with the last value, as CloudFormation reads it."""
    template = (
        '{\n "Resources": {\n  "Key": {\n   "Type": "AWS::KMS::Key",\n   "Properties": {\n'
        f'    "EnableKeyRotation": true,\n    "KeyPolicy": {SAFE},\n    "KeyPolicy": {OPEN}\n   }}\n  }}\n }}\n}}\n'
    )
    assert only("KMS001,KMS003", lint(tmp_path, "t.json", template)) == [("KMS003", 8, 58, "Key")]
    policy = OPEN.replace('"Principal": "*"', '"Principal": "*", "Principal": {"AWS": "arn:aws:iam::1:root"}')
    assert only("KMS003", lint(tmp_path, "p.json", policy)) == []
    policy = SAFE.replace('"Action"', '"Principal": "*", "Action"')
    assert only("KMS003", lint(tmp_path, "q.json", policy)) == [("KMS003", 1, 41, None)]


def test_a_yaml_template_named_json_is_read(tmp_path: Path) -> None:
    """A YAML template in a .json file is a template to CloudFormation, so it is linted, not a JSON error."""
    assert lint(tmp_path, "t.json", "Resources:\n  K:\n    Type: AWS::KMS::Key\n") == [
        ("KMS001", 2, 3, "K"),
        ("KMS002", 2, 3, "K"),
    ]


@pytest.mark.parametrize(
    "key", ['"Fn::For\\x45ach::Keys"', "!!str Fn::ForEach::Keys", '? "Fn::ForEach::\\\n      Keys"\n  ']
)
def test_an_escaped_or_tagged_foreach_key_is_expanded(tmp_path: Path, key: str) -> None:
    """A loop key written with an escape, a tag or an escaped line break is still a loop."""
    text = OPEN_KEYS.replace("  Fn::ForEach::Keys:", f"  {key}:")
    line = text[: text.index("- Sid")].count("\n") + 1
    assert only("KMS003", lint(tmp_path, "t.yaml", text)) == [
        ("KMS003", line, 17, "KeyA"),
        ("KMS003", line, 17, "KeyB"),
    ]


def test_an_identifier_in_a_type_is_substituted(tmp_path: Path) -> None:
    """${Identifier} in a plain string of the loop body (even the Type) is the item, as the AWS docs say."""
    text = OPEN_KEYS.replace("Type: AWS::KMS::Key", "Type: AWS::${Svc}::Key").replace(
        "    - Name\n    - [A, B]\n", "    - Svc\n    - [KMS]\n"
    )
    text = text.replace("Key${Name}:", "Key${Svc}:")
    assert only("KMS003", lint(tmp_path, "t.yaml", text)) == [("KMS003", 14, 17, "KeyKMS")]


# --------------------------------------------------------------------------- found at integration


def test_a_sub_string_of_unclosed_variables_is_read_in_linear_time(tmp_path: Path) -> None:
    """An Fn::Sub string of 300,000 unclosed "${" (1.2 MB template) is read in well under a second, not minutes."""
    opened = "${" * 300_000
    (tmp_path / "t.yaml").write_text(
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
        "      KeyPolicy:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n"
        f'            Principal: {{AWS: !Sub "{opened}"}}\n            Action: kms:*\n            Resource: "*"\n'
    )
    start = time.perf_counter()
    code, doc, _ = cli(["t.yaml"], tmp_path)
    assert time.perf_counter() - start < 10
    assert (code, only("KMS003,KMS005", rows(doc))) == (1, [("KMS005", 9, 13, "Key")])


def test_a_quoted_principal_is_shortened_in_messages(tmp_path: Path) -> None:
    """A message quotes at most ~200 characters of a principal or Sid: a huge one does not multiply the output."""
    arn = "arn:aws:iam::111122223333:role/" + "r" * 100_000
    found = lint(
        tmp_path,
        "p.json",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Sid": "S" * 50_000, "Effect": "Allow", "Principal": {"AWS": arn}, "Action": "kms:*"}],
            }
        ),
    )
    assert found == [("KMS013", 1, 1, None), ("KMS005", 1, 41, None), ("KMS013", 1, 41, None)]
    report = api.lint([str(tmp_path / "p.json")])
    assert all(len(f.message) < 1_000 for f in report.findings)
    assert "S" * 160 + "... (49840 more characters)`" in report.findings[1].message
    assert "/" + "r" * 129 + "... (99871 more characters)`" in report.findings[1].message
