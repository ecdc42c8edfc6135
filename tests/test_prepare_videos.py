"""``prepare-videos``: raw videos cut into steady face-cropped clips (measured with dlib, apart
from the MediaPipe landmarks that placed the boxes), split at scene cuts, small faces skipped,
reruns keeping whole clips, and one-line errors for bad data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import deepexpo
from deepexpo.cli import main
from deepexpo.clips import ClipOptions, prepare_videos
from deepexpo.clips.segments import PersonTracker, PictureArea, Sighting
from deepexpo.errors import InputError
from deepexpo.evaluation.scorer import DlibScorer
from deepexpo.face.crop import FaceCrop
from deepexpo.face.landmarks import FaceBox
from deepexpo.io.video import Mp4Writer, probe_video

from .conftest import read_frames, shared_sample


def _write(path: Path, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with Mp4Writer(path, fps) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def _index(folder: Path) -> dict:
    return json.loads((folder / "clips.json").read_text())


@pytest.fixture(scope="module")
def wide_scene(tmp_path_factory) -> tuple[Path, Path]:
    """The shared talking person in a 1280x720 scene, prepared at 256 px: (raw, clips)."""
    raw = tmp_path_factory.mktemp("raw")
    (raw / "talks").mkdir()
    (raw / "talks" / "s18.mp4").symlink_to(shared_sample("sources/s18.mp4"))
    clips = tmp_path_factory.mktemp("clips") / "out"
    summaries = deepexpo.prepare_videos(raw, clips, size=256)
    assert [s.error for s in summaries] == [None]
    return raw, clips


def test_clips_follow_the_format_train_neural_reads(wide_scene):
    raw, clips = wide_scene
    index = _index(clips)
    assert index["size"] == 256
    [clip] = index["clips"]
    assert clip["path"] == "talks/s18_0_0.mp4" and clip["source"] == "talks/s18.mp4"
    info = probe_video(clips / clip["path"])
    assert info.size == (256, 256) and info.frame_count == clip["frames"] >= 250
    assert clip["fps"] == pytest.approx(info.fps, rel=0.01)
    x0, y0, x1, y1 = clip["box"]
    assert x1 - x0 == y1 - y0 and 0 <= x0 and x1 <= 1280 and 0 <= y0 and y1 <= 720
    assert not list(clips.rglob(".*"))  # no temporary files left beside


def test_each_clip_frame_is_its_raw_frame_cut_at_one_steady_box(wide_scene):
    raw, clips = wide_scene
    clip = _index(clips)["clips"][0]
    x0, y0, x1, y1 = clip["box"]
    raw_frames = read_frames(raw / clip["source"])
    out_frames = read_frames(clips / clip["path"])
    for i in (0, len(out_frames) // 2, len(out_frames) - 1):
        expected = cv2.resize(raw_frames[i][y0:y1, x0:x1], (256, 256),
                              interpolation=cv2.INTER_AREA).astype(float)
        psnr = 10 * np.log10(255**2 / np.mean((out_frames[i] - expected) ** 2))
        assert psnr > 28, (i, psnr)


def test_the_face_stays_steady_and_whole_in_its_crop(wide_scene, landmarker):
    """dlib's 68 points on every 10th frame of the clip: the face centre moves a few percent
    of the crop and the face is inside it; and the box is the neural engine's crop, only as
    much larger as the head moves."""
    raw, clips = wide_scene
    clip = _index(clips)["clips"][0]
    scorer = DlibScorer()
    faces = [scorer.face(f) for f in read_frames(clips / clip["path"])[::10]]
    assert all(face is not None for face in faces)
    points = np.array([face.points for face in faces])  # type: ignore[union-attr]
    centres = points.mean(axis=1) / 256
    assert np.ptp(centres, axis=0).max() < 0.15
    assert points.min() > 0 and points.max() < 256
    raw_frames = read_frames(raw / clip["source"])
    engine_sides = [FaceCrop.from_landmarks(landmarker.detect(raw_frames[i]).xy).side
                    for i in (0, len(raw_frames) // 2, -1)]
    box_side = clip["box"][2] - clip["box"][0]
    assert max(engine_sides) <= box_side < 1.3 * np.median(engine_sides)


def test_a_scene_cut_splits_a_person_into_segments(tmp_path):
    first = read_frames(shared_sample("driving/d0.mp4"))
    second = read_frames(shared_sample("driving/d12.mp4"))
    raw = tmp_path / "raw"
    _write(raw / "joined.mp4", first + second)
    clips = tmp_path / "clips"
    assert main(["prepare-videos", "--input", str(raw), "--output", str(clips)]) == 0
    index = _index(clips)
    assert [(c["path"], c["frames"]) for c in index["clips"]] == [
        ("joined_0_0.mp4", len(first)), ("joined_0_1.mp4", len(second))]
    # d0's black bar (its last 27 rows, there in every frame of its shot) is left out
    assert index["clips"][0]["box"][3] <= 485 < index["clips"][1]["box"][3]
    # a rerun finds both clips whole: nothing is read or written again
    stamps = {p.name: p.stat().st_mtime_ns for p in clips.glob("*.mp4")}
    [summary] = prepare_videos(raw, clips)
    assert summary.kept == 2 and summary.frames == 0
    assert {p.name: p.stat().st_mtime_ns for p in clips.glob("*.mp4")} == stamps
    # one clip lost: only it is written again
    (clips / "joined_0_1.mp4").unlink()
    [summary] = prepare_videos(raw, clips)
    assert summary.kept == 1 and len(summary.clips) == 2
    assert (clips / "joined_0_0.mp4").stat().st_mtime_ns == stamps["joined_0_0.mp4"]
    assert probe_video(clips / "joined_0_1.mp4").frame_count == len(second)
    with pytest.raises(InputError, match="holds 256 px clips: use --size 256"):
        prepare_videos(raw, clips, ClipOptions(size=512))


def test_each_person_gets_their_own_clips(tmp_path):
    """Two people side by side (two shared clips put together): a clip of each, its box on
    their half of the frame."""
    def half(path: str) -> list[np.ndarray]:
        return [cv2.resize(f, (360, 360), interpolation=cv2.INTER_AREA)
                for f in read_frames(shared_sample(path))[:40]]

    raw = tmp_path / "raw"
    _write(raw / "pair.mp4", [np.hstack(pair) for pair in zip(half("driving/d0.mp4"),
                                                                half("driving/d19.mp4"))])
    [summary] = prepare_videos(raw, tmp_path / "clips")
    assert [(c.path, c.frames) for c in summary.clips] == [("pair_0_0.mp4", 40),
                                                           ("pair_1_0.mp4", 40)]
    left, right = (c.box for c in summary.clips)
    assert left[2] <= 370 and right[0] >= 350  # each on their own half
    assert left[3] <= 342 < right[3]  # d0's black bar, on the left only, is left out


@pytest.fixture(scope="module")
def small_face_video(tmp_path_factory) -> Path:
    """The wide scene at a quarter of its size: a crop box of about 130 px."""
    frames = read_frames(shared_sample("sources/s18.mp4"))[:60]
    raw = tmp_path_factory.mktemp("small") / "raw"
    return _write(raw / "far.mp4", [cv2.resize(f, (320, 180), interpolation=cv2.INTER_AREA)
                                    for f in frames], 30.0)


def test_too_small_faces_are_skipped(small_face_video, tmp_path):
    with pytest.raises(InputError, match=r"every face in 'far.mp4' is too small: its box is "
                                         r"under 256 px"):
        prepare_videos(small_face_video.parent, tmp_path / "a", ClipOptions(size=512))
    assert not (tmp_path / "a").exists()
    # the same faces, allowed smaller: one clip
    [summary] = prepare_videos(small_face_video.parent, tmp_path / "b",
                               ClipOptions(size=256, min_box=64))
    assert len(summary.clips) == 1 and summary.small_frames == 0


def test_a_folder_with_one_bad_video_writes_the_others_and_exits_1(small_face_video, tmp_path,
                                                                    capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "far.mp4").symlink_to(small_face_video)
    (raw / "broken.mp4").write_text("not a video")
    code = main(["prepare-videos", "--input", str(raw), "--output", str(tmp_path / "c"),
                 "--min-box", "64"])
    assert code == 1
    out = capsys.readouterr().out
    assert "broken.mp4: cannot read video 'broken.mp4'" in out
    assert "1 clips from 1 of 2 videos" in out
    assert [c["source"] for c in _index(tmp_path / "c")["clips"]] == ["far.mp4"]


def test_an_interrupted_run_leaves_nothing_under_a_clips_name(small_face_video, tmp_path):
    def progress(done: int, total: int) -> None:
        if done > 0.75 * total:  # the second reading, halfway through the clip
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prepare_videos(small_face_video.parent, tmp_path / "c", ClipOptions(min_box=64),
                       progress)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    gradient = np.tile(np.linspace(0, 255, 160, dtype=np.uint8)[None, :, None], (120, 1, 3))
    first = read_frames(shared_sample("driving/d0.mp4"))[0]
    _write(root / "noface" / "wall.mp4", [np.roll(gradient, i, axis=1) for i in range(30)])
    _write(root / "oneframe" / "still.mp4", [first])
    (root / "unreadable").mkdir()
    (root / "unreadable" / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    (root / "empty").mkdir()
    (root / "empty" / "notes.txt").write_text("no videos here")
    return {"root": root}


@pytest.mark.parametrize(("folder", "message"), [
    ("noface", "error: no face found in 'wall.mp4'"),
    ("oneframe", "error: 'still.mp4' has 1 frame; a clip needs at least 25"),
    ("unreadable", "error: cannot read video 'clip.mp4'"),
    ("empty", "error: no videos (.mp4"),
    ("inside", "error: the output folder"),
])
def test_bad_data_gets_a_one_line_error_and_exit_2(bad_inputs, folder, message):
    root = bad_inputs["root"]
    raw = root / ("noface" if folder == "inside" else folder)
    output = raw / "clips" if folder == "inside" else root / f"out-{folder}"
    proc = subprocess.run([sys.executable, "-m", "deepexpo", "prepare-videos", "--input",
                           str(raw), "--output", str(output)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip() and "preparing" not in
             line]
    assert len(lines) == 1 and lines[0].startswith(message), proc.stderr
    assert not output.exists()


def _sighting(frame: int, x: float) -> Sighting:
    """A face 50 px wide at ``x``, its crop 100 px."""
    crop = FaceCrop(np.array([x + 50, 150.0]), np.array([1.0, 0.0]), np.array([0.0, 1.0]), 100)
    return Sighting(frame, FaceBox(x + 25, 125, x + 75, 175, 1.0), crop)


def test_people_are_followed_by_overlap_and_split_by_drift_cuts_and_gaps():
    tracker = PersonTracker()
    for frame in range(10):  # two people; the left one moves right, 10 px a frame
        tracker.add(frame, [_sighting(frame, 10.0 * frame), _sighting(frame, 400.0)],
                    cut=frame == 8)
    for frame in range(10, 14):  # nobody: a gap too long to bridge
        tracker.add(frame, [])
    for frame in range(14, 20):
        tracker.add(frame, [_sighting(frame, 400.0)])
    segments = [(s.person, s.index, s.first, s.last) for s in tracker.finish()]
    # left: drifted 40 px from where its first segment began at frame 4; both split at the cut;
    # right: back after the gap as someone new
    assert segments == [(0, 0, 0, 3), (1, 0, 0, 7), (0, 1, 4, 7), (0, 2, 8, 9), (1, 1, 8, 9),
                        (2, 0, 14, 19)]


def _picture(width: int, height: int, x0: int = 0) -> PictureArea:
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:, x0:] = 100
    area = PictureArea()
    area.add(frame)
    return area


def test_a_steady_box_holds_every_frames_crop_and_stays_in_the_picture():
    tracker = PersonTracker()
    for frame in range(4):
        tracker.add(frame, [_sighting(frame, 10.0 * frame - 30)])
    [segment] = tracker.finish()
    assert segment.box(_picture(1000, 1000)) == (0, 85, 130, 215)  # 100 + 30 of motion, moved in
    assert segment.box(_picture(120, 1000)) == (0, 90, 120, 210)  # no larger than the frame
    assert segment.box(_picture(120, 1000, 10)) == (10, 95, 120, 205)  # nor than its picture


def test_the_picture_area_leaves_out_black_bars():
    area = PictureArea()
    frame = np.zeros((100, 160, 3), np.uint8)
    frame[10:90, 20:140] = 60  # a letterboxed and pillarboxed picture...
    frame[95, 5] = 12  # ... with compression noise in its bars
    frame[30:40, 80:140, 1] = 200  # and a green right side with a bar of its own
    frame[80:90, 80:140] = 0
    area.add(frame)
    area.add(np.zeros_like(frame))  # a black frame (a fade) takes nothing away
    assert area.box() == (20, 10, 140, 90)
    assert area.box((90, 0, 160, 100)) == (20, 10, 140, 80)  # the right side's rows
