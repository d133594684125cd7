"""Values the Terraform evaluator and its function library share.

What a value is built from (:func:`build_string`, :func:`string_parts`), how
large it may grow (:data:`MAX_STRING_CHARS`, :data:`MAX_VALUE_NODES`), how
numbers behave, and the names a ``for`` expression or a template binds
(:class:`Scope`).  Nothing here evaluates an expression:
:mod:`kmslint.parsers.hcl_eval` does, and :mod:`kmslint.parsers.tf_functions`
(the built-in functions) and :mod:`kmslint.parsers.hcl_cond` (conditional
values) work on what it gives them; all three import this module, none of
them the evaluator.
"""

from __future__ import annotations

import math

from kmslint.model import Conditional, Interpolated, Known, Location, Meaning, Unknown, Value
from kmslint.parsers.common import Budget, BudgetExceeded
from kmslint.record import Record


class Scope(Record, eq=False):
    """Names bound by a ``for`` expression, a ``dynamic`` block or a template."""

    names: dict[str, Value]
    parent: Scope | None = None
    # Inside a templatefile() template only its variables exist.
    template: bool = False

    def lookup(self, name: str) -> Value | None:
        s: Scope | None = self
        while s is not None:
            if name in s.names:
                return s.names[name]
            s = s.parent
        return None

    def in_template(self) -> bool:
        s: Scope | None = self
        while s is not None:
            if s.template:
                return True
            s = s.parent
        return False


def too_large(what: str) -> BudgetExceeded:
    """Past a size no real configuration reaches: what Terraform would work out, kmslint gave up on.

    Not an Unknown: an unknown value gives no finding, and a value made large
    on purpose (shared through locals, doubled strings) next to an open
    statement must not hide it.
    """
    return BudgetExceeded(f"it built {what}")


def unknown(reason: str, loc: Location | None, meaning: Meaning = Meaning.NOTHING, ref: str | None = None) -> Unknown:
    return Unknown(reason, loc, meaning, ref)


def is_known_scalar(v: Value) -> bool:
    return isinstance(v, Known) and not isinstance(v.value, dict | list)


def scalar_text(v: object) -> str:
    """How Terraform renders a primitive inside a string."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isfinite(v) and v.is_integer():
            return str(int(v))
        return repr(v)
    return str(v)


def string_parts(v: Value) -> list[str | Unknown] | None:
    """A value used inside a string, as parts; None when it cannot be a string."""
    if isinstance(v, Known):
        if isinstance(v.value, dict | list) or v.value is None:
            return None
        return [scalar_text(v.value)]
    if isinstance(v, Unknown):
        return [v]
    if isinstance(v, Interpolated):
        return list(v.parts)
    return None


# Locals can double a string at each step ("${local.a}${local.a}"): past these the
# evaluator gives up (a KMS000) instead of exhausting memory.
MAX_STRING_CHARS = 8 << 20
MAX_STRING_PARTS = 100_000


def build_string(parts: list[str | Unknown], loc: Location | None, budget: Budget | None = None) -> Value:
    """Known text when every part is text, else Interpolated (adjacent text merged).

    The text is paid for from ``budget`` before it is joined.
    """
    if budget is not None:
        budget.spend(len(parts))
    merged: list[str | Unknown] = []
    run: list[str] = []  # adjacent text, joined once (not copied at every step)
    total = 0
    for p in parts:
        if isinstance(p, str):
            total += len(p)
            if total > MAX_STRING_CHARS:
                raise too_large(f"a string of over {MAX_STRING_CHARS:,} characters")
            if p:
                run.append(p)
        else:
            if run:
                merged.append("".join(run))
                run = []
            merged.append(p)
            if len(merged) > MAX_STRING_PARTS:
                raise too_large(f"a string of over {MAX_STRING_PARTS:,} parts")
    if budget is not None:
        budget.spend_bytes(total)
    if run:
        merged.append("".join(run))
    if not merged:
        return Known("", loc)
    if len(merged) == 1 and isinstance(merged[0], str):
        return Known(merged[0], loc)
    if len(merged) == 1 and isinstance(merged[0], Unknown):
        return merged[0]  # "${x}" is x itself
    return Interpolated(tuple(merged), loc)


MAX_VALUE_NODES = 200_000


def expanded_size(v: Value, limit: int = MAX_VALUE_NODES, budget: Budget | None = None) -> int:
    """How many nodes ``v`` has once shared sub-values are counted every time (stops past ``limit``).

    Locals can share one value many times (``b = [local.a, local.a]``), so a
    small file can describe a value too large to walk: past
    :data:`MAX_VALUE_NODES` the evaluator gives up (a KMS000) instead of hanging
    whoever reads it.  The walk visits each distinct node once, and pays
    ``budget`` a step for each.
    """
    memo: dict[int, int] = {}
    stack: list[tuple[Value, bool]] = [(v, False)]
    while stack:
        if budget is not None:
            budget.spend()
        node, done = stack.pop()
        if id(node) in memo:
            continue
        children: list[Value] = []
        if isinstance(node, Known):
            if isinstance(node.value, dict):
                children = list(node.value.values())
            elif isinstance(node.value, list):
                children = list(node.value)
        elif isinstance(node, Conditional):
            children = [c for c in (node.then, node.otherwise) if c is not None]
        if not done and any(id(c) not in memo for c in children):
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
            continue
        total = 1 + sum(memo.get(id(c), 1) for c in children)
        memo[id(node)] = min(total, limit + 1)
    return memo.get(id(v), 1)


def fewer_nodes_than(v: Value, limit: int, budget: Budget | None = None) -> bool:
    """Does ``v`` have fewer than ``limit`` nodes, shared ones counted each time?  A quick
    walk that gives up at ``limit``: almost every value is small, and expanded_size's
    bookkeeping costs more than walking one.  ``budget`` pays for the nodes walked."""
    stack = [v]
    left = limit
    while stack and left > 0:
        left -= 1
        node = stack.pop()
        if isinstance(node, Known):
            if isinstance(node.value, dict):
                stack.extend(node.value.values())
            elif isinstance(node.value, list):
                stack.extend(node.value)
        elif isinstance(node, Conditional):
            stack.extend(c for c in (node.then, node.otherwise) if c is not None)
    if budget is not None:
        budget.spend(limit - left)
    return not stack


def with_loc(v: Value, loc: Location | None) -> Value:
    """``v`` located at ``loc`` (a result computed at a call site)."""
    if loc is None:
        return v
    if isinstance(v, Known):
        return Known(v.value, loc)
    if isinstance(v, Unknown):
        return Unknown(v.reason, loc, v.meaning, v.ref)
    if isinstance(v, Interpolated):
        return Interpolated(v.parts, loc)
    return v


def with_loc_if_unknown(v: Value, loc: Location) -> Value:
    """A variable with no default is reported where it is used."""
    return with_loc(v, loc) if isinstance(v, Unknown) else v


def number(x: object) -> float | int | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, int | float):
        return x
    if isinstance(x, str):
        try:
            f = float(x)
        except ValueError:
            return None
        return int(f) if f.is_integer() else f
    return None


def num_result(x: float | int) -> float | int:
    if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
        return int(x)
    return x
