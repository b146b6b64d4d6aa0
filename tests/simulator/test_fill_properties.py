"""Property tests of the fill rules against a direct reading of the documented rules (an independent oracle)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.exchanges.connectors.simulator import MatchingEngine, RestingOrder

D = Decimal
cents = st.integers(min_value=1000, max_value=3000).map(lambda v: D(v) / 100)


@st.composite
def candles(draw):
    o, c = draw(cents), draw(cents)
    high = max(o, c) + D(draw(st.integers(0, 500))) / 100
    low = min(o, c) - D(draw(st.integers(0, 500))) / 100
    return o, high, low, c


def _path(o, high, low, c):
    return [o, low, high, c] if o - low <= high - o else [o, high, low, c]


def _first_reach(path, level, down):
    """Index along the path (as a float position) where price <= level (down) or >= level first holds."""
    for i in range(len(path) - 1):
        a, b = path[i], path[i + 1]
        if (down and a <= level) or (not down and a >= level):
            return float(i)
        if (down and b <= level <= a) or (not down and a <= level <= b):
            return i + float(abs(a - level) / abs(a - b)) if a != b else float(i)
    return None


def _run(orders, candle):
    fills = []

    async def on_fill(order, amount, price, role, time_ms):
        fills.append((order.id, price))
        for other in list(engine.orders("BTC/USDT")):  # one-cancels-the-other
            engine.remove(other.id, "BTC/USDT")

    engine = MatchingEngine(on_fill)
    for order in orders:
        engine.add(order)

    async def go():
        pending = engine.on_candle("BTC/USDT", 0, *(float(v) for v in candle))
        if pending is not None:
            await pending

    asyncio.run(go())
    return fills


@settings(max_examples=400, deadline=None)
@given(
    candle=candles(),
    level=cents,
    side=st.sampled_from(list(OrderSide)),
    order_type=st.sampled_from([OrderType.LIMIT, OrderType.STOP_LOSS, OrderType.TAKE_PROFIT]),
)
def test_single_order_fills_exactly_when_and_where_api_md_says(candle, level, side, order_type):
    if order_type is OrderType.LIMIT:
        order = RestingOrder("x", None, "BTC/USDT", order_type, side, D(1), level)
        down = side is OrderSide.BUY
    else:
        order = RestingOrder("x", None, "BTC/USDT", order_type, side, D(1), None, level)
        stop = order_type is OrderType.STOP_LOSS
        down = (side is OrderSide.SELL) == stop
    fills = _run([order], candle)
    reached = _first_reach(_path(*candle), level, down)
    if reached is None:
        assert fills == []
    else:
        assert fills == [("x", level)]


@settings(max_examples=400, deadline=None)
@given(candle=candles(), a=cents, b=cents)
def test_oco_pair_the_path_decides(candle, a, b):
    stop_level, target_level = min(a, b), max(a, b)
    stop = RestingOrder("stop", None, "BTC/USDT", OrderType.STOP_LOSS, OrderSide.SELL, D(1), None, stop_level)
    target = RestingOrder("target", None, "BTC/USDT", OrderType.LIMIT, OrderSide.SELL, D(1), target_level)
    fills = _run([stop, target], candle)
    path = _path(*candle)
    at_stop = _first_reach(path, stop_level, True)
    at_target = _first_reach(path, target_level, False)
    candidates = [(p, name) for p, name in ((at_stop, "stop"), (at_target, "target")) if p is not None]
    if not candidates:
        assert fills == []
        return
    first = min(candidates, key=lambda item: (item[0], 0 if item[1] == "stop" else 1))[1]
    assert [f[0] for f in fills] == [first]
