"""Self-supervised training of the neural engine's networks on pairs of frames of one clip
(FOMM / face-vid2vid / LivePortrait's first stage): the source frame gives the appearance
volume and the canonical keypoints (who it is), the driving frame the head pose, expression,
scale and shift (how they move), and the networks learn to redraw the driving frame from them.

Losses (:mod:`.losses`): the reconstruction (L1, plus VGG19 perceptual or a multi-scale pixel
loss), keypoint equivariance under a random warp, and face-vid2vid's prior that keeps
expression deltas small. The stitching MLP is frozen by default; trained, it corrects the
driving keypoints in the loop and a penalty keeps its corrections small. The eye and lip
retargeting MLPs stay as they are (their objective needs a differentiable eye/lip measure).

A run folder holds ``models.yaml``, the networks in the published Hub layout
(``liveportrait/...``, so ``DEEPEXPO_NEURAL_WEIGHTS=RUN`` makes the neural engine use them),
``liveportrait/training_state.pt`` (step, optimizer, settings), ``losses.csv``, ``train.log``,
``vis/`` grids and, at the end, ``eval/`` (``evaluate reconstruction`` on held-back clips).
The checkpoint folder is written beside the old one and swapped in whole, so an interrupted
save leaves the previous checkpoint. Several GPUs: ``torchrun`` (DDP when ``WORLD_SIZE`` > 1).
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from .. import hub
from ..errors import InputError
from ..io.images import write_image
from .checkpoints import LivePortraitNetworks, published_config
from .clips import Clip, FramePairs, PairSampler
from .keypoints import KeypointMotion, place, stitch
from .losses import RandomWarp, ReconstructionLoss, equivariance_loss, vgg19_weights
from .network_config import NeuralConfig
from .train_vis import reconstruction_grid
from .training_settings import TrainingSettings

logger = logging.getLogger(__name__)

CHECKPOINT = "liveportrait"  # the published layout's top folder, swapped in whole
STATE_FILE = "training_state.pt"
LOSSES_FILE = "losses.csv"


# --- processes ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Processes:
    """This process's place in a ``torchrun`` launch (one process without one)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> Processes:
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                   int(os.environ.get("LOCAL_RANK", 0)))

    @property
    def main(self) -> bool:
        return self.rank == 0

    def device(self) -> torch.device:
        return torch.device(f"cuda:{self.local_rank}" if torch.cuda.is_available() else "cpu")

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """The process group of a multi-process launch (NCCL on GPUs, gloo on CPUs)."""
        if self.world == 1:
            yield
            return
        if torch.cuda.is_available():
            torch.cuda.set_device(self.local_rank)
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        try:
            yield
        finally:
            dist.destroy_process_group()

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()


# --- the run folder -------------------------------------------------------------------------

class RunFolder:
    """A training run's files (see the module's docstring)."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def checkpoint(self) -> Path:
        return self.root / CHECKPOINT

    @property
    def losses(self) -> Path:
        return self.root / LOSSES_FILE

    def has_checkpoint(self) -> bool:
        self._recover()
        return (self.checkpoint / STATE_FILE).is_file()

    def _recover(self) -> None:
        """A save interrupted between its two renames left the previous checkpoint aside."""
        if not self.checkpoint.exists():
            old = sorted(self.root.glob(f".{CHECKPOINT}.old-*"))
            if old:
                os.replace(old[-1], self.checkpoint)

    def save(self, networks: LivePortraitNetworks, state: dict) -> None:
        """The networks in the published layout and the training state, as one folder written
        beside the current one and swapped in."""
        staging = self.root / f".{CHECKPOINT}.partial-{uuid.uuid4().hex[:8]}"
        try:
            networks.save_published(staging)
            torch.save(state, staging / CHECKPOINT / STATE_FILE)
            os.replace(staging / "models.yaml", self.root / "models.yaml")
            old = self.root / f".{CHECKPOINT}.old-{uuid.uuid4().hex[:8]}"
            if self.checkpoint.exists():
                os.replace(self.checkpoint, old)
            os.replace(staging / CHECKPOINT, self.checkpoint)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def load_state(self) -> dict:
        return torch.load(self.checkpoint / STATE_FILE, map_location="cpu", weights_only=True)

    def load_networks(self) -> LivePortraitNetworks:
        return LivePortraitNetworks.from_published(
            self.root, NeuralConfig.from_yaml(self.root / "models.yaml"), fold=False)

    def record(self, step: int, losses: dict[str, float]) -> None:
        """One row of ``losses.csv`` (with its header when new)."""
        new = not self.losses.is_file()
        with self.losses.open("a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(["step", *losses])
            writer.writerow([step, *(f"{v:.6f}" for v in losses.values())])

    def truncate_losses(self, step: int) -> None:
        """Keep the rows up to ``step`` (those after the last checkpoint are redone)."""
        if not self.losses.is_file():
            return
        with self.losses.open(encoding="utf-8") as f:
            rows = list(csv.reader(f))
        kept = rows[:1] + [r for r in rows[1:] if int(r[0]) <= step]
        with self.losses.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(kept)


def read_losses(path: Path) -> list[dict[str, float]]:
    """``losses.csv`` as rows of floats (``step`` included)."""
    with path.open(encoding="utf-8") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


# --- the networks to start from ---------------------------------------------------------------

def starting_networks(start: str, config_file: str | None, seed: int = 0) -> LivePortraitNetworks:
    """Networks with spectral norm as trained: the published weights (found or fetched as the
    neural engine's are), random ones (``scratch``, of ``config_file`` or the published size,
    drawn from ``seed``), or the published files in a folder (another run's, say)."""
    if start == "scratch":
        torch.manual_seed(seed)
        return LivePortraitNetworks(NeuralConfig.from_yaml(config_file) if config_file
                                    else NeuralConfig.from_yaml())
    folder = hub.require("neural") if start == "published" else Path(start)
    if folder.is_file() or not folder.is_dir():
        raise InputError(f"--from needs a folder of the published .pth files (spectral norm as "
                         f"trained), not '{folder}'")
    return LivePortraitNetworks.from_published(folder, published_config(folder), fold=False)


def size_step(config: NeuralConfig) -> int:
    """What the input side must be a multiple of: every network's downsampling divides it."""
    f = config.appearance_feature_extractor.num_down_blocks
    w = config.warping_module.dense_motion_params.num_blocks
    return max(32, 2 ** (f + w))


def output_side(config: NeuralConfig, size: int) -> int:
    """The generator's output side for inputs of ``size``."""
    down = 2 ** config.appearance_feature_extractor.num_down_blocks
    return size // down * 4 * config.spade_generator.upscale


# --- one training step's maths --------------------------------------------------------------

@dataclass
class PairOutput:
    losses: dict[str, torch.Tensor]
    prediction: torch.Tensor
    occlusion: torch.Tensor | None
    kp_source: torch.Tensor
    kp_driving: torch.Tensor


class FramePairModel(nn.Module):
    """The five networks and the losses of one batch of pairs (the module DDP wraps)."""

    def __init__(self, networks: LivePortraitNetworks, reconstruction: ReconstructionLoss,
                 train_stitching: bool, precision: torch.dtype | None):
        super().__init__()
        self.networks = networks
        self.reconstruction = reconstruction
        self.train_stitching = train_stitching
        self.precision = precision
        s = networks.stitching_retargeting_module
        s.requires_grad_(False)
        s.stitching.requires_grad_(train_stitching)

    def _amp(self, device: torch.device) -> contextlib.AbstractContextManager:
        if self.precision is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=self.precision)

    def forward(self, source: torch.Tensor, driving: torch.Tensor, target: torch.Tensor,
                warp: RandomWarp) -> PairOutput:
        n, b = self.networks, source.shape[0]
        amp = self._amp(source.device)
        with amp:  # the motion of source, driving and the warped driving frame in one pass
            heads = n.motion_extractor(torch.cat([source, driving, warp.warp_frame(driving)]))
        motion = KeypointMotion.from_heads({k: v.float() for k, v in heads.items()})
        src, drv, warped = motion[0:b], motion[b:2 * b], motion[2 * b:3 * b]
        kp_source = src.keypoints()
        # who from the source (canonical keypoints), how from the driving frame
        kp_driving = place(src.kp, drv.rotation, drv.exp, drv.scale, drv.t)
        losses: dict[str, torch.Tensor] = {}
        if self.train_stitching:
            stitched = stitch(n.stitching_retargeting_module, kp_source, kp_driving)
            losses["stitching"] = (stitched - kp_driving).abs().mean()
            kp_driving = stitched
        with amp:
            feature = n.appearance_feature_extractor(source)
            warped_features = n.warping_module(feature, kp_driving=kp_driving, kp_source=kp_source)
            prediction = n.spade_generator(warped_features["out"]).float()
        compared = prediction if prediction.shape[-1] == target.shape[-1] else \
            F.interpolate(prediction, size=target.shape[-2:], mode="area")
        losses |= self.reconstruction(compared, target)
        losses["equivariance"] = equivariance_loss(drv.keypoints(), warped.keypoints(), warp)
        losses["deformation"] = drv.exp.abs().mean()
        occlusion = warped_features.get("occlusion_map")
        return PairOutput(losses, prediction, None if occlusion is None else occlusion.float(),
                          kp_source, kp_driving)


# --- the loop ---------------------------------------------------------------------------------

#: ``progress(step done, total steps, this step's losses)``.
StepProgress = Callable[[int, int, dict[str, float]], None]


class NeuralTrainer:
    """Trains ``networks`` on ``clips`` into ``run``, from ``start_step`` (a resumed run: the
    optimizer state in ``optimizer_state``)."""

    def __init__(self, run: RunFolder, settings: TrainingSettings, networks: LivePortraitNetworks,
                 clips: list[Clip], processes: Processes = Processes(), start_step: int = 0,
                 optimizer_state: dict | None = None):
        self.run, self.settings, self.clips, self.processes = run, settings, clips, processes
        self.networks = networks
        self.step = start_step
        self.device = processes.device()
        config = networks.config
        if settings.size % size_step(config):
            raise InputError(f"--size must be a multiple of {size_step(config)} for these "
                             f"networks, not {settings.size}")
        self.out_side = output_side(config, settings.size)
        self.target_side = min(self.out_side, *(c.side for c in clips))
        weights = vgg19_weights()
        self.reconstruction = ReconstructionLoss(weights)
        logger.info("reconstruction loss: %s", self.reconstruction.description)
        if weights is None and processes.main:
            logger.warning("no VGG19 weights on disk: training with a multi-scale pixel loss "
                           "instead of a perceptual one (see train.log)")
        self.model = FramePairModel(networks, self.reconstruction, settings.train_stitching,
                                    self._amp_dtype()).to(self.device)
        self.model.train()
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(trainable, lr=settings.learning_rate, betas=(0.5, 0.999))
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
        self.scaler = torch.amp.GradScaler(
            self.device.type, enabled=self.model.precision == torch.float16)
        self.ddp: nn.Module = self.model
        if processes.world > 1:
            self.ddp = nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def _amp_dtype(self) -> torch.dtype | None:
        if self.device.type != "cuda" or self.settings.precision == "fp32":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

    def _loader(self, steps: int) -> DataLoader:
        s = self.settings
        sampler = PairSampler(self.clips, s.batch, self.step, steps, s.seed, self.processes.rank)
        return DataLoader(FramePairs(self.clips, s.size, self.target_side), batch_sampler=sampler,
                          num_workers=s.workers, pin_memory=self.device.type == "cuda")

    def _warp(self, step: int, batch: int) -> RandomWarp:
        generator = torch.Generator().manual_seed(
            (self.settings.seed * 1_000_003 + step) * 64 + self.processes.rank)
        return RandomWarp(batch, generator, self.device)

    def train(self, steps: int, progress: StepProgress | None = None) -> None:
        """Steps ``self.step`` .. ``steps - 1``; a grid every ``vis_every``, a checkpoint every
        ``save_every`` steps and at the end."""
        s, weights = self.settings, asdict(self.settings.losses)
        started, first = time.perf_counter(), self.step
        for batch in self._loader(steps):
            batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
            out = self.ddp(batch["source"], batch["driving"], batch["target"],
                           self._warp(self.step, batch["source"].shape[0]))
            total = sum(weights[k] * v for k, v in out.losses.items())
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(total).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.step += 1
            values = {"total": total.item(), **{k: v.item() for k, v in out.losses.items()}}
            if self.processes.main:
                self.run.record(self.step, values)
                if self.step % s.vis_every == 0 or self.step == steps:
                    self._write_grid(batch, out)
                if self.step % 10 == 0 or self.step == steps:
                    logger.info("step %d: %s", self.step,
                                ", ".join(f"{k} {v:.4f}" for k, v in values.items()))
            if self.step % s.save_every == 0 or self.step == steps:
                self.save()
            if progress is not None:
                progress(self.step, steps, values)
        done = self.step - first
        if done:
            logger.info("%d steps in %.1f s (%.2f steps/s)", done, time.perf_counter() - started,
                        done / (time.perf_counter() - started))

    def _write_grid(self, batch: dict[str, torch.Tensor], out: PairOutput) -> None:
        grid = reconstruction_grid(batch["source"], batch["driving"], out.prediction,
                                   out.occlusion, out.kp_source, out.kp_driving)
        write_image(self.run.root / "vis" / f"step_{self.step:06d}.png", grid)

    def save(self) -> None:
        """The checkpoint (the main process writes it; the others wait for it)."""
        if self.processes.main:
            state = {"step": self.step, "optimizer": self.optimizer.state_dict(),
                     "scaler": self.scaler.state_dict(), "settings": asdict(self.settings)}
            self.run.save(self.networks, state)
            logger.info("step %d: checkpoint written to %s", self.step, self.run.checkpoint)
        self.processes.barrier()


def resume(run: RunFolder, clips: list[Clip], processes: Processes = Processes()
           ) -> NeuralTrainer:
    """The trainer of the run in ``run`` where its last checkpoint left it."""
    state = run.load_state()
    settings = TrainingSettings.from_dict(state["settings"])
    trainer = NeuralTrainer(run, settings, run.load_networks(), clips, processes, state["step"],
                            state["optimizer"])
    if state["scaler"]:
        trainer.scaler.load_state_dict(state["scaler"])
    if processes.main:
        run.truncate_losses(state["step"])
    return trainer


def evaluate(run: RunFolder, clips: list[Clip]) -> dict:
    """``evaluate reconstruction`` of the saved checkpoint on ``clips``, as the neural engine
    will run it, into ``run/eval``."""
    from ..engines.neural_engine import NeuralEngine
    from ..evaluation.runs import evaluate_reconstruction

    engine = NeuralEngine(weights=run.root)
    # force: the checkpoint changes between runs into the same folder, the clips do not.
    return evaluate_reconstruction([c.path for c in clips], engine, run.root / "eval", force=True)


__all__ = ["FramePairModel", "NeuralTrainer", "Processes", "RunFolder", "evaluate", "read_losses",
           "resume", "starting_networks"]
