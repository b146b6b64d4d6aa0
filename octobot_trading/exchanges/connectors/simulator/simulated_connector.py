"""The simulated venue: an ``ExchangeConnector`` whose orders go to the matching engine.

Used for paper trading (real market data from ``market_data``, another connector) and for
backtests (the driver feeds candles to :attr:`SimulatedConnector.engine`). It enforces the
simulated-fill rules of docs/trading.md: amounts rounded down to the step, prices to the tick (buys down,
sells up, triggers to the nearest tick), orders under a minimum refused with ``InvalidOrder``
before anything changes, market orders filled at once at the last price (plus optional
slippage), fees in the received currency at the taker rate for market / triggered stop fills
and the maker rate for limit fills. Order changes and fills are reported to the listener set
with :meth:`set_order_update_listener` (``await callback(ExchangeOrder, [ExchangeTrade])``).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.enums import MarketType, OrderSide, OrderStatus, OrderType, PositionSide, TimeFrame, TradeType
from octobot_trading.errors import InvalidOrder, NotSupported, OrderNotFound, UnknownSymbol
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.connectors.simulator.account import SimulatedAccount
from octobot_trading.exchanges.connectors.simulator.futures_calls import FuturesCalls, PositionUpdateListener
from octobot_trading.exchanges.connectors.simulator.futures_venue import FuturesVenue
from octobot_trading.exchanges.connectors.simulator.matching import MatchingEngine, RestingOrder
from octobot_trading.exchanges.connectors.simulator.order_records import (
    SimOrder,
    closed_order_views,
    first_free_id,
    forget_done_orders,
    funds_needed,
    matching_trades,
    optional_decimal,
    pass_on_reservation,
    settle_fill,
)
from octobot_trading.exchanges.connectors.simulator.order_rules import adapt_order
from octobot_trading.exchanges.connectors.simulator.transfers import SimulatedTransfers, TransferCalls
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    ExchangeOrder,
    ExchangeTrade,
    MarketInfo,
    OrderBook,
    PublicTrade,
    Ticker,
)
from octobot_trading.util.decimals import ONE, ZERO, decimal_from_data_float, to_decimal
from octobot_trading.util.fees import Fees
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.util.records import record_builder
from octobot_trading.util.reservation import reserve_price
from octobot_trading.util.symbols import parse_symbol

__all__ = ["OrderUpdateListener", "PriceSource", "SimulatedConnector"]

OrderUpdateListener = Callable[[ExchangeOrder, list[ExchangeTrade]], Awaitable[None]]
PriceSource = Callable[[str], "Decimal | None"]
# enum members as module constants: attribute access on an Enum class is slow on the order path
_MARKET = OrderType.MARKET
_BUY = OrderSide.BUY
_TAKER = TradeType.TAKER
_OPEN, _PARTIALLY_FILLED = OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED
_TRAILING = (OrderType.TRAILING_STOP, OrderType.TRAILING_STOP_LIMIT)
_new = object.__new__  # object.__new__(C) then __init__: C(...) without the class call's packing
_new_trade = record_builder(ExchangeTrade)  # ExchangeTrade(...) without the class call (once per fill)


class SimulatedConnector(TransferCalls, FuturesCalls, ExchangeConnector):
    """A simulated exchange account with a matching engine.

    Parameters
    ----------
    clock:
        Time of orders and fills.
    markets:
        ``{symbol: MarketSpec | MarketInfo}``; symbols not listed are refused with ``UnknownSymbol``.
        None with ``market_data``: the markets of that venue, on ``load_markets``.
    starting_balances:
        The account's initial free balances.
    fees:
        Maker / taker rates (default 0.1 % / 0.1 %).
    price_source:
        ``price_source(symbol) -> Decimal | None``: the last price for market orders and
        tickers. Default: the close of the last candle given to the engine.
    market_data:
        For paper trading, a real connector answering the public market-data calls.
    slippage_percent:
        Market orders fill this % worse than the last price (default 0).
    partial_fill_fraction:
        None: complete fills. Otherwise resting orders fill at most this fraction of each candle's volume.
    contracts:
        ``{symbol: ContractSpec}``: contract symbols accounted as futures (see
        :meth:`~.futures_calls.FuturesCalls.enable_futures`; docs/futures.md).
    """

    name = "simulator"
    shares_reservations = True  # params["shares_funds_with"]: same-side OCO members share funds

    def __init__(
        self,
        clock: Clock,
        *,
        markets: Mapping[str, MarketSpec | MarketInfo] | None = None,
        starting_balances: Mapping[str, Decimal | int | str] | None = None,
        fees: Fees | None = None,
        price_source: PriceSource | None = None,
        market_data: ExchangeConnector | None = None,
        slippage_percent: Decimal | int | str = 0,
        partial_fill_fraction: Decimal | int | str | None = None,
        market_type: MarketType = MarketType.SPOT,
        contracts: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(clock)
        self.fees = fees or Fees()
        self.markets: dict[str, MarketInfo] = {}
        for symbol, spec in (markets or {}).items():
            if isinstance(spec, MarketInfo):
                self.markets[symbol] = spec
            else:
                parsed = parse_symbol(symbol)
                self.markets[symbol] = MarketInfo(
                    symbol,
                    parsed.base,
                    parsed.quote,
                    market_type,
                    spec,
                    maker_fee=self.fees.maker,
                    taker_fee=self.fees.taker,
                )
        self.account = SimulatedAccount(starting_balances)
        self.price_source = price_source
        self.market_data = market_data
        self.slippage = to_decimal(slippage_percent, name="slippage_percent") / 100
        fraction = None if partial_fill_fraction is None else to_decimal(partial_fill_fraction, name="fraction")
        self.engine = MatchingEngine(
            self._on_engine_fill,
            partial_fill_fraction=fraction,
            amount_steps={s: m.spec.amount_step for s, m in self.markets.items()},
        )
        self._orders: dict[str, SimOrder] = {}
        self._by_client_id: dict[str, SimOrder] = {}
        self._trades: list[ExchangeTrade] = []
        self._listener: OrderUpdateListener | None = None
        self._last_decimal: dict[str, tuple[float, Decimal]] = {}
        self._order_ids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        #: Deposits and withdrawals of the account (see :class:`SimulatedTransfers`).
        self.transfers = SimulatedTransfers(self._current_account, clock, self.name)
        #: Contract symbols' accounting (None until a contract symbol is traded; see FuturesCalls).
        self.futures: FuturesVenue | None = None
        self.position_update_listener: PositionUpdateListener | None = None
        if contracts:
            self.enable_futures(contracts)

    def _current_account(self) -> SimulatedAccount:
        return self.account

    # -- restart recovery (paper trading) --------------------------------------------------------------
    def restore_account(self, totals: Mapping[str, Decimal], *, known_ids: Iterable[str | None] = ()) -> None:
        """Start again from a stored state: the account holds ``totals`` (nothing locked), and the
        venue's order and trade ids continue after the largest one in ``known_ids`` (the stored
        orders' exchange ids and fills' ids), so a new id never collides with a stored one.

        The stored open orders are then placed again with :meth:`create_order`.
        """
        self.account = SimulatedAccount(totals)
        start = first_free_id(known_ids)
        self._order_ids = itertools.count(start)
        self._trade_ids = itertools.count(start)

    # -- listener / feeding ----------------------------------------------------------------------
    def set_order_update_listener(self, callback: OrderUpdateListener | None) -> None:
        """Report order changes and fills with ``await callback(ExchangeOrder, [ExchangeTrade])``."""
        self._listener = callback

    @property
    def market_order_slippage(self) -> Decimal:
        """Slippage applied to market orders, as a fraction."""
        return self.slippage

    async def on_price(self, symbol: str, price: Decimal) -> None:
        """Paper trading: match resting orders against one traded price (a flat candle)."""
        # Decimals go through the engine as they are (exact comparisons with the float thresholds)
        pending = self.engine.on_candle(symbol, self.clock.now_ms(), price, price, price, price)  # type: ignore[arg-type]
        if pending is not None:
            await pending
        if self.futures is not None:
            await self.futures_candle(symbol, self.clock.now_ms(), price, price, price, price, funding=False)

    async def on_closed_candle(
        self,
        symbol: str,
        open_ms: int,
        close_ms: int,
        open: float | Decimal,
        high: float | Decimal,
        low: float | Decimal,
        close: float | Decimal,
    ) -> None:
        """Paper trading: match the orders resting since the candle opened against its open / high /
        low / close path, as a backtest does (fills at ``close_ms``). Orders placed after the open
        are left out: the candle's earlier prices were never offered to them."""
        cutoff = 0
        for resting in self.engine.orders(symbol):
            record = self._orders.get(resting.id)
            if record is not None and record.timestamp <= open_ms and resting.seq > cutoff:
                cutoff = resting.seq
        if cutoff:
            pending = self.engine.on_candle(symbol, close_ms, open, high, low, close, max_seq=cutoff)  # type: ignore[arg-type]
            if pending is not None:
                await pending
        if self.futures is not None:
            await self.futures_candle(symbol, close_ms, open, high, low, close, funding=False)

    def last_price(self, symbol: str) -> Decimal | None:
        """The price used for market orders: the price source's, else the last candle close."""
        if self.price_source is not None:
            price = self.price_source(symbol)
            if price is not None:
                return price
        last = self.engine.last_close.get(symbol)
        if last is None:
            return None
        if isinstance(last, Decimal):
            return last
        cached = self._last_decimal.get(symbol)
        if cached is not None and cached[0] == last:
            return cached[1]
        value = decimal_from_data_float(last)
        self._last_decimal[symbol] = (last, value)
        return value

    # -- markets / public data ------------------------------------------------------------------------
    def _market(self, symbol: str) -> MarketInfo:
        try:
            return self.markets[symbol]
        except KeyError:
            raise UnknownSymbol(
                f"{symbol} is not listed on the simulated exchange", exchange=self.name, symbol=symbol
            ) from None

    async def load_markets(self, reload: bool = False) -> Mapping[str, MarketInfo]:
        """The configured markets (paper trading without markets: the market-data venue's)."""
        if self.market_data is not None and (reload or not self.markets):
            self.markets.update(await self.market_data.load_markets(reload))
            self.engine.amount_steps.update({s: m.spec.amount_step for s, m in self.markets.items()})
            if self.futures is not None:  # contracts given a spec before the markets were known
                for symbol in [s for s in self.futures.given_specs if s in self.markets]:
                    self.contract_venue(symbol)
        return dict(self.markets)

    async def close(self) -> None:
        """Close the market-data connector, if any (idempotent)."""
        closer = getattr(self.market_data, "close", None)
        if closer is not None:
            await closer()

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """The market-data connector's ticker, else one built from the last price."""
        if self.market_data is not None:
            return await self.market_data.fetch_ticker(symbol)
        self._market(symbol)
        return Ticker(symbol=symbol, timestamp=self.clock.now_ms(), last=self.last_price(symbol))

    async def fetch_ohlcv(
        self, symbol: str, time_frame: TimeFrame | str, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Delegate to the market-data connector (paper trading)."""
        if self.market_data is None:
            raise NotSupported("the simulator has no candle source", exchange=self.name)
        return await self.market_data.fetch_ohlcv(symbol, time_frame, since, limit)

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Delegate to the market-data connector (paper trading)."""
        if self.market_data is None:
            raise NotSupported("the simulator has no order book", exchange=self.name)
        return await self.market_data.fetch_order_book(symbol, limit)

    async def fetch_recent_trades(self, symbol: str, limit: int | None = None) -> list[PublicTrade]:
        """Delegate to the market-data connector (paper trading)."""
        if self.market_data is None:
            raise NotSupported("the simulator has no public trades", exchange=self.name)
        return await self.market_data.fetch_recent_trades(symbol, limit)

    # -- account -------------------------------------------------------------------------------------------
    async def fetch_balance(self) -> dict[str, Balance]:
        """The simulated account's balances (settle currencies: the futures wallets, docs/futures.md)."""
        balances = self.account.balances()
        if self.futures is not None:
            balances.update(self.futures.balances())
        return balances

    def _reserve_price(self, resting: RestingOrder, last: Decimal | None = None) -> Decimal | None:
        """The unit price a buy locks its cost at (a market order: ``last`` plus the slippage)."""

        def market_price() -> Decimal | None:
            price = self.last_price(resting.symbol) if last is None else last
            return None if price is None else price * (ONE + self.slippage)

        return reserve_price(
            resting.order_type, resting.price, resting.trigger, resting.limit_offset, market_price=market_price
        )

    async def create_order(
        self,
        order_type: OrderType,
        side: OrderSide,
        symbol: str,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        client_order_id: str,
        trigger_price: Decimal | None = None,
        params: dict[str, Any] | None = None,
    ) -> ExchangeOrder:
        """Validate, lock funds, then fill at once (market) or rest in the engine."""
        if type(order_type) is not OrderType:
            order_type = OrderType(order_type)
        if type(side) is not OrderSide:
            side = OrderSide(side)
        market = self.markets.get(symbol) or self._market(symbol)  # (the lookup inline: once per order)
        params = params or {}
        if client_order_id in self._by_client_id:
            raise InvalidOrder(
                f"duplicate client order id {client_order_id}",
                limit="client_order_id",
                symbol=symbol,
                exchange=self.name,
            )
        if order_type is _MARKET:
            price = None
        last = self.last_price(symbol)
        reduce_only = bool(params and params.get("reduceOnly"))
        qty, px, trig = adapt_order(
            market, order_type, side, amount, price, trigger_price, last, self.name, reduce_only
        )
        if params:
            resting = RestingOrder(
                f"sim-{next(self._order_ids)}",
                client_order_id,
                symbol,
                order_type,
                side,
                qty,
                px,
                trig,
                trailing_percent=optional_decimal(params.get("trailing_percent")),
                trailing_offset=optional_decimal(params.get("trailing_offset")),
                limit_offset=optional_decimal(params.get("limit_offset")),
            )
        else:  # the common case: no extra parameter to parse (built without the class call's packing)
            resting = _new(RestingOrder)
            RestingOrder.__init__(
                resting, f"sim-{next(self._order_ids)}", client_order_id, symbol, order_type, side, qty, px, trig
            )
        if order_type in _TRAILING:
            if resting.trailing_percent is None and resting.trailing_offset is None:
                raise InvalidOrder(
                    "a trailing order needs trailing_percent or trailing_offset",
                    limit="trailing",
                    symbol=symbol,
                    exchange=self.name,
                )
            resting.best = last
            resting.tick = market.spec.price_tick  # a moved stop rounds sell: down, buy: up
            if resting.trigger is None and resting.best is not None:
                resting.trigger = resting.trail_stop(resting.best)
        if order_type is _MARKET:  # a buy's cost is locked at the price it fills at: last plus the slippage
            reserve_price = None if last is None else last * (ONE + self.slippage)
        else:
            reserve_price = self._reserve_price(resting, last)
        if reserve_price is None:
            raise InvalidOrder(
                f"no price known for {symbol} to value the order", limit="price", symbol=symbol, exchange=self.name
            )
        currency: str | None = market.quote if side is _BUY else market.base
        to_lock = qty * reserve_price if side is _BUY else qty
        owner = self._orders.get(params["shares_funds_with"] or "") if "shares_funds_with" in params else None
        if owner is not None and (
            owner.status not in (_OPEN, _PARTIALLY_FILLED) or owner.reserved_currency != currency
        ):
            owner = None
        if owner is not None:
            to_lock = max(ZERO, to_lock - owner.reserved)
        if market.settle is not None:  # a contract: margin reserved by the futures venue (no spot funds)
            currency, to_lock = None, ZERO
            venue = self.contract_venue(symbol)
            if order_type is _MARKET:  # its fill checks it at once, before anything is recorded
                return await self._contract_market_order(venue, resting, client_order_id, last, _contract_terms(params))
            terms = _contract_terms(params)
            venue.reserve(
                resting.id, symbol, side, qty, reserve_price, self.fees.taker, *terms, conditional=trig is not None
            )
        else:
            self.account.lock(currency, to_lock)  # type: ignore[arg-type]
        record = _new(SimOrder)
        SimOrder.__init__(record, resting, self.clock.now_ms())
        record.reserved, record.reserved_currency, record.owner = to_lock, currency, owner
        record.reserve_unit = reserve_price
        if owner is not None:
            owner.sharers = [*(owner.sharers or ()), record]
        self._orders[record.id] = record
        self._by_client_id[client_order_id] = record
        if order_type is _MARKET:
            assert last is not None
            fill_price = reserve_price if side is _BUY else last * (ONE - self.slippage)
            resting.filled = qty
            await self._on_engine_fill(resting, qty, fill_price, _TAKER, record.timestamp)
            view = record.view()
            record.touch()  # a done order's view is rebuilt when fetched: not kept per order
            return view
        self.engine.add(resting)
        return record.view()

    async def _contract_market_order(
        self,
        venue: FuturesVenue,
        resting: RestingOrder,
        client_order_id: str,
        last: Decimal | None,
        terms: tuple[bool, PositionSide | None],
    ) -> ExchangeOrder:
        """Fill a contract market order at once; a refused fill raises with nothing recorded."""
        assert last is not None
        record, now = SimOrder(resting, self.clock.now_ms()), self.clock.now_ms()
        price = last * (ONE + self.slippage) if resting.side is _BUY else last * (ONE - self.slippage)
        venue.order_terms[record.id] = terms
        resting.filled = resting.amount
        trade_id = f"sim-t-{next(self._trade_ids)}"
        try:
            trade = self.contract_fill(record, trade_id, resting.amount, price, _TAKER, now, refuse=True)
        except BaseException:
            resting.filled = ZERO
            venue.order_terms.pop(record.id, None)
            raise
        assert trade is not None
        self._orders[record.id] = record
        self._by_client_id[client_order_id] = record
        self._trades.append(trade)
        if self._listener is not None:
            await self._listener(record.view(), [trade])
        await self.push_positions([])
        return record.view()

    async def _on_engine_fill(
        self, resting: RestingOrder, amount: Decimal, price: Decimal, role: TradeType, time_ms: int
    ) -> None:
        record = self._orders[resting.id]
        market = self.markets[resting.symbol]
        now = self.clock.now_ms()
        if record.reserved_currency is None and self.futures is not None:  # a contract (FuturesCalls)
            contract_trade = self.contract_fill(record, f"sim-t-{next(self._trade_ids)}", amount, price, role, now)
            if contract_trade is not None:
                self._trades.append(contract_trade)
            if self._listener is not None:
                await self._listener(record.view(), [] if contract_trade is None else [contract_trade])
            if contract_trade is not None:
                await self.push_positions([])
            return
        fee, received = settle_fill(record, market, self.account, self.fees.rate(role), amount, price, now)
        trade = _new_trade(
            id=f"sim-t-{next(self._trade_ids)}",
            order_id=record.id,
            symbol=resting.symbol,
            side=resting.side,
            price=price,
            amount=amount,
            fee=fee,
            fee_currency=received,
            timestamp=now,
            taker_or_maker=role,
        )
        self._trades.append(trade)
        if self._listener is not None:
            await self._listener(record.view(), [trade])

    # -- order management ---------------------------------------------------------------------------------
    def _record(self, order_id: str, symbol: str | None = None) -> SimOrder:
        record = self._orders.get(order_id)
        if record is None or (symbol is not None and record.resting.symbol != symbol):
            raise OrderNotFound(f"order {order_id} not found", exchange=self.name, symbol=symbol, order_id=order_id)
        return record

    async def fetch_order(self, order_id: str, symbol: str) -> ExchangeOrder:
        """One order by exchange id."""
        return self._record(order_id, symbol).view()

    async def fetch_order_by_client_id(self, client_order_id: str, symbol: str) -> ExchangeOrder | None:
        """The order placed with ``client_order_id``, or None."""
        record = self._by_client_id.get(client_order_id)
        return None if record is None or record.resting.symbol != symbol else record.view()

    async def cancel_order(self, order_id: str, symbol: str) -> ExchangeOrder:
        """Cancel a resting order and unlock what it still reserves."""
        record = self._record(order_id, symbol)
        if self.engine.remove(order_id, symbol) is None:
            raise OrderNotFound(f"order {order_id} is not open", exchange=self.name, symbol=symbol, order_id=order_id)
        if record.reserved_currency is None and self.futures is not None:  # a contract (FuturesCalls)
            self.cancel_removed_contract(record, self.clock.now_ms())
            return record.view()
        if record.reserved_currency is not None:
            pass_on_reservation(record)  # (an open order may share its locked funds)
            self.account.unlock(record.reserved_currency, record.reserved)
        record.reserved = ZERO
        record.status = OrderStatus.CANCELED
        record.updated = self.clock.now_ms()
        record.touch()
        return record.view()

    async def edit_order(
        self,
        order_id: str,
        symbol: str,
        *,
        amount: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> ExchangeOrder:
        """Change a resting order's amount, limit price and/or trigger, re-locking funds (checked first)."""
        record = self._record(order_id, symbol)
        resting = self.engine.get(order_id, symbol)
        if resting is None:
            raise OrderNotFound(f"order {order_id} is not open", exchange=self.name, symbol=symbol, order_id=order_id)
        market = self._market(symbol)
        new_amount = resting.amount if amount is None else market.spec.adapt_quantity(amount)
        if new_amount <= resting.filled:
            raise InvalidOrder("the new amount must exceed the filled amount", limit="amount", symbol=symbol)
        new_price = None if price is None else market.spec.adapt_price(price, resting.side)
        new_trigger = None if trigger_price is None else market.spec.adapt_price(trigger_price, rounding="nearest")
        market.spec.check_limits(new_amount - resting.filled, new_price or self._reserve_price(resting))
        old = (resting.amount, resting.price, resting.trigger)
        self.engine.resize(resting, new_amount, new_price, new_trigger)
        needed = funds_needed(record, self._reserve_price)
        delta = needed - record.reserved
        try:
            if delta > 0 and record.reserved_currency is not None:
                self.account.lock(record.reserved_currency, delta)
            elif record.reserved_currency is None and self.futures is not None:
                needed = delta = ZERO
                unit = self._reserve_price(resting) or ZERO
                terms = self.futures.order_terms.get(order_id, (False, None))
                self.futures.reserve(order_id, symbol, resting.side, resting.remaining, unit, self.fees.taker, *terms)
        except Exception:
            self.engine.resize(resting, old[0], None)
            resting.price, resting.trigger = old[1], old[2]
            raise
        if delta < 0 and record.reserved_currency is not None:
            self.account.unlock(record.reserved_currency, -delta)
        record.reserved = needed
        record.updated = self.clock.now_ms()
        record.touch()
        return record.view()

    async def fetch_open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Resting orders."""
        return [self._orders[o.id].view() for o in self.engine.orders(symbol)]

    async def fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeOrder]:
        """Filled and canceled orders."""
        return closed_order_views(self._orders.values(), symbol, since, limit)

    def forget_closed_orders(self) -> int:
        """Drop the records of orders that are done (filled, canceled) and the account's fills history.

        For long backtests run with ``run_backtest(..., keep_orders=False)``, which keep no
        per-order object once an order is done: afterwards ``fetch_order``,
        ``fetch_closed_orders`` and ``fetch_my_trades`` no longer know them. Resting and partly
        filled orders are kept. Returns the number of order records dropped.
        """
        dropped = forget_done_orders(self._orders, self._by_client_id)
        self._trades.clear()
        return dropped

    async def fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTrade]:
        """The account's fills, oldest first."""
        return matching_trades(self._trades, symbol, since, limit)


def _contract_terms(params: Mapping[str, Any]) -> tuple[bool, PositionSide | None]:
    """``(reduce_only, position_side)`` of a contract order's ``params`` (``reduceOnly``, ``positionSide``)."""
    side = params.get("positionSide")
    return bool(params.get("reduceOnly", False)), None if side is None else PositionSide(str(side).lower())
