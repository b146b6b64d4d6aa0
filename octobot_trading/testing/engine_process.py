"""A real engine in a child process, for crash tests: built, driven, then killed with SIGKILL.

The parent (a test) runs the fake Binance server on 127.0.0.1 and starts the engine in a child
process (:mod:`octobot_trading.testing.engine_child`) on the server's port and a SQLite state
file: the real builder, the real ccxt client, the real trader and storage, optionally a trading
mode and the websocket streams. The parent drives the child with JSON-line commands and kills it
at a chosen point, then restarts an engine (another child, or one in the test's own process) on
the same file and checks the state.

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

A build that fails raises :class:`EngineStartError` (the typed error's class and text, the
child's exit code and its output).

Commands (``await engine.request(op, **args)`` returns the child's answer, ``send`` does not wait):

* ``create_order`` (``type``, ``side``, ``symbol`` (default: the spec's first), ``amount``,
  ``price``): ``trader.create_order``; answers ``{"order": {...}}`` or ``{"error": "<typed error
  class>", "message": ...}``;
* ``cancel_order`` (``id``): ``trader.cancel_order``;
* ``snapshot`` (``sync``: run one venue reconciliation first, default true): orders, trades and
  balances as strings (see :func:`snapshot_of`; :meth:`EngineProcess.snapshot`);
* ``flush``: the storage component's write now (rows written);
* ``set_leverage`` (``leverage``, ``symbol`` default the spec's first): ``trader.set_leverage``
  on a contract;
* ``transactions`` (``kind``: a ``TransactionType`` value, e.g. ``"funding_fee"``): the ids of
  the recorded transactions of that kind, in order;
* ``futures_account``: a paper futures account's positions and wallets (see
  :func:`futures_account_of`);
* ``arm_kill`` (``point``): the child sends SIGKILL to itself when it reaches ``point``:
  ``before_send`` (an order's intent is committed, its request not sent), ``after_fill_commit``
  (the journal committed a batch holding a new trade, before any mode heard of it),
  ``in_fill_hook`` (inside the FILL hook of orders created from now on: a mode hearing of a
  fill), ``after_fill_commit`` and ``in_fill_hook`` fire for the first new trade only;
* ``hold_sends``: from now on an order request is held inside the child just before it leaves
  (after its ``sending`` event it waits forever): a kill then is a crash after the engine decided
  to place, before the venue heard of it;
* ``wait_candle`` (``timestamp``, ``symbol`` and ``time_frame`` default to the spec's first):
  answers once the candle opened at ``timestamp`` was fetched and every consumer (the modes)
  handled it;
* ``stop``: a clean ``manager.stop()``, answered, then the child exits 0.

Events (lines the child writes unasked, read with :meth:`EngineProcess.expect`): ``sending``
(``client_order_id``, ``held``), an order request about to leave the process.

A kill "after the request reached the venue, before its reply" is done from the parent: arm
``server.faults.timeout_after(...)`` on ``POST /api/v3/order``, ``send`` the ``create_order``,
wait until the venue holds the order (``server.state.orders``), then :meth:`EngineProcess.kill`.

Settings travel in the ``OCTOBOT_ENGINE_SPEC`` environment variable (JSON), never on the command
line (which other users of the machine can read). Every line the child writes (answers and events
on stdout, logs on stderr) is kept in :attr:`EngineProcess.output`, e.g. to check no secret leaked.
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

__all__ = [
    "KILL_POINTS",
    "EngineProcess",
    "EngineSpec",
    "EngineStartError",
    "futures_account_of",
    "order_row",
    "snapshot_of",
]

#: Kill points the child knows (``arm_kill``); see the module docstring.
KILL_POINTS = ("before_send", "after_fill_commit", "in_fill_hook")
ENV = "OCTOBOT_ENGINE_SPEC"
_ROOT = Path(__file__).resolve().parents[2]
#: The ccxt options of the child's client unless the spec names others.
DEFAULT_CCXT_OPTIONS: dict[str, Any] = {
    "rateLimit": 1,
    "timeout": 2000,
    "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
}


@dataclass
class EngineSpec:
    """How the child builds its engine.

    ``clock_offset_ms`` shifts the engine's clock (e.g. a restart "61 s later", past the venue's
    window for a late request) while ccxt keeps signing with the real time; ``poll_seconds`` is
    the trader's REST poll period; ``flush_seconds`` the storage writer's period (long by
    default, so only the journal writes while a test runs; None keeps the builder's period);
    ``history`` enables the order status history. ``time_frames`` are the candles the engine
    follows; ``grid`` runs ``GridTradingMode`` with that configuration (the child then fetches
    the venue's new candles every ``candle_poll_seconds``); ``rest_only=False`` adds the
    websocket streams; ``trading_config`` adds settings to ``with_trading_config``;
    ``ccxt_options`` replaces the client's options; ``log_level`` is the child's logging level.

    Contracts: ``exchange="binanceusdm"`` with ``market_type="linear"`` builds a futures engine
    on the fake USDⓈ-M venue (:class:`~octobot_trading.testing.FakeFuturesServer`) through the
    real ccxt ``binanceusdm`` client (live) or its prices (paper); :meth:`for_futures_server`
    sets these and the venue's ccxt options. ``simulated_clock_ms`` runs the engine on a
    simulated clock starting there (e.g. the venue's ``market(...).now_ms``) instead of the live
    one.
    """

    port: int
    api_key: str
    api_secret: str
    storage: str
    trader: str = "real"
    symbols: list[str] = field(default_factory=lambda: ["BTC/USDT"])
    poll_seconds: float = 0.2
    flush_seconds: float | None = 3600.0
    clock_offset_ms: int = 0
    history: bool = False
    starting_portfolio: dict[str, str] | None = None
    time_frames: list[str] = field(default_factory=list)
    grid: dict[str, Any] | None = None
    candle_poll_seconds: float = 0.1
    rest_only: bool = True
    trading_config: dict[str, Any] = field(default_factory=dict)
    ccxt_options: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_CCXT_OPTIONS))
    log_level: str = "INFO"
    exchange: str = "binance"
    market_type: str | None = None
    simulated_clock_ms: int | None = None

    @classmethod
    def for_server(cls, server: Any, storage: str | os.PathLike[str], **options: Any) -> EngineSpec:
        """A spec on ``server`` (a running ``FakeExchangeServer``) with its account's credentials."""
        return cls(
            port=server.port, api_key=server.api_key, api_secret=server.api_secret, storage=str(storage), **options
        )

    @classmethod
    def for_futures_server(cls, server: Any, storage: str | os.PathLike[str], **options: Any) -> EngineSpec:
        """A futures spec on ``server`` (a running ``FakeFuturesServer``): ``binanceusdm``, linear
        contracts, the venue's ccxt options, its account's credentials."""
        settings: dict[str, Any] = {
            "exchange": "binanceusdm",
            "market_type": "linear",
            "ccxt_options": {**server.ccxt_config(), "rateLimit": 1, "timeout": 3000},
            **options,
        }
        return cls.for_server(server, storage, **settings)


class EngineStartError(RuntimeError):
    """The child's ``build()`` failed: ``error`` (the exception's class name), ``message``, the
    child's exit code ``returncode`` and its handle ``engine`` (its :attr:`~EngineProcess.output`)."""

    def __init__(self, engine: EngineProcess, error: str | None, message: str | None) -> None:
        super().__init__(f"the engine did not start: {error}: {message}")
        self.engine = engine
        self.error = error
        self.message = message
        self.returncode = engine.process.returncode


#: Longest line read from a child (a snapshot of a long run or a DEBUG line can pass asyncio's 64 KiB).
_LINE_LIMIT = 64 * 1024 * 1024


class EngineProcess:
    """The parent's handle on one child engine (see the module docstring)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []
        self.answers: dict[int, dict[str, Any]] = {}
        #: The events the child wrote, in order (see :meth:`expect`).
        self.events: list[dict[str, Any]] = []
        self.ready: dict[str, Any] | None = None
        self._next_id = 0
        self._seen = 0
        self._changed = asyncio.Event()
        assert process.stdout is not None and process.stderr is not None
        self._readers = [
            asyncio.ensure_future(self._read(process.stdout, answers=True)),
            asyncio.ensure_future(self._read(process.stderr, answers=False)),
        ]

    @classmethod
    async def start(cls, spec: EngineSpec, *, timeout: float = 60.0) -> EngineProcess:  # noqa: ASYNC109
        """Start a child and wait until its ``build()`` finished; :class:`EngineStartError` if it failed."""
        env = {**os.environ, ENV: json.dumps(asdict(spec))}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "octobot_trading.testing.engine_child",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            limit=_LINE_LIMIT,
        )
        engine = cls(process)
        try:
            answer = await engine._answer(0, timeout)
        except BaseException:
            await engine.kill()
            raise
        if not answer.get("ok"):
            try:
                await engine.wait(timeout)  # it exits by itself after a failed build
            finally:
                await engine.kill()
            raise EngineStartError(engine, answer.get("error"), answer.get("message"))
        engine.ready = answer
        return engine

    async def _read(self, stream: asyncio.StreamReader, *, answers: bool) -> None:
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.output.append(text)
            if answers and text.startswith("{"):
                message = json.loads(text)
                if "id" in message:
                    self.answers[message["id"]] = message
                else:
                    self.events.append(message)
            self._changed.set()
        self._changed.set()

    async def _until(self, found: Any, what: str, timeout: float) -> Any:  # noqa: ASYNC109
        """Wait until ``found()`` returns something; RuntimeError if the child exits before."""

        async def wait() -> Any:
            while (result := found()) is None:
                if all(reader.done() for reader in self._readers):
                    tail = "\n".join(self.output[-30:])
                    raise RuntimeError(f"the engine exited ({self.process.returncode}) before {what}:\n{tail}")
                self._changed.clear()
                await self._changed.wait()
            return result

        return await asyncio.wait_for(wait(), timeout)

    async def _answer(self, request_id: int, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109
        result: dict[str, Any] = await self._until(lambda: self.answers.get(request_id), "answering", timeout)
        return result

    async def expect(self, *names: str, timeout: float = 60.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The next event (after those already returned) named one of ``names``; events of other
        names before it are passed over. RuntimeError if the child exits first."""

        def found() -> dict[str, Any] | None:
            while self._seen < len(self.events):
                event = self.events[self._seen]
                self._seen += 1
                if event["event"] in names:
                    return event
            return None

        result: dict[str, Any] = await self._until(found, f"the event {' or '.join(names)}", timeout)
        return result

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

    async def snapshot(self, *, sync: bool = True, timeout: float = 60.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The engine's orders, trades and balances (after one venue reconciliation unless ``sync`` is false)."""
        return await self.request("snapshot", sync=sync, timeout=timeout)

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


# -- what the child reports -------------------------------------------------------------------------------
def snapshot_of(manager: Any) -> dict[str, Any]:
    """Orders (see :func:`order_row`), trades and account balances of ``manager`` as JSON-ready strings."""
    personal = manager.exchange_personal_data
    portfolio = personal.portfolio_manager.portfolio
    return {
        "orders": [order_row(o) for o in personal.orders_manager.all_orders()],
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


def futures_account_of(manager: Any) -> dict[str, Any]:
    """A paper futures account as strings: ``positions`` (``[symbol, side, contracts, entry price,
    initial margin, leverage]`` each) and ``wallets`` (currency: amount)."""
    connector = manager.connector
    return {
        "positions": [
            [p.symbol, p.side.value, str(p.contracts), str(p.entry_price), str(p.initial_margin), str(p.leverage)]
            for p in connector.positions_snapshot()
        ],
        "wallets": {c: str(w) for c, w in connector.futures_account.wallets.items()},
    }


def order_row(order: Any) -> dict[str, Any]:
    """One order as JSON-ready strings; ``reserved`` is ``[currency, amount]`` of what it holds."""
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
        "tag": order.tag,
        "reserved": [order.reserved_currency, str(order.reserved_amount or 0)],
    }
