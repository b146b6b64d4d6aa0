"""Screening of raw venue replies before ccxt parses them: no number may cost more than microseconds.

ccxt computes with the numbers of a reply as soon as it arrives (an order's cost divided by its
filled amount, through its ``Precise`` string arithmetic, which writes out powers of ten): a
single ``"1e999999999"`` in a REST reply or a websocket event would stall the event loop for
minutes before the library's own bounds (:func:`~octobot_trading.util.decimals.to_decimal`) ever
see it. :func:`screen_reply` walks a decoded reply and refuses, with ``ccxt.BadResponse`` (which
the connector maps to :class:`~octobot_trading.errors.BadExchangeResponse`), any numeric text
with an exponent beyond ``±MAX_REPLY_EXPONENT`` or longer than the library's longest number
text, any integer of more than ``MAX_REPLY_EXPONENT`` digits and any infinite or NaN JSON float.

:func:`install_screening` puts it on a ccxt client: every REST reply (``parse_json``) and, on a
``ccxt.pro`` client, every websocket message (``handle_message``: the client's pending watches
are rejected with the error and the message is dropped, so the caller reconnects and reads the
account over REST; a message ccxt itself fails to compute with, such as a ``"NaN"`` amount, is
handled the same way instead of ending in an error logged by the event loop). It is applied to
every client :func:`.client.create_ccxt_client` builds.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import ccxt

from octobot_trading.util.decimals import MAX_MONEY_TEXT_LENGTH

__all__ = ["MAX_REPLY_EXPONENT", "install_screening", "screen_reply"]

#: Largest decimal exponent (either sign) accepted in a number of a venue reply.
MAX_REPLY_EXPONENT = 100

_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?\s*")
_MAX_INT_BITS = math.ceil(MAX_REPLY_EXPONENT * math.log2(10))
#: Non-finite number texts (JSON/JavaScript and Python spellings; upper-case "INF" may be a ticker).
_NON_FINITE = frozenset({"NaN", "nan", "Infinity", "+Infinity", "-Infinity", "inf", "+inf", "-inf"})


def _short(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def _refused_text(text: str) -> bool:
    """True for numeric text with an absurd exponent or length, or a non-finite number (other text
    is left alone)."""
    if text in _NON_FINITE:
        return True
    if len(text) > MAX_MONEY_TEXT_LENGTH:
        return _NUMBER.fullmatch(text) is not None
    if "e" not in text and "E" not in text:
        return False
    match = _NUMBER.fullmatch(text)
    if match is None or match.group(1) is None:
        return False
    return abs(int(match.group(1))) > MAX_REPLY_EXPONENT


def _refused(value: Any) -> bool:
    if isinstance(value, str):
        return _refused_text(value)
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() > _MAX_INT_BITS
    return False


def screen_reply(reply: Any, *, exchange: str, what: str = "reply") -> None:
    """Raise ``ccxt.BadResponse`` naming the field when ``reply`` (decoded JSON: dicts, lists,
    strings, numbers) holds a number too large or too long to compute with; see the module
    docstring."""
    stack: list[tuple[Any, str]] = [(reply, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if _refused(key):
                    raise ccxt.BadResponse(f"{exchange} {what}: key {_short(str(key))} is not a sane number")
                stack.append((item, f"{path}.{key}" if path else str(key)))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
        elif _refused(value):
            shown = (
                _short(value)
                if isinstance(value, str)
                else ("a non-finite float" if isinstance(value, float) else "a huge integer")
            )
            raise ccxt.BadResponse(
                f"{exchange} {what}: {path or 'value'} = {shown} is out of bounds "
                f"(exponent beyond ±{MAX_REPLY_EXPONENT} or more than {MAX_MONEY_TEXT_LENGTH} characters)"
            )


def _refuse_undecodable(text: str, exchange: str) -> None:
    """Raise ``ccxt.BadResponse`` for a JSON reply ccxt's decoder refused (bare ``NaN``,
    ``Infinity`` or a number beyond a double, such as ``1e999999999``), naming the field."""
    try:
        lenient = json.loads(text, parse_float=str, parse_int=str, parse_constant=str)
    except ValueError:
        raise ccxt.BadResponse(f"{exchange} REST reply is not valid JSON") from None
    screen_reply(lenient, exchange=exchange, what="REST reply")
    raise ccxt.BadResponse(f"{exchange} REST reply holds a number ccxt cannot decode")


def install_screening(client: Any) -> None:
    """Screen every REST reply and (``ccxt.pro``) websocket message of ``client`` (idempotent)."""
    if getattr(client, "_octobot_screened", False):
        return
    exchange = str(getattr(client, "id", "venue"))
    parse_json = client.parse_json

    def screened_parse_json(http_response: Any) -> Any:
        decoded = parse_json(http_response)
        if decoded is None and isinstance(http_response, str) and http_response.lstrip()[:1] in ("{", "["):
            _refuse_undecodable(http_response, exchange)  # ccxt would read it as an empty reply
        screen_reply(decoded, exchange=exchange, what="REST reply")
        return decoded

    client.parse_json = screened_parse_json
    handle_message = getattr(client, "handle_message", None)
    if handle_message is not None and hasattr(client, "clients"):  # a ccxt.pro client

        def screened_handle_message(ws_client: Any, message: Any) -> Any:
            try:
                screen_reply(message, exchange=exchange, what="websocket message")
            except ccxt.BadResponse as exc:
                ws_client.reject(exc)  # every pending watch of this connection fails with it
                return None
            try:
                return handle_message(ws_client, message)
            except (ValueError, ArithmeticError) as exc:  # ccxt's arithmetic on a number like "NaN"
                ws_client.reject(
                    ccxt.BadResponse(f"{exchange} websocket message could not be parsed: {type(exc).__name__}: {exc}")
                )
                return None

        client.handle_message = screened_handle_message
    client._octobot_screened = True
