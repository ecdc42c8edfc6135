"""The closing lid drawn over an eye (render/lids.py), with its lash line (render/lashes.py), on
a drawn eye whose parts are known: skin with grain, a brow close above the eye, a lash line, the
eye's white below it."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter

from deepexpo.engines.warp_engine import WarpEngine
from deepexpo.face.landmarks import FaceLandmarks, Landmarker
from deepexpo.geometry.boxes import PixelBox
from deepexpo.io.images import read_image
from deepexpo.motion.controls import ExpressionControls, ExpressionEdit
from deepexpo.motion.eyelids import Eyelid, eyelids
from deepexpo.render.lashes import THICKEST, draw_lash_line, read_lash_line
from deepexpo.render.lids import draw_closing_lid
from deepexpo.render.texture import grain_strength_at
from tests.conftest import shared_sample

SIZE = 200
BROW = (80, 88)  # rows of the brow band
LASH, LOWER = 100, 124  # the open eye's lash line and lower lid
LEFT, RIGHT = 60, 140


def _eye() -> np.ndarray:
    rng = np.random.default_rng(0)
    image = np.full((SIZE, SIZE, 3), (200, 160, 140), np.float64)
    image += rng.normal(0, 4, image.shape)  # the skin's grain
    image[BROW[0]:BROW[1], 40:160] = (90, 60, 50)
    image[LASH + 1:LOWER, LEFT:RIGHT] = (245, 245, 240)  # the white of the eye
    image[LASH - 2:LASH + 1, LEFT:RIGHT] = (40, 30, 30)
    return np.clip(image, 0, 255).astype(np.uint8)


def _close(image: np.ndarray, brow: bool, shut_at: float = LOWER - 4.0,
           stray_brow: np.ndarray | None = None, outer: bool = False, closed: float = 1.0
           ) -> np.ndarray:
    """The lid shut on the lower lid of ``image`` (at row ``shut_at``), drawn over ``image``
    itself as the warp (with ``stray_brow`` among the brow's landmarks; ``outer``: its
    outer corner is the left one)."""
    out = image.copy()
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    xs_margin = np.linspace(LEFT, RIGHT, 9)
    shut = np.c_[xs_margin, np.full(9, shut_at)]
    lash = np.c_[xs_margin, np.full(9, float(LASH))]
    gap = np.r_[0.0, np.full(7, float(LOWER - LASH)), 0.0]
    brow_xy = np.array([[x, y] for x in np.linspace(40, 160, 5) for y in BROW], np.float64)
    if stray_brow is not None:
        brow_xy = np.r_[brow_xy, stray_brow]
    draw_closing_lid(out, image, np.dstack([xs, ys]), PixelBox(0, 0, SIZE, SIZE), shut, lash,
                     gap, closed, 1.0, brow_xy if brow else None, shut[0] if outer else None)
    # (And its lash line laid along the margin, as the engine lays it.)
    line = read_lash_line(image, lash, float(gap.max()))
    if line is not None:
        draw_lash_line(out, image, line, shut, 1.0)
    return out


def test_the_lid_stays_below_the_brow():
    """Redrawn up to twice the eye's gap above the shut margin, the lid would cover the lower
    part of a brow close above the eye (a notch in it); it stops at the brow's lower edge."""
    image = _eye()
    middle = slice(LEFT + 10, RIGHT - 10)
    without = _close(image, brow=False)
    assert np.abs(without[BROW[0]:BROW[1], middle].astype(int)
                  - image[BROW[0]:BROW[1], middle]).max() > 20  # (what it did)
    out = _close(image, brow=True)
    assert np.array_equal(out[:BROW[1] - 2], image[:BROW[1] - 2])


def test_a_brow_landmark_on_the_open_lid_does_not_hold_the_lid_down():
    """A far eye's brow landmark may lie on its open lid, just above the lash line (s10's): the
    lid drawn stopped at it, and the eye's lid and iris stretched under its fade showed
    through as a grey ghost. It is no brow's: the lid is drawn as without it."""
    image = _eye()
    plain = _close(image, brow=True)
    out = _close(image, brow=True, stray_brow=np.array([[125.0, LASH - 5.0]]))
    assert np.array_equal(out, plain)


def test_the_shut_lid_is_no_lighter_than_its_skin():
    """Nothing of the eye's white is left in the lash line or the strip below the shut
    margin: the warp squeezes the eye's white along the lower lid, and where the eye's
    landmarks lie inside its lids (a painting's) it showed through."""
    image = _eye()
    out = _close(image, brow=True).astype(np.float64)
    skin = image[BROW[1] + 2:LASH - 4, LEFT:RIGHT].reshape(-1, 3).mean(axis=0)
    strip = out[LOWER - 8:LOWER - 2, LEFT + 8:RIGHT - 8]
    assert (strip.mean(axis=2) <= skin.mean() + 12).all()


def _lum(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def test_a_lit_lid_band_closes_in_the_skins_tone():
    """A lit band on the open lid (a photo's highlight between lashes and crease), stretched
    over the shut eye, drew a pale eye-shaped patch on it (s12; MediaPipe read it as an open
    eye): the closed lid stays within a few levels of the skin around the eye."""
    image = _eye()
    image[LASH - 8:LASH - 2, LEFT:RIGHT] = (250, 235, 225)
    out = _close(image, brow=True)
    skin = _lum(image[LOWER + 8:LOWER + 20, LEFT:RIGHT]).mean()
    lid = _lum(out[LASH:LOWER - 8, LEFT + 15:RIGHT - 15])
    assert lid.mean() < skin + 10, (lid.mean(), skin)


def test_a_heavy_eyeliner_closes_into_a_thin_lash_line():
    """An eyeliner a ninth of the eye's width thick (s1's is 0.15 of it) is drawn on the
    closed lid no thicker than a lash line: it was a band 13 px thick on this 80 px eye. (Its
    darkest part is the source's own line at most :data:`~deepexpo.render.lashes.THICKEST`
    of the eye's width, 5.6 px here, a pixel more with its antialiased edges: drawn thinning
    out above the margin, as the lid drew it before, a small eye's line, s42's or Grace
    Hopper's, broke into dark dashes.)"""
    image = _eye()
    image[LASH - 8:LASH + 1, LEFT:RIGHT] = (40, 30, 30)
    out = _close(image, brow=True)
    column = _lum(out[LASH - 4:LOWER + 4, LEFT + 20:RIGHT - 20]).mean(axis=1)
    assert (column < 100).sum() <= (RIGHT - LEFT) / 8, (column < 100).sum()
    assert (column < 60).sum() <= THICKEST * (RIGHT - LEFT) + 1, np.round(column)


def test_an_eyeshadow_closes_into_skin_with_its_grain():
    """The closed lid is skin: near the tone of the skin around the eye (a little darker, as a
    closed lid is), with the picture's grain. A band of eyeshadow on the open lid, stretched
    and smoothed over the shut eye, drew a flat patch (s1): its grain was a third of the
    skin's."""
    image = _eye()
    image[LASH - 10:LASH - 2, LEFT:RIGHT] = (130, 85, 75)
    out = _close(image, brow=True)
    skin = image[LOWER + 10:LOWER + 30, LEFT:RIGHT]
    lid = out[LASH + 4:LOWER - 8, LEFT + 15:RIGHT - 15]
    assert 0.85 < _lum(lid).mean() / _lum(skin).mean() < 1.0

    def grain(pixels: np.ndarray) -> float:  # a row's spread about its own mean
        lum = _lum(pixels)
        return float((lum - lum.mean(axis=1, keepdims=True)).std())
    assert grain(lid) > 0.6 * grain(skin), (grain(lid), grain(skin))


def test_a_paintings_crackle_closes_at_full_strength():
    """A painting's crackle (lines a pixel wide) shows on the closed lid as strongly as on the
    skin around it, also where the lid closes between two rows of pixels: its grain read
    between pixels halved it (s10's lids were smooth pale patches: 0.6 of the skin's)."""
    image = _crackled()
    out = _close(image, brow=False, shut_at=LOWER - 4.5)
    skin = image[LOWER + 10:LOWER + 40, LEFT:RIGHT]
    lid = out[LASH + 4:LOWER - 10, LEFT + 15:RIGHT - 15]
    assert _fine(lid) > 0.8 * _fine(skin), (_fine(lid), _fine(skin))


def _crackled() -> np.ndarray:
    """The drawn eye with a painting's crackle: dark lines a pixel wide."""
    image = _eye().astype(np.int16)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    image[((xs + 2 * ys) % 11 == 0) | ((3 * xs - ys) % 13 == 0)] -= 35
    return np.clip(image, 0, 255).astype(np.uint8)


def _fine(pixels: np.ndarray) -> float:
    """The energy of the detail finer than a pixel or two."""
    lum = _lum(pixels)
    return float(np.abs(lum - gaussian_filter(lum, 1.0)).mean())


def test_the_lash_line_tapers_to_its_corners():
    """The closed lid's lash line ends in a point at the eye's corners: drawn as thick to its
    ends, where the warp squeezes a thick eyeliner's end, it drew a hook (s1)."""
    out = _close(_eye(), brow=True)
    dark = _lum(out[LASH + 4:LOWER + 6]) < 100
    middle = dark[:, 95:105].sum(axis=0).mean()
    ends = dark[:, [LEFT + 3, LEFT + 4, RIGHT - 4, RIGHT - 3]].sum(axis=0).mean()
    assert ends <= 0.5 * middle, (ends, middle)


def test_the_lid_fades_into_a_lit_corner_without_an_edge():
    """Past the end of the lid's arch, where its softened edge still reaches, the lid was held
    no lighter than the whole lid's skin: by a lit outer corner (s1's), whose skin the lid's
    end takes on, it ended in a straight vertical edge (here a step of 19 levels, the skin
    beside it 3 a pixel). Across the columns past the eye's corner, in the rows of the shut
    lid, no step is larger than the skin's own."""
    image = _eye().astype(np.float64)
    xs = np.arange(SIZE)
    lit = 50 * np.clip((LEFT + 20 - xs) / 40.0, 0.0, 1.0)  # towards the outer corner
    skin = np.ones((SIZE, SIZE), bool)
    skin[BROW[0]:BROW[1], 40:160] = False
    skin[LASH - 2:LOWER, LEFT:RIGHT] = False
    image = np.clip(image + (lit[None, :] * skin)[..., None], 0, 255).astype(np.uint8)
    band = (slice(LASH, LOWER - 4), slice(LEFT - 20, LEFT - 2))

    def largest_step(pixels: np.ndarray) -> float:  # across columns, the rows' median
        return float(np.abs(np.median(np.diff(_lum(pixels), axis=1), axis=0)).max())
    out = _close(image, brow=True)
    assert largest_step(out[band]) < largest_step(image[band]) + 3, \
        (largest_step(out[band]), largest_step(image[band]))


def test_the_crackle_carries_through_the_lids_fade():
    """Where the redrawn lid fades into the warp at its top, the painting's crackle goes on as
    strongly as on the skin: the warp there was clipped pixel by pixel to the lid's skin
    (its lighter grain cut off) and two grains mixed half and half cancelled, a smooth band
    that drew the lid's outline (s10: an oval; here 0.91 of the skin's, now 1.14)."""
    out = _close(_crackled(), brow=False)
    skin = _crackled()[LOWER + 10:LOWER + 40, LEFT:RIGHT]
    fade = out[80:96, LEFT + 15:RIGHT - 15]
    assert _fine(fade) > _fine(skin), (_fine(fade), _fine(skin))


def _winged() -> np.ndarray:
    """The drawn eye with an eyeliner's wing: a dark stroke from the lash line's outer (left)
    end, up and out past the corner (s1's)."""
    image = _eye()
    for t in np.linspace(0.0, 1.0, 40):
        x, y = LEFT + 1 - 11 * t, LASH - 1 - 6 * t
        image[int(round(y)) - 1:int(round(y)) + 2, int(round(x)) - 1:int(round(x)) + 2] = \
            (40, 30, 30)
    return image


WING = (slice(LASH - 7, LASH + 1), slice(LEFT - 10, LEFT - 4))  # its part past the lid's arch


def test_an_eyeliners_wing_is_painted_out():
    """An eyeliner's wing past the eye's outer corner, which the redrawn lid's arch does not
    reach, stayed in the warp as a dark hook off the shut lid's tapered lash line (s1): the
    skin is there now, in the tone of the skin around it."""
    image = _winged()
    skin = _lum(image[BROW[1] + 2:LASH - 4, LEFT - 20:LEFT - 12]).mean()
    assert _lum(_close(image, brow=True)[WING]).min() < 60  # (what it did)
    out = _lum(_close(image, brow=True, outer=True)[WING])
    assert out.min() > skin - 25, (out.min(), skin)
    # (Half shut, the wing is still seen with its lash line: painted out, a pale patch.)
    half = _close(image, brow=True, shut_at=LASH + 0.5 * (LOWER - LASH), closed=0.5, outer=True)
    assert _lum(half[WING]).min() < 60


def test_an_eyeliners_wing_is_painted_out_no_lighter_than_the_skin():
    """... and painted out in the tone of the skin around it, not of the white of the eye
    beside it (past the corner landmark, below the wing: on s42's shut eye, read into the
    wing's tone, it left a pale wedge at the outer corner)."""
    image = _winged()
    image[LASH + 1:LASH + 10, LEFT - 20:LEFT - 8] = (245, 245, 240)
    skin = _lum(image[BROW[1] + 2:LASH - 4, LEFT - 20:LEFT - 12]).mean()
    out = _lum(_close(image, brow=True, outer=True)[WING])
    assert np.percentile(out, 90) < skin + 3 and out.max() < skin + 8, \
        (np.percentile(out, 90), out.max(), skin)


def test_a_nearly_shut_lid_leaves_no_speck_of_the_wing():
    """Nearly shut, the redrawn lid's arch is lower at the eye's ends: the thick eyeliner
    above the lash line by the outer corner, joined to the wing painted out, was left as a
    dark speck above the lid (s1 driven by d19's blink); it goes with the wing."""
    image = _winged()
    image[LASH - 13:LASH - 9, LEFT:LEFT + 12] = (40, 30, 30)  # its top, joined at the corner
    image[LASH - 13:LASH, LEFT:LEFT + 2] = (40, 30, 30)
    liner = (slice(LASH - 13, LASH - 9), slice(LEFT + 3, LEFT + 12))
    nearly = _close(image, brow=True, shut_at=LASH + 0.75 * (LOWER - LASH), closed=0.75,
                    outer=True)
    skin = _lum(image[BROW[1] + 2:LASH - 8, LEFT - 20:LEFT - 12]).mean()
    assert _lum(nearly[liner]).min() > skin - 40, (_lum(nearly[liner]).min(), skin)


def test_a_dark_background_beside_the_eye_is_no_wing():
    """A dark background beside a turned head's far eye, joined to its lash line (s10's), is
    no eyeliner's wing: the lid is drawn as without it."""
    image = _eye()
    image[:, :LEFT - 6] = (20, 20, 30)
    image[LASH - 2:LASH + 1, LEFT - 6:LEFT] = (40, 30, 30)
    assert np.array_equal(_close(image, brow=True, outer=True), _close(image, brow=True))


def test_a_shaded_socket_beside_the_eye_is_no_wing():
    """A socket's shade beside the eye's outer corner, joined to its lash line and under the
    wing's darkness over a broad patch but only at its deepest (its darkest tenth over 0.15
    of the way from the lash line's tone to the skin's; s10's far socket 0.16, over 0.045 of
    the eye's width squared), is no eyeliner's wing: painted out in the skin's tone, it sat
    round s10's closing far eye (d12.mp4 frame 48) as a pale patch with straight edges, the
    step across its sides 6.5 levels of L against the source's 4.0 there (now 4.0). The lid
    is drawn as without it."""
    image = _eye().astype(np.float64)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    shade = np.exp(-((xs - (LEFT - 9.0))**2 + (ys - (LASH - 4.0))**2) / (2 * 18.0**2))
    # (Below the brow; the eye and its lash line as they were.)
    socket = ((xs < LEFT) | (ys < LASH - 2)) & (ys > BROW[1] + 2)
    image[socket] *= 1.0 - 0.66 * shade[socket, None]
    image = np.clip(image, 0, 255).astype(np.uint8)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64)
    lash, skin = gray[LASH - 1, LEFT + 10:RIGHT - 10].mean(), np.median(gray)
    deepest = np.percentile(gray[socket & (xs < LEFT)], 1)
    assert (deepest - lash) / (skin - lash) > 0.15, (deepest, lash, skin)
    assert np.array_equal(_close(image, brow=True, outer=True), _close(image, brow=True))


def test_a_crease_under_the_eye_draws_no_arc_on_the_lid():
    """The lid's grain is read from the skin under the eye, following the lash line's curve: a
    crease close under the lower lid (a line the other way round) was read across it as a
    faint arc a few pixels above the lash line (s1-gray)."""
    image = _eye()
    creased = image.copy().astype(np.int16)
    for x in range(LEFT - 10, RIGHT + 10):
        y = int(round(LOWER + 12 + 0.004 * (x - 100) ** 2))
        creased[y:y + 2, x] -= 40
    creased = np.clip(creased, 0, 255).astype(np.uint8)
    lid = (slice(LASH + 6, LOWER - 8), slice(LEFT + 10, RIGHT - 10))
    change = np.abs(_lum(_close(creased, brow=True)[lid]) - _lum(_close(image, brow=True)[lid]))
    assert change.max() < 8, change.max()


def test_a_light_lash_row_closes_into_skin_with_its_grain():
    """Where the source's lash row is the eye's white (a painted eye's landmarks lie inside
    its lids; s10's lash line ends well before its inner corner), the closed lid's lash line
    there is skin with the picture's crackle: capped to the skin's flat tone, it drew a
    smooth band along the margin at that end."""
    image = _crackled()
    for ends in (slice(LEFT, LEFT + 20), slice(RIGHT - 20, RIGHT)):
        image[LASH - 2:LASH + 1, ends] = (245, 245, 240)
    out = _close(image, brow=False)
    shut = int(LOWER - 4)
    ends = out[shut - 2:shut + 1, LEFT + 4:LEFT + 14]
    skin = image[LOWER + 10:LOWER + 40, LEFT:RIGHT]
    assert _fine(ends) > 0.7 * _fine(skin), (_fine(ends), _fine(skin))


def test_a_glasses_frame_across_the_lid_stays_sharp():
    """A glasses' frame crossing the eye above its lash line, within the shut lid's reach
    (Grace Hopper's): the lid stops below it and the frame is left as it was, where the lid's
    arch reached over it and drew it in the lid's tone (174 levels lighter); the eye is still
    shut under it."""
    image = _eye()
    frame = (slice(BROW[1] - 4, BROW[1]), slice(LEFT, RIGHT))
    image[BROW[1] - 4:BROW[1], 20:180] = (30, 20, 20)  # across the brow's lower half
    out = _close(image, brow=False)
    assert np.abs(out[frame].astype(int) - image[frame]).max() <= 4
    lid = (slice(LASH + 6, LOWER - 8), slice(LEFT + 10, RIGHT - 10))
    assert (_lum(out[lid]) < _lum(image[lid]) - 40).mean() > 0.95


def test_a_lid_darkened_to_a_shadowed_socket_is_no_greyer_than_it():
    """Skin in shade is deeper in colour, not greyer (its reddest channel darkened least). The
    shut lid is darkened towards a shadowed socket round it: darkened channel for channel, its
    pale tone turned a grey patch in s12's brown socket (here its chroma 18.6 against the
    socket's 20, though lighter than it). Its Lab chroma is at least the socket's."""
    image = _eye().astype(np.float64)
    socket = np.zeros(image.shape[:2], bool)
    socket[LASH - 30:LOWER + 10, LEFT - 30:RIGHT + 30] = True
    socket[LASH - 2:LOWER, LEFT:RIGHT] = False
    socket[BROW[0]:BROW[1]] = False
    skin = image[socket]
    image[socket] = skin * 0.7 ** (skin.mean(axis=1, keepdims=True) / skin)
    image = np.clip(image, 0, 255).astype(np.uint8)
    out = _close(image, brow=True)

    def chroma(pixels: np.ndarray) -> float:
        lab = cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).astype(np.float64)
        return float(np.hypot(*(np.median(lab[:, 0, 1:], axis=0) - 128)))
    lid = out[LASH:LOWER - 8, LEFT + 15:RIGHT - 15]
    assert chroma(lid) >= chroma(image[socket]), (chroma(lid), chroma(image[socket]))


def test_a_shut_lid_has_no_dark_band_under_the_brow(landmarker):
    """s42's light brows lie close above her eyes: the shut lid's tone, read from the skin
    around it, took in the brow's, which darkened the lid's top, a dark band under the brow
    (the top of an eye-shaped patch): down the middle of each shut eye, from the brow's lower
    landmarks to the open eye's lower lid, the rows' median luminance dipped 4 and 12 levels
    below its highest on both sides (now 1). At most 3."""
    image = read_image(shared_sample("sources/s42.jpg"))
    face = landmarker.detect(image)
    engine = WarpEngine()
    out = engine.edit(engine.prepare_source(image, face),
                      ExpressionEdit(ExpressionControls(blink=1.0)))
    gray = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(np.float64)

    def valley(profile: np.ndarray) -> float:  # the deepest dip below both sides' highest
        return max(min(profile[:i + 1].max(), profile[i:].max()) - profile[i]
                   for i in range(len(profile)))
    for lid in eyelids():
        x0, x1 = np.sort(face.xy[lid.corners, 0])
        middle = slice(int(x0 + 0.3 * (x1 - x0)), int(x1 - 0.3 * (x1 - x0)))
        rows = slice(int(face.xy[lid.brow, 1].max()), int(face.xy[lid.lower, 1].mean()))
        assert valley(np.median(gray[rows, middle], axis=1)) <= 3, lid.outer


def test_a_shut_lid_meets_the_shadowed_socket_beside_it(landmarker):
    """s12's eyes lie in shadowed sockets, 0.6 to 0.8 as light as the skin further around: the
    shut lid's tone met the warp round it only where that was no darker than 0.6 of the lid's
    own (read further around) and by at most 0.2 darker, so the socket beside his right eye
    was no skin to it and his shut lid stayed a pale grey oval in it, its middle 49 levels
    lighter than the socket beside the eye's corners (now 13). Down the middle of each shut
    lid, from the open eye's upper margin to its middle, it is at most 25 lighter than the
    socket beside its corners, over the same rows."""
    face, out = _s12_blinked(landmarker)
    light = _lum(out)
    for lid in eyelids():
        shut, beside = _lid_and_socket(face, lid)
        socket = np.r_[tuple(light[at].ravel() for at in beside)]
        assert np.median(light[shut]) - np.median(socket) <= 25, \
            (lid.outer, np.median(light[shut]), np.median(socket))


def test_a_shut_lid_is_in_the_shade_of_the_socket_round_the_open_eye(landmarker):
    """The shut lid continues the skin round the eye, s12's shadowed socket: the lid met the
    warp round it only beside its ends and where lighter than it under the brow, the shade
    under his brow left out with the brow's hairs, and each shut lid was a pale oval in his
    socket, its middle (down the open eye's middle, from its upper margin to its middle) 30
    and 21 levels lighter than the socket round the open eye in the source (0.1 to 0.3 of the
    eye's width out, from the brow's landmarks to the eye's middle, its darkest tenth, lashes
    and brow hairs, left out); now 24 and 7. On average at most 20."""
    image = read_image(shared_sample("sources/s12.jpg"))
    face, out = _s12_blinked(landmarker)
    light, source = _lum(out), _lum(image)
    lighter = []
    for lid in eyelids():
        shut, _ = _lid_and_socket(face, lid)
        eye = np.zeros(source.shape, np.uint8)
        cv2.fillPoly(eye, [np.round(face.xy[lid.outline]).astype(np.int32)], 1)
        width = float(np.ptp(face.xy[lid.corners, 0]))
        socket = _grown(eye, 0.3 * width) & ~_grown(eye, 0.1 * width)
        socket[:int(face.xy[lid.brow, 1].max())] = False
        socket[shut[0].stop:] = False
        skin = source[socket]
        lighter.append(np.median(light[shut]) - np.median(skin[skin >= np.percentile(skin, 10)]))
    assert np.mean(lighter) <= 20, lighter


def _grown(mask: np.ndarray, by: float) -> np.ndarray:
    """``mask`` (uint8) grown by ``by`` pixels all round."""
    size = 2 * int(round(by)) + 1
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))) > 0


def _s12_blinked(landmarker: Landmarker) -> tuple[FaceLandmarks, np.ndarray]:
    """s12's face (landmarks) and its render with both eyes shut."""
    image = read_image(shared_sample("sources/s12.jpg"))
    face = landmarker.detect(image)
    engine = WarpEngine()
    return face, engine.edit(engine.prepare_source(image, face),
                             ExpressionEdit(ExpressionControls(blink=1.0)))


Region = tuple[slice, slice]


def _lid_and_socket(face: FaceLandmarks, lid: Eyelid) -> tuple[Region, tuple[Region, Region]]:
    """Where a shut ``lid`` of ``face`` lies (down the middle of the open eye, from its upper
    margin to its middle) and the socket beside its corners (over the same rows, from the
    brow down)."""
    x0, x1 = np.sort(face.xy[lid.corners, 0])
    width = x1 - x0
    top, middle = (int(face.xy[lid.upper, 1].min()),
                   int(0.5 * (face.xy[lid.upper, 1].min() + face.xy[lid.lower, 1].max())))
    rows = slice(int(face.xy[lid.brow, 1].max()), middle)
    return ((slice(top, middle), slice(int(x0 + 0.25 * width), int(x1 - 0.25 * width))),
            ((rows, slice(int(x0 - 0.35 * width), int(x0 - 0.15 * width))),
             (rows, slice(int(x1 + 0.15 * width), int(x1 + 0.35 * width)))))


def _hue(pixels: np.ndarray) -> float:
    """The hue angle (degrees) of the median Lab a*, b* of ``pixels`` (RGB, any shape)."""
    lab = cv2.cvtColor(pixels.reshape(-1, 1, 3).astype(np.float32) / 255.0,
                       cv2.COLOR_RGB2Lab).reshape(-1, 3)
    return float(np.degrees(np.arctan2(np.median(lab[:, 2]), np.median(lab[:, 1]))))


def test_a_shut_lid_is_in_the_colour_of_its_socket(landmarker):
    """The shut lid's colour is read from the skin right round the open eye, which in a photo
    whose colour is coarser than its light (a JPEG's, one coloured in) is greyed by the eye's
    own white and iris: read 2 px from s12's 25 px eyes, it made his shut right lid a greyish
    mauve oval in his brown socket, its hue 8.4 degrees redder than the socket's beside its
    corners (now 0.6; his left one 1.5, now 4.0). Each shut lid's hue is within 5 degrees of
    that socket's."""
    face, out = _s12_blinked(landmarker)
    for lid in eyelids():
        shut, beside = _lid_and_socket(face, lid)
        socket = np.concatenate([out[at].reshape(-1, 3) for at in beside])
        assert abs(_hue(out[shut]) - _hue(socket)) <= 5.0, \
            (lid.outer, _hue(out[shut]), _hue(socket))


def test_a_shut_lid_is_no_grainier_than_the_skin_round_the_eye(landmarker):
    """The shut lid's grain is read from the cheek under the eye, which on the cartoon s7 is
    painted with pores that the smooth skin round his eyes lacks: each shut lid was a patch
    of freckle-like specks, its grain 1.44 and 1.20 times as strong as the grainier side of
    the skin beside the eye (now 1.00 and 0.90). Over the upper half of each open eye, its
    middle half, the shut lid's grain (:func:`grain_strength_at`, median) is at most 1.1
    times the skin's beside its corners, over the rows from the brow down."""
    image = read_image(shared_sample("sources/s7.jpg"))
    face = landmarker.detect(image)
    engine = WarpEngine()
    out = engine.edit(engine.prepare_source(image, face),
                      ExpressionEdit(ExpressionControls(blink=1.0)))

    def strength(x0: float, x1: float, y0: int, y1: int) -> float:
        ys, xs = np.mgrid[y0:y1, int(x0):int(x1)].astype(np.float32)
        return float(np.median(grain_strength_at(out, xs, ys)))

    for lid in eyelids():
        x0, x1 = np.sort(face.xy[lid.corners, 0])
        width = x1 - x0
        top, middle = (int(face.xy[lid.upper, 1].min()),
                       int(0.5 * (face.xy[lid.upper, 1].min() + face.xy[lid.lower, 1].max())))
        brow = int(face.xy[lid.brow, 1].max())
        shut = strength(x0 + 0.25 * width, x1 - 0.25 * width, top, middle)
        beside = max(strength(x0 - 0.35 * width, x0 - 0.15 * width, brow, middle),
                     strength(x1 + 0.15 * width, x1 + 0.35 * width, brow, middle))
        assert shut <= 1.1 * beside, (lid.outer, shut, beside)


def test_a_shut_lid_carries_the_skins_grain(astronaut, landmarker):
    """The grain read under the eye, less its rows' average (which takes the lines along
    them), keeps little of the skin's texture on a small eye: the astronaut's shut lids
    (19 px eyes) were smooth patches, their fine detail (:func:`_fine`) 0.63 and 0.45 of the
    smoother side of the skin beside their corners (now topped up with the skin's own grain:
    1.2 and 0.95). Down the middle of each shut lid it is at least 0.8 of that side's, and no
    more than 1.25 times the grainier side's."""
    engine = WarpEngine()
    face = landmarker.detect(astronaut)
    out = engine.edit(engine.prepare_source(astronaut, face),
                      ExpressionEdit(ExpressionControls(blink=1.0)))
    for lid in eyelids():
        shut, beside = _lid_and_socket(face, lid)
        skin = sorted(_fine(out[at]) for at in beside)
        assert 0.8 * skin[0] <= _fine(out[shut]) <= 1.25 * skin[-1], \
            (lid.outer, _fine(out[shut]), skin)


def test_a_shut_lid_in_a_shaded_socket_carries_the_sockets_grain(landmarker):
    """A photo's grain depends on its light: s12's pale skin, near white, is smooth, the
    shade of his sockets grainy. His shut lids, darkened to that shade, were topped up to the
    pale skin's grain, and his right one (in a shaded socket on pale skin) was a smooth grey
    oval stuck on the shade: down the middle of each shut lid, its fine detail (:func:`_fine`)
    was 0.55 and 0.50 of the smoother side of the socket beside its corners (now 0.98 and
    0.75, topped up to the grain of the skin round the eye in the lid's light). It is at
    least 0.7 of it."""
    face, out = _s12_blinked(landmarker)
    for lid in eyelids():
        shut, beside = _lid_and_socket(face, lid)
        skin = min(_fine(out[at]) for at in beside)
        assert _fine(out[shut]) >= 0.7 * skin, (lid.outer, _fine(out[shut]), skin)


def test_a_shut_lid_ends_beside_its_outer_corner_without_an_edge(landmarker):
    """s1's heavy dark eyeshadow beyond her right eye's outer corner is read as an eyeliner's
    wing, reaching further out than the lid's box: painted out over that box only, the paint
    ended in a straight vertical edge at the box's side, the outline of a flat brown patch on
    her shut lid (the largest step from column to column there 8.0 levels, the source's own
    5.2; now 1.9). Beside each shut lid's outer corner, from the brow to the middle of the
    open eye, no step across the columns (their rows' median) is larger than 4."""
    image = read_image(shared_sample("sources/s1.jpg"))
    face = landmarker.detect(image)
    engine = WarpEngine()
    out = _lum(engine.edit(engine.prepare_source(image, face),
                           ExpressionEdit(ExpressionControls(blink=1.0))))
    for lid in eyelids():
        x0, x1 = np.sort(face.xy[lid.corners, 0])
        width = x1 - x0
        rows = slice(int(face.xy[lid.brow, 1].max()),
                     int(0.5 * (face.xy[lid.upper, 1].min() + face.xy[lid.lower, 1].max())))
        outer = face.xy[lid.outer, 0]
        cols = slice(int(outer - 0.6 * width), int(outer + 0.2 * width)) if outer == x0 \
            else slice(int(outer - 0.2 * width), int(outer + 0.6 * width))
        step = np.abs(np.median(np.diff(out[rows, cols], axis=1), axis=0)).max()
        assert step <= 4.0, (lid.outer, step)


def test_a_shut_lid_meets_the_lit_skin_round_it(astronaut, landmarker):
    """The astronaut's upper lids are lit, as is the skin beside her eyes' corners: the shut
    lid's tone met the warp round it only beside its ends, at the level of its lash line, where
    it read the corners' shadow (and lightened at most 5 % for it), so each shut lid was a flat
    grey patch on the lit skin, its middle 4.6 and 9.2 levels darker than the lighter side of
    the skin beside its corners (now 4.1 lighter and 7.6 darker: it meets the skin all round
    its outline above the margin, a lit strip under the brow included). Down the middle of
    each shut lid, from the open eye's upper margin to its middle, it is on average at most 3
    darker than the lighter side of the skin beside its corners, over the rows from the brow
    down."""
    engine = WarpEngine()
    face = landmarker.detect(astronaut)
    light = _lum(engine.edit(engine.prepare_source(astronaut, face),
                             ExpressionEdit(ExpressionControls(blink=1.0))))
    darker = []
    for lid in eyelids():
        shut, beside = _lid_and_socket(face, lid)
        darker.append(max(np.median(light[at]) for at in beside) - np.median(light[shut]))
    assert np.mean(darker) <= 3, darker
