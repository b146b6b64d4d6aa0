"""Logging with secret redaction.

Every configured secret (API keys, secrets, passwords) is registered with :data:`redactor`;
its filter rewrites log records so that the secret, and any prefix of it of four or more
characters, is replaced by ``***`` in the message, its %-arguments, exception text and stack
text. Values of authenticating request parameters (``signature=``, ``apiKey=``,
``X-MBX-APIKEY:``, ``passphrase=`` ...) are masked too, registered or not. Library loggers
(:func:`get_logger`) carry the filter themselves; :func:`install_redaction` also puts it on the
root logger's handlers so third-party records (ccxt, aiohttp) are covered.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback

__all__ = ["MASK", "SecretRedactor", "get_logger", "install_redaction", "redact", "redactor", "register_secret"]

MASK = "***"
_MIN_PREFIX = 4
#: Request parameters that authenticate a request (signatures are replayable within the venue's
#: receive window): their values are masked in every text, registered secret or not.
_SIGNED_PARAMS = re.compile(
    r"(?i)(\b(?:signature|sign|apikey|api_key|api-key|x-mbx-apikey|passphrase|password|secret)[\"']?\s*[=:]\s*[\"']?)"
    r"([^&\s\"',}]+)"
)


class SecretRedactor(logging.Filter):
    """A logging filter (and text scrubber) that masks registered secrets."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register(self, secret: str | None) -> None:
        """Add a secret to mask. Secrets shorter than four characters are masked whole only."""
        if not secret:
            return
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets.add(secret)
            self._pattern = self._build()

    def clear(self) -> None:
        """Forget all secrets (tests only)."""
        with self._lock:
            self._secrets.clear()
            self._pattern = None

    def _build(self) -> re.Pattern[str] | None:
        alternatives = []
        for secret in sorted(self._secrets, key=len, reverse=True):
            if len(secret) <= _MIN_PREFIX:
                alternatives.append(re.escape(secret))
                continue
            # secret[:4] followed by as many further characters of the secret as match.
            tail = ""
            for char in reversed(secret[_MIN_PREFIX:]):
                tail = f"(?:{re.escape(char)}{tail})?"
            alternatives.append(re.escape(secret[:_MIN_PREFIX]) + tail)
        return re.compile("|".join(alternatives)) if alternatives else None

    def redact(self, text: str) -> str:
        """Return ``text`` with every registered secret (or 4+ character prefix) masked."""
        if not text:
            return text
        text = _SIGNED_PARAMS.sub(lambda m: m.group(1) + MASK, text)
        pattern = self._pattern
        if pattern is None:
            return text
        return pattern.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place with secrets masked; never drops the record."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw parts, redacted
            message = f"{record.msg} {record.args}"
        record.msg = self.redact(message)
        record.args = ()
        if record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = self.redact(text)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


redactor = SecretRedactor()


def register_secret(secret: str | None) -> None:
    """Register a secret with the process-wide redactor."""
    redactor.register(secret)


def redact(text: str) -> str:
    """Mask registered secrets in ``text``."""
    return redactor.redact(text)


def get_logger(name: str) -> logging.Logger:
    """Return a logger under ``octobot_trading`` that carries the redaction filter."""
    full = name if name.startswith("octobot_trading") else f"octobot_trading.{name}"
    logger = logging.getLogger(full)
    if redactor not in logger.filters:
        logger.addFilter(redactor)
    return logger


def install_redaction(*handlers: logging.Handler) -> None:
    """Attach the redaction filter to ``handlers`` (default: every root-logger handler)."""
    targets = handlers or tuple(logging.getLogger().handlers)
    for handler in targets:
        if redactor not in handler.filters:
            handler.addFilter(redactor)
