"""An order the venue no longer knows (neither open nor in its history): the engine closes it
locally after repeated lookups, releases its funds and keeps syncing every other order."""

from __future__ import annotations

import logging

from octobot_trading.enums import OrderStatus
from tests.faults.conftest import (
    assert_engine_matches_venue,
    assert_no_secret,
    far_buy_price,
    live_engine,
    reconcile,
    settle,
    started,
    until,
)


async def test_an_order_vanished_from_the_venue_is_closed_locally_after_repeated_lookups(venue, caplog):
    caplog.set_level(logging.INFO)
    server = venue.server
    async with live_engine(venue) as (manager, _clock):
        await started(manager)
        trader = manager.trader
        price = far_buy_price(server)
        gone = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        kept = await trader.create_order("limit", "buy", "BTC/USDT", "0.002", price)
        await until(lambda: venue.user_data.events_sent >= 4)
        await settle()
        # the venue drops the order without a trace: funds released, no event, no history
        fake = server.state.orders[int(gone.exchange_order_id or 0)]
        server.state.cancel_order(fake)
        del server.state.orders[fake.order_id]
        await reconcile(manager)
        assert gone.status is OrderStatus.OPEN  # one miss is not enough: a venue may lag
        await reconcile(manager)
        assert gone.status is OrderStatus.OPEN
        await reconcile(manager)  # the third consecutive miss, and no order with its client id
        assert gone.status is OrderStatus.CANCELED and gone.reserved_amount == 0
        assert kept.status is OrderStatus.OPEN
        assert "vanished" in caplog.text
        await assert_engine_matches_venue(manager, server)
        assert_no_secret(server, caplog)
