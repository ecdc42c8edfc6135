"""How far dlib (the independent scorer of ``bench/warp_fidelity.py``) and MediaPipe (the
landmarks the engines are driven by) agree on the same driving frames: per driving clip, the
Pearson r between the two models' readings of each fidelity signal.

    python bench/landmark_agreement.py [--drivers d0 d3 ...]

The engines see a driver only through MediaPipe. Where the two models disagree on the driver
itself (a head that barely moves, eyes that look down rather than close), an output that
copied MediaPipe's reading exactly would still correlate with dlib's reading of the driver
only about as well as they agree: that agreement is the ceiling to read the fidelity r against.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepexpo.evaluation import metrics  # noqa: E402
from deepexpo.evaluation.scorer import DlibScorer  # noqa: E402
from deepexpo.face.canonical import canonical_face  # noqa: E402
from deepexpo.face.landmarks import FaceLandmarks  # noqa: E402
from deepexpo.face.measure import eye_ratios, mouth_opening  # noqa: E402
from deepexpo.face.selection import FaceChoice  # noqa: E402
from deepexpo.face.topology import TOPOLOGY  # noqa: E402
from deepexpo.face.tracking import FaceTracker  # noqa: E402
from deepexpo.io.video import iter_frames, probe_video  # noqa: E402
from deepexpo.motion.extract import extract_motion  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
_IRIS_CENTRES = {"right": TOPOLOGY.right_iris_center, "left": TOPOLOGY.left_iris_center}


def mediapipe_signals(face: FaceLandmarks) -> dict[str, float]:
    """The fidelity signals (:data:`metrics.SIGNALS`) read from MediaPipe's landmarks: gaze as
    the irises' offset between the eye corners in the canonical frame (head pose removed)."""
    motion = extract_motion(face)
    x = motion.canonical[:, 0]
    gaze = np.mean([(x[_IRIS_CENTRES[side]] - x[corners].mean()) / np.ptp(x[corners])
                    for side, corners in canonical_face().eye_corners.items()])
    pitch, yaw, _ = motion.pose.euler
    return {"mouth": mouth_opening(face.xy), "eyes": float(np.mean(eye_ratios(face.xy))),
            "gaze": float(gaze), "yaw": yaw, "pitch": pitch}


def agreement(video: Path, scorer: DlibScorer) -> tuple[int, dict[str, float]]:
    """Frames where both models found the face, and each signal's r between them."""
    info = probe_video(video)
    ours, theirs = [], []
    with FaceTracker(FaceChoice(), video.name, info.fps) as tracker:
        for frame in iter_frames(info):
            face, scored = tracker(frame), scorer.face(frame)
            if face is not None and scored is not None:
                ours.append(mediapipe_signals(face))
                theirs.append(metrics.signals(scored))
    out = {}
    for key in metrics.SIGNALS:
        a = np.array([s[key] for s in ours])
        b = np.array([s[key] for s in theirs])
        both = np.isfinite(a) & np.isfinite(b)
        out[key] = float(np.corrcoef(a[both], b[both])[0, 1]) if both.sum() >= 10 else np.nan
    return len(ours), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drivers", nargs="+", default=["d0", "d3", "d12", "d19"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not SAMPLES.is_dir():
        sys.exit(f"the sample faces are not at {SAMPLES}")

    scorer = DlibScorer()
    rows = []
    print(f"{'driver':<8}{'frames':>8}" + "".join(f"{'r_' + k:>10}" for k in metrics.SIGNALS))
    for name in args.drivers:
        frames, r = agreement(SAMPLES / "driving" / f"{name}.mp4", scorer)
        rows.append([r[k] for k in metrics.SIGNALS])
        print(f"{name:<8}{frames:>8}" + "".join(f"{r[k]:>10.2f}" for k in metrics.SIGNALS))
    print(f"{'mean':<16}" + "".join(f"{v:>10.2f}" for v in np.nanmean(rows, axis=0)))


if __name__ == "__main__":
    main()
