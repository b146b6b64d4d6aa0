"""In-flight lookups isolated per order, given-up orders looked up again.

Through the real ccxt client against the project's fake Binance server on loopback (fills made with
the fake server's own matching step ``state._fill``, faults with its fault injector).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.exchanges.types import ExchangeOrder, ExchangeTrade
from octobot_trading.personal_data import ExchangePersonalData, live_sync
from octobot_trading.personal_data.orders.order_types import create_order_instance
from tests.personal_data.helpers import trader_on_stand_in
from tests.personal_data.live_venue import assert_matches_exchange
from tests.personal_data.live_venue import live as live

D = Decimal
ORDER = "/api/v3/order"


def _below_market(server, factor: str = "0.9") -> Decimal:
    market = server.state.markets["BTCUSDT"]
    return (market.last_price * D(factor)).quantize(market.tick_size)


async def test_a_failing_in_flight_lookup_never_blocks_the_sync_of_other_orders(live):
    """The lookup of an in-flight order raises; the other orders and balances still sync."""
    server, connector, personal, trader = live
    price = _below_market(server)
    filled = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
    server.faults.status(503, method="POST", path=ORDER)  # not processed: outcome unknown
    lost = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price - 1)
    assert lost.status is OrderStatus.PENDING_CREATION
    fake = server.state.orders[int(filled.exchange_order_id)]
    server.state._fill(fake, fake.price, D("0.001"), maker=True)
    server.faults.status(500, method="GET", path=ORDER, times=3)  # the lookup fails (3 retries)
    await trader.sync_with_exchange()  # does not raise
    assert filled.status is OrderStatus.CLOSED and filled.filled == D("0.001")
    assert lost.status is OrderStatus.PENDING_CREATION
    assert trader.live_sync.misses(lost.client_order_id) == 0  # a failed lookup is not a miss
    await trader.refresh_balances()
    venue = await connector.fetch_balance()
    usdt = personal.portfolio_manager.portfolio.get_currency_portfolio("USDT")
    # the in-flight order's funds stay reserved locally (the venue may still process it)
    assert (usdt.total, usdt.available) == (venue["USDT"].total, venue["USDT"].free - lost.reserved_amount)
    assert personal.portfolio_manager.portfolio.get_currency_portfolio("BTC").total == venue["BTC"].total


async def test_an_in_flight_order_found_with_an_unappliable_fill_never_blocks_the_others():
    """A found in-flight order whose fill is invalid is logged and retried; the next one resolves."""
    clock = SimulatedClock(1_700_000_000_000)
    personal = ExchangePersonalData(clock, starting_balances={"USDT": "1000"})
    manager = personal.orders_manager
    orders = [create_order_instance("limit", "buy", "BTC/USDT", D("1"), D(p), clock=clock) for p in ("90", "80")]

    def shown(order, eid, status, filled):
        return ExchangeOrder(
            eid,
            order.client_order_id,
            "BTC/USDT",
            OrderType.LIMIT,
            OrderSide.BUY,
            status,
            order.price,
            D("1"),
            filled,
            D("1") - filled,
            order.price if filled else None,
            None,
            clock.now_ms(),
        )

    class Venue:  # the connector seen through the contract only: the fake server never sends invalid fills
        replies = {
            orders[0].client_order_id: shown(orders[0], "E1", OrderStatus.FILLED, D("1")),
            orders[1].client_order_id: shown(orders[1], "E2", OrderStatus.OPEN, D(0)),
        }

        async def fetch_order_by_client_id(self, client_order_id, symbol):
            return self.replies[client_order_id]

        async def fetch_my_trades(self, symbol=None, since=None, limit=None):
            return [ExchangeTrade("T1", "E1", "BTC/USDT", OrderSide.BUY, D(0), D("1"), D(0), "BTC", clock.now_ms())]

    trader = trader_on_stand_in(Venue(), personal, clock)
    for order in orders:
        currency, amount = trader.funds.reservation(order)
        personal.portfolio_manager.reserve(order, currency, amount)
        order.is_active = True
        manager.add(order)
    resolved = await trader.resolve_in_flight()  # does not raise
    assert resolved == [orders[1]] and orders[1].status is OrderStatus.OPEN
    assert orders[0].filled == 0 and personal.trades_manager.trades() == []  # the invalid fill changed nothing
    assert manager.get_by_exchange_id("E1") is orders[0]  # followed by exchange id from now on


async def test_a_given_up_order_that_filled_before_being_seen_is_restored_with_its_exits(live):
    """Given up, then processed late AND filled at once (never in the open orders): still restored,
    its fill recorded once and its exit placed."""
    server, connector, personal, trader = live
    price = _below_market(server)
    exit_price = _below_market(server, "1.2")
    placed = asyncio.Event()
    server.order_listeners.append(lambda _order: placed.set())
    server.faults.latency(3.0, method="POST", path=ORDER, times=1)  # > the 2 s client timeout
    entry = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price, take_profit_price=exit_price)
    assert entry.status is OrderStatus.PENDING_CREATION
    entry.created_at -= live_sync.IN_FLIGHT_GIVE_UP_MS  # the venue's window is over (no 60 s wait)
    for _ in range(live_sync.IN_FLIGHT_MIN_LOOKUPS):
        await trader.sync_with_exchange()  # the request is still delayed: not found
    assert entry.status is OrderStatus.REJECTED and personal.orders_manager.open_orders() == []
    await asyncio.wait_for(placed.wait(), timeout=30)  # the venue processes it late ...
    fake = server.state.orders[max(server.state.orders)]
    server.state._fill(fake, fake.price, D("0.001"), maker=True)  # ... and it fills before any poll sees it
    for _ in range(3):
        await trader.sync_with_exchange()
    assert entry.status is OrderStatus.CLOSED and entry.filled == D("0.001")
    venue_trades = [t for t in await connector.fetch_my_trades("BTC/USDT") if t.order_id == entry.exchange_order_id]
    assert [(t.id, t.amount, t.fee) for t in personal.trades_manager.trades()] == [
        (t.id, t.amount, t.fee) for t in venue_trades
    ]
    (exit_order,) = entry.chained_orders
    assert exit_order.status is OrderStatus.OPEN and exit_order.exchange_order_id
    assert [o.client_order_id for o in await connector.fetch_open_orders("BTC/USDT")] == [exit_order.client_order_id]
    await trader.refresh_balances()
    await assert_matches_exchange(connector, personal)


async def test_given_up_orders_are_looked_up_with_backoff_until_the_window_closes():
    """Lookups of a given-up order on polls 1, 2, 4, 8, ...; none after GIVEN_UP_LOOKUP_MS."""
    clock = SimulatedClock(1_700_000_000_000)
    personal = ExchangePersonalData(clock, starting_balances={"USDT": "1000"})
    manager = personal.orders_manager

    class Venue:  # the connector seen through the contract's lookup only
        lookups = 0

        async def fetch_order_by_client_id(self, client_order_id, symbol):
            self.lookups += 1
            return None

    venue = Venue()
    trader = trader_on_stand_in(venue, personal, clock)
    order = create_order_instance("limit", "buy", "BTC/USDT", D("1"), D("90"), clock=clock)
    order.is_active = True
    manager.add(order)
    order.transition(OrderStatus.REJECTED)
    manager.give_up(order)
    for _ in range(8):
        assert await trader.look_up_given_up() == []
    assert venue.lookups == 4
    clock.advance(live_sync.GIVEN_UP_LOOKUP_MS + 1)
    await trader.look_up_given_up()
    assert venue.lookups == 4 and manager.given_up_orders() == []
