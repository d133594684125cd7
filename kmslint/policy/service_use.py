"""Which AWS service calls KMS, as its own service principal, when a resource names a key.

One table, :data:`REQUIREMENTS`, and one question, :func:`requirements`.  It is the
knowledge behind KMS020 (RULES.md, "Keys in use"): a resource that names a key of the
scanned configuration makes an AWS service call KMS with that key.  Some services call
KMS as their own service principal (``logs.<region>.amazonaws.com``), and the key's
policy must then allow that principal the actions the service needs; others call KMS
as the caller's IAM identity, and the account-root delegation of the key policy
suffices (those rows have no principal).  :mod:`kmslint.policy.service_access` answers
whether a key policy allows a row's principal what it needs.

Each row is one use, with the AWS documentation page its facts come from:

* ``uses``: the resource types, Terraform and CloudFormation, and the attribute that
  names the key (a dotted path into nested blocks; ``[]`` marks a list).
* ``senders``: when the service calls KMS because *another* resource sends to this one
  (an S3 event notification to an encrypted topic), the types of the sending resources;
  the principal is the sending service's.  Empty: the resource itself makes its service
  call KMS (a log group).
* ``principal``: the service principal, ``{region}`` standing for the Region of the
  resource where the service has a Regional principal.
* ``actions``: what the service calls and cannot work without; a policy that does not
  allow one of them breaks the use.  ``documented``: the actions of the documentation's
  key policy statement, as it writes them, for a message's fix.
* ``context_key`` and ``context_arn``: the encryption-context condition key the service
  sends and the ARN it carries; ``source_arn`` the ARN the service sends as
  ``aws:SourceArn`` (None: not documented as sent), ``source_account`` whether it sends
  ``aws:SourceAccount``.  ARNs are templates of ``{partition}``, ``{region}``,
  ``{account}``, ``{name}`` (the resource that names the key), ``{sender}`` (the sending
  resource) and ``{unknown}`` (a part the configuration never says).
* ``applies_when``: a condition of the use, in words, when it is not always made.

Action names are the catalogue's (:data:`kmslint.policy.actions.KMS_ACTIONS`; a test
checks them), every ``doc`` an https page of the AWS documentation.
"""

from __future__ import annotations

from kmslint.record import Record


class KeyAttribute(Record, frozen=True):
    """A resource type and the attribute of it that names a KMS key."""

    resource_type: str  # aws_cloudwatch_log_group, AWS::Logs::LogGroup
    attribute: str  # kms_key_id, KmsKeyId; dotted into nested blocks


class Requirement(Record, frozen=True):
    """One row of the table: a use of a key, and what the key policy must allow for it."""

    id: str
    service: str  # as people name it: "CloudWatch Logs"
    uses: tuple[KeyAttribute, ...]
    doc: str
    principal: str | None = None  # None: the caller's IAM identity calls KMS, no statement is needed
    actions: tuple[str, ...] = ()
    documented: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    context_key: str | None = None
    context_arn: str | None = None
    source_arn: str | None = None
    source_account: bool = False
    applies_when: str = ""

    @property
    def needs_statement(self) -> bool:
        """Must the key policy name the service principal (else the root delegation suffices)?"""
        return self.principal is not None


def _uses(*pairs: tuple[str, str]) -> tuple[KeyAttribute, ...]:
    return tuple(KeyAttribute(t, a) for t, a in pairs)


# The sending resources, by service: the rows for topics and queues repeat them.
_S3_NOTIFICATIONS = ("aws_s3_bucket_notification", "AWS::S3::Bucket")
_EVENTBRIDGE_TARGETS = ("aws_cloudwatch_event_target", "AWS::Events::Rule")
_ALARMS = ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm", "AWS::CloudWatch::Alarm")
_SNS_SUBSCRIPTIONS = ("aws_sns_topic_subscription", "AWS::SNS::Subscription", "AWS::SNS::Topic")

_TOPIC = _uses(("aws_sns_topic", "kms_master_key_id"), ("AWS::SNS::Topic", "KmsMasterKeyId"))
_QUEUE = _uses(("aws_sqs_queue", "kms_master_key_id"), ("AWS::SQS::Queue", "KmsMasterKeyId"))
_BUCKET = _uses(
    (
        "aws_s3_bucket_server_side_encryption_configuration",
        "rule[].apply_server_side_encryption_by_default.kms_master_key_id",
    ),
    (
        "aws_s3_bucket",
        "server_side_encryption_configuration.rule.apply_server_side_encryption_by_default.kms_master_key_id",
    ),
    (
        "AWS::S3::Bucket",
        "BucketEncryption.ServerSideEncryptionConfiguration[].ServerSideEncryptionByDefault.KMSMasterKeyID",
    ),
)

# Pages of the AWS documentation (read 2026-12).
_LOGS_DOC = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"
_TRAIL_DOC = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html"
_SNS_DOC = "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
_SQS_DOC = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html"
_S3_EVENTS_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html"
_DELIVERY_DOC = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-V2-S3.html"
_CONFIG_DOC = "https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html"

# What a sender to an encrypted topic or queue needs: it makes a data key for the message
# and reads keys it made before (both pages list the pair, the S3 page too).
_SEND = ("kms:GenerateDataKey", "kms:Decrypt")
_SEND_DOCUMENTED = ("kms:GenerateDataKey*", "kms:Decrypt")


# Services that send to topics and queues: who they are, their principal, the resources
# that make them send, and the ARN they send as aws:SourceArn.  A rule on another event
# bus than the default is named "<bus>/<rule>" in its ARN.
_FROM_S3 = ("Amazon S3 event notifications", "s3.amazonaws.com", _S3_NOTIFICATIONS, "arn:{partition}:s3:::{sender}")
_FROM_EVENTBRIDGE = (
    "Amazon EventBridge",
    "events.amazonaws.com",
    _EVENTBRIDGE_TARGETS,
    "arn:{partition}:events:{region}:{account}:rule/{sender}",
)
_FROM_ALARMS = (
    "CloudWatch alarms",
    "cloudwatch.amazonaws.com",
    _ALARMS,
    "arn:{partition}:cloudwatch:{region}:{account}:alarm:{sender}",
)
_FROM_SNS = (
    "Amazon SNS subscriptions",
    "sns.amazonaws.com",
    _SNS_SUBSCRIPTIONS,
    "arn:{partition}:sns:{region}:{account}:{sender}",
)


def _sent(
    id: str, uses: tuple[KeyAttribute, ...], doc: str, sender: tuple[str, str, tuple[str, ...], str]
) -> Requirement:
    """A row for a topic or queue that another service sends to."""
    service, principal, senders, arn = sender
    return Requirement(
        id,
        service,
        uses,
        doc,
        principal=principal,
        actions=_SEND,
        documented=_SEND_DOCUMENTED,
        senders=senders,
        source_arn=arn,
        source_account=True,
    )


REQUIREMENTS: tuple[Requirement, ...] = (
    # CloudWatch Logs encrypts a log group's events with data keys it makes, and decrypts
    # them whenever they are read; it names the group in the encryption context.
    Requirement(
        "logs-log-group",
        "CloudWatch Logs",
        _uses(("aws_cloudwatch_log_group", "kms_key_id"), ("AWS::Logs::LogGroup", "KmsKeyId")),
        _LOGS_DOC,
        principal="logs.{region}.amazonaws.com",
        actions=("kms:GenerateDataKey", "kms:Decrypt"),
        documented=("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
        context_key="kms:EncryptionContext:aws:logs:arn",
        context_arn="arn:{partition}:logs:{region}:{account}:log-group:{name}",
    ),
    # CloudTrail makes data keys for log and digest files and describes the key when a
    # trail is created or updated (the page's required sections).
    Requirement(
        "cloudtrail-trail",
        "CloudTrail",
        _uses(("aws_cloudtrail", "kms_key_id"), ("AWS::CloudTrail::Trail", "KMSKeyId")),
        _TRAIL_DOC,
        principal="cloudtrail.amazonaws.com",
        actions=("kms:GenerateDataKey", "kms:DescribeKey"),
        documented=("kms:GenerateDataKey*", "kms:DescribeKey"),
        context_key="kms:EncryptionContext:aws:cloudtrail:arn",
        context_arn="arn:{partition}:cloudtrail:{region}:{account}:trail/{name}",
        source_arn="arn:{partition}:cloudtrail:{region}:{account}:trail/{name}",
        source_account=True,
    ),
    # A CloudTrail Lake event data store: the console's key policy allows CloudTrail both.
    Requirement(
        "cloudtrail-event-data-store",
        "CloudTrail Lake",
        _uses(("aws_cloudtrail_event_data_store", "kms_key_id"), ("AWS::CloudTrail::EventDataStore", "KmsKeyId")),
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/default-kms-key-policy.html",
        principal="cloudtrail.amazonaws.com",
        actions=("kms:GenerateDataKey", "kms:Decrypt"),
        documented=("kms:GenerateDataKey", "kms:Decrypt"),
    ),
    _sent("sns-from-s3", _TOPIC, _S3_EVENTS_DOC, _FROM_S3),
    _sent("sns-from-eventbridge", _TOPIC, _SNS_DOC, _FROM_EVENTBRIDGE),
    _sent("sns-from-cloudwatch", _TOPIC, _SNS_DOC, _FROM_ALARMS),
    _sent("sqs-from-s3", _QUEUE, _S3_EVENTS_DOC, _FROM_S3),
    _sent("sqs-from-eventbridge", _QUEUE, _SQS_DOC, _FROM_EVENTBRIDGE),
    _sent("sqs-from-sns", _QUEUE, _SQS_DOC, _FROM_SNS),
    # Log delivery (VPC flow logs and other vended logs) writes objects to the bucket with
    # its default SSE-KMS key: S3 asks KMS for a data key as the writer, the delivery service.
    Requirement(
        "s3-log-delivery",
        "log delivery to Amazon S3",
        _BUCKET,
        _DELIVERY_DOC,
        principal="delivery.logs.amazonaws.com",
        actions=("kms:GenerateDataKey",),
        documented=("kms:GenerateDataKey*",),
        senders=("aws_flow_log", "AWS::EC2::FlowLog", "aws_cloudwatch_log_delivery", "AWS::Logs::Delivery"),
        source_arn="arn:{partition}:logs:{region}:{account}:{unknown}",
        source_account=True,
        applies_when="the delivery writes to the bucket (a flow log's destination type is s3)",
    ),
    # AWS Config with its service-linked role delivers as the Config service principal; with
    # an IAM role of the user's, it calls KMS as that role and the root delegation suffices.
    Requirement(
        "config-delivery",
        "AWS Config",
        _uses(("aws_config_delivery_channel", "s3_kms_key_arn"), ("AWS::Config::DeliveryChannel", "S3KmsKeyArn")),
        _CONFIG_DOC,
        principal="config.amazonaws.com",
        actions=("kms:GenerateDataKey",),
        documented=("kms:Decrypt", "kms:GenerateDataKey"),
        source_account=True,
        applies_when="the configuration recorder uses the AWS Config service-linked role",
    ),
    # Services that call KMS as the caller's IAM identity (through kms:ViaService): the
    # key policy's account-root delegation and the caller's IAM policy suffice.
    Requirement(
        "s3-sse-kms",
        "Amazon S3 (SSE-KMS)",
        _BUCKET,
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html",
    ),
    Requirement(
        "ebs-volume",
        "Amazon EBS",
        _uses(("aws_ebs_volume", "kms_key_id"), ("AWS::EC2::Volume", "KmsKeyId")),
        "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",
    ),
    Requirement(
        "rds-storage",
        "Amazon RDS",
        _uses(
            ("aws_db_instance", "kms_key_id"),
            ("aws_rds_cluster", "kms_key_id"),
            ("AWS::RDS::DBInstance", "KmsKeyId"),
            ("AWS::RDS::DBCluster", "KmsKeyId"),
        ),
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html",
    ),
    Requirement(
        "dynamodb-table",
        "Amazon DynamoDB",
        _uses(
            ("aws_dynamodb_table", "server_side_encryption.kms_key_arn"),
            ("AWS::DynamoDB::Table", "SSESpecification.KMSMasterKeyId"),
        ),
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html",
    ),
    Requirement(
        "secretsmanager-secret",
        "AWS Secrets Manager",
        _uses(("aws_secretsmanager_secret", "kms_key_id"), ("AWS::SecretsManager::Secret", "KmsKeyId")),
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html",
    ),
)

_BY_TYPE: dict[str, tuple[Requirement, ...]] = {}
for _row in REQUIREMENTS:
    for _type in dict.fromkeys(u.resource_type for u in _row.uses):
        _BY_TYPE[_type] = (*_BY_TYPE.get(_type, ()), _row)


def requirements(rtype: str) -> tuple[Requirement, ...]:
    """The rows for a resource type that names a key (Terraform or CloudFormation spelling),
    in table order; empty for a type the table does not know.  A row with ``senders``
    applies only where one of those resources sends to this one."""
    return _BY_TYPE.get(rtype, ())


def requirement(id: str) -> Requirement:
    """The row of that ``id`` (KeyError for none)."""
    for row in REQUIREMENTS:
        if row.id == id:
            return row
    raise KeyError(id)
