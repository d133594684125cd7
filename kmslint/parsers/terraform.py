"""Terraform configurations (``.tf`` and ``.tf.json``) into the model.

A directory is one configuration: every file of it is parsed, then
references resolve across files (a key in ``main.tf`` whose policy is a data
source in ``policies.tf``).  Values are evaluated by
:mod:`kmslint.parsers.hcl_eval`; what cannot be known stays ``Unknown``.
"""

from __future__ import annotations

from pathlib import Path

from kmslint.model import (
    Alias,
    Conditional,
    Grant,
    IdentityPolicy,
    Interpolated,
    KeyKind,
    KeyPolicy,
    KeyResource,
    Known,
    Location,
    MultiRegionUse,
    ParseError,
    Project,
    ProjectKind,
    Unknown,
    UsageKind,
    Value,
    known_str,
)
from kmslint.parsers.common import Budget, BudgetExceeded, ParseFailure, ParseOptions, comment_suppressions
from kmslint.parsers.hcl_eval import Config, Evaluator
from kmslint.parsers.hcl_syntax import Block, ParsedFile, Src, parse_hcl, parse_tf_json
from kmslint.record import Record, field, replace

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
    ("tags", "tags"),
)

IDENTITY_POLICY_TYPES = frozenset(
    {"aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"}
)

OTHER_MODELLED = frozenset(
    {
        "aws_kms_key_policy",
        "aws_kms_alias",
        "aws_kms_grant",
        "aws_dynamodb_table",
        "aws_dynamodb_table_replica",
        "aws_rds_cluster",
        "aws_rds_global_cluster",
    }
)


class _Resource(Record, eq=False):
    rtype: str
    rname: str
    block: Block

    @property
    def address(self) -> str:
        return f"{self.rtype}.{self.rname}"


class _Loaded(Record, eq=False):
    files: list[ParsedFile] = field(default_factory=list)
    resources: list[_Resource] = field(default_factory=list)


def read_source(path: Path, opts: ParseOptions) -> Src:
    """A file's text through :meth:`ParseOptions.read_text` (size limits, encoding, editor buffers)."""
    text = opts.read_text(path)
    return Src(opts.display(path), text.encode("utf-8", "surrogatepass"), path)


def parse_file(path: Path, opts: ParseOptions) -> ParsedFile:
    src = read_source(path, opts)
    if path.name.endswith(".json"):
        return parse_tf_json(src, opts.max_depth, opts.budget)
    return parse_hcl(src, opts.max_depth, opts.budget)


def _absent(value: Value | None) -> bool:
    """Is an argument's value one the AWS provider treats as not set: ``null``, or a known
    ``""`` (RULES.md, "Absent versus empty": ``policy = var.policy`` with ``default = ""``
    leaves the key on the default policy, which is KMS001, not an invalid policy)."""
    return value is None or (isinstance(value, Known) and (value.value is None or value.value == ""))


def _absent_sides(value: Value | None) -> Value | None:
    """``value`` with each conditional side the provider treats as not set made absent (None), as
    CloudFormation's ``AWS::NoValue`` is: ``policy = var.custom ? data.x.json : null`` has no
    policy when ``var.custom`` is false (KMS001), not a policy that is not a JSON object."""
    if value.__class__ is not Conditional:  # as good as isinstance here, and cheaper on every argument
        return value
    assert isinstance(value, Conditional)
    then = None if _absent(value.then) else _absent_sides(value.then)
    otherwise = None if _absent(value.otherwise) else _absent_sides(value.otherwise)
    if then is None and otherwise is None:
        return None  # absent on every branch
    if then is value.then and otherwise is value.otherwise:
        return value
    return Conditional(value.condition, then, otherwise, value.loc, value.space, value.decides)


def parse_directory(directory: Path, files: list[Path], opts: ParseOptions) -> Project:
    """One Terraform configuration: every ``.tf``/``.tf.json`` file of ``directory``.

    Parsing and evaluating spend from ``opts.budget`` (one of its own when
    there is none).  When it runs out, the project keeps what was built and an
    error (KMS000) at the place evaluation gave up; the budget goes on to the
    checks with the project, exhausted.
    """
    if opts.budget is None:
        opts = replace(opts, budget=Budget())
    assert opts.budget is not None
    own = [opts.display(f) for f in files]
    project = Project(kind=ProjectKind.TERRAFORM, root=str(directory), files=list(own), budget=opts.budget)
    loaded = _Loaded()
    config = Config(directory)
    ev = Evaluator(config, opts)
    try:
        for f in files:
            try:
                loaded.files.append(parse_file(f, opts))
            except ParseFailure as exc:
                project.errors.append(ParseError(opts.display(f), exc.line, exc.column, exc.message))
        seen: set[str] = set()
        for pf in loaded.files:
            for b in pf.blocks:
                _register(config, loaded, b, seen)
        config.var_overrides = _tfvars(directory, opts, project)
        _Builder(project, loaded, config, ev).build()
    except BudgetExceeded as exc:
        project.gave_up = too_costly(exc, own)
        project.errors.append(project.gave_up)
    for read in ev.files_read:  # what the result depends on, even when it is a KMS000
        if read not in project.files:
            project.files.append(read)
    project.files_tried.extend(ev.files_tried)  # the findings cache pins each, read or not
    project.duplicate_keys.extend(ev.duplicate_keys)  # in heredocs and files read as JSON
    _suppressions(project, loaded)
    return project


def too_costly(exc: BudgetExceeded, own: list[str]) -> ParseError:
    """The KMS000 of a configuration whose evaluation ran out of budget.

    It is reported where evaluation gave up when that is in one of the
    configuration's own files, else at the attribute whose value was being
    computed (a template read by ``templatefile()`` belongs to it), else at
    the top of the first file.
    """
    place = next((loc for loc in (exc.where, exc.root) if loc is not None and loc.file in own), None)
    inner = exc.where if exc.where is not None and exc.where is not place else None
    also = f" (in {inner.file}, line {inner.line})" if inner is not None else ""
    message = (
        f"this configuration is too costly to evaluate: kmslint gave up here{also} because {exc.why},"
        " so it is not checked; simplify the expression (nested for expressions, large shared values,"
        " templates) or lint the plan JSON (terraform show -json)"
    )
    if place is None:
        return ParseError(own[0] if own else "", 1, 1, message)
    return ParseError(place.file, place.line, place.column, message)


def _register(config: Config, loaded: _Loaded, b: Block, seen: set[str]) -> None:
    if b.type == "resource" and len(b.labels) >= 2:
        key = (b.labels[0], b.labels[1])
        if key in config.resources:
            return  # a duplicate address: the first one stands
        config.resources[key] = b
        loaded.resources.append(_Resource(b.labels[0], b.labels[1], b))
    elif b.type == "data" and len(b.labels) >= 2:
        config.data.setdefault((b.labels[0], b.labels[1]), b)
    elif b.type == "variable" and b.labels:
        config.variables.setdefault(b.labels[0], b)
    elif b.type == "locals":
        for name, attr in b.attrs.items():
            config.locals.setdefault(name, attr)


def _tfvars(directory: Path, opts: ParseOptions, project: Project) -> dict[str, Value]:
    """Variable values from ``terraform.tfvars`` and ``*.auto.tfvars`` (and their ``.json`` forms)."""
    try:
        names = sorted(p.name for p in directory.iterdir() if p.is_file())
    except OSError:
        return {}
    ordered: list[str] = [n for n in ("terraform.tfvars", "terraform.tfvars.json") if n in names]
    ordered += [n for n in names if n.endswith((".auto.tfvars", ".auto.tfvars.json"))]
    out: dict[str, Value] = {}
    ev = Evaluator(Config(directory), opts)  # spends from the configuration's budget
    for name in ordered:
        path = directory / name
        try:
            src = read_source(path, opts)
            if name.endswith(".json"):
                values = _tfvars_json(src, opts, ev)
            else:
                pf = parse_hcl(src, opts.max_depth, opts.budget)
                values = {}
                for attr_name, attr in pf.attrs.items():
                    v = ev.eval(attr.expr)
                    if v is not None:
                        values[attr_name] = v
        except ParseFailure as exc:
            project.errors.append(ParseError(opts.display(path), exc.line, exc.column, exc.message))
            continue
        out.update(values)
    project.files_tried.extend(ev.files_tried)
    return out


def _tfvars_json(src: Src, opts: ParseOptions, ev: Evaluator) -> dict[str, Value]:
    from kmslint.parsers import jsonpos

    try:
        value = jsonpos.parse(src.data.decode("utf-8"), src.display, max_depth=opts.max_depth)
    except jsonpos.JSONSyntaxError as exc:
        raise ParseFailure(f"invalid JSON: {exc.message}", exc.line, exc.column) from None
    if isinstance(value, Known) and isinstance(value.value, dict):
        return dict(value.value)
    return {}


def key_name_of(value: Value | None, names: set[str], aliases: dict[str, str | None] | None = None) -> str | None:
    """The key resource a value refers to (``aws_kms_key.k.arn``, ``"${aws_kms_key.k.id}"``)."""
    refs: list[str] = []
    if isinstance(value, Unknown) and value.ref:
        refs.append(value.ref)
    elif isinstance(value, Interpolated):
        refs.extend(p.ref for p in value.parts if isinstance(p, Unknown) and p.ref)
    for ref in refs:
        parts = ref.split(".")
        if len(parts) < 2:
            continue
        name = f"{parts[0]}.{parts[1]}"
        if name in names:
            return name
        if aliases is not None and parts[0] == "aws_kms_alias" and name in aliases:
            return aliases[name]
    return None


def _ref_resource(value: Value | None, rtype: str) -> str | None:
    refs: list[str] = []
    if isinstance(value, Unknown) and value.ref:
        refs.append(value.ref)
    elif isinstance(value, Interpolated):
        refs.extend(p.ref for p in value.parts if isinstance(p, Unknown) and p.ref)
    for ref in refs:
        parts = ref.split(".")
        if len(parts) >= 2 and parts[0] == rtype:
            return parts[1]
    return None


def _is_set(value: Value | None) -> bool:
    return value is not None and not (isinstance(value, Known) and value.value is None)


class _Builder:
    def __init__(self, project: Project, loaded: _Loaded, config: Config, ev: Evaluator) -> None:
        self.project = project
        self.loaded = loaded
        self.config = config
        self.ev = ev
        self.keys: dict[str, KeyResource] = {}
        self._aws_providers: list[tuple[str | None, Block]] | None = None
        self._uses: set[MultiRegionUse] = set()  # those in project.multi_region_uses, to add each once

    def build(self) -> None:
        project = self.project
        for pf in self.loaded.files:
            for b in pf.blocks:
                if b.type in ("resource", "data") and len(b.labels) >= 2:
                    name = f"{b.labels[0]}.{b.labels[1]}"
                    if b.type == "data":
                        name = "data." + name
                    project.resource_spans.setdefault(name, (b.loc.file, b.loc.line, b.loc.end_line))
        account = self._account()
        resources = self.loaded.resources
        for r in resources:
            if r.rtype in KEY_TYPES:
                key = self._key(r)
                key.account = account
                self._default_tags(key, r.block)
                self.keys[r.address] = key
                project.keys.append(key)
        names = set(self.keys)
        aliases: dict[str, str | None] = {}
        for r in resources:
            if r.rtype == "aws_kms_alias":
                alias = self._alias(r, names)
                aliases[r.address] = alias.target
                project.aliases.append(alias)
        self.aliases = aliases
        for key in project.keys:
            if key.is_replica and key.primary is None:
                block = self.config.resources[tuple(key.name.split(".", 1))]  # type: ignore[index]
                key.primary = key_name_of(self.ev.eval_attr(block, "primary_key_arn"), names)
        for r in resources:
            t = r.rtype
            if t == "aws_kms_key_policy":
                self._key_policy(r, names)
            elif t == "aws_kms_grant":
                self._grant(r, names)
            elif t in IDENTITY_POLICY_TYPES:
                self._identity_policy(r)
            elif t == "aws_iam_role":
                self._role_inline(r)
            elif t == "aws_dynamodb_table":
                self._dynamodb(r, names)
            elif t == "aws_dynamodb_table_replica":
                self._dynamodb_replica(r, names)
            elif t == "aws_rds_cluster":
                self._rds_cluster(r, names)
            elif t == "aws_rds_global_cluster":
                self._rds_global(r, names)
        project.resource_count = sum(
            1
            for r in resources
            if r.rtype in KEY_TYPES
            or r.rtype in OTHER_MODELLED
            or r.rtype in IDENTITY_POLICY_TYPES
            or (r.rtype == "aws_iam_role" and r.block.children("inline_policy"))
        )

    def _account(self) -> Value | None:
        """The account the configuration states (``allowed_account_ids`` of the one aws provider)."""
        found: list[Value] = []
        for pf in self.loaded.files:
            for b in pf.blocks:
                if b.type == "provider" and b.labels[:1] == ["aws"]:
                    ids = self.ev.eval_attr(b, "allowed_account_ids")
                    if isinstance(ids, Known) and isinstance(ids.value, list) and len(ids.value) == 1:
                        found.append(ids.value[0])
                    else:
                        return None
        texts = {known_str(v) for v in found}
        if len(texts) == 1 and None not in texts:
            return found[0]
        return None

    def _provider(self, block: Block) -> Block | None:
        """The ``provider "aws"`` block a resource uses (its ``provider = aws.alias``, else the default one)."""
        alias = None
        attr = block.attr("provider")
        if attr is not None:
            if attr.expr.node is not None:
                text = attr.expr.src.text(attr.expr.node).strip()
            else:
                text = known_str(self.ev.eval(attr.expr)) or ""
            head, _, alias = text.partition(".")
            if head != "aws":
                return None
        if self._aws_providers is None:  # once per directory, not once per resource
            self._aws_providers = [
                (known_str(self.ev.eval_attr(b, "alias")) or None, b)
                for pf in self.loaded.files
                for b in pf.blocks
                if b.type == "provider" and b.labels[:1] == ["aws"]
            ]
        found = None
        for b_alias, b in self._aws_providers:
            if b_alias == (alias or None):
                if found is not None:
                    return None  # duplicate provider configurations: not one answer
                found = b
        return found

    def _default_tags(self, key: KeyResource, block: Block) -> None:
        """Tags the provider's ``default_tags`` add to every resource, under the key's own."""
        provider = self._provider(block)
        if provider is None:
            return
        defaults = next(iter(provider.children("default_tags")), None)
        if defaults is None:
            return
        tags = self.ev.eval_attr(defaults, "tags")
        if tags is None:
            return
        if not (isinstance(tags, Known) and isinstance(tags.value, dict)):
            if key.tags is None:
                key.tags = tags  # unknown default tags may hold a justification
            return
        own = key.tags
        if own is None:
            key.tags = tags
        elif isinstance(own, Known) and isinstance(own.value, dict):
            key.tags = Known({**tags.value, **own.value}, own.loc)

    def _key(self, r: _Resource) -> KeyResource:
        b = r.block
        key = KeyResource(name=r.address, kind=KEY_TYPES[r.rtype], loc=b.header)
        for tf_name, field_name in KEY_ATTRS:
            attr = b.attr(tf_name)
            if attr is None or field_name in key.attr_locs:
                continue
            value = _absent_sides(self.ev.eval(attr.expr))
            if _absent(value):
                continue
            setattr(key, field_name, value)
            key.attr_locs[field_name] = attr.loc
        if key.kind in (KeyKind.EXTERNAL, KeyKind.REPLICA_EXTERNAL):
            key.origin = Known("EXTERNAL", b.header)
        policy = b.attr("policy")
        if policy is not None:
            doc = _absent_sides(self.ev.eval(policy.expr))
            if doc is not None and not _absent(doc):
                key.policy = KeyPolicy(doc, policy.loc, r.address, key)
                key.attr_locs["policy"] = policy.loc
        return key

    def _alias(self, r: _Resource, names: set[str]) -> Alias:
        b = r.block
        alias = Alias(r.address, None, None, b.header)
        name = b.attr("name")
        if name is not None:
            alias.alias_name = self.ev.eval(name.expr)
            alias.attr_locs["alias_name"] = name.loc
        else:
            prefix = b.attr("name_prefix")
            if prefix is not None:
                pv = self.ev.eval(prefix.expr)
                text = known_str(pv)
                if text is not None:
                    alias.alias_name = Interpolated((text, Unknown("generated suffix", prefix.loc)), prefix.loc)
                else:
                    alias.alias_name = pv
                alias.attr_locs["alias_name"] = prefix.loc
        target = b.attr("target_key_id")
        if target is not None:
            alias.target = key_name_of(self.ev.eval(target.expr), names)
            alias.attr_locs["target"] = target.loc
        return alias

    def _key_policy(self, r: _Resource, names: set[str]) -> None:
        b = r.block
        key_attr = b.attr("key_id")
        key_name = key_name_of(self.ev.eval(key_attr.expr), names, self.aliases) if key_attr else None
        key = self.keys.get(key_name) if key_name else None
        policy = b.attr("policy")
        if policy is not None:
            doc = self.ev.eval(policy.expr)
            if doc is None or (isinstance(doc, Known) and doc.value is None):
                doc = Unknown("policy is null", policy.loc)
            loc = policy.loc
        else:
            doc = Unknown("aws_kms_key_policy without a policy argument", b.header)
            loc = b.header
        kp = KeyPolicy(doc, loc, r.address, key)
        bypass = b.attr("bypass_policy_lockout_safety_check")
        if bypass is not None:
            kp.bypass_lockout_check = self.ev.eval(bypass.expr)
            kp.bypass_loc = bypass.loc
        if key is not None and key.policy is None:
            key.policy = kp
        else:
            self.project.standalone_policies.append(kp)

    def _grant(self, r: _Resource, names: set[str]) -> None:
        b = r.block
        grant = Grant(r.address, None, None, b.header)
        grantee = b.attr("grantee_principal")
        if grantee is not None:
            grant.grantee = self.ev.eval(grantee.expr)
            grant.attr_locs["grantee"] = grantee.loc
        key_attr = b.attr("key_id")
        if key_attr is not None:
            grant.key = key_name_of(self.ev.eval(key_attr.expr), names, self.aliases)
            grant.attr_locs["key"] = key_attr.loc
        self.project.grants.append(grant)

    def _identity_policy(self, r: _Resource) -> None:
        attr = r.block.attr("policy")
        if attr is None:
            return
        doc = self.ev.eval(attr.expr)
        if doc is None:
            return
        self.project.identity_policies.append(IdentityPolicy(r.address, doc, attr.loc))

    def _role_inline(self, r: _Resource) -> None:
        for item, scope, _where in self.ev.expand_blocks(r.block, "inline_policy", None):
            if isinstance(item, Unknown):
                continue
            attr = item.attr("policy")
            if attr is None:
                continue
            doc = self.ev.eval(attr.expr, scope)
            if doc is None:
                continue
            self.project.identity_policies.append(IdentityPolicy(r.address, doc, attr.loc))

    # ------------------------------------------------------------------ multi-Region use

    def _use(self, value: Value | None, names: set[str], by: str, kind: UsageKind) -> None:
        key = key_name_of(value, names, self.aliases)
        if key is not None:
            use = MultiRegionUse(key, by, kind)
            if use not in self._uses:
                self._uses.add(use)
                self.project.multi_region_uses.append(use)

    def _table_key(self, b: Block) -> Value | None:
        for sse in b.children("server_side_encryption"):
            return self.ev.eval_attr(sse, "kms_key_arn")
        return None

    def _dynamodb(self, r: _Resource, names: set[str]) -> None:
        b = r.block
        replicas = self.ev.expand_blocks(b, "replica", None)
        if not replicas:
            return
        self._use(self._table_key(b), names, r.address, UsageKind.GLOBAL_TABLE)
        for item, scope, _where in replicas:
            if isinstance(item, Block):
                self._use(self.ev.eval_attr(item, "kms_key_arn", scope), names, r.address, UsageKind.GLOBAL_TABLE)

    def _dynamodb_replica(self, r: _Resource, names: set[str]) -> None:
        b = r.block
        self._use(self.ev.eval_attr(b, "kms_key_arn"), names, r.address, UsageKind.GLOBAL_TABLE)
        table = _ref_resource(self.ev.eval_attr(b, "global_table_arn"), "aws_dynamodb_table")
        if table is not None:
            tb = self.config.resources.get(("aws_dynamodb_table", table))
            if tb is not None:
                self._use(self._table_key(tb), names, r.address, UsageKind.GLOBAL_TABLE)

    def _rds_cluster(self, r: _Resource, names: set[str]) -> None:
        b = r.block
        if not _is_set(self.ev.eval_attr(b, "global_cluster_identifier")):
            return
        self._use(self.ev.eval_attr(b, "kms_key_id"), names, r.address, UsageKind.GLOBAL_CLUSTER)

    def _rds_global(self, r: _Resource, names: set[str]) -> None:
        b = r.block
        source = _ref_resource(self.ev.eval_attr(b, "source_db_cluster_identifier"), "aws_rds_cluster")
        if source is None:
            return
        cb = self.config.resources.get(("aws_rds_cluster", source))
        if cb is not None:
            self._use(self.ev.eval_attr(cb, "kms_key_id"), names, r.address, UsageKind.GLOBAL_CLUSTER)


def _suppressions(project: Project, loaded: _Loaded) -> None:
    for pf in loaded.files:
        if not pf.comment_lines:
            continue
        spans: list[tuple[str, int, int]] = []
        for b in pf.blocks:
            if b.type == "resource" and len(b.labels) >= 2:
                spans.append((f"{b.labels[0]}.{b.labels[1]}", b.loc.line, b.loc.end_line))
            elif b.type == "data" and len(b.labels) >= 2:
                spans.append((f"data.{b.labels[0]}.{b.labels[1]}", b.loc.line, b.loc.end_line))
        lines = pf.src.data.decode("utf-8", "replace").split("\n")
        for lineno, text in pf.comment_text.items():
            if 1 <= lineno <= len(lines):
                lines[lineno - 1] = "// " + text
        project.suppressions.extend(comment_suppressions(lines, pf.src.display, spans, pf.comment_lines))


__all__ = ["Location", "key_name_of", "parse_directory", "parse_file"]
