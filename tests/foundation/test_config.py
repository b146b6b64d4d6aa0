"""Configuration models: validation, typed errors naming the field, secrets."""

from decimal import Decimal

import pytest

from octobot_trading.config import (
    BacktestingConfig,
    ExchangeConfig,
    TradingConfig,
    parse_config,
)
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError, MoneyTypeError


def test_valid_exchange_config():
    cfg = parse_config(
        ExchangeConfig,
        {
            "exchange": "Binance",
            "symbols": ["BTC/USDT"],
            "time_frames": ["1m", "1h"],
            "api_key": "k" * 16,
            "api_secret": "s" * 16,
        },
    )
    assert cfg.exchange == "binance"
    assert cfg.time_frames == (TimeFrame.M1, TimeFrame.H1)
    assert cfg.has_credentials
    assert "kkkk" not in repr(cfg) and "ssss" not in repr(cfg)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"exchange": ""}, "exchange"),
        ({"exchange": "bin ance"}, "exchange"),
        ({"exchange": "binance", "symbols": ["BTCUSDT"]}, "symbols"),
        ({"exchange": "binance", "time_frames": ["7m"]}, "time_frames.0"),
        ({"exchange": "binance", "market_type": "spaceship"}, "market_type"),
        ({"exchange": "binance", "unknown_option": 1}, "unknown_option"),
        ({"exchange": "binance", "ccxt_options": {"apiKey": "x"}}, "ccxt_options"),
        ({"exchange": "binance", "ccxt_options": {"twofa": "JBSWY3DP"}}, "ccxt_options"),
        ({"exchange": "binance", "ccxt_options": {"verbose": True}}, "ccxt_options"),
        ({"exchange": "binance", "symbols": ["BTC/USDT", "BTC/USDT"]}, "symbols"),
    ],
)
def test_invalid_exchange_config_names_field(data, field):
    with pytest.raises(ConfigurationError) as exc:
        parse_config(ExchangeConfig, data)
    assert exc.value.field == field
    assert field.split(".")[0] in str(exc.value)


def test_float_money_is_a_type_error():
    with pytest.raises(MoneyTypeError) as exc:
        parse_config(TradingConfig, {"starting_portfolio": {"USDT": 1000.5}})
    assert isinstance(exc.value, TypeError) and isinstance(exc.value, ConfigurationError)
    assert exc.value.field == "starting_portfolio.USDT"


def test_money_fields():
    cfg = parse_config(TradingConfig, {"starting_portfolio": {"USDT": "1000.5", "BTC": 1}})
    assert cfg.starting_portfolio == {"USDT": Decimal("1000.5"), "BTC": Decimal(1)}
    with pytest.raises(ConfigurationError, match="negative"):
        parse_config(TradingConfig, {"starting_portfolio": {"USDT": "-1"}})
    with pytest.raises(ConfigurationError):
        parse_config(TradingConfig, {"starting_portfolio": {"USDT": "NaN"}})
    with pytest.raises(ConfigurationError, match=r"fees\.maker"):
        parse_config(TradingConfig, {"fees": {"maker": "1.5"}})


def test_backtesting_config_defaults():
    cfg = BacktestingConfig()
    assert cfg.starting_portfolio == {"USDT": Decimal(10000)}
    assert cfg.slippage_percent == 0
    with pytest.raises(ConfigurationError, match="slippage_percent"):
        parse_config(BacktestingConfig, {"slippage_percent": "150"})


def test_configs_are_frozen():
    cfg = TradingConfig()
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        cfg.reference_market = "BTC"  # type: ignore[misc]


def test_json_schema_exported():
    schema = ExchangeConfig.model_json_schema()
    assert "api_key" in schema["properties"]
