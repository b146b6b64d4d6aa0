"""An order placed on a contract while the account poll is still running brings one more poll
forward: its fill shows in the local position without waiting for the next poll period (the
fake USDⓈ-M venue on loopback, the real trader and ccxt client, a simulated clock never moved)."""

from __future__ import annotations

from decimal import Decimal

import octobot_trading as ot
from octobot_trading.testing import FakeFuturesServer
from tests.exchange_data.helpers import until
from tests.personal_data.live_futures import XRP, live_futures_builder, local_position, running, venue_clock

D = Decimal
LIQUIDATIONS_PATH = "/fapi/v1/forceOrders"


async def test_an_order_placed_while_a_poll_runs_is_polled_without_waiting_a_period() -> None:
    async with FakeFuturesServer() as venue:
        builder = live_futures_builder(venue, venue_clock(venue), account_poll_seconds=3600.0).rest_only(True)
        async with running(builder) as built:
            trader = built.trader
            await trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, XRP, amount="100")
            await until(lambda: local_position(built) is not None and local_position(built).size == D(100))
            # a reduction: its early poll reads the liquidation history after the positions; that
            # read is held, so the poll is still running when the next order is placed
            venue.faults.latency(1.0, method="GET", path=LIQUIDATIONS_PATH, times=1)
            read = venue.faults.count("GET", LIQUIDATIONS_PATH)
            await trader.create_order(ot.OrderType.MARKET, ot.OrderSide.SELL, XRP, amount="30", reduce_only=True)
            await until(lambda: venue.faults.count("GET", LIQUIDATIONS_PATH) > read)
            await trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, XRP, amount="50")
            await until(lambda: local_position(built).size == D(120))
            assert venue.futures_account().futures.get(XRP).size == D(120)
