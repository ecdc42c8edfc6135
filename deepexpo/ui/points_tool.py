"""The points tool: faces no detector finds (an animal, a cartoon, a statue) placed by hand,
next to a tab's source photo (or on its source video's first frame: :func:`video_points_tool`).
A guide says which point is next and shows where it goes; each click on the photo places it (a
dozen: the rest are estimated from them, drawn to be moved where they are off); a click near a
placed point picks it up and the next click moves it; the fitted mesh is drawn once the points
are complete. "Add a face" places another face (the list says which is being
placed), "Remove face" drops it. "Detect" starts from the detector's faces, "Save points"
writes the JSON (a list for several faces), an upload restores it. The tab's run takes the
points (:func:`~.handlers.source_points`) instead of detecting the faces, and drives each of
them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import gradio as gr

from .. import get_pipeline
from ..errors import InputError
from ..face.points import KEY_POINTS, POINT_NAMES, FacePoints, load_points, save_points
from ..io.images import read_image, write_image
from ..io.video import iter_frames, probe_video
from .config import APP_CONCURRENCY, APP_LIMITS
from .handlers import POINTS_TOOL, handler, source_points
from .points_draft import PointsDraft, PreviewPhoto
from .storage import AppStorage

#: What a face placed on a video's first frame does and does not follow (the README's Face
#: points says the same).
VIDEO_NOTE = ("\n\nIn a video, the face placed on its first frame is followed as it moves, "
              "turns in the picture and grows, but its own expression is not read: its mouth "
              "and eyes are taken as they are on the first frame in every frame, so what they "
              "do in the video stays in its pixels and the driver's or the edit's change is "
              "added to it. Best on a first frame at rest (mouth shut, eyes open).")
_EVENT = dict(concurrency_id="points", concurrency_limit=APP_CONCURRENCY.points, api_name=False,
              show_progress="hidden")


@lru_cache(maxsize=8)
def _photo(path: str) -> PreviewPhoto:
    """An uploaded photo as the tool shows it, decoded once while its points are placed
    (Gradio stores each upload under a content hash, so the path names it)."""
    return PreviewPhoto.of(read_image(path, APP_LIMITS))


class PointsTool:
    """The tool's handlers. Each takes the photo and the draft and returns what is shown:
    the draft, the preview, the guide, its diagram, the point chosen in the list and the face
    being placed (its list of the faces)."""

    def __init__(self, storage: AppStorage, upload: str = "a photo") -> None:
        self.storage = storage
        self.missing = f"Upload {upload} first."  # what the tool asks for before any

    def _shown(self, photo: str | None, draft: PointsDraft) -> tuple[Any, ...]:
        preview, problem = draft.preview(_photo(photo)) if photo else (None, None)
        guide = draft.guide() if photo else self.missing
        if problem:
            guide += f"\n\n⚠ {problem}"
        faces = gr.update(choices=[(f"Face {i + 1}", i) for i in range(len(draft.faces))],
                          value=draft.face)
        return draft, preview, guide, draft.diagram(), draft.target, faces

    @handler
    def start(self, photo: str | None) -> tuple[Any, ...]:
        """A new photo: no points yet."""
        return self._shown(photo, PointsDraft())

    @handler
    def click(self, photo: str | None, draft: PointsDraft,
              event: gr.SelectData) -> tuple[Any, ...]:
        """A click on the preview, at its pixel ``event.index``."""
        if not photo or not isinstance(event.index, (list, tuple)) or len(event.index) != 2:
            return self._shown(photo, draft)
        size = _photo(photo).size
        x, y = (float(v) / _photo(photo).scale for v in event.index)
        if not (0 <= x <= size[1] and 0 <= y <= size[0]):
            return self._shown(photo, draft)
        return self._shown(photo, draft.click((x, y), size))

    @handler
    def choose(self, photo: str | None, draft: PointsDraft, name: str | None) -> tuple[Any, ...]:
        return self._shown(photo, draft.choose(name))

    @handler
    def undo(self, photo: str | None, draft: PointsDraft) -> tuple[Any, ...]:
        return self._shown(photo, draft.undo())

    @handler
    def choose_face(self, photo: str | None, draft: PointsDraft,
                    face: int | None) -> tuple[Any, ...]:
        return self._shown(photo, draft.choose_face(face))

    @handler
    def add_face(self, photo: str | None, draft: PointsDraft) -> tuple[Any, ...]:
        return self._shown(photo, draft.add_face())

    @handler
    def remove_face(self, photo: str | None, draft: PointsDraft) -> tuple[Any, ...]:
        return self._shown(photo, draft.remove_face())

    @handler
    def detect(self, photo: str | None, draft: PointsDraft) -> tuple[Any, ...]:
        """The detector's faces as points, left to right, to correct by hand."""
        if not photo:
            raise gr.Error(self.missing, print_exception=False)
        faces = get_pipeline("warp", APP_LIMITS).find_faces(read_image(photo, APP_LIMITS))
        if not faces:
            raise gr.Error("No face found by the detector: place the points by hand, one click "
                           "each.", print_exception=False)
        return self._shown(photo, PointsDraft.of(*map(FacePoints.from_landmarks, faces)))

    @handler
    def placed_on(self, video: str | None, photo: str | None = None) -> str | None:
        """What a tab with a source video (and maybe a photo) places faces on: the video's
        first frame (the video, where there is one, is what the tab drives), else the photo."""
        if not video:
            return photo
        frames = iter_frames(probe_video(video, APP_LIMITS), APP_LIMITS)
        try:
            first = next(frames, None)
        finally:
            frames.close()
        if first is None:
            raise InputError("the source video has no frames")
        return str(write_image(self.storage.new_result(".png"), first))

    @handler
    def save(self, draft: PointsDraft) -> Any:
        """The points as a JSON file to download."""
        faces = source_points(draft)
        if not faces:
            raise gr.Error("No points to save: place them first.", print_exception=False)
        return gr.update(value=str(save_points(self.storage.new_result(".json"), faces)),
                         visible=True)

    @handler
    def restore(self, photo: str | None, draft: PointsDraft,
                file: str | None) -> tuple[Any, ...]:
        """Points from an uploaded JSON file (checked against the photo)."""
        if not file:
            return self._shown(photo, draft)
        faces = load_points(file)
        if photo:
            for i, face in enumerate(faces):
                face.check(_photo(photo).size,
                           f"points file, face {i + 1}" if len(faces) > 1 else "points file")
        return self._shown(photo, PointsDraft.of(*faces))


def points_tool(photo: gr.Image, storage: AppStorage, prefix: str, what: str = "photo",
                note: str = "", upload: str = "a photo") -> gr.State:
    """The tool for ``photo`` (``what`` the guide calls it; ``note``: more help below its
    own; ``upload``: what it asks for while there is none), in an accordion (ids
    ``{prefix}-points-...``); returns the state holding its points, an input for the tab's run
    (:func:`~.handlers.source_points`)."""
    tool = PointsTool(storage, upload)
    with gr.Accordion(f"{POINTS_TOOL}: place a face the detector misses (an animal, a cartoon, "
                      f"a statue)", open=False, elem_id=f"{prefix}-points"):
        gr.Markdown(f"Click each point on the {what} as the guide asks; click near a placed "
                    "point to pick it up, then click where it goes. Once the "
                    f"{len(KEY_POINTS)} points are placed, the eyes' bottoms and the brows are "
                    "estimated (yellow: move any that is off) and the fitted mesh shows; the run "
                    "uses them instead of the detector. "
                    "**Add a face** places another (each is driven). **Detect** starts from "
                    "the detector's faces, to correct them." + note)
        draft = gr.State(PointsDraft())
        with gr.Row():
            preview = gr.Image(type="numpy", format="jpeg", interactive=False, scale=3,
                               label="Click the points here", elem_id=f"{prefix}-points-preview")
            with gr.Column(scale=2):
                guide = gr.Markdown(elem_id=f"{prefix}-points-guide")
                diagram = gr.Image(type="numpy", interactive=False, label="Where it goes",
                                   height=280, elem_id=f"{prefix}-points-diagram")
                name = gr.Dropdown(list(POINT_NAMES), value=POINT_NAMES[0],
                                   label="Point the next click sets",
                                   elem_id=f"{prefix}-points-name")
                with gr.Row():
                    face = gr.Dropdown([("Face 1", 0)], value=0, label="Face being placed",
                                       elem_id=f"{prefix}-points-face", scale=2)
                    add = gr.Button("Add a face", size="sm", elem_id=f"{prefix}-points-add")
                    remove = gr.Button("Remove face", size="sm",
                                       elem_id=f"{prefix}-points-remove")
                with gr.Row():
                    undo = gr.Button("Undo", size="sm", elem_id=f"{prefix}-points-undo")
                    clear = gr.Button("Clear", size="sm", elem_id=f"{prefix}-points-clear")
                    detect = gr.Button("Detect", size="sm", elem_id=f"{prefix}-points-detect")
                with gr.Row():
                    save = gr.Button("Save points", size="sm", elem_id=f"{prefix}-points-save")
                    load = gr.UploadButton("Load points", file_types=[".json"], size="sm",
                                           elem_id=f"{prefix}-points-load")
                saved = gr.File(label="Points file (JSON)", interactive=False, visible=False,
                                elem_id=f"{prefix}-points-file")
    shown = [draft, preview, guide, diagram, name, face]
    photo.change(tool.start, photo, shown, **_EVENT)
    clear.click(tool.start, photo, shown, **_EVENT)
    preview.select(tool.click, [photo, draft], shown, **_EVENT)
    name.input(tool.choose, [photo, draft, name], shown, **_EVENT)
    undo.click(tool.undo, [photo, draft], shown, **_EVENT)
    face.input(tool.choose_face, [photo, draft, face], shown, **_EVENT)
    add.click(tool.add_face, [photo, draft], shown, **_EVENT)
    remove.click(tool.remove_face, [photo, draft], shown, **_EVENT)
    detect.click(tool.detect, [photo, draft], shown, **_EVENT)
    save.click(tool.save, draft, saved, **_EVENT)
    load.upload(tool.restore, [photo, draft, load], shown, **_EVENT)
    return draft


def video_points_tool(video: gr.Video, storage: AppStorage, prefix: str,
                      photo: gr.Image | None = None) -> gr.State:
    """The points tool of a tab that drives or edits a source video (or, where the tab has
    one, a ``photo`` instead): it places faces on the video's first frame where there is a
    video (followed from there by the run), else on the photo (:func:`points_tool`)."""
    placed_on = gr.Image(type="filepath", visible=False, elem_id=f"{prefix}-points-photo")
    uploads = [video] if photo is None else [video, photo]
    for upload in uploads:
        upload.change(PointsTool(storage).placed_on, uploads, placed_on, **_EVENT)
    if photo is None:
        return points_tool(placed_on, storage, prefix, "video's first frame", VIDEO_NOTE,
                           "a video")
    return points_tool(placed_on, storage, prefix, "photo (or the source video's first frame)",
                       VIDEO_NOTE, "a photo or a source video")
