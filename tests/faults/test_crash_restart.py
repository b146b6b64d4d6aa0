"""``kill -9`` of the engine process around an order's request, and changes the venue made while the
engine was down, then a restart on the same SQLite file.

The engine runs in a child process (``octobot_trading.testing.engine_process``: the real engine,
real ccxt client, real SQLite file) and is killed with SIGKILL at a chosen point; the fake Binance server runs in the
test's process, so it outlives the kill and its request log says what reached the venue. The
restart builds the engine again on the same file; after its reconciliation the suite's invariants
must hold (no order lost, none sent twice, local orders, trades and balances equal to the
venue's, the engine running) and no line the engines wrote, nor any error, names a secret.
"""

from __future__ import annotations

import logging
import signal
from decimal import Decimal

import pytest

from octobot_trading.enums import OrderStatus
from tests.faults.conftest import venue_orders
from tests.faults.crash_harness import (
    check_secrets,
    place,
    price_below,
    reachable_buy,
    restart_and_check,
    stored_statuses,
    wait_for,
)

D = Decimal


pytest_plugins = ["tests.faults.crash_fixtures"]


async def test_kill_before_the_order_request_leaves_sends_nothing_and_the_restart_matches_the_venue(
    server, engines, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "state.sqlite"
    engine = await engines.start(path)
    await engine.request("hold_sends")
    await engine.send("create_order", type="limit", side="buy", amount="0.001", price=str(price_below(server, "0.05")))
    sending = await engine.expect("sending")
    assert await engine.kill() == -signal.SIGKILL  # the engine decided to place; the request never left
    client_id = sending["client_order_id"]
    assert server.state.order_requests == [] and venue_orders(server) == []

    for _restart in range(2):
        orders = await restart_and_check(server, path, in_flight_window=True)
        # known from the file or not, the order is not open locally and was never sent
        assert all(o.status in (OrderStatus.REJECTED, OrderStatus.CANCELED) for o in orders)
        assert server.state.order_requests == [] and venue_orders(server) == []
    assert client_id
    check_secrets(caplog, server, engines)


async def test_kill_while_the_venue_holds_the_placement_reply_adopts_the_order_once(server, engines, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "state.sqlite"
    engine = await engines.start(path)
    hold = server.faults.timeout_after(30.0)  # the venue places the order and holds its reply
    await engine.send("create_order", type="limit", side="buy", amount="0.001", price=str(price_below(server, "0.05")))
    sending = await engine.expect("sending")
    await wait_for(lambda: len(venue_orders(server)) == 1)  # processed by the venue, reply not sent
    assert await engine.kill() == -signal.SIGKILL
    server.faults.faults.remove(hold)
    (placed,) = venue_orders(server)
    assert placed.client_order_id == sending["client_order_id"] and placed.is_open

    for _restart in range(2):
        orders = await restart_and_check(server, path)
        assert [(o.client_order_id, o.exchange_order_id, o.status) for o in orders] == [
            (placed.client_order_id, str(placed.order_id), OrderStatus.OPEN)
        ]
    assert len(server.state.order_requests) == 1
    check_secrets(caplog, server, engines)


async def test_kill_right_after_the_placement_reply_keeps_the_order_once(server, engines, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "state.sqlite"
    engine = await engines.start(path)
    placed = await place(engine, type="limit", side="buy", amount="0.001", price=str(price_below(server, "0.05")))
    assert await engine.kill() == -signal.SIGKILL  # before the storage writer's next flush

    for _restart in range(2):
        orders = await restart_and_check(server, path)
        assert [(o.client_order_id, o.exchange_order_id, o.status) for o in orders] == [
            (placed["client_order_id"], placed["exchange_order_id"], OrderStatus.OPEN)
        ]
    assert len(server.state.order_requests) == 1
    check_secrets(caplog, server, engines)


async def test_kill_right_after_a_market_fill_records_the_fill_once(server, engines, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "state.sqlite"
    engine = await engines.start(path)
    placed = await place(engine, type="market", side="sell", amount="0.002")
    assert await engine.kill() == -signal.SIGKILL

    for _restart in range(2):
        await restart_and_check(server, path)
    (fake,) = venue_orders(server)
    assert fake.client_order_id == placed["client_order_id"] and fake.status == "FILLED"
    check_secrets(caplog, server, engines)


@pytest.mark.parametrize("stored_first", [True, False], ids=["killed_after_a_flush", "killed_at_once"])
async def test_fills_partial_fills_and_manual_cancels_while_killed_are_applied_once(
    server, engines, tmp_path, caplog, stored_first
):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "state.sqlite"
    price = reachable_buy(server, 20)
    engine = await engines.start(path)
    placed = {}
    for name, side, amount, order_price in (
        ("filled", "buy", "0.001", price),
        ("partly", "buy", "0.2", price),  # larger than one candle's share of the volume
        ("partly_then_canceled", "buy", "0.15", price),
        ("canceled", "sell", "0.003", price_below(server, "-0.05")),
    ):
        placed[name] = await place(engine, type="limit", side=side, amount=amount, price=str(order_price))
    if stored_first:  # killed while running steadily, the periodic writer having run
        await wait_for(lambda: stored_statuses(path) == ["open"] * 4)
    assert await engine.kill() == -signal.SIGKILL

    by_name = {name: server.state.orders[int(order["exchange_order_id"])] for name, order in placed.items()}
    server.state.max_fill_fraction = D("0.00002")  # each candle fills a small share of its volume
    server.advance(20)
    server.state.cancel_order(by_name["canceled"])
    server.state.cancel_order(by_name["partly_then_canceled"])
    assert by_name["filled"].status == "FILLED"
    assert by_name["partly"].status == "PARTIALLY_FILLED"
    assert by_name["partly_then_canceled"].status == "CANCELED" and by_name["partly_then_canceled"].executed_qty > 0

    for _restart in range(2):
        orders = {o.client_order_id: o for o in await restart_and_check(server, path)}
        assert orders[placed["partly"]["client_order_id"]].status is OrderStatus.PARTIALLY_FILLED
        assert orders[placed["canceled"]["client_order_id"]].status is OrderStatus.CANCELED
    assert len(server.state.order_requests) == 4
    check_secrets(caplog, server, engines)
