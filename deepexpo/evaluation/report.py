"""The evaluation report people look at: ``report.html`` with PNG plots (per-frame curves of
mouth and eye opening, gaze, head yaw and pitch, target vs output; a grid of sample frames; the
metrics against the baseline), drawn with matplotlib off-screen."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..io.output import atomic_output
from .metrics import SIGNALS

if TYPE_CHECKING:
    from .runs import Scored


def _figure(width: float, height: float):  # noqa: ANN202 - a matplotlib Figure
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, thread-safe

    return Figure(figsize=(width, height), dpi=100)


def _save(fig, path: Path) -> None:  # noqa: ANN001 - a matplotlib Figure
    with atomic_output(path) as partial:
        fig.savefig(partial)


def _curves(scored: Scored, path: Path, target: str) -> None:
    fig = _figure(8, 9)
    curves = scored.curves
    for ax, (key, label) in zip(fig.subplots(len(SIGNALS), 1, sharex=True), SIGNALS.items(),
                                strict=True):
        ax.plot(curves.target[key], label=target)
        ax.plot(curves.output[key], label="output")
        ax.set_ylabel(label, fontsize=8)
        ax.legend(loc="upper right", fontsize=8)
    fig.axes[-1].set_xlabel("frame")
    fig.suptitle(scored.name)
    _save(fig, path)


def _samples(scored: Scored, path: Path, target: str) -> None:
    n = len(scored.samples)
    fig = _figure(2.4 * n, 5)
    axes = np.asarray(fig.subplots(2, n, squeeze=False))
    for column, (real, output) in enumerate(scored.samples):
        for row, (image, title) in enumerate(((real, target), (output, "output"))):
            axes[row, column].imshow(image)
            axes[row, column].set_title(title, fontsize=8)
            axes[row, column].axis("off")
    _save(fig, path)


def _bars(summary: dict, path: Path) -> None:
    """The output's mean scores beside the still source's, where either has one (an engine
    whose outputs hold no face dlib finds has none of its own)."""
    baseline = summary.get("baseline", {})
    keys = [k for k, v in summary["mean"].items() if v is not None or baseline.get(k) is not None]
    fig = _figure(8, 3.5)
    if not keys:
        fig.text(0.5, 0.5, "no scores: no face found", ha="center", va="center")
    for ax, key in zip(fig.subplots(1, len(keys), squeeze=False)[0] if keys else [], keys,
                       strict=True):
        bars = [(label, value, colour) for label, value, colour in
                (("output", summary["mean"][key], "tab:blue"),
                 ("still", baseline.get(key), "tab:gray")) if value is not None]
        ax.bar([b[0] for b in bars], [b[1] for b in bars], color=[b[2] for b in bars])
        ax.set_title(key, fontsize=9)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    _save(fig, path)


def _table(rows: list[dict], keys: list[str]) -> str:
    def cell(value: object) -> str:
        return f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))

    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(k))}</td>" for k in keys) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(folder: Path, summary: dict, results: list[Scored], kind: str) -> None:
    """``report.html`` and its plots in ``folder``."""
    target = "real" if kind == "reconstruction" else "driver"
    _bars(summary, folder / "metrics.png")
    rows = summary.get("videos") or summary.get("pairs") or []
    keys = list(rows[0]) if rows else []
    totals = [{"": "mean", **summary["mean"]}]
    if "baseline" in summary:
        totals.append({"": "still source (baseline)", **summary["baseline"]})
    parts = [f"<h1>DeepExPo {html.escape(kind)}: engine {html.escape(summary['engine'])}</h1>",
             _table(totals, ["", *summary["mean"]]), '<img src="metrics.png">',
             "<h2>Per item</h2>", _table(rows, keys)]
    if summary.get("skipped"):
        parts += ["<h2>Skipped</h2>", _table(summary["skipped"], list(summary["skipped"][0]))]
    for scored in results:
        curves, samples = f"curves_{scored.name}.png", f"samples_{scored.name}.png"
        _curves(scored, folder / curves, target)
        parts.append(f"<h2>{html.escape(scored.name)}</h2><img src=\"{curves}\">")
        if scored.samples:
            _samples(scored, folder / samples, target)
            parts.append(f'<img src="{samples}">')
    style = ("<style>body{font-family:sans-serif;max-width:1000px;margin:auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
             "img{max-width:100%}</style>")
    with atomic_output(folder / "report.html") as partial:
        partial.write_text(f"<!doctype html><html><head><meta charset=\"utf-8\">{style}</head>"
                           f"<body>{''.join(parts)}</body></html>", encoding="utf-8")
