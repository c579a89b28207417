"""The "privacy mode on" picture a camera shows while its owner has switched it off.

Privacy mode is a state the owner chose, so the camera's picture says so instead of a
broken image: a dark 16:9 JPEG (`PLACEHOLDER_SIZE` pixels) with a crossed-out lens and
"Privacy mode on", drawn once with Pillow (a Home Assistant core requirement). The
camera entity serves it as its still image and MJPEG stream through Home Assistant's
own camera views (`camera.py`).
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING, Final

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

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
