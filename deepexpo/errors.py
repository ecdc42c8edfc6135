"""Errors a user can act on.

Every failure caused by the user's input or environment is raised as a :class:`DeepExPoError`
subclass with a one-line message; the CLI prints it as ``error: <message>`` and the app turns it
into ``gr.Error``. Anything else is a bug and keeps its traceback.
"""


class DeepExPoError(Exception):
    """Base class of all user-facing errors."""


class InputError(DeepExPoError):
    """The input file is missing, unreadable, of the wrong type or too large."""


class NoFaceError(DeepExPoError):
    """No face was found where one is required."""
