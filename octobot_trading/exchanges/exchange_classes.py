"""Registry of :class:`~octobot_trading.exchanges.rest_exchange.RestExchange` subclasses by ccxt id.

Built-in classes (``exchanges/venues/``) are registered on first lookup, then plugins found in
the ``octobot_trading.exchanges`` entry-point group (each entry point loads a ``RestExchange``
subclass with its ``exchange_id`` set), then whatever code registers explicitly with
:func:`register_exchange_class` (explicit registrations win). A venue without a class gets
the generic ``RestExchange``.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from octobot_trading.errors import ConfigurationError
from octobot_trading.exchanges.rest_exchange import RestExchange
from octobot_trading.util.logging import get_logger

__all__ = [
    "ENTRY_POINT_GROUP",
    "get_exchange_class",
    "register_exchange_class",
    "registered_exchange_classes",
    "unregister_exchange_class",
]

ENTRY_POINT_GROUP = "octobot_trading.exchanges"
_LOG = get_logger(__name__)
_CLASSES: dict[str, type[RestExchange]] = {}
_EXPLICIT: set[str] = set()
_discovered = False


def register_exchange_class(cls: type[RestExchange]) -> type[RestExchange]:
    """Register ``cls`` for its ``exchange_id`` (usable as a class decorator)."""
    _check(cls, f"{cls!r}")
    assert cls.exchange_id is not None
    _CLASSES[cls.exchange_id] = cls
    _EXPLICIT.add(cls.exchange_id)
    return cls


def unregister_exchange_class(exchange_id: str) -> None:
    """Remove the class registered with :func:`register_exchange_class` for ``exchange_id``.

    No error when none is. The built-in or plugin class for that id, if any, applies again.
    """
    key = exchange_id.strip().lower()
    explicit = [k for k in _EXPLICIT if k.lower() == key]
    for name in explicit:
        _EXPLICIT.discard(name)
        _CLASSES.pop(name, None)
    if explicit and _discovered:
        _discover(again=True)


def _check(cls: object, origin: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, RestExchange)):
        raise ConfigurationError(f"{origin} is not a RestExchange subclass", field="exchange")
    if not cls.exchange_id:
        raise ConfigurationError(f"{origin} has no exchange_id", field="exchange")


def _discover(*, again: bool = False) -> None:
    global _discovered
    if _discovered and not again:
        return
    _discovered = True
    from octobot_trading.exchanges.venues import BUILTIN_EXCHANGE_CLASSES

    for cls in BUILTIN_EXCHANGE_CLASSES:
        if cls.exchange_id and cls.exchange_id not in _EXPLICIT:
            _CLASSES[cls.exchange_id] = cls
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = entry.load()
            _check(cls, f"entry point {entry.name!r}")
        except Exception as exc:  # a broken plugin must not break every other exchange
            _LOG.error("exchange plugin %r could not be loaded: %s", entry.name, exc)
            continue
        if cls.exchange_id not in _EXPLICIT:
            _CLASSES[cls.exchange_id] = cls


def get_exchange_class(exchange_id: str) -> type[RestExchange]:
    """The class registered for ``exchange_id``, or the generic ``RestExchange``."""
    _discover()
    return _CLASSES.get(exchange_id.strip().lower(), RestExchange)


def registered_exchange_classes() -> dict[str, type[RestExchange]]:
    """Every registered class by exchange id."""
    _discover()
    return dict(_CLASSES)
