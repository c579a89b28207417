"""ReconnectLogic and Backoff on their own: the states, the delays, who is told what.

The connection is scripted (each attempt's outcome in turn), the sleeps are recorded
instead of waited; the client tests run the same machine against the fake add-on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from custom_components.porchlight.pyporchlight import (
    Backoff,
    PorchlightAuthError,
    PorchlightConnectionError,
    PorchlightUnsupportedVersion,
    ReconnectLogic,
    ReconnectState,
)
from custom_components.porchlight.pyporchlight.protocol import Peer


def test_backoff_doubles_to_the_cap_resets_and_waits_longest_on_auth() -> None:
    backoff = Backoff(0.5, 4.0)
    down = PorchlightConnectionError("down")
    assert [backoff.delay(down) for _ in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.delay(None) == 0.5
    assert backoff.delay(PorchlightAuthError("no")) == 4.0
    # An auth failure does not advance the doubling of other failures.
    assert backoff.delay(down) == 1.0


class Script:
    """What each connect attempt does: raise the error, or connect (None) until closed."""

    def __init__(self, outcomes: list[BaseException | None]) -> None:
        self._outcomes: Iterator[BaseException | None] = iter(outcomes)
        self.done = asyncio.Event()
        self.states: list[ReconnectState] = []
        self.logic: ReconnectLogic | None = None
        self.disconnects = 0

    async def connect(self) -> None:
        assert self.logic is not None
        self.states.append(self.logic.state)
        outcome = next(self._outcomes, StopIteration())
        if isinstance(outcome, StopIteration):
            self.done.set()
            await asyncio.Event().wait()  # hang until cancelled
        if outcome is not None:
            raise outcome

    async def wait_closed(self) -> None:
        assert self.logic is not None
        self.states.append(self.logic.state)

    async def disconnect(self) -> None:
        self.disconnects += 1


async def run_script(
    outcomes: list[BaseException | None], monkeypatch: pytest.MonkeyPatch
) -> tuple[Script, list[float], list[bool], list[str], ReconnectLogic]:
    script = Script(outcomes)
    delays: list[float] = []
    connection: list[bool] = []
    told: list[str] = []

    async def no_sleep(delay: float) -> None:
        assert script.logic is not None
        assert script.logic.state is ReconnectState.WAITING
        delays.append(delay)

    monkeypatch.setattr(
        "custom_components.porchlight.pyporchlight.reconnect.asyncio.sleep", no_sleep
    )
    logic = ReconnectLogic(
        name="addon.local",
        connect=script.connect,
        wait_closed=script.wait_closed,
        disconnect=script.disconnect,
        backoff=Backoff(1.0, 8.0),
        on_connection=connection.append,
        on_auth_failed=lambda: told.append("auth"),
        on_unsupported_version=lambda err: told.append(f"version {err.server_version}"),
    )
    script.logic = logic
    assert logic.state is ReconnectState.IDLE
    task = asyncio.create_task(logic.run())
    async with asyncio.timeout(10):
        await script.done.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert logic.state is ReconnectState.STOPPED
    return script, delays, connection, told, logic


async def test_failures_back_off_and_a_good_connection_resets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    down = PorchlightConnectionError("down")
    script, delays, connection, told, _ = await run_script(
        [down, down, down, None, down], monkeypatch
    )
    assert delays == [1.0, 2.0, 4.0, 1.0, 2.0]  # reset by the connection, doubling again
    assert connection == [False, True, False]  # changes only
    assert told == []
    # Every attempt starts CONNECTING; the wait for the end happens CONNECTED.
    assert script.states == [ReconnectState.CONNECTING] * 4 + [
        ReconnectState.CONNECTED,
        ReconnectState.CONNECTING,
        ReconnectState.CONNECTING,
    ]


async def test_auth_failures_wait_longest_and_are_told_once_per_streak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = PorchlightAuthError("rejected")
    _, delays, connection, told, _ = await run_script([auth, auth, None, auth], monkeypatch)
    assert delays == [8.0, 8.0, 1.0, 8.0]
    assert told == ["auth", "auth"]  # once before the good connection, once after
    assert connection == [False, True, False]


async def test_version_mismatch_is_told_every_attempt_and_bugs_are_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    version = PorchlightUnsupportedVersion("2.0", "1.1", Peer.CLIENT)
    script, delays, connection, told, _ = await run_script(
        [version, RuntimeError("a bug"), version], monkeypatch
    )
    assert told == ["version 2.0", "version 2.0"]
    assert delays == [1.0, 2.0, 4.0]
    assert connection == [False]
    assert script.disconnects >= 3  # every failed attempt is cleaned up
