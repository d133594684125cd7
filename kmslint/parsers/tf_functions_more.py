"""The rest of Terraform's built-in functions, imported the first time one is called.

Regular expressions, numbers, the less common collection functions, encodings,
hashes, IP networks and file digests: most configurations call none of them,
and importing them costs every lint (a one-file lint takes ~50 ms).
:mod:`kmslint.parsers.tf_functions` registers a stand-in for each name in
:data:`~kmslint.parsers.tf_functions.DEFERRED`; importing this module
replaces the stand-ins with the functions below.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from kmslint.model import Known, Location, Unknown, Value
from kmslint.parsers.hcl_values import MAX_STRING_CHARS, MAX_VALUE_NODES, Scope, too_large, unknown
from kmslint.parsers.tf_library import (
    _FUNCTIONS,
    _Fn,
    _fn,
    _int,
    _known_list,
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
    is_spread,
    render_template,
    splat_attr,
    spread,
    template_value,
)

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from tree_sitter import Node

    from kmslint.parsers.hcl_eval import Evaluator
    from kmslint.parsers.hcl_syntax import Block, Expr, Src

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
# Patterns compiled on first use (re caches them): compiling at import costs every lint.
_COUNTED = r"\{(\d+)(,(\d*))?\}"


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
            counted = re.compile(_COUNTED).match(p, i) if ch == "{" else None
            if ch in "*+?" or counted is not None:
                if ch == "?" and out and out[-1] == "(":
                    out.append(ch)  # (?i), (?P<name>...), (?:...)
                    i += 1
                    continue
                if last_group_busy:
                    self.nested = True
                groups[-1] = True
                end = self._quantifier(p, i, counted)
                out.append(p[i:end])
                i = end
                last_group_busy = False
                continue
            out.append(ch)
            i += 1
            last_group_busy = False
        return "".join(out)

    def _quantifier(self, p: str, i: int, counted: re.Match[str] | None) -> int:
        """Count the quantifier at ``p[i]`` (``counted``: it is ``{n,m}``); where it ends."""
        fixed = counted is not None and (counted.group(2) is None or counted.group(3) == counted.group(1))
        self.quantifiers += int(not fixed)
        end = counted.end() if counted is not None else i + 1
        if end < len(p) and p[end] == "?":
            end += 1  # the lazy form: one quantifier
        if end < len(p) and p[end] in "*+":
            raise ValueError("a repetition of a repetition is not RE2 syntax")
        return end

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


_DOLLAR = r"\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))"


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

    return re.compile(_DOLLAR).sub(one, template)


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


def _one_text(args: list[Value], name: str, loc: Location) -> str | Unknown:
    """The one string argument of ``name()``, or the Unknown its call is when it is not known."""
    _need(args, 1, name)
    text = _str(args[0])
    if text is None:
        return unknown(f"{name}() of an unknown value", loc, ref=_unknown_ref(args))
    return text


@_fn("base64encode")
def _base64encode(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    text = _one_text(args, "base64encode", loc)
    if isinstance(text, Unknown):
        return text
    import base64

    _check_size(len(text) * 4 // 3)
    ev.budget.spend_bytes(len(text) * 2)
    return Known(base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii"), loc)


@_fn("base64decode")
def _base64decode(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    text = _one_text(args, "base64decode", loc)
    if isinstance(text, Unknown):
        return text
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
    text = _one_text(args, "urlencode", loc)
    if isinstance(text, Unknown):
        return text
    from urllib.parse import quote_plus

    _check_size(len(text) * 9)
    ev.budget.spend_bytes(len(text) * 3)
    return Known(quote_plus(text, safe="", encoding="utf-8", errors="surrogatepass"), loc)


@_fn("csvdecode")
def _csvdecode(ev: Evaluator, args: list[Value], loc: Location) -> Value:
    """RFC 4180 CSV: the first line names the columns, each later one is a map."""
    text = _one_text(args, "csvdecode", loc)
    if isinstance(text, Unknown):
        return text
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
        text = _one_text(args, name, loc)
        if isinstance(text, Unknown):
            return text
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


# --------------------------------------------------------------------------- strings


def _title(text: str) -> str:
    """Go's strings.Title, as Terraform's title(): a letter after a non-letter, non-digit,
    non-underscore character (or at the start) is made upper case; nothing is lowered."""
    out = []
    prev = " "
    for ch in text:
        out.append(ch.upper() if not (prev.isalnum() or prev == "_") else ch)
        prev = ch
    return "".join(out)


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
        return template_value(ev, ev._node(path, attr.expr.src, None), variables, loc)
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
