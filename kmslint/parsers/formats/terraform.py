"""Terraform: HCL native syntax (``.tf``) and JSON syntax (``.tf.json``), read together.

All the ``.tf`` and ``.tf.json`` files of a directory are one configuration,
as Terraform reads them (:mod:`kmslint.parsers.terraform`).
"""

from __future__ import annotations

import os

from kmslint.parsers.registry import Format
from kmslint.parsers.sniff import Marker, Sign, matches

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from pathlib import Path

    from kmslint.model import Project
    from kmslint.parsers.common import ParseOptions

KMS = Marker("kms")  # a key, a key policy, an alias, a grant, a kms: action
IDENTITY_POLICY = Marker("aws_iam_", (r"aws_iam_(?:role_|user_|group_)?policy\b",))
INLINE_POLICY = Marker("inline_policy")  # the inline policies of an aws_iam_role
_MODULE_BLOCK = r"\bmodule\s*[\"'\w{]"  # a block (`module "x" {`, `"module": {`), not `path.module`
# Any module call: one on disk is evaluated for the keys it declares (kmslint.parsers.tf_modules),
# and one that is not (a registry or git source) may declare keys too, so the run must say
# it was not followed (OUTPUT.md, summary.not_followed) even where nothing else mentions KMS.
MODULE_CALL = Marker("module", (_MODULE_BLOCK,))
# Settings written with their values (KMS024): a Lambda function's environment, a task
# definition's containers (their JSON may be in a file), an SSM parameter of type String.
SETTINGS = (
    Marker("aws_lambda_function", (r"\benvironment\b",)),
    Marker("aws_ecs_task_definition"),
    Marker("aws_ssm_parameter", (r'type"?\s*[=:]\s*"string"',)),
)
# A data store unencrypted by its type's default (KMS021), or a switch written off (a block
# device's `encrypted`, an SQS queue's SSE-SQS): kmslint.policy.datastores.  A switch written
# `true` is no finding, so a file whose switches all say so is not read for them (a third of
# the benchmark's directories write `encrypted = true` on an instance's root volume).
NOT_TRUE = r'"?\s*[=:](?!\s*"?true\b)'
KEY_USE = (
    *(
        Marker(word)
        for word in (
            *("aws_ebs_volume", "aws_db_instance", "aws_rds_cluster", "aws_efs_file_system", "aws_sns_topic"),
            *("aws_kinesis_stream", "aws_elasticache_replication_group", "aws_opensearch_domain"),
            "aws_elasticsearch_domain",
        )
    ),
    Marker("encrypted", ("encrypted" + NOT_TRUE,)),
    Marker("sqs_managed_sse_enabled", ("sqs_managed_sse_enabled" + NOT_TRUE,)),
)
TRAIL = Marker("aws_cloudtrail")  # a trail that may leave KMS events out (KMS023)
# Data stores encrypted by AWS's keys when they name none (KMS022, only in runs where it is on:
# a default SQS queue, S3 bucket or log group mentions no KMS); the KEY_USE words cover the rest.
AWS_KEY_STORES = tuple(
    Marker(word)
    for word in (
        *("aws_s3_bucket", "aws_dynamodb_table", "aws_sqs_queue", "aws_secretsmanager_secret"),
        *("aws_ssm_parameter", "aws_cloudwatch_log_group", "aws_lambda_function", "aws_ecr_repository"),
        *("aws_backup_vault", "aws_eks_cluster", "aws_instance", "aws_launch_template"),
        *("aws_launch_configuration", "aws_redshift_cluster"),
    )
)
RULE_MARKERS = (("KMS022", AWS_KEY_STORES),)
MARKERS = (KMS, IDENTITY_POLICY, INLINE_POLICY, MODULE_CALL, *SETTINGS, *KEY_USE, TRAIL)
# A call of a module on disk: `source = "./keys"`, `"source": "../keys"`, also written as a
# constant expression (`source = true ? "./keys" : "x"`): a string starting ./ or ../ there.
LOCAL_MODULE_CALL = Marker("module", (_MODULE_BLOCK, r"\bsource\b", r"\"\.\.?[/\\]"))
# What makes a configuration worth evaluating, rather than only listing its module calls.
_EVALUATED = (KMS, IDENTITY_POLICY, INLINE_POLICY, LOCAL_MODULE_CALL, *SETTINGS, *KEY_USE, TRAIL)


def read_directory(directory: Path, files: list[Path], opts: ParseOptions) -> Project:
    from kmslint.parsers import terraform
    from kmslint.parsers.registry import rule_markers

    texts = {f: opts.sources.get(f) for f in files}
    # The common case first and cheaply: no module call at all (the word, in any file), so the
    # configuration is here for what its markers found.
    if not any(t is None or "module" in t for t in texts.values()):
        return terraform.parse_directory(directory, files, opts)
    evaluated = (*_EVALUATED, *rule_markers("terraform", opts.rules)) if opts.rules else _EVALUATED
    if any(t is None or matches(t, evaluated) for t in texts.values()) or _installed(directory):
        return terraform.parse_directory(directory, files, opts)
    # Nothing but calls of modules not on disk (a registry or git source): they are listed as not
    # followed without evaluating the configuration (a tenth of the cost; the bench tree has many).
    calling = [f for f, t in texts.items() if t is not None and matches(t, (MODULE_CALL,))]
    return terraform.list_calls(directory, files, calling, opts)


def _installed(directory: Path) -> bool:
    """Did ``terraform init`` install modules here?  Then any call may be on disk."""
    # os.path.isdir, not Path.is_dir: an unsearchable .terraform is "no", not a PermissionError.
    return os.path.isdir(directory / ".terraform" / "modules")


FORMATS = (
    Format(
        name="Terraform",
        reading="terraform",
        suffixes=(".tf",),
        directory=True,
        markers=MARKERS,
        rule_markers=RULE_MARKERS,
        signs=(Sign("resource", "block"), Sign("module", "block")),
        read_directory=read_directory,
    ),
    # No signs: only its name makes a file Terraform JSON (a `"resource"` key is in many
    # JSON files), and a .tf.json file that does not parse is a KMS000 whatever it holds.
    Format(
        name="Terraform JSON",
        reading="terraform",
        suffixes=(".tf.json",),
        directory=True,
        markers=MARKERS,
        rule_markers=RULE_MARKERS,
        read_directory=read_directory,
    ),
)
