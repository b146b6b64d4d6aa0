"""Secret canary: a configured secret never reaches logs, reprs or error text."""

import logging

import pytest

from octobot_trading.config import ExchangeConfig, parse_config
from octobot_trading.errors import ConfigurationError
from octobot_trading.util.logging import MASK, get_logger, install_redaction, redactor

CANARY_KEY = "CanaryKey0123456789abcdef"
CANARY_SECRET = "CanarySecret-9f8e7d6c5b4a"


@pytest.fixture
def config():
    redactor.clear()
    cfg = parse_config(ExchangeConfig, {"exchange": "binance", "api_key": CANARY_KEY, "api_secret": CANARY_SECRET,
                                        "password": "pw-canary-123"})
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
