"""``data "aws_iam_policy_document"`` as the IAM JSON it renders.

The tree is what the AWS provider would produce: one ``Statement`` per
``statement`` block (``dynamic "statement"`` over a known collection
expanded), ``principals``/``not_principals`` grouped by type,
``condition`` blocks as ``{test: {variable: values}}``, ``effect``
defaulting to ``Allow``, and ``source_policy_documents`` /
``override_policy_documents`` merged by ``sid`` the way the provider merges
them.  Every statement is located at its ``statement { ... }`` block, every
principal list and condition value at the attribute it was written in.
"""

from __future__ import annotations

import json

from kmslint.model import Branch, Conditional, Interpolated, Known, Location, Unknown, Value, branches, known_str
from kmslint.parsers.common import as_go_reads_json

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from kmslint.parsers.hcl_eval import Evaluator
    from kmslint.parsers.hcl_syntax import Block
    from kmslint.parsers.hcl_values import Scope

POLICY_VERSION = "2012-10-17"

_LIST_ATTRS = (
    ("actions", "Action"),
    ("not_actions", "NotAction"),
    ("resources", "Resource"),
    ("not_resources", "NotResource"),
)


def build_policy_document(ev: Evaluator, block: Block) -> Value:
    version = ev.eval_attr(block, "version") or Known(POLICY_VERSION, block.header)
    policy_id = ev.eval_attr(block, "policy_id")

    statements = _Statements()
    # 1. source documents: their statements, in order.
    for name, many in (("source_policy_documents", True), ("source_json", False)):
        for doc in _documents(ev, block, name, many):
            for st in _branch_statements(ev, doc, many):
                statements.append(st)
    # 2. this document's statements replace source statements with the same sid.
    for item, scope, where, when in ev.expand_blocks_when(block, "statement", None):
        if isinstance(item, Unknown):
            statements.append(_only_when(item, when))
            continue
        st = _statement(ev, item, scope, where)
        if when:
            statements.append(_only_when(st, when))  # no Sid to merge by until its branch is chosen
        else:
            statements.merge(st)
    # 3. override documents replace statements with the same sid.
    for name, many in (("override_policy_documents", True), ("override_json", False)):
        for doc in _documents(ev, block, name, many):
            for st in _statements_of(ev, doc):
                statements.merge(st)

    tree: dict[str, Value] = {"Version": version}
    if policy_id is not None:
        tree["Id"] = policy_id
    tree["Statement"] = Known(statements.items, block.loc)
    return Known(tree, block.loc)


def _only_when(st: Value, when: Branch) -> Value:
    """A statement that exists only on branch ``when`` (a ``dynamic "statement"`` over
    ``var.x ? [1] : []``): a list element that is absent (None) on every other branch."""
    for name, side in reversed(when):
        st = Conditional(name, st if side else None, None if side else st, st.loc)
    return st


def _documents(ev: Evaluator, block: Block, name: str, many: bool) -> list[Value]:
    value = ev.eval_attr(block, name)
    if value is None or (isinstance(value, Known) and value.value is None):
        return []
    if many:
        if isinstance(value, Known) and isinstance(value.value, list):
            return list(value.value)
        return [value]  # unknown list: its statements are unknown
    return [value]


def _branch_statements(ev: Evaluator, doc: Value, many: bool) -> list[Value]:
    """The statements of a source document, or of each document a conditional chooses
    (``var.x ? [data.a.json] : []``), each present only on its branch.  (Override documents
    are not read this way: one chosen on a branch would replace by Sid only there.)"""
    if not isinstance(doc, Conditional):
        return _statements_of(ev, doc)
    out: list[Value] = []
    for when, plain in branches(doc):
        if plain is None:
            continue
        docs = list(plain.value) if many and isinstance(plain, Known) and isinstance(plain.value, list) else [plain]
        ev.budget.spend(len(docs))
        for one in docs:
            out.extend(_only_when(st, when) for st in _statements_of(ev, one))
    return out


def _statements_of(ev: Evaluator, doc: Value) -> list[Value]:
    """The statements of a source/override document; an unknown one gives one Unknown."""
    if isinstance(doc, Known) and isinstance(doc.value, str):
        from kmslint.policy.document import _from_plain

        ev.budget.spend(len(doc.value) >> 2)
        try:
            doc = _from_plain(as_go_reads_json(doc.value, json.loads(doc.value)), doc.loc or Location.point("", 1))
        except (ValueError, RecursionError):
            return [Unknown("a merged policy document is not valid JSON", doc.loc)]
    if isinstance(doc, Known) and isinstance(doc.value, dict):
        for key, stmts in doc.value.items():
            if key.lower() == "statement":
                if isinstance(stmts, Known) and isinstance(stmts.value, list):
                    return list(stmts.value)
                if isinstance(stmts, Known) and isinstance(stmts.value, dict):
                    return [stmts]
                return [Unknown("statements of a merged document are unknown", stmts.loc)]
        return []
    if isinstance(doc, Known) and doc.value is None:
        return []
    loc = doc.loc if doc is not None else None
    reason = doc.reason if isinstance(doc, Unknown) else "a merged policy document is not known"
    return [Unknown(reason, loc)]


def _sid(st: Value) -> str | None:
    if isinstance(st, Known) and isinstance(st.value, dict):
        for k, v in st.value.items():
            if k.lower() == "sid":
                text = known_str(v)
                return text if text else None
    return None


class _Statements:
    """The statement list being built, with where each Sid first is: the provider merges
    by Sid, and a list scanned for each statement merged was quadratic (a ``dynamic``
    block over 10,000 items: minutes)."""

    __slots__ = ("by_sid", "items")

    def __init__(self) -> None:
        self.items: list[Value] = []
        self.by_sid: dict[str, int] = {}

    def append(self, st: Value) -> None:
        sid = _sid(st)
        if sid is not None:
            self.by_sid.setdefault(sid, len(self.items))
        self.items.append(st)

    def merge(self, st: Value) -> None:
        """Replace the first statement with the same Sid, else append."""
        sid = _sid(st)
        at = self.by_sid.get(sid) if sid is not None else None
        if at is None:
            self.append(st)
        else:
            self.items[at] = st


def _statement(ev: Evaluator, sb: Block, scope: Scope | None, where: Location) -> Value:
    d: dict[str, Value] = {}
    sid = ev.eval_attr(sb, "sid", scope)
    if sid is not None and not (isinstance(sid, Known) and sid.value in (None, "")):
        d["Sid"] = sid
    effect = ev.eval_attr(sb, "effect", scope)
    if effect is None or (isinstance(effect, Known) and effect.value is None):
        effect = Known("Allow", where)
    d["Effect"] = effect
    for kind, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        principal = _principals(ev, sb, kind, scope)
        if principal is not None:
            d[key] = principal
    for attr, key in _LIST_ATTRS:
        v = ev.eval_attr(sb, attr, scope)
        if v is not None and not (isinstance(v, Known) and v.value is None):
            d[key] = v
    condition = _conditions(ev, sb, scope)
    if condition is not None:
        d["Condition"] = condition
    return Known(d, where)


def _principals(ev: Evaluator, sb: Block, kind: str, scope: Scope | None) -> Value | None:
    items = ev.expand_blocks(sb, kind, scope)
    if not items:
        return None
    out: dict[str, list[Value]] = {}
    locs: dict[str, Location] = {}
    first = items[0][2]
    for item, inner, where in items:
        if isinstance(item, Unknown):
            out.setdefault("AWS", []).append(item)
            locs.setdefault("AWS", where)
            continue
        ptype = ev.eval_attr(item, "type", inner)
        ids = ev.eval_attr(item, "identifiers", inner)
        type_text = known_str(ptype)
        if type_text is None:
            return Unknown("principal type is not known", item.loc)
        bucket = out.setdefault(type_text, [])
        id_attr = item.attr("identifiers")
        locs.setdefault(type_text, id_attr.loc if id_attr is not None else item.loc)
        if ids is None:
            continue
        if isinstance(ids, Known) and isinstance(ids.value, list):
            bucket.extend(ids.value)
        else:
            bucket.append(ids)  # a single string, an unknown list, or a conditional one
    grouped: dict[str, Value] = {}
    for t, vals in out.items():
        where = locs[t]
        grouped[t] = ev.lift(vals, lambda items, where=where: _spread(items, where), where)  # type: ignore[misc]
    return Known(grouped, first)


def _spread(items: list[Value], loc: Location) -> Value:
    """One principal list from the identifiers of a type's blocks: a list that a conditional
    chose (``identifiers = var.open ? ["*"] : [local.role]``) is spread into it."""
    out: list[Value] = []
    for item in items:
        if isinstance(item, Known) and isinstance(item.value, list):
            out.extend(item.value)
        else:
            out.append(item)
    return Known(out, loc)


def _conditions(ev: Evaluator, sb: Block, scope: Scope | None) -> Value | None:
    items = ev.expand_blocks(sb, "condition", scope)
    if not items:
        return None
    ops: dict[str, dict[str, Value]] = {}
    op_locs: dict[str, Location] = {}
    first = items[0][2]
    for item, inner, _where in items:
        if isinstance(item, Unknown):
            return Unknown(item.reason, item.loc)
        test = known_str(ev.eval_attr(item, "test", inner))
        variable = ev.eval_attr(item, "variable", inner)
        var_text = known_str(variable)
        if var_text is None and isinstance(variable, Interpolated):
            return Unknown("condition variable is not known", item.loc)
        if test is None or var_text is None:
            return Unknown("condition test or variable is not known", item.loc)
        values = ev.eval_attr(item, "values", inner)
        vattr = item.attr("values")
        vloc = vattr.loc if vattr is not None else item.loc
        if values is None:
            values = Known([], vloc)
        tests = ops.setdefault(test, {})
        op_locs.setdefault(test, item.loc)
        if var_text in tests:
            prev = tests[var_text]
            if (
                isinstance(prev, Known)
                and isinstance(prev.value, list)
                and isinstance(values, Known)
                and isinstance(values.value, list)
            ):
                tests[var_text] = Known([*prev.value, *values.value], prev.loc)
            else:
                tests[var_text] = Unknown("condition values are not known", vloc)
        else:
            tests[var_text] = values
    return Known({op: Known(t, op_locs[op]) for op, t in ops.items()}, first)
