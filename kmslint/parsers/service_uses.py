"""What KMS020 knows of a resource whose key an AWS service uses as its own principal
(:class:`kmslint.model.ServiceUse`): the resource's own name and where it is, and the
resources of the configuration that make a service send to it.

The receivers are the resource types of the rows of :mod:`kmslint.policy.service_use`
that need a key policy statement: the data stores among them come from the model of key
use (``Project.key_uses``); deliveries that are no data store (a trail, a CloudTrail Lake
event data store, AWS Config's delivery channel) get a :class:`~kmslint.model.KeyUse` of
their own here, which only KMS020 reads.

A sender names its receiver by reference (in any module: references are read from the
root), or by a literal ARN whose name is a receiver's literal name.  Terraform (``.tf``
and plan JSON alike, through the resource views of :mod:`kmslint.parsers.tf_model`) and
CloudFormation (through the template reader) give the same records.
"""

from __future__ import annotations

import re

from kmslint.model import (
    Alias,
    Conditional,
    Interpolated,
    KeyResource,
    KeyUse,
    Known,
    Location,
    Sender,
    ServiceUse,
    Unknown,
    Value,
    instance_index,
    known_str,
)
from kmslint.policy.service_use import requirements

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from kmslint.parsers.cloudformation import _Reader, _Resource
    from kmslint.parsers.tf_model import Arguments, Builder, ResourceView

TF = "terraform"
CFN = "cloudformation"

_INDEX = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[^\[\]"]*)\]')  # an instance index: [0], ["a"]

# Deliveries that name a key and are no data store: type -> (the attribute naming the key, the
# attribute naming the resource itself in AWS, the use's kind).
_TF_DELIVERIES = {
    "aws_cloudtrail": ("kms_key_id", "name", "cloudtrail"),
    "aws_cloudtrail_event_data_store": ("kms_key_id", "name", "cloudtrail-lake"),
    "aws_config_delivery_channel": ("s3_kms_key_arn", None, "config"),
}
_CFN_DELIVERIES = {
    "AWS::CloudTrail::Trail": ("KMSKeyId", "TrailName", "cloudtrail"),
    "AWS::CloudTrail::EventDataStore": ("KmsKeyId", "Name", "cloudtrail-lake"),
    "AWS::Config::DeliveryChannel": ("S3KmsKeyArn", None, "config"),
}
# The data stores KMS020 reads, and the attribute that is their name in AWS.
_TF_NAMES = {"aws_cloudwatch_log_group": "name", "aws_sns_topic": "name", "aws_sqs_queue": "name"}
_CFN_NAMES = {"AWS::Logs::LogGroup": "LogGroupName", "AWS::SNS::Topic": "TopicName", "AWS::SQS::Queue": "QueueName"}
_TF_BUCKET_TYPES = ("aws_s3_bucket", "aws_s3_bucket_server_side_encryption_configuration")

# A receiver's service, as its ARN names it (for a sender that writes the ARN out).
_SERVICE = {
    "aws_sns_topic": "sns",
    "aws_sqs_queue": "sqs",
    "aws_s3_bucket": "s3",
    "AWS::SNS::Topic": "sns",
    "AWS::SQS::Queue": "sqs",
    "AWS::S3::Bucket": "s3",
}

# The attributes that are a receiver's ARN (a CloudFormation ``Ref`` is ""): an SQS queue's ID
# and ``Ref`` are its URL, a bucket's its name.
_ARN_ATTRIBUTES = {
    "aws_sns_topic": ("arn", "id"),
    "aws_sqs_queue": ("arn",),
    "aws_s3_bucket": ("arn",),
    "aws_s3_bucket_server_side_encryption_configuration": ("arn",),
    "AWS::SNS::Topic": ("", "TopicArn"),
    "AWS::SQS::Queue": ("Arn",),
    "AWS::S3::Bucket": ("Arn",),
}

# The config recorder's role: the AWS Config service-linked role's path.
_CONFIG_SLR = "/aws-service-role/config.amazonaws.com/"

SENDER_TYPES_TF = frozenset(
    {
        "aws_s3_bucket_notification",
        "aws_cloudwatch_event_target",
        "aws_cloudwatch_metric_alarm",
        "aws_cloudwatch_composite_alarm",
        "aws_sns_topic_subscription",
        "aws_flow_log",
    }
)


def needs_statement(rtype: str) -> bool:
    """Has the type a row whose service calls KMS as its own principal?"""
    return any(row.needs_statement for row in requirements(rtype))


def _text(value: Value | None) -> str | None:
    """A literal, non-empty string."""
    text = known_str(value)
    return text if text else None


def walk_refs(value: Value | None) -> Iterator[str]:
    """Every reference inside a value, on every branch."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Unknown):
            if v.ref:
                yield v.ref
        elif isinstance(v, Interpolated):
            stack.extend(p for p in v.parts if isinstance(p, Unknown))
        elif isinstance(v, Conditional):
            stack.extend((v.then, v.otherwise))
        elif isinstance(v, Known):
            if isinstance(v.value, dict):
                stack.extend(v.value.values())
            elif isinstance(v.value, list):
                stack.extend(v.value)


def walk_texts(value: Value | None) -> Iterator[str]:
    """Every literal string inside a value, on every branch."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Conditional):
            stack.extend((v.then, v.otherwise))
        elif isinstance(v, Known):
            if isinstance(v.value, str):
                yield v.value
            elif isinstance(v.value, list):
                stack.extend(v.value)


def arn_name(text: str) -> tuple[str, str] | None:
    """``(service, name)`` of a literal topic, queue or bucket ARN."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] not in ("sns", "sqs", "s3"):
        return None
    name = parts[5].partition("/")[0] if parts[2] == "s3" else parts[5]  # a bucket's ARN may go on to a prefix
    return parts[2], name


class _Receivers:
    """Service uses by the receiving resource's address (or logical ID), and by literal name,
    each with the module instance it is in ("" for a template)."""

    def __init__(self) -> None:
        self.by_address: dict[str, list[tuple[ServiceUse, str]]] = {}
        self.by_name: dict[tuple[str, str], list[tuple[ServiceUse, str]]] = {}

    def add(self, address: str, su: ServiceUse, service: str | None, name: str | None, scope: str = "") -> None:
        self.by_address.setdefault(address, []).append((su, scope))
        if service is not None and name is not None:
            self.by_name.setdefault((service, name), []).append((su, scope))

    def named(self, refs: list[tuple[str, str | None]], value: Value | None, scope: str = "") -> list[ServiceUse]:
        """The receivers named by reference to their ARN (``refs``: address or logical ID, and
        the attribute referred to, None where the reference does not say) or by a literal ARN
        in ``value``.  A queue's URL names no receiver: senders take ARNs.  Where one address
        is several instances (``for_each`` on a module), the sender's own module instance
        (``scope``) says which; from another, which one is not told, and none is taken."""
        out: dict[int, ServiceUse] = {}
        said: dict[str, set[str]] = {}
        for address, attr in refs:
            if attr is not None:
                said.setdefault(address, set()).add(attr)
        for address, attr in refs:
            if attr is None and address in said:
                continue  # the plan lists a bare reference beside the attribute it reads
            for su in _here(self.by_address.get(address, []), scope):
                if attr is None or attr in _ARN_ATTRIBUTES.get(su.use.rtype, ("arn",)):
                    out.setdefault(id(su), su)
        for text in walk_texts(value):
            found = arn_name(text)
            for su in _here(self.by_name.get(found, []), scope) if found is not None else ():
                out.setdefault(id(su), su)
        return list(out.values())


def _here(found: list[tuple[ServiceUse, str]], scope: str) -> list[ServiceUse]:
    """The receivers a sender in module instance ``scope`` means among ``found``."""
    scopes = {s for _su, s in found}
    if len(scopes) <= 1:
        return [su for su, _s in found]
    return [su for su, s in found if s == scope]


def _send(receivers: list[ServiceUse], sender: Sender) -> None:
    for su in receivers:
        if any(sender.rtype in row.senders for row in requirements(su.use.rtype)):
            su.senders.append(sender)


# --------------------------------------------------------------------------- Terraform


def terraform_service_uses(
    builder: Builder, views: list[ResourceView], ref_name: Callable[[str], str | None]
) -> list[ServiceUse]:
    """The service uses of a Terraform configuration: its data stores KMS020 reads (from
    ``project.key_uses``), its deliveries, and what sends to them.  ``ref_name`` is the
    resource a reference names (kmslint.parsers.tf_model.ref_name: that module imports this one)."""
    receivers = _Receivers()
    out = _tf_stores(builder, views, ref_name, receivers) + _tf_deliveries(builder, views, ref_name)
    if out:
        tf = _Terraform(builder, ref_name)
        for v in views:
            if v.rtype in SENDER_TYPES_TF:
                tf.senders(v, receivers)
    return out


def _tf_stores(
    builder: Builder, views: list[ResourceView], ref_name: Callable[[str], str | None], receivers: _Receivers
) -> list[ServiceUse]:
    """The data stores whose key a service uses as itself, each registered as a receiver."""
    account, region = _text(builder.account), _text(builder.region)
    at: dict[tuple[str, str, Location], ResourceView] = {}
    for view in views:
        if needs_statement(view.rtype):
            called = builder._name(view)
            at[str(called), instance_index(called), view.header] = view
    out: list[ServiceUse] = []
    for use in builder.project.key_uses:
        found = at.get((str(use.name), instance_index(use.name), use.loc)) if needs_statement(use.rtype) else None
        if found is None:
            continue
        v = found
        su = ServiceUse(
            use, use.key_resource or _tf_conditional_key(builder, v, use.key), region=region, account=account
        )
        if use.key_attr is not None and "." not in use.key_attr:
            su.key = _tf_key_instance(builder, v, use.key_attr)
        attr = _TF_NAMES.get(use.rtype)
        su.aws_name = _text(v.attr(attr)) if attr is not None else None
        out.append(su)
        if use.rtype == "aws_s3_bucket_server_side_encryption_configuration":
            for bucket, _attr in _tf_refs(v, "bucket", ref_name):
                bucket_view = builder.by_address.get(bucket)
                named = _text(bucket_view.attr("bucket")) if bucket_view is not None else None
                receivers.add(bucket, su, "s3", named, v.module_instance)
            continue
        named = _text(v.attr("bucket")) if use.rtype == "aws_s3_bucket" else su.aws_name
        receivers.add(v.address, su, _SERVICE.get(use.rtype), named, v.module_instance)
    return out


def _tf_deliveries(
    builder: Builder, views: list[ResourceView], ref_name: Callable[[str], str | None]
) -> list[ServiceUse]:
    """Trails, Lake event data stores and Config delivery channels that name a key."""
    from kmslint.parsers.key_uses import alias_names, by_alias_name

    account, region = _text(builder.account), _text(builder.region)
    names: dict[str, str] | None = None
    recorders = [v for v in views if v.rtype == "aws_config_configuration_recorder"]
    out: list[ServiceUse] = []
    for v in views:
        delivery = _TF_DELIVERIES.get(v.rtype)
        key = v.attr(delivery[0]) if delivery is not None else None
        if delivery is None or key is None or (isinstance(key, Known) and key.value in (None, "")):
            continue
        key_attr, name_attr, kind = delivery
        use = KeyUse(name=builder._name(v), rtype=v.rtype, syntax=TF, loc=v.header, kind=kind, key_attr=key_attr)
        if names is None:
            names = alias_names(builder.project.aliases)
        use.key, use.key_loc = key, v.attr_loc(key_attr)
        use.key_resource = builder._key_ref(v, v.refs(key_attr))[0] or by_alias_name(key, names)
        key_resource = use.key_resource or _tf_conditional_key(builder, v, key)
        su = ServiceUse(use, key_resource, region=region, account=account)
        su.key = _tf_key_instance(builder, v, key_attr)
        su.aws_name = _text(v.attr(name_attr)) if name_attr is not None else None
        if kind == "config":
            su.service_linked = _tf_service_linked(recorders, ref_name)
        out.append(su)
    return out


def _tf_key_instance(builder: Builder, v: ResourceView, attr: str) -> KeyResource | None:
    """The instance of the key an argument names, where the configuration says which."""
    name, index = builder._key_ref(v, v.refs(attr))
    return builder.keys.pick(name, v.module_instance, index) if name is not None else None


def _tf_conditional_key(builder: Builder, v: ResourceView, key: Value | None) -> str | None:
    """The one key of the configuration every side of a conditional names (None: another or none)."""
    if not isinstance(key, Conditional):
        return None
    found = {builder._key_ref(v, [ref])[0] for ref in walk_refs(key)}
    return found.pop() if len(found) == 1 else None


def _tf_refs(args: Arguments, name: str, ref_name: Callable[[str], str | None]) -> list[tuple[str, str | None]]:
    """The resources an argument names, from the root (a list's items too, in ``.tf``), each
    with the attribute it reads (None: a bare reference, as the plan lists them)."""
    out: list[tuple[str, str | None]] = []
    for ref in dict.fromkeys([*args.refs(name), *walk_refs(args.attr(name))]):
        address = ref_name(ref)
        if address is None:
            continue
        rest = _INDEX.sub("", ref)[len(address) :].lstrip(".")
        out.append((address, rest.split(".")[0] if rest else None))
    return out


class _Terraform:
    """The senders of a Terraform configuration."""

    def __init__(self, builder: Builder, ref_name: Callable[[str], str | None]) -> None:
        self.builder = builder
        self.ref_name = ref_name

    def refs(self, args: Arguments, name: str) -> list[tuple[str, str | None]]:
        return _tf_refs(args, name, self.ref_name)

    def name_of(self, args: Arguments, attr: str, rtype: str, name_attr: str) -> str | None:
        """A resource's name in AWS, written out or read from the resource ``attr`` refers to."""
        text = _text(args.attr(attr))
        if text is not None:
            return text
        for address, _attr in self.refs(args, attr):
            v = self.builder.by_address.get(address)
            if v is not None and v.rtype == rtype:
                return _text(v.attr(name_attr))
        return None

    def senders(self, v: ResourceView, receivers: _Receivers) -> None:
        _tf_senders(self, v, receivers)


def _tf_senders(tf: _Terraform, v: ResourceView, receivers: _Receivers) -> None:
    builder = tf.builder
    name = builder._name(v)
    t = v.rtype
    if t == "aws_s3_bucket_notification":
        bucket = tf.name_of(v, "bucket", "aws_s3_bucket", "bucket")
        for block_name, attr in (("queue", "queue_arn"), ("topic", "topic_arn")):
            for block in v.nested(block_name) or []:
                found = receivers.named(tf.refs(block, attr), block.attr(attr), v.module_instance)
                _send(found, Sender(name, t, block.attr_loc(attr) or v.header, bucket))
    elif t == "aws_cloudwatch_event_target":
        rule = tf.name_of(v, "rule", "aws_cloudwatch_event_rule", "name")
        rule = _rule_name(rule, v.attr("event_bus_name"))
        found = receivers.named(tf.refs(v, "arn"), v.attr("arn"), v.module_instance)
        _send(found, Sender(name, t, v.attr_loc("arn") or v.header, rule))
    elif t in ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm"):
        alarm = _text(v.attr("alarm_name"))
        for attr in ("alarm_actions", "ok_actions", "insufficient_data_actions"):
            found = receivers.named(tf.refs(v, attr), v.attr(attr), v.module_instance)
            _send(found, Sender(name, t, v.attr_loc(attr) or v.header, alarm))
    elif t == "aws_sns_topic_subscription":
        if (_text(v.attr("protocol")) or "").lower() != "sqs":
            return
        topic = tf.name_of(v, "topic_arn", "aws_sns_topic", "name")
        if topic is None:
            found_arn = arn_name(_text(v.attr("topic_arn")) or "")
            topic = found_arn[1] if found_arn is not None and found_arn[0] == "sns" else None
        found = receivers.named(tf.refs(v, "endpoint"), v.attr("endpoint"), v.module_instance)
        _send(found, Sender(name, t, v.attr_loc("endpoint") or v.header, topic))
    elif t == "aws_flow_log":
        if (_text(v.attr("log_destination_type")) or "").lower() != "s3":
            return
        found = receivers.named(tf.refs(v, "log_destination"), v.attr("log_destination"), v.module_instance)
        _send(found, Sender(name, t, v.attr_loc("log_destination") or v.header, None))


def _rule_name(rule: str | None, bus: Value | None) -> str | None:
    """A rule's name as its ARN carries it: ``<bus>/<rule>`` on a bus other than the default."""
    if rule is None or bus is None:
        return rule
    name = _text(bus)
    if name == "default":
        return rule
    return f"{name}/{rule}" if name is not None and not name.startswith("arn:") and "/" not in name else None


def _tf_service_linked(recorders: list[ResourceView], ref_name: Callable[[str], str | None]) -> bool | None:
    """Do the configuration's recorders use AWS Config's service-linked role?  None: not told."""
    answers: set[bool | None] = set()
    for r in recorders:
        types = {address.split(".")[-2] for address, _attr in _tf_refs(r, "role_arn", ref_name)}
        text = known_str(r.attr("role_arn"))
        if text is not None:
            answers.add(_CONFIG_SLR in text)
        elif "aws_iam_service_linked_role" in types:
            answers.add(True)
        elif "aws_iam_role" in types:
            answers.add(False)
        else:
            answers.add(None)
    return answers.pop() if len(answers) == 1 else None


# --------------------------------------------------------------------------- CloudFormation


CFN_SENDER_TYPES = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::Events::Rule",
        "AWS::CloudWatch::Alarm",
        "AWS::SNS::Subscription",
        "AWS::SNS::Topic",
        "AWS::EC2::FlowLog",
    }
)


def cloudformation_service_uses(
    reader: _Reader, resources: list[_Resource], key_uses: list[KeyUse], aliases: list[Alias]
) -> list[ServiceUse]:
    """The service uses of a template (its resources that exist), as for Terraform."""
    from kmslint.parsers.key_uses import alias_names

    by_name = {r.name: r for r in resources}
    receivers = _Receivers()
    out: list[ServiceUse] = []
    for use in key_uses:
        r = by_name.get(use.name)
        if r is None or not needs_statement(use.rtype):
            continue
        su = ServiceUse(use, use.key_resource)
        attr = _CFN_NAMES.get(use.rtype) or ("BucketName" if use.rtype == "AWS::S3::Bucket" else None)
        name = _cfn_text(reader, r, attr)
        if use.rtype in _CFN_NAMES:
            su.aws_name = name
        out.append(su)
        receivers.add(r.name, su, _SERVICE.get(use.rtype), name)
    names: dict[str, str] | None = None
    for r in resources:
        delivery = _CFN_DELIVERIES.get(r.type)
        if delivery is None:
            continue
        key_attr, name_attr, kind = delivery
        found = reader._prop(r, key_attr)
        if found is None:
            continue
        if names is None:
            names = {**alias_names(aliases), **{a.name: a.target for a in aliases if a.target}}
        use = KeyUse(name=r.name, rtype=r.type, syntax=CFN, loc=r.entry.key_loc, kind=kind, key_attr=key_attr)
        use.key, use.key_loc = found
        keys, _understood = reader._key_refs(use.key, names)
        use.key_resource = next(iter(keys)) if len(keys) == 1 else None
        su = ServiceUse(use, use.key_resource)
        su.aws_name = _cfn_text(reader, r, name_attr)
        if kind == "config":
            su.service_linked = _cfn_service_linked(reader, resources)
        out.append(su)
    if not out:
        return out
    for r in resources:
        if r.type in CFN_SENDER_TYPES:
            _cfn_senders(reader, r, receivers)
    return out


def _cfn_text(reader: _Reader, r: _Resource, name: str | None) -> str | None:
    if name is None:
        return None
    found = reader._prop(r, name)
    return _text(found[0]) if found is not None else None


def _cfn_named(value: Value | None) -> list[str]:
    """The logical IDs a value refers to (``!Ref X``, ``!GetAtt X.Arn``, ``${X.Arn}``)."""
    return list(dict.fromkeys(ref.partition(".")[0] for ref in walk_refs(value)))


def _cfn_refs(value: Value | None) -> list[tuple[str, str | None]]:
    """The logical IDs a value refers to, each with the attribute read ("" for ``Ref``)."""
    return list(dict.fromkeys((name, attr) for name, _, attr in (ref.partition(".") for ref in walk_refs(value))))


def _items(value: Value | None) -> list[Value]:
    if isinstance(value, Known) and isinstance(value.value, list):
        return list(value.value)
    return []


def _member(value: Value | None, name: str) -> Value | None:
    if isinstance(value, Known) and isinstance(value.value, dict):
        return value.value.get(name)
    return None


def _cfn_senders(reader: _Reader, r: _Resource, receivers: _Receivers) -> None:
    t = r.type

    def send(value: Value | None, loc: Location | None, aws_name: str | None) -> None:
        found = receivers.named(_cfn_refs(value), value)
        _send(found, Sender(r.name, t, loc or (value.loc if value is not None else None) or r.entry.key_loc, aws_name))

    if t == "AWS::S3::Bucket":
        notes = reader._prop(r, "NotificationConfiguration")
        if notes is None:
            return
        bucket = _cfn_text(reader, r, "BucketName")
        for section, attr in (("QueueConfigurations", "Queue"), ("TopicConfigurations", "Topic")):
            for item in _items(_member(notes[0], section)):
                target = _member(item, attr)
                send(target, target.loc if target is not None else None, bucket)
    elif t == "AWS::Events::Rule":
        targets = reader._prop(r, "Targets")
        if targets is None:
            return
        bus = reader._prop(r, "EventBusName")
        rule = _rule_name(_cfn_text(reader, r, "Name"), bus[0] if bus is not None else None)
        for item in _items(targets[0]):
            target = _member(item, "Arn")
            send(target, target.loc if target is not None else None, rule)
    elif t == "AWS::CloudWatch::Alarm":
        alarm = _cfn_text(reader, r, "AlarmName")
        for attr in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            found = reader._prop(r, attr)
            if found is not None:
                send(found[0], found[1], alarm)
    elif t == "AWS::SNS::Subscription":
        if (_cfn_text(reader, r, "Protocol") or "").lower() != "sqs":
            return
        topic_arn = reader._prop(r, "TopicArn")
        topic = None
        if topic_arn is not None:
            for logical in _cfn_named(topic_arn[0]):
                other = reader.resources.get(logical)
                if other is not None and other.type == "AWS::SNS::Topic":
                    topic = _cfn_text(reader, other, "TopicName")
        written = reader._prop(r, "Endpoint")
        if written is not None:
            send(written[0], written[1], topic)
    elif t == "AWS::SNS::Topic":
        subs = reader._prop(r, "Subscription")
        if subs is None:
            return
        topic = _cfn_text(reader, r, "TopicName")
        for item in _items(subs[0]):
            if (_text(_member(item, "Protocol")) or "").lower() != "sqs":
                continue
            endpoint = _member(item, "Endpoint")
            send(endpoint, endpoint.loc if endpoint is not None else None, topic)
    elif t == "AWS::EC2::FlowLog":
        if (_cfn_text(reader, r, "LogDestinationType") or "").lower() != "s3":
            return
        found = reader._prop(r, "LogDestination")
        if found is not None:
            send(found[0], found[1], None)


def _cfn_service_linked(reader: _Reader, resources: list[_Resource]) -> bool | None:
    answers: set[bool | None] = set()
    for r in resources:
        if r.type != "AWS::Config::ConfigurationRecorder":
            continue
        found = reader._prop(r, "RoleARN")
        value = found[0] if found is not None else None
        text = known_str(value)
        named = [reader.types.get(n) for n in _cfn_named(value)]
        if text is not None:
            answers.add(_CONFIG_SLR in text)
        elif "AWS::IAM::ServiceLinkedRole" in named or (
            isinstance(value, Interpolated) and _CONFIG_SLR in value.literal_text("")
        ):
            answers.add(True)
        elif "AWS::IAM::Role" in named:
            answers.add(False)
        else:
            answers.add(None)
    return answers.pop() if len(answers) == 1 else None


__all__ = ["cloudformation_service_uses", "needs_statement", "terraform_service_uses"]
