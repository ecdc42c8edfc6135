"""The warp's dense map: its triangle rasterizer tiles the grid, and the map it builds is the
piecewise-affine interpolation of the point correspondences."""

import numpy as np
from scipy.spatial import Delaunay

from deepexpo.geometry.boxes import PixelBox
from deepexpo.render.mesh_warp import (
    _delaunay,
    _rasterize,
    _signed_area,
    average_where_squeezed,
    backward_map,
    carried_by_mesh,
    folds_round,
    smooth_map,
    smooth_where_stretched,
    unfolded,
)


def test_the_triangulation_is_delaunay():
    points = np.random.default_rng(2).uniform(-50, 700, (500, 2))
    ours = {tuple(t) for t in np.sort(_delaunay(points), axis=1)}
    assert ours == {tuple(t) for t in np.sort(Delaunay(points).simplices, axis=1)}


def test_rasterized_triangles_cover_each_grid_point_once_and_the_right_one():
    rng = np.random.default_rng(0)
    # Points on integer and half-integer positions too: edges through grid points, shared
    # vertices on the grid, flat and upright edges.
    points = np.r_[rng.uniform(0, 40, (60, 2)), rng.integers(0, 41, (30, 2)),
                   [[0, 0], [40, 0], [0, 40], [40, 40]]].astype(np.float64)
    mesh = Delaunay(points)
    triangle, row, column = _rasterize(points[mesh.simplices], (41, 41))

    hits = np.zeros((41, 41), int)
    np.add.at(hits, (row, column), 1)
    # The hull is the square [0, 40]^2: each point in it exactly once, except on its right
    # and bottom sides, which spans leave open.
    assert (hits[:40, :40] == 1).all()
    assert (hits[40] == 0).all() and (hits[:, 40] == 0).all()

    # Away from edges (where either neighbour is right), the triangle is the one containing
    # the point.
    xy = np.c_[column, row].astype(np.float64)
    transform = mesh.transform[triangle]
    weights = np.einsum("mij,mj->mi", transform[:, :2], xy - transform[:, 2])
    weights = np.c_[weights, 1 - weights.sum(axis=1)]
    assert weights.min() > -1e-9
    clear = weights.min(axis=1) > 1e-6
    assert clear.mean() > 0.8
    np.testing.assert_array_equal(triangle[clear], mesh.find_simplex(xy[clear]))


def test_the_map_reproduces_an_affine_motion_on_the_coarse_grid_and_in_detail_boxes():
    rng = np.random.default_rng(1)
    dst = np.r_[rng.uniform(20, 180, (80, 2)),
                [[0, 0], [199, 0], [0, 149], [199, 149]]]
    linear, shift = np.array([[1.05, 0.1], [-0.08, 0.95]]), np.array([3.0, -2.0])
    src = dst @ linear.T + shift
    region = PixelBox(0, 0, 200, 150)
    detail = PixelBox(60, 40, 110, 80)

    source_xy = backward_map(src, dst, region, step=4.0, detail=(detail,))

    assert source_xy.shape == (150, 200, 2) and source_xy.dtype == np.float32
    ys, xs = np.mgrid[0:150, 0:200].astype(np.float64)
    expected = np.dstack([xs, ys]) @ linear.T + shift
    np.testing.assert_allclose(source_xy[detail.slices], expected[detail.slices], atol=1e-3)
    inner = (slice(4, 146), slice(4, 196))  # the coarse grid's interpolation holds inside it
    np.testing.assert_allclose(source_xy[inner], expected[inner], atol=1e-3)


def test_a_point_is_carried_as_its_triangle_moves():
    """Inside the mesh, a point goes where its triangle's affine motion takes it (here each
    triangle's is one affine's, and one triangle is moved on its own); outside it, where the
    nearest triangle's extrapolates."""
    rng = np.random.default_rng(3)
    src = rng.uniform(0, 100, (40, 2))
    linear, shift = np.array([[0.9, 0.2], [-0.1, 1.1]]), np.array([5.0, -3.0])
    dst = src @ linear.T + shift
    points = np.r_[rng.uniform(30, 70, (20, 2)), [[-20.0, 50.0]]]
    np.testing.assert_allclose(carried_by_mesh(src, dst, points), points @ linear.T + shift,
                               atol=1e-9)
    triangle = _delaunay(src)[0]
    inside = src[triangle].mean(axis=0, keepdims=True)
    moved = dst.copy()
    moved[triangle] += [4.0, -2.0]
    np.testing.assert_allclose(carried_by_mesh(src, moved, inside),
                               inside @ linear.T + shift + [4.0, -2.0], atol=1e-9)


def test_folds_round_an_added_point_are_told_without_it_and_with_it():
    """A grid's middle point left out, its left and right neighbours drawn in (the mesh
    without it joins them across its place): a translation folds neither mesh; the point's
    own target thrown past its right neighbour folds only the mesh with it; the point above
    pushed down past that join, the middle point carried on ahead of it, folds only the mesh
    without it (its triangle above the join turned over: a quarter of the area round it)."""
    xs, ys = np.meshgrid(np.arange(5.0) * 10, np.arange(5.0) * 10)
    src = np.c_[xs.ravel(), ys.ravel()]
    above, left, middle, right = 7, 11, 12, 13
    src[[left, right]] = [[13.0, 20.0], [27.0, 20.0]]
    kept = np.ones(len(src), bool)
    kept[middle] = False
    assert folds_round(src, src + [3.0, -4.0], kept, ~kept) == (0.0, 0.0)
    thrown = src.copy()
    thrown[middle] += [25.0, 0.0]
    without, with_it = folds_round(src, thrown, kept, ~kept)
    assert without == 0.0 and with_it > 0.5
    pushed = src.copy()
    pushed[[above, middle]] = [[20.0, 25.0], [20.0, 28.0]]
    np.testing.assert_allclose(folds_round(src, pushed, kept, ~kept), (0.25, 0.0), atol=1e-12)


def test_a_lid_closing_over_an_eye_covers_it_with_lid_skin():
    # An eye between x 10 and 90: lid skin above the upper margin (y 50), lower margin at
    # y 70, its points not above the upper ones (as MediaPipe's are not), the cheek below.
    xs = np.arange(10.0, 91.0, 10.0)
    skin, upper = np.c_[xs, np.full_like(xs, 35.0)], np.c_[xs, np.full_like(xs, 50.0)]
    lower = np.c_[xs[:-1] + 5.0, np.full(len(xs) - 1, 70.0)]
    corners = np.array([[0.0, 60.0], [100.0, 60.0]])
    frame = np.array([[-20.0, -20.0], [120.0, -20.0], [120.0, 120.0], [-20.0, 120.0],
                      [50.0, 10.0], [50.0, 100.0]])
    src = np.r_[skin, upper, lower, corners, frame]
    # The upper margin comes down onto the lower one, the skin above follows half way.
    dst = np.r_[skin + [0.0, 17.0], upper + [0.0, 19.5], lower, corners, frame]

    source_xy = backward_map(src, dst, PixelBox(0, 0, 100, 100), step=1.0)

    # Where the eye was, the output shows lid skin (from above the margin), not the eye
    # opening squeezed or stretched across it.
    covered = source_xy[53:68, 20:81, 1]
    assert covered.max() <= 50.0 + 1e-3


def test_where_the_map_folds_the_nearest_triangle_shows():
    # A quadrilateral folded along its diagonal (from (10, 0) to (0, 10), its Delaunay edge):
    # the far corner comes down over the near one, so the triangle holding it covers the other.
    src = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [12.0, 12.0]])
    dst = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [-3.0, -3.0]])
    region = PixelBox(0, 0, 10, 10)

    def sampled(depth: list[float]) -> np.ndarray:
        return backward_map(src, dst, region, step=1.0, depth=np.array(depth))[2, 2]

    # The folded-over half in front: the point shows the far half.
    assert sampled([0.0, 0.0, 0.0, -5.0]).sum() > 10.0
    # Behind: the unfolded half shows, which does not move.
    np.testing.assert_allclose(sampled([0.0, 0.0, 0.0, 5.0]), [2.0, 2.0], atol=1e-4)


def test_smoothing_a_map_leaves_it_affine_and_rounds_its_kinks():
    """``smooth_map`` leaves an affine map as it is (away from the region's border, where its
    blur has nothing beyond) and rounds off a kink: the piecewise-affine map's bend at a
    triangle's edge, which bends a straight strand of hair crossing it."""
    ys, xs = np.mgrid[0:120, 0:140].astype(np.float32)
    affine = np.dstack([1.2 * xs + 0.1 * ys + 3.0, -0.2 * xs + 0.9 * ys]).astype(np.float32)
    smoothed = affine.copy()
    smooth_map(smoothed, np.ones(affine.shape[:2]), 6.0)
    assert np.abs(smoothed - affine)[25:-25, 25:-25].max() < 1e-3
    kinked = np.dstack([xs + 0.5 * np.abs(xs - 70.0), ys]).astype(np.float32)
    smoothed = kinked.copy()
    weight = np.zeros(kinked.shape[:2])
    weight[:, 30:110] = 1.0
    smooth_map(smoothed, weight, 6.0)
    bend = np.abs(np.diff(smoothed[60, :, 0], 2))
    assert bend[40:100].max() < 0.2 < np.abs(np.diff(kinked[60, :, 0], 2)).max()
    assert np.array_equal(smoothed[:, :30], kinked[:, :30])  # no weight: untouched


def test_a_map_is_smoothed_where_it_stretches_the_source():
    """``smooth_where_stretched`` rounds off a kink between skin stretched 1.8 and 3.3 times
    (a turn bringing skin into view: drawn as a line across it), and leaves the map where it
    stretches little (a kink between 1 and 1.25 times) as it is."""
    ys, xs = np.mgrid[0:80, 0:160].astype(np.float64)
    # Source pixels per output pixel across: 1, 0.8 from x 40, 0.55 from 70, 0.3 from 105.
    slope = np.select([xs < 40, xs < 70, xs < 105], [1.0, 0.8, 0.55], 0.3)
    source_x = np.cumsum(slope, axis=1) - slope[:, :1]
    kinked = np.dstack([source_x, ys]).astype(np.float32)
    smoothed = kinked.copy()
    smooth_where_stretched(smoothed, np.ones(kinked.shape[:2]), (1.5, 2.5), 4.0)
    bend = np.abs(np.diff(smoothed[40, :, 0], 2))
    assert bend[95:115].max() < 0.3 * np.abs(np.diff(kinked[40, :, 0], 2))[95:115].max()
    assert np.array_equal(smoothed[:, :50], kinked[:, :50])


def test_a_fold_is_opened_and_a_fold_the_turn_makes_is_kept():
    """A point pushed past its neighbour turns their triangles over: :func:`unfolded` opens
    them, moving only the free points; a fold already there without that motion stays."""
    src = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0], [5.0, 5.0]])
    dst = src.copy()
    dst[4] = [14.0, 5.0]  # the middle pushed out past the right edge
    free = np.array([False, False, False, False, True])
    tri = _delaunay(src)

    def folds(points):
        e1, e2 = points[tri[:, 1]] - points[tri[:, 0]], points[tri[:, 2]] - points[tri[:, 0]]
        area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        e1, e2 = src[tri[:, 1]] - src[tri[:, 0]], src[tri[:, 2]] - src[tri[:, 0]]
        return int((area * (e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]) <= 0).sum())

    assert folds(dst) > 0
    out = unfolded(src, dst, free, src)
    assert folds(out) == 0
    np.testing.assert_array_equal(out[:4], src[:4])
    assert out[4, 0] > 5.0  # still moved the way it was pushed
    np.testing.assert_array_equal(unfolded(src, dst, free, dst), dst)


def test_a_fold_is_opened_as_wide_as_asked():
    """Opened just past it, a folded triangle is a sliver, its skin squeezed into a line (a
    fifth of its area here): asked for half, it covers at least half, the point still moved
    the way it was pushed."""
    src = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0], [5.0, 5.0]])
    dst = src.copy()
    dst[4] = [14.0, 5.0]
    free = np.array([False, False, False, False, True])
    tri = _delaunay(src)

    def covers(points):
        return _signed_area(points[tri]) / _signed_area(src[tri])

    assert covers(unfolded(src, dst, free, src)).min() < 0.25
    out = unfolded(src, dst, free, src, least=0.5)
    assert covers(out).min() >= 0.5
    assert out[4, 0] > 5.0



def test_a_large_squeezed_region_is_drawn_as_the_mean_of_what_each_pixel_covers():
    """Over 32767 squeezed pixels at once (s7, 852 px, by d3.mp4's turned frown, frames
    260-266) made ``cv2.remap`` fail (dst.rows < SHRT_MAX) and the transfer stop. One-pixel
    stripes squeezed 4:1 are drawn as their mean, grey, over the whole region."""
    h, w = 180, 200  # 36000 pixels, all squeezed
    stripes = np.zeros((h, 4 * w + 8, 3), np.uint8)
    stripes[:, 1::2] = 200
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    source_xy = np.dstack([4 * xs + 2, ys])
    region = PixelBox(0, 0, w, h)
    out = np.zeros((h, w, 3), np.uint8)
    out[:] = stripes[:, 2:4 * w + 2:4]  # the point sampling: all black
    average_where_squeezed(out, stripes, source_xy, region, np.ones((h, w)), (1.5, 2.5))
    assert abs(float(out[2:-2, 2:-2].mean()) - 100) < 3
    assert float(out[2:-2, 2:-2].std()) < 3
