"""The maths between the networks: implicit 3D keypoints from the motion extractor's heads, and
their recombination (identity keypoints of the source, semantics of the driver). The head pose
is composed by the shared :func:`deepexpo.motion.compose.compose_pose`; here are the
expression rule over keypoint rows and the placement of the result.

A face is ``x = scale * (x_c @ R + exp) + t``: ``x_c`` the identity's canonical keypoints,
``R`` the head rotation, ``exp`` the expression deltas, ``scale`` and ``t`` (z ignored) the
placement in the crop. All tensors are batched.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..motion.compose import MotionOptions
from ..motion.regions import get_region
from .stitching_retargeting import StitchingRetargeting

BIN_DEGREES = 3.0
#: Expression keypoints that carry the lips and the eyes (region ``lips`` / ``eyes``), and those
#: that absolute mode takes from the driver (all rows, or only some coordinates).
LIP_ROWS = (6, 12, 14, 17, 19, 20)
EYE_ROWS = (11, 13, 15, 16, 18)
#: The facial features of :mod:`deepexpo.motion.regions`, as expression keypoint rows.
FEATURE_ROWS = {"eyes": EYE_ROWS, "lips": LIP_ROWS}
ABSOLUTE_ROWS = (1, 2, 6, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
ABSOLUTE_PARTS = ((slice(3, 5), slice(1, 2)), (5, slice(2, 3)), (8, slice(2, 3)),
                  (9, slice(1, 3)))


def headpose_to_degrees(logits: torch.Tensor) -> torch.Tensor:
    """(B, bins) logits -> (B, 1) degrees: the expected bin, 3 degrees each, centred on 0."""
    bins = logits.shape[1]
    idx = torch.arange(bins, dtype=logits.dtype, device=logits.device)
    centre = BIN_DEGREES * (bins - 1) / 2
    return (torch.softmax(logits, dim=1) * idx).sum(dim=1, keepdim=True) * BIN_DEGREES - centre


def rotation_matrix(pitch: torch.Tensor, yaw: torch.Tensor, roll: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3) matrix ``R`` with ``x @ R = Rz(roll) Ry(yaw) Rx(pitch) x`` for row vectors, from
    angles (B, 1) in degrees."""
    p, y, r = (torch.deg2rad(a[:, 0]) for a in (pitch, yaw, roll))
    one, zero = torch.ones_like(p), torch.zeros_like(p)

    def mat(*rows: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)

    rx = mat((one, zero, zero), (zero, p.cos(), -p.sin()), (zero, p.sin(), p.cos()))
    ry = mat((y.cos(), zero, y.sin()), (zero, one, zero), (-y.sin(), zero, y.cos()))
    rz = mat((r.cos(), -r.sin(), zero), (r.sin(), r.cos(), zero), (zero, zero, one))
    return (rz @ ry @ rx).transpose(1, 2)


@dataclass(frozen=True)
class KeypointMotion:
    """Head pose (degrees), translation, scale, expression deltas and canonical keypoints."""

    pitch: torch.Tensor  # (B, 1)
    yaw: torch.Tensor
    roll: torch.Tensor
    t: torch.Tensor  # (B, 3)
    exp: torch.Tensor  # (B, K, 3)
    scale: torch.Tensor  # (B, 1)
    kp: torch.Tensor  # (B, K, 3)

    @classmethod
    def from_heads(cls, heads: dict[str, torch.Tensor]) -> KeypointMotion:
        b = heads["kp"].shape[0]
        pitch, yaw, roll = (headpose_to_degrees(heads[k]) for k in ("pitch", "yaw", "roll"))
        return cls(pitch, yaw, roll, heads["t"], heads["exp"].view(b, -1, 3), heads["scale"],
                   heads["kp"].view(b, -1, 3))

    @property
    def rotation(self) -> torch.Tensor:
        return rotation_matrix(self.pitch, self.yaw, self.roll)

    def keypoints(self) -> torch.Tensor:
        """(B, K, 3) posed keypoints."""
        return place(self.kp, self.rotation, self.exp, self.scale, self.t)

    def __getitem__(self, index: slice | int) -> KeypointMotion:
        """Frames ``index`` of a batch (an int keeps a batch of one)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return KeypointMotion(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


def place(kp: torch.Tensor, rotation: torch.Tensor, exp: torch.Tensor, scale: torch.Tensor,
          t: torch.Tensor) -> torch.Tensor:
    """``scale * (kp @ rotation + exp) + t`` with the translation's z left out."""
    out = scale[..., None] * (kp @ rotation + exp)
    return torch.cat([out[..., :2] + t[:, None, :2], out[..., 2:]], dim=-1)


def expression_mask(options: MotionOptions, num_kp: int) -> torch.Tensor:
    """(K, 3) weights of the expression keypoints ``options.region`` drives. Absolute mode takes
    only the rows (and coordinates) that carry expression, not face shape, as LivePortrait."""
    mask = torch.zeros(num_kp, 3)
    features = get_region(options.region).features
    rows = range(num_kp) if features is None else {r for f in features for r in FEATURE_ROWS[f]}
    mask[list(rows)] = 1.0
    if not options.relative:
        absolute = torch.zeros(num_kp, 3)
        absolute[list(ABSOLUTE_ROWS)] = 1.0
        for row, cols in ABSOLUTE_PARTS:
            absolute[row, cols] = 1.0
        mask = mask * absolute
    return mask


def driven_expression(source: KeypointMotion, driving: KeypointMotion,
                      reference: KeypointMotion, options: MotionOptions) -> torch.Tensor:
    """(B, K, 3) expression deltas: ``source + strength * mask * (driver - baseline)``, the
    baseline being the reference (relative) or the source (absolute), as in every engine."""
    mask = expression_mask(options, source.exp.shape[1]).to(source.exp)
    baseline = reference.exp if options.relative else source.exp
    return source.exp + options.strength * mask * (driving.exp - baseline)


@dataclass(frozen=True)
class KeypointTarget:
    """The source's canonical keypoints placed with a target rotation (row-vector matrices,
    ``x @ R``), expression, scale and translation: what the warping network is driven to."""

    kp: torch.Tensor  # (1, K, 3) the source's canonical keypoints
    rotation: torch.Tensor  # (B, 3, 3)
    exp: torch.Tensor  # (B, K, 3)
    scale: torch.Tensor  # (B, 1)
    t: torch.Tensor  # (B, 3); z is ignored

    def keypoints(self) -> torch.Tensor:
        """(B, K, 3) driving keypoints."""
        b = self.exp.shape[0]
        return place(self.kp.expand(b, -1, -1), self.rotation, self.exp, self.scale, self.t)


def stitch(modules: StitchingRetargeting, x_s: torch.Tensor, x_d: torch.Tensor) -> torch.Tensor:
    """``x_d`` corrected so the driven face still lines up with the source crop's surroundings
    (what makes paste-back seamless)."""
    b, k = x_d.shape[:2]
    delta = modules.stitching(torch.cat([x_s.expand(b, -1, -1).reshape(b, -1),
                                         x_d.reshape(b, -1)], dim=1))
    out = x_d + delta[:, : 3 * k].view(b, k, 3)
    return torch.cat([out[..., :2] + delta[:, None, 3 * k: 3 * k + 2], out[..., 2:]], dim=-1)


def retarget(mlp: torch.nn.Module, x_s: torch.Tensor, ratios: torch.Tensor) -> torch.Tensor:
    """Keypoint deltas (B, K, 3) that bring the eyes (``ratios``: source left, source right,
    target) or the lips (source, target) to the target opening ratio."""
    b = ratios.shape[0]
    return mlp(torch.cat([x_s.expand(b, -1, -1).reshape(b, -1), ratios], dim=1)).view(b, -1, 3)
