"""Terraform conditionals: ``a ? b : c`` evaluated, and operations lifted over them.

A conditional whose condition is not known is a :class:`~kmslint.model.Conditional`
on the condition as written (an :class:`~kmslint.model.Expression`: whitespace
normalised, clipped), so that every branch is checked and two ternaries on the
same text take the same side in one resolution.  An operator, a function call,
a template, an attribute or index step or a ``for`` expression applied to one
is applied to each of its branches (:func:`lift`); the evaluator
(:mod:`kmslint.parsers.hcl_eval`) calls in here only when a value is
conditional, so a configuration without ternaries never imports this module.

Bounds: one operation combines at most :data:`MAX_LIFT_LEAVES` branches; past
that its last conditional operands count as unknown (a partly-known result
keeps its known parts), and every combination worked out is a step of the
unit's budget.  A chain of ternaries is read without recursion.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from kmslint.model import (
    MAX_BRANCHES,
    Conditional,
    Expression,
    Interpolated,
    Known,
    Location,
    Meaning,
    Unknown,
    Value,
    to_plain,
)
from kmslint.parsers.hcl_values import fewer_nodes_than, unknown

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from tree_sitter import Node

    from kmslint.parsers.hcl_eval import Evaluator
    from kmslint.parsers.hcl_syntax import Src
    from kmslint.parsers.hcl_values import Scope


def conditional(ev: Evaluator, node: Node, src: Src, scope: Scope | None) -> Value:
    """``cond ? a : b``: the chosen side when ``cond`` is known, else a Conditional on
    ``cond`` as written (a condition that is itself conditional is decided on each of its
    branches).  A side is evaluated only when some branch needs it.

    A chain ``a ? x : b ? y : z`` is read as HCL reads it, ``a ? x : (b ? y : z)``, and
    worked out from its end without recursion: 200 links are 200 steps, not 200 frames.
    """
    loc = src.loc(node)
    chain = _chain_of(node)
    if chain is None:
        return unknown("conditional", loc)
    links, last = chain
    open_links: list[tuple[Node, Value, Node]] = []
    chosen = last
    for cnode, tnode in links:
        cond = ev._node(cnode, src, scope)
        decided = _as_condition(cond)
        if decided is True:
            chosen = tnode  # the rest of the chain is never reached
            break
        if decided is None:
            open_links.append((cnode, cond, tnode))
    value = ev._node(chosen, src, scope)
    end = tuple(node.end_point)
    for cnode, cond, tnode in reversed(open_links):
        where = src.span(tuple(cnode.start_point), end)  # type: ignore[arg-type]
        value = _ternary(ev, cond, condition_text(src.text(cnode)), tnode, value, src, scope, where)
    return value


def _ternary(
    ev: Evaluator, cond: Value, text: str, tnode: Node, otherwise: Value, src: Src, scope: Scope | None, loc: Location
) -> Value:
    """``cond ? tnode : otherwise`` for a condition not known to be a bool."""
    then: list[Value] = []

    def side(chosen: bool) -> Value:
        if not chosen:
            return otherwise
        if not then:
            then.append(ev._node(tnode, src, scope))
        return then[0]

    def decide(args: list[Value]) -> Value:
        decided = _as_condition(args[0])
        if decided is not None:
            return side(decided)
        if not isinstance(args[0], Unknown | Interpolated):
            return unknown(f"`{text[:60]}` is not a bool", loc)
        yes, no = side(True), side(False)
        # What it chooses: the ternary as written, and the values its sides refer to.
        decides = tuple(v.loc for v in (yes, no) if v.loc is not None and not _inside(v.loc, loc))
        return choice(ev, text, yes, no, loc, decides)

    return lift(ev, [cond], decide, loc)


def choice(
    ev: Evaluator,
    condition: str,
    then: Value,
    otherwise: Value,
    loc: Location | None,
    decides: tuple[Location, ...] = (),
) -> Value:
    """The value that is ``then`` when ``condition`` holds and ``otherwise`` when not.

    Two sides that are the same value need no Conditional; two unknown sides
    are one unknown (what it means kept when both mean the same), and so are an
    unknown side and an empty list or map (an unknown collection may be empty).
    """
    if then is otherwise or _same(ev, then, otherwise):
        return then
    if isinstance(then, Unknown) and isinstance(otherwise, Unknown):
        meaning = then.meaning if then.meaning is otherwise.meaning else Meaning.NOTHING
        return unknown(f"depends on `{condition[:60]}`", loc, meaning)
    if (isinstance(then, Unknown) and _empty(otherwise)) or (_empty(then) and isinstance(otherwise, Unknown)):
        # `var.x != null ? var.x : {}`: an unknown collection may be empty already; the empty
        # side adds no reading of its own (no "no statement allows ..." for a list that is
        # empty only when the input is not given).
        return unknown(f"depends on `{condition[:60]}`", loc)
    # Not walked here to bound its size: a lift builds one of these at every fork of its
    # combinations, and walking each (its subtree again and again) cost more than the
    # combinations themselves; the call, ternary or local that produced it bounds the whole.
    return Conditional(Expression(condition), then, otherwise, loc, None, decides)


def _empty(v: Value) -> bool:
    """An empty list or map."""
    return isinstance(v, Known) and isinstance(v.value, list | dict) and not v.value


def _same(ev: Evaluator, a: Value, b: Value) -> bool:
    """Are two small values equal as Terraform compares them (``true`` is not ``1``)?"""
    if type(a) is not type(b) or isinstance(a, Unknown):
        return False
    if isinstance(a, Known) and isinstance(b, Known) and a.is_scalar and b.is_scalar:
        return type(a.value) is type(b.value) and a.value == b.value
    if not (fewer_nodes_than(a, 64, ev.budget) and fewer_nodes_than(b, 64, ev.budget)):
        return False
    return _typed_plain(a) == _typed_plain(b)


def lift(ev: Evaluator, args: list[Value], apply: Callable[[list[Value]], Value], loc: Location | None) -> Value:
    """``apply(args)``, distributed over the Conditionals among ``args`` (one at least).

    Each combination of their branches (the same condition taking the same
    side throughout) gets ``apply`` of its plain arguments, and the results
    are joined back into Conditionals.  Past :data:`MAX_LIFT_LEAVES`
    combinations, the last conditional arguments are given to ``apply`` as
    unknowns, one more at each of a few tries, then all of them: the
    operation is at worst as unknown as before conditionals were followed
    (a partly-known result keeps its known parts), and no value grows
    exponentially.
    """
    try:
        return _lift(ev, args, apply, {}, [0], loc)
    except _TooManyBranches:
        pass
    # Too many: the last conditional operands count as unknown, one more at each try (a few
    # tries), so that concat(local.many_branches, var.x ? [...] : []) keeps what it can.
    plain = list(args)
    tries = 0
    for i in reversed(range(len(plain))):
        a = plain[i]
        if not isinstance(a, Conditional):
            continue
        plain[i] = unknown(f"depends on `{a.condition[:60]}` and other conditions", a.loc or loc)
        tries += 1
        if tries > _LIFT_RETRIES or not any(isinstance(p, Conditional) for p in plain):
            break
        try:
            return _lift(ev, plain, apply, {}, [0], loc)
        except _TooManyBranches:
            continue
    plain = [_as_unknown(p, loc) for p in plain]
    return apply(plain)


def _lift(
    ev: Evaluator,
    args: list[Value],
    apply: Callable[[list[Value]], Value],
    env: dict[str, bool],
    leaves: list[int],
    loc: Location | None,
) -> Value:
    settled = [_settle(a, env) for a in args]
    first = next((a for a in settled if isinstance(a, Conditional)), None)
    if first is None:
        leaves[0] += 1
        if leaves[0] > MAX_LIFT_LEAVES:
            raise _TooManyBranches
        ev.budget.spend()
        return apply(settled)
    name = first.condition
    env[name] = True
    then = _lift(ev, settled, apply, env, leaves, loc)
    env[name] = False
    otherwise = _lift(ev, settled, apply, env, leaves, loc)
    del env[name]
    return choice(ev, name, then, otherwise, first.loc or loc, first.decides)


class _TooManyBranches(Exception):
    """An operation on conditionals would combine more than MAX_LIFT_LEAVES of their branches."""


# How many combinations of its operands' branches one operation may work out (see Evaluator.lift),
# and how many times it tries again with fewer conditional operands when there are more.
MAX_LIFT_LEAVES = MAX_BRANCHES
_LIFT_RETRIES = 4
# A condition is named by its text, whitespace runs made one space; a longer one is cut here
# (with a digest of the rest, so two long conditions that differ at the end stay two).
MAX_CONDITION_CHARS = 500


def condition_text(written: str) -> str:
    """A condition as messages name it and as branches correlate on: its expression as written,
    whitespace normalised, clipped."""
    text = " ".join(written.split())
    if len(text) > MAX_CONDITION_CHARS:
        import hashlib

        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        text = f"{text[: MAX_CONDITION_CHARS - 20]}... #{digest}"
    return text


def _chain_of(node: Node) -> tuple[list[tuple[Node, Node]], Node] | None:
    """A conditional as ``([(condition, then), ...], else)``, read as HCL reads it.

    tree-sitter-hcl reads ``a ? x : b ? y : z`` as ``(a ? x : b) ? y : z``: an
    unparenthesized conditional as the condition is the start of a chain whose
    else side goes on with the outer one.
    """
    spine: list[tuple[Node, Node]] = []  # (then, else) of each outer level, outermost first
    current = node
    while True:
        kids = [c for c in current.named_children if c.type == "expression"]
        if len(kids) != 3:
            return None
        inner = _bare_conditional(kids[0])
        if inner is None:
            break
        spine.append((kids[1], kids[2]))
        current = inner
    links = [(kids[0], kids[1])]
    rest = kids[2]
    for then, otherwise in reversed(spine):
        links.append((rest, then))
        rest = otherwise
    return links, rest


def _bare_conditional(expr: Node) -> Node | None:
    """The conditional an expression node is, when written without parentheses."""
    kids = [c for c in expr.named_children if c.type != "comment"]
    if len(kids) == 1 and kids[0].type == "conditional" and not any(c.type == "(" for c in expr.children):
        return kids[0]
    return None


def _as_condition(v: Value) -> bool | None:
    """A condition's known bool (Terraform converts ``"true"``/``"false"``), else None."""
    if isinstance(v, Known):
        if isinstance(v.value, bool):
            return v.value
        if v.value in ("true", "false"):
            return v.value == "true"
    return None


def _inside(inner: Location, outer: Location | None) -> bool:
    return outer is not None and outer.contains(inner)


def _as_unknown(v: Value, loc: Location | None) -> Value:
    if isinstance(v, Conditional):
        return unknown(f"depends on `{v.condition[:60]}` and other conditions", v.loc or loc)
    return v


def _settle(v: Value | None, env: dict[str, bool]) -> Value:
    """``v`` with the conditionals ``env`` decides, at its top, taken (an absent side is null)."""
    while isinstance(v, Conditional) and v.condition in env:
        v = v.then if env[v.condition] else v.otherwise
    return Known(None) if v is None else v


def _typed_plain(v: Value) -> str:
    """A value as comparable text that tells ``true`` from ``1``."""
    return json.dumps(to_plain(v), sort_keys=True, default=str)
