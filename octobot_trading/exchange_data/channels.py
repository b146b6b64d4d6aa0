"""Per-exchange channels: typed broadcast of market-data and personal-data updates.

One :class:`ExchangeChannels` set exists per exchange manager. Each :class:`Channel` carries
one payload type (see :mod:`octobot_trading.exchange_data.payloads`). Consumers subscribe with
optional filters (symbol, and time frame for candle channels) and a priority.

Two dispatch modes, chosen per set:

* **synchronized** (backtesting): ``await channel.publish(payload)`` calls every matching
  consumer callback directly, in priority order (then subscription order), awaiting what it
  returns when that is not None. The list of callbacks
  for a (symbol, time frame) key is computed once and cached, so a publish is one dict lookup
  and the callback calls: no queue, no task, no event-loop turn. A driver can go further and
  hold :meth:`Channel.callbacks_for`'s list (kept up to date in place when subscriptions change)
  and call the callbacks itself (the same way). An exception raised by a consumer propagates to
  the publisher, so a broken backtest fails loudly and deterministically.
* **live**: every subscription gets an ``async_channel`` consumer with its own queue and task
  (started by :meth:`ExchangeChannels.start`); ``publish`` puts the payload in the queues of
  matching consumers in priority order (waiting when a queue is full: back-pressure). A consumer
  exception is logged and the consumer goes on with the next payload.

A consumer is an ``async`` callable or a plain (sync) one: the channel calls it with the payload
and awaits the result when it is not None (a coroutine, or any awaitable a plain callable
returns). A plain consumer saves the coroutine object per payload: it suits cheap consumers that
never wait (counters, samplers); one that must wait for I/O is an ``async`` function.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from async_channel.consumer import Consumer

from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError
from octobot_trading.util.logging import get_logger

__all__ = ["Channel", "ChannelName", "ChannelPriority", "ExchangeChannels", "Subscription"]

#: a consumer: called with the payload; what it returns is awaited when not None
Callback = Callable[[Any], Awaitable[None] | None]
_logger = get_logger(__name__)
DEFAULT_QUEUE_SIZE = 10_000


class ChannelName(StrEnum):
    """Names of the channels of one exchange."""

    OHLCV = "ohlcv"
    KLINE = "kline"
    TICKER = "ticker"
    ORDER_BOOK = "order_book"
    RECENT_TRADES = "recent_trades"
    FUNDING = "funding"
    MARK_PRICE = "mark_price"
    ORDERS = "orders"
    TRADES = "trades"
    BALANCE = "balance"
    POSITIONS = "positions"


class ChannelPriority(StrEnum):
    """Consumer priority: HIGH consumers are called before MEDIUM, MEDIUM before LOW."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for HIGH, 1 for MEDIUM, 2 for LOW (lower runs first)."""
        return _RANKS[self]


_RANKS = {ChannelPriority.HIGH: 0, ChannelPriority.MEDIUM: 1, ChannelPriority.LOW: 2}
_TIME_FRAME_CHANNELS = frozenset({ChannelName.OHLCV, ChannelName.KLINE})


class _LiveConsumer(Consumer):
    """An async_channel consumer that passes the payload positionally and re-raises cancellation."""

    def __init__(self, callback: Callback, size: int, label: str) -> None:
        super().__init__(callback, size=size)
        self.label = label

    async def consume(self) -> None:
        while not self.should_stop:
            payload = await self.queue.get()
            try:
                pending = self.callback(payload)
                if pending is not None:
                    await pending
            except asyncio.CancelledError:
                raise
            except Exception:
                _logger.exception("consumer %s failed on %s", self.label, type(payload).__name__)
            finally:
                self.queue.task_done()


@dataclass(eq=False)
class Subscription:
    """One consumer of a channel. Pass it to :meth:`Channel.unsubscribe` to stop receiving."""

    channel: Channel
    callback: Callback
    symbol: str | None
    time_frame: TimeFrame | None
    priority: ChannelPriority
    seq: int
    consumer: _LiveConsumer | None = field(default=None, repr=False)

    def matches(self, symbol: str | None, time_frame: TimeFrame | None) -> bool:
        """True when a payload for ``symbol`` / ``time_frame`` reaches this consumer."""
        return (self.symbol is None or self.symbol == symbol) and (
            self.time_frame is None or self.time_frame == time_frame
        )


class Channel:
    """A typed broadcast channel of one exchange (see the module docstring)."""

    def __init__(self, name: ChannelName, *, synchronized: bool, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.name = name
        self.synchronized = synchronized
        self.keyed_by_time_frame = name in _TIME_FRAME_CHANNELS
        self._queue_size = queue_size
        self._subscriptions: list[Subscription] = []
        self._routes: dict[Any, list[Callback]] = {}
        self._live_routes: dict[Any, list[_LiveConsumer]] = {}
        self._seq = itertools.count()
        self._running = False
        self._cancelled: list[asyncio.Task[None]] = []

    # -- subscriptions ----------------------------------------------------------------------
    def subscribe(
        self,
        callback: Callback,
        *,
        symbol: str | None = None,
        time_frame: TimeFrame | str | None = None,
        priority: ChannelPriority = ChannelPriority.MEDIUM,
    ) -> Subscription:
        """Register ``callback`` (an ``async`` or plain callable taking the payload).

        Parameters
        ----------
        callback:
            Called with each matching payload; what it returns is awaited when not None (a
            coroutine function's coroutine; a plain function returns None).
        symbol:
            Only payloads of this symbol (default: every symbol).
        time_frame:
            Only payloads of this time frame (candle channels only).
        priority:
            Order of calls among consumers of one payload.

        Returns
        -------
        Subscription
            Handle for :meth:`unsubscribe`.
        """
        if not callable(callback):
            raise TypeError(f"{self.name} consumer must be callable, got {callback!r}")
        tf: TimeFrame | None = None
        if time_frame is not None:
            if not self.keyed_by_time_frame:
                raise ConfigurationError(f"channel {self.name} has no time frames", field="time_frame")
            tf = TimeFrame.parse(time_frame)
        sub = Subscription(self, callback, symbol, tf, ChannelPriority(priority), next(self._seq))
        if not self.synchronized:
            sub.consumer = _LiveConsumer(callback, self._queue_size, f"{self.name}:{sub.seq}")
            if self._running:
                sub.consumer.create_task()
        self._subscriptions.append(sub)
        self._subscriptions.sort(key=lambda s: (s.priority.rank, s.seq))
        self._refresh_routes()
        return sub

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to ``subscription`` (its live consumer task, if any, is cancelled)."""
        if subscription not in self._subscriptions:
            return
        self._subscriptions.remove(subscription)
        if subscription.consumer is not None and subscription.consumer.consume_task is not None:
            subscription.consumer.consume_task.cancel()
            self._cancelled.append(subscription.consumer.consume_task)  # awaited by stop()
            subscription.consumer.consume_task = None
        self._refresh_routes()

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """Current subscriptions, in call order."""
        return tuple(self._subscriptions)

    def _key(self, symbol: str | None, time_frame: TimeFrame | str | None) -> Any:
        if self.keyed_by_time_frame:
            return (symbol, TimeFrame(time_frame) if time_frame is not None else None)
        return symbol

    def _matching(self, key: Any) -> list[Subscription]:
        if self.keyed_by_time_frame:
            symbol, tf = key
        else:
            symbol, tf = key, None
        return [s for s in self._subscriptions if s.matches(symbol, tf)]

    def _refresh_routes(self) -> None:
        # lists are updated in place so that callers holding them see the change
        for key, callbacks in self._routes.items():
            callbacks[:] = [s.callback for s in self._matching(key)]
        for key, consumers in self._live_routes.items():
            consumers[:] = [s.consumer for s in self._matching(key) if s.consumer is not None]

    def callbacks_for(self, symbol: str | None, time_frame: TimeFrame | str | None = None) -> list[Callback]:
        """Return the callbacks a payload of ``symbol`` / ``time_frame`` reaches, in call order.

        The same list object is returned on every call and kept up to date in place, so a
        backtest driver may hold it and call each entry itself (``pending = cb(payload)``, then
        ``await pending`` when it is not None).
        """
        key = self._key(symbol, time_frame)
        callbacks = self._routes.get(key)
        if callbacks is None:
            callbacks = self._routes[key] = [s.callback for s in self._matching(key)]
        return callbacks

    def _consumers_for(self, key: Any) -> list[_LiveConsumer]:
        consumers = self._live_routes.get(key)
        if consumers is None:
            consumers = self._live_routes[key] = [s.consumer for s in self._matching(key) if s.consumer is not None]
        return consumers

    # -- publishing -------------------------------------------------------------------------
    async def publish(self, payload: Any) -> None:
        """Deliver ``payload`` to every matching consumer (see the module docstring)."""
        if self.keyed_by_time_frame:
            key: Any = (payload.symbol, payload.time_frame)
        else:
            key = payload.symbol
        if self.synchronized:
            callbacks = self._routes.get(key)
            if callbacks is None:
                callbacks = self.callbacks_for(*key) if self.keyed_by_time_frame else self.callbacks_for(key)
            for callback in callbacks:
                pending = callback(payload)
                if pending is not None:
                    await pending
            return
        for consumer in self._consumers_for(key):
            await consumer.queue.put(payload)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the consumer tasks of a live channel (no-op when synchronized)."""
        self._running = True
        for sub in self._subscriptions:
            if sub.consumer is not None and sub.consumer.consume_task is None:
                sub.consumer.should_stop = False
                sub.consumer.create_task()

    async def stop(self) -> None:
        """Cancel and await every consumer task; queued payloads are dropped."""
        self._running = False
        tasks, self._cancelled = self._cancelled, []
        for sub in self._subscriptions:
            consumer = sub.consumer
            if consumer is not None and consumer.consume_task is not None:
                consumer.should_stop = True
                consumer.consume_task.cancel()
                tasks.append(consumer.consume_task)
                consumer.consume_task = None
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def join(self) -> None:
        """Wait until every live consumer has processed what was published so far."""
        for sub in list(self._subscriptions):
            if sub.consumer is not None and sub.consumer.consume_task is not None:
                await sub.consumer.queue.join()

    def __repr__(self) -> str:
        mode = "synchronized" if self.synchronized else "live"
        return f"Channel({self.name}, {mode}, {len(self._subscriptions)} consumers)"


class ExchangeChannels:
    """The channels of one exchange: ``ohlcv``, ``kline``, ``ticker``, ``order_book``,
    ``recent_trades``, ``funding``, ``mark_price``, ``orders``, ``trades``, ``balance``,
    ``positions``.

    Parameters
    ----------
    synchronized:
        True for backtesting (direct calls, no tasks), False for live / paper trading.
    queue_size:
        Size of each live consumer's queue.
    """

    def __init__(self, *, synchronized: bool, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.synchronized = synchronized
        self._channels = {name: Channel(name, synchronized=synchronized, queue_size=queue_size) for name in ChannelName}
        self.ohlcv = self._channels[ChannelName.OHLCV]
        self.kline = self._channels[ChannelName.KLINE]
        self.ticker = self._channels[ChannelName.TICKER]
        self.order_book = self._channels[ChannelName.ORDER_BOOK]
        self.recent_trades = self._channels[ChannelName.RECENT_TRADES]
        self.funding = self._channels[ChannelName.FUNDING]
        self.mark_price = self._channels[ChannelName.MARK_PRICE]
        self.orders = self._channels[ChannelName.ORDERS]
        self.trades = self._channels[ChannelName.TRADES]
        self.balance = self._channels[ChannelName.BALANCE]
        self.positions = self._channels[ChannelName.POSITIONS]
        self._started = False

    def get(self, name: ChannelName | str) -> Channel:
        """Return the channel called ``name``; ``ConfigurationError`` for an unknown name."""
        try:
            return self._channels[ChannelName(name)]
        except ValueError:
            raise ConfigurationError(f"unknown channel {name!r}", field="channel") from None

    def __iter__(self) -> Any:
        return iter(self._channels.values())

    @property
    def is_running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._started

    async def start(self) -> None:
        """Start live consumer tasks (nothing to start when synchronized). Idempotent."""
        self._started = True
        for channel in self._channels.values():
            channel.start()

    async def stop(self) -> None:
        """Cancel and await every consumer task. Idempotent; subscriptions are kept."""
        self._started = False
        for channel in self._channels.values():
            await channel.stop()

    async def join(self) -> None:
        """Wait until live consumers have processed everything published so far."""
        for channel in self._channels.values():
            await channel.join()
