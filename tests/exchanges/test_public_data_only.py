"""Without credentials the factory (and ``public_data_only()``) serves public data, and refuses trading."""

from __future__ import annotations

import pytest

import octobot_trading as ot
from octobot_trading import errors
from octobot_trading.testing.fake_exchange import FakeExchangeServer

from .conftest import FAST

BTC = "BTC/USDT"
ORDER_PATH = "/api/v3/order"


async def test_factory_without_credentials_reads_prices_and_refuses_trades(server: FakeExchangeServer) -> None:
    async with ot.ExchangeFactory.create_exchange(
        "binance", testnet=True, ccxt_options=FAST, client_hook=server.client_hook, symbols=[BTC]
    ) as exchange:
        price = await exchange.get_ticker_price(BTC)
        assert price > 0
        candles = await exchange.fetch_ohlcv(BTC, "5m", limit=3)
        assert len(candles) == 3
        with pytest.raises(errors.NotSupported):
            await exchange.execute_trade(BTC, ot.OrderSide.BUY, "0.001")
    assert server.faults.count("POST", ORDER_PATH) == 0


def _public(server: FakeExchangeServer) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binance")
        .with_symbols([BTC])
        .with_time_frames(["5m"])
        .with_ccxt_options(FAST)
        .with_client_hook(server.client_hook)
        .rest_only(True)
        .public_data_only()
    )


async def test_public_data_only_manager_is_ready_on_market_data_alone(server: FakeExchangeServer) -> None:
    manager = await _public(server).build()
    try:
        # no account: the account slots raise NotSupported naming the missing part
        assert not manager.has_account
        with pytest.raises(errors.NotSupported, match="no trader: it was built with public_data_only"):
            manager.trader  # noqa: B018 - the property access is what is tested
        with pytest.raises(errors.NotSupported, match=r"no account data \(exchange_personal_data\)"):
            manager.exchange_personal_data  # noqa: B018
        await manager.wait_ready(timeout=20)
        assert manager.exchange_symbols_data.get(BTC).mark_price is not None
    finally:
        await manager.stop()


@pytest.mark.parametrize("extra", ["mode", "storage"])
async def test_public_data_only_refuses_modes_and_storage(server: FakeExchangeServer, tmp_path, extra) -> None:
    builder = _public(server)
    if extra == "mode":
        builder.use_trading_mode(ot.modes.SmaCrossMode, {})
    else:
        builder.with_storage(tmp_path / "state.sqlite")
    with pytest.raises(errors.ConfigurationError):
        await builder.build()
    assert not server.faults.requests  # refused before any request
