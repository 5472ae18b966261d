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
# # Section 4: events as frames, the Temporal Binary Representation
#
# Berlincioni et al. feed their networks **Temporal Binary Representation** (TBR) frames
# (Innocenti et al., ICPR 2020). After fixing an accumulation time $\Delta t$, a binary frame
# $b_{x,y} = \mathbb{1}(x, y)$ is 1 wherever any event fell during $\Delta t$. $N$ consecutive binary
# frames are stacked into $B \in \{0,1\}^{H \times W \times N}$, and each pixel's binary string
# $[b^0_{x,y}, \dots, b^{N-1}_{x,y}]$ is read as one number: one frame that an ordinary CNN can take,
# remembering $N \cdot \Delta t$ of history in $N$ bits per pixel. The paper uses $\Delta t = 5$ ms and
# $N \in \{8, 16\}$ (its Table 4 ablation).
#
# Conventions, as in the authors' group's code and `nvlib.represent.tbr` by default: polarity is ignored,
# the oldest slice is the least significant bit and the newest the most significant, and values are
# divided by $2^N - 1$ (an event only in the newest slice gives $2^{N-1}/(2^N-1)$, 128/255 for $N = 8$).
# tonic's `ToBinaRep` makes the opposite bit order choice and keeps polarities apart
# (`msb_newest=False, polarity=True`).
#
# Here: TBR on a real face clip (events simulated from the `carphone` sample with v2e's model, see
# Section 3), what one pixel's bits look like, the memory footprint against $N$, and the hook for the
# Table 4 ablation.

# %% tags=["parameters"]
sample = "carphone"     # a name from nvlib.datasets.samples.list_samples()
max_frames = 36         # RGB frames decoded and simulated
frame_index = 30        # the RGB frame whose aligned TBR frame is shown
delta_t_us = 5000       # Δt (paper: 5 ms)
n_bits = 8              # N (paper: 8 and 16; the sweeps set it)
bits_compared = [4, 8, 12, 16]
seed = 0
device = "cpu"

# %%
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.colors import PowerNorm

from nvlib.datasets import samples

from nvlib.io.video import read_video
from nvlib.workbook.paths import repo_root
from nvlib.workbook.figures import save_figure, setup_style
from nvlib.represent import (active_bits, binary_slices, code_dtype, codes_from_bits, frame_times_us,
                             tbr, tbr_aligned, tbr_memory_bytes)
from nvlib.simulate import DVSParams, simulate_frames
from nvlib.workbook.tables import write_table

ROOT = repo_root()
setup_style()

# %% [markdown]
# ## A real clip and its events
# The RGB frames are converted to gray and simulated with `nvlib.simulate.simulate_frames`
# (v2e's default parameters). Event timestamps share the RGB clock, so each RGB frame $k$ at
# $t_k = k / \text{fps}$ gets the TBR frame covering $[t_k - N\Delta t, t_k)$ (`tbr_aligned`): this is
# how labels annotated on RGB frames are transferred to event frames.

# %%
gray, fps = read_video(samples.sample_path(sample), max_frames=max_frames, gray=True)
rgb, _ = read_video(samples.sample_path(sample), max_frames=max_frames)
events = simulate_frames(gray, fps=fps, params=DVSParams(seed=seed), device=device)
W, H = events.sensor_size
ends = frame_times_us(len(gray), fps)
k = min(frame_index, len(gray) - 1)
print(f"{sample}: {len(gray)} frames {W}x{H} at {fps:.2f} fps -> {len(events)} events "
      f"over {events.duration_us / 1e6:.2f} s")

# %% [markdown]
# ## From N binary slices to one frame
# The N binary slices behind the TBR frame of RGB frame $k$, and the frame they make. `codes_from_bits`
# is the definition (a weighted sum of bits); `tbr` computes the same codes straight from the events.
# TBR frames are drawn with a power-law colour scale (γ = 0.3) so that codes made only of low (old) bits
# stay visible.

# %%
start = int(ends[k]) - n_bits * delta_t_us
slices = binary_slices(events, (W, H), start, delta_t_us, n_bits)
codes = tbr_aligned(events, (W, H), [ends[k]], delta_t_us, n_bits, normalize=False)[0]
assert np.array_equal(codes_from_bits(slices), codes)

n_show = min(n_bits, 8)
fig, axes = plt.subplots(1, n_show + 2, figsize=(1.6 * (n_show + 2), 2.0))
axes[0].imshow(rgb[k])
axes[0].set_title(f"RGB frame {k}")
for i, ax in enumerate(axes[1:n_show + 1]):
    s = n_bits - n_show + i
    ax.imshow(slices[s], cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"slice {s} (bit {s})", fontsize=8)
axes[-1].imshow(codes / (2**n_bits - 1), cmap="magma", norm=PowerNorm(0.3, 0, 1))
axes[-1].set_title(f"TBR, N={n_bits}")
for ax in axes:
    ax.axis("off")
save_figure(fig, "nb02_tbr_slices")

# one pixel, bit by bit: the most active pixel of the window
y, x = np.unravel_index(np.argmax(active_bits(codes)), codes.shape)
bits = slices[:, y, x]
print(f"pixel (x={x}, y={y}): bits oldest->newest {bits.tolist()} -> code {int(codes[y, x])} "
      f"= {int(codes[y, x]) / (2**n_bits - 1):.4f} after normalisation")

# %% [markdown]
# ## The same moment with N = 4 ... 16
# With Δt fixed, a larger N looks further back (N·Δt) and packs it into one value per pixel; older
# slices sit in the low bits, so they barely change the normalised value. The paper found N = 8 better
# than N = 16 for valence and arousal ("16 bits overly compresses events").

# %%
fig, axes = plt.subplots(1, len(bits_compared) + 1, figsize=(2.4 * (len(bits_compared) + 1), 2.4))
axes[0].imshow(rgb[k])
axes[0].set_title(f"RGB frame {k}")
rows = []
for ax, n in zip(axes[1:], bits_compared):
    frame = tbr_aligned(events, (W, H), [ends[k]], delta_t_us, n)[0]
    ints = tbr_aligned(events, (W, H), [ends[k]], delta_t_us, n, normalize=False)[0]
    ax.imshow(frame, cmap="magma", norm=PowerNorm(0.3, 0, 1))
    ax.set_title(f"N={n}: {n * delta_t_us / 1000:g} ms")
    active = ints > 0
    rows.append({"n_bits": n, "window_ms": n * delta_t_us / 1000, "active_pixels": float(active.mean()),
                 "distinct_codes": int(np.unique(ints).size),
                 "mean_value_active": float(frame[active].mean()) if active.any() else 0.0,
                 "mean_active_bits": float(active_bits(ints)[active].mean()) if active.any() else 0.0})
for ax in axes:
    ax.axis("off")
save_figure(fig, "nb02_tbr_bits_compared")
write_table(rows, "nb02_tbr_bits_compared")
rows

# %% [markdown]
# The simulated events are not spread evenly over time: without temporal upsampling of the 30 fps video,
# v2e's model emits most events just after each RGB frame time, so a window shorter than one frame period
# (N = 4: 20 ms < 33 ms) ending at an RGB frame sees only the quiet tail of the interval. The phase of the
# events within the frame period shows it:

# %%
period_us = 1e6 / fps
phase_counts, _ = np.histogram((events.t % period_us) / period_us, bins=5, range=(0, 1))
[{"phase_in_frame_period": f"{i / 5:.1f}-{(i + 1) / 5:.1f}", "events": int(c)} for i, c in enumerate(phase_counts)]

# %% [markdown]
# ## Memory footprint against N
# A TBR frame needs N bits per pixel: N·H·W/8 bytes packed; `nvlib` holds uint8 codes for N ≤ 8 and
# uint16 for N ≤ 16 (exactly N·H·W bits for N = 8 and 16), one window at a time. Keeping the N slices
# as float32 frames would cost 32·N bits per pixel. Rows: the clip's sensor and a 1280×720 sensor
# (NEFER's Prophesee camera), per TBR frame.

# %%
mem_rows = []
for size in ((W, H), (1280, 720)):
    for n in (1, 2, 4, 8, 12, 16):
        m = tbr_memory_bytes(size, n)
        mem_rows.append({"sensor": f"{size[0]}x{size[1]}", "n_bits": n, "window_ms": n * delta_t_us / 1000,
                         "packed_kib": m["packed_bits"] / 1024, "codes_kib": m["codes"] / 1024,
                         "code_dtype": str(code_dtype(n)), "float32_slices_kib": m["float32_slices"] / 1024,
                         "saving_vs_float_slices": m["float32_slices"] / m["codes"]})
frames_all = tbr(events, (W, H), delta_t_us, n_bits, normalize=False)
assert frames_all.nbytes == len(frames_all) * tbr_memory_bytes((W, H), n_bits)["codes"]
write_table(mem_rows, "nb02_tbr_memory")
mem_rows

# %%
fig, ax = plt.subplots(figsize=(4.5, 3))
hd = [r for r in mem_rows if r["sensor"] == "1280x720"]
ax.plot([r["n_bits"] for r in hd], [r["packed_kib"] for r in hd], "o-", label="TBR, packed bits")
ax.plot([r["n_bits"] for r in hd], [r["codes_kib"] for r in hd], "s--", label="TBR, uint8/uint16 codes")
ax.plot([r["n_bits"] for r in hd], [r["float32_slices_kib"] for r in hd], "^-", label="N float32 slices")
ax.set_xlabel("N (bits)")
ax.set_ylabel("KiB per frame, 1280x720")
ax.set_yscale("log")
ax.legend(fontsize=8)
_ = save_figure(fig, "nb02_tbr_memory")

# %% [markdown]
# ## Hook for the Table 4 ablation (N = 8 vs N = 16)
# The ablation trains every model on AFEW-VA synthetic events with TBR at N = 8 and at N = 16. It is a
# papermill sweep: `nvlib reproduce --sweep` reads `params/sweeps/tbr_bits_8.yaml` and
# `params/sweeps/tbr_bits_16.yaml`, each naming the training notebooks (`03_frame_models`,
# `04_video_models`) and the override `n_bits`; the dataset cache is rebuilt with that N (its folder
# name carries `tbr<N>b`), and the table is assembled with the models (Section 5.2.1). This notebook
# takes the same `n_bits` parameter, so the sweeps can also rerun it.

# %%
from nvlib.workbook.params import read_yaml

sweeps = [read_yaml(ROOT / "params" / "sweeps" / f"tbr_bits_{n}.yaml") for n in (8, 16)]
[{"sweep": s["name"], "notebooks": ", ".join(s["notebooks"]), "params": s["params"]} for s in sweeps]

# %% [markdown]
# ## Explore
# The interactive explorer (JupyterLab): scrub the clip, change Δt, N and the representation, and see
# the RGB frame, the aligned event frame and the (derived) labels side by side.

# %%
from nvlib.pictures.explore import Clip, EventExplorer

try:
    from nvlib.datasets.samples import derived_va
    labels = derived_va(sample, len(rgb))[0]
except (ImportError, KeyError):
    labels = None
explorer = EventExplorer([Clip(sample, events, rgb, fps, labels, labels_kind="derived")], n_bits=n_bits,
                         delta_t_ms=delta_t_us / 1000)
explorer.set(frame=k)
explorer
