"""The one module that talks to the Hugging Face Hub.

Nothing here touches the network at import. Models are fetched only by :func:`download`, which
the ``python -m deepexpo download NAME`` command and a user's explicit request call; everything
else asks :meth:`HubModel.is_cached`, which reads the local cache only. Each model's repository
and revision can be overridden with ``DEEPEXPO_<NAME>_REPO`` / ``DEEPEXPO_<NAME>_REVISION``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import snapshot_download, try_to_load_from_cache
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from .errors import DeepExPoError

logger = logging.getLogger(__name__)


class ModelNotAvailableError(DeepExPoError):
    """A model is neither cached nor downloadable now."""


@dataclass(frozen=True)
class HubModel:
    """A set of files from one Hub repository that a feature needs."""

    name: str  # what the user types after ``download``
    description: str
    repo_id: str
    files: tuple[str, ...]  # glob patterns: only these are fetched
    marker: str  # a small file whose presence in the cache says the model was downloaded
    revision: str | None = None

    @property
    def _env(self) -> str:
        return f"DEEPEXPO_{self.name.upper().replace('-', '_')}"

    @property
    def resolved_repo(self) -> str:
        return os.environ.get(f"{self._env}_REPO", self.repo_id)

    @property
    def resolved_revision(self) -> str | None:
        return os.environ.get(f"{self._env}_REVISION", self.revision)

    def is_cached(self) -> bool:
        """Whether the model is in the local Hugging Face cache; never touches the network."""
        return self.cached_folder() is not None

    def cached_folder(self) -> Path | None:
        """The cached snapshot holding the model's files, or ``None``; never touches the
        network."""
        found = try_to_load_from_cache(self.resolved_repo, self.marker,
                                       revision=self.resolved_revision)
        if not isinstance(found, str):
            return None
        return Path(found).parents[len(Path(self.marker).parts) - 1]

    def missing_message(self) -> str:
        return (f"{self.description} ('{self.resolved_repo}'), not downloaded here: get it with "
                f"`python -m deepexpo download {self.name}` on a machine with internet access")


#: The neural engine's five published files (``KwaiVGI/LivePortrait``, MIT), by network. Not the
#: face detector or landmark models: the engine crops with our own landmarks.
LIVEPORTRAIT_FILES = {
    "appearance_feature_extractor": "liveportrait/base_models/appearance_feature_extractor.pth",
    "motion_extractor": "liveportrait/base_models/motion_extractor.pth",
    "warping_module": "liveportrait/base_models/warping_module.pth",
    "spade_generator": "liveportrait/base_models/spade_generator.pth",
    "stitching_retargeting_module": "liveportrait/retargeting_models/stitching_retargeting_module.pth",
}

MODELS: dict[str, HubModel] = {
    model.name: model
    for model in (
        HubModel(
            name="neural",
            description="the LivePortrait networks",
            repo_id="KwaiVGI/LivePortrait",
            files=tuple(LIVEPORTRAIT_FILES.values()),
            marker=LIVEPORTRAIT_FILES["stitching_retargeting_module"],
        ),
        HubModel(
            name="ip-adapter",
            description="the IP-Adapter plus-face identity weights and their CLIP image encoder",
            repo_id="h94/IP-Adapter",
            files=("models/ip-adapter-plus-face_sd15.safetensors", "models/image_encoder/*"),
            marker="models/ip-adapter-plus-face_sd15.safetensors",
        ),
        HubModel(
            name="controlnet-face",
            description="the MediaPipe-face ControlNet for SD 1.5",
            repo_id="CrucibleAI/ControlNetMediaPipeFace",
            files=("diffusion_sd15/config.json",
                   "diffusion_sd15/diffusion_pytorch_model.fp16.safetensors"),
            marker="diffusion_sd15/config.json",
        ),
        HubModel(
            name="sd15",
            description="the Stable Diffusion 1.5 base model",
            repo_id="stable-diffusion-v1-5/stable-diffusion-v1-5",
            files=("model_index.json", "scheduler/*", "tokenizer/*", "feature_extractor/*",
                   "*/config.json", "unet/diffusion_pytorch_model.safetensors",
                   "vae/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors"),
            marker="model_index.json",
        ),
    )
}


def download(name: str, local_dir: str | os.PathLike | None = None) -> Path:
    """Fetch a model's files into the Hugging Face cache, or into ``local_dir`` (``weights/``,
    say), or find them there, and return the folder. Offline, a one-line
    :class:`ModelNotAvailableError`."""
    if name not in MODELS:
        raise DeepExPoError(f"unknown model '{name}' (choose from: {', '.join(MODELS)})")
    model = MODELS[name]
    logger.info("downloading %s from %s", model.description, model.resolved_repo)
    try:
        path = snapshot_download(model.resolved_repo, revision=model.resolved_revision,
                                 allow_patterns=list(model.files), local_dir=local_dir)
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise ModelNotAvailableError(
            f"could not download {model.description} from '{model.resolved_repo}' "
            f"and it is not in the local cache: {reason}"
        ) from exc
    return Path(path)
