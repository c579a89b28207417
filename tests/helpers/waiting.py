"""Polling for a condition that several tasks, threads or processes bring about together,
so that there is no single event to await."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


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
