"""The table of Terraform's built-in functions, and what every function uses.

:data:`FUNCTIONS` maps a function's name to its implementation: a
:data:`Function` takes the :class:`~kmslint.parsers.hcl_eval.Evaluator` (for
its budget, file reading and ``_plain``), its arguments' values and the call's
location.  :mod:`kmslint.parsers.tf_functions` (the common functions) and
:mod:`kmslint.parsers.tf_functions_more` (the rest, imported on first use)
register themselves here with :func:`_fn`; the evaluator imports
:mod:`~kmslint.parsers.tf_functions`, and neither function module imports the
evaluator.  The helpers below (partly-known lists, argument conversions) are
the ones both function modules use.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from kmslint.model import DuplicateKey, Known, Location, Unknown, Value
from kmslint.parsers.hcl_values import Scope, number, scalar_text, unknown

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from pathlib import Path

    from tree_sitter import Node

    from kmslint.parsers.hcl_eval import Evaluator
    from kmslint.parsers.hcl_syntax import Src

Function = Callable[["Evaluator", list[Value], Location], Value]
"""A built-in function: the evaluator (for its budget, file reading and ``_plain``), the
arguments' values and the call's location; raises ValueError (and the like) where Terraform
reports an error, which the call turns into an Unknown."""

# Terraform's built-in functions by name, filled as the function modules are imported.
FUNCTIONS: dict[str, Function] = {}
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
    """An element standing for the unknown elements of ``of`` (an unknown list), however many.

    It carries no ``ref``: a reference names one value, and rules compare references as
    one principal (KMS006); a spread may be none, one or several.
    """
    why = of.reason if isinstance(of, Unknown) else "an unknown list"
    return Unknown(f"{why}; {SPREAD}", loc)


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
    return number(v.value) if isinstance(v, Known) else None


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
    """A set's elements in Terraform's order: strings sorted, anything else as first seen;
    spreads (unknown elements) last."""
    known = [i for i in items if not is_spread(i)]
    rest = [i for i in items if is_spread(i)]
    if all(isinstance(i, Known) and isinstance(i.value, str) for i in known):
        known.sort(key=lambda i: str(i.value) if isinstance(i, Known) else "")
    return known + rest


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


def _string_fn(name: str, op: Callable[[str], str]) -> _Fn:
    def f(ev: Evaluator, args: list[Value], loc: Location) -> Value:
        _need(args, 1, name)
        text = _str(args[0])
        if text is not None:
            ev.budget.spend_bytes(len(text))
            return Known(op(text), loc)
        return unknown(f"{name}() of an unknown value", loc, ref=_unknown_ref(args))

    return f


def render_template(ev: Evaluator, text: str, variables: dict[str, Value], where: Location) -> Value:
    """Template text rendered with ``variables`` only, everything located at ``where``."""
    if ev._templates:
        return unknown("a template cannot render a template", where)
    ev._templates += 1
    try:
        return ev.synthetic_template(text, where.file, Scope(dict(variables), template=True), row_offset=0, fixed=where)
    finally:
        ev._templates -= 1


def splat_attr(splat: Node, src: Src) -> str | None:
    """The attribute name of a ``[*].name`` splat (nothing more after it), else None."""
    inner = splat.named_children[0] if splat.named_children else None
    subs = [] if inner is None else list(inner.named_children)
    if len(subs) == 1 and subs[0].type == "get_attr":
        return src.text(subs[0].named_children[0])
    return None


# --------------------------------------------------------------------------- files


def _read(ev: Evaluator, path_value: Value, loc: Location) -> tuple[Path, str, str] | Unknown:
    """The file a function names (see :meth:`Evaluator.read_file`): its path, text and display
    name, recorded as read."""
    got = ev.read_file(path_value, loc)
    if isinstance(got, Unknown):
        return got
    path, text = got
    display = ev.opts.display(path)
    ev.files_read.append(display)
    return path, text, display


def file_value(ev: Evaluator, path_value: Value, loc: Location) -> Value:
    """``file(path)``: the file's text, read once per evaluator however many calls name it."""
    got = _read(ev, path_value, loc)
    if isinstance(got, Unknown):
        return got
    path, text, display = got
    value = ev._files.get(path)
    if value is None:
        value = ev._files[path] = _file_text(ev, text, display)
    return value


def _file_text(ev: Evaluator, text: str, display: str) -> Value:
    """A file's text as file() gives it: a located JSON tree when it is JSON, else the string."""
    from kmslint.parsers import jsonpos

    ev.budget.spend_bytes(len(text))
    if text.lstrip()[:1] in ("{", "["):
        twice: list[DuplicateKey] = []
        try:
            tree = jsonpos.parse(text, display, max_depth=ev.max_depth, budget=ev.budget, duplicates=twice)
        except jsonpos.JSONSyntaxError:
            pass
        else:
            ev.duplicate_keys.update(dict.fromkeys(twice))
            return tree
    lines = text.split("\n")
    end = Location(display, 1, 1, len(lines), len(lines[-1]) + 1)
    return Known(text, end)


def template_value(ev: Evaluator, path_value: Value, variables: Value, loc: Location) -> Value:
    """``templatefile(path, variables)``: the file's text rendered with ``variables`` only."""
    got = _read(ev, path_value, loc)
    if isinstance(got, Unknown):
        return got
    _path, text, display = got
    if not isinstance(variables, Known) or not isinstance(variables.value, dict):
        names: dict[str, Value] = {}
        if not isinstance(variables, Known):
            return unknown("templatefile() variables are not known", loc)
    else:
        names = dict(variables.value)
    ev._templates += 1
    try:
        return ev.synthetic_template(text, display, Scope(names, template=True), row_offset=-1, fixed=None)
    finally:
        ev._templates -= 1
