"""Live futures with storage: funding payments and liquidations the venue applied while the engine
was down are recorded at the restart, once, before the engine is ready; a second restart records
nothing again. Real trader, real ccxt ``binanceusdm`` client, the fake USDⓈ-M venue on loopback and
the same SQLite file across stop / restart."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import PositionSide, TransactionType
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.storage import SqliteStore
from octobot_trading.testing import FakeFuturesServer
from octobot_trading.testing.engine_process import EngineProcess, EngineSpec
from tests.clock_driving import build_simulated
from tests.testing.conftest import futures_venue, usdm_client

__all__ = ["futures_venue"]

D = Decimal
XRP = "XRP/USDT:USDT"
POLL_SECONDS = 600.0


@contextlib.asynccontextmanager
async def _live(venue: FakeFuturesServer, path: Path) -> AsyncIterator[Any]:
    clock = SimulatedClock(venue.market("XRPUSDT").now_ms)
    built = await build_simulated(
        ot.ExchangeBuilder("binanceusdm")
        .with_credentials(api_key=venue.api_key, api_secret=venue.api_secret)
        .with_market_type("linear")
        .with_symbols([XRP])
        .with_ccxt_options({**venue.ccxt_config(), "rateLimit": 1, "timeout": 3000})
        .with_client_hook(venue.client_hook)
        .with_clock(clock)
        .rest_only(True)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10}, account_poll_seconds=POLL_SECONDS)
        .use_real_trader()
        .with_storage(path)
    )
    async with built:
        yield built


def _recorded(built: Any, kind: TransactionType) -> list[Any]:
    return built.exchange_personal_data.transactions_manager.transactions(kind)


async def _stored_ids(path: Path) -> list[str]:
    store = SqliteStore(path)
    await store.open()
    try:
        return [row.id for row in (await store.load()).transactions]
    finally:
        await store.close()


async def _open_isolated_long(venue: FakeFuturesServer) -> None:
    client = usdm_client(venue)
    try:
        await client.set_margin_mode("isolated", XRP)
        await client.set_leverage(10, XRP)
        await client.create_order(XRP, "market", "buy", "100")
    finally:
        await client.close()


async def test_funding_and_liquidation_while_down_are_recorded_once_at_restart(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    venue, path = futures_venue, tmp_path / "futures.sqlite"
    await _open_isolated_long(venue)
    market = venue.market("XRPUSDT")
    last_funding = market.next_funding_time() - 8 * 3600 * 1000
    # before the first session: not this engine's history
    assert venue.settle_funding("XRPUSDT", "0.001", funding_time=last_funding)

    async with _live(venue, path) as built:
        assert _recorded(built, TransactionType.FUNDING_FEE) == []
        assert built.exchange_personal_data.positions_manager.get(XRP) is not None

    # while the engine is down: the long pays funding, then is liquidated
    (paid,) = venue.settle_funding("XRPUSDT", "0.002")
    assert paid < 0
    position = venue.futures_account().futures.get(XRP)
    assert position is not None and position.liquidation_price is not None
    (forced,) = venue.set_mark_price("XRPUSDT", position.liquidation_price * D("0.95"))
    venue.set_mark_price("XRPUSDT", venue.market("XRPUSDT").last_price)

    announced: list[Any] = []
    async with _live(venue, path) as built:
        # recorded by the first sync, before the engine was handed over (no poll ran since)
        (funding,) = _recorded(built, TransactionType.FUNDING_FEE)
        assert (funding.symbol, funding.currency, funding.amount) == (XRP, "USDT", paid)
        (liquidation,) = _recorded(built, TransactionType.LIQUIDATION)
        assert liquidation.id == f"liquidation:{forced.order.order_id}" and liquidation.symbol == XRP
        assert liquidation.currency == "USDT"
        sync = built.get_component("trader", TraderComponent).futures_sync
        assert sync is not None
        assert [(x.side, x.contracts) for x in sync.liquidations] == [(PositionSide.LONG.value, D(100))]
        assert built.exchange_personal_data.positions_manager.get(XRP) is None
        built.exchange_personal_data.positions_manager.add_liquidation_listener(_collect(announced))
    ids = await _stored_ids(path)
    assert ids.count(funding.id) == 1 and ids.count(liquidation.id) == 1

    async with _live(venue, path) as built:  # a second restart: nothing new, nothing twice
        assert [t.id for t in _recorded(built, TransactionType.FUNDING_FEE)] == [funding.id]
        assert [t.id for t in _recorded(built, TransactionType.LIQUIDATION)] == [liquidation.id]
        sync = built.get_component("trader", TraderComponent).futures_sync
        assert sync is not None and sync.liquidations == []
        await sync.read_funding(force=True)
        assert [t.id for t in _recorded(built, TransactionType.FUNDING_FEE)] == [funding.id]
    assert sorted(await _stored_ids(path)) == sorted(ids)
    assert announced == []


def _collect(into: list[Any]) -> Any:
    async def listener(liquidation: Any) -> None:
        into.append(liquidation)

    return listener


async def test_more_funding_payments_while_down_than_one_history_page_are_all_recorded_once(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    """The venue answers 100 income rows per request: the restart reads page after page."""
    venue, path = futures_venue, tmp_path / "futures.sqlite"
    await _open_isolated_long(venue)
    async with _live(venue, path) as built:  # the account's funding history is empty at the first read
        assert _recorded(built, TransactionType.FUNDING_FEE) == []
    first = venue.market("XRPUSDT").next_funding_time()
    paid = [venue.settle_funding("XRPUSDT", "0.0001", funding_time=first + i * 8 * 3600 * 1000)[0] for i in range(130)]
    async with _live(venue, path) as built:
        recorded = _recorded(built, TransactionType.FUNDING_FEE)
        assert [t.amount for t in recorded] == paid
    async with _live(venue, path) as built:
        assert len(_recorded(built, TransactionType.FUNDING_FEE)) == 130
    assert len([i for i in await _stored_ids(path) if i.startswith("funding:")]) == 130


async def _killed_engine(venue: FakeFuturesServer, path: Path, *, paper: bool = False) -> Any:
    """Run the engine in a child process (the engine-process harness) until it is built, kill -9
    it; return its report. Real trader: the funding ids it had recorded. ``paper``: a paper trader
    (1000 USDT) sets the leverage to 5 and buys 100 contracts at market first; the report is its
    futures account (see ``futures_account_of``)."""
    spec = EngineSpec.for_futures_server(
        venue,
        path,
        trader="simulated" if paper else "real",
        starting_portfolio={"USDT": "1000"} if paper else None,
        symbols=[XRP],
        poll_seconds=POLL_SECONDS,
        simulated_clock_ms=venue.market("XRPUSDT").now_ms,
    )
    engine = await EngineProcess.start(spec)
    try:
        if paper:
            await _answered(engine, "set_leverage", leverage="5")
            await _answered(engine, "create_order", type="market", side="buy", amount="100")
            report = await _answered(engine, "futures_account")
            return {"positions": report["positions"], "wallets": report["wallets"]}
        return (await _answered(engine, "transactions", kind=TransactionType.FUNDING_FEE.value))["ids"]
    finally:
        assert await engine.kill() == -signal.SIGKILL


async def _answered(engine: EngineProcess, op: str, **args: Any) -> dict[str, Any]:
    answer = await engine.request(op, **args)
    assert answer["ok"], answer
    return answer


async def test_funding_while_down_is_recorded_once_across_killed_engines(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    venue, path = futures_venue, tmp_path / "futures.sqlite"
    await _open_isolated_long(venue)
    assert await _killed_engine(venue, path) == []
    first = venue.market("XRPUSDT").next_funding_time()
    (paid,) = venue.settle_funding("XRPUSDT", "0.001", funding_time=first)
    recorded = await _killed_engine(venue, path)  # recorded by its first sync, then killed
    assert len(recorded) == 1
    (again,) = venue.settle_funding("XRPUSDT", "0.001", funding_time=first + 8 * 3600 * 1000)
    third = await _killed_engine(venue, path)  # the first one stays recorded once, the new one is added
    assert len(third) == 2 and third[0] == recorded[0]
    async with _live(venue, path) as built:
        funding = _recorded(built, TransactionType.FUNDING_FEE)
        assert [t.amount for t in funding] == [paid, again]
    assert len([i for i in await _stored_ids(path) if i.startswith("funding:")]) == 2
