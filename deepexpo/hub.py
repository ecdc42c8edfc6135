"""The one module that knows where a pretrained model's files are, and the only one that talks to
the Hugging Face Hub. It is generic: the components that need models (the neural engine,
generation) declare them as :class:`HubModel` and :func:`register` them; ``MODELS`` lists them.

A model's files are looked for, first to last, at ``DEEPEXPO_<NAME>_WEIGHTS`` (a folder, or for
the neural engine our single safetensors file), in the ``weights/`` folder, and in the Hugging
Face cache. Looking never touches the network. Downloads happen only in :func:`download` (the
``download`` command, the app's Download buttons) and in :func:`require` when downloading on
first use is allowed (:func:`auto_download_allowed`); one download per model runs at a time, and
a second caller waits for it instead of fetching the same files again.

The Hub settings (``HF_ENDPOINT``, ``HF_HOME``/``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``) are read
when used, not when ``huggingface_hub`` was imported, so a running app follows them.
Each model's repository and revision can be overridden with ``DEEPEXPO_<NAME>_REPO`` /
``DEEPEXPO_<NAME>_REVISION``.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import get_session, hf_hub_download, try_to_load_from_cache
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from .errors import CheckpointError, DeepExPoError, ModelNotAvailableError
from .io.integrity import file_problem

try:  # the HTTP client huggingface_hub 2 uses; 1.x used httpx
    from httpx2 import HTTPError as TransportError
except ImportError:  # pragma: no cover - depends on the installed huggingface_hub
    from httpx import HTTPError as TransportError  # type: ignore[assignment]  # 1.x: same role

logger = logging.getLogger(__name__)


class _RetriesAtDebug(logging.Filter):
    """``huggingface_hub`` warns at each of its retries (twice over: through its own handler
    and the root's), 22 lines before a failed download's one. They go to our log at DEBUG
    (the CLI's ``-v``); the failure itself is said once, in our words."""

    def filter(self, record: logging.LogRecord) -> bool:
        logger.debug("huggingface_hub: %s", record.getMessage())
        return False


logging.getLogger("huggingface_hub.utils._http").addFilter(_RetriesAtDebug())

AUTO_DOWNLOAD_ENV = "DEEPEXPO_AUTO_DOWNLOAD"


def weights_dir() -> Path:
    """Where local checkpoints live (``download --to``, ``train fusion``'s output), read when
    used: ``DEEPEXPO_WEIGHTS_DIR``; else, run from a checkout of the repository, its
    ``weights/``; else (an installed package) a folder in the user's cache."""
    if os.environ.get("DEEPEXPO_WEIGHTS_DIR"):
        return Path(os.environ["DEEPEXPO_WEIGHTS_DIR"]).expanduser()
    checkout = Path(__file__).resolve().parents[1] / "weights"
    if (checkout / "README.md").is_file():
        return checkout
    cache = Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser()
    return cache / "deepexpo" / "weights"


#: ``progress(fraction done, what is happening)`` while a model downloads.
DownloadProgress = Callable[[float, str], None]

#: How long the one request that checks the Hub can be reached may take.
REACH_TIMEOUT_S = 5.0

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class HubModel:
    """The files of one Hub repository that a feature needs."""

    name: str  # what the user types after ``download``
    description: str
    enables: str  # the feature that needs it, for the app's Models panel
    repo_id: str
    files: tuple[str, ...]  # exact paths in the repository: only these are fetched
    size_mb: int  # approximate download size
    revision: str | None = None
    #: A single file accepted in place of ``files`` (our own packed form), if any.
    packed: str | None = None

    @property
    def _env(self) -> str:
        return f"DEEPEXPO_{self.name.upper().replace('-', '_')}"

    @property
    def resolved_repo(self) -> str:
        return os.environ.get(f"{self._env}_REPO", self.repo_id)

    @property
    def resolved_revision(self) -> str | None:
        return os.environ.get(f"{self._env}_REVISION", self.revision)

    @property
    def size(self) -> str:
        return _size(self.size_mb)

    def locate(self) -> Path | None:
        """The first place that holds every file (or the packed file); ``None`` if none does.
        Looks on disk only."""
        override = os.environ.get(f"{self._env}_WEIGHTS")
        candidates: list[Path | None] = [Path(override)] if override else []
        local = weights_dir()
        candidates += [local / self.packed] if self.packed else []
        candidates += [local, self.cached_folder()]
        for path in candidates:
            if path is None:
                continue
            if self.packed and path.is_file() and path.name.endswith(Path(self.packed).suffix):
                return path
            if path.is_dir() and not self._missing(path):
                return path
        return None

    def cached_folder(self) -> Path | None:
        """The Hugging Face cache's snapshot folder of this model, or ``None``; never touches
        the network. (The marker, the last file fetched, says the download finished.)"""
        found = try_to_load_from_cache(self.resolved_repo, self.files[-1],
                                       cache_dir=hub_cache(), revision=self.resolved_revision)
        if not isinstance(found, str):
            return None
        return Path(found).parents[len(Path(self.files[-1]).parts) - 1]

    def paths(self, folder: Path) -> dict[str, Path]:
        """Each file under ``folder``, in the repository's layout or side by side; a one-line
        :class:`CheckpointError` names what is missing."""
        missing = self._missing(folder)
        if missing:
            raise CheckpointError(
                f"{self.description}: missing in '{folder}': {', '.join(missing)}; "
                f"{self.fetch_hint(force=True)}")
        return {file: _find(folder, file) for file in self.files}  # type: ignore[misc]

    def _missing(self, folder: Path) -> list[str]:
        return [Path(f).name for f in self.files if _find(folder, f) is None]

    def fetch_hint(self, force: bool = False) -> str:
        command = f"python -m deepexpo download {self.name}" + (" --force" if force else "")
        return f"get it with `{command}` or the app's Models panel"

    def missing_message(self) -> str:
        why = ("downloads are off (HF_HUB_OFFLINE is set)" if offline() else
               f"set {AUTO_DOWNLOAD_ENV}=1 to fetch it on first use")
        return (f"{self.enables} needs {self.description} ('{self.resolved_repo}', {self.size}), "
                f"which is not downloaded: {self.fetch_hint()}; {why}")


def _size(mb: int) -> str:
    return f"~{mb / 1000:.1f} GB" if mb >= 1000 else f"~{mb} MB"


def missing_models_message(names: list[str]) -> str:
    """What the models ``names`` (none on disk) are, all at once with their total size, and
    how to get them: a user learns of every download before starting the first."""
    models = [get_model(name) for name in names]
    if len(models) == 1:
        return models[0].missing_message()
    why = ("downloads are off (HF_HUB_OFFLINE is set)" if offline() else
           f"set {AUTO_DOWNLOAD_ENV}=1 to fetch them on first use")
    listed = ", ".join(f"{m.description} ('{m.resolved_repo}', {m.size})" for m in models)
    commands = ", ".join(f"`python -m deepexpo download {m.name}`" for m in models)
    return (f"{models[0].enables} needs {len(models)} models that are not downloaded, "
            f"{_size(sum(m.size_mb for m in models))} in all: {listed}; get them with "
            f"{commands} or the app's Models panel; {why}")


def _find(folder: Path, file: str) -> Path | None:
    for candidate in (folder / file, folder / Path(file).name):
        if candidate.is_file():
            return candidate
    return None


class _Models(Mapping[str, HubModel]):
    """Every registered model by name, in registration order. The components that own models
    (:data:`COMPONENTS`) register them with :func:`register` when first looked up, so that this
    module knows no model, and a component's is known without importing its networks."""

    def __init__(self) -> None:
        self._models: dict[str, HubModel] = {}
        self._loaded = False
        self._loading = threading.RLock()  # two requests' first look-ups: one loads, one waits

    def _all(self) -> dict[str, HubModel]:
        if not self._loaded:
            with self._loading:
                if not self._loaded:
                    for module in COMPONENTS:
                        importlib.import_module(module)
                    self._loaded = True
        return self._models

    def __getitem__(self, name: str) -> HubModel:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


#: The modules that declare the Hub models of the neural engine and of generation (light:
#: no torch), in the order the Models panel lists them.
COMPONENTS = ("deepexpo.neural.hub_models", "deepexpo.fusion.hub_models")
MODELS = _Models()
_locks: dict[str, threading.Lock] = {}


def register(model: HubModel) -> HubModel:
    """Make ``model`` known: to ``download``, the Models panel, :func:`require`."""
    if model.name in MODELS._models:
        raise ValueError(f"model '{model.name}' is already registered")
    MODELS._models[model.name] = model
    _locks[model.name] = threading.Lock()
    return model


def get_model(name: str) -> HubModel:
    if name not in MODELS:
        raise DeepExPoError(f"unknown model '{name}' (choose from: {', '.join(MODELS)})")
    return MODELS[name]


# --- settings, read when used ---------------------------------------------------------------

def _flag(name: str) -> bool | None:
    value = os.environ.get(name, "").strip().lower()
    return True if value in _TRUE else False if value in _FALSE else None


def offline() -> bool:
    """``HF_HUB_OFFLINE=1``: no request at all."""
    return bool(_flag("HF_HUB_OFFLINE") or _flag("TRANSFORMERS_OFFLINE"))


def on_space() -> bool:
    return bool(os.environ.get("SPACE_ID"))


def auto_download_allowed() -> bool:
    """Whether a model that is not on disk is fetched when first needed: on by default on a
    Hugging Face Space, elsewhere with ``DEEPEXPO_AUTO_DOWNLOAD=1``; never offline."""
    if offline():
        return False
    flag = _flag(AUTO_DOWNLOAD_ENV)
    return on_space() if flag is None else flag


def hub_cache() -> Path:
    """The Hugging Face cache folder, as ``huggingface_hub`` would pick it."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


# --- state and downloads ----------------------------------------------------------------------

@dataclass(frozen=True)
class ModelStatus:
    state: str  # "on disk", "not downloaded", "downloading" or "failed"
    detail: str = ""  # where it is, or why it failed


_downloading: set[str] = set()
_failures: dict[str, str] = {}


def status(name: str) -> ModelStatus:
    """What the app's Models panel shows; reads the disk only."""
    model = get_model(name)
    if name in _downloading:
        return ModelStatus("downloading")
    found = model.locate()
    if found is not None:
        return ModelStatus("on disk", str(found))
    if name in _failures:
        return ModelStatus("failed", _failures[name])
    return ModelStatus("not downloaded")


def require(name: str, progress: DownloadProgress | None = None,
            allow_download: bool | None = None) -> Path:
    """Where the model's files are, fetched first if they are not on disk and downloads are
    allowed (default: :func:`auto_download_allowed`); else a one-line
    :class:`ModelNotAvailableError` that says what is missing and how to get it. The files are
    checked for damage (:func:`check_files`)."""
    model = get_model(name)
    found = model.locate()
    if found is None:
        allowed = auto_download_allowed() if allow_download is None else allow_download
        if not allowed:
            raise ModelNotAvailableError(model.missing_message())
        found = download(name, progress=progress)
    check_files(model, found)
    return found


def require_all(names: list[str], progress: DownloadProgress | None = None,
                allow_download: bool | None = None) -> list[Path]:
    """:func:`require` for each of ``names``; when some are missing and may not be fetched,
    one error names every one of them (:func:`missing_models_message`)."""
    missing = [name for name in names if get_model(name).locate() is None]
    allowed = auto_download_allowed() if allow_download is None else allow_download
    if missing and not allowed:
        raise ModelNotAvailableError(missing_models_message(missing))
    return [require(name, progress, allow_download) for name in names]


def download(name: str, local_dir: str | os.PathLike | None = None, force: bool = False,
             progress: DownloadProgress | None = None) -> Path:
    """Fetch the model's files into the Hugging Face cache, or into ``local_dir``, and return
    the folder. Files already there are not fetched again (``force``: they are). A failed
    transfer leaves only Hugging Face's ``.incomplete`` files, which are never used as the
    model; the next try resumes them."""
    model = get_model(name)
    if offline():
        _failures[name] = "downloads are off (HF_HUB_OFFLINE is set)"
        raise ModelNotAvailableError(
            f"cannot download {model.description}: HF_HUB_OFFLINE is set; unset it, or copy "
            f"the files into '{weights_dir()}'")
    with _locks[name]:
        if local_dir is None and not force:
            cached = model.cached_folder()
            if cached is not None:  # fetched by another request while this one waited
                return cached
        _downloading.add(name)
        _failures.pop(name, None)
        try:
            _check_reachable()
            folder = _fetch(model, local_dir, force, progress)
        except (HfHubHTTPError, LocalEntryNotFoundError, TransportError, OSError) as exc:
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            _failures[name] = reason
            raise ModelNotAvailableError(
                f"could not download {model.description} from '{model.resolved_repo}': "
                f"{reason}") from exc
        finally:
            _downloading.discard(name)
    logger.info("downloaded %s into %s", model.description, folder)
    return folder


def endpoint() -> str:
    """The Hub's address: ``HF_ENDPOINT`` (a mirror, the tests' loopback Hub), else the Hub."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def _check_reachable() -> None:
    """One quick request before a download, so an unreachable Hub (no network, a wrong
    ``HF_ENDPOINT``) fails at once rather than after ``huggingface_hub``'s retries (about
    25 s); any answer at all will do."""
    url = endpoint()
    try:
        get_session().head(url, timeout=REACH_TIMEOUT_S, follow_redirects=False)
    except TransportError as exc:
        raise OSError(f"cannot reach {url} ({' '.join(str(exc).split()) or type(exc).__name__})"
                      ) from exc


def _fetch(model: HubModel, local_dir: str | os.PathLike | None, force: bool,
           progress: DownloadProgress | None) -> Path:
    what = f"downloading {model.description} ({model.size})"
    logger.info("%s from %s", what, model.resolved_repo)
    count = len(model.files)
    path = ""
    for index, file in enumerate(model.files):
        def report(done: int, total: int, index: int = index, file: str = file) -> None:
            if progress is not None:
                share = done / total if total else 0.0
                progress((index + share) / count,
                         f"{what}: file {index + 1} of {count}, {Path(file).name} "
                         f"{done / 2**20:.0f}/{total / 2**20:.0f} MB")

        path = hf_hub_download(
            model.resolved_repo, file, revision=model.resolved_revision,
            cache_dir=None if local_dir is not None else hub_cache(),
            local_dir=None if local_dir is None else Path(local_dir),
            endpoint=endpoint(), force_download=force,
            tqdm_class=_progress_class(report))
    if progress is not None:
        progress(1.0, f"{what}: done")
    return Path(path).parents[len(Path(model.files[-1]).parts) - 1]


def _progress_class(report: Callable[[int, int], None]) -> type:
    """A stand-in for the tqdm bar ``huggingface_hub`` opens per file: it reports bytes."""

    class Progress:
        def __init__(self, *args: Any, total: int | None = None, initial: int = 0,
                     **kwargs: Any) -> None:
            self.total, self.n = total or 0, initial
            report(self.n, self.total)

        def update(self, n: int | float | None = 1) -> None:
            self.n += int(n or 0)
            report(self.n, self.total)

        def __enter__(self) -> Progress:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def __getattr__(self, name: str) -> Callable[..., None]:
            return lambda *args, **kwargs: None  # refresh, close, set_postfix_str, ...

    return Progress


# --- integrity --------------------------------------------------------------------------------

def check_files(model: HubModel, found: Path) -> None:
    """A cheap check that every file is whole (safetensors headers against file sizes, zip
    directories of ``.pth`` files, JSON parses), so a truncated or corrupt checkpoint is a
    one-line :class:`CheckpointError` naming the file and how to fetch it again."""
    paths = [found] if found.is_file() else list(model.paths(found).values())
    for path in paths:
        problem = file_problem(path)
        if problem:
            raise CheckpointError(f"'{path}' of {model.description} is damaged ({problem}); "
                                  f"{model.fetch_hint(force=True)}")
