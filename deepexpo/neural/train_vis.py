"""The reconstruction grid written while training (as FOMM's train-vis): one row per pair,
source with its keypoints, driving frame with the keypoints that drive the source, the
prediction, and the occlusion map."""

from __future__ import annotations

import cv2
import numpy as np
import torch

GRID_ROWS = 4
_KP_COLOUR = (255, 64, 64)


def _image(tensor: torch.Tensor, side: int) -> np.ndarray:
    """(C, H, W) in [0, 1] -> (side, side, 3) uint8 (a one-channel map is shown in grey)."""
    array = (tensor.detach().float().clamp(0, 1) * 255).round().byte().cpu().numpy()
    array = np.repeat(array, 3, axis=0) if array.shape[0] == 1 else array
    return cv2.resize(np.ascontiguousarray(array.transpose(1, 2, 0)), (side, side),
                      interpolation=cv2.INTER_NEAREST)


def _with_keypoints(image: np.ndarray, keypoints: torch.Tensor) -> np.ndarray:
    """Image-plane (x, y) of keypoints in grid units (``align_corners=False``) as dots."""
    side = image.shape[0]
    out = image.copy()
    for x, y in keypoints[:, :2].detach().float().cpu().numpy():
        centre = (int(round(((x + 1) * side - 1) / 2)), int(round(((y + 1) * side - 1) / 2)))
        cv2.circle(out, centre, max(1, side // 64), _KP_COLOUR, -1)
    return out


def reconstruction_grid(source: torch.Tensor, driving: torch.Tensor, prediction: torch.Tensor,
                        occlusion: torch.Tensor | None, kp_source: torch.Tensor,
                        kp_driving: torch.Tensor) -> np.ndarray:
    """RGB uint8 grid of the first :data:`GRID_ROWS` pairs of a batch, at the prediction's
    size."""
    side = prediction.shape[-1]
    rows = []
    for i in range(min(GRID_ROWS, source.shape[0])):
        cells = [_with_keypoints(_image(source[i], side), kp_source[i]),
                 _with_keypoints(_image(driving[i], side), kp_driving[i]),
                 _image(prediction[i], side)]
        if occlusion is not None:
            cells.append(_image(occlusion[i], side))
        rows.append(np.concatenate(cells, axis=1))
    return np.concatenate(rows, axis=0)
