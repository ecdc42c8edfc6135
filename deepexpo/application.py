"""The application layer: what a user asks for (a transfer, an expression edit, a video, a
generation), built from the settings every front end gives (the CLI's flags, the app's
controls, Python arguments) in one place, with the Hub models each needs and what it costs on a
GPU. The numbers themselves are checked by the request objects as they are made
(:mod:`deepexpo.checks`); the CLI, the app's handlers and the Python API only adapt their
inputs to these and their outputs to their users."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .config import GPU_BUDGET
from .engines import registry as engine_registry
from .errors import InputError
from .face.points import FacePoints
from .face.selection import FaceChoice
from .motion.compose import MotionOptions
from .motion.controls import ExpressionControls, ExpressionEdit


def motion_options(region: str, absolute: bool, strength: float,
                   adapt_scale: bool = False) -> MotionOptions:
    """How the driver's motion applies, from the settings as users give them ("absolute" rather
    than ``relative``); :class:`MotionOptions` checks them."""
    return MotionOptions(region=region, relative=not absolute, strength=float(strength),
                         adapt_scale=bool(adapt_scale))


def expression_controls(values: Mapping[str, float]) -> ExpressionControls:
    """The controls by name (those not given stay 0); an unknown name is an input error, so a
    control can never be driven by another's value."""
    unknown = set(values) - set(ExpressionControls.names())
    if unknown:
        raise InputError(f"unknown expression controls: {', '.join(sorted(unknown))}")
    return ExpressionControls(**{name: float(value) for name, value in values.items()})


def expression_edit(values: Mapping[str, float], emotion: str | None = None,
                    intensity: float = 1.0, keep_source: float | None = None) -> ExpressionEdit:
    """The edit a user's settings ask for: named controls, an emotion preset (or None) at
    ``intensity``, and how much of the source's own expression stays (see
    :meth:`ExpressionEdit.from_settings` for its default)."""
    return ExpressionEdit.from_settings(
        expression_controls(values), emotion, float(intensity),
        None if keep_source is None else float(keep_source))


@dataclass(frozen=True)
class Request:
    """What every request on a face says: the engine (as asked for: ``auto`` included),
    whether the output shows its inputs beside the result, and which of the source's faces;
    ``source_points``: the source's faces placed by hand, for a face no detector finds (an
    animal, a cartoon: :mod:`deepexpo.face.points`; :func:`~deepexpo.face.points.as_face_points`
    makes them from a file, JSON text or mappings), each driven unless ``face`` names one."""

    engine: str = "auto"
    show_inputs: bool = False
    face: FaceChoice = field(default_factory=FaceChoice)
    source_points: tuple[FacePoints, ...] = ()


@dataclass(frozen=True)
class TransferRequest(Request):
    """A face driven by a driver (photo, video, or a source video frame by frame)."""

    options: MotionOptions = field(default_factory=MotionOptions)
    driving_face: FaceChoice = field(default_factory=FaceChoice)


@dataclass(frozen=True)
class EditRequest(Request):
    """A photo's or video's expression edited."""

    edit: ExpressionEdit = field(default_factory=ExpressionEdit)


#: Neural passes per output frame, by kind of work: a transfer drives one source, a source
#: video's reenactment and a video's edit also take each frame's source features.
PASSES_PER_FRAME = {"image": 2, "video": 1, "reenact": 2, "edit": 2, "edit_video": 2}


def work_gpu_seconds(kind: str, engine: str, frames: int = 1) -> float:
    """The GPU seconds one piece of work costs once loaded: ``frames`` output frames (1 for
    a photo) of ``kind`` (:data:`PASSES_PER_FRAME`) on the resolved ``engine``."""
    passes = PASSES_PER_FRAME[kind] * (frames if kind in ("video", "reenact", "edit_video") else 1)
    return passes * engine_registry.spec(engine).gpu_seconds_per_frame


def generation_gpu_seconds(steps: int) -> float:
    """The GPU seconds ``steps`` denoising steps cost once loaded."""
    return steps * GPU_BUDGET.generation_step_s


@dataclass(frozen=True)
class GenerateRequest:
    """Text-prompted generation's model choices as the CLI gives them: a local base folder (or
    the downloaded sd15), the identity branch, the face ControlNet."""

    base: str | None = None
    identity: bool = True
    controlnet: bool = False

    def models(self) -> list[str]:
        """The Hub models these choices load (the speed mode's parts come on top)."""
        return (["sd15"] * (self.base is None) + ["ip-adapter"] * self.identity
                + ["controlnet-face"] * self.controlnet)
