"""A mapping key written twice: the last value is read, the template is linted, and the rules
report the repeat only where it changes a key (KMS015) or its policy (KMS013).

The fixtures (``fixtures/KMS013/*written_twice*``, ``fixtures/KMS015/*written_twice*``,
``fixtures/projects/cfn_template_with_keys_written_twice``) pin the positions; these tests
pin the words of the messages, the readers' records and the bounds.
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from kmslint import api
from kmslint.model import Finding, Location, scalar
from kmslint.parsers import cloudformation, jsonpos
from kmslint.parsers.common import MAX_DUPLICATE_KEYS, ParseOptions
from kmslint.settings import Settings
from tests.conftest import FIXTURES


def findings(path: Path, rules: str) -> list[Finding]:
    report = api.lint([str(path)], Settings(select=frozenset(rules.split(","))))
    return [f for f in report.findings if not f.suppressed]


def at(found: list[Finding], name: str, line: int) -> Finding:
    hits = [f for f in found if Path(f.file).name == name and f.line == line]
    assert len(hits) == 1, found
    return hits[0]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# --------------------------------------------------------------------------- what the rules say


def test_a_key_written_twice_in_a_key_policy_names_the_key_and_its_first_occurrence() -> None:
    found = findings(FIXTURES / "KMS013" / "fail_cfn_key_written_twice_in_policy", "KMS013")
    message = at(found, "template.yaml", 29).message
    assert message.startswith("`StringEquals` is written twice in one mapping of the key policy (first at line 28)")
    assert "only its last value is read" in message and "keep one" in message
    json_found = findings(FIXTURES / "KMS013" / "fail_cfn_json_key_written_twice_in_policy", "KMS013")
    assert "`Action` is written twice" in at(json_found, "template.json", 23).message
    assert "(first at column 15)" in at(json_found, "template.json", 23).message  # same line: the column


def test_a_key_written_twice_in_policy_text_is_reported_where_it_is_written() -> None:
    """Policy text (a YAML block, an escaped JSON string) is placed character by character,
    so the second occurrence is reported where the template writes it."""
    found = findings(FIXTURES / "KMS013" / "fail_cfn_key_written_twice_in_policy_text", "KMS013")
    assert (
        "`Sid` is written twice in one mapping of the key policy (first at line 13)"
        in at(found, "template.yaml", 14).message
    )
    assert (
        "`Effect` is written twice in one mapping of the key policy (first at column 70)"
        in at(found, "template.json", 7).message
    )


def test_a_setting_written_twice_says_cloudformation_keeps_the_last() -> None:
    found = findings(FIXTURES / "KMS015" / "fail_cfn_rotation_written_twice", "KMS015")
    [finding] = found
    assert finding.message.startswith("`EnableKeyRotation` is written twice in one mapping of this resource")
    assert "(first at line 6)" in finding.message and "CloudFormation keeps only the last value" in finding.message


def test_the_last_value_is_the_one_checked(tmp_path: Path) -> None:
    """Rotation on, then off: KMS002 sees it off; a wildcard statement overridden is not KMS003."""
    path = write(
        tmp_path,
        "t.yaml",
        """\
        Resources:
          Key:
            Type: AWS::KMS::Key
            Properties:
              EnableKeyRotation: true
              EnableKeyRotation: false
              KeyPolicy:
                Version: "2012-10-17"
                Statement:
                  - Sid: Open
                    Effect: Allow
                    Principal: "*"
                    Principal: {AWS: arn:aws:iam::111122223333:role/App}
                    Action: kms:Decrypt
                    Resource: "*"
        """,
    )
    rows = [(f.rule_id, f.line) for f in findings(path, "KMS002,KMS003,KMS013,KMS015")]
    assert rows == [("KMS002", 6), ("KMS015", 6), ("KMS013", 13)]


def test_a_key_written_twice_in_another_resource_gives_nothing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.yaml",
        """\
        Resources:
          Pool:
            Type: AWS::Cognito::UserPool
            Properties: {MfaConfiguration: "ON", MfaConfiguration: OPTIONAL}
          Key:
            Type: AWS::KMS::Key
            Properties: {EnableKeyRotation: true}
        """,
    )
    assert [(f.rule_id, f.line) for f in findings(path, "ALL")] == [("KMS001", 5)]


def test_a_shared_heredoc_is_reported_once_per_key_at_the_second_occurrence(tmp_path: Path) -> None:
    """A local read by every instance of a for_each and by another key: one finding per key."""
    write(
        tmp_path,
        "main.tf",
        """\
        locals {
          policy = <<EOF
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
          "Principal": {"AWS": "arn:aws:iam::111122223333:role/A"}, "Action": "kms:Decrypt",
          "Resource": "*", "Action": "kms:Encrypt"}]}
        EOF
        }

        resource "aws_kms_key" "each" {
          for_each            = toset(["a", "b"])
          enable_key_rotation = true
          policy              = local.policy
        }

        resource "aws_kms_key" "one" {
          enable_key_rotation = true
          policy              = local.policy
        }
        """,
    )
    rows = [(f.rule_id, f.line, f.column, f.resource) for f in findings(tmp_path, "KMS013")]
    assert rows == [("KMS013", 5, 20, "aws_kms_key.each"), ("KMS013", 5, 20, "aws_kms_key.one")]


# --------------------------------------------------------------------------- YAML merge keys


def parse_yaml(text: str) -> cloudformation.Project:
    path = Path("/virtual/t.yaml")
    project = cloudformation.parse_template(
        path, textwrap.dedent(text), ParseOptions(display_names={path: "t.yaml"}), is_json=False
    )
    assert project is not None
    return project


def test_of_the_mappings_one_merge_key_lists_the_earlier_wins() -> None:
    """YAML: "keys in mapping nodes earlier in the sequence override keys specified in later
    mapping nodes"; explicit keys override them all.  None of it is a key written twice."""
    project = parse_yaml(
        """\
        Shared:
          rotating: &on {EnableKeyRotation: true, PendingWindowInDays: 7}
          still: &off {EnableKeyRotation: false, PendingWindowInDays: 30, MultiRegion: true}
        Resources:
          Key:
            Type: AWS::KMS::Key
            Properties:
              <<: [*on, *off]
              PendingWindowInDays: 20
        """
    )
    [key] = project.keys
    assert (scalar(key.rotation), scalar(key.deletion_window), scalar(key.multi_region)) == (True, 20, True)
    assert project.duplicate_keys == [] and key.duplicate_keys == ()


def test_two_merge_keys_let_the_later_one_win() -> None:
    project = parse_yaml(
        """\
        Shared:
          a: &a {EnableKeyRotation: false}
          b: &b {EnableKeyRotation: true}
        Resources:
          Key:
            Type: AWS::KMS::Key
            Properties:
              <<: *a
              <<: *b
        """
    )
    [key] = project.keys
    assert scalar(key.rotation) is True
    assert project.duplicate_keys == []


# --------------------------------------------------------------------------- JSON records


def test_jsonpos_records_keys_written_twice_with_their_positions() -> None:
    twice: list[jsonpos.DuplicateKey] = []
    text = '{"a": 1,\n "b": {"k": 1, "k": [2]},\n "a": {"x": 1, "x": 2}}'
    value = jsonpos.parse(text, "t.json", duplicates=twice)
    assert sorted((d.loc, d.name, d.first) for d in twice) == [
        (Location("t.json", 2, 16, 2, 19), "k", Location("t.json", 2, 8, 2, 11)),
        (Location("t.json", 3, 2, 3, 5), "a", Location("t.json", 1, 2, 1, 5)),
        (Location("t.json", 3, 16, 3, 19), "x", Location("t.json", 3, 8, 3, 11)),
    ]
    assert json.loads(text)["a"] == {"x": 2}
    assert value.value["a"].value["x"].value == 2  # type: ignore[index, union-attr]


def test_jsonpos_records_keys_written_twice_inside_an_overridden_value() -> None:
    """The first "a" is never read, but a key written twice in it is still a key written twice
    (the YAML reader, which checks every mapping, finds it too)."""
    twice: list[jsonpos.DuplicateKey] = []
    jsonpos.parse('{"a": {"y": [{"z": 1, "z": 2}]}, "a": 3}', "t.json", duplicates=twice)
    assert [(d.name, d.loc.column) for d in twice] == [("a", 34), ("z", 23)]


def test_a_json_template_records_each_key_once_however_often_it_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.json",
        '{"Resources": {"K": {"Type": "AWS::KMS::Key", "Type": "AWS::KMS::Key",\n'
        ' "Properties": {"EnableKeyRotation": true, "EnableKeyRotation": true, "Tags": [{"Key": "a", "Key": "b"}]}}}}',
    )
    project = cloudformation.parse_template(path, path.read_text(), ParseOptions(), is_json=True)
    assert project is not None
    assert sorted((d.name, d.loc.line, d.loc.column) for d in project.duplicate_keys) == [
        ("EnableKeyRotation", 2, 44),
        ("Key", 2, 93),
        ("Type", 1, 47),
    ]
    assert [d.name for d in project.keys[0].duplicate_keys] == [d.name for d in project.duplicate_keys]


# --------------------------------------------------------------------------- bounds


@pytest.mark.slow
@pytest.mark.parametrize("form", ["yaml", "json"])
def test_a_policy_of_many_repeated_keys_is_linted_quickly_and_recorded_within_bounds(tmp_path: Path, form: str) -> None:
    """Built to be costly: 50,000 repeats of one key inside a key policy.  The template is read,
    the first MAX_DUPLICATE_KEYS repeats are reported, and it takes seconds at most."""
    n = 50_000
    if form == "yaml":
        condition = "".join(f"              StringEquals: {{kms:ViaService: s{i}.amazonaws.com}}\n" for i in range(n))
        text = (
            "Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
            "      KeyPolicy:\n        Version: '2012-10-17'\n        Statement:\n"
            "          - {Effect: Allow, Principal: {AWS: arn:aws:iam::1:root}, Action: 'kms:*', Resource: '*'}\n"
            "          - Effect: Allow\n            Principal: {AWS: arn:aws:iam::1:role/A}\n"
            "            Action: kms:Decrypt\n            Resource: '*'\n            Condition:\n" + condition
        )
    else:
        tests = ", ".join(f'"StringEquals": {{"kms:ViaService": "s{i}.amazonaws.com"}}' for i in range(n))
        text = (
            '{"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true, "KeyPolicy": '
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, '
            '"Action": "kms:*", "Resource": "*"}, {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/A"}, '
            f'"Action": "kms:Decrypt", "Resource": "*", "Condition": {{{tests}}}}}]}}}}}}}}}}'
        )
    path = write(tmp_path, f"t.{form}", text)
    start = time.perf_counter()
    found = findings(path, "ALL")
    assert time.perf_counter() - start < 30
    assert not [f for f in found if f.rule_id == "KMS000"]
    assert len([f for f in found if f.rule_id == "KMS013"]) == MAX_DUPLICATE_KEYS


@pytest.mark.slow
def test_many_keys_and_many_repeats_are_matched_without_a_scan_of_each(tmp_path: Path) -> None:
    """3,000 keys and aliases, each writing a property twice: each repeat is found for its own
    resource (by bisection, not by every resource looking at every repeat)."""
    n = 1_500
    body = "".join(
        f"  K{i}:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
        f"      EnableKeyRotation: true\n"
        f"  A{i}:\n    Type: AWS::KMS::Alias\n    Properties:\n      AliasName: alias/a{i}\n"
        f"      AliasName: alias/a{i}\n      TargetKeyId: !Ref K{i}\n"
        for i in range(n)
    )
    path = write(tmp_path, "t.yaml", "Resources:\n" + body)
    start = time.perf_counter()
    found = findings(path, "KMS015")
    assert time.perf_counter() - start < 30
    assert len(found) == MAX_DUPLICATE_KEYS  # a thousand repeats recorded, each once
    lines = path.read_text().split("\n")
    for f in found:  # each on the resource it is written in: the header above it names it
        header = next(lines[i] for i in range(f.line - 1, -1, -1) if lines[i].startswith("  ") and lines[i][2] != " ")
        assert header == f"  {f.resource}:"
