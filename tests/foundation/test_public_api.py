"""Freeze the public API: a change here is a deliberate, documented decision (docs/changelog.md)."""

import octobot_trading as ot

TOP_LEVEL = {
    # values, enums, clocks and helpers (imported eagerly)
    "Balance",
    "Candle",
    "Clock",
    "ContractSpec",
    "ExchangeOrder",
    "ExchangeTrade",
    "Fees",
    "LiveClock",
    "MarginMode",
    "MarginTier",
    "MarketSpec",
    "MarketType",
    "OrderBook",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PositionMode",
    "PositionSide",
    "PrecisionMode",
    "SimulatedClock",
    "Symbol",
    "Ticker",
    "TimeFrame",
    "TradeType",
    "TraderType",
    "TransactionType",
    "__version__",
    "errors",
    "parse_order_status",
    "parse_order_type",
    "parse_symbol",
    "to_decimal",
    # exchange layer: construction, the venue seam, the simple-script factory and its protocols
    "AccountOperations",
    "ExchangeBuilder",
    "ExchangeFactory",
    "ExchangeManager",
    "MarketDataProvider",
    "RestExchange",
    "TradingOperations",
    "exchanges_registry",
    # trading core
    "Order",
    "OrderGroup",
    "Position",
    "Trader",
    # sub-packages users reach as ``ot.backtesting.*``, ``ot.modes.*``, ``ot.signals.*``, ``ot.wallets.*``
    "backtesting",
    "modes",
    "signals",
    "wallets",
}

BACKTESTING = {
    "BacktestResult",
    "CandleData",
    "CandleSeries",
    "FundingData",
    "Gap",
    "compute_metrics",
    "run_backtest",
    "write_report",
    "SweepResult",
    "run_sweep",
}

# typed errors users catch (``ot.errors.*``); more may be added, none removed
ERRORS = {
    "OctoBotTradingError",
    "NetworkError",
    "RateLimitExceeded",
    "AuthenticationError",
    "InsufficientFunds",
    "InvalidOrder",
    "OrderNotFound",
    "NotSupported",
    "ConfigurationError",
}

# the mode framework and the built-in modes (``ot.modes.*``); more may be added, none removed
MODES = {
    "AbstractModeConsumer",
    "AbstractModeProducer",
    "AbstractTradingMode",
    "ModeConfig",
    "SmaCrossMode",
    "SmaCrossConfig",
    "GridTradingMode",
    "GridConfig",
    "DCATradingMode",
    "DCAConfig",
    "get_mode",
}


def test_top_level_all_is_frozen():
    assert set(ot.__all__) == TOP_LEVEL, "a public name was added or removed: update TOP_LEVEL and the changelog"


def test_backtesting_all_is_frozen():
    assert set(ot.backtesting.__all__) == BACKTESTING, "a public name was added or removed: update BACKTESTING"


def test_errors_and_modes_keep_the_names_users_rely_on():
    assert ERRORS <= {name for name in dir(ot.errors) if not name.startswith("_")}
    for name in ERRORS:
        assert issubclass(getattr(ot.errors, name), ot.errors.OctoBotTradingError)
    assert set(ot.modes.__all__) >= MODES


def test_every_exported_name_resolves():
    for module in (ot, ot.backtesting, ot.modes):
        for name in module.__all__:
            assert getattr(module, name) is not None, name


def test_public_classes_are_the_ones_users_get_from_the_engine():
    from octobot_trading.personal_data.orders.order import Order
    from octobot_trading.personal_data.trader import Trader

    assert ot.Order is Order and ot.Trader is Trader
    assert ot.OrderType.LIMIT and ot.OrderSide.BUY and ot.OrderStatus.OPEN
