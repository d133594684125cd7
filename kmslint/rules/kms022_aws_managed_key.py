"""KMS022 aws-managed-key: a data store encrypted with an AWS managed or AWS owned key where the
configuration asks for customer managed keys (``[require-customer-managed-key]``).

The store's encryption is the model's (:meth:`kmslint.model.KeyUse.state`), read on every
``Fn::If`` / conditional branch as KMS021 reads it; a state that cannot be told (an unknown
key, a setting copied from a snapshot) gives no finding, and neither do tags that cannot be
read when only tags ask for a key.
"""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import (
    ENCRYPTION_AWS_MANAGED,
    ENCRYPTION_AWS_OWNED,
    ENCRYPTION_KMS,
    Branch,
    Interpolated,
    KeyUse,
    Known,
    Project,
    Value,
    Violation,
    known_str,
    scalar,
)
from kmslint.policy.datastores import S3_SSE_TYPE, TF
from kmslint.rules import RuleContext, check
from kmslint.rules._common import use_readings, with_branch
from kmslint.settings import RequireCustomerManagedKey

# The AWS managed key a store's service uses when encryption is on and no key is named.
_SERVICE_ALIAS = {
    "s3": "aws/s3",
    "dynamodb": "aws/dynamodb",
    "rds": "aws/rds",
    "ebs": "aws/ebs",
    "efs": "aws/elasticfilesystem",
    "sqs": "aws/sqs",
    "sns": "aws/sns",
    "kinesis": "aws/kinesis",
    "secretsmanager": "aws/secretsmanager",
    "ssm": "aws/ssm",
    "lambda": "aws/lambda",
    "ecr": "aws/ecr",
    "backup": "aws/backup",
    "redshift": "aws/redshift",
    "opensearch": "aws/es",
}

# What an AWS owned key is called for each store, as its service's documentation calls it.
_OWNED = {
    "s3": "SSE-S3 (Amazon S3 managed keys)",
    "sqs": "SSE-SQS (keys Amazon SQS owns)",
    "dynamodb": "a key DynamoDB owns (its default)",
    "logs": "keys CloudWatch Logs owns (its default)",
    "ecr": "AES256 (Amazon S3 managed keys)",
    "eks": "a key Amazon EKS owns (its default)",
    "elasticache": "a key ElastiCache owns",
}

# What a store's key encrypts, where it is not the whole resource.
_WHAT = {"lambda": "environment variables", "eks": "Kubernetes secrets"}

# A type asked for by the type it stands for: a bucket's encryption written apart from it, and
# the SAM resources CloudFormation turns into a function or a table.
_ASKED_AS = {
    S3_SSE_TYPE: "aws_s3_bucket",
    "AWS::Serverless::Function": "AWS::Lambda::Function",
    "AWS::Serverless::SimpleTable": "AWS::DynamoDB::Table",
}

# A switch's value that turns on encryption with the key named, as each syntax writes it.
_KMS_VALUE = {
    "aws:kms": ('"aws:kms"', "aws:kms"),
    "true": ("true", "true"),
    "kms": ('"KMS"', "KMS"),
    "securestring": ('"SecureString"', "SecureString"),
}


@check("KMS022")
def aws_managed_key(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    wanted = ctx.require_customer_managed_key
    if wanted is None or wanted.asks_for_nothing():
        return
    with_environment: set[str] | None = None
    for use in project.key_uses:
        why = _asks(wanted, use)
        if why is None:
            continue
        if use.kind == "ebs" and use.account_key is not None:
            continue  # encrypted with the account's default EBS key, which the configuration sets
        if use.kind == "lambda":
            if with_environment is None:
                with_environment = {str(p.resource) for p in project.plain_settings if p.kind == "lambda-environment"}
            if str(use.name) not in with_environment:
                continue  # its key encrypts its environment variables: it writes none that are known
        for branch, switch, key in use_readings(use):
            state = use.state(switch, key)
            if state not in (ENCRYPTION_AWS_MANAGED, ENCRYPTION_AWS_OWNED):
                continue
            if use.kind == "ebs" and use.part and (key is None or (isinstance(key, Known) and key.value == "")):
                # A block device may be one of the AMI's, restored from its snapshot: encrypted and
                # naming no key, it keeps the snapshot's key (EC2 User Guide, "Use encryption with
                # EBS-backed AMIs"), which may be a customer managed key.
                continue
            yield _violation(use, state, switch, key, why, branch)
            break  # one finding per store, naming the first branch that leaves it to AWS's key


def _asks(wanted: RequireCustomerManagedKey, use: KeyUse) -> str | None:
    """Why the configuration asks for a customer managed key for this store (None: it does not,
    or its tags cannot be read)."""
    if wanted.everywhere:
        return "everywhere"
    if use.rtype in wanted.resource_types:
        return f"for {use.rtype}"
    also = _ASKED_AS.get(use.rtype)
    if also is not None and also in wanted.resource_types:
        return f"for {also}"
    if not wanted.tags or not (isinstance(use.tags, Known) and isinstance(use.tags.value, dict)):
        return None
    for tag, values in sorted(wanted.tags.items()):
        text = known_str(use.tags.value.get(tag))
        if text is not None and text in values:
            return f"for tag {tag} = {text}"
    return None


def _violation(use: KeyUse, state: str, switch: Value | None, key: Value | None, why: str, branch: Branch) -> Violation:
    what = _WHAT.get(use.kind)
    where = f"`{use.part}` of this {use.rtype}" if use.part else f"this {use.rtype}"
    subject = f"the {what} of {where} are" if what else f"{where} is"
    if state == ENCRYPTION_AWS_MANAGED and key is not None and use.key_loc is not None:
        loc = use.key_loc
        alias = _alias_named(key)
        whose = f"the AWS managed key `{alias}`" if alias else "an AWS managed key"
    elif switch is not None and use.switch_loc is not None:
        loc = use.switch_loc
        whose = _default_key(use, state)
    elif use.key is not None and use.key_loc is not None:  # a conditional that names no key on this branch
        loc = use.key_loc
        whose = _default_key(use, state)
    else:
        loc = use.loc
        whose = _default_key(use, state)
    message = (
        f"{subject} encrypted with {whose}, and the configuration asks for a customer managed key "
        f"{why} ([require-customer-managed-key]); {_fix(use, switch)}"
    )
    return Violation(
        loc,
        use.name,
        with_branch(message, branch),
        content=f"{use.name}:{use.part}:aws-key",
        subject=f"{use.part}:aws-key",
    )


def _alias_named(key: Value) -> str | None:
    """The AWS managed key's alias a key setting names (``alias/aws/sqs``, from an alias ARN too,
    whose account and Region may be unknown); None when it names none."""
    text = key.literal_text() if isinstance(key, Interpolated) else known_str(key)
    if text is None:
        return None
    alias = text if text.startswith("alias/aws/") else f"alias/{text.rpartition(':alias/')[2]}"
    return alias if alias.startswith("alias/aws/") and "\x00" not in alias else None


def _default_key(use: KeyUse, state: str) -> str:
    if state == ENCRYPTION_AWS_OWNED:
        return _OWNED.get(use.kind, "an AWS owned key")
    alias = _SERVICE_ALIAS.get(use.kind)
    if use.kind == "ebs":
        return "the account's default EBS key (the AWS managed key `alias/aws/ebs` unless the account names another)"
    return f"the AWS managed key `alias/{alias}`" if alias else "its service's AWS managed key"


def _fix(use: KeyUse, switch: Value | None) -> str:
    """How to name a customer managed key, in the store's syntax."""
    terraform = use.syntax == TF
    key_attr = use.key_attr or "the key setting"
    block = ""
    if "." in key_attr:  # a setting of a nested block or property: named as the block writes it
        block, _dot, key_attr = key_attr.rpartition(".")
    if terraform:
        name = f"`{key_attr} = aws_kms_key.<name>.arn`"
    else:
        ref = '{"Fn::GetAtt": ["<Key>", "Arn"]}' if use.loc.file.lower().endswith(".json") else "!GetAtt <Key>.Arn"
        name = f"`{key_attr}` (the ARN of a customer managed key, `{ref}`)"
    step = ""
    written = scalar(switch)
    switched = use.states.get(str(written).lower()) if isinstance(written, str | bool) else None
    if use.switch_attr is not None and not use.key_overrides and switched != ENCRYPTION_KMS:
        value = next((v for v, s in use.states.items() if s == ENCRYPTION_KMS), None)
        spelled = _KMS_VALUE.get(value or "")
        if spelled is not None:
            switch_attr = use.switch_attr.rpartition(".")[2] if block else use.switch_attr
            step = f"`{switch_attr} = {spelled[0]}`" if terraform else f"`{switch_attr}: {spelled[1]}`"
            step = f"set {step} and "
    fix = f"{step}name a customer managed key: {name}"
    if use.rtype == "aws_s3_bucket" and switch is None and use.key is None:
        block = "rule.apply_server_side_encryption_by_default"
        return f"add an {S3_SSE_TYPE} for this bucket and, in its `{block}` block, {fix}"
    if not block:
        return fix
    return f"{fix} in its `{block}` block" if terraform else f"{fix} in its `{block}` property"
