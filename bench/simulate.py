"""Benchmark nvlib.simulate against a straightforward v2e-style per-sub-step loop, same run; and its
compiled kernels against the plain paths they replace, on what users simulate.

Baseline: v2e's algorithm (SensorsINI/v2e ``EventEmulator.generate_events``) written plainly
in torch here: per frame the dense lin-log / low-pass / leak / event-count maps, then a loop
over the N sub-steps that scans the whole frame at each one (comparisons, refractory update,
``nonzero``, event rows, per-sub-step shuffle), then shot noise. Both run on one thread
(OMP_NUM_THREADS=1, torch.set_num_threads(1), cv2.setNumThreads(1)) on the same gray frames
of real face clips resized to 346x260 and 640x360, with the ``clean`` preset and v2e's default
parameters (noise drawn exactly as v2e does, and with ``noise_rng="fast"``). Prints frames/s, events/s and the speed-up, then the peak memory (max RSS of
a fresh process) of streaming a clip of L and 4L frames, to show it does not grow with L.
The CPU kernels are numba-compiled when numba is installed (``--kernels numpy`` times the pure
numpy fallback); their one-off compile time (fresh cache) and cache-load time are measured in
fresh processes and printed separately, and every timed run is warmed up first.

Part ``kernels`` (the evidence for keeping them: at least 1.5x on a user's input): ``simulate_frames``
with the compiled kernels (``kernels="numba"``) against the numpy kernels (``kernels="numpy"``), and,
with the compiled kernels, the noise draws continued in compiled code (:mod:`nvlib.simulate.rng`)
against torch's own draws (the emulator's compiled stream switched off after the first frame, as the
tests switch it off), both with ``DVSParams()`` (what the converter and the explorer use) and the
``clean`` preset; outputs are checked equal, the two alternate for ``--rounds`` rounds (median ratio).
Inputs: the first ``--frames`` frames of sample clips as the converter prepares them (gray, a central
square resized to 128x128, optical-flow upsampling to at least one sub-frame per 5 ms), and as the
explorer and notebooks 01/02 do (native size; crema_1001_HAP resized to the DVS346's 346x260).

    OMP_NUM_THREADS=1 .venv/bin/python bench/simulate.py [--part loop|kernels|all] [--frames 60] [--device cuda]
        [--kernels numpy] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)
cv2.setNumThreads(1)

from nvlib.simulate import DVSEmulator, DVSParams  # noqa: E402
from nvlib.simulate.expand import HAVE_NUMBA  # noqa: E402


def baseline_loop(frames, times, p: DVSParams) -> int:
    """v2e's per-sub-step algorithm, plainly, in torch on the CPU; returns the event count."""
    gen = torch.Generator().manual_seed(p.torch_seed)
    f20 = (1.0 / 20) * math.log(20)
    lp = base = None
    t_prev = 0.0
    total = 0
    for fr, t in zip(frames, times):
        x = torch.tensor(fr, dtype=torch.float64)
        lin = torch.where(x <= 20, x * f20, torch.log(x))
        lin = (torch.round(lin * 1e8) / 1e8).float()
        dt = t - t_prev
        inten = (x + 20) / 275.0
        if lp is None:
            lp = lin
        if p.cutoff_hz > 0:
            eps = torch.clamp(inten * (dt / (1 / (math.pi * 2 * p.cutoff_hz))), max=1)
            lp = (1 - eps) * lp + eps * lin
        else:
            lp = lin
        if base is None:
            pos = torch.clamp(torch.normal(p.pos_thres, p.sigma_thres, size=x.shape, generator=gen), min=0.01)
            neg = torch.clamp(torch.normal(p.neg_thres, p.sigma_thres, size=x.shape, generator=gen), min=0.01)
            rate = torch.exp(math.log(10) * p.noise_rate_cov_decades * torch.randn(x.shape, generator=gen))
            mem = torch.zeros(x.shape) - p.refractory_period_s
            base = lp
            t_prev = t
            continue
        if p.leak_rate_hz > 0:
            r = torch.randn(x.shape, generator=gen)
            base = base - dt * (p.leak_rate_hz * rate * (1 - p.leak_jitter_fraction * r)) * pos
        diff = lp - base
        n_on = torch.div(F.relu(diff), pos, rounding_mode="floor").to(torch.int32)
        n_off = torch.div(F.relu(-diff), neg, rounding_mode="floor").to(torch.int32)
        n = int(max(n_on.max(), n_off.max()))
        steps = max(n, 1)
        ts = torch.linspace(t_prev + dt / steps, t, steps, dtype=torch.float32)
        fin_on = torch.zeros_like(n_on)
        fin_off = torch.zeros_like(n_off)
        events = torch.empty((0, 4))
        for i in range(n):
            c_on, c_off = n_on >= i + 1, n_off >= i + 1
            if p.refractory_period_s > dt / steps:
                c_on = (c_on * ts[i] - mem) > p.refractory_period_s
                c_off = (c_off * ts[i] - mem) > p.refractory_period_s
                mem = torch.where(c_on, ts[i], mem)
                mem = torch.where(c_off, ts[i], mem)
            fin_on += c_on
            fin_off += c_off
            on_yx, off_yx = c_on.nonzero(as_tuple=True), c_off.nonzero(as_tuple=True)
            k_on, k = on_yx[0].shape[0], on_yx[0].shape[0] + off_yx[0].shape[0]
            if k:
                ev = torch.ones((k, 4))
                ev[:, 0] *= ts[i]
                ev[:k_on, 1], ev[:k_on, 2] = on_yx[1], on_yx[0]
                ev[k_on:, 1], ev[k_on:, 2] = off_yx[1], off_yx[0]
                ev[k_on:, 3] = -1
                ev = ev[torch.randperm(k, generator=gen)]
                events = torch.cat((events, ev))
        base = base + fin_on * pos
        base = base - fin_off * neg
        if p.shot_noise_rate_hz > 0:
            fac = ((p.shot_noise_rate_hz / 2) * dt) * ((0.25 - 1) * inten + 1)
            u = torch.rand(x.shape, generator=gen)
            s_on, s_off = u > 1 - fac * (p.pos_thres / pos), u < fac * (p.neg_thres / neg)
            for mask, pol in ((s_on, 1.0), (s_off, -1.0)):
                yx = mask.nonzero(as_tuple=True)
                ev = torch.full((yx[0].shape[0], 4), pol)
                ev[:, 0], ev[:, 1], ev[:, 2] = ts[-1], yx[1], yx[0]
                events = torch.cat((events, ev))
            base = torch.where(s_on | s_off, lp.to(base.dtype), base)
        total += int(events.shape[0])
        _ = events.numpy()
        t_prev = t
    return total


def ours(frames, times, p: DVSParams, device="cpu", kernels="auto") -> int:
    emu = DVSEmulator(p, device=device, kernels=kernels)
    n = 0
    for fr, t in zip(frames, times):
        n += len(emu.step(fr, t))
    if device != "cpu":
        torch.cuda.synchronize()
    return n


def load(name, size, n_frames):
    from nvlib.datasets.samples import sample_path
    from nvlib.io.video import read_video
    frames, fps = read_video(sample_path(name), max_frames=n_frames, gray=True)
    frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
    return frames, fps


def timed(fn, *a, repeat=1):
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*a)
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_rss_child(n_frames: int, size, name: str) -> float:
    """Max RSS (MiB) of a fresh process streaming ``n_frames`` (the clip played back and forth)."""
    code = f"""
import os, resource, numpy as np, cv2, torch
torch.set_num_threads(1); cv2.setNumThreads(1)
from nvlib.datasets.samples import sample_path
from nvlib.io.video import read_video
from nvlib.simulate import DVSEmulator, DVSParams
fr, fps = read_video(sample_path({name!r}), max_frames=60, gray=True)
fr = np.stack([cv2.resize(f, {tuple(size)!r}, interpolation=cv2.INTER_AREA) for f in fr])
seq = np.concatenate([fr, fr[::-1]])
emu = DVSEmulator(DVSParams(seed=1))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
n = 0
for i in range({n_frames}):
    n += len(emu.step(seq[i % len(seq)], i / fps))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, base / 1024, n)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    peak, before, n = out.stdout.split()
    return float(peak), float(before), int(n)


def jit_cost_child(cache_dir: str) -> float:
    """Seconds a fresh process spends on its first frames (all presets) beyond later ones:
    numba's compile time with an empty ``cache_dir``, its cache-load time with a filled one."""
    code = """
import time, numpy as np, torch
torch.set_num_threads(1)
from nvlib.simulate import DVSEmulator, DVSParams
fr = (np.arange(6 * 20 * 30) % 251).astype(np.uint8).reshape(6, 20, 30) * np.uint8(3)
ps = [DVSParams.preset("clean", seed=1), DVSParams(seed=1), DVSParams(seed=1, noise_rng="fast"),
      DVSParams.preset("clean", seed=1, refractory_period_s=0.02)]
def go():
    t0 = time.perf_counter()
    for p in ps:
        emu = DVSEmulator(p)
        for i, f in enumerate(fr):
            emu.step(f, i / 30)
    return time.perf_counter() - t0
first = go()
print(first - min(go() for _ in range(3)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_CACHE_DIR": cache_dir})
    return float(out.stdout.split()[-1])


def converter_frames(name: str, n_frames: int, size: int = 128, delta_t_us: int = 5000):
    """``(frames, times_s)`` of a sample clip as the converter hands them to the simulator (see the
    module docstring; the converter's face box has the same output size as the central square)."""
    from nvlib.datasets.samples import sample_path
    from nvlib.io.video import read_video
    from nvlib.simulate.upsample import upsample_frames

    gray, fps = read_video(sample_path(name), max_frames=n_frames, gray=True)
    h, w = gray.shape[1:]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    small = np.stack([cv2.resize(f[y0:y0 + side, x0:x0 + side], (size, size), interpolation=cv2.INTER_AREA)
                      for f in gray])
    min_k = int(np.ceil(1e6 / (float(fps) * delta_t_us) - 1e-9))
    pairs = list(upsample_frames(zip(small, np.arange(len(small)) / fps), factor="auto", min_factor=min_k))
    return np.stack([f for f, _ in pairs]), np.array([t for _, t in pairs])


def viewer_frames(name: str, n_frames: int, camera: str | None = None):
    """``(frames, times_s)`` as the explorer (native size) or notebook 01 (``camera``'s size) simulate them."""
    from nvlib.datasets.samples import sample_path
    from nvlib.io.video import read_video
    from nvlib.simulate import resize_for_camera

    rgb, fps = read_video(sample_path(name), max_frames=n_frames)
    if camera is not None:
        rgb = np.stack([resize_for_camera(f, camera) for f in rgb])
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in rgb])
    return gray, np.arange(len(gray)) / fps


def torch_draws(frames, times, p: DVSParams) -> np.ndarray:
    """Compiled kernels, but the noise drawn by torch itself from the second frame on."""
    emu = DVSEmulator(p, kernels="numba")
    out = []
    for i, (fr, t) in enumerate(zip(frames, times)):
        if i == 1:
            emu._stream = None
        out.append(emu.step(fr, t).array)
    return np.concatenate(out)


def interleaved(label: str, fast, plain, rounds: int) -> None:
    """``fast`` against ``plain`` (same output), alternating, best of 2 each per round: median ratio."""
    a, b = fast(), plain()
    assert a.tobytes() == b.tobytes(), f"{label}: outputs differ"
    ratios = []
    for _ in range(rounds):
        tf, _ = timed(fast, repeat=2)
        tp, _ = timed(plain, repeat=2)
        ratios.append(tp / tf)
    print(f"  {label:<62s} {tf * 1e3:7.1f} ms vs {tp * 1e3:7.1f} ms: median {float(np.median(ratios)):5.2f}x "
          f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}); {len(a)} events", flush=True)


def kernels_part(args) -> None:
    from nvlib.simulate import simulate_frames

    if not HAVE_NUMBA:
        print("kernels: skipped (numba not installed)")
        return
    inputs = [(f"convert {n} 128x128", converter_frames(n, args.frames))
              for n in ("crema_1001_HAP", "carphone", "pexels_wolfganglanger")]
    inputs += [("explorer/nb02 carphone 176x144", viewer_frames("carphone", args.frames)),
               ("explorer crema_1001_HAP 480x360", viewer_frames("crema_1001_HAP", args.frames)),
               ("nb01 crema_1001_HAP 346x260", viewer_frames("crema_1001_HAP", args.frames, "dvs346"))]
    params = {"DVSParams()": DVSParams(seed=1), "clean": DVSParams.preset("clean", seed=1)}
    print("compiled kernels against numpy kernels (numba ms vs numpy ms: numpy/numba)")
    for label, (frames, times) in inputs:
        for pname, p in params.items():
            interleaved(f"{label}, {len(frames)} frames, {pname}",
                        lambda: simulate_frames(frames, times_s=times, params=p, kernels="numba").array,
                        lambda: simulate_frames(frames, times_s=times, params=p, kernels="numpy").array,
                        args.rounds)
    print("compiled noise draws against torch's draws, compiled kernels, DVSParams() (compiled ms vs torch ms)")
    for label, (frames, times) in inputs:
        p = params["DVSParams()"]
        interleaved(f"{label}, {len(frames)} frames",
                    lambda: simulate_frames(frames, times_s=times, params=p, kernels="numba").array,
                    lambda: torch_draws(frames, times, p), args.rounds)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("loop", "kernels", "all"), default="all")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds per kernels comparison")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--device", default=None, help="also time this torch device (e.g. cuda)")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--kernels", default="auto", choices=("auto", "numba", "numpy"),
                    help="CPU kernels of nvlib.simulate (auto: numba when installed)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of ours per case (best-of)")
    args = ap.parse_args(argv)
    cases = [("crema_1001_HAP", (346, 260)), ("pexels_wolfganglanger", (346, 260)),
             ("crema_1001_HAP", (640, 360)), ("pexels_wolfganglanger", (640, 360))]
    presets = {"clean preset": DVSParams.preset("clean", seed=1),
               "v2e defaults, exact v2e noise": DVSParams(seed=1),
               "v2e defaults, noise_rng=fast": DVSParams(seed=1, noise_rng="fast")}
    rows = []
    use_numba = HAVE_NUMBA and args.kernels != "numpy"
    print(f"machine: {os.cpu_count()} cpus, torch {torch.__version__}, one thread; {args.frames} frames per clip; "
          f"kernels: {'numba ' + __import__('numba').__version__ if use_numba else 'numpy'}")
    if args.part in ("kernels", "all"):
        kernels_part(args)
    if args.part == "kernels":
        return 0
    if use_numba:
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            cold = jit_cost_child(d)
            warm = jit_cost_child(d)
        print(f"numba one-off cost per process: compile {cold:.1f} s (empty cache), load {warm:.2f} s (cached); "
              f"not included in the timings below (warmed up)")
    for name, size in cases:
        frames, fps = load(name, size, args.frames)
        times = np.arange(len(frames)) / fps
        for pname, p in presets.items():
            tb, nb = timed(baseline_loop, frames, times, p)
            ours(frames[:3], times[:3], p, "cpu", args.kernels)  # warm-up (compiles on first use)
            to, no = timed(ours, frames, times, p, "cpu", args.kernels, repeat=args.repeat)
            row = dict(clip=name, size=f"{size[0]}x{size[1]}", params=pname, frames=len(frames),
                       events=no, baseline_events=nb,
                       baseline_fps=len(frames) / tb, ours_fps=len(frames) / to,
                       ours_Mev_s=no / to / 1e6, speedup=tb / to)
            if args.device:
                ours(frames[:3], times[:3], p, args.device)
                tg, _ = timed(ours, frames, times, p, args.device, "auto", repeat=2)
                row[f"{args.device}_fps"] = len(frames) / tg
            rows.append(row)
            print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
    for pname in presets:
        sp = [r["speedup"] for r in rows if r["params"] == pname]
        print(f"{pname}: speed-up over the per-sub-step loop: min {min(sp):.1f}x, "
              f"median {float(np.median(sp)):.1f}x, max {max(sp):.1f}x")
    if not args.no_memory:
        for n in (100, 400, 1600):
            peak, before, ne = peak_rss_child(n, (346, 260), "crema_1001_HAP")
            print(f"peak RSS streaming {n:5d} frames at 346x260: {peak:.0f} MiB "
                  f"(after setup {before:.0f} MiB, {ne} events emitted and dropped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
