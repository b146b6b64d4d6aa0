"""Market and account state of the fake exchange: replayed candles, balances, a matching engine.

This module knows nothing about HTTP. :class:`FakeExchangeState` holds

* one :class:`FakeMarket` per listed symbol with its precision / filters and the real candles it
  replays (``cursor`` is the index of the last *closed* candle, the market's "now");
* one :class:`FakeAccount` per API key with exact ``Decimal`` balances (free / locked);
* the orders and fills of every account.

:meth:`FakeExchangeState.advance` moves every market to its next candle and matches resting
limit orders against it (a buy limit at P fills at P when the candle's low reaches P, a sell
limit at P when its high reaches P; maker fee). A market order, or a limit order that is
marketable when placed, fills at once at the current close (taker fee). Fees are charged in the
currency received. Every balance change is exact Decimal arithmetic.

Failures are raised as :class:`FakeExchangeError` carrying the Binance error code and HTTP
status, so the HTTP layer only has to serialise them.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from octobot_trading.util.decimals import decimal_from_data_float, decimal_to_str, floor_to_step

__all__ = [
    "FakeAccount",
    "FakeExchangeError",
    "FakeExchangeState",
    "FakeFill",
    "FakeMarket",
    "FakeOrder",
    "load_candles",
]

ZERO = Decimal(0)


class FakeExchangeError(Exception):
    """A Binance-style error: ``code`` (e.g. -2010), ``msg`` and the HTTP ``status``."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status


CandleRow = tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]


def load_candles(path: str | Path) -> list[CandleRow]:
    """Read ``[[ms, o, h, l, c, v], ...]`` JSON into exact rows (floats via their shortest repr)."""
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    rows: list[CandleRow] = []
    for row in raw:
        ts, o, h, lo, c, v = row[:6]
        rows.append(
            (
                int(ts),
                decimal_from_data_float(o),
                decimal_from_data_float(h),
                decimal_from_data_float(lo),
                decimal_from_data_float(c),
                decimal_from_data_float(v),
            )
        )
    return rows


@dataclass
class FakeMarket:
    """One listed spot market and the candles it replays."""

    base: str
    quote: str
    candles: list[CandleRow]
    interval_ms: int
    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    min_notional: Decimal = Decimal("5")
    cursor: int = 0

    @property
    def symbol_id(self) -> str:
        """The Binance id, e.g. ``BTCUSDT``."""
        return f"{self.base}{self.quote}"

    @property
    def current(self) -> CandleRow:
        """The last closed candle."""
        return self.candles[self.cursor]

    @property
    def last_price(self) -> Decimal:
        """Close of the last closed candle."""
        return self.current[4]

    def visible_candles(self) -> list[CandleRow]:
        """Candles up to and including the cursor (the future is not visible)."""
        return self.candles[: self.cursor + 1]


@dataclass
class FakeAccount:
    """An API key, its secret and its balances (``free`` and ``locked`` per asset)."""

    api_key: str
    secret: str
    free: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)

    def assets(self) -> list[str]:
        """Every asset with a (possibly zero) balance."""
        return sorted(set(self.free) | set(self.locked))

    def _move(self, book: dict[str, Decimal], asset: str, delta: Decimal) -> None:
        value = book.get(asset, ZERO) + delta
        if value < 0:  # pragma: no cover - guarded by the callers' checks
            raise FakeExchangeError(-2010, "Account has insufficient balance for requested action.")
        book[asset] = value


@dataclass
class FakeFill:
    """One fill of one order."""

    id: int
    order_id: int
    symbol_id: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool


@dataclass
class FakeOrder:
    """An order as the fake exchange stores it (Binance field meanings)."""

    order_id: int
    client_order_id: str
    api_key: str
    symbol_id: str
    side: str  # BUY / SELL
    type: str  # LIMIT / MARKET
    price: Decimal
    orig_qty: Decimal
    time: int
    executed_qty: Decimal = ZERO
    cumulative_quote_qty: Decimal = ZERO
    status: str = "NEW"
    update_time: int = 0
    time_in_force: str = "GTC"
    fills: list[FakeFill] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """True while the order rests in the book."""
        return self.status in ("NEW", "PARTIALLY_FILLED")

    def to_json(self) -> dict[str, object]:
        """The Binance ``GET /api/v3/order`` shape."""
        return {
            "symbol": self.symbol_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": decimal_to_str(self.price),
            "origQty": decimal_to_str(self.orig_qty),
            "executedQty": decimal_to_str(self.executed_qty),
            "cummulativeQuoteQty": decimal_to_str(self.cumulative_quote_qty),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
            "stopPrice": "0",
            "icebergQty": "0",
            "time": self.time,
            "updateTime": self.update_time or self.time,
            "isWorking": True,
            "workingTime": self.time,
            "origQuoteOrderQty": "0",
            "selfTradePreventionMode": "NONE",
        }


class FakeExchangeState:
    """Everything the fake exchange knows; see the module docstring.

    Parameters
    ----------
    markets:
        The listed markets.
    now_ms:
        Returns the exchange's current time in ms (the server passes its clock's ``now_ms``).
    maker_fee, taker_fee:
        Commission rates (fractions).

    Attributes
    ----------
    max_fill_fraction:
        ``None`` (default): a resting limit order reached by a replayed candle fills completely.
        A fraction such as ``Decimal("0.0005")``: each candle fills at most that fraction of the
        candle's volume (rounded down to the market's step) per order, so large orders fill
        partly over several candles, as on a real book.
    """

    def __init__(
        self,
        markets: Iterable[FakeMarket],
        now_ms: Callable[[], int],
        *,
        maker_fee: Decimal = Decimal("0.001"),
        taker_fee: Decimal = Decimal("0.001"),
    ) -> None:
        self.markets: dict[str, FakeMarket] = {m.symbol_id: m for m in markets}
        self.now_ms = now_ms
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.accounts: dict[str, FakeAccount] = {}
        self.orders: dict[int, FakeOrder] = {}
        self._order_ids = itertools.count(1000)
        self._fill_ids = itertools.count(5000)
        self.advance_listeners: list[Callable[[FakeExchangeState], object]] = []
        self.max_fill_fraction: Decimal | None = None
        #: ``(api_key, client order id)`` of every signed placement request received, accepted or
        #: not, in arrival order: a test proves with it that an order was sent once.
        self.order_requests: list[tuple[str, str]] = []

    # -- accounts ---------------------------------------------------------------------
    def add_account(self, api_key: str, secret: str, balances: dict[str, Decimal | str] | None = None) -> FakeAccount:
        """Create an account; ``balances`` are its free starting balances."""
        account = FakeAccount(api_key, secret)
        for asset, amount in (balances or {}).items():
            account.free[asset] = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
            account.locked.setdefault(asset, ZERO)
        self.accounts[api_key] = account
        return account

    def market(self, symbol_id: str | None) -> FakeMarket:
        """Return the market with this Binance id or raise -1121."""
        if symbol_id is None or symbol_id not in self.markets:
            raise FakeExchangeError(-1121, "Invalid symbol.")
        return self.markets[symbol_id]

    # -- replay -------------------------------------------------------------------------
    def advance(self, steps: int = 1) -> None:
        """Move every market ``steps`` candles forward, matching resting orders at each one."""
        for _ in range(steps):
            for market in self.markets.values():
                if market.cursor + 1 >= len(market.candles):
                    raise IndexError(f"{market.symbol_id}: no more candles to replay")
            for market in self.markets.values():
                market.cursor += 1
                self._match_resting(market)
            for listener in list(self.advance_listeners):
                listener(self)

    def _match_resting(self, market: FakeMarket) -> None:
        _, _, high, low, _, volume = market.current
        cap: Decimal | None = None
        if self.max_fill_fraction is not None:
            cap = floor_to_step(volume * self.max_fill_fraction, market.step_size)
        for order in sorted(self.orders.values(), key=lambda o: o.order_id):
            if order.symbol_id != market.symbol_id or not order.is_open or order.type != "LIMIT":
                continue
            if (order.side == "BUY" and low <= order.price) or (order.side == "SELL" and high >= order.price):
                quantity = order.orig_qty - order.executed_qty
                if cap is not None:
                    quantity = min(quantity, cap)
                if quantity > 0:
                    self._fill(order, order.price, quantity, maker=True)

    # -- orders -------------------------------------------------------------------------
    def find_order(self, api_key: str, symbol_id: str, order_id: str | None, client_id: str | None) -> FakeOrder:
        """Look an order up by exchange id or client order id; -2013 when unknown."""
        for order in self.orders.values():
            if order.api_key != api_key or order.symbol_id != symbol_id:
                continue
            if order_id is not None and str(order.order_id) == order_id:
                return order
            if order_id is None and client_id is not None and order.client_order_id == client_id:
                return order
        raise FakeExchangeError(-2013, "Order does not exist.")

    def place_order(
        self,
        account: FakeAccount,
        symbol_id: str,
        side: str,
        order_type: str,
        quantity: Decimal,
        price: Decimal | None,
        client_order_id: str,
    ) -> FakeOrder:
        """Validate, reserve funds, and place (and possibly fill) an order."""
        market = self.market(symbol_id)
        if side not in ("BUY", "SELL"):
            raise FakeExchangeError(-1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.")
        if order_type not in ("LIMIT", "MARKET"):
            raise FakeExchangeError(-1116, "Invalid orderType.")
        if any(o.client_order_id == client_order_id and o.api_key == account.api_key for o in self.orders.values()):
            raise FakeExchangeError(-2010, "Duplicate order sent.")
        self._check_filters(market, quantity, price if order_type == "LIMIT" else market.last_price, order_type)
        reference = price if order_type == "LIMIT" and price is not None else market.last_price
        if side == "BUY":
            cost_asset, reserve = market.quote, quantity * reference
        else:
            cost_asset, reserve = market.base, quantity
        if account.free.get(cost_asset, ZERO) < reserve:
            raise FakeExchangeError(-2010, "Account has insufficient balance for requested action.")
        now = self.now_ms()
        order = FakeOrder(
            order_id=next(self._order_ids),
            client_order_id=client_order_id,
            api_key=account.api_key,
            symbol_id=symbol_id,
            side=side,
            type=order_type,
            price=price if price is not None else ZERO,
            orig_qty=quantity,
            time=now,
            update_time=now,
        )
        account._move(account.free, cost_asset, -reserve)
        account._move(account.locked, cost_asset, reserve)
        self.orders[order.order_id] = order
        last = market.last_price
        if order_type == "MARKET":
            self._fill(order, last, quantity, maker=False)
        elif (side == "BUY" and order.price >= last) or (side == "SELL" and order.price <= last):
            # a marketable limit order takes liquidity at the last price (better than its limit);
            # with a fill cap only part of it does, the rest rests on the book at its limit
            taken = quantity
            if self.max_fill_fraction is not None:
                taken = min(quantity, floor_to_step(market.current[5] * self.max_fill_fraction, market.step_size))
            if taken > 0:
                self._fill(order, last, taken, maker=False)
        return order

    def _check_filters(self, market: FakeMarket, qty: Decimal, price: Decimal | None, order_type: str) -> None:
        if qty <= 0 or qty < market.min_qty or qty > market.max_qty or qty % market.step_size != 0:
            raise FakeExchangeError(-1013, "Filter failure: LOT_SIZE")
        if order_type == "LIMIT":
            if price is None or price <= 0 or price % market.tick_size != 0:
                raise FakeExchangeError(-1013, "Filter failure: PRICE_FILTER")
        if price is not None and qty * price < market.min_notional:
            raise FakeExchangeError(-1013, "Filter failure: NOTIONAL")

    def _fill(self, order: FakeOrder, price: Decimal, qty: Decimal, *, maker: bool) -> None:
        market = self.markets[order.symbol_id]
        account = self.accounts[order.api_key]
        rate = self.maker_fee if maker else self.taker_fee
        cost = qty * price
        if order.side == "BUY":
            # a limit buy reserved qty x its price; a market buy reserved at the price it fills at
            reserved = qty * order.price if order.type == "LIMIT" else cost
            account._move(account.locked, market.quote, -reserved)
            account._move(account.free, market.quote, reserved - cost)
            fee, fee_asset = qty * rate, market.base
            account._move(account.free, market.base, qty - fee)
        else:
            account._move(account.locked, market.base, -qty)
            fee, fee_asset = cost * rate, market.quote
            account._move(account.free, market.quote, cost - fee)
        now = self.now_ms()
        fill = FakeFill(
            id=next(self._fill_ids),
            order_id=order.order_id,
            symbol_id=order.symbol_id,
            price=price,
            qty=qty,
            commission=fee,
            commission_asset=fee_asset,
            time=now,
            is_buyer=order.side == "BUY",
            is_maker=maker,
        )
        order.fills.append(fill)
        order.executed_qty += qty
        order.cumulative_quote_qty += cost
        order.update_time = now
        order.status = "FILLED" if order.executed_qty >= order.orig_qty else "PARTIALLY_FILLED"

    def cancel_order(self, order: FakeOrder) -> FakeOrder:
        """Cancel an open order and release what it still reserves; -2011 when not open."""
        if not order.is_open:
            raise FakeExchangeError(-2011, "Unknown order sent.")
        market = self.markets[order.symbol_id]
        account = self.accounts[order.api_key]
        remaining = order.orig_qty - order.executed_qty
        if order.side == "BUY":
            asset, amount = market.quote, remaining * order.price
        else:
            asset, amount = market.base, remaining
        account._move(account.locked, asset, -amount)
        account._move(account.free, asset, amount)
        order.status = "CANCELED"
        order.update_time = self.now_ms()
        return order

    def fills_of(self, api_key: str, symbol_id: str) -> list[FakeFill]:
        """Every fill of the account on one market, oldest first."""
        fills = [
            fill
            for order in self.orders.values()
            if order.api_key == api_key and order.symbol_id == symbol_id
            for fill in order.fills
        ]
        return sorted(fills, key=lambda f: f.id)
