"""Polling for a condition that several tasks, threads or processes bring about together,
so that there is no single event to await (`poll_until`: the blocking form, for a browser)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import time


async def wait_until(
    check: Callable[[], object], timeout: float = 5.0, what: str = "the condition"
) -> None:
    """Return once `check()` is true; fail the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


async def wait_until_async[T](
    check: Callable[[], Awaitable[T | None]],
    timeout: float = 5.0,
    what: str = "the condition",
    interval: float = 0.05,
) -> T:
    """Return the first true result of `await check()`, for a condition only a coroutine can
    read (an API call, a request); fail the test after `timeout` seconds.

    Polled every `interval` seconds (at most `timeout / interval` + 1 calls); a call still
    running at the deadline is cancelled.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    limit = asyncio.timeout_at(deadline)
    try:
        async with limit:
            for _ in range(int(timeout / interval) + 1):
                if result := await check():
                    return result
                await asyncio.sleep(interval)
    except TimeoutError:
        if not limit.expired():
            raise  # the check's own timeout, not ours
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def poll_until[T](
    check: Callable[[], T | None],
    timeout: float,
    what: str,
    interval: float,
    not_yet: tuple[type[Exception], ...] = (),
) -> T:
    """Return the first true result of `check()`, blocking the thread (for a condition only
    a blocking call can read, such as a browser's page); fail the test after `timeout` s.

    Polled every `interval` seconds (at most `timeout / interval` + 2 calls). An exception of
    a `not_yet` type counts as "not yet"; the last one is named when the wait fails.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    for _ in range(int(timeout / interval) + 2):
        try:
            value = check()
        except not_yet as err:
            last, value = err, None
        if value:
            return value
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    failed = f"timed out after {timeout:g} s waiting for {what}"
    raise AssertionError(failed if last is None else f"{failed} (last error: {last})")
