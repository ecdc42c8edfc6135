"""Evaluation and batch modes, scored by dlib (independent of our MediaPipe landmarks), on
clips rendered from the bundled photos."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from deepexpo.cli import main
from deepexpo.evaluation import metrics
from deepexpo.evaluation.runs import evaluate_cross, evaluate_reconstruction
from deepexpo.evaluation.scorer import DlibScorer
from deepexpo.io.images import read_image, write_image
from deepexpo.io.video import Mp4Writer
from deepexpo.pipeline import TransferPipeline

from .conftest import pose_face, read_frames


@pytest.fixture(scope="module")
def scorer() -> DlibScorer:
    return DlibScorer()


@pytest.fixture(scope="module")
def talking_clip(tmp_path_factory, hopper, landmarker) -> Path:
    """Hopper talking and turning her head: 10 frames."""
    path = tmp_path_factory.mktemp("eval") / "hopper_talking.mp4"
    with Mp4Writer(path, 10) as writer:
        for t in np.linspace(0, 1, 10):
            writer.write(pose_face(hopper, landmarker, aaa=0.8 * np.sin(np.pi * t),
                                   yaw=12 * np.sin(2 * np.pi * t)))
    return path


def test_a_video_scored_against_itself_is_perfect(scorer, talking_clip):
    frame = read_frames(talking_clip)[3]
    face = scorer.face(frame)
    scores = (metrics.pixel_scores(frame, frame, face) | metrics.shape_scores(face, face)
              | metrics.identity_score(face, face))
    assert scores["l1"] == 0 and scores["psnr"] == float("inf") and scores["ssim"] == 1
    assert scores["akd"] == 0 and scores["aed"] < 1e-6 and scores["apd"] == 0
    assert scores["csim"] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def reconstruction(tmp_path_factory, talking_clip) -> tuple[dict, Path]:
    report = tmp_path_factory.mktemp("report")
    return evaluate_reconstruction([talking_clip], "warp", report, save_frames=True), report


def test_reconstruction_beats_the_still_baseline_and_writes_its_report(reconstruction):
    summary, report = reconstruction
    assert summary["engine"] == "warp"
    assert [v["name"] for v in summary["videos"]] == ["hopper_talking"]
    assert summary["videos"][0]["frames"] == 10
    mean, still = summary["mean"], summary["baseline"]
    assert mean["akd"] < still["akd"] and mean["aed"] < still["aed"]
    assert mean["csim"] > 0.9  # still Hopper
    assert json.loads((report / "metrics.json").read_text()) == summary
    assert "hopper_talking" in (report / "report.html").read_text()
    for plot in ("metrics.png", "curves_hopper_talking.png", "samples_hopper_talking.png"):
        image = read_image(report / plot)
        assert image.shape[0] > 100 and image.std() > 5  # drawn, not blank
    assert len(list((report / "png" / "hopper_talking").glob("*.png"))) == 10


def test_another_persons_face_gets_a_clearly_lower_identity_score(scorer, hopper, astronaut,
                                                                  open_mouth_driver):
    source = scorer.face(hopper)
    same = TransferPipeline("warp").transfer_image(hopper, open_mouth_driver)
    right = metrics.identity_score(scorer.face(same), source)["csim"]
    wrong = metrics.identity_score(scorer.face(astronaut), source)["csim"]
    assert right > 0.9 and wrong < right - 0.05


def test_cross_reenactment_scores_each_pair(tmp_path, talking_clip, astronaut,
                                            open_mouth_driver):
    source, driver = tmp_path / "astronaut.png", tmp_path / "open.png"
    write_image(source, astronaut)
    write_image(driver, open_mouth_driver)
    summary = evaluate_cross([(source, talking_clip), (source, driver)], "warp",
                             tmp_path / "report")
    assert [(Path(p["source"]).name, Path(p["driving"]).name) for p in summary["pairs"]] == [
        ("astronaut.png", "hopper_talking.mp4"), ("astronaut.png", "open.png")]
    for pair in summary["pairs"]:
        assert pair["face_rate"] == 1.0 and pair["csim"] > 0.9
        assert pair["aed"] is not None and pair["apd"] is not None
    assert (tmp_path / "report" / "report.html").is_file()


def test_animate_renders_the_good_rows_and_reports_the_bad_one(tmp_path, astronaut,
                                                               open_mouth_driver,
                                                               driving_video, capsys):
    write_image(tmp_path / "astronaut.png", astronaut)
    write_image(tmp_path / "open.png", open_mouth_driver)
    (tmp_path / "talk.mp4").write_bytes(driving_video.read_bytes())
    # Row 3's empty driving cell once drove with the csv's own folder as frames, exit 0.
    (tmp_path / "pairs.csv").write_text("source,driving\nastronaut.png,open.png\n"
                                        "missing.png,open.png\nastronaut.png,\n"
                                        "astronaut.png,talk.mp4\n")
    code = main(["animate", "--pairs", str(tmp_path / "pairs.csv"), "--output",
                 str(tmp_path / "out"), "--workers", "2", "--engine", "warp"])
    assert code == 1
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["0001_astronaut_open.png", "0004_astronaut_talk.mp4"]
    captured = capsys.readouterr()
    assert "2 of 4 pairs written" in captured.out and "rows 2, 3" in captured.out
    assert "row 2" in captured.err and "missing.png" in captured.err
    assert "row 3" in captured.err and "driving cell is empty" in captured.err


def test_evaluation_skips_unreadable_items_and_still_writes_its_report(
        tmp_path, talking_clip, astronaut, open_mouth_driver):
    """One non-media file among the drivers, or one damaged video, once aborted the run
    without a report."""
    sources, drivers = tmp_path / "sources", tmp_path / "drivers"
    sources.mkdir()
    drivers.mkdir()
    write_image(sources / "astronaut.png", astronaut)
    write_image(drivers / "open.png", open_mouth_driver)
    (drivers / "notes.txt").write_text("not a driver")
    report = tmp_path / "cross"
    assert main(["evaluate", "cross", "--sources", str(sources), "--driving", str(drivers),
                 "--report", str(report), "--engine", "warp"]) == 1
    summary = json.loads((report / "metrics.json").read_text())
    assert [Path(p["driving"]).name for p in summary["pairs"]] == ["open.png"]
    assert [Path(s["driving"]).name for s in summary["skipped"]] == ["notes.txt"]
    assert "unsupported image format" in summary["skipped"][0]["error"]
    assert "notes.txt" in (report / "report.html").read_text()

    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(talking_clip.read_bytes()[:300])
    summary = evaluate_reconstruction([damaged, talking_clip], "warp", tmp_path / "recon")
    assert [v["name"] for v in summary["videos"]] == ["hopper_talking"]
    assert [Path(s["video"]).name for s in summary["skipped"]] == ["damaged.mp4"]
    assert (tmp_path / "recon" / "report.html").is_file()


def test_batch_inputs_may_be_fsspec_urls(tmp_path, astronaut, open_mouth_driver):
    """A pair named by URLs is scored as the same files on disk are; a URL that names nothing
    is a skipped item with a one-line reason."""
    import dataclasses

    import fsspec

    from deepexpo.config import INPUT_LIMITS
    from deepexpo.evaluation.animate import read_pairs
    from deepexpo.io.remote import local_copy

    memory = fsspec.filesystem("memory")  # this process's: the pairs are scored here
    for name, image in (("astronaut.png", astronaut[::2, ::2]), ("open.png",
                                                                   open_mouth_driver[::2, ::2])):
        write_image(tmp_path / name, image.copy())
        memory.pipe(f"/batch/{name}", (tmp_path / name).read_bytes())
    (tmp_path / "pairs.csv").write_text(
        "astronaut.png,open.png\nmemory://batch/astronaut.png,memory://batch/open.png\n"
        "memory://batch/gone.png,open.png\n")
    summary = evaluate_cross(read_pairs(tmp_path / "pairs.csv"), "warp", tmp_path / "report")
    on_disk, by_url = summary["pairs"]
    assert by_url["source"] == "memory://batch/astronaut.png"
    assert {k: v for k, v in by_url.items() if k not in ("source", "driving")} == \
        {k: v for k, v in on_disk.items() if k not in ("source", "driving")}
    assert by_url["csim"] > 0.9
    [gone] = summary["skipped"]
    assert gone["error"].startswith("cannot read 'memory://batch/gone.png'")
    assert "\n" not in gone["error"]

    small = dataclasses.replace(INPUT_LIMITS, max_file_bytes=100)
    with local_copy("memory://batch/open.png", small) as copy:  # stops past the limit
        assert Path(copy).name == "open.png" and Path(copy).stat().st_size == 101
    assert not Path(copy).exists()


@pytest.mark.parametrize("shift", [1.0, 2.0])
def test_the_skins_rise_is_followed_on_the_pixels(astronaut, landmarker, shift):
    """Her cheeks' skin moved up ``shift`` px (a smooth bump a cheek wide under each eye),
    read back on the pixels against her eye corners within a fifth (0.88 of it; followed
    from half resolution, 0.5)."""
    xy = landmarker.detect(astronaut).xy
    cheeks, corners = xy[[50, 280]], xy[[33, 133, 362, 263]]
    width = float(np.linalg.norm(xy[33] - xy[263]))
    rows, cols = np.mgrid[:astronaut.shape[0], :astronaut.shape[1]].astype(np.float32)
    bump = sum(np.exp(-((cols - x) ** 2 + (rows - y) ** 2) / (2 * (0.2 * width) ** 2))
               for x, y in cheeks)
    moved = cv2.remap(astronaut, cols, rows + shift * bump.astype(np.float32), cv2.INTER_CUBIC)
    # The eye corners came up a little with it.
    asked = shift * (1.0 - np.mean([bump[round(y), round(x)] for x, y in corners]))
    risen = metrics.rise_followed(astronaut, moved, cheeks, corners, 0.05 * width)
    assert abs(risen - asked) < 0.2 * asked, (risen, asked)


@pytest.mark.parametrize("stretch", [0.6, 1.0, 1.4])
def test_a_lower_lips_thickness_is_followed_on_the_pixels(hopper, landmarker, stretch):
    """Her mouth opened by hand: a dark opening a third of the mouth's width tall above her
    lower lip, the lip below it stretched ``stretch`` times down its height, the chin carried
    down under it; the lip's thickness read back on the pixels within a tenth, from where
    either reader puts its edges on her closed mouth."""
    xy = landmarker.detect(hopper).xy
    inner, outer = xy[14], xy[17]  # MediaPipe's lower lip, inner and outer, at its middle
    width = float(np.linalg.norm(xy[61] - xy[291]))
    gap, thickness = width / 3, float(outer[1] - inner[1])
    rows, cols = np.mgrid[:hopper.shape[0], :hopper.shape[1]].astype(np.float32)
    lip_top, lip_bottom = inner[1] + gap, inner[1] + gap + stretch * thickness
    src_rows = np.where(rows < lip_bottom, inner[1] + (rows - lip_top) / stretch,
                        outer[1] + rows - lip_bottom)
    opened = cv2.remap(hopper, cols, np.where(rows < lip_top, rows, src_rows).astype(np.float32),
                       cv2.INTER_CUBIC)
    opening = (rows >= inner[1]) & (rows < lip_top) & (np.abs(cols - inner[0]) < width / 2)
    shade = (40 + 30 * (rows - inner[1]) / gap).astype(np.uint8)
    opened[opening] = np.stack([shade, shade // 2, shade // 2], axis=-1)[opening]
    # Looked for near where a reader puts it on a wide-open mouth: a lip's thickness up.
    lip = np.array([inner[0], lip_top - thickness / 2])
    for face in (DlibScorer().face(hopper).points[[66, 57]], xy[[14, 17]]):
        followed = metrics.lower_lip_followed(hopper, opened, face[0], face[1], width, lip)
        assert abs(followed - stretch) < 0.1 * stretch, (followed, stretch)
