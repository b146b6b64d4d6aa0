"""A venue clock a few seconds off while the engine runs: a request refused for its timestamp
(-1021) re-syncs the clock once; reads are retried, a placement is not (it is refused, typed,
nothing reserved) and the next one is signed right."""

from __future__ import annotations

import logging
from typing import cast

import pytest

from octobot_trading.errors import AuthenticationError
from tests.faults.conftest import (
    ORDER_PATH,
    VenueClock,
    assert_engine_matches_venue,
    assert_no_secret,
    build_live,
    drive_task,
    far_buy_price,
    live_builder,
    reconcile,
    sim_clock,
    started,
)

TIME = "/api/v3/time"


def _resyncs(caplog: pytest.LogCaptureFixture) -> int:
    """Re-syncs with the venue clock after a refused timestamp (the connector logs each one)."""
    return sum("re-syncing with the venue clock" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("adjust", [False, True], ids=["plain", "adjust-for-time-difference"])
async def test_a_venue_clock_seconds_off_resyncs_once_retries_reads_and_never_re_sends_orders(venue, caplog, adjust):
    caplog.set_level(logging.INFO)
    server = venue.server
    venue_clock = cast(VenueClock, server.clock)  # (conftest may be imported under two names)
    clock = sim_clock(server)
    options = {"options": {**server.ccxt_config()["options"], "adjustForTimeDifference": adjust}}
    manager = await build_live(clock, live_builder(venue, clock, ccxt_options=options))
    try:
        await started(manager)
        trader = manager.trader
        usdt = manager.exchange_personal_data.portfolio_manager.portfolio.get_currency_portfolio("USDT")
        price = far_buy_price(server)

        venue_clock.offset_ms -= 4_000  # the venue's clock falls behind: requests look early
        syncs = server.faults.count("GET", TIME)
        await reconcile(manager)  # reads: refused once, re-synced, read again
        # one re-sync per refused request (a background reader refused meanwhile adds its own)
        resyncs = _resyncs(caplog)
        assert server.faults.count("GET", TIME) > syncs and 1 <= resyncs <= 2

        venue_clock.offset_ms -= 4_000  # and slips further
        available = usdt.available
        with pytest.raises(AuthenticationError) as refused:
            await drive_task(clock, trader.create_order("limit", "buy", "BTC/USDT", "0.001", price))
        assert server.faults.count("POST", ORDER_PATH) == 1  # not re-sent
        assert resyncs < _resyncs(caplog) <= resyncs + 2  # re-synced, not in a loop
        assert not server.state.orders and usdt.available == available  # refused: nothing kept
        assert not manager.exchange_personal_data.orders_manager.all_orders()

        order = await drive_task(clock, trader.create_order("limit", "buy", "BTC/USDT", "0.001", price))
        assert order.exchange_order_id is not None and server.faults.count("POST", ORDER_PATH) == 2
        await assert_engine_matches_venue(manager, server)
        assert_no_secret(server, caplog, refused.value)
    finally:
        await manager.stop()
