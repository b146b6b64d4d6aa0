"""Accounts, orders and fills of the fake USDⓈ-M venue, accounted by the library's :class:`FuturesAccount`.

This module knows nothing about HTTP. Every account's wallet, positions, leverage, margin type
and position mode live in a :class:`~octobot_trading.personal_data.positions.accounting.FuturesAccount`,
so the venue's numbers follow the rules of docs/futures.md exactly: a fill goes through
``apply_fill`` (fee at the maker or taker rate, realized PnL, entry price), a resting order reserves
its margin with ``reserve``, funding goes through ``apply_funding`` and liquidations through
``check_isolated_liquidation`` / ``check_cross_liquidation``. The library's errors are turned into
Binance's codes (:func:`venue_error`).

Matching: a ``MARKET`` order, or a ``LIMIT`` order marketable when placed, fills at once at the
last price (taker fee). A resting limit fills at its price (maker fee) when the price path reaches
it (:meth:`FuturesVenueState.match`) or when a test fills it (:meth:`FuturesVenueState.fill`).
Conditional orders (:mod:`.algo`) become regular orders when triggered. Market moves, funding and
liquidations are in :mod:`.events`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypedDict

from octobot_trading.enums import MarginMode, OrderSide, PositionMode, PositionSide
from octobot_trading.errors import (
    ConfigurationError,
    InsufficientFunds,
    InvalidOrder,
    OctoBotTradingError,
    OpenPositionsError,
)
from octobot_trading.personal_data.positions.accounting import FillResult, FuturesAccount
from octobot_trading.testing.fake_exchange.futures.markets import FuturesMarket
from octobot_trading.testing.fake_exchange.futures.records import (
    ALGO_TYPES,
    ORDER_TYPES,
    AlgoOrder,
    ForceOrder,
    FuturesFill,
    FuturesOrder,
    Income,
)
from octobot_trading.testing.fake_exchange.state import FakeExchangeError
from octobot_trading.util.decimals import ZERO, decimal_to_str

__all__ = ["FuturesVenueAccount", "FuturesVenueState", "OrderRequest", "venue_error"]


def venue_error(exc: OctoBotTradingError) -> FakeExchangeError:
    """The Binance error a library refusal stands for."""
    if isinstance(exc, InsufficientFunds):
        return FakeExchangeError(-2019, "Margin is insufficient.")
    if isinstance(exc, InvalidOrder):
        if exc.limit == "position_side":
            return FakeExchangeError(-4061, "Order's position side does not match user's setting.")
        return FakeExchangeError(-2022, "ReduceOnly Order is rejected.")
    if isinstance(exc, OpenPositionsError):
        return FakeExchangeError(-4161, "Leverage cannot be changed while the symbol has an open position.")
    if isinstance(exc, ConfigurationError) and exc.field == "leverage":
        return FakeExchangeError(-4028, "Leverage is not valid")
    return FakeExchangeError(-1000, f"An unknown error occurred while processing the request: {exc}")


class _Terms(TypedDict):
    fee_rate: Decimal
    reduce_only: bool
    position_side: PositionSide | None


@dataclass
class OrderRequest:
    """A regular order as sent to ``POST /fapi/v1/order`` (already parsed)."""

    symbol_id: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal | None
    client_order_id: str
    position_side: str = "BOTH"
    reduce_only: bool = False
    time_in_force: str = "GTC"


@dataclass
class FuturesVenueAccount:
    """One API key's futures account: the accounting, income history and settings the venue keeps."""

    api_key: str
    futures: FuturesAccount
    dual_side: bool = False
    incomes: list[Income] = field(default_factory=list)
    update_time: int = 0

    def settings(self, market: FuturesMarket) -> tuple[Decimal, MarginMode, PositionMode]:
        """``(leverage, margin_mode, position_mode)`` of ``market``."""
        return self.futures.settings(market.symbol)


class FuturesVenueState:
    """Markets, accounts and orders of the fake futures venue; see the module docstring."""

    def __init__(
        self,
        markets: Iterable[FuturesMarket],
        now_ms: Callable[[], int],
        *,
        maker_fee: Decimal = Decimal("0.0002"),
        taker_fee: Decimal = Decimal("0.0004"),
    ) -> None:
        self.markets: dict[str, FuturesMarket] = {m.symbol_id: m for m in markets}
        self.now_ms = now_ms
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.accounts: dict[str, FuturesVenueAccount] = {}
        self.orders: dict[int, FuturesOrder] = {}
        self.algo_orders: dict[int, AlgoOrder] = {}
        self.force_orders: list[ForceOrder] = []
        #: Called with each order after it changed (placed, filled, canceled, expired).
        self.order_listeners: list[Callable[[FuturesOrder], object]] = []
        #: Called with each conditional order after it changed (placed, triggered, canceled, expired).
        self.algo_listeners: list[Callable[[AlgoOrder], object]] = []
        #: Called with ``(api_key, reason)`` after an account's wallet or positions changed.
        self.account_listeners: list[Callable[[str, str], object]] = []
        self._order_ids = itertools.count(8_000_000_000)
        self._algo_ids = itertools.count(1_000_000)
        self._fill_ids = itertools.count(500_000)
        self._tran_ids = itertools.count(9_000_000)

    # -- accounts and settings ------------------------------------------------------------
    def add_account(self, api_key: str, wallets: dict[str, Decimal | str]) -> FuturesVenueAccount:
        """Create the futures account of ``api_key`` with starting ``wallets`` (``{"USDT": "10000"}``)."""
        specs = {m.symbol: m.contract_spec() for m in self.markets.values()}
        account = FuturesVenueAccount(api_key, FuturesAccount(specs, wallets), update_time=self.now_ms())
        self.accounts[api_key] = account
        return account

    def market(self, symbol_id: str | None) -> FuturesMarket:
        """The market with this venue id, or -1121."""
        if symbol_id is None or symbol_id not in self.markets:
            raise FakeExchangeError(-1121, "Invalid symbol.")
        return self.markets[symbol_id]

    def sync_marks(self, account: FuturesVenueAccount) -> None:
        """Value every position of ``account`` at its market's current mark price."""
        for market in self.markets.values():
            account.futures.update_mark(market.symbol, market.mark_price)

    def open_orders_of(self, api_key: str, symbol_id: str | None = None) -> list[FuturesOrder | AlgoOrder]:
        """Open regular and conditional orders of an account (of one market when given)."""
        found: list[FuturesOrder | AlgoOrder] = [
            o for o in self.orders.values() if o.api_key == api_key and o.is_open and symbol_id in (None, o.symbol_id)
        ]
        found += [
            a
            for a in self.algo_orders.values()
            if a.api_key == api_key and a.is_open and symbol_id in (None, a.symbol_id)
        ]
        return found

    def set_leverage(self, account: FuturesVenueAccount, market: FuturesMarket, leverage: int) -> None:
        """Change a symbol's leverage: -4028 outside ``[1, max]``, -4161 while a position is open."""
        if not 1 <= leverage <= market.max_leverage():
            raise FakeExchangeError(-4028, f"Leverage {leverage} is not valid")
        try:
            account.futures.set_leverage(market.symbol, leverage)
        except (ConfigurationError, InvalidOrder) as exc:
            raise venue_error(exc) from None
        self._touch(account, "leverage")

    def set_margin_type(self, account: FuturesVenueAccount, market: FuturesMarket, margin_type: str) -> None:
        """``ISOLATED`` / ``CROSSED``: -4046 when unchanged, -4047 with open orders, -4048 with a position."""
        mode = {"ISOLATED": MarginMode.ISOLATED, "CROSSED": MarginMode.CROSS}.get(margin_type.upper())
        if mode is None:
            raise FakeExchangeError(-1116, "Invalid marginType.")
        if account.settings(market)[1] is mode:
            raise FakeExchangeError(-4046, "No need to change margin type.")
        if self.open_orders_of(account.api_key, market.symbol_id):
            raise FakeExchangeError(-4047, "Margin type cannot be changed if there exists open orders.")
        if account.futures.get(market.symbol) is not None:
            raise FakeExchangeError(-4048, "Margin type cannot be changed if there exists position.")
        account.futures.set_margin_mode(market.symbol, mode)
        self._touch(account, "margin_type")

    def set_dual_side(self, account: FuturesVenueAccount, dual: bool) -> None:
        """Hedge (``True``) or one-way mode for every symbol: -4059 unchanged, -4067 open orders, -4068 positions."""
        if account.dual_side is dual:
            raise FakeExchangeError(-4059, "No need to change position side.")
        if self.open_orders_of(account.api_key):
            raise FakeExchangeError(-4067, "Position side cannot be changed if there exists open orders.")
        if account.futures.positions():
            raise FakeExchangeError(-4068, "Position side cannot be changed if there exists position.")
        mode = PositionMode.HEDGE if dual else PositionMode.ONE_WAY
        for market in self.markets.values():
            account.futures.set_position_mode(market.symbol, mode)
        account.dual_side = dual
        self._touch(account, "position_mode")

    # -- orders ---------------------------------------------------------------------------
    def find_order(self, api_key: str, symbol_id: str, order_id: str | None, client_id: str | None) -> FuturesOrder:
        """Look an order up by ``orderId`` or ``origClientOrderId``; -2013 when unknown."""
        for order in self.orders.values():
            if order.api_key != api_key or order.symbol_id != symbol_id:
                continue
            if order_id is not None and str(order.order_id) == order_id:
                return order
            if order_id is None and client_id is not None and order.client_order_id == client_id:
                return order
        raise FakeExchangeError(-2013, "Order does not exist.")

    def check_position_side(self, account: FuturesVenueAccount, position_side: str, reduce_only: bool) -> None:
        """-4061 when ``positionSide`` does not fit the account's mode; -1106 for reduceOnly in hedge mode."""
        if account.dual_side:
            if position_side not in ("LONG", "SHORT"):
                raise FakeExchangeError(-4061, "Order's position side does not match user's setting.")
            if reduce_only:
                raise FakeExchangeError(-1106, "Parameter 'reduceOnly' sent when not required.")
        elif position_side != "BOTH":
            raise FakeExchangeError(-4061, "Order's position side does not match user's setting.")

    def check_quantity(self, market: FuturesMarket, quantity: Decimal, *, market_order: bool) -> None:
        """The LOT_SIZE / MARKET_LOT_SIZE filters."""
        if quantity <= 0:
            raise FakeExchangeError(-4003, "Quantity less than or equal to zero.")
        if quantity % market.step_size != 0:
            raise FakeExchangeError(-1111, "Precision is over the maximum defined for this asset.")
        if quantity < market.min_qty:
            raise FakeExchangeError(-4004, "Quantity less than min quantity.")
        if quantity > (market.market_max_qty if market_order else market.max_qty):
            raise FakeExchangeError(-4005, "Quantity greater than max quantity.")

    def check_price(self, market: FuturesMarket, price: Decimal) -> None:
        """The PRICE_FILTER filter."""
        if price <= 0 or price < market.tick_size:
            raise FakeExchangeError(-4013, "Price less than min price.")
        if price % market.tick_size != 0:
            raise FakeExchangeError(-4014, "Price not increased by tick size.")

    def check_client_id(self, api_key: str, client_id: str) -> None:
        """-4116 when an order of the account already uses ``client_id``."""
        used = any(o.api_key == api_key and o.client_order_id == client_id for o in self.orders.values())
        used = used or any(a.api_key == api_key and a.client_algo_id == client_id for a in self.algo_orders.values())
        if used:
            raise FakeExchangeError(-4116, "ClientOrderId is duplicated.")

    def place_order(
        self,
        account: FuturesVenueAccount,
        request: OrderRequest,
        *,
        orig_type: str = "",
        stop_price: Decimal = ZERO,
        working_type: str = "CONTRACT_PRICE",
    ) -> FuturesOrder:
        """Validate, check the margin, create and (when marketable) fill a regular order; nothing changes on error."""
        market = self.market(request.symbol_id)
        if request.side not in ("BUY", "SELL"):
            raise FakeExchangeError(-1117, "Invalid side.")
        if request.type in ALGO_TYPES or request.type == "TRAILING_STOP_MARKET":
            raise FakeExchangeError(
                -4120, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."
            )
        if request.type not in ORDER_TYPES:
            raise FakeExchangeError(-1116, "Invalid orderType.")
        self.check_position_side(account, request.position_side, request.reduce_only)
        is_market = request.type == "MARKET"
        self.check_quantity(market, request.quantity, market_order=is_market)
        last = market.last_price
        if not is_market:
            if request.price is None:
                raise FakeExchangeError(
                    -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."
                )
            self.check_price(market, request.price)
        if not orig_type:  # a triggered conditional order keeps its client id
            self.check_client_id(account.api_key, request.client_order_id)
        price = request.price if request.price is not None else last
        closing = account.dual_side and (request.side == "SELL") == (request.position_side == "LONG")
        if request.quantity * price < market.min_notional and not (request.reduce_only or closing):
            raise FakeExchangeError(
                -4164,
                f"Order's notional must be no smaller than {decimal_to_str(market.min_notional)} "
                "(unless you choose reduce only).",
            )
        marketable = (
            is_market or (request.side == "BUY" and price >= last) or (request.side == "SELL" and price <= last)
        )
        if request.time_in_force == "GTX" and marketable and not is_market:
            raise FakeExchangeError(
                -5022, "Due to the order could not be executed as maker, the Post Only order will be rejected."
            )
        self.sync_marks(account)
        order_id = next(self._order_ids)
        try:
            if marketable:
                account.futures.check_order(
                    market.symbol, _side(request.side), request.quantity, last, **self._terms(request, self.taker_fee)
                )
            else:
                account.futures.reserve(
                    str(order_id),
                    market.symbol,
                    _side(request.side),
                    request.quantity,
                    price,
                    **self._terms(request, self.maker_fee),
                )
        except (InsufficientFunds, InvalidOrder) as exc:
            raise venue_error(exc) from None
        now = self.now_ms()
        order = FuturesOrder(
            order_id=order_id,
            client_order_id=request.client_order_id,
            api_key=account.api_key,
            symbol_id=market.symbol_id,
            side=request.side,
            type=request.type,
            price=request.price if request.price is not None else ZERO,
            orig_qty=request.quantity,
            time=now,
            position_side=request.position_side,
            reduce_only=request.reduce_only,
            time_in_force=request.time_in_force if not is_market else "GTC",
            orig_type=orig_type,
            stop_price=stop_price,
            working_type=working_type,
            update_time=now,
            contract_size=market.contract_size,
        )
        self.orders[order_id] = order
        if marketable:
            self.fill(order, last, order.orig_qty, maker=False)
        elif request.time_in_force in ("IOC", "FOK"):
            account.futures.release(str(order_id))
            self._expire(order)
        else:
            self._notify(order)
        return order

    def modify(self, order: FuturesOrder, side: str, quantity: Decimal, price: Decimal) -> FuturesOrder:
        """Change a resting LIMIT order's quantity and price (``PUT /fapi/v1/order``), as Binance does.

        Refused, the order kept as it was: not open (-2013), not a LIMIT (-1116), another side
        (-1102), a filter failure, margin no longer sufficient (-2019). Canceled instead: a new
        quantity not above what already filled, or a post-only order the new price makes
        marketable. A new price reaching the last price fills the rest at once (taker).
        """
        market = self.markets[order.symbol_id]
        account = self.accounts[order.api_key]
        if not order.is_open:
            raise FakeExchangeError(-2013, "Order does not exist.")
        if order.type != "LIMIT":
            raise FakeExchangeError(-1116, "Invalid orderType: only LIMIT orders can be modified.")
        if side != order.side:
            raise FakeExchangeError(-1102, "Parameter 'side' does not match the order's side.")
        self.check_quantity(market, quantity, market_order=False)
        self.check_price(market, price)
        last = market.last_price
        marketable = (side == "BUY" and price >= last) or (side == "SELL" and price <= last)
        if quantity <= order.executed_qty or (order.time_in_force == "GTX" and marketable):
            return self.cancel(order)
        self.sync_marks(account)
        rest = quantity - order.executed_qty
        try:
            if marketable:
                account.futures.check_order(
                    market.symbol, _side(side), rest, last, **self._terms(order, self.taker_fee)
                )
            else:
                account.futures.reserve(
                    str(order.order_id), market.symbol, _side(side), rest, price, **self._terms(order, self.maker_fee)
                )
        except (InsufficientFunds, InvalidOrder) as exc:
            raise venue_error(exc) from None
        order.price, order.orig_qty = price, quantity
        order.amendments += 1
        order.update_time = self.now_ms()
        if marketable:
            self.fill(order, last, rest, maker=False)
        else:
            self._notify(order)
        return order

    def _terms(self, request: OrderRequest | FuturesOrder, fee_rate: Decimal) -> _Terms:
        position_side = None if request.position_side == "BOTH" else PositionSide(request.position_side.lower())
        return {"fee_rate": fee_rate, "reduce_only": request.reduce_only, "position_side": position_side}

    def fill(self, order: FuturesOrder, price: Decimal, qty: Decimal, *, maker: bool) -> FillResult | None:
        """Fill ``qty`` of ``order`` at ``price`` through the accounting; an order that no longer fits expires.

        Returns the accounting's result, or None when the order expired instead (a reduce-only
        order with nothing left to reduce, or margin no longer sufficient).
        """
        market = self.markets[order.symbol_id]
        account = self.accounts[order.api_key]
        rate = self.maker_fee if maker else self.taker_fee
        fill_id = next(self._fill_ids)
        now = self.now_ms()
        self.sync_marks(account)
        try:
            result = account.futures.apply_fill(
                str(fill_id),
                market.symbol,
                _side(order.side),
                qty,
                price,
                now,
                order_id=str(order.order_id),
                **self._terms(order, rate),
            )
        except (InsufficientFunds, InvalidOrder):
            account.futures.release(str(order.order_id))
            self._expire(order)
            return None
        assert result is not None
        order.fills.append(
            FuturesFill(
                fill_id,
                order.order_id,
                order.symbol_id,
                order.side,
                order.position_side,
                price,
                qty,
                result.fee,
                market.settle,
                result.realized_pnl,
                now,
                maker,
                market.contract_size,
            )
        )
        order.executed_qty += qty
        order.add_fill_value(qty, price)
        order.update_time = now
        order.status = "FILLED" if order.executed_qty >= order.orig_qty else "PARTIALLY_FILLED"
        if order.is_open:
            self._reserve_rest(account, order)
        if result.realized_pnl:
            self.add_income(account, market, "REALIZED_PNL", result.realized_pnl, now, str(fill_id))
        if result.fee:
            self.add_income(account, market, "COMMISSION", -result.fee, now, str(fill_id))
        self._notify(order)
        self._touch(account, "ORDER")
        return result

    def _reserve_rest(self, account: FuturesVenueAccount, order: FuturesOrder) -> None:
        market = self.markets[order.symbol_id]
        try:
            account.futures.reserve(
                str(order.order_id),
                market.symbol,
                _side(order.side),
                order.remaining,
                order.price,
                **self._terms(order, self.maker_fee),
            )
        except (InsufficientFunds, InvalidOrder):
            account.futures.release(str(order.order_id))
            order.status = "EXPIRED"

    def _expire(self, order: FuturesOrder) -> None:
        order.status = "EXPIRED"
        order.update_time = self.now_ms()
        self._notify(order)

    def cancel(self, order: FuturesOrder) -> FuturesOrder:
        """Cancel an open order and release its reserved margin; -2011 when it is not open."""
        if not order.is_open:
            raise FakeExchangeError(-2011, "Unknown order sent.")
        self.accounts[order.api_key].futures.release(str(order.order_id))
        order.status = "CANCELED"
        order.update_time = self.now_ms()
        self._notify(order)
        return order

    def match(self, market: FuturesMarket, low: Decimal, high: Decimal) -> None:
        """Fill the resting limit orders of ``market`` that a price range ``[low, high]`` reaches (maker)."""
        for order in sorted(self.orders.values(), key=lambda o: o.order_id):
            if order.symbol_id != market.symbol_id or not order.is_open or order.type != "LIMIT":
                continue
            if (order.side == "BUY" and low <= order.price) or (order.side == "SELL" and high >= order.price):
                self.fill(order, order.price, order.remaining, maker=True)

    def fills_of(self, api_key: str, symbol_id: str) -> list[FuturesFill]:
        """Every fill of an account on one market, oldest first."""
        fills = [f for o in self.orders.values() if o.api_key == api_key and o.symbol_id == symbol_id for f in o.fills]
        return sorted(fills, key=lambda f: f.id)

    # -- algo orders (storage; triggering lives in .algo) ---------------------------------
    def next_algo_id(self) -> int:
        """A fresh ``algoId``."""
        return next(self._algo_ids)

    def next_order_id(self) -> int:
        """A fresh ``orderId`` (for orders the venue itself creates)."""
        return next(self._order_ids)

    def next_fill_id(self) -> int:
        """A fresh trade id."""
        return next(self._fill_ids)

    # -- bookkeeping ----------------------------------------------------------------------
    def add_income(
        self,
        account: FuturesVenueAccount,
        market: FuturesMarket,
        kind: str,
        amount: Decimal,
        time: int,
        trade_id: str = "",
    ) -> Income:
        """Record one income row (REALIZED_PNL, COMMISSION, FUNDING_FEE)."""
        income = Income(next(self._tran_ids), market.symbol_id, kind, amount, market.settle, time, trade_id)
        account.incomes.append(income)
        return income

    def _notify(self, order: FuturesOrder) -> None:
        for listener in list(self.order_listeners):
            listener(order)

    def notify_algo(self, order: AlgoOrder) -> None:
        """Tell the algo listeners that ``order`` changed."""
        for listener in list(self.algo_listeners):
            listener(order)

    def _touch(self, account: FuturesVenueAccount, reason: str) -> None:
        account.update_time = self.now_ms()
        for listener in list(self.account_listeners):
            listener(account.api_key, reason)


def _side(side: str) -> OrderSide:
    return OrderSide.BUY if side == "BUY" else OrderSide.SELL
