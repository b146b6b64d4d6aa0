"""Live futures on the private streams: the venue's balance updates after a fill's fee and realized
PnL, or a funding payment, are not mistaken for gaps in the local books. The real ccxt.pro
``binanceusdm`` client against the fake USDⓈ-M venue's user-data stream (loopback); REST polling
is kept an hour away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing import FakeFuturesServer
from tests.exchange_data.helpers import until
from tests.personal_data.live_futures import XRP, local_position, streaming_manager, streaming_venue

D = Decimal


@pytest.fixture
async def venue() -> AsyncIterator[FakeFuturesServer]:
    async with streaming_venue() as server:
        yield server


@pytest.fixture
async def manager(venue: FakeFuturesServer) -> AsyncIterator[Any]:
    async with streaming_manager(venue) as built:
        yield built


def _local_total(manager: Any) -> Decimal:
    return manager.exchange_personal_data.portfolio_manager.portfolio.total("USDT")


async def test_fees_and_a_funding_payment_on_the_stream_move_the_wallet_without_a_mismatch(
    manager: Any, venue: FakeFuturesServer
) -> None:
    streams = manager.get_component("trader", TraderComponent).account_streams
    # the reconciliation of the subscription runs after the streams turned healthy: its end is
    # awaited, so no REST read in flight counts in what follows
    await until(lambda: streams.reconciliations == 1)
    start = _local_total(manager)
    await manager.trader.create_order("market", "buy", XRP, "100")  # the venue takes its fee
    await until(lambda: local_position(manager) is not None)
    wallet = venue.futures_account().futures.wallet("USDT")
    assert wallet < start
    await until(lambda: _local_total(manager) == wallet)
    before = (streams.balance_mismatches, streams.gaps, streams.reconciliations)
    assert before == (0, 0, 1)  # the fill came through the stream: no gap, no REST reconciliation
    (paid,) = venue.settle_funding("XRPUSDT", "0.002")  # the long pays: only the stream says so
    assert paid < 0
    wallet = venue.futures_account().futures.wallet("USDT")
    await until(lambda: _local_total(manager) == wallet)
    assert (streams.balance_mismatches, streams.gaps, streams.reconciliations) == before
    portfolio = manager.exchange_personal_data.portfolio_manager.portfolio
    assert D(0) <= portfolio.available("USDT") <= wallet
