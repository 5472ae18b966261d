"""Pictures of the action-unit experiment (notebook 07): example clips as RGB frames beside their event
windows, spike rasters of the spiking network, and accuracy against onset speed."""
from __future__ import annotations

import numpy as np


def plot_micro_examples(clips, n_cols: int = 6, title: str | None = None):
    """One clip per row pair: its RGB frames (top) and, below each, the events of that frame's period
    (ON white, OFF black on gray), over ``n_cols`` RGB frames centred on the AU span.

    ``clips``: :class:`nvlib.datasets.micro.MicroClip` objects (e.g. one per class).
    """
    import matplotlib.pyplot as plt

    clips = list(clips)
    fig, axes = plt.subplots(2 * len(clips), n_cols, figsize=(1.2 * n_cols, 2.5 * len(clips)), squeeze=False)
    for r, c in enumerate(clips):
        lo, hi = c.au_span_ms
        period = 1000.0 / c.rgb_fps
        mid = int(round(((lo + hi) / 2) / period))
        first = int(np.clip(mid - n_cols // 2, 0, max(0, len(c.frames) - n_cols)))
        W, H = c.events.sensor_size
        for j in range(n_cols):
            k = first + j
            ax_f, ax_e = axes[2 * r, j], axes[2 * r + 1, j]
            for ax in (ax_f, ax_e):
                ax.set_xticks([])
                ax.set_yticks([])
            if k >= len(c.frames):
                ax_f.axis("off")
                ax_e.axis("off")
                continue
            ax_f.imshow(c.frames[k], cmap="gray", vmin=0, vmax=255)
            t0, t1 = k * period, (k + 1) * period
            ax_f.set_title(f"{t0:.0f} ms", fontsize=7)
            sel = c.events[(c.events.t >= t0 * 1000) & (c.events.t < t1 * 1000)]
            img = np.zeros((H, W))
            np.add.at(img, (sel.y.astype(int), sel.x.astype(int)), np.where(sel.p > 0, 1.0, -1.0))
            ax_e.imshow(np.clip(img, -1, 1), cmap="gray", vmin=-1, vmax=1)
            ax_e.set_xlabel(f"{len(sel)} ev", fontsize=6, labelpad=1)
        axes[2 * r, 0].set_ylabel(f"{c.label}\nRGB", fontsize=7)
        axes[2 * r + 1, 0].set_ylabel(f"onset {c.onset_speed_ms:g} ms\nevents", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_spike_raster(recs: dict, step_ms: dict, classes, true_class: int, title: str | None = None):
    """Spike rasters of the hidden layer ``fc1`` and the readout membrane, one column per modality.

    ``recs``: ``{modality: (predicted class, record)}`` from :func:`nvlib.experiments.au.record_spikes`;
    ``step_ms``: ``{modality: length of one time step in ms}``.
    """
    import matplotlib.pyplot as plt

    mods = list(recs)
    fig, axes = plt.subplots(2, len(mods), figsize=(4.2 * len(mods), 4.6), squeeze=False,
                             gridspec_kw={"height_ratios": [2, 1]})
    for j, m in enumerate(mods):
        pred, rec = recs[m]
        spk = rec["fc1"]  # (T, hidden)
        dt = step_ms[m]
        t_idx, n_idx = np.nonzero(spk)
        ax = axes[0, j]
        ax.scatter((t_idx + 0.5) * dt, n_idx, s=4, marker="|", color="k")
        ax.set_xlim(0, spk.shape[0] * dt)
        ax.set_ylim(-0.5, spk.shape[1] - 0.5)
        ax.set_ylabel("fc1 neuron")
        ax.set_title(f"{m}: {int(spk.sum())} spikes; predicted {classes[pred]} (true {classes[true_class]})",
                     fontsize=8)
        ax = axes[1, j]
        mem = rec["readout"]  # (T, K)
        t = (np.arange(mem.shape[0]) + 0.5) * dt
        for k, name in enumerate(classes):
            ax.plot(t, mem[:, k], lw=1.5 if k == true_class else 0.8, label=name)
        ax.set_xlim(0, mem.shape[0] * dt)
        ax.set_xlabel("time (ms)")
        ax.set_ylabel("readout membrane")
        if j == len(mods) - 1:
            ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_accuracy_by_speed(rows, chance: float, title: str | None = None):
    """Accuracy (percent, mean over seeds with its 95 % t-interval, clipped to [0, 100]) against onset
    speed, events and RGB.

    ``rows``: :func:`nvlib.experiments.au.paired_rows` (the ``"all"`` row is left out)."""
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r["onset_ms"] != "all"]
    x = np.array([float(r["onset_ms"]) for r in rows])
    fig, ax = plt.subplots(figsize=(4.2, 3.0))
    for m, style in (("events", "o-"), ("rgb", "s--")):
        mean = 100 * np.array([r[f"{m}_mean"] for r in rows])
        lo = np.clip(100 * np.array([r[f"{m}_ci_low"] for r in rows]), 0, 100)  # an accuracy's range
        hi = np.clip(100 * np.array([r[f"{m}_ci_high"] for r in rows]), 0, 100)
        err = np.nan_to_num(np.vstack([mean - lo, hi - mean]))
        ax.errorbar(x, mean, yerr=err, fmt=style, capsize=3, label="events" if m == "events" else "RGB (30 fps)")
    ax.axhline(100 * chance, color="gray", lw=0.8, ls=":", label=f"chance ({100 * chance:.0f} %)")
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(x)
    ax.set_xticklabels([f"{v:g}" for v in x])
    ax.set_xlabel("AU onset time (ms)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=7, loc="lower right")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
