"""Draws the virtual backgrounds shipped in static/img/backgrounds/ (run once; the JPEGs are
committed). Soft gradients and blurred shapes, no photographs: nothing to license, small files.

    .venv/bin/python scripts/make_backgrounds.py
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent.parent / "static" / "img" / "backgrounds"
SIZE = (1280, 720)
THUMB = (160, 90)


def gradient(top: tuple, bottom: tuple, left_light: float = 0.0) -> Image.Image:
    """A vertical gradient, lighter towards the left by `left_light`."""
    w, h = SIZE
    t = np.linspace(0, 1, h)[:, None, None]
    colours = np.array(top)[None, None, :] * (1 - t) + np.array(bottom)[None, None, :] * t
    side = 1 + left_light * (1 - np.linspace(0, 1, w))[None, :, None]
    return Image.fromarray(np.clip(colours * side, 0, 255).astype(np.uint8))


def soft_shapes(base: Image.Image, shapes: list, blur: int) -> Image.Image:
    layer = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for kind, box, colour in shapes:
        getattr(draw, kind)(box, fill=colour)
    layer = layer.filter(ImageFilter.GaussianBlur(blur))
    return Image.alpha_composite(base.convert("RGBA"), layer).convert("RGB")


def dusk() -> Image.Image:
    base = gradient((44, 40, 92), (236, 140, 110), 0.15)
    return soft_shapes(
        base,
        [
            ("ellipse", (820, 300, 1180, 660), (255, 214, 150, 170)),
            ("ellipse", (-200, 560, 900, 900), (60, 40, 80, 200)),
            ("ellipse", (500, 600, 1500, 960), (80, 50, 90, 210)),
        ],
        40,
    )


def ocean() -> Image.Image:
    base = gradient((196, 228, 240), (24, 92, 128), 0.05)
    waves = [
        ("ellipse", (-300 + i * 260, 430 + (i % 2) * 40, 200 + i * 260, 760), (255, 255, 255, 40))
        for i in range(7)
    ]
    return soft_shapes(base, waves, 30)


def studio() -> Image.Image:
    base = gradient((214, 206, 196), (168, 158, 148), 0.0)
    shapes = [
        ("ellipse", (240, -120, 1040, 520), (255, 250, 240, 120)),  # a lamp's light on the wall
        ("rectangle", (0, 560, 1280, 720), (120, 104, 92, 160)),  # a shelf-height shadow
    ]
    return soft_shapes(base, shapes, 60)


def forest() -> Image.Image:
    base = gradient((120, 160, 110), (30, 60, 44), 0.1)
    rng = np.random.default_rng(22)
    spots = []
    for _ in range(18):
        x, y, r = rng.integers(0, 1280), rng.integers(0, 480), rng.integers(30, 90)
        spots.append(("ellipse", (x - r, y - r, x + r, y + r), (230, 240, 190, 70)))
    return soft_shapes(base, spots, 25)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in (("dusk", dusk), ("ocean", ocean), ("studio", studio), ("forest", forest)):
        image = draw()
        image.save(OUT / f"{name}.jpg", quality=82, optimize=True, progressive=True)
        image.resize(THUMB, Image.LANCZOS).save(
            OUT / f"{name}-thumb.jpg", quality=80, optimize=True
        )


if __name__ == "__main__":
    main()
