"""v2e issue #30: memory grows when the emulator is called in a loop. Here 50 clips simulated one after the
other in one process keep the peak memory flat (measured in a fresh process: max RSS after 5 clips and
after 50)."""
from __future__ import annotations

import os
import subprocess
import sys

CHILD = r"""
import resource, sys
import numpy as np
from nvlib.simulate import DVSEmulator, DVSParams, simulate_frames
rng = np.random.default_rng(0)
base = np.repeat(np.repeat(rng.integers(0, 256, (26, 35)), 10, 0), 10, 1)[:260, :346].astype(np.uint8)
clip = np.stack([np.roll(base, 2 * i, axis=1) for i in range(5)])  # moving blocks
peaks = []
for k in range(50):
    p = DVSParams.preset("noisy", seed=k + 1, noise_rng=("v2e", "fast")[k % 2])
    ev = simulate_frames(clip, fps=30, params=p)
    emu = DVSEmulator(DVSParams(seed=k + 1))
    for i, f in enumerate(clip):
        emu.step(f, i / 30)
    assert len(ev) > 20_000
    peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(peaks[4], peaks[-1])
"""


def test_fifty_clips_keep_peak_memory_flat():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout.split()
    after5, after50 = float(out[0]), float(out[1])
    # a clip's per-pixel state alone is > 5 MiB (float64 brightness and memory, float32 thresholds...):
    # keeping it per clip would add > 200 MiB over 45 clips
    assert after50 - after5 < 40, (after5, after50)
