"""Benchmark: converting the real sample clips, and whether data loading can starve training.

1. ``nvlib convert samples`` on the sample clips (default: the seven with derived labels):
   clips/s, input frames/s, output event frames/s, and the share of time in decode (video
   decoding + face detection + crop), simulate (DVS emulator), encode (TBR + label transfer) and
   write (cache files).
2. A frame-level ``DataLoader`` over the resulting cache (batch 64, shuffled) against the
   baseline: a 1-channel ResNet18 (torchvision) training step on the same batches, same machine,
   same run. Target ratio (loader frames/s over training frames/s) >= 10.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/convert.py [--size 128] [--max-frames N] [--workers W]``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import torch

from nvlib.convert import STAGES, convert_samples_result
from nvlib.datasets import FrameDataset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--max-frames", type=int, default=None)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--names", nargs="*", default=None)
    ap.add_argument("--train-steps", type=int, default=5)
    ap.add_argument("--loader-workers", type=int, default=0)
    ap.add_argument("--keep", default=None, help="convert into this folder and keep it")
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    out = a.keep or tempfile.mkdtemp(prefix="nvlib-bench-convert-")
    try:
        t0 = time.perf_counter()
        res = convert_samples_result(out, names=a.names, size=a.size, max_frames=a.max_frames, workers=a.workers,
                                     progress=False)
        wall = time.perf_counter() - t0
        if res.already_done:
            print(f"note: {res.already_done} clip(s) were already converted in {out}; timings cover the rest")
        n = len(res.converted)
        tot = sum(res.seconds.values()) or 1.0
        print(f"conversion of {n} sample clip(s) at S={a.size}, workers={a.workers}: wall {wall:.2f} s")
        print(f"  {n / wall:.3f} clips/s, {res.frames_in / wall:.1f} input frames/s, "
              f"{res.frames_out / wall:.1f} event frames/s ({res.frames_in} in, {res.frames_out} out)")
        print("  share of time: " + ", ".join(f"{s} {100 * res.seconds[s] / tot:.1f}%" for s in STAGES))
        for clip, file, reason in res.skipped:
            print(f"  skipped {clip}: {file}: {reason}")

        ds = FrameDataset(res.cache_dir, split=None)
        bs = 64
        dl = torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=True, num_workers=a.loader_workers,
                                         generator=torch.Generator().manual_seed(0))
        t0 = time.perf_counter()
        seen = 0
        for _ in range(2):
            for b in dl:
                seen += b["frame"].shape[0]
        load_fps = seen / (time.perf_counter() - t0)

        import torchvision

        model = torchvision.models.resnet18(num_classes=2)
        model.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        opt = torch.optim.AdamW(model.parameters(), 1e-4)
        batches = []
        for b in dl:
            batches.append(b)
            if len(batches) == a.train_steps + 1:
                break
        model.train()

        def step(b):
            loss = torch.nn.functional.mse_loss(model(b["frame"]), b["va"])
            opt.zero_grad()
            loss.backward()
            opt.step()

        step(batches[0])  # warm-up
        t0 = time.perf_counter()
        k = 0
        for b in batches[1:]:
            step(b)
            k += b["frame"].shape[0]
        train_fps = k / (time.perf_counter() - t0)
        print(f"frame DataLoader over the cache (batch {bs}, {len(ds)} frames, {a.size}x{a.size}, "
              f"num_workers={a.loader_workers}): {load_fps:.0f} frames/s")
        print(f"baseline: ResNet18 (1 channel) training, same batches, {torch.get_num_threads()} thread(s): "
              f"{train_fps:.1f} frames/s")
        print(f"ratio loader / training = {load_fps / train_fps:.1f}x (target >= 10x)")
    finally:
        if a.keep is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
