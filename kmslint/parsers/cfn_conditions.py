"""CloudFormation conditions, evaluated from their definitions.

A template's ``Conditions`` section defines each condition with ``Fn::Equals``,
``Fn::And``, ``Fn::Or``, ``Fn::Not`` and ``Condition`` (another condition).
The operands of ``Fn::Equals`` are resolved by the template's resolver, so they
have the values every property sees: a parameter's default is its value, a
``Fn::FindInMap``/``Fn::Sub``/``Fn::Join`` of known parts is known.  What stays
unknown -- a parameter without a default, a pseudo parameter such as
``AWS::Region`` -- is a *variable*:

* a parameter without a default that has ``AllowedValues`` ranges over them;
* any other variable may equal any literal it is compared with, or none of them
  (its domain is those literals and one "other" value).

A ``CommaDelimitedList`` or ``List<...>`` parameter's ``AllowedValues`` are not
a domain here: what a comparison sees of such a list (an element picked by
``Fn::Select``, the list joined) is free.

``Fn::Equals`` compares as CloudFormation does, as strings: ``true`` and
``"true"`` are equal, and so are ``1`` and ``"1"``.  A comparison of something
that is neither known nor a named unknown (``Fn::GetAZs``, say) is a free
boolean of its own; so is a condition that cannot be read (an unknown function,
a malformed argument) and every condition on a cycle of ``Condition``
references (``A: !Condition B``, ``B: !Condition A``).  A name that the section
does not define is free too.

The definitions become one circuit of gates (shared, folded where constant).
:class:`Space` answers the question the checks ask: can the template's
parameters make every chosen condition come out as chosen?  Conditions that
compare the same unknowns are correlated (``IsProd`` and ``IsDev`` on one
``Stage`` parameter are never both true), and a condition that no value can
change is decided -- its ``Fn::If`` is read as the branch it takes.

Everything is bounded: each question may evaluate :data:`MAX_STEPS_PER_QUESTION`
gates and a template :data:`MAX_STEPS` in all, spent from the unit's budget;
past a bound a question is answered "possible", which is what every
combination of branches being checked (the behaviour without this module) means.
Nothing here raises but :class:`~kmslint.parsers.common.BudgetExceeded`.
"""

from __future__ import annotations

from kmslint.graph import strong_components
from kmslint.model import Interpolated, Known, Unknown, Value, as_dict

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from kmslint.parsers.common import Budget

# Gate kinds.  Gates 0 and 1 are the constants false and true.
_FALSE, _TRUE, _EQ, _NOT, _AND, _OR = range(6)

# What one question may cost (gates evaluated), and all questions about one template.
MAX_STEPS_PER_QUESTION = 20_000
MAX_STEPS = 200_000
# Answers kept (a question asked again, by another key or reading, is free).
MAX_CACHED = 4_096
# How deeply Fn::And/Or/Not may nest before the rest is a free boolean.
MAX_NESTING = 64

# A variable's value that equals none of the literals it is compared with.
_OTHER = object()
_UNSET = object()
# The literal a free boolean's variable is compared with: true when it takes it.
_HOLDS = "\x00holds"

# (kind, payload): a variable and a literal, a child gate, or child gates.
_Gate = tuple[int, object]


class _Circuit:
    """The template's conditions as gates over variables, and the search that answers questions."""

    def __init__(self, budget: Budget | None) -> None:
        self.budget = budget
        self.kinds: list[int] = [_FALSE, _TRUE]
        self.args: list[Any] = [None, None]  # per kind: (variable, literal), a gate, a tuple of gates
        self._index: dict[_Gate, int] = {}
        self.names: dict[str, int] = {}  # condition name -> gate
        self.var_keys: dict[tuple[str, object], int] = {}  # ("ref", name), ("free", what) -> variable
        self.allowed: list[frozenset[str] | None] = []  # per variable: AllowedValues, if any
        self.literals: list[dict[str, None]] = []  # per variable: literals compared with, in order
        self.domains: list[tuple[object, ...]] | None = None
        self.steps = 0
        self._answers: dict[frozenset[tuple[str, bool]], bool] = {}

    # -- building

    def gate(self, kind: int, arg: object) -> int:
        key = (kind, arg)
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self.kinds)
            self.kinds.append(kind)
            self.args.append(arg)
        return found

    def variable(self, key: tuple[str, object] | None, allowed: Iterable[str] | None = None) -> int:
        """The variable for ``key`` (a new one, shared by no one, for None)."""
        if key is not None:
            found = self.var_keys.get(key)
            if found is not None:
                return found
        var = len(self.allowed)
        self.allowed.append(frozenset(allowed) if allowed else None)
        self.literals.append({})
        if key is not None:
            self.var_keys[key] = var
        return var

    def equals(self, var: int, literal: str) -> int:
        allowed = self.allowed[var]
        if allowed is not None:
            if literal not in allowed:
                return _FALSE
            if len(allowed) == 1:
                return _TRUE
        self.literals[var][literal] = None
        return self.gate(_EQ, (var, literal))

    def free(self, key: object | None = None) -> int:
        """A boolean nothing constrains (the same one for the same ``key``)."""
        return self.equals(self.variable(("free", key) if key is not None else None), _HOLDS)

    def not_(self, child: int) -> int:
        if child <= _TRUE:
            return _TRUE - child
        if self.kinds[child] == _NOT:
            grandchild: int = self.args[child]
            return grandchild
        return self.gate(_NOT, child)

    def junction(self, kind: int, children: list[int]) -> int:
        """``Fn::And`` (kind _AND) or ``Fn::Or`` (_OR) of ``children``, folded."""
        absorbing, neutral = (_FALSE, _TRUE) if kind == _AND else (_TRUE, _FALSE)
        kept: dict[int, None] = {}
        for child in children:
            if child == absorbing:
                return absorbing
            if child != neutral:
                kept[child] = None
        if not kept:
            return neutral
        if len(kept) == 1:
            return next(iter(kept))
        for child in kept:
            if self.kinds[child] == _NOT and self.args[child] in kept:
                return absorbing  # x and not x; x or not x
        return self.gate(kind, tuple(sorted(kept)))

    def freeze(self) -> None:
        """Fix each variable's domain: the values that can make a difference."""
        domains: list[tuple[object, ...]] = []
        for allowed, literals in zip(self.allowed, self.literals, strict=True):
            if allowed is None:
                domains.append((*literals, _OTHER))
            else:
                values: list[object] = [lit for lit in literals if lit in allowed]
                if any(value not in literals for value in allowed):
                    values.append(_OTHER)
                domains.append(tuple(values))
        self.domains = domains

    # -- questions

    def possible(self, choices: dict[str, bool]) -> bool:
        """Can some value of every variable make each chosen condition come out as chosen?"""
        want: dict[int, bool] = {}
        for name, side in choices.items():
            gate = self.names.get(name)
            if gate is None:
                continue  # a name the section does not define is free
            if want.setdefault(gate, side) != side:
                return False
        for gate, side in want.items():
            if gate <= _TRUE and gate != side:
                return False
        want = {g: s for g, s in want.items() if g > _TRUE}
        if not want:
            return True
        key = frozenset(choices.items())
        answer = self._answers.get(key)
        if answer is None:
            answer = self._search(want)
            if len(self._answers) < MAX_CACHED:
                self._answers[key] = answer
        return answer

    def _cone(self, roots: Iterable[int]) -> list[int]:
        """The gates ``roots`` depend on, children before parents (gates are built so)."""
        seen: set[int] = set()
        stack = list(roots)
        while stack:
            g = stack.pop()
            if g in seen:
                continue
            seen.add(g)
            kind = self.kinds[g]
            if kind == _NOT:
                stack.append(self.args[g])
            elif kind in (_AND, _OR):
                stack.extend(self.args[g])
        return sorted(seen)

    def _search(self, want: dict[int, bool]) -> bool:
        """Depth-first over the variables the chosen gates depend on, cutting a branch as soon
        as one chosen gate is decided the other way.  What the chosen gates force by their
        shape alone (:meth:`_implied`) narrows the values tried first.  Past a bound: True
        ("possible")."""
        if self.domains is None or self.steps >= MAX_STEPS:
            return True
        implied = self._implied(want)
        if implied is None:
            return False
        forced, excluded = implied
        cone = self._cone(want)
        order = list(dict.fromkeys(self.args[g][0] for g in cone if self.kinds[g] == _EQ))
        domains: list[tuple[object, ...]] = []
        for var in order:
            if var in forced:
                domains.append((forced[var],))
                continue
            out = excluded.get(var)
            values = self.domains[var] if out is None else tuple(v for v in self.domains[var] if v not in out)
            if not values:
                return False
            domains.append(values)
        assignment: dict[int, object] = {}
        choice = [-1] * len(order)
        limit = min(self.steps + MAX_STEPS_PER_QUESTION, MAX_STEPS)
        depth = 0
        while True:
            self._spend(len(cone))
            status = self._status(cone, want, assignment)
            if status > 0:
                return True
            if self.steps >= limit:
                return True
            if status == 0 and depth < len(order):
                choice[depth] = 0
                assignment[order[depth]] = domains[depth][0]
                depth += 1
                continue
            # A chosen gate came out the other way: the next value of the deepest variable left.
            while depth > 0:
                i = depth - 1
                choice[i] += 1
                if choice[i] < len(domains[i]):
                    assignment[order[i]] = domains[i][choice[i]]
                    break
                del assignment[order[i]]
                depth -= 1
            else:
                return False

    def _spend(self, steps: int) -> None:
        self.steps += steps
        if self.budget is not None:
            self.budget.spend(steps)

    def _implied(self, want: dict[int, bool]) -> tuple[dict[int, object], dict[int, set[object]]] | None:
        """What the chosen gates force by their shape alone: an equality that must hold fixes
        its variable, one that must fail rules a value out (through ``Fn::Not``, an ``Fn::And``
        that must hold and an ``Fn::Or`` that must fail).  None when that is already a
        contradiction (``IsProd`` and ``IsDev`` both true on one ``Stage``)."""
        forced: dict[int, object] = {}
        excluded: dict[int, set[object]] = {}
        seen: set[tuple[int, bool]] = set()
        stack = list(want.items())
        while stack:
            g, side = stack.pop()
            if (g, side) in seen:
                continue
            if (g, not side) in seen:
                return None
            seen.add((g, side))
            kind = self.kinds[g]
            if kind <= _TRUE:
                if kind != side:
                    return None
            elif kind == _EQ:
                var, literal = self.args[g]
                if not side:
                    excluded.setdefault(var, set()).add(literal)
                elif forced.setdefault(var, literal) != literal:
                    return None
            elif kind == _NOT:
                stack.append((self.args[g], not side))
            elif (kind == _AND) == side:  # an and that holds, an or that fails: so does each part
                stack.extend((c, side) for c in self.args[g])
        self._spend(len(seen))
        for var, literal in forced.items():
            if literal in excluded.get(var, ()):
                return None
        return forced, excluded

    def _status(self, cone: list[int], want: dict[int, bool], assignment: dict[int, object]) -> int:
        """1: every chosen gate holds as chosen; -1: one holds the other way; 0: not decided yet."""
        value: dict[int, bool | None] = {_FALSE: False, _TRUE: True}
        kinds, args = self.kinds, self.args
        for g in cone:
            kind = kinds[g]
            if kind == _EQ:
                var, literal = args[g]
                held = assignment.get(var, _UNSET)
                value[g] = None if held is _UNSET else held == literal
            elif kind == _NOT:
                child = value[args[g]]
                value[g] = None if child is None else not child
            elif kind in (_AND, _OR):
                absorbing = kind == _OR  # and: False absorbs; or: True does
                result: bool | None = not absorbing
                for c in args[g]:
                    v = value[c]
                    if v is absorbing:
                        result = absorbing
                        break
                    if v is None:
                        result = None
                value[g] = result
        status = 1
        for g, side in want.items():
            v = value[g]
            if v is None:
                status = 0
            elif v is not side:
                return -1
        return status

    def pins(self, choices: dict[str, bool]) -> dict[str, str]:
        """References that the choices force to one literal (:meth:`_implied`): ``Stage`` is
        ``prod`` whenever ``IsProd`` (``!Equals [!Ref Stage, prod]``) is true."""
        refs = {var: name for (kind, name), var in self.var_keys.items() if kind == "ref" and isinstance(name, str)}
        want = {self.names[n]: side for n, side in choices.items() if n in self.names}
        implied = self._implied(want) if refs and want else None
        if implied is None:
            return {}
        return {refs[var]: literal for var, literal in implied[0].items() if var in refs and isinstance(literal, str)}


class Space:
    """The template's conditions as seen from one place: the whole template, or a resource
    that exists only when its condition is true (``assumed``)."""

    __slots__ = ("_circuit", "assumed")

    def __init__(self, circuit: _Circuit, assumed: tuple[tuple[str, bool], ...] = ()) -> None:
        self._circuit = circuit
        self.assumed = assumed

    def assuming(self, name: str) -> Space:
        """The space in which condition ``name`` is also true."""
        return Space(self._circuit, (*self.assumed, (name, True)))

    def _with_assumed(self, choices: dict[str, bool]) -> dict[str, bool] | None:
        if not self.assumed:
            return choices
        merged = dict(self.assumed)
        for name, side in choices.items():
            if merged.setdefault(name, side) != side:
                return None
        return merged

    def feasible(self, choices: dict[str, bool]) -> bool:
        """Can the template's parameters make every chosen condition come out as chosen?"""
        merged = self._with_assumed(choices)
        return merged is not None and self._circuit.possible(merged)

    def decided(self, name: str) -> bool | None:
        """The side condition ``name`` surely takes here, None when either may be taken."""
        can_hold = self.feasible({name: True})
        can_fail = self.feasible({name: False})
        if can_hold and not can_fail:
            return True
        if can_fail and not can_hold:
            return False
        return None

    def pins(self, choices: dict[str, bool]) -> dict[str, str]:
        """References (parameters, pseudo parameters) the choices force to one value."""
        merged = self._with_assumed(choices)
        return {} if merged is None else self._circuit.pins(merged)


# --------------------------------------------------------------------------- reading definitions


class _Reader:
    """Turns the ``Conditions`` section's definitions into gates."""

    def __init__(
        self,
        circuit: _Circuit,
        definitions: dict[str, Value],
        resolve: Callable[[Value], Value | None],
        allowed: Callable[[str], tuple[str, ...] | None],
    ) -> None:
        self.circuit = circuit
        self.definitions = definitions
        self.resolve = resolve
        self.allowed = allowed

    def read(self) -> None:
        graph = {name: _references(body, self.circuit.budget) for name, body in self.definitions.items()}
        for component in strong_components(graph):
            cyclic = len(component) > 1 or component[0] in graph[component[0]]
            for name in component:
                if cyclic:
                    self.circuit.names[name] = self.circuit.free(("condition", name))
                else:
                    self.circuit.names[name] = self._formula(self.definitions[name], 0)

    def _formula(self, raw: Value | None, depth: int) -> int:
        c = self.circuit
        if c.budget is not None:
            c.budget.spend(1)
        fields = as_dict(raw)
        if fields is None or len(fields) != 1 or depth > MAX_NESTING:
            return c.free()
        fn, arg = next(iter(fields.items()))
        if fn == "Condition":
            name = _text(arg)
            if name is None:
                return c.free()
            found = c.names.get(name)
            if found is None:
                found = c.free(("condition", name))
                if name not in self.definitions:  # named, never defined: that name is this free boolean
                    c.names[name] = found
            return found
        items = arg.value if isinstance(arg, Known) and isinstance(arg.value, list) else None
        if items is None or not items:
            return c.free()
        if fn == "Fn::Not":
            return c.not_(self._formula(items[0], depth + 1)) if len(items) == 1 else c.free()
        if fn in ("Fn::And", "Fn::Or"):
            children = [self._formula(item, depth + 1) for item in items]
            return c.junction(_AND if fn == "Fn::And" else _OR, children)
        if fn == "Fn::Equals" and len(items) == 2:
            return self._equals(self.resolve(items[0]), self.resolve(items[1]))
        return c.free()

    # -- Fn::Equals

    def _equals(self, a: Value | None, b: Value | None) -> int:
        c = self.circuit
        left, right = _operand(a), _operand(b)
        if left is None or right is None:
            return c.free()
        if left[0] == "lit" and right[0] != "lit":
            left, right = right, left
        if right[0] == "lit":
            literal: str = right[1]
            if left[0] == "lit":
                return _TRUE if left[1] == literal else _FALSE
            if left[0] == "ref":
                return c.equals(self._var(left[1]), literal)
            return self._match(left[1], literal)
        if left == right:
            return _TRUE
        pair = tuple(sorted((repr(left), repr(right))))
        return c.free(("equals", pair))  # two unknowns: whether they are equal is free

    def _var(self, ref: str) -> int:
        return self.circuit.variable(("ref", ref), self.allowed(ref))

    def _match(self, parts: tuple[Any, ...], literal: str) -> int:
        """``Fn::Sub``/``Fn::Join`` text with named unknown parts against a literal: with one
        unknown part, the literal fixes it (or cannot match); with none but unknowns, the
        empty literal needs each to be empty; otherwise the text's ends must match."""
        c = self.circuit
        unknown = [i for i, p in enumerate(parts) if not isinstance(p, str)]
        if len(unknown) == 1:
            i = unknown[0]
            prefix = "".join(p for p in parts[:i] if isinstance(p, str))
            suffix = "".join(p for p in parts[i + 1 :] if isinstance(p, str))
            if (
                len(literal) < len(prefix) + len(suffix)
                or not literal.startswith(prefix)
                or not literal.endswith(suffix)
            ):
                return _FALSE
            middle = literal[len(prefix) : len(literal) - len(suffix)]
            return c.equals(self._var(parts[i][1]), middle)
        if len(unknown) == len(parts) and literal == "":
            return c.junction(_AND, [c.equals(self._var(p[1]), "") for p in parts])
        head, tail = parts[0], parts[-1]
        if isinstance(head, str) and not literal.startswith(head):
            return _FALSE
        if isinstance(tail, str) and not literal.endswith(tail):
            return _FALSE
        return c.free()


def _text(value: Value | None) -> str | None:
    """A scalar as ``Fn::Equals`` sees it: as a string (``true``, ``1``); None for anything else."""
    if not isinstance(value, Known):
        return None
    v = value.value
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str | int | float):
        return str(v)
    return None


def _operand(value: Value | None) -> tuple[str, Any] | None:
    """What an ``Fn::Equals`` operand is: ``("lit", text)``, ``("ref", name)`` for a named
    unknown, ``("text", parts)`` for text built of literals and named unknowns; None when it
    is none of these (compared with anything, it is a free boolean)."""
    if isinstance(value, Known):
        text = _text(value)
        return ("lit", text) if text is not None else None
    if isinstance(value, Unknown):
        return ("ref", value.ref) if value.ref else None
    if isinstance(value, Interpolated):
        parts: list[object] = []
        for part in value.parts:
            if isinstance(part, str):
                parts.append(part)
            elif part.ref:
                parts.append(("ref", part.ref))
            else:
                return None
        return ("text", tuple(parts))
    return None


def _references(body: Value, budget: Budget | None) -> list[str]:
    """The conditions a definition names with ``Condition``."""
    out: list[str] = []
    stack: list[Value] = [body]
    while stack:
        v = stack.pop()
        if budget is not None:
            budget.spend(1)
        if not isinstance(v, Known):
            continue
        if isinstance(v.value, dict):
            name = _text(v.value.get("Condition")) if len(v.value) == 1 else None
            if name is not None:
                out.append(name)
            else:
                stack.extend(v.value.values())
        elif isinstance(v.value, list):
            stack.extend(v.value)
    return out


def build(
    definitions: dict[str, Value],
    resolve: Callable[[Value], Value | None],
    allowed: Callable[[str], tuple[str, ...] | None],
    budget: Budget | None = None,
) -> Space:
    """The space of a template's conditions.

    ``definitions`` are the ``Conditions`` section's raw values by name;
    ``resolve`` evaluates an operand of ``Fn::Equals`` as the template's
    properties are evaluated; ``allowed`` gives the ``AllowedValues`` of a
    parameter without a default (None for anything else).
    """
    circuit = _Circuit(budget)
    _Reader(circuit, definitions, resolve, allowed).read()
    circuit.freeze()
    return Space(circuit)


__all__ = ["MAX_STEPS", "MAX_STEPS_PER_QUESTION", "Space", "build"]
