"""``DCATradingMode``: periodic or dip entries, each with chained take-profit / stop-loss exits.

Entries are market buys of ``quote_amount`` worth of base at the close of the candle that
triggers them:

* ``entry="periodic"``: every ``every_candles`` candle closes (the first one included);
* ``entry="dip"``: when the close is at least ``dip_percent`` below the highest close of the
  previous ``lookback`` candles (compared exactly, in Decimal), at most once per ``lookback``
  candles.

Each entry carries its exits through the trading core's order features (the trader's
``take_profit_price`` / ``stop_loss_price`` bundle): a take-profit sell limit at
``entry close * (1 + take_profit_percent / 100)`` and, when ``stop_loss_percent`` is set, a
stop-loss at ``entry close * (1 - stop_loss_percent / 100)``; both are chained to the entry (sent
when it fills, sized to the base actually received) and grouped so that one filling cancels the
other. At most ``max_open_entries`` entries are open at once (an entry is open until its exits
are done).
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from octobot_trading.config import Money
from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.errors import InsufficientFunds, InvalidOrder
from octobot_trading.modes.base import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode, ModeConfig
from octobot_trading.modes.channel import DecisionAction, TradingDecision
from octobot_trading.util.decimals import decimal_from_data_float

__all__ = ["DCAConfig", "DCATradingMode"]


class DCAConfig(ModeConfig):
    """Configuration of :class:`DCATradingMode`.

    Attributes
    ----------
    entry
        ``"periodic"`` (default) or ``"dip"``.
    every_candles
        Periodic entries: candles between two entries (default 24).
    dip_percent
        Dip entries: fall below the recent high that triggers an entry, in percent (default ``"3"``).
    lookback
        Dip entries: number of previous candles whose highest close is the reference (default 24).
    quote_amount
        Quote spent per entry (default ``"100"``).
    take_profit_percent
        Take-profit distance above the entry close, in percent (default ``"2"``).
    stop_loss_percent
        Stop-loss distance below the entry close, in percent, or None for no stop (default ``"5"``).
    max_open_entries
        Most entries open at once (default 3).
    time_frame
        Time frame whose candle closes drive the mode (default: the first configured).
    """

    entry: Literal["periodic", "dip"] = "periodic"
    every_candles: int = Field(default=24, ge=1)
    dip_percent: Money = Decimal("3")
    lookback: int = Field(default=24, ge=1)
    quote_amount: Money = Decimal("100")
    take_profit_percent: Money = Decimal("2")
    stop_loss_percent: Money | None = Decimal("5")
    max_open_entries: int = Field(default=3, ge=1)
    time_frame: str | None = None

    @model_validator(mode="after")
    def _check(self) -> DCAConfig:
        if self.quote_amount <= 0:
            raise ValueError("quote_amount must be positive")
        if not 0 < self.dip_percent < 100:
            raise ValueError("dip_percent must be in (0, 100)")
        if self.take_profit_percent <= 0:
            raise ValueError("take_profit_percent must be positive")
        if self.stop_loss_percent is not None and not 0 < self.stop_loss_percent < 100:
            raise ValueError("stop_loss_percent must be in (0, 100)")
        return self


class DCAProducer(AbstractModeProducer):
    """Decide entries from candle closes (periodic counter or dip below the recent high)."""

    def __init__(self, mode: AbstractTradingMode) -> None:
        super().__init__(mode)
        self.on_config_reloaded()

    def on_config_reloaded(self) -> None:
        """Restart counters and windows with the new config."""
        config = self.mode.config
        self._count: dict[str, int] = {}
        self._windows: dict[str, deque[float]] = {}
        self._cooldown: dict[str, int] = {}
        self._periodic = config.entry == "periodic"
        self._every = int(config.every_candles)
        self._lookback = int(config.lookback)
        self._dip = Decimal(1) - config.dip_percent / 100
        self._dip_float = float(self._dip)

    async def on_candle(self, candle: Any) -> None:
        """Publish a BUY decision when an entry is due."""
        symbol = candle.symbol
        count = self._count.get(symbol, 0)
        self._count[symbol] = count + 1
        close = candle.close
        if self._periodic:
            if count % self._every == 0:
                await self._buy(candle, "periodic entry")
            return
        window = self._windows.get(symbol)
        if window is None:
            window = self._windows[symbol] = deque(maxlen=self._lookback)
        due = len(window) == self._lookback and count >= self._cooldown.get(symbol, 0)
        if due:
            high = max(window)
            # float pre-filter with margin, exact Decimal decision
            if (
                close <= high * self._dip_float * (1 + 1e-9)
                and decimal_from_data_float(close) <= decimal_from_data_float(high) * self._dip
            ):
                self._cooldown[symbol] = count + self._lookback
                await self._buy(candle, "dip entry")
        window.append(close)

    async def _buy(self, candle: Any, reason: str) -> None:
        await self.submit(
            TradingDecision(
                candle.symbol,
                DecisionAction.BUY,
                candle.timestamp + candle.time_frame.ms,
                decimal_from_data_float(candle.close),
                reason,
            )
        )


class DCAConsumer(AbstractModeConsumer):
    """Buy at market with chained, grouped take-profit and stop-loss exits."""

    def __init__(self, mode: AbstractTradingMode) -> None:
        super().__init__(mode)
        self.entries: list[Any] = []

    def open_entries(self) -> int:
        """Number of entries whose order or exits are not done."""
        self.entries = [e for e in self.entries if not e.is_done or any(not c.is_done for c in e.chained_orders)]
        return len(self.entries)

    async def on_decision(self, decision: TradingDecision) -> None:
        """Enter with exits, unless too many entries are open or funds are short."""
        if decision.action is not DecisionAction.BUY or decision.price is None:
            return
        config = self.mode.config
        if self.open_entries() >= config.max_open_entries:
            return
        context = self.context
        symbol = decision.symbol
        spec = context.market_spec(symbol)
        price = decision.price
        amount = spec.adapt_quantity(config.quote_amount / price)
        take_profit = price * (1 + config.take_profit_percent / 100)
        stop_loss = None if config.stop_loss_percent is None else price * (1 - config.stop_loss_percent / 100)
        try:
            entry = await context.create_order(
                OrderType.MARKET,
                OrderSide.BUY,
                symbol,
                amount,
                take_profit_price=take_profit,
                stop_loss_price=stop_loss,
                tag="dca",
            )
        except (InvalidOrder, InsufficientFunds) as exc:
            self.mode.logger.info("%s: DCA entry refused: %s", symbol, exc)
            return
        self.entries.append(entry)


class DCATradingMode(AbstractTradingMode):
    """Dollar-cost averaging with take-profit / stop-loss exits. Config: :class:`DCAConfig`."""

    config_model = DCAConfig
    producer_classes: ClassVar[tuple[type[AbstractModeProducer], ...]] = (DCAProducer,)
    consumer_classes: ClassVar[tuple[type[AbstractModeConsumer], ...]] = (DCAConsumer,)

    @classmethod
    def get_mode_name(cls) -> str:
        """Return ``"dca"``."""
        return "dca"
