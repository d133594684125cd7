"""The model KMS020 reads (kmslint.parsers.service_uses): which resources a service uses a key
for as its own principal, their names, the Region and account the configuration states, and
what sends to them, from Terraform and CloudFormation; hostile shapes give nothing, never a crash."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from kmslint.model import Project, ServiceUse
from kmslint.parsers import cloudformation
from kmslint.parsers.common import ParseOptions
from kmslint.rules import RuleContext, all_checks
from tests.parsers.tf_helpers import parse


def _cfn(text: str, tmp_path: Path) -> Project:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    project = cloudformation.parse_template(path, text, ParseOptions(scan_root=tmp_path), is_json=False)
    assert project is not None
    return project


def _by_name(project: Project) -> dict[str, ServiceUse]:
    return {str(su.use.name): su for su in project.service_uses}


def _senders(su: ServiceUse) -> list[tuple[str, str | None]]:
    return sorted((str(s.name), s.aws_name) for s in su.senders)


TF_SENDERS = """
provider "aws" {
  region              = "eu-west-1"
  allowed_account_ids = ["111122223333"]
}

resource "aws_kms_key" "k" {}

resource "aws_sns_topic" "t" {
  name              = "alerts"
  kms_master_key_id = aws_kms_key.k.id
}

resource "aws_sqs_queue" "q" {
  name              = "jobs"
  kms_master_key_id = aws_kms_key.k.arn
}

resource "aws_s3_bucket" "b" {
  bucket = "inbox"
}

resource "aws_s3_bucket_notification" "n" {
  bucket = aws_s3_bucket.b.id
  topic {
    topic_arn = aws_sns_topic.t.arn
    events    = ["s3:ObjectCreated:*"]
  }
  queue {
    queue_arn = "arn:aws:sqs:eu-west-1:111122223333:jobs"
    events    = ["s3:ObjectRemoved:*"]
  }
}

resource "aws_cloudwatch_event_rule" "r" {
  name           = "nightly"
  event_bus_name = "ops"
}

resource "aws_cloudwatch_event_target" "to_topic" {
  rule           = aws_cloudwatch_event_rule.r.name
  event_bus_name = "ops"
  arn            = aws_sns_topic.t.id
}

resource "aws_cloudwatch_event_target" "to_queue_url" {
  rule = "other"
  arn  = aws_sqs_queue.q.url
}

resource "aws_cloudwatch_metric_alarm" "a" {
  alarm_name    = "cpu"
  alarm_actions = [aws_sns_topic.t.arn]
  ok_actions    = [aws_sns_topic.t.arn]
}

resource "aws_sns_topic_subscription" "s" {
  topic_arn = aws_sns_topic.t.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.q.arn
}

resource "aws_sns_topic_subscription" "mail" {
  topic_arn = aws_sns_topic.t.arn
  protocol  = "email"
  endpoint  = "ops@example.com"
}

resource "aws_cloudwatch_log_group" "g" {
  name       = "/app/api"
  kms_key_id = aws_kms_key.k.arn
}
"""


def test_terraform_senders_names_region_and_account(tmp_path: Path) -> None:
    uses = _by_name(parse(tmp_path, {"main.tf": TF_SENDERS}))
    topic, queue, group = uses["aws_sns_topic.t"], uses["aws_sqs_queue.q"], uses["aws_cloudwatch_log_group.g"]
    assert _senders(topic) == [
        ("aws_cloudwatch_event_target.to_topic", "ops/nightly"),
        ("aws_cloudwatch_metric_alarm.a", "cpu"),
        ("aws_cloudwatch_metric_alarm.a", "cpu"),
        ("aws_s3_bucket_notification.n", "inbox"),
    ]
    # named by its ARN written out and by a subscription; never by its URL
    assert _senders(queue) == [("aws_s3_bucket_notification.n", "inbox"), ("aws_sns_topic_subscription.s", "alerts")]
    assert group.aws_name == "/app/api" and group.senders == []
    assert (group.region, group.account, group.partition) == ("eu-west-1", "111122223333", None)
    assert all(su.key_resource == "aws_kms_key.k" for su in (topic, queue, group))


def test_terraform_deliveries_and_config_role(tmp_path: Path) -> None:
    files = {
        "main.tf": """
        resource "aws_kms_key" "k" {}
        resource "aws_cloudtrail" "t" {
          name           = "main"
          s3_bucket_name = "x"
          kms_key_id     = aws_kms_key.k.arn
        }
        resource "aws_cloudtrail_event_data_store" "lake" {
          name       = "lake"
          kms_key_id = aws_kms_key.k.arn
        }
        resource "aws_config_configuration_recorder" "r" {
          name     = "r"
          role_arn = "arn:aws:iam::111122223333:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
        }
        resource "aws_config_delivery_channel" "c" {
          s3_bucket_name = "x"
          s3_kms_key_arn = aws_kms_key.k.arn
        }
        """
    }
    uses = _by_name(parse(tmp_path, files))
    assert uses["aws_cloudtrail.t"].aws_name == "main"
    assert uses["aws_cloudtrail_event_data_store.lake"].use.kind == "cloudtrail-lake"
    assert uses["aws_config_delivery_channel.c"].service_linked is True
    # none of them is a data store: the data-store rules never see them
    assert all(u.rtype not in ("aws_cloudtrail", "aws_config_delivery_channel") for u in parse(tmp_path).key_uses)


CFN_SENDERS = """
Resources:
  Key:
    Type: AWS::KMS::Key
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: alerts
      KmsMasterKeyId: !Ref Key
      Subscription:
        - Protocol: sqs
          Endpoint: !GetAtt Queue.Arn
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      KmsMasterKeyId: !GetAtt Key.Arn
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: inbox
      NotificationConfiguration:
        QueueConfigurations:
          - Event: "s3:ObjectCreated:*"
            Queue: !Ref Queue
        TopicConfigurations:
          - Event: "s3:ObjectCreated:*"
            Topic: !Ref Topic
  Rule:
    Type: AWS::Events::Rule
    Properties:
      Name: nightly
      Targets:
        - Id: q
          Arn: !Sub "${Queue.Arn}"
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: cpu
      InsufficientDataActions: [!Ref Topic]
  Role:
    Type: AWS::IAM::Role
  Recorder:
    Type: AWS::Config::ConfigurationRecorder
    Properties:
      RoleARN: !GetAtt Role.Arn
  Channel:
    Type: AWS::Config::DeliveryChannel
    Properties:
      S3BucketName: x
      S3KmsKeyArn: !GetAtt Key.Arn
"""


def test_cloudformation_senders_and_config_role(tmp_path: Path) -> None:
    uses = _by_name(_cfn(CFN_SENDERS, tmp_path))
    assert _senders(uses["Topic"]) == [("Alarm", "cpu"), ("Bucket", "inbox")]
    # `!Ref Queue` is its URL: the bucket's notification does not name it by that
    assert _senders(uses["Queue"]) == [("Rule", "nightly"), ("Topic", "alerts")]
    assert uses["Channel"].service_linked is False
    assert uses["Topic"].key_resource == "Key" and uses["Queue"].key_resource == "Key"


# The property that names a receiver (or a key), and the type of the resource that has it.
_HOLDERS = {
    "NotificationConfiguration": "AWS::S3::Bucket",
    "Targets": "AWS::Events::Rule",
    "AlarmActions": "AWS::CloudWatch::Alarm",
    "Subscription": "AWS::SNS::Topic",
    "KMSKeyId": "AWS::CloudTrail::Trail",
    "LogDestination": "AWS::EC2::FlowLog",
}
HOSTILE = ["x", 42, [], {}, [1, "a"], {"Ref": 3}, None, [{"Arn": []}], {"Fn::GetAtt": [1]}]


@pytest.mark.parametrize(
    ("prop", "value"),
    list(
        itertools.product(
            list(_HOLDERS),
            HOSTILE,
        )
    ),
)
def test_cloudformation_hostile_shapes_give_nothing(tmp_path: Path, prop: str, value: object) -> None:
    text = f"""
Resources:
  Key:
    Type: AWS::KMS::Key
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: !Ref Key
  Thing:
    Type: {_HOLDERS[prop]}
    Properties:
      LogDestinationType: s3
      {prop}: {json.dumps(value)}
"""
    project = _cfn(text, tmp_path)
    assert all(su.senders == [] for su in project.service_uses)
    assert list(all_checks()["KMS020"](project, RuleContext())) == []
