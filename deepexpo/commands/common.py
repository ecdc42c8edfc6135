"""What the commands share: their common arguments, progress bars, and the checks made before
any work."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import FaceChoice, hub
from ..engines import TransferEngine, create_engine
from ..engines.registry import VIDEO, Job
from ..errors import InputError, NoSourceFaceError
from ..face.points import KEY_POINTS, FacePoints, load_points
from ..io.images import check_image_output
from ..io.video import check_video_output, probe_video


def fusion_models(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", help="Stable Diffusion 1.5 folder (default: the downloaded sd15)")
    parser.add_argument("--no-identity", action="store_true",
                        help="without the IP-Adapter identity branch")


def face_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--face", default="largest",
                        help="which face of a source photo with several to drive: largest, all "
                             "(each with its own pose), or its number, counting from 0 left to "
                             "right (default: largest)")


def source_points_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source-points", type=Path, metavar="FILE.json",
                        help="place the source's face by hand, for one no detector finds "
                             "(an animal, a cartoon, a statue): a JSON object mapping "
                             "left_eye_outer, ..., chin to [x, y] pixels, or a list of them for "
                             "several faces in a photo; a source video's one face is placed on "
                             "its first frame and followed (see the README's 'Face points')")


def source_points(args: argparse.Namespace, image: np.ndarray | None
                  ) -> tuple[FacePoints, ...]:
    """``--source-points``, read and checked against the source photo (``image``; ``None``: a
    source video, against its first frame's size, for one face) before any model loads."""
    if args.source_points is None:
        return ()
    faces = tuple(load_points(args.source_points))
    what = f"points file '{args.source_points.name}'"
    if image is None:
        if len(faces) > 1:
            raise InputError(f"{what} places {len(faces)} faces; a source video drives one: "
                             f"give its points on the first frame")
        width, height = probe_video(args.source).size
        size = (height, width)
    else:
        size = (image.shape[0], image.shape[1])
    for i, face in enumerate(faces):
        face.check(size, what if len(faces) == 1 else f"{what}, face {i}")
    return faces


@contextmanager
def placing_hint() -> Iterator[None]:
    """A source photo or video without a face found says how to place it by hand."""
    try:
        yield
    except NoSourceFaceError as e:
        names = ", ".join(f'"{name}": [x, y]' for name in KEY_POINTS)
        raise NoSourceFaceError(
            f"{e}; for an animal, a cartoon or a painting, place its face by hand with "
            f"--source-points FILE.json, a JSON object in pixels: {{{names}}} (the eyes' "
            f"bottoms and the brows are estimated unless given, as the README's Face points "
            f"says; optional: face_left, face_right, face_top; a list of objects for several "
            f"faces; a video's face placed on its first frame)") from None


@contextmanager
def progress_bar(desc: str) -> Iterator[Callable[[int, int], None]]:
    """A frame bar that appears with the first frame: input refused before any work is
    reported in its one line, without an empty bar above it."""
    bars: list[tqdm] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(unit="frame", desc=desc, total=total))
        bars[0].total = total
        bars[0].update(done - bars[0].n)

    try:
        yield progress
    finally:
        for bar in bars:
            bar.close()


@contextmanager
def download_bar() -> Iterator[hub.DownloadProgress]:
    """A percentage bar that appears only once a download starts."""
    bars: list[tqdm] = []

    def progress(fraction: float, text: str) -> None:
        if not bars:
            bars.append(tqdm(total=100, bar_format="{desc} {bar} {percentage:3.0f}%", leave=False))
        bars[0].set_description_str(text, refresh=False)
        bars[0].update(round(100 * fraction) - bars[0].n)

    try:
        yield progress
    finally:
        for bar in bars:
            bar.close()


def engine(name: str, job: Job = VIDEO) -> TransferEngine:
    """The engine for ``job``, its weights fetched first (with a bar) where downloads are
    allowed."""
    with download_bar() as progress:
        return create_engine(name, progress, job)


def require(names: list[str]) -> None:
    """Every model a command needs, found or fetched before anything heavy loads."""
    with download_bar() as progress:
        hub.require_all(names, progress)


def check_output(video: bool, output: Path, *inputs: Path | None) -> None:
    """Before any work: the output is writable, of the right kind, and no input."""
    if video and output.suffix.lower() != ".mp4":
        raise InputError(f"a video gives a video: --output must end in .mp4, not '{output.name}'")
    (check_video_output if video else check_image_output)(output, inputs)


def check_base(base: str | None) -> None:
    if base is not None and not Path(base).is_dir():
        raise InputError(f"--base must be a local diffusers folder, not '{base}' (for another "
                         "Hub repository, set DEEPEXPO_SD15_REPO and download it)")


def source_face(args: argparse.Namespace, video: bool) -> FaceChoice:
    """``--face``: it chooses among a source photo's faces; a source video drives its largest."""
    face = FaceChoice.parse(args.face)
    if video and face != FaceChoice():
        raise InputError("--face chooses among a source photo's faces; a source video drives "
                         "its largest face")
    return face
