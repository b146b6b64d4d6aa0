"""The grid mode killed with ``kill -9`` and restarted on the same storage file resumes its grid: the
orders restored from the file keep their levels (a restored order that fills is refilled one level
over), only the levels left empty are placed again, and no second grid is laid beside the first.

The engine runs in a child process (``octobot_trading.testing.engine_process``) with
``ot.modes.GridTradingMode`` and a configured reference price; the fake Binance server runs in the
test's process and moves its replayed candles forward.
"""

from __future__ import annotations

import logging
import signal
from collections import Counter
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from octobot_trading.testing.fake_exchange import FakeExchangeServer
from tests.faults.crash_harness import (
    EngineProcess,
    assert_snapshot_matches_venue,
    check_secrets,
    restart_and_check,
    wait_for,
)

#: With the fixture's candles from candle 100: no level is reached during the two candles around
#: the kill, and the buy one level under the reference fills some ten candles later.
REFERENCE = Decimal("19500")
SPACING = Decimal("0.35")
TICK = Decimal("0.01")


pytest_plugins = ["tests.faults.crash_fixtures"]


def level_price(reference: Decimal, level: int, side: str) -> Decimal:
    """The grid's price of ``level`` (buys rounded down to the tick, sells up)."""
    raw = reference * (1 + level * SPACING / 100)
    return raw.quantize(TICK, rounding=ROUND_FLOOR if side == "BUY" else ROUND_CEILING)


async def next_candle(server: FakeExchangeServer, engine: EngineProcess) -> None:
    """The venue closes a candle; wait until the engine's modes handled it."""
    server.advance()
    await engine.request("wait_candle", timestamp=int(server.state.markets["BTCUSDT"].current[0]))


def open_levels(server: FakeExchangeServer) -> Counter[tuple[str, Decimal]]:
    return Counter((o.side, o.price) for o in server.state.orders.values() if o.is_open)


async def test_a_killed_grid_resumes_its_restored_orders_instead_of_laying_a_second_grid(
    server, engines, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    path = tmp_path / "state.sqlite"
    reference = REFERENCE
    grid = {
        "levels": 3,
        "spacing_percent": str(SPACING),
        "amount_per_level": "0.001",
        "reference_price": str(reference),
    }
    engine = await engines.start(path, grid=grid)
    await next_candle(server, engine)  # the grid is laid out on this candle
    laid_out = open_levels(server)
    assert len(laid_out) == 6 and set(laid_out.values()) == {1}
    assert await engine.kill() == -signal.SIGKILL

    top_sell = next(o for o in server.state.orders.values() if o.price == level_price(reference, 3, "SELL"))
    server.state.cancel_order(top_sell)  # canceled by hand while the engine is down

    engine = await engines.start(path, grid=grid)
    await next_candle(server, engine)  # the restarted grid starts on this candle
    assert open_levels(server) == laid_out  # the canceled level placed again, nothing doubled
    assert len(server.state.order_requests) == 7

    # a restored order filling is refilled one level over, as before the kill
    low_buy = next(o for o in server.state.orders.values() if o.price == level_price(reference, -1, "BUY"))
    for _ in range(15):
        if not low_buy.is_open:
            break
        await next_candle(server, engine)
    assert low_buy.status == "FILLED"
    refill = level_price(reference, 0, "SELL")
    await wait_for(lambda: any(o.side == "SELL" and o.price == refill for o in server.state.orders.values()))
    assert len([o for o in server.state.orders.values() if o.price == refill]) == 1
    assert_snapshot_matches_venue(await engine.snapshot(), server)
    assert max(open_levels(server).values()) == 1
    assert await engine.stop() == 0
    await restart_and_check(server, path)
    check_secrets(caplog, server, engines)
