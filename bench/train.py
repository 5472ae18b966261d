"""Training / inference throughput of the six valence-arousal models, data-loading share, latency.

Run: ``.venv/bin/python bench/train.py [--size 64] [--batch 16] [--steps 3] [--device cpu|cuda]``.
Prints, per model, training and inference frames/s (a chunk of 6 counts 6 frames) and the ratio to
the baseline **ResNet18** measured in the same run; the data-loading share of a ResNet18 training
step on the synthetic cache (baseline: the same step on tensors already in memory); and the
per-frame inference latency (batch 1) of the frame models against the real-time budget of one TBR
frame every N*dt = 8 * 5 ms = 40 ms. OMP_NUM_THREADS defaults to 1 (house rule for benchmarks).
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from nvlib.models import FRAME_MODELS, MODELS, build_model, param_count  # noqa: E402

BUDGET_MS = 8 * 5.0  # N * dt at N = 8, dt = 5 ms (paper Sec. 4)


def _cfg(name: str, size: int) -> dict:
    return {"vit": dict(image_size=size)}.get(name, {})


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def _timeit(fn, steps: int, dev) -> float:
    fn()  # warm-up
    _sync(dev)
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    _sync(dev)
    return (time.perf_counter() - t) / steps


def throughput(name: str, size: int, batch: int, steps: int, dev) -> dict:
    torch.manual_seed(0)
    m = build_model(name, **_cfg(name, size)).to(dev)
    frames_per_item = 1 if m.kind == "frame" else 6
    b = max(1, batch // frames_per_item)
    x = torch.rand((b, 1, size, size) if m.kind == "frame" else (b, 6, 1, size, size), device=dev)
    y = torch.rand((b, 2) if m.kind == "frame" else (b, 6, 2), device=dev)
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-4)
    amp = dev.type == "cuda"

    def train_step():
        m.train()
        with torch.autocast(dev.type, enabled=amp):
            loss = torch.nn.functional.mse_loss(m(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    @torch.no_grad()
    def infer():
        m.eval()
        with torch.autocast(dev.type, enabled=amp):
            m(x)

    t_train = _timeit(train_step, steps, dev)
    t_inf = _timeit(infer, steps, dev)
    n = b * frames_per_item
    return {"model": name, "params_M": param_count(m)["total"] / 1e6, "train_fps": n / t_train, "infer_fps": n / t_inf}


def data_share(size: int, batch: int, steps: int, dev) -> dict | None:
    """Share of a ResNet18 training step spent waiting for the DataLoader (synthetic cache, workers 0)."""
    try:
        from nvlib.convert import prepare_synthetic_va
        from nvlib.datasets import FrameDataset
    except ImportError:
        return None
    from torch.utils.data import DataLoader

    cache = prepare_synthetic_va(n_clips=12, n_frames=48, size=size)
    ds = FrameDataset(cache, "train")
    loader = DataLoader(ds, batch_size=batch, shuffle=True, num_workers=0, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    m = build_model("resnet18").to(dev).train()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    t_data = t_step = 0.0
    it = iter(loader)
    for i in range(steps + 1):
        t0 = time.perf_counter()
        try:
            batch_d = next(it)
        except StopIteration:
            it = iter(loader)
            batch_d = next(it)
        x, y = batch_d["frame"].to(dev), batch_d["va"].to(dev)
        _sync(dev)
        t1 = time.perf_counter()
        loss = torch.nn.functional.mse_loss(m(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        _sync(dev)
        t2 = time.perf_counter()
        if i:  # first step is warm-up
            t_data += t1 - t0
            t_step += t2 - t1
    return {"data_ms": 1e3 * t_data / steps, "compute_ms": 1e3 * t_step / steps,
            "data_share": t_data / (t_data + t_step)}


@torch.no_grad()
def latency(name: str, size: int, steps: int, dev) -> float:
    torch.manual_seed(0)
    m = build_model(name, **_cfg(name, size)).to(dev).eval()
    x = torch.rand(1, 1, size, size, device=dev)
    return 1e3 * _timeit(lambda: m(x), steps, dev)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=64, help="frame side in pixels (paper: 224)")
    ap.add_argument("--batch", type=int, default=16, help="frames per batch (video: batch // 6 chunks)")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    ap.add_argument("--latency-sizes", type=int, nargs="*", default=[64, 224])
    a = ap.parse_args()
    dev = torch.device(a.device)
    print(f"device {dev}, torch {torch.__version__}, threads {torch.get_num_threads()}, size {a.size}, "
          f"batch {a.batch} frames, {a.steps} timed steps")
    rows = [throughput(n, a.size, a.batch, a.steps, dev) for n in a.models]
    base = next((r for r in rows if r["model"] == "resnet18"), rows[0])
    print(f"\n{'model':20s} {'params M':>9s} {'train f/s':>10s} {'x ' + base['model']:>12s} "
          f"{'infer f/s':>10s} {'x ' + base['model']:>12s}")
    for r in rows:
        print(f"{r['model']:20s} {r['params_M']:9.2f} {r['train_fps']:10.1f} {r['train_fps'] / base['train_fps']:12.2f} "
              f"{r['infer_fps']:10.1f} {r['infer_fps'] / base['infer_fps']:12.2f}")
    ds = data_share(a.size, a.batch, a.steps, dev)
    if ds:
        print(f"\ndata loading (FrameDataset, workers 0) {ds['data_ms']:.1f} ms vs step on in-memory tensors "
              f"{ds['compute_ms']:.1f} ms: data share {100 * ds['data_share']:.1f} % of a ResNet18 training step "
              f"(target <= 10 %)")
    print(f"\nper-frame inference latency, batch 1 (budget {BUDGET_MS:.0f} ms = one TBR frame at N=8, dt=5 ms):")
    for n in [m for m in FRAME_MODELS if m in a.models]:
        for s in a.latency_sizes:
            ms = latency(n, s, max(a.steps, 5), dev)
            print(f"  {n:10s} {s:4d}px {ms:8.2f} ms  = {ms / BUDGET_MS:.3f} x budget "
                  f"({'real time' if ms <= BUDGET_MS else 'slower than real time'})")


if __name__ == "__main__":
    main()
