"""Terraform's built-in functions, evaluated on the model's symbolic values.

Each function takes the :class:`~kmslint.parsers.hcl_eval.Evaluator` (for its
budget, file reading and ``_plain``), its arguments' values and the call's
location, and returns a value: :class:`~kmslint.model.Known` when every
argument it needs is known, :class:`~kmslint.model.Unknown` otherwise.  Where
Terraform reports an error the function raises ``ValueError`` (or
``TypeError``, ``KeyError``, ...), and the call becomes an Unknown.

Functions register themselves in :data:`kmslint.parsers.hcl_eval.FUNCTIONS`
with :func:`_fn`; ``hcl_eval`` imports this module once it has defined the
helpers used here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from kmslint.model import Interpolated, Known, Location, Unknown, Value
from kmslint.parsers.common import as_go_reads_json
from kmslint.parsers.hcl_eval import (
    FUNCTIONS,
    MAX_STRING_CHARS,
    Evaluator,
    Function,
    _number,
    build_string,
    scalar_text,
    string_parts,
    too_large,
    unknown,
)

# Decoding JSON text into located values costs about a step per this many bytes (as
# a power of two): a node per two bytes at worst, each a few Python objects.
_JSON_BYTES_PER_STEP = 1
_Fn = Function
_FUNCTIONS = FUNCTIONS


def _fn(*names: str) -> Callable[[_Fn], _Fn]:
    def deco(f: _Fn) -> _Fn:
        for n in names:
            _FUNCTIONS[n] = f
        return f

    return deco


def _first_unknown(args: list[Value], loc: Location, name: str) -> Unknown | None:
    for a in args:
        if not isinstance(a, Known):
            return unknown(f"{name}() of an unknown value", loc, ref=a.ref if isinstance(a, Unknown) else None)
    return None


def _need(args: list[Value], n: int, name: str) -> None:
    if len(args) < n:
        raise ValueError(f"{name}() needs {n} argument(s)")


@_fn("jsonencode")
def _jsonencode(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "jsonencode")
    v = args[0]
    # The document tree is what a policy reader wants; a scalar becomes its JSON text.
    if isinstance(v, Known) and not isinstance(v.value, dict | list):
        return Known(json.dumps(v.value), loc)
    if isinstance(v, Known):
        return v
    if isinstance(v, Interpolated):
        return Interpolated(('"', *v.parts, '"'), loc)
    return v


@_fn("jsondecode")
def _jsondecode(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "jsondecode")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, str):
        from kmslint.policy.document import _from_plain

        ev.budget.spend(len(v.value) >> _JSON_BYTES_PER_STEP)
        try:
            return _from_plain(as_go_reads_json(v.value, json.loads(v.value)), v.loc or loc)
        except (ValueError, RecursionError):
            return unknown("jsondecode() of text that is not JSON", loc)
    if isinstance(v, Known):
        return v  # already a tree (a heredoc or a file read as JSON)
    return unknown("jsondecode() of an unknown value", loc)


@_fn("file")
def _file(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "file")
    return ev.file_value(args[0], loc)


@_fn("templatefile")
def _templatefile(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "templatefile")
    if ev._templates:
        # Terraform offers no templatefile() inside a template (a template calling itself
        # would never end); here each call would render the whole template again.
        return unknown("templatefile() cannot be called from inside a template", loc)
    return ev.template_value(args[0], args[1], loc)


# A %f precision past this would only spell out zeros (a float has 17 significant digits).
_MAX_PRECISION = 1000
_FORMAT_VERB = re.compile(r"%(?:%|([-+ #0]*)(\d*|\*)(?:\.(\d+))?([a-zA-Z]))")


@_fn("format")
def _format(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "format")
    fmt = args[0]
    if not (isinstance(fmt, Known) and isinstance(fmt.value, str)):
        return unknown("format() with an unknown format string", loc)
    parts: list[str | Unknown] = []
    pos = 0
    argi = 1
    for m in _FORMAT_VERB.finditer(fmt.value):
        parts.append(fmt.value[pos : m.start()])
        pos = m.end()
        if m.group(0) == "%%":
            parts.append("%")
            continue
        if argi >= len(args):
            raise ValueError("not enough arguments for format()")
        arg = args[argi]
        argi += 1
        verb = m.group(4)
        if isinstance(arg, Known):
            val = arg.value
            if isinstance(val, dict | list):
                if verb == "v":
                    parts.append(json.dumps(ev._plain(arg)))
                    continue
                raise ValueError("format() of a collection")
            if verb == "d" and _number(val) is not None:
                parts.append(str(int(_number(val) or 0)))
            elif verb == "q":
                parts.append(json.dumps(scalar_text(val)))
            elif verb == "f" and _number(val) is not None:
                prec = int(m.group(3)) if m.group(3) else 6
                if prec > _MAX_PRECISION:
                    raise ValueError(f"precision over {_MAX_PRECISION}")
                parts.append(f"{float(_number(val) or 0):.{prec}f}")
            else:
                parts.append(scalar_text(val) if val is not None else "null")
        else:
            sp = string_parts(arg)
            if sp is None:
                return unknown("format() of an unknown value", loc)
            parts.extend(sp)
    parts.append(fmt.value[pos:])
    return build_string(parts, loc, ev.budget)


@_fn("join")
def _join(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "join")
    sep = args[0]
    if not (isinstance(sep, Known) and isinstance(sep.value, str)):
        return unknown("join() with an unknown separator", loc)
    items: list[Value] = []
    for lst in args[1:]:
        if isinstance(lst, Known) and isinstance(lst.value, list):
            items.extend(lst.value)
        elif isinstance(lst, Unknown) and len(args) == 2 and sep.value == "":
            # join("", aws_kms_key.k.*.id): the usual count <= 1 idiom names that one resource.
            return Unknown(lst.reason, loc, lst.meaning, lst.ref)
        else:
            return unknown("join() of an unknown list", loc)
    parts: list[str | Unknown] = []
    for i, item in enumerate(items):
        if i:
            parts.append(sep.value)
        sp = string_parts(item)
        if sp is None:
            return unknown("join() of a non-string", loc)
        parts.extend(sp)
    return build_string(parts, loc, ev.budget)


@_fn("concat")
def _concat(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    out: list[Value] = []
    for a in args:
        if isinstance(a, Known) and isinstance(a.value, list):
            ev.budget.spend(len(a.value))
            out.extend(a.value)
        else:
            return unknown("concat() of an unknown list", loc)
    return Known(out, loc)


@_fn("merge")
def _merge(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    out: dict[str, Value] = {}
    for a in args:
        if isinstance(a, Known) and a.value is None:
            continue
        if isinstance(a, Known) and isinstance(a.value, dict):
            ev.budget.spend(len(a.value))
            out.update(a.value)
        else:
            return unknown("merge() of an unknown map", loc)
    return Known(out, loc)


def _unique(ev: Evaluator, items: list[Value]) -> list[Value]:
    """The items, first occurrence of each value kept, in order."""
    seen: dict[str, Value] = {}
    for item in items:
        seen.setdefault(json.dumps(ev._plain(item), sort_keys=True, default=str), item)
    return list(seen.values())


@_fn("tolist", "tuple")
def _tolist(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "tolist")
    return args[0]


@_fn("toset")
def _toset(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "toset")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, list):
        items = _unique(ev, v.value)
        if all(isinstance(i, Known) and isinstance(i.value, str) for i in items):
            items.sort(key=lambda i: str(i.value) if isinstance(i, Known) else "")
        return Known(items, v.loc or loc)
    return v


@_fn("tomap", "tostring", "tonumber", "tobool", "sensitive", "nonsensitive", "type")
def _identity(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "conversion")
    return args[0]


@_fn("distinct")
def _distinct(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "distinct")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, list):
        return Known(_unique(ev, v.value), v.loc or loc)
    return unknown("distinct() of an unknown list", loc)


@_fn("flatten")
def _flatten(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "flatten")
    out: list[Value] = []
    stack: list[Value] = [args[0]]
    while stack:
        ev.budget.spend()
        v = stack.pop()
        if isinstance(v, Known) and isinstance(v.value, list):
            stack.extend(reversed(v.value))
        elif isinstance(v, Unknown) and not out and not stack and v is args[0]:
            return unknown("flatten() of an unknown list", loc)
        elif isinstance(v, Unknown):
            return unknown("flatten() of a list with unknown parts", loc)
        else:
            out.append(v)
    return Known(out, loc)


@_fn("compact")
def _compact(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "compact")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, list):
        ev.budget.spend(len(v.value))
        items = [i for i in v.value if not (isinstance(i, Known) and i.value in ("", None))]
        if any(not isinstance(i, Known | Interpolated) for i in items):
            return unknown("compact() of a list with unknown parts", loc)
        return Known(items, v.loc or loc)
    return unknown("compact() of an unknown list", loc)


@_fn("coalesce")
def _coalesce(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    for a in args:
        if isinstance(a, Known):
            if a.value is None or a.value == "":
                continue
            return a
        return a if isinstance(a, Interpolated) else unknown("coalesce() of an unknown value", loc)
    return unknown("coalesce() of no non-empty value", loc)


@_fn("coalescelist")
def _coalescelist(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    for a in args:
        if isinstance(a, Known) and isinstance(a.value, list):
            if a.value:
                return a
            continue
        return unknown("coalescelist() of an unknown list", loc)
    return unknown("coalescelist() of no non-empty list", loc)


@_fn("try")
def _try(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    # The first argument that evaluated; a value that is merely unknown is not an error.
    for i, a in enumerate(args):
        if isinstance(a, Unknown) and (
            a.reason.startswith(("no attribute", "no key", "index out of range", "attribute `"))
        ):
            continue
        if isinstance(a, Unknown) and a.ref is not None:
            # try(aws_kms_key.a[0].id, aws_kms_external_key.b[0].id): whichever exists, not one known resource.
            others = [b for b in args[i + 1 :] if isinstance(b, Unknown) and b.ref is not None and b.ref != a.ref]
            if others:
                return unknown("one of several references", loc)
        return a
    return unknown("try() of no valid argument", loc)


@_fn("one")
def _one(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "one")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, list):
        if len(v.value) == 1:
            return v.value[0]
        if not v.value:
            return Known(None, loc)
        raise ValueError("one() of a list with several elements")
    return v if isinstance(v, Unknown) else unknown("one() of an unknown list", loc)


@_fn("element")
def _element(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "element")
    lst, idx = args[0], args[1]
    if isinstance(lst, Known) and isinstance(lst.value, list) and isinstance(idx, Known):
        n = _number(idx.value)
        if n is not None and lst.value:
            return lst.value[int(n) % len(lst.value)]
    if isinstance(lst, Unknown):
        return Unknown(lst.reason, loc, lst.meaning, lst.ref)
    return unknown("element() of an unknown list", loc)


@_fn("lookup")
def _lookup(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "lookup")
    m, k = args[0], args[1]
    if isinstance(m, Known) and isinstance(m.value, dict) and isinstance(k, Known) and isinstance(k.value, str):
        if k.value in m.value:
            return m.value[k.value]
        if len(args) > 2:
            return args[2]
        raise KeyError(k.value)
    return unknown("lookup() in an unknown map", loc)


@_fn("length")
def _length(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "length")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, list | dict | str):
        return Known(len(v.value), loc)
    return unknown("length() of an unknown value", loc)


@_fn("keys")
def _keys(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "keys")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, dict):
        ev.budget.spend(len(v.value))
        return Known([Known(k, loc) for k in sorted(v.value)], loc)
    return unknown("keys() of an unknown map", loc)


@_fn("values")
def _values(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "values")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, dict):
        ev.budget.spend(len(v.value))
        return Known([v.value[k] for k in sorted(v.value)], loc)
    return unknown("values() of an unknown map", loc)


@_fn("contains")
def _contains(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "contains")
    lst, item = args[0], args[1]
    if (
        isinstance(lst, Known)
        and isinstance(lst.value, list)
        and isinstance(item, Known)
        and all(isinstance(i, Known) for i in lst.value)
    ):
        wanted = ev._plain(item)
        return Known(any(ev._plain(i) == wanted for i in lst.value), loc)
    return unknown("contains() of an unknown value", loc)


def _string_fn(name: str, op: Callable[[str], str]) -> _Fn:
    def f(ev: Evaluator, args: list[Value], loc: Location) -> Value:
        _need(args, 1, name)
        v = args[0]
        if isinstance(v, Known) and isinstance(v.value, str):
            ev.budget.spend_bytes(len(v.value))
            return Known(op(v.value), loc)
        return unknown(f"{name}() of an unknown value", loc)

    return f


_FUNCTIONS["lower"] = _string_fn("lower", str.lower)
_FUNCTIONS["upper"] = _string_fn("upper", str.upper)
_FUNCTIONS["trimspace"] = _string_fn("trimspace", str.strip)
_FUNCTIONS["chomp"] = _string_fn("chomp", lambda s: s.rstrip("\r\n"))


@_fn("replace")
def _replace(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 3, "replace")
    s, old, new = args[0], args[1], args[2]
    if (
        isinstance(s, Known)
        and isinstance(old, Known)
        and isinstance(new, Known)
        and all(isinstance(a.value, str) for a in (s, old, new))
    ):
        o, text, by = str(old.value), str(s.value), str(new.value)
        if len(o) > 1 and o.startswith("/") and o.endswith("/"):
            return unknown("replace() with a regular expression", loc)
        size = len(text) + text.count(o) * (len(by) - len(o))
        if size > MAX_STRING_CHARS:
            raise too_large(f"a string of over {MAX_STRING_CHARS:,} characters")
        ev.budget.spend_bytes(len(text) + size)
        return Known(text.replace(o, by), loc)
    return unknown("replace() of an unknown value", loc)


@_fn("split")
def _split(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "split")
    sep, s = args[0], args[1]
    if isinstance(sep, Known) and isinstance(sep.value, str) and isinstance(s, Known) and isinstance(s.value, str):
        ev.budget.spend_bytes(len(s.value))
        ev.budget.spend(s.value.count(sep.value) if sep.value else len(s.value))
        if not sep.value:
            return Known([Known(c, loc) for c in s.value], loc)
        return Known([Known(p, loc) for p in s.value.split(sep.value)], loc)
    return unknown("split() of an unknown value", loc)


@_fn("formatlist")
def _formatlist(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "formatlist")
    lists = [a for a in args[1:] if isinstance(a, Known) and isinstance(a.value, list)]
    if any(not isinstance(a, Known) for a in args[1:]):
        return unknown("formatlist() of an unknown value", loc)
    if not lists:
        return Known([_format(ev, args, loc)], loc)
    n = len(lists[0].value) if isinstance(lists[0].value, list) else 0
    out: list[Value] = []
    for i in range(n):
        row: list[Value] = [args[0]]
        for a in args[1:]:
            if isinstance(a, Known) and isinstance(a.value, list):
                row.append(a.value[i])
            else:
                row.append(a)
        out.append(_format(ev, row, loc))
    return Known(out, loc)
