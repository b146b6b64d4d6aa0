"""The simulated venue's futures side: contract symbols accounted with :class:`FuturesAccount`.

The simulated connector (paper trading and backtests) hands every order and fill of a contract
symbol (``BTC/USDT:USDT``, ``BTC/USD:BTC``) to a :class:`FuturesVenue`, which applies the exact
rules of docs/futures.md through
:class:`~octobot_trading.personal_data.positions.accounting.FuturesAccount`: margin reserved by
open orders (initial margin + fee, checked with ``InsufficientFunds`` before anything changes),
fills that open / grow / reduce / close / flip positions (one-way or hedge, isolated or cross,
fees in the settle currency, ``reduce_only`` never increasing), mark prices, funding and
liquidations. The settle currencies' balances live in the futures wallets (the spot account of
the connector keeps the other currencies).

**Candle events** (:meth:`FuturesVenue.on_candle`, called by the connector after the candle's
resting orders are matched): for a symbol with open positions, (1) the isolated positions are
checked against the candle's *mark* path (open, nearer extreme, other extreme, close) — only when
the float pre-check of ``FuturesAccount.liquidation_bounds`` says the candle reaches a
liquidation price; (2) the mark becomes the mark candle's close. Without ``mark_prices`` for the
symbol the mark candle is the traded candle; with them it is the mark candle closing at the same
time, and when none closes then (mark candles longer than the traded ones: 1h marks on 5m
candles) steps (1) and (2) wait for the next mark candle's close, whose whole path is checked;
where no mark candle holds the traded candle's close (before the mark data, after it, in a gap)
the traded candle is the mark; (3) every funding event of ``funding_rates`` with a time in
``(previous close, close]`` is paid at that mark; (4) the cross positions of the settle
currency are checked at the close. A mark candle's path only acts on positions as they were at
its open: when a fill of the symbol came after the mark candle's open (a position opened, grown,
reduced or flipped inside a mark candle longer than the traded ones), the symbol's isolated
positions are checked at the mark close only. In backtests
(``lazy=True``) a candle that only moves the mark of isolated positions keeps the mark as given
and values it when next needed (orders, fills, events, reads of positions or balances).

**Stable read API** (used by the backtest results, documented for tools):

- ``funding_payments``: every :class:`FundingPayment` paid, in order;
- ``liquidations``: every :class:`Liquidation`, in order;
- :meth:`FuturesVenue.positions_snapshot`: the open positions (``ot.Position``, every field set).

The simulated connector exposes the same three names (empty on a spot-only venue).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from octobot_trading.enums import MarginMode, OrderSide, OrderStatus, PositionMode, PositionSide, TradeType
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchanges.connectors.simulator.order_records import SimOrder
from octobot_trading.exchanges.types import Balance, ExchangePosition, ExchangeTrade, FundingRate
from octobot_trading.personal_data.positions import reduce_only as reduce_only_room
from octobot_trading.personal_data.positions.accounting import (
    FillResult,
    FundingPayment,
    FuturesAccount,
    Liquidation,
)
from octobot_trading.personal_data.positions.contract_math import ACCOUNTING_STEP
from octobot_trading.personal_data.positions.position import Position, stamped
from octobot_trading.util.contract_spec import ContractSpec, contract_kind, settle_currency
from octobot_trading.util.decimals import ZERO, decimal_from_data_float, divide_to_step
from octobot_trading.util.market_spec import MarketSpec

__all__ = [
    "DERIVED_MAINTENANCE_MARGIN_RATE",
    "FuturesVenue",
    "MarkCandles",
    "derived_contract_spec",
    "exchange_position",
    "record_contract_fill",
]

#: Maintenance margin rate of a spec derived from a market when none is given for a contract symbol.
DERIVED_MAINTENANCE_MARGIN_RATE = Decimal("0.005")
#: ``symbol -> (close times, opens, highs, lows, closes, open times)`` of mark-price candles.
MarkCandles = Mapping[str, tuple[list[int], list[float], list[float], list[float], list[float], list[int]]]


def derived_contract_spec(spec: MarketSpec) -> ContractSpec:
    """A :class:`ContractSpec` for a contract market given no spec: its precision and limits, leverage 1,
    isolated margin, one-way mode, a maintenance margin rate of :data:`DERIVED_MAINTENANCE_MARGIN_RATE`."""
    if isinstance(spec, ContractSpec):
        return spec
    fields = {name: getattr(spec, name) for name in MarketSpec.__dataclass_fields__}
    return ContractSpec(**fields, maintenance_margin_rate=DERIVED_MAINTENANCE_MARGIN_RATE)


def exchange_position(position: Position, now_ms: int | None = None) -> ExchangePosition:
    """The venue's report of an accounted position (every field set; ``timestamp``: ``now_ms``)."""
    return ExchangePosition(
        symbol=position.symbol,
        side=position.side.value,
        contracts=position.contracts,
        entry_price=position.entry_price,
        mark_price=position.mark_price,
        unrealized_pnl=position.unrealized_pnl,
        leverage=position.leverage,
        margin_mode=None if position.margin_mode is None else position.margin_mode.value,
        liquidation_price=position.liquidation_price,
        timestamp=now_ms if now_ms is not None else position.timestamp,
        initial_margin=position.initial_margin,
        maintenance_margin=position.maintenance_margin,
        realized_pnl=position.realized_pnl,
    )


def record_contract_fill(
    record: SimOrder, trade_id: str, result: FillResult, role: TradeType, now: int
) -> ExchangeTrade:
    """Update the venue's ``record`` of an order with one accounted contract fill; return the trade.

    The order's average fill price is the contract-weighted mean of its fill prices for a linear
    contract and the contract-weighted harmonic mean for an inverse one (the rule of a position's
    entry price, docs/futures.md): ``Σ contracts / Σ (contracts / price)``, computed exactly and
    rounded once to the accounting step (when the fills differ in price).
    """
    currency = settle_currency(result.symbol)
    if contract_kind(result.symbol) == "inverse":
        value = Fraction(result.contracts) / Fraction(result.price)
        before = record.fill_value
        record.fill_value = value if before is None else before + value
        if before is not None and (
            record.average is not None or Fraction(record.filled) / before != Fraction(result.price)
        ):  # (fills all at one price: cost / filled is that price exactly)
            mean = Fraction(record.filled + result.contracts) / record.fill_value
            record.average = divide_to_step(Decimal(mean.numerator), Decimal(mean.denominator), ACCOUNTING_STEP)
    record.filled += result.contracts
    record.cost += result.contracts * result.price
    record.fee += result.fee
    record.fee_currency = currency
    record.updated = now
    record.status = OrderStatus.FILLED if record.resting.remaining <= 0 else OrderStatus.PARTIALLY_FILLED
    record.touch()
    return ExchangeTrade(
        id=trade_id,
        order_id=record.id,
        symbol=result.symbol,
        side=result.side,
        price=result.price,
        amount=result.contracts,
        fee=result.fee,
        fee_currency=currency,
        timestamp=now,
        taker_or_maker=role,
        realized_pnl=result.realized_pnl,
    )


class FuturesVenue:
    """Contract symbols of a simulated venue (see the module docstring).

    Parameters
    ----------
    contracts
        ``{symbol: ContractSpec}`` of the contract symbols traded.
    wallets
        Starting wallet per settle currency.
    funding_rates
        ``{symbol: FundingData}`` (anything with ``between(start_ms, end_ms)``) for backtests.
    mark_prices
        Mark-price candles by symbol (:data:`MarkCandles`); default: the traded candles.
    """

    def __init__(
        self,
        contracts: Mapping[str, ContractSpec],
        wallets: Mapping[str, Decimal],
        *,
        funding_rates: Mapping[str, Any] | None = None,
        mark_prices: MarkCandles | None = None,
    ) -> None:
        self.account = FuturesAccount(contracts, wallets)
        self.specs = self.account.specs
        self.funding_rates = dict(funding_rates or {})
        for symbol in self.funding_rates:
            if symbol not in self.specs:
                raise ConfigurationError(f"funding rates of {symbol}, which is not a contract traded", field="funding")
        self.mark_prices = dict(mark_prices or {})
        #: specs given for symbols not traded yet (added on first use)
        self.given_specs: dict[str, ContractSpec] = {}
        self.funding_payments: list[FundingPayment] = []
        self.liquidations: list[Liquidation] = []
        #: order id -> (reduce_only, position_side)
        self.order_terms: dict[str, tuple[bool, PositionSide | None]] = {}
        self._reserved: dict[str, tuple[str, Decimal]] = {}
        #: resting reduce_only order id -> ((symbol, side, position_side), contracts left)
        self._closing: dict[str, tuple[tuple[str, OrderSide, PositionSide | None], Decimal]] = {}
        #: resting ordinary order id -> ((symbol, side, position_side), contracts left): what they count
        #: on closing is not in the room of a reduce_only order placed after them
        self._ordinary: dict[str, tuple[tuple[str, OrderSide, PositionSide | None], Decimal]] = {}
        self._last_close: dict[str, int] = {}
        self._pending_mark: dict[str, float | Decimal] = {}
        self._exposed: set[str] = set()  # symbols with an open position
        self._cross = False  # an open position in cross margin
        self._next_funding: dict[str, int] = {}  # symbol -> first funding time not paid yet
        self._filled_at: dict[str, int] = {}  # symbol -> time of its last fill (mark candles' paths)
        self._cross_due: dict[str, int] = {}  # settle currency -> close time of a cross check waiting
        #: symbol -> (long bound, short bound, next funding time) of a lazy candle that can only move
        #: the mark (see :meth:`on_candle`); forgotten whenever positions, settings or data change
        self._quiet: dict[str, tuple[float, float, int]] = {}
        #: the dicts :meth:`skip_lazy_candle` reads and writes (the same objects for the venue's
        #: life), for a candle loop that inlines it
        self.lazy_skips, self.last_closes, self.pending_marks = self._quiet, self._last_close, self._pending_mark

    def add_contract(self, symbol: str, spec: ContractSpec, wallet: Decimal = ZERO) -> None:
        """Trade ``symbol`` too (a new settle wallet starts at ``wallet``)."""
        self._quiet.clear()
        self.account.add_contract(symbol, spec, wallet)

    def restore(
        self,
        wallets: Mapping[str, Decimal],
        settings: Mapping[str, tuple[Decimal, MarginMode, PositionMode]],
        positions: Iterable[Position],
        transactions: Iterable[Any],
        applied: Iterable[str],
    ) -> None:
        """Start again from a stored state (paper restart; see ``FuturesAccount.load_state``)."""
        self.account.load_state(wallets, settings, positions, transactions, applied)
        self._reserved.clear()
        self.order_terms.clear()
        self._closing.clear()
        self._ordinary.clear()
        self._pending_mark.clear()
        self._positions_changed()

    # -- reading ---------------------------------------------------------------------------------------
    def positions_snapshot(self) -> list[Position]:
        """The open positions, by symbol then side (at the last mark price)."""
        self.flush_marks()
        return self.account.positions()

    def exchange_positions(
        self, symbols: Iterable[str] | None = None, now_ms: int | None = None
    ) -> list[ExchangePosition]:
        """The open positions as the venue reports them at ``now_ms`` (of ``symbols`` when given)."""
        scope = None if symbols is None else set(symbols)
        self.flush_marks()
        return [exchange_position(p, now_ms) for p in self.account.positions() if scope is None or p.symbol in scope]

    def pushed_state(self, now_ms: int | None) -> tuple[list[Position], dict[str, tuple[Decimal, Decimal]]]:
        """``(positions, margin)`` as pushed to the local books at ``now_ms``, the marks flushed once:
        the open positions as the accounted ``Position`` objects themselves (every field set,
        ``timestamp`` ``now_ms``; the values :meth:`exchange_positions` reports, without a round trip
        through ``ExchangePosition``) and :meth:`margin_before_orders`."""
        if self._pending_mark:
            self.flush_marks()
        account = self.account
        positions = [stamped(p, now_ms) for p in account.positions()]
        margin = {c: (wallet, account.available(c, orders=False)) for c, wallet in account.wallets.items()}
        return positions, margin

    def refreshed_positions(self, symbol: str, now_ms: int | None) -> list[Position] | None:
        """``symbol``'s open positions valued at the mark kept lazily since the last push (as
        :meth:`pushed_state`), or None when no such mark waits (nothing moved)."""
        if symbol not in self._pending_mark or symbol not in self._exposed:
            return None
        self._flush_mark(symbol)
        return [stamped(p, now_ms) for p in self.account.positions() if p.symbol == symbol]

    def has_exposure(self, symbol: str) -> bool:
        """True when ``symbol`` has an open position."""
        return symbol in self._exposed

    def forget_candle_shortcuts(self) -> None:
        """Forget what lazy candles of each symbol were known to skip (mark prices, funding data or
        contracts changed)."""
        self._quiet.clear()

    def _positions_changed(self) -> None:
        self._quiet.clear()
        positions = self.account.positions()
        self._exposed = {p.symbol for p in positions}
        self._cross = any(p.margin_mode is MarginMode.CROSS for p in positions)

    def flush_marks(self) -> None:
        """Give the account every mark seen lazily (see :meth:`on_candle`)."""
        for symbol in list(self._pending_mark):
            self._flush_mark(symbol)

    def balances(self) -> dict[str, Balance]:
        """Settle currencies: total = wallet, free = available margin capped to ``[0, wallet]``."""
        self.flush_marks()
        result = {}
        for currency, wallet in self.account.wallets.items():
            free = min(max(self.account.available(currency), ZERO), max(wallet, ZERO))
            result[currency] = Balance(free, wallet - free, wallet)
        return result

    def margin_before_orders(self) -> dict[str, tuple[Decimal, Decimal]]:
        """``{settle currency: (wallet, available margin before any open order's reservation)}``."""
        self.flush_marks()
        account = self.account
        return {
            currency: (wallet, account.available(currency, orders=False))
            for currency, wallet in account.wallets.items()
        }

    def funding_rate(self, symbol: str, now_ms: int) -> FundingRate:
        """The last funding rate at or before ``now_ms`` (0 without funding data)."""
        self.account.get(symbol)
        data = self.funding_rates.get(symbol)
        rate, when, following = ZERO, None, None
        if data is not None:
            events = list(data.between(-1, now_ms))
            if events:
                when, rate = events[-1]
            later = data.between(now_ms, 2**62)
            following = later[0][0] if later else None
        return FundingRate(symbol, rate, when, following)

    # -- orders and fills ------------------------------------------------------------------------------
    def reserve(
        self,
        order_id: str,
        symbol: str,
        side: OrderSide,
        contracts: Decimal,
        price: Decimal,
        fee_rate: Decimal,
        reduce_only: bool,
        position_side: PositionSide | None,
        *,
        conditional: bool = False,
    ) -> Decimal:
        """Check an order and reserve its margin (``InvalidOrder`` / ``InsufficientFunds``, no change).

        A ``reduce_only`` order must fit in what its position has left after the other resting
        ``reduce_only`` orders closing it and what the resting ordinary orders placed before it
        count on closing (``positions.reduce_only``; the trader's rule, :meth:`_uncommitted`); a
        ``conditional`` one (a trigger price) is neither checked nor counted so (judged when it
        triggers, as on Binance)."""
        self._flush_mark(symbol)
        closes = (symbol, side, position_side)
        room_checked = reduce_only and not conditional
        if room_checked and (held := self.account.get(symbol, position_side)) is not None:
            others = (left for key, (term, left) in self._closing.items() if term == closes and key != order_id)
            uncommitted = self._uncommitted(order_id, closes, held.contracts)
            reduce_only_room.check_room(symbol, contracts, uncommitted, others)
        needed = self.account.reserve(
            order_id,
            symbol,
            side,
            contracts,
            price,
            fee_rate=fee_rate,
            reduce_only=reduce_only,
            position_side=position_side,
        )
        self.order_terms[order_id] = (reduce_only, position_side)
        self._reserved[order_id] = (settle_currency(symbol), needed)
        if room_checked:
            self._closing[order_id] = (closes, contracts)
        elif not reduce_only:
            self._ordinary[order_id] = (closes, contracts)
        return needed

    def _uncommitted(self, order_id: str, closes: tuple[str, OrderSide, PositionSide | None], held: Decimal) -> Decimal:
        """Contracts of a position holding ``held`` that the resting ordinary orders placed before
        ``order_id`` on the same ``(symbol, side, position_side)`` do not already count on closing
        (each contract counted by at most one order, the earlier)."""
        left, ordinary = held, self._ordinary
        for key in self.order_terms:  # (placement order: an edited order keeps its place)
            if key == order_id or left <= 0:
                break
            if (entry := ordinary.get(key)) is not None and entry[0] == closes:
                left -= min(left, entry[1])
        return left

    def release(self, order_id: str, *, done: bool = True) -> None:
        """Release an order's reservation; ``done`` (canceled or filled) also forgets its terms."""
        self.account.release(order_id)
        self._reserved.pop(order_id, None)
        if done:
            self.order_terms.pop(order_id, None)
            self._closing.pop(order_id, None)
            self._ordinary.pop(order_id, None)

    def fill(
        self,
        fill_id: str,
        order_id: str,
        symbol: str,
        side: OrderSide,
        contracts: Decimal,
        price: Decimal,
        fee_rate: Decimal,
        time_ms: int,
    ) -> FillResult:
        """Apply one fill of an order (raises, changing nothing, when the account refuses it)."""
        reduce_only, position_side = self.order_terms.get(order_id, (False, None))
        pending = None if self._cross else self._pending_mark.pop(symbol, None)
        self._flush_mark(symbol)  # (a cross account's marks are never pending: see on_candle)
        result = self.account.apply_fill(
            fill_id,
            symbol,
            side,
            contracts,
            price,
            time_ms,
            fee_rate=fee_rate,
            reduce_only=reduce_only,
            position_side=position_side,
            order_id=order_id,
            mark=None if pending is None else _exact(pending),
        )
        self._reserved.pop(order_id, None)
        self._filled_at[symbol] = time_ms
        if (closing := self._closing.get(order_id)) is not None:
            self._closing[order_id] = (closing[0], max(closing[1] - contracts, ZERO))
        elif (ordinary := self._ordinary.get(order_id)) is not None:
            self._ordinary[order_id] = (ordinary[0], max(ordinary[1] - contracts, ZERO))
        self._positions_changed()
        assert result is not None  # trade ids are never reused
        return result

    def _flush_mark(self, symbol: str) -> None:
        """Give the account the last mark kept lazily for ``symbol`` (while it had no position, or
        on candles that only moved the mark)."""
        pending = self._pending_mark.pop(symbol, None)
        if pending is not None:
            self.account.update_mark(symbol, _exact(pending))

    # -- settings --------------------------------------------------------------------------------------
    def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        """Set ``symbol``'s leverage (``ConfigurationError`` outside the range or with a position open)."""
        self.account.set_leverage(symbol, leverage)

    def set_margin_mode(self, symbol: str, mode: MarginMode) -> None:
        """Set ``symbol``'s margin mode (``OpenPositionsError`` with a position open)."""
        self.account.set_margin_mode(symbol, mode)

    def set_position_mode(self, symbol: str, mode: PositionMode) -> None:
        """Set ``symbol``'s position mode (``OpenPositionsError`` with a position open)."""
        self.account.set_position_mode(symbol, mode)

    # -- market events ---------------------------------------------------------------------------------
    def on_candle(
        self,
        symbol: str,
        time_ms: int,
        open_: float | Decimal,
        high: float | Decimal,
        low: float | Decimal,
        close: float | Decimal,
        *,
        funding: bool = True,
        lazy: bool = False,
    ) -> list[Liquidation] | None:
        """The candle events of ``symbol`` closing at ``time_ms`` (see the module docstring).

        Returns the liquidations made (possibly none) when the positions changed or were revalued,
        None when nothing did. ``lazy`` (backtests): a candle that only moves the mark of isolated
        positions (no liquidation reached, no funding due, no cross position) keeps the mark as
        given and values it exactly only when it is next needed (an order, a fill, a read of the
        positions or balances, a funding or liquidation event), and returns None.
        """
        if lazy and self.skip_lazy_candle(symbol, time_ms, high, low, close):
            return None
        overdue = self._overdue_cross_checks(time_ms) if self._cross_due else None
        previous = self._last_close.get(symbol)
        self._last_close[symbol] = time_ms
        marks, has_mark, index = self.mark_prices.get(symbol), True, -1
        if marks is not None:
            index = bisect.bisect_left(marks[0], time_ms)
            has_mark = index < len(marks[0]) and marks[0][index] == time_ms
            if has_mark:
                open_, high, low, close = marks[1][index], marks[2][index], marks[3][index], marks[4][index]
            elif index == len(marks[0]) or marks[5][index] >= time_ms:
                has_mark, index = True, -1  # no mark candle holds this close: the traded candle is the mark
        if symbol not in self._exposed:
            if has_mark:  # the mark a position opened later starts from (made exact only then)
                self._pending_mark[symbol] = close
            if lazy and marks is None and not self._cross_due:  # a waiting cross check runs at the next candle
                self._quiet[symbol] = (-math.inf, math.inf, _NEVER)
            return overdue
        account = self.account
        reached = False
        if has_mark:
            long_bound, short_bound = account.liquidation_bounds(symbol)
            reached = low <= long_bound or high >= short_bound
            self._pending_mark[symbol] = close
        data = self.funding_rates.get(symbol) if funding and previous is not None else None
        due = data is not None and time_ms >= self._next_funding_time(symbol, data, previous)  # type: ignore[arg-type]
        cross = self._cross
        if lazy and not (reached or due or cross):
            if funding and marks is None and (data is not None or symbol not in self.funding_rates):
                following = _NEVER if data is None else self._next_funding[symbol]
                self._quiet[symbol] = (long_bound, short_bound, following)
            return overdue
        done: list[Liquidation] = []
        if reached:
            o, h, lo, c = (_exact(v) for v in (open_, high, low, close))
            if index >= 0 and self._filled_at.get(symbol, _NEVER_FILLED) > marks[5][index]:  # type: ignore[index]  # (index >= 0: marks given)
                path: tuple[Decimal, ...] = (c,)  # changed inside the mark candle: its close only
            else:
                path = (o, lo, h, c) if o - lo <= h - o else (o, h, lo, c)
            done.extend(account.check_isolated_liquidation(symbol, path, time_ms))
            self._positions_changed()
        if symbol in self._exposed:
            self._flush_mark(symbol)
            position = account.get(symbol)
            mark = None if position is None else position.mark_price
            if due and mark is not None:
                for when, rate in data.between(previous, time_ms):  # type: ignore[union-attr]
                    self.funding_payments.extend(account.apply_funding(symbol, rate, mark, when))
                self._next_funding.pop(symbol, None)
        if cross:
            done.extend(self._check_cross(settle_currency(symbol), time_ms))
        self.liquidations.extend(done)
        return done if overdue is None else overdue + done

    def _check_cross(self, currency: str, time_ms: int) -> list[Liquidation]:
        """The cross check of ``currency`` at ``time_ms``, once every symbol with a cross position
        in it had its candle closing then (so each is at its mark of that time, whatever the order
        the symbols' candles came in); until then it waits (:meth:`_overdue_cross_checks`)."""
        waiting = [
            p.symbol
            for p in self.account.positions()
            if p.margin_mode is MarginMode.CROSS
            and self._last_close.get(p.symbol, -1) < time_ms
            and settle_currency(p.symbol) == currency
        ]
        if waiting:
            self._cross_due[currency] = time_ms
            self._quiet.clear()  # the next candle of any symbol runs it: none may take the shortcut
            return []
        self._cross_due.pop(currency, None)
        self.flush_marks()
        done = self.account.check_cross_liquidation(currency, time_ms)
        self._positions_changed()
        return done

    def _overdue_cross_checks(self, time_ms: int) -> list[Liquidation]:
        """Run the waiting cross checks of an earlier close (a symbol had no candle then)."""
        done: list[Liquidation] = []
        for currency, due in list(self._cross_due.items()):
            if due < time_ms:
                del self._cross_due[currency]
                self.flush_marks()
                done.extend(self.account.check_cross_liquidation(currency, due))
                self._positions_changed()
        self.liquidations.extend(done)
        return done

    def run_waiting_cross_checks(self) -> list[Liquidation]:
        """Run the cross checks still waiting when the replay ends (a symbol with a cross position
        had no candle at their close and no candle came after it)."""
        return self._overdue_cross_checks(_NEVER) if self._cross_due else []

    def skip_lazy_candle(
        self, symbol: str, time_ms: int, high: float | Decimal, low: float | Decimal, close: float | Decimal
    ) -> bool:
        """Take a lazy candle (``on_candle(..., lazy=True)``) that is known to only move the mark —
        no liquidation bound reached, no funding due, no cross position, no mark candles, as the
        full path found on an earlier candle with the same positions — and return True; False (nothing
        done) when :meth:`on_candle` must judge it."""
        quiet = self._quiet.get(symbol)
        if quiet is not None and low > quiet[0] and high < quiet[1] and time_ms < quiet[2]:
            self._last_close[symbol] = time_ms
            self._pending_mark[symbol] = close
            return True
        return False

    def _next_funding_time(self, symbol: str, data: Any, previous: int) -> int:
        """The first funding time after ``previous`` (cached until paid)."""
        cached = self._next_funding.get(symbol)
        if cached is None or cached <= previous:
            later = data.between(previous, 2**62)
            cached = self._next_funding[symbol] = later[0][0] if later else 2**62
        return cached


_NEVER = 2**62
_NEVER_FILLED = -(2**62)


def _exact(value: float | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else decimal_from_data_float(value)
