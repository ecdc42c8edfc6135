"""Raw videos cut into face-cropped clips, the training data of the neural engine's networks.

Each video is read twice: once to find and follow the faces (:mod:`.segments`), once to cut
every long enough segment's steady box out of its frames and write it as a clip, so a long
video never has to be held in memory. Each clip and the index (:mod:`.index`) are written
beside their names and renamed when whole; a rerun leaves the clips already whole as they are.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import InputLimits
from ..errors import DeepExPoError, InputError, NoFaceError
from ..face.crop import FaceCrop
from ..face.landmarks import DEFAULT_LANDMARKER, FaceBox, Landmarker, create_landmarker
from ..io.output import atomic_output
from ..io.video import VIDEO_SUFFIXES, Mp4Writer, VideoInfo, iter_frames, probe_video
from .index import ClipRecord, ClipsIndex
from .segments import PersonTracker, PictureArea, SceneCuts, Segment, Sighting, box_crop

logger = logging.getLogger(__name__)

CLIP_SIZES = (256, 512)
#: Raw training videos are long and large: they are streamed, never held whole, so the caps
#: here only keep out what no one would train on.
RAW_VIDEO_LIMITS = InputLimits(max_file_bytes=16 * 1024**3, max_video_frames=10_000_000,
                               max_video_seconds=24 * 3600.0, max_video_side=4096)

#: ``progress(done, total)`` in frames: each video is read twice, so the total is twice the
#: videos' frames.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ClipOptions:
    """``size``: the clips' side in pixels; ``min_box``: the smallest steady box (in the raw
    video's pixels) a face may have, by default half of ``size`` (more than twice enlarged, a
    clip is a blur); ``min_frames``: the shortest clip."""

    size: int = 256
    min_box: int | None = None
    min_frames: int = 25

    def __post_init__(self) -> None:
        if self.size not in CLIP_SIZES:
            raise InputError(f"the clip size must be {' or '.join(map(str, CLIP_SIZES))}, "
                             f"not {self.size}")
        if self.min_box is not None and self.min_box < 1:
            raise InputError(f"the smallest box must be at least 1 pixel, not {self.min_box}")
        if self.min_frames < 2:
            raise InputError("a clip needs at least 2 frames (a pair to train on), not "
                             f"{self.min_frames}")

    @property
    def smallest_box(self) -> int:
        return self.min_box if self.min_box is not None else self.size // 2


@dataclass
class VideoSummary:
    """What became of one raw video."""

    source: str
    frames: int = 0
    clips: list[ClipRecord] = field(default_factory=list)
    kept: int = 0  # clips already whole from an earlier run, left as they were
    cuts: int = 0
    small_frames: int = 0  # frames whose only faces were too small
    short_segments: int = 0
    seconds: float = 0.0
    error: str | None = None

    def line(self) -> str:
        if self.error:
            return f"{self.source}: {self.error}"
        if self.frames == 0:
            return f"{self.source}: {_count(len(self.clips), 'clip')} already whole, kept"
        skipped = [f"{n} {what}" for n, what in (
            (self.cuts, "scene cuts"), (self.small_frames, "frames with only too small faces"),
            (self.short_segments, "segments too short")) if n]
        written = len(self.clips) - self.kept
        return (f"{self.source}: {self.frames} frames -> {_count(len(self.clips), 'clip')} "
                f"({sum(c.frames for c in self.clips)} frames"
                + (f", {self.kept} already whole" if self.kept else "")
                + (f", {written} written" if self.kept and written else "") + ")"
                + (f"; {', '.join(skipped)}" if skipped else "") + f"; {self.seconds:.1f} s")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' * (n != 1)}"


def prepare_videos(input_path: str | os.PathLike, output_dir: str | os.PathLike,
                   options: ClipOptions = ClipOptions(), progress: Progress | None = None,
                   landmarker: str = DEFAULT_LANDMARKER) -> list[VideoSummary]:
    """Every video under ``input_path`` (a folder, searched with its subfolders, or one video)
    cut into clips in ``output_dir`` (see :mod:`deepexpo.clips.index`); each video's summary.
    A video that gives no clip has its reason in its summary; when no video gives any, that is
    a one-line :class:`InputError` (or :class:`NoFaceError`)."""
    root, output = Path(input_path), Path(output_dir)
    videos = _raw_videos(root)
    _check_output(root, output)
    index = ClipsIndex.read(output) or ClipsIndex(options.size, [])
    if index.size != options.size:
        raise InputError(f"'{output}' holds {index.size} px clips: use --size {index.size} or "
                         "another output folder")
    infos: dict[str, VideoInfo | DeepExPoError] = {}
    for source, path in videos.items():
        try:
            infos[source] = probe_video(path, RAW_VIDEO_LIMITS)
        except DeepExPoError as exc:
            infos[source] = exc
    total = 2 * sum(i.frame_count for i in infos.values() if isinstance(i, VideoInfo))
    done = 0

    def advance(frames: int = 1) -> None:
        nonlocal done
        done += frames
        if progress is not None:
            progress(min(done, total), total)

    summaries, failures = [], []
    finder = _FaceFinder(landmarker, options)
    try:
        for source, info in infos.items():
            kept = index.of_source(source)
            if isinstance(info, DeepExPoError):
                summaries.append(VideoSummary(source, error=str(info)))
                failures.append(info)
            elif kept and all(_is_whole(output / c.path, c.frames) for c in kept):
                summaries.append(VideoSummary(source, clips=kept, kept=len(kept)))
                advance(2 * info.frame_count)
            else:
                summary = VideoSummary(source)
                start = time.perf_counter()
                try:
                    _prepare(info, source, output, options, finder, summary, advance)
                except DeepExPoError as exc:
                    summary.error = str(exc)
                    failures.append(exc)
                summary.seconds = time.perf_counter() - start
                summaries.append(summary)
                if summary.clips or kept:
                    index.replace_source(source, summary.clips)
                    index.write(output)
                logger.info("%s", summary.line())
    finally:
        finder.close()
    if not any(s.clips for s in summaries):
        if len(summaries) == 1 and failures:
            raise failures[0]
        failed = [s for s in summaries if s.error]
        raise InputError(f"no clips from the {len(summaries)} videos in '{root}': "
                         + "; ".join(s.line() for s in failed[:3])
                         + ("; ..." if len(failed) > 3 else ""))
    return summaries


def _raw_videos(root: Path) -> dict[str, Path]:
    """The videos to prepare by their name in the summaries and the index: their path under
    ``root`` (or, for one video, its file name)."""
    if root.is_file():
        return {root.name: root}
    if not root.is_dir():
        raise InputError(f"'{root}' is neither a folder of videos nor a video")
    videos = {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
              if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
              and not p.name.startswith(".")}
    if not videos:
        raise InputError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) in '{root}'")
    return videos


def _check_output(root: Path, output: Path) -> None:
    """The output is a folder that can be written, and neither the input nor inside it nor
    around it (a rerun would take the clips for raw videos, or the videos be overwritten)."""
    raw, out = root.resolve(), output.resolve()
    if out == raw or raw in out.parents or out in raw.parents:
        raise InputError(f"the output folder '{output}' must be apart from the input "
                         f"'{root}': the raw videos would be mixed with the clips")
    if output.exists() and not output.is_dir():
        raise InputError(f"the output '{output}' is a file: give a folder for the clips")
    folder = out
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write '{output}': '{folder}' is not a writable folder")


class _FaceFinder:
    """A raw frame's faces as :class:`Sighting` s; the too small ones left out and counted."""

    def __init__(self, landmarker: str, options: ClipOptions):
        self._name = landmarker
        self._landmarker: Landmarker | None = None  # made for the first frame to look at
        self.smallest = options.smallest_box

    def __call__(self, frame_index: int, frame: np.ndarray) -> tuple[list[Sighting], bool]:
        """The frame's faces large enough, and whether it had any too small."""
        if self._landmarker is None:
            self._landmarker = create_landmarker(self._name)
        landmarker = self._landmarker
        sightings = []
        small = False
        for face in landmarker.detect_all(frame):
            crop = FaceCrop.from_landmarks(face.xy)
            if crop.side < self.smallest:
                small = True
                continue
            sightings.append(Sighting(frame_index, FaceBox(*face.bbox, 1.0), crop))
        return sightings, small

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()


def _prepare(info: VideoInfo, source: str, output: Path, options: ClipOptions,
             finder: _FaceFinder, summary: VideoSummary, advance: Callable[[int], None]) -> None:
    """One video's segments found, then its clips written (or kept, where already whole)."""
    tracker, cuts = PersonTracker(), SceneCuts()
    shots: list[tuple[int, PictureArea]] = []  # each shot's first frame and picture area
    faces = 0
    for frame_index, frame in enumerate(iter_frames(info, RAW_VIDEO_LIMITS)):
        cut = cuts(frame)
        if cut or not shots:
            shots.append((frame_index, PictureArea()))
        shots[-1][1].add(frame)
        sightings, small = finder(frame_index, frame)
        summary.cuts += cut
        summary.small_frames += small and not sightings
        faces += len(sightings)
        tracker.add(frame_index, sightings, cut)
        summary.frames += 1
        advance(1)
    advance(max(0, info.frame_count - summary.frames))  # the header's count is an estimate
    if summary.frames < options.min_frames:
        raise InputError(f"'{source}' has {summary.frames} frame"
                         f"{'s' * (summary.frames != 1)}; a clip needs at least "
                         f"{options.min_frames}")
    if not faces:
        if summary.small_frames:
            raise InputError(f"every face in '{source}' is too small: its box is under "
                             f"{finder.smallest} px (--min-box)")
        raise NoFaceError(f"no face found in '{source}'")
    segments = tracker.finish()
    long = [s for s in segments if s.frames >= options.min_frames]
    summary.short_segments = len(segments) - len(long)
    if not long:
        raise InputError(f"no face in '{source}' stays {options.min_frames} frames in one "
                         f"shot ({len(segments)} shorter segments)")
    planned = [(segment, _record(info, source, segment, _shot_area(shots, segment.first)))
               for segment in long]
    to_write = []
    for segment, record in planned:
        if _is_whole(output / record.path, record.frames):
            summary.kept += 1
        else:
            to_write.append((segment, record))
    _write_clips(info, output, options.size, to_write, advance)
    summary.clips = [record for _, record in planned]


def _shot_area(shots: list[tuple[int, PictureArea]], frame: int) -> PictureArea:
    """The picture area of the shot ``frame`` is in (a segment never spans a cut)."""
    return next(area for first, area in reversed(shots) if first <= frame)


def _record(info: VideoInfo, source: str, segment: Segment, picture: PictureArea) -> ClipRecord:
    stem = Path(source).stem
    name = Path(source).parent / f"{stem}_{segment.person}_{segment.index}.mp4"
    return ClipRecord(name.as_posix(), source, segment.frames, info.fps, segment.box(picture))


def _write_clips(info: VideoInfo, output: Path, size: int,
                 clips: list[tuple[Segment, ClipRecord]], advance: Callable[[int], None]) -> None:
    """The second reading: each clip's frames cut from its box, each clip renamed into place
    as soon as its last frame is written. Nothing to write, nothing is read."""
    if not clips:
        advance(info.frame_count)
        return
    last = max(segment.last for segment, _ in clips)
    open_clips: dict[int, tuple[ExitStack, Mp4Writer, FaceCrop]] = {}
    try:
        for frame_index, frame in enumerate(iter_frames(info, RAW_VIDEO_LIMITS)):
            for n, (segment, record) in enumerate(clips):
                if frame_index == segment.first:
                    stack = ExitStack()
                    partial = stack.enter_context(atomic_output(output / record.path))
                    writer = stack.enter_context(Mp4Writer(partial, info.fps))
                    open_clips[n] = (stack, writer, box_crop(record.box))
                if n in open_clips:
                    _, writer, crop = open_clips[n]
                    writer.write(crop.cut(frame, size))
                    if frame_index == segment.last:
                        open_clips.pop(n)[0].close()  # encoded, then renamed into place
            advance(1)
            if frame_index >= last:
                break
        if open_clips:
            raise InputError(f"'{info.path.name}' gave fewer frames on its second reading")
        advance(max(0, info.frame_count - (last + 1)))
    except BaseException as exc:  # cut short (interrupted, say): nothing left under their names
        for stack, _, _ in open_clips.values():
            stack.__exit__(type(exc), exc, exc.__traceback__)
        raise


def _is_whole(path: Path, frames: int) -> bool:
    """Whether a clip of ``frames`` frames is already written under ``path`` (clips are only
    ever renamed into place whole)."""
    if not path.is_file():
        return False
    try:
        return probe_video(path, RAW_VIDEO_LIMITS).frame_count == frames
    except DeepExPoError:
        return False
