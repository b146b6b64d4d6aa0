"""Freeze the top-level public API: a change here is a deliberate, documented decision."""

import octobot_trading as ot

EXPECTED = {
    "Balance", "Candle", "Clock", "ExchangeOrder", "ExchangeTrade", "Fees", "LiveClock", "MarginMode",
    "MarketSpec", "MarketType", "OrderBook", "OrderSide", "OrderStatus", "OrderType", "PositionSide",
    "PrecisionMode", "SimulatedClock", "Symbol", "Ticker", "TimeFrame", "TradeType", "TraderType",
    "TransactionType", "__version__", "errors", "parse_order_status", "parse_order_type", "parse_symbol",
    "to_decimal",
}
# exchange layer (issue 3)
EXPECTED |= {
    "AccountOperations", "ExchangeBuilder", "ExchangeFactory", "ExchangeManager", "MarketDataProvider",
    "RestExchange", "TradingOperations", "exchanges_registry",
}
# trading core (issue 5)
EXPECTED |= {"Order"}


def test_all_is_frozen():
    assert set(ot.__all__) == EXPECTED


def test_every_exported_name_resolves():
    for name in ot.__all__:
        assert getattr(ot, name) is not None, name


def test_smoke_from_api_md():
    assert ot.errors.OctoBotTradingError
    assert ot.OrderType.LIMIT and ot.OrderSide.BUY and ot.OrderStatus.OPEN
