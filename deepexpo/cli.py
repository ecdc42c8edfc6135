"""Command line: ``python -m deepexpo transfer --source IMG --driving IMG_OR_VIDEO --output OUT``,
``python -m deepexpo edit --source IMG_OR_VIDEO --output OUT --emotion happy``,
``python -m deepexpo download MODEL``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from tqdm.contrib.logging import logging_redirect_tqdm

from .commands import COMMANDS
from .errors import DeepExPoError
from .runtime import quiet_native_stderr

logger = logging.getLogger("deepexpo")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deepexpo", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log diagnostics, MediaPipe's own included")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add(sub)
    for command_parser in sub.choices.values():  # also after the command: `transfer ... -v`
        command_parser.add_argument("-v", "--verbose", action="store_true",
                                    default=argparse.SUPPRESS,
                                    help="log diagnostics, MediaPipe's own included")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; its exit code, 2 for bad input (one line on stderr), 130 when
    interrupted."""
    args = _parser().parse_args(argv)
    if not args.verbose:  # transformers' and diffusers' notices are not ours to show
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
        quiet_native_stderr()  # nor MediaPipe's C++ logging (-v shows it)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM (``docker stop``, a killed job) unwinds like Ctrl-C: partial files are removed.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        with logging_redirect_tqdm():  # warnings print above the progress bar, not through it
            # 0, or 1 where a batch finished with some items failed or skipped
            code: int = args.run(args) or 0
    except DeepExPoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; no output was written", file=sys.stderr)
        return 130
    return code


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt

