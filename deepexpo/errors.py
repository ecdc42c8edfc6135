"""Errors a user can act on.

Every failure caused by the user's input or environment is raised as a :class:`DeepExPoError`
subclass with a one-line message; the CLI prints it as ``error: <message>`` and the app turns it
into ``gr.Error``. Anything else is a bug and keeps its traceback.
"""


class DeepExPoError(Exception):
    """Base class of all user-facing errors."""


class InputError(DeepExPoError, ValueError):
    """The input (a file, or a setting) is missing, unreadable, of the wrong type or out of
    range. Also a ``ValueError``, as a bad argument is."""


class EncodingError(DeepExPoError):
    """Writing a result failed (the encoder exited with an error: a full disk, say); nothing
    was left under the output name."""


class NoFaceError(DeepExPoError):
    """No face was found where one is required."""


class NoSourceFaceError(NoFaceError):
    """No face was found in the photo to drive or edit: front ends offer to place it by hand
    (face points, :mod:`deepexpo.face.points`)."""


class ModelNotAvailableError(DeepExPoError):
    """A pretrained model is not on disk, and cannot or may not be downloaded now."""


class CheckpointError(DeepExPoError):
    """A model's files are on disk but damaged, incomplete or do not fit the networks."""


class BusyError(DeepExPoError):
    """The app cannot serve this visitor yet (every live slot is in use); the message says
    their place in line and about how long."""
