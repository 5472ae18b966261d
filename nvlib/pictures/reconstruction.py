"""Reconstructed frames beside the true frames (event-to-frame reconstruction, :mod:`nvlib.experiments.reconstruction`).

``plot_reconstructions(result, n=4)``: a grid, one row per example frame of the held-out clips (the
windows with the most events), one column per method after the true frame; each panel gives the frame's
SSIM against the true frame (EVREAL's SSIM, :func:`nvlib.evaluation.reconstruction.ssim`). An optional
last column shows ``|true - previous frame|``, where the frame changed. The title names the data.
"""
from __future__ import annotations

import numpy as np


def plot_reconstructions(result, n: int = 4, methods=None, show_change: bool = True):
    """Figure of ``n`` examples of ``result.examples`` (a :class:`ReconstructionResult` or its ``examples``
    dict): the true frame, each method's reconstruction (``methods`` default: every row), and the change
    from the previous frame (amplified ×4). Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    from nvlib.evaluation.reconstruction import ssim

    ex = result.examples if hasattr(result, "examples") else result
    true = np.asarray(ex["true"])
    names = list(methods) if methods is not None else list(ex["methods"])
    unknown = [m for m in names if m not in ex["methods"]]
    if unknown:
        raise ValueError(f"plot_reconstructions: no examples for {unknown}; have {list(ex['methods'])}")
    n = min(int(n), true.shape[0])
    if n < 1:
        raise ValueError("plot_reconstructions: no example frames")
    prev = ex["methods"].get("previous frame")
    extra = 1 if (show_change and prev is not None) else 0
    cols = 1 + len(names) + extra
    fig, axes = plt.subplots(n, cols, figsize=(1.35 * cols, 1.45 * n + 0.5), squeeze=False)
    for i in range(n):
        panels = [("true", true[i], None)]
        panels += [(m, np.asarray(ex["methods"][m][i]), ssim(true[i], ex["methods"][m][i])) for m in names]
        for j, (title, img, s) in enumerate(panels):
            ax = axes[i, j]
            ax.imshow(np.clip(img, 0, 1), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(title, fontsize=7)
            if s is not None:
                ax.set_xlabel(f"SSIM {s:.3f}", fontsize=6)
        if extra:
            ax = axes[i, -1]
            ax.imshow(np.clip(4 * np.abs(true[i] - np.asarray(prev[i])), 0, 1), cmap="magma", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title("|change| x4", fontsize=7)
        axes[i, 0].set_ylabel(f"{ex['clips'][i]}\nframe {ex['frames'][i]}, {ex['n_events'][i]} ev", fontsize=6)
    data = ""
    if hasattr(result, "held_out"):
        data = f"held-out clips {', '.join(result.held_out)}; events simulated from face crops"
    fig.suptitle("Reconstructed beside true frames" + (f"\n{data}" if data else ""), fontsize=8)
    fig.tight_layout()
    return fig
