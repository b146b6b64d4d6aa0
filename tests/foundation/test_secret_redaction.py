"""Secret canary: a configured secret never reaches logs, reprs or error text."""

import logging

import pytest

from octobot_trading.config import ExchangeConfig, parse_config
from octobot_trading.errors import ConfigurationError
from octobot_trading.util.logging import MASK, get_logger, install_redaction, redactor
from octobot_trading.util.logging import redact as redact_text

CANARY_KEY = "CanaryKey0123456789abcdef"
CANARY_SECRET = "CanarySecret-9f8e7d6c5b4a"


@pytest.fixture
def config():
    redactor.clear()
    cfg = parse_config(
        ExchangeConfig,
        {"exchange": "binance", "api_key": CANARY_KEY, "api_secret": CANARY_SECRET, "password": "pw-canary-123"},
    )
    yield cfg
    redactor.clear()


def _assert_clean(text: str) -> None:
    for secret in (CANARY_KEY, CANARY_SECRET, "pw-canary-123"):
        assert secret not in text
        assert secret[:4] not in text, f"4-char prefix of a secret leaked: {text!r}"


def test_every_logging_path_is_redacted(config, caplog):
    logger = get_logger("tests.canary")
    install_redaction(caplog.handler)
    with caplog.at_level(logging.DEBUG):
        logger.info(f"message with {CANARY_KEY} inline")
        logger.info("args %s and %r", CANARY_SECRET, CANARY_KEY)
        logger.info("prefix only %s", CANARY_SECRET[:9])
        logger.info("config %r / %s", config, config)
        try:
            raise RuntimeError(f"failure carrying {CANARY_SECRET}")
        except RuntimeError:
            logger.exception("caught %s", "it")
        logger.warning("stack", stack_info=True)
        # a third-party logger reaching the handler
        logging.getLogger("ccxt.fake").warning("headers X-MBX-APIKEY: %s", CANARY_KEY)
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    _assert_clean(text)
    assert MASK in text
    assert "failure carrying" in text  # the exception text is kept, only the secret is masked


def test_reprs_and_dumps(config):
    for text in (repr(config), str(config), config.model_dump_json(), str(config.model_dump())):
        _assert_clean(text)
    assert config.api_key is not None and config.api_key.get_secret_value() == CANARY_KEY


def test_configuration_error_does_not_echo_secret():
    redactor.clear()
    with pytest.raises(ConfigurationError) as exc:
        parse_config(ExchangeConfig, {"exchange": "binance", "api_key": CANARY_KEY, "api_secret": 12})
    _assert_clean(str(exc.value))
    redactor.clear()


def test_redact_short_secret_whole_only():
    redactor.clear()
    redactor.register("abc")
    assert redactor.redact("xabcx ab") == f"x{MASK}x ab"
    redactor.clear()


def test_signed_request_parameters_are_masked_without_registration():
    redactor.clear()
    text = redact_text(
        "POST https://api/x?symbol=BTCUSDT&timestamp=1&signature=0a1b2c3d4e5f6a7b8c9d "
        "{'X-MBX-APIKEY': 'PublicKeyValue'} apiKey=abc"
    )
    assert "0a1b2c3d4e5f6a7b8c9d" not in text and "PublicKeyValue" not in text and "apiKey=abc" not in text
    assert "symbol=BTCUSDT" in text and "timestamp=1" in text


async def test_exchange_errors_carry_no_request_signature():
    import re

    from octobot_trading.errors import AuthenticationError, ExchangeError
    from octobot_trading.exchanges.retry import RetryPolicy
    from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets
    from tests.exchanges.conftest import FIXTURES, make_connector

    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as server:
        connector = make_connector(server, api_secret="wrong-secret-value-123")
        healthy = make_connector(server, retry=RetryPolicy(attempts=1, base_delay=0.01, rate_limit_delay=0.01))
        try:
            with pytest.raises(AuthenticationError) as exc:
                await connector.fetch_balance()
            # a server error on a signed endpoint: ccxt's message carries the signed URL
            server.faults.status(503, path="/api/v3/account", times=None)
            with pytest.raises(ExchangeError) as server_error:
                await healthy.fetch_balance()
        finally:
            await connector.close()
            await healthy.close()
    for text in (str(exc.value), str(server_error.value)):
        assert not re.search(r"signature=[0-9a-f]{8}", text), text
        assert "wrong-secret" not in text
