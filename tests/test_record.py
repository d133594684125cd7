"""kmslint.record: data classes without dataclasses, and the same behaviour."""

from __future__ import annotations

import copy
import pickle

import pytest

from kmslint.model import Finding, Known, Location, Severity, Unknown
from kmslint.record import FrozenInstanceError, Record, field, fields, is_record, replace


class Point(Record, frozen=True, order=True):
    x: int
    y: int
    label: str = field(default="", compare=False)
    tags: list[str] = field(default_factory=list, compare=False, repr=False)


class Box(Record):
    width: int
    items: list[int] = field(default_factory=list)
    cache: dict[str, int] | None = field(default=None, init=False, compare=False)


class Handle(Record, eq=False):
    name: str


def test_init_takes_positions_keywords_and_defaults() -> None:
    p = Point(1, y=2)
    assert (p.x, p.y, p.label, p.tags) == (1, 2, "", [])
    assert Point(1, 2).tags is not Point(1, 2).tags  # a fresh list per instance
    with pytest.raises(TypeError, match="missing the argument 'y'"):
        Point(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected argument 'z'"):
        Point(1, 2, z=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="second value for the argument 'x'"):
        Point(1, 2, x=3)  # type: ignore[misc]
    with pytest.raises(TypeError, match="takes 4 arguments"):
        Point(1, 2, "a", [], 5)  # type: ignore[call-arg]


def test_fields_left_out_of_init_start_at_their_default() -> None:
    b = Box(3)
    assert b.cache is None and b.items == []
    with pytest.raises(TypeError):
        Box(3, [], {})  # type: ignore[call-arg]
    b.cache = {"a": 1}
    assert b == Box(3)  # not compared


def test_equality_hash_and_order_use_the_compared_fields_in_order() -> None:
    assert Point(1, 2, "a") == Point(1, 2, "b")
    assert hash(Point(1, 2, "a")) == hash(Point(1, 2, "b"))
    assert Point(1, 2) != Point(2, 1)
    assert sorted([Point(2, 0), Point(1, 5), Point(1, 2)]) == [Point(1, 2), Point(1, 5), Point(2, 0)]
    assert Point(1, 2) < Point(1, 3) <= Point(1, 3) and Point(2, 0) > Point(1, 9) >= Point(1, 9)
    assert Point(1, 2) != (1, 2)
    with pytest.raises(TypeError):
        _ = Point(1, 2) < (1, 2)  # type: ignore[operator]


def test_mutable_records_compare_by_value_and_are_not_hashable() -> None:
    assert Box(1, [2]) == Box(1, [2]) and Box(1) != Box(2)
    with pytest.raises(TypeError):
        hash(Box(1))
    a = Handle("x")
    assert a != Handle("x") and a == a and {a: 1}[a] == 1  # identity, as eq=False dataclasses


def test_frozen_records_refuse_assignment() -> None:
    p = Point(1, 2)
    with pytest.raises(FrozenInstanceError):
        p.x = 5  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del p.x  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.other = 1  # type: ignore[attr-defined]  # slots: no new attributes either


def test_records_are_slotted() -> None:
    assert not hasattr(Box(1), "__dict__")
    assert Box.__slots__ == ("width", "items", "cache")
    with pytest.raises(AttributeError):
        Box(1).extra = 2  # type: ignore[attr-defined]


def test_repr_shows_the_shown_fields() -> None:
    assert repr(Point(1, 2, "a", ["t"])) == "Point(x=1, y=2, label='a')"


def test_replace_fields_and_is_record() -> None:
    p = Point(1, 2, "a")
    q = replace(p, y=7)
    assert (q.x, q.y, q.label) == (1, 7, "a") and p.y == 2
    with pytest.raises(TypeError, match="no field 'z'"):
        replace(p, z=1)
    assert fields(Point) == ("x", "y", "label", "tags") == fields(p)
    assert is_record(p) and not is_record(Point) and not is_record((1, 2))


@pytest.mark.parametrize(
    "value",
    [
        Point(1, 2, "a", ["t"]),
        Box(1, [2]),
        Location("a.tf", 1, 2, 3, 4),
        Known({"k": Known("v", Location.point("f", 2))}, Location.point("f", 1)),
        Unknown("why", None, ref="aws_iam_role.x.arn"),
        Finding("f", 1, 2, "KMS003", "r", "m", 1, 9, "wildcard-principal", Severity.CRITICAL, content="c"),
    ],
)
def test_records_pickle_and_copy_by_value(value: Record) -> None:
    for twin in (pickle.loads(pickle.dumps(value)), copy.copy(value), copy.deepcopy(value)):
        assert type(twin) is type(value)
        assert all(getattr(twin, n) == getattr(value, n) for n in fields(value))


def test_model_values_ignore_their_location_when_compared() -> None:
    here, there = Location.point("a", 1), Location.point("b", 9)
    assert Known("x", here) == Known("x", there) and hash(Known("x", here)) == hash(Known("x", there))
    assert Unknown("r", here, ref="a") == Unknown("r", there, ref="a") != Unknown("r", here, ref="b")
    assert Location("a", 1, 2, 1, 3) < Location("a", 1, 3, 1, 1) < Location("b", 0, 0, 0, 0)


def test_a_default_before_a_required_field_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default follows"):

        class Bad(Record):
            a: int = 1
            b: int  # type: ignore[misc]


def test_a_field_has_one_default() -> None:
    with pytest.raises(ValueError, match="not both"):
        field(default=1, default_factory=list)
    with pytest.raises(ValueError, match="needs a default"):
        field(init=False)
