"""A read of the engine's startup (its first poll, the private streams' first reconciliation) that
gets no answer in time (ccxt's timeout) is retried after a backoff on the engine clock, and the
engine starts with the venue's account."""

from __future__ import annotations

import logging

from tests.faults.conftest import (
    assert_engine_matches_venue,
    assert_no_secret,
    build_live,
    live_builder,
    live_engine,
    sim_clock,
    started,
)

#: ccxt's timeout in this scenario (ms): the venue holds the first balance reply twice as long.
TIMEOUT_MS = 400
ACCOUNT_PATH = "/api/v3/account"


async def test_a_startup_balance_read_answered_too_late_is_retried_and_the_engine_starts(venue, caplog):
    caplog.set_level(logging.INFO)
    server = venue.server
    clock = sim_clock(server)
    server.faults.latency(2 * TIMEOUT_MS / 1000, method="GET", path=ACCOUNT_PATH, times=1)
    manager = await build_live(clock, live_builder(venue, clock, ccxt_options={"timeout": TIMEOUT_MS}))
    try:
        await started(manager)
        retried = [r.getMessage() for r in caplog.records if "fetch_balance failed (RequestTimeout)" in r.getMessage()]
        assert retried, "the late balance reply was not retried"
        assert server.faults.count("GET", ACCOUNT_PATH) >= 2  # the late one and its retry
        await assert_engine_matches_venue(manager, server)
        assert_no_secret(server, caplog)
    finally:
        await manager.stop()


async def test_a_balance_read_of_the_streams_first_reconciliation_answered_too_late_is_retried(venue, caplog):
    caplog.set_level(logging.INFO)
    server = venue.server
    async with live_engine(venue, ccxt_options={"timeout": TIMEOUT_MS}) as (manager, _clock):
        # the streams subscribe over the loopback before reconciling: their balance read comes next
        server.faults.latency(2 * TIMEOUT_MS / 1000, method="GET", path=ACCOUNT_PATH, times=1)
        await started(manager)
        retried = [r.getMessage() for r in caplog.records if "fetch_balance failed (RequestTimeout)" in r.getMessage()]
        assert retried, "the late balance reply was not retried"
        await assert_engine_matches_venue(manager, server)
        assert_no_secret(server, caplog)
