"""Terraform's built-in functions, evaluated on the model's symbolic values.

Each function takes the :class:`~kmslint.parsers.hcl_eval.Evaluator` (for its
budget, file reading and ``_plain``), its arguments' values and the call's
location, and returns a value: :class:`~kmslint.model.Known` when every
argument it needs is known, :class:`~kmslint.model.Unknown` otherwise.  Where
Terraform reports an error the function raises ``ValueError`` (or
``TypeError``, ``KeyError``, ...), and the call becomes an Unknown.

Functions register themselves in :data:`kmslint.parsers.tf_library.FUNCTIONS`
with :func:`_fn` when this module is imported (the evaluator imports it).
"""

from __future__ import annotations

import json
import re

from kmslint.model import Interpolated, Known, Location, Unknown, Value
from kmslint.parsers.common import as_go_reads_json
from kmslint.parsers.hcl_values import (
    MAX_STRING_CHARS,
    MAX_VALUE_NODES,
    Scope,
    build_string,
    number,
    scalar_text,
    string_parts,
    too_large,
    unknown,
)
from kmslint.parsers.tf_library import (
    _FUNCTIONS,
    _Fn,
    _fn,
    _int,
    _list,
    _need,
    _num,
    _partial,
    _plain_key,
    _sorted_set,
    _str,
    _string_fn,
    _unique,
    _unknown_ref,
    file_value,
    is_spread,
    spread,
    template_value,
)

# Decoding JSON text into located values costs about a step per this many bytes (as
# a power of two): a node per two bytes at worst, each a few Python objects.
_JSON_BYTES_PER_STEP = 1

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from tree_sitter import Node

    from kmslint.parsers.hcl_eval import Evaluator
    from kmslint.parsers.hcl_syntax import Src


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
    return file_value(ev, args[0], loc)


@_fn("templatefile")
def _templatefile(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    _need(args, 2, "templatefile")
    if ev._templates:
        # Terraform offers no templatefile() inside a template (a template calling itself
        # would never end); here each call would render the whole template again.
        return unknown("templatefile() cannot be called from inside a template", loc)
    return template_value(ev, args[0], args[1], loc)


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
            if verb == "d" and number(val) is not None:
                parts.append(str(int(number(val) or 0)))
            elif verb == "q":
                parts.append(json.dumps(scalar_text(val)))
            elif verb == "f" and number(val) is not None:
                prec = int(m.group(3)) if m.group(3) else 6
                if prec > _MAX_PRECISION:
                    raise ValueError(f"precision over {_MAX_PRECISION}")
                parts.append(f"{float(number(val) or 0):.{prec}f}")
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


def _chomp(text: str) -> str:
    while text.endswith(("\r\n", "\n")):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    return text


_FUNCTIONS["lower"] = _string_fn("lower", str.lower)
_FUNCTIONS["upper"] = _string_fn("upper", str.upper)
_FUNCTIONS["trimspace"] = _string_fn("trimspace", str.strip)
_FUNCTIONS["chomp"] = _string_fn("chomp", _chomp)


@_fn("replace")
def _replace(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """``substring`` replaced everywhere; a ``/regex/`` replaced by its matches, ``$1`` and
    ``${name}`` in the replacement naming groups."""
    _need(args, 3, "replace")
    text, old, by = _str(args[0]), _str(args[1]), _str(args[2])
    if text is None or old is None or by is None:
        return unknown("replace() of an unknown value", loc, ref=_unknown_ref(args))
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        from kmslint.parsers.tf_functions_more import _expand, _regex

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


# --------------------------------------------------------------------------- templates


# --------------------------------------------------------------------------- deferred

# Functions defined in kmslint.parsers.tf_functions_more, imported on the first call of one
# of them: most configurations call none, and importing them would cost every lint.
DEFERRED = (
    "abs",
    "alltrue",
    "anytrue",
    "base64decode",
    "base64encode",
    "base64sha256",
    "base64sha512",
    "basename",
    "ceil",
    "chunklist",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "csvdecode",
    "dirname",
    "endswith",
    "filebase64",
    "filebase64sha256",
    "filebase64sha512",
    "fileexists",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "floor",
    "indent",
    "index",
    "log",
    "matchkeys",
    "max",
    "md5",
    "min",
    "parseint",
    "pow",
    "range",
    "regex",
    "regexall",
    "reverse",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "sha1",
    "sha256",
    "sha512",
    "signum",
    "slice",
    "sort",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "sum",
    "templatestring",
    "textdecodebase64",
    "textencodebase64",
    "title",
    "transpose",
    "trim",
    "trimprefix",
    "trimsuffix",
    "urlencode",
    "uuidv5",
    "zipmap",
)


def _deferred(name: str) -> _Fn:
    def call(ev: Evaluator, args: list[Value], loc: Location) -> Value:
        from kmslint.parsers import tf_functions_more  # noqa: F401  (replaces every stand-in)

        real = _FUNCTIONS[name]
        if real is call:  # pragma: no cover - a test keeps DEFERRED and the module in step
            raise LookupError(f"{name}() is not defined")
        return real(ev, args, loc)

    return call


for _deferred_name in DEFERRED:
    _FUNCTIONS[_deferred_name] = _deferred(_deferred_name)


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


# --------------------------------------------------------------------------- data sources


def template_file(ev: Evaluator, name: str, loc: Location) -> Value:
    """``data.template_file.<name>.rendered`` (see :func:`kmslint.parsers.tf_functions_more.template_file`)."""
    from kmslint.parsers.tf_functions_more import template_file as render

    return render(ev, name, loc)


def data_instances(
    ev: Evaluator, dtype: str, dname: str, splat: Node, src: Src, scope: Scope | None, loc: Location, rest: list[Node]
) -> Value:
    """``data.<dtype>.<dname>[*].<attr>`` (see :func:`kmslint.parsers.tf_functions_more.data_instances`)."""
    from kmslint.parsers.tf_functions_more import data_instances as instances

    return instances(ev, dtype, dname, splat, src, scope, loc, rest)
