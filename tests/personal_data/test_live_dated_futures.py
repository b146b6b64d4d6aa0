"""Live trading of a dated future (``BTC/USDT:USDT-201225``) beside a perpetual: the real trader and
the real ccxt ``binanceusdm`` client on the fake USDⓈ-M venue listing a quarterly contract
(loopback). Dated futures have no funding: the manager gets ready without waiting for any, and
trades the dated contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

import octobot_trading as ot
from octobot_trading.testing import FakeFuturesServer
from octobot_trading.testing.fake_exchange.futures.markets import dated_future, default_futures_markets
from tests.exchange_data.helpers import until
from tests.personal_data.live_futures import XRP, live_futures_builder, running, venue_clock

DATED, DELIVERY_MS = "BTC/USDT:USDT-201225", 1_608_883_200_000  # 2020-12-25 08:00 UTC


@pytest.fixture
async def venue() -> AsyncIterator[FakeFuturesServer]:
    xrp, btc = default_futures_markets()
    async with FakeFuturesServer([xrp, btc, dated_future(btc, DELIVERY_MS)]) as server:
        yield server


async def test_live_manager_with_a_dated_future_is_ready_without_funding_and_trades_it(
    venue: FakeFuturesServer,
) -> None:
    builder = (
        live_futures_builder(venue, venue_clock(venue), account_poll_seconds=600.0)
        .with_symbols([XRP, DATED])
        .with_time_frames([])
        .rest_only(True)
    )
    async with running(builder) as built:
        required = set(built.readiness.required)
        assert f"funding:{XRP}" in required and f"funding:{DATED}" not in required
        assert built.trader.futures.leverage(DATED) == Decimal(20)  # the venue's setting
        await built.trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, DATED, amount="0.01")
        positions = built.exchange_personal_data.positions_manager
        await until(lambda: positions.get(DATED) is not None)
        assert positions.get(DATED).size == venue.futures_account().futures.get(DATED).size == Decimal("0.01")
