"""Data stores and deliveries that can be encrypted with a KMS key: one row per resource type
and syntax (RULES.md, "Keys in use").

A row says where the resource's encryption settings are (``part``: the nested
blocks, or properties, that hold them; empty for the resource itself), which
setting switches encryption (``switch``) and what each written value means
(``states``), which names the key (``key``), and what the store is when the
switch is not written and no key is named (``unset``: the default of the
current AWS provider, or of CloudFormation).  Each row cites the page its
facts come from.  :mod:`kmslint.parsers.key_uses` walks this table for every
format; nothing here knows a format.

Paths: a ``part`` is a sequence of nested block names (Terraform) or property
names (CloudFormation, where a list property's items are each a part); a
``switch`` or ``key`` may go one block further (``provider.key_arn``).
"""

from __future__ import annotations

from kmslint.model import (
    ENCRYPTION_AWS_MANAGED as AWS_MANAGED,
)
from kmslint.model import (
    ENCRYPTION_AWS_OWNED as AWS_OWNED,
)
from kmslint.model import (
    ENCRYPTION_KMS as KMS,
)
from kmslint.model import (
    ENCRYPTION_OFF as OFF,
)
from kmslint.model import (
    ENCRYPTION_UNKNOWN as UNKNOWN,
)
from kmslint.record import Record

TF = "terraform"
CFN = "cloudformation"

# A boolean switch: true turns encryption on (with the key named, else the service's key).
BOOL = (("true", KMS), ("false", OFF))


class Store(Record, frozen=True):
    rtype: str
    syntax: str
    kind: str  # ebs, rds, s3, ...: what rules and their options call the store
    doc: str  # the AWS or provider documentation page the row's facts come from
    part: tuple[str, ...] = ()
    # Every item of ``part`` is a store of its own (block devices): none written, no store.
    # Otherwise ``part`` holds settings, and a resource without it is one store left unset.
    each: bool = False
    switch: str | None = None
    states: tuple[tuple[str, str], ...] = BOOL
    key: str | None = None
    unset: str = OFF
    unnamed: str = AWS_MANAGED
    # Settings of the part (or, prefixed with "/", of the resource) that make the store copy its
    # encryption from a source (a snapshot, a replicated database): its state is then unknown.
    inherits: tuple[str, ...] = ()
    # A setting of the resource whose value decides ``unset`` instead: (name, ((value or
    # "prefix*", state), ...)); a value not listed keeps ``unset``, an unknown one is unknown.
    unset_by: tuple[str, tuple[tuple[str, str], ...]] | None = None
    key_overrides: bool = False  # a key named turns encryption on whatever the switch says
    # Settings of the resource (a dotted path into its blocks) whose values (lower-case; one ending
    # in "." is a prefix) say the store cannot be encrypted at rest at all (an old engine, an instance class without
    # support): nothing to turn on, so its state is unknown to the rules.
    unsupported: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fix: str = ""  # what to write to turn encryption on, in the row's syntax


_EBS_TF = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/ebs_volume"
_EBS_CFN = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-volume.html"
_BDM_CFN = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ec2-blockdev-template.html"
_LT_CFN = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
    "aws-properties-ec2-launchtemplate-blockdevicemapping-ebs.html"
)

# Where AWS cannot encrypt at all (then the store is not "left off"):
# RDS instance classes without encryption at rest
# (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html#Overview.Encryption.Availability),
_RDS_UNENCRYPTABLE = ("db.m1.", "db.m2.", "db.t1.")
# Redis OSS before 3.2.6, and 3.2.10 and 4.0.0-4.0.9
# (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html#at-rest-encryption-constraints),
_REDIS_UNENCRYPTABLE = ("2.", "3.2.0", "3.2.4", "3.2.10", *(f"4.0.{n}" for n in range(10)))
# OpenSearch's T2 instances and Elasticsearch before 5.1
# (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/encryption-at-rest.html).
_SEARCH_UNENCRYPTABLE = ("t2.",)
_ES_UNENCRYPTABLE = ("1.", "2.", "5.0")

STORES: tuple[Store, ...] = (
    # -- S3: encryption is always on (SSE-S3 by default since January 2023); the key is per rule.
    Store(
        "aws_s3_bucket_server_side_encryption_configuration",
        TF,
        "s3",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_bucket_server_side_encryption_configuration",
        part=("rule", "apply_server_side_encryption_by_default"),
        switch="sse_algorithm",
        states=(("aes256", AWS_OWNED), ("aws:kms", KMS), ("aws:kms:dsse", KMS)),
        key="kms_master_key_id",
        unset=AWS_OWNED,
        fix='sse_algorithm = "aws:kms"',
    ),
    Store(
        "aws_s3_bucket",
        TF,
        "s3",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_bucket",
        part=("server_side_encryption_configuration", "rule", "apply_server_side_encryption_by_default"),
        switch="sse_algorithm",
        states=(("aes256", AWS_OWNED), ("aws:kms", KMS), ("aws:kms:dsse", KMS)),
        key="kms_master_key_id",
        unset=AWS_OWNED,
        fix='sse_algorithm = "aws:kms"',
    ),
    Store(
        "AWS::S3::Bucket",
        CFN,
        "s3",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-s3-bucket-serversideencryptionbydefault.html",
        part=("BucketEncryption", "ServerSideEncryptionConfiguration", "ServerSideEncryptionByDefault"),
        switch="SSEAlgorithm",
        states=(("aes256", AWS_OWNED), ("aws:kms", KMS), ("aws:kms:dsse", KMS)),
        key="KMSMasterKeyID",
        unset=AWS_OWNED,
        fix="SSEAlgorithm: aws:kms",
    ),
    # -- DynamoDB: always encrypted; an AWS owned key unless SSE is enabled (aws/dynamodb) or a key named.
    Store(
        "aws_dynamodb_table",
        TF,
        "dynamodb",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/dynamodb_table",
        part=("server_side_encryption",),
        switch="enabled",
        states=(("true", KMS), ("false", AWS_OWNED)),
        key="kms_key_arn",
        unset=AWS_OWNED,
        fix="server_side_encryption { enabled = true }",
    ),
    Store(
        "AWS::DynamoDB::Table",
        CFN,
        "dynamodb",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-dynamodb-table-ssespecification.html",
        part=("SSESpecification",),
        switch="SSEEnabled",
        states=(("true", KMS), ("false", AWS_OWNED)),
        key="KMSMasterKeyId",
        unset=AWS_OWNED,
        fix="SSESpecification: {SSEEnabled: true}",
    ),
    Store(
        "AWS::Serverless::SimpleTable",
        CFN,
        "dynamodb",
        "https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-simpletable.html",
        part=("SSESpecification",),
        switch="SSEEnabled",
        states=(("true", KMS), ("false", AWS_OWNED)),
        key="KMSMasterKeyId",
        unset=AWS_OWNED,
        fix="SSESpecification: {SSEEnabled: true}",
    ),
    # -- RDS: storage unencrypted unless asked; a restore or a replica takes its source's setting.
    Store(
        "aws_db_instance",
        TF,
        "rds",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/db_instance",
        switch="storage_encrypted",
        key="kms_key_id",
        inherits=("replicate_source_db", "snapshot_identifier", "restore_to_point_in_time", "s3_import"),
        unset_by=("engine", (("aurora*", UNKNOWN),)),
        unsupported=(("instance_class", _RDS_UNENCRYPTABLE),),
        fix="storage_encrypted = true",
    ),
    Store(
        "AWS::RDS::DBInstance",
        CFN,
        "rds",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-rds-dbinstance.html",
        switch="StorageEncrypted",
        key="KmsKeyId",
        inherits=(
            "SourceDBInstanceIdentifier",
            "DBSnapshotIdentifier",
            "DBClusterIdentifier",
            "SourceDBClusterIdentifier",
            "SourceDBInstanceAutomatedBackupsArn",
            "SourceDbiResourceId",
        ),
        unset_by=("Engine", (("aurora*", UNKNOWN),)),
        unsupported=(("DBInstanceClass", _RDS_UNENCRYPTABLE),),
        fix="StorageEncrypted: true",
    ),
    Store(
        "aws_rds_cluster",
        TF,
        "rds",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/rds_cluster",
        switch="storage_encrypted",
        key="kms_key_id",
        inherits=(
            "snapshot_identifier",
            "replication_source_identifier",
            "global_cluster_identifier",
            "restore_to_point_in_time",
            "s3_import",
            "source_region",
        ),
        # Aurora Serverless v1 is always encrypted.
        unset_by=("engine_mode", (("serverless", AWS_MANAGED),)),
        fix="storage_encrypted = true",
    ),
    Store(
        "AWS::RDS::DBCluster",
        CFN,
        "rds",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-rds-dbcluster.html",
        switch="StorageEncrypted",
        key="KmsKeyId",
        inherits=(
            "SnapshotIdentifier",
            "SourceDBClusterIdentifier",
            "ReplicationSourceIdentifier",
            "GlobalClusterIdentifier",
            "RestoreType",
        ),
        unset_by=("EngineMode", (("serverless", AWS_MANAGED),)),
        fix="StorageEncrypted: true",
    ),
    # -- EBS: a new volume is unencrypted unless asked (or the account encrypts by default); a
    # volume made from a snapshot takes the snapshot's setting.
    Store(
        "aws_ebs_volume",
        TF,
        "ebs",
        _EBS_TF,
        switch="encrypted",
        key="kms_key_id",
        inherits=("snapshot_id",),
        fix="encrypted = true",
    ),
    Store(
        "AWS::EC2::Volume",
        CFN,
        "ebs",
        _EBS_CFN,
        switch="Encrypted",
        key="KmsKeyId",
        inherits=("SnapshotId",),
        fix="Encrypted: true",
    ),
    # Block devices of instances and launch templates: any of them may be a device of the AMI,
    # made from its snapshot, so one left unset is unknown; only a written `false` is off.
    Store(
        "aws_instance",
        TF,
        "ebs",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/instance#ebs-ephemeral-and-root-block-devices",
        part=("root_block_device",),
        each=True,
        switch="encrypted",
        key="kms_key_id",
        unset=UNKNOWN,
        fix="encrypted = true",
    ),
    Store(
        "aws_instance",
        TF,
        "ebs",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/instance#ebs-ephemeral-and-root-block-devices",
        part=("ebs_block_device",),
        each=True,
        switch="encrypted",
        key="kms_key_id",
        unset=UNKNOWN,
        inherits=("snapshot_id",),
        fix="encrypted = true",
    ),
    Store(
        "aws_launch_template",
        TF,
        "ebs",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/launch_template#block-devices",
        part=("block_device_mappings", "ebs"),
        each=True,
        switch="encrypted",
        key="kms_key_id",
        unset=UNKNOWN,
        inherits=("snapshot_id",),
        fix='encrypted = "true"',
    ),
    Store(
        "aws_launch_configuration",
        TF,
        "ebs",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/launch_configuration#block-devices",
        part=("root_block_device",),
        each=True,
        switch="encrypted",
        unset=UNKNOWN,
        fix="encrypted = true",
    ),
    Store(
        "aws_launch_configuration",
        TF,
        "ebs",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/launch_configuration#block-devices",
        part=("ebs_block_device",),
        each=True,
        switch="encrypted",
        unset=UNKNOWN,
        inherits=("snapshot_id",),
        fix="encrypted = true",
    ),
    Store(
        "AWS::EC2::Instance",
        CFN,
        "ebs",
        _BDM_CFN,
        part=("BlockDeviceMappings", "Ebs"),
        each=True,
        switch="Encrypted",
        key="KmsKeyId",
        unset=UNKNOWN,
        inherits=("SnapshotId",),
        fix="Encrypted: true",
    ),
    Store(
        "AWS::EC2::LaunchTemplate",
        CFN,
        "ebs",
        _LT_CFN,
        part=("LaunchTemplateData", "BlockDeviceMappings", "Ebs"),
        each=True,
        switch="Encrypted",
        key="KmsKeyId",
        unset=UNKNOWN,
        inherits=("SnapshotId",),
        fix="Encrypted: true",
    ),
    Store(
        "AWS::AutoScaling::LaunchConfiguration",
        CFN,
        "ebs",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-autoscaling-launchconfiguration-blockdevice.html",
        part=("BlockDeviceMappings", "Ebs"),
        each=True,
        switch="Encrypted",
        unset=UNKNOWN,
        inherits=("SnapshotId",),
        fix="Encrypted: true",
    ),
    # -- EFS: unencrypted unless asked through the API, CloudFormation and the provider.
    Store(
        "aws_efs_file_system",
        TF,
        "efs",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/efs_file_system",
        switch="encrypted",
        key="kms_key_id",
        fix="encrypted = true",
    ),
    Store(
        "AWS::EFS::FileSystem",
        CFN,
        "efs",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-efs-filesystem.html",
        switch="Encrypted",
        key="KmsKeyId",
        fix="Encrypted: true",
    ),
    # -- SQS: a new queue gets SSE-SQS unless it is turned off; a key named is SSE-KMS.
    Store(
        "aws_sqs_queue",
        TF,
        "sqs",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/sqs_queue",
        switch="sqs_managed_sse_enabled",
        states=(("true", AWS_OWNED), ("false", OFF)),
        key="kms_master_key_id",
        unset=AWS_OWNED,
        key_overrides=True,
        fix="sqs_managed_sse_enabled = true (or kms_master_key_id)",
    ),
    Store(
        "AWS::SQS::Queue",
        CFN,
        "sqs",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html",
        switch="SqsManagedSseEnabled",
        states=(("true", AWS_OWNED), ("false", OFF)),
        key="KmsMasterKeyId",
        unset=AWS_OWNED,
        key_overrides=True,
        fix="SqsManagedSseEnabled: true (or KmsMasterKeyId)",
    ),
    # -- SNS: encrypted only when a key is named.
    Store(
        "aws_sns_topic",
        TF,
        "sns",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/sns_topic",
        key="kms_master_key_id",
        fix='kms_master_key_id = "alias/aws/sns" (or a key of your own)',
    ),
    Store(
        "AWS::SNS::Topic",
        CFN,
        "sns",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sns-topic.html",
        key="KmsMasterKeyId",
        fix="KmsMasterKeyId: alias/aws/sns (or a key of your own)",
    ),
    # -- Kinesis Data Streams: no server-side encryption unless its type is KMS.
    Store(
        "aws_kinesis_stream",
        TF,
        "kinesis",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/kinesis_stream",
        switch="encryption_type",
        states=(("kms", KMS), ("none", OFF)),
        key="kms_key_id",
        unnamed=UNKNOWN,  # KMS without a key is an error the API reports
        fix='encryption_type = "KMS" with kms_key_id = "alias/aws/kinesis" (or a key of your own)',
    ),
    Store(
        "AWS::Kinesis::Stream",
        CFN,
        "kinesis",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-kinesis-stream-streamencryption.html",
        part=("StreamEncryption",),
        switch="EncryptionType",
        states=(("kms", KMS), ("none", OFF)),
        key="KeyId",
        unnamed=UNKNOWN,
        fix="StreamEncryption: {EncryptionType: KMS, KeyId: alias/aws/kinesis}",
    ),
    # -- Always encrypted, with the service's AWS managed key unless a key is named.
    Store(
        "aws_secretsmanager_secret",
        TF,
        "secretsmanager",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/secretsmanager_secret",
        key="kms_key_id",
        unset=AWS_MANAGED,
    ),
    Store(
        "AWS::SecretsManager::Secret",
        CFN,
        "secretsmanager",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-secretsmanager-secret.html",
        key="KmsKeyId",
        unset=AWS_MANAGED,
    ),
    # A SecureString is encrypted (alias/aws/ssm unless a key is named); String and StringList are not
    # (KMS024 reads those). CloudFormation cannot create a SecureString: it names no key.
    Store(
        "aws_ssm_parameter",
        TF,
        "ssm",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/ssm_parameter",
        switch="type",
        states=(("securestring", KMS), ("string", OFF), ("stringlist", OFF)),
        key="key_id",
        unset=UNKNOWN,  # type is required
    ),
    Store(
        "AWS::SSM::Parameter",
        CFN,
        "ssm",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ssm-parameter.html",
        switch="Type",
        states=(("string", OFF), ("stringlist", OFF)),
        unset=UNKNOWN,
    ),
    Store(
        "aws_cloudwatch_log_group",
        TF,
        "logs",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
        key="kms_key_id",
        unset=AWS_OWNED,
    ),
    Store(
        "AWS::Logs::LogGroup",
        CFN,
        "logs",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-logs-loggroup.html",
        key="KmsKeyId",
        unset=AWS_OWNED,
    ),
    # Lambda encrypts environment variables at rest with its AWS managed key unless one is named.
    Store(
        "aws_lambda_function",
        TF,
        "lambda",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html",
        key="kms_key_arn",
        unset=AWS_MANAGED,
    ),
    Store(
        "AWS::Lambda::Function",
        CFN,
        "lambda",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html",
        key="KmsKeyArn",
        unset=AWS_MANAGED,
    ),
    Store(
        "AWS::Serverless::Function",
        CFN,
        "lambda",
        "https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html",
        key="KmsKeyArn",
        unset=AWS_MANAGED,
    ),
    # ECR: AES256 (Amazon S3 managed keys) unless KMS is chosen.
    Store(
        "aws_ecr_repository",
        TF,
        "ecr",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/ecr_repository",
        part=("encryption_configuration",),
        switch="encryption_type",
        states=(("aes256", AWS_OWNED), ("kms", KMS), ("kms_dsse", KMS)),
        key="kms_key",
        unset=AWS_OWNED,
    ),
    Store(
        "AWS::ECR::Repository",
        CFN,
        "ecr",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ecr-repository-encryptionconfiguration.html",
        part=("EncryptionConfiguration",),
        switch="EncryptionType",
        states=(("aes256", AWS_OWNED), ("kms", KMS), ("kms_dsse", KMS)),
        key="KmsKey",
        unset=AWS_OWNED,
    ),
    Store(
        "aws_backup_vault",
        TF,
        "backup",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/backup_vault",
        key="kms_key_arn",
        unset=AWS_MANAGED,
    ),
    Store(
        "AWS::Backup::BackupVault",
        CFN,
        "backup",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-backup-backupvault.html",
        key="EncryptionKeyArn",
        unset=AWS_MANAGED,
    ),
    # -- ElastiCache: at-rest encryption defaults to false for Redis OSS, true for Valkey.
    Store(
        "aws_elasticache_replication_group",
        TF,
        "elasticache",
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html",
        switch="at_rest_encryption_enabled",
        key="kms_key_id",
        unset_by=("engine", (("valkey", AWS_OWNED),)),
        unnamed=AWS_OWNED,
        inherits=("global_replication_group_id", "snapshot_arns", "snapshot_name"),
        unsupported=(("engine_version", _REDIS_UNENCRYPTABLE),),
        fix="at_rest_encryption_enabled = true",
    ),
    Store(
        "AWS::ElastiCache::ReplicationGroup",
        CFN,
        "elasticache",
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html",
        switch="AtRestEncryptionEnabled",
        key="KmsKeyId",
        unset_by=("Engine", (("valkey", AWS_OWNED),)),
        unnamed=AWS_OWNED,
        inherits=("GlobalReplicationGroupId", "SnapshotArns", "SnapshotName"),
        unsupported=(("EngineVersion", _REDIS_UNENCRYPTABLE),),
        fix="AtRestEncryptionEnabled: true",
    ),
    # -- Redshift: AWS encrypts new provisioned clusters by default since 2025 while providers and
    # templates written before may still send `false`: only a written `false` is off.
    Store(
        "aws_redshift_cluster",
        TF,
        "redshift",
        "https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-db-encryption.html",
        switch="encrypted",
        key="kms_key_id",
        unset=UNKNOWN,
        inherits=("snapshot_identifier", "snapshot_arn"),
        fix="encrypted = true",
    ),
    Store(
        "AWS::Redshift::Cluster",
        CFN,
        "redshift",
        "https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-db-encryption.html",
        switch="Encrypted",
        key="KmsKeyId",
        unset=UNKNOWN,
        inherits=("SnapshotIdentifier", "SnapshotArn"),
        fix="Encrypted: true",
    ),
    # -- OpenSearch (and the Elasticsearch resources): encryption at rest is off unless enabled.
    *(
        Store(
            rtype,
            TF,
            "opensearch",
            "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/encryption-at-rest.html",
            part=("encrypt_at_rest",),
            switch="enabled",
            key="kms_key_id",
            unsupported=(
                ("cluster_config.instance_type", _SEARCH_UNENCRYPTABLE),
                ("elasticsearch_version", _ES_UNENCRYPTABLE),
                ("engine_version", tuple(f"elasticsearch_{v}" for v in _ES_UNENCRYPTABLE)),
            ),
            fix="encrypt_at_rest { enabled = true }",
        )
        for rtype in ("aws_opensearch_domain", "aws_elasticsearch_domain")
    ),
    *(
        Store(
            rtype,
            CFN,
            "opensearch",
            "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/encryption-at-rest.html",
            part=("EncryptionAtRestOptions",),
            switch="Enabled",
            key="KmsKeyId",
            unsupported=(
                ("ClusterConfig.InstanceType", _SEARCH_UNENCRYPTABLE),
                ("ElasticsearchClusterConfig.InstanceType", _SEARCH_UNENCRYPTABLE),
                ("ElasticsearchVersion", _ES_UNENCRYPTABLE),
                ("EngineVersion", tuple(f"elasticsearch_{v}" for v in _ES_UNENCRYPTABLE)),
            ),
            fix="EncryptionAtRestOptions: {Enabled: true}",
        )
        for rtype in ("AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain")
    ),
    # -- EKS: Kubernetes secrets are envelope-encrypted with an AWS owned key unless a key is named.
    Store(
        "aws_eks_cluster",
        TF,
        "eks",
        "https://docs.aws.amazon.com/eks/latest/userguide/envelope-encryption.html",
        part=("encryption_config",),
        key="provider.key_arn",
        unset=AWS_OWNED,
    ),
    Store(
        "AWS::EKS::Cluster",
        CFN,
        "eks",
        "https://docs.aws.amazon.com/eks/latest/userguide/envelope-encryption.html",
        part=("EncryptionConfig",),
        key="Provider.KeyArn",
        unset=AWS_OWNED,
    ),
)

# The account-level switch of EBS encryption by default (Terraform only: CloudFormation has no
# resource for it), and its default when the resource is declared without it.
EBS_DEFAULT_TYPE = "aws_ebs_encryption_by_default"
EBS_DEFAULT_DOC = (
    "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/ebs_encryption_by_default"
)

# A bucket's encryption written apart from it (the provider's way since v4): a bucket it names
# that writes none of its own is encrypted as it says.
S3_SSE_TYPE = "aws_s3_bucket_server_side_encryption_configuration"

# The account's default key for EBS encryption (Terraform only): an encrypted volume that names
# no key is encrypted with it.
EBS_DEFAULT_KEY_TYPE = "aws_ebs_default_kms_key"

_BY_TYPE: dict[tuple[str, str], tuple[Store, ...]] = {}
for _row in STORES:
    _BY_TYPE[_row.syntax, _row.rtype] = (*_BY_TYPE.get((_row.syntax, _row.rtype), ()), _row)

TERRAFORM_TYPES = frozenset(t for s, t in _BY_TYPE if s == TF)
CLOUDFORMATION_TYPES = frozenset(t for s, t in _BY_TYPE if s == CFN)


def rows(syntax: str, rtype: str) -> tuple[Store, ...]:
    """The rows of one resource type in one syntax (several for a type with several stores)."""
    return _BY_TYPE.get((syntax, rtype), ())


def unsupported(row: Store, values: list[str | None]) -> str | None:
    """The setting whose value (``values``, in the order of ``row.unsupported``; None: not set or
    not known) says the store cannot be encrypted at all; None when none does."""
    for (setting, patterns), value in zip(row.unsupported, values, strict=True):
        text = value.lower() if value is not None else None
        if text is not None and any(text == p or (p.endswith(".") and text.startswith(p)) for p in patterns):
            return setting
    return None


def unset_state(row: Store, decider: object) -> str:
    """What ``row.unset`` becomes given the written value of its ``unset_by`` setting (None: not
    set; a str: its text; anything else: not known)."""
    if row.unset_by is None or decider is None:
        return row.unset
    if not isinstance(decider, str):
        return UNKNOWN
    text = decider.lower()
    for pattern, state in row.unset_by[1]:
        if text == pattern or (pattern.endswith("*") and text.startswith(pattern[:-1])):
            return state
    return row.unset


__all__ = ["CFN", "STORES", "TF", "Store", "rows", "unset_state", "unsupported"]
