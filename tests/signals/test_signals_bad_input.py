"""Signals on bad input: refused where it is given, and a follower that never stops following.

Real paper-trading managers on the fake Binance server, real websockets on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import socket
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web

import octobot_trading as ot
from octobot_trading.enums import OrderStatus
from octobot_trading.errors import ConfigurationError, InvalidSignal
from octobot_trading.signals import SignalBundle

D = Decimal
SYMBOL = "BTC/USDT"
DEEP = "[" * 5000 + "]" * 5000


def _create(fraction: str, *, side: str = "sell", symbol: str = SYMBOL, sequence: int = 1) -> str:
    entry = {"ref": f"L{sequence}", "role": "entry", "type": "market", "side": side, "symbol": symbol}
    entry.update(amount="0.001", fraction=fraction)
    return json.dumps(
        {"version": 1, "id": f"x{sequence}", "source": "ext", "sequence": sequence, "timestamp": 1}
        | {"operation": "create", "orders": [entry]}
    )


def test_deeply_nested_json_is_an_invalid_signal() -> None:
    # past the parser's recursion limit "nested too deeply"; under a raised limit "not a JSON object"
    with pytest.raises(InvalidSignal, match=r"nested too deeply|must be a JSON object"):
        SignalBundle.from_json(DEEP)


@pytest.mark.parametrize("fraction", ["5", "1.0001", "0", "0.0"])
def test_an_entry_share_of_holdings_outside_zero_to_one_is_an_invalid_signal(fraction: str) -> None:
    with pytest.raises(InvalidSignal, match=f"entry L1: fraction {fraction} must be in \\(0, 1\\]"):
        SignalBundle.from_json(_create(fraction))


def test_a_contract_entry_may_spend_more_than_its_margin_held_but_not_nothing() -> None:
    assert SignalBundle.from_json(_create("3", symbol="BTC/USDT:USDT")).entry.fraction == "3"
    with pytest.raises(InvalidSignal, match="fraction 0 must be above 0"):
        SignalBundle.from_json(_create("0", symbol="BTC/USDT:USDT"))


async def test_a_bundle_selling_more_than_the_leader_held_changes_nothing(paper_manager: Any) -> None:
    manager = await paper_manager({"USDT": "1000", "BTC": "0.01"})
    publisher = ot.signals.SignalPublisher(manager)
    async with ot.signals.SignalFollower(manager, source=publisher) as follower:
        assert await follower.apply(_create("5")) is False
        assert follower.order_for("L1") is None
        assert "fraction 5 must be in (0, 1]" in follower.refused[0].reason
    assert manager.trader.portfolio_manager.portfolio.total("BTC") == D("0.01")
    await publisher.close()


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"sub_portfolio": "nope"}, "sub_portfolio", "unknown sub-portfolio 'nope'"),
        ({"source": "ws://"}, "source", "ws://host:port"),
        ({"token": ""}, "token", "non-empty"),
        ({"token": " spaced "}, "token", "without leading or trailing spaces"),
        ({"token": "tok\x00en"}, "token", "printable ASCII"),
    ],
)
async def test_a_follower_is_refused_at_construction_for_what_it_could_never_follow_with(
    paper_manager: Any, options: dict[str, Any], field: str, words: str
) -> None:
    manager = await paper_manager({"USDT": "1000"})
    arguments: dict[str, Any] = {"source": "ws://127.0.0.1:9", **options}
    with pytest.raises(ConfigurationError, match=words) as refused:
        ot.signals.SignalFollower(manager, **arguments)
    assert refused.value.field == field


@pytest.mark.parametrize("token", [" spaced token ", "trailing\t", "abc\r\nX-Evil: 1", "tok\x00en", "caf\u00e9"])
async def test_serve_refuses_a_token_no_follower_can_present(paper_manager: Any, token: str) -> None:
    leader = await paper_manager({"USDT": "1000"})
    async with ot.signals.SignalPublisher(leader) as publisher:
        with pytest.raises(ConfigurationError) as refused:
            await publisher.serve("127.0.0.1", 0, token=token)
        assert refused.value.field == "token" and token not in str(refused.value)
        assert await publisher.serve("127.0.0.1", 0, token="inner spaces are fine")


async def test_serve_on_a_port_in_use_names_host_and_port(paper_manager: Any) -> None:
    leader = await paper_manager({"USDT": "1000"})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        async with ot.signals.SignalPublisher(leader) as publisher:
            with pytest.raises(ConfigurationError, match=f"cannot serve signals on 127.0.0.1:{port}") as refused:
                await publisher.serve("127.0.0.1", port)
            assert refused.value.field == "port"


async def test_a_websocket_follower_keeps_following_after_a_deeply_nested_message(paper_manager: Any) -> None:
    follower_manager = await paper_manager({"USDT": "1000", "BTC": "0.01"})
    sent: asyncio.Queue[str] = asyncio.Queue()

    async def source(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"type": "hello", "source": "ext", "sequence": 0}))
        while True:
            await ws.send_str(await sent.get())

    app = web.Application()
    app.add_routes([web.get("/signals", source)])
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with ot.signals.SignalFollower(follower_manager, source=f"ws://127.0.0.1:{port}") as follower:
            for text in (DEEP, '{"type": "hello", ' + DEEP[:3000], _create("0.5", sequence=2)):
                sent.put_nowait(text)
            async with asyncio.timeout(10):
                await follower.wait_for(2, source="ext")
            assert follower.order_for("L2").status is OrderStatus.CLOSED  # half of the 0.01 BTC sold
            assert follower.connections == 1
            first = follower.refused[0].reason
            assert first.startswith(("signal bundle is not valid JSON: nested too deeply", "signal bundle must be"))
    finally:
        await runner.cleanup()


async def test_a_follower_resuming_after_a_publisher_restart_gets_the_new_publishers_bundles(
    paper_manager: Any,
) -> None:
    leader = await paper_manager({"USDT": "10000"})
    follower_manager = await paper_manager({"USDT": "10000"})
    first = ot.signals.SignalPublisher(leader)
    url = await first.serve("127.0.0.1", 0)
    port = int(url.rsplit(":", 1)[1])
    follower = ot.signals.SignalFollower(follower_manager, source=url, reconnect_delay=0.05, max_reconnect_delay=0.2)
    async with follower:
        before = [await leader.trader.create_order("market", "buy", SYMBOL, "0.001") for _ in range(3)]
        async with asyncio.timeout(10):
            await follower.wait_for(3, source=first.id)
        await first.close()  # the leader's publisher goes away ...
        second = ot.signals.SignalPublisher(leader)  # ... a new one (a new id, sequences from 1) ...
        while_away = [await leader.trader.create_order("market", "buy", SYMBOL, "0.002") for _ in range(2)]
        await second.serve("127.0.0.1", port)  # ... serves on the same port
        async with asyncio.timeout(10):
            await follower.wait_for(2, source=second.id)
        after = await leader.trader.create_order("market", "buy", SYMBOL, "0.003")
        async with asyncio.timeout(10):
            await follower.wait_for(3, source=second.id)
        await second.close()
    mapped = [follower.order_for(order.id) for order in (*before, *while_away, after)]
    assert all(order is not None and order.status is OrderStatus.CLOSED for order in mapped)
    assert [order.amount for order in mapped] == [D("0.001")] * 3 + [D("0.002")] * 2 + [D("0.003")]
    assert follower.last_sequence == {first.id: 3, second.id: 3} and follower.refused == []
    filled = follower_manager.trader.portfolio_manager.portfolio.total("BTC")
    # nothing doubled: the follower holds what these six orders bought, net of their fees, and no more
    assert filled == sum((order.filled - order.fees.get("BTC", D(0)) for order in mapped), D(0)) > 0
