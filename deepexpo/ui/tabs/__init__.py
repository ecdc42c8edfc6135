"""The app's tabs, one module each, in the order they show. Each has a ``TITLE`` and a
``build(context)`` that lays out its components inside the app's Blocks and returns what the
rest of the app wires to (:class:`~deepexpo.ui.tabs.common.TabParts`). A new tab is a new
module here, named in :data:`TABS`."""

from . import editor, generation, image, live, video

TABS = (image, video, editor, live, generation)

__all__ = ["TABS"]
