"""The Gradio app: :func:`build_demo` lays it out, :func:`launch` serves it."""

from .layout import build_demo, launch

__all__ = ["build_demo", "launch"]
