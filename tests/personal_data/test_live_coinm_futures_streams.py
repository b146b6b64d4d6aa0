"""Live inverse futures on the account's private streams: the real ccxt.pro ``binancecoinm`` client
against the fake COIN-M venue's user-data stream (loopback). REST polling is kept an hour away and
the simulated clock never reaches it, so a ``BTC/USD:BTC`` position seen here came through the
stream: opened, grown, flipped and closed on the venue by another client of the same account,
and liquidated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.enums import PositionSide
from octobot_trading.testing import FakeFuturesServer
from tests.exchange_data.helpers import until
from tests.exchanges.futures_venues import COINM
from tests.personal_data.live_futures import (
    collect_liquidations,
    local_position,
    streaming_manager,
    streaming_venue,
    venue_order,
)

D = Decimal
BTC = COINM.symbol


@pytest.fixture
async def venue() -> AsyncIterator[FakeFuturesServer]:
    async with streaming_venue(COINM) as server:
        yield server


@pytest.fixture
async def manager(venue: FakeFuturesServer) -> AsyncIterator[Any]:
    async with streaming_manager(venue, COINM) as built:
        yield built


def _position(manager: Any, side: PositionSide | None = None) -> Any:
    return local_position(manager, side, COINM)


async def test_inverse_stream_positions_follow_the_venue_without_polling(
    manager: Any, venue: FakeFuturesServer
) -> None:
    await venue_order(venue, "buy", "10", COINM)
    await until(lambda: _position(manager) is not None and _position(manager).size == D(10))
    theirs = venue.futures_account().futures.get(BTC)
    assert theirs is not None and _position(manager).entry_price == theirs.entry_price
    await venue_order(venue, "buy", "5", COINM)
    await until(lambda: _position(manager).size == D(15))
    await venue_order(venue, "sell", "20", COINM)
    await until(lambda: _position(manager).side is PositionSide.SHORT)
    assert _position(manager).size == D(5) and _position(manager, PositionSide.LONG) is None
    await venue_order(venue, "buy", "5", COINM, reduceOnly=True)
    await until(lambda: _position(manager) is None)


async def test_inverse_stream_liquidation_removes_the_position_and_is_reported(
    manager: Any, venue: FakeFuturesServer
) -> None:
    liquidations = collect_liquidations(manager)
    await manager.trader.set_leverage(BTC, "20")
    await manager.trader.set_margin_mode(BTC, ot.MarginMode.ISOLATED)
    await venue_order(venue, "buy", "10", COINM)
    await until(lambda: _position(manager) is not None)
    venue_position = venue.futures_account().futures.get(BTC)
    assert venue_position is not None and venue_position.liquidation_price is not None
    venue.set_mark_price(COINM.venue_id, venue_position.liquidation_price * D("0.97"))
    await until(lambda: _position(manager) is None and liquidations)
    (liquidation,) = liquidations
    assert (liquidation.symbol, liquidation.side, liquidation.size) == (BTC, PositionSide.LONG, D(10))
