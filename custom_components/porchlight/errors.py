"""The one translator from the client's errors to Home Assistant's (as peblar does).

Every path that talks to the add-on on a user's behalf (entity actions, integration
actions, the camera and image entities, the footage proxy views) hands its
`PorchlightError` to this module, so the same failure reads the same everywhere:

| kind          | cause                                         | HA exception            | HTTP |
|---------------|-----------------------------------------------|-------------------------|------|
| `unreachable` | `PorchlightConnectionError` (down, timed out) | `HomeAssistantError`    | 502  |
| `auth`        | `PorchlightAuthError` (token rejected, 401)   | `HomeAssistantError`    | 502  |
| `not_found`   | `not_found` / HTTP 404 from the add-on        | `ServiceValidationError`| 404  |
| `invalid`     | `invalid_args` / HTTP 400 from the add-on     | `ServiceValidationError`| 400  |
| `failed`      | any other refusal or error                    | `HomeAssistantError`    | 502  |

A rejected token also starts reauthentication (`PorchlightData.on_auth_failed`). An
`unavailable` refusal for a camera in privacy mode is the owner's choice, not a failure:
a `ServiceValidationError` (`privacy_mode_on`) that tells the user to switch it off.
"""

from __future__ import annotations

import contextlib
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from aiohttp import web
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN
from .pyporchlight.exceptions import (
    PorchlightAuthError,
    PorchlightCommandError,
    PorchlightConnectionError,
    PorchlightError,
)
from .pyporchlight.protocol import ErrorCode

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .data import PorchlightData


class ErrorKind(StrEnum):
    """What went wrong, independent of who asked; values are translation keys."""

    UNREACHABLE = "addon_unreachable"
    AUTH = "addon_auth_failed"
    NOT_FOUND = "addon_not_found"
    INVALID = "addon_rejected"
    FAILED = "addon_failed"


# The add-on's HTTP endpoints answer with `http_<status>` codes when the body has none.
_NOT_FOUND_CODES: Final = frozenset({ErrorCode.NOT_FOUND, "http_404"})
_INVALID_CODES: Final = frozenset({ErrorCode.INVALID_ARGS, "http_400"})
_UNAVAILABLE_CODES: Final = frozenset({ErrorCode.UNAVAILABLE, "http_503"})
PRIVACY_MODE_ON: Final = "privacy_mode_on"
"""Translation key of a refusal because the camera is in privacy mode."""
# The caller asked for something the add-on does not have or cannot accept.
_CALLER_ERRORS: Final = frozenset({ErrorKind.NOT_FOUND, ErrorKind.INVALID})
_HTTP_ERRORS: Final[dict[ErrorKind, type[web.HTTPException]]] = {
    ErrorKind.NOT_FOUND: web.HTTPNotFound,
    ErrorKind.INVALID: web.HTTPBadRequest,
}


def error_kind(err: PorchlightError) -> ErrorKind:
    """Classify a client error.

    Args:
        err: Anything `PorchlightClient` raised.

    Returns:
        The kind of failure (see the module's table).
    """
    if isinstance(err, PorchlightAuthError):
        return ErrorKind.AUTH
    if isinstance(err, PorchlightConnectionError):
        return ErrorKind.UNREACHABLE
    if isinstance(err, PorchlightCommandError):
        if err.code in _NOT_FOUND_CODES:
            return ErrorKind.NOT_FOUND
        if err.code in _INVALID_CODES:
            return ErrorKind.INVALID
    return ErrorKind.FAILED


def _classify(data: PorchlightData, err: PorchlightError) -> ErrorKind:
    kind = error_kind(err)
    if kind is ErrorKind.AUTH:
        # Retrying cannot help; the user must enter a new token.
        data.on_auth_failed()
    return kind


def ha_error(
    data: PorchlightData, err: PorchlightError, *, action: str, target: str
) -> HomeAssistantError:
    """The translated Home Assistant exception for a failed request to the add-on.

    Args:
        data: The runtime data of the entry the request went to (for reauth).
        err: What the client raised.
        action: The command or action that failed (a translation placeholder).
        target: What it was for: a camera name or the add-on's title (a placeholder).

    Returns:
        `ServiceValidationError` when the add-on refused the caller's input (unknown or
        invalid) or because the camera is in privacy mode, otherwise
        `HomeAssistantError`; both with `translation_domain`
        porchlight, the `ErrorKind` as `translation_key` and the placeholders
        `action`, `target` and `error` (never the token).
    """
    if (
        isinstance(err, PorchlightCommandError)
        and err.code in _UNAVAILABLE_CODES
        and (camera := data.cameras.get(target)) is not None
        and camera.get("privacy_mode", False)
    ):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=PRIVACY_MODE_ON,
            translation_placeholders={"action": action, "target": target},
        )
    kind = _classify(data, err)
    exception = ServiceValidationError if kind in _CALLER_ERRORS else HomeAssistantError
    return exception(
        translation_domain=DOMAIN,
        translation_key=kind.value,
        translation_placeholders={"action": action, "target": target, "error": str(err)},
    )


def http_error(data: PorchlightData, err: PorchlightError) -> web.HTTPException:
    """The add-on's failure as the status a browser understands (never the token).

    Args:
        data: The runtime data of the entry the request went to (for reauth).
        err: What the client raised.

    Returns:
        404 or 400 when the add-on has no such item or refused the request, otherwise
        502 Bad Gateway (the add-on is down, rejected the token, or failed).
    """
    kind = _classify(data, err)
    if kind is ErrorKind.AUTH:
        return web.HTTPBadGateway(text="the add-on rejected Home Assistant's token")
    text = err.message if isinstance(err, PorchlightCommandError) else str(err)
    return _HTTP_ERRORS.get(kind, web.HTTPBadGateway)(text=text)


@contextlib.contextmanager
def translate_errors(data: PorchlightData, *, action: str, target: str) -> Iterator[None]:
    """Re-raise a `PorchlightError` from the block as `ha_error(...)` would build it.

    Args:
        data: The runtime data of the entry the block talks to.
        action: The command or action the block runs.
        target: A camera name or the add-on's title.

    Raises:
        HomeAssistantError: translated, chained to the client's error.
    """
    try:
        yield
    except PorchlightError as err:
        raise ha_error(data, err, action=action, target=target) from err


@contextlib.contextmanager
def translate_http_errors(data: PorchlightData) -> Iterator[None]:
    """Re-raise a `PorchlightError` from the block as `http_error(...)` would build it.

    Raises:
        web.HTTPException: 400, 404 or 502, chained to the client's error.
    """
    try:
        yield
    except PorchlightError as err:
        raise http_error(data, err) from err
