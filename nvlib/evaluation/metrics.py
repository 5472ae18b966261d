"""Valence-arousal regression metrics: RMSE, PCC, CCC and SAGR.

Definitions follow the field's reference implementation (Toisoul et al. 2021, the
face-analysis/emonet ``metrics.py``/``evaluation.py``) and the paper's Section 5.1
(Berlincioni et al., *Neuromorphic Valence and Arousal Estimation*):

- ``rmse = sqrt(mean((gt - pred)^2))``
- ``pcc`` = Pearson's r (``np.corrcoef``; the ddof cancels)
- ``ccc = 2 r s_p s_g / (s_p^2 + s_g^2 + (m_p - m_g)^2)`` with *population* standard
  deviations (ddof = 0), as emonet's ``np.std``. torchmetrics' ``concordance_corrcoef``
  uses ddof = 1 and differs by O(1/n).
- ``sagr = mean(sign(gt) == sign(pred))`` ("strict": a 0 label agrees only with a 0
  prediction, emonet's formula); ``sagr(..., zero="nonneg")`` is the labelled variant
  where ``x >= 0`` counts as positive.
- Predictions are clipped to [-1, 1] before scoring (emonet does so), configurable.

All functions take 1-D arrays (numpy or torch) of equal length; constant inputs give
``nan`` PCC/CCC (the correlation is undefined), never a silent 0.
"""
from __future__ import annotations

import math
import warnings
from typing import Iterable, Sequence

import numpy as np

DIMENSIONS = ("valence", "arousal")
METRICS = ("rmse", "pcc", "ccc", "sagr")
SAGR_MODES = ("strict", "nonneg")


def _as_1d(x, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 2 and 1 in a.shape:
        a = a.reshape(-1)
    if a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of values, got shape {a.shape}")
    return a


def _pair(gt, pred) -> tuple[np.ndarray, np.ndarray]:
    g, p = _as_1d(gt, "gt"), _as_1d(pred, "pred")
    if g.shape != p.shape:
        raise ValueError(f"gt and pred differ in length: {g.shape[0]} vs {p.shape[0]}")
    if g.size == 0:
        raise ValueError("gt and pred are empty: no values to score")
    if not (np.isfinite(g).all() and np.isfinite(p).all()):
        raise ValueError("gt or pred holds NaN/inf values")
    return g, p


def rmse(gt, pred) -> float:
    """Root mean square error (paper eq. 1)."""
    g, p = _pair(gt, pred)
    return float(np.sqrt(np.mean((g - p) ** 2)))


def pcc(gt, pred) -> float:
    """Pearson correlation coefficient (paper eq. 2); ``nan`` when either input is constant."""
    g, p = _pair(gt, pred)
    if np.ptp(g) == 0 or np.ptp(p) == 0:
        return float("nan")
    gc, pc = g - g.mean(), p - p.mean()
    return float(np.sum(gc * pc) / math.sqrt(float(np.sum(gc * gc)) * float(np.sum(pc * pc))))


def ccc(gt, pred) -> float:
    """Concordance correlation coefficient (Lin 1989) with population std (ddof=0), as emonet."""
    g, p = _pair(gt, pred)
    sg, sp = g.std(), p.std()
    if np.ptp(g) == 0 or np.ptp(p) == 0:
        # a constant side has no covariance: CCC is 0, undefined when both are equal constants
        den = sp**2 + sg**2 + (p.mean() - g.mean()) ** 2
        return 0.0 if den > 0 else float("nan")
    return float(2.0 * pcc(g, p) * sp * sg / (sp**2 + sg**2 + (p.mean() - g.mean()) ** 2))


def sagr(gt, pred, zero: str = "strict") -> float:
    """Sign agreement rate (paper eq. 3).

    ``zero="strict"`` (emonet): ``mean(sign(gt) == sign(pred))``, a 0 agrees only with 0.
    ``zero="nonneg"``: ``mean((gt >= 0) == (pred >= 0))``, 0 counts as positive.
    """
    g, p = _pair(gt, pred)
    if zero == "strict":
        return float(np.mean(np.sign(g) == np.sign(p)))
    if zero == "nonneg":
        return float(np.mean((g >= 0) == (p >= 0)))
    raise ValueError(f"sagr: unknown zero mode {zero!r}; expected one of {SAGR_MODES}")


def _score(g: np.ndarray, p: np.ndarray, sagr_zero: str) -> dict[str, float]:
    return {"rmse": rmse(g, p), "pcc": pcc(g, p), "ccc": ccc(g, p), "sagr": sagr(g, p, sagr_zero)}


def _va_arrays(x, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    a = np.asarray(x, dtype=np.float64)
    if a.ndim >= 2 and a.shape[-1] == 2:
        a = a.reshape(-1, 2)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"{name}: expected (N, 2) [valence, arousal], got shape {a.shape}")
    return a


def evaluate(gt, pred, *, clip: tuple[float, float] | None = (-1.0, 1.0), clips: Sequence[str] | None = None,
             per_clip: bool = False, sagr_zero: str = "strict") -> dict:
    """All four metrics for valence and arousal.

    gt, pred: (N, 2) arrays [valence, arousal] (any leading shape ending in 2 is flattened).
    clip: range predictions are clipped to before scoring (None: no clipping).
    per_clip: with ``clips`` (N clip ids), score every clip separately and report the mean
    over clips (``nan`` correlations of constant clips are skipped by ``nanmean``); the
    default scores the whole set at once, as the paper and emonet do.
    Returns ``{"valence": {metric: value}, "arousal": {...}, "n": N, "clip": clip,
    "sagr_zero": ..., "per_clip": bool[, "clips": {clip_id: {"valence":..,"arousal":..,"n":..}}]}``.
    """
    g, p = _va_arrays(gt, "gt"), _va_arrays(pred, "pred")
    if g.shape != p.shape:
        raise ValueError(f"gt and pred differ in shape: {g.shape} vs {p.shape}")
    if clip is not None:
        lo, hi = clip
        p = np.clip(p, lo, hi)
    out: dict = {"n": int(g.shape[0]), "clip": None if clip is None else [float(clip[0]), float(clip[1])],
                 "sagr_zero": sagr_zero, "per_clip": bool(per_clip)}
    if not per_clip:
        for k, dim in enumerate(DIMENSIONS):
            out[dim] = _score(g[:, k], p[:, k], sagr_zero)
        return out
    if clips is None:
        raise ValueError("evaluate(per_clip=True) needs clips: one clip id per row")
    ids = np.asarray(list(clips))
    if ids.shape[0] != g.shape[0]:
        raise ValueError(f"clips has {ids.shape[0]} ids for {g.shape[0]} rows")
    per: dict = {}
    for cid in dict.fromkeys(ids.tolist()):
        m = ids == cid
        per[str(cid)] = {"n": int(m.sum()), **{dim: _score(g[m, k], p[m, k], sagr_zero)
                                                for k, dim in enumerate(DIMENSIONS)}}
    out["clips"] = per
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nan column -> nan, said once here
        for dim in DIMENSIONS:
            out[dim] = {m: float(np.nanmean([c[dim][m] for c in per.values()])) for m in METRICS}
    return out


def metrics_row(result: dict, metrics: Iterable[str] = ("rmse", "pcc", "ccc", "sagr"),
                dims: Iterable[str] = ("arousal", "valence")) -> dict:
    """Flatten an ``evaluate`` result into one table row: ``{"arousal_rmse": .., ...}`` (paper order)."""
    return {f"{d}_{m}": result[d][m] for d in dims for m in metrics}


def ccc_loss(pred, target):
    """``1 - CCC`` per column, averaged (torch; population moments, differentiable).

    pred, target: (..., 2) tensors. Used as the optional CCC training loss (Toisoul et al. 2021).
    """
    import torch

    p = pred.reshape(-1, pred.shape[-1]).float()
    t = target.reshape(-1, target.shape[-1]).float()
    mp, mt = p.mean(0), t.mean(0)
    vp, vt = p.var(0, unbiased=False), t.var(0, unbiased=False)
    cov = ((p - mp) * (t - mt)).mean(0)
    c = 2 * cov / (vp + vt + (mp - mt) ** 2 + 1e-8)
    return (1 - c).mean() if torch.is_tensor(c) else 1 - c
