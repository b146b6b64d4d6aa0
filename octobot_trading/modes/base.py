"""The trading-mode framework: a mode, its producers and consumers, its config and context.

A trading mode (:class:`AbstractTradingMode`) owns

* a pydantic config (:attr:`AbstractTradingMode.config_model`, validated at construction and
  by :meth:`~AbstractTradingMode.reload_config`; bad values raise ``ConfigurationError``);
* one or more **producers** (:class:`AbstractModeProducer`), triggered by closed candles
  (``on_candle``, from the exchange's OHLCV channel), by candles in construction (``on_kline``,
  from the KLINE channel) or by evaluations (``on_evaluation``, from an
  :class:`~octobot_trading.modes.channel.EvaluationChannel`); a producer subscribes only to
  the triggers it overrides, filtered on the mode's symbols and time frames;
* one or more **consumers** (:class:`AbstractModeConsumer`) that receive the producers'
  :class:`~octobot_trading.modes.channel.TradingDecision` on the mode's own
  :class:`~octobot_trading.modes.channel.ModeChannel` and create orders through the trader.

Everything the mode touches comes from a :class:`~octobot_trading.modes.context.ModeContext`
(channels, trader, portfolio or sub-portfolio, market specs, clock, readiness) built from the
exchange manager, so mode code never knows whether it runs live, on paper or in a backtest.

**Readiness.** A producer never sees market data before the context reports ready: when the
context is not ready at :meth:`AbstractTradingMode.start`, the producer is subscribed through a
small gate that drops updates until readiness. On a synchronized channel the gate then puts the
producer's method in its own place (same subscription, same position in the channel's route
list, so the publish in progress neither skips nor repeats a consumer); on a live channel it
keeps forwarding (one extra call). When the context is already ready, the producer's own method
is subscribed directly.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from octobot_trading.config import config_error_from
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError, TradingModeError
from octobot_trading.modes.channel import Evaluation, ModeChannel, TradingDecision
from octobot_trading.modes.context import ModeContext
from octobot_trading.util.logging import get_logger

__all__ = ["AbstractModeConsumer", "AbstractModeProducer", "AbstractTradingMode", "ModeConfig"]


class ModeConfig(BaseModel):
    """Base of every mode's config model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class AbstractModeProducer:
    """Turn market data or evaluations into decisions published on the mode channel.

    Override any of :meth:`on_candle`, :meth:`on_kline`, :meth:`on_evaluation`; only overridden
    triggers are subscribed. Publish decisions with :meth:`submit`.
    """

    #: Channel priority of this producer among the exchange's consumers.
    priority: ClassVar[str] = "medium"

    def __init__(self, mode: AbstractTradingMode) -> None:
        self.mode = mode
        self.context = mode.context

    async def on_candle(self, candle: Any) -> None:
        """React to a closed candle (a ``CandleUpdate``)."""

    async def on_kline(self, kline: Any) -> None:
        """React to a candle in construction (a ``KlineUpdate``)."""

    async def on_evaluation(self, evaluation: Evaluation) -> None:
        """React to an evaluation published on the mode's evaluation channel."""

    async def submit(self, decision: TradingDecision) -> None:
        """Publish ``decision`` to the mode's consumers."""
        await self.mode.channel.publish(decision)

    def on_config_reloaded(self) -> None:
        """Adapt to ``self.mode.config`` after :meth:`AbstractTradingMode.reload_config`."""

    def overrides(self, name: str) -> bool:
        """True when this producer's class overrides trigger ``name``."""
        return getattr(type(self), name) is not getattr(AbstractModeProducer, name)


class AbstractModeConsumer:
    """Turn decisions into orders through ``self.context.trader``."""

    def __init__(self, mode: AbstractTradingMode) -> None:
        self.mode = mode
        self.context = mode.context

    @abc.abstractmethod
    async def on_decision(self, decision: TradingDecision) -> None:
        """Act on one decision (create or cancel orders)."""

    def on_config_reloaded(self) -> None:
        """Adapt to ``self.mode.config`` after :meth:`AbstractTradingMode.reload_config`."""


class AbstractTradingMode(abc.ABC):
    """Base class of trading modes. See the module docstring.

    Parameters
    ----------
    context
        What the mode may touch; build it with ``ModeContext.from_manager(manager)`` (the
        exchange builder does this for ``use_trading_mode``).
    config
        A mapping validated into :attr:`config_model`, or an instance of it.
    symbols
        Symbols the mode trades (default: every symbol of the context).
    """

    config_model: ClassVar[type[ModeConfig]] = ModeConfig
    producer_classes: ClassVar[tuple[type[AbstractModeProducer], ...]] = ()
    consumer_classes: ClassVar[tuple[type[AbstractModeConsumer], ...]] = ()

    def __init__(
        self,
        context: ModeContext,
        config: Mapping[str, Any] | ModeConfig | None = None,
        *,
        symbols: list[str] | None = None,
    ) -> None:
        self.context = context
        self.config: Any = self.validate_config(config)
        self.symbols = list(symbols) if symbols is not None else list(context.symbols)
        if not self.symbols:
            raise ConfigurationError(f"{self.get_mode_name()}: no symbol to trade", field="symbols")
        self.channel = ModeChannel(self.get_mode_name())
        self.logger = get_logger(f"octobot_trading.modes.{self.get_mode_name()}")
        self.producers: list[AbstractModeProducer] = []
        self.consumers: list[AbstractModeConsumer] = []
        self._unsubscribers: list[Callable[[], None]] = []
        self._started = False

    # -- identity & config ------------------------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def get_mode_name(cls) -> str:
        """Return the mode's registry name (e.g. ``"sma_cross"``)."""

    @classmethod
    def validate_config(cls, config: Mapping[str, Any] | ModeConfig | None) -> Any:
        """Return ``config`` validated into :attr:`config_model`; ``ConfigurationError`` if bad."""
        if isinstance(config, cls.config_model):
            return config
        if isinstance(config, ModeConfig):
            config = config.model_dump()
        try:
            return cls.config_model.model_validate(dict(config or {}))
        except ValidationError as exc:
            raise config_error_from(f"{cls.get_mode_name()} config", exc) from exc

    def reload_config(self, config: Mapping[str, Any] | ModeConfig) -> None:
        """Validate and apply a new config without restarting; a bad config changes nothing."""
        new = self.validate_config(config)
        self.check_config(new)
        self.config = new
        for producer in self.producers:
            producer.on_config_reloaded()
        for consumer in self.consumers:
            consumer.on_config_reloaded()

    def check_config(self, config: Any) -> None:
        """Check ``config`` against the context (e.g. its time frame is configured)."""
        time_frame = getattr(config, "time_frame", None)
        if time_frame is not None and TimeFrame.parse(time_frame) not in self.context.time_frames:
            raise ConfigurationError(
                f"{self.get_mode_name()}: time frame {time_frame} is not configured "
                f"(configured: {', '.join(self.context.time_frames)})",
                field="time_frame",
            )

    @property
    def time_frame(self) -> TimeFrame:
        """The time frame the mode reacts to (config ``time_frame`` or the first configured)."""
        configured = getattr(self.config, "time_frame", None)
        if configured is not None:
            return TimeFrame.parse(configured)
        in_order = self.context.configured_time_frames or self.context.time_frames
        if not in_order:
            raise ConfigurationError(f"{self.get_mode_name()}: no time frame configured", field="time_frame")
        return in_order[0]

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Create producers and consumers and subscribe them. Idempotent."""
        if self._started:
            return
        self.check_config(self.config)
        self.consumers = [cls(self) for cls in self.consumer_classes]
        for consumer in self.consumers:
            self.channel.subscribe(consumer.on_decision)
        self.producers = [cls(self) for cls in self.producer_classes]
        for producer in self.producers:
            await self._subscribe(producer)
        self._started = True

    async def stop(self) -> None:
        """Unsubscribe everything. Idempotent."""
        for unsubscribe in reversed(self._unsubscribers):
            unsubscribe()
        self._unsubscribers.clear()
        for consumer in self.consumers:
            self.channel.unsubscribe(consumer.on_decision)
        self._started = False

    @property
    def is_started(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._started

    async def _subscribe(self, producer: AbstractModeProducer) -> None:
        channels = self.context.channels
        for trigger, channel in (("on_candle", channels.ohlcv), ("on_kline", channels.kline)):
            if not producer.overrides(trigger):
                continue
            for symbol in self.symbols:
                self._subscribe_gated(channel, getattr(producer, trigger), symbol, producer.priority)
        if producer.overrides("on_evaluation"):
            evaluations = self.context.evaluations
            if evaluations is None:
                raise TradingModeError(f"{self.get_mode_name()}: producer needs an evaluation channel")
            # filtered on the mode's symbols, and dropped until the context is ready (as candles)
            symbols = frozenset(self.symbols)
            is_ready = self.context.is_ready
            on_evaluation = producer.on_evaluation

            async def deliver(evaluation: Evaluation) -> None:
                if evaluation.symbol in symbols and is_ready():
                    await on_evaluation(evaluation)

            evaluations.subscribe(deliver)
            self._unsubscribers.append(lambda: evaluations.unsubscribe(deliver))

    def _subscribe_gated(
        self,
        channel: Any,
        callback: Callable[[Any], Awaitable[None] | None],
        symbol: str,
        priority: str,
        time_frame: TimeFrame | None = None,
    ) -> None:
        time_frame = time_frame or self.time_frame
        if self.context.is_ready():
            subscription = channel.subscribe(callback, symbol=symbol, time_frame=time_frame, priority=priority)
        else:
            is_ready = self.context.is_ready
            opened = [False]

            async def gate(payload: Any) -> None:
                if opened[0]:
                    pending = callback(payload)
                    if pending is not None:
                        await pending
                    return
                if not is_ready():
                    return
                opened[0] = True
                if getattr(channel, "synchronized", False):
                    # Swap the gate for the producer in place: same subscription, same position in
                    # the route list the channel is iterating (so no consumer is skipped or called
                    # twice); later route refreshes use the subscription's new callback.
                    subscription.callback = callback
                    route = channel.callbacks_for(symbol, time_frame)
                    if gate in route:
                        route[route.index(gate)] = callback
                pending = callback(payload)
                if pending is not None:
                    await pending

            subscription = channel.subscribe(gate, symbol=symbol, time_frame=time_frame, priority=priority)
        self._unsubscribers.append(lambda: channel.unsubscribe(subscription))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_mode_name()!r}, symbols={self.symbols})"
