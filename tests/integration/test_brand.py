"""Brand images: Home Assistant's brands view serves Porchlight's icon and logo from the
integration's own brand/ folder, without asking the brands CDN (no outbound request)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.porchlight.const import DOMAIN

BRAND = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN / "brand"


@pytest.mark.parametrize(
    ("image", "size"),
    [
        ("icon.png", (256, 256)),
        ("icon@2x.png", (512, 512)),
        ("logo.png", None),
        ("logo@2x.png", None),
        # The frontend asks for these in the dark theme.
        ("dark_icon.png", (256, 256)),
        ("dark_icon@2x.png", (512, 512)),
        ("dark_logo.png", None),
        ("dark_logo@2x.png", None),
    ],
)
async def test_brands_view_serves_our_images_from_disk(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    image: str,
    size: tuple[int, int] | None,
) -> None:
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    resp = await client.get(f"/api/brands/integration/{DOMAIN}/{image}?placeholder=no")
    assert resp.status == 200
    assert resp.content_type == "image/png"
    body = await resp.read()
    assert body == (BRAND / image).read_bytes()
    # The aiohttp mock records every request through HA's client session: none was made.
    assert aioclient_mock.call_count == 0
    picture = Image.open(BytesIO(body))
    assert picture.format == "PNG"
    assert picture.mode == "RGBA"  # transparent background
    if size is not None:
        assert picture.size == size
    else:  # a logo is landscape, at least 128 pixels on its short side
        assert picture.width > picture.height >= 128


def test_every_image_the_view_allows_is_ours() -> None:
    """Nothing falls back to the CDN's placeholder: all eight names HA serves are here."""
    from homeassistant.components.brands.const import ALLOWED_IMAGES

    assert {path.name for path in BRAND.iterdir()} == ALLOWED_IMAGES
