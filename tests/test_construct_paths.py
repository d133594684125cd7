"""A template the AWS CDK synthesized names each finding's construct path (RULES.md, "Where a
finding is reported"), once, in every format, whatever rule reported it."""

from __future__ import annotations

import json
from pathlib import Path

from kmslint import api
from kmslint.model import MESSAGE_LIMIT
from kmslint.settings import Settings
from tests.conftest import FIXTURES

CASE = FIXTURES / "KMS002" / "fail_cdk_construct_paths"


def messages(path: Path, **settings: object) -> dict[tuple[str, str], str]:
    report = api.lint([str(path)], Settings(select=frozenset({"ALL"}), **settings))  # type: ignore[arg-type]
    return {(f.rule_id, f.resource): f.message for f in report.findings if not f.suppressed}


def test_findings_name_the_construct_path_without_cdks_resource_suffix() -> None:
    got = messages(CASE)
    assert got[("KMS002", "DataKey6B1E5C3A")].endswith("(construct MyStack/DataKey)")
    assert got[("KMS002", "NestedKeyAB12CD34")].endswith("(construct MyStack/Storage/Encryption/Key)")
    assert got[("KMS002", "LogsKey4F2E1A0B")].endswith("(construct LogsStack/LogsKey)")
    assert got[("KMS005", "DataKey6B1E5C3A")].endswith("(construct MyStack/DataKey)")  # every rule's
    assert got[("KMS019", "NestedKeyAB12CD34")].count("construct") == 1  # once per message


def test_resources_without_a_path_are_unchanged() -> None:
    got = messages(CASE)
    assert "construct" not in got[("KMS002", "HandWritten")]


def test_suppression_findings_name_it_too(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n  Key1A2B:\n    Type: AWS::KMS::Key\n"
        "    Metadata:\n      aws:cdk:path: S/Key/Resource\n      kmslint: {ignore: [{id: KMS002}]}\n"
        "    Properties: {EnableKeyRotation: false}\n"
    )
    got = messages(template)
    assert got[("KMS900", "Key1A2B")].endswith("(construct S/Key)")


def test_a_long_path_is_shortened_and_the_message_stays_bounded(tmp_path: Path) -> None:
    template = tmp_path / "template.json"
    long_path = "S/" + "x" * 5000 + "/Resource"
    resource = {"Type": "AWS::KMS::Key", "Metadata": {"aws:cdk:path": long_path}}
    template.write_text(json.dumps({"Resources": {"K": resource}}))
    got = messages(template)
    message = got[("KMS002", "K")]
    assert "(construct S/xxx" in message and "more characters)" in message
    assert len(message) <= MESSAGE_LIMIT
