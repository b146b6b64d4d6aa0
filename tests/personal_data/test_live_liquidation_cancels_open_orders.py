"""Live: the open orders a venue cancels when it liquidates a position are seen canceled by the
engine. ``ExchangeBuilder("binanceusdm")`` with the real trader and the real ccxt client on the
fake USDⓈ-M venue (loopback, simulated clock): resting orders placed through the trader, the
position liquidated on the venue; the next account poll (REST only) or the private stream shows
the liquidated position's orders ``CANCELED`` (every order of the symbol in one-way mode, those of
the liquidated side in hedge mode, the other side's orders staying open) and the balance equal to
the venue's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import OrderStatus, PositionSide
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing import FakeFuturesServer
from tests.exchange_data.helpers import until
from tests.personal_data.live_futures import (
    XRP,
    assert_follows_venue,
    collect_liquidations,
    live_futures_builder,
    local_position,
    polled,
    running,
    streaming_manager,
    streaming_venue,
    trade,
    venue_clock,
)

D = Decimal
POLL_SECONDS = 600.0


@pytest.fixture
async def manager() -> AsyncIterator[tuple[Any, SimulatedClock, FakeFuturesServer]]:
    async with FakeFuturesServer() as venue:
        clock = venue_clock(venue)
        builder = live_futures_builder(venue, clock, account_poll_seconds=POLL_SECONDS).rest_only(True)
        async with running(builder) as built:
            await built.trader.set_leverage(XRP, "10")
            await built.trader.set_margin_mode(XRP, ot.MarginMode.ISOLATED)
            yield built, clock, venue


async def _limit(built: Any, side: ot.OrderSide, price: Decimal, **kwargs: Any) -> Any:
    return await built.trader.create_order(ot.OrderType.LIMIT, side, XRP, "100", price, **kwargs)


def _last(venue: FakeFuturesServer) -> Decimal:
    return venue.market("XRPUSDT").last_price


async def test_orders_of_a_one_way_position_liquidated_on_the_venue_are_seen_canceled(
    manager: tuple[Any, SimulatedClock, FakeFuturesServer],
) -> None:
    built, clock, venue = manager
    liquidations = collect_liquidations(built)
    await trade(built, ot.OrderSide.BUY, "100", lambda p: p is not None)
    last = _last(venue)
    grow = await _limit(built, ot.OrderSide.BUY, (last * D("0.8")).quantize(D("0.0001")))
    exit_ = await _limit(built, ot.OrderSide.SELL, (last * D("1.25")).quantize(D("0.0001")), reduce_only=True)
    assert {o.id for o in built.exchange_personal_data.orders_manager.open_orders(XRP)} == {grow.id, exit_.id}
    position = local_position(built)
    venue.set_mark_price("XRPUSDT", position.liquidation_price * D("0.95"))

    await polled(
        clock, POLL_SECONDS, lambda: liquidations and not built.exchange_personal_data.orders_manager.open_orders(XRP)
    )

    assert (grow.status, exit_.status) == (OrderStatus.CANCELED, OrderStatus.CANCELED)
    assert local_position(built) is None
    await assert_follows_venue(built, venue)


async def test_a_hedge_mode_liquidation_on_the_venue_cancels_the_liquidated_sides_orders_only(
    manager: tuple[Any, SimulatedClock, FakeFuturesServer],
) -> None:
    built, clock, venue = manager
    liquidations = collect_liquidations(built)
    await built.trader.set_position_mode(XRP, ot.PositionMode.HEDGE)
    await trade(built, ot.OrderSide.BUY, "100", lambda p: p is not None, position_side=PositionSide.LONG)
    await trade(built, ot.OrderSide.SELL, "100", lambda p: p is not None, position_side=PositionSide.SHORT)
    last = _last(venue)
    low, high = (last * D("0.8")).quantize(D("0.0001")), (last * D("1.25")).quantize(D("0.0001"))
    long_exit = await _limit(built, ot.OrderSide.SELL, high, position_side=PositionSide.LONG)
    short_exit = await _limit(built, ot.OrderSide.BUY, low, position_side=PositionSide.SHORT)
    long_position = local_position(built, PositionSide.LONG)
    venue.set_mark_price("XRPUSDT", long_position.liquidation_price * D("0.95"))

    await polled(clock, POLL_SECONDS, lambda: liquidations and long_exit.status is OrderStatus.CANCELED)

    (liquidation,) = liquidations
    assert liquidation.side is PositionSide.LONG
    assert short_exit.status is OrderStatus.OPEN
    assert [o.id for o in built.exchange_personal_data.orders_manager.open_orders(XRP)] == [short_exit.id]
    assert local_position(built, PositionSide.LONG) is None
    assert local_position(built, PositionSide.SHORT).size == D(100)
    await assert_follows_venue(built, venue)


async def test_orders_of_a_position_liquidated_on_the_venue_are_seen_canceled_through_the_stream() -> None:
    # private streams, REST polls an hour away: the venue's order updates alone tell the engine
    async with streaming_venue() as venue, streaming_manager(venue) as built:
        streams = built.get_component("trader", TraderComponent).account_streams
        await until(lambda: streams.reconciliations == 1)
        await built.trader.set_leverage(XRP, "10")
        await built.trader.set_margin_mode(XRP, ot.MarginMode.ISOLATED)
        await trade(built, ot.OrderSide.BUY, "100", lambda p: p is not None)
        last = _last(venue)
        exit_ = await _limit(built, ot.OrderSide.SELL, (last * D("1.25")).quantize(D("0.0001")), reduce_only=True)
        await until(lambda: exit_.status is OrderStatus.OPEN)
        held = venue.futures_account().futures.get(XRP)  # (a stream position carries no liquidation price)
        assert held is not None and held.liquidation_price is not None
        venue.set_mark_price("XRPUSDT", held.liquidation_price * D("0.95"))
        await until(lambda: exit_.status is OrderStatus.CANCELED and local_position(built) is None)
        assert built.exchange_personal_data.orders_manager.open_orders(XRP) == []
        assert streams.reconciliations == 1  # seen through the stream, not read over REST
