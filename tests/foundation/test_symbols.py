"""Unified symbol parsing and formatting."""

from decimal import Decimal

import pytest

from octobot_trading import parse_symbol
from octobot_trading.errors import InvalidSymbol
from octobot_trading.util.symbols import format_symbol


@pytest.mark.parametrize(
    "text, base, quote, settle, expiry",
    [
        ("BTC/USDT", "BTC", "USDT", None, None),
        ("BTC/USDT:USDT", "BTC", "USDT", "USDT", None),
        ("BTC/USD:BTC", "BTC", "USD", "BTC", None),
        ("BTC/USDT:USDT-211231", "BTC", "USDT", "USDT", "211231"),
        ("1000SHIB/USDT", "1000SHIB", "USDT", None, None),
    ],
)
def test_parse_and_round_trip(text, base, quote, settle, expiry):
    symbol = parse_symbol(text)
    assert (symbol.base, symbol.quote, symbol.settle, symbol.expiry) == (base, quote, settle, expiry)
    assert str(symbol) == text == format_symbol(symbol)


def test_kinds():
    assert parse_symbol("BTC/USDT").is_spot
    assert parse_symbol("BTC/USDT:USDT").is_linear
    assert parse_symbol("BTC/USD:BTC").is_inverse
    assert parse_symbol("BTC/USDT:USDT-211231").is_dated
    option = parse_symbol("BTC/USD:BTC-211231-50000-C")
    assert option.is_option and option.strike == Decimal(50000) and option.option_type == "C"
    assert str(option) == "BTC/USD:BTC-211231-50000-C"
    assert parse_symbol("BTC/USDT:USDT").spot == "BTC/USDT"


@pytest.mark.parametrize(
    "text",
    [
        "BTCUSDT",
        "BTC/",
        "/USDT",
        "BTC/USDT:",
        "BTC/USDT:USDT-2112",
        "BTC//USDT",
        "BTC/USDT:USDT-211399",
        "",
        "BTC USDT",
    ],
)
def test_invalid(text):
    with pytest.raises(InvalidSymbol) as exc:
        parse_symbol(text)
    assert isinstance(exc.value, ValueError)


def test_not_a_string():
    with pytest.raises(InvalidSymbol):
        parse_symbol(42)  # type: ignore[arg-type]
