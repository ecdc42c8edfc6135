"""Dense backward warping from sparse point correspondences.

The source points are triangulated (Delaunay), each triangle is laid over the output at its
corners' target positions, and each output pixel takes its source position by barycentric
interpolation inside its triangle: a continuous, piecewise-affine map, so no seams. The
triangles are the source's so that the face keeps its own surface: when a lid closes, the
triangles across the eye's opening shrink to a line, where a triangulation of the target points
would join the lid to the cheek across the closed eye and stretch the eye's pixels over it.
Where target triangles overlap (a fold), the one nearest the camera shows.

The map is evaluated on a coarse grid and upsampled, at full resolution where features move
against their surroundings (the eyes), then applied with one ``cv2.remap``. Grid points are
assigned to triangles by rasterizing the triangles (vectorized scanlines): a point locator
would first build a search structure for the frame's triangles, which cost more than the rest
of the map.
"""

from __future__ import annotations

import functools
from dataclasses import astuple

import cv2
import numpy as np

from ..geometry.boxes import PixelBox
from .texture import remap_at


def backward_map(
    src: np.ndarray, dst: np.ndarray, region: PixelBox, step: float,
    detail: tuple[PixelBox, ...] = (), depth: np.ndarray | None = None,
) -> np.ndarray:
    """For every pixel of ``region`` in the output, where to sample the source image: an
    (h, w, 2) float32 map of source (x, y), as ``cv2.remap`` takes it.

    ``src`` and ``dst`` are (N, 2) corresponding points (source position, output position).
    The map is evaluated every ``step`` pixels and upsampled, and at every pixel inside the
    ``detail`` boxes (the eyes: an iris moves more than its own size against the lids around
    it, which a coarse grid would average away). Pixels outside the triangulated
    hull do not move. ``depth`` (N,): each point's distance from the camera in the output;
    where triangles overlap (a cheek folding behind the nose of a turned head), the nearest
    shows.
    """
    h, w = region.size
    step = max(1.0, step)
    gh, gw = max(2, int(round(h / step))), max(2, int(round(w / step)))
    # Grid positions chosen so that cv2.resize(gw -> w) maps grid samples exactly onto them.
    gx = region.x0 + (np.arange(gw) + 0.5) * (w / gw) - 0.5
    gy = region.y0 + (np.arange(gh) + 0.5) * (h / gh) - 0.5
    mesh = _Mesh(src, dst, depth)
    shift = np.nan_to_num(mesh.interpolate(gx, gy))
    if (gh, gw) != (h, w):
        shift = cv2.resize(shift, (w, h), interpolation=cv2.INTER_LINEAR)
    for box in detail:
        x0, y0, x1, y1 = astuple(box.within(region))
        if x1 > x0 and y1 > y0:
            # Pixels no triangle covers (along a shut eye's collapsed triangles) keep the
            # coarse map's blend of their neighbours.
            fine = mesh.interpolate(np.arange(x0, x1, dtype=np.float64),
                                    np.arange(y0, y1, dtype=np.float64))
            coarse = shift[y0 - region.y0:y1 - region.y0, x0 - region.x0:x1 - region.x0]
            covered = ~np.isnan(fine)
            coarse[covered] = fine[covered]
    shift += _pixel_positions(region)
    return shift


@functools.lru_cache(maxsize=8)
def _pixel_positions(region: PixelBox) -> np.ndarray:
    """(h, w, 2) float32: each pixel's own (x, y), the map that moves nothing (read-only: it is
    shared by every frame warped in the same region)."""
    xs, ys = np.meshgrid(np.arange(region.x0, region.x1, dtype=np.float32),
                         np.arange(region.y0, region.y1, dtype=np.float32))
    grid = np.dstack([xs, ys])
    grid.flags.writeable = False
    return grid


class _Mesh:
    """The Delaunay triangulation of the source points, placed at the output points, with,
    for each triangle, the affine function that interpolates the values at its corners."""

    def __init__(self, src: np.ndarray, dst: np.ndarray, depth: np.ndarray | None = None):
        simplices = _delaunay(src)
        if depth is not None:  # farthest first: where triangles overlap, the later shows
            simplices = simplices[np.argsort(-depth[simplices].mean(axis=1), kind="stable")]
        self.corners = dst[simplices]  # (T, 3, 2)
        a, b, c = (self.corners[:, k] for k in range(3))
        self.low, self.high = np.minimum(np.minimum(a, b), c), np.maximum(np.maximum(a, b), c)
        values = (src - dst)[simplices]
        e1, e2 = b - a, c - a
        det = _signed_area(self.corners)
        # A triangle collapsed to a line (a shut eye's) covers no pixel: its interpolation
        # would send one to anywhere in the source.
        self.flat = np.abs(det) < _FLAT_AREA
        det = np.where(self.flat, 1.0, det)
        # value(p) = va + (vb - va) wb + (vc - va) wc, where p - a = e1 wb + e2 wc.
        wb = np.c_[e2[:, 1], -e2[:, 0]] / det[:, None]
        wc = np.c_[-e1[:, 1], e1[:, 0]] / det[:, None]
        gradient = ((values[:, 1] - values[:, 0])[:, :, None] * wb[:, None, :]
                    + (values[:, 2] - values[:, 0])[:, :, None] * wc[:, None, :])
        offset = values[:, 0] - np.einsum("tij,tj->ti", gradient, a)
        # One row per triangle: value_x = k0 x + k1 y + k2, value_y = k3 x + k4 y + k5.
        self.coefficients = np.c_[gradient[:, 0], offset[:, 0], gradient[:, 1], offset[:, 1]]

    def interpolate(self, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
        """(len(gy), len(gx), 2) float32: the piecewise-linear interpolation of the values at
        the evenly spaced grid ``gx`` x ``gy``; NaN outside the triangles."""
        origin = np.array([gx[0], gy[0]])
        spacing = np.array([_spacing(gx), _spacing(gy)])
        near = ((self.high >= origin).all(axis=1)
                & (self.low <= origin + spacing * [len(gx), len(gy)]).all(axis=1)
                & ~self.flat)
        triangle, row, column = _rasterize((self.corners[near] - origin) / spacing,
                                           (len(gy), len(gx)))
        # Each grid point's triangle: the last of those that cover it (a fold covers some
        # twice), resolved only where they clash.
        owner = np.full(len(gy) * len(gx), -1)
        cell, triangle = row * len(gx) + column, np.flatnonzero(near)[triangle]
        owner[cell] = triangle
        clash = owner[cell] != triangle
        np.maximum.at(owner, cell[clash], triangle[clash])
        cell = np.flatnonzero(owner >= 0)
        k = self.coefficients[owner[cell]].T
        row, column = np.divmod(cell, len(gx))
        x, y = gx[column], gy[row]
        out = np.full((len(gy) * len(gx), 2), np.nan, np.float32)
        out[cell, 0] = k[0] * x + k[1] * y + k[2]
        out[cell, 1] = k[3] * x + k[4] * y + k[5]
        return out.reshape(len(gy), len(gx), 2)


#: Twice the area (pixels) below which a triangle counts as collapsed to a line.
_FLAT_AREA = 1e-3


def _delaunay(points: np.ndarray) -> np.ndarray:
    """(T, 3) indices of the Delaunay triangles of ``points`` (N, 2), read-only and shared: a
    photo warped frame after frame has the same points in most frames (they change only when
    a landmark turns edge-on and is left out), so its triangles are made once for each set."""
    xy = points.astype(np.float32) + np.float32(0.0)  # no -0.0, whose bits differ from 0.0's
    return _delaunay_of(xy.tobytes())


@functools.lru_cache(maxsize=64)
def _delaunay_of(points: bytes) -> np.ndarray:
    """:func:`_delaunay` of float32 (x, y) pairs.

    OpenCV's incremental triangulation: a third of the time of SciPy's Qhull on the warp's
    point sets, and no SciPy to import at start. It starts from three virtual vertices outside
    the rectangle it is given, and loses the slivers along the hull whose circumcircles reach
    them; a rectangle a hundred times the points' extent each side leaves none. It reports
    triangles by their corners' coordinates, found back among the points by bit pattern (it
    keeps float32).
    """
    xy = np.frombuffer(points, np.float32).reshape(-1, 2)
    low, extent = xy.min(axis=0), xy.max(axis=0) - xy.min(axis=0) + 1
    corner = np.floor(low - 100 * extent)
    size = np.ceil(201 * extent) + 2
    subdivision = cv2.Subdiv2D((int(corner[0]), int(corner[1]), int(size[0]), int(size[1])))
    subdivision.insert(xy)
    corners = np.asarray(subdivision.getTriangleList()).reshape(-1, 3, 2)
    keys = xy.view(np.int64).ravel()
    order = np.argsort(keys)
    simplices = order[np.searchsorted(keys[order], corners.view(np.int64).ravel())]
    simplices.flags.writeable = False
    return simplices.reshape(-1, 3)


def _spacing(grid: np.ndarray) -> float:
    return float(grid[1] - grid[0]) if len(grid) > 1 else 1.0


def _rasterize(corners: np.ndarray, shape: tuple[int, int]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The integer grid points (row, column) inside each triangle of ``corners`` ((T, 3, 2) in
    grid units), as (triangle, row, column) arrays, for a grid of ``shape``.

    Spans are half-open (a triangle holds the points with top <= y < bottom and left <= x <
    right) and an edge's crossing of a row is computed from its endpoints in the same order in
    both triangles that share it, so triangles that tile the plane cover each grid point inside
    them exactly once: no gaps, no overlaps.
    """
    h, w = shape
    order = np.argsort(corners[:, :, 1], axis=1, kind="stable")
    top, middle, bottom = corners[np.arange(len(corners))[:, None], order].transpose(1, 0, 2)
    first = np.clip(np.ceil(top[:, 1]), 0, h).astype(np.int64)
    last = np.clip(np.ceil(bottom[:, 1]), 0, h).astype(np.int64)
    # Per triangle: its long edge (top to bottom), then the short edge each row crosses, above
    # and below the middle corner, as (x, y) of its upper end and its run per unit of height.
    edges = np.column_stack([top, _run(top, bottom), top, _run(top, middle), middle,
                             _run(middle, bottom), middle[:, 1]])
    triangle, row = _spans(first, last)
    y = row.astype(np.float64)
    e = edges[triangle].T
    x_long = e[0] + (y - e[1]) * e[2]
    upper = y < e[9]
    x_short = np.where(upper, e[3] + (y - e[4]) * e[5], e[6] + (y - e[7]) * e[8])
    left = np.clip(np.ceil(np.minimum(x_long, x_short)), 0, w).astype(np.int64)
    right = np.clip(np.ceil(np.maximum(x_long, x_short)), 0, w).astype(np.int64)
    span, column = _spans(left, right)
    return triangle[span], row[span], column


def _run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How far x moves per unit of y along the edges a -> b (a above b); a flat edge crosses
    no row, and gets 0."""
    height = b[:, 1] - a[:, 1]
    return (b[:, 0] - a[:, 0]) / np.where(height > 0, height, 1.0)


def _spans(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For half-open ranges ``[start, stop)``: each member, with the index of its range."""
    count = np.maximum(stop - start, 0)
    owner = np.repeat(np.arange(len(count)), count)
    return owner, np.arange(len(owner)) + (start - np.cumsum(count) + count)[owner]


def smooth_map(source_xy: np.ndarray, weight: np.ndarray, sigma: float) -> None:
    """Blend the backward map (:func:`backward_map`) in place towards its Gaussian blur of
    ``sigma`` pixels, by ``weight`` (0 to 1: the map's (h, w), or a coarser grid stretched
    over it). The piecewise-affine map kinks at every
    triangle's edge; where the displacement changes steeply across small triangles, the kinks
    bend straight lines (hair strands, an outline) into zigzags. The blur rounds them off and
    leaves an affine map as it is. It is taken on samples a few pixels apart, fewer than the
    blur's width (at every pixel, it cost as much as the map itself); sampled and
    interpolated on the same grid (bilinear both ways), an affine map comes back unchanged."""
    h, w = source_xy.shape[:2]
    k = max(1, int(sigma / 3))
    small = cv2.resize(source_xy, (max(2, w // k), max(2, h // k)),
                       interpolation=cv2.INTER_LINEAR)
    blurred = cv2.GaussianBlur(small, (0, 0), sigma * small.shape[1] / w,
                               borderType=cv2.BORDER_REPLICATE)
    if weight.shape != (h, w):
        weight = cv2.resize(weight.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    source_xy += weight[..., None].astype(np.float32) * (
        cv2.resize(blurred, (w, h), interpolation=cv2.INTER_LINEAR) - source_xy)


def outline_nearness(outline: np.ndarray, region: PixelBox,
                     features: tuple[tuple[PixelBox, float], ...], band: float, step: float
                     ) -> np.ndarray:
    """How near each pixel of ``region`` is to the closed ``outline`` (a Gaussian of ``band``
    pixels over its distance from it), falling to nothing towards the boxes of ``features``
    (:func:`faded`): on a grid ``step`` pixels apart over the region (a smooth weight,
    stretched over it by :func:`smooth_map`)."""
    line = np.full(_grid(region, step), 255, np.uint8)
    cv2.polylines(line, [_on_grid(outline, region, step)], True, 0, 1)
    distance = cv2.distanceTransform(line, cv2.DIST_L2, 3) * _cell(region, step)
    return faded(np.exp(-0.5 * (distance / band) ** 2), features, region)


def inside_outline(outline: np.ndarray, region: PixelBox, step: float, feather: float
                   ) -> np.ndarray:
    """1 at each pixel of ``region`` well inside the closed ``outline``, 0 well outside,
    blurred across it by a Gaussian of ``feather`` pixels: on a grid ``step`` pixels apart
    over the region (as :func:`outline_nearness`)."""
    inside = np.zeros(_grid(region, step), np.float32)
    cv2.fillPoly(inside, [_on_grid(outline, region, step)], 1.0)
    return cv2.GaussianBlur(inside, (0, 0), feather / _cell(region, step))


def faded(weight: np.ndarray, features: tuple[tuple[PixelBox, float], ...], region: PixelBox
          ) -> np.ndarray:
    """``weight`` (a grid over ``region``, as :func:`outline_nearness`), in place, falling to
    nothing towards the boxes of ``features`` (each with a Gaussian of its own pixels over
    the distance from it)."""
    gh, gw = weight.shape
    h, w = region.size
    xs = region.x0 + (np.arange(gw) + 0.5) * (w / gw) - 0.5
    ys = region.y0 + (np.arange(gh) + 0.5) * (h / gh) - 0.5
    for box, feather in features:
        dx = np.maximum(np.maximum(box.x0 - xs, xs - (box.x1 - 1)), 0)
        dy = np.maximum(np.maximum(box.y0 - ys, ys - (box.y1 - 1)), 0)
        weight *= 1.0 - np.exp(-0.5 * (dx[None, :] ** 2 + dy[:, None] ** 2) / feather**2)
    return weight


def _grid(region: PixelBox, step: float) -> tuple[int, int]:
    """The shape of a grid ``step`` pixels apart over ``region``."""
    h, w = region.size
    return max(2, int(round(h / step))), max(2, int(round(w / step)))


def _cell(region: PixelBox, step: float) -> float:
    """The mean side of that grid's cells, in pixels."""
    gh, gw = _grid(region, step)
    h, w = region.size
    return float(np.mean([w / gw, h / gh]))


def _on_grid(xy: np.ndarray, region: PixelBox, step: float) -> np.ndarray:
    """Image points ``xy`` (N, 2) at that grid's nearest cells."""
    gh, gw = _grid(region, step)
    h, w = region.size
    scale = np.array([w / gw, h / gh])
    return np.round((xy - (region.x0, region.y0) + 0.5) / scale - 0.5).astype(np.int32)


def smooth_where_stretched(source_xy: np.ndarray, within: np.ndarray,
                           stretch_from: tuple[float, float], sigma: float) -> None:
    """Smooth the backward map (:func:`smooth_map`, a Gaussian of ``sigma`` pixels) in place
    where it stretches the source (:func:`map_stretch`) past ``stretch_from``'s first,
    fully from its second, times ``within`` (0 to 1, on a grid over the map: the stretch is
    read on the same grid, as coarse as the map's own, a few ms instead of twenty on s18's
    720p frame).

    Why: where a turn brings skin into view, the map magnifies it two or three times, and
    the stretch changes from one landmark triangle to the next: the piecewise-affine map
    kinks along their shared edge, and across skin magnified past any fine detail of its own
    the kink is drawn as a line (s18 turned back through frontal: a faint line across the
    nose, along the edge from its bridge to the far eye's inner corner, between skin
    stretched 1.8 and 3.3 times). Smoothing the map moves the kink's few pixels and blurs no
    texture: every pixel is still sampled once, as sharply as the stretch allows. The
    weight at a kink is that of the more stretched side (the stretch's within the blur's
    reach), blurred as far: stepping at the kink, it would make one of its own."""
    h, w = source_xy.shape[:2]
    gh, gw = within.shape
    grid = cv2.resize(source_xy, (gw, gh), interpolation=cv2.INTER_LINEAR)
    start, full = stretch_from
    # (Per output pixel: the grid's cells are w / gw pixels wide.)
    stretch = map_stretch(grid) * (w / gw)
    reach = sigma * gw / w
    side = 2 * int(np.ceil(reach)) + 1
    weight = cv2.GaussianBlur(cv2.dilate(np.clip((stretch - start) / (full - start), 0.0, 1.0),
                                         cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                                   (side, side))),
                              (0, 0), reach)
    weight = cv2.resize(weight * within.astype(np.float32), (w, h),
                        interpolation=cv2.INTER_LINEAR)
    rows, columns = np.nonzero(weight > 1e-3)
    if not len(rows):
        return
    # Only around the skin it weighs (a few percent of the map), by the blur's reach.
    pad = int(np.ceil(3 * sigma)) + 1
    box = (slice(max(int(rows.min()) - pad, 0), int(rows.max()) + pad + 1),
           slice(max(int(columns.min()) - pad, 0), int(columns.max()) + pad + 1))
    smooth_map(source_xy[box], weight[box], sigma)


def map_area(source_xy: np.ndarray) -> np.ndarray:
    """How much source area (pixels) each output pixel of a map (:func:`backward_map`) reads,
    signed ((h - 1, w - 1), from the differences to the next pixel across and down): under 0
    where the map folds, near 0 where it squeezes the source into a line."""
    dx, dy = np.diff(source_xy, axis=1)[:-1], np.diff(source_xy, axis=0)[:, :-1]
    return dx[..., 0] * dy[..., 1] - dx[..., 1] * dy[..., 0]


def _jacobian(source_xy: np.ndarray) -> tuple[np.ndarray, ...]:
    """The map's Jacobian (d source x / d x, d source x / d y, d source y / d x, d source y /
    d y) at each output pixel: central differences, one-sided at the edges."""
    sx, sy = (np.ascontiguousarray(source_xy[..., k], dtype=np.float32) for k in (0, 1))

    def slope(channel: np.ndarray, dx: int, dy: int) -> np.ndarray:
        out = 0.5 * cv2.Sobel(channel, cv2.CV_32F, dx, dy, ksize=1,
                              borderType=cv2.BORDER_REPLICATE)
        edges = out[:, [0, -1]] if dx else out[[0, -1]]
        edges *= 2.0
        if dx:
            out[:, [0, -1]] = edges
        else:
            out[[0, -1]] = edges
        return out

    return slope(sx, 1, 0), slope(sx, 0, 1), slope(sy, 1, 0), slope(sy, 0, 1)


def map_stretch(source_xy: np.ndarray) -> np.ndarray:
    """How far the map ``source_xy`` (H, W, 2; :func:`backward_map`) stretches each output
    pixel in its most stretched direction: the inverse of its Jacobian's smaller singular
    value."""
    a, b, c, d = _jacobian(source_xy)
    total = a * a + b * b + c * c + d * d
    det = a * d - b * c
    smallest = np.sqrt(np.maximum(0.5 * (total - np.sqrt(np.maximum(total**2 - 4 * det**2,
                                                                     0.0))), 0.0))
    return 1.0 / np.maximum(smallest, 1e-3)


def map_squeeze(source_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many source pixels the map ``source_xy`` (H, W, 2; :func:`backward_map`) squeezes
    into each output pixel in its most squeezed direction (its Jacobian's larger singular
    value), and that direction in the source ((H, W, 2), unit vectors)."""
    a, b, c, d = _jacobian(source_xy)
    # The footprint's shape in the source, J J^T: its larger eigenvalue and eigenvector.
    xx, xy, yy = a * a + b * b, a * c + b * d, c * c + d * d
    half = 0.5 * (xx - yy)
    largest = 0.5 * (xx + yy) + np.sqrt(half * half + xy * xy)
    direction = np.dstack([xy, largest - xx])
    # (Where xy is 0, the eigenvector is an axis: x's when xx is the larger.)
    axis = np.dstack([(xx >= yy), (xx < yy)]).astype(np.float32)
    length = np.linalg.norm(direction, axis=2, keepdims=True)
    direction = np.where(length > 1e-6, direction / np.maximum(length, 1e-6), axis)
    return np.sqrt(largest), direction


def average_where_squeezed(out: np.ndarray, image: np.ndarray, source_xy: np.ndarray,
                           region: PixelBox, within: np.ndarray,
                           squeeze_from: tuple[float, float]) -> None:
    """Draw each pixel of ``region`` in ``out`` (the warp of ``image`` through the map
    ``source_xy``: :func:`remap_region`) where the map squeezes the source past
    ``squeeze_from``'s first, fully from its second (:func:`map_squeeze`), times ``within``
    (0 to 1, the region's (h, w) or a grid stretched over it), as the mean of the source
    over the pixel's footprint in it (along the squeeze, weighed by a tent reaching the
    neighbours' centres; two samples for each source pixel it spans, at most
    :data:`FOOTPRINT_SAMPLES`), in place.

    Why: a warp samples the source at one point per output pixel. Where a turn squeezes a
    strip of skin into a pixel or two (the far side of a nose turning away, five source
    pixels to one), that point falls on whatever the strip holds, its darkest crease
    included: s12 turned 25 degrees had the crease beside his nose, softened in the source
    by the shading around it, drawn alone as a one-pixel dark line from his eye to his
    moustache. The mean is what the squeezed strip looks like from further away."""
    h, w = region.size
    squeeze, direction = map_squeeze(source_xy)
    start, full = squeeze_from
    if within.shape != (h, w):
        within = cv2.resize(within.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    weight = np.clip((squeeze - start) / (full - start), 0.0, 1.0) * within
    rows, columns = np.nonzero(weight > 1e-3)
    if not len(rows):
        return
    # A tent over the pixel and its neighbours' footprints (as a resampling filter reads
    # them: the box of the pixel's own drew the squeezed strip as a step of its mean).
    count = int(min(2 * np.ceil(squeeze[rows, columns].max()), FOOTPRINT_SAMPLES))
    t = (np.arange(count) + 0.5) / count * 2.0 - 1.0
    along = t[None, :, None] * (squeeze[rows, columns, None] * direction[rows, columns])[:, None, :]
    samples = (source_xy[rows, columns][:, None, :] + along).astype(np.float32)
    tent = (1.0 - np.abs(t)) / (1.0 - np.abs(t)).sum()
    mean = np.einsum("nkc,k->nc", remap_at(image, samples[..., 0], samples[..., 1]
                                           ).astype(np.float32), tent)
    at = (rows + region.y0, columns + region.x0)
    share = weight[rows, columns, None]
    out[at] = np.clip(share * mean + (1.0 - share) * out[at], 0, 255).astype(out.dtype)


#: At most this many samples :func:`average_where_squeezed` takes across a pixel's footprint.
FOOTPRINT_SAMPLES = 16


#: How :func:`remap_region` resamples the face: bicubic. A head moved by a fraction of a pixel
#: reads every pixel between four of the source's, and bilinear weights average them (at half a
#: pixel, half and half), a blur over the whole face: s10 by d19 (moved 5 px) kept 0.56 of the
#: source's fine detail (mean absolute Laplacian) on its forehead and cheeks, her painting's
#: crackle washed out, against 0.79 bicubic and 0.89 Lanczos. Bicubic's overshoot at the
#: strongest edges is small (99th percentile 6 grey levels on s10: her dark background against
#: her skin, her eyes; 12 Lanczos; uint8 is clipped to 0..255 by ``cv2.remap``) and it adds 6%
#: to a render of a 1080p frame (12 ms on its 839x731 face; Lanczos 22%).
RESAMPLING = cv2.INTER_CUBIC


def remap_region(image: np.ndarray, region: PixelBox, source_xy: np.ndarray) -> np.ndarray:
    """``image`` with ``region`` resampled through the map (:func:`backward_map`) with
    :data:`RESAMPLING`; pixels outside it are untouched."""
    out = image.copy()
    out[region.slices] = cv2.remap(image, source_xy, None, interpolation=RESAMPLING,
                                   borderMode=cv2.BORDER_REFLECT)
    return out


def unfolded(src: np.ndarray, dst: np.ndarray, free: np.ndarray, folded_anyway: np.ndarray,
             least: float = 0.0, rounds: int = 30) -> np.ndarray:
    """``dst`` (N, 2) with the triangles of ``src`` that it turns over (a fold) opened again:
    the ``free`` points' (N,) bool moves in each folded triangle are drawn towards the
    triangle's mean move, which translates it whole (a translated triangle never turns over),
    round after round until each covers more than ``least`` of its area in ``src``. A
    triangle that ``folded_anyway`` (N, 2: the points moved without the motion that folds,
    e.g. a head turned without its expression) turns over too is left folded: the nose in
    front of a turned head's far cheek hides it, and the depth order draws that fold.

    Why: neighbouring landmarks moved apart by an expression fold the map where the face is
    foreshortened (a turned face's far cheek, its points a few pixels apart), and the skin
    between them is drawn twice, squeezed into a line (s10's smile drew the lip's shading up
    into the far cheek as a pink flick). Opened only just, such a triangle is a sliver, its
    skin still squeezed into a line (s10's smile: the upper lip's shading above her far
    corner, a dark band)."""
    triangles = _delaunay(src)
    triangles = triangles[free[triangles].any(axis=1)
                          & (_signed_area(src[triangles]) * _signed_area(folded_anyway[triangles])
                             > 0)]
    area = _signed_area(src[triangles])

    def covers(points: np.ndarray) -> np.ndarray:
        return _signed_area(points[triangles]) * area / np.maximum(area * area, 1e-12)

    # (Those the opening itself turns over are opened just past it: the skin between others
    # drawn along and the outline is no fold of the expression's.)
    wanted = np.where(covers(dst) <= 0, least, 0.0)
    out = dst.copy()
    for _ in range(rounds):
        folded = triangles[covers(out) <= wanted]
        if not len(folded):
            break
        move = out - src
        mean = move[folded].mean(axis=1)
        total, count = np.zeros_like(move), np.zeros(len(src))
        np.add.at(total, folded, np.repeat(mean[:, None], 3, axis=1))
        np.add.at(count, folded, 1.0)
        pulled = free & (count > 0)
        out[pulled] = src[pulled] + 0.5 * (move[pulled]
                                           + total[pulled] / count[pulled, None])
    return out


def carried_by_mesh(src: np.ndarray, dst: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Where the mesh of ``src`` (N, 2) placed at ``dst`` carries the source positions
    ``points`` (M, 2): each by its barycentric coordinates in the Delaunay triangle of ``src``
    that holds it (the nearest, extrapolated, outside them). A point added to the mesh there
    leaves the map as it was but for the triangles its insertion flips."""
    triangles = _delaunay(src)
    a, b, c = (src[triangles][:, k] for k in range(3))
    det = _signed_area(src[triangles])
    flat = np.abs(det) < _FLAT_AREA
    det = np.where(flat, 1.0, det)
    p = points[:, None]
    wb = ((p - a)[..., 0] * (c - a)[:, 1] - (p - a)[..., 1] * (c - a)[:, 0]) / det
    wc = ((b - a)[:, 0] * (p - a)[..., 1] - (b - a)[:, 1] * (p - a)[..., 0]) / det
    weights = np.stack([1.0 - wb - wc, wb, wc], axis=-1)  # (M, T, 3)
    holder = np.where(flat, -np.inf, weights.min(axis=-1)).argmax(axis=1)
    own = weights[np.arange(len(points)), holder]
    return np.einsum("mk,mkj->mj", own, dst[triangles[holder]])


def folds_round(src: np.ndarray, dst: np.ndarray, kept: np.ndarray, added: np.ndarray
                ) -> tuple[float, float]:
    """How much the mesh of the ``kept`` (N,) bool points of ``src`` (N, 2) placed at ``dst``
    turns over where the ``added`` (N,) bool points would join it, without them and with them
    at their own ``dst``: the area of its triangles that they retriangulate drawn turned over,
    as a share of the area those cover in ``src``.

    Why: a point left out of the mesh is drawn where its neighbours carry it; where its
    neighbours' motion turns their triangles over its place and its own does not, the mesh
    with it draws it where it goes, unfolded (s10's pouting upper lip's far end, seen at a
    slant); where its own motion carries it past its neighbours (her smile's far corner
    rising past the lip), the mesh with it folds."""
    without, with_added = (np.flatnonzero(points) for points in (kept, kept | added))
    own = [{tuple(sorted(t)) for t in points[_delaunay(src[points])].tolist()}
           for points in (without, with_added)]
    removed, made = (np.array(sorted(a - b), int).reshape(-1, 3)
                     for a, b in ((own[0], own[1]), (own[1], own[0])))
    area = float(np.abs(_signed_area(src[removed])).sum())
    if area <= _FLAT_AREA:
        return 0.0, 0.0

    def turned_over(triangles: np.ndarray) -> float:
        drawn = _signed_area(dst[triangles]) * np.sign(_signed_area(src[triangles]))
        return float(-np.minimum(drawn, 0.0).sum()) / area

    return turned_over(removed), turned_over(made)


def _signed_area(corners: np.ndarray) -> np.ndarray:
    """(T,) twice the signed area of triangles (T, 3, 2)."""
    e1, e2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    return e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
