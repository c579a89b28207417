"""The "privacy mode on" picture a camera shows while its owner has switched it off.

Privacy mode is a state the owner chose, so the camera's picture says so instead of a
broken image: a dark 16:9 JPEG (`PLACEHOLDER_SIZE` pixels) with a crossed-out lens and
"Privacy mode on", drawn once with Pillow (a Home Assistant core requirement).
`PrivacyPlaceholderView` serves it at `placeholder_url(…)`, the camera's `entity_picture`
while it is off, authenticated as Home Assistant's own camera pictures are: a logged-in
request or the camera entity's access token (`?token=`), which an `<img>` can carry.
"""

from __future__ import annotations

import functools
from http import HTTPStatus
import io
from typing import TYPE_CHECKING, Final

from aiohttp import hdrs, web
from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.helpers.http import KEY_AUTHENTICATED, HomeAssistantView
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

PLACEHOLDER_URL: Final = "/api/porchlight/privacy_mode/{entity_id}"
PLACEHOLDER_SIZE: Final = (1280, 720)
PLACEHOLDER_TEXT: Final = "Privacy mode on"
_BACKGROUND: Final = (28, 32, 40)
_INK: Final = (222, 226, 232)


def placeholder_url(entity_id: str, access_token: str) -> str:
    """The placeholder's URL for a camera entity, with its access token (as HA's own)."""
    return PLACEHOLDER_URL.format(entity_id=entity_id) + f"?token={access_token}"


@functools.cache
def privacy_placeholder() -> bytes:
    """The placeholder as JPEG bytes (`PLACEHOLDER_SIZE`); drawn on the first call (~20 ms)."""
    width, height = PLACEHOLDER_SIZE
    image = Image.new("RGB", PLACEHOLDER_SIZE, _BACKGROUND)
    draw = ImageDraw.Draw(image)
    # A lens, crossed out: the camera is off on purpose.
    radius, cx, cy = height // 7, width // 2, height * 2 // 5
    line = max(4, radius // 8)
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=_INK, width=line)
    draw.ellipse(
        (cx - radius // 3, cy - radius // 3, cx + radius // 3, cy + radius // 3), fill=_INK
    )
    reach = radius * 13 // 10
    draw.line((cx - reach, cy - reach, cx + reach, cy + reach), fill=_BACKGROUND, width=line * 3)
    draw.line((cx - reach, cy - reach, cx + reach, cy + reach), fill=_INK, width=line)
    font = ImageFont.load_default(size=height // 10)
    left, top, right, _bottom = draw.textbbox((0, 0), PLACEHOLDER_TEXT, font=font)
    draw.text(
        ((width - (right - left)) // 2 - left, cy + reach + height // 12 - top),
        PLACEHOLDER_TEXT,
        fill=_INK,
        font=font,
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


async def async_privacy_placeholder(hass: HomeAssistant) -> bytes:
    """`privacy_placeholder()`, drawn in the executor (Pillow blocks)."""
    return await hass.async_add_executor_job(privacy_placeholder)


class PrivacyPlaceholderView(HomeAssistantView):
    """The placeholder JPEG of a camera entity, for its access token or a logged-in user."""

    url = PLACEHOLDER_URL
    name = "api:porchlight:privacy_mode"
    requires_auth = False  # checked in `get`, as HA's camera views do (an <img> has no header)

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass

    async def get(self, request: web.Request, entity_id: str) -> web.Response:
        """The placeholder, privately cacheable for a day (it never changes within a version).

        Raises:
            web.HTTPNotFound: a logged-in request for an entity that is no camera.
            web.HTTPForbidden: neither logged in nor the camera's access token.
        """
        authenticated = bool(request.get(KEY_AUTHENTICATED, False))
        camera = self.hass.data[DATA_COMPONENT].get_entity(entity_id)
        if camera is None and authenticated:
            raise web.HTTPNotFound
        if camera is None or not (
            authenticated or request.query.get("token") in camera.access_tokens
        ):
            raise web.HTTPForbidden
        return web.Response(
            body=await async_privacy_placeholder(self.hass),
            content_type="image/jpeg",
            headers={hdrs.CACHE_CONTROL: "private, max-age=86400"},
            status=HTTPStatus.OK,
        )
