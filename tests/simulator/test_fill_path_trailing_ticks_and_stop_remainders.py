"""Simulated fills: no look-ahead inside a candle,
trailing stops on the price tick, and a triggered stop's remainder filling at market under
partial fills. Wired like the backtest (no price source: the engine's path gives the price)."""

from __future__ import annotations

from decimal import Decimal

from octobot_trading.enums import OrderStatus, TradeType
from octobot_trading.util.market_spec import MarketSpec
from tests.personal_data.helpers import SimAccount, make_account

D = Decimal
MARKETS = {"BTC/USDT": MarketSpec(price_tick="0.01", amount_step="0.0001", min_cost="5")}


async def _backtest_like(balances: dict[str, str], **options) -> SimAccount:
    return await make_account(balances, markets=MARKETS, prices_from_candles=True, **options)


async def test_market_order_created_during_a_walk_fills_at_the_path_point_not_the_close():
    acc = await _backtest_like({"USDT": "10000"})
    await acc.candle("100", "100", "100", "100")
    entry = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "90")
    child = await acc.trader.create_order("market", "sell", "BTC/USDT", "0.99", chained_to=entry)
    await acc.candle("100", "101", "85", "130")  # path 100 -> 85 (buys at 90) -> 101 -> 130
    assert acc.trades(entry) == [(D(90), D(1), TradeType.MAKER)]
    assert child.status is OrderStatus.CLOSED
    # the chained market sell is created when the price is at 90 on the way down: it cannot see 130
    assert acc.trades(child) == [(D(90), D("0.99"), TradeType.TAKER)]
    assert acc.connector.last_price("BTC/USDT") == D(130)  # the close once the walk is over
    await acc.exchange_matches_portfolio()


async def test_trailing_percent_sell_stop_rounds_down_to_the_tick():
    acc = await _backtest_like({"BTC": "1", "USDT": "0"})
    await acc.candle("100", "100", "100", "100")
    order = await acc.trader.create_order("trailing_stop", "sell", "BTC/USDT", "1", trailing_percent="3")
    await acc.candle("100", "101.37", "99", "100")  # peak 101.37: 3 % below is 98.3289
    await acc.candle("100", "100", "95", "96")
    assert acc.trades(order) == [(D("98.32"), D(1), TradeType.TAKER)]  # down: never above the path's stop
    await acc.exchange_matches_portfolio()


async def test_trailing_percent_buy_stop_rounds_up_to_the_tick():
    acc = await _backtest_like({"USDT": "1000"})
    await acc.candle("100", "100", "100", "100")
    order = await acc.trader.create_order("trailing_stop", "buy", "BTC/USDT", "1", trailing_percent="3")
    await acc.candle("100", "101", "98.63", "100")  # trough 98.63: 3 % above is 101.5889
    await acc.candle("100", "105", "100", "104")
    assert acc.trades(order) == [(D("101.59"), D(1), TradeType.TAKER)]  # up: never below the path's stop
    await acc.exchange_matches_portfolio()


async def test_partly_filled_stop_fills_its_remainder_at_market_on_the_next_candle():
    acc = await _backtest_like({"BTC": "1", "USDT": "0"}, partial_fill_fraction="0.1")
    await acc.candle("100", "100", "100", "100")
    order = await acc.trader.create_order("stop_loss", "sell", "BTC/USDT", "1", trigger_price="90")
    await acc.candle("100", "100", "85", "95", volume="4")  # triggers at 90; 10 % of volume 4: 0.4
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert acc.trades(order) == [(D(90), D("0.4"), TradeType.TAKER)]
    await acc.candle("95", "99", "92", "97", volume="100")  # above the stop: the rest is a market order now
    assert order.status is OrderStatus.CLOSED
    assert acc.trades(order) == [(D(90), D("0.4"), TradeType.TAKER), (D(95), D("0.6"), TradeType.TAKER)]
    await acc.exchange_matches_portfolio()


async def test_partly_filled_stop_remainder_follows_the_market_down():
    acc = await _backtest_like({"BTC": "1", "USDT": "0"}, partial_fill_fraction="0.1")
    await acc.candle("100", "100", "100", "100")
    order = await acc.trader.create_order("stop_loss", "sell", "BTC/USDT", "1", trigger_price="90")
    await acc.candle("100", "100", "85", "95", volume="4")
    await acc.candle("60", "61", "59", "60", volume="3")  # 0.3 at the open, 60
    await acc.candle("61", "61", "59", "60", volume="100")
    assert acc.trades(order) == [
        (D(90), D("0.4"), TradeType.TAKER),
        (D(60), D("0.3"), TradeType.TAKER),
        (D(61), D("0.3"), TradeType.TAKER),
    ]
    await acc.exchange_matches_portfolio()


async def test_partly_filled_stop_limit_stays_a_limit():
    acc = await _backtest_like({"BTC": "1", "USDT": "0"}, partial_fill_fraction="0.1")
    await acc.candle("100", "100", "100", "100")
    order = await acc.trader.create_order("stop_loss_limit", "sell", "BTC/USDT", "1", "89", trigger_price="90")
    await acc.candle("100", "100", "85", "95", volume="4")  # triggers at 90, fills 0.4 at 89 (maker)
    await acc.candle("80", "85", "79", "80", volume="100")  # never back at 89: nothing more
    assert acc.trades(order) == [(D(89), D("0.4"), TradeType.MAKER)]
    assert order.status is OrderStatus.PARTIALLY_FILLED


async def test_partly_filled_take_profit_fills_its_remainder_at_market_even_below_the_target():
    acc = await _backtest_like({"BTC": "1", "USDT": "0"}, partial_fill_fraction="0.1")
    await acc.candle("100", "100", "100", "100")
    order = await acc.trader.create_order("take_profit", "sell", "BTC/USDT", "1", trigger_price="110")
    await acc.candle("100", "115", "99", "112", volume="5")  # reaches 110: 0.5 at the target
    await acc.candle("105", "106", "101", "102", volume="100")  # back under 110: the rest sells at the open
    assert acc.trades(order) == [(D(110), D("0.5"), TradeType.TAKER), (D(105), D("0.5"), TradeType.TAKER)]
    assert order.status is OrderStatus.CLOSED
    await acc.exchange_matches_portfolio()


async def test_partly_filled_trailing_stop_stops_trailing_and_fills_at_market():
    acc = await _backtest_like({"BTC": "1", "USDT": "0"}, partial_fill_fraction="0.1")
    await acc.candle("100", "100", "100", "100")
    order = await acc.trader.create_order("trailing_stop", "sell", "BTC/USDT", "1", trailing_offset="5")
    await acc.candle("100", "100", "94", "96", volume="2")  # stop 95: 0.2 at 95
    await acc.candle("120", "130", "119", "125", volume="100")  # a new peak no longer moves it: open 120
    assert acc.trades(order) == [(D(95), D("0.2"), TradeType.TAKER), (D(120), D("0.8"), TradeType.TAKER)]
    await acc.exchange_matches_portfolio()


async def test_without_partial_fills_a_walk_without_volume_fills_everything():
    acc = await _backtest_like({"BTC": "1", "USDT": "0"})
    await acc.candle("100", "100", "100", "100")
    order = await acc.trader.create_order("stop_loss", "sell", "BTC/USDT", "1", trigger_price="90")
    await acc.candle("100", "100", "85", "95", volume="0.001")  # volume ignored when disabled
    assert acc.trades(order) == [(D(90), D(1), TradeType.TAKER)]


async def test_self_managed_trailing_stop_rounds_like_the_simulated_venue():
    from octobot_trading.enums import OrderType
    from octobot_trading.exchange_data.price_events import PriceEventsManager

    acc = await _backtest_like({"BTC": "1", "USDT": "1000"})
    await acc.candle("100", "100", "100", "100")
    events = PriceEventsManager("BTC/USDT", acc.clock)
    acc.trader.price_events_for = lambda symbol: events
    acc.trader.supported_order_types = frozenset({OrderType.MARKET, OrderType.LIMIT})
    sell = await acc.trader.create_order("trailing_stop", "sell", "BTC/USDT", "0.5", trailing_percent="3")
    buy = await acc.trader.create_order("trailing_stop", "buy", "BTC/USDT", "1", trailing_percent="3")
    assert sell.self_managed and buy.self_managed
    events.on_price(D("101.37"))  # sell stop 98.3289 -> 98.32 (down)
    events.on_price(D("98.63"))  # buy stop 101.5889 -> 101.59 (up)
    assert (sell.trigger_price, buy.trigger_price) == (D("98.32"), D("101.59"))
    await acc.trader.stop()
