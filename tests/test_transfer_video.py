"""Video-driven reenactment: frame count, frame rate and audio survive; motion follows."""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image
from skimage import data

from deepexpo.config import InputLimits
from deepexpo.errors import InputError, NoFaceError
from deepexpo.face.measure import mouth_opening
from deepexpo.io.video import Mp4Writer, iter_frames, probe_video
from deepexpo.motion.controls import ExpressionEdit
from deepexpo.pipeline import HELD_BEFORE_FACE, TransferPipeline

from .conftest import FPS, read_frames


def test_video_keeps_frames_fps_and_audio_and_follows_the_mouth(
    pipeline, landmarker, hopper, driving_video, tmp_path
):
    out = pipeline.transfer_video(hopper, driving_video, tmp_path / "out.mp4")
    info = probe_video(out)
    assert info.fps == pytest.approx(FPS)
    assert info.has_audio
    frames = read_frames(out)
    assert len(frames) == 12
    assert frames[0].shape[:2] == (hopper.shape[0] - hopper.shape[0] % 2, hopper.shape[1])
    mouths = [mouth_opening(landmarker.detect(f).points) for f in frames]
    closed, opened = np.median(mouths[:3]), np.median(mouths[5:8])
    assert opened > closed + 0.1
    assert np.median(mouths[-3:]) < opened - 0.1


def test_video_without_audio_and_side_by_side(pipeline, hopper, driving_video, tmp_path):
    out = pipeline.transfer_video(hopper, driving_video, tmp_path / "sbs.mp4",
                                  show_inputs=True, keep_audio=False)
    info = probe_video(out)
    assert not info.has_audio
    assert info.size[0] > 2.5 * hopper.shape[1]


def test_gif_and_folder_of_frames_drive_too(pipeline, hopper, driving_frames, tmp_path):
    """Six frames in, six frames out, at the GIF's own rate."""
    calm, opened = driving_frames[0], driving_frames[5]
    # Alternate, so that no two neighbouring frames are equal (GIF writers merge those).
    small = [np.asarray(Image.fromarray(f).resize((256, 300))) for f in [calm, opened] * 3]
    gif = tmp_path / "driving.gif"
    Image.fromarray(small[0]).save(gif, save_all=True,
                                   append_images=[Image.fromarray(f) for f in small[1:]],
                                   duration=100, loop=0)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(small):
        Image.fromarray(frame).save(folder / f"{i:03d}.png")
    for driving in (gif, folder):
        out = pipeline.transfer_video(hopper, driving, tmp_path / f"{driving.stem}.mp4")
        assert len(read_frames(out)) == len(small)
        assert probe_video(out).fps == pytest.approx(10.0 if driving == gif else 25.0)


def test_video_frames_without_a_face_reuse_the_last_motion(pipeline, hopper, open_mouth_driver,
                                                           tmp_path):
    blank = np.full_like(open_mouth_driver, 128)
    path = tmp_path / "gap.mp4"
    with Mp4Writer(path, FPS) as writer:
        for frame in [open_mouth_driver] * 3 + [blank] * 2 + [open_mouth_driver]:
            writer.write(frame)
    frames = read_frames(pipeline.transfer_video(hopper, path, tmp_path / "out.mp4"))
    assert len(frames) == 6
    assert np.abs(frames[3].astype(int) - frames[2].astype(int)).mean() < 2.0


def test_video_with_no_face_at_all_is_an_error(pipeline, hopper, tmp_path):
    path = tmp_path / "blank.mp4"
    with Mp4Writer(path, FPS) as writer:
        for _ in range(3):
            writer.write(np.full((128, 128, 3), 90, np.uint8))
    with pytest.raises(NoFaceError, match="no face found in any frame"):
        pipeline.transfer_video(hopper, path, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_too_long_video_is_refused_before_work(driving_video):
    with pytest.raises(InputError, match="too long"):
        probe_video(driving_video, InputLimits(max_video_frames=5))


def test_damaged_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(InputError, match="cannot read video 'bad.mp4'"):
        probe_video(bad)


def test_output_is_browser_playable_h264(driving_video, pipeline, hopper, tmp_path):
    out = pipeline.transfer_video(hopper, driving_video, tmp_path / "out.mp4")
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(out)],
                           capture_output=True, text=True)
    assert "h264" in probe.stderr and "yuv420p" in probe.stderr


def test_a_video_without_a_face_fails_before_anything_is_encoded(tmp_path, monkeypatch):
    video = tmp_path / "coffee.mp4"
    with Mp4Writer(video, 10) as writer:
        for _ in range(5):
            writer.write(data.coffee())

    def no_encoding(*args, **kwargs):
        raise AssertionError("the output was being encoded")

    monkeypatch.setattr("deepexpo.pipeline.Mp4Writer", no_encoding)
    pipeline = TransferPipeline("warp")
    with pytest.raises(NoFaceError, match="no face found in any frame of video"):
        pipeline.edit_video(video, tmp_path / "out.mp4", ExpressionEdit.emotion("happy"))
    assert not (tmp_path / "out.mp4").exists()


def test_written_video_keeps_the_frames_colours(tmp_path):
    """Frames reach the encoder as yuv420p planes made here: a swapped chroma plane or the
    wrong range would tint or wash out every video."""
    photo = np.ascontiguousarray(data.astronaut()[:256, 128:384])
    with Mp4Writer(tmp_path / "colours.mp4", 10) as writer:
        for _ in range(3):
            writer.write(photo)
    back = read_frames(tmp_path / "colours.mp4")[1].astype(float)
    assert np.abs(back.mean(axis=(0, 1)) - photo.mean(axis=(0, 1))).max() < 1.5
    assert np.abs(back - photo).mean() < 4.0


@pytest.mark.parametrize("blanks, passes", [(2, 1), (HELD_BEFORE_FACE + 2, 2)])
def test_a_video_is_decoded_once_when_its_face_comes_early(pipeline, hopper, open_mouth_driver,
                                                          tmp_path, monkeypatch, blanks, passes):
    """The check that a face is there reads the frames the render then uses; only a face
    later than the frames held is looked for in a pass of its own. Either way the output has
    every frame."""
    path = tmp_path / "late_face.mp4"
    with Mp4Writer(path, FPS) as writer:
        for frame in [np.full_like(open_mouth_driver, 128)] * blanks + [open_mouth_driver] * 2:
            writer.write(frame)
    reads = []

    def counted(*args, **kwargs):
        reads.append(1)
        return iter_frames(*args, **kwargs)

    monkeypatch.setattr("deepexpo.pipeline.iter_frames", counted)
    frames = read_frames(pipeline.transfer_video(hopper, path, tmp_path / "out.mp4",
                                                 keep_audio=False))
    assert len(reads) == passes
    assert len(frames) == blanks + 2
