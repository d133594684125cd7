"""One Terraform model, whatever the Terraform was read from.

``.tf`` files (:mod:`kmslint.parsers.terraform`) and plan JSON
(:mod:`kmslint.parsers.terraform_plan`) each describe their resources as
*resource views*: one view per resource instance, which answers what an argument
is set to, where it is written, and which resources it refers to.  This module
turns views into the model (keys, key policies, aliases, grants, identity
policies, multi-Region uses) in one way, so that the same configuration gives
the same findings in both forms (RULES.md, "Where a finding is reported").

What stays with each format is only how it knows a value: ``.tf`` evaluates
expressions, the plan reads ``planned_values``, ``configuration`` (an argument
absent from it is a provider default) and ``after_unknown``.
"""

from __future__ import annotations

import re

from kmslint.model import (
    Alias,
    Conditional,
    Grant,
    IdentityPolicy,
    InstanceName,
    Interpolated,
    KeyKind,
    KeyPolicy,
    KeyResource,
    Known,
    Location,
    MultiRegionUse,
    Project,
    Unknown,
    UsageKind,
    Value,
    known_str,
)
from kmslint.policy.keyspec import IMPORTED_KINDS, IMPORTED_ORIGIN

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:  # the views' interface is for the type checker: nothing to build at run time
    from typing import Protocol

    class Arguments(Protocol):
        """The arguments of a resource instance or of one of its nested blocks."""

        def attr(self, name: str) -> Value | None:
            """The argument's value, located where it is written; None when it is not set."""

        def attr_loc(self, name: str) -> Location | None:
            """Where the argument is written; None when it is not set."""

        def refs(self, name: str) -> list[str]:
            """The resources the argument refers to, from the root module, with the instance index
            its module's text writes (``module.a.aws_kms_key.k["x"].arn``)."""

        def literal(self, name: str) -> bool:
            """Is the argument a known string that refers to nothing (a key ID written out)?"""

        def nested(self, name: str) -> list[Arguments] | None:
            """Its nested blocks of one type, in order; None when ``dynamic`` blocks over a
            collection not known statically may stand for any number of them."""

    class ResourceView(Arguments, Protocol):
        """One instance of one resource, as a format knows it."""

        @property
        def address(self) -> str:
            """Module path and ``TYPE.NAME``, without indexes (``module.a.aws_kms_key.k``)."""

        @property
        def module(self) -> str:
            """The module path the resource is declared in (``module.a``), "" at the root."""

        @property
        def rtype(self) -> str: ...

        @property
        def header(self) -> Location:
            """Where the resource (instance) is declared."""

        @property
        def index(self) -> str:
            """Its ``count``/``for_each`` index as an address writes it (``["a"]``, ``[0]``), "" for none."""

        @property
        def module_instance(self) -> str:
            """The module instance it is declared in, with indexes (``module.a["x"]``); ``module`` when
            its module calls have no ``count``/``for_each``."""

        @property
        def body(self) -> Location | None:
            """Its block from ``{`` to ``}`` as written in HCL; None where it is not (plan, ``.tf.json``)."""

        def blocks(self, name: str) -> list[Arguments]:
            """Its nested blocks of one type, in order."""

        def tags(self) -> tuple[Value | None, Location | None]:
            """Its tags with the provider's ``default_tags`` under them (None: none), and where they are
            written (None: only the provider's defaults, which are nowhere in the resource)."""


KEY_TYPES: dict[str, KeyKind] = {
    "aws_kms_key": KeyKind.KEY,
    "aws_kms_external_key": KeyKind.EXTERNAL,
    "aws_kms_replica_key": KeyKind.REPLICA,
    "aws_kms_replica_external_key": KeyKind.REPLICA_EXTERNAL,
}

# Terraform argument -> model field, in order of preference.
KEY_ATTRS: tuple[tuple[str, str], ...] = (
    ("customer_master_key_spec", "key_spec"),
    ("key_spec", "key_spec"),
    ("key_usage", "key_usage"),
    ("custom_key_store_id", "custom_key_store"),
    ("enable_key_rotation", "rotation"),
    ("rotation_period_in_days", "rotation_period"),
    ("multi_region", "multi_region"),
    ("deletion_window_in_days", "deletion_window"),
    ("bypass_policy_lockout_safety_check", "bypass_lockout_check"),
    ("is_enabled", "enabled"),
    ("enabled", "enabled"),
)

# The resources that say which identities a policy is for (kmslint.parsers.iam_identities.TYPES).
IAM_ATTACHING = frozenset(
    {
        *("aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy", "aws_iam_policy_attachment"),
        *("aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment"),
    }
)

IDENTITY_POLICY_TYPES = frozenset(
    {"aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"}
)

OTHER_MODELLED = frozenset(
    {
        "aws_cloudtrail",
        "aws_kms_key_policy",
        "aws_kms_alias",
        "aws_kms_grant",
        "aws_dynamodb_table",
        "aws_dynamodb_table_replica",
        "aws_rds_cluster",
        "aws_rds_global_cluster",
    }
)

# Resources whose settings are written with their values (kmslint.parsers.tf_settings): KMS024.
SETTING_TYPES = frozenset({"aws_lambda_function", "aws_ecs_task_definition", "aws_ssm_parameter"})

# The data stores of kmslint.policy.datastores, and the account's EBS encryption by default.
KEY_USE_TYPES = frozenset(
    {
        *("aws_s3_bucket", "aws_s3_bucket_server_side_encryption_configuration", "aws_dynamodb_table"),
        *("aws_db_instance", "aws_rds_cluster", "aws_ebs_volume", "aws_instance", "aws_launch_template"),
        *("aws_launch_configuration", "aws_efs_file_system", "aws_sqs_queue", "aws_sns_topic"),
        *("aws_kinesis_stream", "aws_secretsmanager_secret", "aws_ssm_parameter", "aws_cloudwatch_log_group"),
        *("aws_lambda_function", "aws_ecr_repository", "aws_backup_vault", "aws_elasticache_replication_group"),
        *("aws_redshift_cluster", "aws_opensearch_domain", "aws_elasticsearch_domain", "aws_eks_cluster"),
        "aws_ebs_encryption_by_default",
        "aws_ebs_default_kms_key",
    }
)

# What KMS020 reads beyond the data stores (kmslint.parsers.service_uses): deliveries that name a
# key, and the resources that make a service send to a topic, a queue or a bucket.
SERVICE_USE_TYPES = frozenset(
    {
        *("aws_cloudtrail_event_data_store", "aws_config_delivery_channel", "aws_config_configuration_recorder"),
        *("aws_s3_bucket_notification", "aws_cloudwatch_event_target", "aws_cloudwatch_event_rule"),
        *("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm", "aws_sns_topic_subscription"),
        "aws_flow_log",
    }
)

# Where a service may use a key of the configuration (KMS020): no need to look otherwise.
SERVICE_READ = KEY_USE_TYPES | SERVICE_USE_TYPES | {"aws_cloudtrail"}

# The resource types the model reads: the formats make views of these only.
MODELLED_TYPES = frozenset(
    {
        *(*KEY_TYPES, *OTHER_MODELLED, *IDENTITY_POLICY_TYPES, "aws_iam_role", *SETTING_TYPES, *KEY_USE_TYPES),
        *SERVICE_USE_TYPES,
        *IAM_ATTACHING,
    }
)

# An unquoted index is a number: it never holds a bracket or a quote, which keeps the scan
# linear on an address of many "[" (`[^\]]*` rescanned the rest from each one).  Compiled
# on first use: most configurations have no index to read, and a one-file lint is ~50 ms.
_INDEX_PATTERN = r'\[(?:"(?:[^"\\]|\\.)*"|[^\[\]"]*)\]'


def _index_re() -> re.Pattern[str]:
    return re.compile(_INDEX_PATTERN)  # re caches compiled patterns


def strip_indexes(address: str) -> str:
    """``module.a[0].aws_kms_key.k["x"]`` -> ``module.a.aws_kms_key.k``."""
    return _index_re().sub("", address) if "[" in address else address


def split_ref(ref: str) -> tuple[str, str, str] | None:
    """``(module path, type, name)`` of a reference to a resource (indexes left out):
    ``module.a.module.b.aws_kms_key.x.arn`` -> ``("module.a.module.b", "aws_kms_key", "x")``."""
    parts = strip_indexes(ref).split(".")
    i = 0
    while i + 2 < len(parts) and parts[i] == "module":
        i += 2
    if len(parts) - i < 2:
        return None
    return ".".join(parts[:i]), parts[i], parts[i + 1]


def ref_name(ref: str) -> str | None:
    """The resource a reference names, with its module path: ``module.a.aws_kms_key.x``."""
    split = split_ref(ref)
    if split is None:
        return None
    path, rtype, rname = split
    return f"{path}.{rtype}.{rname}" if path else f"{rtype}.{rname}"


def _index_of(ref: str) -> str:
    """The index a reference names its resource's instance by: ``aws_kms_key.k["a"].arn`` -> ``["a"]``."""
    name = ref_name(ref)
    if name is None or not ref.startswith(name) or not ref[len(name) :].startswith("["):
        return ""
    m = _index_re().match(ref, len(name))
    return m.group(0) if m else ""


def absent(value: Value | None) -> bool:
    """Is an argument's value one the AWS provider treats as not set: ``null``, or a known
    ``""`` (RULES.md, "Absent versus empty": ``policy = var.policy`` with ``default = ""``
    leaves the key on the default policy, which is KMS001, not an invalid policy)."""
    return value is None or (isinstance(value, Known) and (value.value is None or value.value == ""))


def absent_sides(value: Value | None) -> Value | None:
    """``value`` with each conditional side the provider treats as not set made absent (None), as
    CloudFormation's ``AWS::NoValue`` is: ``policy = var.custom ? data.x.json : null`` has no
    policy when ``var.custom`` is false (KMS001), not a policy that is not a JSON object."""
    if value.__class__ is not Conditional:  # as good as isinstance here, and cheaper on every argument
        return value
    assert isinstance(value, Conditional)
    then = None if absent(value.then) else absent_sides(value.then)
    otherwise = None if absent(value.otherwise) else absent_sides(value.otherwise)
    if then is None and otherwise is None:
        return None  # absent on every branch
    if then is value.then and otherwise is value.otherwise:
        return value
    return Conditional(value.condition, then, otherwise, value.loc, value.space, value.decides)


def value_refs(value: Value | None) -> list[str]:
    """The references an evaluated value was written as (``aws_kms_key.k.arn``, ``"${aws_kms_key.k.id}"``)."""
    if isinstance(value, Unknown) and value.ref:
        return [value.ref]
    if isinstance(value, Interpolated):
        return [p.ref for p in value.parts if isinstance(p, Unknown) and p.ref]
    return []


class _Keys:
    """Key instances by name, to link a reference (with or without an index) to one."""

    def __init__(self) -> None:
        self.by_name: dict[str, list[KeyResource]] = {}
        self.by_instance: dict[tuple[str, str, str], KeyResource] = {}
        self.by_module_instance: dict[tuple[str, str], list[KeyResource]] = {}

    def add(self, key: KeyResource, v: ResourceView) -> None:
        self.by_name.setdefault(key.name, []).append(key)
        self.by_instance.setdefault((key.name, v.module_instance, v.index), key)
        self.by_module_instance.setdefault((key.name, v.module_instance), []).append(key)

    def pick(self, name: str | None, module_instance: str, index: str) -> KeyResource | None:
        """The instance a reference means: the one of that module instance and index; else the
        only one of that module instance (``aws_kms_key.this.id`` from a resource with its own
        ``count``, in one instance of a module called with ``for_each``); else the first of
        that name (a reference that does not say which)."""
        found = self.by_name.get(name) if name else None
        if not found:
            return None
        assert name is not None
        exact = self.by_instance.get((name, module_instance, index))
        if exact is not None:
            return exact
        local = self.by_module_instance.get((name, module_instance), [])
        return local[0] if len(local) == 1 else found[0]


class Builder:
    """The model of one Terraform configuration (plan or ``.tf``), from its resource views."""

    def __init__(
        self, project: Project, views: list[ResourceView], account: Value | None, region: Value | None = None
    ) -> None:
        self.project = project
        self.views = views
        self.account = account
        self.region = region  # the one Region the configuration's aws providers state (KMS020)
        self.keys = _Keys()
        self.alias_targets: dict[str, str | None] = {}
        self.by_address: dict[str, ResourceView] = {}
        self._alone: set[str] = set()  # addresses with a single instance: nothing to tell apart
        self._one_here: set[tuple[str, str]] = set()  # (address, module instance) with one instance there
        self._uses: set[MultiRegionUse] = set()  # those in project.multi_region_uses, to add each once

    def build(self) -> None:
        project = self.project
        instances: dict[str, int] = {}
        here: dict[tuple[str, str], int] = {}
        for v in self.views:
            self.by_address.setdefault(v.address, v)
            instances[v.address] = instances.get(v.address, 0) + 1
            here[v.address, v.module_instance] = here.get((v.address, v.module_instance), 0) + 1
        self._alone = {address for address, n in instances.items() if n == 1}
        self._one_here = {place for place, n in here.items() if n == 1}
        replicas: list[tuple[ResourceView, KeyResource]] = []
        for v in self.views:
            if v.rtype in KEY_TYPES:
                key = self._key(v)
                self.keys.add(key, v)
                project.keys.append(key)
                if key.is_replica:
                    replicas.append((v, key))
        for v in self.views:
            if v.rtype == "aws_kms_alias":
                project.aliases.append(self._alias(v))
        for v, key in replicas:  # every key is known by now, aliases too
            key.primary = self._key_ref(v, v.refs("primary_key_arn"))[0]
        for v in self.views:
            self._other(v)
        if any(v.rtype in SETTING_TYPES for v in self.views):
            from kmslint.parsers.tf_settings import plain_settings

            project.plain_settings = plain_settings(self.views, self._name)
        if any(v.rtype in KEY_USE_TYPES for v in self.views):
            from kmslint.parsers.key_uses import terraform_uses

            project.key_uses.extend(terraform_uses(self, self.views))
        if project.keys and project.identity_policies and any(v.rtype in IAM_ATTACHING for v in self.views):
            from kmslint.parsers.iam_identities import terraform_identities  # the access report's

            terraform_identities(self.views, project, split_ref)
        if project.keys and any(v.rtype in SERVICE_READ for v in self.views):  # KMS020
            from kmslint.parsers.service_uses import terraform_service_uses

            project.service_uses = terraform_service_uses(self, self.views, ref_name)
        counted = {
            v.address
            for v in self.views
            if v.rtype in KEY_TYPES
            or v.rtype in OTHER_MODELLED
            or v.rtype in IDENTITY_POLICY_TYPES
            or (v.rtype == "aws_iam_role" and v.blocks("inline_policy"))
        } | {str(s.resource) for s in project.plain_settings}
        project.resource_count = len(counted)
        project.has_instances = any(v.index or v.module_instance != v.module for v in self.views)

    def _other(self, v: ResourceView) -> None:
        t = v.rtype
        if t == "aws_kms_key_policy":
            self._key_policy(v)
        elif t == "aws_kms_grant":
            self._grant(v)
        elif t in IDENTITY_POLICY_TYPES:
            doc = v.attr("policy")
            if doc is not None:
                self.project.identity_policies.append(
                    IdentityPolicy(self._name(v), doc, v.attr_loc("policy") or v.header)
                )
        elif t == "aws_iam_role":
            for blk in v.blocks("inline_policy"):
                doc = blk.attr("policy")
                if not absent(doc):
                    assert doc is not None
                    self.project.identity_policies.append(
                        IdentityPolicy(self._name(v), doc, blk.attr_loc("policy") or v.header, own=True)
                    )
        elif t == "aws_cloudtrail":
            from kmslint.parsers.trails import tf_trail  # only a configuration with a trail pays

            self.project.trails.append(tf_trail(v, self._name(v), lambda x: None if absent(x) else absent_sides(x)))
        elif t == "aws_dynamodb_table":
            self._dynamodb(v)
        elif t == "aws_dynamodb_table_replica":
            self._use(v, v.refs("kms_key_arn"), UsageKind.GLOBAL_TABLE)
            table = self._resource_ref(v.refs("global_table_arn"), "aws_dynamodb_table")
            if table is not None:
                self._use(v, self._table_key_refs(table), UsageKind.GLOBAL_TABLE)
        elif t == "aws_rds_cluster":
            gid = v.attr("global_cluster_identifier")
            if not absent(gid) or v.refs("global_cluster_identifier"):
                self._use(v, v.refs("kms_key_id"), UsageKind.GLOBAL_CLUSTER)
        elif t == "aws_rds_global_cluster":
            cluster = self._resource_ref(v.refs("source_db_cluster_identifier"), "aws_rds_cluster")
            if cluster is not None:
                self._use(v, cluster.refs("kms_key_id"), UsageKind.GLOBAL_CLUSTER)

    # ------------------------------------------------------------------ references

    def _name(self, v: ResourceView) -> str:
        """The resource's name in findings: its address, carrying which instance it is when there
        are several or a for_each key says something: its index; inside an instance of a module
        called with count/for_each, that module instance, with the resource's own index when
        that tells something too.  The one instance of ``count = var.create ? 1 : 0`` (in its
        module instance) is not named: "for count.index 0" says nothing."""
        index = v.index
        if index == "[0]" and (v.address, v.module_instance) in self._one_here:
            index = ""
        if v.address in self._alone and '["' not in index and '["' not in v.module_instance:
            return v.address
        if v.module_instance == v.module:
            return InstanceName(v.address, index)
        if not index:  # the module instance says which: module.kms["x"]
            return InstanceName(v.address, v.module_instance)
        return InstanceName(v.address, f"{v.module_instance}.{v.address[len(v.module) + 1 :]}{index}")

    def _key_ref(self, v: ResourceView, refs: list[str]) -> tuple[str | None, str]:
        """The key resource (name, instance index) the references name, directly or through an
        alias (in any module: a module's output that is its key's ARN names that key)."""
        names = self.keys.by_name
        for ref in refs:
            name = ref_name(ref)
            if name is None:
                continue
            if name in names:
                return name, _index_of(ref) or v.index
            if name in self.alias_targets:
                return self.alias_targets[name], ""
        return None, ""

    def _resource_ref(self, refs: list[str], rtype: str) -> ResourceView | None:
        for ref in refs:
            split = split_ref(ref)
            if split is not None and split[1] == rtype:
                return self.by_address.get(ref_name(ref) or "")
        return None

    # ------------------------------------------------------------------ keys

    def _key(self, v: ResourceView) -> KeyResource:
        key = KeyResource(name=self._name(v), kind=KEY_TYPES[v.rtype], loc=v.header)
        key.account = self.account
        key.body = key.definition = v.body
        if key.body is not None:
            key.written = frozenset(name for name in (*dict(KEY_ATTRS), "tags") if v.attr_loc(name) is not None)
        for tf_name, field_name in KEY_ATTRS:
            if field_name in key.attr_locs:
                continue
            value = absent_sides(v.attr(tf_name))
            if value is None or absent(value):
                continue
            setattr(key, field_name, value)
            key.attr_locs[field_name] = v.attr_loc(tf_name) or v.header
        key.tags, tags_loc = v.tags()
        if tags_loc is not None:
            key.attr_locs["tags"] = tags_loc
        if key.kind in IMPORTED_KINDS:
            key.origin = Known(IMPORTED_ORIGIN, v.header)
        doc = absent_sides(v.attr("policy"))
        if not absent(doc):
            assert doc is not None
            loc = v.attr_loc("policy") or v.header
            key.policy = KeyPolicy(doc, loc, key.name, key)
            key.attr_locs["policy"] = loc
        return key

    def _alias(self, v: ResourceView) -> Alias:
        alias = Alias(self._name(v), None, None, v.header)
        name = v.attr("name")
        if name is not None:
            alias.alias_name = name
            alias.attr_locs["alias_name"] = v.attr_loc("name") or v.header
        else:
            prefix = v.attr("name_prefix")
            if prefix is not None:
                loc = v.attr_loc("name_prefix") or v.header
                text = known_str(prefix)
                # Terraform adds a generated suffix: the name starts with the prefix, no more is known.
                alias.alias_name = Interpolated((text, Unknown("generated suffix", loc)), loc) if text else prefix
                alias.attr_locs["alias_name"] = loc
        alias.target = self._key_ref(v, v.refs("target_key_id"))[0]
        if alias.target is None and v.literal("target_key_id"):
            alias.targets = frozenset()  # a key ID written out: none of the keys declared here
        target_loc = v.attr_loc("target_key_id")
        if target_loc is not None:
            alias.attr_locs["target"] = target_loc
        self.alias_targets.setdefault(v.address, alias.target)
        return alias

    def _key_policy(self, v: ResourceView) -> None:
        name, index = self._key_ref(v, v.refs("key_id"))
        key = self.keys.pick(name, v.module_instance, index)
        doc = v.attr("policy")
        loc = v.attr_loc("policy") or v.header
        if doc is None or (isinstance(doc, Known) and doc.value is None):
            doc = Unknown("the policy is not set", loc)
        kp = KeyPolicy(doc, loc, self._name(v), key)
        kp.bypass_lockout_check = v.attr("bypass_policy_lockout_safety_check")
        kp.bypass_loc = v.attr_loc("bypass_policy_lockout_safety_check")
        if key is not None and key.policy is None:
            key.policy = kp
        else:
            self.project.standalone_policies.append(kp)

    def _grant(self, v: ResourceView) -> None:
        grant = Grant(self._name(v), None, None, v.header)
        grantee = v.attr("grantee_principal")
        if grantee is not None:
            grant.grantee = grantee
            grant.attr_locs["grantee"] = v.attr_loc("grantee_principal") or v.header
        grant.key = self._key_ref(v, v.refs("key_id"))[0]
        grant.operations = v.attr("operations")
        names = ("encryption_context_equals", "encryption_context_subset")
        grant.constraints = tuple(n for n in names if any(c.attr(n) is not None for c in v.blocks("constraints")))
        key_loc = v.attr_loc("key_id")
        if key_loc is not None:
            grant.attr_locs["key"] = key_loc
        self.project.grants.append(grant)

    # ------------------------------------------------------------------ multi-Region use

    def _use(self, v: ResourceView, refs: list[str], kind: UsageKind) -> None:
        key = self._key_ref(v, refs)[0]
        if key is not None:
            use = MultiRegionUse(key, v.address, kind)
            if use not in self._uses:
                self._uses.add(use)
                self.project.multi_region_uses.append(use)

    @staticmethod
    def _table_key_refs(v: ResourceView) -> list[str]:
        for sse in v.blocks("server_side_encryption"):
            return sse.refs("kms_key_arn")
        return []

    def _dynamodb(self, v: ResourceView) -> None:
        replicas = v.blocks("replica")
        if not replicas:
            return
        self._use(v, self._table_key_refs(v), UsageKind.GLOBAL_TABLE)
        for r in replicas:
            self._use(v, r.refs("kms_key_arn"), UsageKind.GLOBAL_TABLE)
