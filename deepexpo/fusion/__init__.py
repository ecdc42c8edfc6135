"""Text-prompted generation (MEAF): identity and semantic embeddings fused into a Stable
Diffusion 1.5 U-Net by parallel attention branches next to the text cross-attention.

This module stays light (no torch or diffusers import): it says what generation can use here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..hub import MODELS
from ..neural.weights import WEIGHTS_DIR

#: Where ``train fusion`` writes the semantic branch, and generation looks for it.
SEMANTIC_WEIGHTS = WEIGHTS_DIR / "semantic_branch.safetensors"


@dataclass(frozen=True)
class GenerationSetup:
    """Which models generation would load here, and what the missing ones are."""

    base_ready: bool
    identity: bool  # the IP-Adapter plus-face branch
    semantic_weights: Path | None  # a trained semantic branch
    controlnet: bool  # the MediaPipe-face ControlNet

    @classmethod
    def detect(cls) -> GenerationSetup:
        """From the local cache and ``weights/`` only; never touches the network."""
        return cls(MODELS["sd15"].is_cached(), MODELS["ip-adapter"].is_cached(),
                   SEMANTIC_WEIGHTS if SEMANTIC_WEIGHTS.is_file() else None,
                   MODELS["controlnet-face"].is_cached())

    def describe(self) -> list[str]:
        """One line per part: what is there, or what is missing and how to get it."""
        if not self.base_ready:
            return [f"Text-prompted generation needs {MODELS['sd15'].missing_message()}."]
        lines = ["Base model: ready."]
        lines.append("Identity: IP-Adapter plus-face." if self.identity else
                     f"Identity: off; it needs {MODELS['ip-adapter'].missing_message()}.")
        routes = [name for name, ready in (("the trained semantic branch", self.semantic_weights),
                                           ("the MediaPipe-face ControlNet", self.controlnet)) if ready]
        lines.append(f"Expression and pose: {' and '.join(routes)}." if routes else
                     "Expression and pose: off; train the semantic branch with `python -m deepexpo "
                     f"train fusion --data FACES`, or get {MODELS['controlnet-face'].missing_message()}.")
        return lines
