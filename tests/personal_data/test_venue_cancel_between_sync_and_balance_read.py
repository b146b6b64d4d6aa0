"""An order canceled on the venue (by hand) between the engine's order sync and its balance read: the
balances read already count the release of what the order held. Applying that cancel at the next
sync must release nothing a second time, leaving orders and balances equal to the venue's at once.

Spot: the real trader against the fake Binance server (real ccxt client, REST only). Contracts: the
real trader against the fake USDⓈ-M venue (real ccxt binanceusdm client), with one and with two
resting orders (the other still holding its margin), over REST and on the private streams.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.enums import OrderStatus
from octobot_trading.personal_data.orders.order import OrderEvent
from octobot_trading.testing import FakeFuturesServer
from tests.clock_driving import build_simulated
from tests.exchange_data.helpers import until
from tests.faults.conftest import (
    Venue,
    assert_engine_matches_venue,
    assert_no_secret,
    far_buy_price,
    live_builder,
    sim_clock,
)
from tests.personal_data.live_futures import (
    XRP,
    live_futures_builder,
    running,
    streaming_manager,
    streaming_venue,
    venue_clock,
)
from tests.personal_data.live_venue import venue as venue


@pytest.fixture
async def futures_venue() -> AsyncIterator[FakeFuturesServer]:
    async with FakeFuturesServer() as server:
        yield server


@pytest.mark.parametrize("partly_filled", [False, True], ids=["unfilled", "partly_filled_first"])
@pytest.mark.parametrize("side", ["buy", "sell"])
async def test_a_spot_order_canceled_on_the_venue_between_the_sync_and_the_balance_read_releases_once(
    venue: Venue, caplog: Any, side: str, partly_filled: bool
) -> None:
    caplog.set_level(logging.INFO)
    server = venue.server
    manager = await build_simulated(live_builder(venue, sim_clock(server)).rest_only(True))
    async with manager:
        last = server.state.markets["BTCUSDT"].last_price
        price = far_buy_price(server) if side == "buy" else (last * 2).quantize(Decimal("0.01"))
        order = await manager.trader.create_order("limit", side, "BTC/USDT", "0.002", price)
        assert order.status is OrderStatus.OPEN
        await manager.trader.sync_with_exchange(manager.symbols)  # the poll's first read: still open
        fake = server.state.orders[int(order.exchange_order_id or 0)]
        if partly_filled:  # a part fills on the venue first
            server.state._fill(fake, fake.price, Decimal("0.0008"), maker=True)
        server.state.cancel_order(fake)  # by hand, now ...
        await manager.trader.refresh_balances()  # ... so the poll's balance read already counts the release
        await manager.trader.sync_with_exchange(manager.symbols)  # the next poll's sync applies the cancel
        assert order.status is OrderStatus.CANCELED
        assert order.filled == (Decimal("0.0008") if partly_filled else 0)
        assert order.reserved_amount == 0
        assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        portfolio = manager.exchange_personal_data.portfolio_manager.portfolio
        balances = server.account(server.api_key)
        for asset in ("BTC", "USDT"):
            free, locked = balances.free.get(asset, Decimal(0)), balances.locked.get(asset, Decimal(0))
            assert (portfolio.total(asset), portfolio.available(asset)) == (free + locked, free), asset
        await assert_engine_matches_venue(manager, server)
    assert_no_secret(server, caplog)


async def _resting_buys(built: ot.ExchangeManager, venue: FakeFuturesServer, resting: int) -> list[Any]:
    """``resting`` isolated 10x limit buys of 1000 XRP, 1% under the last price (none fills)."""
    trader = built.trader
    await trader.set_margin_mode(XRP, ot.MarginMode.ISOLATED)
    await trader.set_leverage(XRP, "10")
    price = (venue.market("XRPUSDT").last_price * Decimal("0.99")).quantize(Decimal("0.0001"))
    return [
        await trader.create_order(ot.OrderType.LIMIT, ot.OrderSide.BUY, XRP, amount="1000", price=str(price))
        for _ in range(resting)
    ]


@pytest.mark.parametrize("resting", [1, 2], ids=["alone", "beside_another_resting_order"])
async def test_a_contract_order_canceled_on_the_venue_between_the_sync_and_the_balance_read_releases_once(
    futures_venue: FakeFuturesServer, caplog: Any, resting: int
) -> None:
    caplog.set_level(logging.INFO)
    venue = futures_venue
    builder = live_futures_builder(venue, venue_clock(venue), account_poll_seconds=600).rest_only(True)
    async with running(builder) as built:
        trader = built.trader
        orders = await _resting_buys(built, venue, resting)
        portfolio = built.exchange_personal_data.portfolio_manager.portfolio
        await trader.sync_with_exchange(built.symbols)  # the poll's first read: still open
        canceled = orders[0]
        venue.venue.cancel(venue.venue.orders[int(canceled.exchange_order_id or 0)])  # by hand, now ...
        await trader.refresh_balances()  # ... so the poll's balance read already counts the release
        await trader.sync_with_exchange(built.symbols)  # the next poll's sync applies the cancel
        assert canceled.status is OrderStatus.CANCELED
        assert all(o.status is OrderStatus.OPEN for o in orders[1:])
        assert canceled.reserved_amount == 0
        balance = (await built.exchange.fetch_balance())["USDT"]
        assert (portfolio.total("USDT"), portfolio.available("USDT")) == (balance.total, balance.free)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or "failed" in r.getMessage()]


@pytest.mark.parametrize("resting", [1, 2], ids=["alone", "beside_another_resting_order"])
@pytest.mark.parametrize("canceled_by", ["engine", "venue"])
async def test_a_contract_order_canceled_after_a_streamed_balance_update_releases_its_margin_once(
    caplog: Any, canceled_by: str, resting: int
) -> None:
    """The same on the private streams (REST polling an hour away): the stream's balance update
    made available the venue's free amount, then the order is canceled by the engine or by hand on
    the venue and the cancel arrives through the stream."""
    caplog.set_level(logging.INFO)
    async with streaming_venue() as venue, streaming_manager(venue) as built:
        trader = built.trader
        orders = await _resting_buys(built, venue, resting)
        portfolio = built.exchange_personal_data.portfolio_manager.portfolio
        free = (await built.exchange.fetch_balance())["USDT"].free
        await until(lambda: portfolio.available("USDT") == free)  # the stream's balance update
        canceled = orders[0]
        if canceled_by == "engine":
            await trader.cancel_order(canceled)
        else:
            venue.venue.cancel(venue.venue.orders[int(canceled.exchange_order_id or 0)])
        await until(lambda: canceled.status is OrderStatus.CANCELED)
        assert canceled.reserved_amount == 0
        assert all(o.status is OrderStatus.OPEN for o in orders[1:])
        balance = (await built.exchange.fetch_balance())["USDT"]
        await until(lambda: (portfolio.total("USDT"), portfolio.available("USDT")) == (balance.total, balance.free))
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or "sync of" in r.getMessage()]


async def test_a_spot_cancel_applied_after_the_balance_read_keeps_what_another_resting_order_holds(
    venue: Venue, caplog: Any
) -> None:
    """Two resting sells of 0.002 BTC; the first is canceled by hand before the balance read: when
    the sync applies that cancel, available BTC is the venue's free amount at once (the second
    order still holds its 0.002), not more."""
    caplog.set_level(logging.INFO)
    server = venue.server
    manager = await build_simulated(live_builder(venue, sim_clock(server)).rest_only(True))
    async with manager:
        price = (server.state.markets["BTCUSDT"].last_price * 2).quantize(Decimal("0.01"))
        first = await manager.trader.create_order("limit", "sell", "BTC/USDT", "0.002", price)
        second = await manager.trader.create_order("limit", "sell", "BTC/USDT", "0.002", price)
        await manager.trader.sync_with_exchange(manager.symbols)
        portfolio = manager.exchange_personal_data.portfolio_manager.portfolio
        seen: list[Decimal] = []

        async def at_cancel(order: Any) -> None:
            seen.append(portfolio.available("BTC"))

        first.add_hook(OrderEvent.CANCEL, at_cancel)
        server.state.cancel_order(server.state.orders[int(first.exchange_order_id or 0)])
        await manager.trader.refresh_balances()
        await manager.trader.sync_with_exchange(manager.symbols)
        assert first.status is OrderStatus.CANCELED and second.status is OrderStatus.OPEN
        balances = server.account(server.api_key)
        assert seen == [balances.free["BTC"]]  # what the second order holds stays held
        assert second.reserved_amount == Decimal("0.002")
        await assert_engine_matches_venue(manager, server)
    assert_no_secret(server, caplog)
