"""A shut eye shows the source's own upper lash line along its closed margin (render/lashes.py):
as dark as the open eye's, and as sharp as drawn."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from deepexpo.engines.warp_engine import WarpEngine
from deepexpo.evaluation.metrics import dark_fragments
from deepexpo.io.images import read_image
from deepexpo.motion.controls import ExpressionControls, ExpressionEdit
from deepexpo.motion.eyelids import Eyelid, eyelids
from deepexpo.render.lashes import draw_lash_line, read_lash_line
from tests.conftest import shared_sample


def _lightness(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)[..., 0]


def _curve(points: np.ndarray, xs: np.ndarray) -> np.ndarray:
    order = np.argsort(points[:, 0])
    return np.interp(xs, points[order, 0], points[order, 1])


def _blink(name: str, landmarker) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    image = read_image(shared_sample(f"sources/{name}.jpg"))
    face = landmarker.detect(image)
    engine = WarpEngine()
    out = engine.edit(engine.prepare_source(image, face),
                      ExpressionEdit(ExpressionControls(blink=1.0)))
    return image, out, face.xy


def _source_lash(image: np.ndarray, xy: np.ndarray, lid: Eyelid) -> float:
    """The open eye's upper lash line's lightness (Lab L): the darkest near the upper margin,
    over the outer quarter of the eye (the eye's white under it, not the iris)."""
    x0, x1 = np.sort(xy[lid.corners, 0])
    width = x1 - x0
    outer_left = xy[lid.outer, 0] < xy[lid.corners, 0].mean()
    start = x0 + 0.1 * width if outer_left else x1 - 0.35 * width
    columns = np.arange(int(start), int(start + 0.25 * width) + 1)
    reach = 0.15 * width
    light = _lightness(image)
    return float(np.median([light[int(y - reach):int(y + reach), c].min()
                            for c, y in zip(columns, _curve(xy[lid.upper], columns))]))


def _shut_line(out: np.ndarray, xy: np.ndarray, lid: Eyelid, clear: float = 0.2
               ) -> tuple[np.ndarray, np.ndarray]:
    """The shut eye's Lab profiles down its columns ``clear`` of its width in from either
    corner (from above the open eye's upper margin to below its lower one), corner to corner
    by x, and the row of each one's darkest: its lash line."""
    x0, x1 = np.sort(xy[lid.corners, 0])
    width = x1 - x0
    columns = np.arange(int(x0 + clear * width), int(x1 - clear * width))
    reach = 0.15 * width
    top = int(_curve(xy[lid.upper], columns).min() - reach)
    bottom = int(_curve(xy[lid.lower], columns).max() + reach)
    profiles = cv2.cvtColor(out.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)[top:bottom, columns]
    return profiles, np.argmin(profiles[..., 0], axis=0)


@pytest.mark.parametrize("name", ["s12", "s7"])
def test_a_shut_eye_shows_the_sources_own_lash_line(landmarker, name):
    """s12's shut eyes were flat ovals with a faint grey-blue line (the lash line read from
    the iris under it, 16 and 21 Lab levels lighter than his lash line), s7's a blurred dark
    curve (its painted line 20 levels lighter, smeared by the seam's softening): the shut
    line along the middle of each eye is within 13 levels as dark as the open eye's lash
    line (s7's 12.2 and 10.7: his painted line thins from its middle towards the corners,
    and a thinning line is drawn lighter as it goes, the way it ends in them), and its upper
    edge falls from the lid to the line as steeply as a drawn line's
    (the steepest step between two rows at least a third of its whole contrast: s7's 0.23
    and 0.18 before; the source's own upper lash lines 0.52 and 0.42)."""
    image, out, xy = _blink(name, landmarker)
    for lid in eyelids():
        profiles, darkest = _shut_line(out, xy, lid)
        profiles = profiles[..., 0]
        columns = np.arange(profiles.shape[1])
        line = float(np.median(profiles[darkest, columns]))
        assert line <= _source_lash(image, xy, lid) + 13, (lid.outer, line)
        if name == "s7":
            steps = []
            for c, row in zip(columns, darkest):
                above = profiles[:row + 1, c]
                contrast = max(float(above.max() - above[-1]), 1e-3)
                steps.append(float(np.abs(np.diff(above[-8:])).max()) / contrast)
            assert np.median(steps) >= 1 / 3, (lid.outer, np.median(steps))


def _source_lash_over_white(image: np.ndarray, xy: np.ndarray, lid: Eyelid) -> float:
    """The open eye's upper lash line's lightness (Lab L) where the eye's white shows under it:
    the darkest within 0.12 of the eye's width above the upper margin, in the columns (their
    middle 80 %) with a pixel below the margin lighter than the lid's skin above."""
    x0, x1 = np.sort(xy[lid.corners, 0])
    width = x1 - x0
    light = _lightness(image)
    columns = np.arange(int(x0 + 0.1 * width), int(x1 - 0.1 * width))
    darkest = []
    for c, y in zip(columns, np.round(_curve(xy[lid.upper], columns)).astype(int)):
        skin = np.percentile(light[y - int(0.35 * width):y - int(0.1 * width), c], 90)
        if light[y + 1:y + 1 + int(0.1 * width), c].max() > skin:
            darkest.append(light[y - int(0.12 * width):y + 1, c].min())
    return float(np.median(darkest))


def test_a_shut_lash_line_is_no_darker_than_the_sources_over_the_white(landmarker):
    """s10's painted lash line is a pale grey line over her eyes' whites; over the iris, the
    pupil's black lies under it. Read there, her shut near eye's line was a black bar (its
    darkest along the middle 18 Lab levels darker than the line over the white, the source's
    own: 30 against 48), and read across the line along the margin, not along its own
    course, as thick again as it is (4.3 px for her 2). Now within 10 levels of it (42
    against 48; her far eye's 47 against 42)."""
    image, out, xy = _blink("s10", landmarker)
    for lid in eyelids():
        profiles, darkest = _shut_line(out, xy, lid)
        line = float(np.median(profiles[darkest, np.arange(profiles.shape[1]), 0]))
        assert line >= _source_lash_over_white(image, xy, lid) - 10, (lid.outer, line)


def test_a_shut_lash_line_is_the_lashes_colour_from_corner_to_corner(landmarker):
    """s1's shut lash line was dark grey towards her outer corners and dark red along its
    inner half (its colour read column by column: where her lashes thin out, the lid's pink
    rim and the shadow under it): the redness (Lab a*) of the line's darkest pixels along its
    inner third is within 4 of its outer third's (inner over outer +6.4 and +10.2 before,
    -0.8 and -0.9 with the lashes' own colour)."""
    _, out, xy = _blink("s1", landmarker)
    for lid in eyelids():
        profiles, darkest = _shut_line(out, xy, lid, clear=0.1)
        redness = profiles[darkest, np.arange(profiles.shape[1]), 1]
        third = len(redness) // 3
        outer, inner = np.median(redness[:third]), np.median(redness[-third:])
        if xy[lid.outer, 0] > xy[lid.corners, 0].mean():
            outer, inner = inner, outer
        assert abs(inner - outer) <= 4, (lid.outer, inner, outer)


def test_a_shut_lash_line_thins_out_into_the_corners_without_dark_specks(hopper, landmarker):
    """Grace Hopper's lash line thins out by her inner corners (her lashes sparse there):
    drawn as dark as its thickest part down to a pixel or two, its inner end was a dark speck
    apart from the line (the bench's reader: 3 pixels by her right eye's inner corner). Along
    each shut line, at most a pixel in dark specks (4 and 1 before; what is left: a dark
    pixel of the redrawn lid above her right eye's line, and her left eye's line starting
    where her iris's edge lay under it, read darker over the iris than over the white)."""
    engine = WarpEngine()
    face = landmarker.detect(hopper)
    out = engine.edit(engine.prepare_source(hopper, face),
                      ExpressionEdit(ExpressionControls(blink=1.0)))
    for lid in eyelids():
        x0, x1 = np.sort(face.xy[lid.corners, 0])
        width = x1 - x0
        box = (slice(int(face.xy[lid.upper, 1].max() - 0.1 * width),
                     int(face.xy[lid.lower, 1].max() + 0.1 * width) + 1),
               slice(int(x0), int(x1) + 1))
        assert dark_fragments(out, box, width) <= 1, lid.outer


def _dark_rows(out: np.ndarray, columns: np.ndarray, top: int, bottom: int) -> np.ndarray:
    """Per column, how many rows between ``top`` and ``bottom`` are darker than halfway from
    the lightest of them (the lid's skin) to the darkest (the line): its thickness."""
    light = _lightness(out)[top:bottom, columns]
    half = 0.5 * (light.max(axis=0) + light.min(axis=0))
    return (light < half[None, :]).sum(axis=0)


def test_a_lash_line_is_laid_on_the_one_an_eye_not_quite_shut_shows(landmarker):
    """An eye not quite shut (s1 by d3.mp4 frame 136) shows its own lash line along its lid's
    edge over the slit, a little below the closed margin's landmarks: the line drawn there ran
    above that one, the two a black bar half as thick again as the lashes (p90 thickness 10.2
    px against a full blink's 8.3). Here s1's shut line, drawn by the blink, lies 3 px below
    the margin it is drawn along again: it is sunk onto it, the line thicker by at most a
    pixel (by 3 before)."""
    image, out, xy = _blink("s1", landmarker)
    for lid in eyelids():
        profiles, darkest = _shut_line(out, xy, lid, clear=0.1)
        x0, x1 = np.sort(xy[lid.corners, 0])
        width = x1 - x0
        columns = np.arange(int(x0 + 0.1 * width), int(x0 + 0.1 * width) + len(darkest))
        top = int(_curve(xy[lid.upper], columns).min() - 0.15 * width)
        fit = np.polyfit(columns, top + darkest, 2)
        xs = np.linspace(x0, x1, 16)
        margin = np.c_[xs, np.polyval(fit, xs) - 3.0]
        upper = np.r_[lid.upper, lid.corners]
        lash = read_lash_line(image, xy[upper], float(lid.gaps(xy).max()))
        assert lash is not None
        again = out.copy()
        draw_lash_line(again, image, lash, margin, 1.0)
        middle = slice(len(columns) // 5, -len(columns) // 5)
        bottom = int(_curve(xy[lid.lower], columns).max())
        before = _dark_rows(out, columns, top, bottom)[middle]
        after = _dark_rows(again, columns, top, bottom)[middle]
        assert np.median(after - before) <= 1, (lid.outer, np.median(after - before))


def _edge(column: np.ndarray, row: int, level: float, step: int) -> float:
    """Where ``column`` is back to ``level`` from its dark ``row`` on, going by ``step``
    (interpolated)."""
    t = row
    while column[t] < level and abs(t - row) < 15:
        t += step
    a, b = column[t - step], column[t]
    return t - step + step * (level - a) / max(b - a, 1e-6)


def _line_to_the_outer_end(out: np.ndarray, xy: np.ndarray, lid: Eyelid
                           ) -> tuple[np.ndarray, np.ndarray]:
    """The shut eye's dark line followed column by column from the eye's middle out past its
    outer corner, as far as it is a quarter as dark against the skin as in the middle: each
    column's upper and lower edge (halfway from its darkest to the skin above, below)."""
    middle = xy[lid.corners].mean(axis=0)
    width = float(np.ptp(xy[lid.corners, 0]))
    step = 1 if xy[lid.outer, 0] > middle[0] else -1
    light = _lightness(out)
    x = int(middle[0])
    top = int(middle[1] - 0.25 * width)
    row = top + int(np.argmin(light[top:int(middle[1] + 0.25 * width), x]))
    tops, lows, first = [], [], None
    for k in range(int(0.8 * width)):
        column = light[:, x + step * k]
        row = row - 3 + int(np.argmin(column[row - 3:row + 4]))
        above = float(np.percentile(column[row - 9:row - 3], 80))
        below = float(np.percentile(column[row + 4:row + 10], 80))
        contrast = min(above, below) - column[row]
        first = contrast if first is None else first
        if contrast < 0.25 * first:
            break
        tops.append(_edge(column, row, 0.5 * (column[row] + above), -1))
        lows.append(_edge(column, row, 0.5 * (column[row] + below), 1))
    return np.array(tops), np.array(lows)


def test_a_shut_lash_line_runs_into_the_eyeliners_tail(landmarker):
    """s1's eyeliner wraps past her outer corners into a tail along the lower lid, which is
    left below the closed margin's end: the shut line, tapered to its point at the margin's
    end, ended above it, a step where they met (and on her right eye a hook, the margin's
    end turning up). Followed from the eye's middle out along the tail, the dark line's
    edges move by at most 1.3 pixels over two columns (upper 2.75 and 3.19, lower 1.72 and
    1.55 before; 0.8 and 0.9 now)."""
    _, out, xy = _blink("s1", landmarker)
    for lid in eyelids():
        tops, lows = _line_to_the_outer_end(out, xy, lid)
        assert len(tops) > 0.6 * np.ptp(xy[lid.corners, 0]), (lid.outer, len(tops))
        for edge in (tops, lows):
            assert np.abs(edge[2:] - edge[:-2]).max() <= 1.3, (lid.outer, edge.round(1))
