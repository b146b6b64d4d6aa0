"""The public names and behaviours users rely on, end to end, as README.md and docs/ show them.

Each test follows one part of the user-facing API (construction, market data, exchange calls,
trading, the exchange factory and its protocols, errors, trading modes, backtesting) with the
real ccxt client talking to the project's fake Binance server on 127.0.0.1 (no mocks) or, for
backtesting, real candles.
"""

from __future__ import annotations

import asyncio
import inspect
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

import octobot_trading as ot
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fake_exchange"
FAST = {"rateLimit": 1, "timeout": 2000}
# real Binance BTC/USDT 5m candles, first 600 rows (see tests/backtesting/fixtures/PROVENANCE.md)
BTC_5M_SLICE = Path(__file__).resolve().parents[1] / "backtesting" / "fixtures" / "BTC_USDT-5m-head600.json"


@pytest.fixture
async def server():
    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as srv:
        yield srv


def _builder(server: FakeExchangeServer) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret, password=None)
        .with_symbols(["BTC/USDT"])
        .with_time_frames(["5m"])
        .with_ccxt_options(FAST)
        .with_client_hook(server.client_hook)
        .sandboxed(False)
        .rest_only(True)
    )


def _tasks() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_construction_market_data_exchange_calls_and_trading(server):
    before = _tasks()
    manager = await _builder(server).use_real_trader().build()
    assert isinstance(manager, ot.ExchangeManager)
    async with manager:
        await manager.wait_ready(timeout=30)
        assert ot.exchanges_registry.get(manager.id) is manager
        assert manager in ot.exchanges_registry.get_by_name("binance")
        assert manager.exchange_name == "binance"
        assert not manager.is_simulated and not manager.is_backtesting and not manager.is_future
        personal = manager.exchange_personal_data
        for name in (
            "orders_manager",
            "portfolio_manager",
            "trades_manager",
            "positions_manager",
            "transactions_manager",
        ):
            assert getattr(personal, name) is not None

        # market data held by the manager
        sd = manager.exchange_symbols_data.get("BTC/USDT")
        closes = sd.candles("5m").closes(limit=None)
        assert isinstance(closes, np.ndarray) and len(closes) > 0
        times = sd.candles("5m").times()
        assert np.all(np.diff(times) > 0)  # oldest first
        assert isinstance(sd.mark_price, Decimal)

        # exchange calls: typed results, Decimal money
        ex = manager.exchange
        assert isinstance(ex, ot.RestExchange)
        balances = await ex.fetch_balance()
        usdt = balances["USDT"]
        assert isinstance(usdt, ot.Balance) and usdt.free + usdt.used == usdt.total
        ticker = await ex.fetch_ticker("BTC/USDT")
        assert isinstance(ticker, ot.Ticker) and isinstance(ticker.last, Decimal)
        candles = await ex.fetch_ohlcv("BTC/USDT", "5m", since=None, limit=10)
        assert len(candles) == 10 and all(isinstance(c, ot.Candle) for c in candles)
        assert isinstance(candles[0].close, Decimal) and candles[0].timestamp < candles[1].timestamp
        book = await ex.fetch_order_book("BTC/USDT", limit=5)
        assert isinstance(book, ot.OrderBook) and book.bids[0][0] < book.asks[0][0]

        # trading through the trader
        price = (ticker.last * Decimal("0.9")).quantize(Decimal("0.01"))
        order = await manager.trader.create_order(
            ot.OrderType.LIMIT, ot.OrderSide.BUY, "BTC/USDT", amount="0.01", price=str(price)
        )
        assert isinstance(order, ot.Order) and isinstance(order.id, str) and order.exchange_order_id
        assert order.status is ot.OrderStatus.OPEN
        fetched = await ex.fetch_order(order.exchange_order_id, "BTC/USDT")
        assert isinstance(fetched, ot.ExchangeOrder) and fetched.client_order_id
        assert [o.id for o in await ex.fetch_open_orders("BTC/USDT")] == [order.exchange_order_id]
        asset = personal.portfolio_manager.portfolio.get_currency_portfolio("USDT")
        assert asset.total - asset.available == price * Decimal("0.01")
        await manager.trader.cancel_order(order)
        assert order.status is ot.OrderStatus.CANCELED
        assert asset.available == asset.total
        market = await ex.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, "BTC/USDT", Decimal("0.001"))
        assert market.status is ot.OrderStatus.FILLED
        trades = await ex.fetch_my_trades("BTC/USDT")
        assert trades and isinstance(trades[-1], ot.ExchangeTrade) and trades[-1].order_id == market.id
    await manager.stop()  # idempotent
    assert ot.exchanges_registry.get(manager.id) is None
    assert _tasks() <= before


async def test_float_money_is_a_type_error_with_no_state_change(server):
    manager = await _builder(server).use_real_trader().build()
    async with manager:
        portfolio = manager.exchange_personal_data.portfolio_manager.portfolio
        before = portfolio.get_currency_portfolio("USDT").available
        with pytest.raises(TypeError):
            await manager.trader.create_order(
                ot.OrderType.LIMIT,
                ot.OrderSide.BUY,
                "BTC/USDT",
                amount=0.01,  # type: ignore[arg-type]
                price="20000",
            )
        assert portfolio.get_currency_portfolio("USDT").available == before
        assert await manager.exchange.fetch_open_orders("BTC/USDT") == []


async def test_exchange_factory_and_protocols(server):
    async with ot.ExchangeFactory.create_exchange(
        "binance",
        api_key=server.api_key,
        api_secret=server.api_secret,
        testnet=True,
        ccxt_options=FAST,
        client_hook=server.client_hook,
        symbols=["BTC/USDT"],
    ) as exchange:
        assert isinstance(exchange, ot.MarketDataProvider)
        assert isinstance(exchange, ot.TradingOperations)
        assert isinstance(exchange, ot.AccountOperations)
        price = await exchange.get_ticker_price("BTC/USDT")
        assert isinstance(price, Decimal) and price > 0
        balances = await exchange.get_balances()
        assert isinstance(balances["USDT"], ot.Balance)
        order = await exchange.execute_trade("BTC/USDT", ot.OrderSide.BUY, Decimal("0.001"))
        assert order.type is ot.OrderType.MARKET
        history = await exchange.get_order_history("BTC/USDT")
        assert order.id in {o.id for o in history}
        value = await exchange.get_portfolio_value("USDT")
        assert isinstance(value, Decimal) and value > 0
        assert await exchange.get_positions() == []


def test_the_documented_error_types_are_exported_under_one_base():
    for name in (
        "NetworkError",
        "RateLimitExceeded",
        "AuthenticationError",
        "InsufficientFunds",
        "InvalidOrder",
        "OrderNotFound",
        "NotSupported",
        "ConfigurationError",
    ):
        assert issubclass(getattr(ot.errors, name), ot.errors.OctoBotTradingError)
    assert ot.errors.NetworkError.retryable and ot.errors.RateLimitExceeded.retryable


def test_built_in_modes_are_trading_modes_with_a_name():
    assert inspect.isclass(ot.modes.AbstractTradingMode)
    for mode in (ot.modes.SmaCrossMode, ot.modes.GridTradingMode, ot.modes.DCATradingMode):
        assert issubclass(mode, ot.modes.AbstractTradingMode)
        assert isinstance(mode.get_mode_name(), str)


async def test_run_backtest_on_real_candles_returns_fills_portfolio_metrics_and_equity():
    data = ot.backtesting.CandleData.from_file(BTC_5M_SLICE, exchange="binance", symbol="BTC/USDT", time_frame="5m")
    result = await ot.backtesting.run_backtest(
        data,
        trading_mode=ot.modes.SmaCrossMode,
        mode_config={"fast_period": 10, "slow_period": 30},
        starting_portfolio={"USDT": "10000"},
        fees=ot.Fees(maker="0.001", taker="0.001"),
        markets={"BTC/USDT": ot.MarketSpec(price_tick="0.01", amount_step="0.00001", min_cost="5")},
    )
    assert result.trades and set(result.final_portfolio) >= {"USDT", "BTC"}
    assert all(isinstance(v, Decimal) for v in result.final_portfolio.values())
    for fill in result.trades[:20]:
        assert fill.amount == fill.amount.quantize(Decimal("0.00001"))  # amounts on the step
        assert isinstance(fill.price, Decimal) and isinstance(fill.fee, Decimal)
    assert result.metrics and len(result.equity_curve) > 0
