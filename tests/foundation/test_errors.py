"""The error tree."""

import pickle

import pytest

from octobot_trading import errors


def test_every_error_derives_from_root():
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.OctoBotTradingError), name


def test_api_names_exist_and_retryability():
    assert errors.NetworkError.retryable and errors.RateLimitExceeded.retryable
    assert issubclass(errors.RateLimitExceeded, errors.NetworkError)
    for name in (
        "AuthenticationError",
        "InsufficientFunds",
        "InvalidOrder",
        "OrderNotFound",
        "NotSupported",
        "ConfigurationError",
    ):
        assert not getattr(errors, name).retryable


def test_context_in_str_and_attributes():
    err = errors.InvalidOrder(
        "amount too small", limit="min_amount", exchange="binance", symbol="BTC/USDT", order_id="42"
    )
    assert err.limit == "min_amount" and err.exchange == "binance"
    assert str(err) == "amount too small [exchange=binance, symbol=BTC/USDT, order_id=42]"


def test_errors_pickle_round_trip():
    err = errors.OrderSafetyError("too far from mark", rule="price_protection", symbol="BTC/USDT")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is errors.OrderSafetyError and back.rule == "price_protection" and str(back) == str(err)


def test_mixins():
    assert issubclass(errors.MoneyTypeError, TypeError)
    assert issubclass(errors.ReadinessTimeout, TimeoutError)
    assert errors.ReadinessTimeout("x", missing=["balance"]).missing == ("balance",)
    err = errors.DataFileError("not sorted", path="a.json", row=3)
    assert "a.json, row 3: not sorted" in str(err)


def test_chaining_is_possible():
    with pytest.raises(errors.NetworkError) as exc:
        try:
            raise OSError("boom")
        except OSError as low:
            raise errors.NetworkError("down", exchange="binance") from low
    assert isinstance(exc.value.__cause__, OSError)
