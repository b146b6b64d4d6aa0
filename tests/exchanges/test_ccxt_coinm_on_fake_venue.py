"""The ccxt connector's futures calls through the real ccxt ``binancecoinm`` client against the fake
COIN-M venue (loopback): the inverse market, orders, trades, positions, balances, funding payments
and liquidations come back typed and exact, in contracts and in BTC, equal to the venue's own
accounting even when the mark price has moved away from the entry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from octobot_trading import errors
from octobot_trading.enums import MarginMode, MarketType, OrderSide, OrderType, PositionMode, PositionSide
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.testing import FakeCoinMServer
from octobot_trading.util.decimals import divide_to_step
from tests.exchanges.test_coinm_conformance import BTC, VENUE_ID, coinm_connector

D = Decimal
STEP = D("1e-18")
_ids = iter(range(1, 10**6))


@pytest.fixture
async def coinm() -> AsyncIterator[tuple[FakeCoinMServer, CCXTConnector]]:
    async with FakeCoinMServer() as server:
        connector = coinm_connector(server)
        try:
            await connector.load_markets()
            yield server, connector
        finally:
            await connector.close()


async def _trade(connector: CCXTConnector, side: OrderSide, amount: str, **params: object) -> None:
    order = await connector.create_order(
        OrderType.MARKET, side, BTC, D(amount), client_order_id=f"c{next(_ids)}", params=dict(params) or None
    )
    assert order.filled == D(amount)


async def test_inverse_market_is_listed_with_its_contract_size_and_btc_settlement(
    coinm: tuple[FakeCoinMServer, CCXTConnector],
) -> None:
    _, connector = coinm
    market = (await connector.load_markets())[BTC]
    assert (market.market_type, market.settle, market.spec.contract_size) == (MarketType.INVERSE, "BTC", D(100))
    assert (market.spec.amount_step, market.spec.price_tick) == (D(1), D("0.1"))


async def test_inverse_position_initial_margin_is_at_the_entry_price_after_the_mark_moved(
    coinm: tuple[FakeCoinMServer, CCXTConnector],
) -> None:
    server, connector = coinm
    await connector.set_leverage(BTC, D(3))
    await connector.set_margin_mode(BTC, MarginMode.CROSS)
    await _trade(connector, OrderSide.BUY, "7")
    server.set_mark_price(VENUE_ID, server.market(VENUE_ID).last_price * D("1.013"))
    (position,) = await connector.fetch_positions([BTC])
    venue = server.futures_account().futures.get(BTC)
    assert venue is not None and venue.entry_price is not None
    assert (position.side, position.contracts, position.entry_price) == ("long", D(7), venue.entry_price)
    assert position.initial_margin == venue.initial_margin == divide_to_step(D(700), venue.entry_price * 3, STEP)
    assert (position.leverage, position.margin_mode) == (D(3), "cross")
    assert position.unrealized_pnl is not None and position.unrealized_pnl > 0


async def test_inverse_fills_fees_balances_and_funding_are_in_btc(
    coinm: tuple[FakeCoinMServer, CCXTConnector],
) -> None:
    server, connector = coinm
    await _trade(connector, OrderSide.SELL, "20")
    (trade,) = await connector.fetch_my_trades(BTC)
    price = server.market(VENUE_ID).last_price
    assert (trade.amount, trade.price, trade.fee_currency) == (D(20), price, "BTC")
    assert trade.fee == divide_to_step(D(2000), price, STEP) * server.venue.taker_fee
    (received,) = server.settle_funding(VENUE_ID, "0.0005")
    (payment,) = await connector.fetch_funding_history(BTC)
    assert (payment.currency, payment.amount, payment.symbol) == ("BTC", received, BTC)
    balance = (await connector.fetch_balance())["BTC"]
    assert balance.total == server.futures_account().futures.wallet("BTC") == D(1) - trade.fee + received


async def test_inverse_liquidation_on_the_venue_is_read_back(coinm: tuple[FakeCoinMServer, CCXTConnector]) -> None:
    server, connector = coinm
    await connector.set_margin_mode(BTC, MarginMode.ISOLATED)
    await connector.set_leverage(BTC, D(25))
    await _trade(connector, OrderSide.BUY, "15")
    venue = server.futures_account().futures.get(BTC)
    assert venue is not None and venue.liquidation_price is not None
    (force,) = server.set_mark_price(VENUE_ID, venue.liquidation_price - D(50))
    assert await connector.fetch_positions([BTC]) == []
    (liquidation,) = await connector.fetch_my_liquidations(BTC)
    assert (liquidation.side, liquidation.contracts, liquidation.price) == ("long", D(15), force.order.price)


async def test_inverse_reduce_only_the_venue_refuses_is_a_typed_error_and_changes_nothing(
    coinm: tuple[FakeCoinMServer, CCXTConnector],
) -> None:
    server, connector = coinm
    await connector.set_position_mode(BTC, PositionMode.ONE_WAY)
    for side in (OrderSide.BUY, OrderSide.SELL):  # flat: a reduce-only order would open a position
        with pytest.raises(errors.InvalidOrder) as refused:
            await _trade(connector, side, "5", reduceOnly=True)
        assert refused.value.limit == "reduce_only"
    await _trade(connector, OrderSide.BUY, "5")
    wallet = server.futures_account().futures.wallet("BTC")
    for side, amount in ((OrderSide.BUY, "1"), (OrderSide.SELL, "6")):  # would grow / would flip
        with pytest.raises(errors.InvalidOrder) as refused:
            await _trade(connector, side, amount, reduceOnly=True)
        assert refused.value.limit == "reduce_only"
    venue = server.futures_account().futures.get(BTC, PositionSide.LONG)
    assert venue is not None and venue.size == D(5)
    assert server.futures_account().futures.wallet("BTC") == wallet
    assert not server.venue.open_orders_of(server.api_key)
