"""``exchange.get_portfolio_value(...)`` of a futures account includes the open positions'
unrealized PnL (the settle currency's balance total is the wallet only), and an inverse account
is valued in its quote currency through its own contract market (BTC/USD:BTC converts BTC to
USD). Paper trading on the project's fake USDⓈ-M and COIN-M venues (real ccxt on loopback)."""

from __future__ import annotations

from decimal import Decimal as D

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.testing import FakeCoinMServer, FakeFuturesServer
from tests.clock_driving import build_simulated, until_ready

XRP, BTC = "XRP/USDT:USDT", "BTC/USD:BTC"


def _builder(venue: object, exchange: str, market_type: str, symbol: str, native: str) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder(exchange)
        .with_market_type(market_type)
        .with_symbols([symbol])
        .with_ccxt_options({**venue.ccxt_config(), "rateLimit": 1, "timeout": 3000})  # type: ignore[attr-defined]
        .with_client_hook(venue.client_hook)  # type: ignore[attr-defined]
        .with_clock(SimulatedClock(venue.market(native).now_ms))  # type: ignore[attr-defined]
        .rest_only(True)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10}, account_poll_seconds=600.0)
    )


async def test_linear_account_value_includes_the_unrealized_pnl() -> None:
    async with FakeFuturesServer() as venue:
        builder = _builder(venue, "binanceusdm", "linear", XRP, "XRPUSDT")
        builder = builder.with_contracts(
            {XRP: ot.ContractSpec(leverage="10", maintenance_margin_rate="0.004")}
        ).use_simulated_trader(starting_portfolio={"USDT": "1000"})
        manager = await build_simulated(builder)
        async with manager:
            await until_ready(manager)
            await manager.trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, XRP, "100")
            position = manager.exchange_personal_data.positions_manager.get(XRP)
            assert position is not None and position.entry_price is not None
            entry = position.entry_price
            new = (entry * D("1.05")).quantize(D("0.0001"))
            venue.set_last_price("XRPUSDT", str(new))
            await manager.connector.on_price(  # type: ignore[attr-defined]
                XRP, new
            )
            position = manager.exchange_personal_data.positions_manager.get(XRP)
            assert position is not None and position.unrealized_pnl == 100 * (new - entry)
            wallet = (await manager.exchange.fetch_balance())["USDT"].total
            value = await manager.exchange.get_portfolio_value("USDT")
            assert value == wallet + position.unrealized_pnl
            assert position.unrealized_pnl > 0


async def test_inverse_account_is_valued_in_usd_through_its_contract_market() -> None:
    async with FakeCoinMServer() as venue:
        builder = _builder(venue, "binancecoinm", "inverse", BTC, "BTCUSD_PERP")
        builder = builder.with_contracts(
            {BTC: ot.ContractSpec(contract_size="100", leverage="5", maintenance_margin_rate="0.004")}
        ).use_simulated_trader(starting_portfolio={"BTC": "1"})
        manager = await build_simulated(builder)
        async with manager:
            await until_ready(manager)
            await manager.trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, BTC, "10")
            position = manager.exchange_personal_data.positions_manager.get(BTC)
            assert position is not None and position.entry_price is not None
            new = (position.entry_price * D("1.1")).quantize(D("0.1"))
            venue.set_last_price("BTCUSD_PERP", str(new))
            await manager.connector.on_price(  # type: ignore[attr-defined]
                BTC, new
            )
            position = manager.exchange_personal_data.positions_manager.get(BTC)
            assert position is not None and position.unrealized_pnl is not None and position.unrealized_pnl > 0
            wallet = (await manager.exchange.fetch_balance())["BTC"].total
            in_btc = await manager.exchange.get_portfolio_value("BTC")
            assert in_btc == wallet + position.unrealized_pnl
            price = await manager.exchange.get_ticker_price(BTC)
            assert await manager.exchange.get_portfolio_value("USD") == in_btc * price
