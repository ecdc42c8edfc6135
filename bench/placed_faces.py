"""Faces placed by hand (the shared animals and cartoon) driven and edited by the warp engine,
looked at and measured: does each still look like itself?

    python bench/placed_faces.py [--sheet placed_faces.png] [--panels DIR]
                                 [--sources s22 s23 s25 s30 s41]

Each source (points from ``tests/placed_faces.py``) is driven by the screaming photo d19 and by
a real blink (frame 66 of d0), and edited (``happy``, ``blink 1``, ``surprised``). Writes a
contact sheet (a row per source, a column per case, each panel the face) and, with
``--panels``, every panel at full size, and prints per panel, measured on pixels where the
engine put the face (its target landmarks), against the source:

- ``drop`` (where the mouth opened): the opened mouth's mean luminance below the source's over the same pixels
  (0-255): an opening shows as darker.
- ``throat``: how much darker the opening's middle is than its rim, as a fraction of the
  rim's luminance: a cavity shaded towards the throat > 0.2; a flat oval near 0.
- ``gap``: the lips' gap (their inner edges' median distance over the middle half of the
  mouth) over the mouth's width. ``darker``: how much darker (Lab L) the opening's darkest
  tenth is than the source's lips' (inside their outer contour): lips barely parted (a gap
  of a fifth of the width or less) show the line between them in the lips' own dark tone,
  near 0, not a near-black slot (far above 0); a wide-open mouth's throat may be darker.
- ``tint``: the opening's colour (Lab a, b) against the source's mouth line's (its lips,
  the pixels along the outer lip contour): the distance in a, b (a flat grey or black hole,
  or another face's mouth, is far from an animal's own mouth colour when that has any).
- ``teeth``: the share of the opening lighter than all but 1% of the source around the mouth
  and colourless (Lab chroma under 12): a person's teeth borrowed into an animal's mouth.
- ``tall``: the opening's height over its width (its inner-lip contour's extent): a person's
  round O on a muzzle near 1 or more, a muzzle's opening well under 1. ``wide``: its width
  over the closed mouth's (corner to corner): a person's O draws the corners in, under 1.
- ``lipsSt``, ``jawSt``, ``browSt``: streaks: how much stronger the luminance's horizontal
  steps are than its vertical ones (mean |dI/dx| over mean |dI/dy|), the output's over the
  source's, in the lips (between the outer and inner lip contours, 2 px clear of both: round
  an opened mouth, they come from a snout's thin lips), the chin below the mouth, and the fur over each brow
  (from its lowest point up 1.2 eye heights; the worse brow): texture stretched up or down
  draws vertical streaks and raises it above 1. ``jawHf``, ``browHf``: those regions' fine
  detail (mean |Laplacian|) over the source's: a stretch smooths it below 1.
- ``eyeE`` (shut eyes only): each covered eye's colour against the fur or skin around it: the
  Lab distance between the mean inside the eye's open outline (its lowest fifth, where the
  shut lids' line is drawn, left out) and the mean of a ring around it; ``eyeOut``: the
  share of the eye lighter or darker than all but 2% of the ring (patches); ``eyeU``: its
  unevenness, the spread of its lightness blurred by a sixth of its height, over the
  ring's (a smooth cover of fur about 0.5-0.7, patches raise it). ``eyePl``: how much paler
  (Lab L) the covered eye (its middle, the ellipse through its points at 0.8) is than the skin
  around it (the more colourful half of a ring 1.5-2.2 times the eye's size: a monkey's pink,
  not its pale fur): a pale disc, an empty socket, is far above 0 (but for a pale ring round
  the eye, a monkey's, which a shut lid continues). ``eyeRg``: the covered eye's middle (that
  ellipse at 0.8) against the skin right round it (1.15-1.5 times the eye): the Lab
  distance of their medians: a disc of another colour in it (a monkey's lavender disc in its
  pale ring) is far from 0. ``lidDk``: the shut lids'
  line's darkness (each column's darkest pixel below the column's
  median, over its middle three fifths, its lower two fifths and a little below; median)
  over the source's own darkest fine lines around the eye (the first percentile of its
  lightness against a blur of 1.5 pixels, in a ring beyond the open eye);
  ``lidJag``: the line's stair-steps, the RMS distance (pixels) of its rows along it (each
  column's darkness-weighted row, 2 pixels either side of its darkest, the picture's grain
  smoothed along the line first) from a parabola through them: a line drawn aliased jumps a
  row at a time, near 0.3 (a pixel's quantisation); an antialiased one, under 0.15. The worse
  eye.

Run time: under a minute on two cores.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extremes import PANEL, Panel, sheet  # noqa: E402  (the same contact sheet)

from deepexpo.engines.warp_engine import WarpEngine  # noqa: E402
from deepexpo.face.canonical import canonical_face  # noqa: E402
from deepexpo.face.measure import mouth_opening  # noqa: E402
from deepexpo.face.points import FacePoints  # noqa: E402
from deepexpo.face.topology import TOPOLOGY  # noqa: E402
from deepexpo.io.images import read_image, write_image  # noqa: E402
from deepexpo.io.video import iter_frames, probe_video  # noqa: E402
from deepexpo.motion.controls import ExpressionControls, ExpressionEdit  # noqa: E402
from deepexpo.motion.mouth import shape_mouth  # noqa: E402
from deepexpo.pipeline import TransferPipeline  # noqa: E402
from tests.placed_faces import PLACED  # noqa: E402

CHIN = 152  # the chin's landmark
OPENED = 0.04  # a mouth counts as opened (its figures printed) past this opening


class RecordingWarpEngine(WarpEngine):
    """The warp engine, keeping the landmarks it last warped a face to."""

    target_xy: np.ndarray | None = None

    def render_motion(self, source, target, driver=None):
        cfg = self.config
        shaped = shape_mouth(target, source.motion, cfg.max_mouth_opening, cfg.max_jaw_drop)
        if source.motion.proportions is not None:
            shaped = source.motion.proportions.within_reach(shaped, source.motion)
        self.target_xy = shaped.landmarks()[:, :2]
        self.open_xy = shaped.pose.apply(source.motion.canonical)[:, :2]
        return super().render_motion(source, target, driver)


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)


def _luma(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _mask(shape: tuple[int, ...], polygon: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask > 0


def _box(shape: tuple[int, ...], x0: float, x1: float, y0: float, y1: float
         ) -> tuple[slice, slice]:
    h, w = shape[:2]
    return (slice(int(np.clip(min(y0, y1), 0, h)), int(np.clip(max(y0, y1), 0, h))),
            slice(int(np.clip(min(x0, x1), 0, w)), int(np.clip(max(x0, x1), 0, w))))


def mouth_figures(source: np.ndarray, out: np.ndarray, src_xy: np.ndarray,
                  dst_xy: np.ndarray) -> dict[str, float]:
    """The opened mouth against the source (module docstring)."""
    outer, inner = canonical_face().lip_loops
    opening = _mask(out.shape, dst_xy[inner])
    if opening.sum() < 30:
        return {}
    luma_out, luma_src = _luma(out), _luma(source)
    dist = cv2.distanceTransform(opening.astype(np.uint8), cv2.DIST_L2, 3)
    depth = dist / max(float(dist.max()), 1e-6)
    rim, core = luma_out[opening & (depth < 0.35)], luma_out[opening & (depth > 0.65)]
    lab_out, lab_src = _lab(out), _lab(source)
    lips = lab_src[_band(source.shape, src_xy[outer], 3)]
    tint = float(np.linalg.norm(lab_out[opening][:, 1:].mean(axis=0)
                                - lips[:, 1:].mean(axis=0)))
    around = _box(source.shape, *np.sort(src_xy[outer, 0])[[0, -1]],
                  src_xy[outer, 1].min(), src_xy[CHIN, 1])
    inside = lab_out[opening]
    teeth = (inside[:, 0] > np.percentile(lab_src[around][..., 0], 99)) \
        & (np.linalg.norm(inside[:, 1:] - 128.0, axis=1) < 12)
    corners = src_xy[canonical_face().mouth_corners]
    extent = np.ptp(dst_xy[inner], axis=0)
    # The source's lips and the line between them (filled to the outer contour).
    mouth_line = lab_src[_mask(source.shape, src_xy[outer])][:, 0]
    return {"darker": float(np.percentile(mouth_line, 10) - np.percentile(inside[:, 0], 10)),
            "drop": float(luma_src[opening].mean() - luma_out[opening].mean()),
            "throat": float((rim.mean() - core.mean()) / max(rim.mean(), 1.0))
            if len(core) and len(rim) else float("nan"),
            "gap": _gap(dst_xy),
            "tint": tint,
            "teeth": float(teeth.mean()),
            "tall": float(extent[1] / max(extent[0], 1.0)),
            "wide": float(extent[0] / max(np.linalg.norm(corners[0] - corners[1]), 1.0))}


def _gap(xy: np.ndarray) -> float:
    """The opening's height between the lips' inner edges (their median gap over the middle
    half of the mouth) over the mouth's width."""
    canon = canonical_face()
    upper, lower = xy[canon.inner_lip_upper], xy[canon.inner_lip_lower]
    corners = xy[canon.mouth_corners]
    x0, x1 = np.sort(corners[:, 0])
    xs = np.linspace(x0 + 0.25 * (x1 - x0), x1 - 0.25 * (x1 - x0), 9)
    top = np.interp(xs, *upper[np.argsort(upper[:, 0])].T)
    bottom = np.interp(xs, *lower[np.argsort(lower[:, 0])].T)
    return float(np.median(bottom - top) / max(x1 - x0, 1.0))


def _band(shape: tuple[int, ...], polygon: np.ndarray, width: int) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.polylines(mask, [np.round(polygon).astype(np.int32)], True, 1, width)
    return mask > 0


def _texture(image: np.ndarray, where: tuple[slice, slice] | np.ndarray
             ) -> tuple[float, float]:
    """(mean |dI/dx| over mean |dI/dy|, mean |Laplacian|) of the luminance in ``where`` (a
    box, or a mask of the image)."""
    luma = _luma(image)
    mask = np.zeros(luma.shape, bool)
    mask[where] = True
    if mask.sum() < 16:
        return float("nan"), float("nan")
    gx = np.abs(np.diff(luma, axis=1))[mask[:, 1:]].mean()
    gy = np.abs(np.diff(luma, axis=0))[mask[1:]].mean()
    laplacian = np.abs(cv2.Laplacian(luma, cv2.CV_32F))[mask].mean()
    return float(gx / max(gy, 1e-6)), float(laplacian)


def streak_figures(source: np.ndarray, out: np.ndarray, src_xy: np.ndarray,
                   dst_xy: np.ndarray) -> dict[str, float]:
    """Streaks and detail in the chin and over the brows, output over source."""
    canon = canonical_face()
    outer = canon.lip_loops[0]
    figures = {}

    def chin(xy: np.ndarray) -> tuple[slice, slice]:
        x0, x1 = xy[canon.mouth_corners, 0]
        return _box(source.shape, x0, x1, xy[outer, 1].max() + 2, xy[CHIN, 1] + 2)

    def brows(xy: np.ndarray) -> list[tuple[slice, slice]]:
        boxes = []
        for brow, loop in ((TOPOLOGY.right_eyebrow, TOPOLOGY.right_eye_loop),
                           (TOPOLOGY.left_eyebrow, TOPOLOGY.left_eye_loop)):
            eye_h = np.ptp(xy[loop, 1])
            top = xy[brow, 1].min()
            boxes.append(_box(source.shape, *np.sort(xy[brow, 0])[[0, -1]],
                              top - 1.2 * eye_h, xy[brow, 1].max()))
        return boxes

    for name, src_boxes, dst_boxes in (("jaw", [chin(src_xy)], [chin(dst_xy)]),
                                       ("brow", brows(src_xy), brows(dst_xy))):
        st, hf = [], []
        for a, b in zip(src_boxes, dst_boxes, strict=True):
            (sa, ha), (sb, hb) = _texture(source, a), _texture(out, b)
            st.append(sb / sa)
            hf.append(hb / max(ha, 1e-6))
        worst = int(np.argmax(st))
        figures[f"{name}St"], figures[f"{name}Hf"] = st[worst], hf[worst]
    inner = canon.lip_loops[1]

    def lips(xy: np.ndarray) -> np.ndarray:  # clear of their edges, which are no streaks
        ring = _mask(source.shape, xy[outer]) & ~_mask(source.shape, xy[inner])
        return cv2.erode(ring.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0

    figures["lipsSt"] = _texture(out, lips(dst_xy))[0] / _texture(source, lips(src_xy))[0]
    return figures


def eye_figures(out: np.ndarray, open_xy: np.ndarray, source: np.ndarray,
                src_xy: np.ndarray) -> dict[str, float]:
    """Each covered eye against the fur around it (module docstring; the worse eye)."""
    lab = _lab(out)
    source_light = _lab(source)[..., 0]
    worst = {"eyeE": 0.0, "eyeTx": -np.inf, "eyeDir": 0.0, "eyeOut": 0.0, "eyeU": 0.0,
             "eyePl": -np.inf, "eyeRg": 0.0, "lidDk": 0.0, "lidJag": 0.0}
    for loop in (TOPOLOGY.right_eye_loop, TOPOLOGY.left_eye_loop):
        height = float(np.ptp(open_xy[loop, 1]))
        eye = _mask(out.shape, open_xy[loop])
        eye[int(open_xy[loop, 1].min() + 0.8 * height):] = False  # the lids' line left out
        size = max(3, int(0.5 * height))
        ring = cv2.dilate(eye.astype(np.uint8), np.ones((size, size), np.uint8)).astype(bool) \
            & ~cv2.dilate(eye.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        if eye.sum() < 10 or ring.sum() < 10:
            continue
        light = lab[..., 0]
        low, high = np.percentile(light[ring], [2, 98])
        smooth = cv2.GaussianBlur(light, (0, 0), max(1.0, height / 6))
        (eye_tx, eye_dir), (ring_tx, ring_dir) = _strands(light, eye), _strands(light, ring)
        figures = {"eyeE": float(np.linalg.norm(lab[eye].mean(axis=0) - lab[ring].mean(axis=0))),
                   "eyeTx": -eye_tx / max(ring_tx, 1e-6),
                   "eyeDir": float(np.linalg.norm(eye_dir - ring_dir)),
                   "eyeOut": float(np.mean((light[eye] < low) | (light[eye] > high))),
                   "eyeU": float(smooth[eye].std() / max(smooth[ring].std(), 1.0)),
                   "eyePl": _paler(lab, open_xy[loop]),
                   "eyeRg": _against_ring(lab, open_xy[loop]),
                   **_lid_line(light, open_xy[loop], _fine_dark(source_light, src_xy[loop]))}
        worst = {k: max(v, figures[k]) for k, v in worst.items()}
    worst["eyeTx"] = -worst["eyeTx"]  # the weaker eye's
    return worst


def _strands(light: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
    """``light``'s texture under ``mask`` at a fur strand's scale (between blurs of 1 and 4
    pixels): its spread, and its direction (the structure tensor's anisotropy)."""
    fine = cv2.GaussianBlur(light, (0, 0), 1.0)
    band = fine - cv2.GaussianBlur(light, (0, 0), 4.0)
    gx, gy = cv2.Sobel(fine, cv2.CV_32F, 1, 0), cv2.Sobel(fine, cv2.CV_32F, 0, 1)
    jxx, jyy, jxy = ((a * b)[mask].mean() for a, b in ((gx, gx), (gy, gy), (gx, gy)))
    return float(band[mask].std()), np.array([jxx - jyy, 2 * jxy]) / max(jxx + jyy, 1e-6)


def _ellipse(shape: tuple[int, ...], outline: np.ndarray, k: float) -> np.ndarray:
    """The ellipse through the eye's ``outline`` (its extent), scaled by ``k``."""
    centre, size = outline.mean(axis=0), np.ptp(outline, axis=0) / 2
    mask = np.zeros(shape[:2], np.uint8)
    cv2.ellipse(mask, tuple(int(v) for v in np.round(centre)),
                tuple(max(1, int(k * v)) for v in size), 0, 0, 360, 1, -1)
    return mask > 0


def _paler(lab: np.ndarray, outline: np.ndarray) -> float:
    """How much paler the middle of the eye inside ``outline`` is than the skin around it."""
    eye = _ellipse(lab.shape, outline, 0.8)
    ring = _ellipse(lab.shape, outline, 2.2) & ~_ellipse(lab.shape, outline, 1.5)
    chroma = np.linalg.norm(lab[..., 1:] - 128, axis=2)
    skin = ring & (chroma >= np.median(chroma[ring]))
    return float(np.median(lab[..., 0][eye]) - np.median(lab[..., 0][skin]))


def _against_ring(lab: np.ndarray, outline: np.ndarray) -> float:
    """How far the middle of the eye inside ``outline`` is in colour (Lab distance of the
    medians) from the skin right round it (a disc in a monkey's pale ring)."""
    eye = _ellipse(lab.shape, outline, 0.8)
    ring = _ellipse(lab.shape, outline, 1.5) & ~_ellipse(lab.shape, outline, 1.15)
    return float(np.linalg.norm(np.median(lab[eye], axis=0) - np.median(lab[ring], axis=0)))


def _fine_dark(light: np.ndarray, outline: np.ndarray) -> float:
    """How dark the picture's own darkest fine lines are around the eye inside ``outline``
    (the first percentile of its lightness against a blur of 1.5 pixels, in a ring half the
    eye's height wide beyond it)."""
    eye = _mask(light.shape, outline)
    size = max(3, int(np.ptp(outline[:, 1])))
    ring = cv2.dilate(eye.astype(np.uint8), np.ones((size, size), np.uint8)).astype(bool) \
        & ~cv2.dilate(eye.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    fine = light - cv2.GaussianBlur(light, (0, 0), 1.5)
    return -float(np.percentile(fine[ring], 1)) if ring.any() else 1.0


def _lid_line(light: np.ndarray, outline: np.ndarray, darkest: float) -> dict[str, float]:
    """The shut lids' line in the eye inside ``outline``: its darkness over the picture's
    own ``darkest`` fine lines, and its stair-steps (module docstring)."""
    x0, x1 = outline[:, 0].min(), outline[:, 0].max()
    y0, y1 = outline[:, 1].min(), outline[:, 1].max()
    along = cv2.GaussianBlur(light, (0, 0), sigmaX=0.7, sigmaY=0.01)  # the grain along it
    rows, columns, depths = [], [], []
    for x in range(int(np.ceil(x0 + 0.2 * (x1 - x0))), int(x1 - 0.2 * (x1 - x0)) + 1):
        top, bottom = int(round(y0 + 0.6 * (y1 - y0))), int(round(y1 + 0.15 * (y1 - y0))) + 1
        column = along[top:bottom, x]
        if len(column) < 5:
            continue
        k = int(np.argmin(column))
        window = np.arange(max(k - 2, 0), min(k + 3, len(column)))
        weight = np.maximum(np.median(column) - column[window], 0.0)
        rows.append(top + float((window * weight).sum() / max(weight.sum(), 1e-6)))
        columns.append(x)
        depths.append(float(np.median(light[top:bottom, x]) - light[top + k, x]))
    if len(rows) < 5:
        return {"lidDk": float("nan"), "lidJag": float("nan")}
    curve = np.polyval(np.polyfit(columns, rows, 2), columns)
    return {"lidDk": float(np.median(depths)) / max(darkest, 1.0),
            "lidJag": float(np.sqrt(np.mean((np.array(rows) - curve) ** 2)))}


def crop(image: np.ndarray, points: dict) -> np.ndarray:
    """The face (its placed points, with room around), square, at ``PANEL`` pixels."""
    xy = np.array(list(points.values()), float)
    centre = xy.mean(axis=0)
    side = int(round(1.15 * np.ptp(xy, axis=0).max()))
    x0, y0 = np.round(centre - side / 2).astype(int)
    padded = cv2.copyMakeBorder(image, side, side, side, side, cv2.BORDER_REFLECT)
    patch = padded[y0 + side:y0 + 2 * side, x0 + side:x0 + 2 * side]
    return cv2.resize(patch, (PANEL, PANEL), interpolation=cv2.INTER_AREA
                      if side > PANEL else cv2.INTER_CUBIC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", nargs="+", default=["s22", "s23", "s25", "s30", "s41"])
    parser.add_argument("--sheet", type=Path, default=Path("placed_faces.png"))
    parser.add_argument("--panels", type=Path, help="write each panel at full size here")
    parser.add_argument("--samples", type=Path, default=ROOT.parent / "shared" / "samples")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not args.samples.is_dir():
        sys.exit(f"the sample faces are not at {args.samples}")
    t0 = time.perf_counter()
    engine = RecordingWarpEngine()
    pipeline = TransferPipeline(engine)
    frames = iter_frames(probe_video(args.samples / "driving" / "d0.mp4"))
    drivers = {"scream": read_image(args.samples / "driving" / "d19.jpg"),
               "shut": next(f for i, f in enumerate(frames) if i == 66)}
    edits = {"happy": ExpressionEdit.emotion("happy"),
             "blink": ExpressionEdit(ExpressionControls(blink=1.0)),
             "surprised": ExpressionEdit.emotion("surprised")}
    if args.panels:
        args.panels.mkdir(parents=True, exist_ok=True)
    rows, table = [], []
    for name in args.sources:
        points = PLACED[f"{name}.jpg"]
        image = read_image(args.samples / "sources" / f"{name}.jpg")
        placed = [FacePoints.from_json_object(points)]
        faces = pipeline.prepare_faces(image, points=placed)
        src_xy = faces.sources[0].xy
        panels = [Panel(crop(image, points), "source")]
        cases = [*drivers.items(), *edits.items()]
        for case, how in cases:
            out = faces.edit(how) if isinstance(how, ExpressionEdit) \
                else pipeline.transfer_image(image, how, points=placed)
            dst_xy, open_xy = engine.target_xy, engine.open_xy
            opened = mouth_opening(dst_xy) - mouth_opening(src_xy) >= OPENED
            figures = mouth_figures(image, out, src_xy, dst_xy) if opened else {}
            figures |= streak_figures(image, out, src_xy, dst_xy)
            if case in ("shut", "blink"):
                figures |= eye_figures(out, open_xy, image, src_xy)
            panels.append(Panel(crop(out, points), case, figures))
            if args.panels:
                write_image(args.panels / f"{name}-{case}.png", out)
            table.append((name, case, figures))
        rows.append((name, panels))
    write_image(args.sheet, sheet(rows))
    keys = ["drop", "throat", "gap", "darker", "tint", "teeth", "tall", "wide", "lipsSt", "jawSt", "jawHf",
            "browSt", "browHf", "eyeE", "eyeTx", "eyeDir", "eyeOut", "eyeU", "eyePl", "eyeRg",
            "lidDk", "lidJag"]
    print(f"{'face':5} {'case':9} " + " ".join(f"{k:>6}" for k in keys))
    for name, case, figures in table:
        print(f"{name:5} {case:9} " + " ".join(
            f"{figures[k]:6.2f}" if k in figures else f"{'':>6}" for k in keys))
    print(f"contact sheet: {args.sheet} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
