"""Deterministic generator of realistic infrastructure-as-code trees for the benchmark.

    python bench/gen.py terraform N OUT      # N .tf files in module directories
    python bench/gen.py cloudformation N OUT # N templates (YAML, some JSON)
    python bench/gen.py mixed N OUT          # N files, half of each
    python bench/gen.py modules N OUT        # N directories each calling one shared local module

The same arguments always give the same bytes (a seeded ``random.Random``,
no clock, no environment).  The trees look like real repositories: a
Terraform module directory holds several files (``main.tf``,
``variables.tf``, ``outputs.tf``, sometimes ``kms.tf`` or ``iam.tf``); KMS
keys sit among S3 buckets, IAM roles, Lambda functions, security groups and
modules; about a third of the directories have no KMS text at all (network
and compute modules), which is what lets a linter skip them.  Keys come in
the shapes people write: ``jsonencode()`` policies, ``aws_iam_policy_document``
data sources, heredocs, with and without rotation, some multi-region, some
with a wildcard principal.  Templates mix KMS keys with buckets, queues,
topics and roles, using ``!Sub``, ``!GetAtt``, ``!Ref`` and ``Fn::If``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 20240607

SERVICES = ["billing", "orders", "payments", "search", "auth", "catalog", "ledger", "reports", "events", "media"]
ENVS = ["dev", "staging", "prod"]

# ----------------------------------------------------------------------------- Terraform


def _tf_variables(rng: random.Random, name: str) -> str:
    out = [
        'variable "environment" {\n  type        = string\n  description = "Deployment environment"\n}\n',
        f'variable "name" {{\n  type    = string\n  default = "{name}"\n}}\n',
        'variable "tags" {\n  type    = map(string)\n  default = {}\n}\n',
        'variable "region" {\n  type    = string\n  default = "eu-west-1"\n}\n',
    ]
    if rng.random() < 0.5:
        out.append('variable "vpc_id" {\n  type = string\n}\n')
    if rng.random() < 0.4:
        out.append('variable "subnet_ids" {\n  type    = list(string)\n  default = []\n}\n')
    return "\n".join(out)


def _tf_key_policy_jsonencode(rng: random.Random, label: str, wildcard: bool) -> str:
    principal = '"*"' if wildcard else '{ AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }'
    admin = (
        "{ AWS = aws_iam_role.admin.arn }"
        if rng.random() < 0.5
        else '{ AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/KeyAdmin" }'
    )
    return f"""  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Sid       = "EnableRoot"
        Effect    = "Allow"
        Principal = {principal}
        Action    = "kms:*"
        Resource  = "*"
      }},
      {{
        Sid       = "KeyAdministrators"
        Effect    = "Allow"
        Principal = {admin}
        Action = [
          "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
          "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
          "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"
        ]
        Resource = "*"
      }},
      {{
        Sid       = "UseFor{label.title().replace("_", "")}"
        Effect    = "Allow"
        Principal = {{ Service = "logs.${{var.region}}.amazonaws.com" }}
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {{
          ArnLike = {{
            "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:${{var.region}}:${{local.account_id}}:*"
          }}
        }}
      }}
    ]
  }})
"""


def _tf_key_policy_document(rng: random.Random, label: str) -> str:
    extra = ""
    if rng.random() < 0.5:
        extra = f"""
  statement {{
    sid     = "AllowUse"
    effect  = "Allow"
    actions = ["kms:Decrypt", "kms:GenerateDataKey"]
    principals {{
      type        = "AWS"
      identifiers = [aws_iam_role.{label}_app.arn]
    }}
    resources = ["*"]
  }}
"""
    return f"""data "aws_iam_policy_document" "{label}_key" {{
  statement {{
    sid     = "EnableRoot"
    effect  = "Allow"
    actions = ["kms:*"]
    principals {{
      type        = "AWS"
      identifiers = ["arn:aws:iam::${{data.aws_caller_identity.current.account_id}}:root"]
    }}
    resources = ["*"]
  }}
{extra}}}
"""


def _tf_kms(rng: random.Random, label: str) -> str:
    """One key with its alias and its policy, in one of the shapes people write."""
    rotation = rng.random() < 0.8
    multi = rng.random() < 0.15
    wildcard = rng.random() < 0.05
    shape = rng.choice(["jsonencode", "document", "document", "heredoc", "none"])
    lines = [
        f'resource "aws_kms_key" "{label}" {{',
        f'  description             = "{label} encryption key for ${{var.name}}"',
        f"  deletion_window_in_days = {rng.choice([7, 10, 30])}",
        f"  enable_key_rotation     = {'true' if rotation else 'false'}",
    ]
    if multi:
        lines.append("  multi_region            = true")
    body = "\n".join(lines) + "\n"
    pre = ""
    if shape == "jsonencode":
        body += _tf_key_policy_jsonencode(rng, label, wildcard)
    elif shape == "document":
        body += f"  policy = data.aws_iam_policy_document.{label}_key.json\n"
        pre = _tf_key_policy_document(rng, label) + "\n"
    elif shape == "heredoc":
        body += """  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "EnableRoot",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"},
      "Action": "kms:*",
      "Resource": "*"
    }
  ]
}
EOF
"""
    body += "  tags = merge(var.tags, { Name = var.name })\n}\n"
    alias = f"""
resource "aws_kms_alias" "{label}" {{
  name          = "alias/${{var.name}}-{label}"
  target_key_id = aws_kms_key.{label}.key_id
}}
"""
    return pre + body + alias


def _tf_bucket(rng: random.Random, label: str, key: str | None) -> str:
    out = f"""resource "aws_s3_bucket" "{label}" {{
  bucket = "${{var.name}}-{label}-${{var.environment}}"
  tags   = var.tags
}}

resource "aws_s3_bucket_versioning" "{label}" {{
  bucket = aws_s3_bucket.{label}.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}
"""
    if key is not None:
        out += f"""
resource "aws_s3_bucket_server_side_encryption_configuration" "{label}" {{
  bucket = aws_s3_bucket.{label}.id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.{key}.arn
    }}
    bucket_key_enabled = true
  }}
}}
"""
    else:
        out += f"""
resource "aws_s3_bucket_public_access_block" "{label}" {{
  bucket                  = aws_s3_bucket.{label}.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}}
"""
    return out


def _tf_role(rng: random.Random, label: str, service: str) -> str:
    return f"""resource "aws_iam_role" "{label}" {{
  name = "${{var.name}}-{label}"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Service = "{service}.amazonaws.com" }}
      Action    = "sts:AssumeRole"
    }}]
  }})
  tags = var.tags
}}

resource "aws_iam_role_policy_attachment" "{label}_basic" {{
  role       = aws_iam_role.{label}.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}}
"""


def _tf_lambda(rng: random.Random, label: str, role: str) -> str:
    return f"""resource "aws_lambda_function" "{label}" {{
  function_name = "${{var.name}}-{label}"
  role          = aws_iam_role.{role}.arn
  handler       = "index.handler"
  runtime       = "{rng.choice(["python3.12", "nodejs20.x", "java21"])}"
  filename      = "${{path.module}}/build/{label}.zip"
  memory_size   = {rng.choice([128, 256, 512, 1024])}
  timeout       = {rng.choice([3, 10, 30, 60])}

  environment {{
    variables = {{
      ENVIRONMENT = var.environment
      LOG_LEVEL   = "{rng.choice(["INFO", "DEBUG", "WARN"])}"
    }}
  }}
}}
"""


def _tf_network(rng: random.Random, label: str) -> str:
    ports = rng.sample([22, 80, 443, 5432, 6379, 8080, 9090], k=rng.randint(1, 3))
    ingress = "".join(
        f"""
  ingress {{
    from_port   = {p}
    to_port     = {p}
    protocol    = "tcp"
    cidr_blocks = ["10.{rng.randint(0, 255)}.0.0/16"]
  }}
"""
        for p in ports
    )
    return f"""resource "aws_security_group" "{label}" {{
  name        = "${{var.name}}-{label}"
  description = "{label} traffic"
  vpc_id      = var.vpc_id
{ingress}
  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}

resource "aws_instance" "{label}" {{
  ami                    = "ami-{rng.getrandbits(64):016x}"
  instance_type          = "{rng.choice(["t3.micro", "t3.small", "m6i.large"])}"
  subnet_id              = element(var.subnet_ids, {rng.randint(0, 2)})
  vpc_security_group_ids = [aws_security_group.{label}.id]

  root_block_device {{
    volume_size = {rng.choice([8, 20, 50])}
    encrypted   = true
  }}

  tags = merge(var.tags, {{ Role = "{label}" }})
}}
"""


def _tf_module_call(rng: random.Random, label: str) -> str:
    return f"""module "{label}" {{
  source  = "terraform-aws-modules/{rng.choice(["vpc", "sqs", "sns", "rds"])}/aws"
  version = "~> {rng.randint(3, 5)}.{rng.randint(0, 9)}"

  name        = "${{var.name}}-{label}"
  environment = var.environment
  tags        = var.tags
}}
"""


def _tf_outputs(labels: list[tuple[str, str]]) -> str:
    return "\n".join(f'output "{k}_{n}" {{\n  value = {k}.{n}.arn\n}}\n' for k, n in labels)


def terraform_dir(rng: random.Random, index: int, budget: int) -> dict[str, str]:
    """One module directory: ``budget`` files (2-6), with or without KMS keys."""
    name = f"{rng.choice(SERVICES)}-{index}"
    has_kms = rng.random() < 0.65
    files: dict[str, str] = {}
    main: list[str] = [
        'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
        '      version = "~> 5.0"\n    }\n  }\n}\n',
        'data "aws_caller_identity" "current" {}\n',
        "locals {\n  account_id = data.aws_caller_identity.current.account_id\n}\n",
    ]
    outputs: list[tuple[str, str]] = []
    keys: list[str] = []
    if has_kms:
        n_keys = rng.choice([1, 1, 1, 2, 3])
        kms_parts: list[str] = []
        for k in range(n_keys):
            label = rng.choice(["data", "logs", "secrets", "backup", "app", "queue"]) + (f"_{k}" if k else "")
            keys.append(label)
            kms_parts.append(_tf_kms(rng, label))
            outputs.append(("aws_kms_key", label))
            if "aws_iam_role." + label + "_app" in kms_parts[-1]:
                kms_parts.append(_tf_role(rng, f"{label}_app", "lambda"))
            if "aws_iam_role.admin" in kms_parts[-1] and "admin" not in "".join(kms_parts[:-1]):
                kms_parts.append(_tf_role(rng, "admin", "ec2"))
    for b in range(rng.randint(1, 3)):
        label = f"bucket_{b}"
        main.append(_tf_bucket(rng, label, rng.choice(keys) if keys and rng.random() < 0.7 else None))
    if rng.random() < 0.6:
        main.append(_tf_role(rng, "lambda", "lambda"))
        main.append(_tf_lambda(rng, "worker", "lambda"))
        outputs.append(("aws_lambda_function", "worker"))
    if rng.random() < 0.4:
        main.append(_tf_network(rng, "web"))
    if rng.random() < 0.3:
        main.append(_tf_module_call(rng, "queue"))

    files["main.tf"] = "\n".join(main)
    files["variables.tf"] = _tf_variables(rng, name)
    if budget >= 3:
        files["outputs.tf"] = _tf_outputs(outputs) if outputs else "# no outputs\n"
    if has_kms:
        if budget >= 4:
            files["kms.tf"] = "\n".join(kms_parts)
        else:
            files["main.tf"] += "\n" + "\n".join(kms_parts)
    elif budget >= 4:
        files["network.tf"] = _tf_network(rng, "app")
    if budget >= 5:
        files["versions.tf"] = 'terraform {\n  required_version = ">= 1.5"\n}\n'
    if budget >= 6:
        files["locals.tf"] = (
            f'locals {{\n  name_prefix = "${{var.name}}-${{var.environment}}"\n'
            f'  common_tags = merge(var.tags, {{ Service = "{name}" }})\n}}\n'
        )
    return dict(list(files.items())[:budget])


def terraform_tree(n: int, out: Path, seed: int = SEED) -> int:
    """Write ``n`` ``.tf`` files in module directories under ``out``; return the file count."""
    rng = random.Random(seed)
    written = 0
    index = 0
    while written < n:
        budget = min(rng.randint(2, 6), n - written)
        env = ENVS[index % len(ENVS)]
        directory = out / "terraform" / env / f"module_{index:05d}"
        if budget == 1:
            files = {"main.tf": terraform_dir(rng, index, 2)["main.tf"]}
        else:
            files = terraform_dir(rng, index, budget)
        _write(directory, files)
        written += len(files)
        index += 1
    return written


def _shared_key(text: str) -> str:
    """A generated key made a module's: named ``this``, its rotation the caller's choice."""
    text = text.replace('aws_kms_key" "shared"', 'aws_kms_key" "this"')
    text = text.replace("aws_kms_key.shared.", "aws_kms_key.this.")
    rotation = "enable_key_rotation     = "
    for literal in ("true", "false"):
        text = text.replace(rotation + literal, rotation + "var.enable_key_rotation")
    return text


def modules_tree(n: int, out: Path, seed: int = SEED + 2) -> int:
    """``n`` service directories that each call one shared local KMS module with their own
    arguments (the shape of a repository whose keys are all created through a module):
    the module directory is parsed once per unit and evaluated once per call."""
    rng = random.Random(seed)
    root = out / "terraform-modules"
    shared = {
        "main.tf": _shared_key(_tf_kms(rng, "shared")),
        "variables.tf": _tf_variables(rng, "shared")
        + 'variable "enable_key_rotation" {\n  type    = bool\n  default = true\n}\n',
        "outputs.tf": 'output "key_arn" {\n  value = aws_kms_key.this.arn\n}\n',
    }
    _write(root / "modules" / "kms", shared)
    written = len(shared)
    for index in range(n):
        name = f"{SERVICES[index % len(SERVICES)]}-{index:03d}"
        env = ENVS[index % len(ENVS)]
        rotation = "false" if rng.random() < 0.2 else "true"
        call = (
            f'module "key" {{\n  source              = "../../../modules/kms"\n  name                = "{name}"\n'
            f'  environment         = "{env}"\n  enable_key_rotation = {rotation}\n}}\n'
        )
        body = call + _tf_bucket(rng, "data", "module.key.key_arn")
        _write(root / "live" / env / name, {"main.tf": body})
        written += 1
    return written


# ----------------------------------------------------------------------------- CloudFormation


def _cfn_key(rng: random.Random, name: str) -> dict[str, object]:
    wildcard = rng.random() < 0.05
    statements: list[dict[str, object]] = [
        {
            "Sid": "EnableRoot",
            "Effect": "Allow",
            "Principal": "*" if wildcard else {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "AllowUse",
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::GetAtt": ["AppRole", "Arn"]}},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
        },
    ]
    if rng.random() < 0.3:
        statements.append(
            {
                "Sid": "AllowLogs",
                "Effect": "Allow",
                "Principal": {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": {"Fn::Sub": "arn:aws:logs:${AWS::Region}:*"}}
                },
            }
        )
    props: dict[str, object] = {
        "Description": f"{name} key",
        "EnableKeyRotation": rng.random() < 0.8,
        "PendingWindowInDays": rng.choice([7, 30]),
        "KeyPolicy": {"Version": "2012-10-17", "Statement": statements},
    }
    if rng.random() < 0.15:
        props["MultiRegion"] = True
    if rng.random() < 0.2:
        props["EnableKeyRotation"] = {"Fn::If": ["IsProd", True, False]}
    return {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": props}


def cfn_template(rng: random.Random, index: int) -> dict[str, object]:
    service = rng.choice(SERVICES)
    resources: dict[str, object] = {
        "AppRole": {
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
                "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
            },
        }
    }
    has_kms = rng.random() < 0.75
    keys: list[str] = []
    if has_kms:
        for k in range(rng.choice([1, 1, 2])):
            name = f"{service.title()}Key{k or ''}"
            keys.append(name)
            resources[name] = _cfn_key(rng, name)
            resources[f"{name}Alias"] = {
                "Type": "AWS::KMS::Alias",
                "Properties": {
                    "AliasName": {"Fn::Sub": f"alias/${{AWS::StackName}}-{name.lower()}"},
                    "TargetKeyId": {"Ref": name},
                },
            }
    for b in range(rng.randint(1, 3)):
        bucket: dict[str, object] = {"BucketName": {"Fn::Sub": f"${{AWS::StackName}}-{service}-{b}"}}
        if keys and rng.random() < 0.7:
            bucket["BucketEncryption"] = {
                "ServerSideEncryptionConfiguration": [
                    {
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": {"Fn::GetAtt": [rng.choice(keys), "Arn"]},
                        }
                    }
                ]
            }
        resources[f"Bucket{b}"] = {"Type": "AWS::S3::Bucket", "Properties": bucket}
    if rng.random() < 0.5:
        queue: dict[str, object] = {"MessageRetentionPeriod": 345600}
        if keys:
            queue["KmsMasterKeyId"] = {"Ref": keys[0]}
        resources["Queue"] = {"Type": "AWS::SQS::Queue", "Properties": queue}
    if rng.random() < 0.5:
        resources["Function"] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Handler": "index.handler",
                "Runtime": rng.choice(["python3.12", "nodejs20.x"]),
                "Role": {"Fn::GetAtt": ["AppRole", "Arn"]},
                "Code": {"S3Bucket": {"Ref": "Bucket0"}, "S3Key": "code.zip"},
                "Timeout": rng.choice([3, 30]),
            },
        }
    if rng.random() < 0.3:
        resources["Topic"] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{service}-{index}"}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{service} stack {index}",
        "Parameters": {"Environment": {"Type": "String", "AllowedValues": ENVS, "Default": "dev"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Environment"}, "prod"]}},
        "Resources": resources,
        **({"Outputs": {k: {"Value": {"Fn::GetAtt": [k, "Arn"]}} for k in keys}} if keys else {}),
    }


def to_yaml(data: object, indent: int = 0) -> str:
    """CloudFormation YAML as people write it: short-form ``!Sub``/``!Ref``/``!GetAtt``/``!If``."""
    pad = "  " * indent
    if isinstance(data, dict):
        if not data:
            return "{}"
        lines = []
        for k, v in data.items():
            if isinstance(v, dict) and len(v) == 1 and next(iter(v)) in _SHORT:
                lines.append(f"{pad}{k}: {_short(v)}")
            elif isinstance(v, dict | list) and v:
                lines.append(f"{pad}{k}:\n{to_yaml(v, indent + 1)}")
            else:
                lines.append(f"{pad}{k}: {_scalar(v)}")
        return "\n".join(lines)
    if isinstance(data, list):
        lines = []
        for item in data:
            if isinstance(item, dict) and len(item) == 1 and next(iter(item)) in _SHORT:
                lines.append(f"{pad}- {_short(item)}")
            elif isinstance(item, dict) and item:
                inner = to_yaml(item, indent + 1)
                lines.append(f"{pad}- {inner.lstrip()}")
            else:
                lines.append(f"{pad}- {_scalar(item)}")
        return "\n".join(lines)
    return pad + _scalar(data)


_SHORT = {"Fn::Sub": "!Sub", "Ref": "!Ref", "Fn::GetAtt": "!GetAtt", "Fn::If": "!If", "Fn::Equals": "!Equals"}


def _short(v: dict[str, object]) -> str:
    fn, arg = next(iter(v.items()))
    tag = _SHORT[fn]
    if fn == "Fn::GetAtt" and isinstance(arg, list):
        return f"{tag} {arg[0]}.{arg[1]}"
    if isinstance(arg, list):
        return f"{tag} [{', '.join(_short(a) if isinstance(a, dict) else _scalar(a) for a in arg)}]"
    return f"{tag} {_scalar(arg)}"


def _scalar(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, str):
        if v and (v[0] in "*!&{[\"'%@`|>#" or ": " in v or v in ("true", "false", "yes", "no", "null")):
            return json.dumps(v)
        return v if v else '""'
    if isinstance(v, list) and not v:
        return "[]"
    return json.dumps(v)


def cloudformation_tree(n: int, out: Path, seed: int = SEED + 1) -> int:
    rng = random.Random(seed)
    for i in range(n):
        data = cfn_template(rng, i)
        directory = out / "cloudformation" / ENVS[i % len(ENVS)] / f"stack_{i // 20:04d}"
        if rng.random() < 0.2:
            _write(directory, {f"template_{i:05d}.json": json.dumps(data, indent=2) + "\n"})
        else:
            _write(directory, {f"template_{i:05d}.yaml": to_yaml(data) + "\n"})
    return n


# ----------------------------------------------------------------------------- entry point


def _write(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")


def generate(kind: str, n: int, out: Path) -> int:
    if kind == "terraform":
        return terraform_tree(n, out)
    if kind == "cloudformation":
        return cloudformation_tree(n, out)
    if kind == "mixed":
        return terraform_tree(n // 2, out) + cloudformation_tree(n - n // 2, out)
    if kind == "modules":
        return modules_tree(n, out)
    raise SystemExit(f"unknown kind {kind!r}: terraform, cloudformation, mixed or modules")


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    kind, n, out = argv[0], int(argv[1]), Path(argv[2])
    count = generate(kind, n, out)
    print(f"{count} files under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
