"""Cancelling a running manager (Ctrl-C, a TaskGroup teardown) still stops every updater and socket."""

from __future__ import annotations

import asyncio

import pytest

import octobot_trading as ot
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets
from octobot_trading.testing.fake_exchange.ws import FakeBinanceStreams
from tests.exchanges.conftest import FAST, FIXTURES


def _tasks() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


@pytest.mark.parametrize("mode", ["real-rest", "paper-ws"])
async def test_cancelled_async_with_leaves_nothing_running(mode: str) -> None:
    server = FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100)
    streams = FakeBinanceStreams(server)
    await server.start()
    before = _tasks()
    ready = asyncio.Event()
    try:

        async def bot() -> None:
            builder = (
                ot.ExchangeBuilder("binance")
                .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
                .with_symbols(["BTC/USDT"])
                .with_time_frames(["5m"])
                .with_ccxt_options(FAST)
                .with_client_hook(streams.client_hook)
                .rest_only(mode.endswith("rest"))
            )
            builder = (
                builder.use_simulated_trader(starting_portfolio={"USDT": "1000"})
                if mode.startswith("paper")
                else builder.use_real_trader()
            )
            async with await builder.build() as manager:
                await manager.wait_ready(timeout=30)
                ready.set()
                await asyncio.Event().wait()  # runs until cancelled

        task = asyncio.create_task(bot())
        await asyncio.wait_for(ready.wait(), timeout=30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0)
        assert sorted(t.get_coro().__qualname__ for t in _tasks() - before) == []
    finally:
        await server.stop()
