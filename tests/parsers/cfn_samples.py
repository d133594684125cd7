"""Templates written for the CloudFormation parser tests (generated, not copied from anywhere)."""

from __future__ import annotations

import json
from typing import Any

import yaml


def big_template(keys: int = 40) -> dict[str, Any]:
    """A realistic template of about 50 lines per key: a key, its alias, a role, a bucket, a queue."""
    resources: dict[str, Any] = {}
    for i in range(keys):
        resources[f"AppKey{i}"] = {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "Description": {"Fn::Sub": f"Key {i} of ${{AWS::StackName}}"},
                "EnableKeyRotation": i % 2 == 0,
                "PendingWindowInDays": 30,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "Root",
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                            "Action": "kms:*",
                            "Resource": "*",
                        },
                        {
                            "Sid": "Use",
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::GetAtt": [f"AppRole{i}", "Arn"]}},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}
                            },
                        },
                    ],
                },
                "Tags": [{"Key": "team", "Value": {"Ref": "Team"}}, {"Key": "index", "Value": str(i)}],
            },
        }
        resources[f"AppAlias{i}"] = {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": f"alias/app-{i}", "TargetKeyId": {"Ref": f"AppKey{i}"}},
        }
        resources[f"AppRole{i}"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "use-key",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["kms:Decrypt"],
                                    "Resource": {"Fn::GetAtt": [f"AppKey{i}", "Arn"]},
                                }
                            ],
                        },
                    }
                ],
            },
        }
        resources[f"AppBucket{i}"] = {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": {"Fn::Sub": f"app-{i}-${{AWS::AccountId}}-${{AWS::Region}}"},
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": [f"AppKey{i}", "Arn"]},
                            }
                        }
                    ]
                },
                "VersioningConfiguration": {"Status": "Enabled"},
            },
        }
        resources[f"AppQueue{i}"] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {"KmsMasterKeyId": {"Ref": f"AppAlias{i}"}, "VisibilityTimeout": 60},
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Generated benchmark template",
        "Parameters": {"Team": {"Type": "String", "Default": "platform"}},
        "Resources": resources,
    }


_SHORT = {"Ref": "!Ref", "Fn::Sub": "!Sub", "Fn::GetAtt": "!GetAtt", "Fn::Join": "!Join", "Fn::If": "!If"}


class _Tagged:
    def __init__(self, tag: str, value: Any) -> None:
        self.tag = tag
        self.value = value


def _shorten(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((name, arg),) = value.items()
            if name in _SHORT:
                if name == "Fn::GetAtt" and isinstance(arg, list):
                    return _Tagged("!GetAtt", ".".join(arg))
                return _Tagged(_SHORT[name], _shorten(arg))
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    return value


class _Dumper(yaml.SafeDumper):
    pass


def _represent_tagged(dumper: yaml.SafeDumper, data: _Tagged) -> yaml.Node:
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value, flow_style=True)
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    return dumper.represent_scalar(data.tag, str(data.value))


_Dumper.add_representer(_Tagged, _represent_tagged)


def to_yaml(template: dict[str, Any]) -> str:
    """The template in YAML with short-form tags."""
    return yaml.dump(_shorten(template), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)


def to_json(template: dict[str, Any]) -> str:
    return json.dumps(template, indent=2)


def typical_template(services: int = 20) -> dict[str, Any]:
    """An application stack where KMS is a small part: functions, queues, buckets, alarms and two keys."""
    template = big_template(2)
    resources = template["Resources"]
    for i in range(services):
        resources[f"Handler{i}"] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": f"service_{i}.handler",
                "MemorySize": 256,
                "Timeout": 30,
                "Role": {"Fn::GetAtt": ["AppRole0", "Arn"]},
                "Code": {"S3Bucket": {"Ref": "Team"}, "S3Key": f"artifacts/service-{i}.zip"},
                "Environment": {
                    "Variables": {
                        "QUEUE_URL": {"Ref": f"Work{i}"},
                        "TOPIC_ARN": {"Ref": f"Events{i}"},
                        "STAGE": {"Fn::Sub": "${AWS::StackName}-stage"},
                        "LOG_LEVEL": "INFO",
                    }
                },
                "Tags": [{"Key": "service", "Value": f"service-{i}"}, {"Key": "team", "Value": {"Ref": "Team"}}],
            },
        }
        resources[f"Work{i}"] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": 180,
                "MessageRetentionPeriod": 1209600,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [f"Dead{i}", "Arn"]}, "maxReceiveCount": 5},
            },
        }
        resources[f"Dead{i}"] = {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600}}
        resources[f"Events{i}"] = {
            "Type": "AWS::SNS::Topic",
            "Properties": {"Subscription": [{"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": [f"Work{i}", "Arn"]}}]},
        }
        resources[f"Errors{i}"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": f"Handler{i}"}}],
                "Statistic": "Sum",
                "Period": 60,
                "EvaluationPeriods": 5,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "AlarmActions": [{"Ref": f"Events{i}"}],
            },
        }
    return template
