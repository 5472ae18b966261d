"""Figures of the zero-shot NEFER classification (paper Sec. 5.3; :mod:`nvlib.experiments.zeroshot`).

- :func:`plot_templates`: the class templates and the validation sequences' representative frames F on
  the valence-arousal circle with Mikels' sectors (the paper's Fig. 1 as the background), each F joined
  to the template it was assigned to;
- :func:`plot_confusion`: a confusion matrix (rows: true class, columns: predicted), counts in the cells.
"""
from __future__ import annotations

import numpy as np


def plot_templates(templates, profiles=(), frame_rule: str = "farthest", title: str = "", ax=None,
                   predicted=None):
    """Templates (large markers, one colour per class) and the representative points of ``profiles``
    (small markers in their true class's colour; ``predicted``: class index per profile, drawn as a line
    to the template it was matched to). Points are clipped to [-1, 1]."""
    import matplotlib.pyplot as plt

    from nvlib.experiments.zeroshot import representative_point
    from nvlib.pictures.va import plot_va_wheel

    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5))
    else:
        fig = ax.figure
    plot_va_wheel(np.zeros((0, 2)), ax=ax)
    ax.get_legend().remove() if ax.get_legend() else None
    classes = list(templates.classes)
    colours = {c: f"C{k % 10}" for k, c in enumerate(classes)}
    for k, c in enumerate(classes):
        if templates.available[k]:
            m = np.clip(templates.means[k], -1, 1)
            ax.scatter([m[0]], [m[1]], s=110, marker="*", color=colours[c], edgecolors="k", linewidths=0.6,
                       zorder=6, label=f"template {c}")
    for i, p in enumerate(profiles):
        if not len(p.va):
            continue
        x = np.clip(representative_point(p.va, frame_rule), -1, 1)
        ax.scatter([x[0]], [x[1]], s=22, marker="o", color=colours.get(p.label, "0.3"), edgecolors="k",
                   linewidths=0.3, zorder=5)
        if predicted is not None:
            m = np.clip(templates.means[int(predicted[i])], -1, 1)
            ax.plot([x[0], m[0]], [x[1], m[1]], color="0.4", lw=0.5, zorder=4)
    handles = [h for h in ax.collections if str(h.get_label()).startswith("template")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def plot_confusion(confusion, classes, title: str = "", ax=None):
    """A confusion matrix (counts; rows true, columns predicted) with the counts written in the cells."""
    import matplotlib.pyplot as plt

    cm = np.asarray(confusion)
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.5 * len(classes) + 2, 0.5 * len(classes) + 1.5))
    else:
        fig = ax.figure
    ax.imshow(cm, cmap="Blues", vmin=0, vmax=max(int(cm.max()), 1))
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]:
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=9)
    return fig
