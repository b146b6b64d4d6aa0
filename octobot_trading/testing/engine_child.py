"""The child side of :mod:`octobot_trading.testing.engine_process`: run with ``python -m``.

It builds the engine the ``OCTOBOT_ENGINE_SPEC`` environment variable describes (an
:class:`~octobot_trading.testing.engine_process.EngineSpec` as JSON) against the fake server on
127.0.0.1, answers the parent's JSON-line commands (stdin) on stdout, writes its logs on stderr,
and kills itself with SIGKILL at the armed point. See the parent module for the commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

import octobot_trading as ot
from octobot_trading.clock import LiveClock, SimulatedClock
from octobot_trading.enums import TransactionType
from octobot_trading.errors import OctoBotTradingError
from octobot_trading.exchange_data.updaters.rest import RestCandlesUpdater
from octobot_trading.personal_data.orders.order import OrderEvent
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing.engine_process import (
    ENV,
    KILL_POINTS,
    EngineSpec,
    futures_account_of,
    order_row,
    snapshot_of,
)

__all__ = ["client_hook_for", "main", "usdm_client_hook_for"]


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


async def _build_on(clock: SimulatedClock, builder: Any) -> Any:
    """``builder.build()`` on a simulated clock, which nothing else moves while the engine builds:
    whenever the build itself sleeps on it (a startup read retried after a timeout on a loaded
    machine), the clock is moved to that sleep's wake time (and to no other sleeper's)."""
    task = asyncio.ensure_future(builder.build())
    while not task.done():
        await asyncio.wait({task}, timeout=0.005)
        coro: Any = task.get_coro()
        frame = None
        while coro is not None and getattr(coro, "cr_frame", None) is not None:
            frame, coro = coro.cr_frame, getattr(coro, "cr_await", None)
        if frame is not None and frame.f_code is SimulatedClock.sleep.__code__ and frame.f_locals.get("self") is clock:
            wake = frame.f_locals.get("wake")
            if isinstance(wake, int) and wake > clock.now_ms():
                clock.set_time(wake)
    return task.result()


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, default=str) + "\n")
    sys.stdout.flush()


def _rewritten(urls: dict[str, Any], base: str, *, keep_ws: bool) -> dict[str, Any]:
    """``urls`` (nested) with every url's host replaced by ``base``, its path kept; the scheme
    becomes ``http`` (``ws`` for a WebSocket url when ``keep_ws``)."""
    result: dict[str, Any] = {}
    for name, value in urls.items():
        if isinstance(value, dict):
            result[name] = _rewritten(value, base, keep_ws=keep_ws)
        elif isinstance(value, str):
            parts = urlsplit(value)
            scheme = "ws" if keep_ws and parts.scheme in ("ws", "wss") else "http"
            result[name] = f"{scheme}://{base}{parts.path}"
        else:
            result[name] = value
    return result


def client_hook_for(port: int, *, ws: bool = False) -> Any:
    """Point every url of a ccxt binance client at the fake server on ``port`` (what the server's
    in-process ``client_hook`` does); with ``ws``, its public streams on ``/ws`` too."""
    base = f"127.0.0.1:{port}"

    def hook(client: Any) -> None:
        api = client.urls.get("api")
        urls = _rewritten(api, base, keep_ws=True) if isinstance(api, dict) else {}
        urls.update(public=f"http://{base}/api/v3", private=f"http://{base}/api/v3", v1=f"http://{base}/api/v1")
        if ws:  # public streams on /ws; the rewritten WebSocket API url (private streams) stays
            previous = urls.get("ws")
            urls["ws"] = {**(previous if isinstance(previous, dict) else {}), "spot": f"ws://{base}/ws"}
            urls["ws"]["margin"] = f"ws://{base}/ws"
        client.urls["api"] = urls
        for key in ("test", "demo"):
            if isinstance(client.urls.get(key), dict):
                client.urls[key] = dict(urls)

    return hook


def usdm_client_hook_for(port: int) -> Any:
    """Point a ccxt ``binanceusdm`` client at the fake USDⓈ-M venue on ``port`` (what
    ``FakeFuturesServer.client_hook`` does in-process): every url, and the USDⓈ-M error table as
    the client's default one (no host of 127.0.0.1 selects it)."""

    def hook(client: Any) -> None:
        client.urls["api"] = _rewritten(client.urls["api"], f"127.0.0.1:{port}", keep_ws=False)
        exceptions = client.exceptions
        linear = exceptions.get("linear", {})
        for kind in ("exact", "broad"):
            exceptions[kind] = {**exceptions.get(kind, {}), **linear.get(kind, {})}

    return hook


class _SendGate:
    """Reports every order request just before it leaves the process (a ``sending`` event) and,
    once ``hold`` is set, holds it there forever."""

    def __init__(self, manager: Any) -> None:
        venue = manager.trader.connector
        self.hold = False
        self._send = venue.create_order
        self._forever = asyncio.Event()
        venue.create_order = self.create_order

    async def create_order(self, *args: Any, client_order_id: str | None = None, **kwargs: Any) -> Any:
        _say({"event": "sending", "client_order_id": client_order_id, "held": self.hold})
        if self.hold:
            await self._forever.wait()
        return await self._send(*args, client_order_id=client_order_id, **kwargs)


class _Child:
    """The engine side: builds the manager, runs commands, kills itself at the armed point."""

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        self.manager: Any = None
        self.kill_at: str | None = None
        self.gate: _SendGate | None = None
        self._trades_at_arm = 0

    async def build(self) -> None:
        spec = self.spec

        class ShiftedClock(LiveClock):
            def now_ms(self) -> int:
                return super().now_ms() + spec.clock_offset_ms

            def now(self) -> float:
                return super().now() + spec.clock_offset_ms / 1000

        usdm = spec.exchange == "binanceusdm"
        builder = ot.ExchangeBuilder(spec.exchange).with_credentials(api_key=spec.api_key, api_secret=spec.api_secret)
        if spec.market_type is not None:
            builder = builder.with_market_type(spec.market_type)
        builder = (
            builder.with_symbols(spec.symbols)
            .with_ccxt_options(spec.ccxt_options)
            .with_client_hook(
                usdm_client_hook_for(spec.port) if usdm else client_hook_for(spec.port, ws=not spec.rest_only)
            )
            .with_trading_config(
                order_safety={"max_price_age_seconds": 10**10},
                account_poll_seconds=spec.poll_seconds,
                **spec.trading_config,
            )
            .rest_only(spec.rest_only)
            .with_storage(spec.storage, history=spec.history)
        )
        simulated = None if spec.simulated_clock_ms is None else SimulatedClock(spec.simulated_clock_ms)
        if simulated is not None:
            builder = builder.with_clock(simulated)
        elif spec.clock_offset_ms:
            builder = builder.with_clock(ShiftedClock())
        if spec.time_frames:
            builder = builder.with_time_frames(spec.time_frames)
        if spec.trader == "real":
            builder = builder.use_real_trader()
        else:
            builder = builder.use_simulated_trader(starting_portfolio=spec.starting_portfolio)
        if spec.grid is not None:
            builder = builder.use_trading_mode(ot.modes.GridTradingMode, spec.grid)
        self.manager = await (builder.build() if simulated is None else _build_on(simulated, builder))
        if spec.flush_seconds is not None:
            self.manager.get_component("storage").flush_seconds = spec.flush_seconds
        self.gate = _SendGate(self.manager)
        trader = self.manager.trader
        journal_intent = trader.pre_send

        async def pre_send(order: Any) -> None:
            await journal_intent(order)
            if self.kill_at == "before_send":
                _die()

        trader.pre_send = pre_send
        storage = self.manager.get_component("storage")
        child = self

        class KillingJournal:
            def note(self, order: Any) -> None:
                storage.note(order)

            async def commit(self, order: Any) -> None:
                await storage.commit(order)
                if child.kill_at == "after_fill_commit" and child._new_trade():
                    _die()

        self.manager.exchange_personal_data.orders_manager.journal = KillingJournal()

    def _new_trade(self) -> bool:
        return len(self.manager.exchange_personal_data.trades_manager) > self._trades_at_arm

    async def poll_candles(self) -> None:
        """Fetch the venue's new closed candles often (the parent moves the venue's candles forward)."""
        manager = self.manager
        updater = next(u for u in manager.get_component("exchange_data").updaters if isinstance(u, RestCandlesUpdater))
        symbol, time_frame = self.spec.symbols[0], ot.TimeFrame.parse(self.spec.time_frames[0])
        while True:
            with contextlib.suppress(OctoBotTradingError):
                await updater.fetch_new(symbol, time_frame)
            await asyncio.sleep(self.spec.candle_poll_seconds)

    async def run(self, command: dict[str, Any]) -> dict[str, Any]:
        op = command["op"]
        manager = self.manager
        if op == "create_order":
            symbol = command.get("symbol", self.spec.symbols[0])
            order = await manager.trader.create_order(
                command["type"], command["side"], symbol, command["amount"], command.get("price")
            )
            if self.kill_at == "in_fill_hook":

                async def heard(_order: Any) -> None:
                    _die()

                order.add_hook(OrderEvent.FILL, heard)
            return {"order": order_row(order)}
        if op == "cancel_order":
            order = manager.exchange_personal_data.orders_manager.get(command["id"])
            return {"order": order_row(await manager.trader.cancel_order(order))}
        if op == "snapshot":
            if command.get("sync", True):
                component = manager.get_component("trader", TraderComponent)
                async with component.sync_lock:
                    await manager.trader.sync_with_exchange(manager.symbols)
                    await manager.trader.refresh_balances()
            return snapshot_of(manager)
        if op == "flush":
            return {"rows": await manager.get_component("storage").flush()}
        if op == "set_leverage":
            symbol = command.get("symbol", self.spec.symbols[0])
            return {"leverage": str(await manager.trader.set_leverage(symbol, command["leverage"]))}
        if op == "transactions":
            kind = TransactionType(command["kind"])
            return {"ids": [t.id for t in manager.exchange_personal_data.transactions_manager.transactions(kind)]}
        if op == "futures_account":
            return futures_account_of(manager)
        if op == "arm_kill":
            if command["point"] not in KILL_POINTS:
                raise ValueError(f"unknown kill point {command['point']!r} (one of {KILL_POINTS})")
            self.kill_at = command["point"]
            self._trades_at_arm = len(manager.exchange_personal_data.trades_manager)
            return {"armed": self.kill_at}
        if op == "hold_sends":
            assert self.gate is not None
            self.gate.hold = True
            return {"holding": True}
        if op == "wait_candle":
            return {"timestamp": await self.wait_candle(command)}
        if op == "stop":
            await manager.stop()
            return {"stopped": True}
        raise ValueError(f"unknown command {op!r}")

    async def wait_candle(self, command: dict[str, Any]) -> int:
        """Once the candle opened at ``timestamp`` was fetched, published and handled by every consumer."""
        symbol = command.get("symbol", self.spec.symbols[0])
        buffer = self.manager.exchange_symbols_data.get(symbol).candles(
            command.get("time_frame", self.spec.time_frames[0])
        )

        for _ in range(12_000):  # the buffer tells no one: looked at every 5 ms, for at most a minute
            if (buffer.last_timestamp or 0) >= command["timestamp"]:
                break
            await asyncio.sleep(0.005)
        else:
            raise TimeoutError(f"the candle at {command['timestamp']} was not fetched")
        await self.manager.channels.join()
        return int(buffer.last_timestamp)

    async def answer(self, command: dict[str, Any]) -> None:
        try:
            result = await self.run(command)
        except Exception as exc:  # reported to the parent, the engine keeps running
            _say({"id": command["id"], "ok": False, "error": type(exc).__name__, "message": str(exc)})
        else:
            _say({"id": command["id"], "ok": True, **result})


async def main() -> int:
    """Build the engine, answer commands until ``stop`` or the end of stdin; the exit code."""
    spec = EngineSpec(**json.loads(os.environ[ENV]))
    logging.basicConfig(level=spec.log_level, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    child = _Child(spec)
    try:
        await child.build()
    except Exception as exc:
        _say({"id": 0, "ok": False, "error": type(exc).__name__, "message": str(exc)})
        return 3
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip():
                loop.call_soon_threadsafe(queue.put_nowait, json.loads(line))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read_stdin, daemon=True).start()
    tasks: set[asyncio.Future[None]] = set()
    if spec.grid is not None:
        tasks.add(asyncio.ensure_future(child.poll_candles()))
    _say({"id": 0, "ok": True, **snapshot_of(child.manager)})
    while (command := await queue.get()) is not None:
        if command["op"] == "stop":
            await child.answer(command)
            break
        task = asyncio.ensure_future(child.answer(command))  # a held request never blocks later commands
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    else:
        await child.manager.stop()
    for running in list(tasks):
        running.cancel()
    return 0


def _exit(code: int) -> None:
    """Leave at once once ``main`` returned: the engine is stopped, its state written and every
    line flushed; the interpreter's own teardown (module by module) would only add most of a
    second to every clean stop a test waits for."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(asyncio.run(main()))
