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
import math
import re
from collections.abc import Callable

from kmslint.model import Interpolated, Known, Location, Unknown, Value
from kmslint.parsers.common import as_go_reads_json
from kmslint.parsers.hcl_eval import (
    FUNCTIONS,
    MAX_STRING_CHARS,
    MAX_VALUE_NODES,
    Evaluator,
    Function,
    Scope,
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

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from tree_sitter import Node

    from kmslint.parsers.hcl_syntax import Block, Expr, Src
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


# --------------------------------------------------------------------------- partly-known lists

# The reason of an Unknown element that stands for any number of elements (none, one or
# several): what an unknown list contributes to concat(), flatten(), ...  A list holding one
# keeps its known elements (a statement list built with concat() still has its known
# statements), and whatever needs the exact elements (length(), element(), sort(), ...) sees
# the whole list as unknown.
SPREAD = "may stand for any number of elements"


def spread(of: Value, loc: Location) -> Unknown:
    """An element standing for the unknown elements of ``of`` (an unknown list), however many."""
    ref = of.ref if isinstance(of, Unknown) else None
    why = of.reason if isinstance(of, Unknown) else "an unknown list"
    return Unknown(f"{why}; {SPREAD}", loc, ref=ref)


def is_spread(v: Value) -> bool:
    """Does ``v`` stand for any number of list elements (see :data:`SPREAD`)?"""
    return isinstance(v, Unknown) and v.reason.endswith(SPREAD)


def _partial(items: list[Value], loc: Location, why: str) -> Value:
    """A list of ``items``, some of them spreads: Known while it has a known element
    (its known parts are checked), else one Unknown (a list of nothing known says nothing)."""
    if any(not is_spread(i) for i in items):
        return Known(items, loc)
    return unknown(why, loc, ref=next((i.ref for i in items if isinstance(i, Unknown) and i.ref), None))


def _list(v: Value) -> list[Value] | None:
    """The elements of a list whose every element is there (none stands for several), else None."""
    if isinstance(v, Known) and isinstance(v.value, list) and not any(is_spread(i) for i in v.value):
        return v.value
    return None


def _known_list(v: Value) -> list[Known] | None:
    """The elements of a list when every one is a Known value, else None."""
    if isinstance(v, Known) and isinstance(v.value, list) and all(isinstance(i, Known) for i in v.value):
        return [i for i in v.value if isinstance(i, Known)]
    return None


def _str(v: Value) -> str | None:
    """A known string (Terraform converts a number or a bool to one where a string is wanted)."""
    if isinstance(v, Known) and v.value is not None and not isinstance(v.value, dict | list):
        return v.value if isinstance(v.value, str) else scalar_text(v.value)
    return None


def _num(v: Value) -> float | int | None:
    """A known number (a string that spells one converts, as in Terraform)."""
    return _number(v.value) if isinstance(v, Known) else None


def _int(v: Value, name: str) -> int | None:
    """A known whole number; ValueError (Terraform's error) when it is known but not whole."""
    n = _num(v)
    if n is None:
        return None
    if n != int(n):
        raise ValueError(f"{name}() needs a whole number")
    return int(n)


def _unknown_ref(args: list[Value]) -> str | None:
    return next((a.ref for a in args if isinstance(a, Unknown) and a.ref), None)


def _plain_key(ev: Evaluator, v: Value) -> str:
    """A text that is the same for equal values (to compare or deduplicate them)."""
    return json.dumps(ev._plain(v), sort_keys=True, default=str)


def _sorted_set(ev: Evaluator, items: list[Value]) -> list[Value]:
    """A set's elements in Terraform's order: strings sorted, anything else as first seen."""
    if all(isinstance(i, Known) and isinstance(i.value, str) for i in items):
        return sorted(items, key=lambda i: str(i.value) if isinstance(i, Known) else "")
    return items


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
        except ValueError:
            raise ValueError("the text is not JSON") from None  # an error try() passes over
        except RecursionError:
            return unknown("jsondecode() of text nested too deep", loc)
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
    """The lists one after another; an unknown list adds one element standing for its elements."""
    out: list[Value] = []
    for a in args:
        if isinstance(a, Known) and isinstance(a.value, list):
            ev.budget.spend(len(a.value))
            out.extend(a.value)
        elif isinstance(a, Unknown):
            out.append(spread(a, loc))
        else:
            raise ValueError("concat() of a value that is not a list")
    return _partial(out, loc, "concat() of unknown lists")


@_fn("merge")
def _merge(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """The maps' keys, later ones winning.

    An unknown map may hold any key: it may override every key before it, and
    a map read later may lack one it holds.  The model has no "these keys and
    maybe others" map (a policy missing ``Version`` would read as invalid), so
    one unknown map makes the whole result unknown; unknown values under known
    keys stay where they are.
    """
    out: dict[str, Value] = {}
    for a in args:
        if isinstance(a, Known) and a.value is None:
            continue
        if isinstance(a, Known) and isinstance(a.value, dict):
            ev.budget.spend(len(a.value))
            out.update(a.value)
        elif isinstance(a, Known):
            raise ValueError("merge() of a value that is not a map")
        else:
            return unknown("merge() of an unknown map", loc, ref=_unknown_ref(args))
    return Known(out, loc)


def _unique(ev: Evaluator, items: list[Value], loc: Location) -> list[Value]:
    """The items, first occurrence of each value kept, in order; an unknown one may equal
    another, so it stands for none or one (a spread), after the known ones."""
    seen: dict[str, Value] = {}
    rest: list[Value] = []
    for item in items:
        if isinstance(item, Unknown):
            rest.append(item if is_spread(item) else spread(item, item.loc or loc))
            continue
        seen.setdefault(_plain_key(ev, item), item)
    return list(seen.values()) + rest


@_fn("tolist")
def _tolist(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "tolist")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, dict):
        raise ValueError("tolist() of a map")
    return v


@_fn("toset")
def _toset(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """The distinct elements; an unknown element may equal a known one, so it stands for
    none or one (a spread), and the known ones are kept."""
    _need(args, 1, "toset")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, list):
        ev.budget.spend(len(v.value))
        items = _sorted_set(ev, _unique(ev, v.value, loc))
        return _partial(items, v.loc or loc, "toset() of unknown elements")
    if isinstance(v, Known) and isinstance(v.value, dict):
        raise ValueError("toset() of a map")
    return v


@_fn("tomap")
def _tomap(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "tomap")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, list):
        raise ValueError("tomap() of a list")
    return v


@_fn("sensitive", "nonsensitive", "ephemeralasnull")
def _identity(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """Marks Terraform keeps beside a value, not in it: the value itself."""
    _need(args, 1, "conversion")
    return args[0]


@_fn("tostring")
def _tostring(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "tostring")
    v = args[0]
    if isinstance(v, Known):
        if isinstance(v.value, dict | list):
            raise ValueError("tostring() of a collection")
        return v if v.value is None or isinstance(v.value, str) else Known(scalar_text(v.value), v.loc or loc)
    return v


@_fn("tonumber")
def _tonumber(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "tonumber")
    v = args[0]
    if isinstance(v, Known):
        if v.value is None:
            return v
        n = _num(v) if not isinstance(v.value, bool) else None
        if n is None:
            raise ValueError("tonumber() of a value that is not a number")
        return Known(n, v.loc or loc)
    return unknown("tonumber() of an unknown value", loc, ref=_unknown_ref(args))


@_fn("tobool")
def _tobool(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "tobool")
    v = args[0]
    if isinstance(v, Known):
        if v.value is None or isinstance(v.value, bool):
            return v
        if v.value in ("true", "false"):
            return Known(v.value == "true", v.loc or loc)
        raise ValueError("tobool() of a value that is not a bool")
    return unknown("tobool() of an unknown value", loc, ref=_unknown_ref(args))


@_fn("distinct")
def _distinct(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "distinct")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, list):
        ev.budget.spend(len(v.value))
        return _partial(_unique(ev, v.value, loc), v.loc or loc, "distinct() of unknown elements")
    return unknown("distinct() of an unknown list", loc, ref=_unknown_ref(args))


@_fn("flatten")
def _flatten(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """Nested lists made one; an unknown element may be a list, so it becomes a spread."""
    _need(args, 1, "flatten")
    if not (isinstance(args[0], Known) and isinstance(args[0].value, list)):
        return unknown("flatten() of an unknown list", loc, ref=_unknown_ref(args))
    out: list[Value] = []
    stack: list[Value] = list(reversed(args[0].value))
    while stack:
        ev.budget.spend()
        v = stack.pop()
        if isinstance(v, Known) and isinstance(v.value, list):
            stack.extend(reversed(v.value))
        elif isinstance(v, Unknown):
            out.append(v if is_spread(v) else spread(v, loc))
        else:
            out.append(v)
        if len(out) > MAX_VALUE_NODES:
            raise too_large(f"a list of over {MAX_VALUE_NODES:,} elements")
    return _partial(out, loc, "flatten() of unknown lists")


@_fn("compact")
def _compact(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """The list without its "" and null strings; an unknown string may be one, so it
    stands for none or one (a spread)."""
    _need(args, 1, "compact")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, list):
        ev.budget.spend(len(v.value))
        items: list[Value] = []
        for i in v.value:
            if isinstance(i, Known) and i.value in ("", None):
                continue
            items.append(spread(i, loc) if isinstance(i, Unknown) and not is_spread(i) else i)
        return _partial(items, v.loc or loc, "compact() of unknown elements")
    return unknown("compact() of an unknown list", loc, ref=_unknown_ref(args))


@_fn("coalesce")
def _coalesce(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """The first argument that is neither null nor "" (an unknown one before it: unknown)."""
    for a in args:
        if isinstance(a, Known):
            if a.value is None or a.value == "":
                continue
            return a
        if isinstance(a, Interpolated):
            return a  # text around an unknown part: never "" or null
        return unknown("coalesce() of an unknown value", loc, ref=_unknown_ref([a]))
    raise ValueError("coalesce() of no non-null, non-empty argument")


@_fn("coalescelist")
def _coalescelist(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    for a in args:
        if isinstance(a, Known) and isinstance(a.value, list):
            if a.value:
                return a
            continue
        return unknown("coalescelist() of an unknown list", loc, ref=_unknown_ref([a]))
    raise ValueError("coalescelist() of no non-empty list")


# Unknown values the evaluator makes where Terraform reports an error: try() passes over
# them, can() is false for them.  Any other Unknown is a value not known before apply.
_ERROR_REASONS = ("no attribute", "no key", "index out of range", "attribute `")


def is_error(v: Value) -> bool:
    """Is ``v`` what an expression that fails in Terraform gives (not a value merely unknown)?"""
    return isinstance(v, Unknown) and (v.reason.startswith(_ERROR_REASONS) or "() failed: " in v.reason)


@_fn("try")
def _try(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """The first argument that evaluated; a value that is merely unknown is not an error,
    so an unknown one before a known one leaves the result unknown."""
    for i, a in enumerate(args):
        if is_error(a):
            continue
        if isinstance(a, Unknown) and a.ref is not None:
            # try(aws_kms_key.a[0].id, aws_kms_external_key.b[0].id): whichever exists, not one known resource.
            others = [b for b in args[i + 1 :] if isinstance(b, Unknown) and b.ref is not None and b.ref != a.ref]
            if others:
                return unknown("one of several references", loc)
        return a
    raise ValueError("no argument of try() evaluated")


@_fn("can")
def _can(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """Whether the argument evaluates: false for an error, unknown for an unknown value."""
    _need(args, 1, "can")
    a = args[0]
    if is_error(a):
        return Known(False, loc)
    if isinstance(a, Unknown) and not is_spread(a):
        return unknown("can() of an unknown value", loc, ref=a.ref)
    return Known(True, loc)


@_fn("one")
def _one(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "one")
    v = args[0]
    items = _list(v)
    if items is not None:
        if len(items) == 1:
            return items[0]
        if not items:
            return Known(None, loc)
        raise ValueError("one() of a list with several elements")
    if isinstance(v, Known) and isinstance(v.value, dict):
        raise ValueError("one() of a map")
    return v if isinstance(v, Unknown) else unknown("one() of a list of unknown length", loc)


@_fn("element")
def _element(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "element")
    lst, idx = args[0], args[1]
    items = _list(lst)
    n = _int(idx, "element")
    if items is not None and n is not None:
        if not items:
            raise ValueError("element() of an empty list")
        if n < 0:
            raise ValueError("element() with a negative index")
        return items[n % len(items)]
    if isinstance(lst, Unknown):
        return Unknown(lst.reason, loc, lst.meaning, lst.ref)
    return unknown("element() of an unknown list", loc)


@_fn("lookup")
def _lookup(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "lookup")
    m, k = args[0], args[1]
    key = _str(k)
    if isinstance(m, Known) and isinstance(m.value, dict) and key is not None:
        if key in m.value:
            return m.value[key]
        if len(args) > 2:
            return args[2]
        raise KeyError(key)
    return unknown("lookup() in an unknown map", loc, ref=_unknown_ref([m, k]))


@_fn("length")
def _length(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "length")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, dict | str):
        return Known(len(v.value), loc)
    items = _list(v)
    if items is not None:
        return Known(len(items), loc)
    return unknown("length() of an unknown value", loc, ref=_unknown_ref(args))


@_fn("keys")
def _keys(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "keys")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, dict):
        ev.budget.spend(len(v.value))
        return Known([Known(k, loc) for k in sorted(v.value)], loc)
    return unknown("keys() of an unknown map", loc, ref=_unknown_ref(args))


@_fn("values")
def _values(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "values")
    v = args[0]
    if isinstance(v, Known) and isinstance(v.value, dict):
        ev.budget.spend(len(v.value))
        return Known([v.value[k] for k in sorted(v.value)], loc)
    return unknown("values() of an unknown map", loc, ref=_unknown_ref(args))


@_fn("contains")
def _contains(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """True when a known element equals the value; false only when every element is known."""
    _need(args, 2, "contains")
    lst, item = args[0], args[1]
    if isinstance(lst, Known) and isinstance(lst.value, list) and isinstance(item, Known):
        ev.budget.spend(len(lst.value))
        wanted = _plain_key(ev, item)
        if any(isinstance(i, Known) and _plain_key(ev, i) == wanted for i in lst.value):
            return Known(True, loc)
        if all(isinstance(i, Known) for i in lst.value):
            return Known(False, loc)
    return unknown("contains() of an unknown value", loc, ref=_unknown_ref([lst, item]))


def _string_fn(name: str, op: Callable[[str], str]) -> _Fn:
    def f(ev: Evaluator, args: list[Value], loc: Location) -> Value:
        _need(args, 1, name)
        text = _str(args[0])
        if text is not None:
            ev.budget.spend_bytes(len(text))
            return Known(op(text), loc)
        return unknown(f"{name}() of an unknown value", loc, ref=_unknown_ref(args))

    return f


def _title(text: str) -> str:
    """Go's strings.Title, as Terraform's title(): a letter after a non-letter, non-digit,
    non-underscore character (or at the start) is made upper case; nothing is lowered."""
    out = []
    prev = " "
    for ch in text:
        out.append(ch.upper() if not (prev.isalnum() or prev == "_") else ch)
        prev = ch
    return "".join(out)


def _chomp(text: str) -> str:
    while text.endswith(("\r\n", "\n")):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    return text


_FUNCTIONS["lower"] = _string_fn("lower", str.lower)
_FUNCTIONS["upper"] = _string_fn("upper", str.upper)
_FUNCTIONS["trimspace"] = _string_fn("trimspace", str.strip)
_FUNCTIONS["chomp"] = _string_fn("chomp", _chomp)
_FUNCTIONS["strrev"] = _string_fn("strrev", lambda s: s[::-1])
_FUNCTIONS["title"] = _string_fn("title", _title)


def _strings_fn(name: str, n: int, op: Callable[[list[str]], object]) -> _Fn:
    """A function of ``n`` known strings (numbers and bools convert, as in Terraform)."""

    def f(ev: Evaluator, args: list[Value], loc: Location) -> Value:
        _need(args, n, name)
        texts = [_str(a) for a in args[:n]]
        if any(t is None for t in texts):
            return unknown(f"{name}() of an unknown value", loc, ref=_unknown_ref(args))
        strs = [t for t in texts if t is not None]
        ev.budget.spend_bytes(sum(len(t) for t in strs))
        got = op(strs)
        if isinstance(got, str) and len(got) > MAX_STRING_CHARS:
            raise too_large(f"a string of over {MAX_STRING_CHARS:,} characters")
        return Known(got, loc)  # type: ignore[arg-type]

    return f


def _trim(s: list[str]) -> str:
    return s[0].strip(s[1])


def _trimprefix(s: list[str]) -> str:
    return s[0].removeprefix(s[1])


def _trimsuffix(s: list[str]) -> str:
    return s[0].removesuffix(s[1])


_FUNCTIONS["trim"] = _strings_fn("trim", 2, _trim)
_FUNCTIONS["trimprefix"] = _strings_fn("trimprefix", 2, _trimprefix)
_FUNCTIONS["trimsuffix"] = _strings_fn("trimsuffix", 2, _trimsuffix)
_FUNCTIONS["startswith"] = _strings_fn("startswith", 2, lambda s: s[0].startswith(s[1]))
_FUNCTIONS["endswith"] = _strings_fn("endswith", 2, lambda s: s[0].endswith(s[1]))
_FUNCTIONS["strcontains"] = _strings_fn("strcontains", 2, lambda s: s[1] in s[0])
_FUNCTIONS["basename"] = _strings_fn("basename", 1, lambda s: _basename(s[0]))
_FUNCTIONS["dirname"] = _strings_fn("dirname", 1, lambda s: _dirname(s[0]))


def _basename(path: str) -> str:
    """Go's filepath.Base (on Linux), as Terraform's basename()."""
    path = path.rstrip("/")
    if not path:
        return "/" if path != "" else "."
    return path.rsplit("/", 1)[-1]


def _dirname(path: str) -> str:
    """Go's filepath.Dir (on Linux), as Terraform's dirname(): the path without its last
    element, cleaned."""
    import posixpath

    head = path[: path.rfind("/") + 1]
    return posixpath.normpath(head) if head else "."


@_fn("indent")
def _indent(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """Every line but the first indented by ``n`` spaces."""
    _need(args, 2, "indent")
    n, text = _int(args[0], "indent"), _str(args[1])
    if n is None or text is None:
        return unknown("indent() of an unknown value", loc, ref=_unknown_ref(args))
    lines = text.split("\n")
    size = len(text) + max(n, 0) * (len(lines) - 1)
    if size > MAX_STRING_CHARS:
        raise too_large(f"a string of over {MAX_STRING_CHARS:,} characters")
    ev.budget.spend_bytes(size)
    return Known(("\n" + " " * max(n, 0)).join(lines), loc)


@_fn("substr")
def _substr(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """``length`` characters from ``offset`` (negative: from the end); length -1: to the end.

    Terraform counts grapheme clusters; this counts code points (the same for
    every text without combining characters)."""
    _need(args, 3, "substr")
    text, offset, length = _str(args[0]), _int(args[1], "substr"), _int(args[2], "substr")
    if text is None or offset is None or length is None:
        return unknown("substr() of an unknown value", loc, ref=_unknown_ref(args))
    ev.budget.spend_bytes(len(text))
    if offset < 0:
        offset = max(len(text) + offset, 0)
    if offset > len(text):
        raise ValueError("substr() offset past the end of the string")
    end = len(text) if length < 0 else offset + length
    return Known(text[offset:end], loc)


# --------------------------------------------------------------------------- regular expressions

# Terraform's regular expressions are RE2's, which runs in linear time; Python's `re`
# backtracks, and a pattern from the input must not hang the run.  A pattern is evaluated
# only when (1) no quantified group holds a quantifier or an alternative (the nested
# repetition that backtracks exponentially), and (2) with q variable quantifiers, the
# worst case of (text length + 1) ** (q + 1) steps stays under _REGEX_WORK.  Anything else
# is unknown: a value not worked out, never a finding.
_REGEX_WORK = 20_000_000
_MAX_PATTERN = 4096
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_COUNTED = re.compile(r"\{(\d+)(,(\d*))?\}")


class _RegexCost:
    """What a pattern costs to run with backtracking: its variable quantifiers, and whether
    a repetition nests.  Also rewrites RE2-only syntax Python spells differently."""

    def __init__(self, pattern: str) -> None:
        self.quantifiers = 0
        self.nested = False
        self.python = self._scan(pattern)

    def _scan(self, p: str) -> str:
        out: list[str] = []
        # Per open group: does it hold a quantifier or an alternative?
        groups: list[bool] = [False]
        last_group_busy = False  # the atom just closed was a group holding one
        i = 0
        while i < len(p):
            ch = p[i]
            if ch == "\\" and i + 1 < len(p):
                nxt = p[i + 1]
                if nxt.isdigit() and nxt != "0":
                    raise ValueError("backreferences are not RE2 syntax")
                out.append("\\Z" if nxt == "z" else p[i : i + 2])
                i += 2
                last_group_busy = False
                continue
            if ch == "[":
                j, text = self._char_class(p, i)
                out.append(text)
                i = j
                last_group_busy = False
                continue
            if ch == "(":
                if p.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
                    raise ValueError("lookaround is not RE2 syntax")
                groups.append(False)
                out.append(ch)
                i += 1
                continue
            if ch == ")":
                busy = groups.pop() if len(groups) > 1 else False
                last_group_busy = busy
                groups[-1] = groups[-1] or busy
                out.append(ch)
                i += 1
                continue
            if ch == "|":
                groups[-1] = True
            counted = _COUNTED.match(p, i) if ch == "{" else None
            if ch in "*+?" or counted is not None:
                if ch == "?" and out and out[-1] == "(":
                    out.append(ch)  # (?i), (?P<name>...), (?:...)
                    i += 1
                    continue
                if last_group_busy:
                    self.nested = True
                groups[-1] = True
                fixed = counted is not None and (counted.group(2) is None or counted.group(3) == counted.group(1))
                self.quantifiers += int(not fixed)
                end = counted.end() if counted is not None else i + 1
                if end < len(p) and p[end] == "?":
                    end += 1  # the lazy form: one quantifier
                if end < len(p) and p[end] in "*+":
                    raise ValueError("a repetition of a repetition is not RE2 syntax")
                out.append(p[i:end])
                i = end
                last_group_busy = False
                continue
            out.append(ch)
            i += 1
            last_group_busy = False
        return "".join(out)

    @staticmethod
    def _char_class(p: str, i: int) -> tuple[int, str]:
        """The character class at ``p[i] == "["``: (index after it, Python text)."""
        j = i + 1
        out = ["["]
        if j < len(p) and p[j] == "^":
            out.append("^")
            j += 1
        if j < len(p) and p[j] == "]":
            out.append("\\]")
            j += 1
        while j < len(p) and p[j] != "]":
            if p[j] == "\\" and j + 1 < len(p):
                out.append(p[j : j + 2])
                j += 2
                continue
            if p.startswith("[:", j):
                close = p.find(":]", j + 2)
                name = p[j + 2 : close] if close != -1 else ""
                negated = name.startswith("^")
                body = _POSIX_CLASSES.get(name.lstrip("^"))
                if body is None or negated:
                    raise ValueError(f"character class [:{name}:] is not evaluated")
                out.append(body)
                j = close + 2
                continue
            out.append("\\[" if p[j] == "[" else p[j])
            j += 1
        if j >= len(p):
            raise ValueError("unclosed character class")
        out.append("]")
        return j + 1, "".join(out)


def _regex(ev: Evaluator, pattern: str, text: str) -> re.Pattern[str] | None:
    """``pattern`` compiled for ``text``, or None when running it could take too long or
    Python cannot read it; ValueError (Terraform's error) for syntax RE2 rejects."""
    if len(pattern) > _MAX_PATTERN:
        return None
    cost = _RegexCost(pattern)
    if cost.nested:
        return None
    work = (len(text) + 1) ** (cost.quantifiers + 1) if cost.quantifiers < 8 else _REGEX_WORK + 1
    if work > _REGEX_WORK:
        return None
    ev.budget.spend((len(text) >> 4) * (cost.quantifiers + 1) + len(pattern))
    try:
        return re.compile(cost.python)
    except (re.error, OverflowError, RecursionError):
        return None  # RE2 syntax Python lacks (\pL, ...) or a pattern RE2 rejects too: cannot tell


def _captures(m: re.Match[str], loc: Location) -> Value:
    """What regex() gives for a match: the text, a list of the groups, or a map of the named ones."""
    rx = m.re
    if rx.groups == 0:
        return Known(m.group(0), loc)

    def text(g: str | None) -> Value:
        return Known(g, loc)

    if rx.groupindex:
        if len(rx.groupindex) != rx.groups:
            raise ValueError("regex() with named and unnamed groups")
        return Known({name: text(m.group(name)) for name in rx.groupindex}, loc)
    return Known([text(g) for g in m.groups()], loc)


def _regex_args(ev: Evaluator, args: list[Value], name: str) -> tuple[re.Pattern[str], str] | str:
    """(compiled pattern, text), or why not."""
    _need(args, 2, name)
    pattern, text = _str(args[0]), _str(args[1])
    if pattern is None or text is None:
        return f"{name}() of an unknown value"
    rx = _regex(ev, pattern, text)
    if rx is None:
        return f"{name}() with a pattern not evaluated on this text (too costly, or not Python syntax)"
    return rx, text


@_fn("regex")
def _regex_fn(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    got = _regex_args(ev, args, "regex")
    if isinstance(got, str):
        return unknown(got, loc, ref=_unknown_ref(args))
    rx, text = got
    m = rx.search(text)
    if m is None:
        raise ValueError("regex() found no match")
    return _captures(m, loc)


@_fn("regexall")
def _regexall(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    got = _regex_args(ev, args, "regexall")
    if isinstance(got, str):
        return unknown(got, loc, ref=_unknown_ref(args))
    rx, text = got
    out: list[Value] = []
    for m in rx.finditer(text):
        ev.budget.spend(1 + rx.groups)
        out.append(_captures(m, loc))
        if len(out) > MAX_VALUE_NODES:
            raise too_large(f"a list of over {MAX_VALUE_NODES:,} elements")
    return Known(out, loc)


_DOLLAR = re.compile(r"\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def _expand(template: str, m: re.Match[str]) -> str:
    """Go's Regexp.Expand, as replace() uses it: ``$1``, ``${1}``, ``$name``, ``${name}``
    and ``$$``; a name as long as possible (``$1x`` is the group named ``1x``), an unknown
    group gives ""."""

    def one(d: re.Match[str]) -> str:
        if d.group(1) == "$":
            return "$"
        ref = d.group(2) or d.group(3)
        try:
            got = m.group(int(ref)) if ref.isdigit() else m.group(ref)
        except IndexError:  # no such group
            return ""
        return got or ""

    return _DOLLAR.sub(one, template)


@_fn("replace")
def _replace(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """``substring`` replaced everywhere; a ``/regex/`` replaced by its matches, ``$1`` and
    ``${name}`` in the replacement naming groups."""
    _need(args, 3, "replace")
    text, old, by = _str(args[0]), _str(args[1]), _str(args[2])
    if text is None or old is None or by is None:
        return unknown("replace() of an unknown value", loc, ref=_unknown_ref(args))
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        rx = _regex(ev, old[1:-1], text)
        if rx is None:
            return unknown("replace() with a pattern not evaluated on this text", loc)
        parts: list[str] = []
        total = 0
        pos = 0
        for m in rx.finditer(text):
            piece = text[pos : m.start()] + _expand(by, m)
            total += len(piece)
            if total > MAX_STRING_CHARS:
                raise too_large(f"a string of over {MAX_STRING_CHARS:,} characters")
            parts.append(piece)
            pos = m.end()
            ev.budget.spend_bytes(len(piece))
        parts.append(text[pos:])
        return Known("".join(parts), loc)
    size = len(text) + (text.count(old) if old else len(text) + 1) * (len(by) - len(old))
    if size > MAX_STRING_CHARS:
        raise too_large(f"a string of over {MAX_STRING_CHARS:,} characters")
    ev.budget.spend_bytes(len(text) + size)
    return Known(text.replace(old, by), loc)


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
    """format() once per element of the list arguments (all of one length); other
    arguments are used in every row."""
    _need(args, 1, "formatlist")
    if any(not isinstance(a, Known) for a in args[1:]):
        return unknown("formatlist() of an unknown value", loc, ref=_unknown_ref(args))
    lists = [a.value for a in args[1:] if isinstance(a, Known) and isinstance(a.value, list)]
    if any(any(is_spread(i) for i in x) for x in lists):
        return unknown("formatlist() of a list of unknown length", loc)
    if not lists:
        return Known([_format(ev, args, loc)], loc)
    n = len(lists[0])
    if any(len(x) != n for x in lists):
        raise ValueError("formatlist() of lists of different lengths")
    ev.budget.spend(n * len(args))
    out: list[Value] = []
    for i in range(n):
        row: list[Value] = [args[0]]
        for a in args[1:]:
            row.append(a.value[i] if isinstance(a, Known) and isinstance(a.value, list) else a)
        out.append(_format(ev, row, loc))
    return Known(out, loc)


# --------------------------------------------------------------------------- numbers


def _numbers_fn(name: str, n: int, op: Callable[[list[float | int]], float | int]) -> _Fn:
    """A function of ``n`` known numbers (``n`` 0: of one or more)."""

    def f(ev: Evaluator, args: list[Value], loc: Location) -> Value:
        _need(args, max(n, 1), name)
        nums = [_num(a) for a in (args[:n] if n else args)]
        if any(x is None for x in nums):
            if any(isinstance(a, Known) and _num(a) is None for a in args):
                raise ValueError(f"{name}() of a value that is not a number")
            return unknown(f"{name}() of an unknown value", loc, ref=_unknown_ref(args))
        got = op([x for x in nums if x is not None])
        return Known(_whole(got), loc)

    return f


def _whole(x: float | int) -> float | int:
    if isinstance(x, float) and math.isfinite(x) and x.is_integer() and abs(x) < 2**53:
        return int(x)
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError("the result is not a finite number")
    return x


def _log(n: list[float | int]) -> float:
    return math.log(n[0], n[1])


def _pow(n: list[float | int]) -> float | int:
    if abs(n[1]) > 4096 and abs(n[0]) > 1:
        raise OverflowError("pow() result too large")
    return math.pow(n[0], n[1])


def _signum(n: list[float | int]) -> int:
    return (n[0] > 0) - (n[0] < 0)


_FUNCTIONS["abs"] = _numbers_fn("abs", 1, lambda n: abs(n[0]))
_FUNCTIONS["ceil"] = _numbers_fn("ceil", 1, lambda n: math.ceil(n[0]))
_FUNCTIONS["floor"] = _numbers_fn("floor", 1, lambda n: math.floor(n[0]))
_FUNCTIONS["log"] = _numbers_fn("log", 2, _log)
_FUNCTIONS["pow"] = _numbers_fn("pow", 2, _pow)
_FUNCTIONS["signum"] = _numbers_fn("signum", 1, _signum)
_FUNCTIONS["max"] = _numbers_fn("max", 0, max)
_FUNCTIONS["min"] = _numbers_fn("min", 0, min)


@_fn("parseint")
def _parseint(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "parseint")
    text, base = _str(args[0]), _int(args[1], "parseint")
    if text is None or base is None:
        return unknown("parseint() of an unknown value", loc, ref=_unknown_ref(args))
    if not 2 <= base <= 62 or len(text) > 4096:
        raise ValueError("parseint() base must be 2 to 62")
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    body = text[1:] if text[:1] in "+-" else text
    value = 0
    for ch in body if body else "!":
        d = digits.find(ch.lower() if base <= 36 else ch)
        if d < 0 or d >= base:
            raise ValueError(f"{text!r} is not a base-{base} number")
        value = value * base + d
    return Known(-value if text.startswith("-") else value, loc)


@_fn("sum")
def _sum(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "sum")
    items = _list(args[0])
    if items is None:
        return unknown("sum() of an unknown list", loc, ref=_unknown_ref(args))
    if not items:
        raise ValueError("sum() of an empty list")
    nums = [_num(i) for i in items]
    if any(x is None for x in nums):
        return unknown("sum() of unknown elements", loc)
    return Known(_whole(sum(x for x in nums if x is not None)), loc)


# --------------------------------------------------------------------------- collections


@_fn("range")
def _range(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """``range(limit)``, ``range(start, limit)``, ``range(start, limit, step)``; at most
    1024 numbers, as in Terraform."""
    nums = [_num(a) for a in args]
    if not 1 <= len(nums) <= 3:
        raise ValueError("range() takes one to three numbers")
    if any(x is None for x in nums):
        return unknown("range() of an unknown value", loc, ref=_unknown_ref(args))
    start, limit, step = 0.0, 0.0, 1.0
    known = [float(x) for x in nums if x is not None]
    if len(known) == 1:
        limit = known[0]
    else:
        start, limit = known[0], known[1]
        step = known[2] if len(known) == 3 else (1.0 if limit >= start else -1.0)
    if step == 0:
        raise ValueError("range() step must not be 0")
    out: list[Value] = []
    x = start
    while (x < limit) if step > 0 else (x > limit):
        if len(out) >= 1024:
            raise ValueError("range() of more than 1024 numbers")
        out.append(Known(_whole(x), loc))
        x += step
    ev.budget.spend(len(out))
    return Known(out, loc)


@_fn("reverse")
def _reverse(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "reverse")
    items = _list(args[0])
    if items is None:
        return unknown("reverse() of an unknown list", loc, ref=_unknown_ref(args))
    ev.budget.spend(len(items))
    return Known(items[::-1], loc)


@_fn("slice")
def _slice(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 3, "slice")
    items, start, end = _list(args[0]), _int(args[1], "slice"), _int(args[2], "slice")
    if items is None or start is None or end is None:
        return unknown("slice() of an unknown value", loc, ref=_unknown_ref(args))
    if not 0 <= start <= end <= len(items):
        raise ValueError("slice() indexes out of range")
    return Known(items[start:end], loc)


@_fn("sort")
def _sort(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """Strings in lexical order (numbers sort as their text, as in Terraform)."""
    _need(args, 1, "sort")
    items = _known_list(args[0])
    if items is None or any(is_spread(i) for i in items):
        return unknown("sort() of an unknown list", loc, ref=_unknown_ref(args))
    texts = [_str(i) for i in items]
    if any(t is None for t in texts):
        raise ValueError("sort() of values that are not strings")
    ev.budget.spend(len(items))
    return Known(
        [Known(t, i.loc or loc) for t, i in sorted(zip(texts, items, strict=True), key=lambda p: p[0] or "")], loc
    )


@_fn("index")
def _index_fn(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "index")
    items, item = _list(args[0]), args[1]
    if items is None or not isinstance(item, Known):
        return unknown("index() of an unknown value", loc, ref=_unknown_ref(args))
    wanted = _plain_key(ev, item)
    for i, x in enumerate(items):
        if not isinstance(x, Known):
            return unknown("index() of a list with unknown elements", loc)
        if _plain_key(ev, x) == wanted:
            return Known(i, loc)
    raise ValueError("index() found no such element")


def _truth_fn(name: str, decisive: bool) -> _Fn:
    """alltrue() (``decisive`` False: one known false decides) or anytrue() (one known true
    decides); unknown when an unknown element could still change the answer."""

    def f(ev: Evaluator, args: list[Value], loc: Location) -> Value:
        _need(args, 1, name)
        v = args[0]
        if not (isinstance(v, Known) and isinstance(v.value, list)):
            return unknown(f"{name}() of an unknown list", loc, ref=_unknown_ref(args))
        ev.budget.spend(len(v.value))
        undecided = False
        for item in v.value:
            b = _bool(item)
            if b is None:
                undecided = True
            elif b is decisive:
                return Known(decisive, loc)
        if undecided:
            return unknown(f"{name}() of unknown elements", loc)
        return Known(not decisive, loc)

    return f


def _bool(v: Value) -> bool | None:
    if isinstance(v, Known):
        if isinstance(v.value, bool):
            return v.value
        if v.value in ("true", "false"):
            return v.value == "true"
        raise ValueError("a value that is not a bool")
    return None


_FUNCTIONS["alltrue"] = _truth_fn("alltrue", False)
_FUNCTIONS["anytrue"] = _truth_fn("anytrue", True)


@_fn("chunklist")
def _chunklist(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "chunklist")
    items, size = _list(args[0]), _int(args[1], "chunklist")
    if items is None or size is None:
        return unknown("chunklist() of an unknown value", loc, ref=_unknown_ref(args))
    if size < 0:
        raise ValueError("chunklist() size must not be negative")
    ev.budget.spend(len(items) + 1)
    if size == 0:
        return Known([Known(items, loc)], loc)
    return Known([Known(items[i : i + size], loc) for i in range(0, len(items), size)], loc)


@_fn("matchkeys")
def _matchkeys(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """The elements of ``values`` whose element of ``keys`` at the same index is in ``searchset``."""
    _need(args, 3, "matchkeys")
    values, keys, search = _list(args[0]), _known_list(args[1]), _known_list(args[2])
    if values is None or keys is None or search is None:
        return unknown("matchkeys() of an unknown value", loc, ref=_unknown_ref(args))
    if len(values) != len(keys):
        raise ValueError("matchkeys() lists of different lengths")
    ev.budget.spend(len(keys) + len(search))
    wanted = {_plain_key(ev, s) for s in search}
    return Known([v for v, k in zip(values, keys, strict=True) if _plain_key(ev, k) in wanted], loc)


@_fn("zipmap")
def _zipmap(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "zipmap")
    keys, values = _known_list(args[0]), _list(args[1])
    if keys is None or values is None:
        return unknown("zipmap() of an unknown list", loc, ref=_unknown_ref(args))
    if len(keys) != len(values):
        raise ValueError("zipmap() lists of different lengths")
    names = [_str(k) for k in keys]
    if any(n is None for n in names):
        raise ValueError("zipmap() keys must be strings")
    ev.budget.spend(len(keys))
    return Known({str(n): v for n, v in zip(names, values, strict=True)}, loc)


@_fn("transpose")
def _transpose(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """A map of lists of strings turned inside out: each string maps to the keys holding it."""
    _need(args, 1, "transpose")
    m = args[0]
    if not (isinstance(m, Known) and isinstance(m.value, dict)):
        return unknown("transpose() of an unknown map", loc, ref=_unknown_ref(args))
    out: dict[str, list[str]] = {}
    for key in sorted(m.value):
        items = _known_list(m.value[key])
        if items is None:
            return unknown("transpose() of unknown lists", loc)
        ev.budget.spend(len(items) + 1)
        for item in items:
            text = _str(item)
            if text is None:
                raise ValueError("transpose() of values that are not strings")
            out.setdefault(text, []).append(key)
    return Known({k: Known([Known(x, loc) for x in sorted(v)], loc) for k, v in out.items()}, loc)


def _set_args(ev: Evaluator, args: list[Value], name: str) -> list[list[Value]] | None:
    _need(args, 1, name)
    out: list[list[Value]] = []
    for a in args:
        items = _known_list(a)
        if items is None:
            return None
        out.append(list(items))
    return out


@_fn("setunion")
def _setunion(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """Every element of any of the sets; an unknown set adds a spread (the known ones are kept)."""
    _need(args, 1, "setunion")
    items: list[Value] = []
    for a in args:
        if isinstance(a, Known) and isinstance(a.value, list):
            ev.budget.spend(len(a.value))
            items.extend(a.value)
        elif isinstance(a, Unknown):
            items.append(spread(a, loc))
        else:
            raise ValueError("setunion() of a value that is not a set")
    return _partial(_sorted_set(ev, _unique(ev, items, loc)), loc, "setunion() of unknown sets")


@_fn("setintersection")
def _setintersection(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    sets = _set_args(ev, args, "setintersection")
    if sets is None:
        return unknown("setintersection() of an unknown set", loc, ref=_unknown_ref(args))
    ev.budget.spend(sum(len(s) for s in sets))
    keep = set.intersection(*({_plain_key(ev, i) for i in s} for s in sets))
    first = _unique(ev, sets[0], loc)
    return Known(_sorted_set(ev, [i for i in first if _plain_key(ev, i) in keep]), loc)


@_fn("setsubtract")
def _setsubtract(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "setsubtract")
    sets = _set_args(ev, args[:2], "setsubtract")
    if sets is None:
        return unknown("setsubtract() of an unknown set", loc, ref=_unknown_ref(args))
    ev.budget.spend(len(sets[0]) + len(sets[1]))
    drop = {_plain_key(ev, i) for i in sets[1]}
    first = _unique(ev, sets[0], loc)
    return Known(_sorted_set(ev, [i for i in first if _plain_key(ev, i) not in drop]), loc)


@_fn("setproduct")
def _setproduct(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """Every combination of one element from each list, in order (capped like any value)."""
    _need(args, 1, "setproduct")
    lists = [_list(a) for a in args]
    if any(x is None for x in lists):
        return unknown("setproduct() of an unknown list", loc, ref=_unknown_ref(args))
    size = 1
    for x in lists:
        size *= len(x or [])
        if size * len(lists) > MAX_VALUE_NODES:
            raise too_large(f"a value of over {MAX_VALUE_NODES:,} nodes")
    ev.budget.spend(size * len(lists))
    combos: list[list[Value]] = [[]]
    for x in lists:
        combos = [[*c, item] for c in combos for item in (x or [])]
    return Known([Known(c, loc) for c in combos], loc)


# --------------------------------------------------------------------------- encoding


# base64 and CSV text decoded into values: past this many characters the result is given up
# on (a KMS000), as any value past the evaluator's limits.
def _check_size(n: int) -> None:
    if n > MAX_STRING_CHARS:
        raise too_large(f"a string of over {MAX_STRING_CHARS:,} characters")


@_fn("base64encode")
def _base64encode(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "base64encode")
    text = _str(args[0])
    if text is None:
        return unknown("base64encode() of an unknown value", loc, ref=_unknown_ref(args))
    import base64

    _check_size(len(text) * 4 // 3)
    ev.budget.spend_bytes(len(text) * 2)
    return Known(base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii"), loc)


@_fn("base64decode")
def _base64decode(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "base64decode")
    text = _str(args[0])
    if text is None:
        return unknown("base64decode() of an unknown value", loc, ref=_unknown_ref(args))
    import base64
    import binascii

    _check_size(len(text))
    ev.budget.spend_bytes(len(text) * 2)
    try:
        return Known(base64.b64decode(text, validate=True).decode("utf-8"), loc)
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("base64decode() of text that is not base64 of UTF-8") from None


# The encodings textencodebase64()/textdecodebase64() are evaluated for (IANA names, as
# Terraform takes them); any other is left unknown.
_TEXT_ENCODINGS = {
    "UTF-8": "utf-8",
    "UTF-16": "utf-16",
    "UTF-16LE": "utf-16-le",
    "UTF-16BE": "utf-16-be",
    "UTF-32LE": "utf-32-le",
    "UTF-32BE": "utf-32-be",
    "US-ASCII": "ascii",
    "ISO-8859-1": "latin-1",
    "WINDOWS-1252": "cp1252",
}


@_fn("textencodebase64")
def _textencodebase64(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "textencodebase64")
    text, enc = _str(args[0]), _str(args[1])
    codec = _TEXT_ENCODINGS.get((enc or "").upper())
    if text is None or codec is None:
        return unknown("textencodebase64() of an unknown value or encoding", loc, ref=_unknown_ref(args))
    import base64

    _check_size(len(text) * 6)
    ev.budget.spend_bytes(len(text) * 4)
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        raise ValueError(f"the text cannot be written in {enc}") from None
    return Known(base64.b64encode(data).decode("ascii"), loc)


@_fn("textdecodebase64")
def _textdecodebase64(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "textdecodebase64")
    text, enc = _str(args[0]), _str(args[1])
    codec = _TEXT_ENCODINGS.get((enc or "").upper())
    if text is None or codec is None:
        return unknown("textdecodebase64() of an unknown value or encoding", loc, ref=_unknown_ref(args))
    import base64
    import binascii

    _check_size(len(text))
    ev.budget.spend_bytes(len(text) * 2)
    try:
        return Known(base64.b64decode(text, validate=True).decode(codec), loc)
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError(f"textdecodebase64() of text that is not base64 of {enc}") from None


@_fn("urlencode")
def _urlencode(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """Go's url.QueryEscape: letters, digits and ``-_.~`` kept, a space is ``+``."""
    _need(args, 1, "urlencode")
    text = _str(args[0])
    if text is None:
        return unknown("urlencode() of an unknown value", loc, ref=_unknown_ref(args))
    from urllib.parse import quote_plus

    _check_size(len(text) * 9)
    ev.budget.spend_bytes(len(text) * 3)
    return Known(quote_plus(text, safe="", encoding="utf-8", errors="surrogatepass"), loc)


@_fn("csvdecode")
def _csvdecode(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """RFC 4180 CSV: the first line names the columns, each later one is a map."""
    _need(args, 1, "csvdecode")
    text = _str(args[0])
    if text is None:
        return unknown("csvdecode() of an unknown value", loc, ref=_unknown_ref(args))
    import csv

    _check_size(len(text))
    ev.budget.spend_bytes(len(text) * 4)
    try:
        rows = list(csv.reader(text.splitlines(), strict=True))
    except csv.Error as exc:
        raise ValueError(f"csvdecode(): {exc}") from None
    if not rows:
        raise ValueError("csvdecode() of text with no header line")
    header, body = rows[0], rows[1:]
    if len(header) * (len(body) + 1) > MAX_VALUE_NODES:
        raise too_large(f"a value of over {MAX_VALUE_NODES:,} nodes")
    ev.budget.spend(len(header) * (len(body) + 1))
    out: list[Value] = []
    for row in body:
        if len(row) != len(header):
            raise ValueError("csvdecode() of a line with the wrong number of fields")
        out.append(Known({h: Known(c, loc) for h, c in zip(header, row, strict=True)}, loc))
    return Known(out, loc)


# --------------------------------------------------------------------------- hashes


def _digest_fn(name: str, algorithm: str, b64: bool) -> _Fn:
    def f(ev: Evaluator, args: list[Value], loc: Location) -> Value:
        _need(args, 1, name)
        text = _str(args[0])
        if text is None:
            return unknown(f"{name}() of an unknown value", loc, ref=_unknown_ref(args))
        import hashlib

        ev.budget.spend_bytes(len(text) * 2)
        h = hashlib.new(algorithm, text.encode("utf-8", "surrogatepass"))
        if b64:
            import base64

            return Known(base64.b64encode(h.digest()).decode("ascii"), loc)
        return Known(h.hexdigest(), loc)

    return f


for _name, _alg, _base64 in (
    ("md5", "md5", False),
    ("sha1", "sha1", False),
    ("sha256", "sha256", False),
    ("sha512", "sha512", False),
    ("base64sha256", "sha256", True),
    ("base64sha512", "sha512", True),
):
    _FUNCTIONS[_name] = _digest_fn(_name, _alg, _base64)


@_fn("uuidv5")
def _uuidv5(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "uuidv5")
    ns, name = _str(args[0]), _str(args[1])
    if ns is None or name is None:
        return unknown("uuidv5() of an unknown value", loc, ref=_unknown_ref(args))
    import uuid

    named = {
        "dns": uuid.NAMESPACE_DNS,
        "url": uuid.NAMESPACE_URL,
        "oid": uuid.NAMESPACE_OID,
        "x500": uuid.NAMESPACE_X500,
    }
    namespace = named.get(ns) or uuid.UUID(ns)  # ValueError for a malformed one, as Terraform errs
    ev.budget.spend_bytes(len(name))
    return Known(str(uuid.uuid5(namespace, name)), loc)


# --------------------------------------------------------------------------- IP networks


def _network(v: Value, name: str) -> object | None:
    text = _str(v)
    if text is None:
        return None
    import ipaddress

    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{name}() of an invalid CIDR prefix {text!r}") from None


@_fn("cidrhost")
def _cidrhost(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """The address numbered ``hostnum`` in the prefix (negative: counted from its end)."""
    _need(args, 2, "cidrhost")
    net, num = _network(args[0], "cidrhost"), _int(args[1], "cidrhost")
    if net is None or num is None:
        return unknown("cidrhost() of an unknown value", loc, ref=_unknown_ref(args))
    import ipaddress

    assert isinstance(net, ipaddress.IPv4Network | ipaddress.IPv6Network)
    if not -net.num_addresses <= num < net.num_addresses:
        raise ValueError("cidrhost() host number out of range")
    base = int(net.network_address) + (num if num >= 0 else net.num_addresses + num)
    return Known(str(ipaddress.ip_address(base) if net.version == 4 else ipaddress.IPv6Address(base)), loc)


@_fn("cidrnetmask")
def _cidrnetmask(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 1, "cidrnetmask")
    net = _network(args[0], "cidrnetmask")
    if net is None:
        return unknown("cidrnetmask() of an unknown value", loc, ref=_unknown_ref(args))
    import ipaddress

    assert isinstance(net, ipaddress.IPv4Network | ipaddress.IPv6Network)
    if net.version != 4:
        raise ValueError("cidrnetmask() of an IPv6 prefix")
    return Known(str(net.netmask), loc)


def _subnet(net: object, newbits: int, netnum: int) -> object:
    import ipaddress

    assert isinstance(net, ipaddress.IPv4Network | ipaddress.IPv6Network)
    length = net.prefixlen + newbits
    if newbits < 0 or length > net.max_prefixlen:
        raise ValueError(f"a prefix of /{length} does not fit")
    if not 0 <= netnum < (1 << newbits):
        raise ValueError(f"network number {netnum} does not fit in {newbits} bits")
    base = int(net.network_address) + (netnum << (net.max_prefixlen - length))
    return ipaddress.ip_network((base, length))


@_fn("cidrsubnet")
def _cidrsubnet(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 3, "cidrsubnet")
    net, bits, num = _network(args[0], "cidrsubnet"), _int(args[1], "cidrsubnet"), _int(args[2], "cidrsubnet")
    if net is None or bits is None or num is None:
        return unknown("cidrsubnet() of an unknown value", loc, ref=_unknown_ref(args))
    return Known(str(_subnet(net, bits, num)), loc)


@_fn("cidrsubnets")
def _cidrsubnets(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """Consecutive prefixes of the given extra bits, each aligned to its own size."""
    _need(args, 1, "cidrsubnets")
    net = _network(args[0], "cidrsubnets")
    bits = [_int(a, "cidrsubnets") for a in args[1:]]
    if net is None or any(b is None for b in bits):
        return unknown("cidrsubnets() of an unknown value", loc, ref=_unknown_ref(args))
    import ipaddress

    assert isinstance(net, ipaddress.IPv4Network | ipaddress.IPv6Network)
    ev.budget.spend(len(bits))
    out: list[Value] = []
    start = int(net.network_address)
    end = start + net.num_addresses
    for b in bits:
        assert b is not None
        length = net.prefixlen + b
        if b < 1 or length > net.max_prefixlen:
            raise ValueError(f"a prefix of /{length} does not fit")
        size = 1 << (net.max_prefixlen - length)
        start = -(-start // size) * size  # aligned up to the subnet's own size
        if start + size > end:
            raise ValueError("cidrsubnets() ran out of addresses")
        out.append(Known(str(ipaddress.ip_network((start, length))), loc))
        start += size
    return Known(out, loc)


# --------------------------------------------------------------------------- files and templates


@_fn("fileexists")
def _fileexists(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """Whether a file inside the scanned tree exists; unknown for a path outside it."""
    _need(args, 1, "fileexists")
    got = ev.read_file(args[0], loc)
    if isinstance(got, Unknown):
        if got.reason.startswith("file `") and got.reason.endswith("cannot be read"):
            return Known(False, loc)
        return unknown("fileexists() of a path outside the scanned tree or unknown", loc, ref=_unknown_ref(args))
    return Known(True, loc)


def _file_fn(name: str, digest: Callable[[bytes], str]) -> _Fn:
    """A function of a file's content (read inside the scanned tree only)."""

    def f(ev: Evaluator, args: list[Value], loc: Location) -> Value:
        _need(args, 1, name)
        got = ev.read_file(args[0], loc)
        if isinstance(got, Unknown):
            return got
        data = got[1].encode("utf-8", "surrogateescape")
        ev.budget.spend_bytes(len(data) * 2)
        return Known(digest(data), loc)

    return f


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _hexdigest(algorithm: str, b64: bool) -> Callable[[bytes], str]:
    def digest(data: bytes) -> str:
        import hashlib

        h = hashlib.new(algorithm, data)
        return _b64(h.digest()) if b64 else h.hexdigest()

    return digest


_FUNCTIONS["filebase64"] = _file_fn("filebase64", _b64)
_FUNCTIONS["filemd5"] = _file_fn("filemd5", _hexdigest("md5", False))
_FUNCTIONS["filesha1"] = _file_fn("filesha1", _hexdigest("sha1", False))
_FUNCTIONS["filesha256"] = _file_fn("filesha256", _hexdigest("sha256", False))
_FUNCTIONS["filesha512"] = _file_fn("filesha512", _hexdigest("sha512", False))
_FUNCTIONS["filebase64sha256"] = _file_fn("filebase64sha256", _hexdigest("sha256", True))
_FUNCTIONS["filebase64sha512"] = _file_fn("filebase64sha512", _hexdigest("sha512", True))


@_fn("templatestring")
def _templatestring(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """A template given as a string (Terraform takes it from a reference), rendered with
    the variables, as templatefile() renders a file; findings in it are placed at the
    string's own location."""
    _need(args, 2, "templatestring")
    text, variables = args[0], args[1]
    if not (isinstance(text, Known) and isinstance(text.value, str)):
        return unknown("templatestring() of an unknown template", loc, ref=_unknown_ref(args))
    if not (isinstance(variables, Known) and isinstance(variables.value, dict)):
        return unknown("templatestring() variables are not known", loc, ref=_unknown_ref(args))
    return render_template(ev, text.value, variables.value, text.loc or loc)


def render_template(ev: Evaluator, text: str, variables: dict[str, Value], where: Location) -> Value:
    """Template text rendered with ``variables`` only, everything located at ``where``."""
    if ev._templates:
        return unknown("a template cannot render a template", where)
    ev._templates += 1
    try:
        return ev.synthetic_template(text, where.file, Scope(dict(variables), template=True), row_offset=0, fixed=where)
    finally:
        ev._templates -= 1


# --------------------------------------------------------------------------- not evaluated

# Built-in functions kmslint does not evaluate, and why: their call is an unknown value.
# (docs/terraform-functions.md lists them; a test keeps it and this module in step.)
NOT_EVALUATED: dict[str, str] = {
    "timestamp": "unknown by definition: the time of the run",
    "plantimestamp": "unknown by definition: the time of the plan",
    "uuid": "unknown by definition: a new random UUID at each call",
    "bcrypt": "unknown by definition: a random salt at each call",
    "rsadecrypt": "unknown: needs a private key, and decrypts no key setting",
    "formatdate": "unknown: dates set no key setting",
    "timeadd": "unknown: dates set no key setting",
    "timecmp": "unknown: dates set no key setting",
    "base64gzip": "unknown: the bytes depend on Go's gzip writer",
    "yamlencode": "unknown: the exact text is the Go YAML library's",
    "yamldecode": "unknown: not evaluated (YAML typing rules differ between libraries)",
    "abspath": "unknown: depends on the directory Terraform runs in",
    "pathexpand": "unknown: depends on the home directory of whoever runs Terraform",
    "fileset": "unknown: not evaluated (lists a directory)",
    "issensitive": "unknown: kmslint does not track sensitive marks",
    "type": "unknown: only in `terraform console`",
    "list": "unknown: removed in Terraform 0.15 (calling it is an error)",
    "map": "unknown: removed in Terraform 0.15 (calling it is an error)",
}


# --------------------------------------------------------------------------- data "template_file"


def template_file(ev: Evaluator, name: str, loc: Location) -> Value:
    """``data.template_file.<name>.rendered``: its ``template`` rendered with its ``vars``, as
    templatefile() renders (the hashicorp/template provider's data source, still common).

    A ``template = file("x.tpl")`` is rendered from the file, so findings point into it;
    any other known template string is rendered with findings at the string.  Rendered
    once per data source (every key reading it shares the value).
    """
    key = f"template_file.{name}"  # not a policy document's name: those have no dot
    cached = ev._docs.get(key)
    if cached is not None:
        return cached
    ref = f"data.template_file.{name}.rendered"
    block = ev.config.data.get(("template_file", name))
    if block is None:
        return unknown(f"data source `template_file.{name}` is not defined here", loc, ref=ref)
    ev._docs[key] = unknown("the template_file refers to itself", loc, ref=ref)
    variables = ev.eval_attr(block, "vars")
    if variables is None or (isinstance(variables, Known) and variables.value is None):
        variables = Known({}, loc)
    value = _render_template_file(ev, block, variables, loc, ref)
    ev._docs[key] = value
    return value


def _render_template_file(ev: Evaluator, block: Block, variables: Value, loc: Location, ref: str) -> Value:
    attr = block.attr("template")
    if attr is None:
        return unknown("template_file without a template", loc, ref=ref)
    path = _file_call_argument(attr.expr)
    if path is not None:
        return ev.template_value(ev._node(path, attr.expr.src, None), variables, loc)
    text = ev.eval(attr.expr)
    if not (isinstance(variables, Known) and isinstance(variables.value, dict)):
        return unknown("the vars of a template_file are not known", loc, ref=ref)
    if isinstance(text, Known) and isinstance(text.value, str):
        where = text.loc or loc
        if where.file != block.loc.file and (where.line, where.column) == (1, 1):
            # A whole file's text (``"${file("policy.json.tpl")}"``): rendered as templatefile()
            # renders it, so findings point into the file.
            return _render_file_text(ev, text.value, variables.value, where)
        return render_template(ev, text.value, variables.value, where)
    if isinstance(text, Known) and isinstance(text.value, dict | list):
        # JSON text written in the configuration (a heredoc) is already a located tree:
        # render the strings that hold template sequences, each at its own place.
        return _render_tree(ev, text, variables.value, 0)
    return unknown("the template of a template_file is not known text", loc, ref=ref)


def _render_file_text(ev: Evaluator, text: str, variables: dict[str, Value], where: Location) -> Value:
    if ev._templates:
        return unknown("a template cannot render a template", where)
    ev._templates += 1
    try:
        scope = Scope(dict(variables), template=True)
        return ev.synthetic_template(text, where.file, scope, row_offset=-1, fixed=None)
    finally:
        ev._templates -= 1


def _render_tree(ev: Evaluator, v: Known, variables: dict[str, Value], depth: int) -> Value:
    ev.budget.spend()
    if depth > ev.max_depth:
        return unknown("the template nests too deep", v.loc)
    if isinstance(v.value, str):
        if "${" not in v.value and "%{" not in v.value:
            return v
        return render_template(ev, v.value, variables, v.loc or Location.point("", 1))
    if isinstance(v.value, dict):
        return Known({k: _render_child(ev, x, variables, depth) for k, x in v.value.items()}, v.loc)
    if isinstance(v.value, list):
        return Known([_render_child(ev, x, variables, depth) for x in v.value], v.loc)
    return v


def _render_child(ev: Evaluator, v: Value, variables: dict[str, Value], depth: int) -> Value:
    return _render_tree(ev, v, variables, depth + 1) if isinstance(v, Known) else v


def _file_call_argument(expr: Expr) -> Node | None:
    """The argument of ``file(<path>)`` when that is the whole expression."""
    node = expr.node
    while node is not None and node.type == "expression" and len(node.named_children) == 1:
        node = node.named_children[0]
    if node is None or node.type != "function_call" or expr.src.text(node.named_children[0]) != "file":
        return None
    args = next((c for c in node.named_children if c.type == "function_arguments"), None)
    exprs = [] if args is None else [c for c in args.named_children if c.type == "expression"]
    return exprs[0] if len(exprs) == 1 else None


def splat_attr(splat: Node, src: Src) -> str | None:
    """The attribute name of a ``[*].name`` splat (nothing more after it), else None."""
    inner = splat.named_children[0] if splat.named_children else None
    subs = [] if inner is None else list(inner.named_children)
    if len(subs) == 1 and subs[0].type == "get_attr":
        return src.text(subs[0].named_children[0])
    return None


def data_instances(
    ev: Evaluator, dtype: str, dname: str, splat: Node, src: Src, scope: Scope | None, loc: Location, rest: list[Node]
) -> Value:
    """``data.<dtype>.<dname>[*].<attr>``: a list of the attribute, one per instance (its
    ``count`` or ``for_each``, known; one without them); unknown when they are not known."""
    attr = splat_attr(splat, src) or ""
    block = ev.config.data.get((dtype, dname))
    ref = f"data.{dtype}.{dname}.{attr}"
    if block is None:
        return unknown(f"data source `{dtype}.{dname}` is not defined here", loc, ref=ref)
    n = 1
    count = ev.eval_attr(block, "count")
    each = ev.eval_attr(block, "for_each")
    if count is not None:
        n_count = _int(count, "count") if isinstance(count, Known) else None
        if n_count is None:
            return unknown(f"the instances of `data.{dtype}.{dname}` are not known", loc, ref=ref)
        n = n_count
    elif each is not None:
        if not (isinstance(each, Known) and isinstance(each.value, dict | list)) or any(
            is_spread(x) for x in (each.value if isinstance(each.value, list) else [])
        ):
            return unknown(f"the instances of `data.{dtype}.{dname}` are not known", loc, ref=ref)
        n = len(each.value)
    if not 0 <= n <= 1024:
        return unknown(f"`data.{dtype}.{dname}` has {n} instances", loc, ref=ref)
    one = ev.data_attr(dtype, dname, attr, [], src, scope, loc)
    ev.budget.spend(n)
    value: Value = Known([one] * n, loc)
    for st in rest:
        value = ev._step(value, st, src, scope)
    return value
