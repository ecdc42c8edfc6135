"""Text-prompted generation with parallel identity/semantic branches, on tiny random models built
in memory (U-Net, VAE, CLIP text and vision models, tokenizer): the real code paths, offline."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from diffusers import ControlNetModel
from diffusers.models.attention_processor import IPAdapterAttnProcessor2_0
from safetensors.torch import load_file

from deepexpo.cli import main
from deepexpo.errors import DeepExPoError, InputError
from deepexpo.fusion.conditioning import FaceConditioner
from deepexpo.fusion.face_condition import draw_face_condition
from deepexpo.fusion.loading import split_adapter_state
from deepexpo.fusion.pipeline import FusionPipeline
from deepexpo.fusion.training import SemanticBranchTrainer, TrainingConfig, load_examples
from deepexpo.io.images import read_image, write_image

from .conftest import pose_face
from .tiny_diffusion import tiny_identity, tiny_pipeline, tiny_semantic


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
    with pytest.raises(InputError, match="steps must be between"):
        _generate(fused, steps=0)


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
