"""A live futures engine with storage in its own process, for kill -9 tests.

Run as ``python -m tests.storage.futures_engine_child`` with the settings in the environment
variable ``OCTOBOT_FUTURES_CHILD`` (JSON: ``port``, ``api_key``, ``api_secret``, ``path``,
``now_ms``, ``symbol``, ``paper``). It builds the manager (real ccxt ``binanceusdm`` client on the
fake USDⓈ-M venue at ``127.0.0.1:<port>``, storage at ``path``) and prints ``ready`` with a JSON
report, then waits to be killed:

* real trader: the recorded funding transaction ids;
* ``paper``: a paper trader (1000 USDT) sets the leverage to 5 and buys 100 contracts at market;
  the report is its futures account: position (contracts, entry price, initial margin) and wallet.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any
from urllib.parse import urlsplit

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import TransactionType
from octobot_trading.testing import FakeFuturesServer

ENV = "OCTOBOT_FUTURES_CHILD"


def client_hook_for(port: int) -> Any:
    """What ``FakeFuturesServer.client_hook`` does, for a venue in another process."""

    def rewrite(urls: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, value in urls.items():
            if isinstance(value, dict):
                result[name] = rewrite(value)
            elif isinstance(value, str):
                result[name] = f"http://127.0.0.1:{port}{urlsplit(value).path}"
            else:
                result[name] = value
        return result

    def hook(client: Any) -> None:
        client.urls["api"] = rewrite(client.urls["api"])
        exceptions = client.exceptions
        linear = exceptions.get("linear", {})
        for kind in ("exact", "broad"):
            exceptions[kind] = {**exceptions.get(kind, {}), **linear.get(kind, {})}

    return hook


def paper_report(manager: Any) -> dict[str, Any]:
    """The paper futures account as strings: positions and wallets."""
    connector = manager.connector
    return {
        "positions": [
            [p.symbol, p.side.value, str(p.contracts), str(p.entry_price), str(p.initial_margin), str(p.leverage)]
            for p in connector.positions_snapshot()
        ],
        "wallets": {c: str(w) for c, w in connector.futures_account.wallets.items()},
    }


async def main() -> None:
    spec = json.loads(os.environ[ENV])
    builder = (
        ot.ExchangeBuilder("binanceusdm")
        .with_credentials(api_key=spec["api_key"], api_secret=spec["api_secret"])
        .with_market_type("linear")
        .with_symbols([spec["symbol"]])
        .with_ccxt_options({**FakeFuturesServer.ccxt_config(), "rateLimit": 1, "timeout": 3000})
        .with_client_hook(client_hook_for(spec["port"]))
        .with_clock(SimulatedClock(spec["now_ms"]))
        .rest_only(True)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10}, account_poll_seconds=600.0)
        .with_storage(spec["path"])
    )
    if spec.get("paper"):
        manager = await builder.use_simulated_trader(starting_portfolio={"USDT": "1000"}).build()
        await manager.trader.set_leverage(spec["symbol"], "5")
        await manager.trader.create_order("market", "buy", spec["symbol"], "100")
        print("ready " + json.dumps(paper_report(manager)), flush=True)
        await asyncio.Event().wait()
    manager = await builder.use_real_trader().build()
    funding = manager.exchange_personal_data.transactions_manager.transactions(TransactionType.FUNDING_FEE)
    print("ready " + json.dumps([t.id for t in funding]), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
