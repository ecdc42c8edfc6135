"""Hyperparameters and limits, in one place.

Values that change behaviour the user sees (input limits, warp geometry, smoothing) live here
rather than scattered through the modules that use them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class InputLimits:
    """Caps that keep a request from exhausting memory or time."""

    max_file_bytes: int = 200 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_video_frames: int = 1800
    max_video_seconds: float = 120.0
    max_video_side: int = 2048


@dataclass(frozen=True)
class WarpConfig:
    """Geometry of the landmark-driven warp renderer."""

    # Rings of anchor points around the face, as multiples of the face-oval radius. The inner
    # ring follows the rigid head motion (hair, ears); the outer ring and the image border stay
    # put, so the background does not move.
    head_ring_scale: float = 1.35
    still_ring_scale: float = 2.2
    ring_points: int = 36
    # A 2D warp can only fake so much 3D motion: the head's turn away from the source pose and
    # its shift (in units of the outer-eye-corner distance) are capped at these.
    max_turn_degrees: float = 30.0
    max_shift: float = 0.35
    # Landmarks this close to the face's outline (outer-eye-corner distances) move with it
    # from the head's silhouette in the source pose to its silhouette in the target pose.
    outline_near: float = 0.02
    # How far an edge-on outline landmark goes from where the surface turns it towards where
    # the head's silhouette does: all the way, MediaPipe reads less of the turn on the output
    # (its temples stay); none of the way, a turned painting's far cheek tears.
    outline_to_silhouette: float = 0.6
    # When the head turns, the outline's motion is smoothed along it over a quarter of this
    # (outer-eye-corner distances), and the face within about this distance inside it
    # follows it outwards.
    outline_band: float = 0.2
    # ... fully from a turn of this many degrees, in proportion below (a small turn moves the
    # outline little, and the eyes near it keep their shape).
    outline_pull_full_turn: float = 15.0
    # ... but an eye moves whole, with its contour's mean pull, and the face around it, within
    # about this many of its widths (a Gaussian), as far (the skin towards the nose less, down
    # to none at the face's midline): pulled point by point, a far
    # eye's outer corner went out with the outline and the eye turning back into view was
    # drawn 1.5 times as wide as the source's (the turn widens it 1.15 times), its lid and
    # lashes smeared wide and heavy.
    outline_pull_eye_reach: float = 0.6
    # ... and the skin beyond each eye's outer corner, this many of its widths out (where
    # eyeliner and lashes run on), moves as the eye does (no landmark lies between the
    # corner and the outline: a far eye's lash line was drawn out with the temple turning
    # into view, a dark wing past the corner, and the temple stretched in streaks).
    eye_corner_skin: float = 0.35
    # ... and where the map's nearness to the outline (outline_band) passes this, the texture
    # it stretches is evened out (render/stretched.py).
    outline_evened_from: float = 0.3
    # ... past this stretch, fully from the second (an animal's from 1.8 and 3: the temple
    # beside s18's far eye, stretched twice, kept its lid crease and lash line in streaks).
    outline_evened_stretch: tuple[float, float] = (1.5, 2.5)
    # A closed mouth's lips are evened where the map stretches them (render/stretched.py, as
    # an animal's), and the skin this fraction of the mouth's width beyond them, their edge.
    lips_evened_beyond: float = 0.03
    # ... and the map within about outline_band of the outline is smoothed (a Gaussian of
    # this many outer-eye-corner distances; the eyes and the mouth apart): between a turning
    # head's outline, carried with its silhouette, and its features, turned with its surface,
    # the displacement changes steeply, and the piecewise-affine map's kinks at the
    # triangles' edges bent straight hair strands into waves.
    outline_smoothing: float = 0.06
    # ... and inside the outline, where the map stretches the face past this, fully from the
    # second (skin a turn brings into view), it is smoothed too (a Gaussian of this many
    # outer-eye-corner distances, as far from the eyes; the mouth apart): the stretch
    # changes from one landmark triangle to the next, and the map's kink along their edge
    # was drawn across the magnified skin as a line (s18 turned back: from the bridge of
    # the nose to the far eye's inner corner).
    kinks_smoothed_stretch: tuple[float, float] = (1.5, 2.5)
    kinks_smoothing: float = 0.03
    # ... and where it squeezes the face past this many source pixels into one, fully from
    # the second (skin a turn takes out of view: a nose's far side), each pixel is drawn as
    # the mean of the skin it covers (render/mesh_warp.average_where_squeezed), the mouth
    # apart.
    squeezed_averaged: tuple[float, float] = (1.5, 2.5)
    # A landmark triangle an expression folds around a closed mouth is opened until it covers
    # this fraction of its area in the source at least: opened only just, its skin stays
    # squeezed into a line.
    fold_opened_to: float = 0.5
    # A mouth's corner that draws away from the skin beyond it (a narrowing mouth: the skin
    # within corner_skin_near of the mouth's width, around its line, drawn out along it past
    # the first figure, fully from the second) moves the skin around it along the line with
    # it, falling to nothing at corner_skin_reach of the width: the stretch is spread over
    # that skin (warp_engine._spread_beyond_corners).
    corner_skin_spread_stretch: tuple[float, float] = (1.15, 1.35)
    corner_skin_near: float = 0.3
    corner_skin_reach: float = 0.8
    # Landmarks whose surface is closer than this to edge-on (cosine to the view direction) in
    # the source or target pose are left out of the warp: they would fold it.
    min_facing: float = 0.3
    # ... but an eye's landmarks and the lips' outer contour are kept down to this (a turned
    # head's far eye and far lip end are seen at a slant): left out, some of them would tear
    # its lid, or its lip's end, from the rest.
    min_feature_facing: float = 0.05
    # The lips' outer contour seen at a slant in the source (a turned mouth's far end) joins
    # the warp's mesh as the mouth narrows (warp_engine): the map blends from the mesh's
    # without it to the mesh's with it as the mouth narrows by this much of its width (the
    # mesh without it draws s10's upper lip, pouting by d8, from within 0.013 of the width
    # of its own pixels up to a narrowing of 0.08, and tears its far end from 0.1: 0.056
    # off, 0.112 at d8's 0.165) ...
    slanted_lip_meshed: float = 0.03
    # ... in which it lies at first where the mesh without it carries it, and goes to its
    # own targets as the mouth narrows by this much (0.013 off at most on the way).
    slanted_lip_narrowing: float = 0.15
    # It joins the mesh too, at its own targets, the mouth's width aside, as the mesh without
    # it turns over this share of the triangles' area round it (mesh_warp.folds_round) while
    # the mesh with it turns over none: s10 pouting (d8) 0.010 and none; her smile 0.036 and
    # 0.016, her open mouth (aaa 1) 0.054 and 0.040 (left out).
    slanted_lip_fold: float = 0.005
    # A closing upper lid brings down the source's pixels this fraction of the eye's opening
    # above its margin landmarks (they lie inside the visible lid edge).
    lid_edge_above: float = 0.25
    # An eye taller than the skin between it and its brow (an animal's, a cartoon's) is covered
    # by skin filled in from around it as it closes (render/eye_cover.py), this fraction of its
    # opening beyond its margin included (its dark rim).
    lid_cover_rim: float = 0.12
    # An eye shut past this fraction of its opening has the line where its lids meet softened
    # (render/lids.py).
    seam_below: float = 0.25
    # A lower lid raised by more than this fraction of the eye's opening (a smile) slides up
    # over the eye, which keeps its shape, rather than squeezing it.
    lid_slides_above: float = 0.1
    # An upper lid lowered by more than this fraction of the eye's opening is redrawn with
    # its own lashes and skin texture instead of the warp's stretch of them (render/lids.py).
    lid_redrawn_above: float = 0.25
    # The dense map is evaluated on a grid with this many cells per outer-eye-corner distance
    # and upsampled bilinearly: the field is piecewise linear, so little is lost, and the cost
    # no longer grows with the photo's resolution.
    map_cells_per_face_unit: float = 40.0
    # ... except around the eyes, evaluated at every pixel: boxes around their source
    # and target landmarks, this much larger (outer-eye-corner distances) on each side.
    detail_margin: float = 0.08
    # Mouth interior is synthesised when the target opening (inner-lip gap / mouth width)
    # exceeds the source opening by this fraction of the mouth width ...
    mouth_fill_threshold: float = 0.04
    # ... from the driver when the source mouth is closed (below this opening); an open one
    # parts its own teeth.
    mouth_closed_below: float = 0.13
    # An opening closed mouth's inner lip is taken from this fraction of each lip's thickness
    # inside it: the dark line where closed lips meet would rim the opening.
    lip_edge_inside: float = 0.2
    # The soft edge of the filled opening, as a fraction of the mouth's width (the same look
    # at any resolution).
    mouth_feather: float = 0.015
    # The widest a mouth opens (inner-lip gap over mouth width) and the furthest the jaw drops
    # from the source's (outer-eye-corner distances): a source video's own open mouth and a
    # driver's change add up, and a wide driver on a narrow mouth asks for more than a jaw does.
    max_mouth_opening: float = 0.75
    max_jaw_drop: float = 0.3
    # A driver's eye whose lid landmarks are this fraction of their open gap apart counts as
    # shut (on d0's and d3's blinks they come within -0.15 to 0.15 of it; a video's blink
    # that the landmarker reads half shut, behind d19's glasses, is read shut: motion/blinks.py).
    eye_shut_fraction: float = 0.12
    # Its picture is the result: an eye opens only as far as the source shows it (a shut lid
    # hides no eyeball to warp). Off where networks redraw the picture (the neural engine's
    # retouch): they read the opened lids as an eye to open.
    eyes_as_shown: bool = True


@dataclass(frozen=True)
class FaceSharing:
    """How the faces of a photo with several are chosen and kept apart (``face/territory.py``)."""

    # A face whose landmarks span fewer pixels than this (the larger side) is too small to drive.
    min_face_px: float = 32.0
    # The line that keeps two faces apart must clear each face's oval grown by this factor ...
    clearance: float = 1.15
    # ... by at least this fraction of the face's radius, the band over which a face's changes
    # fade out towards the line. Faces closer than that overlap and cannot be kept apart.
    feather: float = 0.1


@dataclass(frozen=True)
class SmoothingConfig:
    """One-Euro filter parameters for driving landmarks (in pixels and seconds)."""

    min_cutoff: float = 1.0
    beta: float = 0.05
    # The speed that opens the filter is itself smoothed at this cut-off: at 1 Hz a 3-frame
    # blink was over before the filter opened (the result blinked a frame late and half shut).
    derivative_cutoff: float = 4.0


@dataclass(frozen=True)
class LiveConfig:
    """A photo driven by a webcam, one frame at a time (``live.py``; the app's Live tab adds
    its own settings in ``ui/config.py``)."""

    fps: float = 20.0  # the frame rate the landmark smoothing assumes
    # Webcam frames larger than this are downscaled for landmarks (FaceMesh sees a 320 px crop
    # of the face anyway).
    landmark_side: int = 640
    output_side: int = 512  # the photo is driven at most this large


INPUT_LIMITS = InputLimits()
LIVE = LiveConfig()
WARP = WarpConfig()
FACES = FaceSharing()
SMOOTHING = SmoothingConfig()
# The neural engine's driving keypoints, in crop units (about -1..1) rather than pixels: a
# higher floor (expressions change fast) and a speed term scaled to those units.
KEYPOINT_SMOOTHING = SmoothingConfig(min_cutoff=2.0, beta=10.0, derivative_cutoff=1.0)


@dataclass(frozen=True)
class GpuBudget:
    """What GPU work is expected to cost beyond the engines' frames (each engine declares its
    own: :mod:`deepexpo.engines.registry`); what the app asks of ZeroGPU is in ``ui/config.py``."""

    generation_step_s: float = 0.3


GPU_BUDGET = GpuBudget()
