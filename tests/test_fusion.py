"""Text-prompted generation with parallel identity/semantic branches, on tiny random models built
in memory (U-Net, VAE, CLIP text and vision models, tokenizer): the real code paths, offline."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from diffusers import AutoencoderTiny, ControlNetModel, LCMScheduler
from diffusers.models.attention_processor import IPAdapterAttnProcessor2_0
from safetensors.torch import load_file

from deepexpo import hub
from deepexpo.cli import main
from deepexpo.errors import DeepExPoError, InputError
from deepexpo.fusion import threads
from deepexpo.fusion.conditioning import FaceConditioner
from deepexpo.fusion.face_condition import draw_face_condition
from deepexpo.fusion.few_step import SpeedSwitch
from deepexpo.fusion.hub_models import FAST_LORA_WEIGHTS
from deepexpo.fusion.loading import split_adapter_state
from deepexpo.fusion.pipeline import FusionPipeline, GenerationCancelled
from deepexpo.fusion.speed import FAST_MODELS
from deepexpo.fusion.training import SemanticBranchTrainer, TrainingConfig, load_examples
from deepexpo.io.images import read_image, write_image
from deepexpo.testing.tiny_diffusion import (
    published_lcm_lora_state,
    tiny_autoencoder,
    tiny_identity,
    tiny_pipeline,
    tiny_semantic,
)

from .conftest import pose_face


def _generate(fusion: FusionPipeline, **kwargs) -> np.ndarray:
    defaults = {"prompt": "a portrait photo", "steps": 2, "guidance": 6.0, "seed": 0}
    return fusion(**{**defaults, **kwargs})


@pytest.fixture(scope="module")
def plain_output() -> np.ndarray:
    return _generate(FusionPipeline(tiny_pipeline()))


@pytest.fixture(scope="module")
def fused() -> FusionPipeline:
    pipe = tiny_pipeline()
    return FusionPipeline.assemble(pipe, tiny_identity(pipe.unet), tiny_semantic(pipe.unet))


@pytest.fixture(scope="module")
def smiling(hopper, landmarker) -> np.ndarray:
    return pose_face(hopper, landmarker, smile=1.0, aaa=0.6)


def test_branches_load_from_the_published_layout(fused):
    assert fused.branches == ("identity", "semantic")
    processors = [p for p in fused.pipe.unet.attn_processors.values()
                  if isinstance(p, IPAdapterAttnProcessor2_0)]
    assert processors and all(len(p.to_k_ip) == 2 for p in processors)
    assert type(fused.pipe.unet.encoder_hid_proj.image_projection_layers[0]).__name__ == \
        "IPAdapterPlusImageProjection"


def test_zero_strengths_reproduce_plain_text_to_image(fused, plain_output, astronaut, hopper):
    out = _generate(fused, identity_image=astronaut, reference_image=hopper,
                    identity_strength=0.0, semantic_strength=0.0)
    assert np.array_equal(out, plain_output)


def test_each_strength_changes_the_output(fused, plain_output, astronaut, hopper):
    identity = _generate(fused, identity_image=astronaut, identity_strength=1.0, semantic_strength=0.0)
    semantic = _generate(fused, reference_image=hopper, identity_strength=0.0, semantic_strength=1.0)
    assert not np.array_equal(identity, plain_output)
    assert not np.array_equal(semantic, plain_output)


def test_different_reference_expressions_give_different_outputs(fused, hopper, smiling):
    calm = _generate(fused, reference_image=hopper, semantic_strength=1.0)
    smile = _generate(fused, reference_image=smiling, semantic_strength=1.0)
    assert np.abs(calm.astype(int) - smile.astype(int)).max() > 0


def test_unloading_restores_the_plain_pipeline(plain_output):
    pipe = tiny_pipeline()
    fusion = FusionPipeline.assemble(pipe, None, tiny_semantic(pipe.unet))
    fusion.unload()
    assert np.array_equal(_generate(fusion), plain_output)


def test_controlnet_route_runs_with_the_landmark_drawing(hopper, landmarker):
    pipe = tiny_pipeline()
    controlnet = ControlNetModel.from_unet(pipe.unet, conditioning_embedding_out_channels=(16, 32))
    for name, param in controlnet.named_parameters():  # its zero convolutions, trained
        if "controlnet_" in name or "conv_out" in name:
            torch.nn.init.normal_(param, std=0.2)
    fusion = FusionPipeline.assemble(pipe, None, None, controlnet)
    size = 192  # the face must be 64 px or more to be drawn, as in the model's training data
    drawing = fusion.conditioner.control_image(hopper, size)
    assert drawing.shape == (size, size, 3) and drawing.any()
    with_face = _generate(fusion, reference_image=hopper, semantic_strength=1.0, size=size)
    without = _generate(fusion, reference_image=hopper, semantic_strength=0.0, size=size)
    assert with_face.shape == (size, size, 3) and not np.array_equal(with_face, without)


def test_face_condition_colours(hopper, landmarker):
    xy = landmarker.detect(hopper).xy
    drawing = draw_face_condition(hopper.shape[:2], [xy])
    colours = {tuple(c) for c in drawing.reshape(-1, 3)[drawing.reshape(-1, 3).any(axis=1)]}
    assert {(10, 200, 10), (10, 180, 10), (10, 200, 180), (180, 200, 10)} <= colours
    x, y = np.round(xy[468]).astype(int)
    assert tuple(drawing[y, x]) == (250, 200, 10)  # the right pupil
    assert not draw_face_condition(hopper.shape[:2], [xy * 0.05]).any()  # too small a face


@pytest.fixture(scope="module")
def face_folder(tmp_path_factory, hopper, astronaut, landmarker):
    """Two people, two frames each, one caption."""
    root = tmp_path_factory.mktemp("faces")
    for person, image in (("hopper", hopper), ("astronaut", astronaut)):
        (root / person).mkdir()
        write_image(root / person / "calm.png", image)
        write_image(root / person / "smile.png", pose_face(image, landmarker, smile=1.0, aaa=0.5))
    (root / "hopper" / "smile.txt").write_text("a smiling woman in uniform")
    return root


def test_training_reduces_the_loss_and_saves_loadable_weights(face_folder, tmp_path, hopper):
    examples = load_examples(face_folder, 32)
    assert len(examples) == 4 and {e.person for e in examples} == {"hopper", "astronaut"}
    assert any(e.caption == "a smiling woman in uniform" for e in examples)
    pipe = tiny_pipeline()
    fusion = FusionPipeline.assemble(pipe, tiny_identity(pipe.unet))
    trainer = SemanticBranchTrainer(fusion, TrainingConfig(steps=30, learning_rate=1e-2, batch_size=4))
    assert trainer.fusion.branches == ("identity", "semantic")
    before = trainer.evaluate(examples)
    trainer.train(examples)
    assert trainer.evaluate(examples) < before
    path = tmp_path / "semantic.safetensors"
    trainer.save(path)
    state = split_adapter_state(load_file(str(path)))
    reloaded_pipe = tiny_pipeline()
    reloaded = FusionPipeline.assemble(reloaded_pipe, None, state)
    trained = trainer.fusion.pipe.unet.encoder_hid_proj.image_projection_layers[trainer.index]
    loaded = reloaded.pipe.unet.encoder_hid_proj.image_projection_layers[0]
    for (k, a), (_, b) in zip(trained.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert _generate(reloaded, reference_image=hopper).shape == (32, 32, 3)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("tiny-sd")
    tiny_pipeline().save_pretrained(folder)
    return str(folder)


def test_cli_trains_then_generates_with_tiny_models(tiny_base, face_folder, tmp_path, hopper):
    weights = tmp_path / "semantic.safetensors"
    assert main(["train", "fusion", "--data", str(face_folder), "--base", tiny_base,
                 "--no-identity", "--steps", "3", "--resolution", "32", "--output",
                 str(weights)]) == 0
    assert weights.is_file()
    write_image(tmp_path / "reference.png", hopper)
    out = tmp_path / "out.png"
    assert main(["generate", "--prompt", "a portrait", "--reference", str(tmp_path / "reference.png"),
                 "--output", str(out), "--base", tiny_base, "--no-identity", "--semantic-weights",
                 str(weights), "--steps", "2", "--size", "32"]) == 0
    assert read_image(out).shape == (32, 32, 3)


def test_generate_without_the_base_model_names_it(tmp_path, monkeypatch):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-m", "deepexpo", "generate", "--prompt", "a portrait",
                           "--output", str(tmp_path / "o.png")], capture_output=True, text=True,
                          env=env, check=False)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors == [line for line in proc.stderr.splitlines() if line.strip()]
    assert "stable-diffusion-v1-5/stable-diffusion-v1-5" in errors[0]
    assert "python -m deepexpo download sd15" in errors[0]
    assert not (tmp_path / "o.png").exists()


def test_out_of_range_settings_are_refused(fused):
    with pytest.raises(InputError, match="identity strength must be between"):
        _generate(fused, identity_strength=3.0)
    with pytest.raises(InputError, match=r"steps in the \w+ mode must be between"):
        _generate(fused, steps=0)


def test_the_fast_modes_step_limit_is_a_one_line_error(fast_fused):
    with pytest.raises(InputError, match="steps in the fast mode must be between 1 and 50"):
        _fast(fast_fused, steps=60)


def test_generation_takes_keyword_arguments_only(fused):
    with pytest.raises(TypeError):
        fused("a portrait photo")


def test_a_missing_branch_is_a_one_line_error_not_an_assertion(hopper):
    conditioner = FaceConditioner()  # no identity branch: no image encoder or processor
    for ask in (lambda: conditioner.identity_embeds(hopper), lambda: conditioner.identity_crop(None),
                lambda: conditioner.encode_faces([hopper])):
        with pytest.raises(DeepExPoError) as caught:
            ask()
        assert not isinstance(caught.value, AssertionError)
        message = str(caught.value)
        assert "no identity branch is loaded" in message and "\n" not in message


def test_weights_of_the_wrong_kind_for_the_semantic_branch_are_a_one_line_error(hopper):
    pipe = tiny_pipeline()
    fusion = FusionPipeline.assemble(pipe, None, tiny_identity(pipe.unet).state)  # plus-face
    with pytest.raises(DeepExPoError, match="not an MLP") as caught:
        _generate(fusion, reference_image=hopper)
    assert "\n" not in str(caught.value)


# --- the fast mode: a few-step LoRA fused under the same branches ------------------------------

def _with_fast_mode(pipe, controlnet: ControlNetModel | None = None, identity: bool = True,
                    semantic: bool = True) -> FusionPipeline:
    """``pipe`` with the tiny LCM-LoRA (published layout) and tiny autoencoder loaded first, then
    the branches, as :func:`deepexpo.fusion.loading.load_models` orders it."""
    speeds = SpeedSwitch.load(pipe, published_lcm_lora_state(pipe.unet))
    speeds.tiny_vae = tiny_autoencoder()
    return FusionPipeline.assemble(pipe, tiny_identity(pipe.unet) if identity else None,
                                   tiny_semantic(pipe.unet) if semantic else None, controlnet,
                                   speeds)


def _fast(fusion: FusionPipeline, **kwargs) -> np.ndarray:
    return _generate(fusion, **{"speed": "fast", "guidance": 1.0, **kwargs})


@pytest.fixture(scope="module")
def fast_fused() -> FusionPipeline:
    return _with_fast_mode(tiny_pipeline())


@pytest.fixture(scope="module")
def fast_plain_output() -> np.ndarray:
    return _fast(_with_fast_mode(tiny_pipeline(), identity=False, semantic=False))


class _BranchCalls:
    """Counts, per branch, the cross-attention layers whose branch key projection ran, and
    whether what reached it was non-zero."""

    def __init__(self, fusion: FusionPipeline):
        self.calls = {index: 0 for index in range(len(fusion.branches))}
        self.nonzero = {index: True for index in self.calls}
        self.handles = []
        for processor in fusion.pipe.unet.attn_processors.values():
            if isinstance(processor, IPAdapterAttnProcessor2_0):
                for index, layer in enumerate(processor.to_k_ip):
                    self.handles.append(layer.register_forward_hook(self._hook(index)))

    def _hook(self, index: int):
        def hook(module, inputs, output):
            self.calls[index] += 1
            self.nonzero[index] &= bool(inputs[0].abs().sum() > 0)

        return hook

    def __enter__(self) -> _BranchCalls:
        return self

    def __exit__(self, *exc) -> None:
        for handle in self.handles:
            handle.remove()


def test_fast_mode_fuses_the_lora_under_the_branch_processors(fast_fused, fused, astronaut, hopper):
    fast = _fast(fast_fused, identity_image=astronaut, reference_image=hopper)
    assert fast_fused.speeds.fused
    assert isinstance(fast_fused.pipe.scheduler, LCMScheduler)
    assert isinstance(fast_fused.pipe.vae, AutoencoderTiny)
    processors = [p for p in fast_fused.pipe.unet.attn_processors.values()
                  if isinstance(p, IPAdapterAttnProcessor2_0)]
    assert processors and all(len(p.to_k_ip) == 2 for p in processors)
    quality = _generate(fast_fused, identity_image=astronaut, reference_image=hopper,
                        speed="quality")
    assert not fast_fused.speeds.fused
    assert not np.array_equal(fast, quality)
    # Fusing and unfusing in place leaves the quality mode as it was without any LoRA.
    assert np.abs(quality.astype(int) - _generate(fused, identity_image=astronaut,
                                                  reference_image=hopper)).max() <= 1


def test_fast_mode_zero_strengths_reproduce_its_plain_text_to_image(fast_fused, fast_plain_output,
                                                                   astronaut, hopper):
    with _BranchCalls(fast_fused) as branches:
        out = _fast(fast_fused, identity_image=astronaut, reference_image=hopper,
                    identity_strength=0.0, semantic_strength=0.0)
    assert np.array_equal(out, fast_plain_output)
    assert branches.calls == {0: 0, 1: 0}  # no branch attention ran at all


def test_fast_mode_identity_and_expression_reach_the_unet(fast_fused, fast_plain_output, astronaut,
                                                          hopper, smiling):
    layers = sum(isinstance(p, IPAdapterAttnProcessor2_0)
                 for p in fast_fused.pipe.unet.attn_processors.values())
    steps = 2
    with _BranchCalls(fast_fused) as branches:
        identity = _fast(fast_fused, identity_image=astronaut, identity_strength=1.0,
                         semantic_strength=0.0, steps=steps)
    assert branches.calls == {0: layers * steps, 1: 0} and branches.nonzero[0]
    with _BranchCalls(fast_fused) as branches:
        calm = _fast(fast_fused, reference_image=hopper, identity_strength=0.0,
                     semantic_strength=1.0, steps=steps)
    assert branches.calls == {0: 0, 1: layers * steps} and branches.nonzero[1]
    smile = _fast(fast_fused, reference_image=smiling, identity_strength=0.0, semantic_strength=1.0)
    for out in (identity, calm):
        assert not np.array_equal(out, fast_plain_output)
    assert not np.array_equal(calm, smile)


def test_fast_mode_drives_the_controlnet(hopper, landmarker):
    pipe = tiny_pipeline()
    controlnet = ControlNetModel.from_unet(pipe.unet, conditioning_embedding_out_channels=(16, 32))
    for name, param in controlnet.named_parameters():
        if "controlnet_" in name or "conv_out" in name:
            torch.nn.init.normal_(param, std=0.2)
    fusion = _with_fast_mode(pipe, controlnet, identity=False, semantic=False)
    calls = []
    handle = controlnet.register_forward_hook(lambda *args: calls.append(1))
    try:
        size, steps = 192, 3
        with_face = _fast(fusion, reference_image=hopper, semantic_strength=1.0, size=size,
                          steps=steps)
        assert len(calls) == steps  # guidance off: one ControlNet pass a step
        off = _fast(fusion, reference_image=hopper, semantic_strength=0.0, size=size)
    finally:
        handle.remove()
    assert not np.array_equal(with_face, off)
    assert np.array_equal(off, _fast(fusion, size=size))  # strength 0: as without a reference


def test_cancelling_stops_the_denoising_loop_between_steps(fast_fused):
    unet_calls = []
    handle = fast_fused.pipe.unet.register_forward_hook(lambda *args: unet_calls.append(1))
    cancel = threading.Event()
    try:
        with pytest.raises(GenerationCancelled, match="after step 1 of 8"):
            _fast(fast_fused, steps=8, cancel=cancel, progress=lambda done, total: cancel.set())
    finally:
        handle.remove()
    assert len(unet_calls) == 1
    assert _fast(fast_fused, steps=2).shape == (32, 32, 3)  # the pipeline serves the next one


def test_generation_threads_follow_the_cpu_quota(tmp_path, monkeypatch):
    quota = tmp_path / "cpu.max"
    monkeypatch.setattr(threads, "CGROUP_CPU_MAX", quota)
    quota.write_text("max 100000\n")
    assert threads.usable_cpus() == len(os.sched_getaffinity(0))
    quota.write_text("50000 100000\n")  # half a core: one thread
    assert threads.usable_cpus() == 1
    before = torch.get_num_threads()
    try:
        assert threads.size_torch_threads() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_fast_models_come_from_the_hub_in_their_published_layout(loopback, monkeypatch):
    monkeypatch.setenv("DEEPEXPO_AUTO_DOWNLOAD", "1")
    fusion = FusionPipeline.from_pretrained(identity=False, fast=True, device="cpu")
    expected = [f for name in ("sd15", *FAST_MODELS) for f in hub.MODELS[name].files]
    assert sorted(loopback.file_gets()) == sorted(expected)
    lora_file = hub.MODELS["lcm-lora"].locate() / FAST_LORA_WEIGHTS
    lora_layers = {name.rsplit(".lora_", 1)[0] for name, _ in
                   fusion.pipe.unet.named_modules() if ".lora_A" in name}
    assert len(lora_layers) == len(load_file(str(lora_file))) // 3  # every layer of the file
    out = _fast(fusion, steps=2)
    assert out.shape == (32, 32, 3)
    assert isinstance(fusion.pipe.scheduler, LCMScheduler)
    assert isinstance(fusion.pipe.vae, AutoencoderTiny)


def test_cli_generates_fast_by_default_on_a_cpu(loopback, monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPEXPO_AUTO_DOWNLOAD", "1")
    out = tmp_path / "fast.png"
    assert main(["generate", "--prompt", "a portrait", "--output", str(out), "--no-identity",
                 "--steps", "2", "--size", "32"]) == 0
    assert read_image(out).shape == (32, 32, 3)
    fetched = set(loopback.file_gets())
    assert {f for name in FAST_MODELS for f in hub.MODELS[name].files} <= fetched
    loopback.requests.clear()
    assert main(["generate", "--prompt", "a portrait", "--output", str(tmp_path / "q.png"),
                 "--no-identity", "--quality", "--steps", "2", "--size", "32"]) == 0
    assert loopback.file_gets() == []


def test_auto_speed_falls_back_to_quality_without_the_lora(tiny_base, tmp_path, caplog):
    out = tmp_path / "out.png"
    assert main(["generate", "--prompt", "a portrait", "--output", str(out), "--base", tiny_base,
                 "--no-identity", "--steps", "2", "--size", "32"]) == 0
    assert "generating in the quality mode" in caplog.text
    assert main(["generate", "--prompt", "a portrait", "--output", str(tmp_path / "f.png"),
                 "--base", tiny_base, "--no-identity", "--fast"]) == 2  # asked for: an error


def test_the_apps_stop_button_ends_the_running_loop_and_frees_the_slot(hub_repos, monkeypatch,
                                                                       tmp_path):
    """Through the app as a browser uses it: the Stop button's own event (which flags this
    session's generation) and Gradio's cancel of the running job."""
    from gradio_client import Client

    from deepexpo.fusion import GenerationSetup
    from deepexpo.ui import build_demo, handlers, launch

    folders, _ = hub_repos
    for name in ("sd15", *FAST_MODELS):
        monkeypatch.setenv(f"DEEPEXPO_{name.upper().replace('-', '_')}_WEIGHTS", str(folders[name]))
    handlers._fusion.cache_clear()
    fusion = handlers._fusion(GenerationSetup.detect())  # the app's own, loaded the app's way
    assert fusion.speeds is not None
    steps: list[float] = []

    def slow_step(module, args):
        steps.append(time.perf_counter())
        time.sleep(0.3)

    hook = fusion.pipe.unet.register_forward_pre_hook(slow_step)
    demo = build_demo()
    _, url, _ = launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        client = Client(url, verbose=False, download_files=str(tmp_path / "downloads"))
        settings = ("a portrait", None, None, 0.8, 0.8, 1.0)
        job = client.submit(*settings, 40, 0, "fast", api_name="/generate")
        deadline = time.monotonic() + 60
        while len(steps) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(steps) >= 2
        client.predict(api_name="/stop_generation")
        job.cancel()
        time.sleep(1.0)
        stopped_at = len(steps)
        time.sleep(1.0)
        assert len(steps) == stopped_at < 10  # the loop ended, not just the job's display
        path = client.predict(*settings, 2, 0, "fast", api_name="/generate")
        assert read_image(path).shape == (32, 32, 3)  # the slot (and the pipeline) serve again
    finally:
        hook.remove()
        demo.close()
        handlers._fusion.cache_clear()


def test_the_apps_progress_gives_each_step_and_the_time_left(monkeypatch):
    from types import SimpleNamespace

    from deepexpo.ui import handlers

    clock = iter([0.0, 12.0, 24.0, 48.0])  # the start, then the end of steps 1, 2 and 4
    monkeypatch.setattr(handlers, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    shown = []
    report = handlers._step_progress(lambda value, **kwargs: shown.append((value, kwargs["desc"])),
                                     "generating (fast)")
    for done in (1, 2, 4):
        report(done, 4)
    assert shown == [((1, 4), "generating (fast): step 1 of 4, about 36 s left"),
                     ((2, 4), "generating (fast): step 2 of 4, about 24 s left"),
                     ((4, 4), "generating (fast): decoding")]


def test_generation_precision_is_chosen_by_its_setting(monkeypatch):
    from deepexpo.fusion.loading import PRECISION_ENV, generation_dtype

    assert generation_dtype("cpu") == torch.float32 and generation_dtype("cuda") == torch.float16
    monkeypatch.setenv(PRECISION_ENV, "bf16")
    assert generation_dtype("cpu") == torch.bfloat16
    monkeypatch.setenv(PRECISION_ENV, "fp8")
    with pytest.raises(InputError, match="DEEPEXPO_GENERATION_PRECISION must be auto"):
        generation_dtype("cpu")


def test_the_fast_mode_runs_in_bfloat16(monkeypatch, loopback, astronaut):
    monkeypatch.setenv("DEEPEXPO_AUTO_DOWNLOAD", "1")
    monkeypatch.setenv("DEEPEXPO_GENERATION_PRECISION", "bf16")
    fusion = FusionPipeline.from_pretrained(fast=True, device="cpu")
    assert fusion.pipe.unet.dtype == torch.bfloat16
    out = _fast(fusion, identity_image=astronaut, steps=2)
    assert out.shape == (32, 32, 3) and out.std() > 0


def test_generate_names_every_missing_model_at_once(tmp_path):
    """Before: only the base model (4.3 GB); the IP-Adapter (2.6 GB) and the ControlNet were
    learnt of one download later each."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-m", "deepexpo", "generate", "--prompt", "a portrait",
                           "--controlnet", "--output", str(tmp_path / "o.png")],
                          capture_output=True, text=True, env=env, check=False, timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(
        "error: text-prompted generation needs 3 models that are not downloaded, ~7.6 GB in all")
    for name in ("sd15", "ip-adapter", "controlnet-face"):
        assert f"python -m deepexpo download {name}`" in lines[0]
    for size in ("~4.3 GB", "~2.6 GB", "~723 MB"):
        assert size in lines[0]
