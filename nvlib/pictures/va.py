"""Valence-arousal figures in the spirit of the paper's Figs. 1, 3 and 4.

- ``plot_va_timeline``: predicted and true valence and arousal of one clip over its frames (Fig. 3).
- ``plot_va_wheel``: (valence, arousal) points on the unit disc with the eight sectors of Mikels'
  wheel of emotions (Mikels et al. 2005; paper Fig. 1), true and predicted joined (Fig. 4).

Sector layout (angles in degrees, counter-clockwise from +valence): positive emotions on the
v > 0 half, negative on v < 0, ordered by arousal; the exact assignment of the eight categories
to 45-degree sectors is our reading of the paper's Fig. 1, not a published table.
"""
from __future__ import annotations

import math

import numpy as np

# (name, start_deg, end_deg, polarity)
MIKELS_SECTORS = (
    ("amusement", 0.0, 45.0, "positive"),
    ("excitement", 45.0, 90.0, "positive"),
    ("anger", 90.0, 135.0, "negative"),
    ("fear", 135.0, 180.0, "negative"),
    ("disgust", 180.0, 225.0, "negative"),
    ("sadness", 225.0, 270.0, "negative"),
    ("contentment", 270.0, 315.0, "positive"),
    ("awe", 315.0, 360.0, "positive"),
)


def mikels_sector(valence: float, arousal: float) -> str:
    """The Mikels sector (name) a (valence, arousal) point falls into (see ``MIKELS_SECTORS``)."""
    ang = math.degrees(math.atan2(arousal, valence)) % 360.0
    for name, a0, a1, _ in MIKELS_SECTORS:
        if a0 <= ang < a1:
            return name
    return MIKELS_SECTORS[0][0]


def plot_va_timeline(df, clip: str, ax=None, fps: float | None = None):
    """Two stacked panels (valence, arousal) of one clip: truth and prediction vs frame (or seconds).

    ``df``: a predictions DataFrame (``nvlib.evaluation.predict.predictions_frame``). Returns the figure.
    """
    import matplotlib.pyplot as plt

    d = df[df["clip"] == clip].sort_values("index")
    if d.empty:
        raise ValueError(f"plot_va_timeline: clip {clip!r} not in the predictions")
    x = d["index"].to_numpy() / fps if fps else d["index"].to_numpy()
    if ax is None:
        fig, ax = plt.subplots(2, 1, figsize=(6, 3.6), sharex=True)
    else:
        fig = ax[0].figure
    for a, dim, col in zip(ax, ("valence", "arousal"), ("C0", "C3")):
        a.plot(x, d[f"{dim}_true"], color="k", lw=1.5, label="ground truth")
        a.plot(x, np.clip(d[f"{dim}_pred"], -1, 1), color=col, lw=1.2, ls="--", label="predicted")
        a.set_ylim(-1.05, 1.05)
        a.axhline(0, color="0.8", lw=0.6)
        a.set_ylabel(dim)
    ax[0].legend(loc="upper right", fontsize=7, frameon=False)
    ax[-1].set_xlabel("time (s)" if fps else "frame")
    ax[0].set_title(str(clip), fontsize=9)
    fig.tight_layout()
    return fig


def plot_va_wheel(true_va, pred_va=None, ax=None, labels: bool = True, max_points: int = 200):
    """Points on the valence-arousal disc with Mikels' eight sectors; truth (o) and prediction (x).

    true_va, pred_va: (N, 2) [valence, arousal] arrays; predictions are clipped to [-1, 1].
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Wedge

    t = np.asarray(true_va, dtype=float).reshape(-1, 2)[:max_points]
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4))
    else:
        fig = ax.figure
    for i, (name, a0, a1, pol) in enumerate(MIKELS_SECTORS):
        ax.add_patch(Wedge((0, 0), 1.0, a0, a1, facecolor=("#fde0c5" if pol == "positive" else "#cfe0f3"),
                           alpha=0.5 + 0.2 * (i % 2), edgecolor="white"))
        if labels:
            mid = math.radians((a0 + a1) / 2)
            ax.text(0.78 * math.cos(mid), 0.78 * math.sin(mid), name, ha="center", va="center", fontsize=7)
    ax.scatter(t[:, 0], t[:, 1], s=14, facecolors="none", edgecolors="k", label="ground truth", zorder=3)
    if pred_va is not None:
        p = np.clip(np.asarray(pred_va, dtype=float).reshape(-1, 2)[:max_points], -1, 1)
        for a, b in zip(t, p):
            ax.plot([a[0], b[0]], [a[1], b[1]], color="0.5", lw=0.5, zorder=2)
        ax.scatter(p[:, 0], p[:, 1], s=14, marker="x", color="C3", label="predicted", zorder=4)
    ax.axhline(0, color="0.6", lw=0.6)
    ax.axvline(0, color="0.6", lw=0.6)
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.set_xlabel("valence")
    ax.set_ylabel("arousal")
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    return fig
