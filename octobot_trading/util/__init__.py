"""Utilities: exact money helpers, market precision, symbols, fees, logging with redaction."""

from octobot_trading.util.decimals import (
    ceil_to_step,
    decimal_from_data_float,
    decimal_to_str,
    floor_to_step,
    nearest_to_step,
    to_decimal,
)
from octobot_trading.util.fees import Fees
from octobot_trading.util.logging import get_logger, install_redaction, redact, register_secret
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.util.symbols import Symbol, format_symbol, parse_symbol

__all__ = [
    "Fees",
    "MarketSpec",
    "Symbol",
    "ceil_to_step",
    "decimal_from_data_float",
    "decimal_to_str",
    "floor_to_step",
    "format_symbol",
    "get_logger",
    "install_redaction",
    "nearest_to_step",
    "parse_symbol",
    "redact",
    "register_secret",
    "to_decimal",
]
