"""``ScriptContext``: what a trading script's ``on_candle(ctx)`` sees and the order DSL it calls.

One context is built per call, from the mode's :class:`~octobot_trading.modes.context.ModeContext`
(never from the exchange manager), so a script runs unchanged live, on paper and in backtests.
Amount and price strings follow :mod:`octobot_trading.modes.scripted_dsl`; a malformed one
raises :class:`~octobot_trading.modes.scripted_dsl.DSLError` before any order is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from octobot_trading.enums import OrderSide, OrderType, PositionSide, TimeFrame
from octobot_trading.errors import InvalidOrder
from octobot_trading.modes.context import ModeContext
from octobot_trading.modes.scripted_dsl import (
    AmountKind,
    AmountSpec,
    DSLError,
    PriceSpec,
    parse_amount,
    parse_price,
    resolve_price,
    size_amount,
)
from octobot_trading.util.decimals import ONE, ZERO, decimal_from_data_float
from octobot_trading.util.symbols import parse_symbol

__all__ = ["ScriptContext"]

OnOrder = Callable[[Any], Awaitable[None]]
_pairs: dict[str, Any] = {}


def _exact(value: Any) -> Decimal:
    """A candle value as an exact Decimal (data floats through their shortest text)."""
    return value if isinstance(value, Decimal) else decimal_from_data_float(value)


class ScriptContext:
    """The trigger candle, balances, orders and the order DSL of one script call.

    Attributes
    ----------
    symbol, time_frame, time_ms
        The symbol and time frame of the trigger candle and its close time (ms); in ``on_fill``,
        the time of the fill (the manager's clock) and the last closed candle.
    open, high, low, close, volume
        The trigger candle (exact Decimals of the data's values).
    mode_context
        The underlying :class:`~octobot_trading.modes.context.ModeContext`.
    state
        A dict kept across calls (and across reloads) for the script's own variables.
    """

    def __init__(
        self,
        mode_context: ModeContext,
        *,
        symbol: str,
        time_frame: TimeFrame,
        candle: Any,
        state: dict[str, Any],
        on_order: OnOrder | None = None,
        time_ms: int | None = None,
        owned: Mapping[str, Any] | None = None,
    ) -> None:
        self.mode_context = mode_context
        self._owned = owned
        self.symbol = symbol
        self.time_frame = time_frame
        self.state = state
        self._on_order = on_order
        pair = _pairs.get(symbol)
        if pair is None:
            pair = _pairs[symbol] = parse_symbol(symbol)
        self._pair = pair
        self._candle = candle
        self._exact: dict[str, Decimal] = {}
        if time_ms is not None:
            self.time_ms = time_ms
        elif candle is not None:
            self.time_ms = int(candle.timestamp) + time_frame.ms
        else:
            self.time_ms = mode_context.clock.now_ms()

    def _value(self, name: str) -> Decimal | None:
        """A trigger-candle value as an exact Decimal, converted on first use."""
        value = self._exact.get(name)
        if value is None:
            if self._candle is None:
                return None
            value = self._exact[name] = _exact(getattr(self._candle, name))
        return value

    @property
    def open(self) -> Decimal | None:
        """Open of the trigger candle (None without one)."""
        return self._value("open")

    @property
    def high(self) -> Decimal | None:
        """High of the trigger candle."""
        return self._value("high")

    @property
    def low(self) -> Decimal | None:
        """Low of the trigger candle."""
        return self._value("low")

    @property
    def close(self) -> Decimal | None:
        """Close of the trigger candle."""
        return self._value("close")

    @property
    def volume(self) -> Decimal | None:
        """Volume of the trigger candle."""
        return self._value("volume")

    # -- market data --------------------------------------------------------------------------
    def _candles(self, time_frame: TimeFrame | str | None, symbol: str | None, n: int | None = None) -> Any:
        context = self.mode_context
        data = context.symbols_data
        if data is None:
            raise DSLError("no candle data: the manager runs no market data", text=None)
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
            raise DSLError(f"the number of candles must be a non-negative integer, got {n!r}", text=n)
        wanted = symbol or self.symbol
        if context.symbols and wanted not in context.symbols:
            raise DSLError(
                f"symbol {wanted!r} is not configured (configured: {', '.join(context.symbols)})", text=symbol
            )
        frame = TimeFrame.parse(time_frame) if time_frame else self.time_frame
        if context.time_frames and frame not in context.time_frames:
            configured = ", ".join(tf.value for tf in context.time_frames)
            raise DSLError(f"time frame {frame.value!r} is not configured (configured: {configured})", text=time_frame)
        return data.get(wanted).candles(frame)

    def closes(
        self, n: int | None = None, time_frame: TimeFrame | str | None = None, symbol: str | None = None
    ) -> npt.NDArray[np.float64]:
        """The last ``n`` closes (all kept when None), oldest first, as a float array (a copy)."""
        return np.array(self._candles(time_frame, symbol, n).closes(n))

    def opens(
        self, n: int | None = None, time_frame: TimeFrame | str | None = None, symbol: str | None = None
    ) -> npt.NDArray[np.float64]:
        """The last ``n`` opens, oldest first."""
        return np.array(self._candles(time_frame, symbol, n).opens(n))

    def highs(
        self, n: int | None = None, time_frame: TimeFrame | str | None = None, symbol: str | None = None
    ) -> npt.NDArray[np.float64]:
        """The last ``n`` highs, oldest first."""
        return np.array(self._candles(time_frame, symbol, n).highs(n))

    def lows(
        self, n: int | None = None, time_frame: TimeFrame | str | None = None, symbol: str | None = None
    ) -> npt.NDArray[np.float64]:
        """The last ``n`` lows, oldest first."""
        return np.array(self._candles(time_frame, symbol, n).lows(n))

    def volumes(
        self, n: int | None = None, time_frame: TimeFrame | str | None = None, symbol: str | None = None
    ) -> npt.NDArray[np.float64]:
        """The last ``n`` volumes, oldest first."""
        return np.array(self._candles(time_frame, symbol, n).volumes(n))

    def times(
        self, n: int | None = None, time_frame: TimeFrame | str | None = None, symbol: str | None = None
    ) -> npt.NDArray[np.int64]:
        """The last ``n`` open times (ms), oldest first."""
        return np.array(self._candles(time_frame, symbol, n).times(n))

    @property
    def price(self) -> Decimal | None:
        """The current price: the close of the trigger candle (what relative prices start from)."""
        return self.close

    # -- portfolio ----------------------------------------------------------------------------
    def available(self, currency: str) -> Decimal:
        """Available (not reserved) balance of ``currency`` in the mode's portfolio."""
        return Decimal(self.mode_context.portfolio.get_currency_portfolio(currency).available)

    def total(self, currency: str) -> Decimal:
        """Total balance of ``currency`` in the mode's portfolio."""
        return Decimal(self.mode_context.portfolio.get_currency_portfolio(currency).total)

    @property
    def position(self) -> Any:
        """The open futures position of the symbol, or None (always None on spot markets)."""
        personal = getattr(self.mode_context.trader, "personal_data", None)
        positions = getattr(personal, "positions_manager", None)
        return None if positions is None else positions.get(self.symbol)

    def open_orders(self, symbol: str | None = None) -> list[Any]:
        """Open orders of ``symbol`` (default: the trigger's) that this mode placed (with their bundled
        exits); another mode's orders on a shared account are never listed."""
        orders = self.mode_context.trader.orders_manager.open_orders(symbol or self.symbol)
        owned = self._owned
        if owned is not None:
            return [o for o in orders if o.id in owned]
        sub = self.mode_context.sub_portfolio
        return [o for o in orders if sub is None or getattr(o, "sub_portfolio", None) == sub]

    # -- orders -------------------------------------------------------------------------------
    async def market_buy(self, amount: object, **options: Any) -> Any:
        """Buy at market; ``amount`` in the DSL (e.g. ``"10%"``). Returns the order."""
        return await self._place(OrderType.MARKET, OrderSide.BUY, amount, None, None, options)

    async def market_sell(self, amount: object, **options: Any) -> Any:
        """Sell at market; ``amount`` in the DSL (e.g. ``"all"``). Returns the order."""
        return await self._place(OrderType.MARKET, OrderSide.SELL, amount, None, None, options)

    async def limit_buy(self, amount: object, price: object = None, *, offset: object = None, **options: Any) -> Any:
        """Rest a buy limit at ``price`` (``"25000"``, ``"@25000"``) or ``offset`` (``"-1%"``, ``"e-2%"``)."""
        return await self._place(OrderType.LIMIT, OrderSide.BUY, amount, price, offset, options)

    async def limit_sell(self, amount: object, price: object = None, *, offset: object = None, **options: Any) -> Any:
        """Rest a sell limit at ``price`` or ``offset`` (``"+2%"``, ``"e+2%"``)."""
        return await self._place(OrderType.LIMIT, OrderSide.SELL, amount, price, offset, options)

    async def stop_loss(
        self, amount: object, price: object = None, *, offset: object = None, side: str = "sell", **options: Any
    ) -> Any:
        """Place a stop-loss (market once triggered) at ``price`` / ``offset``; default side sell."""
        return await self._place(OrderType.STOP_LOSS, OrderSide(side), amount, price, offset, options)

    async def take_profit(
        self, amount: object, price: object = None, *, offset: object = None, side: str = "sell", **options: Any
    ) -> Any:
        """Place a take-profit (market once triggered) at ``price`` / ``offset``; default side sell."""
        return await self._place(OrderType.TAKE_PROFIT, OrderSide(side), amount, price, offset, options)

    async def cancel_all(self, symbol: str | None = None) -> list[Any]:
        """Cancel the open orders of ``symbol`` (default: the trigger's) this mode placed, as listed by
        :meth:`open_orders`; another mode's orders are left alone. Return the cancelled orders."""
        cancelled = []
        for order in self.open_orders(symbol):
            cancelled.append(await self.mode_context.trader.cancel_order(order))
        return cancelled

    def _price_spec(self, price: object, offset: object) -> PriceSpec | None:
        if price is not None and offset is not None:
            raise DSLError(f"give a price or an offset, not both (price={price!r}, offset={offset!r})", text=offset)
        if offset is not None:
            spec = parse_price(offset)
            if not spec.is_relative:
                raise DSLError(f'offset {offset!r} is not relative (expected e.g. "+2%", "-1%", "e+2%")', text=offset)
            return spec
        return None if price is None else parse_price(price)

    def _entry_price(self) -> Decimal | None:
        position = self.position
        return None if position is None else position.entry_price

    async def _place(
        self,
        order_type: OrderType,
        side: OrderSide,
        amount: object,
        price: object,
        offset: object,
        options: dict[str, Any],
    ) -> Any:
        context = self.mode_context
        amount_spec = parse_amount(amount)  # malformed strings fail here, before anything else
        price_spec = self._price_spec(price, offset)
        if order_type is not OrderType.MARKET and price_spec is None:
            raise DSLError(f"{order_type} needs a price or an offset", text=None)
        order_price = (
            None if price_spec is None else resolve_price(price_spec, current=self.price, entry=self._entry_price())
        )
        spec = context.market_spec(self.symbol)
        quote_cost = ONE
        valuation = order_price
        if order_type is OrderType.MARKET:
            valuation, margin = self._market_valuation()
            quote_cost += margin
        if valuation is None:
            raise InvalidOrder("no current price to size the order", limit="price", symbol=self.symbol)
        position = self.position
        amount_spec, sizing_side = self._contract_sizing(amount_spec, side, position)
        fee_rate, fee_in_spent = self._fee_terms(side)
        if fee_in_spent and sizing_side is OrderSide.BUY:
            quote_cost *= ONE + fee_rate
        base, quote = self._pair.base, self._pair.quote
        size = size_amount(
            amount_spec,
            side=sizing_side,
            price=valuation,
            market=spec,
            available_base=self.available(base),
            available_quote=self.available(quote),
            total_base=self.total(base),
            total_quote=self.total(quote),
            position_size=None if position is None else position.contracts,
            quote_cost_factor=quote_cost,
        )
        if size <= ZERO:
            raise InvalidOrder(
                f"amount {amount!r} sizes to zero at step {spec.amount_step}", limit="min_amount", symbol=self.symbol
            )
        if order_type in (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT):
            options.setdefault("trigger_price", order_price)
            order_price = None
        order = await context.create_order(order_type, side, self.symbol, size, order_price, **options)
        if self._on_order is not None:
            await self._on_order(order)
        return order

    def _contract_sizing(self, spec: AmountSpec, side: OrderSide, position: Any) -> tuple[AmountSpec, OrderSide]:
        """On a contract symbol, what a relative amount measures (spot: unchanged).

        An order on the side closing the open position takes ``"all"`` / ``"N%"`` / ``"N%t"`` from the
        position's contracts; an order opening or adding on a linear contract (settled in the quote)
        measures its notional in the quote currency, a sell as a buy does (no base balance backs it).
        """
        pair = self._pair
        if pair.is_spot or spec.kind in (AmountKind.ABSOLUTE, AmountKind.POSITION):
            return spec, side
        if position is not None and position.contracts > 0:
            closing = PositionSide.LONG if side is OrderSide.SELL else PositionSide.SHORT
            if position.side is closing:
                return AmountSpec(AmountKind.POSITION, spec.value, spec.text), side
        if pair.is_linear:
            return spec, OrderSide.BUY
        return spec, side

    def _market_valuation(self) -> tuple[Decimal | None, Decimal]:
        """Price and margin the trader reserves a market buy at: the higher of the trigger close and
        the trader's last price, and the venue's slippage (the trader's live margin when unknown)."""
        trader = self.mode_context.trader
        prices = [p for p in (self.price, self._trader_price()) if p is not None]
        margin = getattr(getattr(trader, "connector", None), "market_order_slippage", None)
        if not isinstance(margin, Decimal):
            from octobot_trading.personal_data.order_funds import LIVE_MARKET_RESERVE_MARGIN

            margin = LIVE_MARKET_RESERVE_MARGIN
        return (max(prices) if prices else None), margin

    def _trader_price(self) -> Decimal | None:
        price_of = getattr(self.mode_context.trader, "price_of", None)
        price = price_of(self.symbol) if callable(price_of) else None
        return price if isinstance(price, Decimal) else None

    def _fee_terms(self, side: OrderSide) -> tuple[Decimal, bool]:
        trader = self.mode_context.trader
        fees = getattr(trader, "fees", None)
        rate = getattr(fees, "taker", ZERO) if fees is not None else ZERO
        markets = getattr(trader, "markets", {})
        market = markets.get(self.symbol) if isinstance(markets, dict) else None
        fee_side = getattr(market, "fee_side", None)
        if fee_side is None:
            portfolio_manager = getattr(trader, "portfolio_manager", None)
            return rate, bool(getattr(portfolio_manager, "reserve_fees_in_spent_currency", False))
        return rate, fee_side == "give" or fee_side == ("quote" if side is OrderSide.BUY else "base")

    def __repr__(self) -> str:
        return f"ScriptContext({self.symbol!r}, {self.time_frame}, time_ms={self.time_ms}, close={self.close})"
