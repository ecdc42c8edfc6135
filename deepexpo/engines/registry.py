"""Every transfer engine, declared once: what the engine list, ``auto``, GPU routing, the app's
Models panel and the ZeroGPU budget read about it.

Adding an engine is its module plus one :func:`register` call (in :mod:`deepexpo.engines`).
Front ends ask here instead of naming engines: ``registry.spec(name).wants_gpu`` routes work to
the GPU, ``registry.spec(name).gpu_seconds_per_frame`` sizes a ZeroGPU task
(:func:`deepexpo.application.work_gpu_seconds`),
``registry.spec(name).models`` lists the Hub models to fetch before the engine is built,
``registry.spec(name).suits(job, cuda)`` says whether ``auto`` may take it for a :class:`Job`.
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from ..hub import DownloadProgress
    from .base import TransferEngine


#: The longest a single photo may take on a CPU for ``auto`` to choose an engine that wants a GPU
#: (a visitor waits that long for a better result; a video or a slider would wait per frame).
CPU_PHOTO_LIMIT_S = 15.0


@dataclass(frozen=True)
class Job:
    """What a request asks of an engine, as ``auto`` weighs it: ``frames`` (``None``: a video,
    however long), whether someone waits on each one (Live, the editor's sliders), and whether
    the faces are placed by hand (face points: an animal, a cartoon)."""

    frames: int | None = None
    interactive: bool = False
    placed_faces: bool = False

    def placing(self, points: Sized) -> Job:
        """This job on the faces ``points`` place (none: detected faces)."""
        return replace(self, placed_faces=len(points) > 0)


PHOTO = Job(frames=1)  # a photo transfer or edit
VIDEO = Job()  # the default: what ``auto`` always did (the GPU-wanting engines need a GPU)
INTERACTIVE = Job(frames=1, interactive=True)


@dataclass(frozen=True)
class EngineSpec:
    """One engine as the rest of the program sees it."""

    name: str
    summary: str  # one line for the Models panel
    #: Builds the engine (its Hub models fetched first when allowed, with ``progress``).
    create: Callable[[DownloadProgress | None], TransferEngine]
    models: tuple[str, ...] = ()  # the Hub models it needs (:mod:`deepexpo.hub` names)
    wants_gpu: bool = False  # its work goes through the app's GPU task (ZeroGPU)
    gpu_seconds_per_frame: float = 0.0  # one rendered frame on a GPU
    cpu_seconds_per_frame: float = 0.0  # and on a 2-core CPU
    #: Seconds a frame on this CPU as installed, where that varies (the neural engine's CPU
    #: runtime); ``cpu_seconds_per_frame`` otherwise.
    cpu_estimate: Callable[[], float] | None = None
    #: ``auto`` takes the highest-ranked engine whose models are on disk and that
    #: :meth:`suits` the job.
    auto_rank: int = 0
    #: Whether it drives a face placed by hand (a mesh fitted to a few points, on an animal or
    #: a cartoon); one that reads the face itself from the pixels (a network trained on people)
    #: does not.
    drives_placed_faces: bool = True

    def seconds_per_frame(self, cuda: bool) -> float:
        if cuda:
            return self.gpu_seconds_per_frame
        return self.cpu_estimate() if self.cpu_estimate else self.cpu_seconds_per_frame

    def suits(self, job: Job, cuda: bool) -> bool:
        """Whether it runs ``job`` well here: never on faces placed by hand unless it
        :attr:`drives_placed_faces`; else always on a GPU or if it does not want one; on a
        CPU, a photo nobody waits on frame by frame, estimated under :data:`CPU_PHOTO_LIMIT_S`."""
        if job.placed_faces and not self.drives_placed_faces:
            return False
        if cuda or not self.wants_gpu:
            return True
        return (job.frames is not None and not job.interactive
                and job.frames * self.seconds_per_frame(cuda=False) <= CPU_PHOTO_LIMIT_S)


_SPECS: dict[str, EngineSpec] = {}


def register(spec: EngineSpec) -> EngineSpec:
    if spec.name in _SPECS or spec.name == "auto":
        raise ValueError(f"engine '{spec.name}' is already registered")
    _SPECS[spec.name] = spec
    return spec


def names() -> tuple[str, ...]:
    """The registered engines, in registration order (``auto`` is not one)."""
    return tuple(_SPECS)


def spec(name: str) -> EngineSpec:
    """The engine called ``name``; a one-line :class:`InputError` for any other name."""
    if name not in _SPECS:
        raise InputError(f"unknown engine '{name}' (choose from: {', '.join(('auto', *_SPECS))})")
    return _SPECS[name]


def check_placed_faces(name: str) -> None:
    """A one-line :class:`InputError` unless the engine ``name`` drives faces placed by hand."""
    if not spec(name).drives_placed_faces:
        drivers = [s.name for s in _SPECS.values() if s.drives_placed_faces]
        raise InputError(f"the {name} engine reads faces from the pixels and cannot drive a face "
                         f"placed by points (an animal, a cartoon): use the "
                         f"{' or '.join(drivers)} engine (or auto, which chooses it)")


def by_auto_rank() -> list[EngineSpec]:
    return sorted(_SPECS.values(), key=lambda s: -s.auto_rank)
