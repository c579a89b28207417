"""The Porchlight client: one websocket to the add-on, its commands, and staying connected.

Knows nothing of Home Assistant (aiohttp, asyncio and the shared `protocol` only), so it
can be tested against a fake server and reused by tools. The wire contract is
docs/protocol.md; `run()` keeps a connection up and delivers each event exactly once.

Errors: every method raises `PorchlightConnectionError` when the add-on cannot be reached
(or the connection drops, or no answer comes within `request_timeout` seconds) and
`PorchlightCommandError` (`code` an `ErrorCode`) when the add-on refuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from typing import TYPE_CHECKING, Any, cast

from .commands import CommandsApi, acting_user
from .exceptions import PorchlightConnectionError, PorchlightError
from .http import HttpApi, user_arg
from .protocol import (
    AUDITED_COMMANDS,
    USER_ARG,
    WS_PATH,
    Command,
    EventMessage,
    ServerInfo,
    ServerState,
    SubscribeResult,
)
from .reconnect import (
    AuthFailedCallback,
    Backoff,
    ConnectionCallback,
    ReconnectLogic,
    VersionCallback,
)
from .transport import Transport

if TYPE_CHECKING:
    import aiohttp

_LOGGER = logging.getLogger(__name__)

type EventCallback = Callable[[EventMessage], None]
type StateCallback = Callable[[ServerState], None]


class PorchlightClient(HttpApi, CommandsApi):
    """One connection to one add-on; `run()` keeps it alive and resynchronises.

    Args:
        session: The aiohttp session (not closed by the client).
        host: Host name or IP address of the add-on.
        port: TCP port of the add-on's API.
        token: The add-on's access token.
        request_timeout: Seconds for connecting, for a command's answer, and for an
            HTTP request.
        heartbeat: Seconds of silence after which `run()` pings the add-on.
        backoff_min: First reconnect delay in seconds (doubling after failures).
        backoff_max: Cap of the reconnect delay in seconds (also the delay after a
            rejected token).
        client_name: Who connects, for the add-on's log.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        token: str,
        *,
        request_timeout: float = 10.0,
        heartbeat: float = 30.0,
        backoff_min: float = 1.0,
        backoff_max: float = 60.0,
        client_name: str = "home-assistant",
    ) -> None:
        super().__init__(session, host, port, token, request_timeout=request_timeout)
        self._heartbeat = heartbeat
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self._client_name = client_name
        self.transport: Transport | None = None
        """The current connection's transport; None while disconnected."""
        self._on_event: EventCallback | None = None
        self._run_task: asyncio.Task[None] | None = None
        self.reconnect: ReconnectLogic | None = None
        """The state machine of the running `run()`, if any."""
        self.server_info: ServerInfo | None = None
        self.last_event: tuple[str, int] | None = None
        """(boot_id, seq) of the last event delivered; the `since` of the next subscribe."""

    # --- connection -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the websocket is open and authenticated."""
        return self.transport is not None and self.transport.connected

    async def connect(self) -> ServerInfo:
        """Open the websocket and authenticate; a no-op when already connected.

        Returns:
            The add-on's `server_info` (protocol and add-on versions, instance id, boot id).

        Raises:
            PorchlightConnectionError: unreachable, timed out, or not the protocol.
            PorchlightUnsupportedVersion: the add-on speaks another protocol version.
            PorchlightAuthError: the add-on rejected the token.
        """
        if self.connected and self.server_info is not None:
            return self.server_info
        transport, info = await Transport.open(
            self._session,
            self.base_url + WS_PATH,
            self._token,
            self._client_name,
            self._deliver,
            self.request_timeout,
        )
        self.transport = transport
        self.server_info = info
        return info

    async def disconnect(self) -> None:
        """Close the websocket and fail every command still waiting for an answer."""
        transport, self.transport = self.transport, None
        if transport is not None:
            await transport.close()

    def _deliver(self, event: EventMessage) -> None:
        last = self.last_event
        if last is not None and last[0] == event["boot_id"] and event["seq"] <= last[1]:
            _LOGGER.debug("Dropping duplicate event %s/%s", event["boot_id"], event["seq"])
            return
        self.last_event = (event["boot_id"], event["seq"])
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                # A faulty listener must not take the connection down with it.
                _LOGGER.exception("Error handling event %s", event["event"])

    # --- commands ---------------------------------------------------------------------------

    async def command(self, command: str, **args: Any) -> Any:
        """Send a command and wait for its result.

        Args:
            command: A `Command` value.
            **args: The command's arguments (docs/protocol.md); an audited command also
                names the user of `on_behalf_of`.

        Returns:
            The command's `result` (shape per command).

        Raises:
            PorchlightConnectionError, PorchlightCommandError: see the module docstring.
        """
        transport = self.transport
        if transport is None:
            raise PorchlightConnectionError("not connected")
        if command in AUDITED_COMMANDS and USER_ARG not in args:
            args.update(user_arg(acting_user(), self.server_info))
        return await transport.request(command, args, self.request_timeout)

    async def ping(self) -> None:
        """Prove the add-on's command loop answers (`{"pong": true}`)."""
        await self.command(Command.PING)

    async def get_state(self) -> ServerState:
        """The full state of the add-on (cameras, storage, `boot_id` and `seq`).

        The first state ever read is where the event feed starts: events after it are
        delivered by `run()` even if they happen before it runs.
        """
        state = cast(ServerState, await self.command(Command.GET_STATE))
        if self.last_event is None:
            self.last_event = (state["boot_id"], state["seq"])
        return state

    async def subscribe(self, since: tuple[str, int] | None = None) -> SubscribeResult:
        """Start the event feed; events after `since` (boot_id, seq) are replayed first.

        Returns:
            `boot_id`, `seq`, `replayed` (count) and `gap` (True when the replay buffer
            no longer held everything after `since`).
        """
        args = {} if since is None else {"since": {"boot_id": since[0], "seq": since[1]}}
        return cast(SubscribeResult, await self.command(Command.SUBSCRIBE, **args))

    async def ring(self, camera: str | None = None) -> int:
        """Ring the doorbell as if the button was pressed; returns the ring event's seq."""
        args = {} if camera is None else {"camera": camera}
        return int((await self.command(Command.RING, **args))["seq"])

    # --- staying connected ------------------------------------------------------------------

    async def run(
        self,
        *,
        on_event: EventCallback,
        on_state: StateCallback,
        on_connection: ConnectionCallback,
        on_auth_failed: AuthFailedCallback | None = None,
        on_unsupported_version: VersionCallback | None = None,
    ) -> None:
        """Stay connected until cancelled (or `stop()`), reconnecting with backoff.

        After every (re)connect the full state is read (`on_state`), then the event feed
        is resumed from the last event seen, so nothing is missed or delivered twice.
        A rejected token is retried only after `backoff_max` seconds (`on_auth_failed`
        tells the owner once per streak). See `ReconnectLogic`.
        """
        self._run_task = asyncio.current_task()
        self._on_event = on_event

        async def connect() -> None:
            await self.connect()
            await self._resync(on_state)

        self.reconnect = ReconnectLogic(
            name=self.host,
            connect=connect,
            wait_closed=self._wait_closed,
            disconnect=self.disconnect,
            backoff=Backoff(self.backoff_min, self.backoff_max),
            on_connection=on_connection,
            on_auth_failed=on_auth_failed,
            on_unsupported_version=on_unsupported_version,
        )
        try:
            await self.reconnect.run()
        finally:
            self._on_event = None
            self._run_task = None

    async def _resync(self, on_state: StateCallback) -> None:
        state = await self.get_state()
        last = self.last_event
        # After a restart of the add-on (new boot id) the old run's numbers mean nothing:
        # whatever the new run published while we were away is replayed from its start.
        since = last if last is not None and last[0] == state["boot_id"] else (state["boot_id"], 0)
        self.last_event = since
        on_state(state)
        reply = await self.subscribe(since)
        if reply.get("gap"):
            _LOGGER.info("Missed events from %s (replay buffer overflowed); resyncing", self.host)
            on_state(await self.get_state())

    async def _wait_closed(self) -> None:
        """Return when the connection is gone, pinging while it is quiet."""
        reader = self.transport.reader if self.transport is not None else None
        while reader is not None and not reader.done():
            # asyncio.wait does not cancel the reader when run() itself is cancelled.
            done, _ = await asyncio.wait({reader}, timeout=self._heartbeat)
            if done:
                break
            try:
                await self.ping()
            except PorchlightError as err:
                _LOGGER.debug("Ping to %s failed: %s", self.host, err)
                break
        await self.disconnect()

    def start(
        self,
        *,
        on_event: EventCallback,
        on_state: StateCallback,
        on_connection: ConnectionCallback,
        on_auth_failed: AuthFailedCallback | None = None,
        on_unsupported_version: VersionCallback | None = None,
    ) -> asyncio.Task[None]:
        """Run `run()` as a task of its own (outside Home Assistant's task helpers)."""
        return asyncio.create_task(
            self.run(
                on_event=on_event,
                on_state=on_state,
                on_connection=on_connection,
                on_auth_failed=on_auth_failed,
                on_unsupported_version=on_unsupported_version,
            ),
            name="porchlight client",
        )

    async def stop(self) -> None:
        """End `run()` (wherever it was started) and close the connection."""
        task = self._run_task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait({task})
        await self.disconnect()
