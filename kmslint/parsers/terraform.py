"""Terraform configurations (``.tf`` and ``.tf.json``) into the model.

A directory is one configuration: every file of it is parsed, then
references resolve across files (a key in ``main.tf`` whose policy is a data
source in ``policies.tf``).  Values are evaluated by
:mod:`kmslint.parsers.hcl_eval`; what cannot be known stays ``Unknown``.

The modules it calls are part of it (RULES.md, "Modules"): each instance of
a call whose source is on disk is evaluated with the call's arguments
(:mod:`kmslint.parsers.tf_modules`), its resources named with the module
path (``module.kms.aws_kms_key.this``) and built by the same
:class:`_Builder` as the root's.  A module directory is parsed once per
configuration however often it is called; its files join ``Project.files``
(the findings cache pins them), and the root configuration's call of each is
where its findings are reported from (``Project.resource_spans``).
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Collection, MutableMapping
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
from kmslint.parsers.tf_modules import Instance, Tree
from kmslint.record import Record, field, replace

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

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
    # The module instance it is declared in (None: the root configuration's own).
    inst: Instance | None = None

    @property
    def address(self) -> str:
        prefix = self.inst.prefix if self.inst is not None else ""
        return f"{prefix}{self.rtype}.{self.rname}"


class _Loaded(Record, eq=False):
    """A directory's files, parsed once per unit however many module instances read them."""

    files: list[ParsedFile] = field(default_factory=list)
    resources: list[_Resource] = field(default_factory=list)
    # Its blocks by name, for every instance to evaluate with its own arguments.
    config: Config = field(default_factory=lambda: Config(Path(".")))
    modules: dict[str, Block] = field(default_factory=dict)
    outputs: dict[str, Block] = field(default_factory=dict)


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
    loaded = _Loaded(config=Config(directory))
    config = loaded.config
    ev = Evaluator(config, opts)
    tree = Tree(directory, opts, lambda d: _load_module(d, opts, project), project.not_followed, project.called)
    try:
        for f in files:
            try:
                loaded.files.append(parse_file(f, opts))
            except ParseFailure as exc:
                project.errors.append(ParseError(opts.display(f), exc.line, exc.column, exc.message))
        _register_all(loaded)
        config.var_overrides = _tfvars(directory, opts, project)
        tree.add_root(loaded, config, ev)
        tree.expand()
        _Builder(project, loaded, config, ev, tree.instances).build()
    except BudgetExceeded as exc:
        project.gave_up = too_costly(exc, own)
        project.errors.append(project.gave_up)
    named: set[tuple[int, str]] = set()
    for inst in tree.instances:
        _collect(project, inst, named)
    tree.release()
    return project


def _collect(project: Project, inst: Instance, named: set[tuple[int, str]]) -> None:
    """What one instance's evaluation read and found, into the project."""
    for read in inst.ev.files_read:  # what the result depends on, even when it is a KMS000
        if read not in project.files:
            project.files.append(read)
    project.files_tried.extend(inst.ev.files_tried)  # the findings cache pins each, read or not
    project.duplicate_keys.extend(inst.ev.duplicate_keys)  # in heredocs and files read as JSON
    if (id(inst.loaded), inst.prefix) not in named:  # for_each instances share their names
        named.add((id(inst.loaded), inst.prefix))
        _suppressions(project, inst.loaded, inst.prefix)


def _load_module(directory: Path, opts: ParseOptions, project: Project) -> _Loaded:
    """A module directory's ``.tf``/``.tf.json`` files, parsed (each directory once per unit).

    Each is something the result depends on, parsed or not: it joins
    ``project.files`` (its KMS000 is reported through the calls) and the findings
    cache pins it (``files_tried``).
    """
    loaded = _Loaded(config=Config(directory))
    try:
        names = sorted(p.name for p in directory.iterdir())
    except OSError:
        names = []
    for name in names:
        if not name.endswith((".tf", ".tf.json")):
            continue
        path = directory / name
        try:
            if not path.is_file():
                continue
            shown = opts.display(path)
            if shown not in project.files:
                project.files.append(shown)
                project.files_tried.append((str(directory), name))
            loaded.files.append(parse_file(path, opts))
        except ParseFailure as exc:
            project.errors.append(ParseError(opts.display(path), exc.line, exc.column, exc.message))
        except OSError:
            continue
    _register_all(loaded)
    return loaded


def _register_all(loaded: _Loaded) -> None:
    for pf in loaded.files:
        for b in pf.blocks:
            _register(loaded.config, loaded, b)


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


def _register(config: Config, loaded: _Loaded, b: Block) -> None:
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
    elif b.type == "module" and b.labels:
        loaded.modules.setdefault(b.labels[0], b)
    elif b.type == "output" and b.labels:
        loaded.outputs.setdefault(b.labels[0], b)


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


def _split_ref(ref: str) -> tuple[str, str, str] | None:
    """``(module path prefix, type, name)`` of a reference to a resource attribute:
    ``module.a.module.b.aws_kms_key.x.arn`` -> ``("module.a.module.b.", "aws_kms_key", "x")``."""
    parts = ref.split(".")
    i = 0
    while i + 2 < len(parts) and parts[i] == "module":
        i += 2
    if len(parts) - i < 2:
        return None
    return "".join(f"{parts[j]}.{parts[j + 1]}." for j in range(0, i, 2)), parts[i], parts[i + 1]


def _refs(value: Value | None) -> list[str]:
    if isinstance(value, Unknown) and value.ref:
        return [value.ref]
    if isinstance(value, Interpolated):
        return [p.ref for p in value.parts if isinstance(p, Unknown) and p.ref]
    return []


def key_name_of(
    value: Value | None, names: Collection[str], aliases: dict[str, str | None] | None = None
) -> str | None:
    """The key resource a value refers to (``aws_kms_key.k.arn``, ``"${aws_kms_key.k.id}"``,
    ``module.kms.aws_kms_key.this.key_id`` through a module's output)."""
    for ref in _refs(value):
        split = _split_ref(ref)
        if split is None:
            continue
        prefix, rtype, rname = split
        name = f"{prefix}{rtype}.{rname}"
        if name in names:
            return name
        if aliases is not None and rtype == "aws_kms_alias" and name in aliases:
            return aliases[name]
    return None


def _ref_resource(value: Value | None, rtype: str) -> str | None:
    """The name (without module path) of the ``rtype`` resource a value refers to."""
    for ref in _refs(value):
        split = _split_ref(ref)
        if split is not None and split[1] == rtype:
            return split[2]
    return None


def _is_set(value: Value | None) -> bool:
    return value is not None and not (isinstance(value, Known) and value.value is None)


class _Builder:
    """The model of one configuration: the resources of every module instance of it.

    The per-resource methods read ``self.ev``/``self.config``/``self.keys``, which
    :meth:`_at` points at the instance the resource is declared in (its variables,
    its locals, its keys first), so they need not know about modules.
    """

    def __init__(
        self, project: Project, loaded: _Loaded, config: Config, ev: Evaluator, instances: list[Instance] | None = None
    ) -> None:
        self.project = project
        self.loaded = loaded
        self.config = config
        self.ev = ev
        self.instances = instances or []
        self.root_ev = ev
        self.own: frozenset[str] = frozenset()
        self.inst: Instance | None = None
        self._all_keys: dict[str, KeyResource] = {}
        self._inst_keys: dict[int, dict[str, KeyResource]] = {}
        self.keys: MutableMapping[str, KeyResource] = self._all_keys
        self._aws_providers: list[tuple[str | None, Block]] | None = None
        self._uses: set[MultiRegionUse] = set()  # those in project.multi_region_uses, to add each once

    def _resources(self) -> list[_Resource]:
        """The root's resources, then those of each module instance, named with its path."""
        out = list(self.loaded.resources)
        for inst in self.instances:
            if inst.prefix:
                out.extend(_Resource(r.rtype, r.rname, r.block, inst) for r in inst.loaded.resources)
        return out

    def _at(self, r: _Resource) -> None:
        """Evaluate what follows in the module instance ``r`` is declared in."""
        inst = r.inst
        if inst is self.inst:
            return
        self.inst = inst
        self.ev = inst.ev if inst is not None else self.instances[0].ev if self.instances else self.ev
        self.config = inst.config if inst is not None else self.loaded.config
        self.own = inst.own if inst is not None else frozenset()
        local = self._inst_keys.setdefault(id(inst), {})
        # A reference inside an instance means that instance's key first (for_each instances share names).
        self.keys = ChainMap(local, self._all_keys)

    def _written(self, value: Value | None, attr_loc: Location) -> Location:
        """Where a module resource's attribute value is written: the caller's literal when a
        caller passed it, else the attribute (RULES.md, "Where a finding is reported")."""
        loc = value.loc if value is not None else None
        if self.own and loc is not None and loc.file not in self.own:
            return loc
        return attr_loc

    def _spans(self) -> None:
        project = self.project
        for inst in [None, *(i for i in self.instances if i.prefix)]:
            files = inst.loaded.files if inst is not None else self.loaded.files
            prefix = inst.prefix if inst is not None else ""
            for pf in files:
                for b in pf.blocks:
                    if b.type in ("resource", "data") and len(b.labels) >= 2:
                        name = f"{b.labels[0]}.{b.labels[1]}"
                        if b.type == "data":
                            name = "data." + name
                        span = (b.loc.file, b.loc.line, b.loc.end_line)
                        if inst is not None and inst.anchor is not None:
                            span = inst.anchor  # reported with the file that calls the module
                        project.resource_spans.setdefault(prefix + name, span)

    def _stamp(self, before: tuple[int, ...] | None) -> None:
        """Name the module instance of the model objects made since ``before`` (see :meth:`_sizes`)."""
        label = self.inst.label if self.inst is not None else ""
        if before is None or not label:
            return
        p = self.project
        lists: tuple[list[Any], ...] = (p.keys, p.aliases, p.grants, p.standalone_policies, p.identity_policies)
        for items, start in zip(lists, before, strict=True):
            for item in items[start:]:
                item.instance = label
                if isinstance(item, KeyResource) and item.policy is not None:
                    item.policy.instance = label

    def _sizes(self, r: _Resource) -> tuple[int, ...] | None:
        """How many model objects there are before ``r`` is built; None: it is the root's own."""
        if r.inst is None:
            return None
        p = self.project
        return (len(p.keys), len(p.aliases), len(p.grants), len(p.standalone_policies), len(p.identity_policies))

    def build(self) -> None:
        project = self.project
        self._spans()
        account = self._account()
        resources = self._resources()
        for r in resources:
            if r.rtype in KEY_TYPES:
                self._at(r)
                before = self._sizes(r)
                key = self._key(r)
                key.account = account
                ev, self.ev = self.ev, self.root_ev  # provider blocks are the root's, read in its context
                self._default_tags(key, r.block)
                self.ev = ev
                self.keys[r.address] = key
                self._all_keys[r.address] = key
                project.keys.append(key)
                self._stamp(before)
        names = set(self._all_keys)
        aliases: dict[str, str | None] = {}
        for r in resources:
            if r.rtype == "aws_kms_alias":
                self._at(r)
                before = self._sizes(r)
                alias = self._alias(r, names)
                aliases[r.address] = alias.target
                project.aliases.append(alias)
                self._stamp(before)
        self.aliases = aliases
        for r in resources:
            if r.rtype in KEY_TYPES:
                self._at(r)
                key = self.keys[r.address]
                if key.is_replica and key.primary is None:
                    key.primary = key_name_of(self.ev.eval_attr(r.block, "primary_key_arn"), names)
        for r in resources:
            self._at(r)
            before = self._sizes(r)
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
            self._stamp(before)
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
            key.attr_locs[field_name] = self._written(value, attr.loc)
        if key.kind in (KeyKind.EXTERNAL, KeyKind.REPLICA_EXTERNAL):
            key.origin = Known("EXTERNAL", b.header)
        policy = b.attr("policy")
        if policy is not None:
            doc = _absent_sides(self.ev.eval(policy.expr))
            if doc is not None and not _absent(doc):
                where = self._written(doc, policy.loc)
                key.policy = KeyPolicy(doc, where, r.address, key)
                key.attr_locs["policy"] = where
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


def _suppressions(project: Project, loaded: _Loaded, prefix: str = "") -> None:
    """Inline suppressions of a directory's files, on its resources as named in one instance
    (``prefix``; each instance of a module is suppressed by the comments in the module)."""
    for pf in loaded.files:
        if not pf.comment_lines:
            continue
        spans: list[tuple[str, int, int]] = []
        for b in pf.blocks:
            if b.type == "resource" and len(b.labels) >= 2:
                spans.append((f"{prefix}{b.labels[0]}.{b.labels[1]}", b.loc.line, b.loc.end_line))
            elif b.type == "data" and len(b.labels) >= 2:
                spans.append((f"{prefix}data.{b.labels[0]}.{b.labels[1]}", b.loc.line, b.loc.end_line))
        lines = pf.src.data.decode("utf-8", "replace").split("\n")
        for lineno, text in pf.comment_text.items():
            if 1 <= lineno <= len(lines):
                lines[lineno - 1] = "// " + text
        project.suppressions.extend(comment_suppressions(lines, pf.src.display, spans, pf.comment_lines))


__all__ = ["Location", "key_name_of", "parse_directory", "parse_file"]
