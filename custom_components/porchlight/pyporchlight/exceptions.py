"""Errors raised by the Porchlight API client (no Home Assistant imports)."""

from __future__ import annotations

from .protocol import Peer, unsupported_version_message


class PorchlightError(Exception):
    """Base class for everything the client raises."""


class PorchlightConnectionError(PorchlightError):
    """The add-on could not be reached, timed out or dropped the connection."""


class PorchlightAuthError(PorchlightError):
    """The add-on rejected the access token."""


class PorchlightUnsupportedVersion(PorchlightError):
    """The add-on and this client cannot serve each other's protocol versions.

    Attributes:
        server_version: The add-on's version, `major.minor` (as it announced it).
        client_version: This client's version, `major.minor`.
        outdated: The side to update (`Peer.SERVER`: the add-on; `Peer.CLIENT`: this
            client), decided by whichever side's minimum the other falls below.
    """

    def __init__(self, server_version: str, client_version: str, outdated: Peer) -> None:
        super().__init__(unsupported_version_message(outdated, server_version, client_version))
        self.server_version = server_version
        self.client_version = client_version
        self.outdated = outdated


class PorchlightCommandError(PorchlightError):
    """The add-on answered a command (or HTTP request) with an error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
