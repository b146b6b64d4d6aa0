"""fast_frozen_init: a frozen, slotted dataclass built faster, identical in every other way."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import InitVar, dataclass, field
from decimal import Decimal

import pytest

from octobot_trading.util.records import fast_frozen_init, record_builder


@dataclass(frozen=True, slots=True)
class PlainRecord:
    id: str
    price: Decimal
    amount: Decimal
    fee: Decimal | None = None
    tags: list[str] = field(default_factory=list)
    note: str = field(default="", kw_only=True)


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class FastRecord:
    id: str
    price: Decimal
    amount: Decimal
    fee: Decimal | None = None
    tags: list[str] = field(default_factory=list)
    note: str = field(default="", kw_only=True)


def _values(record: PlainRecord | FastRecord) -> tuple[object, ...]:
    return tuple(getattr(record, f.name) for f in dataclasses.fields(record))


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("t1", Decimal("1.5"), Decimal("2")), {}),
        (("t2", Decimal("3"), Decimal("4"), Decimal("0.01"), ["a"]), {"note": "x"}),
        (("t3",), {"price": Decimal("5"), "amount": Decimal("6"), "fee": None}),
    ],
)
def test_builds_the_same_record_as_the_generated_init(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    plain = PlainRecord(*args, **kwargs)  # type: ignore[arg-type]
    fast = FastRecord(*args, **kwargs)  # type: ignore[arg-type]
    assert _values(fast) == _values(plain)
    assert repr(fast) == repr(plain).replace("PlainRecord", "FastRecord")
    assert fast == FastRecord(*args, **kwargs)  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(fast)) == fast


def test_keeps_the_signature_immutability_and_fresh_default_factories() -> None:
    assert list(inspect.signature(FastRecord).parameters) == list(inspect.signature(PlainRecord).parameters)
    assert inspect.signature(FastRecord).parameters["note"].kind is inspect.Parameter.KEYWORD_ONLY
    first, second = FastRecord("a", Decimal(1), Decimal(1)), FastRecord("b", Decimal(1), Decimal(1))
    assert first.tags == [] and first.tags is not second.tags
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.price = Decimal(2)  # type: ignore[misc]
    with pytest.raises(TypeError):
        FastRecord("a", Decimal(1))  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        FastRecord("a", Decimal(1), Decimal(1), None, [], "positional note")  # type: ignore[call-arg]
    assert not hasattr(first, "__dict__")


def test_refuses_classes_whose_init_does_more_than_set_fields() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclass(frozen=True, slots=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        a: int
        scale: InitVar[int] = 1

    @dataclass(frozen=True, slots=True)
    class LeftOut:
        a: int
        b: int = field(default=0, init=False)

    for cls in (NoSlots, NotFrozen, PostInit, WithInitVar, LeftOut, int):
        with pytest.raises(TypeError):
            fast_frozen_init(cls)


def test_the_record_builder_builds_the_same_record_as_the_class() -> None:
    build = record_builder(FastRecord)
    assert list(inspect.signature(build).parameters) == list(inspect.signature(FastRecord).parameters)
    built = build("t2", Decimal("3"), Decimal("4"), Decimal("0.01"), ["a"], note="x")
    called = FastRecord("t2", Decimal("3"), Decimal("4"), Decimal("0.01"), ["a"], note="x")
    assert type(built) is FastRecord and built == called and repr(built) == repr(called)
    assert hash(build("h", Decimal(1), Decimal(2), tags=())) == hash(FastRecord("h", Decimal(1), Decimal(2), tags=()))  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(built)) == built
    first, second = build(id="a", price=Decimal(1), amount=Decimal(1)), build("b", Decimal(1), Decimal(1))
    assert first.tags == [] and first.tags is not second.tags
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.price = Decimal(2)  # type: ignore[misc]
    with pytest.raises(TypeError):
        build("a", Decimal(1))
    with pytest.raises(TypeError):
        record_builder(PlainRecord)
