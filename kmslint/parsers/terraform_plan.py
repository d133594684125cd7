"""Terraform plan JSON (``terraform show -json``) into the model.

``planned_values`` gives every resource's resolved arguments, module inputs
included; the ``configuration`` section says which arguments were written at
all (an argument absent from it is a provider default: "not set"), and
``resource_changes[].change.after_unknown`` which are computed at apply time
(``Unknown``).  Resources that refer to a key (``aws_kms_key_policy``,
aliases, grants, tables, clusters) are linked through the configuration's
``references``, since the key's ID is unknown until apply; a reference that crosses
a module boundary (``module.kms.key_id``, an output; ``var.key_id`` in a module, the
call's argument) is followed to what the output or the argument refers to, as the
``.tf`` files' evaluation follows it.

Every resource instance (``module.m["k"].aws_kms_key.k[0]``) is a resource view,
named without its indexes and carrying them; :mod:`kmslint.parsers.tf_model`
builds the model from the views, as it does from the ``.tf`` files'.

Locations: every value is located where it is written in the plan file; a
policy held as a JSON string has the string's location.
"""

from __future__ import annotations

import re
from pathlib import Path

from kmslint.model import Known, Location, Project, ProjectKind, Unknown, Value, known_str
from kmslint.parsers.common import ParseFailure, ParseOptions
from kmslint.parsers.tf_model import MODELLED_TYPES, Builder, absent, strip_indexes

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from kmslint.parsers.tf_model import Arguments, ResourceView

# The last index of an address: an unquoted index is a number, a quoted one a JSON string.
_LAST_INDEX = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\]$')
# Module outputs and variables followed from one argument's references, and references
# gathered, at most (a chain of them is as long as the module tree is deep; a cycle is a
# configuration Terraform refuses, and an argument refers to a few resources).
_MAX_LINKS = 256
_MAX_FOLLOWED = 4096


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
    plan = _Plan(project, plain, tree, keys)
    planned = tree.value.get("planned_values")
    root = planned.value.get("root_module") if isinstance(planned, Known) and isinstance(planned.value, dict) else None
    if root is None:
        # A state file rendered by ``terraform show -json`` has ``values`` instead.
        state = tree.value.get("values")
        if isinstance(state, Known) and isinstance(state.value, dict):
            root = state.value.get("root_module")
    if isinstance(root, Known):
        plan.collect(root, opts.max_depth)
    Builder(project, plan.views, plan.account(), plan.region()).build()
    return project


def _dict(v: object) -> dict[str, object]:
    return v if isinstance(v, dict) else {}


def _list(v: object) -> list[object]:
    return v if isinstance(v, list) else []


def _located(v: Value | None, *path: str | int) -> Value | None:
    """The located value at ``path`` inside a located JSON tree; None when it is not there."""
    for step in path:
        if not isinstance(v, Known):
            return None
        if isinstance(step, str) and isinstance(v.value, dict):
            v = v.value.get(step)
        elif isinstance(step, int) and isinstance(v.value, list) and 0 <= step < len(v.value):
            v = v.value[step]
        else:
            return None
    return v


def _nulls(v: Value | None) -> bool:
    return v is None or (isinstance(v, Known) and v.value is None)


class _Args:
    """Arguments of one resource instance (or nested block) of the plan.

    ``values``: the planned values, located; ``config``: the configuration's expressions
    (None when the plan has no ``configuration``: then every value counts as written);
    ``unknown``: ``after_unknown``, the arguments computed at apply time.
    """

    def __init__(
        self,
        values: dict[str, Value],
        config: dict[str, object] | None,
        unknown: dict[str, object],
        keys: dict[tuple[int, int], Location],
        where: Location,
        owner: str = "",
        module: str = "",
        links: _Links | None = None,
    ) -> None:
        self.values = values
        self.links = links  # module outputs and variables, to follow references through calls
        self.module = module  # the module path its references are written in ("" at the root)
        self.owner = owner  # what a value computed at apply time is a reference to: "aws_kms_key.k"
        self.config = config
        self.unknown = unknown
        self.keys = keys
        self.where = where

    def attr(self, name: str) -> Value | None:
        raw = self.values.get(name)
        written = self.config is None or name in self.config
        if self.unknown.get(name) is True and _nulls(raw):
            if not written:
                return None  # computed by the provider, not set in the configuration
            loc = self.attr_loc(name) or self.where
            return Unknown("known after apply", loc, ref=f"{self.owner}.{name}" if self.owner else None)
        if _nulls(raw) or not written:
            return None  # a provider default when it is not written in the configuration
        return raw

    def attr_loc(self, name: str) -> Location | None:
        raw = self.values.get(name)
        if raw is None or raw.loc is None:
            return self.where if self.unknown.get(name) is True and self._written(name) else None
        key = self.keys.get((raw.loc.line, raw.loc.column))
        if key is None:
            return raw.loc
        return Location(raw.loc.file, key.line, key.column, raw.loc.end_line, raw.loc.end_column)

    def _written(self, name: str) -> bool:
        return self.config is None or name in self.config

    def refs(self, name: str) -> list[str]:
        return self._from_root(self._written_refs(name))

    def literal(self, name: str) -> bool:
        expr = _dict(self.config.get(name)) if self.config is not None else {}
        return "constant_value" in expr and isinstance(expr["constant_value"], str)

    def nested(self, name: str) -> list[Arguments] | None:
        """Nested blocks, as :meth:`_View.blocks` reads them; None when they are known only after apply."""
        if self.unknown.get(name) is True:
            return None
        return _View.blocks(self, name)  # type: ignore[arg-type]

    def _written_refs(self, name: str) -> list[str]:
        """The references as the configuration writes them, in the module they are in."""
        expr = _dict(self.config.get(name)) if self.config is not None else {}
        return [r for r in _list(expr.get("references")) if isinstance(r, str)]

    def _from_root(self, refs: list[str]) -> list[str]:
        out = [f"{self.module}.{r}" for r in refs] if self.module else refs
        return self.links.follow(out) if self.links is not None else out


class _View(_Args):
    """One resource instance of the plan (:class:`kmslint.parsers.tf_model.ResourceView`)."""

    def __init__(
        self, address: str, module: str, module_instance: str, rtype: str, index: str, header: Location, args: _Args
    ) -> None:
        super().__init__(args.values, args.config, args.unknown, args.keys, args.where, address, module, args.links)
        self.address = address
        self.module_instance = module_instance
        self.rtype = rtype
        self.index = index
        self.header = header
        self.body: Location | None = None  # plan JSON is not where a person edits the resource
        self.each: list[str] = []  # what for_each iterates over, when it names resources

    def refs(self, name: str) -> list[str]:
        """References from the root; ``each.value`` stands for the for_each collection's element."""
        refs = self._written_refs(name)
        if any(r == "each.value" or r.startswith("each.value.") for r in refs):
            refs += self.each
        return self._from_root(refs)

    def blocks(self, name: str) -> list[Arguments]:
        """Nested blocks: planned values, each with its configuration block (when it is literal)."""
        planned = self.values.get(name)
        configured = _list(self.config.get(name)) if self.config is not None else []
        unknown = _list(self.unknown.get(name))
        out: list[Arguments] = []
        items = planned.value if isinstance(planned, Known) and isinstance(planned.value, list) else []
        for i, item in enumerate(items):
            if isinstance(item, Known) and isinstance(item.value, dict):
                conf = _dict(configured[i]) if i < len(configured) else None
                out.append(
                    _Args(
                        dict(item.value),
                        conf,
                        _dict(unknown[i] if i < len(unknown) else None),
                        self.keys,
                        item.loc or self.where,
                        module=self.module,
                        links=self.links,
                    )
                )
        if not out:  # values unknown until apply: the configuration still says what refers to what
            out = [
                _Args({}, _dict(c), {}, self.keys, self.where, module=self.module, links=self.links)
                for c in configured
                if isinstance(c, dict)
            ]
        return out

    def tags(self) -> tuple[Value | None, Location | None]:
        """``tags_all``, which adds the provider's ``default_tags`` to the resource's own."""
        tags_all = self.values.get("tags_all")
        if isinstance(tags_all, Known) and isinstance(tags_all.value, dict) and tags_all.value:
            return tags_all, self.attr_loc("tags") or self.attr_loc("tags_all") or self.header
        own = self.attr("tags")
        if absent(own):
            own = None
        if own is None and self.unknown.get("tags_all") is True:
            return Unknown("tags are known after apply", self.header), self.header
        return own, self.attr_loc("tags") if own is not None else None


class _Plan:
    """What the plan says about each resource instance, and its ``configuration``."""

    def __init__(
        self, project: Project, plain: dict[str, object], tree: Known, keys: dict[tuple[int, int], Location]
    ) -> None:
        self.project = project
        self.tree = tree
        self.keys = keys
        self.views: list[ResourceView] = []
        self.after_unknown: dict[str, dict[str, object]] = {}
        for rc in _list(plain.get("resource_changes")):
            rcd = _dict(rc)
            addr = rcd.get("address")
            if isinstance(addr, str):
                self.after_unknown[addr] = _dict(_dict(rcd.get("change")).get("after_unknown"))
        self.configs: dict[str, dict[str, object]] = {}
        self.for_each: dict[str, list[str]] = {}
        self.links = _Links()
        self.conf_root = _dict(_dict(plain.get("configuration")).get("root_module"))
        self.has_configuration = bool(self.conf_root)
        self._collect_config(self.conf_root, "")

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
                    full = strip_indexes(f"{pre}.{addr}" if pre else addr)
                    self.configs[full] = _dict(rd.get("expressions"))
                    each = _dict(rd.get("for_each_expression")).get("references")
                    self.for_each[full] = [
                        x for x in _list(each) if isinstance(x, str) and not x.startswith(("var.", "local."))
                    ]
            for call_name, call in _dict(mod.get("module_calls")).items():
                child = _dict(_dict(call).get("module"))
                child_pre = f"{pre}.module.{call_name}" if pre else f"module.{call_name}"
                self.links.add_call(pre, child_pre, _dict(call), child)
                stack.append((child, child_pre, depth + 1))

    def account(self) -> Value | None:
        """The account the configuration states: the one ``allowed_account_ids`` of its aws providers."""
        providers = _located(self.tree, "configuration", "provider_config")
        if not (isinstance(providers, Known) and isinstance(providers.value, dict)):
            return None
        found: list[Value] = []
        for p in providers.value.values():
            if known_str(_located(p, "name")) != "aws":
                continue
            ids = _located(p, "expressions", "allowed_account_ids", "constant_value")
            if not (isinstance(ids, Known) and isinstance(ids.value, list) and len(ids.value) == 1):
                return None
            found.append(ids.value[0])
        texts = {known_str(v) for v in found}
        return found[0] if len(texts) == 1 and None not in texts else None

    def region(self) -> Value | None:
        """The Region the configuration states: the one constant ``region`` of its aws providers."""
        providers = _located(self.tree, "configuration", "provider_config")
        if not (isinstance(providers, Known) and isinstance(providers.value, dict)):
            return None
        found = {
            known_str(_located(p, "expressions", "region", "constant_value"))
            for p in providers.value.values()
            if known_str(_located(p, "name")) == "aws"
        }
        return Known(found.pop()) if len(found) == 1 and None not in found else None

    def collect(self, root: Known, max_depth: int) -> None:
        stack: list[tuple[Known, int]] = [(root, 0)]
        while stack:
            mod, depth = stack.pop()
            if depth > max_depth or not isinstance(mod.value, dict):
                continue
            instance = known_str(mod.value.get("address")) or ""
            resources = mod.value.get("resources")
            if isinstance(resources, Known) and isinstance(resources.value, list):
                for r in resources.value:
                    self._resource(r, strip_indexes(instance), instance)
            children = mod.value.get("child_modules")
            if isinstance(children, Known) and isinstance(children.value, list):
                for c in reversed(children.value):
                    if isinstance(c, Known):
                        stack.append((c, depth + 1))

    def _resource(self, r: Value, module: str, module_instance: str) -> None:
        """One resource instance (``module.m["k"].aws_kms_key.k[0]``): a view named without its indexes."""
        if not isinstance(r, Known) or not isinstance(r.value, dict):
            return
        d = r.value
        mode = d.get("mode")
        if isinstance(mode, Known) and mode.value != "managed":
            return
        rtype = known_str(d.get("type"))
        rname = known_str(d.get("name"))
        if rtype is None or rname is None:
            return
        local = f"{rtype}.{rname}"
        name = f"{module}.{local}" if module else local
        if r.loc is not None:
            self.project.resource_spans.setdefault(name, (r.loc.file, r.loc.line, r.loc.end_line))
        if rtype not in MODELLED_TYPES:
            return  # nothing the model reads
        full = known_str(d.get("address")) or name
        values = d.get("values")
        vdict = dict(values.value) if isinstance(values, Known) and isinstance(values.value, dict) else {}
        config = self.configs.get(name) if self.has_configuration else None
        header = r.loc or Location.point(self.project.root, 1)
        args = _Args(vdict, config, self.after_unknown.get(full, {}), self.keys, header, links=self.links)
        view = _View(name, module, module_instance, rtype, _own_index(full), header, args)
        view.each = self.for_each.get(name, [])
        self.views.append(view)


def _expr_refs(expr: object) -> list[str]:
    return [r for r in _list(_dict(expr).get("references")) if isinstance(r, str)]


class _Links:
    """Where a reference that crosses a module boundary leads, from the ``configuration``: an
    output of a call (``module.kms.key_id``) to what its expression refers to in the module
    (``module.kms.aws_kms_key.this.key_id``), a variable of a module (``module.kms.var.key_id``)
    to what the call's argument refers to in the caller.  Addresses from the root, no indexes."""

    def __init__(self) -> None:
        self.to: dict[str, list[str]] = {}

    def add_call(self, caller: str, callee: str, call: dict[str, object], module: dict[str, object]) -> None:
        for name, out in _dict(module.get("outputs")).items():
            self.to[f"{callee}.{name}"] = [f"{callee}.{r}" for r in _expr_refs(_dict(out).get("expression"))]
        each = [r for r in _expr_refs(call.get("for_each_expression")) if not r.startswith(("var.", "local."))]
        for name, expr in _dict(call.get("expressions")).items():
            refs = _expr_refs(expr)
            if any(r == "each.value" or r.startswith("each.value.") for r in refs):
                refs += each  # each.value stands for the for_each collection's element
            self.to[f"{callee}.var.{name}"] = [f"{caller}.{r}" for r in refs] if caller else refs

    def follow(self, refs: list[str]) -> list[str]:
        """``refs``, each followed by what it leads to when it names a module output or variable."""
        if not self.to:
            return refs
        out: list[str] = []
        seen: set[str] = set()
        work = list(reversed(refs))
        while work:
            ref = work.pop()
            out.append(ref)
            target = self._target(ref)
            if target is None or target in seen or len(seen) >= _MAX_LINKS:
                continue
            if len(out) + len(work) + len(self.to[target]) > _MAX_FOLLOWED:
                continue
            seen.add(target)
            work.extend(reversed(self.to[target]))
        return out

    def _target(self, ref: str) -> str | None:
        """The output or variable a reference names (``module.a["x"].key_id`` -> ``module.a.key_id``,
        ``module.a.var.v`` as it is), when the configuration has it."""
        parts = strip_indexes(ref).split(".")
        i = 0
        while i + 1 < len(parts) and parts[i] == "module":
            i += 2
        if i == 0 or i >= len(parts):
            return None
        end = i + 2 if parts[i] == "var" and i + 1 < len(parts) else i + 1
        name = ".".join(parts[:end])
        return name if name in self.to else None


def _own_index(address: str) -> str:
    """The index of the resource itself in a full address: ``module.m["k"].aws_kms_key.k[0]`` -> ``[0]``."""
    if not address.endswith("]"):
        return ""
    m = _LAST_INDEX.search(address)
    return m.group(0) if m else ""


__all__ = ["looks_like_plan", "parse_plan", "strip_indexes"]
