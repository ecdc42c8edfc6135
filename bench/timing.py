"""How the benchmarks print a series of timings."""

from __future__ import annotations

import statistics


def median_p90(what: str, seconds: list[float], unit: str = "") -> str:
    """``what: median X ms, p90 Y ms over N unit`` for timings in seconds."""
    ms = sorted(1000 * s for s in seconds)
    return (f"{what}: median {statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * len(ms))]:.1f} ms "
            f"over {len(ms)}{' ' + unit if unit else ''}")
