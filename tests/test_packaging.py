"""The package as pip installs it: its declared dependencies, its data files, and a weights
folder that is not inside site-packages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_declares_the_requirements():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    required = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert declared == required


def test_an_installed_package_imports_finds_its_data_and_keeps_weights_in_the_user_cache(
        tmp_path):
    source, target = tmp_path / "src", tmp_path / "site"  # built outside the checkout
    shutil.copytree(ROOT / "deepexpo", source / "deepexpo",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", source)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(source)], check=True,
                   capture_output=True, timeout=300)
    code = ("import deepexpo, deepexpo.hub as hub; "
            "from deepexpo.neural.network_config import NeuralConfig; "
            "from deepexpo.face.canonical import canonical_face; "
            "print(deepexpo.__file__); print(hub.weights_dir()); "
            "print(NeuralConfig.from_yaml().motion_extractor.dims, canonical_face().points.shape)")
    env = {**os.environ, "PYTHONPATH": str(target), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("DEEPEXPO_WEIGHTS_DIR", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120, check=True)
    module, weights, shapes = proc.stdout.strip().splitlines()
    assert Path(module).is_relative_to(target)
    assert Path(weights) == tmp_path / "cache" / "deepexpo" / "weights"
    assert shapes == "(96, 192, 384, 768) (478, 3)"
