"""The recorder's picture: layouts, letterboxing, labels, placeholders and the speaker border,
on synthetic I420 planes (no LiveKit)."""

import numpy as np
import pytest

from meetings.worker import labels
from meetings.worker.compositor import PALETTE, SPEAKER_COLOUR, Compositor, rgb_to_yuv
from meetings.worker.layout import (
    GRID_MAX,
    STRIP_MAX,
    Picture,
    Rect,
    TileSource,
    grid_rects,
    plan,
    stage_rects,
)

W, H = 1280, 720
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 200, 0), (0, 0, 255), (240, 240, 240)


def solid(rgb: tuple[int, int, int], width: int = 320, height: int = 240) -> Picture:
    y, u, v = rgb_to_yuv(*rgb)
    cw, ch = (width + 1) // 2, (height + 1) // 2
    planes = bytes([y]) * (width * height) + bytes([u]) * (cw * ch) + bytes([v]) * (cw * ch)
    return Picture(width, height, planes)


def camera(key: str, rgb=None, **kw) -> TileSource:
    return TileSource(key, key.title(), solid(rgb) if rgb else None, 1, **kw)


def rgb_at(compositor: Compositor, x: int, y: int) -> np.ndarray:
    frame = compositor.frame().to_ndarray(format="rgb24")
    return frame[y, x].astype(int)


def close_to(pixel: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 12) -> bool:
    return bool(np.abs(pixel - np.array(rgb)).max() <= tolerance)


def centre(rect: Rect) -> tuple[int, int]:
    return rect.x + rect.w // 2, rect.y + rect.h // 2


@pytest.mark.parametrize("count", range(1, GRID_MAX + 1))
def test_grid_tiles_are_16_by_9_even_inside_the_canvas_and_never_overlap(count):
    rects = grid_rects(count, W, H)
    assert len(rects) == count
    for r in rects:
        assert all(v % 2 == 0 for v in (r.x, r.y, r.w, r.h))
        assert r.x >= 0 and r.x + r.w <= W and r.y >= 0 and r.y + r.h <= H
        assert abs(r.w / r.h - 16 / 9) < 0.03
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y


def test_grid_shapes_people_expect():
    assert grid_rects(1, W, H)[0].w >= W - 8  # one person fills the picture
    assert len({r.y for r in grid_rects(2, W, H)}) == 1  # two side by side
    four = grid_rects(4, W, H)
    assert len({r.x for r in four}) == 2 and len({r.y for r in four}) == 2
    nine = grid_rects(9, W, H)
    assert len({r.x for r in nine}) == 3 and len({r.y for r in nine}) == 3


def test_a_short_last_row_is_centred():
    three = grid_rects(3, W, H)
    last = three[2]
    assert abs((last.x + last.w / 2) - W / 2) <= 2


def test_more_than_the_grid_holds_share_a_plus_tile_and_speakers_stay_visible():
    people = [camera(f"p{i:02d}") for i in range(20)]
    people[19] = camera("p19", speaking=True)
    placed = plan(people, None, "grid", None, W, H)
    assert len(placed) == GRID_MAX
    keys = [source.key for _, source in placed]
    assert "p19" in keys  # the speaker is kept although they joined last
    assert placed[-1][1].placeholder == f"+{20 - (GRID_MAX - 1)}"


def test_screen_share_takes_the_stage_and_cameras_go_to_the_strip():
    people = [camera(f"p{i}", RED) for i in range(3)]
    screen = TileSource("p0#screen", "P0 (screen)", solid(WHITE, 1920, 1080), 1)
    placed = plan(people, screen, "grid", None, W, H)
    stage, strip = stage_rects(3, W, H)
    assert placed[0] == (stage, screen)
    assert [rect for rect, _ in placed[1:]] == strip
    assert all(rect.x >= stage.x + stage.w for rect in strip)

    compositor = Compositor(W, H, "grid")
    compositor.compose(people, screen)
    assert close_to(rgb_at(compositor, *centre(stage)), WHITE)
    for rect in strip:
        assert close_to(rgb_at(compositor, *centre(rect)), RED)


def test_strip_overflow():
    people = [camera(f"p{i}") for i in range(9)]
    screen = TileSource("s", "S", solid(WHITE), 1)
    placed = plan(people, screen, "grid", None, W, H)
    assert len(placed) == 1 + STRIP_MAX
    assert placed[-1][1].placeholder == f"+{9 - (STRIP_MAX - 1)}"


def test_speaker_layout_puts_the_latest_speaker_on_stage():
    people = [camera("ann", RED), camera("bob", BLUE), camera("cy", GREEN)]
    placed = plan(people, None, "speaker", "bob", W, H)
    assert placed[0][1].key == "bob"
    assert [s.key for _, s in placed[1:]] == ["ann", "cy"]
    assert plan(people, None, "speaker", None, W, H)[0][1].key == "ann"


def test_each_camera_lands_in_its_tile_letterboxed_in_its_own_aspect():
    compositor = Compositor(W, H)
    people = [camera("ann", RED), camera("bob", BLUE)]
    assert compositor.compose(people)
    left, right = grid_rects(2, W, H)
    assert close_to(rgb_at(compositor, *centre(left)), RED)
    assert close_to(rgb_at(compositor, *centre(right)), BLUE)
    # 4:3 in a 16:9 tile: bars on the sides, picture in the middle.
    assert not close_to(rgb_at(compositor, left.x + 4, left.y + left.h // 2), RED, 60)


def test_odd_sized_pictures_are_accepted():
    compositor = Compositor(W, H)
    compositor.compose([TileSource("odd", "Odd", solid(GREEN, 333, 187), 1)])
    assert close_to(rgb_at(compositor, W // 2, H // 2), GREEN)


def test_placeholder_shows_initials_on_the_participants_colour():
    compositor = Compositor(W, H)
    compositor.compose([TileSource("ada", "Ada Lovelace")])
    rect = grid_rects(1, W, H)[0]
    colours = [np.array(c) for c in PALETTE]
    corner = rgb_at(compositor, rect.x + 20, rect.y + 20)
    assert min(np.abs(corner - c).max() for c in colours) <= 12  # a palette colour
    # White text in the middle: the initials.
    frame = compositor.frame().to_ndarray(format="rgb24")
    cx, cy = centre(rect)
    middle = frame[cy - 40 : cy + 40, cx - 80 : cx + 80]
    assert (middle.min(axis=2) > 200).sum() > 500
    assert labels.initials("Ada Lovelace") == "AL"
    assert labels.initials("ada") == "A"
    assert labels.initials("  ") == "?"


def test_name_label_is_white_on_a_dark_strip_in_the_bottom_left():
    compositor = Compositor(W, H)
    compositor.compose([TileSource("x", "Grace Hopper", solid(WHITE, 640, 360), 1)])
    rect = grid_rects(1, W, H)[0]
    frame = compositor.frame().to_ndarray(format="rgb24").astype(int)
    strip = frame[rect.y + rect.h - 40 : rect.y + rect.h - 8, rect.x + 8 : rect.x + 160]
    luma = strip.mean(axis=2)
    assert (luma < 140).mean() > 0.4  # darkened background
    assert (luma > 200).sum() > 50  # white letters on it
    top = frame[rect.y + 40, rect.x + 40]
    assert close_to(top, WHITE)  # the rest of the picture is untouched


def test_long_names_are_shortened_to_fit():
    text = labels.fit("A very long participant name that cannot fit", 16, 120)
    assert text.endswith(labels.ELLIPSIS)
    assert labels.font(16).getlength(text) <= 120


def test_active_speaker_gets_a_coloured_border_that_goes_away():
    compositor = Compositor(W, H)
    rect = grid_rects(1, W, H)[0]
    border = np.array(compositor_rgb(SPEAKER_COLOUR))
    compositor.compose([camera("ann", RED, speaking=True)])
    assert np.abs(rgb_at(compositor, rect.x + 1, rect.y + rect.h // 2) - border).max() < 16
    assert compositor.compose([camera("ann", RED, speaking=False)])
    assert np.abs(rgb_at(compositor, rect.x + 1, rect.y + rect.h // 2) - border).max() > 40


def test_nothing_changed_means_no_redraw():
    compositor = Compositor(W, H)
    people = [camera("ann", RED)]
    assert compositor.compose(people)
    assert not compositor.compose(people)
    assert compositor.compose([TileSource("ann", "Ann", solid(BLUE), 2)])


def compositor_rgb(yuv: tuple[int, int, int]) -> tuple[int, int, int]:
    y, u, v = (yuv[0] - 16) * 255 / 219, yuv[1] - 128, yuv[2] - 128
    return (round(y + 1.596 * v), round(y - 0.392 * u - 0.813 * v), round(y + 2.017 * u))
