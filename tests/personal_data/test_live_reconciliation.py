"""Live fills reconciled with the venue, through the real ccxt client
against the project's fake Binance server on loopback.

Partial fills from "the market" are made with the fake server's own matching step
(``state._fill``), as in ``test_real_trader.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest

from octobot_trading.clock import LiveClock, SimulatedClock
from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.errors import InvalidOrder, InvalidOrderState
from octobot_trading.exchanges.types import ExchangeOrder, ExchangeTrade
from octobot_trading.personal_data import ExchangePersonalData, Trader
from octobot_trading.personal_data import trader as trader_module
from octobot_trading.personal_data.orders.groups import GroupKind, OrderGroup
from octobot_trading.personal_data.orders.order_types import create_order_instance
from tests.personal_data.helpers import trader_on_stand_in
from tests.personal_data.live_venue import assert_matches_exchange
from tests.personal_data.live_venue import live as live

D = Decimal
MY_TRADES = "/api/v3/myTrades"


async def test_market_order_records_the_venue_trade_and_its_fee(live):
    """The placement reply shows a fill -> its real trade (with fee) is recorded, no refresh."""
    _server, connector, personal, trader = live
    order = await trader.create_order("market", "buy", "BTC/USDT", "0.001")
    venue_trades = [t for t in await connector.fetch_my_trades("BTC/USDT") if t.order_id == order.exchange_order_id]
    assert len(venue_trades) == 1 and venue_trades[0].fee > 0
    recorded = personal.trades_manager.trades()
    assert [(t.id, t.price, t.amount, t.fee, t.fee_currency) for t in recorded] == [
        (v.id, v.price, v.amount, v.fee, v.fee_currency) for v in venue_trades
    ]
    assert order.status is OrderStatus.CLOSED and order.fees == {"BTC": venue_trades[0].fee}
    await assert_matches_exchange(connector, personal)  # WITHOUT refresh_balances
    await trader.sync_with_exchange()  # nothing applied twice
    assert len(personal.trades_manager) == 1
    await assert_matches_exchange(connector, personal)


async def test_cancel_racing_a_fill_records_the_real_trade(live):
    """A cancel whose reply shows a fill records the venue's trade, not an inferred one."""
    server, connector, personal, trader = live
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    order = await trader.create_order("limit", "buy", "BTC/USDT", "0.002", price)
    server.state._fill(server.state.orders[int(order.exchange_order_id)], price, D("0.001"), maker=True)
    await trader.cancel_order(order)  # the fill is only learnt from the cancel's reply
    assert order.status is OrderStatus.CANCELED and order.filled == D("0.001")
    (trade,) = personal.trades_manager.trades()
    assert not trade.id.endswith(":filled:0.001") and trade.fee == D("0.001") * server.state.maker_fee
    await assert_matches_exchange(connector, personal)


async def test_inferred_fill_is_corrected_by_the_real_trades_not_counted_twice(live):
    """Trades unavailable during one poll -> inferred fill; the real trades correct it later."""
    server, connector, personal, trader = live
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    order = await trader.create_order("limit", "buy", "BTC/USDT", "0.002", price)
    fake = server.state.orders[int(order.exchange_order_id)]
    server.state._fill(fake, price, D("0.001"), maker=True)
    server.faults.status(503, method="GET", path=MY_TRADES, times=None)
    await trader.sync_with_exchange()
    server.faults.clear()
    assert order.filled == D("0.001") and personal.trades_manager.trades()[0].fee == 0  # inferred
    lower = price - D("100")
    server.state._fill(fake, lower, D("0.001"), maker=True)  # the rest at another price
    await trader.sync_with_exchange()
    await trader.sync_with_exchange()
    venue = [t for t in await connector.fetch_my_trades("BTC/USDT") if t.order_id == order.exchange_order_id]
    recorded = personal.trades_manager.trades()
    assert sorted((t.id, t.price, t.amount, t.fee) for t in recorded) == sorted(
        (t.id, t.price, t.amount, t.fee) for t in venue
    )
    assert order.status is OrderStatus.CLOSED and order.filled == D("0.002")
    assert order.filled_cost == price * D("0.001") + lower * D("0.001")
    assert order.fees == {"BTC": sum((t.fee for t in venue), D(0))}
    await assert_matches_exchange(connector, personal)


async def test_inferred_fill_of_a_closed_order_is_corrected_on_a_later_sync(live):
    """A market order whose trades cannot be read is closed with an inferred fill, then corrected."""
    server, connector, personal, trader = live
    server.faults.status(503, method="GET", path=MY_TRADES, times=None)
    order = await trader.create_order("market", "buy", "BTC/USDT", "0.001")
    server.faults.clear()
    assert order.status is OrderStatus.CLOSED and order.fees == {}
    await trader.sync_with_exchange()
    (trade,) = personal.trades_manager.trades()
    assert trade.fee > 0 and order.fees == {"BTC": trade.fee}
    assert not personal.orders_manager.has_inferred(order)
    await assert_matches_exchange(connector, personal)


async def test_one_order_that_cannot_sync_never_blocks_the_others(live):
    """An order whose lookup fails is logged and retried; the next order is still applied."""
    server, connector, personal, trader = live
    market = server.state.markets["BTCUSDT"]
    low = (market.last_price * D("0.9")).quantize(market.tick_size)
    first = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", low)
    second = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", low - 1)
    for order in (first, second):
        fake = server.state.orders[int(order.exchange_order_id)]
        server.state._fill(fake, fake.price, D("0.001"), maker=True)
    server.faults.status(500, method="GET", path="/api/v3/order", times=3)  # the connector retries reads 3x
    await trader.sync_with_exchange()
    assert first.status is OrderStatus.OPEN and second.status is OrderStatus.CLOSED
    await trader.sync_with_exchange()
    assert first.status is OrderStatus.CLOSED
    await assert_matches_exchange(connector, personal)


async def test_an_order_the_venue_accepts_late_keeps_its_exits(live):
    """A placement processed after the client gave up stays in flight and keeps its stop-loss."""
    server, connector, personal, trader = live
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    placed = asyncio.Event()
    server.order_listeners.append(lambda _order: placed.set())
    server.faults.latency(2.5, method="POST", path="/api/v3/order", times=1)  # > the 2 s client timeout
    entry = await trader.create_order(
        "limit", "buy", "BTC/USDT", "0.001", price, stop_loss_price=(price * D("0.9")).quantize(market.tick_size)
    )
    assert entry.status is OrderStatus.PENDING_CREATION
    await trader.sync_with_exchange()  # the venue may not have it yet: not given up
    assert entry.status is OrderStatus.PENDING_CREATION
    await asyncio.wait_for(placed.wait(), timeout=30)  # the venue processes the request late
    await trader.sync_with_exchange()
    assert entry.status is OrderStatus.OPEN and entry.exchange_order_id
    assert {o.id for o in personal.orders_manager.open_orders("BTC/USDT")} == {entry.id, entry.chained_orders[0].id}
    assert [o.client_order_id for o in await connector.fetch_open_orders("BTC/USDT")] == [entry.client_order_id]
    assert len(entry.chained_orders) == 1 and entry.chained_orders[0].status is OrderStatus.PENDING_CREATION
    await assert_matches_exchange(connector, personal)


async def test_given_up_order_shown_later_is_restored_with_its_exits():
    """Given up only after N lookups and the venue's window; restored when the venue shows it."""
    clock = SimulatedClock(1_700_000_000_000)
    personal = ExchangePersonalData(clock, starting_balances={"USDT": "1000"})
    manager = personal.orders_manager

    class Venue:  # the connector seen through the contract's lookup only (a network-free unit test)
        shown: ExchangeOrder | None = None

        async def fetch_order_by_client_id(self, client_order_id: str, symbol: str) -> ExchangeOrder | None:
            return self.shown

    venue = Venue()
    trader = trader_on_stand_in(venue, personal, clock)
    order = create_order_instance("limit", "buy", "BTC/USDT", D("1"), D("90"), clock=clock)
    stop = create_order_instance("stop_loss", "sell", "BTC/USDT", D("1"), clock=clock, trigger_price=D("80"))
    currency, amount = trader.funds.reservation(order)
    personal.portfolio_manager.reserve(order, currency, amount)
    order.is_active = True
    manager.add(order)
    trader.links.chain(stop, order)
    for _ in range(trader_module.IN_FLIGHT_MIN_LOOKUPS + 1):
        assert await trader.resolve_in_flight() == []  # the venue's window is still open
    clock.advance(trader_module.IN_FLIGHT_GIVE_UP_MS)
    assert await trader.resolve_in_flight() == [order]
    assert order.status is OrderStatus.REJECTED and manager.open_orders("BTC/USDT") == []
    assert personal.portfolio_manager.portfolio.get_currency_portfolio("USDT").available == D("1000")
    shown = ExchangeOrder(
        "E1",
        order.client_order_id,
        "BTC/USDT",
        OrderType.LIMIT,
        OrderSide.BUY,
        OrderStatus.OPEN,
        D("90"),
        D("1"),
        D(0),
        D("1"),
        None,
        None,
        clock.now_ms(),
    )
    restored = await manager.apply_exchange_update(shown, [])
    assert restored is order and order.status is OrderStatus.OPEN and order.exchange_order_id == "E1"
    assert {o.id for o in manager.open_orders("BTC/USDT")} == {order.id, stop.id}
    assert personal.portfolio_manager.portfolio.get_currency_portfolio("USDT").available == D("910")


async def test_an_invalid_fill_changes_nothing_however_often_it_is_delivered():
    """The fill is validated before the portfolio is touched; re-deliveries change nothing."""
    clock = SimulatedClock(1_700_000_000_000)
    personal = ExchangePersonalData(clock, starting_balances={"USDT": "1000"})
    order = create_order_instance("limit", "buy", "BTC/USDT", D("1"), D("100"), clock=clock)
    personal.portfolio_manager.reserve(order, "USDT", D("100"))
    order.is_active = True
    personal.orders_manager.add(order)
    report = ExchangeOrder(
        "X1",
        order.client_order_id,
        "BTC/USDT",
        OrderType.LIMIT,
        OrderSide.BUY,
        OrderStatus.PARTIALLY_FILLED,
        D("100"),
        D("1"),
        D("0.5"),
        D("0.5"),
        D("100"),
        None,
        1,
    )
    await personal.orders_manager.apply_exchange_update(report, [])  # opens it... and infers 0.5
    usdt = personal.portfolio_manager.portfolio.get_currency_portfolio("USDT")
    before = (usdt.total, usdt.available, order.filled, len(personal.trades_manager))
    for bad in (
        ExchangeTrade("t-bad", "X1", "BTC/USDT", OrderSide.BUY, D("-5"), D("0.5"), None, None, 2),
        ExchangeTrade("t-zero", "X1", "BTC/USDT", OrderSide.BUY, D("100"), D("0"), None, None, 2),
        ExchangeTrade("t-big", "X1", "BTC/USDT", OrderSide.BUY, D("100"), D("2"), None, None, 2),
    ):
        for _ in range(3):
            with pytest.raises(InvalidOrderState):
                await personal.orders_manager.apply_exchange_update(report, [bad])
            usdt = personal.portfolio_manager.portfolio.get_currency_portfolio("USDT")
            assert (usdt.total, usdt.available, order.filled, len(personal.trades_manager)) == before


async def test_a_self_managed_exit_without_price_events_is_refused_before_sending(live):
    """A bundled stop-loss the venue lacks needs price events; without them nothing is sent."""
    server, connector, personal, _trader = live
    trader = Trader(
        connector,
        personal,
        clock=LiveClock(),
        simulated=False,
        markets=_trader.markets,
        price_of=_trader.price_of,
        supported_order_types={OrderType.MARKET, OrderType.LIMIT},
    )
    last = server.state.markets["BTCUSDT"].last_price
    with pytest.raises(InvalidOrder, match="price-event source"):
        await trader.create_order(
            "market", "buy", "BTC/USDT", "0.001", stop_loss_price=(last * D("0.8")).quantize(D("0.01"))
        )
    assert server.state.orders == {} and personal.orders_manager.all_orders() == []


async def test_same_side_oco_members_never_send_the_simulator_parameter(live):
    """``shares_funds_with`` is for the simulator only; the venue never receives it."""
    server, connector, _personal, trader = live
    sent: list[dict] = []
    original = connector.client.create_order

    async def spy(*args, **kwargs):
        sent.append(dict(args[5]) if len(args) > 5 else dict(kwargs.get("params") or {}))
        return await original(*args, **kwargs)

    connector.client.create_order = spy
    last = server.state.markets["BTCUSDT"].last_price
    group = OrderGroup(GroupKind.OCO)
    first = await trader.create_order(
        "limit", "sell", "BTC/USDT", "0.001", (last * D("1.1")).quantize(D("0.01")), group=group
    )
    # (the fake server lists only LIMIT / MARKET: two resting sells stand for a target and a stop)
    second = await trader.create_order(
        "limit", "sell", "BTC/USDT", "0.001", (last * D("1.05")).quantize(D("0.01")), group=group
    )
    assert first.exchange_order_id and second.exchange_order_id and len(sent) == 2
    assert all("shares_funds_with" not in params for params in sent)
    assert second.reservation_owner is first  # the local books still count the funds once
    params = {"shares_funds_with": first.exchange_order_id}
    direct = await connector.create_order(
        "limit", "sell", "BTC/USDT", D("0.001"), first.price, client_order_id="direct-1", params=params
    )
    assert direct.id and "shares_funds_with" not in sent[-1]  # the connector drops it too


async def test_a_5xx_placement_stays_in_flight_and_is_found_when_the_venue_placed_it(live):
    """After a 5xx the trader neither forgets nor re-sends the order: it looks it up."""
    server, _connector, _personal, trader = live
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    server.faults.status(503, method="POST", path="/api/v3/order")  # not processed
    lost = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
    assert lost.status is OrderStatus.PENDING_CREATION and lost.reserved_amount > 0  # in flight, not rejected
    server.faults.status_after(500)  # processed, answered 500
    placed = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price - 1)
    assert placed.status is OrderStatus.OPEN and placed.exchange_order_id
    assert server.faults.count("POST", "/api/v3/order") == 2 and len(server.state.orders) == 1
    await trader.sync_with_exchange()
    assert lost.status is OrderStatus.PENDING_CREATION  # not given up before the venue's window closes
    assert server.faults.count("POST", "/api/v3/order") == 2


async def test_the_fee_is_reserved_where_the_venue_charges_it_in_the_spent_currency(live):
    """A venue charging the fee in the spent currency (ccxt ``feeSide``) gets it reserved."""
    server, connector, personal, trader = live
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    binance = trader.markets["BTC/USDT"]
    assert binance.fee_side == "get"  # Binance: the fee comes out of what is received
    plain = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
    assert plain.reserved_amount == price * D("0.001")
    await assert_matches_exchange(connector, personal)
    trader.markets["BTC/USDT"] = replace(binance, fee_side="quote")  # a Kraken-like market
    with_fee = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
    assert with_fee.reserved_amount == price * D("0.001") * (1 + trader.fees.taker)
    sell = await trader.create_order("limit", "sell", "BTC/USDT", "0.001", (price * D("1.2")).quantize(D("0.01")))
    assert sell.reserved_amount == D("0.001")  # a sell spends base: its quote fee is not reserved


async def test_funds_of_an_in_flight_order_stay_reserved_across_a_balance_refresh(live):
    """The venue's free balance does not lock an order it may not know: the local books do."""
    server, connector, personal, trader = live
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    server.faults.status(503, method="POST", path="/api/v3/order")  # never processed
    order = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
    await trader.refresh_balances()
    venue = (await connector.fetch_balance())["USDT"]
    usdt = personal.portfolio_manager.portfolio.get_currency_portfolio("USDT")
    assert (usdt.total, usdt.available) == (venue.total, venue.free - order.reserved_amount)
    order.created_at -= trader_module.IN_FLIGHT_GIVE_UP_MS  # the venue's window has passed (live clock)
    for _ in range(trader_module.IN_FLIGHT_MIN_LOOKUPS):
        await trader.resolve_in_flight()
    assert order.status is OrderStatus.REJECTED and server.state.orders == {}
    await assert_matches_exchange(connector, personal)
