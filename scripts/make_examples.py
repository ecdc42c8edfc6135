"""Rebuild the app's examples in ``assets/examples`` from photos that ship inside packages.

The identity photos are scikit-image's astronaut (Eileen Collins, NASA, public domain) and
matplotlib's Grace Hopper (US Navy, public domain). The drivers are those photos re-rendered by
the warp engine with hand-set controls, so every example is made by the project itself.
Needs the test requirements (scikit-image, matplotlib): ``python scripts/make_examples.py``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import matplotlib.cbook
import numpy as np
from PIL import Image
from skimage import data
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from deepexpo.engines.warp_engine import WarpEngine, WarpSource  # noqa: E402
from deepexpo.face.mediapipe_landmarker import MediaPipeLandmarker  # noqa: E402
from deepexpo.io.images import write_image  # noqa: E402
from deepexpo.io.video import Mp4Writer  # noqa: E402
from deepexpo.motion.controls import ExpressionControls, apply_controls  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "assets" / "examples"
FPS = 25
SECONDS = 4.0
CLIP_SIDE = 320  # the talking clip's frame, cropped around the face


def _render(engine: WarpEngine, source: WarpSource, **controls: float) -> np.ndarray:
    return engine.render_motion(source, apply_controls(source.motion, ExpressionControls(**controls)))


def _talking_controls(t: float) -> dict[str, float]:
    """A few seconds of someone talking: syllables open the mouth, the head nods and turns."""
    syllables = abs(np.sin(np.pi * 3.2 * t)) * (0.5 + 0.5 * np.sin(np.pi * 0.9 * t) ** 2)
    return {
        "aaa": 0.8 * float(syllables),
        "yaw": 16.0 * float(np.sin(2 * np.pi * t / SECONDS)),
        "pitch": 6.0 * float(np.sin(2 * np.pi * t / (SECONDS / 2))),
        "roll": 4.0 * float(np.sin(2 * np.pi * t / SECONDS + 1.0)),
    }


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    OUT.mkdir(parents=True, exist_ok=True)
    astronaut = data.astronaut()
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = np.asarray(Image.open(f).convert("RGB"))
    mirrored = np.ascontiguousarray(hopper[:, ::-1])
    write_image(OUT / "astronaut.jpg", astronaut)
    write_image(OUT / "hopper.jpg", hopper)

    landmarker = MediaPipeLandmarker()
    engine = WarpEngine()
    astro = engine.prepare_source(astronaut, landmarker.detect(astronaut))
    mirror = engine.prepare_source(mirrored, landmarker.detect(mirrored))
    write_image(OUT / "driver_open_mouth.jpg", _render(engine, mirror, aaa=0.8))
    write_image(OUT / "driver_turned.jpg", _render(engine, astro, yaw=20.0, pitch=-8.0, roll=6.0))

    # The clip: the mirrored Hopper talking, cropped square around her face.
    x, y = mirror.xy.mean(axis=0)
    half = min(CLIP_SIDE * 0.75, x, y, mirrored.shape[1] - x, mirrored.shape[0] - y)
    left, top = int(x - half), int(y - half)
    side = int(2 * half)
    frames = int(FPS * SECONDS)
    with Mp4Writer(OUT / "driver_talking.mp4", FPS) as writer:
        for i in tqdm(range(frames), desc="talking clip"):
            frame = _render(engine, mirror, **_talking_controls(i / FPS))
            crop = frame[top:top + side, left:left + side]
            writer.write(np.asarray(Image.fromarray(crop).resize((CLIP_SIDE, CLIP_SIDE),
                                                                 Image.Resampling.LANCZOS)))
    landmarker.close()
    logging.info("wrote %s", ", ".join(sorted(p.name for p in OUT.iterdir())))


if __name__ == "__main__":
    main()
