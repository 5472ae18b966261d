"""Evaluation of a trained valence-arousal model on a dataset: predictions and their scores.

Scoring follows ``nvlib.evaluation.metrics`` (emonet's definitions, predictions clipped to [-1, 1]) over
the whole set, as the paper's Tables 1-4, or per clip (``per_clip=True``). The reference
"predict-the-mean" baseline predicts the training-set mean (valence, arousal) for every frame.
Results files live in :mod:`nvlib.evaluation.results`, the tables built from them in
:mod:`nvlib.evaluation.tables`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from nvlib.evaluation import metrics as M


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
