# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Section 3: from RGB video to events with v2e's pixel model
#
# AFEW-VA has no event camera recordings, so Berlincioni et al. convert its RGB videos into events
# with **v2e** (Hu, Liu, Delbruck, CVPRW 2021). Each pixel of a DVS fires when its log intensity has
# moved by a contrast threshold since its last event; v2e models this per gray frame:
#
# 1. lin-log intensity $L = \ln I$ (linear below $I = 20$), optionally low-passed by an
#    intensity-dependent photoreceptor filter (cutoff `cutoff_hz` at full white);
# 2. per-pixel ON/OFF thresholds drawn once, $\theta \sim \mathcal N(0.2, \sigma^2)$;
# 3. $n_{on} = \lfloor (L - L_{mem})^+ / \theta_{on} \rfloor$, $n_{off}$ likewise; the memorised
#    level moves by the emitted events only;
# 4. the $k$-th event of a pixel is stamped at $t_{prev} + k\,\Delta t / N$ with $N$ the largest count
#    of the frame, a refractory period drops events too close to the previous one;
# 5. leak events (reset-switch leakage) and shot noise are added.
#
# `nvlib.simulate` implements this model in torch/numpy and equals v2e's `EventEmulator` event for
# event on the same frames and seed (checked against v2e itself and, in the tests, against a
# per-sub-step reference loop); it only expands the pixels that fire, so it runs much faster.
# Below, on real face clips: RGB frames beside event (TBR) frames (the paper's Fig. 2), how video
# compression turns into block-shaped events (Fig. 5), the effect of thresholds and noise presets, and
# event-rate statistics.

# %% tags=["parameters"]
sample = "crema_1001_HAP"   # a name from nvlib.datasets.samples.list_samples()
max_frames = 40             # RGB frames decoded and simulated
camera = "dvs240"           # v2e camera preset the frames are resized to (INTER_AREA)
shown_frames = [10, 20, 30, 39]
delta_t_us = 5000           # TBR accumulation Δt (paper: 5 ms)
n_bits = 8                  # TBR bits N
thresholds = [0.1, 0.2, 0.4]
jpeg_quality = 8            # strong JPEG compression for the artifact experiment
seed = 1
device = "cpu"

# %%
import time

import cv2
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import PowerNorm

from nvlib.datasets import samples
from nvlib.io.video import read_video
from nvlib.workbook.paths import repo_root
from nvlib.workbook.figures import save_figure, setup_style
from nvlib.represent import count_image
from nvlib.simulate import CAMERAS, DVSParams, resize_for_camera, simulate_frames
from nvlib.simulate.analysis import (block_grid_stats, event_stats, jpeg_frames, rate_summary, rate_trace,
                                     same_pixel_polarity_counts)
from nvlib.workbook.tables import write_table

ROOT = repo_root()
setup_style()

# %% [markdown]
# ## A real face clip
# CREMA-D clips (480×360, 30 fps) stand in for AFEW-VA here. As in v2e, colour frames are resized to
# the camera size first and converted to gray afterwards.

# %%
rgb, fps = read_video(samples.sample_path(sample), max_frames=max_frames)
rgb = np.stack([resize_for_camera(f, camera) for f in rgb])
gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in rgb])
W, H = CAMERAS[camera]
times = np.arange(len(gray)) / fps
t0 = time.perf_counter()
events = simulate_frames(gray, fps=fps, params=DVSParams(seed=seed), device=device)
sim_s = time.perf_counter() - t0
print(f"{sample}: {len(gray)} frames {W}x{H} at {fps:.2f} fps -> {len(events)} events "
      f"({events.p.mean():.2f} ON) in {sim_s:.2f} s ({len(gray) / sim_s:.0f} frames/s)")

# %% [markdown]
# ## RGB frames beside event frames (Fig. 2)
# Each RGB frame $k$ at $t_k$ gets the TBR frame built from the events of $[t_k - N\Delta t, t_k)$
# (`nvlib.represent.tbr_aligned`), the frame-to-event label transfer used for AFEW-VA (drawn with a
# power-law scale, γ = 0.3, so that codes of older slices stay visible). Below: the event rate, and the
# clip's valence/arousal track. The sample clips carry no annotation: their labels are **derived**
# (CREMA-D's acted category, or the Pexels clip's segments, placed on a circumplex table by
# `nvlib.datasets.samples.derived_va`), never annotations.

# %%
from nvlib.datasets.samples import derived_va
from nvlib.represent import tbr_aligned

ends_us = np.round(times * 1e6).astype(np.int64)
shown = [k for k in shown_frames if k < len(gray)]
ev_frames = tbr_aligned(events, events.sensor_size, ends_us[shown], delta_t_us=delta_t_us, n_bits=n_bits)
rate_starts, rate = rate_trace(events.t, ends_us[-1], bin_us=10_000)
try:
    va_track, emotions = derived_va(sample, len(gray))
except (KeyError, ValueError):  # a clip without derivable labels (carphone, feat_single_face)
    va_track, emotions = None, []

fig = plt.figure(figsize=(2.6 * len(shown), 7.2))
gs = fig.add_gridspec(4, len(shown), height_ratios=[1, 1, 0.55, 0.55])
for j, k in enumerate(shown):
    ax = fig.add_subplot(gs[0, j])
    ax.imshow(rgb[k])
    ax.set_title(f"RGB frame {k}")
    ax.axis("off")
    ax = fig.add_subplot(gs[1, j])
    ax.imshow(ev_frames[j], cmap="gray", norm=PowerNorm(0.3, vmin=0, vmax=1))
    ax.set_title(f"TBR, N={n_bits}, Δt={delta_t_us // 1000} ms")
    ax.axis("off")
ax = fig.add_subplot(gs[2, :])
ax.plot(rate_starts / 1e6, rate / 1e3, lw=1)
for k in shown:
    ax.axvline(times[k], color="k", lw=0.6, ls=":")
ax.set_ylabel("events (k/s)")
ax.tick_params(labelbottom=False)
ax = fig.add_subplot(gs[3, :], sharex=ax)
if va_track is not None:
    ax.plot(times, va_track[:, 0], label="valence (derived)")
    ax.plot(times, va_track[:, 1], label="arousal (derived)")
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.set_title(f"derived labels: {', '.join(sorted(set(emotions)))}", fontsize=8)
ax.set_ylim(-1.05, 1.05)
ax.set_xlabel("time (s)")
save_figure(fig, "fig2_rgb_events")
plt.show()

# %% [markdown]
# ## Compression artifacts become block-shaped events (Fig. 5)
# AFEW-VA comes from compressed movie clips. Re-encoding every frame with a low JPEG quality adds
# 8×8-block artifacts that flicker from frame to frame; the simulator turns them into events aligned on
# the block grid. We measure the share of events on the block-boundary rows/columns (coordinates ≡ 7 or 0
# mod 8: 2/8 = 25% of them for a grid-free event image) and the contrast of the event image across the grid.


# %%
compressed = jpeg_frames(gray, jpeg_quality)
clean_p = DVSParams.preset("clean", seed=seed)
rows, count_images = [], {}
for name, frames in (("original", gray), (f"JPEG q={jpeg_quality}", compressed)):
    stats, counts = block_grid_stats(simulate_frames(frames, fps=fps, params=clean_p), (W, H), block=8)
    rows.append({"input": name, **stats})
    count_images[name] = counts
write_table(rows, "fig5_compression_blocks")
rows

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
axes[0].imshow(compressed[shown[-1]], cmap="gray")
axes[0].set_title(f"JPEG q={jpeg_quality} frame")
for ax, (name, counts) in zip(axes[1:], count_images.items()):
    ax.imshow(np.log1p(counts), cmap="magma")
    ax.set_title(f"event counts, {name}")
for ax in axes:
    ax.axis("off")
save_figure(fig, "fig5_compression_blocks")
plt.show()

# %% [markdown]
# ## Thresholds and noise presets
# Lower contrast thresholds give more events; v2e's `noisy` preset (σ = 0.05, 30 Hz photoreceptor, 0.1 Hz
# leak, 5 Hz shot noise) adds events where nothing moves, which mostly fire in the dark background.

# %%
configs = {f"clean, θ={th}": DVSParams.preset("clean", seed=seed, pos_thres=th, neg_thres=th) for th in thresholds}
configs["v2e defaults"] = DVSParams(seed=seed)
configs["noisy preset"] = DVSParams.preset("noisy", seed=seed)
duration = times[-1] - times[0]
rows, images = [], {}
for name, p in configs.items():
    stats, images[name] = event_stats(simulate_frames(gray, fps=fps, params=p), (W, H), duration)
    rows.append({"setting": name, **stats})
write_table(rows, "nb01_thresholds_noise")
rows

# %%
fig, axes = plt.subplots(1, len(images), figsize=(2.9 * len(images), 2.6))
vmax = np.log1p(max(im.max() for im in images.values()))
for ax, (name, img) in zip(axes, images.items()):
    ax.imshow(np.log1p(img), cmap="magma", vmin=0, vmax=vmax)
    ax.set_title(name, fontsize=9)
    ax.axis("off")
save_figure(fig, "nb01_thresholds_noise")
plt.show()

# %% [markdown]
# ## Event-rate statistics, and per-pixel timestamps
# v2e stamps all events of a frame on a lattice of $N$ sub-steps shared by the whole frame;
# `timestamp_mode="esim"` instead interpolates each crossing between the frames, per pixel (as ESIM does).
# Both modes give the same events per pixel and polarity; the distribution of times within the frame
# interval differs. Also: the distribution of event rates in 10 ms bins over the clip, and per pixel.

# %%
esim = simulate_frames(gray, fps=fps, params=DVSParams(seed=seed, timestamp_mode="esim"))
frac = {name: ((ev.t / 1e6 * fps) % 1.0) for name, ev in (("v2e lattice", events), ("per-pixel (esim)", esim))}
per_pixel_rate = count_image(events, (W, H)).reshape(-1) / duration
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
axes[0].hist(rate / 1e3, bins=30)
axes[0].set_xlabel("events (k/s) in 10 ms bins")
axes[0].set_ylabel("bins")
axes[1].hist(per_pixel_rate[per_pixel_rate > 0], bins=np.logspace(-1, 3, 40))
axes[1].set_xscale("log")
axes[1].set_xlabel("event rate of active pixels (ev/s)")
for name, f in frac.items():
    axes[2].hist(f, bins=50, histtype="step", density=True, label=name)
axes[2].set_xlabel("position within the frame interval")
axes[2].legend(fontsize=8)
save_figure(fig, "nb01_rate_statistics")
plt.show()
stats = rate_summary(events, (W, H), duration, bin_us=10_000) + [
    {"quantity": "same events per pixel and polarity in both timestamp modes",
     "value": float(same_pixel_polarity_counts(events, esim, (W, H)))}]
write_table(stats, "nb01_rate_statistics")
stats

# %% [markdown]
# ## Periodic bursts at the frame times (v2e issue #71), and what removes them
# With v2e's lattice a pixel's $k$-th event of an interval sits at sub-step $k$ of $N$, the same
# instants for the whole frame; most pixels fire once or twice, so most events share the first sub-steps
# of each interval and the event rate pulses at the frame rate. Three ways to simulate the same clip:
# v2e's lattice on the input frames; the lattice on optical-flow upsampled frames
# (`upsample_frames(..., "auto")`, `nvlib simulate --upsample auto`); and per-pixel crossing times
# (`timestamp_mode="esim"`, `nvlib simulate --timestamp_mode esim`). The trace shows the event rate in
# 1 ms bins over the first frame intervals; the table, over the whole clip, the share of events in the
# busiest millisecond of each input frame interval (about 1 ms times the frame rate if they were spread
# evenly) and the spread of the 1 ms rate (coefficient of variation).

# %%
from nvlib.simulate.upsample import upsample_frames  # noqa: E402

up_pairs = list(upsample_frames(zip(gray, times), "auto"))
upsampled = simulate_frames(np.stack([f for f, _ in up_pairs]), times_s=np.array([t for _, t in up_pairs]),
                            params=DVSParams(seed=seed), device=device)
modes = {"v2e lattice (input frames)": events,
         f"v2e lattice, flow-upsampled ({len(up_pairs)} frames)": upsampled,
         "per-pixel times (timestamp_mode='esim')": esim}
end_us = int(round(times[-1] * 1e6))
fig, ax = plt.subplots(figsize=(10, 3.2))
burst_rows = []
for name, ev in modes.items():
    starts, r1 = rate_trace(ev.t, end_us, bin_us=1000)
    shown = starts < 6 / fps * 1e6
    ax.plot(starts[shown] / 1e3, r1[shown] / 1e6, lw=1, label=name)
    counts_1ms = np.round(r1 * 1e-3).astype(np.int64)
    interval = np.floor(starts / 1e6 * fps).astype(np.int64)  # the input frame interval of each 1 ms bin
    firsts = np.flatnonzero(np.r_[True, np.diff(interval) > 0])
    burst_rows.append({"clip": f"{sample} at {W}x{H}, {len(gray)} frames", "timestamps": name, "events": len(ev),
                       "share in the busiest ms of each frame interval":
                           float(np.maximum.reduceat(counts_1ms, firsts).sum() / max(counts_1ms.sum(), 1)),
                       "1 ms rate: coefficient of variation": float(np.std(r1) / np.mean(r1))})
for k in range(7):
    ax.axvline(k / fps * 1e3, color="0.8", lw=0.5, zorder=0)
ax.set_xlabel(f"time (ms) in {sample} at {W}x{H}; grey lines: input frames")
ax.set_ylabel("events (M/s), 1 ms bins")
ax.legend(fontsize=8)
save_figure(fig, "nb01_timestamp_bursts")
plt.show()
write_table(burst_rows, "nb01_timestamp_bursts")
burst_rows
