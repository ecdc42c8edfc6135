"""The built-in engine: landmark-driven image warping, no learned weights.

Identity is the source photo and its face shape; dynamic semantics are the driver's head pose and
expression in the canonical frame. The target landmarks (source identity + driver semantics) pull
the source pixels along a piecewise-affine map; rings of anchor points make the hair follow the
head and keep the background still.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import cached_property

import cv2
import numpy as np

from ..config import WARP, WarpConfig
from ..face.canonical import canonical_face
from ..face.landmarks import FaceLandmarks
from ..face.measure import mouth_opening, mouth_width
from ..face.territory import Territory, TerritoryMask
from ..face.topology import TOPOLOGY
from ..geometry.boxes import PixelBox
from ..geometry.ramps import smoothstep
from ..motion.compose import MotionOptions, compose_motion, neutral_reference
from ..motion.controls import OWN_EYE_OPEN, ExpressionEdit
from ..motion.extract import extract_motion
from ..motion.eyelids import Eyelid, eyelids, follow_closure, opened_as_shown
from ..motion.mouth import shape_mouth
from ..motion.rigid import rotation_angle, rotation_power
from ..motion.silhouette import distance_outside, distance_to_edges, inside
from ..motion.state import FaceMotion, HeadPose
from ..render.eye_cover import cover_eye, eye_ink
from ..render.iris import carry_iris
from ..render.lashes import draw_lash_line, read_lash_line
from ..render.lids import draw_closing_lid, skin_grain_donors, soften_seam
from ..render.lips import hold_corners, without_corner_folds
from ..render.mesh_warp import (
    average_where_squeezed,
    backward_map,
    carried_by_mesh,
    faded,
    folds_round,
    inside_outline,
    outline_nearness,
    remap_region,
    smooth_map,
    smooth_where_stretched,
    unfolded,
)
from ..render.mouth import SourceMouth, fill_mouth
from ..render.placed_mouth import MouthColours, fill_placed_mouth, mouth_colours, mouth_grain
from ..render.stretched import BLUR_REACH, even_stretched, even_stretched_lips, lips_with_edge
from ..render.texture import calm_donors
from .base import TransferEngine

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WarpFace:
    """A face as the warp engine sees it: pixels, landmarks and disentangled motion."""

    image: np.ndarray
    points: np.ndarray  # (478, 3) landmarks in pixels
    motion: FaceMotion

    @property
    def xy(self) -> np.ndarray:
        return self.points[:, :2]


@dataclass(frozen=True)
class WarpSource(WarpFace):
    facing: np.ndarray  # (478,) how squarely each landmark faces the camera (canonical.facing)
    outline: np.ndarray  # indices of the landmarks on the face's silhouette, in order around it
    rim: np.ndarray  # indices of the landmarks on or near it, which move with it
    inset: np.ndarray  # (478,) each landmark's distance from the edge (inside it, in front of it), px
    band: float  # how far in from the edge the face follows it, px (WarpConfig.outline_band)
    head_ring: np.ndarray  # (K, 2) anchors that follow the head
    still_points: np.ndarray  # (M, 2) anchors that never move
    region: PixelBox  # the part of the image the warp may change
    territory: TerritoryMask | None = None  # beyond it, other faces: left as they are

    # What the renders of a face placed by hand take from the source alone, made on first
    # use and kept: a video's frames all warp the same source.
    @cached_property
    def eye_inks(self) -> tuple[np.ndarray, ...]:
        """Each eye's own dark colour (:func:`eye_ink`), in :func:`eyelids`' order."""
        return tuple(eye_ink(self.image, self.xy[lid.outline]) for lid in eyelids())

    @cached_property
    def eye_grains(self) -> tuple[np.ndarray, ...]:
        """Each eye's pixels, and those round it, that a covered eye's grain is read at
        (:func:`calm_donors`, in :func:`eyelids`' order): the same in every frame."""
        return tuple(calm_donors(self.image, PixelBox.around(
            self.xy[lid.outline], self.image.shape[:2],
            float(np.ptp(self.xy[lid.outline, 1])))) for lid in eyelids())

    @cached_property
    def lid_grains(self) -> tuple[np.ndarray, ...]:
        """The pixels round each eye (in :func:`eyelids`' order) that the skin's grain a
        shut lid is topped up with is read at (:func:`skin_grain_donors`): the same in every
        frame."""
        return tuple(skin_grain_donors(self.image, self.xy[lid.outline], self.xy[lid.brow])
                     for lid in eyelids())

    @cached_property
    def region_grain(self) -> np.ndarray:
        """The pixels of its region that the grain of its stretched texture is read at
        (:func:`calm_donors`, :func:`even_stretched`): the same in every frame."""
        return calm_donors(self.image, self.region)

    @cached_property
    def near_edge(self) -> np.ndarray:
        """(478,) How near the edge each landmark lies (:attr:`inset` against :attr:`band`),
        smoothed over the face: what a turn's pull outwards is weighed by. Smoothed, as the
        nose stands well in front of the far cheek beside it, and a step in the pull between
        them would fold the map; over the image near the edge (the far cheek's outline stays
        smooth), over the face's surface (in 3D, the landmarks' depth included) away from it:
        smoothed over the image, the far cheek's landmarks behind and beside a turned
        painting's nose and mouth lent them their pull (turned back 25 degrees, her nose went
        half as far as the turn takes it, her mouth the wrong way)."""
        near = np.exp(-0.5 * (self.inset / self.band) ** 2)
        every = np.arange(len(near))
        return near * _smoothed(near, self.xy, every, self.band / 4) \
            + (1.0 - near) * _smoothed(near, self.points, every, self.band / 4)

    @cached_property
    def image_without_corner_folds(self) -> np.ndarray:
        """The image with its mouth corners' fold filled in (:func:`without_corner_folds`): an
        opened mouth is drawn from it."""
        return without_corner_folds(self.image, self.xy, self.mouth.moustache)

    @cached_property
    def mouth(self) -> SourceMouth:
        """Its mouth as an opened mouth's fill reads it (:class:`SourceMouth`, which keeps
        what it measures of it)."""
        return SourceMouth(self.image, self.xy)

    @cached_property
    def mouth_colours(self) -> MouthColours:
        """The colours an opened mouth is painted in (:func:`mouth_colours`)."""
        return mouth_colours(self.image, self.xy)

    @cached_property
    def mouth_grain(self) -> np.ndarray:
        """The pixels round its mouth that an opened mouth's grain is read at
        (:func:`mouth_grain`)."""
        return mouth_grain(self.image, self.xy)


class WarpEngine(TransferEngine[WarpSource, WarpFace]):
    name = "warp"

    def __init__(self, config: WarpConfig = WARP):
        self.config = config

    def prepare_source(self, image: np.ndarray, face: FaceLandmarks,
                       territory: Territory | None = None) -> WarpSource:
        cfg = self.config
        xy = face.xy
        oval = xy[TOPOLOGY.face_oval_loop]
        centre = oval.mean(axis=0)
        angles = np.linspace(0, 2 * np.pi, cfg.ring_points, endpoint=False)
        # The oval's radius in each ring direction, so the rings keep the face's proportions.
        rel = oval - centre
        oval_angle = np.arctan2(rel[:, 1], rel[:, 0])
        order = np.argsort(oval_angle)
        radius = np.interp(angles, oval_angle[order], np.linalg.norm(rel, axis=1)[order],
                           period=2 * np.pi)
        unit = np.c_[np.cos(angles), np.sin(angles)]
        still_radius = cfg.still_ring_scale * radius
        head_radius = cfg.head_ring_scale * radius
        if territory is not None:  # the rings stay short of the band where changes fade out
            still_radius = np.minimum(still_radius,
                                      territory.reach(centre, unit) - territory.feather)
            head_radius = np.minimum(head_radius, (radius + still_radius) / 2)
        head_ring = centre + head_radius[:, None] * unit
        still_ring = centre + still_radius[:, None] * unit
        h, w = face.image_size
        border = _border_points(w, h, cfg.ring_points // 4)
        outside_head = np.linalg.norm(border - centre, axis=1) > still_radius.min()
        still = np.r_[still_ring, border[outside_head]]
        region = PixelBox.around(np.r_[still_ring, head_ring], (h, w))
        facing = canonical_face().facing(face.points)
        motion = extract_motion(face)
        band = cfg.outline_band * motion.pose.scale
        outline, rim, inset = _silhouette(face.points, cfg.outline_near * motion.pose.scale, band)
        return WarpSource(image, face.points, motion, facing, outline, rim, inset, band,
                          head_ring, still, region,
                          None if territory is None else territory.mask(region))

    def extract(self, image: np.ndarray, face: FaceLandmarks) -> WarpFace:
        return WarpFace(image, face.points, extract_motion(face))

    def neutral_reference(self, driving: WarpFace) -> WarpFace:
        return WarpFace(driving.image, driving.points, neutral_reference(driving.motion))

    def target(self, source: WarpSource, driving: WarpFace, reference: WarpFace,
               options: MotionOptions) -> FaceMotion:
        """The motion the source is warped to: the shared composition, eyes closed as far as
        the driver's (the lid slid over the eye), its head turn and shift capped to what a 2D
        warp can show."""
        target = compose_motion(source.motion, driving.motion, reference.motion, options)
        target = follow_closure(target, source.motion, driving.motion, reference.motion,
                                options, self.config.eye_shut_fraction)
        return replace(target, pose=self._limit(source.motion.pose, target.pose))

    def render(
        self, source: WarpSource, driving: WarpFace, reference: WarpFace, options: MotionOptions
    ) -> np.ndarray:
        return self.render_motion(source, self.target(source, driving, reference, options),
                                  driver=driving)

    def neutral_frontal(self, image: np.ndarray, face: FaceLandmarks) -> np.ndarray:
        """``image`` with the face made neutral and frontal: what a single driving image is
        measured against (the neural engine measures it with its own networks)."""
        source = self.prepare_source(image, face)
        return self.render_motion(source, neutral_reference(source.motion))

    def edit(self, source: WarpSource, edit: ExpressionEdit) -> np.ndarray:
        target = edit.apply(source.motion)
        target = replace(target, pose=self._limit(source.motion.pose, target.pose))
        return self.render_motion(source, target)

    def _limit(self, source: HeadPose, target: HeadPose) -> HeadPose:
        """The target pose, with its turn and shift from the source pose capped."""
        cfg = self.config
        turn = target.rotation @ source.rotation.T
        angle = np.degrees(rotation_angle(turn))
        if angle > cfg.max_turn_degrees:
            turn = rotation_power(turn, cfg.max_turn_degrees / angle)
        shift = target.translation - source.translation
        length = np.linalg.norm(shift[:2])
        limit = cfg.max_shift * source.scale
        if length > limit:
            shift = shift * (limit / length)
        return HeadPose(turn @ source.rotation, source.translation + shift, target.scale)

    def render_motion(
        self, source: WarpSource, target: FaceMotion, driver: WarpFace | None = None
    ) -> np.ndarray:
        """The source image with its landmarks moved to ``target``'s, its mouth as a 2D warp
        can show it (:func:`shape_mouth`: lips that keep their thickness, a chin that follows,
        an opening no wider than a mouth's)."""
        cfg = self.config
        canon = canonical_face()
        target = shape_mouth(target, source.motion, cfg.max_mouth_opening, cfg.max_jaw_drop)
        if source.motion.proportions is not None:  # eyes and brows as far as fur can show
            target = source.motion.proportions.within_reach(target, source.motion)
        # An eye opens only as far as the source shows it: behind a shut lid there is no
        # eyeball to warp (opened, its lash line was drawn as a zig-zag and the lid's edge cut
        # the brow). The motion still opens it: the neural engine draws one (from this
        # picture: its retouch turns this off).
        if cfg.eyes_as_shown:
            target, held = opened_as_shown(target, source.motion, OWN_EYE_OPEN)
            if held:
                logger.info("warp engine: the source's %s shut, kept shut (the photo shows no "
                            "eye behind the lid to open; the neural engine can open it)",
                            "eyes are" if len(held) == 2 else "eye is")
        target_points = target.landmarks()
        target_xy = target_points[:, :2]
        # The face's outline and the anchors around it (hair, ears) go from the head's
        # silhouette in the source pose to its silhouette in the target pose: the features
        # turn across a head whose outline stays nearly in place.
        # A frontal face's silhouette is its oval; a turned one's, on the far side, its cheek
        # and brow (the oval's landmarks there are hidden behind them). The expression moves
        # it on top (a dropping jaw, a rising cheek).
        rim = source.rim
        moved = canon.head.move(np.r_[source.xy[rim], source.head_ring],
                                source.motion.pose, target.pose)
        head_xy = moved[len(rim):]
        turned = target.pose.apply(source.motion.canonical)
        target_xy = target_xy.copy()
        # Points edge-on to the camera in either pose would fold the map where the face
        # turns away; leaving them out lets their visible neighbours and the outline decide.
        target_facing = canon.facing(target_points)
        visible = np.minimum(source.facing, target_facing)
        keep = visible > cfg.min_facing
        # Where the outline is edge-on, it moves most of the way from where the surface turns
        # it to where the head's silhouette does (as the hair), and with the jaw; where it
        # shows (a chin, a forehead) it moves with the face. A head that does not turn leaves
        # its edge-on outline to its neighbours and the hair: they carry it with the
        # expression.
        edge = rim[~keep[rim]]
        silhouette = moved[:len(rim)][~keep[rim]] \
            + canon.jaw_weights[edge, None] * (target_points - turned)[edge, :2]
        target_xy[edge] += cfg.outline_to_silhouette * (silhouette - target_xy[edge])
        turn = rotation_angle(target.pose.rotation @ source.motion.pose.rotation.T)
        if turn > _STILL:
            anchored = rim
            # No outline landmark lags inside its neighbours (some are carried with the
            # head's silhouette, some with the surface: they zig-zagged), and the face just
            # inside the outline follows it outwards, the more the nearer: a turned source's
            # far cheek, turning back into view, moved with its surface a few pixels inside
            # an outline carried out with the silhouette, and the hair between showed through
            # the cheek in a jagged tear.
            band = source.band
            centre = source.xy[source.outline].mean(axis=0)
            target_xy[rim] += _outwards(_carried(source.xy, target_xy, rim, rim, band / 4)
                                        - target_xy[rim], source.xy[rim] - centre)
            # Nor does one run ahead of them: the outline's motion is smoothed along it (a
            # landmark turned with the surface a few pixels past its neighbours, carried with
            # the silhouette, drew the far cheek's outline in steps).
            target_xy[rim] = _carried(source.xy, target_xy, rim, rim, band / 4)
            # (Not on a face placed by hand: its outline is fitted from a few points, on an
            # animal often close to its eyes, which would be pulled apart from their lids.)
            if source.motion.proportions is None:
                # The hair beyond an edge-on outline turning away from the camera (the far
                # cheek's) goes in with it, squeezed as the face within it is: carried with
                # the silhouette alone, it kept its width (more: the outline goes in past the
                # silhouette) against a face narrowed by the turn, and s12's sideburn turned
                # 25 degrees away was drawn as a dark band down his far cheek.
                head_xy = _squeezed_beyond(source, target_xy, moved[:len(rim)], head_xy,
                                           ~keep[rim] & (target_facing < source.facing)[rim],
                                           np.flatnonzero(keep))
                inner = np.setdiff1d(np.flatnonzero(keep), rim)
                pull = _outwards(_carried(source.xy, target_xy, inner, rim, band / 2)
                                 - target_xy[inner], source.xy[inner] - centre)
                pull *= min(1.0, turn / np.radians(cfg.outline_pull_full_turn))
                pull *= source.near_edge[inner, None]  # (how near the edge, smoothed)
                # The mouth goes where the turn puts it, and the skin just around it nearly so
                # (canon.mouth_mask): the cheek between it and the outline takes the stretch.
                # (Pulled with the cheek, s10's far mouth corner turned back 25 degrees went
                # 5.7% of the eye distance past where the turn puts it, her upper lip's middle
                # 10%: the mouth drawn wide towards her far cheek, and the head read as turned
                # 16.1 degrees of 25 by dlib's fit, 13.6 by MediaPipe's; 17.3 and 14.5 now.
                # Pulled lip by lip, her upper inner lip, which faces down and was left out,
                # stayed while the lower lip was pulled sideways: her parted lips opened.)
                pull *= (1.0 - canon.mouth_mask[inner])[:, None]
                target_xy[inner] += _eyes_whole(pull, source.xy, inner,
                                                cfg.outline_pull_eye_reach)
                target_xy = _lids_with_eyes(source.xy, target_xy,
                                            (target_points - turned)[:, :2], inner,
                                            target_facing > source.facing)
        else:
            anchored = rim[keep[rim]]
        # An eye's landmarks are kept down to a slant (a turned head's far eye), some of them
        # left out would tear its lid from the rest; and by how the head faces, not by its
        # shut lid's collapsed triangles, which face anywhere.
        posed = np.minimum(source.facing, canon.facing(turned))
        for lid in eyelids():
            eye = np.r_[lid.outline, lid.lid]
            keep[eye] = posed[eye] > cfg.min_feature_facing
        # So are the lips' outer contour's that the source shows at a slant (a turned mouth's
        # far end), as far as the mouth narrows: left out, the triangles from the lips' middle
        # to the skin beyond the corner drew it as they moved, torn from its outline (the
        # painting s10 pouting, d8: her far upper lip's end, at a slant of 0.1 to 0.3, left
        # out, the map folded there, and :func:`unfolded` dragged her upper lip's middle 11 px
        # down from where the pout raised it, its far end smeared up and out along the skin).
        # Not where it widens: kept, s10's smiling far corner rose past them and folded the
        # map beside it. Nor those the turn takes from facing to a slant: kept, s10 turned 25
        # degrees further had her far lip end squeezed against her profile. (They join the
        # mesh below, by degrees.)
        outer_lip = canon.lip_loops[0]
        slanted = outer_lip[(source.facing[outer_lip] <= cfg.min_facing)
                            & (posed[outer_lip] > cfg.min_feature_facing)]
        # The inner lips' (their corners apart, where the lips fold) too, by how the head
        # faces (down to the same slant as the rest of the face): an open mouth's mesh turns
        # the triangles between them over, which would leave the inner lip out and the
        # opening's edge to chance.
        lips = np.r_[canon.inner_lip_upper, canon.inner_lip_lower]
        keep[lips] = posed[lips] > cfg.min_facing
        # So would points outside the outline, in either pose; but not those standing in front
        # of the edge (source.inset) that the turn carries past it: a head turned further than
        # the source shows its nose past its far cheek. (Left out, s10 turned 25 degrees further
        # had her nose pressed flat against the outline by its neighbours, its tip 7 px the
        # wrong way, a strip of squeezed cheek along it.) The lips are left out as before:
        # jutting, their far corner met the background in a dark notch, read as the mouth's;
        # so is a face placed by hand, whose outline is fitted from a few points.
        within = inside(target_xy, target_xy[source.outline])
        in_mouth = inside(source.xy, source.xy[outer_lip])
        in_mouth[outer_lip] = True
        jutting = keep & ~within & ~in_mouth \
            & (source.inset > source.band) \
            & (source.motion.proportions is None)
        keep &= within | jutting
        keep[anchored] = True
        # The irises are no anchors (tied to the lids, they would smear): the mesh moves each
        # eye with its lids, then the iris is carried inside it, unless the eye closes past
        # half its opening (an iris squeezed between the lids would smear too).
        keep[np.r_[tuple(lid.iris for lid in eyelids())]] = False
        # Each eye's opening in the source and the target (the source's own lid gap apart).
        shut = [(lid, lid.opening(source.motion.canonical), lid.opening(target.canonical))
                for lid in eyelids()]
        # A face placed by hand (a cat's, a cartoon's) has no lid skin above its eyes to draw
        # down over them, often less of it than their height: a closing eye is covered by skin
        # filled in (cover_eye, below), and the skin above stays where it is.
        open_xy = target.pose.apply(source.motion.canonical)[:, :2]
        placed = source.motion.proportions is not None
        covered = [(k, lid, was) for k, (lid, was, now) in enumerate(shut)
                   if placed and now < was]
        for _, lid, _ in covered:
            target_xy[lid.lid] = open_xy[lid.lid]
        src_xy, white = _lid_edges(source, target, shut, cfg.lid_edge_above)
        sunk = _close_on_lower_edge(target_xy, src_xy, source, target,
                                    [(lid, was, was if placed else now)
                                     for lid, was, now in shut], white)
        # A turn alone opens no mouth: the opening is measured against the source's own mouth
        # turned as the target is (turned away, a parted mouth narrows: its opening over its
        # width grew past the fill's threshold, and s10's painted lips opened on teeth).
        opens = mouth_opening(target_points) - mouth_opening(
            target.pose.apply(source.motion.canonical)) >= cfg.mouth_fill_threshold
        if opens:
            _lip_edges(src_xy, target_xy, cfg)
        eye_src, eye_dst, eye_depth = _under_rising_lids(
            source, target, src_xy, target_xy, target_points, cfg,
            [shows and not placed for shows in white])
        if turn > _STILL and source.motion.proportions is None:
            corner_src, corner_dst, corner_depth = _beside_eyes(
                src_xy, target_xy, target_points[:, 2], source.outline, np.flatnonzero(keep),
                cfg.eye_corner_skin, [lid for lid, was, now in shut if now >= 0.5 * was])
            eye_src, eye_dst = np.r_[eye_src, corner_src], np.r_[eye_dst, corner_dst]
            eye_depth = np.r_[eye_depth, corner_depth]
        # An expression folds no skin (the turn's folds, the nose over a far cheek, stay): the
        # eyes' and inner lips' points move on their own (a lid slides over the eye, lips
        # part), the outline is anchored. A closed mouth's corners too, and its folds are
        # opened wide (cfg.fold_opened_to): the skin ahead of a corner gives way (a smile's far
        # corner on a turned face rose past the lip and cheek above it in the picture; pulled
        # back down 4 px, it squeezed them into a dark band). (An opened mouth's lips and
        # corners are redrawn from its landmarks, and a wide opening folds its lips' bands:
        # opened just, they keep the lips' contours where the motion puts them.)
        free = np.ones(len(target_xy), bool)
        free[np.concatenate([*(np.r_[lid.outline, lid.lid, lid.iris] for lid in eyelids()),
                             lips, anchored])] = False
        if not placed:  # (a narrowing mouth's corners drawn away from the skin beyond them)
            _spread_beyond_corners(src_xy, target_xy, target_xy - (target_points - turned)[:, :2],
                                   np.flatnonzero(keep & free & ~in_mouth),
                                   source.xy[source.outline], cfg)
        if not opens:
            free[canon.outer_mouth_corners] = False
        # The lips' slanted far end (above) joins the mesh by degrees as the mouth narrows.
        # (Switched in wherever the mouth narrowed at all, a video's mouth whose width hovered
        # round the source's flipped between two maps: s10 by d19's widest frame, 513 pixels
        # changed by over 20 levels at her far lip end.) The map blends from the mesh's
        # without it to the mesh's with it (cfg.slanted_lip_meshed), where it starts where
        # the mesh without it carries it, which leaves the map nearly as it was; it goes to
        # its own targets as the mouth narrows further (cfg.slanted_lip_narrowing).
        # So does it, at its own targets, the mouth's width aside, as far as the mesh without
        # it folds round it where the mesh with it folds nothing (cfg.slanted_lip_fold):
        # s10 pouting (d8, her mouth 0.005 narrower against a relaxed mouth's), left out,
        # was drawn 0.048 of the mouth's width off its own pixels, the map folded at her far
        # corner; with it, 0.009 and no fold. (Not where the mesh with it folds too: s10's
        # smile, her far corner risen past it; her open mouth.)
        narrowing = 1.0 - mouth_width(target.canonical) / mouth_width(source.motion.canonical)
        with_end = keep.copy()
        with_end[slanted] = within[slanted]
        folds, folds_with = folds_round(src_xy, target_xy, keep, with_end & ~keep) \
            if (with_end & ~keep).any() else (0.0, 0.0)
        unfolding = float(smoothstep(folds / cfg.slanted_lip_fold)
                          * (1.0 - smoothstep(folds_with / cfg.slanted_lip_fold)))
        meshed = max(float(smoothstep(narrowing / cfg.slanted_lip_meshed)), unfolding)
        meshes = [(kept, share) for kept, share in ((keep, 1.0 - meshed), (with_end, meshed))
                  if share > 0]
        shares = [share for _, share in meshes]
        ends = np.flatnonzero(meshes[-1][0] & ~keep)
        carried = carried_by_mesh(src_xy[keep], target_xy[keep], src_xy[ends]) \
            if len(ends) else target_xy[ends]
        placed_ends = target_xy[ends] + (1.0 - max(float(smoothstep(
            narrowing / cfg.slanted_lip_narrowing)), unfolding)) * (carried - target_xy[ends])
        unfolds: list[np.ndarray] = []
        for kept, _ in meshes:
            points = np.flatnonzero(kept)
            unfolds.append(target_xy.copy())
            unfolds[-1][ends] = placed_ends
            unfolds[-1][points] = unfolded(src_xy[points], unfolds[-1][points], free[points],
                                           turned[points, :2],
                                           0.0 if opens else cfg.fold_opened_to)
        # (The lips drawn over the warp take the far end's own targets, moved as far as the
        # unfolding moves it in the mesh.)
        drawn = np.average(unfolds, axis=0, weights=shares)
        drawn[ends] = target_xy[ends] + meshed * (unfolds[-1][ends] - placed_ends)
        target_xy = drawn
        step = source.motion.pose.scale / cfg.map_cells_per_face_unit
        margin = cfg.detail_margin * target.pose.scale
        # The eyes' map is evaluated at every pixel: a closing lid squeezes the eye's height
        # into a few pixels, which a coarse grid would blur.
        # So is the mouth's: an opening mouth moves the lower lip further than its own
        # thickness against the upper one.
        features = (*(np.r_[lid.outline, lid.iris, lid.lid] for lid in eyelids()),
                    canon.lip_loops[0])
        detail = tuple(PixelBox.around(np.r_[source.xy[part], target_xy[part]],
                                       source.image.shape[:2], margin) for part in features)
        # And where the face juts past its outline: the map jumps there from the nose to the
        # background beside it (the far cheek between them hidden), an edge a coarse grid
        # would draw in steps; drawn at every pixel, it is antialiased by a blur of the map
        # of about a pixel (hard, it was jagged, and read as the far cheek squeezed into a
        # line).
        jut_xy = np.r_[source.xy[jutting], target_xy[jutting]]
        profile = (PixelBox.around(jut_xy, source.image.shape[:2], margin),) \
            if jutting.any() else ()
        # Where the map folds, the nearer surface shows: the face over the head around it,
        # over the still background.
        maps = [backward_map(
            np.r_[src_xy[kept], eye_src, source.head_ring, source.still_points],
            np.r_[xy[kept], eye_dst, head_xy, source.still_points], source.region, step,
            detail + profile,
            np.r_[target_points[kept, 2], eye_depth,
                  np.full(len(source.head_ring), canon.head.depth(target.pose)),
                  np.full(len(source.still_points), np.inf)])
            for (kept, _), xy in zip(meshes, unfolds)]
        source_xy = maps[0]
        if len(maps) > 1:  # (blended in place)
            source_xy *= np.float32(shares[0])
            source_xy += np.float32(shares[1]) * maps[1]
        if jutting.any():
            edge = source_xy[PixelBox.around(jut_xy - (source.region.x0, source.region.y0),
                                             source.region.size, margin).slices]
            smooth_map(edge, np.ones(edge.shape[:2]), _EDGE_BLUR)
        if turn > _STILL and source.motion.proportions is None:
            # Around a turning head's outline, its kinks rounded off: the outline, carried
            # with the silhouette, and the features, turned with the surface, move apart, and
            # the hair over and beside the outline bent in waves at the triangles' edges.
            sigma = cfg.outline_smoothing * source.motion.pose.scale
            # (Away from the eyes by the blur's width, from the mouth by three times it: nearer, an
            # opening mouth's bend was carried into the lip below it. Where the output draws
            # them: the detail boxes hold where the source had them too, which a turn leaves to
            # the cheek and its outline, left unsmoothed there: s18's far cheek turned back
            # kinked in a notch at the foot of the box round its far eye. Away from where the
            # face juts past it by the blur's width: across that fold the blur drew the far
            # cheek's pale edge, from between the nose and the background, as a spiked rim
            # along the nose.)
            *eyes, mouth = (PixelBox.around(target_xy[part], source.image.shape[:2], margin)
                            for part in features)
            jut = tuple((box, sigma) for box in profile)
            near = outline_nearness(target_xy[source.outline], source.region,
                                    (*((box, sigma) for box in eyes), (mouth, 3 * sigma), *jut),
                                    source.band, step)
            smooth_map(source_xy, near * min(1.0, turn / np.radians(cfg.outline_pull_full_turn)),
                       sigma)
            # Inside the outline, where the turn stretches the skin it brings into view, the
            # map's kinks are rounded off too (smooth_where_stretched: s18's nose turned back
            # was crossed by a line), away from the eyes, their lids and the skin beyond their
            # corners carried with them (_beside_eyes) by the blur's width: a closing lid's
            # skin is stretched down over the eye on purpose, and the stretch of the skin
            # turning into view beside an eye falls beyond that skin on purpose (smoothed, it
            # was brought back onto a far eye's corners, its eyeliner's wing drawn out); from
            # the mouth and the jut as above.
            kinks = cfg.kinks_smoothing * source.motion.pose.scale
            centres = np.array([target_xy[lid.outline].mean(axis=0) for lid in eyelids()])
            nearest = np.argmin(np.linalg.norm(corner_dst[:, None] - centres[None], axis=2),
                                axis=1)
            eye_boxes = tuple((PixelBox.around(np.r_[target_xy[np.r_[lid.outline, lid.lid]],
                                                     corner_dst[nearest == k]],
                                               source.image.shape[:2], kinks), kinks)
                              for k, lid in enumerate(eyelids()))
            face = inside_outline(target_xy[source.outline], source.region, step, kinks)
            within = faded(face.copy(), (*eye_boxes, (mouth, 3 * sigma), *jut), source.region)
            smooth_where_stretched(source_xy, within, cfg.kinks_smoothed_stretch, kinks)
            # Beside it, skin turning into view is drawn from a few source pixels: evened out
            # (below) as an animal's stretched fur is, the mouth apart (the end of s18's far
            # eye's eyeliner and the temple beyond it, stretched three times, were drawn as a
            # dark wing reaching the hair and horizontal streaks); and inside it, as far from
            # the eyes as the kinks' smoothing (s10 turned back: her far cheek's crackle,
            # stretched two to five times, drawn as parallel streaks; s12: the crease beside
            # his nose, its far side turning into view, a dark blotch).
            beside = np.maximum(outline_nearness(target_xy[source.outline], source.region,
                                                 ((mouth, 3 * sigma), *jut),
                                                 source.band, step),
                                faded(face.copy(), (*eye_boxes, *jut), source.region))
            h, w = source.region.size
            evened = np.zeros(source.image.shape[:2], bool)
            evened[source.region.slices] = cv2.resize(beside.astype(np.float32), (w, h)) \
                > cfg.outline_evened_from
            # (Nor the eyes and their lids: a closing lid's skin is stretched down over the
            # eye on purpose, its lashes drawn by draw_closing_lid.)
            kept = np.zeros(evened.shape, np.uint8)
            for lid in eyelids():
                cv2.fillConvexPoly(kept, cv2.convexHull(np.round(
                    target_xy[np.r_[lid.outline, lid.lid]]).astype(np.int32)), 1)
            # Nor the nose's tip and wings, by as far as the evening's blur carries their
            # colour (evened up to her far nostril, s10's nose was read turned 1.3 degrees
            # less by dlib, 0.8 by MediaPipe), nor the lips and their edge (a closed mouth's
            # evened as lips, below): the features themselves, not their boxes. Kept clear
            # of those by two and three times the outline's smoothing, the skin beside s10's
            # far nostril and her lips' far end, stretched two to five times, was drawn as
            # wavy horizontal streaks.
            nose = np.zeros(evened.shape, np.uint8)
            cv2.fillConvexPoly(nose, cv2.convexHull(np.round(
                target_xy[canon.nose_base]).astype(np.int32)), 1)
            reach = 2 * int(np.ceil(BLUR_REACH)) + 1
            evened &= (kept == 0) & ~lips_with_edge(evened.shape, target_xy,
                                                    cfg.lips_evened_beyond) \
                & (cv2.dilate(nose, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                              (reach, reach))) == 0)
        for lid, was, now in shut:
            # (Not in an eye the source shows shut: its "iris" is lid skin, and carried with
            # the gaze it tore the lash line into steps.)
            if now >= 0.5 * was and lid.shown(source.motion.canonical, OWN_EYE_OPEN) > 0:
                centre, rim = target_xy[lid.iris[0]], target_xy[lid.iris[1:]]
                radius = float(np.linalg.norm(rim - centre, axis=1).mean())
                carry_iris(source_xy, source.region, target_xy[lid.outline],
                           source.xy[lid.outline], centre, source.xy[lid.iris[0]], radius)
        if not placed:  # a person's mouth corners (an opened one's too: :func:`hold_corners`)
            hold_corners(source_xy, source.region, source.xy, target_xy,
                         target.pose.scale / source.motion.pose.scale)
        # (An opened mouth's corners without the fold where the closed lips met: stretched by
        # the warp, its tip was a dark tail beyond each corner, s42 by aaa.)
        warped = source.image_without_corner_folds if opens and not placed else source.image
        out = remap_region(warped, source.region, source_xy)
        painted = np.zeros(out.shape[:2], bool)
        if turn > _STILL and source.motion.proportions is None:
            # Where the turn squeezes the face, up to the eyes' corners (the far side of s12's
            # nose runs into his far eye's), the mouth apart by the outline's blur.
            average_where_squeezed(out, warped, source_xy, source.region,
                                   faded(face, ((mouth, sigma), *jut), source.region),
                                   cfg.squeezed_averaged)
            even_stretched(out, source.image, source_xy, source.region, ~evened,
                           cfg.outline_evened_stretch, lambda: source.region_grain)
        if not (opens or placed):  # (an animal's lips are evened with the rest, below)
            even_stretched_lips(out, source.image, source_xy, source.region, target_xy,
                                cfg.lips_evened_beyond, lambda: source.region_grain)
        for k, lid, was in covered:
            upper, lower = (np.r_[lid.corners[0], margin[np.argsort(canon.points[margin, 0])],
                                  lid.corners[1]] for margin in (lid.upper, lid.lower))
            cover_eye(out, open_xy[upper], open_xy[lower], target_xy[upper],
                      cfg.lid_cover_rim * was * target.pose.scale,
                      source.eye_inks[k],
                      target_xy[lid.brow], painted, (source.image, source.eye_grains[k]))
        if placed:  # an animal's fur or lips stretched into stripes (render/stretched.py)
            even_stretched(out, source.image, source_xy, source.region, painted,
                           donors=lambda: source.region_grain)
        scale = source.motion.pose.scale / target.pose.scale
        for k, ((lid, was, now), down) in enumerate(zip(shut, sunk)):
            lowered = _lid_lowered(lid, source.motion.canonical, target.canonical)
            # (Not covered: cover_eye, above.)
            redrawn = lowered > cfg.lid_redrawn_above and not (placed and now < was)
            upper_margin = np.r_[lid.upper, lid.corners]
            if redrawn:
                draw_closing_lid(out, source.image, source_xy, source.region,
                                 target_xy[upper_margin], src_xy[upper_margin],
                                 np.r_[lid.gaps(source.xy), 0.0, 0.0], lowered, scale,
                                 target_xy[lid.brow], target_xy[lid.outer], down,
                                 source.lid_grains[k])
            width = float(np.ptp(target_xy[lid.outline, 0]))
            if now < cfg.seam_below * was:
                soften_seam(out, target_xy[upper_margin], width)
            if redrawn:
                # The source's own lash line along the closed margin, laid over the lid
                # and the softened seam (blurred with it, s7's painted line was a smear).
                lash = read_lash_line(source.image, src_xy[upper_margin],
                                      float(lid.gaps(source.xy).max()))
                if lash is not None:
                    draw_lash_line(out, source.image, lash, target_xy[upper_margin], scale,
                                   target_xy[lid.outer])
            if _lid_raised(lid, source.motion.canonical, target.canonical) \
                    > cfg.lid_slides_above:  # the eye squeezed above the risen lid's edge
                soften_seam(out, target_xy[np.r_[lid.lower, lid.corners]], width,
                            keep_below=True)
        if opens and placed:  # an animal's or a drawing's mouth: no person's teeth (placed_mouth.py)
            fill_placed_mouth(out, target_xy, (source.image, source.xy), source.mouth_colours,
                              source.mouth_grain, cfg.mouth_fill_threshold,
                              cfg.mouth_closed_below, cfg.mouth_feather)
        elif opens:
            fill_mouth(
                out,
                target_xy,
                source.mouth,
                (driver.image, driver.xy) if driver is not None else None,
                cfg.mouth_fill_threshold,
                cfg.mouth_closed_below,
                cfg.mouth_feather,
                lips_from=src_xy,
                lips_image=source.image_without_corner_folds,
            )
        if source.territory is not None:
            source.territory.apply(source.image, out)
        return out


def _carried(source_xy: np.ndarray, target_xy: np.ndarray, points: np.ndarray,
             by: np.ndarray, reach: float) -> np.ndarray:
    """Where ``points`` go if they move as the landmarks ``by`` near them do (a Gaussian
    of ``reach`` pixels over their source positions)."""
    return source_xy[points] + _smoothed(target_xy - source_xy, source_xy, points, reach, by)


def _eyes_whole(moves: np.ndarray, xy: np.ndarray, points: np.ndarray, reach: float
                ) -> np.ndarray:
    """``moves`` (of the landmarks ``points``, at ``xy[points]``) with each eye's contour and
    lid moved by their mean, and the landmarks around it (its iris too, the other eye's
    apart) that move further cut down to that, by a Gaussian of ``reach`` eye widths over
    their distance outside its contour: the eye moves whole, and the skin beyond it no
    further than the eye. Those that move less (towards the nose; its iris apart, carried
    into the eye after the mesh by render/iris.py: brought up, it folded the map at its
    edge) are brought up to it by the same Gaussian times how far they lie from the face's
    midline towards the eye's inner corner (on the canonical face): the skin between the
    eye and the nose takes up the difference evenly, and the nose stays straight (left
    behind, the two pixels between the inner corner and the skin beside it were stretched
    to twelve on s18's far eye turned back, a pink wedge drawn out towards the nose;
    brought up whole, the nose was bent). An eye partly left out (on a strongly turned
    head's outline, with it) keeps its moves."""
    moves = moves.copy()
    across = canonical_face().points[points, 0]
    for lid in eyelids():
        if not np.isin(lid.outline, points).all():
            continue
        members = np.isin(points, np.r_[lid.outline, lid.lid])
        mean = moves[members].mean(axis=0)
        contour = xy[lid.outline]
        outside = distance_outside(xy[points], contour)
        weight = np.exp(-0.5 * (outside / (reach * np.ptp(contour[:, 0]) + 1e-9)) ** 2)
        weight[np.isin(points, np.r_[tuple(np.r_[other.outline, other.lid, other.iris]
                                           for other in eyelids() if other is not lid)])] = 0.0
        length, wanted = np.linalg.norm(moves, axis=1), float(np.linalg.norm(mean))
        excess = np.maximum(length - wanted, 0.0) / np.maximum(length, 1e-9)
        inner = canonical_face().points[lid.inner, 0]
        lag = np.clip(across / inner, 0.0, 1.0) * ((length < wanted) & ~np.isin(points, lid.iris))
        moves -= (weight * excess)[:, None] * moves
        moves += (weight * lag)[:, None] * (mean - moves)
        moves[members] = mean
    return moves


def _lids_with_eyes(source_xy: np.ndarray, target_xy: np.ndarray, expression: np.ndarray,
                    pulled: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """``target_xy`` with each lid skin landmark left out of the ``pulled`` ones, and each
    brow landmark the picture shows on the lid (:func:`_brow_on_lid`), that turns into view
    (``shown``) moved by its eye's affine motion (that of its contour's pulled landmarks), its
    ``expression`` (its move against the source's face in the target pose) added: the lid
    moves with its eye. (s10's far eye turned back 25 degrees: the lid skin
    above its inner corner faces away and was left out of the outline's pull, the turn
    moving it 3 px towards the nose while its margin went 13 px the other way: its upper
    lid was drawn 1.9 times its area, 2.4 times over the inner corner, heavy and half
    shut, its lashes smeared towards the nose. Those turning out of view stay left out:
    carried with the eye, s10's far lid turned further folded over her brow, s1's by her
    nose.) (The inner end of s10's far brow, 5 px above that lid skin, moved 15 px against
    it with the turn, towards the nose: the sliver between, the top of her iris and the lid's
    shadow, was drawn over the lid as a grey patch.)"""
    target_xy = target_xy.copy()
    for lid in eyelids():
        skin = np.r_[lid.lid[~np.isin(lid.lid, pulled)], _brow_on_lid(source_xy, lid)]
        left = skin[shown[skin]]
        contour = np.intersect1d(lid.outline, pulled)
        if len(left) == 0 or len(contour) < 3:
            continue
        affine = np.linalg.lstsq(np.c_[source_xy[contour], np.ones(len(contour))],
                                 target_xy[contour] - expression[contour], rcond=None)[0]
        target_xy[left] = np.c_[source_xy[left], np.ones(len(left))] @ affine + expression[left]
    return target_xy


def _brow_on_lid(xy: np.ndarray, lid: Eyelid) -> np.ndarray:
    """The brow landmarks of ``lid`` that the picture ``xy`` shows on its lid skin: within
    the eye's width (along its corners' line) and no further above that line than its lid
    skin landmarks. A turned head's far brow stands in front of the eye, and its inner end
    is drawn over the lid: s10's (turned about 33 degrees) 5 px above the lid skin beside
    her far eye's inner corner."""
    outer, inner = xy[lid.outer], xy[lid.inner]
    along = (inner - outer) / max(float(np.linalg.norm(inner - outer)), 1e-9)
    across = np.array([along[1], -along[0]])
    if float((xy[lid.lid] - outer).mean(axis=0) @ across) < 0:
        across = -across  # towards the lid
    along_eye = (xy[lid.brow] - outer) @ along
    above = (xy[lid.brow] - outer) @ across
    return lid.brow[(along_eye > 0) & (along_eye < float((inner - outer) @ along))
                    & (above <= float(((xy[lid.lid] - outer) @ across).max()))]


def _beside_eyes(source_xy: np.ndarray, target_xy: np.ndarray, depth: np.ndarray,
                 outline: np.ndarray, meshed: np.ndarray, reach: float, lids: list[Eyelid]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points (source, target, depth) ``reach`` eye widths beyond the outer corner of each of
    ``lids`` (open eyes: a closing one's squeeze would be carried into its temple), on the
    line from its inner corner, and as far beyond its inner corner and the contour's
    landmarks next to it, moved by the eye's own affine motion (those beside the inner
    corner by its linear part, from where their landmarks go: a pixel or two from them, the
    affine's miss at the corner is as large, 1.4 px on s18's far eye turned back, and the
    triangles between them and the corner, stretched three times and sheared, bent the lid's
    line into a kink at the corner; those 0.35 eye widths past the outer corner, where the
    eye's motion as a whole is what the skin follows, moved from its landmark, drew s18's
    eyeliner wing out, 0.34 -> 0.43 eye widths): the skin there (eyeliner, lashes, the pink inner
    corner) moves with the eye, and the stretch of a temple or of the
    side of the nose turning into view falls on the skin beyond. None goes more than 0.45 of
    the way from the outer corner to the ``outline`` (at the outline, the hair beside a lash
    line's end was drawn into it in a notch; at half, a sliver beside the outline was
    stretched twenty times; points above and below it folded a painting's map), nor from the
    inner corner to the nearest of the ``meshed`` landmarks beyond it (s10's far eye turned
    back 25 degrees: the skin beside it faces away and is left out, the bridge of her nose
    lies 10 px away and the turn draws it 39 px away: the stretch fell on the skin by the
    corner, the pink corner drawn out in a streak towards the nose; a frontal face's skin
    there is meshed and moves as the turn moves it: carried with the eye past it, a light
    wedge was drawn beside the corner); those within a pixel of their corner, outside the
    outline (or within a pixel of it) in either picture are left out."""
    src, dst, deep, apart = [], [], [], []
    for lid in lids:
        contour = np.r_[lid.outline, lid.lid]
        affine = np.linalg.lstsq(np.c_[source_xy[contour], np.ones(len(contour))],
                                 target_xy[contour], rcond=None)[0]
        inner = lid.inner
        at = int(np.flatnonzero(lid.outline == inner)[0])
        offsets = source_xy[np.setdiff1d(meshed, np.r_[contour, lid.iris])] - source_xy[inner]
        distance = np.linalg.norm(offsets, axis=1)
        towards = source_xy[inner] - source_xy[lid.outer]
        beyond = offsets @ towards > 0.5 * distance * np.linalg.norm(towards)
        for corner, other, room, points in (
                (lid.outer, inner, distance_to_edges(source_xy[lid.outer][None],
                                                     source_xy[outline])[0], [lid.outer]),
                (inner, lid.outer, distance[beyond].min(initial=np.inf),
                 lid.outline[np.r_[at - 1, at, at + 1] % len(lid.outline)])):
            along = reach * (source_xy[corner] - source_xy[other])
            along *= min(1.0, 0.45 * float(room) / max(float(np.linalg.norm(along)), 1e-9))
            for point in points:
                src.append(source_xy[point] + along)
                dst.append(target_xy[point] + along @ affine[:2] if corner == inner
                           else np.r_[src[-1], 1.0] @ affine)
                deep.append(depth[point])
                apart.append(float(np.linalg.norm(along)))
    s, d = np.array(src).reshape(-1, 2), np.array(dst).reshape(-1, 2)
    kept = ((np.array(apart) > 1.0)
            & inside(s, source_xy[outline]) & inside(d, target_xy[outline])
            & (distance_to_edges(s, source_xy[outline]) > 1.0)
            & (distance_to_edges(d, target_xy[outline]) > 1.0))
    return s[kept], d[kept], np.array(deep)[kept]


def _squeezed_beyond(source: WarpSource, target_xy: np.ndarray, silhouette_xy: np.ndarray,
                     head_xy: np.ndarray, away: np.ndarray, face: np.ndarray) -> np.ndarray:
    """``head_xy`` (the head ring's targets, carried with the silhouette as the outline
    landmarks ``source.rim`` are to ``silhouette_xy``), those beyond the rim's ``away`` ones
    brought in as far as those go past their silhouette's targets (to ``target_xy``), and
    their distance beyond them shortened as the face a band inside them is (its landmarks
    ``face`` carried there): the hair beside a cheek turning away is squeezed as that
    cheek. Only beside the face (by the squared cosine of the ring's direction from the
    head's sideways axis): a nod's turned-away jaw would squeeze the neck and collar under
    it, which stay with the body."""
    rim, band = source.rim, source.band
    xy = np.r_[source.xy[rim], source.head_ring]
    ring, by = np.arange(len(rim), len(xy)), np.arange(len(rim))
    centre = source.xy[source.outline].mean(axis=0)
    sideways = source.motion.pose.rotation[:2, 0]
    outwards = source.head_ring - centre
    beside = (outwards @ sideways) ** 2 / np.maximum(
        (outwards**2).sum(axis=1) * (sideways @ sideways), 1e-12)
    share = beside * _smoothed(away.astype(float), xy, ring, band / 2, by)
    if not share.any():
        return head_xy
    at_s, at_t, at_silhouette = (_smoothed(points, xy, ring, band / 2, by)
                                 for points in (source.xy[rim], target_xy[rim], silhouette_xy))
    inwards = centre - at_s
    inner = at_s + band * inwards / np.maximum(np.linalg.norm(inwards, axis=1), 1e-9)[:, None]
    within = np.r_[source.xy[face], inner]
    inner_t = inner + _smoothed(target_xy[face] - source.xy[face], within,
                                np.arange(len(face), len(within)), band / 2,
                                np.arange(len(face)))
    squeeze = np.minimum(np.linalg.norm(at_t - inner_t, axis=1) / band, 1.0)
    squeezed = at_t + squeeze[:, None] * (head_xy - at_silhouette)
    return head_xy + share[:, None] * (squeezed - head_xy)


def _outwards(moves: np.ndarray, away: np.ndarray) -> np.ndarray:
    """``moves`` (N, 2), those that go inwards (against ``away``) set to nothing."""
    return moves * ((moves * away).sum(axis=1) > 0)[:, None]


def _up(pose: HeadPose) -> tuple[np.ndarray, float]:
    """A face's up direction in the image (a unit vector) and how many pixels a canonical unit
    upright spans along it (its scale, shortened as the head nods)."""
    up = -pose.scale * pose.rotation[:2, 1]
    length = float(np.linalg.norm(up))
    return up / max(length, 1e-9), length


def _lid_edges(source: WarpSource, target: FaceMotion, shut: list[tuple[Eyelid, float, float]],
               above: float) -> tuple[np.ndarray, list[bool]]:
    """The source's landmark positions, with each closing eye's margin landmarks taken from
    ``above`` of the eye's opening further out (the upper ones higher, the lower ones lower),
    as far as the eye closes (the upper ones as far as its upper lid closes it,
    :func:`_upper_closed`): MediaPipe's margin landmarks lie inside the visible lid edges,
    so the bands between them and the lids (white of the eye, the iris's rim) would stay
    along a shut eye. Each goes at most :data:`_LID_EDGE_ROOM` of the way to the mesh's
    landmarks beyond it: taken past them (a monkey's small eye, its landmarks inside the
    eye's dark rim and the next ring of them 2-3 px beyond; a child's painted eye), the
    warp's triangles folded along the shut lid and drew the iris there in jagged dark
    fragments (s22), the lower lid's line in a zig-zag (s7). With, per eye, whether its
    white shows below its lower landmarks (:func:`_white_below`): there the outer corner's
    landmark may lie inside the eye too, and where the white shows on its way out, along
    the eye and down (the lower lid's line there), it is taken as far: left, the white
    reaching past it (s7's, 7 px) stayed beside the shut lids as a pale wedge. (Not within
    half the eye's width of the face's outline: taken towards it, a turned head's far
    corner drew a dark bulge of the background into s10's shut far eye.)"""
    xy = source.xy.copy()
    unit, length = _up(source.motion.pose)
    white = []
    for lid, opening, now in shut:
        closed = float(np.clip(1.0 - now / opening, 0.0, 1.0)) if opening > 1e-9 else 0.0
        upper = _upper_closed(lid, opening, now, source.motion.canonical, target.canonical)
        shift, upper_shift = (share * above * opening * length for share in (closed, upper))
        for margin, outwards, by in ((lid.upper, unit, upper_shift), (lid.lower, -unit, shift)):
            xy[margin] += _out_by(source.xy, lid, margin, outwards, by)
        white.append(closed > 0 and _white_below(source.image, source.xy[lid.lower],
                                                 xy[lid.lower] - source.xy[lid.lower]))
        if not white[-1] or source.motion.proportions is not None:
            continue  # (a face placed by hand has its closing eyes covered: cover_eye)
        along = source.xy[lid.outer] - source.xy[lid.inner]
        beyond = along / max(float(np.linalg.norm(along)), 1e-9) - unit
        beyond /= max(float(np.linalg.norm(beyond)), 1e-9)
        corner = np.array([lid.outer])
        if source.inset[lid.outer] > float(np.linalg.norm(along)) / 2 \
                and _white_below(source.image, source.xy[corner], shift * beyond[None]):
            xy[corner] += _out_by(source.xy, lid, corner, beyond, shift)
    return xy, white


def _out_by(xy: np.ndarray, lid: Eyelid, margin: np.ndarray, outwards: np.ndarray,
            shift: float) -> np.ndarray:
    """(N, 2) moves of ``margin``, landmarks of ``lid``, ``shift`` pixels along the unit
    vector ``outwards``, each at most :data:`_LID_EDGE_ROOM` of the way to the mesh's
    landmarks beyond it (:func:`_room_beyond`)."""
    room = _room_beyond(xy, lid, margin, outwards)
    return np.minimum(shift, _LID_EDGE_ROOM * room)[:, None] * outwards


def _close_on_lower_edge(target_xy: np.ndarray, src_xy: np.ndarray, source: WarpSource,
                         target: FaceMotion, closing: list[tuple[Eyelid, float, float]],
                         white: list[bool]) -> list[np.ndarray]:
    """Move (in place) the lower margin and outer corner in ``target_xy`` of each closing eye
    whose white shows below its lower landmarks (``white``, from :func:`_lid_edges`) as far
    as :func:`_lid_edges` takes their source points (``src_xy``) out, and its upper margin
    down with them as far as it closes (``closing``: each eye's lids, its opening in the
    source and in the target, the same for one covered instead): the lids meet on the
    visible lower lid, into the visible corner (the upper margin as far as the upper lid
    closes the eye, :func:`_upper_closed`). Left at the landmarks, which lie inside it,
    the warp stretched what lies between the margin's source points and the landmarks
    beyond them over the band between the landmarks: an eye's white reaching far below them
    (a child's painted eye, s7) stayed as a pale strip between the closed lash line and the
    lower lid's rim. Returns how far (output pixels) each point of the upper margin and the
    corners (``np.r_[lid.upper, lid.corners]``) went down."""
    down, to = (-_up(pose)[0] for pose in (source.motion.pose, target.pose))
    # The source's moves turned and sized as the head is in the target.
    cos, sin = float(down @ to), float(down[0] * to[1] - down[1] * to[0])
    turn = target.pose.scale / source.motion.pose.scale * np.array([[cos, -sin], [sin, cos]])
    sunk = []
    for (lid, was, now), shows in zip(closing, white):
        margin = np.r_[lid.upper, lid.corners]
        closed = float(np.clip(1.0 - now / was, 0.0, 1.0)) if was > 1e-9 else 0.0
        if closed <= 0 or not shows:
            sunk.append(np.zeros(len(margin)))
            continue
        edge = np.r_[lid.lower, lid.outer]
        moved = (src_xy[edge] - source.xy[edge]) @ turn.T
        target_xy[edge] += moved
        lowered = moved @ to
        order = np.argsort(target_xy[lid.lower, 0])
        upper = _upper_closed(lid, was, now, source.motion.canonical, target.canonical)
        sunk.append(np.r_[upper * np.interp(target_xy[lid.upper, 0],
                                             target_xy[lid.lower[order], 0],
                                             lowered[:-1][order]),
                          lowered[-1] * (lid.corners == lid.outer)])
        target_xy[lid.upper] += sunk[-1][:len(lid.upper), None] * to
    return sunk


def _white_below(image: np.ndarray, xy: np.ndarray, shift: np.ndarray) -> bool:
    """Whether the eye's white shows beyond most of an eye's landmarks ``xy`` (its lower
    lid's, its outer corner): on their way to ``xy + shift``, some pixel of ``image`` lighter
    than what lies beyond them (at ``xy + 1.5 shift``: the skin, the lashes) by
    :data:`_WHITE_LIGHTER` of the way to white. (Where the lower lid lies on its landmarks,
    lowered with it, dlib read s42's shut eyes as open.)"""
    # (Read at those few points alone: this runs on every render, a video's every frame.)
    at = xy[None] + np.r_[np.linspace(0.0, 1.0, 9), 1.5][:, None, None] * shift[None]
    read = cv2.remap(image, at[..., 0].astype(np.float32), at[..., 1].astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    luminance = read @ np.array([0.299, 0.587, 0.114], np.float32) if read.ndim == 3 else read
    path, skin = luminance[:-1], luminance[-1]
    white = path.max(axis=0) > skin + _WHITE_LIGHTER * (255.0 - skin)
    return bool(white.mean() > 0.5)


#: The eye's white is lighter than the skin by this fraction of the way to white.
_WHITE_LIGHTER = 0.15


#: A margin landmark's source position is moved out at most this fraction of the way to the
#: landmarks beyond it (the lower one's target with it, :func:`_close_on_lower_edge`: at 0.5,
#: s7's lids closed on its eye's white, above the lower lid's rim).
_LID_EDGE_ROOM = 0.8


def _room_beyond(xy: np.ndarray, lid: Eyelid, margin: np.ndarray, outwards: np.ndarray
                 ) -> np.ndarray:
    """How far (pixels, along the unit vector ``outwards``) beyond each of the ``margin``
    landmarks of ``lid`` lie the face mesh's next landmarks out: its neighbours outside the
    eye, read along the eye at each landmark."""
    ring = _ring_beyond(lid, margin)
    if not len(ring):
        return np.full(len(margin), np.inf)
    across = np.array([-outwards[1], outwards[0]])
    u, h = xy[ring] @ across, xy[ring] @ outwards
    order = np.argsort(u)
    return np.maximum(np.interp(xy[margin] @ across, u[order], h[order])
                      - xy[margin] @ outwards, 0.0)


def _ring_beyond(lid: Eyelid, margin: np.ndarray) -> np.ndarray:
    """The face mesh's landmarks next to the ``margin`` landmarks of ``lid``, outside the eye."""
    eye, on = set(np.r_[lid.outline, lid.iris].tolist()), set(margin.tolist())
    return np.array(sorted({b for a, b in _MESH_EDGES if a in on and b not in eye}), np.int64)


#: The face mesh's edges, both ways.
_MESH_EDGES = frozenset(TOPOLOGY.tessellation) | frozenset(
    (b, a) for a, b in TOPOLOGY.tessellation)


def _under_rising_lids(source: WarpSource, target: FaceMotion, src_xy: np.ndarray,
                       target_xy: np.ndarray, target_points: np.ndarray, cfg: WarpConfig,
                       edges_carried: list[bool]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extra points of the warp (source, target, depth) for each eye whose lower lid rises
    (a smile's): a row just above the risen lower margin that shows the eye where it was, so
    the lid slides up over the eye instead of squeezing the iris and the white into a slit
    (the sleepy look of a smile drawn by a plain warp). The margin is first taken (in
    ``src_xy`` and ``target_xy``, in place) to the lid's visible edge where the eye's white
    shows below its landmarks (:func:`_visible_lower_edge`): left at the landmarks, the
    eye's bottom between them and the lid (s7's, 7-8 px of iris and white) rose with the
    lid, stretched into a pale band, and the iris above it was cut along the landmarks'
    line. ``edges_carried``: per eye, whether :func:`_close_on_lower_edge` already carried
    its lower margin's targets out with their source points."""
    rows = []
    for lid, carried in zip(eyelids(), edges_carried):
        if _lid_raised(lid, source.motion.canonical, target.canonical) <= cfg.lid_slides_above:
            continue
        # The eye itself moves as its corners do (a similarity: turn, scale, shift).
        to_source = _similarity(target_xy[lid.corners], source.xy[lid.corners])
        edge = _visible_lower_edge(source, lid, cfg.lid_edge_above)
        if edge is not None:
            _to_lower_edge(source, lid, edge, carried, to_source, src_xy, target_xy)
        centre = target_xy[lid.corners].mean(axis=0)
        above = target_xy[lid.lower] + _EYE_ABOVE_LID * (centre - target_xy[lid.lower]) \
            / np.maximum(np.linalg.norm(centre - target_xy[lid.lower], axis=1), 1e-6)[:, None]
        rows.append((above @ to_source[:, :2].T + to_source[:, 2], above,
                     target_points[lid.lower, 2] + 1e-3))
    if not rows:
        return np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0)
    return tuple(np.concatenate(part) for part in zip(*rows))


def _visible_lower_edge(source: WarpSource, lid: Eyelid, above: float) -> np.ndarray | None:
    """How far (source pixels, (N, 2)) below each of the lower margin's landmarks of ``lid``
    its visible edge lies, where the eye's white shows below them (:func:`_white_below`; a
    child's painted eye): ``above`` of the eye's opening, at most :data:`_LID_EDGE_ROOM` of
    the way to the landmarks beyond (as :func:`_lid_edges` takes a closing eye's). None
    where it does not show (a photo's lower landmarks lie on the lid's edge), or shows in a
    band no wider than :data:`_WET_RIM`."""
    up, scale = _up(source.motion.pose)
    edge = _out_by(source.xy, lid, lid.lower, -up,
                   above * lid.opening(source.motion.canonical) * scale)
    if np.median(np.linalg.norm(edge, axis=1)) <= _WET_RIM:
        return None
    return edge if _white_below(source.image, source.xy[lid.lower], edge) else None


def _to_lower_edge(source: WarpSource, lid: Eyelid, edge: np.ndarray, carried: bool,
                   to_source: np.ndarray, src_xy: np.ndarray, target_xy: np.ndarray) -> None:
    """Move (in place) the lower margin of ``lid`` in ``src_xy`` and ``target_xy`` out by
    ``edge`` (source pixels, :func:`_visible_lower_edge`; its targets turned and sized as
    the eye is, ``to_source`` the eye's similarity from the output to the source; less what
    :func:`_close_on_lower_edge` already moved them where ``carried``), and the mesh's
    landmarks beyond it up with it: they lie on the lid's rim (a painted eye's dark line),
    and left to rise with the cheek, less than the lid, the rim between was drawn out 2-3
    times, thicker where the lid rose more (its line in steps). Raised as far as the margin
    next to them rises against the eye, the lid's skin further out takes the stretch."""
    from_source = np.linalg.inv(to_source[:, :2])
    taken = src_xy[lid.lower] - source.xy[lid.lower] if carried else 0.0
    target_xy[lid.lower] += (edge - taken) @ from_source.T
    src_xy[lid.lower] = source.xy[lid.lower] + edge

    def in_place(xy: np.ndarray) -> np.ndarray:  # where the eye's similarity takes xy
        return (xy - to_source[:, 2]) @ from_source.T

    risen = target_xy[lid.lower] - in_place(src_xy[lid.lower])
    ring = _ring_beyond(lid, lid.lower)
    order = np.argsort(src_xy[lid.lower, 0])
    with_lid = in_place(src_xy[ring]) + np.stack(
        [np.interp(src_xy[ring, 0], src_xy[lid.lower[order], 0], risen[order, k])
         for k in (0, 1)], axis=1)
    higher = (with_lid - target_xy[ring]) @ (from_source @ _up(source.motion.pose)[0]) > 0
    target_xy[ring[higher]] = with_lid[higher]


#: A band of the eye's white this wide (source pixels) or narrower below the lower landmarks
#: reads as the lower lid's own pale wet rim, and rises with it (taken out to the edge
#: beyond it, s12's 1.4 px, the lid's middle read 0.12 of the eye's height risen, not 0.16).
_WET_RIM = 2.0


#: The row that keeps a rising lower lid's eye in place lies this far (output pixels) above the
#: lid, towards the eye's middle.
_EYE_ABOVE_LID = 1.0


def _similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The 2x3 similarity taking the two points ``a`` to the two points ``b``."""
    za, zb = complex(*(a[1] - a[0])), complex(*(b[1] - b[0]))
    k = zb / za if abs(za) > 1e-9 else 1.0
    rot = np.array([[k.real, -k.imag], [k.imag, k.real]])
    return np.c_[rot, b[0] - rot @ a[0]]


def _lip_edges(src_xy: np.ndarray, target_xy: np.ndarray, cfg: WarpConfig) -> None:
    """Move (in place) the source positions of a closed mouth's inner-lip landmarks into
    its lips, ``cfg.lip_edge_inside`` of each lip's thickness, as far as the mouth opens:
    on a closed mouth they lie on the dark line where the lips meet, which an opening warp
    would stretch into a dark rim all round the opening (its pixels now lie inside the
    filled opening)."""
    canon = canonical_face()
    was = mouth_opening(src_xy)
    opened = mouth_opening(target_xy) - was
    if opened < cfg.mouth_fill_threshold or was >= cfg.mouth_closed_below:
        return  # (an open mouth's own teeth are parted along its inner lip: kept as they are)
    amount = cfg.lip_edge_inside * min(1.0, opened / (2 * cfg.mouth_fill_threshold))
    outer = canon.lip_loops[0]
    corners_y = canon.points[canon.mouth_corners, 1].mean()
    # The corners too, towards the lips' outer corners: the dark fold there would draw dark
    # wedges at the corners of the opening.
    for inner, side, k in (
            (canon.inner_lip_upper, outer[canon.points[outer, 1] < corners_y], 1.0),
            (canon.inner_lip_lower, outer[canon.points[outer, 1] > corners_y], 1.0),
            (canon.mouth_corners, canon.outer_mouth_corners, _CORNER_INSIDE)):
        nearest = side[np.abs(src_xy[inner, None, 0] - src_xy[None, side, 0]).argmin(axis=1)]
        src_xy[inner] += k * amount * (src_xy[nearest] - src_xy[inner])


def _spread_beyond_corners(src_xy: np.ndarray, target_xy: np.ndarray, posed: np.ndarray,
                           skin: np.ndarray, outline: np.ndarray, cfg: WarpConfig) -> None:
    """Move (in place) the ``skin`` landmarks around each of the mouth's outer corners along
    the mouth's line with the corner, as far as the expression draws the corner away from the
    skin beyond it.

    A mouth that narrows (a pout, a scream) pulls its corners in, away from the skin beyond
    them, which moves less: the stretch fell on the landmark triangles next to the corner (the
    painting s10's skin beyond her near corner, the landmarks there drawn out along the mouth
    1.41 times by d8 and 1.48 by d19, magnified 1.82 and 1.84 times by the map at its 90th
    percentile; now 1.60 and 1.65), and her light skin there was drawn out into a pale
    streak. Here each landmark takes a share of the corner's move along the mouth's line (the
    part of it the landmark does not make), falling from all of it at the corner to none at
    ``cfg.corner_skin_reach`` of the mouth's width (or at the face's ``outline``, if nearer):
    the stretch is spread evenly over that skin. As much as the expression draws out the
    landmarks beyond the corner (within ``cfg.corner_skin_near`` of the width, around the
    mouth's line) along it, against where each would be without it (``posed``: the head's
    turn, and what the warp adds to it), from ``cfg.corner_skin_spread_stretch``'s first
    figure, fully from its second: a mouth that widens (a smile) compresses that skin, a turn
    alone draws out the near side of the face, and both keep their landmarks where the motion
    puts them (pulled with its corners whatever the mouth did, the skin beside s12's smile
    changed dlib's fit of her mouth, and with it the lift it read in her lower lids)."""
    canon = canonical_face()
    corners = canon.outer_mouth_corners
    width = float(np.linalg.norm(src_xy[corners[1]] - src_xy[corners[0]]))
    start, full = cfg.corner_skin_spread_stretch
    for corner, other in zip(corners, corners[::-1]):
        offset = src_xy[skin] - src_xy[corner]
        distance = np.linalg.norm(offset, axis=1)
        out_p, out_t = ((line := xy[corner] - xy[other]) / max(float(np.linalg.norm(line)), 1e-9)
                        for xy in (posed, target_xy))
        apart = posed[skin] - posed[corner]
        along = apart @ out_p
        # (How squarely each lies beyond the corner, along the mouth's line: the cosine.)
        beside = along / np.maximum(np.linalg.norm(apart, axis=1), 1e-9)
        beyond = (distance < cfg.corner_skin_near * width) & (beside > 0.5)
        if not beyond.any():
            continue
        drawn = ((target_xy[skin[beyond]] - target_xy[corner]) @ out_t) \
            / np.maximum(along[beyond], 1e-9)
        amount = float(np.clip((drawn.max() - start) / (full - start), 0.0, 1.0))
        if amount <= 0:
            continue
        reach = min(cfg.corner_skin_reach * width,
                    float(distance_to_edges(src_xy[corner][None], outline)[0]))
        # (As much as each lies beyond the corner: the skin under the lower lip, moved
        # sideways under it, sheared the lip's soft edge into a hard one.)
        share = amount * np.clip(beside, 0.0, 1.0) * np.clip(1.0 - distance / reach, 0.0, 1.0)
        lag = (target_xy[corner] - src_xy[corner]) - (target_xy[skin] - src_xy[skin])
        target_xy[skin] += (share * (lag @ out_t))[:, None] * out_t


#: The corners' fold runs out to the lips' outer corners: they are taken from this many
#: times further along it than the lips' inner edge is taken into them.
_CORNER_INSIDE = 3.0


def _upper_closed(lid: Eyelid, was: float, now: float, source: np.ndarray, target: np.ndarray
                  ) -> float:
    """How far an eye's upper lid closes it from its opening ``was`` in ``source`` to ``now``
    in ``target`` (canonical landmarks): as a fraction of the opening left above its lower lid
    where the target has it. A rising lower lid (a smile's) narrows the eye without closing
    it from above, and the upper lid stays: read against the source's whole opening, happy
    closed the eye by a third, the upper margin's edge drawn from 0.4-1.6 px higher (a
    drooping lid) and, on s10's eye nearer the picture, its margin sunk 0.55 px more. An
    eye shut, or closed by its upper lid alone (a blink), reads as closed as it is."""
    left = was * (1.0 - max(_lid_raised(lid, source, target), 0.0))
    return float(np.clip(1.0 - now / left, 0.0, 1.0)) if left > 1e-9 else 0.0


def _lid_lowered(lid: Eyelid, source: np.ndarray, target: np.ndarray) -> float:
    """How far the upper lid comes down over the eye from ``source`` to ``target``
    (canonical landmarks), as a fraction of the eye's opening (a lower lid that rises, in a
    smile, is no closing upper lid); none in an eye the source shows shut: there is no eye
    for it to come over (its lids moving together, read against a gap of next to nothing,
    redrew a closing lid with a stepped lash line)."""
    if lid.shown(source, OWN_EYE_OPEN) <= 0:
        return 0.0
    return lid.margin_move(lid.upper, source, target)


def _lid_raised(lid: Eyelid, source: np.ndarray, target: np.ndarray) -> float:
    """How far the lower lid rises over the eye, as :func:`_lid_lowered`."""
    return -lid.margin_move(lid.lower, source, target)


#: The blur (pixels) that antialiases the edge where the face juts past its outline.
_EDGE_BLUR = 1.0

#: A turn (radians) below which a head counts as not turning.
_STILL = 1e-6


def _silhouette(points: np.ndarray, near: float, band: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The landmarks on the outline of the face as the image shows it: the corners of their
    convex hull (the irises, inside the eyes, apart), in order around it; every landmark
    within ``near`` pixels of it; and every landmark's distance from the edge: how far inside
    the outline in the image, and how much more than ``band`` in front of the outline near it
    (a Gaussian of half ``band``). A strongly turned face's far cheek hides behind its nose,
    which then lies near the outline in the image, but well in front of it: no part of the
    edge (a cheek or an eye near the outline lies only a little in front of it)."""
    xy = points[:, :2]
    on_mesh = np.setdiff1d(np.arange(len(xy)), np.r_[tuple(lid.iris for lid in eyelids())])
    hull = on_mesh[cv2.convexHull(xy[on_mesh].astype(np.float32), returnPoints=False).ravel()]
    polygon = xy[hull].astype(np.float32)
    distance = np.array([cv2.pointPolygonTest(polygon, (float(x), float(y)), True)
                         for x, y in xy])
    rim = on_mesh[distance[on_mesh] < near]
    edge_depth = _smoothed(points[:, 2], xy, np.arange(len(xy)), band / 2, rim)
    front = np.maximum(edge_depth - points[:, 2] - band, 0.0)
    return hull, rim, np.hypot(np.maximum(distance, 0.0), front)


def _smoothed(values: np.ndarray, xy: np.ndarray, points: np.ndarray, reach: float,
              by: np.ndarray | None = None) -> np.ndarray:
    """``values`` (per landmark) averaged at ``points`` over the landmarks ``by`` (all of them
    by default) near them: a Gaussian of ``reach`` pixels over their positions ``xy``."""
    by = np.arange(len(xy)) if by is None else by
    d2 = ((xy[points, None] - xy[None, by]) ** 2).sum(axis=2)
    w = np.exp(-0.5 * (d2 - d2.min(axis=1, keepdims=True)) / reach**2)
    return (w @ values[by]) / w.sum(axis=1).reshape(-1, *[1] * (values.ndim - 1))


def _border_points(w: int, h: int, per_side: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, per_side, endpoint=False)
    x1, y1 = w - 1.0, h - 1.0
    return np.r_[
        np.c_[t * x1, np.zeros_like(t)],
        np.c_[np.full_like(t, x1), t * y1],
        np.c_[x1 - t * x1, np.full_like(t, y1)],
        np.c_[np.zeros_like(t), y1 - t * y1],
    ]
