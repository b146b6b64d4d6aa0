"""Driving an engine on a simulated clock while it talks to a fake venue over real loopback I/O.

A read that times out on a loaded machine is retried after a backoff slept on the engine's clock;
on a :class:`SimulatedClock` nothing moves that clock during a ``build()`` or a wait, so a plain
``await builder.build()`` would hang there. These helpers move the clock only to such a wait's
wake time (or, for :func:`drive_task`, to every pending wake), and fail naming where things
wait after a bound in real seconds instead of hanging.

* :func:`build_live`: ``builder.build()`` on a simulated clock (every engine built against a
  fake server on a simulated clock goes through it);
* :func:`until_backoffs_pass`: wait for a condition, running only the retry backoffs through;
* :func:`drive_task`: await something, moving the clock to each pending wake time.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.exchanges.manager import ExchangeManager
from octobot_trading.exchanges.retry import retry_read

__all__ = [
    "build_live",
    "build_simulated",
    "drive_task",
    "pending_wakes",
    "sleeps_on",
    "through_backoffs",
    "until_backoffs_pass",
    "until_ready",
]

T = TypeVar("T")


def _retry_backoff_wake_ms(clock: SimulatedClock) -> int | None:
    """The earliest wake time of a task sleeping a read's retry backoff on ``clock`` (its innermost
    awaits are :func:`retry_read` then :meth:`SimulatedClock.sleep`), or None."""
    wakes = []
    for task in asyncio.all_tasks():
        chain = _await_chain(task)
        if len(chain) < 2 or chain[-2].f_code is not retry_read.__code__:
            continue
        wake = _clock_wait_ms(task, clock)
        if wake is not None:
            wakes.append(wake)
    return min(wakes, default=None)


async def until_backoffs_pass(
    condition: Callable[[], Any], clock: SimulatedClock, *, what: str, limit_s: float = 30.0
) -> None:
    """Wait (on real loopback I/O) until ``condition()`` holds, moving ``clock`` to a read's retry
    backoff wake time whenever a task sleeps one (a read timed out on a loaded machine): nothing else
    moves the clock meanwhile, and no other sleeper's wake is run through. Fails naming ``what`` after
    ``limit_s`` real seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not met after {limit_s} s: {what}")
        wake = _retry_backoff_wake_ms(clock)
        if wake is not None and wake > clock.now_ms():
            clock.set_time(wake)
        await asyncio.sleep(0.005)


async def drive_task(clock: SimulatedClock, awaitable: Awaitable[T], *, limit_s: float = 30.0) -> T:
    """Await ``awaitable`` (real loopback I/O) while moving ``clock`` to each pending wake time;
    fail, showing where it waits, when it has not finished after ``limit_s`` real seconds."""
    task = asyncio.ensure_future(awaitable)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not task.done():
        await asyncio.wait({task}, timeout=0.005)
        if loop.time() > deadline:
            stack = io.StringIO()
            task.print_stack(file=stack)
            task.cancel()
            raise AssertionError(f"not finished after {limit_s} s:\n{stack.getvalue()}")
        wake = clock.next_wake_ms
        if wake is not None and not task.done():
            clock.set_time(wake)
    return task.result()


def _await_chain(task: asyncio.Task[Any]) -> list[Any]:
    """The frames of the coroutines ``task`` is suspended in, outermost first (``Task.get_stack``
    shows only the outermost one of a suspended task)."""
    frames: list[Any] = []
    coro: Any = task.get_coro()
    while coro is not None and getattr(coro, "cr_frame", None) is not None:
        frames.append(coro.cr_frame)
        coro = getattr(coro, "cr_await", None)
    return frames


def _clock_wait_ms(task: asyncio.Task[Any], clock: SimulatedClock) -> int | None:
    """The wake time ``task`` itself waits for on ``clock`` (its innermost await is
    :meth:`SimulatedClock.sleep`, e.g. a read's retry backoff), or None when it waits on anything else."""
    frames = _await_chain(task)
    if not frames:
        return None
    inner = frames[-1]
    if inner.f_code is not SimulatedClock.sleep.__code__ or inner.f_locals.get("self") is not clock:
        return None
    wake = inner.f_locals.get("wake")
    return wake if isinstance(wake, int) else None


async def through_backoffs(
    clock: SimulatedClock, awaitable: Awaitable[T], *, what: str = "the call", limit_s: float = 60.0
) -> T:
    """Await ``awaitable`` (real loopback I/O) on the simulated ``clock``, moving the clock only
    when the awaited call itself waits on it (a read retried after a timeout sleeps its backoff on
    the engine clock, which nothing else moves meanwhile), and only to that wait's wake time: the
    background tasks' periodic sleeps are not run through. Fails, showing where ``what`` waits,
    when it has not finished after ``limit_s`` real seconds."""
    task = asyncio.ensure_future(awaitable)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not task.done():
        await asyncio.wait({task}, timeout=0.005)
        if task.done():
            break
        if loop.time() > deadline:
            where = "\n".join(
                f"  {f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}" for f in _await_chain(task)
            )
            task.cancel()
            raise AssertionError(f"{what} not finished after {limit_s} s, waiting in:\n{where}")
        wake = _clock_wait_ms(task, clock)
        if wake is not None and wake > clock.now_ms():
            clock.set_time(wake)
    return task.result()


async def build_live(clock: SimulatedClock, builder: ot.ExchangeBuilder, *, limit_s: float = 60.0) -> ExchangeManager:
    """``builder.build()`` on the simulated ``clock`` through :func:`through_backoffs` (a startup
    read retried after a timeout sleeps its backoff on the engine clock, which nothing else moves
    during a build)."""
    return await through_backoffs(clock, builder.build(), what="the manager's build", limit_s=limit_s)


async def build_simulated(builder: ot.ExchangeBuilder, *, limit_s: float = 60.0) -> ExchangeManager:
    """:func:`build_live` on the :class:`SimulatedClock` the builder was given (``with_clock``)."""
    clock = builder._clock
    if not isinstance(clock, SimulatedClock):
        raise TypeError(f"build_simulated needs a builder on a SimulatedClock, not {clock!r}")
    return await build_live(clock, builder, limit_s=limit_s)


async def until_ready(manager: ExchangeManager, *, limit_s: float = 30.0) -> None:
    """Wait until the manager (started, on a simulated clock) reports every market-data topic
    ready, running only the retry backoffs of its reads through (see :func:`until_backoffs_pass`)."""
    clock = manager.clock
    assert isinstance(clock, SimulatedClock), clock
    readiness = manager.readiness
    await until_backoffs_pass(
        lambda: readiness is None or readiness.is_ready, clock, what="the manager ready", limit_s=limit_s
    )
    await manager.wait_ready(timeout=0)


def pending_wakes(clock: SimulatedClock) -> list[int]:
    """The wake times of the tasks sleeping on ``clock`` now, earliest first."""
    return sorted(wake for wake, _seq, future in clock._sleepers if not future.done())


def sleeps_on(task: asyncio.Task[Any], clock: SimulatedClock) -> bool:
    """Whether ``task`` is suspended in a sleep on ``clock`` (and nothing else)."""
    return _clock_wait_ms(task, clock) is not None
