"""``download``: a model from the Hugging Face Hub into its cache (or a folder)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .. import hub
from .common import download_bar


def add(subparsers: Any) -> None:
    d = subparsers.add_parser("download", help="fetch a model from the Hugging Face Hub into "
                                               "its cache")
    d.add_argument("model", choices=sorted(hub.MODELS),
                   help="; ".join(f"{m.name}: {m.description} ({m.size})"
                                  for m in hub.MODELS.values()))
    d.add_argument("--to", type=Path, metavar="DIR",
                   help="a folder to download into (e.g. weights/) instead of the Hugging Face "
                        "cache")
    d.add_argument("--force", action="store_true",
                   help="fetch every file again, e.g. after a damaged-file error")
    d.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    with download_bar() as progress:
        folder = hub.download(args.model, args.to, args.force, progress)
    hub.check_files(hub.MODELS[args.model], folder)
    print(folder)
