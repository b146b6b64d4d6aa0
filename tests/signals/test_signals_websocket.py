"""Signals over the websocket (127.0.0.1): delivery, reconnection with replay, tokens."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import aiohttp
import pytest

import octobot_trading as ot
from octobot_trading.enums import OrderStatus
from octobot_trading.errors import ConfigurationError, SignalAuthenticationError

D = Decimal
SYMBOL = "BTC/USDT"


async def _handled(follower: ot.signals.SignalFollower, publisher: ot.signals.SignalPublisher) -> None:
    async with asyncio.timeout(10):
        await follower.wait_for(publisher.sequence, source=publisher.id)


async def test_remote_follower_replays_operations_and_catches_up_after_a_reconnect(paper_manager):
    leader = await paper_manager({"USDT": "10000"})
    follower_manager = await paper_manager({"USDT": "2000"})
    async with ot.signals.SignalPublisher(leader) as publisher:
        url = await publisher.serve("127.0.0.1", 0, token="s3cret-token")
        port = int(url.rsplit(":", 1)[1])
        follower = ot.signals.SignalFollower(follower_manager, source=url, token="s3cret-token", reconnect_delay=0.05)
        async with follower:
            last = leader.trader.price_of(SYMBOL)
            entry = await leader.trader.create_order(
                "market", "buy", SYMBOL, "0.05", take_profit_price=(last * D("1.1")).quantize(D("0.01"))
            )
            await _handled(follower, publisher)
            mine = follower.order_for(entry.id)
            assert mine.status is OrderStatus.CLOSED and mine.amount == D("0.01")  # 2 000 is a fifth of 10 000
            (take,) = entry.chained_orders
            assert follower.order_for(take.id).status is OrderStatus.OPEN

            await publisher.stop_serving()  # the follower is cut off; the leader goes on trading
            await leader.trader.cancel_order(take)
            await publisher.serve("127.0.0.1", port, token="s3cret-token")
            await _handled(follower, publisher)  # replayed from the publisher's history after the reconnect
            assert follower.order_for(take.id).status is OrderStatus.CANCELED
            assert follower.connections == 2 and follower.refused == []


async def test_wrong_or_missing_token_is_refused(paper_manager, caplog):
    caplog.set_level(logging.DEBUG)
    leader = await paper_manager({"USDT": "1000"})
    follower_manager = await paper_manager({"USDT": "1000"})
    async with ot.signals.SignalPublisher(leader) as publisher:
        url = await publisher.serve(token="right-token")
        for token in ("wrong-token", None):
            follower = ot.signals.SignalFollower(follower_manager, source=url, token=token)
            with pytest.raises(SignalAuthenticationError):
                await follower.start()
            await follower.stop()
        async with aiohttp.ClientSession() as session:  # no websocket handshake without the token
            async with session.get(url.replace("ws://", "http://") + "/signals") as response:
                assert response.status == 401
    assert "refused" in caplog.text and "right-token" not in caplog.text and "wrong-token" not in caplog.text


async def test_serving_beyond_loopback_requires_a_token(paper_manager):
    leader = await paper_manager({"USDT": "1000"})
    async with ot.signals.SignalPublisher(leader) as publisher:
        with pytest.raises(ConfigurationError, match="token"):
            await publisher.serve("0.0.0.0", 0)
        with pytest.raises(ConfigurationError, match="token"):
            await publisher.serve("127.0.0.1", 0, token="")
        assert "s3cret" not in repr(publisher)


async def test_follower_refuses_a_malformed_message_and_keeps_following(paper_manager):
    leader = await paper_manager({"USDT": "1000"})
    follower_manager = await paper_manager({"USDT": "1000"})
    async with ot.signals.SignalPublisher(leader) as publisher:
        async with ot.signals.SignalFollower(follower_manager, source=await publisher.serve()) as follower:
            assert await follower.apply('{"version": 1, "id": "x"') is False
            assert await follower.apply('{"version": 7, "id": "x"}') is False
            assert [r.bundle_id for r in follower.refused] == [None, None]
            assert "not valid JSON" in follower.refused[0].reason and "version 7" in follower.refused[1].reason
            order = await leader.trader.create_order("market", "buy", SYMBOL, "0.001")
            await _handled(follower, publisher)
            assert follower.order_for(order.id).status is OrderStatus.CLOSED
