"""Evaluation of a trained valence-arousal model on a dataset: metrics tables and predictions.

Scoring follows ``nvlib.evaluation.metrics`` (emonet's definitions, predictions clipped to [-1, 1]) over
the whole set, as the paper's Tables 1-4, or per clip (``per_clip=True``). The reference
"predict-the-mean" baseline predicts the training-set mean (valence, arousal) for every frame.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from nvlib.evaluation import metrics as M
from nvlib.workbook.atomic import write_text


def batch_xy(batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Input and target of a dataset batch: ``frame`` (B,1,S,S) or ``frames`` (B,T,1,S,S); ``va``."""
    if "frame" in batch:
        x = batch["frame"]
    elif "frames" in batch:
        x = batch["frames"]
    else:
        raise KeyError(f"batch has neither 'frame' nor 'frames' (keys: {sorted(batch)})")
    return x, batch["va"]


def _unwrap(model: nn.Module) -> nn.Module:
    """The bare module under DistributedDataParallel/DataParallel."""
    return model.module if hasattr(model, "module") and isinstance(model.module, nn.Module) else model


@torch.no_grad()
def predict(model: nn.Module, dataset: Dataset, *, batch_size: int = 64, device: str | torch.device = "cpu",
            num_workers: int = 0, amp: bool = False, progress: bool = False) -> dict:
    """Per-frame predictions over a dataset, in dataset order.

    Returns ``{"pred": (N,2), "gt": (N,2), "clip": [N ids], "index": (N,) frame index}`` as numpy
    (float64). Chunk datasets are flattened to frames (index = chunk ``start`` + offset); a frame
    covered by several overlapping chunks gets the mean of its predictions.
    """
    device = torch.device(device)
    net = _unwrap(model).to(device)
    was_training = net.training
    net.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    preds, gts, clips, idx = [], [], [], []
    for batch in tqdm(loader, disable=not progress, desc="predict", leave=False):
        x, y = batch_xy(batch)
        with torch.autocast(device.type, enabled=amp and device.type == "cuda"):
            p = net(x.to(device)).float().cpu()
        if p.shape != y.shape:
            raise ValueError(f"model output {tuple(p.shape)} does not match targets {tuple(y.shape)}")
        clip_ids = list(batch.get("clip", [""] * len(y)))
        if y.ndim == 3:  # chunks (B, T, 2)
            t = y.shape[1]
            start = batch.get("start", torch.zeros(len(y), dtype=torch.long))
            for b in range(len(y)):
                clips += [clip_ids[b]] * t
                idx.append(np.asarray(start[b]).reshape(()) + np.arange(t))
            p, y = p.reshape(-1, 2), y.reshape(-1, 2)
        else:
            clips += clip_ids
            idx.append(np.asarray(batch.get("index", torch.arange(len(y)))).reshape(-1))
        preds.append(p.numpy().astype(np.float64))
        gts.append(y.numpy().astype(np.float64))
    net.train(was_training)
    if not preds:
        raise ValueError("predict: the dataset is empty")
    pred, gt, index = np.concatenate(preds), np.concatenate(gts), np.concatenate(idx).astype(np.int64)
    keys = list(zip(clips, index.tolist()))
    if len(set(keys)) != len(keys):  # overlapping chunks: average per frame, keep first-seen order
        order: dict = {}
        for i, k in enumerate(keys):
            order.setdefault(k, []).append(i)
        rows = list(order.values())
        pred = np.stack([pred[r].mean(0) for r in rows])
        gt = np.stack([gt[r[0]] for r in rows])
        clips = [keys[r[0]][0] for r in rows]
        index = np.array([keys[r[0]][1] for r in rows], dtype=np.int64)
    return {"pred": pred, "gt": gt, "clip": list(clips), "index": index}


def predictions_frame(p: dict) -> pd.DataFrame:
    """``predict`` output -> DataFrame (clip, index, valence_true, arousal_true, valence_pred, arousal_pred)."""
    return pd.DataFrame({"clip": p["clip"], "index": np.asarray(p["index"], dtype=np.int64),
                         "valence_true": p["gt"][:, 0], "arousal_true": p["gt"][:, 1],
                         "valence_pred": p["pred"][:, 0], "arousal_pred": p["pred"][:, 1]})


def evaluate_model(model: nn.Module, dataset: Dataset, *, batch_size: int = 64, device="cpu",
                   clip: tuple[float, float] | None = (-1.0, 1.0), per_clip: bool = False,
                   sagr_zero: str = "strict", num_workers: int = 0) -> dict:
    """Predict every frame of ``dataset`` and score it.

    Returns ``{"metrics": nvlib.evaluation.metrics.evaluate(...) result, "predictions": DataFrame}``
    (predictions unclipped; the metrics clip them when ``clip`` is set).
    """
    p = predict(model, dataset, batch_size=batch_size, device=device, num_workers=num_workers)
    res = M.evaluate(p["gt"], p["pred"], clip=clip, clips=p["clip"], per_clip=per_clip, sagr_zero=sagr_zero)
    return {"metrics": res, "predictions": predictions_frame(p)}


def mean_baseline(train_labels, test_labels, clip=(-1.0, 1.0)) -> dict:
    """Metrics of predicting the training mean (valence, arousal) for every test frame."""
    tr = np.asarray(train_labels, dtype=np.float64).reshape(-1, 2)
    te = np.asarray(test_labels, dtype=np.float64).reshape(-1, 2)
    return M.evaluate(te, np.broadcast_to(tr.mean(0), te.shape), clip=clip)


def dataset_labels(dataset: Dataset) -> np.ndarray:
    """All (N, 2) per-frame labels of a FrameDataset/ChunkDataset (uses ``.labels()`` when offered)."""
    if hasattr(dataset, "labels") and callable(dataset.labels):
        return np.asarray(dataset.labels(), dtype=np.float64).reshape(-1, 2)
    return np.concatenate([np.asarray(dataset[i]["va"], dtype=np.float64).reshape(-1, 2)
                           for i in range(len(dataset))])


def va_table(results: dict, n_bits: int, paper: dict, paper_source: str, paper_backbone) -> list[dict]:
    """Rows of a paper-style valence-arousal table (Tables 1 and 2 of Berlincioni et al.).

    One row per trained model (``results``: ``{name: run_experiment(...) result}``), then
    predict-the-train-mean, then the published numbers ``paper[name] = (arousal RMSE, PCC, SAGR,
    valence RMSE, PCC, SAGR)`` labelled ``paper_source``. ``paper_backbone``: the backbone the paper
    states, a string or a function of the model name. Columns: model, source, backbone, params_M,
    n_bits, then arousal and valence RMSE, PCC, CCC, SAGR (the paper does not report CCC).
    """
    from nvlib.models import DISPLAY_NAMES

    rows = [{"model": DISPLAY_NAMES[name], "source": "this run", "backbone": r["backbone"],
             "params_M": r["params"]["total"] / 1e6, "n_bits": r["n_bits"], **M.metrics_row(r["metrics"])}
            for name, r in results.items()]
    base = next(iter(results.values()))["baseline"]
    rows.append({"model": "predict-the-mean", "source": "this run", "backbone": "none", "params_M": 0.0,
                 "n_bits": int(n_bits), **M.metrics_row(base)})
    for name in results:
        a = paper[name]
        rows.append({"model": DISPLAY_NAMES[name], "source": paper_source,
                     "backbone": paper_backbone(name) if callable(paper_backbone) else paper_backbone,
                     "params_M": None, "n_bits": 8,
                     "arousal_rmse": a[0], "arousal_pcc": a[1], "arousal_ccc": None, "arousal_sagr": a[2],
                     "valence_rmse": a[3], "valence_pcc": a[4], "valence_ccc": None, "valence_sagr": a[5]})
    return rows


def write_results_json(path: str | os.PathLike, *, model: str, metrics: dict, config: dict, backbone: str,
                       baseline: dict | None = None, extra: dict | None = None) -> Path:
    """Atomically write one model's results (metrics + config + backbone) as JSON.

    Paths inside the repository are written relative to its root (no machine paths in committed files).
    """
    from nvlib.workbook.paths import repo_root

    root = str(repo_root()) + os.sep

    def clean(o):
        if isinstance(o, dict):
            return {str(k): clean(v) for k, v in o.items() if k != "clips"}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        if isinstance(o, (np.floating, np.integer)):
            return o.item()
        if isinstance(o, Path):
            o = str(o)
        if isinstance(o, str):
            return o.replace(root, "")
        return o

    doc = {"model": model, "backbone": backbone, "metrics": clean(metrics), "config": clean(config),
           "mean_baseline": clean(baseline) if baseline is not None else None, **clean(extra or {})}
    return write_text(path, json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")


def read_results_json(path: str | os.PathLike) -> dict:
    """Read a results JSON written by ``write_results_json`` (clear error naming a bad file)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot read results JSON ({e})") from e
    for k in ("model", "metrics", "backbone"):
        if k not in doc:
            raise ValueError(f"{path}: results JSON lacks {k!r}")
    return doc


def gain_over_mean(results: dict) -> list[dict]:
    """Per model: mean of valence and arousal RMSE against predict-the-train-mean on the same test frames.

    ``results``: ``{name: run_experiment(...) result}``. Rows hold ``model``, ``rmse``, ``mean_rmse`` and
    ``gain`` (relative RMSE reduction; > 0 means the model beats the mean).
    """
    rows = []
    for name, r in results.items():
        ours = (r["metrics"]["valence"]["rmse"] + r["metrics"]["arousal"]["rmse"]) / 2
        base = (r["baseline"]["valence"]["rmse"] + r["baseline"]["arousal"]["rmse"]) / 2
        rows.append({"model": name, "rmse": ours, "mean_rmse": base, "gain": (base - ours) / base})
    return rows


def require_gain_over_mean(results: dict, min_gain: float = 0.05) -> list[dict]:
    """:func:`gain_over_mean`, raising ``AssertionError`` naming every model whose gain is below ``min_gain``
    (the acceptance check the notebooks run on the synthetic faces, where learning must be visible)."""
    rows = gain_over_mean(results)
    bad = [f"{r['model']} (mean RMSE {r['rmse']:.3f} vs predict-the-mean {r['mean_rmse']:.3f})"
           for r in rows if not r["gain"] >= min_gain]
    if bad:
        raise AssertionError(f"models not beating predict-the-mean by {100 * min_gain:.0f} %: {', '.join(bad)}")
    return rows
