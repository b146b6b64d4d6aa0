"""Configuration models (pydantic v2), validated at the edge.

Credentials are ``SecretStr`` and are registered with the log redactor as soon as a config is
built. Money fields refuse floats. :func:`parse_config` turns any validation failure into a
:class:`~octobot_trading.errors.ConfigurationError` naming the field (or
:class:`~octobot_trading.errors.MoneyTypeError`, also a ``TypeError``, for a float given as money).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from octobot_trading.enums import MarketType, TimeFrame
from octobot_trading.errors import ConfigurationError, MoneyTypeError
from octobot_trading.util.decimals import to_decimal
from octobot_trading.util.logging import register_secret
from octobot_trading.util.symbols import parse_symbol

__all__ = [
    "BacktestingConfig",
    "ExchangeConfig",
    "FeesConfig",
    "Money",
    "OrderSafetyConfig",
    "TradingConfig",
    "parse_config",
]

_FLOAT_MONEY = "float_money"


def _money(value: Any) -> Decimal:
    if isinstance(value, float):
        raise PydanticCustomError(
            _FLOAT_MONEY,
            "a float was given for money ({value}); use a string such as '{text}'",
            {"value": value, "text": str(value)},
        )
    try:
        return to_decimal(value)
    except TypeError as exc:
        raise PydanticCustomError("money_type", str(exc)) from None


Money = Annotated[Decimal, BeforeValidator(_money)]
"""A Decimal money field that refuses floats and non-finite values."""

_SECRET_KEYS = {"apikey", "secret", "password", "privatekey", "uid", "walletaddress", "token", "twofa", "login"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class FeesConfig(_Model):
    """Maker / taker fee rates (fractions, ``"0.001"`` = 0.1 %)."""

    maker: Money = Decimal("0.001")
    taker: Money = Decimal("0.001")

    @field_validator("maker", "taker")
    @classmethod
    def _rate_range(cls, value: Decimal) -> Decimal:
        if not (0 <= value < 1):
            raise ValueError("a fee rate must be in [0, 1)")
        return value


class OrderSafetyConfig(_Model):
    """Order-safety rules applied by the trader before an order leaves the process."""

    enabled: bool = True
    max_price_deviation_percent: Money = Decimal("10")
    """A limit order priced more than this % through the mark price is refused."""
    max_spread_percent: Money = Decimal("5")
    """A market order is refused when the book's spread is wider than this %."""
    max_price_age_seconds: int = Field(default=300, gt=0)
    """A market order is refused when the last known price is older than this."""
    max_open_orders_per_symbol: int = Field(default=50, gt=0)
    max_position_value: Money | None = None
    """Largest exposure per symbol in the reference market (None: no limit)."""


class ExchangeConfig(_Model):
    """What an ``ExchangeManager`` connects to and with which credentials."""

    exchange: str = Field(min_length=1)
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    password: SecretStr | None = None
    sandboxed: bool = False
    rest_only: bool = False
    market_type: MarketType = MarketType.SPOT
    symbols: tuple[str, ...] = ()
    time_frames: tuple[TimeFrame, ...] = ()
    ccxt_options: dict[str, Any] = Field(default_factory=dict)
    #: Money leaving the account is never a default: ``withdraw`` raises ``WithdrawalsDisabled``
    #: (nothing sent) unless this is True.
    allow_withdrawals: bool = False

    @field_validator("exchange")
    @classmethod
    def _exchange_id(cls, value: str) -> str:
        value = value.strip().lower()
        if not value.replace("_", "").isalnum():
            raise ValueError("an exchange id is a ccxt id such as 'binance'")
        return value

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for symbol in value:
            parse_symbol(symbol)
        if len(set(value)) != len(value):
            raise ValueError("symbols contain duplicates")
        return value

    @field_validator("ccxt_options")
    @classmethod
    def _no_credentials_in_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        leaked = sorted(key for key in value if key.lower() in _SECRET_KEYS)
        if leaked:
            raise ValueError(f"credentials must be given with with_credentials(), not in ccxt options: {leaked}")
        if value.get("verbose"):
            # ccxt's verbose mode print()s request headers and signed URLs, bypassing log redaction
            raise ValueError("ccxt 'verbose' mode prints credentials to stdout; use logging at DEBUG instead")
        return value

    @model_validator(mode="after")
    def _register_secrets(self) -> ExchangeConfig:
        for secret in (self.api_key, self.api_secret, self.password):
            if secret is not None:
                register_secret(secret.get_secret_value())
        return self

    @property
    def has_credentials(self) -> bool:
        """True when an API key and secret are configured."""
        return self.api_key is not None and self.api_secret is not None


class TradingConfig(_Model):
    """Trader settings: reference market, simulated starting portfolio, fees, order safety."""

    reference_market: str = "USDT"
    starting_portfolio: dict[str, Money] = Field(default_factory=dict)
    fees: FeesConfig = Field(default_factory=FeesConfig)
    order_safety: OrderSafetyConfig = Field(default_factory=OrderSafetyConfig)
    account_poll_seconds: float = Field(default=5.0, gt=0)
    """Live trading: seconds between two REST polls of the account without private streams."""
    streaming_poll_seconds: float = Field(default=60.0, gt=0)
    """Live trading: seconds between two REST polls while the private streams are healthy."""
    stream_watchdog_seconds: float = Field(default=30.0, gt=0)
    """Live trading: silence of the private streams, while orders are open, after which the
    account is reconciled over REST (and the streams reconnected when they missed something)."""
    client_order_id_prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{1,8}$")
    """Live trading: this engine's client order ids start with ``<prefix>-``, and only the
    account's orders whose id does are its own (adopted when found, synced, canceled); other
    orders on the account (another engine's) are left alone. ``None``: ids start with ``ot-``
    and every order found on the account is adopted (one engine per account). 1 to 8 ASCII
    letters or digits."""

    @field_validator("starting_portfolio")
    @classmethod
    def _non_negative(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for currency, amount in value.items():
            if amount < 0:
                raise ValueError(f"starting balance of {currency} is negative")
        return value


class BacktestingConfig(_Model):
    """A backtest: data files, starting portfolio, fees and slippage."""

    data_files: tuple[Path, ...] = ()
    starting_portfolio: dict[str, Money] = Field(default_factory=lambda: {"USDT": Decimal("10000")})
    reference_market: str = "USDT"
    fees: FeesConfig = Field(default_factory=FeesConfig)
    slippage_percent: Money = Decimal(0)

    @field_validator("slippage_percent")
    @classmethod
    def _slippage(cls, value: Decimal) -> Decimal:
        if not (0 <= value < 100):
            raise ValueError("slippage_percent must be in [0, 100)")
        return value


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_config(model: type[ModelT], data: Any) -> ModelT:
    """Validate ``data`` into ``model``; raise ``ConfigurationError`` naming the first bad field.

    A float given for money raises :class:`MoneyTypeError` (both a ``ConfigurationError`` and a
    ``TypeError``). The message never echoes secret values.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise config_error_from(model.__name__, exc) from exc


def config_error_from(model_name: str, exc: ValidationError) -> ConfigurationError:
    """Build the typed error for a pydantic ``ValidationError``."""
    first = exc.errors(include_input=False, include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or model_name
    message = f"invalid {model_name}: {field}: {first['msg']}"
    more = exc.error_count() - 1
    if more:
        message += f" (and {more} more error(s))"
    cls = MoneyTypeError if first["type"] == _FLOAT_MONEY else ConfigurationError
    return cls(message, field=field)
