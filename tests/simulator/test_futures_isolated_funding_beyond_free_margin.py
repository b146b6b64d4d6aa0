"""Funding an isolated position owes beyond the free wallet is taken from the position's isolated
margin (docs/futures.md, "Funding"): the wallet never falls below the margins it holds nor below
zero, the liquidation price moves with the margin left, the trader shows the venue's numbers and
``wallet = start + Σ realized - Σ fees + Σ funding - Σ margin lost`` holds exactly.

Linear XRP/USDT:USDT, wallet 100 USDT, no fees, long 990 at 1, 10x isolated, mmr 0.004: initial
margin 99 (free 1), liquidation price (990 - 99) / (990 x 0.996) = 0.903614457831325301."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from octobot_trading.backtesting import FundingData
from octobot_trading.enums import OrderSide, OrderType, PositionMode, PositionSide
from octobot_trading.util.fees import Fees
from tests.personal_data.helpers import SimAccount, make_account
from tests.simulator.test_futures_orders_positions_and_margin import XRP, candle, local_matches_venue, market, xrp_spec


async def funded_account(wallet: str, rate: str, **spec: Any) -> SimAccount:
    """An XRP/USDT:USDT account of ``wallet`` USDT, no fees, with one funding of ``rate`` two
    minutes after the start."""
    contract = xrp_spec(**spec)
    acc = await make_account(
        {"USDT": wallet},
        markets={XRP: contract},
        prices={XRP: "1"},
        contracts={XRP: contract},
        fees=Fees(maker="0", taker="0"),
    )
    start = acc.clock.now_ms()
    acc.connector.enable_futures(funding_rates={XRP: FundingData(XRP, [start + 120_000], [rate], interval="1m")})
    return acc


async def long_990(rate: str) -> SimAccount:
    acc = await funded_account("100", rate)
    await market(acc, OrderSide.BUY, "990", "1")
    position = acc.personal.positions_manager.get(XRP)
    assert position is not None and position.initial_margin == D(99)
    assert position.liquidation_price == D("0.903614457831325301")
    await candle(acc, "1", "1", "1", "1")  # the first candle: no funding time passed yet
    assert acc.connector.funding_payments == []
    return acc


async def test_funding_beyond_the_free_wallet_is_taken_from_the_isolated_margin_and_moves_the_liquidation_price():
    acc = await long_990("0.01")
    await candle(acc, "1", "1", "1", "1")  # the long owes 990 x 1 x 0.01 = 9.9; 1 is free
    assert [(p.side, p.amount) for p in acc.connector.funding_payments] == [(PositionSide.LONG, D("-9.9"))]
    position = acc.personal.positions_manager.get(XRP)
    assert position is not None and position.initial_margin == D("90.1")  # 99 - 8.9
    assert position.liquidation_price == D("0.912640460833231918")  # (990 - 90.1) / (990 x 0.996)
    balance = (await acc.connector.fetch_balance())["USDT"]
    assert (balance.total, balance.free, balance.used) == (D("90.1"), D(0), D("90.1"))
    assert acc.asset("USDT") == (D("90.1"), D(0))
    await local_matches_venue(acc)

    await candle(acc, "1", "1", "0.85", "0.85")
    assert [(liq.price, liq.margin_lost) for liq in acc.connector.liquidations] == [
        (D("0.912640460833231918"), D("90.1"))
    ]
    balance = (await acc.connector.fetch_balance())["USDT"]
    assert (balance.total, balance.free, balance.used) == (D(0), D(0), D(0))
    assert acc.asset("USDT") == (D(0), D(0))
    funding = sum((p.amount for p in acc.connector.funding_payments), D(0))
    lost = sum((liq.margin_lost for liq in acc.connector.liquidations), D(0))
    assert D(100) + funding - lost == acc.connector.futures_account.wallet("USDT") == D(0)  # type: ignore[union-attr]


async def test_funding_within_the_free_wallet_leaves_the_isolated_margin_whole():
    acc = await long_990("0.001")
    await candle(acc, "1", "1", "1", "1")  # owes 0.99 of the 1 free
    position = acc.personal.positions_manager.get(XRP)
    assert position is not None and position.initial_margin == D(99)
    assert position.liquidation_price == D("0.903614457831325301")
    assert acc.asset("USDT") == (D("99.01"), D("0.01"))
    await local_matches_venue(acc)


async def test_funding_beyond_the_free_wallet_and_the_margin_takes_only_what_they_hold():
    acc = await long_990("0.2")
    await candle(acc, "1", "1", "1", "1")  # owes 198: 1 free + 99 of margin is all there is
    (payment,) = acc.connector.funding_payments
    assert payment.amount == D(-100)
    assert acc.connector.futures_account.wallet("USDT") == D(0)  # type: ignore[union-attr]
    balance = (await acc.connector.fetch_balance())["USDT"]
    assert (balance.total, balance.free) == (D(0), D(0))
    await candle(acc, "1", "1", "1", "1")  # a position with no margin left is liquidated, losing 0
    assert [liq.margin_lost for liq in acc.connector.liquidations] == [D(0)]
    assert acc.personal.positions_manager.get(XRP) is None
    assert acc.asset("USDT") == (D(0), D(0))
    await local_matches_venue(acc)


async def test_a_later_reduce_keeps_the_margin_funding_took_and_a_liquidation_never_leaves_a_debt():
    """After funding took 8.9 of the margin (90.1 left on 990 contracts), a sell of 90 at 0.95 keeps
    the margin of the 900 left in proportion, 90.1 x 900 / 990 = 81.909090909090909091 (not 90 by
    the rule at the entry price, which the wallet of 85.6 after the loss of 4.5 cannot hold); the
    liquidation then loses that margin and the wallet ends at 85.6 - 81.909... >= 0."""
    acc = await long_990("0.01")
    await candle(acc, "1", "1", "1", "1")  # funding: margin 90.1, wallet 90.1
    await market(acc, OrderSide.SELL, "90", "0.95")  # realized -4.5: wallet 85.6
    position = acc.personal.positions_manager.get(XRP)
    assert position is not None and position.contracts == D(900)
    margin = D("81.909090909090909091")
    assert position.initial_margin == margin
    assert acc.connector.futures_account.wallet("USDT") == D("85.6")  # type: ignore[union-attr]
    await local_matches_venue(acc)
    await candle(acc, "0.95", "0.95", "0.5", "0.5")
    (liquidation,) = acc.connector.liquidations
    assert liquidation.margin_lost == margin
    wallet = acc.connector.futures_account.wallet("USDT")  # type: ignore[union-attr]
    assert wallet == D("85.6") - margin
    funding = sum((p.amount for p in acc.connector.funding_payments), D(0))
    assert D(100) + funding - D("4.5") - margin == wallet


async def test_a_later_grow_adds_the_new_contracts_margin_to_what_funding_left():
    """After funding took 8.9 of the margin, a sell of 90 at 1.2 (profit 18) keeps 81.909... for the
    900 left; buying the 90 back at 1.2 adds their margin of 90 x 1.2 / 10 = 10.8 to it:
    92.709090909090909091, not the rule's 100.8 for 990 contracts at the grown entry."""
    acc = await long_990("0.01")
    await candle(acc, "1", "1", "1", "1")  # funding: margin 90.1, wallet 90.1, free 0
    await candle(acc, "1", "1.2", "1", "1.2")
    await market(acc, OrderSide.SELL, "90", "1.2")  # realized +18: wallet 108.1
    position = acc.personal.positions_manager.get(XRP)
    assert position is not None and position.initial_margin == D("81.909090909090909091")
    await market(acc, OrderSide.BUY, "90", "1.2")  # margin of 90 x 1.2 / 10 = 10.8 added
    position = acc.personal.positions_manager.get(XRP)
    assert position is not None and position.contracts == D(990)
    assert position.initial_margin == D("92.709090909090909091")
    await local_matches_venue(acc)


async def test_in_hedge_mode_what_one_side_receives_pays_the_other_side_first() -> None:
    # isolated long and short of 990 at 1 (margin 99 each) on a wallet of 200 (free 2): at one
    # funding time the short receives 9.9 before the long pays 9.9, whichever side pays
    for rate in ("0.01", "-0.01"):
        acc = await funded_account("200", rate, position_mode=PositionMode.HEDGE)
        await market(acc, OrderSide.BUY, "990", "1", position_side=PositionSide.LONG)
        await market(acc, OrderSide.SELL, "990", "1", position_side=PositionSide.SHORT)
        await candle(acc, "1", "1", "1", "1")
        await candle(acc, "1", "1", "1", "1")
        assert sorted(p.amount for p in acc.connector.funding_payments) == [D("-9.9"), D("9.9")], rate
        assert acc.connector.funding_payments[0].amount > 0  # received first
        account = acc.connector.futures_account
        assert [p.initial_margin for p in account.positions()] == [D(99), D(99)], rate
        assert account.wallet("USDT") == D(200)
        await local_matches_venue(acc)


async def test_the_margin_reserved_by_an_open_order_is_not_spent_on_funding() -> None:
    # wallet 110, isolated long 500 at 1 (margin 50), a limit buy of 500 at 0.95 reserving 47.5:
    # free 12.5; a funding of 25 takes 12.5 from the wallet and 12.5 from the position's margin,
    # and the limit order later fills on the margin it reserved
    acc = await funded_account("110", "0.05")
    await market(acc, OrderSide.BUY, "500", "1")
    order = await acc.trader.create_order(OrderType.LIMIT, OrderSide.BUY, XRP, "500", "0.95")
    await candle(acc, "1", "1", "1", "1")
    await candle(acc, "1", "1", "1", "1")
    assert [p.amount for p in acc.connector.funding_payments] == [D(-25)]
    account = acc.connector.futures_account
    assert [p.initial_margin for p in account.positions()] == [D("37.5")]
    assert account.wallet("USDT") == D(85)
    await candle(acc, "0.96", "0.96", "0.95", "0.95")
    assert order.filled == D(500)
    assert [(p.contracts, p.initial_margin) for p in account.positions()] == [(D(1000), D(85))]
    await local_matches_venue(acc)
