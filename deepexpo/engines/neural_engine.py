"""The neural engine: identity as an appearance feature volume plus canonical keypoints,
dynamic semantics as head pose and expression deltas (LivePortrait's networks and weights).

The face is cropped from our own landmarks, driven through the networks in the crop, and pasted
back into the full frame. Source features are computed once per source; driving frames go
through the warping and generator networks in batches.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch

from .. import hub
from ..config import KEYPOINT_SMOOTHING
from ..errors import InputError
from ..face.crop import FaceCrop
from ..face.landmarks import FaceLandmarks
from ..face.measure import eye_ratios, mouth_opening
from ..face.territory import Territory, TerritoryMask
from ..geometry.boxes import PixelBox
from ..geometry.filters import OneEuroFilter
from ..motion.compose import MotionOptions, compose_pose, shift_ratio
from ..motion.controls import ExpressionEdit
from ..motion.extract import extract_motion
from ..motion.state import HeadPose
from ..neural.checkpoints import LivePortraitNetworks, load_networks
from ..neural.cpu_runtime import (
    CpuRuntime,
    RuntimeNetwork,
    resolve_runtime,
    runtime_setting,
)
from ..neural.keypoints import (
    KeypointMotion,
    KeypointTarget,
    driven_expression,
    retarget,
    stitch,
)
from ..neural.warping_network import gather_grid_sample_3d, grid_sample_3d
from .base import TransferEngine
from .warp_retouch import RetouchPhoto, WarpRetouch

logger = logging.getLogger(__name__)

INPUT_SIZE = 256  # the networks' input crop
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
#: ``fp32`` switches the neural engine's CUDA autocast off.
PRECISION_ENV = "DEEPEXPO_NEURAL_PRECISION"


@dataclass(frozen=True)
class NeuralFace:
    """A face as the neural engine sees it: the frame, its crop and its keypoint motion."""

    image: np.ndarray
    face: FaceLandmarks
    crop: FaceCrop
    motion: KeypointMotion  # a batch of one
    placement: HeadPose  # where the head is in the frame and how large (from our landmarks)
    eye_ratios: tuple[float, float]  # the subject's left and right eye: opening / width
    lip_ratio: float  # inner-lip gap / mouth width

    @property
    def pose(self) -> HeadPose:
        """The head pose for :func:`compose_pose`: the networks' rotation (as a column-vector
        matrix) at the landmarks' position and size. (The crop follows the face, so the
        networks' own translation and scale barely move; the landmarks say where it went.)"""
        rotation = self.motion.rotation[0].double().cpu().numpy().T
        return HeadPose(rotation, self.placement.translation, self.placement.scale)


@dataclass(frozen=True)
class NeuralSource(NeuralFace):
    feature: torch.Tensor  # the appearance volume
    retouch: RetouchPhoto  # the same photo for the warp engine, which draws edits
    territory: TerritoryMask | None  # beyond it, other faces: the paste-back leaves them be


class NeuralEngine(TransferEngine[NeuralSource, NeuralFace]):
    """``precision``: ``auto`` (fp16 autocast on CUDA, fp32 on CPU), ``fp32`` (the fallback
    switch), ``fp16`` or ``bf16`` (on a CPU: the runtime's bfloat16, about 4x faster and off
    PyTorch by more than fp32's tolerance). ``runtime``: PyTorch, or a CPU runtime
    (:mod:`~deepexpo.neural.cpu_runtime`) whose exports are cached in ``export_folder``
    (default: ``onnx/`` beside the weights). ``retarget_eyes_lips`` drives eyes and lips by
    their opening ratios through the retargeting networks instead of by expression keypoints."""

    name = "neural"

    def __init__(self, networks: LivePortraitNetworks | None = None, weights: Path | None = None,
                 device: str | None = None, precision: str = "auto", compile: bool = False,
                 retarget_eyes_lips: bool = False, runtime: str = "torch",
                 export_folder: Path | None = None):
        if precision not in PRECISIONS:
            raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if networks is None:
            weights = weights or hub.require("neural")
            networks = load_networks(weights)
        self.networks = networks.fold().to(self.device)
        self.dtype = self._autocast_dtype(precision)
        self.batch_size = 8 if self.device.type == "cuda" else 2
        self.retarget_eyes_lips = retarget_eyes_lips
        self._retouch = WarpRetouch()
        n = self.networks
        self._appearance: torch.nn.Module | Callable = n.appearance_feature_extractor
        self._motion: torch.nn.Module | Callable = n.motion_extractor
        self._warping: torch.nn.Module | Callable = n.warping_module
        self._generator: torch.nn.Module | Callable = n.spade_generator
        if compile:
            self._warping = torch.compile(self._warping)
            self._generator = torch.compile(self._generator)
        self.runtime = resolve_runtime(runtime, self.device, self.dtype is not None)
        self.runtime_precision = "bf16" if precision == "bf16" else "f32"
        if export_folder is None and weights is not None:
            export_folder = (weights if weights.is_dir() else weights.parent) / "onnx"
        if self.runtime is not None:
            if export_folder is None:
                logger.info("no folder to cache the exported networks in: PyTorch")
                self.runtime = None
            else:
                try:
                    self._use_runtime(self.runtime, export_folder)
                except (OSError, RuntimeError) as exc:  # a read-only folder, a failed export
                    logger.warning("the neural networks run in PyTorch: no %s export in %s (%s)",
                                   self.runtime.name, export_folder, exc)
                    self.runtime = None

    def _use_runtime(self, runtime: CpuRuntime, folder: Path) -> None:
        """Run the networks ``runtime`` is faster at in it, exported from the loaded networks
        (stitching and retargeting are tiny MLPs). Example inputs of their own shapes are
        computed only when an export is missing: seconds in PyTorch."""
        n = self.networks
        image = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
        kp = torch.zeros(1, n.warping_module.dense_motion_network.num_kp, 3)

        @functools.cache
        @torch.no_grad()
        def feature() -> torch.Tensor:
            return n.appearance_feature_extractor(image)

        @torch.no_grad()
        def warped() -> tuple[torch.Tensor]:
            return (n.warping_module(feature(), kp, kp)["out"],)

        examples = {"appearance_feature_extractor": lambda: (image,),
                    "motion_extractor": lambda: (image,),
                    "warping_module": lambda: (feature(), kp, kp), "spade_generator": warped}
        n.warping_module.use_sampler(gather_grid_sample_3d)  # the same numbers, fast in ONNX
        try:
            run = {name: RuntimeNetwork(getattr(n, name), examples[name], folder, name, runtime,
                                        precision=self.runtime_precision)
                   for name in runtime.networks}
        finally:
            n.warping_module.use_sampler(grid_sample_3d)  # fast in PyTorch
        self._appearance = run.get("appearance_feature_extractor", self._appearance)
        self._motion = run.get("motion_extractor", self._motion)
        self._warping = run.get("warping_module", self._warping)
        self._generator = run.get("spade_generator", self._generator)
        logger.info("neural networks in %s (%s): %s", runtime.name, self.runtime_precision,
                    ", ".join(run))

    @classmethod
    def from_settings(cls, weights: Path) -> NeuralEngine:
        """The engine with the precision ``DEEPEXPO_NEURAL_PRECISION`` asks for (a wrong value
        is a one-line :class:`InputError`, not a traceback)."""
        precision = os.environ.get(PRECISION_ENV, "auto").strip().lower()
        if precision not in PRECISIONS:
            raise InputError(f"{PRECISION_ENV} must be {', '.join(PRECISIONS)}, not '{precision}'")
        return cls(weights=weights, precision=precision, runtime=runtime_setting())

    def _autocast_dtype(self, precision: str) -> torch.dtype | None:
        if self.device.type != "cuda" or precision == "fp32":
            return None
        return torch.bfloat16 if precision == "bf16" else torch.float16

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        with torch.inference_mode():
            if self.dtype is None:
                yield
            else:
                with torch.autocast(self.device.type, dtype=self.dtype):
                    yield

    def _tensor(self, crops: Sequence[np.ndarray]) -> torch.Tensor:
        batch = np.stack(crops).astype(np.float32) / 255.0
        return torch.from_numpy(batch).permute(0, 3, 1, 2).to(self.device)

    def _face(self, image: np.ndarray, face: FaceLandmarks, crop: FaceCrop | None = None,
              pixels: torch.Tensor | None = None) -> NeuralFace:
        """The face's crop (``crop``: reuse another's) and its motion; ``pixels``: the crop
        already as a network input."""
        crop = crop or FaceCrop.from_landmarks(face.xy)
        if pixels is None:
            pixels = self._tensor([crop.cut(image, INPUT_SIZE)])
        with self._inference():
            heads = self._motion(pixels)
        motion = KeypointMotion.from_heads({k: v.float() for k, v in heads.items()})
        return NeuralFace(image, face, crop, motion, extract_motion(face).pose,
                          eye_ratios(face.xy), mouth_opening(face.xy))

    def prepare_source(self, image: np.ndarray, face: FaceLandmarks,
                       territory: Territory | None = None) -> NeuralSource:
        crop = FaceCrop.from_landmarks(face.xy)
        pixels = self._tensor([crop.cut(image, INPUT_SIZE)])
        base = self._face(image, face, crop, pixels)
        with self._inference():
            feature = self._appearance(pixels)
        values = {f.name: getattr(base, f.name) for f in fields(NeuralFace)}
        pasted = PixelBox.around(crop.corners, image.shape[:2])  # what the paste-back changes
        return NeuralSource(**values, feature=feature,
                            retouch=self._retouch.photo(image, face, territory),
                            territory=None if territory is None else territory.mask(pasted))

    def extract(self, image: np.ndarray, face: FaceLandmarks) -> NeuralFace:
        return self._face(image, face)

    def neutral_reference(self, driving: NeuralFace) -> NeuralFace:
        """The driver's own face made neutral and frontal by the warp engine, then measured by
        the motion network: the same person, so only the expression differs."""
        neutral = self._retouch.neutral_frontal(driving.image, driving.face)
        return self._face(neutral, driving.face, driving.crop)

    def target(self, source: NeuralSource, drivings: Sequence[NeuralFace],
               reference: NeuralFace, options: MotionOptions) -> KeypointTarget:
        """Where the source's keypoints are driven: the expression by the keypoint rule, the
        head pose by the shared :func:`compose_pose`, its shift and scale change expressed in
        the source crop's units."""
        exp = driven_expression(source.motion, _stack([d.motion for d in drivings]),
                                reference.motion, options)
        src, ref, crop = source.pose, reference.pose, source.crop
        rotations, scales, shifts = [], [], []
        for driving in drivings:
            ratio = shift_ratio(src, ref, source.image.shape[:2], driving.image.shape[:2],
                                options)
            pose = compose_pose(src, driving.pose, ref, options, ratio)
            moved = (pose.translation - src.translation)[:2] / (crop.side / 2)  # crop units
            rotations.append(pose.rotation.T)
            scales.append([pose.scale / src.scale])
            shifts.append([crop.ux @ moved, crop.uy @ moved, 0.0])
        like = source.motion.t
        return KeypointTarget(
            source.motion.kp, torch.tensor(np.array(rotations)).to(like), exp,
            source.motion.scale * torch.tensor(scales).to(like),
            source.motion.t + torch.tensor(shifts).to(like))

    def render(self, source: NeuralSource, driving: NeuralFace, reference: NeuralFace,
               options: MotionOptions) -> np.ndarray:
        return self.render_batch(source, [driving], reference, options)[0]

    @torch.inference_mode()
    def render_batch(self, source: NeuralSource, drivings: Sequence[NeuralFace],
                     reference: NeuralFace, options: MotionOptions) -> list[np.ndarray]:
        x_s = source.motion.keypoints()
        x_d = self.target(source, drivings, reference, options).keypoints()
        if self.retarget_eyes_lips:
            x_d = x_d + self._retarget(source, drivings, x_s, options.strength)
        return self._generate(source, x_s, x_d)

    @torch.inference_mode()
    def edit(self, source: NeuralSource, edit: ExpressionEdit) -> np.ndarray:
        """The warp engine renders the edit; its motion, measured in the same crop, then drives
        the networks, which draw what a warp cannot (teeth, eyelids, the far side of a turn)."""
        edited = self._face(source.retouch.edit(edit), source.face, source.crop)
        x_d = self.target(source, [edited], source, MotionOptions()).keypoints()
        return self._generate(source, source.motion.keypoints(), x_d)[0]

    def _retarget(self, source: NeuralSource, drivings: Sequence[NeuralFace], x_s: torch.Tensor,
                  strength: float) -> torch.Tensor:
        """Keypoint deltas that give the source the drivers' eye and lip opening ratios."""
        s = self.networks.stitching_retargeting_module
        eyes = torch.tensor([[*source.eye_ratios, float(np.mean(d.eye_ratios))] for d in drivings])
        lips = torch.tensor([[source.lip_ratio, d.lip_ratio] for d in drivings])
        return strength * (retarget(s.eye, x_s, eyes.to(x_s)) + retarget(s.lip, x_s, lips.to(x_s)))

    def _generate(self, source: NeuralSource, x_s: torch.Tensor, x_d: torch.Tensor) -> list[np.ndarray]:
        """Stitch, warp, generate, and paste each frame back into the source photo. (The
        keypoint maths stays in float32; only the networks run under autocast.)"""
        x_d = stitch(self.networks.stitching_retargeting_module, x_s, x_d)
        b = x_d.shape[0]
        with self._inference():
            warped = self._warping(source.feature.expand(b, -1, -1, -1, -1), kp_driving=x_d,
                                   kp_source=x_s.expand(b, -1, -1))
            images = self._generator(warped["out"]).float()
        crops = (images.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        pasted = [source.crop.paste(source.image, crop) for crop in crops]
        if source.territory is not None:
            for out in pasted:
                source.territory.apply(source.image, out)
        return pasted

    def motion_filter(self, fps: float) -> Callable[[NeuralFace], NeuralFace]:
        """One-Euro smoothing of the driving keypoint motion, field by field."""
        filters: dict[str, OneEuroFilter] = {}

        def smooth(driving: NeuralFace) -> NeuralFace:
            values = {}
            for f in fields(KeypointMotion):
                tensor = getattr(driving.motion, f.name)
                filt = filters.setdefault(f.name, OneEuroFilter(fps, KEYPOINT_SMOOTHING))
                values[f.name] = torch.from_numpy(filt(tensor.cpu().numpy())).to(tensor)
            return replace(driving, motion=KeypointMotion(**values))

        return smooth


def _stack(motions: Sequence[KeypointMotion]) -> KeypointMotion:
    return KeypointMotion(*(torch.cat([getattr(m, f.name) for m in motions])
                            for f in fields(KeypointMotion)))
