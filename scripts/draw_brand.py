"""Draw Porchlight's brand images into custom_components/porchlight/brand/ (run once; the PNGs
are committed). A wall lantern glowing warm amber, with the doorbell's push button below it.

    .venv/bin/python scripts/draw_brand.py

icon.png 256x256 and icon@2x.png 512x512 (square, transparent); logo.png 128 and logo@2x.png
256 pixels high (the icon and the name, trimmed), as Home Assistant's brands guidelines ask;
dark_* the same with a light frame and name, for the dark theme.
Everything is drawn at 4x and scaled down for smooth edges.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

OUT = Path(__file__).resolve().parents[1] / "custom_components" / "porchlight" / "brand"
SCALE = 4
INK = (31, 42, 68, 255)  # slate navy: lantern frame and the name
DARK_INK = (226, 232, 242, 255)  # the same drawn light, for Home Assistant's dark theme
GLASS_TOP = (255, 214, 102)
GLASS_BOTTOM = (255, 150, 28)
GLOW = (255, 176, 46)
BUTTON = (255, 196, 70, 255)


def _glass(width: int, height: int) -> Image.Image:
    """The lit glass: a vertical warm gradient."""
    glass = Image.new("RGBA", (width, height))
    pixels = glass.load()
    assert pixels is not None
    for y in range(height):
        t = y / max(1, height - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(GLASS_TOP, GLASS_BOTTOM, strict=True))
        for x in range(width):
            pixels[x, y] = (*colour, 255)
    return glass


def draw_icon(size: int, ink: tuple[int, int, int, int] = INK) -> Image.Image:
    """The lantern and the bell button, frame in `ink`, on a transparent square of `size` px."""
    n = size * SCALE
    u = n / 64  # drawing unit: the design is laid out on a 64x64 grid
    image = Image.new("RGBA", (n, n), (0, 0, 0, 0))

    # Halo behind the glass.
    halo = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    ImageDraw.Draw(halo).ellipse((10 * u, 8 * u, 54 * u, 52 * u), fill=(*GLOW, 120))
    image.alpha_composite(halo.filter(ImageFilter.GaussianBlur(6 * u)))

    draw = ImageDraw.Draw(image)
    # Wall bracket and the hook the lantern hangs from.
    draw.rounded_rectangle((29 * u, 2 * u, 35 * u, 8 * u), radius=1.5 * u, fill=ink)
    # Roof: a trapezoid with a cap.
    draw.polygon([(20 * u, 16 * u), (44 * u, 16 * u), (38 * u, 8 * u), (26 * u, 8 * u)], fill=ink)
    draw.rounded_rectangle((17 * u, 15 * u, 47 * u, 19 * u), radius=1.5 * u, fill=ink)
    # Lit glass with its frame and two mullions.
    left, top, right, bottom = 21 * u, 19 * u, 43 * u, 43 * u
    image.alpha_composite(_glass(int(right - left), int(bottom - top)), (int(left), int(top)))
    draw.rectangle((left, top, right, bottom), outline=ink, width=int(2.2 * u))
    for x in (28.3 * u, 35.7 * u):
        draw.line((x, top, x, bottom), fill=ink, width=int(1.4 * u))
    # The flame: a bright core.
    draw.ellipse((29.5 * u, 27 * u, 34.5 * u, 36 * u), fill=(255, 250, 225, 255))
    # Base.
    draw.rounded_rectangle((18 * u, 43 * u, 46 * u, 47 * u), radius=1.5 * u, fill=ink)
    draw.polygon([(24 * u, 47 * u), (40 * u, 47 * u), (36 * u, 50 * u), (28 * u, 50 * u)], fill=ink)
    # The doorbell: a round plate with the amber push button.
    draw.ellipse((24 * u, 52 * u, 40 * u, 63 * u), fill=ink)
    draw.ellipse((28.5 * u, 54.5 * u, 35.5 * u, 60.5 * u), fill=BUTTON)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_logo(height: int, ink: tuple[int, int, int, int] = INK) -> Image.Image:
    """The icon followed by the name, `height` pixels high, trimmed to its content."""
    n = height * SCALE
    font = ImageFont.load_default(size=int(n * 0.42))
    icon = draw_icon(height, ink).resize((n, n), Image.Resampling.LANCZOS)
    text = "Porchlight"
    box = [
        round(v)
        for v in ImageDraw.Draw(Image.new("RGBA", (1, 1))).textbbox((0, 0), text, font=font)
    ]
    width = n + int(n * 0.08) + box[2] - box[0]
    logo = Image.new("RGBA", (width, n), (0, 0, 0, 0))
    logo.alpha_composite(icon)
    draw = ImageDraw.Draw(logo)
    x = n + int(n * 0.08) - box[0]
    y = (n - (box[3] - box[1])) // 2 - box[1]
    draw.text((x, y), text, font=font, fill=ink)
    small = logo.resize((width // SCALE, height), Image.Resampling.LANCZOS)
    bbox = small.getbbox()
    return small.crop(bbox) if bbox else small


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    draw_icon(256).save(OUT / "icon.png", optimize=True)
    draw_icon(512).save(OUT / "icon@2x.png", optimize=True)
    draw_logo(128).save(OUT / "logo.png", optimize=True)
    draw_logo(256).save(OUT / "logo@2x.png", optimize=True)
    draw_icon(256, DARK_INK).save(OUT / "dark_icon.png", optimize=True)
    draw_icon(512, DARK_INK).save(OUT / "dark_icon@2x.png", optimize=True)
    draw_logo(128, DARK_INK).save(OUT / "dark_logo.png", optimize=True)
    draw_logo(256, DARK_INK).save(OUT / "dark_logo@2x.png", optimize=True)


if __name__ == "__main__":
    main()
