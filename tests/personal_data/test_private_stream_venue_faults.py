"""Private streams facing a misbehaving venue: absurd numbers in an event, a 418 ban while
reconnecting, a refused subscription (real ccxt.pro client against the fake Binance user-data
stream, simulated engine clock)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from octobot_trading.enums import OrderStatus
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing.fake_exchange import (
    FakeBinanceStreams,
    FakeBinanceUserData,
    FakeExchangeServer,
    default_markets,
)
from tests.exchange_data.helpers import until
from tests.exchanges.conftest import FIXTURES
from tests.personal_data.test_private_streams import _builder, _clock, _resting_buy, _started


@pytest.fixture
async def venue() -> AsyncIterator[tuple[FakeExchangeServer, FakeBinanceStreams, FakeBinanceUserData]]:
    server = FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100)
    streams, user_data = FakeBinanceStreams(server), FakeBinanceUserData(server)
    async with server:
        yield server, streams, user_data


def _streams(manager: Any) -> Any:
    return manager.get_component("trader", TraderComponent).account_streams


@pytest.mark.parametrize(
    "numbers",
    [
        {"l": "0.0001", "L": "1e999999999", "z": "0.0001", "Z": "1e999999999"},
        {"l": "0.0001", "L": "19000", "z": "0.0001", "Z": "1e999999999"},
        {"l": "0.0001", "L": "19000", "z": "0." + "0" * 200 + "1", "Z": "1.9"},
    ],
    ids=["huge_price_and_cost", "huge_cumulative_cost_only", "overlong_filled_amount"],
)
async def test_a_stream_event_with_an_absurd_number_is_refused_and_the_account_read_over_rest(venue, caplog, numbers):
    # ccxt.pro computes with an event's numbers as it receives it: "1e999999999" used to stall
    # the whole event loop for minutes there, before any check of the library could run
    caplog.set_level(logging.WARNING)
    server, streams, user_data = venue
    clock = _clock(server)
    manager = await _builder(server, streams, clock).build()
    try:
        await _started(manager)
        account_streams = _streams(manager)
        price, _steps = _resting_buy(server)
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        await until(lambda: user_data.events_sent >= 2)
        fake = server.state.orders[int(order.exchange_order_id or 0)]
        event = user_data._report(fake, "TRADE", "PARTIALLY_FILLED", None, 0, 0)
        event.update(numbers, t=999_001)
        reconciled = account_streams.reconciliations
        user_data._send(server.api_key, event)
        # the streams fail with a typed error, reconnect and read the account over REST
        await until(lambda: account_streams.reconnect_at_ms is not None)
        clock.set_time(account_streams.reconnect_at_ms)
        await until(lambda: account_streams.connects >= 2 and account_streams.reconciliations > reconciled)
        assert order.status is OrderStatus.OPEN and order.filled == 0  # the venue's state, not the event's
        assert manager.exchange_personal_data.trades_manager.trades() == []
        refusals = [r for r in caplog.records if "private streams failed, reconnecting" in r.getMessage()]
        assert refusals and "out of bounds" in refusals[0].getMessage()
        assert not [r for r in caplog.records if "failed unexpectedly" in r.getMessage()]
    finally:
        await manager.stop()
