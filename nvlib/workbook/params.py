"""Workbook parameters: YAML files in ``params/`` and the record saved with every run.

A params file holds a ``common:`` mapping (injected into every notebook) and
one mapping per notebook, keyed by the notebook's stem (``03_frame_models:``),
merged over ``common``. Sweep files (``params/sweeps/*.yaml``) hold ``name``,
``notebooks`` (stems) and ``params`` (overrides for those notebooks).
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from nvlib.workbook.atomic import write_text
from nvlib.workbook.paths import repo_root

#: Packages whose versions are recorded beside every run's outputs.
RECORDED_PACKAGES = ("nvlib", "numpy", "torch", "torchvision", "opencv-python-headless", "h5py", "scipy",
                     "matplotlib", "papermill", "evt3", "aedat", "tonic")


class ParamsError(ValueError):
    """A params file is missing or malformed; the message names the file."""


def read_yaml(path: str | Path) -> dict:
    """Read a YAML mapping; an empty file is ``{}``."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: no such params file")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def load_params(path: str | Path | None = None, overrides: dict | None = None,
                notebook: str | None = None) -> dict:
    """Resolved parameters: ``common`` merged with the ``notebook`` section, then ``overrides``.

    ``path`` defaults to ``params/default.yaml``. Without ``notebook`` the whole
    file is returned (with overrides merged at the top level).
    """
    path = Path(path) if path is not None else repo_root() / "params" / "default.yaml"
    data = read_yaml(path)
    if notebook is None:
        return {**data, **(overrides or {})}
    for key in ("common", notebook):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise ParamsError(f"{path}: section {key!r} must be a mapping")
    return {**(data.get("common") or {}), **(data.get(notebook) or {}), **(overrides or {})}


def git_commit(root: Path | None = None) -> str | None:
    """The checkout's HEAD commit (``+dirty`` when the tree has changes), or None outside git."""
    root = root or repo_root()
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def package_versions(names=RECORDED_PACKAGES) -> dict[str, str | None]:
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = None
    return out


def device_info() -> dict[str, Any]:
    """CPU, thread count and CUDA device names."""
    info: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform(),
                            "machine": platform.machine()}
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] \
            if torch.cuda.is_available() else []
    except ImportError:
        info["cuda"] = None
    return info


def run_info(params: dict) -> dict:
    """What :func:`save_run_info` records."""
    return {"params": params, "git_commit": git_commit(), "packages": package_versions(), "device": device_info()}


def save_run_info(out_dir: str | Path, params: dict, name: str = "run_info.json") -> Path:
    """Write the resolved params, git commit, package versions and device to ``out_dir/name``."""
    out = Path(out_dir) / name
    write_text(out, json.dumps(run_info(params), indent=2, sort_keys=True, default=str) + "\n")
    return out
