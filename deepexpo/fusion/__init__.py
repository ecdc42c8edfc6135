"""Text-prompted generation (MEAF): identity and semantic embeddings fused into a Stable
Diffusion 1.5 U-Net by parallel attention branches next to the text cross-attention.

This module stays light (no torch or diffusers import): it says what generation can use here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import hub
from .speed import FAST_MODELS

SEMANTIC_WEIGHTS_NAME = "semantic_branch.safetensors"


def semantic_weights_file() -> Path:
    """Where ``train fusion`` writes the semantic branch, and generation looks for it."""
    return hub.weights_dir() / SEMANTIC_WEIGHTS_NAME


def trained_semantic_weights() -> Path | None:
    path = semantic_weights_file()
    return path if path.is_file() else None


@dataclass(frozen=True)
class GenerationSetup:
    """Which models generation would load here, and what the missing ones are."""

    base_ready: bool
    identity: bool  # the IP-Adapter plus-face branch
    semantic_weights: Path | None  # a trained semantic branch
    controlnet: bool  # the MediaPipe-face ControlNet
    fast: bool = False  # the fast mode's LoRA
    tiny_vae: bool = False  # the fast mode's tiny autoencoder

    @classmethod
    def detect(cls) -> GenerationSetup:
        """From the disk only; never touches the network."""
        ready = {name: hub.MODELS[name].locate() is not None
                 for name in ("sd15", "ip-adapter", "controlnet-face", *FAST_MODELS)}
        lora, autoencoder = FAST_MODELS
        return cls(ready["sd15"], ready["ip-adapter"],
                   trained_semantic_weights(),
                   ready["controlnet-face"], ready[lora], ready[autoencoder])

    @staticmethod
    def needed(identity: bool, reference: bool, fast: bool = False) -> list[str]:
        """The Hub models a request needs: the base model always, the identity branch for an
        identity image, the ControlNet for a reference when no semantic branch was trained,
        and the fast mode's LoRA and tiny autoencoder for a fast request."""
        names = ["sd15"] + (["ip-adapter"] if identity else [])
        if reference and trained_semantic_weights() is None:
            names.append("controlnet-face")
        return names + (list(FAST_MODELS) if fast else [])

    def describe(self) -> list[str]:
        """One line per part: what is there, or what is missing and how to get it."""
        models = hub.MODELS
        if not self.base_ready:  # every model a request with both images would need
            missing = [name for name in self.needed(True, True) if models[name].locate() is None]
            return [f"Base model: not downloaded ({hub.missing_models_message(missing)})."]
        lines = ["Base model: ready."]
        lines.append("Identity: IP-Adapter plus-face." if self.identity else
                     f"Identity: off ({models['ip-adapter'].missing_message()}).")
        routes = [name for name, ready in (("the trained semantic branch", self.semantic_weights),
                                           ("the MediaPipe-face ControlNet", self.controlnet)) if ready]
        lines.append(f"Expression and pose: {' and '.join(routes)}." if routes else
                     "Expression and pose: off; train the semantic branch with `python -m deepexpo "
                     f"train fusion --data FACES`, or get the face ControlNet "
                     f"({models['controlnet-face'].missing_message()}).")
        lora, autoencoder = FAST_MODELS
        lines.append(("Fast mode: LCM-LoRA, 4 steps" + (
            ", tiny autoencoder." if self.tiny_vae else " (full VAE: the tiny autoencoder is "
            "not downloaded).")) if self.fast else
            f"Fast mode: off ({models[lora].missing_message()}).")
        return lines
