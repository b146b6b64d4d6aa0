"""Contract symbols on the simulated venue through the real trader: positions, margin, settings.

The numbers are the worked examples of docs/futures.md (linear XRP/USDT:USDT, contract size 1,
leverage 10, maintenance margin rate 0.004, taker fee 0.0004, isolated, one-way).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

import octobot_trading as ot
from octobot_trading.enums import MarginMode, OrderSide, OrderStatus, OrderType, PositionMode, PositionSide
from octobot_trading.errors import (
    ConfigurationError,
    InsufficientFunds,
    InvalidOrder,
    OpenPositionsError,
    UnknownSymbol,
)
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.personal_data.positions.accounting import Liquidation
from octobot_trading.util.contract_spec import ContractSpec
from octobot_trading.util.fees import Fees
from tests.personal_data.helpers import SimAccount, make_account

XRP = "XRP/USDT:USDT"
BUY, SELL, MARKET, LIMIT = OrderSide.BUY, OrderSide.SELL, OrderType.MARKET, OrderType.LIMIT


def xrp_spec(**overrides: object) -> ContractSpec:
    settings: dict[str, object] = {
        "price_tick": "0.0001",
        "amount_step": "1",
        "leverage": "10",
        "max_leverage": "50",
        "maintenance_margin_rate": "0.004",
    }
    settings.update(overrides)
    return ContractSpec(**settings)  # type: ignore[arg-type]


async def xrp_account(wallet: str = "1000", price: str = "1.2", **spec: object) -> SimAccount:
    contract = xrp_spec(**spec)
    return await make_account(
        {"USDT": wallet},
        markets={XRP: contract},
        prices={XRP: price},
        contracts={XRP: contract},
        fees=Fees(maker="0.0002", taker="0.0004"),
    )


async def market(acc: SimAccount, side: OrderSide, amount: str, price: str, **options: object) -> ot.Order:
    acc.prices[XRP] = D(price)
    return await acc.trader.create_order(MARKET, side, XRP, amount, **options)  # type: ignore[arg-type]


async def candle(acc: SimAccount, o: str, h: str, low: str, c: str) -> None:
    """One candle through the futures-aware matcher a backtest driver uses."""
    acc.clock.advance(60_000)
    pending = acc.connector.candle_matcher().on_candle(
        XRP, acc.clock.now_ms(), float(o), float(h), float(low), float(c)
    )
    if pending is not None:
        await pending
    acc.prices[XRP] = D(c)


async def local_matches_venue(acc: SimAccount) -> None:
    balance = (await acc.connector.fetch_balance())["USDT"]
    assert acc.asset("USDT") == (balance.total, balance.free)
    venue = {(p.symbol, p.side): p for p in acc.connector.positions_snapshot()}
    local = {(p.symbol, p.side): p for p in acc.personal.positions_manager.positions()}
    assert venue.keys() == local.keys()
    for key, position in venue.items():
        mine = local[key]
        assert (mine.contracts, mine.entry_price, mine.initial_margin, mine.realized_pnl) == (
            position.contracts,
            position.entry_price,
            position.initial_margin,
            position.realized_pnl,
        )


async def test_one_way_position_opens_grows_reduces_and_flips_with_the_documented_numbers():
    acc = await xrp_account()
    await market(acc, BUY, "100", "1.2")
    position = acc.personal.positions_manager.get(XRP)
    assert position is not None and position.side is PositionSide.LONG
    assert (position.size, position.entry_price, position.initial_margin) == (D(100), D("1.2"), D(12))
    assert position.liquidation_price == D("1.084337349397590361")
    assert position.maintenance_margin == D("0.48") and position.margin_mode is MarginMode.ISOLATED
    assert acc.asset("USDT") == (D("999.952"), D("987.952"))  # fee 0.048 paid, margin 12 held
    await local_matches_venue(acc)

    await market(acc, BUY, "50", "1.5")
    assert acc.personal.positions_manager.get(XRP).entry_price == D("1.3")  # type: ignore[union-attr]
    await market(acc, SELL, "30", "1.4")
    reduced = acc.personal.positions_manager.get(XRP)
    assert reduced is not None and (reduced.size, reduced.entry_price, reduced.realized_pnl) == (D(120), D("1.3"), D(3))
    await market(acc, SELL, "200", "1.1")
    short = acc.personal.positions_manager.get(XRP)
    assert short is not None and short.side is PositionSide.SHORT
    assert (short.size, short.entry_price, short.initial_margin) == (D(80), D("1.1"), D("8.8"))
    trades = acc.personal.trades_manager.trades(XRP)
    assert [t.realized_pnl for t in trades] == [D(0), D(0), D(3), D(-24)]
    assert all(t.fee_currency == "USDT" for t in trades)
    await local_matches_venue(acc)

    await market(acc, BUY, "80", "1.0")  # closes the short: +8 realized
    assert acc.personal.positions_manager.get(XRP) is None
    fees = sum((t.fee for t in acc.personal.trades_manager.trades(XRP)), D(0))
    realized = sum((t.realized_pnl or D(0) for t in acc.personal.trades_manager.trades(XRP)), D(0))
    assert realized == D(3) - 24 + 8
    assert acc.asset("USDT") == (D(1000) + realized - fees, D(1000) + realized - fees)
    await local_matches_venue(acc)


async def test_hedge_mode_holds_a_long_and_a_short_and_every_order_names_its_side():
    acc = await xrp_account(position_mode=PositionMode.HEDGE)
    with pytest.raises(InvalidOrder) as refused:
        await market(acc, BUY, "10", "1.2")
    assert refused.value.limit == "position_side"
    await market(acc, BUY, "100", "1.2", position_side=PositionSide.LONG)
    await market(acc, SELL, "40", "1.2", position_side="short")
    manager = acc.personal.positions_manager
    assert manager.get(XRP, PositionSide.LONG).size == D(100)  # type: ignore[union-attr]
    assert manager.get(XRP, PositionSide.SHORT).size == D(40)  # type: ignore[union-attr]
    with pytest.raises(InvalidOrder):  # closes more of the long than it holds
        await market(acc, SELL, "101", "1.3", position_side=PositionSide.LONG)
    await market(acc, SELL, "100", "1.3", position_side=PositionSide.LONG)
    assert manager.get(XRP, PositionSide.LONG) is None
    assert manager.get(XRP, PositionSide.SHORT).size == D(40)  # type: ignore[union-attr]
    assert acc.personal.trades_manager.trades(XRP)[-1].realized_pnl == D(10)
    await local_matches_venue(acc)


async def test_one_way_mode_refuses_a_position_side():
    acc = await xrp_account()
    with pytest.raises(InvalidOrder) as refused:
        await market(acc, BUY, "10", "1.2", position_side=PositionSide.LONG)
    assert refused.value.limit == "position_side"
    assert acc.personal.orders_manager.all_orders() == []


async def test_reduce_only_orders_that_would_open_grow_or_flip_are_refused_before_any_change():
    acc = await xrp_account()
    before = acc.asset("USDT")
    with pytest.raises(InvalidOrder) as opening:
        await market(acc, SELL, "10", "1.2", reduce_only=True)
    assert opening.value.limit == "reduce_only"
    await market(acc, BUY, "100", "1.2")
    for side, amount in ((BUY, "10"), (SELL, "101")):  # grow / flip
        with pytest.raises(InvalidOrder) as refused:
            await market(acc, side, amount, "1.2", reduce_only=True)
        assert refused.value.limit == "reduce_only"
    assert acc.personal.positions_manager.get(XRP).size == D(100)  # type: ignore[union-attr]
    closing = await market(acc, SELL, "100", "1.25", reduce_only=True)
    assert closing.status is OrderStatus.CLOSED and acc.personal.positions_manager.get(XRP) is None
    assert acc.asset("USDT")[0] == before[0] + D(5) - D("0.048") - D("0.05")


async def test_reduce_only_resting_order_is_canceled_when_its_position_closed_first():
    acc = await xrp_account()
    await market(acc, BUY, "100", "1.2")
    take_profit = await acc.trader.create_order(LIMIT, SELL, XRP, "100", "1.5", reduce_only=True)
    assert take_profit.reserved_amount == 0  # closing reserves no margin
    await market(acc, SELL, "100", "1.3")  # the position is closed another way
    await candle(acc, "1.3", "1.6", "1.3", "1.55")  # the take-profit's price is reached
    assert take_profit.status is OrderStatus.CANCELED
    assert acc.personal.positions_manager.get(XRP) is None
    await local_matches_venue(acc)


async def test_limit_order_reserves_its_margin_and_fee_and_cancel_releases_them():
    acc = await xrp_account()
    order = await acc.trader.create_order(LIMIT, BUY, XRP, "100", "1.1")
    # initial margin 100 x 1.1 / 10 = 11, taker fee 110 x 0.0004 = 0.044
    assert (order.reserved_currency, order.reserved_amount) == ("USDT", D("11.044"))
    assert acc.asset("USDT") == (D(1000), D("988.956"))
    assert (await acc.connector.fetch_balance())["USDT"].free == D("988.956")
    await acc.trader.cancel_order(order)
    assert acc.asset("USDT") == (D(1000), D(1000))
    assert (await acc.connector.fetch_balance())["USDT"].free == D(1000)


async def test_resting_limit_fills_on_the_candle_path_and_releases_its_reservation():
    acc = await xrp_account()
    order = await acc.trader.create_order(LIMIT, BUY, XRP, "100", "1.1")
    await candle(acc, "1.2", "1.25", "1.05", "1.15")
    assert order.status is OrderStatus.CLOSED and order.reserved_amount == 0
    position = acc.personal.positions_manager.get(XRP)
    assert position is not None and position.entry_price == D("1.1")
    assert position.mark_price == D("1.15") and position.unrealized_pnl == D(5)
    maker_fee = D("110") * D("0.0002")
    assert acc.asset("USDT") == (D(1000) - maker_fee, D(1000) - maker_fee - D(11))
    await local_matches_venue(acc)


async def test_order_needing_more_margin_than_available_is_refused_with_nothing_changed():
    acc = await xrp_account(wallet="10")
    with pytest.raises(InsufficientFunds):
        await market(acc, BUY, "100", "1.2")  # needs 12.048
    assert acc.asset("USDT") == (D(10), D(10))
    assert acc.personal.orders_manager.all_orders() == []
    assert acc.connector.positions_snapshot() == []
    assert await acc.connector.fetch_closed_orders() == [] and await acc.connector.fetch_my_trades() == []
    order = await market(acc, BUY, "80", "1.2")  # 9.6 + 0.0384
    assert order.status is OrderStatus.CLOSED


async def test_one_way_flip_order_is_accepted_when_the_margin_its_close_frees_covers_the_new_side():
    acc = await xrp_account(wallet="10")
    await market(acc, BUY, "80", "1.2")  # margin 9.6, fee 0.0384: 0.3616 left available
    assert acc.asset("USDT") == (D("9.9616"), D("0.3616"))
    with pytest.raises(InsufficientFunds):  # 120 short need 15 + fee 0.1; the close frees 9.6 + 4 of PnL
        await market(acc, SELL, "200", "1.25")
    assert acc.asset("USDT") == (D("9.9616"), D("0.3616"))
    assert [o.status for o in acc.personal.orders_manager.all_orders()] == [OrderStatus.CLOSED]
    # one order closes the long (+4 realized, 9.6 freed) and opens an 80 short (margin 10, fee 0.08)
    order = await market(acc, SELL, "160", "1.25")
    assert order.status is OrderStatus.CLOSED
    short = acc.personal.positions_manager.get(XRP)
    assert short is not None and (short.side, short.size, short.entry_price) == (PositionSide.SHORT, D(80), D("1.25"))
    assert acc.personal.trades_manager.trades(XRP)[-1].realized_pnl == D(4)
    assert acc.asset("USDT") == (D("13.8816"), D("3.8816"))
    await local_matches_venue(acc)


async def test_leverage_setting_checks_type_range_and_open_positions_or_orders():
    acc = await xrp_account()
    trader = acc.trader
    with pytest.raises(TypeError):
        await trader.set_leverage(XRP, 5.0)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError) as out_of_range:
        await trader.set_leverage(XRP, "51")
    assert out_of_range.value.field == "leverage"
    assert await trader.set_leverage(XRP, "5") == D(5)
    assert acc.connector.futures_account.settings(XRP)[0] == D(5)  # type: ignore[union-attr]
    await market(acc, BUY, "100", "1.2")
    assert acc.personal.positions_manager.get(XRP).initial_margin == D(24)  # type: ignore[union-attr]
    for change in (
        trader.set_leverage(XRP, "2"),
        trader.set_margin_mode(XRP, MarginMode.CROSS),
        trader.set_position_mode(XRP, PositionMode.HEDGE),
    ):
        with pytest.raises(OpenPositionsError):
            await change
    await market(acc, SELL, "100", "1.2")
    resting = await trader.create_order(LIMIT, BUY, XRP, "10", "1.0")
    with pytest.raises(OpenPositionsError):  # an open order was reserved at the current setting
        await trader.set_leverage(XRP, "2")
    await trader.cancel_order(resting)
    await trader.set_margin_mode(XRP, "cross")
    await trader.set_position_mode(XRP, PositionMode.HEDGE)
    assert acc.connector.futures_account.settings(XRP)[1:] == (MarginMode.CROSS, PositionMode.HEDGE)  # type: ignore[union-attr]


async def test_leverage_of_a_spot_symbol_is_a_configuration_error():
    acc = await make_account()
    with pytest.raises(ConfigurationError) as refused:
        await acc.trader.set_leverage("BTC/USDT", "2")
    assert refused.value.field == "symbol"


def test_a_contract_spec_for_a_spot_symbol_is_refused():
    clock = ot.clock.SimulatedClock(0)
    with pytest.raises(ConfigurationError) as refused:
        SimulatedConnector(clock, markets={"BTC/USDT": xrp_spec()}, contracts={"BTC/USDT": xrp_spec()})
    assert refused.value.field == "contracts"


async def test_isolated_long_is_liquidated_inside_a_candle_when_the_mark_path_reaches_its_price():
    acc = await xrp_account()
    liquidated: list[Liquidation] = []
    acc.personal.positions_manager.add_liquidation_listener(lambda x: _append(liquidated, x))
    await market(acc, BUY, "100", "1.2")  # liquidation price 1.084337349397590361
    await candle(acc, "1.2", "1.21", "1.09", "1.2")  # low above it: nothing
    assert liquidated == [] and acc.connector.liquidations == []
    await candle(acc, "1.2", "1.21", "1.08", "1.19")  # the wick reaches it, the close recovers
    assert [(x.side, x.size, x.price, x.margin_lost) for x in liquidated] == [
        (PositionSide.LONG, D(100), D("1.084337349397590361"), D(12))
    ]
    assert acc.connector.liquidations == liquidated
    assert acc.personal.positions_manager.get(XRP) is None
    assert acc.asset("USDT") == (D(1000) - D("0.048") - 12, D(1000) - D("0.048") - 12)
    await local_matches_venue(acc)


async def test_cross_positions_are_liquidated_at_the_candle_close_and_the_wallet_stops_at_zero():
    acc = await xrp_account(wallet="20", price="1", margin_mode=MarginMode.CROSS)
    await market(acc, BUY, "100", "1")  # margin 10, fee 0.04
    await candle(acc, "1", "1", "0.8", "0.85")  # margin balance 4.96 > maintenance 0.34
    assert acc.connector.liquidations == []
    assert acc.personal.positions_manager.get(XRP).unrealized_pnl == D(-15)  # type: ignore[union-attr]
    await candle(acc, "0.85", "0.85", "0.4", "0.5")
    (liquidation,) = acc.connector.liquidations
    assert (liquidation.price, liquidation.margin_mode, liquidation.margin_lost) == (
        D("0.5"),
        MarginMode.CROSS,
        D("19.96"),
    )
    assert acc.asset("USDT") == (D(0), D(0))
    await local_matches_venue(acc)


class _Funding:
    def __init__(self, events: list[tuple[int, D]]) -> None:
        self.symbol, self.events = XRP, events

    def between(self, start_ms: int, end_ms: int) -> list[tuple[int, D]]:
        return [(t, r) for t, r in self.events if start_ms < t <= end_ms]


async def test_funding_is_paid_at_each_funding_time_a_candle_passes_and_the_ledger_holds():
    acc = await xrp_account()
    start = acc.clock.now_ms()
    funding = _Funding([(start + 90_000, D("0.0001")), (start + 150_000, D("-0.0002"))])
    acc.connector.enable_futures(funding_rates={XRP: funding})
    await market(acc, BUY, "100", "1.2")
    await candle(acc, "1.2", "1.6", "1.2", "1.5")  # (start, start+60s]: no funding
    await candle(acc, "1.5", "1.5", "1.5", "1.5")  # passes start+90s: the long pays 100 x 1.5 x 0.0001
    await candle(acc, "1.5", "1.5", "1.4", "1.4")  # passes start+150s: receives 100 x 1.4 x 0.0002
    payments = acc.connector.funding_payments
    assert [(p.side, p.amount, p.currency) for p in payments] == [
        (PositionSide.LONG, D("-0.015"), "USDT"),
        (PositionSide.LONG, D("0.028"), "USDT"),
    ]
    assert (await acc.connector.fetch_funding_rate(XRP)).rate == D("-0.0002")
    await market(acc, SELL, "100", "1.4")
    wallet = acc.connector.futures_account.wallet("USDT")  # type: ignore[union-attr]
    trades = acc.personal.trades_manager.trades(XRP)
    realized = sum((t.realized_pnl or D(0) for t in trades), D(0))
    fees = sum((t.fee for t in trades), D(0))
    assert wallet == D(1000) + realized - fees + sum((p.amount for p in payments), D(0))
    assert acc.asset("USDT") == (wallet, wallet)


async def _append(target: list[Liquidation], item: Liquidation) -> None:
    target.append(item)


async def test_partly_filled_contract_order_keeps_reserving_margin_for_its_rest():
    contract = xrp_spec()
    acc = await make_account(
        {"USDT": "1000"},
        markets={XRP: contract},
        prices={XRP: "1.2"},
        contracts={XRP: contract},
        fees=Fees(maker="0.0002", taker="0.0004"),
        partial_fill_fraction="0.5",
    )
    order = await acc.trader.create_order(LIMIT, BUY, XRP, "100", "1.1")
    matcher = acc.connector.candle_matcher()
    statuses = []
    for _ in range(2):
        acc.clock.advance(60_000)
        pending = matcher.on_candle(XRP, acc.clock.now_ms(), 1.2, 1.2, 1.05, 1.15, 100.0)
        assert pending is not None
        await pending
        statuses.append(order.status)
        if order.status is OrderStatus.PARTIALLY_FILLED:
            assert order.filled == D(50) and order.reserved_amount == D("5.522")  # 5.5 margin + 0.022 fee
            assert (await acc.connector.fetch_balance())["USDT"].used == D("5.5") + D("5.522")
            await local_matches_venue(acc)
    assert statuses == [OrderStatus.PARTIALLY_FILLED, OrderStatus.CLOSED] and order.reserved_amount == 0
    assert acc.personal.positions_manager.get(XRP).size == D(100)  # type: ignore[union-attr]
    await local_matches_venue(acc)


async def test_backtest_candles_that_only_move_the_mark_are_valued_when_read():
    acc = await xrp_account()
    await market(acc, BUY, "100", "1.2")
    for close in ("1.21", "1.25", "1.3"):  # isolated, far from liquidation, no funding: nothing pushed
        await candle(acc, "1.2", close, "1.19", close)
    (position,) = acc.connector.positions_snapshot()
    assert (position.mark_price, position.unrealized_pnl) == (D("1.3"), D(10))
    (reported,) = await acc.connector.fetch_positions()
    assert (reported.mark_price, reported.unrealized_pnl) == (D("1.3"), D(10))
    await market(acc, SELL, "50", "1.3")  # a fill pushes the positions valued at the current mark
    local = acc.personal.positions_manager.get(XRP)
    assert local is not None and (local.mark_price, local.unrealized_pnl) == (D("1.3"), D(5))
    await local_matches_venue(acc)


async def test_editing_a_resting_contract_order_reserves_the_margin_of_its_new_amount():
    acc = await xrp_account()
    order = await acc.trader.create_order(LIMIT, BUY, XRP, "100", "1.1")
    await acc.trader.edit_order(order, amount="200")
    assert order.reserved_amount == D("22.088")  # 200 x 1.1 / 10 + 220 x 0.0004
    assert (await acc.connector.fetch_balance())["USDT"].free == D(1000) - D("22.088")
    assert acc.asset("USDT") == (D(1000), D(1000) - D("22.088"))
    with pytest.raises(InsufficientFunds):
        await acc.trader.edit_order(order, amount="10000")
    assert order.amount == D(200) and order.reserved_amount == D("22.088")
    assert (await acc.connector.fetch_balance())["USDT"].free == D(1000) - D("22.088")


async def test_the_venue_itself_refuses_a_contract_market_order_it_cannot_fill_with_nothing_recorded():
    acc = await xrp_account(wallet="10")
    venue = acc.connector
    with pytest.raises(InsufficientFunds):
        await venue.create_order(MARKET, BUY, XRP, D(100), client_order_id="too-big")
    with pytest.raises(InvalidOrder) as refused:
        await venue.create_order(MARKET, SELL, XRP, D(10), client_order_id="grows", params={"reduceOnly": True})
    assert refused.value.limit == "reduce_only"
    assert await venue.fetch_closed_orders() == [] and await venue.fetch_my_trades() == []
    assert await venue.fetch_order_by_client_id("too-big", XRP) is None
    assert venue.positions_snapshot() == [] and (await venue.fetch_balance())["USDT"].free == D(10)
    placed = await venue.create_order(MARKET, BUY, XRP, D(50), client_order_id="fits")
    assert placed.status is OrderStatus.FILLED and placed.fee_currency == "USDT"


async def test_fetch_positions_of_an_unlisted_symbol_raises_unknown_symbol() -> None:
    acc = await xrp_account()
    await market(acc, BUY, "100", "1.2")
    with pytest.raises(UnknownSymbol) as caught:
        await acc.connector.fetch_positions(["NOTLISTED/USDT:USDT"])
    assert caught.value.symbol == "NOTLISTED/USDT:USDT"
    assert [p.symbol for p in await acc.connector.fetch_positions([XRP])] == [XRP]
    assert [p.symbol for p in await acc.connector.fetch_positions()] == [XRP]


async def test_contract_minimum_cost_counts_the_contract_size() -> None:
    # notional = contracts x contract size x price: 1 contract of 10 XRP at 1.2 is 12 USDT (min 10 passes),
    # 50 contracts of 0.1 XRP are 6 USDT (refused), whether limit or market
    big = await xrp_account(contract_size="10", min_cost="10")
    assert (await market(big, BUY, "1", "1.2")).filled == D(1)
    assert (await big.trader.create_order(LIMIT, BUY, XRP, "1", price="1.2")).status is OrderStatus.OPEN
    small = await xrp_account(contract_size="0.1", min_cost="10")
    for attempt in (
        lambda: market(small, BUY, "50", "1.2"),
        lambda: small.trader.create_order(LIMIT, BUY, XRP, "50", price="1.2"),
    ):
        with pytest.raises(InvalidOrder) as caught:
            await attempt()
        assert caught.value.limit == "min_cost"
    assert small.connector.positions_snapshot() == []
    assert (await market(small, BUY, "84", "1.2")).filled == D(84)  # 10.08 USDT
