"""A placement the venue processed but answered badly (5xx, no reply in time, connection cut):
the order stays in flight, is found by its client order id, adopted once and never re-sent."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal

import pytest

from octobot_trading.enums import OrderStatus
from octobot_trading.testing.fake_exchange.faults import Fault, FaultInjector
from tests.faults.conftest import (
    ORDER_PATH,
    assert_engine_matches_venue,
    assert_no_secret,
    build_live,
    drive_task,
    far_buy_price,
    live_builder,
    settle,
    sim_clock,
    started,
    until,
    venue_orders,
)

D = Decimal
#: ccxt's timeout in these scenarios (ms): the venue holds a reply twice as long.
TIMEOUT_MS = 400

AMBIGUOUS: dict[str, Callable[[FaultInjector], Fault]] = {
    "a 5xx answer": lambda faults: faults.status_after(500),
    "no answer in time": lambda faults: faults.timeout_after(2 * TIMEOUT_MS / 1000),
    "a cut connection": lambda faults: faults.drop_after(),
    # processed only after the client gave up and its lookups found nothing
    "processed late": lambda faults: faults.latency(3 * TIMEOUT_MS / 1000, method="POST", path=ORDER_PATH, times=1),
}


@pytest.mark.parametrize("marketable", [False, True], ids=["resting", "filled-at-once"])
@pytest.mark.parametrize("lookup_fails", [False, True], ids=["found-at-once", "lookup-fails"])
@pytest.mark.parametrize("fault", list(AMBIGUOUS))
async def test_a_placement_processed_but_answered_badly_is_adopted_once_and_never_re_sent(
    venue, caplog, fault, lookup_fails, marketable
):
    caplog.set_level(logging.INFO)
    server = venue.server
    clock = sim_clock(server)
    # a startup read timing out on a loaded machine sleeps its retry backoff on the engine clock
    manager = await build_live(clock, live_builder(venue, clock, ccxt_options={"timeout": TIMEOUT_MS}))
    try:
        await started(manager)
        trader = manager.trader
        market = server.state.markets["BTCUSDT"]
        if marketable:  # a limit above the last price: the venue fills it at once
            price = (market.last_price * D("1.002")).quantize(market.tick_size, rounding=ROUND_FLOOR)
        else:
            price = far_buy_price(server)
        if lookup_fails:  # the lookups by client order id fail too: the outcome stays unknown
            server.faults.status(503, method="GET", path=ORDER_PATH, times=None)
        AMBIGUOUS[fault](server.faults)
        order = await drive_task(clock, trader.create_order("limit", "buy", "BTC/USDT", "0.001", price))
        await until(lambda: bool(venue_orders(server)))
        (placed,) = venue_orders(server)  # the venue has it once
        assert server.faults.count("POST", ORDER_PATH) == 1
        assert placed.client_order_id == order.client_order_id
        if lookup_fails and order.status is OrderStatus.PENDING_CREATION:
            assert order.reserved_amount > 0  # in flight: its funds stay reserved
        server.faults.clear()
        await settle()  # the stream's reports of the order cross the loopback
        await until(lambda: not manager.exchange_personal_data.orders_manager.in_flight() or lookup_fails)
        await assert_engine_matches_venue(manager, server)
        assert order.exchange_order_id == str(placed.order_id)
        assert manager.exchange_personal_data.orders_manager.all_orders() == [order]  # adopted once
        assert order.filled == placed.executed_qty
        assert server.faults.count("POST", ORDER_PATH) == 1  # never re-sent
        assert_no_secret(server, caplog)
    finally:
        await manager.stop()
