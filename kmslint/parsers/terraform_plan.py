"""Terraform plan JSON (``terraform show -json``) into the model.

``planned_values`` gives every resource's resolved arguments, module inputs
included; the ``configuration`` section says which arguments were written at
all (an argument absent from it is a provider default: "not set"), and
``resource_changes[].change.after_unknown`` which are computed at apply time
(``Unknown``).  Resources that refer to a key (``aws_kms_key_policy``,
aliases, grants, tables, clusters) are linked through the configuration's
``references``, since the key's ID is unknown until apply.

Locations: every value is located where it is written in the plan file; a
policy held as a JSON string has the string's location.
"""

from __future__ import annotations

import re
from pathlib import Path

from kmslint.model import (
    Alias,
    Grant,
    IdentityPolicy,
    KeyKind,
    KeyPolicy,
    KeyResource,
    Known,
    Location,
    MultiRegionUse,
    Project,
    ProjectKind,
    Unknown,
    UsageKind,
    Value,
)
from kmslint.parsers.common import ParseFailure, ParseOptions
from kmslint.parsers.terraform import IDENTITY_POLICY_TYPES, KEY_ATTRS, KEY_TYPES, OTHER_MODELLED
from kmslint.record import Record, field

# An unquoted index is a number: it never holds a bracket or a quote, which keeps the scan
# linear on an address of many "[" (`[^\]]*` rescanned the rest from each one).
_INDEX = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[^\[\]"]*)\]')


def looks_like_plan(data: object) -> bool:
    """Is this parsed JSON a Terraform plan (or state) rendered by ``terraform show -json``?

    A plan has ``planned_values`` (or ``configuration``/``resource_changes``); a
    state has ``values`` with a ``root_module``, which :func:`parse_plan` reads the same way.
    """
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("planned_values"), dict):
        return True
    if "format_version" not in data or "terraform_version" not in data:
        return False
    values = data.get("values")
    return (
        "configuration" in data or "resource_changes" in data or (isinstance(values, dict) and "root_module" in values)
    )


def strip_indexes(address: str) -> str:
    """``module.a[0].aws_kms_key.k["x"]`` -> ``module.a.aws_kms_key.k``."""
    return _INDEX.sub("", address)


class _PlanResource(Record, eq=False):
    name: str  # module path + TYPE.NAME, no indexes
    module: str  # "module.a.module.b" or ""
    rtype: str
    obj: Known  # the planned_values object
    values: dict[str, Value]
    config: dict[str, object] | None  # the configuration's expressions
    unknown_after: dict[str, object] = field(default_factory=dict)

    def prefixed(self, ref: str) -> str:
        return f"{self.module}.{ref}" if self.module else ref


def parse_plan(path: Path, text: str, opts: ParseOptions) -> Project:
    from kmslint.parsers import jsonpos
    from kmslint.parsers.hcl_syntax import Src, json_key_locations

    display = opts.display(path)
    try:
        plain = jsonpos.check_syntax(text, opts.max_depth)
        tree = jsonpos.parse(text, display, max_depth=opts.max_depth, budget=opts.budget)
    except jsonpos.JSONSyntaxError as exc:
        raise ParseFailure(f"invalid JSON: {exc.message}", exc.line, exc.column) from None
    if not isinstance(plain, dict) or not isinstance(tree, Known) or not isinstance(tree.value, dict):
        raise ParseFailure("a plan must be a JSON object", 1, 1)
    keys = json_key_locations(Src(display, text.encode("utf-8", "surrogatepass")), opts.budget)
    project = Project(kind=ProjectKind.TERRAFORM_PLAN, root=display, files=[display])
    builder = _PlanBuilder(project, plain, keys)
    planned = tree.value.get("planned_values")
    root = planned.value.get("root_module") if isinstance(planned, Known) and isinstance(planned.value, dict) else None
    if root is None:
        # A state file rendered by ``terraform show -json`` has ``values`` instead.
        state = tree.value.get("values")
        if isinstance(state, Known) and isinstance(state.value, dict):
            root = state.value.get("root_module")
    if isinstance(root, Known):
        builder.collect(root, opts.max_depth)
    builder.build()
    return project


def _dict(v: object) -> dict[str, object]:
    return v if isinstance(v, dict) else {}


def _list(v: object) -> list[object]:
    return v if isinstance(v, list) else []


class _PlanBuilder:
    def __init__(self, project: Project, plain: dict[str, object], keys: dict[tuple[int, int], Location]) -> None:
        self.project = project
        self.plain = plain
        self.keys = keys
        self.resources: list[_PlanResource] = []
        # By name, and the uses recorded: looked up for each resource (a list scan was quadratic).
        self.by_name: dict[str, _PlanResource] = {}
        self.uses: set[MultiRegionUse] = set()
        self.after_unknown: dict[str, dict[str, object]] = {}
        for rc in _list(plain.get("resource_changes")):
            rcd = _dict(rc)
            addr = rcd.get("address")
            if isinstance(addr, str):
                self.after_unknown[addr] = _dict(_dict(rcd.get("change")).get("after_unknown"))
        self.configs: dict[str, dict[str, object]] = {}
        conf_root = _dict(_dict(plain.get("configuration")).get("root_module"))
        self.has_configuration = bool(conf_root)
        self._collect_config(conf_root, "")

    def _collect_config(self, module: dict[str, object], prefix: str) -> None:
        stack = [(module, prefix, 0)]
        while stack:
            mod, pre, depth = stack.pop()
            if depth > 64:
                continue
            for r in _list(mod.get("resources")):
                rd = _dict(r)
                addr = rd.get("address")
                if isinstance(addr, str) and rd.get("mode", "managed") == "managed":
                    full = f"{pre}.{addr}" if pre else addr
                    self.configs[strip_indexes(full)] = _dict(rd.get("expressions"))
            for call_name, call in _dict(mod.get("module_calls")).items():
                child = _dict(_dict(call).get("module"))
                child_pre = f"{pre}.module.{call_name}" if pre else f"module.{call_name}"
                stack.append((child, child_pre, depth + 1))

    def collect(self, root: Known, max_depth: int) -> None:
        stack: list[tuple[Known, int]] = [(root, 0)]
        while stack:
            mod, depth = stack.pop()
            if depth > max_depth or not isinstance(mod.value, dict):
                continue
            module_addr = mod.value.get("address")
            module = (
                strip_indexes(module_addr.value)
                if isinstance(module_addr, Known) and isinstance(module_addr.value, str)
                else ""
            )
            resources = mod.value.get("resources")
            if isinstance(resources, Known) and isinstance(resources.value, list):
                for r in resources.value:
                    self._resource(r, module)
            children = mod.value.get("child_modules")
            if isinstance(children, Known) and isinstance(children.value, list):
                for c in reversed(children.value):
                    if isinstance(c, Known):
                        stack.append((c, depth + 1))

    def _resource(self, r: Value, module: str) -> None:
        if not isinstance(r, Known) or not isinstance(r.value, dict):
            return
        d = r.value
        mode = d.get("mode")
        if isinstance(mode, Known) and mode.value != "managed":
            return
        rtype = d.get("type")
        rname = d.get("name")
        addr = d.get("address")
        if not (isinstance(rtype, Known) and isinstance(rtype.value, str)):
            return
        if not (isinstance(rname, Known) and isinstance(rname.value, str)):
            return
        local = f"{rtype.value}.{rname.value}"
        name = f"{module}.{local}" if module else local
        if name in self.by_name:
            return  # another count/for_each instance of one logical resource
        values = d.get("values")
        vdict = dict(values.value) if isinstance(values, Known) and isinstance(values.value, dict) else {}
        full_addr = addr.value if isinstance(addr, Known) and isinstance(addr.value, str) else name
        config = self.configs.get(name) if self.has_configuration else None
        pr = _PlanResource(name, module, rtype.value, r, vdict, config, self.after_unknown.get(full_addr, {}))
        self.resources.append(pr)
        self.by_name[name] = pr
        if r.loc is not None:
            self.project.resource_spans.setdefault(name, (r.loc.file, r.loc.line, r.loc.end_line))

    # ------------------------------------------------------------------ values

    def _attr(self, pr: _PlanResource, name: str) -> tuple[Value | None, Location | None]:
        """An argument's value and location; None when it is not set."""
        configured = pr.config is None or name in pr.config
        raw = pr.values.get(name)
        loc = self._attr_loc(raw, pr)
        if pr.unknown_after.get(name) is True and (raw is None or (isinstance(raw, Known) and raw.value is None)):
            if pr.config is not None and name not in pr.config:
                return None, None
            return Unknown("known after apply", loc or pr.obj.loc, ref=f"{pr.name}.{name}"), loc or pr.obj.loc
        if raw is None or (isinstance(raw, Known) and raw.value is None):
            return None, None
        if not configured:
            return None, None  # a provider default, not written in the configuration
        return raw, loc

    def _attr_loc(self, raw: Value | None, pr: _PlanResource) -> Location | None:
        if raw is None or raw.loc is None:
            return None
        key = self.keys.get((raw.loc.line, raw.loc.column))
        if key is None:
            return raw.loc
        return Location(raw.loc.file, key.line, key.column, raw.loc.end_line, raw.loc.end_column)

    def _refs(self, pr: _PlanResource, name: str, nested: str | None = None) -> list[list[str]]:
        """The configuration's references for an argument (or for one in each nested block)."""
        if pr.config is None:
            return [] if nested is not None else [[]]
        expr = pr.config.get(nested or name)
        out: list[list[str]] = []
        if nested is not None:
            for blk in _list(expr) if isinstance(expr, list) else [expr]:
                inner = _dict(_dict(blk).get(name))
                out.append([r for r in _list(inner.get("references")) if isinstance(r, str)])
            return out
        return [[r for r in _list(_dict(expr).get("references")) if isinstance(r, str)]]

    def _key_of(self, pr: _PlanResource, refs: list[str], names: set[str]) -> str | None:
        for ref in refs:
            parts = strip_indexes(ref).split(".")
            if len(parts) >= 2:
                cand = pr.prefixed(f"{parts[0]}.{parts[1]}")
                if cand in names:
                    return cand
                if parts[0] == "aws_kms_alias" and cand in self.alias_targets:
                    return self.alias_targets[cand]
        return None

    # ------------------------------------------------------------------ model

    def build(self) -> None:
        project = self.project
        keys: dict[str, KeyResource] = {}
        for pr in self.resources:
            if pr.rtype in KEY_TYPES:
                key = self._key(pr)
                keys[pr.name] = key
                project.keys.append(key)
        names = set(keys)
        self.alias_targets: dict[str, str | None] = {}
        for pr in self.resources:
            if pr.rtype == "aws_kms_alias":
                alias = Alias(pr.name, None, None, self._header(pr))
                value, loc = self._attr(pr, "name")
                if value is None:
                    value, loc = self._attr(pr, "name_prefix")
                alias.alias_name = value
                if loc is not None:
                    alias.attr_locs["alias_name"] = loc
                alias.target = self._key_of(pr, self._refs(pr, "target_key_id")[0], names)
                _, tloc = self._attr(pr, "target_key_id")
                if tloc is not None:
                    alias.attr_locs["target"] = tloc
                self.alias_targets[pr.name] = alias.target
                project.aliases.append(alias)
        for key in project.keys:
            if key.is_replica:
                pr = self.by_name[key.name]
                key.primary = self._key_of(pr, self._refs(pr, "primary_key_arn")[0], names)
        for pr in self.resources:
            t = pr.rtype
            if t == "aws_kms_key_policy":
                self._key_policy(pr, keys, names)
            elif t == "aws_kms_grant":
                grant = Grant(pr.name, None, None, self._header(pr))
                grant.grantee, gloc = self._attr(pr, "grantee_principal")
                if gloc is not None:
                    grant.attr_locs["grantee"] = gloc
                grant.key = self._key_of(pr, self._refs(pr, "key_id")[0], names)
                project.grants.append(grant)
            elif t in IDENTITY_POLICY_TYPES:
                doc, loc = self._attr(pr, "policy")
                if doc is not None:
                    project.identity_policies.append(IdentityPolicy(pr.name, doc, loc or self._header(pr)))
            elif t == "aws_iam_role":
                self._inline_policies(pr)
            elif t == "aws_dynamodb_table":
                self._dynamodb(pr, names)
            elif t == "aws_rds_cluster":
                gid, _ = self._attr(pr, "global_cluster_identifier")
                if gid is not None or self._refs(pr, "global_cluster_identifier")[0]:
                    self._use(self._key_of(pr, self._refs(pr, "kms_key_id")[0], names), pr, UsageKind.GLOBAL_CLUSTER)
            elif t == "aws_rds_global_cluster":
                for ref in self._refs(pr, "source_db_cluster_identifier")[0]:
                    parts = strip_indexes(ref).split(".")
                    if len(parts) >= 2 and parts[0] == "aws_rds_cluster":
                        cluster = self.by_name.get(pr.prefixed(f"{parts[0]}.{parts[1]}"))
                        if cluster is not None:
                            kid = self._key_of(cluster, self._refs(cluster, "kms_key_id")[0], names)
                            self._use(kid, pr, UsageKind.GLOBAL_CLUSTER)
                        break
        project.resource_count = sum(
            1
            for pr in self.resources
            if pr.rtype in KEY_TYPES or pr.rtype in OTHER_MODELLED or pr.rtype in IDENTITY_POLICY_TYPES
        )

    def _header(self, pr: _PlanResource) -> Location:
        return pr.obj.loc or Location.point(self.project.root, 1)

    def _key(self, pr: _PlanResource) -> KeyResource:
        key = KeyResource(pr.name, KEY_TYPES[pr.rtype], self._header(pr))
        for tf_name, field_name in KEY_ATTRS:
            if field_name in key.attr_locs:
                continue
            value, loc = self._attr(pr, tf_name)
            if value is None:
                continue
            setattr(key, field_name, value)
            key.attr_locs[field_name] = loc or key.loc
        tags_all = pr.values.get("tags_all")
        if isinstance(tags_all, Known) and isinstance(tags_all.value, dict) and tags_all.value:
            # tags_all adds the provider's default_tags to the resource's own.
            key.tags = tags_all
            key.attr_locs.setdefault("tags", self._attr_loc(tags_all, pr) or key.loc)
        elif pr.unknown_after.get("tags_all") is True and key.tags is None:
            key.tags = Unknown("tags are known after apply", key.loc)
        if key.kind in (KeyKind.EXTERNAL, KeyKind.REPLICA_EXTERNAL):
            key.origin = Known("EXTERNAL", key.loc)
        doc, loc = self._attr(pr, "policy")
        if doc is not None:
            key.policy = KeyPolicy(doc, loc or key.loc, pr.name, key)
            key.attr_locs["policy"] = loc or key.loc
        return key

    def _key_policy(self, pr: _PlanResource, keys: dict[str, KeyResource], names: set[str]) -> None:
        key_name = self._key_of(pr, self._refs(pr, "key_id")[0], names)
        key = keys.get(key_name) if key_name else None
        doc, loc = self._attr(pr, "policy")
        if doc is None:
            doc = Unknown("policy is not set", self._header(pr))
        kp = KeyPolicy(doc, loc or self._header(pr), pr.name, key)
        kp.bypass_lockout_check, kp.bypass_loc = self._attr(pr, "bypass_policy_lockout_safety_check")
        if key is not None and key.policy is None:
            key.policy = kp
        else:
            self.project.standalone_policies.append(kp)

    def _inline_policies(self, pr: _PlanResource) -> None:
        raw = pr.values.get("inline_policy")
        if not (isinstance(raw, Known) and isinstance(raw.value, list)):
            return
        for item in raw.value:
            if isinstance(item, Known) and isinstance(item.value, dict):
                doc = item.value.get("policy")
                if doc is None or (isinstance(doc, Known) and doc.value in (None, "")):
                    continue
                self.project.identity_policies.append(
                    IdentityPolicy(pr.name, doc, self._attr_loc(doc, pr) or item.loc or self._header(pr))
                )

    def _use(self, key: str | None, pr: _PlanResource, kind: UsageKind) -> None:
        if key is None:
            return
        use = MultiRegionUse(key, pr.name, kind)
        if use not in self.uses:
            self.uses.add(use)
            self.project.multi_region_uses.append(use)

    def _dynamodb(self, pr: _PlanResource, names: set[str]) -> None:
        replicas = pr.values.get("replica")
        has_replicas = isinstance(replicas, Known) and isinstance(replicas.value, list) and bool(replicas.value)
        if not has_replicas and not (pr.config and pr.config.get("replica")):
            return
        for refs in self._refs(pr, "kms_key_arn", nested="server_side_encryption"):
            self._use(self._key_of(pr, refs, names), pr, UsageKind.GLOBAL_TABLE)
        for refs in self._refs(pr, "kms_key_arn", nested="replica"):
            self._use(self._key_of(pr, refs, names), pr, UsageKind.GLOBAL_TABLE)
