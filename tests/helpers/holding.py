"""Hold a real function of the add-on until the test lets it go (a slow disk, a busy thread)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
import threading
from typing import Any

import pytest


@contextlib.contextmanager
def held(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, seconds: float
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Calls of `owner.name` wait (at most `seconds`) before they run as they are.

    Yields (entered, release): set when a call is held, and what lets every call go on;
    on exit nothing is held any more.
    """
    entered, release = threading.Event(), threading.Event()
    real: Callable[..., Any] = getattr(owner, name)

    def late(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, late)
    try:
        yield entered, release
    finally:
        release.set()  # never leave a thread of the add-on held
