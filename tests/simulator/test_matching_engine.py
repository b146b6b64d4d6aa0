"""The matching engine on its own: the threshold filter, the walk order, book maintenance."""

from __future__ import annotations

import math
from decimal import Decimal

from octobot_trading.enums import OrderSide, OrderType, TradeType
from octobot_trading.exchanges.connectors.simulator import MatchingEngine, RestingOrder

D = Decimal


def _engine():
    fills: list[tuple[str, Decimal, Decimal, TradeType]] = []

    async def on_fill(order, amount, price, role, time_ms):
        fills.append((order.id, amount, price, role))

    return MatchingEngine(on_fill), fills


def _limit(order_id: str, side: str, price: str, amount: str = "1") -> RestingOrder:
    return RestingOrder(order_id, None, "BTC/USDT", OrderType.LIMIT, OrderSide(side), D(amount), D(price))


def test_thresholds_are_the_nearest_trigger_prices():
    engine, _ = _engine()
    assert engine.thresholds("BTC/USDT") == (-math.inf, math.inf)
    engine.add(_limit("b1", "buy", "90"))
    engine.add(_limit("b2", "buy", "95"))
    engine.add(_limit("s1", "sell", "110"))
    engine.add(RestingOrder("sl", None, "BTC/USDT", OrderType.STOP_LOSS, OrderSide.SELL, D(1), None, D("97")))
    engine.add(RestingOrder("bs", None, "BTC/USDT", OrderType.STOP_LOSS, OrderSide.BUY, D(1), None, D("105")))
    assert engine.thresholds("BTC/USDT") == (97.0, 105.0)
    engine.remove("sl", "BTC/USDT")
    engine.remove("bs", "BTC/USDT")
    assert engine.thresholds("BTC/USDT") == (95.0, 110.0)


def test_unreachable_candle_returns_none_and_reachable_returns_awaitable():
    engine, _ = _engine()
    assert engine.on_candle("BTC/USDT", 0, 100.0, 101.0, 99.0, 100.0) is None  # no book
    engine.add(_limit("b1", "buy", "95"))
    assert engine.on_candle("BTC/USDT", 0, 100.0, 101.0, 95.01, 100.0) is None
    assert engine.on_candle("ETH/USDT", 0, 1.0, 1.0, 1.0, 1.0) is None
    pending = engine.on_candle("BTC/USDT", 0, 100.0, 101.0, 95.0, 100.0)
    assert pending is not None
    pending.close()  # not awaited here: the coroutine is simply discarded
    assert engine.last_close["BTC/USDT"] == 100.0


async def test_walk_follows_the_path_and_fills_each_order_once():
    engine, fills = _engine()
    engine.add(_limit("b1", "buy", "95"))
    engine.add(_limit("b2", "buy", "97"))
    engine.add(_limit("s1", "sell", "104"))
    # open 100 -> high 105 (105-100=5 > 100-94=6? no: 6 > 5 so high first) -> low 94 -> close 99
    await engine.on_candle("BTC/USDT", 0, 100.0, 105.0, 94.0, 99.0)
    assert [(f[0], f[2]) for f in fills] == [("s1", D(104)), ("b2", D(97)), ("b1", D(95))]
    assert all(f[3] is TradeType.MAKER for f in fills)
    assert engine.orders() == [] and engine.thresholds("BTC/USDT") == (-math.inf, math.inf)
    await (engine.on_candle("BTC/USDT", 1, 100.0, 105.0, 94.0, 99.0) or _noop())
    assert len(fills) == 3


async def _noop() -> None:
    return None


async def test_orders_added_during_a_walk_wait_for_the_next_candle():
    added: list[str] = []

    async def on_fill(order, amount, price, role, time_ms):
        added.append(order.id)
        if order.id == "b1":
            engine.add(_limit("b2", "buy", "90"))

    engine = MatchingEngine(on_fill)
    engine.add(_limit("b1", "buy", "95"))
    fills = engine.on_candle("BTC/USDT", 0, 100.0, 100.0, 80.0, 85.0)
    assert fills is not None  # b1 triggers: the engine hands back the fills to apply
    await fills
    assert added == ["b1"] and [o.id for o in engine.orders()] == ["b2"]
    fills = engine.on_candle("BTC/USDT", 1, 85.0, 86.0, 84.0, 85.0)
    assert fills is not None
    await fills
    assert added == ["b1", "b2"]


async def test_resize_and_remove():
    engine, fills = _engine()
    order = _limit("b1", "buy", "95", "2")
    engine.add(order)
    engine.resize(order, D(1), D(90))
    assert engine.thresholds("BTC/USDT") == (90.0, math.inf)
    assert engine.on_candle("BTC/USDT", 0, 100.0, 101.0, 92.0, 95.0) is None
    await engine.on_candle("BTC/USDT", 0, 100.0, 101.0, 89.0, 95.0)
    assert fills == [("b1", D(1), D(90), TradeType.MAKER)]
    assert engine.remove("b1", "BTC/USDT") is None
