"""The per-mode channel and the payloads that travel on it.

A trading mode's producers publish :class:`TradingDecision` objects on the mode's own
:class:`ModeChannel`; its consumers receive them and turn them into orders. The channel calls
consumers directly (``await consumer(decision)``, in subscription order) in every mode of
operation: producers already run inside the exchange channels' consumers (tasks in live mode,
direct calls in backtests), so one more queue would only add latency, and the same code path is
used live, on paper and in backtests.

:class:`EvaluationChannel` is the same kind of channel for evaluations (signals computed
outside the mode: indicators, external services); a producer that overrides ``on_evaluation``
receives them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from octobot_trading.errors import InvalidNumber
from octobot_trading.util.records import fast_frozen_init

__all__ = ["DecisionAction", "Evaluation", "EvaluationChannel", "ModeChannel", "TradingDecision", "evaluation_value"]

PayloadT = TypeVar("PayloadT")


class DecisionAction(StrEnum):
    """What a producer asks its consumers to do."""

    BUY = "buy"
    SELL = "sell"
    CANCEL = "cancel"
    REBALANCE = "rebalance"


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class TradingDecision:
    """A producer's decision: ``action`` on ``symbol`` at ``time_ms``.

    ``price`` is the price the decision was made at (e.g. the close just published, exact
    Decimal), ``reason`` a short text for logs and reports, ``extra`` mode-specific data.
    """

    symbol: str
    action: DecisionAction
    time_ms: int
    price: Decimal | None = None
    reason: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def evaluation_value(value: Any) -> Decimal | str:
    """``value`` as an evaluation value: a finite ``Decimal`` (an ``int`` is converted) or a
    non-empty string. A float is a ``TypeError`` (write ``Decimal("0.5")`` or ``"0.5"`` in files);
    NaN or infinity an ``InvalidNumber``."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"an evaluation value is a Decimal, an int or a string, not {type(value).__name__}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidNumber(f"evaluation value {value} is not finite")
        return value
    if isinstance(value, str) and value.strip():
        return value
    raise TypeError(f"an evaluation value is a Decimal, an int or a non-empty string, got {value!r}")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A signal computed outside a mode, by evaluator ``source``, at ``time_ms``.

    ``value`` is a ``Decimal`` (by convention in [-1, 1]: -1 strong sell, 1 strong buy; not
    enforced) or a string (a state such as ``"bullish"``); see :func:`evaluation_value`.
    """

    symbol: str
    source: str
    value: Decimal | str
    time_ms: int
    time_frame: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol:
            raise ValueError(f"evaluation symbol {self.symbol!r} is not a non-empty string")
        if not isinstance(self.source, str) or not self.source:
            raise ValueError(f"evaluation source {self.source!r} is not a non-empty string")
        if isinstance(self.time_ms, bool) or not isinstance(self.time_ms, int) or self.time_ms < 0:
            raise ValueError(f"evaluation time {self.time_ms!r} is not a non-negative integer of milliseconds")
        object.__setattr__(self, "value", evaluation_value(self.value))


class _DirectChannel(Generic[PayloadT]):
    """Call every subscriber in subscription order; exceptions propagate to the publisher."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[[PayloadT], Awaitable[None]]] = []

    def subscribe(self, callback: Callable[[PayloadT], Awaitable[None]]) -> None:
        """Add ``callback`` (an async callable taking one payload)."""
        self._callbacks.append(callback)

    def unsubscribe(self, callback: Callable[[PayloadT], Awaitable[None]]) -> None:
        """Remove ``callback`` if subscribed."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    @property
    def subscriber_count(self) -> int:
        """Number of subscribers."""
        return len(self._callbacks)

    async def publish(self, payload: PayloadT) -> None:
        """Deliver ``payload`` to every subscriber, in order."""
        for callback in self._callbacks:
            await callback(payload)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {len(self._callbacks)} subscribers)"


class ModeChannel(_DirectChannel[TradingDecision]):
    """The channel between one mode's producers and its consumers."""


class EvaluationChannel(_DirectChannel[Evaluation]):
    """A channel of :class:`Evaluation` objects that producers may listen to."""
