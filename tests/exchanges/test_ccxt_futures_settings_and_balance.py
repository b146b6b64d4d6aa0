"""The ccxt connector on the fake USDⓈ-M venue (real ccxt ``binanceusdm`` client, loopback): it reads
the venue's contract settings (leverage, margin mode, per-account position mode), every settings
error names its symbol, and a contract account's balance total is the wallet balance (no
unrealized PnL), the same rule as the simulated venue's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from octobot_trading import errors
from octobot_trading.enums import MarginMode, OrderSide, OrderType, PositionMode
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.testing import FakeFuturesServer
from tests.exchanges.usdm_connector import usdm_connector

D = Decimal
XRP, BTC = "XRP/USDT:USDT", "BTC/USDT:USDT"


@pytest.fixture
async def usdm() -> AsyncIterator[tuple[FakeFuturesServer, CCXTConnector]]:
    async with usdm_connector((XRP, BTC), attempts=2) as venue:
        yield venue


async def _buy(connector: CCXTConnector, amount: str) -> None:
    await connector.create_order(OrderType.MARKET, OrderSide.BUY, XRP, D(amount), client_order_id="buy-1")


async def test_fetch_contract_settings_reads_leverage_margin_mode_and_account_position_mode(
    usdm: tuple[FakeFuturesServer, CCXTConnector],
) -> None:
    _, connector = usdm
    await connector.set_leverage(XRP, D(7))
    await connector.set_margin_mode(XRP, MarginMode.ISOLATED)
    await connector.set_position_mode(XRP, PositionMode.HEDGE)
    xrp, btc = await connector.fetch_contract_settings([XRP, BTC])
    assert (xrp.symbol, xrp.leverage, xrp.margin_mode, xrp.position_mode) == (
        XRP,
        D(7),
        MarginMode.ISOLATED,
        PositionMode.HEDGE,
    )
    assert (btc.symbol, btc.leverage, btc.margin_mode, btc.position_mode) == (
        BTC,
        D(20),
        MarginMode.CROSS,
        PositionMode.HEDGE,
    )
    assert xrp.position_mode_per_account and btc.position_mode_per_account


async def test_settings_errors_name_the_symbol(usdm: tuple[FakeFuturesServer, CCXTConnector]) -> None:
    _, connector = usdm
    with pytest.raises(errors.ConfigurationError) as refused:  # above the venue's 75x
        await connector.set_leverage(XRP, D(100))
    assert (refused.value.field, refused.value.symbol) == ("leverage", XRP)
    with pytest.raises(errors.ConfigurationError) as not_positive:
        await connector.set_leverage(XRP, D(0))
    assert (not_positive.value.field, not_positive.value.symbol) == ("leverage", XRP)
    with pytest.raises(errors.ConfigurationError) as unknown_mode:
        await connector.set_margin_mode(XRP, "portfolio")  # type: ignore[arg-type]
    assert (unknown_mode.value.field, unknown_mode.value.symbol) == ("margin_mode", XRP)
    with pytest.raises(errors.ConfigurationError) as unknown_position_mode:
        await connector.set_position_mode(XRP, "both")  # type: ignore[arg-type]
    assert (unknown_position_mode.value.field, unknown_position_mode.value.symbol) == ("position_mode", XRP)
    await _buy(connector, "100")
    with pytest.raises(errors.OpenPositionsError) as busy:  # the venue refuses with a position open
        await connector.set_margin_mode(XRP, MarginMode.ISOLATED)
    assert (busy.value.field, busy.value.symbol) == ("margin_mode", XRP)
    with pytest.raises(errors.OpenPositionsError) as busy_leverage:
        await connector.set_leverage(XRP, D(5))
    assert (busy_leverage.value.field, busy_leverage.value.symbol) == ("leverage", XRP)


async def test_contract_balance_total_is_the_wallet_balance_without_unrealized_pnl(
    usdm: tuple[FakeFuturesServer, CCXTConnector],
) -> None:
    venue, connector = usdm
    await _buy(connector, "1000")
    price = venue.market("XRPUSDT").last_price
    venue.set_mark_price("XRPUSDT", price * D("1.05"))  # an unrealized profit of about 5 % of the notional
    futures = venue.futures_account().futures
    (position,) = await connector.fetch_positions([XRP])
    assert position.unrealized_pnl is not None and position.unrealized_pnl > 0
    usdt = (await connector.fetch_balance())["USDT"]
    wallet = futures.wallet("USDT")
    assert usdt.total == wallet  # not wallet + unrealized PnL (ccxt's margin balance)
    assert D(0) <= usdt.free <= usdt.total and usdt.used == usdt.total - usdt.free
