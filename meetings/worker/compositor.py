"""Composite participants' video into one I420 canvas, redrawing only tiles that changed.

Frames stay in I420 end to end: each new picture is scaled once by libswscale (PyAV
`reformat`) to its tile size and pasted plane by plane with numpy slices. Labels and
initials are masks rendered once by Pillow; per frame nothing touches single pixels.
"""

import zlib
from collections.abc import Callable

import av
import numpy as np

from meetings.worker import labels
from meetings.worker.layout import Layout, Picture, Rect, TileSource, fit, plan

BACKGROUND = (20, 128, 128)  # Y, U, V: near black
SPEAKER_BORDER = 4
LABEL_MARGIN = 6
# Muted colours for placeholders, picked per participant so a face-less tile is recognisable.
PALETTE = [
    (52, 73, 94),
    (22, 160, 133),
    (41, 128, 185),
    (142, 68, 173),
    (192, 57, 43),
    (211, 84, 0),
    (39, 174, 96),
    (127, 140, 141),
]


def rgb_to_yuv(r: int, g: int, b: int) -> tuple[int, int, int]:
    """BT.601 limited range, as libx264 and the SDK's converters assume."""
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return round(y), round(u), round(v)


SPEAKER_COLOUR = rgb_to_yuv(46, 204, 113)


def to_av_frame(picture: Picture) -> av.VideoFrame:
    """Wrap an I420 picture for PyAV; odd sizes lose their last row/column."""
    w, h = picture.width, picture.height
    buf = np.frombuffer(picture.data, np.uint8)
    if w % 2 == 0 and h % 2 == 0:
        arr = buf[: w * h * 3 // 2].reshape(h * 3 // 2, w)
    else:  # e.g. a window share: from_ndarray needs even sizes
        cw, ch = (w + 1) // 2, (h + 1) // 2
        y = buf[: w * h].reshape(h, w)
        u = buf[w * h : w * h + cw * ch].reshape(ch, cw)
        v = buf[w * h + cw * ch : w * h + 2 * cw * ch].reshape(ch, cw)
        ew, eh = w // 2 * 2, h // 2 * 2
        parts = [y[:eh, :ew], u[: eh // 2, : ew // 2], v[: eh // 2, : ew // 2]]
        arr = np.concatenate([p.ravel() for p in parts]).reshape(eh * 3 // 2, ew)
    return av.VideoFrame.from_ndarray(arr, format="yuv420p")


def split_planes(arr: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y, U, V views of a tightly packed I420 array."""
    flat = arr.reshape(-1)
    y = flat[: w * h].reshape(h, w)
    u = flat[w * h : w * h * 5 // 4].reshape(h // 2, w // 2)
    v = flat[w * h * 5 // 4 : w * h * 3 // 2].reshape(h // 2, w // 2)
    return y, u, v


class Compositor:
    """Keeps the canvas between frames; compose() redraws what changed since the last call."""

    def __init__(self, width: int = 1280, height: int = 720, layout: Layout = "grid") -> None:
        self.width, self.height, self.layout = width, height, layout
        self.canvas = np.empty(width * height * 3 // 2, np.uint8)
        self.y, self.u, self.v = split_planes(self.canvas, width, height)
        self._fill(Rect(0, 0, width, height), BACKGROUND)
        self._placements: list[tuple[Rect, str]] = []
        self._drawn: dict[str, tuple] = {}  # key -> what its tile shows now
        self._scaled: dict[str, tuple] = {}  # key -> (seq, size, planes) of the last scale
        self._last_frame: av.VideoFrame | None = None

    def compose(
        self,
        cameras: list[TileSource],
        screen: TileSource | None = None,
        stage_key: str | None = None,
    ) -> bool:
        """Bring the canvas up to date; True when anything on it changed."""
        placements = plan(cameras, screen, self.layout, stage_key, self.width, self.height)
        shape = [(rect, source.key) for rect, source in placements]
        changed = shape != self._placements
        if changed:  # a new arrangement: start from a clean canvas
            self._fill(Rect(0, 0, self.width, self.height), BACKGROUND)
            self._placements, self._drawn = shape, {}
            live = {source.key for _, source in placements}
            self._scaled = {k: v for k, v in self._scaled.items() if k in live}
        for rect, source in placements:
            state = (
                source.seq if source.picture else None,
                source.speaking,
                source.label,
                source.placeholder,
            )
            if self._drawn.get(source.key) != state:
                self._draw_tile(rect, source)
                self._drawn[source.key] = state
                changed = True
        return changed

    def render_later(
        self, scene: tuple[list[TileSource], TileSource | None, str | None]
    ) -> Callable[[], av.VideoFrame]:
        """The work for one video frame, done later on the encoder's thread: the canvas is
        brought up to date, and a new frame made only when something on it changed."""

        def render() -> av.VideoFrame:
            if self.compose(*scene) or self._last_frame is None:
                self._last_frame = self.frame()
            return self._last_frame

        return render

    def frame(self) -> av.VideoFrame:
        """The canvas as a new PyAV frame (a copy: the canvas keeps changing)."""
        shaped = self.canvas.reshape(self.height * 3 // 2, self.width)
        return av.VideoFrame.from_ndarray(shaped, format="yuv420p")

    def _draw_tile(self, rect: Rect, source: TileSource) -> None:
        if source.picture is None:
            self._draw_placeholder(rect, source)
        else:
            self._fill(rect, BACKGROUND)  # letterbox bars
            self._paste_picture(rect, source)
        if source.label:
            self._draw_label(rect, source.label)
        if source.speaking:
            self._draw_border(rect, SPEAKER_COLOUR)

    def _paste_picture(self, rect: Rect, source: TileSource) -> None:
        picture = source.picture
        assert picture is not None
        w, h = fit(picture.width, picture.height, rect.w, rect.h)
        cached = self._scaled.get(source.key)
        if cached and cached[0] == source.seq and cached[1] == (w, h):
            planes = cached[2]
        else:
            frame = to_av_frame(picture)
            if (frame.width, frame.height) != (w, h):
                frame = frame.reformat(w, h, "yuv420p")
            planes = split_planes(frame.to_ndarray(), w, h)
            self._scaled[source.key] = (source.seq, (w, h), planes)
        x = rect.x + (rect.w - w) // 4 * 2
        y = rect.y + (rect.h - h) // 4 * 2
        self.y[y : y + h, x : x + w] = planes[0]
        self.u[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = planes[1]
        self.v[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = planes[2]

    def _draw_placeholder(self, rect: Rect, source: TileSource) -> None:
        index = zlib.crc32(source.key.encode()) % len(PALETTE)
        colour = rgb_to_yuv(*PALETTE[index]) if source.placeholder is None else BACKGROUND
        self._fill(rect, colour)
        text = source.placeholder or labels.initials(source.label)
        size = max(16, min(96, rect.h // 3))
        self._blend_text(labels.mask(text, size), rect.x + rect.w // 2, rect.y + rect.h // 2)

    def _draw_label(self, rect: Rect, label: str) -> None:
        size = 16 if rect.h < 250 else 20
        text = labels.fit(label, size, rect.w - 4 * LABEL_MARGIN)
        if not text:
            return
        mask = labels.mask(text, size)
        strip_w = min(mask.shape[1] + 2 * LABEL_MARGIN, rect.w - 2 * LABEL_MARGIN) // 2 * 2
        strip_h = mask.shape[0] + LABEL_MARGIN // 2 * 2
        strip = Rect(
            rect.x + LABEL_MARGIN, rect.y + rect.h - strip_h - LABEL_MARGIN, strip_w, strip_h
        )
        self._darken(strip)
        self._blend_text(
            mask[:, : strip_w - LABEL_MARGIN], strip.x + strip_w // 2, strip.y + strip_h // 2
        )

    def _draw_border(self, rect: Rect, colour: tuple[int, int, int]) -> None:
        b = SPEAKER_BORDER
        for edge in (
            Rect(rect.x, rect.y, rect.w, b),
            Rect(rect.x, rect.y + rect.h - b, rect.w, b),
            Rect(rect.x, rect.y, b, rect.h),
            Rect(rect.x + rect.w - b, rect.y, b, rect.h),
        ):
            self._fill(edge, colour)

    def _fill(self, r: Rect, colour: tuple[int, int, int]) -> None:
        self.y[r.y : r.y + r.h, r.x : r.x + r.w] = colour[0]
        self.u[r.y // 2 : (r.y + r.h) // 2, r.x // 2 : (r.x + r.w) // 2] = colour[1]
        self.v[r.y // 2 : (r.y + r.h) // 2, r.x // 2 : (r.x + r.w) // 2] = colour[2]

    def _darken(self, r: Rect) -> None:
        """A dark translucent strip: 45 % of what is under it shows through."""
        y = self.y[r.y : r.y + r.h, r.x : r.x + r.w]
        y[:] = (y.astype(np.uint16) * 115 + 16 * 141) >> 8
        for plane in (self.u, self.v):
            c = plane[r.y // 2 : (r.y + r.h) // 2, r.x // 2 : (r.x + r.w) // 2]
            c[:] = (c.astype(np.uint16) * 115 + 128 * 141) >> 8

    def _blend_text(self, mask: np.ndarray, cx: int, cy: int) -> None:
        """White text centred on (cx, cy), anti-aliased by its mask."""
        h, w = mask.shape
        x, y = (cx - w // 2) // 2 * 2, (cy - h // 2) // 2 * 2
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, self.width), min(y + h, self.height)
        m = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.uint16)
        region = self.y[y0:y1, x0:x1]
        region[:] = (region * (255 - m) + 235 * m) // 255
        m2 = m[::2, ::2]
        for plane in (self.u, self.v):
            c = plane[y0 // 2 : y0 // 2 + m2.shape[0], x0 // 2 : x0 // 2 + m2.shape[1]]
            c[:] = (
                c * (255 - m2[: c.shape[0], : c.shape[1]]) + 128 * m2[: c.shape[0], : c.shape[1]]
            ) // 255
