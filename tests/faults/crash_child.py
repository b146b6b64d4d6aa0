"""The engine process of the crash tests: run as a script, killed with SIGKILL by the parent test.

It builds the real engine (``ot.ExchangeBuilder("binance")...use_real_trader().with_storage(path)``,
the real ccxt client) against the fake Binance server the parent runs on 127.0.0.1, optionally
with the grid mode, and speaks JSON lines: commands on stdin, events on stdout (logs on stderr).

Settings come as one JSON document in the ``FAULT_CHILD_SETTINGS`` environment variable (never on
the command line, which other users of the machine can read): ``port``, ``api_key``,
``api_secret``, ``storage``, ``rest_only``, ``poll_seconds``, ``grid`` (a ``GridConfig`` dict or
null), ``candle_poll_seconds``.

Commands (one JSON object per line, ``cmd`` naming it):

* ``place`` (``type``, ``side``, ``amount``, ``price``): ``trader.create_order``; answers
  ``placed`` (the order) or ``refused`` (the typed error's class);
* ``hold_sends``: from now on an order request is held inside the process just before it leaves
  (after its ``sending`` event the call waits forever): a kill there is a crash after the engine
  decided to place, before the venue heard of it;
* ``snapshot``: one REST reconciliation, then ``snapshot`` (orders, trades, balances);
* ``wait_candle`` (``timestamp``): once the candle opened then was fetched and every consumer
  (the modes) handled it, ``candle``;
* ``stop``: a clean stop, then ``stopped``.

Events: ``ready`` (after ``build()``: the restore and the reconciliation ran, with a snapshot),
``build_failed`` (the typed error's class and text), ``sending`` (an order request about to leave
the process, with its client order id), plus the answers above.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

import octobot_trading as ot
from octobot_trading.errors import OctoBotTradingError
from octobot_trading.exchange_data.updaters.rest import RestCandlesUpdater
from octobot_trading.personal_data.trader_component import TraderComponent
from tests.exchange_data.helpers import until

SYMBOL = "BTC/USDT"
TIME_FRAME = "5m"


def emit(event: str, **data: Any) -> None:
    """Print one event line (flushed: the parent waits on it)."""
    sys.stdout.write(json.dumps({"event": event, **data}, default=str) + "\n")
    sys.stdout.flush()


def client_hook_for(port: int, ws: bool) -> Any:
    """Point every url of a ccxt binance client at the fake server on ``port`` (as the server's own
    ``client_hook`` does in-process)."""
    base = f"127.0.0.1:{port}"

    def rewrite(urls: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, value in urls.items():
            if isinstance(value, dict):
                result[name] = rewrite(value)
            elif isinstance(value, str):
                parts = urlsplit(value)
                scheme = "ws" if parts.scheme in ("ws", "wss") else "http"
                result[name] = f"{scheme}://{base}{parts.path}"
            else:
                result[name] = value
        return result

    def hook(client: Any) -> None:
        api = client.urls.get("api")
        urls = rewrite(api) if isinstance(api, dict) else {}
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


def order_row(order: Any) -> dict[str, Any]:
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "exchange_order_id": order.exchange_order_id,
        "status": str(order.status),
        "side": str(order.side),
        "amount": str(order.amount),
        "price": str(order.price),
        "filled": str(order.filled),
        "tag": order.tag,
        "reserved": [order.reserved_currency, str(order.reserved_amount or 0)],
    }


def snapshot(manager: Any) -> dict[str, Any]:
    personal = manager.exchange_personal_data
    portfolio = personal.portfolio_manager.portfolio
    balances = {}
    for currency in sorted(portfolio.totals()):
        asset = portfolio.get_currency_portfolio(currency)
        balances[currency] = [str(asset.total), str(asset.available)]
    return {
        "orders": [order_row(o) for o in personal.orders_manager.all_orders()],
        "trades": [
            [t.id, t.exchange_order_id, str(t.price), str(t.amount), str(t.fee)]
            for t in personal.trades_manager.trades()
        ],
        "balances": balances,
    }


def read_commands(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
    """Thread: stdin lines -> the loop's queue (None at end of input)."""
    for line in sys.stdin:
        if line.strip():
            loop.call_soon_threadsafe(queue.put_nowait, json.loads(line))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def poll_candles(manager: Any, period: float) -> None:
    """Fetch the venue's new closed candles often (the parent moves the venue's candles forward)."""
    updater = next(u for u in manager.get_component("exchange_data").updaters if isinstance(u, RestCandlesUpdater))
    while True:
        with contextlib.suppress(OctoBotTradingError):
            await updater.fetch_new(SYMBOL, ot.TimeFrame.parse(TIME_FRAME))
        await asyncio.sleep(period)


class SendGate:
    """Reports every order request just before it leaves the process (``sending``) and, once
    ``hold`` is set, holds it there forever."""

    def __init__(self, manager: Any) -> None:
        venue = manager.trader.connector
        self.hold = False
        self._send = venue.create_order
        self._forever = asyncio.Event()
        venue.create_order = self.create_order

    async def create_order(self, *args: Any, client_order_id: str | None = None, **kwargs: Any) -> Any:
        emit("sending", client_order_id=client_order_id, held=self.hold)
        if self.hold:
            await self._forever.wait()
        return await self._send(*args, client_order_id=client_order_id, **kwargs)


async def handle(manager: Any, gate: SendGate, command: dict[str, Any]) -> bool:
    """Run one command; False once the engine is stopped."""
    name = command["cmd"]
    if name == "place":
        try:
            order = await manager.trader.create_order(
                command["type"], command["side"], SYMBOL, command["amount"], command.get("price")
            )
        except OctoBotTradingError as exc:
            emit("refused", error=type(exc).__name__, message=str(exc))
        else:
            emit("placed", order=order_row(order))
    elif name == "hold_sends":
        gate.hold = True
        emit("holding")
    elif name == "snapshot":
        component = manager.get_component("trader", TraderComponent)
        async with component.sync_lock:
            await manager.trader.sync_with_exchange(manager.symbols)
            await manager.trader.refresh_balances()
        emit("snapshot", **snapshot(manager))
    elif name == "wait_candle":
        # the candle opened at ``timestamp`` was fetched, published and handled by every consumer
        buffer = manager.exchange_symbols_data.get(SYMBOL).candles(TIME_FRAME)
        await until(lambda: (buffer.last_timestamp or 0) >= command["timestamp"], limit_s=60)
        await manager.channels.join()
        emit("candle", timestamp=buffer.last_timestamp)
    elif name == "stop":
        await manager.stop()
        emit("stopped")
        return False
    return True


async def main() -> int:
    settings = json.loads(os.environ["FAULT_CHILD_SETTINGS"])
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    builder = (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key=settings["api_key"], api_secret=settings["api_secret"])
        .with_symbols([SYMBOL])
        .with_time_frames([TIME_FRAME])
        .with_ccxt_options({"rateLimit": 1, "timeout": 2000})
        .with_client_hook(client_hook_for(settings["port"], not settings.get("rest_only", True)))
        .with_trading_config(
            order_safety={"max_price_age_seconds": 10**10},
            account_poll_seconds=settings.get("poll_seconds", 0.3),
            streaming_poll_seconds=settings.get("poll_seconds", 0.3) * 10,
            stream_watchdog_seconds=2.0,
        )
        .rest_only(settings.get("rest_only", True))
        .use_real_trader()
        .with_storage(settings["storage"])
    )
    if settings.get("grid") is not None:
        builder = builder.use_trading_mode(ot.modes.GridTradingMode, settings["grid"])
    try:
        manager = await builder.build()
    except OctoBotTradingError as exc:
        emit("build_failed", error=type(exc).__name__, message=str(exc))
        return 3
    gate = SendGate(manager)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    threading.Thread(target=read_commands, args=(loop, queue), daemon=True).start()
    background: list[asyncio.Future[Any]] = []
    if settings.get("grid") is not None:
        background.append(asyncio.ensure_future(poll_candles(manager, settings.get("candle_poll_seconds", 0.1))))
    emit("ready", **snapshot(manager))
    running = True
    while running:
        command = await queue.get()
        if command is None:
            break
        # commands run concurrently: a held placement must not block a later command
        if command["cmd"] == "place":
            background.append(asyncio.ensure_future(handle(manager, gate, command)))
        else:
            running = await handle(manager, gate, command)
    for task in background:
        task.cancel()
    await manager.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
