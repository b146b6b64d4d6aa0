"""Private streams facing a misbehaving venue: absurd numbers in an event, a 418 ban while
reconnecting, a refused subscription (real ccxt.pro client against the fake Binance user-data
stream, simulated engine clock)."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from octobot_trading.enums import OrderStatus
from octobot_trading.errors import RateLimitExceeded
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing.fake_exchange import FakeBinanceStreams, FakeExchangeServer
from tests.exchange_data.helpers import until
from tests.personal_data.test_private_streams import _builder, _clock, _resting_buy, _started
from tests.personal_data.test_private_streams import venue as venue


@contextlib.asynccontextmanager
async def _streaming(server: FakeExchangeServer, streams: FakeBinanceStreams) -> AsyncIterator[tuple[Any, Any, Any]]:
    """The real trader built on the account, its private streams started and healthy:
    ``(manager, clock, account streams)``; on exit the venue's faults are cleared (a ban left set
    would refuse the engine's closing requests) and the manager stopped."""
    clock = _clock(server)
    manager = await _builder(server, streams, clock).build()
    try:
        await _started(manager)
        yield manager, clock, manager.get_component("trader", TraderComponent).account_streams
    finally:
        server.faults.clear()
        await manager.stop()


@pytest.mark.parametrize(
    ("numbers", "refusal"),
    [
        ({"l": "0.0001", "L": "1e999999999", "z": "0.0001", "Z": "1e999999999"}, "out of bounds"),
        ({"l": "0.0001", "L": "19000", "z": "0.0001", "Z": "1e999999999"}, "out of bounds"),
        ({"l": "0.0001", "L": "19000", "z": "0." + "0" * 200 + "1", "Z": "1.9"}, "out of bounds"),
        ({"l": "NaN", "L": "100", "z": "NaN", "Z": "1"}, "out of bounds"),
    ],
    ids=["huge_price_and_cost", "huge_cumulative_cost_only", "overlong_filled_amount", "nan_amount"],
)
async def test_a_stream_event_with_an_absurd_number_is_refused_and_the_account_read_over_rest(
    venue, caplog, numbers, refusal
):
    # ccxt.pro computes with an event's numbers as it receives it: "1e999999999" used to stall
    # the whole event loop for minutes there, before any check of the library could run
    caplog.set_level(logging.WARNING)
    server, streams, user_data = venue
    async with _streaming(server, streams) as (manager, clock, account_streams):
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
        assert refusals and re.search(refusal, refusals[0].getMessage())
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # nothing unexpected


async def test_private_stream_reconnections_send_nothing_during_a_418_ban_and_resume_after_it(venue):
    server, streams, user_data = venue
    async with _streaming(server, streams) as (manager, clock, account_streams):
        server.faults.status(418, times=None, retry_after=600)  # the venue bans the IP for 10 minutes
        with pytest.raises(RateLimitExceeded):
            await manager.connector.fetch_balance()  # the venue's gate learns the ban
        connector: Any = manager.connector
        gate = connector.rate_gate
        sent_before, subscriptions = len(server.faults.requests), user_data.subscriptions
        await user_data.disconnect()  # the stream drops during the ban
        for _ in range(6):  # six reconnection attempts (backoff 0.5 s doubling), all inside the ban
            await until(lambda: account_streams.reconnect_at_ms is not None)
            due = account_streams.reconnect_at_ms
            clock.set_time(due)
            await until(lambda d=due: account_streams.reconnect_at_ms not in (None, d))  # type: ignore[misc]
        assert gate.banned_until_ms > clock.now_ms()
        assert server.faults.requests[sent_before:] == []  # no request reached the banned venue
        assert user_data.subscriptions == subscriptions and account_streams.connects == 1
        server.faults.clear()
        clock.set_time(gate.banned_until_ms)  # the ban lifts: the pending attempt connects
        await until(lambda: account_streams.connects == 2 and account_streams.healthy)


async def test_private_stream_reconnections_reuse_the_loaded_markets(venue):
    server, streams, user_data = venue
    async with _streaming(server, streams) as (manager, clock, account_streams):
        downloads = server.faults.count("GET", "/api/v3/exchangeInfo")
        for connects in (2, 3):
            await user_data.disconnect()
            await until(lambda: account_streams.reconnect_at_ms is not None)
            clock.set_time(account_streams.reconnect_at_ms)
            await until(lambda c=connects: account_streams.connects == c and account_streams.healthy)  # type: ignore[misc]
        assert server.faults.count("GET", "/api/v3/exchangeInfo") == downloads
        connector: Any = manager.connector
        assert connector.private_stream_client.markets["BTC/USDT"]["id"] == "BTCUSDT"


async def test_a_revoked_key_refusing_the_subscription_is_an_authentication_error_retried_with_backoff(venue, caplog):
    caplog.set_level(logging.WARNING)
    server, streams, user_data = venue
    async with _streaming(server, streams) as (_manager, clock, account_streams):
        check_signature = user_data._check_signature
        user_data._check_signature = lambda params: (-2015, "Invalid API-key, IP, or permissions for action.")
        await user_data.disconnect()
        for _ in range(3):  # each attempt is refused; the next waits for the backoff
            await until(lambda: account_streams.reconnect_at_ms is not None)
            due = account_streams.reconnect_at_ms
            clock.set_time(due)
            await until(lambda d=due: account_streams.reconnect_at_ms not in (None, d))  # type: ignore[misc]
        assert account_streams.unavailable and account_streams.connects == 1
        refusals = [r for r in caplog.records if "refused the private streams' credentials" in r.getMessage()]
        assert len(refusals) >= 3 and all(r.levelno == logging.WARNING for r in refusals)
        assert "-2015" in refusals[0].getMessage()
        assert not [r for r in caplog.records if "failed unexpectedly" in r.getMessage()]
        user_data._check_signature = check_signature  # the key is accepted again
        clock.set_time(account_streams.reconnect_at_ms)
        await until(lambda: account_streams.connects == 2 and account_streams.healthy)
        assert not account_streams.unavailable


async def test_a_subscription_refused_for_its_timestamp_resyncs_the_clock_and_subscribes_again(venue, caplog):
    caplog.set_level(logging.WARNING)
    server, streams, user_data = venue
    async with _streaming(server, streams) as (_manager, clock, account_streams):
        check_signature = user_data._check_signature
        refused: list[int] = []

        def once(params: dict[str, Any]) -> tuple[int, str] | None:
            if not refused:
                refused.append(-1021)
                return -1021, "Timestamp for this request is outside of the recvWindow."
            return check_signature(params)

        user_data._check_signature = once
        syncs = server.faults.count("GET", "/api/v3/time")
        await user_data.disconnect()
        await until(lambda: account_streams.reconnect_at_ms is not None)
        clock.set_time(account_streams.reconnect_at_ms)
        await until(lambda: account_streams.connects == 2 and account_streams.healthy)
        assert refused == [-1021] and server.faults.count("GET", "/api/v3/time") == syncs + 1
        assert "re-syncing with the venue clock" in caplog.text
        assert not account_streams.unavailable
        assert not [r for r in caplog.records if "failed unexpectedly" in r.getMessage()]
