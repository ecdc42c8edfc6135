"""DeepExPo: facial expression and head-pose transfer that keeps who a person is.

Python API::

    import deepexpo
    out = deepexpo.transfer_image(source, driving)              # RGB arrays in and out
    deepexpo.transfer_video(source, "driving.mp4", "out.mp4")   # writes an mp4
    deepexpo.reenact_video("talk.mp4", "driving.mp4", "out.mp4")  # a source video, driven
    deepexpo.reenact_video("cartoon.mp4", "driving.mp4", "out.mp4",
                           source_points="cartoon.json")  # placed on its first frame
    deepexpo.prepare_videos("raw/", "clips/")                   # training clips of each face
    out = deepexpo.transfer_image(group, driving, face="all")   # every face of a group photo
    out = deepexpo.edit_image(photo, deepexpo.ExpressionEdit.emotion("happy"))
    out = deepexpo.transfer_image(cat, driving, source_points="cat.json")  # placed by hand

``face`` (and ``driving_face``) is a :class:`FaceChoice` or what one is made of: ``"largest"``
(the default), ``"all"`` (source faces only) or a face's number, from 0, left to right.
``source_points``: the source's faces placed by hand, for one no detector finds (an animal, a
cartoon): a JSON file's path, JSON text, a ``{"name": [x, y]}`` mapping, a
:class:`~deepexpo.face.points.FacePoints`, or a list of those for several faces
(:mod:`deepexpo.face.points` names the points: its dozen key points at least, the eyes'
bottoms and the brows estimated where left out); each placed face is driven unless ``face``
names one.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .runtime import bound_blas_threads, fork_ffmpeg_safely

# Before numpy is imported: the app's and a caller's threads must never deadlock in OpenBLAS,
# nor in a forked FFmpeg's start (see runtime.py).
bound_blas_threads()
fork_ffmpeg_safely()

import numpy as np  # noqa: E402

from .config import INPUT_LIMITS, InputLimits  # noqa: E402
from .errors import DeepExPoError, InputError, NoFaceError  # noqa: E402
from .face.points import FacePoints, PointsLike, as_face_points  # noqa: E402
from .face.selection import FaceChoice  # noqa: E402
from .motion.compose import MotionOptions  # noqa: E402
from .motion.controls import EMOTIONS, ExpressionControls, ExpressionEdit  # noqa: E402
from .motion.regions import REGIONS  # noqa: E402

if TYPE_CHECKING:
    from .engines.registry import Job

__version__ = "0.1.0"


class _SharedPipelines:
    """A shared pipeline per engine and input limits: models load once per process. Keyed on
    the engine ``auto`` stands for, so ``auto`` and ``neural`` share the networks; room for
    each engine under each of a few input limits (the library's, the app's, Live's, a caller's)."""

    def __init__(self) -> None:
        self._cached = lru_cache(maxsize=16)(self._build)

    @staticmethod
    def _build(engine: str, limits: InputLimits):
        from .pipeline import TransferPipeline

        return TransferPipeline(engine, limits)

    def __call__(self, engine: str = "auto", limits: InputLimits = INPUT_LIMITS,
                 job: Job | None = None):
        """``job`` (default: a video) is what ``auto`` weighs (:class:`~.engines.registry.Job`)."""
        from .engines import resolve_engine
        from .engines.registry import VIDEO

        return self._cached(resolve_engine(engine, job or VIDEO), limits)

    def cache_clear(self) -> None:
        self._cached.cache_clear()


get_pipeline = _SharedPipelines()


def transfer_image(
    source: np.ndarray,
    driving: np.ndarray,
    options: MotionOptions = MotionOptions(),
    engine: str = "auto",
    show_inputs: bool = False,
    face: FaceChoice | str | int = "largest",
    driving_face: FaceChoice | str | int = "largest",
    source_points: PointsLike = None,
) -> np.ndarray:
    """The source person (RGB array) with the driving image's expression and head pose."""
    from .engines.registry import PHOTO

    points = as_face_points(source_points)
    return get_pipeline(engine, job=PHOTO.placing(points)).transfer_image(
        source, driving, options, show_inputs, FaceChoice.parse(face),
        FaceChoice.parse(driving_face), points)


def transfer_video(
    source: np.ndarray,
    driving_video: str | os.PathLike,
    output_path: str | os.PathLike,
    options: MotionOptions = MotionOptions(),
    engine: str = "auto",
    show_inputs: bool = False,
    keep_audio: bool = True,
    face: FaceChoice | str | int = "largest",
    driving_face: FaceChoice | str | int = "largest",
    source_points: PointsLike = None,
) -> Path:
    """Write an mp4 of the source person following the driving video."""
    from .engines.registry import VIDEO

    points = as_face_points(source_points)
    return get_pipeline(engine, job=VIDEO.placing(points)).transfer_video(
        source, driving_video, output_path, options, show_inputs, keep_audio,
        face=FaceChoice.parse(face), driving_face=FaceChoice.parse(driving_face),
        points=points)


def edit_image(
    image: np.ndarray,
    edit: ExpressionEdit,
    engine: str = "auto",
    show_inputs: bool = False,
    face: FaceChoice | str | int = "largest",
    source_points: PointsLike = None,
) -> np.ndarray:
    """The photo (RGB array) with its expression and head pose edited (an emotion preset,
    named controls: :class:`ExpressionEdit`)."""
    from .engines.registry import PHOTO

    points = as_face_points(source_points)
    return get_pipeline(engine, job=PHOTO.placing(points)).edit_image(
        image, edit, show_inputs, face=FaceChoice.parse(face), points=points)


def reenact_video(
    source_video: str | os.PathLike,
    driving: str | os.PathLike,
    output_path: str | os.PathLike,
    options: MotionOptions = MotionOptions(),
    engine: str = "auto",
    show_inputs: bool = False,
    audio: str = "source",
    shortest: bool = False,
    driving_face: FaceChoice | str | int = "largest",
    source_points: PointsLike = None,
) -> Path:
    """Write an mp4 of a source video driven by a driving video or image, frame by frame:
    ``options.region`` says what the driver changes (``expression`` keeps the source's head
    motion, ``pose`` its expression and lips). ``source_points``: its face placed by hand on
    its first frame (one face), followed from there by the picture's motion."""
    from .engines.registry import VIDEO

    points = as_face_points(source_points)
    return get_pipeline(engine, job=VIDEO.placing(points)).reenact_video(
        source_video, driving, output_path, options, show_inputs, audio, shortest,
        driving_face=FaceChoice.parse(driving_face), points=points)


def prepare_videos(
    input_path: str | os.PathLike,
    output_dir: str | os.PathLike,
    size: int = 256,
    min_frames: int = 25,
    min_box: int | None = None,
) -> list:
    """Cut the raw videos under ``input_path`` into face-cropped clips of one person each in
    ``output_dir``, with their ``clips.json``, for training the neural engine (see
    :mod:`deepexpo.clips`); each video's :class:`~deepexpo.clips.VideoSummary`."""
    from .clips import ClipOptions
    from .clips import prepare_videos as prepare

    return prepare(input_path, output_dir, ClipOptions(size, min_box, min_frames))


__all__ = [
    "EMOTIONS",
    "REGIONS",
    "DeepExPoError",
    "ExpressionControls",
    "ExpressionEdit",
    "FaceChoice",
    "FacePoints",
    "InputError",
    "MotionOptions",
    "NoFaceError",
    "edit_image",
    "get_pipeline",
    "prepare_videos",
    "reenact_video",
    "transfer_image",
    "transfer_video",
]
