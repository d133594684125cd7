"""CloudTrail trails in the model (kmslint.parsers.trails) and KMS023 over them: one trail
written as .tf, as plan JSON and as a template reads the same; the rule's slug names it
in a suppression; shapes nobody would deploy never crash the reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmslint import api, config
from kmslint.model import Trail, to_plain

SETTINGS = config.settings_for(None, config.Overrides(select=frozenset({"ALL"})), use_config=False)

TF = """
resource "aws_cloudtrail" "main" {
  name                  = "main"
  s3_bucket_name        = "logs"
  is_multi_region_trail = true

  event_selector {
    read_write_type                  = "WriteOnly"
    exclude_management_event_sources = ["kms.amazonaws.com"]
  }

  advanced_event_selector {
    field_selector {
      field      = "eventSource"
      not_equals = ["kms.amazonaws.com"]
    }
  }
}
"""

CFN = """
Resources:
  main:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      IsMultiRegionTrail: true
      EventSelectors:
        - ReadWriteType: WriteOnly
          ExcludeManagementEventSources: [kms.amazonaws.com]
      AdvancedEventSelectors:
        - FieldSelectors:
            - Field: eventSource
              NotEquals: [kms.amazonaws.com]
"""


def _plan() -> str:
    values = {
        "name": "main",
        "enable_logging": True,
        "is_multi_region_trail": True,
        "event_selector": [
            {
                "data_resource": [],
                "include_management_events": True,
                "read_write_type": "WriteOnly",
                "exclude_management_event_sources": ["kms.amazonaws.com"],
            }
        ],
        "advanced_event_selector": [
            {
                "name": None,
                "field_selector": [
                    {"field": "eventSource", "equals": [], "not_equals": ["kms.amazonaws.com"], "starts_with": []}
                ],
            }
        ],
    }
    resource = {"address": "aws_cloudtrail.main", "mode": "managed", "type": "aws_cloudtrail", "name": "main"}
    return json.dumps(
        {
            "format_version": "1.2",
            "terraform_version": "1.9.5",
            "planned_values": {"root_module": {"resources": [{**resource, "values": values}]}},
            "resource_changes": [{**resource, "change": {"actions": ["create"], "after_unknown": {}}}],
        },
        indent=2,
    )


def _shape(trail: Trail) -> dict[str, object]:
    """What a trail says, whatever its syntax: the settings' plain values."""
    return {
        "multi_region": to_plain(trail.multi_region),
        "basic": [
            (to_plain(s.read_write_type), to_plain(s.exclude_management_event_sources)) for s in trail.event_selectors
        ],
        "advanced": [
            [(to_plain(f.event_field), {op: to_plain(v) for op, v in f.operators.items()}) for f in a.field_selectors]
            for a in trail.advanced_event_selectors
        ],
        "unknown": trail.selectors_unknown,
    }


def _lint(tmp_path: Path, name: str, text: str) -> list[api.Finding]:
    (tmp_path / name).write_text(text)
    return [f for f in api.lint([str(tmp_path)], SETTINGS).findings if f.rule_id == "KMS023"]


def test_one_trail_reads_the_same_in_every_syntax(tmp_path: Path) -> None:
    shapes = []
    for name, text in (("main.tf", TF), ("plan.json", _plan()), ("template.yaml", CFN)):
        folder = tmp_path / name.replace(".", "_")
        folder.mkdir()
        (folder / name).write_text(text)
        found = [f for f in api.lint([str(folder)], SETTINGS).findings if f.rule_id == "KMS023"]
        assert found == [], "a trail with basic and advanced selectors is refused by CloudTrail: no finding"
        shapes.append(_shape_of(folder / name))
    assert shapes[0] == shapes[1] == shapes[2]
    assert shapes[0]["basic"] == [("WriteOnly", ["kms.amazonaws.com"])]


def _shape_of(path: Path) -> dict[str, object]:
    from kmslint.parsers import cloudformation, terraform, terraform_plan
    from kmslint.parsers.common import ParseOptions

    opts = ParseOptions()
    text = path.read_text()
    if path.suffix == ".tf":
        project = terraform.parse_directory(path.parent, [path], opts)
    elif path.suffix == ".json":
        project = terraform_plan.parse_plan(path, text, opts)
    else:
        project = cloudformation.parse_template(path, text, opts, is_json=False)
    assert project is not None
    [trail] = project.trails
    return _shape(trail)


def test_the_slug_suppresses_it(tmp_path: Path) -> None:
    text = """
# kmslint:ignore kms-activity-not-logged -- KMS events go to the organization trail
resource "aws_cloudtrail" "cheap" {
  name           = "cheap"
  s3_bucket_name = "logs"
  event_selector {
    exclude_management_event_sources = ["kms.amazonaws.com"]
  }
}
"""
    (tmp_path / "main.tf").write_text(text)
    findings = api.lint([str(tmp_path)], SETTINGS).findings
    assert [(f.rule_id, f.suppressed) for f in findings] == [("KMS023", True)]


@pytest.mark.parametrize(
    "selectors",
    [
        "EventSelectors: 7",
        "EventSelectors: [[1], null]",
        "EventSelectors: [{ExcludeManagementEventSources: 5, ReadWriteType: {a: 1}}]",
        "AdvancedEventSelectors: [{FieldSelectors: {Field: readOnly}}]",
        "AdvancedEventSelectors: [{FieldSelectors: [{Field: [readOnly], Equals: 1, NotEquals: {a: b}}]}]",
        "AdvancedEventSelectors: [{FieldSelectors: [{Field: readOnly, Equals: [null, [true]]}]}]",
        "AdvancedEventSelectors: !If [C, [], 3]",
    ],
)
def test_odd_shapes_give_no_finding(tmp_path: Path, selectors: str) -> None:
    text = f"""
Conditions:
  C: !Equals [!Ref AWS::Region, us-east-1]
Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      {selectors}
"""
    assert _lint(tmp_path, "template.yaml", text) == []


def test_a_condition_that_decides_the_other_trail_is_named(tmp_path: Path) -> None:
    # KmsTrail exists only in production: elsewhere nothing makes up for CheapTrail.
    text = """
Parameters:
  Stage: {Type: String, AllowedValues: [prod, dev]}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  CheapTrail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      EventSelectors:
        - ReadWriteType: WriteOnly
  KmsTrail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: !If [IsProd, true, false]
"""
    [finding] = _lint(tmp_path, "template.yaml", text)
    assert finding.resource == "CheapTrail"
    assert "when condition IsProd is false" in finding.message
    assert "ReadWriteType: WriteOnly" in finding.message and "read_write_type" not in finding.message
