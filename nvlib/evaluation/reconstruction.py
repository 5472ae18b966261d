"""Frame-reconstruction metrics as the EVREAL benchmark computes them, plus PSNR, and their summaries.

EVREAL (Ercan et al., "EVREAL: Towards a Comprehensive Benchmark and Analysis Suite for Event-based Video
Reconstruction", CVPR Workshops 2023) scores each reconstructed frame against its reference, both
clipped to ``[0, 1]``:

* SSIM: ``skimage.metrics.structural_similarity(ref, img, gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=1.0)`` (Wang et al., IEEE TIP 2004, Gaussian window);
* MSE: ``skimage.metrics.mean_squared_error(ref, img)``;

and reports the mean over frames. PSNR (not in EVREAL's default set; the paper reports it) is
``10 · log10(1 / MSE)`` dB per frame (data range 1), averaged over frames; an exact reconstruction
(MSE 0) is capped at :data:`PSNR_CAP_DB`.

Frames are 2-d float arrays in ``[0, 1]`` (uint8 frames are divided by 255).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

#: PSNR of an exact reconstruction (MSE = 0), in dB: 10·log10(1 / 1e-10).
PSNR_CAP_DB = 100.0


def as_unit_frame(frame, name: str = "frame") -> np.ndarray:
    """A 2-d float64 frame in ``[0, 1]``: uint8 divided by 255, floats clipped (as EVREAL clips)."""
    a = np.asarray(frame)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a 2-d gray frame, got shape {a.shape}")
    if a.dtype == np.uint8:
        return a.astype(np.float64) / 255.0
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: non-finite pixel values")
    return np.clip(a, 0.0, 1.0)


def _pair(ref, img):
    r, i = as_unit_frame(ref, "reference"), as_unit_frame(img, "reconstruction")
    if r.shape != i.shape:
        raise ValueError(f"reference {r.shape} and reconstruction {i.shape} differ in size")
    return r, i


def ssim(ref, img) -> float:
    """EVREAL's SSIM of one frame (see the module docstring)."""
    from skimage.metrics import structural_similarity

    r, i = _pair(ref, img)
    return float(structural_similarity(r, i, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=1.0))


def mse(ref, img) -> float:
    """Mean squared error of one frame (values in ``[0, 1]``)."""
    r, i = _pair(ref, img)
    return float(np.mean((r - i) ** 2))


def psnr_from_mse(m: float) -> float:
    """``10 · log10(1 / m)`` dB (data range 1); ``m = 0`` gives :data:`PSNR_CAP_DB`."""
    m = float(m)
    if m < 0 or not math.isfinite(m):
        raise ValueError(f"MSE must be finite and >= 0, got {m}")
    return PSNR_CAP_DB if m == 0 else min(PSNR_CAP_DB, 10.0 * math.log10(1.0 / m))


def psnr(ref, img) -> float:
    """PSNR in dB of one frame, data range 1."""
    return psnr_from_mse(mse(ref, img))


def frame_scores(ref, img) -> dict:
    """``{"ssim", "mse", "psnr"}`` of one frame."""
    m = mse(ref, img)
    return {"ssim": ssim(ref, img), "mse": m, "psnr": psnr_from_mse(m)}


def score_frames(refs, imgs) -> pd.DataFrame:
    """Per-frame scores of two ``(T, H, W)`` stacks: columns ``frame, ssim, mse, psnr``."""
    refs, imgs = np.asarray(refs), np.asarray(imgs)
    if refs.shape != imgs.shape or refs.ndim != 3:
        raise ValueError(f"score_frames: stacks (T, H, W) of the same shape needed, got {refs.shape} and {imgs.shape}")
    rows = [{"frame": k, **frame_scores(refs[k], imgs[k])} for k in range(refs.shape[0])]
    return pd.DataFrame(rows, columns=["frame", "ssim", "mse", "psnr"])


def ssim_torch(pred, target, sigma: float = 1.5, truncate: float = 3.5):
    """Differentiable SSIM of ``(B, 1, H, W)`` batches in ``[0, 1]``, the mean over the batch: the same
    quantity as :func:`ssim` (Gaussian window of ``sigma``, radius ``int(truncate·sigma + 0.5)``, population
    covariances, ``K1 = 0.01``, ``K2 = 0.03``, data range 1, the mean over the pixels whose window lies
    inside the image, as scikit-image crops). For training losses."""
    import torch
    import torch.nn.functional as F

    r = int(truncate * sigma + 0.5)
    x = torch.arange(-r, r + 1, dtype=pred.dtype, device=pred.device)
    g = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    k = (g[:, None] * g[None, :])[None, None]

    def filt(a):
        return F.conv2d(a, k)

    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mx, my = filt(pred), filt(target)
    vx = filt(pred * pred) - mx * mx
    vy = filt(target * target) - my * my
    cxy = filt(pred * target) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.mean()


METRICS = ("ssim", "mse", "psnr")
DISPLAY = {"ssim": "SSIM", "mse": "MSE", "psnr": "PSNR"}


def _std(v) -> float:
    v = np.asarray(v, dtype=float)
    return float(np.std(v, ddof=1)) if v.size > 1 else float("nan")


def summary_table(frames: pd.DataFrame, rows: Sequence[str], data: str, seeded: Sequence[str] = ()) -> pd.DataFrame:
    """The reconstruction table from per-frame scores.

    ``frames``: one row per (method, seed, clip, frame) with columns ``method, seed, clip, frame, ssim,
    mse, psnr`` (``seed`` is -1 for methods without one). Per method (in the order of ``rows``):
    ``<M>`` the mean over all frames (over seeds: the mean of the per-seed means), ``<M> std clips``
    the standard deviation of the per-clip means (averaged over seeds first), ``<M> std seeds`` the
    standard deviation of the per-seed means (methods in ``seeded`` only, else NaN), ``n frames``,
    ``n clips``, ``n seeds``, ``data``.
    """
    out = []
    for method in rows:
        f = frames[frames["method"] == method]
        if f.empty:
            raise ValueError(f"summary_table: no frames scored for {method!r}")
        rec = {"method": method}
        for m in METRICS:
            per_seed = f.groupby("seed")[m].mean()
            per_clip = f.groupby(["clip", "seed"])[m].mean().groupby("clip").mean()
            rec[DISPLAY[m]] = float(per_seed.mean())
            rec[f"{DISPLAY[m]} std clips"] = _std(per_clip.values)
            rec[f"{DISPLAY[m]} std seeds"] = _std(per_seed.values) if method in seeded else float("nan")
        seeds = sorted(set(f["seed"]))
        rec["n frames"] = int(len(f) // max(1, len(seeds)))
        rec["n clips"] = int(f["clip"].nunique())
        rec["n seeds"] = len(seeds) if method in seeded else 0
        rec["data"] = data
        out.append(rec)
    return pd.DataFrame(out).set_index("method")


def paired_comparison(frames: pd.DataFrame, ours: str, others: Sequence[str], metric: str = "ssim",
                      confidence: float = 0.95) -> pd.DataFrame:
    """Paired comparison ``ours - other`` of ``metric`` over the same held-out frames and over clips.

    Ours is first averaged over seeds per frame. Two levels: ``frames`` (every held-out frame a pair;
    frames of one clip are correlated, so its interval is optimistic) and ``clips`` (per-clip means; few
    pairs, low power). Each row: mean of ours, of the other, of the difference, its ``confidence``
    interval and the two-sided p of a paired t-test (:func:`nvlib.evaluation.stats.paired_test`), and a
    plain verdict.
    """
    from nvlib.evaluation.stats import paired_test

    key = ["clip", "frame"]
    a = frames[frames["method"] == ours].groupby(key)[metric].mean()
    rows = []
    for other in others:
        b = frames[frames["method"] == other].groupby(key)[metric].mean()
        both = pd.concat([a.rename("ours"), b.rename("other")], axis=1, join="inner")
        if both.empty:
            raise ValueError(f"paired_comparison: {ours!r} and {other!r} share no frames")
        levels = {"frames": both, "clips": both.groupby(level="clip").mean()}
        for level, d in levels.items():
            t = paired_test(d["other"].values, d["ours"].values, confidence=confidence)
            if t.n < 2 or math.isnan(t.p_value):
                verdict = f"undetermined (n = {t.n})"
            elif t.significant:
                verdict = f"{ours} {'higher' if t.mean_diff > 0 else 'lower'} (p < {t.alpha:g})"
            else:
                verdict = f"no difference beyond noise (p >= {t.alpha:g})"
            rows.append({"ours": ours, "other": other, "metric": DISPLAY.get(metric, metric), "level": level,
                         "n": t.n, "mean ours": t.mean_b, "mean other": t.mean_a, "diff": t.mean_diff,
                         "ci low": t.ci_low, "ci high": t.ci_high, "p": t.p_value, "verdict": verdict})
    return pd.DataFrame(rows)


def reference_row(paper: Mapping[str, float], note: str) -> pd.DataFrame:
    """A one-row table of published numbers (``{"SSIM": .., "PSNR": ..}``) with its note, printed beside our
    table as a reference, not as a like-for-like row."""
    return pd.DataFrame([{**paper, "note": note}], index=["paper (reference)"])
