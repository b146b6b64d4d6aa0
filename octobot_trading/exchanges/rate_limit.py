"""One shared back-off per venue: a 429 slows every caller, a 418 ban pauses them all until it lifts.

When a venue answers 429 (too many requests) or 418 (IP banned), it says how long to wait in a
``Retry-After`` header. Every connector talking to that venue (same exchange id and API url, in
this process) shares one :class:`VenueRateGate`:

* after a **429**, each request waits until the ``Retry-After`` delay has passed (no request is
  sent during it: no tight retry loop, whatever the number of callers);
* after a **418**, each request fails at once, without being sent, with a ``RateLimitExceeded``
  whose ``retry_after`` says how long the ban still lasts, until the ban lifts; the ban start is
  logged once as a warning.

Times go through the caller's :class:`~octobot_trading.clock.Clock`, so tests drive the waits
with a simulated clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from octobot_trading.clock import Clock
from octobot_trading.errors import RateLimitExceeded
from octobot_trading.util.logging import get_logger

__all__ = ["VenueRateGate", "parse_retry_after", "venue_rate_gate"]

_LOG = get_logger(__name__)

#: Wait after a 429 without ``Retry-After`` (seconds).
DEFAULT_429_SECONDS = 1.0
#: Ban assumed after a 418 without ``Retry-After`` (seconds).
DEFAULT_418_SECONDS = 60.0
#: Longest wait honoured from a header (a garbage header must not stop a bot for days).
MAX_RETRY_AFTER_SECONDS = 3 * 24 * 3600.0


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a ``Retry-After`` header (case-insensitive name), or None when absent or unreadable."""
    if not headers:
        return None
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            try:
                seconds = float(str(value).strip())
            except ValueError:
                return None  # an HTTP date is not sent by crypto venues; treat it as absent
            if seconds != seconds or seconds < 0:  # NaN or negative
                return None
            return min(seconds, MAX_RETRY_AFTER_SECONDS)
    return None


@dataclass
class VenueRateGate:
    """The back-off state of one venue; see the module docstring."""

    venue: str
    cool_until_ms: int = 0
    banned_until_ms: int = 0

    def note(self, status: int, retry_after: float | None, now_ms: int) -> None:
        """Record a 429 or 418 answer received at ``now_ms``."""
        if status == 418:
            seconds = retry_after if retry_after is not None else DEFAULT_418_SECONDS
            until = now_ms + int(seconds * 1000)
            if until > self.banned_until_ms:
                if self.banned_until_ms <= now_ms:
                    _LOG.warning(
                        "%s banned this IP (HTTP 418) for %.0f s: every request is paused until then",
                        self.venue,
                        seconds,
                    )
                self.banned_until_ms = until
        elif status == 429:
            seconds = retry_after if retry_after is not None else DEFAULT_429_SECONDS
            self.cool_until_ms = max(self.cool_until_ms, now_ms + int(seconds * 1000))

    def banned_for(self, now_ms: int) -> float:
        """Seconds the ban still lasts at ``now_ms`` (0 when not banned)."""
        return max(0, self.banned_until_ms - now_ms) / 1000

    async def before_request(self, clock: Clock, *, exchange: str | None = None) -> None:
        """Wait out a 429 back-off; raise ``RateLimitExceeded`` (not sent) during a 418 ban."""
        while True:
            now = clock.now_ms()
            banned = self.banned_for(now)
            if banned > 0:
                error = RateLimitExceeded(
                    f"{self.venue} has banned this IP (HTTP 418) for {banned:.1f} more seconds; "
                    "no request is sent until the ban lifts",
                    exchange=exchange,
                )
                error.not_processed = True
                error.retry_after = banned
                raise error
            if self.cool_until_ms <= now:
                return
            await clock.sleep((self.cool_until_ms - now) / 1000)


class _Gates:
    def __init__(self) -> None:
        self._gates: dict[tuple[str, str], VenueRateGate] = {}

    def get(self, exchange: str, api_url: str) -> VenueRateGate:
        key = (exchange, api_url)
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = VenueRateGate(venue=exchange)
        return gate


#: The process's gates, one per (exchange id, API url): connectors on one venue share theirs.
venue_rate_gate = _Gates()
