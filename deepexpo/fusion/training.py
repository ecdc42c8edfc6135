"""Training the semantic branch: a projection from the semantic vector to tokens, and that
branch's key/value projections in every cross-attention layer. Everything else is frozen.

The data is a folder of face images, optionally with captions (``name.txt`` next to
``name.jpg``). Images in the same subfolder are frames of one person: each example then takes
its identity from one frame and its semantics (and target pixels) from another, so the branch
learns expression and pose rather than appearance.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from diffusers.models.embeddings import IPAdapterFaceIDImageProjection
from safetensors.torch import save_file

from ..errors import InputError, NoFaceError
from ..face.crop import FaceCrop
from ..face.landmarks import create_landmarker
from ..io.images import IMAGE_SUFFIXES, read_image
from ..motion.extract import extract_motion
from .attention import branch_processors, branch_state_dict, new_branch_state
from .loading import IDENTITY, SEMANTIC, IdentityBranch
from .pipeline import FusionPipeline
from .semantics import SEMANTIC_DIM, semantic_vector

logger = logging.getLogger(__name__)

DEFAULT_CAPTION = "a photo of a person"
SEMANTIC_TOKENS = 4
TARGET_CROP_SCALE = 2.0  # the training target: the face with some hair and shoulders


@dataclass(frozen=True)
class FaceExample:
    image: np.ndarray  # the whole frame
    pixels: torch.Tensor  # (3, R, R) in [-1, 1], its face crop: the training target
    semantic: torch.Tensor  # (SEMANTIC_DIM,) of the same frame
    caption: str
    person: str  # the subfolder: frames of one person


@dataclass(frozen=True)
class TrainingConfig:
    steps: int = 1000
    learning_rate: float = 1e-4
    batch_size: int = 4
    resolution: int = 512
    seed: int = 0


def load_examples(folder: str | os.PathLike, resolution: int) -> list[FaceExample]:
    """Every image under ``folder`` with a face, cropped, measured and captioned."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"training data folder not found: '{folder}'")
    landmarker = create_landmarker()
    examples = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        image = read_image(path)
        try:
            face = landmarker.detect(image, f"'{path.name}'")
        except NoFaceError:
            logger.warning("no face in %s; skipped", path)
            continue
        crop = FaceCrop.from_landmarks(face.xy, TARGET_CROP_SCALE, 0.0).cut(image, resolution)
        pixels = torch.from_numpy(crop).permute(2, 0, 1).float() / 127.5 - 1.0
        caption_file = path.with_suffix(".txt")
        caption = caption_file.read_text().strip() if caption_file.is_file() else DEFAULT_CAPTION
        examples.append(FaceExample(image, pixels,
                                    torch.from_numpy(semantic_vector(extract_motion(face))),
                                    caption, str(path.parent.relative_to(folder))))
    landmarker.close()
    if not examples:
        raise InputError(f"no face images found in '{folder}'")
    return examples


class SemanticBranchTrainer:
    """Adds a fresh semantic branch to a fusion pipeline (next to its identity branch, if it
    has one, which stays frozen) and trains it on face examples."""

    def __init__(self, fusion: FusionPipeline, config: TrainingConfig = TrainingConfig()):
        if SEMANTIC in fusion.branches:
            raise InputError("the pipeline already has a semantic branch")
        self.config = config
        pipe = fusion.pipe
        unet = pipe.unet
        projection = IPAdapterFaceIDImageProjection(SEMANTIC_DIM, unet.config.cross_attention_dim,
                                                    mult=2, num_tokens=SEMANTIC_TOKENS)
        identity = None
        if IDENTITY in fusion.branches:
            conditioner = fusion.conditioner
            identity = IdentityBranch(fusion.states[fusion.branches.index(IDENTITY)],
                                      conditioner.image_encoder, conditioner.image_processor)
        # The same conditioner (and so the same landmarker) as the pipeline it extends.
        self.fusion = replace(FusionPipeline.assemble(pipe, identity,
                                                      new_branch_state(unet, projection)),
                              conditioner=fusion.conditioner)
        self.index = self.fusion.branches.index(SEMANTIC)
        for module in (unet, pipe.vae, pipe.text_encoder):
            module.requires_grad_(False)
        self.parameters = list(unet.encoder_hid_proj.image_projection_layers[self.index].parameters())
        for proc in branch_processors(unet):
            self.parameters += [proc.to_k_ip[self.index].weight, proc.to_v_ip[self.index].weight]
        for p in self.parameters:
            p.requires_grad_(True)
        self.optimizer = torch.optim.AdamW(self.parameters, lr=config.learning_rate)
        self._identity_cache: dict[int, torch.Tensor] = {}

    def _identity(self, example: FaceExample, examples: list[FaceExample],
                  rng: random.Random) -> torch.Tensor:
        """The identity tokens' input for ``example``, from another frame of the same person
        when there is one: the branch must not learn appearance from its own frame."""
        others = [e for e in examples if e.person == example.person and e is not example]
        source = rng.choice(others) if others else example
        key = id(source)
        if key not in self._identity_cache:
            conditioner = self.fusion.conditioner
            self._identity_cache[key] = conditioner.encode_faces(
                [conditioner.identity_crop(source.image)])[0]
        return self._identity_cache[key]

    def loss(self, batch: list[FaceExample], examples: list[FaceExample],
             generator: torch.Generator, rng: random.Random) -> torch.Tensor:
        """Noise-prediction error of the U-Net conditioned on the captions and the branches."""
        pipe = self.fusion.pipe
        device = pipe.device
        pixels = torch.stack([e.pixels for e in batch]).to(device)
        latents = pipe.vae.encode(pixels).latent_dist.mean * pipe.vae.config.scaling_factor
        noise = torch.randn(latents.shape, generator=generator).to(device)
        steps = torch.randint(0, pipe.scheduler.config.num_train_timesteps, (len(batch),),
                              generator=generator).to(device)
        noisy = pipe.scheduler.add_noise(latents, noise, steps)
        tokens = pipe.tokenizer([e.caption for e in batch], padding="max_length", truncation=True,
                                max_length=pipe.tokenizer.model_max_length, return_tensors="pt")
        text = pipe.text_encoder(tokens.input_ids.to(device))[0]
        embeds = []
        for branch in self.fusion.branches:
            if branch == IDENTITY:
                embeds.append(torch.stack([self._identity(e, examples, rng) for e in batch]))
            else:
                embeds.append(torch.stack([e.semantic for e in batch])[:, None].to(device))
        pred = pipe.unet(noisy, steps, encoder_hidden_states=text,
                         added_cond_kwargs={"image_embeds": embeds}).sample
        return F.mse_loss(pred.float(), noise.float())

    def train(self, examples: list[FaceExample],
              progress: Callable[[int, int, float], None] | None = None) -> list[float]:
        """``config.steps`` optimisation steps; returns the loss of each."""
        cfg = self.config
        rng = random.Random(cfg.seed)
        generator = torch.Generator().manual_seed(cfg.seed)
        unet = self.fusion.pipe.unet
        unet.train()
        losses = []
        for step in range(cfg.steps):
            batch = rng.sample(examples, min(cfg.batch_size, len(examples)))
            loss = self.loss(batch, examples, generator, rng)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(float(loss.detach()))
            if progress is not None:
                progress(step + 1, cfg.steps, losses[-1])
        unet.eval()
        return losses

    @torch.no_grad()
    def evaluate(self, examples: list[FaceExample], seed: int = 1234) -> float:
        """The loss on ``examples`` with fixed noise, timesteps and pairs: comparable between
        calls."""
        return float(self.loss(examples, examples, torch.Generator().manual_seed(seed),
                               random.Random(seed)))

    def save(self, path: str | os.PathLike) -> None:
        """The branch in the IP-Adapter layout, one safetensors file (``image_proj.*``,
        ``ip_adapter.*``) that :class:`FusionPipeline` and diffusers' ``load_ip_adapter`` read."""
        state = branch_state_dict(self.fusion.pipe.unet, self.index)
        flat = {f"{part}.{k}": v.contiguous() for part, sub in state.items() for k, v in sub.items()}
        save_file(flat, str(path), metadata={"branch": "semantic",
                                            "semantic_dim": json.dumps(SEMANTIC_DIM)})
