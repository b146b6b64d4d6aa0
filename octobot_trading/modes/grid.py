"""``GridTradingMode``: limit orders on a price grid, refilled on the opposite side when filled.

The grid has ``levels`` prices on each side of a reference price ``R`` (config
``reference_price``, else the close of the first candle the mode sees), spaced by
``spacing_percent`` of ``R``: level ``i`` (``-levels <= i <= levels``, ``i != 0``) is at
``R * (1 + i * spacing_percent / 100)``, adapted to the market's tick (buys round down, sells
up). At start the mode places a buy limit of ``amount_per_level`` at every level below ``R``
(while the available quote covers it) and a sell limit at every level above ``R`` (while the
available base covers it). When a buy at level ``i`` fills, a sell is placed one level up
(``i + 1``; level 0 is ``R`` itself) for the base actually received (amount minus the fee
charged in base, rounded down to the step); when a sell at level ``i`` fills, a buy of
``amount_per_level`` is placed one level down (``i - 1``). Refills are created from the fill
hook, during the candle's price walk: the matching engine checks them from the next candle on.
Orders refused by the market's limits or for lack of funds are logged and skipped; an order the
venue certainly did not process (rate limit, ban, venue unreachable: ``NetworkError`` with
``not_processed``) is logged and placed again on the next candle, so one refusal never abandons
the rest of the grid. The grid never places market orders.

When the grid starts with ``grid`` orders of its symbol still open (restored from storage after a
restart), it adopts them (each takes the level nearest its price and is refilled when it fills)
and places only the empty levels.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, ClassVar

from pydantic import Field, model_validator

from octobot_trading.config import Money
from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.errors import InsufficientFunds, InvalidOrder, NetworkError
from octobot_trading.modes.base import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode, ModeConfig
from octobot_trading.modes.channel import DecisionAction, TradingDecision
from octobot_trading.personal_data.orders.order import OrderEvent
from octobot_trading.util.decimals import decimal_from_data_float
from octobot_trading.util.symbols import parse_symbol

__all__ = ["GridConfig", "GridTradingMode"]


class GridConfig(ModeConfig):
    """Configuration of :class:`GridTradingMode`.

    Attributes
    ----------
    levels
        Number of grid levels on each side of the reference price (default 5).
    spacing_percent
        Distance between two levels, in percent of the reference price (default ``"1"``).
    amount_per_level
        Base amount of each buy order (and of the initial sell orders), e.g. ``"0.01"``.
    reference_price
        Grid center; default: the close of the first candle the mode sees.
    time_frame
        Time frame whose first candle close starts the grid (default: the first configured).
    """

    levels: int = Field(default=5, ge=1, le=200)
    spacing_percent: Money = Decimal("1")
    amount_per_level: Money
    reference_price: Money | None = None
    time_frame: str | None = None

    @model_validator(mode="after")
    def _check(self) -> GridConfig:
        if not 0 < self.spacing_percent * self.levels < 100:
            raise ValueError("spacing_percent must be positive and levels * spacing_percent below 100")
        if self.amount_per_level <= 0:
            raise ValueError("amount_per_level must be positive")
        if self.reference_price is not None and self.reference_price <= 0:
            raise ValueError("reference_price must be positive")
        return self


class GridProducer(AbstractModeProducer):
    """Ask the consumer to lay out the grid on the first candle of each symbol."""

    def __init__(self, mode: AbstractTradingMode) -> None:
        super().__init__(mode)
        self._started: set[str] = set()

    async def on_candle(self, candle: Any) -> None:
        """Publish one REBALANCE decision per symbol (the first candle seen), and another on a later
        candle while placements refused for a passing reason wait to be sent again."""
        if candle.symbol in self._started:
            # levels a venue refused for a passing reason (rate limit, unreachable) are placed again
            if any(isinstance(c, GridConsumer) and c.has_retries(candle.symbol) for c in self.mode.consumers):
                await self.submit(
                    TradingDecision(
                        candle.symbol,
                        DecisionAction.REBALANCE,
                        candle.timestamp + candle.time_frame.ms,
                        decimal_from_data_float(candle.close),
                        "grid retry",
                    )
                )
            return
        self._started.add(candle.symbol)
        await self.submit(
            TradingDecision(
                candle.symbol,
                DecisionAction.REBALANCE,
                candle.timestamp + candle.time_frame.ms,
                decimal_from_data_float(candle.close),
                "grid start",
            )
        )


class GridConsumer(AbstractModeConsumer):
    """Place the grid and refill the opposite side of every filled order."""

    def __init__(self, mode: AbstractTradingMode) -> None:
        super().__init__(mode)
        self.reference: dict[str, Decimal] = {}
        self.level_of: dict[str, int] = {}  # order id -> grid level
        #: symbol -> placements the venue refused for a passing reason, placed again on a later candle
        self.retries: dict[str, list[tuple[int, OrderSide, Decimal]]] = {}

    def has_retries(self, symbol: str) -> bool:
        """True when placements of ``symbol`` wait to be sent again."""
        return bool(self.retries.get(symbol))

    def level_price(self, symbol: str, level: int) -> Decimal:
        """Exact (unrounded) price of ``level`` for ``symbol``."""
        config = self.mode.config
        return self.reference[symbol] * (1 + level * config.spacing_percent / 100)

    async def on_decision(self, decision: TradingDecision) -> None:
        """Lay out the grid around the reference price."""
        if decision.action is not DecisionAction.REBALANCE or decision.price is None:
            return
        config = self.mode.config
        symbol = decision.symbol
        if symbol in self.reference:  # the grid is laid out: send the refused placements again
            for level, side, amount in self.retries.pop(symbol, []):
                await self._place(symbol, level, side, amount)
            return
        self.reference[symbol] = config.reference_price or decision.price
        resumed = self._resume(symbol)
        for level in range(1, config.levels + 1):
            if (OrderSide.BUY, -level) not in resumed:
                await self._place(symbol, -level, OrderSide.BUY, config.amount_per_level)
        for level in range(1, config.levels + 1):
            if (OrderSide.SELL, level) not in resumed:
                await self._place(symbol, level, OrderSide.SELL, config.amount_per_level)

    def _resume(self, symbol: str) -> set[tuple[OrderSide, int]]:
        """Adopt the grid orders of ``symbol`` still open when the grid starts (restored from storage
        after a restart): each takes the level nearest its price and is refilled when it fills.
        Return the (side, level) pairs they cover."""
        covered: set[tuple[OrderSide, int]] = set()
        spacing = self.mode.config.spacing_percent
        for order in self.context.trader.orders_manager.open_orders(symbol):
            if order.tag != "grid" or order.price is None or order.id in self.level_of:
                continue
            if order.sub_portfolio != self.context.sub_portfolio:
                continue
            ratio = (order.price / self.reference[symbol] - 1) * 100 / spacing
            level = int(ratio.to_integral_value(rounding=ROUND_HALF_EVEN))
            self.level_of[order.id] = level
            order.add_hook(OrderEvent.FILL, self._on_fill)
            covered.add((order.side, level))
        if covered:
            self.mode.logger.info("%s: grid resumed with %d open orders", symbol, len(covered))
        return covered

    async def _place(self, symbol: str, level: int, side: OrderSide, amount: Decimal) -> None:
        context = self.context
        spec = context.market_spec(symbol)
        parsed = parse_symbol(symbol)
        price = spec.adapt_price(self.level_price(symbol, level), side)
        quantity = spec.adapt_quantity(amount)
        needed = quantity * price if side is OrderSide.BUY else quantity
        available = context.portfolio.get_currency_portfolio(
            parsed.quote if side is OrderSide.BUY else parsed.base
        ).available
        if quantity <= 0 or needed > available:
            self.mode.logger.info(
                "%s: grid %s at level %d skipped (needs %s, %s available)", symbol, side, level, needed, available
            )
            return
        try:
            order = await context.create_order(OrderType.LIMIT, side, symbol, quantity, price, tag="grid")
        except (InvalidOrder, InsufficientFunds) as exc:
            self.mode.logger.info("%s: grid %s at level %d refused: %s", symbol, side, level, exc)
            return
        except NetworkError as exc:
            if not exc.not_processed:
                raise
            # certainly not placed (rate limit, ban, venue unreachable): the next candle retries it
            self.mode.logger.warning("%s: grid %s at level %d not sent, retried later: %s", symbol, side, level, exc)
            self.retries.setdefault(symbol, []).append((level, side, amount))
            return
        self.level_of[order.id] = level
        order.add_hook(OrderEvent.FILL, self._on_fill)

    async def _on_fill(self, order: Any) -> None:
        """Refill: a filled buy at level i becomes a sell at i + 1, a filled sell a buy at i - 1."""
        if order.status is not OrderStatus.FILLED:
            return
        level = self.level_of.pop(order.id, None)
        if level is None:
            return
        symbol = order.symbol
        if order.side is OrderSide.BUY:
            received = order.filled - order.fees.get(parse_symbol(symbol).base, Decimal(0))
            await self._place(symbol, level + 1, OrderSide.SELL, received)
        else:
            await self._place(symbol, level - 1, OrderSide.BUY, self.mode.config.amount_per_level)


class GridTradingMode(AbstractTradingMode):
    """Grid of limit orders around a reference price. Config: :class:`GridConfig`."""

    config_model = GridConfig
    producer_classes: ClassVar[tuple[type[AbstractModeProducer], ...]] = (GridProducer,)
    consumer_classes: ClassVar[tuple[type[AbstractModeConsumer], ...]] = (GridConsumer,)

    @classmethod
    def get_mode_name(cls) -> str:
        """Return ``"grid"``."""
        return "grid"
