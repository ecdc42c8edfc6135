"""How faithfully the warp engine follows a driver, scored by dlib (independent of our own
landmarks): cross-reenactment of the sample photos by the sample driving clips.

    python bench/warp_fidelity.py [--sources s1 s12 ...] [--drivers d0 d3 ...] [--report DIR]

Per pair and on average: per-frame Pearson r between driver and output for mouth opening, eye
openness, gaze, head yaw and pitch; the output's eye openness during the driver's blinks (over
its own open eyes); dlib's identity distance to the source. Targets: r >= 0.85 mouth, 0.8
eyes, 0.6 gaze, 0.85 yaw, 0.6 pitch; blink < 0.3; identity distance < 0.6. The HTML report with
the per-frame curves goes to ``--report``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepexpo.evaluation.runs import evaluate_cross  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
TARGETS = {"r_mouth": (">=", 0.85), "r_eyes": (">=", 0.8), "r_gaze": (">=", 0.6),
           "r_yaw": (">=", 0.85), "r_pitch": (">=", 0.6), "blink": ("<", 0.3),
           "id_distance": ("<", 0.6)}


def _cell(value: float | None) -> str:
    return "     -" if value is None else f"{value:6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", nargs="+", default=["s1", "s12", "s42", "s10"])
    parser.add_argument("--drivers", nargs="+", default=["d0", "d3", "d12", "d19"])
    parser.add_argument("--engine", default="warp")
    parser.add_argument("--report", type=Path, help="report folder (default: a temporary one)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not SAMPLES.is_dir():
        sys.exit(f"the sample faces are not at {SAMPLES}")

    pairs = [(SAMPLES / "sources" / f"{s}.jpg", SAMPLES / "driving" / f"{d}.mp4")
             for s in args.sources for d in args.drivers]
    report = args.report or Path(tempfile.mkdtemp(prefix="deepexpo-fidelity-"))
    summary = evaluate_cross(pairs, args.engine, report)

    keys = list(TARGETS)
    print(f"engine {summary['engine']}; report {report / 'report.html'}")
    print(f"{'pair':<10}" + "".join(f"{k:>12}" for k in keys))
    for row in summary["pairs"]:
        name = f"{Path(row['source']).stem}-{Path(row['driving']).stem}"
        print(f"{name:<10}" + "".join(f"{_cell(row.get(k)):>12}" for k in keys))
    print(f"{'mean':<10}" + "".join(f"{_cell(summary['mean'].get(k)):>12}" for k in keys))
    print(f"{'target':<10}" + "".join(f"{op + format(v, 'g'):>12}" for op, v in TARGETS.values()))


if __name__ == "__main__":
    main()
