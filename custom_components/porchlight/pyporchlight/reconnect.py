"""Staying connected: a small state machine with capped exponential backoff.

Modelled on aioesphomeapi's `ReconnectLogic`. Each attempt runs `connect` (connect and
resync); on success the machine waits in `CONNECTED` until the connection is gone, then
tries again after the shortest delay. Failures double the delay up to the cap;
a rejected token waits the LONGEST delay (retrying sooner cannot help, and the owner is
told once per streak through `on_auth_failed`, e.g. to start reauthentication).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import StrEnum
import logging

from .exceptions import PorchlightAuthError, PorchlightError, PorchlightUnsupportedVersion

_LOGGER = logging.getLogger(__name__)

type ConnectionCallback = Callable[[bool], None]
type AuthFailedCallback = Callable[[], None]
type VersionCallback = Callable[[PorchlightUnsupportedVersion], None]


class ReconnectState(StrEnum):
    """Where the machine is; `state` of `ReconnectLogic`."""

    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"
    """Backing off before the next attempt."""
    STOPPED = "stopped"


class Backoff:
    """Delays between attempts, in seconds: `minimum`, doubling, capped at `maximum`.

    Args:
        minimum: The first delay, and the delay after a good connection (> 0).
        maximum: The cap, and the delay after a rejected token (>= minimum).
    """

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self._next = minimum

    def reset(self) -> None:
        """Start again from `minimum` (after a connection that worked)."""
        self._next = self.minimum

    def delay(self, err: BaseException | None) -> float:
        """The delay before the next attempt after `err` (None: the connection was lost).

        Returns:
            `maximum` for a `PorchlightAuthError`, otherwise the current delay (which
            then doubles, up to `maximum`).
        """
        if isinstance(err, PorchlightAuthError):
            return self.maximum
        delay = self._next
        self._next = min(delay * 2, self.maximum)
        return delay


class ReconnectLogic:
    """Keep one connection up until `run()` is cancelled.

    Args:
        name: The add-on's host, for log messages.
        connect: Opens the connection and resyncs; raises `PorchlightError` on failure.
        wait_closed: Returns once the connection is gone (and closed).
        disconnect: Closes whatever an attempt left open; must not raise.
        backoff: The delays between attempts.
        on_connection: Called with True once connected, False once down (only changes).
        on_auth_failed: Called when the add-on rejects the token, once per streak.
        on_unsupported_version: Called on every attempt that meets another protocol
            version (the other side may be updated any time, so retries go on).
    """

    def __init__(
        self,
        *,
        name: str,
        connect: Callable[[], Awaitable[None]],
        wait_closed: Callable[[], Awaitable[None]],
        disconnect: Callable[[], Awaitable[None]],
        backoff: Backoff,
        on_connection: ConnectionCallback,
        on_auth_failed: AuthFailedCallback | None = None,
        on_unsupported_version: VersionCallback | None = None,
    ) -> None:
        self._name = name
        self._connect = connect
        self._wait_closed = wait_closed
        self._disconnect = disconnect
        self.backoff = backoff
        self._on_connection = on_connection
        self._on_auth_failed = on_auth_failed
        self._on_unsupported_version = on_unsupported_version
        self.state = ReconnectState.IDLE
        self._reported: bool | None = None  # what on_connection last said
        self._down_logged = False
        self._auth_reported = False

    def _report(self, connected: bool) -> None:
        if self._reported is not connected:
            self._reported = connected
            self._on_connection(connected)

    async def run(self) -> None:
        """Connect, stay connected, reconnect; until cancelled (then `STOPPED`)."""
        try:
            while True:
                self.state = ReconnectState.CONNECTING
                err = await self._attempt()
                self.state = ReconnectState.WAITING
                await asyncio.sleep(self.backoff.delay(err))
        finally:
            self.state = ReconnectState.STOPPED
            await self._disconnect()

    async def _attempt(self) -> BaseException | None:
        """One connection, kept until it ends; returns why it ended (None: lost)."""
        try:
            await self._connect()
        except PorchlightError as err:
            await self._failed(err)
            return err
        except Exception as err:
            # A bug must not end the loop for good: log it and retry like an outage.
            _LOGGER.exception("Unexpected error in the Porchlight connection")
            await self._disconnect()
            self._report(False)
            self._down_logged = True
            return err
        self.state = ReconnectState.CONNECTED
        if self._down_logged:
            self._down_logged = False
            _LOGGER.info("Porchlight at %s is back", self._name)
        self._auth_reported = False
        self._report(True)
        self.backoff.reset()  # a good connection resets the backoff
        await self._wait_closed()
        self._report(False)
        self._down_logged = True
        _LOGGER.warning("Lost the connection to Porchlight at %s", self._name)
        return None

    async def _failed(self, err: PorchlightError) -> None:
        await self._disconnect()
        self._report(False)
        if isinstance(err, PorchlightAuthError):
            self._down_logged = True
            if not self._auth_reported:
                self._auth_reported = True
                _LOGGER.error("Porchlight at %s rejected the access token: %s", self._name, err)
                if self._on_auth_failed is not None:
                    self._on_auth_failed()
            return
        if isinstance(err, PorchlightUnsupportedVersion) and self._on_unsupported_version:
            self._on_unsupported_version(err)
        if not self._down_logged:
            self._down_logged = True
            _LOGGER.warning("Porchlight at %s is unavailable: %s", self._name, err)
        else:
            _LOGGER.debug("Reconnecting to %s failed: %s", self._name, err)
