"""The neural engine's networks: our implementation of the five LivePortrait networks, loading
the published checkpoints (``KwaiVGI/LivePortrait``, MIT)."""
