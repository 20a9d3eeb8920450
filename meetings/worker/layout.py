"""Where each tile goes on the canvas: a grid, or a stage with a strip of tiles beside it.

All coordinates and sizes are even, so every rectangle maps exactly onto I420 chroma planes.
"""

import math
from dataclasses import dataclass
from typing import Any, Literal

Layout = Literal["grid", "speaker"]

GAP = 4  # pixels between tiles
GRID_MAX = 16  # tiles in a grid; more participants share a "+N" tile
STRIP_MAX = 8  # tiles in the strip beside the stage (they shrink past five)
STRIP_WIDTH = 256


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Picture:
    """One decoded video frame as tightly packed I420 bytes."""

    width: int
    height: int
    data: Any  # a buffer: bytes, bytearray or memoryview


@dataclass(frozen=True)
class TileSource:
    """What one tile shows: a participant's camera or screen share, or the "+N" tile."""

    key: str  # stable per source, e.g. "alice" or "alice#screen"
    label: str  # the name written on the tile
    picture: Picture | None = None  # None: camera off or muted, draw a placeholder
    seq: int = 0  # changes whenever `picture` does
    speaking: bool = False
    placeholder: str | None = None  # text for the placeholder (default: initials of label)


def even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def fit(width: int, height: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest even size with the aspect of width x height inside box_w x box_h."""
    scale = min(box_w / width, box_h / height)
    return min(even(width * scale), box_w), min(even(height * scale), box_h)


def _inset(x: int, y: int, w: int, h: int) -> Rect:
    half = GAP // 2
    return Rect(x + half, y + half, w - GAP, h - GAP)


def grid_rects(count: int, width: int, height: int) -> list[Rect]:
    """`count` 16:9 tiles, as large as possible; a short last row is centred."""
    if count == 0:
        return []
    best = max(
        range(1, count + 1),
        key=lambda cols: (fit(16, 9, width // cols, height // math.ceil(count / cols)), cols),
    )
    cols, rows = best, math.ceil(count / best)
    cell_w, cell_h = even(width // cols), even(height // rows)
    tile_w, tile_h = fit(16, 9, cell_w, cell_h)
    top = even((height - rows * cell_h) / 2) if rows * cell_h < height else 0
    rects = []
    for index in range(count):
        row, col = divmod(index, cols)
        in_row = min(cols, count - row * cols)
        left = (width - in_row * cell_w) // 2 // 2 * 2
        x = left + col * cell_w + (cell_w - tile_w) // 2 // 2 * 2
        y = top + row * cell_h + (cell_h - tile_h) // 2 // 2 * 2
        rects.append(_inset(x, y, tile_w, tile_h))
    return rects


def stage_rects(strip_count: int, width: int, height: int) -> tuple[Rect, list[Rect]]:
    """The stage on the left and up to STRIP_MAX 16:9 tiles stacked on the right."""
    if strip_count == 0:
        return _inset(0, 0, width, height), []
    tile_h = min(even(STRIP_WIDTH * 9 / 16), even(height / strip_count))
    tile_w = even(tile_h * 16 / 9)
    left = width - STRIP_WIDTH + even((STRIP_WIDTH - tile_w) / 2)
    top = even((height - strip_count * tile_h) / 2)
    strip = [_inset(left, top + i * tile_h, tile_w, tile_h) for i in range(strip_count)]
    return _inset(0, 0, width - STRIP_WIDTH, height), strip


def _limit(sources: list[TileSource], most: int) -> list[TileSource]:
    """At most `most` tiles: speakers are kept first; the rest share a "+N" tile."""
    if len(sources) <= most:
        return sources
    ranked = sorted(sources, key=lambda s: not s.speaking)  # stable: join order otherwise
    kept = {s.key for s in ranked[: most - 1]}
    visible = [s for s in sources if s.key in kept]
    hidden = len(sources) - len(visible)
    return [*visible, TileSource(key="+more", label="", placeholder=f"+{hidden}")]


def plan(
    cameras: list[TileSource],
    screen: TileSource | None,
    layout: Layout,
    stage_key: str | None,
    width: int,
    height: int,
) -> list[tuple[Rect, TileSource]]:
    """Each tile's rectangle; a screen share, else (speaker layout) the speaker, takes the stage."""
    if screen is None and (layout == "grid" or len(cameras) <= 1):
        visible = _limit(cameras, GRID_MAX)
        return list(zip(grid_rects(len(visible), width, height), visible, strict=True))
    if screen is not None:
        stage, others = screen, cameras
    else:
        stage = next((c for c in cameras if c.key == stage_key), cameras[0])
        others = [c for c in cameras if c is not stage]
    others = _limit(others, STRIP_MAX)
    stage_rect, strip = stage_rects(len(others), width, height)
    return [(stage_rect, stage), *zip(strip, others, strict=True)]
