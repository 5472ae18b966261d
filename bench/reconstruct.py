"""Benchmark: reconstruction speed per event window, ours against the pretrained PIE-Net, same windows, same run.

What ``nvlib reconstruct`` does per window (voxel grid in, frame out, batch 1, previous frame as the
condition), timed for our CVAE (prior mean), the recurrent baseline, PIE-Net and PIE-Net-Lite
(``event-pienet``), on the voxel grids of a held-out sample clip (``feat_single_face`` face crops, events
simulated as in :mod:`nvlib.experiments.reconstruction`) at each ``--sizes``. Timing speed does not depend on
the weights: our models are freshly initialised here (not trained), PIE-Net loads its shipped weights.
Rounds alternate the methods; each round times one pass over the clip's windows; the table gives the
median over rounds of ms per window and the ratio PIE-Net / method.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/reconstruct.py [--sizes 40 80] [--rounds 5]``.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch


def _pass(step, vox, prev) -> float:
    t0 = time.perf_counter()
    with torch.no_grad():
        for k in range(vox.shape[0]):
            step(vox[k:k + 1], prev[k:k + 1])
    return (time.perf_counter() - t0) / vox.shape[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[40, 80])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clip", default="feat_single_face")
    args = ap.parse_args()

    from nvlib.experiments.reconstruction import PIENetPeer, _tensors, prepare_clip
    from nvlib.models.reconstruction import build_reconstructor

    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"threads {torch.get_num_threads()} (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')})")
    print("| size | method | ms / window | PIE-Net / method |")
    print("|---:|---|---:|---:|")
    for size in args.sizes:
        clip = prepare_clip(args.clip, size)
        vox, prev, _ = _tensors(clip)
        torch.manual_seed(0)
        methods = {"ours (CVAE)": build_reconstructor("cvae", {"image_size": size}).eval(),
                   "recurrent baseline": build_reconstructor("recurrent", {"image_size": size}).eval(),
                   "PIE-Net": PIENetPeer("pie-net"), "PIE-Net-Lite": PIENetPeer("pie-net-lite")}
        times = {m: [] for m in methods}
        for _ in range(args.rounds):
            for name, model in methods.items():
                model.reset_states()
                times[name].append(_pass(model.step, vox, prev))
        med = {m: float(np.median(v)) for m, v in times.items()}
        for m, t in med.items():
            print(f"| {size} | {m} | {1e3 * t:.2f} | {med['PIE-Net'] / t:.2f}x |")
        print(f"<!-- {args.clip}: {vox.shape[0]} windows, {int(clip.n_events.sum())} events -->")


if __name__ == "__main__":
    main()
