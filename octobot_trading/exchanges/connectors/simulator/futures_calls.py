"""The futures calls of the simulated connector and its futures-aware candle matcher.

:class:`FuturesCalls` is the part of :class:`~.simulated_connector.SimulatedConnector` that
answers the connector contract's futures calls (``fetch_positions``, ``set_leverage``,
``set_margin_mode``, ``set_position_mode``, ``fetch_funding_rate``) from its
:class:`~.futures_venue.FuturesVenue`, exposes the stable read API of backtests
(``funding_payments``, ``liquidations``, ``positions_snapshot()``) and pushes the account's
positions to the listener set with :meth:`FuturesCalls.set_position_update_listener`
(``await callback(positions, margin, liquidations)``: every open position, the accounted
``ot.Position`` itself stamped with the push time (the values ``fetch_positions`` reports, with
no round trip through ``ExchangePosition``), ``{settle currency: (wallet, available margin before open orders'
reservations)}`` and the liquidations just made) after each contract fill, funding payment,
liquidation and mark update. It uses only the host's public attributes (``futures``,
``markets``, ``account``, ``clock``, ``engine``).

:class:`FuturesCandleMatcher` is what a backtest driver matches candles with when the venue trades
contracts: the matching engine's walk, then the futures candle events of the symbol
(:meth:`FuturesVenue.on_candle`). A spot-only venue gives the driver its bare engine.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from octobot_trading.enums import MarginMode, MarketType, OrderStatus, PositionMode, TradeType
from octobot_trading.errors import ConfigurationError, OctoBotTradingError, UnknownSymbol
from octobot_trading.exchanges.connectors.simulator.futures_venue import (
    FuturesVenue,
    MarkCandles,
    derived_contract_spec,
    record_contract_fill,
)
from octobot_trading.exchanges.connectors.simulator.liquidation_path import liquidation_guard
from octobot_trading.exchanges.types import ExchangePosition, ExchangeTrade, FundingRate, MarketInfo
from octobot_trading.personal_data.positions import reduce_only
from octobot_trading.personal_data.positions.accounting import FundingPayment, FuturesAccount, Liquidation
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.contract_spec import ContractSpec, contract_kind, settle_currency
from octobot_trading.util.decimals import ZERO

if TYPE_CHECKING:
    from octobot_trading.clock import Clock
    from octobot_trading.exchanges.connectors.simulator.account import SimulatedAccount
    from octobot_trading.exchanges.connectors.simulator.matching import MatchingEngine
    from octobot_trading.exchanges.connectors.simulator.order_records import SimOrder
    from octobot_trading.util.fees import Fees

__all__ = ["FuturesCalls", "FuturesCandleMatcher", "FuturesSetup", "PositionUpdateListener"]

PositionUpdateListener = Callable[
    [list[Position], dict[str, tuple[Decimal, Decimal]], list[Liquidation]], Awaitable[None]
]


@dataclasses.dataclass(frozen=True)
class FuturesSetup:
    """What a build gives the simulated venue for futures (``ExchangeBuilder.with_contracts``).

    ``contracts``: ``{symbol: ContractSpec}`` (a spot symbol: ``ConfigurationError(field="contracts")``);
    ``funding_rates``: one ``FundingData`` or several (one per symbol); ``mark_prices``: a
    ``CandleData`` of mark-price candles (each symbol's shortest series is used).
    """

    contracts: Mapping[str, ContractSpec]
    funding_rates: Any = None
    mark_prices: Any = None

    def __post_init__(self) -> None:
        for symbol, spec in self.contracts.items():
            if not isinstance(spec, ContractSpec):
                raise ConfigurationError(f"{symbol}: expected a ContractSpec", field="contracts", symbol=symbol)
            try:
                spec.for_symbol(symbol)
            except ConfigurationError as exc:
                raise ConfigurationError(str(exc.message), field="contracts", symbol=symbol) from exc

    def apply(self, connector: FuturesCalls) -> None:
        """Enable futures on ``connector`` with these settings."""
        rates = self.funding_rates
        if rates is not None and hasattr(rates, "between"):
            rates = [rates]
        marks: dict[str, tuple[list[int], list[float], list[float], list[float], list[float], list[int]]] = {}
        if self.mark_prices is not None:
            for series in sorted(self.mark_prices, key=lambda s: -s.time_frame.ms):  # the shortest wins
                closes = (series.times + series.time_frame.ms).tolist()
                o, h, lo, c = (c.tolist() for c in (series.opens, series.highs, series.lows, series.closes))
                marks[series.symbol] = (closes, o, h, lo, c, series.times.tolist())
        connector.enable_futures(self.contracts, funding_rates={f.symbol: f for f in rates or ()}, mark_prices=marks)


def contract_market(market: MarketInfo, spec: ContractSpec) -> MarketInfo:
    """``market`` traded as a contract with ``spec``."""
    kind = contract_kind(market.symbol)
    market_type = MarketType.LINEAR if kind == "linear" else MarketType.INVERSE
    return dataclasses.replace(market, spec=spec, market_type=market_type, settle=settle_currency(market.symbol))


class FuturesCalls:
    """Futures calls of the simulated connector (see the module docstring)."""

    futures: FuturesVenue | None
    markets: dict[str, MarketInfo]
    account: SimulatedAccount
    clock: Clock
    engine: MatchingEngine
    fees: Fees
    name: str
    position_update_listener: PositionUpdateListener | None
    _orders: dict[str, SimOrder]
    _listener: Callable[[Any, list[Any]], Awaitable[None]] | None

    # -- setup ------------------------------------------------------------------------------------------
    def enable_futures(
        self,
        contracts: Mapping[str, ContractSpec] | None = None,
        *,
        funding_rates: Mapping[str, Any] | None = None,
        mark_prices: MarkCandles | None = None,
    ) -> FuturesVenue:
        """Trade ``contracts`` (``{symbol: ContractSpec}``) as futures; return the futures venue.

        A spot symbol raises ``ConfigurationError(field="contracts")``. The settle currencies'
        free balances move from the spot account to the futures wallets. Symbols listed later
        (paper trading's markets) are added when first traded, with a spec derived from their
        market (:func:`~.futures_venue.derived_contract_spec`) unless one was given here.
        """
        specs: dict[str, ContractSpec] = {}
        for symbol, spec in (contracts or {}).items():
            if not isinstance(spec, ContractSpec):
                raise ConfigurationError(f"{symbol}: expected a ContractSpec", field="contracts", symbol=symbol)
            try:
                specs[symbol] = spec.for_symbol(symbol)
            except ConfigurationError as exc:
                raise ConfigurationError(str(exc.message), field="contracts", symbol=symbol) from exc
        if self.futures is None:
            self.futures = FuturesVenue({}, {}, mark_prices=mark_prices)
            self.engine.path_guard = functools.partial(liquidation_guard, self)
        venue = self.futures
        venue.forget_candle_shortcuts()
        venue.given_specs.update(specs)
        venue.mark_prices.update(mark_prices or {})
        for symbol, data in (funding_rates or {}).items():
            contract_kind(symbol)
            venue.funding_rates[symbol] = data
        for symbol in list(specs) + [s for s in self.markets if ":" in s and s not in specs]:
            if symbol in self.markets:
                self.contract_venue(symbol)
        return venue

    def contract_venue(self, symbol: str) -> FuturesVenue:
        """The futures venue trading ``symbol`` (added on first use); ``UnknownSymbol`` when not listed."""
        venue = self.futures
        if venue is not None and symbol in venue.specs:
            return venue
        market = self.markets.get(symbol)
        if market is None:
            raise UnknownSymbol(f"{symbol} is not listed on the simulated exchange", exchange=self.name, symbol=symbol)
        contract_kind(symbol)  # ConfigurationError for a spot symbol
        if venue is None:
            venue = self.futures = FuturesVenue({}, {})
            self.engine.path_guard = functools.partial(liquidation_guard, self)
        spec = venue.given_specs.get(symbol) or derived_contract_spec(market.spec).for_symbol(symbol)
        currency = settle_currency(symbol)
        wallet = ZERO
        if currency not in venue.account.wallets:
            wallet = self.account.free(currency)
            self.account.deposit(currency, -wallet)
        venue.add_contract(symbol, spec, wallet)
        self.markets[symbol] = contract_market(market, venue.specs[symbol])
        return venue

    def candle_matcher(self) -> Any:
        """What a backtest driver matches candles with: the bare engine, or with contracts a
        :class:`FuturesCandleMatcher` adding the futures candle events."""
        return self.engine if self.futures is None else FuturesCandleMatcher(self)

    # -- stable read API --------------------------------------------------------------------------------
    @property
    def futures_account(self) -> FuturesAccount | None:
        """The futures accounting of the venue (None on a spot-only venue)."""
        return None if self.futures is None else self.futures.account

    @property
    def funding_payments(self) -> list[FundingPayment]:
        """Every funding payment so far, in order (empty on a spot-only venue)."""
        return [] if self.futures is None else self.futures.funding_payments

    @property
    def liquidations(self) -> list[Liquidation]:
        """Every liquidation so far, in order (empty on a spot-only venue)."""
        return [] if self.futures is None else self.futures.liquidations

    def positions_snapshot(self) -> list[Position]:
        """The open positions (``ot.Position``, every field set)."""
        return [] if self.futures is None else self.futures.positions_snapshot()

    # -- connector contract -----------------------------------------------------------------------------
    async def fetch_positions(self, symbols: Sequence[str] | None = None) -> list[ExchangePosition]:
        """Open positions (of ``symbols`` when given); ``UnknownSymbol`` for a symbol not listed."""
        if symbols is not None:
            for symbol in symbols:
                if symbol not in self.markets:
                    raise UnknownSymbol(
                        f"{symbol} is not listed on the simulated exchange", exchange=self.name, symbol=symbol
                    )
        return [] if self.futures is None else self.futures.exchange_positions(symbols, self.clock.now_ms())

    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        """Set ``symbol``'s leverage (``ConfigurationError`` outside the range; ``OpenPositionsError``)."""
        self.contract_venue(symbol).set_leverage(symbol, leverage)

    async def set_margin_mode(self, symbol: str, margin_mode: MarginMode) -> None:
        """Set ``symbol``'s margin mode (``OpenPositionsError`` with a position open)."""
        self.contract_venue(symbol).set_margin_mode(symbol, margin_mode)

    async def set_position_mode(self, symbol: str, position_mode: PositionMode) -> None:
        """Set ``symbol``'s position mode (``OpenPositionsError`` with a position open)."""
        self.contract_venue(symbol).set_position_mode(symbol, position_mode)

    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        """The last funding rate of the backtest's funding data (0 without)."""
        return self.contract_venue(symbol).funding_rate(symbol, self.clock.now_ms())

    def contract_fill(
        self,
        record: SimOrder,
        trade_id: str,
        amount: Decimal,
        price: Decimal,
        role: TradeType,
        now: int,
        *,
        refuse: bool = False,
    ) -> ExchangeTrade | None:
        """Account a contract order's fill; return its trade. A fill the futures venue refuses (a
        ``reduce_only`` order whose position closed, margin lost meanwhile) cancels the order
        instead (returns None), or with ``refuse`` raises the error, nothing changed."""
        resting, venue = record.resting, self.futures
        assert venue is not None
        reduce_terms = venue.order_terms.get(record.id)
        cut = ZERO
        if not refuse and reduce_terms is not None and reduce_terms[0]:
            cut = reduce_only.fill_excess(venue.account.get(resting.symbol, reduce_terms[1]), resting.side, amount)
        if cut:  # a resting reduce-only order larger than its shrunk position: fill what it holds
            resting.filled -= cut
            amount -= cut
        try:
            result = venue.fill(
                trade_id, record.id, resting.symbol, resting.side, amount, price, self.fees.rate(role), now
            )
        except OctoBotTradingError:
            if refuse:
                raise
            resting.filled -= amount
            self.engine.remove(record.id, resting.symbol)
            self.cancel_removed_contract(record, now)
            return None
        if cut:  # ... and cancel the rest
            self.engine.remove(record.id, resting.symbol)
            venue.release(record.id)
            trade = record_contract_fill(record, trade_id, result, role, now)
            record.status = OrderStatus.CANCELED
            record.touch()
            return trade
        if resting.remaining > 0:
            terms = venue.order_terms[record.id]
            try:  # the rest of a partly filled order reserves again (not at all when margin fell short)
                venue.reserve(
                    record.id, resting.symbol, resting.side, resting.remaining, price, self.fees.taker, *terms
                )
            except OctoBotTradingError:
                venue.release(record.id, done=False)
        else:
            venue.release(record.id)
        return record_contract_fill(record, trade_id, result, role, now)

    def set_position_update_listener(self, callback: PositionUpdateListener | None) -> None:
        """Push the positions after each change with ``await callback(positions, margin, liquidations)``."""
        self.position_update_listener = callback

    def position_refresher(self, symbol: str) -> list[Position] | None:
        """``symbol``'s positions when a mark the venue kept lazily moved them since the last push
        (``PositionsManager.refresh``: a read shows the current mark), else None."""
        venue = self.futures
        if venue is None or symbol not in venue.pending_marks:  # nothing moved: the common case
            return None
        return venue.refreshed_positions(symbol, self.clock.now_ms())

    async def push_positions(self, liquidations: list[Liquidation]) -> None:
        """Tell the listener the current positions, margin and ``liquidations``; the open orders of
        liquidated positions are canceled first (:meth:`_cancel_liquidated_orders`) and reported
        to the order listener after the positions."""
        venue, listener = self.futures, self.position_update_listener
        canceled = self._cancel_liquidated_orders(liquidations) if liquidations else ()
        if venue is not None and listener is not None:
            positions, margin = venue.pushed_state(self.clock.now_ms())
            await listener(positions, margin, liquidations)
        for record in canceled:
            if self._listener is not None:
                await self._listener(record.view(), [])

    def _cancel_liquidated_orders(self, liquidations: list[Liquidation]) -> list[SimOrder]:
        """Cancel the venue's open orders of the liquidated positions, as venues do: every open
        order of the symbol in one-way mode, those of the liquidated side in hedge mode (the other
        side's position is not touched); their margin is released."""
        venue = self.futures
        if venue is None:
            return []
        hit = {(liquidation.symbol, liquidation.side) for liquidation in liquidations}
        symbols = {symbol for symbol, _ in hit}
        now, canceled = self.clock.now_ms(), []
        for order_id, (_, position_side) in list(venue.order_terms.items()):
            record = self._orders.get(order_id)
            if record is None or record.resting.symbol not in symbols:
                continue
            symbol = record.resting.symbol
            if position_side is not None and (symbol, position_side) not in hit:
                continue
            if self.engine.remove(order_id, symbol) is None:
                continue
            self.cancel_removed_contract(record, now)
            canceled.append(record)
        return canceled

    def cancel_removed_contract(self, record: SimOrder, now: int) -> None:
        """Cancel a contract order just taken out of the engine (a cancel, a liquidation, a fill the
        venue refused): its margin released and its terms forgotten at the futures venue, nothing
        reserved, CANCELED at ``now``."""
        assert self.futures is not None
        self.futures.release(record.id)
        record.reserved = ZERO
        record.status, record.updated = OrderStatus.CANCELED, now
        record.touch()

    async def futures_candle(
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
    ) -> None:
        """The futures candle events of ``symbol``; the positions are pushed when they changed or
        were revalued (``lazy``: see :meth:`FuturesVenue.on_candle`)."""
        venue = self.futures
        if venue is None or symbol not in venue.specs:
            return
        done = venue.on_candle(symbol, time_ms, open_, high, low, close, funding=funding, lazy=lazy)
        if done is not None:
            await self.push_positions(done)


class FuturesCandleMatcher:
    """The engine's candle matching followed by the futures candle events (see the module docstring)."""

    def __init__(self, connector: FuturesCalls) -> None:
        self.connector = connector
        self.engine = connector.engine
        # the engine's on_candle taken apart (MatchingEngine.replay_parts: its dicts for life)
        self._last_close, self._books, self._walk = connector.engine.replay_parts()
        venue = connector.futures  # (a matcher is made for a venue trading contracts: kept for life)
        assert venue is not None
        self._venue = venue
        # the venue's dicts a quiet candle reads and writes (FuturesVenue.skip_lazy_candle; the same
        # objects for the venue's life) and its contract specs
        self._skips, self._closes, self._marks, self._specs = (
            venue.lazy_skips,
            venue.last_closes,
            venue.pending_marks,
            venue.specs,
        )

    @property
    def partial_fill_fraction(self) -> Decimal | None:
        """The engine's partial-fill setting (the driver passes volumes when set)."""
        return self.engine.partial_fill_fraction

    def end_close(self, close_ms: int) -> Awaitable[None] | None:
        """Every candle closing at ``close_ms`` was replayed: run the cross checks still waiting
        for a symbol without a candle at that close (before anything of a later close: its fills,
        evaluations, samples) and push what they did; None when nothing waits."""
        venue = self.connector.futures
        done = venue.run_waiting_cross_checks() if venue is not None else None
        return self.connector.push_positions(done) if done else None

    async def end_replay(self) -> None:
        """The replay is over: run the cross checks still waiting for a candle and push what they did."""
        pending = self.end_close(self.connector.clock.now_ms())
        if pending is not None:
            await pending

    def on_candle(
        self, symbol: str, time_ms: int, open: float, high: float, low: float, close: float, volume: float | None = None
    ) -> Awaitable[None] | None:
        """Match resting orders, then the futures events of contract symbols with positions."""
        self._last_close[symbol] = close  # MatchingEngine.on_candle, inlined (replay_parts)
        book = self._books.get(symbol)
        if book is None or (low > book.lo and high < book.hi):  # no fill: the candle events run here
            quiet = self._skips.get(symbol)  # FuturesVenue.skip_lazy_candle, inlined (a contract's)
            if quiet is not None and low > quiet[0] and high < quiet[1] and time_ms < quiet[2]:
                self._closes[symbol] = time_ms
                self._marks[symbol] = close
                return None
            if symbol not in self._specs:
                return None
            venue = self._venue  # a push only when something changed
            done = venue.on_candle(symbol, time_ms, open, high, low, close, lazy=True)
            return None if done is None else self.connector.push_positions(done)
        walk = self._walk(symbol, book, time_ms, open, high, low, close, volume, None)
        if symbol not in self._specs:
            return walk
        return self._events(walk, symbol, time_ms, open, high, low, close)

    async def _events(
        self,
        walk: Awaitable[None],
        symbol: str,
        time_ms: int,
        open_: float,
        high: float,
        low: float,
        close: float,
    ) -> None:
        await walk  # a candle with fills: its events run exactly and the positions are pushed
        await self.connector.futures_candle(symbol, time_ms, open_, high, low, close)
