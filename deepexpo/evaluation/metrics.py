"""The standard reenactment figures for one output frame, against the real frame (self-
reenactment) or against the driver and the source (cross-reenactment).

- ``l1``, ``psnr``, ``ssim``: pixels in [0, 1] on the face crop (the real frame's face box,
  enlarged 1.6x, at 256 px), the same box in both frames.
- ``akd``: mean distance of dlib's 68 landmarks, in inter-ocular units.
- ``aed``: the same after the output's landmarks are aligned to the other's by a similarity on
  rigid points (head pose and size removed): the expression.
- ``apd``: mean absolute difference of yaw, pitch and roll, degrees.
- ``csim``: cosine similarity of the face-recognition embeddings (output and source);
  ``id_distance``: their Euclidean distance (dlib's rule: under 0.6 is the same person).
- ``r_<signal>`` (cross-reenactment): per-frame Pearson r between the driver's and the
  output's :data:`SIGNALS`.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ..face.topology import TOPOLOGY
from .scorer import ScoredFace

#: Per-frame signals read from dlib's landmarks and the eye pixels (plot labels): what the
#: output should follow the target in, frame by frame (see ``Curves.correlations``).
SIGNALS = {"mouth": "mouth opening", "eyes": "eye openness", "gaze": "gaze (iris offset)",
           "yaw": "head yaw (degrees)", "pitch": "head pitch (degrees)"}
KEYS = ("l1", "psnr", "ssim", "akd", "aed", "apd", "csim", "id_distance")
CROP = 256


def face_crop(image: np.ndarray, face: ScoredFace) -> np.ndarray:
    """The face box around ``face``'s landmarks, enlarged 1.6x, as a float crop in [0, 1]."""
    lo, hi = face.points.min(0), face.points.max(0)
    centre, side = (lo + hi) / 2, 1.6 * float((hi - lo).max())
    scale = CROP / side
    matrix = np.array([[scale, 0, CROP / 2 - scale * centre[0]],
                       [0, scale, CROP / 2 - scale * centre[1]]])
    crop = cv2.warpAffine(image, matrix, (CROP, CROP), flags=cv2.INTER_AREA)
    return crop.astype(np.float64) / 255.0


def signals(face: ScoredFace | None) -> dict[str, float]:
    """One frame's :data:`SIGNALS`, NaN where no face was found."""
    if face is None:
        return dict.fromkeys(SIGNALS, float("nan"))
    yaw, pitch, _ = face.pose
    return {"mouth": face.mouth_opening, "eyes": face.eye_openness, "gaze": face.gaze,
            "yaw": float(yaw), "pitch": float(pitch)}


def pixel_scores(output: np.ndarray, real: np.ndarray, real_face: ScoredFace) -> dict[str, float]:
    a, b = face_crop(output, real_face), face_crop(real, real_face)
    return {"l1": float(np.abs(a - b).mean()),
            "psnr": float(peak_signal_noise_ratio(b, a, data_range=1.0)) if not np.array_equal(a, b)
            else float("inf"),
            "ssim": float(structural_similarity(b, a, data_range=1.0, channel_axis=2))}


def shape_scores(output: ScoredFace, target: ScoredFace) -> dict[str, float]:
    """``akd``, ``aed`` and ``apd`` of ``output`` against ``target`` (real frame or driver)."""
    unit = target.interocular
    return {"akd": float(np.linalg.norm(output.points - target.points, axis=1).mean() / unit),
            "aed": float(np.linalg.norm(output.aligned_to(target) - target.points,
                                        axis=1).mean() / unit),
            "apd": float(np.abs(output.pose - target.pose).mean())}


def identity_score(output: ScoredFace, source: ScoredFace) -> dict[str, float]:
    a, b = output.embedding, source.embedding
    return {"csim": float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12)),
            "id_distance": float(np.linalg.norm(a - b))}


def mean(rows: list[dict], keys: tuple[str, ...] = KEYS) -> dict[str, float | None]:
    """Each key's mean over the rows that have it (finite values only), ``None`` if none."""
    out = {}
    for key in keys:
        values = [r[key] for r in rows if r.get(key) is not None and np.isfinite(r[key])]
        out[key] = float(np.mean(values)) if values else None
    return out


def iris_showing(source: np.ndarray, output: np.ndarray, eyes: list[np.ndarray]) -> float:
    """How much of the source's irises an output (of the same framing, as an edit) still
    shows: of the pixels of the source's irises (inside the eye contours ``eyes``, read on the
    source, darker than the Otsu threshold between iris and white) in the upper two thirds of
    each eye, the fraction the output still shows (as dark, and within a third of the iris's
    contrast with the white of what it was). 1: the eye as open as the source's;
    about 0: shut (the lower third left out: a shut eye's lash line lies there). A measure read
    on pixels, not on landmarks: landmark models read painted or small shut eyes as half open.
    """
    src = cv2.cvtColor(source, cv2.COLOR_RGB2GRAY)
    out = cv2.cvtColor(output, cv2.COLOR_RGB2GRAY)
    shown = total = 0
    for eye in eyes:
        mask = np.zeros(src.shape, np.uint8)
        cv2.fillPoly(mask, [np.round(eye).astype(np.int32)], 1)
        bottom = eye[:, 1].max() - (eye[:, 1].max() - eye[:, 1].min()) / 3
        mask[int(np.ceil(bottom)):] = 0
        values = src[mask > 0]
        if len(values) < 4:
            continue
        threshold, _ = cv2.threshold(values.reshape(-1, 1), 0, 255,
                                     cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        iris = (mask > 0) & (src < threshold)
        if not iris.any():
            continue
        tolerance = max(8.0, (threshold - float(src[iris].mean())) / 3)
        same = np.abs(out.astype(np.float32) - src.astype(np.float32)) < tolerance
        total += int(iris.sum())
        shown += int((iris & (out < threshold) & same).sum())
    return shown / total if total else float("nan")


def eye_white_brightness(image: np.ndarray, eyes: list[np.ndarray]) -> float:
    """The brightness of the brighter eye's whites: the 95th percentile of luminance of the
    pixels inside an eye contour (of ``eyes``) brighter than the skin around it (a ring 0.15
    to 0.4 of the eye's width out); NaN where no eye shows 8. What borrowed teeth may be as
    bright as. (Read over the contours' pixels, it was the lids' skin: on s18's open-eyed
    frame its lit eye's whites are 5 % of its contour, its 95th percentile 133 against the
    skin's 132 and the whites' 184.)"""
    luminance, whites = image.astype(np.float64) @ np.array([0.299, 0.587, 0.114]), []
    for eye in eyes:
        width = float(np.ptp(eye[:, 0]))
        inside = np.zeros(image.shape[:2], np.uint8)
        cv2.fillPoly(inside, [np.round(eye).astype(np.int32)], 1)
        near, far = (cv2.dilate(inside, cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0
            for r in (max(1, round(0.15 * width)), max(2, round(0.4 * width))))
        white = luminance[(inside > 0) & (luminance > np.median(luminance[far & ~near]))]
        if len(white) >= 8:
            whites.append(float(np.percentile(white, 95)))
    return max(whites, default=float("nan"))


def dark_fragments(image: np.ndarray, box: tuple[slice, slice], eye_width: float) -> int:
    """Pixels in ``box`` much darker (40 levels) than the median of their 5x5 neighbourhood,
    in dark specks shorter than a third of ``eye_width``: the dashes and fragments a squeezed
    eye leaves (a lash line along the lid is one long dark line: not counted)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[box]
    local = cv2.medianBlur(gray, 5).astype(np.int32)
    dark = (gray.astype(np.int32) < local - 40).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    short = stats[1:, cv2.CC_STAT_WIDTH] < eye_width / 3
    return int(stats[1:, cv2.CC_STAT_AREA][short].sum())


def rise_followed(source: np.ndarray, out: np.ndarray, points: np.ndarray,
                  anchors: np.ndarray, radius: float) -> float:
    """How far the skin at ``points`` rises against the skin at ``anchors`` (both (n, 2) on
    ``source``) in an ``out`` of the same framing (an edit), in pixels: the pixels followed by
    dense optical flow (DIS), its vertical motion's median within ``radius`` of each point. A
    measure read on pixels, not on landmarks, so nothing else drawn on ``out`` moves it:
    MediaPipe's cheeks read on the output against its eye corners rose 2.53 and -0.96
    hundredths of the eyes' distance on two happy s10 renders that differed only in the brows
    (1.29 and 0.52 on the astronaut's)."""
    before, after = (cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in (source, out))
    dis = cv2.DISOpticalFlow.create(cv2.DISOpticalFlow_PRESET_MEDIUM)
    # Down to the full resolution: from the preset's finest scale (the image halved) it read
    # the astronaut's smooth cheeks moved up 1 and 2 px 0.39 and 0.53 of the way; 0.88 now.
    dis.setFinestScale(0)
    flow = dis.calc(before, after, None)[..., 1]
    r = int(np.ceil(radius))
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = np.hypot(dx, dy) <= radius
    padded = np.pad(flow, r, mode="edge")

    def down(at: np.ndarray) -> float:
        return float(np.mean([np.median(padded[y:y + 2 * r + 1, x:x + 2 * r + 1][disc])
                              for x, y in np.round(at).astype(int)]))
    return down(anchors) - down(points)


#: The vertical scales :func:`lower_lip_followed` tries (log-spaced, 3 % apart): from a lip
#: thinned to 0.4 of its thickness to one 2.5 times as thick.
_LIP_SCALES = np.geomspace(0.4, 2.5, 63)
#: How many rows :func:`lower_lip_followed` reads its strip in, at least.
_LIP_ROWS = 80


def lower_lip_followed(source: np.ndarray, out: np.ndarray, inner: np.ndarray,
                       outer: np.ndarray, width: float, near: np.ndarray) -> float:
    """How thick the lower lip is down its middle in ``out`` over its thickness in ``source``,
    found on the pixels: the strip of ``source`` from the lip's inner edge ``inner`` to its
    outer edge ``outer`` (points, its middle) and the skin a third of that below it, 0.3 of the
    mouth's ``width`` wide, the lip stretched vertically by each of :data:`_LIP_SCALES` (the
    skin kept as it is) and matched (normalised cross-correlation) in ``out`` within 0.6
    ``width`` of ``near`` (a reader's lower lip there), up or down, and 0.25 either side; the
    best match's stretch. What lies above the lip is no part of it: a source's parted lips show
    teeth there, an opened mouth its inside. The landmark readers put a wide-open lower lip's
    edges on what fills the opening (dlib's inner point on a drawn tongue: s7 by d19 read
    1.80), or on the opening's edge for the outer one (MediaPipe on s10 by d19: 0.67). NaN
    for a lip read with no thickness."""
    thickness = float(outer[1] - inner[1])
    if thickness <= 0:
        return float("nan")
    centre, margin, half = float(inner[0] + outer[0]) / 2, thickness / 3, 0.15 * width
    # Both read at least _LIP_ROWS rows across the strip: a 512-px photo's lip is 8 px thick,
    # and a stretch read in whole rows of it comes in steps of an eighth.
    zoom = max(_LIP_ROWS / (thickness + margin), 1.0)

    def zoomed(image: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        region = image[max(int(round(y0)), 0):int(round(y1)) + 1,
                       max(int(round(x0)), 0):int(round(x1)) + 1].astype(np.float32)
        return cv2.resize(region, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC)

    template = zoomed(source, centre - half, inner[1], centre + half, outer[1] + margin)
    skin = int(round(margin * zoom))  # rows below the lip: kept as they are, not stretched
    lip, below = template[:-skin], template[-skin:]
    reach = half + 0.25 * width
    window = zoomed(out, near[0] - reach, near[1] - 0.6 * width, near[0] + reach,
                    near[1] + 0.6 * width)
    best, stretch = -np.inf, float("nan")
    for scale in _LIP_SCALES:
        rows = max(int(round(len(lip) * scale)), 3)
        if rows + skin >= window.shape[0]:
            break
        stretched = np.concatenate([cv2.resize(lip, (lip.shape[1], rows),
                                               interpolation=cv2.INTER_LINEAR), below])
        score = float(cv2.matchTemplate(window, stretched, cv2.TM_CCOEFF_NORMED).max())
        if score > best:
            best, stretch = score, rows / len(lip)
    return stretch


def outline_steps(image: np.ndarray, xy: np.ndarray, side: int) -> float:
    """How far the face's edge against what lies beside it (hair, background) on one side of
    ``image`` (``side`` +1: the right) departs from a smooth curve, in pixels: per row, from
    the eyes down 0.8 of the way to the chin, the sharpest fall in brightness going outwards
    within 14 px of the face oval (MediaPipe's landmarks ``xy`` read on ``image``), at
    sub-pixel; the mean distance of those positions from their Gaussian-smoothed curve (8
    rows). A stair-stepped outline departs from it by its steps; a real one by a few tenths
    of a pixel."""
    oval = xy[TOPOLOGY.face_oval_loop]
    oval = oval[(oval[:, 0] - xy[:, 0].mean()) * side > 0]
    oval = oval[np.argsort(oval[:, 1])]
    gray = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32),
                            (0, 0), 1.0)
    outwards = np.gradient(gray, axis=1) * side
    top = xy[[33, 263], 1].mean()
    edge = []
    for y in range(int(top), int(top + 0.8 * (xy[152, 1] - top))):
        x0 = int(np.interp(y, oval[:, 1], oval[:, 0])) - _OUTLINE_REACH
        fall = outwards[y, max(x0, 0):x0 + 2 * _OUTLINE_REACH]
        k = float(np.argmin(fall))
        if 0 < k < len(fall) - 1:
            a, b, c = fall[int(k) - 1:int(k) + 2]
            k += 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c else 0.0
        edge.append(max(x0, 0) + k)
    if len(edge) < 3:
        return float("nan")
    column = np.array(edge, np.float64)[:, None]
    smooth = cv2.GaussianBlur(column, (1, 0), sigmaX=0, sigmaY=8,
                              borderType=cv2.BORDER_REPLICATE)
    return float(np.abs(column - smooth).mean())


#: How far (px) either side of the face oval :func:`outline_steps` looks for the edge.
_OUTLINE_REACH = 14
