"""The subcommands of ``python -m deepexpo``, one module each. A command module has an
``add(subparsers)`` that adds its parser and sets ``run`` on it (a function of the parsed
arguments returning the exit code, or None for 0); :data:`COMMANDS` lists them in the order
``--help`` shows them. A new command is a new module, named here."""

from ..evaluation import commands as evaluation
from . import download, edit, generate, prepare_videos, train, transfer

COMMANDS = (transfer, edit, generate, prepare_videos, train, evaluation, download)

__all__ = ["COMMANDS"]
