"""Evaluate Terraform expressions statically, into the model's symbolic values.

What a literal resolves to becomes :class:`~kmslint.model.Known` (with the
location it was written at); what cannot be known is
:class:`~kmslint.model.Unknown`, with a ``meaning`` where the reference says
what it stands for (``data.aws_caller_identity.x.account_id`` is an
account ID, ``aws_iam_role.app.arn`` one specific resource's ARN).  Strings
built from both are :class:`~kmslint.model.Interpolated`.

A conditional ``a ? b : c`` whose condition is not known is a
:class:`~kmslint.model.Conditional` on the condition as written (an
:class:`~kmslint.model.Expression`), so that every branch is checked.  An
operator, a function call, a template, an attribute or index step or a
``for`` expression applied to one is applied to each of its branches
(:meth:`Evaluator.lift`): ``concat([a], var.x ? [b] : [])`` is ``[a, b]``
when ``var.x`` and ``[a]`` otherwise, and ``(var.x ? local.p : local.q).json``
is the ``json`` of whichever is chosen.  A JSON heredoc or ``jsonencode()``
holding one keeps it where it is written (a ``${...}`` inside a JSON string
makes that string conditional, located at it), so each branch's policy is
checked with exact locations.  The work is in :mod:`kmslint.parsers.hcl_cond`,
imported only when a value is conditional; its bounds are there.

Nothing in the input is executed: only a fixed set of pure functions is
interpreted (the function library: :mod:`kmslint.parsers.tf_functions` and
:mod:`~kmslint.parsers.tf_functions_more` register them in
:data:`kmslint.parsers.tf_library.FUNCTIONS`), and ``file()`` /
``templatefile()`` read (:meth:`Evaluator.read_file`) only inside the scan root.

Everything the evaluator does is paid for from its unit's
:class:`~kmslint.parsers.common.Budget`: a step per expression evaluated,
per value node walked, per item of a ``for`` expression, per 64 characters of
text built.  Small files have made exponential and cubic work before
(``templatefile()`` calling itself, nested ``for`` expressions, strings
doubled through locals); when the budget runs out,
:class:`~kmslint.parsers.common.BudgetExceeded` carries the place it ran out
at up to whoever reports it as KMS000, and nothing turns it into an Unknown
value that would let the configuration pass.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

from kmslint.model import (
    Branch,
    Conditional,
    DuplicateKey,
    Known,
    Location,
    Meaning,
    Unknown,
    Value,
    to_plain,
)
from kmslint.model import branches as model_branches
from kmslint.parsers.common import (
    Budget,
    BudgetExceeded,
    ParseFailure,
    ParseOptions,
    ParseTimeout,
)
from kmslint.parsers.hcl_syntax import (
    Attr,
    Block,
    Expr,
    Src,
    hcl_tree,
    unescape_quoted,
    unescape_template_markers,
)
from kmslint.parsers.hcl_values import (
    MAX_VALUE_NODES,
    Scope,
    build_string,
    expanded_size,
    fewer_nodes_than,
    is_known_scalar,
    num_result,
    number,
    scalar_text,
    string_parts,
    too_large,
    unknown,
    with_loc,
    with_loc_if_unknown,
)
from kmslint.parsers.tf_functions import data_instances, template_file  # (importing it fills FUNCTIONS)
from kmslint.parsers.tf_library import FUNCTIONS, Function, is_spread, splat_attr
from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from tree_sitter import Node

POLICY_VERSION = "2012-10-17"

# Variables whose name says what they stand for, when they have no default.
_ACCOUNT_VAR = re.compile(r"(^|_)(aws_)?account(_id|_number|_no)?s?$|^account_ids?$|(^|_)owner_account(_id)?$")
_PARTITION_VAR = re.compile(r"(^|_)partition$")
_REGION_VAR = re.compile(r"(^|_)region$")

_TRAVERSALS = frozenset({"get_attr", "index", "splat", "legacy_index"})
_PH_START = "\ue000"
_PH_PAD = "\ue001"
_PH_BASE = 0xE100
_PH_MAX = 0xEFFF - _PH_BASE
_PLACEHOLDER = re.compile("\ue000([\ue100-\uefff])\ue001*")


def var_meaning(name: str, block: Block | None = None) -> Meaning:
    """What a variable with no default stands for, from its name (or, for an account ID,
    from its ``description`` or a ``validation`` condition's regular expression)."""
    low = name.lower()
    if _ACCOUNT_VAR.search(low) or (block is not None and _describes_account_id(name, block)):
        return Meaning.ACCOUNT_ID
    if _PARTITION_VAR.search(low):
        return Meaning.PARTITION
    if _REGION_VAR.search(low):
        return Meaning.REGION
    return Meaning.NOTHING


def _describes_account_id(name: str, block: Block) -> bool:
    from kmslint.policy.principals import names_account_id

    def written(attr: Attr | None) -> str:
        expr = attr.expr if attr is not None else None
        return expr.src.text(expr.node) if expr is not None and expr.node is not None else ""

    description = written(block.attr("description"))
    if names_account_id(name, description):
        return True
    # The string literals of validation conditions: can(regex("^\\d{12}$", var.x)).
    for validation in block.children("validation"):
        for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', written(validation.attr("condition"))):
            if names_account_id(name, description, literal.replace("\\\\", "\\")):
                return True
    return False


class Config(Record, eq=False):
    """Everything of one directory an expression may refer to."""

    directory: Path
    variables: dict[str, Block] = field(default_factory=dict)
    var_overrides: dict[str, Value] = field(default_factory=dict)
    locals: dict[str, Attr] = field(default_factory=dict)
    data: dict[tuple[str, str], Block] = field(default_factory=dict)
    resources: dict[tuple[str, str], Block] = field(default_factory=dict)
    # Inside a module instance, its path (``module.a.module.b.``): references to its
    # resources and data sources carry it (Unknown.ref), so two instances never share one.
    prefix: str = ""
    # ``module.NAME``: the value of the call (its outputs), or None when it is not followed
    # (kmslint.parsers.terraform evaluates module calls; see RULES.md, "Modules").
    modules: Callable[[str, Location], Value | None] | None = None


class _Fail(Exception):
    """Expressions nest too deep to evaluate: the outermost eval() makes it a BudgetExceeded."""


def _any_conditional(args: list[Value]) -> bool:
    """Is one of ``args`` a Conditional (a loop: this runs for every call and template)?"""
    for a in args:  # noqa: SIM110 -- a generator here costs more than the whole check
        if a.__class__ is Conditional:
            return True
    return False


class Evaluator:
    """Evaluates expressions of one configuration (one directory)."""

    def __init__(self, config: Config, opts: ParseOptions) -> None:
        self.config = config
        self.opts = opts
        self.max_depth = opts.max_depth
        self._max_nesting = opts.max_depth * 4
        self.budget = opts.budget if opts.budget is not None else Budget()
        # Large values already found small enough (by identity, kept alive here): a local
        # read by many keys is walked once, not once per reader.
        self._checked: dict[int, Value] = {}
        # Inside a templatefile() template, where Terraform does not offer templatefile().
        self._templates = 0
        # Template texts parsed (see _parsed_template), and their trees.
        self._parsed: dict[tuple[str, str, int, Location | None], tuple[Node, Src] | None] = {}
        self._trees: list[object] = []
        self._locals: dict[str, Value] = {}
        self._busy: set[str] = set()
        self._docs: dict[str, Value] = {}
        self._vars: dict[str, Value] = {}
        # What file() gave for each file read, by its resolved path: many keys that each read
        # one policy file share one value (so one reading), not one parse each.
        self._files: dict[Path, Value] = {}
        # Display names of files read by file()/templatefile().
        self.files_read: list[str] = []
        # (directory, path) of every file()/templatefile() call, read or not: the findings cache pins them.
        self.files_tried: list[tuple[str, str]] = []
        # Keys written twice in JSON text read as a tree (a heredoc, a file): each once, however
        # often its text is evaluated (a key written twice in a key policy is KMS013).
        self.duplicate_keys: dict[DuplicateKey, None] = {}
        self._depth = 0

    # ------------------------------------------------------------------ entry points

    def eval(self, expr: Expr | None, scope: Scope | None = None) -> Value | None:
        """The value of an expression; None when there is none.

        Raises :class:`BudgetExceeded` when the unit's budget runs out, or the
        expression nests deeper than the evaluator follows.
        """
        if expr is None:
            return None
        try:
            return self._eval(expr, scope)
        except BudgetExceeded as exc:
            exc.root = _expr_loc(expr)  # set at every level on the way out: the outermost stays
            raise

    def _eval(self, expr: Expr, scope: Scope | None) -> Value | None:
        try:
            if expr.node is not None:
                return self._bounded(self._node(expr.node, expr.src, scope), expr.src.loc(expr.node))
            if expr.json is not None:
                return self._bounded(self._json(expr.json, expr.src, scope), expr.json.loc)
        except (_Fail, RecursionError):
            stop = BudgetExceeded(f"expressions nest deeper than {self._max_nesting} levels")
            stop.where = _expr_loc(expr)
            raise stop from None
        return None

    def eval_attr(self, block: Block, name: str, scope: Scope | None = None) -> Value | None:
        a = block.attr(name)
        return None if a is None else self.eval(a.expr, scope)

    def _bounded(self, v: Value, loc: Location | None) -> Value:
        """``v``, once found to have at most :data:`MAX_VALUE_NODES` nodes (shared ones counted each
        time; a large value read again is not walked again).  Past that, a BudgetExceeded."""
        if isinstance(v, Known):
            if not isinstance(v.value, dict | list):
                return v
        elif not isinstance(v, Conditional):  # a conditional's branches are counted too
            return v
        if id(v) in self._checked:
            return v
        if fewer_nodes_than(v, 1024, self.budget):
            return v
        if expanded_size(v, budget=self.budget) > MAX_VALUE_NODES:
            stop = too_large(f"a value of over {MAX_VALUE_NODES:,} nodes")
            stop.where = loc
            raise stop
        self._checked[id(v)] = v
        return v

    def _plain(self, v: Value) -> object:
        """``to_plain(v)`` (to compare or print a value), paid for by its size."""
        if not fewer_nodes_than(v, 1024, self.budget):
            size = expanded_size(v, budget=self.budget)
            if size > MAX_VALUE_NODES:
                raise too_large(f"a value of over {MAX_VALUE_NODES:,} nodes")
            self.budget.spend(size)
        return to_plain(v)

    # ------------------------------------------------------------------ depth guard

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > self._max_nesting:
            self._depth -= 1
            raise _Fail

    def _leave(self) -> None:
        self._depth -= 1

    # ------------------------------------------------------------------ HCL nodes

    def _node(self, node: Node, src: Src, scope: Scope | None) -> Value:
        """Evaluate one syntax node: a step of the budget, a level of the depth guard."""
        budget = self.budget
        self._depth += 1
        try:
            budget.left -= 1  # Budget.spend(), inlined: this runs for every node evaluated
            if budget.left < 0:
                budget.check()
            if self._depth > self._max_nesting:
                raise _Fail
            return self._node_inner(node, src, scope)
        except BudgetExceeded as exc:
            if exc.where is None:
                exc.where = src.loc(node)
            raise
        finally:
            self._depth -= 1

    def _node_inner(self, node: Node, src: Src, scope: Scope | None) -> Value:
        t = node.type
        if t == "expression":
            kids = [c for c in node.named_children if c.type != "comment"]
            if not kids:
                return unknown("empty expression", src.loc(node))
            v = self._term(kids, src, scope)
            if len(kids) > 1:
                v = with_loc(v, src.loc(node)) if not isinstance(v, Known) or v.loc is None else v
            return v
        if t == "literal_value":
            return self._literal(node.named_children[0], src, scope)
        if t == "string_lit":
            return self._template(node, src, scope)
        if t == "template_expr":
            return self._template(node.named_children[0], src, scope)
        if t == "collection_value":
            return self._node(node.named_children[0], src, scope)
        if t == "tuple":
            items = [self._node(c, src, scope) for c in node.named_children if c.type == "expression"]
            return Known(items, src.loc(node))
        if t == "object":
            return self._object(node, src, scope)
        if t == "function_call":
            return self._call(node, src, scope)
        if t == "for_expr":
            return self._for(node.named_children[0], src, scope)
        if t == "conditional":
            return self._conditional(node, src, scope)
        if t == "operation":
            return self._node(node.named_children[0], src, scope)
        if t == "binary_operation":
            return self._binary(node, src, scope)
        if t == "unary_operation":
            return self._unary(node, src, scope)
        if t == "variable_expr":
            return self._reference(node, [], src, scope)
        return unknown(f"unsupported expression `{src.text(node)[:60]}`", src.loc(node))

    def _term(self, kids: list[Node], src: Src, scope: Scope | None) -> Value:
        head, steps = kids[0], kids[1:]
        self.budget.spend(len(steps))
        if head.type == "variable_expr":
            return self._reference(head, steps, src, scope)
        v = self._node(head, src, scope)
        for st in steps:
            v = self._step(v, st, src, scope)
        return v

    def _literal(self, node: Node, src: Src, scope: Scope | None) -> Value:
        t = node.type
        loc = src.loc(node)
        if t == "numeric_lit":
            text = src.text(node)
            try:
                if any(c in text for c in ".eE"):
                    f = float(text)
                    return Known(int(f) if f.is_integer() and abs(f) < 2**53 else f, loc)
                return Known(int(text), loc)
            except ValueError:
                return unknown(f"number `{text}`", loc)
        if t == "bool_lit":
            return Known(src.text(node).strip() == "true", loc)
        if t == "null_lit":
            return Known(None, loc)
        if t == "string_lit":
            return self._template(node, src, scope)
        return unknown("unsupported literal", loc)

    def _object(self, node: Node, src: Src, scope: Scope | None) -> Value:
        out: dict[str, Value] = {}
        for elem in node.named_children:
            if elem.type != "object_elem":
                continue
            knode = elem.child_by_field_name("key")
            vnode = elem.child_by_field_name("val")
            if knode is None or vnode is None:
                continue
            key = self._object_key(knode, src, scope)
            val = self._node(vnode, src, scope)
            if key is None:
                return unknown("object key cannot be resolved", src.loc(node))
            out[key] = val
        return Known(out, src.loc(node))

    def _object_key(self, knode: Node, src: Src, scope: Scope | None) -> str | None:
        kids = [c for c in knode.named_children if c.type != "comment"]
        if len(kids) == 1 and kids[0].type == "variable_expr":
            return src.text(kids[0])  # a bare name is the key itself
        v = self._node(knode, src, scope)
        if is_known_scalar(v) and isinstance(v, Known) and v.value is not None:
            return scalar_text(v.value)
        return None

    # ------------------------------------------------------------------ references

    def _reference(self, head: Node, steps: list[Node], src: Src, scope: Scope | None) -> Value:
        name = src.text(head)
        loc = src.loc(head)
        if steps:
            last = steps[-1]
            loc = src.span(tuple(head.start_point), tuple(last.end_point))  # type: ignore[arg-type]
        if scope is not None:
            bound = scope.lookup(name)
            if bound is not None:
                return self._steps(bound, steps, src, scope, loc)
            if scope.in_template():
                return unknown(f"`{name}` is not a template variable", loc, ref=name)
        attrs: list[str] = []
        rest = 0
        for st in steps:
            if st.type == "get_attr":
                attrs.append(src.text(st.named_children[0]))
                rest += 1
            else:
                break
        if name == "var" and attrs:
            return self._steps(with_loc_if_unknown(self._var(attrs[0], loc), loc), steps[1:], src, scope, loc)
        if name == "local" and attrs:
            return self._steps(self._local(attrs[0], loc), steps[1:], src, scope, loc)
        if name == "path" and attrs:
            if attrs[0] in ("module", "root", "cwd"):
                return self._steps(Known(".", loc), steps[1:], src, scope, loc)
            return unknown(f"path.{attrs[0]}", loc, ref=f"path.{attrs[0]}")
        if name == "data":
            return self._data_ref(steps, src, scope, loc)
        if name == "module" and attrs and self.config.modules is not None:
            called = self.config.modules(attrs[0], loc)
            if called is not None:
                return self._steps(called, steps[1:], src, scope, loc)
        if name in ("module", "terraform", "self", "count", "each"):
            ref = ".".join([name, *attrs])
            return unknown(f"`{ref}` is not known before apply", loc, ref=ref)
        if attrs or any(st.type in ("index", "splat", "legacy_index") for st in steps):
            return self._resource_ref(name, steps, src, scope, loc)
        return unknown(f"`{name}` is not defined here", loc, ref=name)

    def _steps(self, v: Value, steps: list[Node], src: Src, scope: Scope | None, loc: Location) -> Value:
        for st in steps:
            v = self._step(v, st, src, scope)
        return v

    def _step(self, v: Value, st: Node, src: Src, scope: Scope | None) -> Value:
        """One traversal step (``.attr``, ``[key]``, ``[*]``), taken on each branch of a conditional."""
        if v.__class__ is Conditional:
            return self.lift([v], lambda args: self._step(args[0], st, src, scope), src.loc(st))
        t = st.type
        loc = src.loc(st)
        if t == "get_attr":
            return self._get_attr(v, src.text(st.named_children[0]), loc)
        if t == "index" or t == "legacy_index":
            inner = st.named_children[0] if t == "index" and st.named_children else st
            if inner.type == "legacy_index":
                key: Value = Known(int(src.text(inner).lstrip(".") or 0), loc)
            else:
                expr = next((c for c in inner.named_children if c.type == "expression"), None)
                if expr is None:
                    return unknown("index", loc)
                key = self._node(expr, src, scope)
            if key.__class__ is Conditional:
                return self.lift([v, key], lambda args: self._index(args[0], args[1], loc), loc)
            return self._index(v, key, loc)
        if t == "splat":
            inner = st.named_children[0]
            subs = list(inner.named_children)
            if isinstance(v, Known):
                items = v.value if isinstance(v.value, list) else ([] if v.value is None else [v])
                self.budget.spend(len(items) * (1 + len(subs)))
                out: list[Value] = []
                for item in items:
                    for s in subs:
                        item = self._step(item, s, src, scope)
                    out.append(item)
                return Known(out, v.loc)
            ref = v.ref if isinstance(v, Unknown) else None
            for s in subs:
                if s.type == "get_attr" and ref is not None:
                    ref = ref + "." + src.text(s.named_children[0])
            return unknown("splat of an unknown value", loc, ref=ref)
        return unknown("unsupported traversal", loc)

    def _get_attr(self, v: Value, name: str, loc: Location) -> Value:
        if isinstance(v, Known):
            if isinstance(v.value, dict):
                got = v.value.get(name)
                if got is not None:
                    return got
                return unknown(f"no attribute `{name}`", loc)
            return unknown(f"attribute `{name}` of a non-object", loc)
        if isinstance(v, Unknown):
            ref = f"{v.ref}.{name}" if v.ref else None
            return unknown(v.reason, loc, ref=ref)
        return unknown(f"attribute `{name}` of a string", loc)

    def _index(self, v: Value, key: Value, loc: Location) -> Value:
        if isinstance(v, Known) and isinstance(key, Known):
            if isinstance(v.value, list) and isinstance(key.value, int | float) and not isinstance(key.value, bool):
                i = int(key.value)
                if 0 <= i < len(v.value):
                    return v.value[i]
                return unknown("index out of range", loc)
            if isinstance(v.value, dict) and isinstance(key.value, str):
                got = v.value.get(key.value)
                return got if got is not None else unknown(f"no key `{key.value}`", loc)
            if isinstance(v.value, list) and isinstance(key.value, str) and key.value.isdigit():
                return self._index(v, Known(int(key.value), key.loc), loc)
        if isinstance(v, Unknown):
            return unknown(v.reason, loc, ref=v.ref)
        return unknown("index of an unknown value", loc)

    def _var(self, name: str, loc: Location) -> Value:
        if name in self._vars:
            return self._vars[name]
        self._vars[name] = unknown("variable (cycle)", loc, ref=f"var.{name}")
        value: Value
        if name in self.config.var_overrides:
            value = self.config.var_overrides[name]
        else:
            block = self.config.variables.get(name)
            default = block.attr("default") if block is not None else None
            got = self.eval(default.expr) if default is not None else None
            # `default = null` is a default: a variable not set is null, as in Terraform
            # (a key's `policy = var.policy` is then no policy); no default is unknown.
            if got is None:
                meaning = var_meaning(name, block)
                value = unknown(f"variable `{name}` has no default", loc, meaning, ref=f"var.{name}")
            else:
                value = got
        self._vars[name] = value
        return value

    def _local(self, name: str, loc: Location) -> Value:
        if name in self._locals:
            return self._locals[name]
        attr = self.config.locals.get(name)
        if attr is None:
            return unknown(f"local `{name}` is not defined", loc, ref=f"local.{name}")
        if name in self._busy:
            return unknown(f"local `{name}` refers to itself", loc, ref=f"local.{name}")
        self._busy.add(name)
        try:
            value = self.eval(attr.expr)
        finally:
            self._busy.discard(name)
        if value is None:
            value = unknown(f"local `{name}`", loc, ref=f"local.{name}")
        value = self._bounded(value, loc)
        self._locals[name] = value
        return value

    def _data_ref(self, steps: list[Node], src: Src, scope: Scope | None, loc: Location) -> Value:
        names: list[str] = []
        i = 0
        while i < len(steps) and len(names) < 3:
            st = steps[i]
            if st.type == "get_attr":
                names.append(src.text(st.named_children[0]))
            elif st.type == "splat" and len(names) == 2 and splat_attr(st, src) is not None:
                # data.x.y[*].attr: the attribute of every instance, a list (one(...) of it is usual).
                return data_instances(self, names[0], names[1], steps[i], src, scope, loc, steps[i + 1 :])
            elif st.type in ("index", "splat", "legacy_index") and len(names) == 2:
                pass  # data.x.y[0].attr: count/for_each instances are one logical data source
            else:
                break
            i += 1
        if len(names) < 3:
            return unknown("reference to a whole data source", loc, ref=self.config.prefix + "data." + ".".join(names))
        return self.data_attr(names[0], names[1], names[2], steps[i:], src, scope, loc)

    def data_attr(
        self, dtype: str, dname: str, attr: str, rest: list[Node], src: Src, scope: Scope | None, loc: Location
    ) -> Value:
        """``data.<dtype>.<dname>.<attr>`` followed by the traversal steps ``rest``."""
        ref = f"{self.config.prefix}data.{dtype}.{dname}.{attr}"
        if dtype == "aws_caller_identity" and attr in ("account_id", "id"):
            return unknown("the account ID is known at plan time", loc, Meaning.ACCOUNT_ID, ref)
        if dtype == "aws_partition" and attr in ("partition", "id"):
            return unknown("the partition is known at plan time", loc, Meaning.PARTITION, ref)
        if dtype == "aws_region" and attr in ("name", "region", "id"):
            return unknown("the region is known at plan time", loc, Meaning.REGION, ref)
        if dtype == "aws_iam_policy_document" and attr in ("json", "minified_json"):
            doc = self.policy_document(dname, loc)
            return self._steps(doc, rest, src, scope, loc)
        if dtype == "template_file" and attr == "rendered":
            return self._steps(template_file(self, dname, loc), rest, src, scope, loc)
        if attr == "arn":
            return unknown(f"the ARN of `data.{dtype}.{dname}`", loc, Meaning.RESOURCE_ARN, ref)
        return unknown(f"`{ref}` is read at plan time", loc, ref=ref)

    def _resource_ref(self, rtype: str, steps: list[Node], src: Src, scope: Scope | None, loc: Location) -> Value:
        names: list[str] = []
        i = 0
        while i < len(steps) and len(names) < 2:
            st = steps[i]
            if st.type == "get_attr":
                names.append(src.text(st.named_children[0]))
            elif st.type in ("index", "legacy_index") and len(names) == 1:
                pass  # aws_kms_key.k[0].arn: one logical resource
            elif st.type == "splat" and len(names) == 1:
                # aws_kms_key.k.*.arn / aws_kms_key.k[*].arn
                inner = st.named_children[0]
                for s in inner.named_children:
                    if s.type == "get_attr" and len(names) < 2:
                        names.append(src.text(s.named_children[0]))
            else:
                break
            i += 1
        prefix = self.config.prefix
        if not names:
            return unknown(f"`{rtype}`", loc, ref=prefix + rtype)
        rname = names[0]
        if len(names) < 2:
            return unknown(f"reference to resource `{rtype}.{rname}`", loc, ref=f"{prefix}{rtype}.{rname}")
        attr = names[1]
        ref = f"{prefix}{rtype}.{rname}.{attr}"
        if attr == "arn":
            return unknown(f"the ARN of `{rtype}.{rname}`", loc, Meaning.RESOURCE_ARN, ref)
        if attr in ("id", "key_id"):
            return unknown(f"the ID of `{rtype}.{rname}`", loc, Meaning.RESOURCE_ID, ref)
        return unknown(f"`{ref}` is known after apply", loc, ref=ref)

    # ------------------------------------------------------------------ templates and strings

    def _template(self, node: Node, src: Src, scope: Scope | None, *, final_newline: bool = True) -> Value:
        """A quoted string, a quoted template or a heredoc."""
        loc = src.loc(node)
        heredoc = node.type == "heredoc_template"
        segs = _segments(node, src)
        if segs is None:
            return unknown("malformed template", loc)
        region_start, region_end, pieces, flush = segs
        budget = self.budget
        budget.spend_bytes(region_end - region_start)
        # Escapes are undone a character at a time: each one costs a step.
        budget.spend(len(pieces) + src.data.count(b"\\", region_start, region_end))
        if any(kind == "dir" for kind, _, _ in pieces):
            return unknown("template directives (%{...}) are not evaluated", loc)
        values: dict[int, Value] = {}
        for kind, a, n in pieces:
            if kind == "interp" and n is not None:
                expr = next((c for c in n.named_children if c.type == "expression"), None)
                values[a] = self._node(expr, src, scope) if expr is not None else unknown("empty ${}", loc)
        # Literal text between the interpolations.
        lits: list[tuple[int, int]] = []
        prev = region_start
        for _kind, a, n in pieces:
            lits.append((prev, a))
            prev = n.end_byte if n is not None else a
        lits.append((prev, region_end))
        raw_lits = [src.data[s:e].decode("utf-8", "replace") for s, e in lits]
        if not final_newline and raw_lits and raw_lits[-1].endswith("\n"):
            raw_lits[-1] = raw_lits[-1][:-1]
        texts = [unescape_template_markers(t) if heredoc else unescape_quoted(t) for t in raw_lits]
        if heredoc and flush:
            texts = _strip_indent(texts)
        interps = [values[a] for kind, a, _ in pieces if kind == "interp"]
        if len(interps) == 1 and "".join(texts).strip() == "":
            return interps[0]
        joined = "".join(texts)
        if joined.lstrip()[:1] in ("{", "["):
            tree = self._json_template(node, src, heredoc, region_start, region_end, pieces, values)
            if tree is not None:
                return tree
            if any(not is_known_scalar(v) for v in interps):
                return unknown("not valid JSON until its unknown parts are filled in", loc)
        for v in interps:
            if v.__class__ is Conditional:
                return self.lift(interps, lambda values: self._join_text(texts, values, loc), loc)
        return self._join_text(texts, interps, loc)

    def _join_text(self, texts: list[str], interps: list[Value], loc: Location) -> Value:
        """The literal texts with the interpolated values between them, as one string value."""
        if not interps:
            return build_string(texts, loc, self.budget)  # type: ignore[arg-type]
        parts: list[str | Unknown] = []
        for i, text in enumerate(texts):
            parts.append(text)
            if i < len(interps):
                sp = string_parts(interps[i])
                if sp is None:
                    return unknown("a non-string value inside a string", loc)
                parts.extend(sp)
        return build_string(parts, loc, self.budget)

    def _json_template(
        self,
        node: Node,
        src: Src,
        heredoc: bool,
        region_start: int,
        region_end: int,
        pieces: list[tuple[str, int, Node | None]],
        values: dict[int, Value],
    ) -> Value | None:
        """JSON text with ``${}`` parts: parse it with placeholders, then put the values back."""
        from kmslint.parsers import jsonpos

        if len(pieces) > _PH_MAX:
            return None
        out: list[str] = []
        in_string = False
        escaped = False
        prev = region_start
        slots: list[Value] = []
        bare: set[int] = set()
        for _kind, a, n in pieces:
            lit = src.data[prev:a].decode("utf-8", "replace")
            if not heredoc:
                lit = unescape_quoted(lit)
            in_string, escaped = _json_string_state(lit, in_string, escaped)
            out.append(lit)
            assert n is not None
            original = src.data[n.start_byte : n.end_byte].decode("utf-8", "replace").split("\n", 1)[0]
            idx = len(slots)
            slots.append(values[a])
            mark = _PH_START + chr(_PH_BASE + idx)
            if in_string:
                out.append(mark + _PH_PAD * max(0, len(original) - 2))
            else:
                bare.add(idx)
                out.append('"' + mark + _PH_PAD * max(0, len(original) - 4) + '"')
            prev = n.end_byte
        tail = src.data[prev:region_end].decode("utf-8", "replace")
        out.append(tail if heredoc else unescape_quoted(tail))
        text = "".join(out)
        line_offset, col_offset = _text_offsets(src, heredoc, region_start)
        twice: list[DuplicateKey] = []
        try:
            tree = jsonpos.parse(
                text,
                src.display,
                line_offset=line_offset,
                first_line_col_offset=col_offset,
                max_depth=self.max_depth,
                budget=self.budget,
                duplicates=twice,
            )
        except jsonpos.JSONSyntaxError:
            return None
        self.duplicate_keys.update(dict.fromkeys(twice))
        return _fill(tree, slots, bare, heredoc, src.fixed, self)

    # ------------------------------------------------------------------ functions

    def _call(self, node: Node, src: Src, scope: Scope | None) -> Value:
        loc = src.loc(node)
        ident = node.named_children[0]
        name = src.text(ident)
        args_node = next((c for c in node.named_children if c.type == "function_arguments"), None)
        arg_nodes = [] if args_node is None else [c for c in args_node.named_children if c.type == "expression"]
        expand = args_node is not None and any(c.type == "ellipsis" for c in args_node.named_children)
        fn = FUNCTIONS.get(name.rsplit("::", 1)[-1] if name.startswith("core::") else name)
        if fn is None:
            return unknown(f"function {name}() is not evaluated", loc)
        args = [self._node(a, src, scope) for a in arg_nodes]
        if _any_conditional(args):
            result = self.lift(args, lambda plain: self._apply(fn, name, expand, plain, loc), loc)
        else:
            result = self._apply(fn, name, expand, args, loc)
        return self._bounded(result, loc)

    def _apply(self, fn: Function, name: str, expand: bool, args: list[Value], loc: Location) -> Value:
        """A function applied to plain arguments (``expand``: the last one is spread, ``f(xs...)``)."""
        if expand and args:
            last = args[-1]
            if isinstance(last, Known) and isinstance(last.value, list):
                args = args[:-1] + list(last.value)
            else:
                return unknown(f"{name}() with an unknown argument list", loc)
        try:
            return fn(self, args, loc)
        except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, OverflowError) as exc:
            return unknown(f"{name}() failed: {exc}", loc)

    def read_file(self, path_value: Value, loc: Location) -> tuple[Path, str] | Unknown:
        """Read a file named by ``file()`` / ``templatefile()``, inside the scan root only.

        Containment is decided first, by path components with symlinks
        resolved, whether the file exists or not: the message for a path
        outside the tree is the same either way, so a template cannot probe
        the machine for files.
        """
        if not (isinstance(path_value, Known) and isinstance(path_value.value, str)):
            return unknown("file path is not known", loc)
        rel = path_value.value
        self.files_tried.append((str(self.config.directory), rel))
        outside = unknown(f"file `{rel}` is outside the scanned tree", loc)
        root = self.opts.scan_root
        if root is None:
            return outside
        try:
            target = Path(rel)
            if not target.is_absolute():
                target = self.config.directory / target
            resolved = target.resolve()  # not strict: a missing file is judged by where it would be
            inside = resolved.is_relative_to(root.resolve())
        except (OSError, RuntimeError, ValueError):
            return unknown(f"file `{rel}` cannot be read", loc)
        if not inside:
            return outside
        try:
            is_file = resolved.is_file()
            exists = is_file or resolved.exists()
        except (OSError, ValueError):
            exists = is_file = False
        if not is_file:
            return unknown(f"`{rel}` is not a file" if exists else f"file `{rel}` cannot be read", loc)
        try:
            text = self.opts.read_text(resolved)
        except ParseFailure as exc:
            return unknown(f"file `{rel}` cannot be read ({exc.message})", loc)
        return resolved, text

    def synthetic_template(
        self, text: str, display: str, scope: Scope | None, *, row_offset: int, fixed: Location | None
    ) -> Value:
        """Evaluate template text (a template file, a ``.tf.json`` string) as a heredoc."""
        where = fixed or Location.point(display, 1)
        self.budget.spend(_TEMPLATE_STEPS)
        parsed = self._parsed_template(text, display, row_offset, fixed)
        if parsed is None:
            return unknown("template syntax is not valid", where)
        node, tsrc = parsed
        try:
            value = self._template(node, tsrc, scope, final_newline=False)
        except (_Fail, RecursionError):
            stop = BudgetExceeded(f"the template nests deeper than {self._max_nesting} levels")
            stop.where = where
            raise stop from None
        if fixed is None and isinstance(value, Known) and isinstance(value.value, str):
            lines = text.split("\n")
            return Known(value.value, Location(display, 1, 1, len(lines), len(lines[-1]) + 1))
        return value

    def _parsed_template(
        self, text: str, display: str, row_offset: int, fixed: Location | None
    ) -> tuple[Node, Src] | None:
        """The heredoc node of template text and its source, parsed once per text and place.

        A template read in a ``for`` expression, or a ``.tf.json`` string in a
        ``dynamic`` block, is evaluated once per item: parsing it again each
        time cost what the first parse did (~0.4 us a byte).
        """
        key = (text, display, row_offset, fixed)
        if key in self._parsed:
            return self._parsed[key]
        marker = "KMSLINT_TEMPLATE_END"
        while marker in text:
            marker += "_"
        source = f"x = <<{marker}\n{text}\n{marker}\n".encode("utf-8", "surrogatepass")
        try:
            tree = hcl_tree(source, self.budget)
        except ParseTimeout as exc:
            # Not an Unknown: what could not be read must not pass as checked.
            stop = BudgetExceeded(f"the template could not be parsed ({exc.message})")
            stop.where = fixed or Location.point(display, max(exc.line - 1, 1))
            raise stop from None
        node = None if tree.root_node.has_error else _find_heredoc(tree.root_node)
        parsed = None if node is None else (node, Src(display, source, None, row_offset=row_offset, fixed=fixed))
        self._parsed[key] = parsed
        self._trees.append(tree)  # its nodes live as long as the tree
        return parsed

    # ------------------------------------------------------------------ for / conditional / operators

    def _for(self, node: Node, src: Src, scope: Scope | None) -> Value:
        loc = src.loc(node)
        intro = next((c for c in node.named_children if c.type == "for_intro"), None)
        if intro is None:
            return unknown("for expression", loc)
        idents = [src.text(c) for c in intro.named_children if c.type == "identifier"]
        coll_node = next((c for c in intro.named_children if c.type == "expression"), None)
        if coll_node is None or not idents:
            return unknown("for expression", loc)
        coll = self._node(coll_node, src, scope)
        if isinstance(coll, Conditional):
            # Over each branch's collection.
            return self.lift([coll], lambda c: self._for_over(node, src, scope, c[0], loc), loc)
        return self._for_over(node, src, scope, coll, loc)

    def _for_over(self, node: Node, src: Src, scope: Scope | None, coll: Value, loc: Location) -> Value:
        """A ``for`` expression over a plain collection value."""
        intro = next((c for c in node.named_children if c.type == "for_intro"), None)
        idents = [src.text(c) for c in intro.named_children if c.type == "identifier"] if intro is not None else []
        exprs = [c for c in node.named_children if c.type == "expression"]
        cond_node = next((c for c in node.named_children if c.type == "for_cond"), None)
        grouping = any(c.type == "ellipsis" for c in node.named_children)
        if not isinstance(coll, Known) or not isinstance(coll.value, list | dict):
            return unknown("for expression over an unknown collection", loc)
        pairs = _keyed(coll.value)
        is_object = node.type == "for_object_expr"
        list_out: list[Value] = []
        obj_out: dict[str, Value] = {}
        groups: dict[str, list[Value]] = {}  # `...`: the list each key collects into
        budget = self.budget
        after_spread = False
        for k, v in pairs:
            budget.spend()
            if is_spread(v):
                # Any number of unknown elements (concat() of an unknown list): they stay so in a
                # list; an object's keys would be unknown.
                if is_object:
                    return unknown("for expression over a list of unknown length", loc)
                list_out.append(v)
                after_spread = True
                continue
            if after_spread:
                k = unknown("the index of an element after an unknown part of the list", k.loc)
            names = {idents[0]: v} if len(idents) == 1 else {idents[0]: k, idents[1]: v}
            inner = Scope(names, scope)
            if cond_node is not None:
                cexpr = next((c for c in cond_node.named_children if c.type == "expression"), None)
                cond = self._node(cexpr, src, inner) if cexpr is not None else None
                if not (isinstance(cond, Known) and isinstance(cond.value, bool)):
                    return unknown("for expression filter is not known", loc)
                if not cond.value:
                    continue
            if is_object:
                if len(exprs) < 2:
                    return unknown("for expression", loc)
                key = self._node(exprs[0], src, inner)
                if not is_known_scalar(key) or not isinstance(key, Known) or key.value is None:
                    return unknown("for expression key is not known", loc)
                val = self._node(exprs[1], src, inner)
                ktext = scalar_text(key.value)
                if grouping:
                    group = groups.get(ktext)
                    if group is None:
                        group = groups[ktext] = []
                        obj_out[ktext] = Known(group, loc)
                    group.append(val)
                else:
                    obj_out[ktext] = val
            else:
                if not exprs:
                    return unknown("for expression", loc)
                list_out.append(self._node(exprs[0], src, inner))
        return self._bounded(Known(obj_out, loc) if is_object else Known(list_out, loc), loc)

    def _conditional(self, node: Node, src: Src, scope: Scope | None) -> Value:
        """``cond ? a : b`` (see :func:`kmslint.parsers.hcl_cond.conditional`)."""
        from kmslint.parsers import hcl_cond

        return hcl_cond.conditional(self, node, src, scope)

    def choice(
        self, condition: str, then: Value, otherwise: Value, loc: Location | None, decides: tuple[Location, ...] = ()
    ) -> Value:
        """The value that is ``then`` when ``condition`` holds, else ``otherwise``
        (see :func:`kmslint.parsers.hcl_cond.choice`)."""
        from kmslint.parsers import hcl_cond

        return hcl_cond.choice(self, condition, then, otherwise, loc, decides)

    def lift(self, args: list[Value], apply: Callable[[list[Value]], Value], loc: Location | None) -> Value:
        """``apply(args)``, distributed over the Conditionals among ``args``
        (see :func:`kmslint.parsers.hcl_cond.lift`)."""
        if not _any_conditional(args):
            return apply(args)
        from kmslint.parsers import hcl_cond

        return hcl_cond.lift(self, args, apply, loc)

    def _operands(self, node: Node) -> tuple[list[list[Node]], str]:
        groups: list[list[Node]] = [[]]
        op = ""
        for c in node.children:
            if c.is_named:
                if c.type == "comment":
                    continue
                if c.type in _TRAVERSALS and groups[-1]:
                    groups[-1].append(c)
                else:
                    if groups[-1]:
                        groups.append([])
                    groups[-1].append(c)
            elif c.type not in ("(", ")"):  # `!(a)`: the parentheses are no operator
                op = c.type
                if groups[-1]:
                    groups.append([])
        return [g for g in groups if g], op

    def _unary(self, node: Node, src: Src, scope: Scope | None) -> Value:
        loc = src.loc(node)
        groups, op = self._operands(node)
        if len(groups) != 1:
            return unknown("operation", loc)
        operand = self._term(groups[0], src, scope)
        if operand.__class__ is Conditional:
            return self.lift([operand], lambda plain: self._negate(op, plain[0], node, src, loc), loc)
        return self._negate(op, operand, node, src, loc)

    def _negate(self, op: str, v: Value, node: Node, src: Src, loc: Location) -> Value:
        """``!v`` or ``-v`` of a plain operand."""
        if isinstance(v, Known):
            if op == "!" and isinstance(v.value, bool):
                return Known(not v.value, loc)
            if op == "-" and isinstance(v.value, int | float) and not isinstance(v.value, bool):
                return Known(-v.value, loc)
        return unknown(f"`{src.text(node)[:60]}`", loc)

    def _binary(self, node: Node, src: Src, scope: Scope | None) -> Value:
        loc = src.loc(node)
        groups, op = self._operands(node)
        if len(groups) != 2:
            return unknown("operation", loc)
        first = self._term(groups[0], src, scope)
        if op in ("&&", "||") and isinstance(first, Known) and isinstance(first.value, bool):
            if op == "&&" and not first.value:
                return Known(False, loc)
            if op == "||" and first.value:
                return Known(True, loc)
        second = self._term(groups[1], src, scope)
        if first.__class__ is Conditional or second.__class__ is Conditional:
            return self.lift([first, second], lambda ab: self._operate(op, ab[0], ab[1], node, src, loc), loc)
        return self._operate(op, first, second, node, src, loc)

    def _operate(self, op: str, a: Value, b: Value, node: Node, src: Src, loc: Location) -> Value:
        """``a op b`` of two plain operands."""
        if op in ("&&", "||") and isinstance(a, Known) and isinstance(a.value, bool):
            if op == "&&" and not a.value:
                return Known(False, loc)
            if op == "||" and a.value:
                return Known(True, loc)
        if op in ("&&", "||") and isinstance(b, Known) and isinstance(b.value, bool):
            if op == "&&" and not b.value:
                return Known(False, loc)  # false whatever the other side is
            if op == "||" and b.value:
                return Known(True, loc)
        if not (isinstance(a, Known) and isinstance(b, Known)):
            return unknown(f"`{src.text(node)[:60]}`", loc)
        x, y = a.value, b.value
        if op in ("==", "!="):
            same = self._plain(a) == self._plain(b)
            return Known(same if op == "==" else not same, loc)
        if op in ("&&", "||") and isinstance(x, bool) and isinstance(y, bool):
            return Known((x and y) if op == "&&" else (x or y), loc)
        nx, ny = number(x), number(y)
        if nx is None or ny is None:
            return unknown(f"`{src.text(node)[:60]}`", loc)
        if op == "+":
            return Known(num_result(nx + ny), loc)
        if op == "-":
            return Known(num_result(nx - ny), loc)
        if op == "*":
            return Known(num_result(nx * ny), loc)
        if op == "/" and ny != 0:
            return Known(num_result(nx / ny), loc)
        if op == "%" and ny != 0:
            return Known(num_result(math.fmod(nx, ny)), loc)
        if op in ("<", ">", "<=", ">="):
            res = {"<": nx < ny, ">": nx > ny, "<=": nx <= ny, ">=": nx >= ny}[op]
            return Known(res, loc)
        return unknown(f"`{src.text(node)[:60]}`", loc)

    # ------------------------------------------------------------------ .tf.json values

    def _json(self, value: Value, src: Src, scope: Scope | None) -> Value:
        self._enter()
        try:
            self.budget.spend()
            if isinstance(value, Known):
                v = value.value
                if isinstance(v, str):
                    if "${" in v or "%{" in v:
                        return self.synthetic_template(
                            v, src.display, scope, row_offset=0, fixed=value.loc or Location.point(src.display, 1)
                        )
                    if "$${" in v or "%%{" in v:
                        return Known(unescape_template_markers(v), value.loc)
                    return value
                if isinstance(v, dict):
                    return Known({k: self._json(x, src, scope) for k, x in v.items() if k != "//"}, value.loc)
                if isinstance(v, list):
                    return Known([self._json(x, src, scope) for x in v], value.loc)
            return value
        except BudgetExceeded as exc:
            if exc.where is None:
                exc.where = value.loc
            raise
        finally:
            self._leave()

    # ------------------------------------------------------------------ blocks

    def expand_blocks(
        self, block: Block, btype: str, scope: Scope | None
    ) -> list[tuple[Block | Unknown, Scope | None, Location]]:
        """Nested blocks of one type, literal ones and ``dynamic`` ones expanded, in source order.

        Each item is ``(block, scope, where)``: ``where`` is the literal block,
        or the ``dynamic`` block an expanded copy comes from.  A ``dynamic``
        block whose ``for_each`` is unknown (or conditional) gives one
        :class:`Unknown` item: it may stand for any number of blocks.
        """
        return [(b, s, w) for b, s, w, _when in self.expand_blocks_when(block, btype, scope, branches=False)]

    def expand_blocks_when(
        self, block: Block, btype: str, scope: Scope | None, *, branches: bool = True
    ) -> list[tuple[Block | Unknown, Scope | None, Location, Branch]]:
        """As :meth:`expand_blocks`, each item with the branch it exists on: a ``dynamic`` block
        whose ``for_each`` is a conditional (``var.x ? [1] : []``) gives the blocks of each
        branch's collection (at most :data:`~kmslint.model.MAX_BRANCHES` branches), each with its
        branch; every other item exists on every branch (``()``)."""
        items: list[tuple[Block | Unknown, Scope | None, Location, Branch]] = [
            (b, scope, b.loc, ()) for b in block.children(btype)
        ]
        for dyn in block.dynamic(btype):
            content = next(iter(dyn.children("content")), None)
            if content is None:
                continue
            it_name = btype
            it_attr = dyn.attr("iterator")
            if it_attr is not None:
                if it_attr.expr.node is not None:
                    it_name = it_attr.expr.src.text(it_attr.expr.node).strip()
                else:
                    got = self.eval(it_attr.expr)
                    if isinstance(got, Known) and isinstance(got.value, str):
                        it_name = got.value
            coll = self.eval_attr(dyn, "for_each", scope)
            readings = list(model_branches(coll)) if branches and isinstance(coll, Conditional) else [((), coll)]
            for when, each in readings:
                pairs = _keyed(each.value) if isinstance(each, Known) and isinstance(each.value, list | dict) else None
                if pairs is None:
                    why = f"dynamic `{btype}` blocks over an unknown collection"
                    items.append((unknown(why, dyn.loc), scope, dyn.loc, when))
                    continue
                self.budget.spend(len(pairs) + 1)
                for k, v in pairs:
                    it = Scope({it_name: Known({"key": k, "value": v}, dyn.loc)}, scope)
                    items.append((content, it, dyn.loc, when))
        # Stable: the copies of one dynamic block keep their for_each order.
        items.sort(key=lambda it: (it[2].line, it[2].column))
        return items

    # ------------------------------------------------------------------ policy documents

    def policy_document(self, name: str, loc: Location) -> Value:
        """``data "aws_iam_policy_document" name`` as an IAM JSON value tree."""
        if name in self._docs:
            return self._docs[name]
        block = self.config.data.get(("aws_iam_policy_document", name))
        if block is None:
            ref = f"data.aws_iam_policy_document.{name}"
            return unknown(f"policy document `{name}` is not defined here", loc, ref=ref)
        self._docs[name] = unknown("policy document refers to itself", loc)
        from kmslint.parsers.tf_policy import build_policy_document  # a lint without one does not pay

        doc = build_policy_document(self, block)
        self._docs[name] = doc
        return doc


def _expr_loc(expr: Expr) -> Location | None:
    if expr.node is not None:
        return expr.src.loc(expr.node)
    return expr.json.loc if expr.json is not None else None


def _keyed(collection: list[Value] | dict[str, Value]) -> list[tuple[Value, Value]]:
    """A list's (index, element) or a map's (key, value) pairs, each key located at its value."""
    if isinstance(collection, list):
        return [(Known(i, v.loc), v) for i, v in enumerate(collection)]
    return [(Known(k, v.loc), v) for k, v in collection.items()]


def _json_string_state(text: str, in_string: bool, escaped: bool) -> tuple[bool, bool]:
    """After JSON ``text`` read from a state (inside a string? after a backslash?), the state."""
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
    return in_string, escaped


def _text_offsets(src: Src, heredoc: bool, region_start: int) -> tuple[int, int]:
    """The line and first-line column offsets of a template's text starting at ``region_start``."""
    if src.fixed is not None:
        return 0, 0
    row = src.row_of(region_start)
    if heredoc:
        return row + src.row_offset, 0
    return row + src.row_offset, src.col(row, region_start - src.line_starts()[row]) - 1


def _find_heredoc(root: Node) -> Node | None:
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "heredoc_template":
            return n
        stack.extend(n.named_children)
    return None


def _segments(node: Node, src: Src) -> tuple[int, int, list[tuple[str, int, Node | None]], bool] | None:
    """(region start, region end, [(kind, start byte, node)], flush) of a template.

    The region is the raw text between the quotes, or between the heredoc's
    opening line and its closing marker line.
    """
    pieces: list[tuple[str, int, Node | None]] = []
    flush = False
    if node.type == "heredoc_template":
        idents = [c for c in node.children if c.type == "heredoc_identifier"]
        start_node = next((c for c in node.children if c.type == "heredoc_start"), None)
        flush = start_node is not None and src.text(start_node).strip() == "<<-"
        if len(idents) < 2:
            return None
        nl = src.data.find(b"\n", idents[0].end_byte)
        if nl == -1:
            return None
        region_start = nl + 1
        close = idents[-1]
        region_end = src.line_starts()[src.row_of(close.start_byte)]
        if region_end < region_start:
            region_end = region_start
    else:
        children = node.children
        if not children:
            return None
        region_start = children[0].end_byte if children[0].type == "quoted_template_start" else node.start_byte
        region_end = children[-1].start_byte if children[-1].type == "quoted_template_end" else node.end_byte
    for c in node.children:
        if c.type == "template_interpolation":
            pieces.append(("interp", c.start_byte, c))
        elif c.type == "template_directive":
            pieces.append(("dir", c.start_byte, c))
    return region_start, region_end, pieces, flush


def _strip_indent(texts: list[str]) -> list[str]:
    """``<<-`` heredocs: remove the common leading whitespace of every line."""
    joined = "\x00".join(texts)
    lines = joined.split("\n")
    widths = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip(" \t\x00")]
    indent = min(widths) if widths else 0
    if indent == 0:
        return texts
    out_lines = [ln[min(indent, len(ln) - len(ln.lstrip(" \t"))) :] for ln in lines]
    return "\n".join(out_lines).split("\x00")


def _fill(
    tree: Value, slots: list[Value], bare: set[int], heredoc: bool, fixed: Location | None, ev: Evaluator
) -> Value:
    """Put interpolated values back where placeholders are in a parsed JSON tree."""
    return _Filler(slots, bare, heredoc, ev).walk(tree, 0)


class _Filler:
    """:func:`_fill`'s work.  A class, not nested functions: a recursive closure refers to
    itself, a cycle that kept the evaluator -- and with it every block and syntax tree of
    the configuration -- until a garbage collection, which kmslint.entry makes rare."""

    __slots__ = ("bare", "budget", "ev", "heredoc", "slots")

    def __init__(self, slots: list[Value], bare: set[int], heredoc: bool, ev: Evaluator) -> None:
        self.slots = slots
        self.bare = bare
        self.heredoc = heredoc
        self.ev = ev
        self.budget = ev.budget

    def text_of(self, s: str, loc: Location | None) -> Value:
        heredoc = self.heredoc
        if _PH_START not in s:
            return Known(unescape_template_markers(s) if heredoc else s, loc)
        slots = self.slots
        m = _PLACEHOLDER.fullmatch(s)
        if m is not None:
            idx = ord(m.group(1)) - _PH_BASE
            if idx in self.bare:
                return slots[idx]
        found = [ord(m.group(1)) - _PH_BASE for m in _PLACEHOLDER.finditer(s)]
        if any(not 0 <= idx < len(slots) for idx in found):
            return unknown("a non-string value inside a string", loc)
        # A string holding a conditional is the string of each of its branches, located here.
        return self.ev.lift([slots[idx] for idx in found], lambda values: self._joined(s, values, loc), loc)

    def _joined(self, s: str, values: list[Value], loc: Location | None) -> Value:
        """``s`` with its placeholders, in order, replaced by ``values``."""
        heredoc = self.heredoc
        parts: list[str | Unknown] = []
        pos = 0
        for m, value in zip(_PLACEHOLDER.finditer(s), values, strict=True):
            lit = s[pos : m.start()]
            parts.append(unescape_template_markers(lit) if heredoc else lit)
            sp = string_parts(value)
            if sp is None:
                return unknown("a non-string value inside a string", loc)
            parts.extend(sp)
            pos = m.end()
        tail = s[pos:]
        parts.append(unescape_template_markers(tail) if heredoc else tail)
        return build_string(parts, loc, self.budget)

    def key_of(self, k: str) -> str:
        if _PH_START not in k:
            return unescape_template_markers(k) if self.heredoc else k
        v = self.text_of(k, None)
        if isinstance(v, Known) and isinstance(v.value, str):
            return v.value
        plain = self.ev._plain(v)
        return plain if isinstance(plain, str) else json.dumps(plain)

    def walk(self, v: Value, depth: int) -> Value:
        self.budget.spend()
        if depth > 1000:
            return unknown("too deep", v.loc)
        if isinstance(v, Known):
            if isinstance(v.value, str):
                return self.text_of(v.value, v.loc)
            if isinstance(v.value, dict):
                return Known({self.key_of(k): self.walk(x, depth + 1) for k, x in v.value.items()}, v.loc)
            if isinstance(v.value, list):
                return Known([self.walk(x, depth + 1) for x in v.value], v.loc)
        return v


# --------------------------------------------------------------------------- functions

# What evaluating a template text costs before its nodes: a lookup, a Src, a heredoc.
_TEMPLATE_STEPS = 16
