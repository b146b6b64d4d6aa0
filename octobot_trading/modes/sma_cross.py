"""``SmaCrossMode``: the built-in reference strategy (moving-average crossover).

At each candle close of its time frame, with ``d = SMA_fast(close) - SMA_slow(close)`` over
the closes up to and including that candle: when the previous ``d <= 0 < d`` now and the mode
holds no base, buy at market ``adapt_quantity(buy_fraction * available quote / close)``
(``close * (1 + slippage)`` instead of ``close`` when the venue's market orders slip, so that an
all-in buy stays affordable; an order refused for funds is logged, never fatal); when
the previous ``d >= 0 > d`` now and it holds base, sell all available base at market (rounded
down to the amount step). "Holds base" means ``adapt_quantity(available base)`` is non-zero and
passes the market's minimums at the close; dust below that counts as flat.

On a contract symbol (``XRP/USDT:USDT``, ``BTC/USD:BTC``) the mode trades a position instead
(see :class:`SmaCrossConsumer` and ``docs/modes.md``): an up-cross turns any short into a long, a
down-cross turns any long into a short with ``allow_short`` (else closes it), each new side sized
from the margin at the signal's close and the leverage; in one-way mode a flip is one order.

Exactness at a tiny per-candle cost: the producer keeps the closes as **integers** scaled by
``10**k`` (``k`` the smallest number of decimals that represents every close seen so far
exactly, i.e. equal to ``Decimal(repr(close))``; ``k`` grows, and the sums are rescaled, when
a close needs more decimals). The sign of ``d`` is the sign of the exact integer
``fast_sum * slow_period - slow_sum * fast_period``: no float rounding, no Decimal per candle.
Decimal arithmetic happens only in the consumer, when money moves.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field, model_validator

from octobot_trading.config import Money
from octobot_trading.enums import MarginMode, OrderSide, OrderType, PositionMode, PositionSide
from octobot_trading.errors import InsufficientFunds, InvalidOrder
from octobot_trading.modes.base import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode, ModeConfig
from octobot_trading.modes.channel import DecisionAction, TradingDecision
from octobot_trading.personal_data.positions import contract_math as cm
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.contract_spec import contract_kind
from octobot_trading.util.decimals import ZERO, decimal_from_data_float
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.util.records import record_builder
from octobot_trading.util.symbols import Symbol, parse_symbol

__all__ = ["SmaCrossConfig", "SmaCrossMode"]

_new_decision = record_builder(TradingDecision)  # TradingDecision(...) without the class call (once per crossing)
# enum members as module constants: attribute access on an Enum class is slow on the order path
_MARKET, _BUY, _SELL = OrderType.MARKET, OrderSide.BUY, OrderSide.SELL
_BUY_DECISION, _SELL_DECISION = DecisionAction.BUY, DecisionAction.SELL
_MAX_DIGITS = 15  # a double holds every decimal of up to 15 significant digits exactly
_MAX_SCALED = 10**_MAX_DIGITS


class SmaCrossConfig(ModeConfig):
    """Configuration of :class:`SmaCrossMode`.

    Attributes
    ----------
    fast_period
        Length of the fast moving average, in candles (default 10).
    slow_period
        Length of the slow moving average, in candles (default 30); must exceed ``fast_period``.
    buy_fraction
        Fraction of the available quote spent on each buy, in ``(0, 1]`` (default ``"0.95"``).
    time_frame
        Time frame whose candle closes trigger the mode (default: the first configured).
    allow_short
        On contract symbols only: a down-cross also opens a short (default False: long or flat).
        Spot symbols are never shorted; the option changes nothing there.
    """

    fast_period: int = Field(default=10, ge=1)
    slow_period: int = Field(default=30, ge=2)
    buy_fraction: Money = Decimal("0.95")
    time_frame: str | None = None
    allow_short: bool = False

    @model_validator(mode="after")
    def _check(self) -> SmaCrossConfig:
        if self.fast_period >= self.slow_period:
            raise ValueError("fast_period must be smaller than slow_period")
        if not (0 < self.buy_fraction <= 1):
            raise ValueError("buy_fraction must be in (0, 1]")
        return self


class SmaCrossProducer(AbstractModeProducer):
    """Keep exact scaled-integer moving sums and publish a decision on each crossing."""

    def __init__(self, mode: AbstractTradingMode) -> None:
        super().__init__(mode)
        self._states: dict[str, _SmaState] = {}
        self.on_config_reloaded()

    def on_config_reloaded(self) -> None:
        """Restart the averages (periods may have changed)."""
        config = self.mode.config
        self._fast = int(config.fast_period)
        self._slow = int(config.slow_period)
        self._tf_ms = self.mode.time_frame.ms
        self._states = {}

    async def on_candle(self, candle: Any) -> None:
        """Update the sums with the closed candle; publish BUY / SELL on a crossing."""
        state = self._states.get(candle.symbol)
        if state is None:
            state = self._states[candle.symbol] = _SmaState(self._fast, self._slow)
        close = candle.close
        scale = state.scale
        scaled = round(close * scale)
        if scaled / scale != close or scaled >= _MAX_SCALED:
            scaled = state.rescale(close)
        # -- the ring update, inlined: this runs once per candle. ``index`` is ``count % length``;
        # the closes leaving the windows sit ``fast`` / ``slow`` slots back (a negative index
        # wraps: both periods are at most the ring's length) --
        buffer = state.buffer
        fast = self._fast
        slow = self._slow
        index = state.index
        if state.warm:  # both windows full (the common case)
            fast_sum = state.fast_sum = state.fast_sum - buffer[index - fast] + scaled
            slow_sum = state.slow_sum = state.slow_sum - buffer[index - slow] + scaled
            buffer[index] = scaled
            index += 1
            state.index = 0 if index == state.length else index
        else:
            count = state.count
            if count >= fast:
                state.fast_sum -= buffer[index - fast]
            if count >= slow:
                state.slow_sum -= buffer[index - slow]
            buffer[index] = scaled
            fast_sum = state.fast_sum = state.fast_sum + scaled
            slow_sum = state.slow_sum = state.slow_sum + scaled
            state.count = count + 1
            index += 1
            state.index = 0 if index == state.length else index
            if count + 1 < state.length:
                return
            state.warm = True
        d = fast_sum * slow - slow_sum * fast
        sign = (d > 0) - (d < 0)
        previous = state.previous_sign
        state.previous_sign = sign
        if previous is None or sign == previous:
            return
        if sign > 0 >= previous:
            action = DecisionAction.BUY
        elif sign < 0 <= previous:
            action = DecisionAction.SELL
        else:
            return
        await self.submit(
            _new_decision(
                candle.symbol, action, candle.timestamp + self._tf_ms, decimal_from_data_float(close), "sma cross"
            )
        )


class _SmaState:
    """Ring buffer of scaled closes and the two exact integer sums."""

    __slots__ = (
        "buffer",
        "count",
        "decimals",
        "fast",
        "fast_sum",
        "index",
        "length",
        "previous_sign",
        "scale",
        "slow",
        "slow_sum",
        "warm",
    )

    def __init__(self, fast: int, slow: int) -> None:
        self.fast = fast
        self.slow = slow
        self.length = max(fast, slow)
        self.buffer = [0] * self.length
        self.count = 0
        #: where the next close goes (``count % length``); True once ``count >= length``
        self.index = 0
        self.warm = False
        self.fast_sum = 0
        self.slow_sum = 0
        self.decimals = 0
        self.scale = 1.0
        self.previous_sign: int | None = None

    def rescale(self, close: float) -> int:
        """Raise the scale until ``close`` is exact; rescale the stored sums. Return scaled close."""
        text = repr(close)
        exact = Decimal(text)
        exponent = exact.as_tuple().exponent
        needed = max(0, -exponent) if isinstance(exponent, int) else 0
        if needed > self.decimals:
            factor = 10 ** (needed - self.decimals)
            self.buffer = [value * factor for value in self.buffer]
            self.fast_sum *= factor
            self.slow_sum *= factor
            self.decimals = needed
            self.scale = float(10**needed)
        return int(exact.scaleb(self.decimals))


class SmaCrossConsumer(AbstractModeConsumer):
    """Turn crossings into market orders sized from the (sub-)portfolio.

    Contract symbols: ``want`` is the direction of the cross (long on an up-cross, short on a
    down-cross, a short only with ``allow_short``). When no position in the ``want`` direction
    is open, the new one gets ``adapt_quantity(buy_fraction * margin * leverage / (price *
    contract_size))`` contracts on a linear contract (``* price / contract_size`` on an inverse
    one), with ``margin`` the settle currency's available margin plus, when a position in the
    other direction is open, what closing it at the close frees: its initial margin and its PnL
    at the close (less its unrealized PnL when it is a cross position, since the available margin
    already counts it); all known before any order. The leverage is the symbol's current one
    (``ctx.leverage``) and ``price`` the close, raised (linear) or lowered (inverse) by the venue's
    market-order slippage. In one-way mode a flip is ONE market order of the old size plus the new
    one; when it is refused (margin, minimums) the old position is only closed (``reduce_only``).
    Without a new side (long-only, or nothing to open) the other position is closed alone. In
    hedge mode the close and the open are two orders naming their ``position_side``.
    """

    def __init__(self, mode: AbstractTradingMode) -> None:
        super().__init__(mode)
        self._symbols: dict[str, Symbol] = {}

    async def on_decision(self, decision: TradingDecision) -> None:
        """Buy ``buy_fraction`` of the quote when flat; sell all base when holding."""
        context = self.context
        symbol = decision.symbol
        price = decision.price
        if price is None:
            return
        parsed = self._symbols.get(symbol)
        if parsed is None:
            parsed = self._symbols[symbol] = parse_symbol(symbol)
        spec = context.market_spec(symbol)
        if not parsed.is_spot:
            await self._on_contract_decision(decision.action, symbol, parsed, spec, price)
            return
        portfolio = context.portfolio
        held = spec.adapt_quantity(portfolio.get_currency_portfolio(parsed.base).available)
        holds_base = held > 0 and spec.passes_limits(held, price)
        try:
            if decision.action is _BUY_DECISION and not holds_base:
                available = portfolio.get_currency_portfolio(parsed.quote).available
                slippage = context.market_order_slippage()
                # the market buy may fill up to ``slippage`` above the close: size it so it stays affordable
                fill_price = price * (1 + slippage) if slippage else price
                amount = spec.adapt_quantity(self.mode.config.buy_fraction * available / fill_price)
                if amount > 0 and spec.passes_limits(amount, price):
                    await context.create_order(_MARKET, _BUY, symbol, amount)
            elif decision.action is _SELL_DECISION and holds_base:
                await context.create_order(_MARKET, _SELL, symbol, held)
        except (InvalidOrder, InsufficientFunds) as exc:
            self.mode.logger.info("%s: %s order refused: %s", symbol, decision.action, exc)

    async def _on_contract_decision(
        self, action: DecisionAction, symbol: str, parsed: Symbol, spec: MarketSpec, price: Decimal
    ) -> None:
        """Close the position against the cross and open one along it (see the class docstring)."""
        context = self.context
        config = self.mode.config
        want = PositionSide.LONG if action is DecisionAction.BUY else PositionSide.SHORT
        against = PositionSide.SHORT if want is PositionSide.LONG else PositionSide.LONG
        hedge = context.position_mode(symbol) is PositionMode.HEDGE  # as set or adopted, not the static spec
        if hedge:
            opposite, current = context.position(symbol, against), context.position(symbol, want)
        else:  # one position at most: one read tells both sides
            held = context.position(symbol)
            side = None if held is None else held.side
            opposite, current = (held if side is against else None), (held if side is want else None)
        closing = opposite.size if opposite is not None and opposite.size else ZERO
        amount = ZERO
        try:
            if (want is PositionSide.LONG or config.allow_short) and (current is None or not current.size):
                amount = self._open_amount(symbol, parsed, spec, price, opposite if closing else None)
            if closing and amount and not hedge:
                try:  # one order: closes the opposite position and opens the rest (one-way mode)
                    await context.create_order(
                        OrderType.MARKET, _ORDER_SIDE[want], symbol, closing + amount, reduce_only=False
                    )
                    return
                except (InvalidOrder, InsufficientFunds) as exc:
                    self.mode.logger.info("%s: %s order refused, closing only: %s", symbol, action, exc)
            if closing:
                await context.create_order(
                    OrderType.MARKET,
                    _ORDER_SIDE[want],
                    symbol,
                    closing,
                    reduce_only=True,
                    position_side=against if hedge else None,
                )
            if amount and (hedge or not closing):
                await context.create_order(
                    OrderType.MARKET,
                    _ORDER_SIDE[want],
                    symbol,
                    amount,
                    reduce_only=False,
                    position_side=want if hedge else None,
                )
        except (InvalidOrder, InsufficientFunds) as exc:
            self.mode.logger.info("%s: %s order refused: %s", symbol, action, exc)

    def _open_amount(
        self, symbol: str, parsed: Symbol, spec: MarketSpec, price: Decimal, closed: Position | None
    ) -> Decimal:
        """Contracts of the new position: the documented sizing from the margin at the signal price.

        ``margin = available`` (+ for a position ``closed`` by the same signal: its initial margin
        and its PnL at ``price``, less the unrealized PnL ``available`` already counts for a cross
        position); 0 when it does not pass the market's limits.
        """
        context = self.context
        margin = context.portfolio.get_currency_portfolio(parsed.settle or parsed.quote).available
        contract_size = spec.contract_size
        if closed is not None:
            kind = contract_kind(symbol)
            entry = closed.entry_price if closed.entry_price is not None else price
            exact = cm.EXACT  # every operation in it: exact without switching contexts
            margin = exact.add(margin, closed.initial_margin or ZERO)
            closed_pnl = cm.pnl(kind, closed.side, exact.multiply(closed.size, contract_size), entry, price)
            margin = exact.add(margin, closed_pnl)
            if closed.margin_mode is MarginMode.CROSS:
                margin = exact.subtract(margin, closed.unrealized_pnl or ZERO)
        if margin <= 0:
            return ZERO
        slippage = context.market_order_slippage()
        budget = self.mode.config.buy_fraction * margin * context.leverage(symbol)
        if parsed.is_inverse:
            amount = spec.adapt_quantity(budget * (price * (1 - slippage)) / contract_size)
        else:
            amount = spec.adapt_quantity(budget / (price * (1 + slippage) * contract_size))
        return amount if amount > 0 and spec.passes_limits(amount, price) else ZERO


_ORDER_SIDE = {PositionSide.LONG: OrderSide.BUY, PositionSide.SHORT: OrderSide.SELL}


class SmaCrossMode(AbstractTradingMode):
    """Moving-average crossover (the built-in reference strategy). Config: :class:`SmaCrossConfig`."""

    config_model = SmaCrossConfig
    producer_classes: ClassVar[tuple[type[AbstractModeProducer], ...]] = (SmaCrossProducer,)
    consumer_classes: ClassVar[tuple[type[AbstractModeConsumer], ...]] = (SmaCrossConsumer,)

    @classmethod
    def get_mode_name(cls) -> str:
        """Return ``"sma_cross"``."""
        return "sma_cross"
