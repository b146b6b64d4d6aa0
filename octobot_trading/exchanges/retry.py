"""Bounded retries with exponential backoff and jitter, for idempotent exchange reads.

Only errors whose ``retryable`` flag is set (``NetworkError`` and its subclasses, among them
``RateLimitExceeded``) are retried; every other error propagates at once. A rate-limit error
carrying the venue's ``Retry-After`` waits at least that long, and one asking for longer than
``max_delay`` is raised at once. Sleeps go through the
injected :class:`~octobot_trading.clock.Clock`, so tests drive them with a ``SimulatedClock``.
Order placement never goes through this helper.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from octobot_trading.clock import Clock
from octobot_trading.errors import OctoBotTradingError, RateLimitExceeded
from octobot_trading.util.logging import get_logger

__all__ = ["RetryPolicy", "retry_read"]

T = TypeVar("T")
_LOG = get_logger(__name__)


@dataclass
class RetryPolicy:
    """How reads are retried.

    ``attempts`` counts the first call. The n-th retry waits
    ``min(max_delay, base_delay * 2 ** (n - 1))`` scaled by a random factor in
    ``[1 - jitter, 1]`` (rate-limit errors start from ``rate_limit_delay`` instead).
    """

    attempts: int = 4
    base_delay: float = 0.25
    rate_limit_delay: float = 1.0
    max_delay: float = 10.0
    jitter: float = 0.5
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, retry: int, error: BaseException) -> float:
        """Seconds to wait before retry number ``retry`` (1-based) after ``error``."""
        base = self.rate_limit_delay if isinstance(error, RateLimitExceeded) else self.base_delay
        raw = min(self.max_delay, base * (2 ** (retry - 1)))
        return raw * (1 - self.jitter * self.rng.random())


async def retry_read(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    clock: Clock,
    what: str,
    on_retry: Callable[[int, float, BaseException], None] | None = None,
) -> T:
    """Await ``call()``; on a retryable library error wait and try again, at most ``policy.attempts`` times."""
    retry = 0
    while True:
        try:
            return await call()
        except OctoBotTradingError as exc:
            retry += 1
            if not exc.retryable or retry >= policy.attempts:
                raise
            delay = policy.delay(retry, exc)
            asked = getattr(exc, "retry_after", None)
            if asked is not None:
                if asked > policy.max_delay:
                    raise  # a long ban: report it now rather than hold the caller for minutes
                delay = max(delay, asked)
            _LOG.info(
                "%s failed (%s), retry %d/%d in %.2fs", what, type(exc).__name__, retry, policy.attempts - 1, delay
            )
            if on_retry is not None:
                on_retry(retry, delay, exc)
            await clock.sleep(delay)
