"""What a training run of the neural engine is (light: no torch, for the command line)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError

STARTS = ("published", "scratch")  # or a folder of published files
PRECISIONS = ("auto", "fp32")


@dataclass(frozen=True)
class LossWeights:
    l1: float = 1.0
    perceptual: float = 1.0  # per VGG layer and scale
    pyramid: float = 1.0  # per coarser scale
    equivariance: float = 10.0  # FOMM's
    deformation: float = 0.1  # |expression deltas| (face-vid2vid's prior)
    stitching: float = 1.0  # |stitching corrections|, when the stitching MLP trains


@dataclass(frozen=True)
class TrainingSettings:
    """What a run is; saved with it, so ``--resume`` continues with the same."""

    start: str = "published"  # ``published``, ``scratch`` or a folder of published files
    config: str | None = None  # models.yaml of the networks trained from scratch
    size: int = 256  # of the networks' input crops
    batch: int = 4  # per process
    lr: float | None = None  # default: 2e-4 from scratch, 2e-5 fine-tuning
    seed: int = 0
    train_stitching: bool = False
    precision: str = "auto"  # ``auto``: mixed precision on CUDA (bf16, or fp16 with scaling)
    holdout: int = 1  # clips held back for the final evaluation
    vis_every: int = 100
    save_every: int = 500
    workers: int = 2  # data-loading processes
    losses: LossWeights = field(default_factory=LossWeights)

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else 2e-4 if self.start == "scratch" else 2e-5

    @classmethod
    def from_dict(cls, data: dict) -> TrainingSettings:
        return cls(**{**data, "losses": LossWeights(**data.get("losses", {}))})

    def check(self) -> None:
        if self.precision not in PRECISIONS:
            raise InputError(f"precision must be one of {', '.join(PRECISIONS)}")
        for name in ("size", "batch", "vis_every", "save_every"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be at least 1")
        if self.workers < 0 or self.holdout < 0:
            raise InputError("--workers and --holdout cannot be negative")
