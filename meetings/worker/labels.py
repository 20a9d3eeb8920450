"""Text rendered once into small alpha masks (Pillow), for names and initials on tiles."""

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ELLIPSIS = "…"


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font: no font files needed on the host."""
    return ImageFont.load_default(size=size)  # type: ignore[return-value]


def fit(text: str, size: int, max_width: int) -> str:
    """`text`, shortened with an ellipsis until it is at most `max_width` pixels wide."""
    face = font(size)
    if face.getlength(text) <= max_width:
        return text
    while text and face.getlength(text + ELLIPSIS) > max_width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS if text else ""


@functools.lru_cache(maxsize=512)
def mask(text: str, size: int) -> np.ndarray:
    """White-on-black alpha of `text` (uint8), even width and height for I420 chroma."""
    face = font(size)
    ascent, descent = face.getmetrics()
    width = int(face.getlength(text)) + 2
    height = ascent + descent
    image = Image.new("L", (width + width % 2, height + height % 2), 0)
    ImageDraw.Draw(image).text((1, 0), text, fill=255, font=face)
    return np.asarray(image, dtype=np.uint8)


def initials(name: str) -> str:
    """Up to two initials: "Ada Lovelace" -> "AL", "ada" -> "A"."""
    words = [word for word in name.replace("_", " ").replace("-", " ").split() if word]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def warm_up() -> None:
    """Load the font sizes the compositor uses, so the first frames do not pay for it."""
    for size in (16, 20, 40, 64, 96):
        mask("Ag", size)
