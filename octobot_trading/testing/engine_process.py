"""A real engine in a child process, for crash tests: built, driven, then killed with SIGKILL.

The parent (a test) runs the fake Binance server on 127.0.0.1 and starts the engine in a child
process (``python -m octobot_trading.testing.engine_process``) on the server's port and a SQLite
state file: the real builder, the real ccxt client, the real trader and storage. The parent
drives the child with JSON-line commands and kills it at a chosen point, then restarts an
engine (another child, or one in the test's own process) on the same file and checks the state.

Usage::

    async with FakeExchangeServer(...) as server:
        spec = EngineSpec.for_server(server, tmp_path / "state.sqlite")
        engine = await EngineProcess.start(spec)        # returns once build() finished
        try:
            await engine.request("arm_kill", point="before_send")
            await engine.send("create_order", type="market", side="buy", symbol="BTC/USDT", amount="0.001")
            assert await engine.wait() == -signal.SIGKILL   # the child killed itself there
        finally:
            await engine.kill()                           # idempotent: never leaves a process behind

Commands (``await engine.request(op, **args)`` returns the child's answer, ``send`` does not wait):

* ``create_order`` (``type``, ``side``, ``symbol``, ``amount``, ``price``): ``trader.create_order``;
  answers ``{"order": {...}}`` or ``{"error": "<typed error class>", "message": ...}``;
* ``cancel_order`` (``id``): ``trader.cancel_order``;
* ``snapshot`` (``sync``: run one venue reconciliation first, default true): orders, trades and
  balances as strings (see :func:`snapshot_of`);
* ``flush``: the storage component's write now (rows written);
* ``arm_kill`` (``point``): the child sends SIGKILL to itself when it reaches ``point``:
  ``before_send`` (an order's intent is committed, its request not sent), ``after_fill_commit``
  (the journal committed a batch holding a new trade, before any mode heard of it),
  ``in_fill_hook`` (inside the FILL hook of orders created from now on: a mode hearing of a
  fill), ``after_fill_commit`` and ``in_fill_hook`` fire for the first new trade only;
* ``stop``: a clean ``manager.stop()``, answered, then the child exits 0.

A kill "after the request reached the venue, before its reply" is done from the parent: arm
``server.faults.timeout_after(...)`` on ``POST /api/v3/order``, ``send`` the ``create_order``,
wait until the venue holds the order (``server.state.orders``), then :meth:`EngineProcess.kill`.

Settings travel in the ``OCTOBOT_ENGINE_SPEC`` environment variable (JSON), never on the command
line (which other users of the machine can read). Every line the child writes (answers on
stdout, logs on stderr) is kept in :attr:`EngineProcess.output`, e.g. to check no secret leaked.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["KILL_POINTS", "EngineProcess", "EngineSpec", "snapshot_of"]

#: Kill points the child knows (``arm_kill``); see the module docstring.
KILL_POINTS = ("before_send", "after_fill_commit", "in_fill_hook")
_ENV = "OCTOBOT_ENGINE_SPEC"
_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class EngineSpec:
    """How the child builds its engine.

    ``clock_offset_ms`` shifts the engine's clock (e.g. a restart "61 s later", past the venue's
    window for a late request) while ccxt keeps signing with the real time; ``poll_seconds`` is
    the trader's REST poll period; ``flush_seconds`` the storage writer's period (long by
    default, so only the journal writes while a test runs); ``history`` enables the order
    status history.
    """

    port: int
    api_key: str
    api_secret: str
    storage: str
    trader: str = "real"
    symbols: list[str] = field(default_factory=lambda: ["BTC/USDT"])
    poll_seconds: float = 0.2
    flush_seconds: float = 3600.0
    clock_offset_ms: int = 0
    history: bool = False
    starting_portfolio: dict[str, str] | None = None

    @classmethod
    def for_server(cls, server: Any, storage: str | os.PathLike[str], **options: Any) -> EngineSpec:
        """A spec on ``server`` (a running ``FakeExchangeServer``) with its account's credentials."""
        return cls(
            port=server.port, api_key=server.api_key, api_secret=server.api_secret, storage=str(storage), **options
        )


class EngineProcess:
    """The parent's handle on one child engine (see the module docstring)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []
        self.answers: dict[int, dict[str, Any]] = {}
        self.ready: dict[str, Any] | None = None
        self._next_id = 0
        self._changed = asyncio.Event()
        assert process.stdout is not None and process.stderr is not None
        self._readers = [
            asyncio.ensure_future(self._read(process.stdout, answers=True)),
            asyncio.ensure_future(self._read(process.stderr, answers=False)),
        ]

    @classmethod
    async def start(cls, spec: EngineSpec, *, timeout: float = 60.0) -> EngineProcess:  # noqa: ASYNC109
        """Start a child and wait until its ``build()`` finished (``RuntimeError`` with its output if it failed)."""
        env = {**os.environ, _ENV: json.dumps(asdict(spec))}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "octobot_trading.testing.engine_process",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        engine = cls(process)
        answer = await engine._answer(0, timeout)
        if not answer.get("ok"):
            await engine.kill()
            raise RuntimeError(f"the engine did not start: {answer.get('error')}: {answer.get('message')}")
        engine.ready = answer
        return engine

    async def _read(self, stream: asyncio.StreamReader, *, answers: bool) -> None:
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.output.append(text)
            if answers and text.startswith("{"):
                message = json.loads(text)
                self.answers[message["id"]] = message
            self._changed.set()
        self._changed.set()

    async def _answer(self, request_id: int, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109
        async def wait() -> dict[str, Any]:
            while request_id not in self.answers:
                if all(reader.done() for reader in self._readers):
                    tail = "\n".join(self.output[-20:])
                    raise RuntimeError(f"the engine exited ({self.process.returncode}) before answering:\n{tail}")
                self._changed.clear()
                await self._changed.wait()
            return self.answers[request_id]

        return await asyncio.wait_for(wait(), timeout)

    async def send(self, op: str, **args: Any) -> int:
        """Send one command without waiting for its answer; return its id."""
        self._next_id += 1
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"id": self._next_id, "op": op, **args}) + "\n").encode())
        await self.process.stdin.drain()
        return self._next_id

    async def request(self, op: str, *, timeout: float = 60.0, **args: Any) -> dict[str, Any]:  # noqa: ASYNC109
        """Send one command and return the child's answer."""
        return await self._answer(await self.send(op, **args), timeout)

    async def wait(self, timeout: float = 60.0) -> int:  # noqa: ASYNC109
        """Wait for the child to exit (by itself: a kill point, a stop); return its exit code."""
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.gather(*self._readers)
        return code

    async def kill(self) -> int:
        """SIGKILL the child (no clean-up of any kind runs in it); idempotent; return its exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        return await self.wait()

    async def stop(self) -> int:
        """A clean stop (the engine writes its state); return the exit code."""
        if self.process.returncode is None:
            await self.request("stop")
        return await self.wait()


# -- the child ------------------------------------------------------------------------------------------
def snapshot_of(manager: Any) -> dict[str, Any]:
    """Orders, trades and account balances of ``manager`` as JSON-ready strings."""
    personal = manager.exchange_personal_data
    portfolio = personal.portfolio_manager.portfolio
    return {
        "orders": [_order(o) for o in personal.orders_manager.all_orders()],
        "trades": [
            {
                "id": t.id,
                "order_id": t.order_id,
                "exchange_order_id": t.exchange_order_id,
                "price": str(t.price),
                "amount": str(t.amount),
                "fee": str(t.fee),
                "fee_currency": t.fee_currency,
            }
            for t in personal.trades_manager.trades()
        ],
        "balances": {c: [str(total), str(free)] for c, (total, free) in sorted(portfolio.snapshot().items())},
    }


def _order(order: Any) -> dict[str, Any]:
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "exchange_order_id": order.exchange_order_id,
        "status": order.status.value,
        "type": order.order_type.value,
        "side": order.side.value,
        "symbol": order.symbol,
        "amount": str(order.amount),
        "price": None if order.price is None else str(order.price),
        "filled": str(order.filled),
    }


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, default=str) + "\n")
    sys.stdout.flush()


def _client_hook(port: int) -> Any:
    """Point every url of the ccxt client at the fake server (what its in-process ``client_hook`` does)."""
    from urllib.parse import urlsplit

    base = f"127.0.0.1:{port}"

    def rewrite(urls: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, value in urls.items():
            if isinstance(value, dict):
                result[name] = rewrite(value)
            elif isinstance(value, str):
                parts = urlsplit(value)
                result[name] = f"{'ws' if parts.scheme in ('ws', 'wss') else 'http'}://{base}{parts.path}"
            else:
                result[name] = value
        return result

    def hook(client: Any) -> None:
        api = client.urls.get("api")
        urls = rewrite(api) if isinstance(api, dict) else {}
        urls.update(public=f"http://{base}/api/v3", private=f"http://{base}/api/v3", v1=f"http://{base}/api/v1")
        client.urls["api"] = urls

    return hook


class _Child:
    """The engine side: builds the manager, runs commands, kills itself at the armed point."""

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        self.manager: Any = None
        self.kill_at: str | None = None
        self._trades_at_arm = 0

    async def build(self) -> None:
        import octobot_trading as ot
        from octobot_trading.clock import LiveClock

        spec = self.spec

        class ShiftedClock(LiveClock):
            def now_ms(self) -> int:
                return super().now_ms() + spec.clock_offset_ms

            def now(self) -> float:
                return super().now() + spec.clock_offset_ms / 1000

        builder = (
            ot.ExchangeBuilder("binance")
            .with_credentials(api_key=spec.api_key, api_secret=spec.api_secret)
            .with_symbols(spec.symbols)
            .with_ccxt_options(
                {
                    "rateLimit": 1,
                    "timeout": 2000,
                    "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
                }
            )
            .with_client_hook(_client_hook(spec.port))
            .with_clock(ShiftedClock())
            .with_trading_config(order_safety={"max_price_age_seconds": 10**10}, account_poll_seconds=spec.poll_seconds)
            .rest_only(True)
            .with_storage(spec.storage, history=spec.history)
        )
        if spec.trader == "real":
            builder = builder.use_real_trader()
        else:
            builder = builder.use_simulated_trader(starting_portfolio=spec.starting_portfolio)
        self.manager = await builder.build()
        storage = self.manager.get_component("storage")
        storage.flush_seconds = spec.flush_seconds
        trader = self.manager.trader
        journal_intent = trader.pre_send

        async def pre_send(order: Any) -> None:
            await journal_intent(order)
            if self.kill_at == "before_send":
                _die()

        trader.pre_send = pre_send
        orders_manager = self.manager.exchange_personal_data.orders_manager
        child = self

        class KillingJournal:
            def note(self, order: Any) -> None:
                storage.note(order)

            async def commit(self, order: Any) -> None:
                await storage.commit(order)
                if child.kill_at == "after_fill_commit" and child._new_trade():
                    _die()

        orders_manager.journal = KillingJournal()

    def _new_trade(self) -> bool:
        return len(self.manager.exchange_personal_data.trades_manager) > self._trades_at_arm

    async def run(self, command: dict[str, Any]) -> dict[str, Any]:
        op = command["op"]
        manager = self.manager
        if op == "create_order":
            order = await manager.trader.create_order(
                command["type"], command["side"], command["symbol"], command["amount"], command.get("price")
            )
            if self.kill_at == "in_fill_hook":
                from octobot_trading.personal_data.orders.order import OrderEvent

                async def heard(_order: Any) -> None:
                    _die()

                order.add_hook(OrderEvent.FILL, heard)
            return {"order": _order(order)}
        if op == "cancel_order":
            order = manager.exchange_personal_data.orders_manager.get(command["id"])
            return {"order": _order(await manager.trader.cancel_order(order))}
        if op == "snapshot":
            if command.get("sync", True):
                component = manager.get_component("trader")
                async with component.sync_lock:
                    await manager.trader.sync_with_exchange(manager.symbols)
                    await manager.trader.refresh_balances()
            return snapshot_of(manager)
        if op == "flush":
            return {"rows": await manager.get_component("storage").flush()}
        if op == "arm_kill":
            if command["point"] not in KILL_POINTS:
                raise ValueError(f"unknown kill point {command['point']!r} (one of {KILL_POINTS})")
            self.kill_at = command["point"]
            self._trades_at_arm = len(manager.exchange_personal_data.trades_manager)
            return {"armed": self.kill_at}
        if op == "stop":
            await manager.stop()
            return {"stopped": True}
        raise ValueError(f"unknown command {op!r}")

    async def answer(self, command: dict[str, Any]) -> None:
        try:
            result = await self.run(command)
        except Exception as exc:  # reported to the parent, the engine keeps running
            _say({"id": command["id"], "ok": False, "error": type(exc).__name__, "message": str(exc)})
        else:
            _say({"id": command["id"], "ok": True, **result})


async def _child_main() -> int:
    import logging
    import threading

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    child = _Child(EngineSpec(**json.loads(os.environ[_ENV])))
    try:
        await child.build()
    except Exception as exc:
        _say({"id": 0, "ok": False, "error": type(exc).__name__, "message": str(exc)})
        return 3
    _say({"id": 0, "ok": True, **snapshot_of(child.manager)})
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip():
                loop.call_soon_threadsafe(queue.put_nowait, json.loads(line))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read_stdin, daemon=True).start()
    tasks: set[asyncio.Task[None]] = set()
    while (command := await queue.get()) is not None:
        if command["op"] == "stop":
            await child.answer(command)
            break
        task = asyncio.ensure_future(child.answer(command))  # a held request never blocks later commands
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    else:
        await child.manager.stop()
    for task in list(tasks):
        task.cancel()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_child_main()))
