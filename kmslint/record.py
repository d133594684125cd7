"""Records: the data classes of kmslint, defined at no cost to start-up.

``dataclasses`` writes each method of each class as source text and compiles
it, and importing it brings ``inspect`` along: on this project's ~40 classes
that was ~55 ms of a ~140 ms lint of one file.  A record class is declared
like a data class and behaves like one -- fields from annotations, defaults,
:func:`field`, ``frozen``, ``eq``, ``order``, ``__slots__`` -- but its methods
are written once, here, and shared; defining a class costs one ``type()``
call.  Type checkers see a data class (:pep:`681`)::

    class Span(Record, frozen=True, order=True):
        file: str
        line: int
        notes: list[str] = field(default_factory=list, compare=False)

The shared ``__init__`` is generic, a few microseconds a call; classes made
once per syntax node (:class:`kmslint.model.Location`, the values) write
their own ``__init__``, which the metaclass keeps.  Their
``__init__`` must set every field, through ``object.__setattr__`` when frozen.

Fields are compared and hashed as a tuple, in declaration order, exactly as
``dataclasses`` would; instances pickle by value (worker processes send
findings back).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

# ``typing`` costs a one-file lint ~5 ms to import, and a CloudFormation lint
# needs nothing else from it, so kmslint imports it only for type checkers
# (mypy takes any name TYPE_CHECKING as true), as every module here does.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar

    from typing_extensions import dataclass_transform  # typing's from Python 3.11; mypy brings typing_extensions

    R = TypeVar("R", bound="Record")
else:

    def dataclass_transform(**_: object) -> Callable[[type], type]:
        """At run time the marker for type checkers does nothing."""
        return lambda cls: cls


_MISSING: Any = object()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record."""


class Field:
    """What :func:`field` returns; read by :class:`RecordMeta` and dropped."""

    __slots__ = ("compare", "default", "default_factory", "init", "repr")

    def __init__(self, default: Any, default_factory: Any, init: bool, compare: bool, repr: bool) -> None:
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.compare = compare
        self.repr = repr


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] = _MISSING,
    init: bool = True,
    compare: bool = True,
    repr: bool = True,
) -> Any:
    """A field's default (or default factory), and whether it is a parameter of
    ``__init__`` (else it starts at its default), compared, and shown."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("a field has a default or a default_factory, not both")
    if not init and default is _MISSING and default_factory is _MISSING:
        raise ValueError("a field left out of __init__ needs a default")
    return Field(default, default_factory, init, compare, repr)


def _no_key(_: object) -> tuple[()]:
    return ()


@dataclass_transform(field_specifiers=(field,))
class RecordMeta(type):
    """Turns the annotated names of a class body into slotted fields."""

    def __new__(
        mcls,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        *,
        frozen: bool = False,
        eq: bool = True,
        order: bool = False,
    ) -> RecordMeta:
        if not bases:  # Record itself
            return super().__new__(mcls, name, bases, namespace)
        names = tuple(namespace.get("__annotations__", {}))
        defaults: dict[str, Any] = {}
        factories: dict[str, Callable[[], Any]] = {}
        params: list[str] = []
        compared: list[str] = []
        shown: list[str] = []
        for fname in names:
            spec = namespace.pop(fname, _MISSING)
            if not isinstance(spec, Field):
                spec = Field(spec, _MISSING, True, True, True)
            if spec.init:
                params.append(fname)
            if spec.default is not _MISSING:
                defaults[fname] = spec.default
            elif spec.default_factory is not _MISSING:
                factories[fname] = spec.default_factory
            elif spec.init and any(p in defaults or p in factories for p in params):
                raise TypeError(f"{name}: field {fname!r} without a default follows one with a default")
            if spec.compare:
                compared.append(fname)
            if spec.repr:
                shown.append(fname)
        namespace.setdefault("__slots__", names)
        namespace["_fields"] = names
        namespace["_params"] = tuple(params)
        namespace["_hidden"] = tuple(n for n in names if n not in params)
        namespace["_defaults"] = defaults
        namespace["_factories"] = factories
        namespace["_shown"] = tuple(shown)
        namespace["_key"] = staticmethod(_key_of(compared))
        if eq:
            namespace.setdefault("__eq__", _eq)
            # As dataclasses: a mutable record that compares by value is not hashable.
            namespace.setdefault("__hash__", _hash if frozen else None)
        if order:
            for dunder, method in (("__lt__", _lt), ("__le__", _le), ("__gt__", _gt), ("__ge__", _ge)):
                namespace.setdefault(dunder, method)
        if frozen:
            namespace["__setattr__"] = _refuse_set
            namespace["__delattr__"] = _refuse_delete
        return super().__new__(mcls, name, bases, namespace)


def _key_of(compared: list[str]) -> Callable[[Any], Any]:
    """The tuple of the compared fields, as ``dataclasses`` compares them."""
    if len(compared) > 1:
        return attrgetter(*compared)
    if not compared:
        return _no_key
    getter = attrgetter(compared[0])
    return lambda record: (getter(record),)


class Record(metaclass=RecordMeta):
    """Base of every record class; see the module's documentation."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]]
    _params: ClassVar[tuple[str, ...]]  # the fields __init__ takes, in order
    _hidden: ClassVar[tuple[str, ...]]  # the others, which start at their default
    _defaults: ClassVar[dict[str, Any]]
    _factories: ClassVar[dict[str, Callable[[], Any]]]
    _shown: ClassVar[tuple[str, ...]]
    _key: ClassVar[Callable[[Any], Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        params = cls._params
        given = len(args)
        if given > len(params):
            raise TypeError(f"{cls.__name__}() takes {len(params)} arguments, {given} given")
        set_field = object.__setattr__
        defaults = cls._defaults
        for fname, value in zip(params, args, strict=False):
            set_field(self, fname, value)
        for fname in params[given:]:
            if fname in kwargs:
                set_field(self, fname, kwargs.pop(fname))
            elif fname in defaults:
                set_field(self, fname, defaults[fname])
            else:
                set_field(self, fname, cls._default(fname))
        for fname in cls._hidden:
            set_field(self, fname, cls._default(fname))
        if kwargs:
            name = next(iter(kwargs))
            problem = "got an unexpected" if name not in params[:given] else "got a second value for the"
            raise TypeError(f"{cls.__name__}() {problem} argument {name!r}")

    @classmethod
    def _default(cls, fname: str) -> Any:
        if fname in cls._defaults:
            return cls._defaults[fname]
        if fname in cls._factories:
            return cls._factories[fname]()
        raise TypeError(f"{cls.__name__}() is missing the argument {fname!r}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{fname}={getattr(self, fname)!r}" for fname in self._shown)
        return f"{type(self).__qualname__}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), tuple(getattr(self, fname) for fname in self._fields)))


def _restore(cls: type[R], values: tuple[Any, ...]) -> R:
    record = cls.__new__(cls)
    for fname, value in zip(cls._fields, values, strict=True):
        object.__setattr__(record, fname, value)
    return record


def replace(record: R, **changes: Any) -> R:
    """A copy of ``record`` with some fields changed (``dataclasses.replace``)."""
    cls = type(record)
    for fname in changes:
        if fname not in cls._fields:
            raise TypeError(f"{cls.__name__} has no field {fname!r}")
    copy = cls.__new__(cls)
    for fname in cls._fields:
        object.__setattr__(copy, fname, changes[fname] if fname in changes else getattr(record, fname))
    return copy


def _eq(self: Record, other: object) -> object:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return bool(type(self)._key(self) == type(self)._key(other))


def _hash(self: Record) -> int:
    return hash(type(self)._key(self))


def _lt(self: Record, other: object) -> object:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return bool(type(self)._key(self) < type(self)._key(other))


def _le(self: Record, other: object) -> object:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return bool(type(self)._key(self) <= type(self)._key(other))


def _gt(self: Record, other: object) -> object:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return bool(type(self)._key(self) > type(self)._key(other))


def _ge(self: Record, other: object) -> object:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return bool(type(self)._key(self) >= type(self)._key(other))


def _refuse_set(self: Record, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")


def _refuse_delete(self: Record, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")


def fields(record: Record | type[Record]) -> tuple[str, ...]:
    """The names of a record's fields, in declaration order."""
    return record._fields


def is_record(value: object) -> bool:
    """True for an instance of a record class."""
    return isinstance(value, Record)
