"""Fees charged in the spent currency, cancel replies with incomplete trades, local apply failures
after the venue accepted, cancels whose "not found" cannot be checked, cancels of in-flight orders.

Where the project's fake Binance server can produce the situation, the real ccxt client talks to
it on loopback. It cannot charge a fee in the spent currency (it always takes the fee from what
is received, as Binance does), nor answer "unknown order" for an order that still rests, nor
accept an order and then have its reply fail locally: those cases use :class:`Venue`, a minimal
in-memory connector speaking the connector contract's calls that the trader uses.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from octobot_trading.clock import LiveClock
from octobot_trading.config import OrderSafetyConfig
from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.errors import AmbiguousOrderOutcome, NetworkError, OrderNotFound
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.exchanges.types import ExchangeOrder, ExchangeTrade
from octobot_trading.personal_data import ExchangePersonalData, Trader
from octobot_trading.util.market_spec import MarketSpec
from tests.personal_data.live_venue import assert_matches_exchange
from tests.personal_data.live_venue import live as live

D = Decimal
_SPEC = {"BTC/USDT": MarketSpec(price_tick="0.01", amount_step="0.0001", min_cost="5")}


class Venue:
    """In-memory venue: orders rest until the test fills them; fees in whatever currency it says."""

    def __init__(self, markets: dict) -> None:
        self.markets = markets
        self.orders: dict[str, ExchangeOrder] = {}
        self.trades: list[ExchangeTrade] = []
        self.hidden: set[str] = set()
        self.fill_on_create: tuple[Decimal, Decimal, str] | None = None
        self.created = 0

    async def load_markets(self, reload: bool = False) -> dict:
        return self.markets

    async def create_order(
        self, order_type, side, symbol, amount, price=None, *, client_order_id, trigger_price=None, params=None
    ) -> ExchangeOrder:
        self.created += 1
        order = ExchangeOrder(
            f"V{self.created}",
            client_order_id,
            symbol,
            order_type,
            side,
            OrderStatus.OPEN,
            price,
            amount,
            D(0),
            amount,
            None,
            None,
            1,
        )
        self.orders[order.id] = order
        if self.fill_on_create is not None:
            fill_price, fee, fee_currency = self.fill_on_create
            self.fill(order.id, amount, fill_price, fee, fee_currency)
        return self.orders[order.id]

    async def fetch_open_orders(self, symbol=None) -> list[ExchangeOrder]:
        return [o for o in self.orders.values() if o.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)]

    async def fetch_order(self, order_id, symbol) -> ExchangeOrder:
        return self.orders[order_id]

    async def fetch_order_by_client_id(self, client_order_id, symbol) -> ExchangeOrder | None:
        return next((o for o in self.orders.values() if o.client_order_id == client_order_id), None)

    async def cancel_order(self, order_id, symbol) -> ExchangeOrder:
        self.orders[order_id] = replace(self.orders[order_id], status=OrderStatus.CANCELED)
        return self.orders[order_id]

    async def fetch_my_trades(self, symbol=None, since=None, limit=None) -> list[ExchangeTrade]:
        return [t for t in self.trades if t.id not in self.hidden]

    def fill(
        self,
        order_id: str,
        amount: Decimal,
        price: Decimal,
        fee: Decimal,
        fee_currency: str,
        trade_id: str | None = None,
    ) -> None:
        order = self.orders[order_id]
        filled = order.filled + amount
        average = price if order.average is None else (order.average * order.filled + price * amount) / filled
        status = OrderStatus.FILLED if filled == order.amount else OrderStatus.PARTIALLY_FILLED
        self.orders[order_id] = replace(
            order, status=status, filled=filled, remaining=order.amount - filled, average=average
        )
        self.trades.append(
            ExchangeTrade(
                trade_id or f"T{len(self.trades) + 1}",
                order_id,
                order.symbol,
                order.side,
                price,
                amount,
                fee,
                fee_currency,
                2 + len(self.trades),
            )
        )


async def _venue_trader(balances: dict[str, str], fee_side: str | None = None):
    clock = LiveClock()
    markets = SimulatedConnector(clock, markets=_SPEC).markets
    if fee_side is not None:
        markets = {s: replace(m, fee_side=fee_side) for s, m in markets.items()}
    venue = Venue(markets)
    personal = ExchangePersonalData(clock, starting_balances=balances)
    trader = Trader(
        venue,  # type: ignore[arg-type]
        personal,
        clock=clock,
        simulated=False,  # type: ignore[arg-type]
        price_of={"BTC/USDT": D(100)}.get,
        safety=OrderSafetyConfig(enabled=False),
    )
    await trader.initialize()
    return venue, personal, trader


def _asset(personal, currency: str) -> tuple[Decimal, Decimal]:
    asset = personal.portfolio_manager.portfolio.get_currency_portfolio(currency)
    return asset.total, asset.available


def _books_consistent(personal) -> None:
    """total - available == what the open orders reserve, for every currency."""
    reserved = personal.orders_manager.reserved_by_open_orders()
    for currency in ("USDT", "BTC"):
        total, available = _asset(personal, currency)
        assert total - available == reserved.get(currency, D(0)), currency


# -- a fee charged in the spent currency --------------------------------------------------------------
async def test_n1_an_all_in_buy_with_a_quote_fee_fills_in_two_trades():
    venue, personal, trader = await _venue_trader({"USDT": "100.1"}, fee_side="quote")
    order = await trader.create_order("limit", "buy", "BTC/USDT", "1", "100")
    assert order.reserved_amount == D("100.1")  # the fee is reserved with the order
    venue.fill(order.exchange_order_id, D("0.5"), D(100), D("0.05"), "USDT")
    await trader.sync_with_exchange()
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.filled == D("0.5")
    assert _asset(personal, "USDT") == (D("50.05"), D(0)) and order.reserved_amount == D("50.05")
    _books_consistent(personal)
    venue.fill(order.exchange_order_id, D("0.5"), D(100), D("0.05"), "USDT")
    await trader.sync_with_exchange()
    assert order.status is OrderStatus.CLOSED and order.filled == D(1)
    assert _asset(personal, "USDT") == (D(0), D(0)) and _asset(personal, "BTC") == (D(1), D(1))
    assert len(personal.trades_manager) == 2
    _books_consistent(personal)


async def test_n1_the_fee_of_a_real_trade_correcting_an_inferred_fill_comes_out_of_the_reservation():
    venue, personal, trader = await _venue_trader({"USDT": "100.1"}, fee_side="quote")
    order = await trader.create_order("limit", "buy", "BTC/USDT", "1", "100")
    venue.fill(order.exchange_order_id, D("0.4"), D(100), D("0.04"), "USDT", "t1")
    await trader.sync_with_exchange()
    venue.fill(order.exchange_order_id, D("0.3"), D(100), D("0.03"), "USDT", "t2")
    venue.hidden = {"t1", "t2"}  # no trade list: the fill is inferred from the order's filled amount
    await trader.sync_with_exchange()
    assert order.filled == D("0.7") and personal.orders_manager.has_inferred(order)
    venue.hidden = set()
    await trader.sync_with_exchange()  # the real trade charges its fee: from the order's reservation
    assert not personal.orders_manager.has_inferred(order)
    assert order.reserved_amount == D("30.03") and _asset(personal, "USDT") == (D("30.03"), D(0))
    _books_consistent(personal)
    await trader.cancel_order(order)
    assert _asset(personal, "USDT") == (D("30.03"), D("30.03")) and _asset(personal, "BTC") == (D("0.7"), D("0.7"))
    _books_consistent(personal)


async def test_n1_a_fee_the_books_cannot_cover_is_capped_and_the_fill_recorded():
    """The venue charged a fee the order did not reserve (no fee side known): record the fill."""
    venue, personal, trader = await _venue_trader({"USDT": "100"})
    venue.fill_on_create = (D(100), D("0.1"), "USDT")
    order = await trader.create_order("limit", "buy", "BTC/USDT", "1", "100")
    assert order.status is OrderStatus.CLOSED and order.filled == D(1)
    assert order.fees == {"USDT": D("0.1")}  # the order's record keeps what the venue charged
    assert _asset(personal, "USDT") == (D(0), D(0)) and _asset(personal, "BTC") == (D(1), D(1))


async def test_n1_an_order_adopted_from_the_venue_reserves_its_fee_like_a_placed_one(live):
    """An order found on the venue reserves the fee where the market charges it in the spent currency."""
    server, connector, personal, trader = live
    trader.markets["BTC/USDT"] = replace(trader.markets["BTC/USDT"], fee_side="quote")
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    placed_elsewhere = await connector.create_order(
        OrderType.LIMIT, OrderSide.BUY, "BTC/USDT", D("0.001"), price, client_order_id="elsewhere-1"
    )
    await trader.sync_with_exchange()
    adopted = personal.orders_manager.get_by_exchange_id(placed_elsewhere.id)
    assert adopted is not None and adopted.status is OrderStatus.OPEN
    assert adopted.reserved_amount == price * D("0.001") * (1 + trader.fees.taker)


# -- a cancel reply with an incomplete trade list -----------------------------------------------------
async def test_n2_a_fill_missing_from_a_lagging_trade_list_is_inferred_then_corrected(live):
    server, connector, personal, trader = live
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    order = await trader.create_order("limit", "buy", "BTC/USDT", "0.003", price)
    fake = server.state.orders[int(order.exchange_order_id)]
    server.state._fill(fake, fake.price, D("0.001"), maker=True)
    server.state._fill(fake, fake.price, D("0.001"), maker=True)
    lagging = fake.fills.pop()  # the venue's trade list does not show the second trade yet
    await trader.cancel_order(order)
    assert order.status is OrderStatus.CANCELED and order.filled == D("0.002")  # nothing lost
    fake.fills.append(lagging)
    await trader.sync_with_exchange()  # the real trade corrects the inferred fill (its fee), not doubled
    assert order.filled == D("0.002") and not personal.orders_manager.has_inferred(order)
    assert sorted(t.amount for t in personal.trades_manager.trades()) == [D("0.001"), D("0.001")]
    await assert_matches_exchange(connector, personal)


# -- an error applying the reply of an accepted placement ---------------------------------------------
async def test_n6_create_order_returns_the_live_order_when_its_reply_cannot_be_applied():
    venue, personal, trader = await _venue_trader({"USDT": "1000"})
    venue.fill_on_create = (D(0), D(0), "USDT")  # a reply the books refuse (a fill at price 0)
    order = await trader.create_order("limit", "buy", "BTC/USDT", "1", "100")  # no error: the venue has it
    assert order.exchange_order_id == "V1" and order.status is OrderStatus.OPEN and venue.created == 1
    assert personal.orders_manager.get_by_client_id(order.client_order_id) is order  # kept, synced later
    assert order.filled == 0 and _asset(personal, "USDT") == (D(1000), D(900))


# -- a cancel whose "not found" cannot be checked -----------------------------------------------------
async def test_n7_a_failed_cancel_lookup_leaves_the_order_as_it_was():
    venue, personal, trader = await _venue_trader({"USDT": "1000"})
    order = await trader.create_order("limit", "buy", "BTC/USDT", "1", "100")

    async def not_found(order_id, symbol):
        raise OrderNotFound("unknown order")

    async def down(order_id, symbol):
        raise NetworkError("down")

    venue.cancel_order, fetch_order = not_found, venue.fetch_order  # type: ignore[method-assign]
    venue.fetch_order = down  # type: ignore[method-assign]
    with pytest.raises(NetworkError):
        await trader.cancel_order(order)
    assert order.status is OrderStatus.OPEN
    venue.fetch_order = fetch_order  # type: ignore[method-assign]
    del venue.cancel_order
    await trader.cancel_order(order)  # a second cancel works
    assert order.status is OrderStatus.CANCELED and _asset(personal, "USDT") == (D(1000), D(1000))


async def test_n7_a_sync_showing_the_order_resting_ends_a_canceling_state():
    venue, personal, trader = await _venue_trader({"USDT": "1000"})
    order = await trader.create_order("limit", "buy", "BTC/USDT", "1", "100")
    order.transition(OrderStatus.CANCELING)  # a cancel interrupted without the venue's word
    await trader.sync_with_exchange()  # the venue says: open, nothing filled
    assert order.status is OrderStatus.OPEN
    order.transition(OrderStatus.CANCELING)
    venue.fill(order.exchange_order_id, D("0.5"), D(100), D("0.0005"), "BTC")
    await trader.sync_with_exchange()
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.filled == D("0.5")
    await trader.cancel_order(order)
    assert order.status is OrderStatus.CANCELED
    _books_consistent(personal)


# -- cancelling an order still in flight --------------------------------------------------------------
async def test_n8_cancelling_an_order_the_venue_does_not_show_yet_raises(live):
    server, _connector, _personal, trader = live
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    server.faults.status(503, method="POST", path="/api/v3/order")  # not processed (yet)
    order = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
    assert order.status is OrderStatus.PENDING_CREATION
    with pytest.raises(AmbiguousOrderOutcome):
        await trader.cancel_order(order)
    assert order.status is OrderStatus.PENDING_CREATION  # still looked up by client id
    assert await trader.cancel_all_orders() == []  # left out, not silently "canceled"
    assert order.status is OrderStatus.PENDING_CREATION


async def test_n8_cancelling_an_in_flight_order_the_venue_placed_cancels_it_there(live):
    server, connector, personal, trader = live
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    server.faults.drop_after(method="POST", path="/api/v3/order")  # placed, reply lost
    server.faults.status(503, method="GET", path="/api/v3/order", times=None)  # and its lookup fails
    order = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
    assert order.status is OrderStatus.PENDING_CREATION
    server.faults.clear()
    await trader.cancel_order(order)
    assert order.status is OrderStatus.CANCELED
    assert [o.status for o in server.state.orders.values()] == ["CANCELED"]
    await assert_matches_exchange(connector, personal)


async def test_a_second_inferred_fill_adds_to_the_first_instead_of_correcting_it():
    """Two fills the venue reports before either trade: the second inferred fill is the rest of
    the order, not a correction of the first; the real trades then replace both, each once."""
    venue, personal, trader = await _venue_trader({"USDT": "200"}, fee_side="quote")
    order = await trader.create_order("limit", "buy", "BTC/USDT", "1", "100")
    venue.hidden = {"t1", "t2"}  # no trade list yet: the fills are inferred from the filled amount
    venue.fill(order.exchange_order_id, D("0.4"), D(100), D("0.04"), "USDT", "t1")
    await trader.sync_with_exchange()
    assert order.filled == D("0.4")
    venue.fill(order.exchange_order_id, D("0.6"), D(100), D("0.06"), "USDT", "t2")
    await trader.sync_with_exchange()
    assert order.filled == D("1") and order.status is OrderStatus.CLOSED
    assert _asset(personal, "BTC")[0] == D("1")
    venue.hidden = set()
    await trader.sync_with_exchange()
    assert not personal.orders_manager.has_inferred(order)
    assert sorted(t.id for t in personal.trades_manager.trades()) == ["t1", "t2"]
    assert order.filled == D("1") and _asset(personal, "BTC")[0] == D("1")
    _books_consistent(personal)
