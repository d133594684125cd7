"""CloudFormation and SAM templates, in YAML (flow syntax too) and in JSON.

CloudFormation reads a YAML template whatever the file is called, and so
does kmslint (:mod:`kmslint.parsers.cloudformation` decides from the
structure: a ``Resources`` map of ``AWS::`` types, a transform).
"""

from __future__ import annotations

from kmslint.parsers.formats.terraform import KMS, NOT_TRUE
from kmslint.parsers.registry import Format
from kmslint.parsers.sniff import Marker, Sign

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from kmslint.model import Project
    from kmslint.parsers.common import ParseOptions
    from kmslint.parsers.registry import Content

# A key, an IAM policy resource, the `Policies` of a role or SAM function, a loop, a trail.
MARKERS = (
    KMS,
    Marker("aws::iam::", (r"aws::iam::\w*policy\b",)),
    Marker("policies"),
    Marker("fn::foreach"),
    # Settings written with their values (KMS024): functions' environments, task definitions'
    # containers, String parameters (not the `AWS::SSM::Parameter::Value<...>` parameter types).
    Marker("aws::lambda::function", (r"\benvironment\b",)),
    Marker("aws::serverless::function", (r"\benvironment\b",)),
    Marker("aws::ecs::taskdefinition", (r"\benvironment\b",)),
    Marker("aws::ssm::parameter", (r"aws::ssm::parameter(?!::)", r"\bstring\b")),
    # A data store unencrypted by its type's default (KMS021), or a switch written other than true.
    *(
        Marker(word)
        for word in (
            *("aws::ec2::volume", "aws::rds::dbinstance", "aws::rds::dbcluster", "aws::efs::filesystem"),
            *("aws::sns::topic", "aws::kinesis::stream", "aws::elasticache::replicationgroup"),
            *("aws::opensearchservice::domain", "aws::elasticsearch::domain"),
        )
    ),
    Marker("encrypted", ("encrypted" + NOT_TRUE,)),
    Marker("sqsmanagedsseenabled", ("sqsmanagedsseenabled" + NOT_TRUE,)),
    Marker("aws::cloudtrail::trail"),  # a trail that may leave KMS events out (KMS023)
)
# Data stores encrypted by AWS's keys when they name none (KMS022, only in runs where it is on);
# the words above cover the rest (kmslint.policy.datastores).
AWS_KEY_STORES = tuple(
    Marker(word)
    for word in (
        *("aws::s3::bucket", "aws::dynamodb::table", "aws::serverless::simpletable", "aws::sqs::queue"),
        *("aws::secretsmanager::secret", "aws::ssm::parameter", "aws::logs::loggroup", "aws::lambda::function"),
        *("aws::serverless::function", "aws::ecr::repository", "aws::backup::backupvault", "aws::eks::cluster"),
        *("aws::ec2::instance", "aws::ec2::launchtemplate", "aws::autoscaling::launchconfiguration"),
        "aws::redshift::cluster",
    )
)
RULE_MARKERS = (("KMS022", AWS_KEY_STORES),)
SIGNS = (Sign("AWSTemplateFormatVersion"), Sign("Resources"))


def claims_json(content: Content, opts: ParseOptions) -> bool:
    """Could a JSON object with these top-level members (escapes decoded) be a template?
    The reader decides from the whole of it."""
    from kmslint.parsers.jsonpos import object_members

    top = content.top
    if top is None:
        return False
    if "AWSTemplateFormatVersion" in top or "Transform" in top:
        return True
    return object_members(top.get("Resources")) is not None


def read_json(content: Content, opts: ParseOptions) -> Project | None:
    from kmslint.parsers import cloudformation

    return cloudformation.parse_template(content.path, content.text, opts, is_json=True)


def read_yaml(content: Content, opts: ParseOptions) -> Project | None:
    """The template, or None when the YAML is not one."""
    from kmslint.parsers import cloudformation

    return cloudformation.parse_template(content.path, content.text, opts, is_json=False)


FORMATS = (
    Format(
        name="CloudFormation template (JSON)",
        reading="json",
        suffixes=(".json", ".template"),
        order=10,
        markers=MARKERS,
        rule_markers=RULE_MARKERS,
        signs=SIGNS,
        claims=claims_json,
        read=read_json,
    ),
    Format(
        name="CloudFormation template (YAML)",
        reading="yaml",
        suffixes=(".yaml", ".yml", ".template"),
        order=10,
        markers=MARKERS,
        rule_markers=RULE_MARKERS,
        signs=SIGNS,
        read=read_yaml,
    ),
)
