"""KMS021 data-not-encrypted: a data store whose encryption is switched off, or left off by its
resource type's default, where AWS lets it be off."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import (
    ENCRYPTION_OFF,
    KeyUse,
    Project,
    Violation,
    as_bool,
)
from kmslint.rules import RuleContext, check
from kmslint.rules._common import use_readings, with_branch

# The stores AWS lets be unencrypted (RULES.md, KMS021), as messages name them.
_STORES = {
    "ebs": "EBS volume",
    "rds": "RDS database",
    "efs": "EFS file system",
    "sqs": "SQS queue",
    "sns": "SNS topic",
    "kinesis": "Kinesis stream",
    "elasticache": "ElastiCache replication group",
    "redshift": "Redshift cluster",
    "opensearch": "OpenSearch domain",
}


@check("KMS021")
def data_not_encrypted(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    for use in project.key_uses:
        noun = _STORES.get(use.kind)
        if noun is None or _encrypted_by_account(use):
            continue
        for branch, switch, key in use_readings(use):
            if use.state(switch, key) != ENCRYPTION_OFF:
                continue
            where = f"{noun} (`{use.part}`)" if use.part else noun
            if switch is not None and use.switch_loc is not None:
                message = f"encryption at rest is switched off for this {where}; set {use.fix}"
                loc = use.switch_loc
            else:
                default = f"{use.rtype} is unencrypted by default"
                message = f"this {where} is not encrypted at rest ({default}); set {use.fix}"
                loc = use.loc
            yield Violation(
                loc,
                use.name,
                with_branch(message, branch),
                content=f"{use.name}:{use.part}:not-encrypted",
                subject=f"{use.part}:not-encrypted",
            )
            break  # one finding per store, naming the first branch that leaves it unencrypted


def _encrypted_by_account(use: KeyUse) -> bool:
    """Does the configuration turn EBS encryption by default on (or may it: not known)?  Then
    AWS encrypts every new volume whatever the volume says."""
    return use.kind == "ebs" and use.account_default is not None and as_bool(use.account_default) is not False
