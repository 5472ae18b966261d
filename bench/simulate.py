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

Part ``v2e`` (the peer itself): v2e's own ``EventEmulator`` (SensorsINI/v2e, a checkout outside this
repository given by ``--v2e PATH`` or the environment variable ``V2E_ROOT``; modules v2e imports only for
its GUI and output writers are replaced by empty modules when they are not installed) against
``DVSEmulator`` on the same gray frames, per preset: both streamed frame by frame in-process, warm, best
of ``--rounds`` rounds alternating the two (median of the per-round ratios); the ratio, the ratio against
the per-sub-step loop above, and for the noisy presets the
exact-draw floor: the time torch's generator alone needs for the draws v2e makes (per frame H*W normals,
one ``randperm`` per sub-step, H*W uniforms). Per-pixel, per-polarity event counts of v2e and of
``noise_rng="v2e"`` are checked equal. Without a v2e checkout the part says so and prints only the loop.

Part ``startup``: wall time of ``nvlib simulate --help`` and of ``nvlib simulate`` on a 2 s sample clip in
fresh processes, against the ``python -c "import torch"`` floor.

    OMP_NUM_THREADS=1 .venv/bin/python bench/simulate.py [--part loop|kernels|v2e|startup|all] [--frames 60]
        [--device cuda] [--kernels numpy] [--rounds 3] [--v2e PATH]
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


def shot_compare(label: str, frames, times, p: DVSParams, rounds: int) -> None:
    """SparseShot.draw (numba) against the numpy fallback with the same buckets, on a clip's frames."""
    from nvlib.simulate.shot import DENSE_Q, _shot_sparse_numpy
    emu = DVSEmulator(p)
    emu.step(frames[0], times[0])
    emu.step(frames[1], times[1])  # makes the SparseShot
    shot = emu._shot
    tables = [emu._shot_table(float(t1 - t0), f) for f, t0, t1 in zip(frames[1:], times[:-1], times[1:])]
    flat = [np.ascontiguousarray(f).reshape(-1) for f in frames[1:]]

    def fast():
        return sum(sum(len(x) for x in shot.draw(f, tb)) for f, tb in zip(flat, tables))

    def plain():
        return sum(sum(len(x) for x in _shot_sparse_numpy(f, tb, float(tb.max()), shot.pre_pos, shot.pre_neg,
                                                          shot.order, shot.bstart, shot.bmax, shot._rng, DENSE_Q))
                   for f, tb in zip(flat, tables))
    na, nb = fast(), plain()
    ratios = []
    for _ in range(rounds):
        tf, _ = timed(fast, repeat=2)
        tp, _ = timed(plain, repeat=2)
        ratios.append(tp / tf)
    print(f"  {label:<62s} {tf * 1e3:7.2f} ms vs {tp * 1e3:7.2f} ms: median {float(np.median(ratios)):5.2f}x "
          f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}); {na} vs {nb} shot events", flush=True)


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
    print("fast shot noise (nvlib.simulate.shot): compiled draw against its numpy fallback, per clip "
          "(compiled ms vs numpy ms; other realisations, so counts are compared, not events)")
    for label, (frames, times) in inputs[3:]:
        for pname, p in (("noisy", DVSParams.preset("noisy", seed=1, noise_rng="fast")),
                         ("DVSParams()", DVSParams(seed=1, noise_rng="fast"))):
            shot_compare(f"{label}, {len(frames)} frames, {pname}", frames, times, p, args.rounds)
    print("compiled noise draws against torch's draws, compiled kernels, DVSParams() (compiled ms vs torch ms)")
    for label, (frames, times) in inputs:
        p = params["DVSParams()"]
        interleaved(f"{label}, {len(frames)} frames",
                    lambda: simulate_frames(frames, times_s=times, params=p, kernels="numba").array,
                    lambda: torch_draws(frames, times, p), args.rounds)


# ----------------------------------------------------------------------------- part v2e
V2E_CASES = [  # (label, clip, size (W, H), v2e EventEmulator arguments, frames)
    ("CREMA-D ANG 480x360, noisy (sigma 0.05, 30 Hz, leak 0.1 Hz, shot 5 Hz)", "crema_1001_ANG", (480, 360),
     dict(pos_thres=0.2, neg_thres=0.2, sigma_thres=0.05, cutoff_hz=30.0, leak_rate_hz=0.1, shot_noise_rate_hz=5.0,
          refractory_period_s=0.0), 60),
    ("Pexels 640x360, thresholds only (sigma 0.03)", "pexels_wolfganglanger", (640, 360),
     dict(pos_thres=0.2, neg_thres=0.2, sigma_thres=0.03, cutoff_hz=0.0, leak_rate_hz=0.0, shot_noise_rate_hz=0.0,
          refractory_period_s=0.0), 20),
    ("CREMA-D HAP 480x360, thresholds only", "crema_1001_HAP", (480, 360),
     dict(pos_thres=0.2, neg_thres=0.2, sigma_thres=0.03, cutoff_hz=0.0, leak_rate_hz=0.0, shot_noise_rate_hz=0.0,
          refractory_period_s=0.0), 56),
    ("Pexels 346x260, low-pass 30 Hz + refractory 1 ms", "pexels_wolfganglanger", (346, 260),
     dict(pos_thres=0.2, neg_thres=0.2, sigma_thres=0.03, cutoff_hz=30.0, leak_rate_hz=0.0, shot_noise_rate_hz=0.0,
          refractory_period_s=0.001), 40),
]


def import_v2e(root: str):
    """v2e's ``EventEmulator`` from a checkout at ``root``; GUI/output-only imports that are not installed
    (screeninfo, easygui, engineering_notation, dv_processing) become empty modules."""
    import logging
    import types
    stubs = {"screeninfo": {"get_monitors": lambda: []}, "easygui": {},
             "engineering_notation": {"EngNumber": lambda *a, **k: str(a[0]) if a else ""}, "dv_processing": {}}
    for name, attrs in stubs.items():
        try:
            __import__(name)
        except ImportError:
            mod = types.ModuleType(name)
            mod.__dict__.update(attrs)
            sys.modules[name] = mod
    sys.path.insert(0, os.path.abspath(root))
    from v2ecore.emulator import EventEmulator
    logging.getLogger("v2ecore").setLevel(logging.ERROR)
    logging.disable(logging.WARNING)  # v2e warns on every frame without events
    return EventEmulator


def v2e_run(EventEmulator, frames, times, kw) -> list:
    torch.manual_seed(0)
    emu = EventEmulator(**kw, leak_jitter_fraction=0.1, noise_rate_cov_decades=0.1, seed=1, device="cpu")
    out = []
    for fr, t in zip(frames, times):
        ev = emu.generate_events(fr, t)
        if ev is not None:
            out.append(ev)
    return out


def counts_per_pixel(xs, ys, ps, size) -> np.ndarray:
    w, h = size
    return np.bincount((np.asarray(ps, np.int64) * h + np.asarray(ys, np.int64)) * w + np.asarray(xs, np.int64),
                       minlength=2 * w * h)


def exact_draws(frames, times, p: DVSParams) -> int:
    """torch's CPU generator alone making v2e's draws for this clip (nothing else computed): per frame
    after the first, H*W normals (leak), one randperm per sub-step with that sub-step's event count (v2e's
    shuffle), H*W uniforms (shot noise); the sub-step counts come from a run of the emulator, cached
    (without the last sub-step when shot noise shares its time, so the floor is a lower bound)."""
    key = (id(frames), p)
    if key not in _SUBSTEPS:
        emu = DVSEmulator(p)
        per_frame = []
        for fr, t in zip(frames, times):
            counts = np.unique(emu.step(fr, t).t, return_counts=True)[1]
            per_frame.append(counts[:-1] if p.shot_noise_rate_hz > 0 else counts)
        _SUBSTEPS[key] = per_frame
    h, w = frames.shape[1:]
    gen = torch.Generator().manual_seed(1)
    n = 0
    for counts in _SUBSTEPS[key][1:]:
        if p.leak_rate_hz > 0:
            torch.randn((h, w), generator=gen, dtype=torch.float32)
        for c in counts.tolist():
            torch.randperm(c, generator=gen)
        if p.shot_noise_rate_hz > 0:
            torch.rand((h, w), generator=gen, dtype=torch.float32)
        n += 1
    return n


_SUBSTEPS: dict = {}


def v2e_part(args) -> None:
    root = args.v2e or os.environ.get("V2E_ROOT")
    if not root:
        print("v2e: no v2e checkout given (--v2e PATH or V2E_ROOT): v2e's own EventEmulator not timed; "
              "the per-sub-step loop of part 'loop' is this bench's own baseline (its speed relative to v2e's: "
              "bench/RESULTS.md)")
        return
    EventEmulator = import_v2e(root)
    print(f"v2e's EventEmulator from {root}; both streamed frame by frame, warm, one thread; {args.rounds} "
          "rounds alternating v2e and nvlib (each timed once per round): best times, median of the per-round "
          "ratios (the load of a shared machine changes between rounds)")
    from nvlib.simulate import simulate_frames
    for label, clip, size, kw, n_frames in V2E_CASES:
        frames, fps = load(clip, size, n_frames)
        times = np.arange(len(frames)) / fps
        noisy = kw["leak_rate_hz"] > 0 or kw["shot_noise_rate_hz"] > 0
        base = dict(kw, leak_jitter_fraction=0.1, noise_rate_cov_decades=0.1, seed=1)
        p_exact = DVSParams(**base, noise_rng="v2e")
        p_fast = DVSParams(**base, noise_rng="fast")
        runs = {"v2e": lambda: v2e_run(EventEmulator, frames, times, kw),
                "exact": lambda: ours(frames, times, p_exact),
                "frames": lambda: simulate_frames(frames, times_s=times, params=p_exact),
                "loop": lambda: baseline_loop(frames, times, p_exact)}
        if noisy:
            runs["fast"] = lambda: ours(frames, times, p_fast)
            runs["floor"] = lambda: exact_draws(frames, times, p_exact)
        out = {k: f() for k, f in runs.items()}  # warm-up (and outputs)
        best = {k: math.inf for k in runs}
        ratios = {k: [] for k in runs if k != "v2e"}
        for _ in range(args.rounds):
            t = {k: timed(f)[0] for k, f in runs.items()}
            for k in runs:
                best[k] = min(best[k], t[k])
            for k in ratios:
                ratios[k].append(t["v2e"] / t[k])
        med = {k: float(np.median(v)) for k, v in ratios.items()}
        ev_v = np.concatenate(out["v2e"]) if out["v2e"] else np.zeros((0, 4), np.float32)
        ref = np.concatenate([e.array for e in _stream(frames, times, p_exact)])
        same = np.array_equal(counts_per_pixel(ev_v[:, 1], ev_v[:, 2], ev_v[:, 3] > 0, size),
                              counts_per_pixel(ref["x"], ref["y"], ref["p"], size))
        line = (f"{label}, {len(frames)} frames, {len(ev_v)} v2e events: v2e {best['v2e'] * 1e3:.0f} ms; "
                f"nvlib (noise_rng='v2e') {best['exact'] * 1e3:.1f} ms: {med['exact']:.1f}x v2e "
                f"({med['exact'] / med['loop']:.1f}x the loop, which runs at {med['loop']:.2f}x v2e); "
                f"simulate_frames (one concatenated array) {med['frames']:.1f}x v2e; "
                f"per-pixel counts equal v2e's: {same}")
        if noisy:
            nf, ne = out["fast"], out["exact"]
            line += (f"; nvlib (noise_rng='fast') {best['fast'] * 1e3:.1f} ms: {med['fast']:.1f}x v2e "
                     f"({med['fast'] / med['loop']:.1f}x the loop), {nf} events ({(nf - ne) / ne * 100:+.2f}% "
                     f"against exact); exact-draw floor (torch's generator alone) {best['floor'] * 1e3:.1f} ms: "
                     f"exact mode at {best['exact'] / best['floor']:.2f}x the floor")
        print(line, flush=True)


def _stream(frames, times, p):
    emu = DVSEmulator(p)
    return [emu.step(fr, t) for fr, t in zip(frames, times)]


def startup_part(args) -> None:
    """Fresh-process wall times (best of 3): ``nvlib simulate --help``, a 2 s clip, ``import torch``."""
    import tempfile
    from nvlib.datasets.samples import sample_path
    nvlib_exe = os.path.join(os.path.dirname(sys.executable), "nvlib")
    clip = str(sample_path("feat_single_face"))
    with tempfile.TemporaryDirectory() as d:
        cmds = {"python -c 'import torch' (floor)": [sys.executable, "-c", "import torch"],
                "nvlib simulate --help": [nvlib_exe, "simulate", "--help"],
                "nvlib simulate, 2 s clip (60 frames 640x360, v2e defaults, --dvs_aedat4)":
                    [nvlib_exe, "simulate", "-i", clip, "--max_frames", "60", "--no_progress", "--dvs_aedat4",
                     os.path.join(d, "o.aedat4")]}
        for label, cmd in cmds.items():
            best = math.inf
            for _ in range(3):
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
                best = min(best, time.perf_counter() - t0)
            print(f"  {label}: {best:.2f} s wall (best of 3, fresh process)", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("loop", "kernels", "v2e", "startup", "all"), default="all")
    ap.add_argument("--v2e", default=None, help="a SensorsINI/v2e checkout (default: $V2E_ROOT)")
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
    if args.part in ("v2e", "all"):
        v2e_part(args)
    if args.part in ("startup", "all"):
        startup_part(args)
    if args.part in ("kernels", "all"):
        kernels_part(args)
    if args.part in ("kernels", "v2e", "startup"):
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
