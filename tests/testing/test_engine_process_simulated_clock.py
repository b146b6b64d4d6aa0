"""A child engine on a simulated clock (``EngineSpec.simulated_clock_ms``) is built even when a
startup read times out: the read's retry backoff is slept on that clock, which nothing else moves
while the engine builds, so the child moves it to that wake time."""

from __future__ import annotations

from pathlib import Path

from octobot_trading.testing.engine_process import DEFAULT_CCXT_OPTIONS, EngineProcess, EngineSpec
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets
from tests.exchanges.conftest import FIXTURES

ACCOUNT_PATH = "/api/v3/account"
TIMEOUT_MS = 1000


async def test_a_child_on_a_simulated_clock_is_built_after_a_startup_read_timed_out(tmp_path: Path) -> None:
    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as server:
        start_ms = int(server.state.markets["BTCUSDT"].current[0]) + 300_000
        spec = EngineSpec.for_server(
            server,
            tmp_path / "state.sqlite",
            simulated_clock_ms=start_ms,
            ccxt_options={**DEFAULT_CCXT_OPTIONS, "timeout": TIMEOUT_MS},
        )
        server.faults.latency(2 * TIMEOUT_MS / 1000, method="GET", path=ACCOUNT_PATH, times=1)
        engine = await EngineProcess.start(spec, timeout=60)
        try:
            assert engine.ready is not None and engine.ready["ok"] is True
            assert server.faults.count("GET", ACCOUNT_PATH) >= 2  # the late read and its retry
            assert any("RequestTimeout" in line for line in engine.output)
            assert await engine.stop() == 0
        finally:
            await engine.kill()
