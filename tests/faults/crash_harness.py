"""The parent side of the crash tests: the engine runs in a child process (``crash_child.py``) that the
test kills with SIGKILL at a chosen point, while the fake Binance server runs in the test's process.

A child is the real engine (real ccxt client, real SQLite file); it reports progress as JSON
lines (see ``crash_child.py``). Every line the child writes, on stdout and stderr (its DEBUG
logs), is kept in :attr:`EngineProcess.output` so a test can check that no secret leaked.
Waits are bounded (``TIMEOUT``) and wait on an event, never on a fixed delay.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from octobot_trading.testing.fake_exchange import FakeExchangeServer
from tests.exchange_data.helpers import until

__all__ = ["TIMEOUT", "EngineProcess", "assert_no_secret_in", "wait_for"]

CHILD = Path(__file__).resolve().parent / "crash_child.py"
ROOT = Path(__file__).resolve().parents[2]
#: Upper bound of any wait on the child (a guard against a hang, not a timing assertion).
TIMEOUT = 60.0


async def wait_for(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds (loopback I/O with another process), at most ``TIMEOUT`` s."""
    await until(condition, limit_s=TIMEOUT)


class EngineProcess:
    """One engine process on ``server``'s account and the SQLite file ``storage``."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []
        self.events: list[dict[str, Any]] = []
        self._new_event = asyncio.Event()
        assert process.stdout is not None and process.stderr is not None
        self._readers = [
            asyncio.ensure_future(self._read(process.stdout, True)),
            asyncio.ensure_future(self._read(process.stderr, False)),
        ]

    @classmethod
    async def start(
        cls,
        server: FakeExchangeServer,
        storage: Path,
        *,
        grid: dict[str, Any] | None = None,
        rest_only: bool = True,
        poll_seconds: float = 0.3,
    ) -> EngineProcess:
        """Start a child building the engine (it prints ``ready`` or ``build_failed``)."""
        settings = {
            "port": server.port,
            "api_key": server.api_key,
            "api_secret": server.api_secret,
            "storage": str(storage),
            "grid": grid,
            "rest_only": rest_only,
            "poll_seconds": poll_seconds,
        }
        env = {**os.environ, "FAULT_CHILD_SETTINGS": json.dumps(settings), "PYTHONPATH": str(ROOT)}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CHILD),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(ROOT),
            env=env,
        )
        return cls(process)

    async def _read(self, stream: asyncio.StreamReader, events: bool) -> None:
        while True:
            line = await stream.readline()
            if not line:
                break
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.output.append(text)
            if events and text.startswith("{"):
                self.events.append(json.loads(text))
                self._new_event.set()

    async def expect(self, *names: str) -> dict[str, Any]:
        """The next event (after those already returned) named one of ``names``; fail on another
        terminal event or on the child's exit."""
        seen = getattr(self, "_seen", 0)

        async def next_event() -> dict[str, Any]:
            index = seen
            while True:
                while index < len(self.events):
                    event = self.events[index]
                    index += 1
                    if event["event"] in names:
                        self._seen = index
                        return event
                if self.process.returncode is not None and all(r.done() for r in self._readers):
                    tail = "\n".join(self.output[-30:])
                    raise AssertionError(f"the engine exited ({self.process.returncode}) before {names}:\n{tail}")
                self._new_event.clear()
                waiter = asyncio.ensure_future(self._new_event.wait())
                exited = asyncio.ensure_future(self.process.wait())
                await asyncio.wait({waiter, exited}, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if exited.done():
                    await asyncio.gather(*self._readers)
                else:
                    exited.cancel()

        return await asyncio.wait_for(next_event(), TIMEOUT)

    async def send(self, cmd: str, **args: Any) -> None:
        """Send one command line."""
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"cmd": cmd, **args}) + "\n").encode())
        await self.process.stdin.drain()

    async def snapshot(self) -> dict[str, Any]:
        """The engine's orders, trades and balances after one reconciliation."""
        await self.send("snapshot")
        return await self.expect("snapshot")

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs in the child."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        await asyncio.gather(*self._readers)
        assert self.process.returncode == -signal.SIGKILL

    async def stop(self) -> int:
        """A clean stop (the child writes its state and exits); return its exit code."""
        if self.process.returncode is None:
            await self.send("stop")
            await self.expect("stopped")
            assert self.process.stdin is not None
            self.process.stdin.close()
        code = await asyncio.wait_for(self.process.wait(), TIMEOUT)
        await asyncio.gather(*self._readers)
        return code


def assert_no_secret_in(texts: list[str], *secrets: str) -> None:
    """No secret, nor any 6-character piece of one, in ``texts``."""
    for secret in secrets:
        pieces = {secret[i : i + 6] for i in range(len(secret) - 5)}
        for text in texts:
            leaked = [p for p in pieces if p in text]
            assert not leaked, f"secret piece {leaked[0]!r} in: {text[:200]}"
