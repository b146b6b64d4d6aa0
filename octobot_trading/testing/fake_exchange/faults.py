"""Fault injection for the fake exchange server.

A test arms faults on ``server.faults``; each request is checked against the armed faults in
order and the first that matches (method and path prefix, when given) is consumed:

* ``FaultKind.LATENCY`` — wait ``delay`` seconds, then answer normally;
* ``FaultKind.STATUS`` — answer with HTTP ``status`` (429, 418, 500, 502, 503, ...) and a
  Binance-style error body, without processing the request;
* ``FaultKind.STATUS_AFTER`` — process the request (an order IS placed), then answer with HTTP
  ``status`` and an error body anyway (Binance: a 5xx means "execution status unknown");
* ``FaultKind.TIMEOUT_AFTER`` — process the request (an order IS placed), then wait ``delay``
  seconds before answering, so a client with a shorter timeout never sees the reply;
* ``FaultKind.DROP_AFTER`` — process the request, then start the reply and cut the connection
  mid-body (the HTTP client cannot silently re-send it);
* ``FaultKind.DROP_BEFORE`` — close the connection without processing the request;
* ``FaultKind.REWRITE`` — process the request, then answer with the reply's body text passed
  through ``rewrite`` (a venue sending a malformed number, e.g. ``NaN`` or ``1e999999999``).

``times`` is how many requests a fault applies to (``None``: until :meth:`FaultInjector.clear`).
Every request is also recorded in ``FaultInjector.requests`` as ``(method, path)`` so a test
can count, e.g., how many ``POST /api/v3/order`` reached the exchange.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Fault", "FaultInjector", "FaultKind"]


class FaultKind(StrEnum):
    """What an armed fault does to a matching request (see the module docstring)."""

    LATENCY = "latency"
    STATUS = "status"
    STATUS_AFTER = "status_after"
    TIMEOUT_AFTER = "timeout_after"
    DROP_AFTER = "drop_after"
    DROP_BEFORE = "drop_before"
    REWRITE = "rewrite"


_STATUS_BODIES = {
    418: (-1003, "Way too many requests; IP banned until later."),
    429: (-1003, "Too many requests; current limit is 1200 request weight per 1 MINUTE."),
}


@dataclass
class Fault:
    """One armed fault; see the module docstring for ``kind``."""

    kind: FaultKind
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    status: int = 503
    delay: float = 0.0
    #: Seconds sent in a ``Retry-After`` header with a STATUS answer (None: no header).
    retry_after: int | None = None
    #: REWRITE: the reply's new body text from its text.
    rewrite: Callable[[str], str] | None = None

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to a request."""
        if self.times is not None and self.times <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or path.startswith(self.path)

    def body(self) -> dict[str, object]:
        """The Binance-style error body of a STATUS fault."""
        code, msg = _STATUS_BODIES.get(self.status, (-1001, "Internal error; unable to process your request."))
        return {"code": code, "msg": msg}


class FaultInjector:
    """The armed faults of one server and the log of requests it received."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []

    def add(self, fault: Fault) -> Fault:
        """Arm ``fault`` and return it."""
        self.faults.append(fault)
        return fault

    def latency(
        self, delay: float, *, method: str | None = None, path: str | None = None, times: int | None = None
    ) -> Fault:
        """Add ``delay`` seconds to matching requests."""
        return self.add(Fault(FaultKind.LATENCY, method, path, times, delay=delay))

    def status(
        self,
        status: int,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
        retry_after: int | None = None,
    ) -> Fault:
        """Answer matching requests with HTTP ``status`` without processing them.

        ``retry_after`` adds a ``Retry-After`` header (seconds), as Binance sends with 429 / 418.
        """
        return self.add(Fault(FaultKind.STATUS, method, path, times, status=status, retry_after=retry_after))

    def status_after(
        self,
        status: int = 500,
        *,
        method: str | None = "POST",
        path: str | None = "/api/v3/order",
        times: int | None = 1,
    ) -> Fault:
        """Process matching requests, then answer HTTP ``status`` (the client sees an error)."""
        return self.add(Fault(FaultKind.STATUS_AFTER, method, path, times, status=status))

    def timeout_after(
        self, delay: float, *, method: str | None = "POST", path: str | None = "/api/v3/order", times: int | None = 1
    ) -> Fault:
        """Process matching requests, then hold the reply ``delay`` seconds."""
        return self.add(Fault(FaultKind.TIMEOUT_AFTER, method, path, times, delay=delay))

    def drop_after(
        self, *, method: str | None = "POST", path: str | None = "/api/v3/order", times: int | None = 1
    ) -> Fault:
        """Process matching requests, then close the connection without a reply."""
        return self.add(Fault(FaultKind.DROP_AFTER, method, path, times))

    def drop_before(self, *, method: str | None = None, path: str | None = None, times: int | None = 1) -> Fault:
        """Close the connection of matching requests without processing them."""
        return self.add(Fault(FaultKind.DROP_BEFORE, method, path, times))

    def rewrite(
        self,
        rewrite: Callable[[str], str],
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
    ) -> Fault:
        """Process matching requests, then answer with their reply's body text passed through ``rewrite``."""
        return self.add(Fault(FaultKind.REWRITE, method, path, times, rewrite=rewrite))

    def take(self, method: str, path: str) -> Fault | None:
        """Record the request; consume and return the first armed fault matching it."""
        self.requests.append((method.upper(), path))
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    def count(self, method: str, path: str) -> int:
        """How many requests with this method and path were received."""
        return sum(1 for m, p in self.requests if m == method.upper() and p == path)

    def clear(self) -> None:
        """Disarm every fault (the request log is kept)."""
        self.faults.clear()
