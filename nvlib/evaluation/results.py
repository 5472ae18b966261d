"""Results files: one model run's metrics as JSON (with its configuration and backbone), and its test
predictions as CSV beside it.

The experiment layer (:mod:`nvlib.experiments`) writes one such pair per (configuration, seed) into
``results/``; the tables of :mod:`nvlib.evaluation.tables` are built from the JSON documents. Paths
inside the repository are stored relative to its root, so that no file names the machine it ran on.

Every results document of a training run names its data at its top level: ``data`` (``dataset``,
``root``: the dataset folder's name, ``cache``, ``cache_id``: the cache's content id, ``fold``: None
for the fixed split, ``n_folds``, ...; :func:`nvlib.experiments.run.data_provenance`) and ``seed``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from nvlib.workbook.atomic import write_text

PREDICTION_COLUMNS = ("clip", "index", "valence_true", "arousal_true", "valence_pred", "arousal_pred")


def _relative_to_root(o, root: str):
    if isinstance(o, dict):
        return {str(k): _relative_to_root(v, root) for k, v in o.items() if k != "clips"}
    if isinstance(o, (list, tuple)):
        return [_relative_to_root(v, root) for v in o]
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        o = str(o)
    if isinstance(o, str):
        return o.replace(root, "")
    return o


def write_results_json(path: str | os.PathLike, *, model: str, metrics: dict, config: dict, backbone: str,
                       baseline: dict | None = None, extra: dict | None = None) -> Path:
    """Atomically write one model's results (metrics + config + backbone) as JSON.

    ``baseline``: the predict-the-train-mean metrics on the same test frames (stored as
    ``mean_baseline``). Per-clip breakdowns (``clips``) are dropped. Paths inside the repository are
    written relative to its root (no machine paths in committed files).
    """
    from nvlib.workbook.paths import repo_root

    root = str(repo_root()) + os.sep
    doc = {"model": model, "backbone": backbone, "metrics": _relative_to_root(metrics, root),
           "config": _relative_to_root(config, root),
           "mean_baseline": _relative_to_root(baseline, root) if baseline is not None else None,
           **_relative_to_root(extra or {}, root)}
    return write_text(path, json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")


def read_results_json(path: str | os.PathLike) -> dict:
    """Read a results JSON written by :func:`write_results_json` (clear error naming a bad file)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot read results JSON ({e})") from e
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: results JSON is not a mapping")
    for k in ("model", "metrics", "backbone"):
        if k not in doc:
            raise ValueError(f"{path}: results JSON lacks {k!r}")
    return doc


def write_predictions_csv(path: str | os.PathLike, predictions: pd.DataFrame) -> Path:
    """Atomically write per-frame test predictions (columns :data:`PREDICTION_COLUMNS`, float32 precision)."""
    missing = [c for c in PREDICTION_COLUMNS if c not in predictions.columns]
    if missing:
        raise ValueError(f"predictions lack columns {missing}")
    return write_text(path, predictions[list(PREDICTION_COLUMNS)].to_csv(index=False, float_format="%.7g"))


def read_predictions_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read back :func:`write_predictions_csv` (clip ids as strings)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no predictions file")
    df = pd.read_csv(path, dtype={"clip": str})
    missing = [c for c in PREDICTION_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: predictions lack columns {missing}")
    return df
