"""The transfer pipeline: owns I/O, face detection, smoothing and progress; engines do the maths."""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .config import FACES, INPUT_LIMITS, InputLimits
from .engines import TransferEngine, create_engine
from .engines.registry import check_placed_faces
from .engines.source_faces import SourceFaces
from .errors import InputError, NoFaceError, NoSourceFaceError
from .face.landmarks import DEFAULT_LANDMARKER, FaceLandmarks, LandmarkerPool, create_landmarker
from .face.points import FacePoints
from .face.selection import ALL, LARGEST, FaceChoice
from .face.territory import territories
from .face.tracking import FaceTracker
from .frame_renderers import (
    DriverTimeline,
    EditFrames,
    FrameRenderer,
    SourceVideoFrames,
    TransferFrames,
    side_by_side,
)
from .io.images import as_rgb, read_image
from .io.output import atomic_output
from .io.video import (
    Mp4Writer,
    VideoInfo,
    check_video_output,
    is_video,
    iter_frames,
    probe_video,
)
from .motion.blinks import BlinkReader
from .motion.compose import MotionOptions
from .motion.controls import ExpressionEdit, reference_offsets
from .prefetch import prefetch

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (frames done, frames in all)
#: Where a video's sound comes from when a source video is driven.
AUDIO_FROM = ("source", "driving", "none")
#: How many tracked frames before a video's first face are kept to render, rather than
#: decoded and tracked again once the face is known to be there (bounds the memory held).
HELD_BEFORE_FACE = 8


class TransferPipeline:
    """Identity image + driving image or video -> the identity wearing the driver's motion."""

    def __init__(self, engine: str | TransferEngine = "auto", limits: InputLimits = INPUT_LIMITS,
                 landmarker: str = DEFAULT_LANDMARKER):
        self.engine = create_engine(engine) if isinstance(engine, str) else engine
        self.limits = limits
        self.landmarker = landmarker  # what finds faces (:func:`create_landmarker`'s names)
        self._landmarkers = LandmarkerPool(size=2, landmarker=landmarker)

    def detect(self, image: np.ndarray, what: str) -> FaceLandmarks:
        with self._landmarkers.lend() as landmarker:
            return landmarker.detect(image, what)

    def find_faces(self, image: np.ndarray) -> list[FaceLandmarks]:
        """Every face in the image, left to right (the numbers a :class:`FaceChoice` uses)."""
        with self._landmarkers.lend() as landmarker:
            return landmarker.detect_all(image)

    def prepare_faces(self, image: np.ndarray, face: FaceChoice = FaceChoice(),
                      what: str = "source image",
                      points: Sequence[FacePoints] = ()) -> SourceFaces:
        """The photo's chosen faces, each prepared by the engine once, with the part of the
        photo it may change (other faces are kept apart, :mod:`~deepexpo.face.territory`).
        With ``points`` (faces placed by hand: an animal, a cartoon), those are the faces,
        instead of those a detector finds, and each of them is driven unless ``face`` names
        one."""
        image = as_rgb(image, what, self.limits)
        if points:
            check_placed_faces(self.engine.name)
            faces = create_landmarker("points", points=points,
                                      what=f"face points for the {what}").detect_all(image)
            face = FaceChoice(ALL) if face.which == LARGEST else face
        else:
            faces = self.find_faces(image)
        if not faces:
            raise NoSourceFaceError(f"no face found in {what}")
        places = territories(faces, face.pick(faces, what, FACES.min_face_px), what)
        return SourceFaces(self.engine, image, tuple(
            self.engine.prepare_source(image, faces[i], territory)
            for i, territory in places.items()))

    def _driving_face(self, image: np.ndarray, choice: FaceChoice) -> FaceLandmarks:
        faces = self.find_faces(image)
        return faces[choice.single("driving face").pick(faces, "driving image")[0]]

    def transfer_image(
        self,
        source_image: np.ndarray,
        driving_image: np.ndarray,
        options: MotionOptions = MotionOptions(),
        show_inputs: bool = False,
        face: FaceChoice = FaceChoice(),
        driving_face: FaceChoice = FaceChoice(),
        points: Sequence[FacePoints] = (),
    ) -> np.ndarray:
        """The source person with the driving image's expression and pose.

        In relative mode a single driving image is measured against its own neutral, frontal
        face, so a screaming driver makes a calm source scream. ``face``: which of the
        source's faces to drive (``all``: each with its own pose and identity);
        ``driving_face``: which of the driver's faces drives them; ``points``: the source's
        faces placed by hand (:meth:`prepare_faces`).
        """
        source_image = as_rgb(source_image, "source image", self.limits)
        driving_image = as_rgb(driving_image, "driving image", self.limits)
        with ThreadPoolExecutor(max_workers=1) as other_core:  # both photos' faces at once
            driving_landmarks = other_core.submit(self._driving_face, driving_image, driving_face)
            faces = self.prepare_faces(source_image, face, points=points)
        driving = self.engine.extract(driving_image, driving_landmarks.result())
        reference = self.engine.neutral_reference(driving)
        out = faces.render(driving, reference, options)
        return side_by_side(faces.image, driving_image, out) if show_inputs else out

    def transfer_video(
        self,
        source_image: np.ndarray,
        driving_video: str | os.PathLike,
        output_path: str | os.PathLike,
        options: MotionOptions = MotionOptions(),
        show_inputs: bool = False,
        keep_audio: bool = True,
        progress: Progress | None = None,
        face: FaceChoice = FaceChoice(),
        driving_face: FaceChoice = FaceChoice(),
        points: Sequence[FacePoints] = (),
    ) -> Path:
        """Write an mp4 of the source person following the driving video, at its frame rate.

        Relative mode takes motion relative to the first frame with a face (for each of the
        source's chosen ``face``s, on top of its own). Landmarks are smoothed over time; a frame
        where the face is lost reuses the last good motion. ``driving_face``: the driver's face
        in its first frame with one, followed from there on; ``points``: the source's faces
        placed by hand.
        """
        output_path = check_video_output(output_path, (driving_video,))
        info = probe_video(driving_video, self.limits)
        frames = self._transfer_frames(source_image, info, options, show_inputs, face, points)
        audio = info.path if keep_audio and info.has_audio else None
        self._video(info, output_path, frames, audio, progress, "driving video", driving_face)
        if frames.lost:
            logger.warning("no face in %d of %d driving frames; reused the last motion",
                           frames.lost, info.frame_count)
        return output_path

    def edit_image(self, image: np.ndarray, edit: ExpressionEdit, show_inputs: bool = False,
                   prepared: SourceFaces | None = None,
                   face: FaceChoice = FaceChoice(),
                   points: Sequence[FacePoints] = ()) -> np.ndarray:
        """The photo with its expression and head pose edited by hand-set controls, on the
        chosen ``face`` (or all; ``points``: its faces placed by hand). ``prepared``: what
        :meth:`prepare_faces` gave for it, kept by a caller that edits the same photo again
        and again (the app's sliders)."""
        faces = prepared or self.prepare_faces(image, face, "image", points)
        out = faces.edit(edit)
        return side_by_side(faces.image, out) if show_inputs else out

    def edit_video(
        self,
        video: str | os.PathLike,
        output_path: str | os.PathLike,
        edit: ExpressionEdit,
        show_inputs: bool = False,
        keep_audio: bool = True,
        progress: Progress | None = None,
        reference: str | os.PathLike | None = None,
        points: Sequence[FacePoints] = (),
    ) -> Path:
        """Write the video with the edit (an emotion, say) applied to every frame, while each
        frame keeps its own head pose, lip motion and blinks, so speech survives. With a
        ``reference`` clip, frame i also takes on the change of the reference's expression from
        its first frame to its frame i (its mouth opening left out; a shorter clip holds its last frame).
        Frames without a face are left as they are. ``points``: the face placed by hand on the
        first frame (:meth:`_track`)."""
        output_path = check_video_output(output_path, (video, reference))
        info = probe_video(video, self.limits)
        offsets: list[np.ndarray] = []
        if reference is not None:  # read up front: a bad clip fails before any output
            clip = probe_video(reference, self.limits)
            offsets = reference_offsets(face for _, face in self._track(clip, "reference video"))
            if not offsets:
                raise NoFaceError(f"no face found in any frame of reference video "
                                  f"'{clip.path.name}'")
        frames = EditFrames(self.engine, edit.speech_preserving(), offsets, show_inputs)
        audio = info.path if keep_audio and info.has_audio else None
        self._video(info, output_path, frames, audio, progress, "video", points=points,
                    driven=True)
        if frames.lost:
            logger.warning("no face in %d of %d frames; left them unedited", frames.lost,
                           info.frame_count)
        return output_path

    def reenact_video(
        self,
        source_video: str | os.PathLike,
        driving: str | os.PathLike,
        output_path: str | os.PathLike,
        options: MotionOptions = MotionOptions(),
        show_inputs: bool = False,
        audio: str = "source",
        shortest: bool = False,
        progress: Progress | None = None,
        driving_face: FaceChoice = FaceChoice(),
        points: Sequence[FacePoints] = (),
    ) -> Path:
        """Drive a source video with a driving video or image (DPE's video portrait editing,
        LivePortrait's video-to-video). The output follows the source's frame rate and length;
        the driver is time-aligned to it (a shorter one holds its last frame, or with
        ``shortest`` the output stops there). ``region="expression"`` keeps each source frame's
        head motion, ``"pose"`` its expression and lips. ``audio``: ``source``, ``driving`` or
        ``none``. ``driving_face``: which of the driver's faces drives (a video: in its first
        frame with a face, followed from there on). ``points``: the source's face placed by
        hand on its first frame, for one no detector finds (:meth:`_track`)."""
        output_path = check_video_output(output_path, (source_video, driving))
        if audio not in AUDIO_FROM:
            raise InputError(f"audio must be one of {', '.join(AUDIO_FROM)}, not {audio!r}")
        info = probe_video(source_video, self.limits)
        audio_from = {"source": info, "driving": None, "none": None}
        if is_video(driving):
            driver = probe_video(driving, self.limits)
            timeline = DriverTimeline(self.engine, driver.fps,
                                      self._track_a_face(driver, "driving video", driving_face),
                                      self.engine.motion_filter(info.fps))
            audio_from["driving"] = driver
        else:
            image = read_image(driving, self.limits)
            timeline = DriverTimeline.from_image(self.engine, image,
                                                 self._driving_face(image, driving_face))
        chosen = audio_from[audio]
        frames = SourceVideoFrames(self.engine, timeline, info.fps, options, show_inputs,
                                   shortest)
        self._video(info, output_path, frames,
                    chosen.path if chosen is not None and chosen.has_audio else None, progress,
                    "source video", points=points, driven=True)
        if frames.lost:
            logger.warning("no face in %d of %d source frames; left them as they are",
                           frames.lost, info.frame_count)
        return output_path

    def _video(self, info: VideoInfo, output_path: Path, frames: FrameRenderer,
               audio: Path | None, progress: Progress | None, what: str,
               choice: FaceChoice = FaceChoice(), points: Sequence[FacePoints] = (),
               driven: bool = False) -> None:
        """The one video loop: follow the chosen face (placed by ``points``, if any), turn each
        frame into output frames, and write them (with ``audio``'s sound) to a file that
        appears under ``output_path`` only once complete. A video in which no frame has a face
        fails before anything is encoded (``driven``: the face to drive or edit, a
        :class:`NoSourceFaceError`)."""
        tracked = self._track_a_face(info, what, choice, points, driven)
        self._write_video(info, output_path, self._rendered(tracked, frames), audio, progress)

    @staticmethod
    def _rendered(tracked: Iterator[tuple[np.ndarray, FaceLandmarks | None]],
                  frames: FrameRenderer) -> Iterator[np.ndarray]:
        """The output frames; the next frames are decoded and tracked on the other core
        while this one is rendered (and the previous one encoded by ffmpeg)."""
        for frame, face in prefetch(tracked):
            yield from frames.feed(frame, face)
            if frames.done:
                break
        yield from frames.flush()

    def transfer_frames(self, source_image: np.ndarray, driving_video: str | os.PathLike,
                        options: MotionOptions = MotionOptions()) -> Iterator[np.ndarray]:
        """:meth:`transfer_video`'s frames, one per driving frame, in memory instead of
        encoded: for scoring them against the real frames."""
        info = probe_video(driving_video, self.limits)
        tracked = self._track_a_face(info, "driving video")
        yield from self._rendered(tracked,
                                  self._transfer_frames(source_image, info, options, False))

    def _transfer_frames(self, source_image: np.ndarray, info: VideoInfo,
                         options: MotionOptions, show_inputs: bool,
                         face: FaceChoice = FaceChoice(),
                         points: Sequence[FacePoints] = ()) -> TransferFrames:
        """The renderer of a photo's chosen faces driven by the video ``info``."""
        return TransferFrames(self.prepare_faces(source_image, face, points=points), options,
                              show_inputs, self.engine.motion_filter(info.fps))

    def video_faces(self, video: str | os.PathLike, what: str = "driving video",
                    choice: FaceChoice = FaceChoice()
                    ) -> Iterator[tuple[np.ndarray, FaceLandmarks | None]]:
        """Each frame of ``video`` with its chosen face as a transfer driven by it reads it
        (followed, smoothed, a blink read shut: :meth:`_track`), ``None`` where none was
        found: to measure or pick frames by what the renderer is given."""
        return self._track_a_face(probe_video(video, self.limits), what, choice)

    def _track_a_face(self, info: VideoInfo, what: str, choice: FaceChoice = FaceChoice(),
                      points: Sequence[FacePoints] = (), driven: bool = False
                      ) -> Iterator[tuple[np.ndarray, FaceLandmarks | None]]:
        """:meth:`_track`, once a frame with a face is known to be there (none at all is a
        :class:`NoFaceError`, raised here, before any output). The video is decoded and
        tracked once when its first face comes within :data:`HELD_BEFORE_FACE` frames (the
        frames before it are held meanwhile); a later one is looked for without holding frames,
        and the video read again from its start."""
        tracked = self._track(info, what, choice, points)
        held: list[tuple[np.ndarray, FaceLandmarks | None]] = []
        for frame, face in tracked:
            held.append((frame, face))
            if face is not None:
                return itertools.chain(held, tracked)
            if len(held) == HELD_BEFORE_FACE:
                break
        found = any(face is not None for _, face in tracked)
        tracked.close()
        if not found:
            missing = NoSourceFaceError if driven else NoFaceError
            raise missing(f"no face found in any frame of {what} '{info.path.name}'")
        return self._track(info, what, choice, points)

    def _track(self, info: VideoInfo, what: str, choice: FaceChoice = FaceChoice(),
               points: Sequence[FacePoints] = ()
               ) -> Generator[tuple[np.ndarray, FaceLandmarks | None], None, None]:
        """Each frame with the chosen face, followed through the video (:class:`FaceTracker`),
        its landmarks smoothed over time (``None``: not found), a blink read shut
        (:class:`BlinkReader`: the frames come half a second late). With ``points``, the face is
        the one they place on the first frame, followed by the picture's motion (no detector
        finds it in the next frames either); a video drives one face, so one set of points."""
        name = f"{what} '{info.path.name}'"
        if points:
            check_placed_faces(self.engine.name)
        if len(points) > 1:
            raise InputError(f"a video drives one face: the face points for {name} place "
                             f"{len(points)}; give one face's points (on its first frame)")
        landmarker, options = ("points", dict(
            points=points, what=f"face points for the first frame of {name}")) if points \
            else (self.landmarker, {})
        blinks = BlinkReader(info.fps)
        with FaceTracker(choice, name, info.fps, landmarker, options) as tracker:
            for frame in iter_frames(info, self.limits):
                face = tracker(frame)
                yield from blinks.feed(frame, face, tracker.found)
            yield from blinks.flush()

    @staticmethod
    def _write_video(info: VideoInfo, output_path: str | os.PathLike,
                     frames: Iterable[np.ndarray], audio: Path | None,
                     progress: Progress | None) -> None:
        """The frames as an mp4 that appears under ``output_path`` only once complete."""
        with atomic_output(output_path) as partial, \
                Mp4Writer(partial, info.fps, audio_from=audio) as writer:
            for index, frame in enumerate(frames):
                writer.write(frame)
                if progress is not None:
                    progress(index + 1, info.frame_count)
