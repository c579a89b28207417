"""The "privacy mode on" picture a camera shows while its owner has switched it off.

Privacy mode is a state the owner chose, so the camera's picture says so instead of a
broken image: a dark 16:9 JPEG (`PLACEHOLDER_SIZE` pixels) with a crossed-out lens and
"Privacy mode on", drawn once with Pillow (a Home Assistant core requirement). It shows
no footage, so `PrivacyPlaceholderView` serves it without authentication (as the
frontend's own static files), at `PLACEHOLDER_URL`, the camera's `entity_picture`.
"""

from __future__ import annotations

import functools
from http import HTTPStatus
import io
from typing import TYPE_CHECKING, Final

from aiohttp import hdrs, web
from homeassistant.helpers.http import HomeAssistantView
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

PLACEHOLDER_URL: Final = "/api/porchlight/privacy_mode.jpg"
PLACEHOLDER_SIZE: Final = (1280, 720)
PLACEHOLDER_TEXT: Final = "Privacy mode on"
_BACKGROUND: Final = (28, 32, 40)
_INK: Final = (222, 226, 232)


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
    """The placeholder JPEG; no authentication (it shows nothing of any camera)."""

    url = PLACEHOLDER_URL
    name = "api:porchlight:privacy_mode"
    requires_auth = False

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass

    async def get(self, request: web.Request) -> web.Response:
        """The placeholder, cacheable for a day (it never changes within a version)."""
        return web.Response(
            body=await async_privacy_placeholder(self.hass),
            content_type="image/jpeg",
            headers={hdrs.CACHE_CONTROL: "public, max-age=86400"},
            status=HTTPStatus.OK,
        )
