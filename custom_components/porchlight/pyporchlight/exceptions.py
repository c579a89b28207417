"""Errors raised by the Porchlight API client (no Home Assistant imports)."""

from __future__ import annotations


class PorchlightError(Exception):
    """Base class for everything the client raises."""


class PorchlightConnectionError(PorchlightError):
    """The add-on could not be reached, timed out or dropped the connection."""


class PorchlightAuthError(PorchlightError):
    """The add-on rejected the access token."""


class PorchlightUnsupportedVersion(PorchlightError):
    """The add-on speaks a protocol version this client does not."""

    def __init__(self, server_version: int, client_version: int) -> None:
        super().__init__(
            f"add-on speaks protocol version {server_version}, "
            f"this integration speaks version {client_version}"
        )
        self.server_version = server_version
        self.client_version = client_version


class PorchlightCommandError(PorchlightError):
    """The add-on answered a command (or HTTP request) with an error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
