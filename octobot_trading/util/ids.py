"""Random identifiers: the order's internal UUID and the client order id sent to venues.

One generator for every client order id the library makes (the trader's orders and the
exchange class's direct ``create_order``): ``ot-`` (or an engine's own prefix, see
``TradingConfig.client_order_id_prefix``) followed by hex digits of a random UUID4, cut to the
venue's longest accepted length.
"""

from __future__ import annotations

import os

from octobot_trading.constants import CLIENT_ORDER_ID_PREFIX

__all__ = ["new_client_order_id", "random_hex", "uuid_text"]

#: hex digits of the random part in a client order id (``ot-`` + 28 = 31 characters)
_CLIENT_ID_HEX = 28


def random_hex() -> str:
    """Return a random version-4 UUID as 32 hex digits (what ``uuid.uuid4().hex`` gives, faster)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def uuid_text(hex32: str) -> str:
    """Format 32 hex digits as a canonical UUID string (8-4-4-4-12)."""
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def new_client_order_id(
    max_length: int = 36, *, random: str | None = None, prefix: str = CLIENT_ORDER_ID_PREFIX
) -> str:
    """Return a client order id: ``ot-`` (``<prefix>-``) + hex of a UUID4, at most ``max_length``
    characters.

    ``random`` (32 hex digits from :func:`random_hex`) reuses randomness already drawn, e.g. the
    order's internal id, so creating an order reads the system's random source once.
    """
    digits = (random or random_hex())[:_CLIENT_ID_HEX]
    return f"{prefix}-{digits}"[:max_length]
