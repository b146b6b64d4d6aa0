"""Live futures on the account's private streams: the real ccxt.pro ``binanceusdm`` client against
the fake USDⓈ-M venue's user-data stream (loopback). REST polling is kept an hour away and the
simulated clock never reaches it, so a position seen here came through the stream: opened, grown,
flipped, closed on the venue by another client of the same account, and liquidated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.enums import PositionSide
from octobot_trading.testing import FakeFuturesServer
from tests.exchange_data.helpers import until
from tests.personal_data.live_futures import (
    XRP,
    collect_liquidations,
    local_position,
    streaming_manager,
    streaming_venue,
    venue_order,
)

D = Decimal


@pytest.fixture
async def venue() -> AsyncIterator[FakeFuturesServer]:
    async with streaming_venue() as server:
        yield server


@pytest.fixture
async def manager(venue: FakeFuturesServer) -> AsyncIterator[Any]:
    async with streaming_manager(venue) as built:
        yield built


async def test_stream_positions_follow_the_venue_without_polling(manager: Any, venue: FakeFuturesServer) -> None:
    await venue_order(venue, "buy", "100")
    await until(lambda: local_position(manager) is not None and local_position(manager).size == D(100))
    theirs = venue.futures_account().futures.get(XRP)
    assert local_position(manager).entry_price == theirs.entry_price
    await venue_order(venue, "buy", "50")
    await until(lambda: local_position(manager).size == D(150))
    await venue_order(venue, "sell", "200")
    await until(lambda: local_position(manager).side is PositionSide.SHORT)
    assert local_position(manager).size == D(50) and local_position(manager, PositionSide.LONG) is None
    await venue_order(venue, "buy", "50", reduceOnly=True)
    await until(lambda: local_position(manager) is None)


async def test_stream_liquidation_removes_the_position_and_is_reported(manager: Any, venue: FakeFuturesServer) -> None:
    liquidations = collect_liquidations(manager)
    await manager.trader.set_leverage(XRP, "10")
    await manager.trader.set_margin_mode(XRP, ot.MarginMode.ISOLATED)
    await venue_order(venue, "buy", "100")
    await until(lambda: local_position(manager) is not None)
    venue_position = venue.futures_account().futures.get(XRP)
    assert venue_position is not None and venue_position.liquidation_price is not None
    liquidation_price = venue_position.liquidation_price  # (stream positions carry none)
    venue.set_mark_price("XRPUSDT", liquidation_price * D("0.95"))
    await until(lambda: local_position(manager) is None and liquidations)
    (liquidation,) = liquidations
    assert (liquidation.side, liquidation.size) == (PositionSide.LONG, D(100))
