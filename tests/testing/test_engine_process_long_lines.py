"""The engine-process harness reads a child's line however long it is (past asyncio's 64 KiB
default), and such a line neither ends its reader nor keeps the child from stopping cleanly."""

from __future__ import annotations

from pathlib import Path

from octobot_trading.testing.engine_process import EngineProcess, EngineSpec
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets
from tests.exchanges.conftest import FIXTURES

#: Past asyncio's default 64 KiB line limit.
LONG = 200 * 1024


async def test_a_child_line_longer_than_64_kib_is_read_and_the_child_still_stops_cleanly(tmp_path: Path) -> None:
    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as server:
        engine = await EngineProcess.start(EngineSpec.for_server(server, tmp_path / "state.sqlite"))
        try:
            name = "no_such_command_" + "x" * LONG
            # the child answers an unknown command with an error naming it: one line over 200 KiB
            answer = await engine.request(name, timeout=60)
            assert answer["ok"] is False and answer["error"] == "ValueError"
            assert name in answer["message"]
            assert max(len(line) for line in engine.output) > LONG
            # the readers are still running: the next answer comes, then a clean stop
            snapshot = await engine.snapshot(sync=False)
            assert snapshot["ok"] is True and snapshot["orders"] == []
            assert not any(reader.done() for reader in engine._readers)
            assert await engine.stop() == 0
        finally:
            await engine.kill()
