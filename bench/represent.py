"""Benchmark nvlib.represent: the compiled TBR passes against the numpy paths they replace on what users
run, and nvlib against tonic (the peer) on ~2 M events at 1280x720.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/represent.py [--part user|peer|all] [--rounds 5] [--repeat 5]``.
Results, with machine, date and commit: ``bench/RESULTS.md``.

Part ``user`` (the evidence for keeping a compiled pass: at least 1.5x on a user's input; the histogram,
voxel grid and time surface have none, ``bench/RESULTS.md`` says why). Each case runs a function on the
inputs a user stage gives it, once as shipped and once on the numpy path (the same function with the
compiled passes switched off, as the tests switch them off: ``_compiled.fields`` returns None); both
outputs are checked equal first. The two alternate for ``--rounds`` rounds of
best-of-``--repeat`` each, so that both meet the same spells of load on a shared machine; printed: both
times of the last round, each round's ratio and their median.

* conversion (``nvlib convert samples``): ``tbr(..., normalize=False, start_us, n_frames)`` on the events
  of the first 60 frames of sample clips made as the converter makes them: gray frames, a central square
  resized to 128x128 (``INTER_AREA``; the converter's face box has the same output size), temporal
  upsampling by optical flow (``factor="auto"``, at least one sub-frame per Δt), v2e's model with
  ``DVSParams()``; back-to-back windows of N·Δt from the first frame's time (N = 8, Δt = 5 ms).
* notebooks: notebook 02 (carphone, 36 frames, native 176x144): ``tbr`` of the whole clip and
  ``tbr_aligned`` at every RGB frame; notebook 01 (crema_1001_HAP, 40 frames resized to the DVS346's
  346x260): ``tbr_aligned`` at every RGB frame.
* explorer (``nvlib.pictures.explore``, clips from ``clip_from_sample``: 60 frames at native size):
  ``render_events`` of the two TBR representations at every RGB frame of the clip (a scrub through the
  clip; times are the sum over frames), Δt = 5 ms, N = 8 (the explorer's defaults) and N = 16.
* cold: the first ``render_events`` of each TBR representation in a fresh process that has already
  simulated its clip (so numba is imported and the simulator's kernels are loaded, as on every user path
  that simulates), as shipped and on the numpy path; this is what a user waits for on the first render,
  paid once per process and function.

Part ``peer``: synthetic events (uniform over the sensor and over 1 s: 2 Mev/s, every output page touched)
and, where the ``shared/`` fixtures sit beside the checkout, the real Prophesee Gen4.1 recording (1280x720,
219,596 events in 8.8 ms) repeated back to back 9 times (~2 M events, 79 ms). Prints wall and CPU time
(this process), events/s and ratios to baselines measured in the same run:

* TBR baseline ("tonic-style"): per-Δt-slice ``np.add.at`` into one int16 frame per slice (tonic's
  ``to_frame_numpy`` loop), then the N binary slices of each frame combined into normalised codes with
  one vectorised weighted sum (tonic's ``bina_rep`` builds its weight mask pixel by pixel in Python; that
  part is replaced by a tensordot so the baseline is not a straw man).
* Aligned TBR (one frame ending at each frame time of a 30 fps video): the same per-slice ``np.add.at``
  baseline, window by window, against ``tbr_aligned``.
* "presence" (a plain vectorised numpy TBR, for context): a bool (F, N, H*W) presence array set by one
  fancy assignment, then a weighted sum over N.
* Histograms: ``tonic.functional.to_frame_numpy(time_window=Δt)`` itself; also the floor of any
  materialised histogram (``np.zeros`` of the output plus a write to each of its pages), and
  ``iter_histograms`` (the same windows one batch at a time), alternated with tonic for ``--rounds``
  rounds (each round's ratio, their median, best against best).
* Voxel grid and time surfaces against tonic's ``to_voxel_grid_numpy`` and ``to_timesurface_numpy``.

All outputs are checked equal to nvlib's (voxel grid and time surfaces: to float32 rounding) before timing
is reported. Every line is single-threaded (``OMP_NUM_THREADS=1`` is set unless given).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from nvlib.events import make_events  # noqa: E402
from nvlib.represent import _compiled  # noqa: E402
from nvlib.represent import histogram, iter_histograms, tbr, tbr_aligned, time_surface, voxel_grid  # noqa: E402

W, H = 1280, 720


def best_time(fn, repeat):
    """Best of ``repeat`` runs: (wall seconds, CPU seconds of this process, output)."""
    best, best_cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best, best_cpu = min(best, time.perf_counter() - t0), min(best_cpu, time.process_time() - c0)
    return (best, best_cpu), out


# ----------------------------------------------------------------------------- part "user"
@contextlib.contextmanager
def numpy_path():
    """Inside: every representation takes its numpy path (no compiled pass reads the events)."""
    real = _compiled.fields
    _compiled.fields = lambda *a, **k: None
    try:
        yield
    finally:
        _compiled.fields = real


def on_numpy_path(fn):
    def run():
        with numpy_path():
            return fn()
    return run


def converted_clip(name: str, n_frames: int = 60, size: int = 128, delta_t_us: int = 5000, n_bits: int = 8):
    """Events of a sample clip made as the converter makes them (see the module docstring), and the
    converter's window starts."""
    import cv2

    from nvlib.datasets import samples
    from nvlib.io.video import read_video
    from nvlib.represent.windows import consecutive_windows, frame_times_us
    from nvlib.simulate import DVSParams, simulate_frames
    from nvlib.simulate.upsample import upsample_frames

    gray, fps = read_video(samples.sample_path(name), max_frames=n_frames, gray=True)
    h, w = gray.shape[1:]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    small = np.stack([cv2.resize(f[y0:y0 + side, x0:x0 + side], (size, size), interpolation=cv2.INTER_AREA)
                      for f in gray])
    min_k = int(np.ceil(1e6 / (float(fps) * delta_t_us) - 1e-9))
    pairs = list(upsample_frames(zip(small, np.arange(len(small)) / fps), factor="auto", min_factor=min_k))
    ev = simulate_frames(np.stack([f for f, _ in pairs]), times_s=[t for _, t in pairs], params=DVSParams(seed=1))
    ann_t = frame_times_us(len(gray), fps)
    starts, _ = consecutive_windows(int(ann_t[0]), int(ann_t[-1]), n_bits * delta_t_us)
    return ev, starts


def camera_clip(name: str, n_frames: int, camera: str):
    """An explorer :class:`~nvlib.pictures.explore.Clip` whose frames are first resized to ``camera``'s
    size, as notebook 01 does."""
    import cv2

    from nvlib.datasets import samples
    from nvlib.io.video import read_video
    from nvlib.pictures.explore import Clip
    from nvlib.simulate import DVSParams, resize_for_camera, simulate_frames

    rgb, fps = read_video(samples.sample_path(name), max_frames=n_frames)
    rgb = np.stack([resize_for_camera(f, camera) for f in rgb])
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in rgb])
    return Clip(name, simulate_frames(gray, fps=fps, params=DVSParams(seed=0)), rgb, float(fps))


def compare(label: str, fn, rounds: int, repeat: int) -> None:
    """``fn`` as shipped against ``fn`` on the numpy path, in interleaved rounds (see the module docstring)."""
    a, b = fn(), on_numpy_path(fn)()
    for x, y in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), f"{label}: paths differ"
    ratios = []
    for _ in range(rounds):
        (tc, _), _ = best_time(fn, repeat)
        (tn, _), _ = best_time(on_numpy_path(fn), repeat)
        ratios.append(tn / tc)
    print(f"  {label:<58s} compiled {tc * 1e3:8.2f} ms  numpy {tn * 1e3:8.2f} ms  numpy/compiled: median "
          f"{float(np.median(ratios)):5.2f}x (rounds {', '.join(f'{r:.2f}' for r in ratios)})", flush=True)


EXPLORER_REPRESENTATIONS = ("tbr", "tbr (tonic order)")  # the explorer's representations with a compiled pass


def scrub(clip, representation: str, delta_t_us: int, n_bits: int):
    """``render_events`` at every RGB frame of ``clip``: a list of the images."""
    from nvlib.pictures.explore import render_events

    return lambda: [render_events(clip, representation, int(end), delta_t_us, n_bits) for end in clip.times_us]


_COLD = """
import os, sys, time
from nvlib.pictures.explore import clip_from_sample, render_events
from nvlib.represent import _compiled
clip = clip_from_sample({name!r}, max_frames={frames})
if {numpy!r}:
    _compiled.fields = lambda *a, **k: None
end = int(clip.times_us[len(clip.times_us) // 2])
out = []
for rep in {reps!r}:
    t0 = time.perf_counter()
    render_events(clip, rep, end, 5000, 8)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    render_events(clip, rep, end, 5000, 8)
    out.append(f"{{first}},{{time.perf_counter() - t0}}")
print(" ".join(out))
"""


def cold_renders(name: str, frames: int) -> None:
    """First and second ``render_events`` of each representation in fresh processes (see the docstring)."""
    res = {}
    for numpy in (False, True):
        code = _COLD.format(name=name, frames=frames, numpy=numpy, reps=EXPLORER_REPRESENTATIONS)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "OMP_NUM_THREADS": os.environ["OMP_NUM_THREADS"]})
        res[numpy] = [tuple(float(v) for v in pair.split(",")) for pair in out.stdout.split()]
    for rep, (c_first, c_next), (n_first, n_next) in zip(EXPLORER_REPRESENTATIONS, res[False], res[True]):
        print(f"  {rep:<20s} first render: compiled {c_first * 1e3:7.1f} ms, numpy {n_first * 1e3:7.2f} ms; "
              f"second: compiled {c_next * 1e3:6.2f} ms, numpy {n_next * 1e3:6.2f} ms", flush=True)


def user_part(args) -> None:
    from nvlib.pictures.explore import clip_from_sample

    r, k = args.rounds, args.repeat
    print("conversion: tbr integer codes of a converted clip (128x128, N=8, dt=5 ms)")
    for name in ("crema_1001_HAP", "carphone", "pexels_wolfganglanger"):
        ev, starts = converted_clip(name)
        compare(f"{name}: {len(ev)} events, {len(starts)} windows",
                lambda: tbr(ev, (128, 128), 5000, 8, normalize=False, start_us=int(starts[0]), n_frames=len(starts)),
                r, k)
    print("notebooks")
    nb02 = clip_from_sample("carphone", max_frames=36)
    size = nb02.events.sensor_size
    compare(f"02 carphone {size[0]}x{size[1]}, {len(nb02.events)} events: tbr of the clip",
            lambda: tbr(nb02.events, size, 5000, 8, normalize=False), r, k)
    compare(f"02 carphone: tbr_aligned at {nb02.n_frames} frame times",
            lambda: tbr_aligned(nb02.events, size, nb02.times_us, 5000, 8), r, k)
    nb01 = camera_clip("crema_1001_HAP", 40, "dvs346")
    size = nb01.events.sensor_size
    compare(f"01 crema_1001_HAP {size[0]}x{size[1]}, {len(nb01.events)} events: tbr_aligned, "
            f"{nb01.n_frames} frames", lambda: tbr_aligned(nb01.events, size, nb01.times_us, 5000, 8), r, k)
    for name in ("carphone", "crema_1001_HAP"):
        clip = clip_from_sample(name, max_frames=60)
        size = clip.events.sensor_size
        for n_bits in (8, 16):
            print(f"explorer: {name} {size[0]}x{size[1]}, {len(clip.events)} events; render_events at each of "
                  f"{clip.n_frames} frames, N={n_bits}, dt=5 ms (sums)")
            for rep in EXPLORER_REPRESENTATIONS:
                compare(rep, scrub(clip, rep, 5000, n_bits), r, k)
    for name in ("carphone", "crema_1001_HAP"):
        print(f"cold: the first render in a fresh process, {name} (60 frames), N=8, dt=5 ms")
        cold_renders(name, 60)


# ----------------------------------------------------------------------------- part "peer"
def synthetic_events(n: int, duration_us: int, seed: int = 0):
    """``n`` events, uniform over the sensor and over ``duration_us`` (time-sorted), random polarity."""
    rng = np.random.default_rng(seed)
    return make_events(rng.integers(0, W, n), rng.integers(0, H, n), np.sort(rng.integers(0, duration_us, n)),
                       rng.integers(0, 2, n), (W, H))


def baseline_tbr(ev, dt, n_bits):
    """tonic-style: per-slice np.add.at into (S, H, W) int16 frames, then a vectorised bit combination."""
    t = ev.t
    n_frames = (int(t[-1]) - int(t[0])) // (n_bits * dt) + 1
    n_slices = n_frames * n_bits
    edges = np.searchsorted(t, int(t[0]) + dt * np.arange(n_slices + 1))
    frames = np.zeros((n_slices, H, W), np.int16)
    for i in range(n_slices):
        a, b = edges[i], edges[i + 1]
        np.add.at(frames, (i, ev.y[a:b], ev.x[a:b]), 1)
    binary = (frames > 0).reshape(n_frames, n_bits, H, W).astype(np.float32)
    weights = (2.0 ** np.arange(n_bits)).astype(np.float32)
    return np.tensordot(binary, weights, axes=([1], [0])) / np.float32(2**n_bits - 1)


def baseline_tbr_windows(ev, starts, dt, n_bits):
    """tonic-style TBR for arbitrary window starts: per slice of each window, np.add.at into an int16 frame."""
    t = ev.t
    out = np.zeros((len(starts), H, W), np.float32)
    weights = (2.0 ** np.arange(n_bits)).astype(np.float32)
    for f, s in enumerate(starts.tolist()):
        edges = np.searchsorted(t, s + dt * np.arange(n_bits + 1))
        frames = np.zeros((n_bits, H, W), np.int16)
        for i in range(n_bits):
            a, b = edges[i], edges[i + 1]
            np.add.at(frames, (i, ev.y[a:b], ev.x[a:b]), 1)
        out[f] = np.tensordot((frames > 0).astype(np.float32), weights, axes=([0], [0]))
    return out / np.float32(2**n_bits - 1)


def presence_tbr(ev, dt, n_bits):
    """A plain vectorised numpy TBR: bool presence (F, N, H*W), then a weighted sum over N."""
    s = (ev.t - ev.t[0]) // dt
    n_frames = int(s[-1]) // n_bits + 1
    pres = np.zeros((n_frames, n_bits, H * W), bool)
    pres[s // n_bits, s % n_bits, ev.y.astype(np.intp) * W + ev.x] = True
    weights = (2 ** np.arange(n_bits)).astype(np.float32)
    codes = np.tensordot(pres.transpose(0, 2, 1).astype(np.float32), weights, axes=([2], [0]))
    return (codes / np.float32(2**n_bits - 1)).reshape(n_frames, H, W)


def zeros_touched(shape, dtype):
    """The floor of a materialised output: ``np.zeros`` plus one write per 4 KiB page (faults it in)."""
    out = np.zeros(shape, dtype)
    out.reshape(-1)[:: 4096 // out.itemsize] = 0
    return out


def drain(it) -> None:
    """Run an iterator to its end, keeping nothing."""
    for _ in it:
        pass


def real_recording(repeats: int = 9):
    """The shared Gen4.1 EVT 3.0 fixture played ``repeats`` times back to back, or None when absent."""
    from nvlib.events import Events
    from nvlib.io import read_events
    from nvlib.workbook.paths import shared_dir

    root = shared_dir()
    path = root / "fixtures" / "events" / "gen41_evt3_sample.raw" if root else None
    if path is None or not path.is_file():
        return None
    one = read_events(path).array
    span = int(one["t"][-1]) - int(one["t"][0]) + 1
    parts = []
    for k in range(repeats):
        part = one.copy()
        part["t"] += k * span
        parts.append(part)
    return Events(np.concatenate(parts), (W, H))


def suite(ev, args, hist_dts) -> None:
    """TBR (N = 8, 16; dt = 5 ms) and histograms (``hist_dts``) on ``ev``, each against its baseline."""
    n = len(ev)

    def report(name, sec, base_sec=None, base_name=""):
        (wall, cpu), ratio = sec, ""
        if base_sec:
            ratio = f"  {base_sec[0] / wall:6.1f}x wall, {base_sec[1] / cpu:6.1f}x cpu vs {base_name}"
        print(f"  {name:<44s} {wall * 1e3:8.1f} ms wall {cpu * 1e3:8.1f} ms cpu {n / wall / 1e6:7.1f} Mev/s{ratio}",
              flush=True)

    for n_bits in (8, 16):
        dt = 5000
        print(f"TBR  N={n_bits}, dt={dt} us")
        tb, ref = best_time(lambda: baseline_tbr(ev, dt, n_bits), max(1, args.repeat // 3))
        report("baseline: per-slice np.add.at (tonic-style)", tb)
        tp, pres = best_time(lambda: presence_tbr(ev, dt, n_bits), max(1, args.repeat // 3))
        report("presence array + weighted sum (vectorised)", tp, tb, "baseline")
        to, ours = best_time(lambda: tbr(ev, (W, H), dt, n_bits), args.repeat)
        assert np.array_equal(ours, ref) and np.array_equal(pres, ref), "TBR outputs differ"
        report("nvlib.represent.tbr (float32, normalised)", to, tb, "baseline")
        tc, _ = best_time(lambda: tbr(ev, (W, H), dt, n_bits, normalize=False), args.repeat)
        report("nvlib.represent.tbr (integer codes)", tc, tb, "baseline")
        ends = np.arange(int(ev.t[0]) + n_bits * dt, int(ev.t[-1]) + 1, 33_333)  # one frame per 30 fps video frame
        if len(ends) < 10:
            print(f"  aligned windows: skipped ({len(ends)} frames of a 30 fps video fit in this recording)")
        else:
            ta, ref_a = best_time(lambda: baseline_tbr_windows(ev, ends - n_bits * dt, dt, n_bits), 1)
            report(f"aligned baseline: {len(ends)} windows at 30 fps", ta)
            tw, ours = best_time(lambda: tbr_aligned(ev, (W, H), ends, dt, n_bits), args.repeat)
            assert np.array_equal(ours, ref_a), "aligned TBR outputs differ"
            report("nvlib.represent.tbr_aligned (float32)", tw, ta, "aligned baseline")

    import tonic.functional as tf

    for dt in hist_dts:
        print(f"Histogram  dt={dt} us (int16 counts, as tonic)")
        arr = ev.array.copy()
        t0 = int(ev.t[0])
        n_frames = (int(ev.t[-1]) - t0) // dt + 1

        def base():
            return tf.to_frame_numpy(arr, (W, H, 2), time_window=dt, start_time=t0, end_time=t0 + n_frames * dt)

        def stream():
            drain(iter_histograms(ev, (W, H), dt, dtype=np.int16))

        tb, ref = best_time(base, 1)
        report("baseline: tonic.functional.to_frame_numpy", tb)
        tz, _ = best_time(lambda: zeros_touched(ref.shape, np.int16), args.repeat)
        report("floor: np.zeros + a write per output page", tz, tb, "tonic")
        to, ours = best_time(lambda: histogram(ev, (W, H), dt, dtype=np.int16), args.repeat)
        assert np.array_equal(ours, ref), "histograms differ"
        report("nvlib.represent.histogram", to, tb, "tonic")
        del ours
        for i, frames in iter_histograms(ev, (W, H), dt, dtype=np.int16):
            assert np.array_equal(frames, ref[i:i + len(frames)]), "streamed histograms differ"
        interleaved(base, stream, args.rounds, args.repeat)
        del ref


def interleaved(base_fn, stream_fn, rounds, repeat) -> None:
    """tonic's ``to_frame_numpy`` (``base_fn``, once) and ``iter_histograms`` (``stream_fn``, best of
    ``repeat``) in alternation for ``rounds`` rounds: the ratio of each round, their median, and the ratio of
    the two best times."""
    base, ours = [], []
    for _ in range(max(1, rounds)):
        (tb, _), _ = best_time(base_fn, 1)
        (to, _), _ = best_time(stream_fn, repeat)
        base.append(tb)
        ours.append(to)
    ratios = [b / o for b, o in zip(base, ours)]
    print(f"  iter_histograms vs tonic, {len(ratios)} interleaved rounds (wall): per round "
          f"{', '.join(f'{r:.1f}x' for r in ratios)}; median {float(np.median(ratios)):.1f}x; "
          f"best vs best {min(base) / min(ours):.1f}x ({min(base) * 1e3:.0f} / {min(ours) * 1e3:.1f} ms)", flush=True)


def others(ev, args) -> None:
    """Voxel grid and time surface against tonic's functions (its conventions: voxel grid with B bins =
    ours with B + 1, last bin dropped; time surfaces every ``dt``)."""
    import tonic.functional as tf

    n = len(ev)
    arr = ev.array.astype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "i1")])  # tonic writes p = -1
    (tb, cb), ref = best_time(lambda: tf.to_voxel_grid_numpy(arr.copy(), (W, H, 2), 5), 1)
    (to, co), ours = best_time(lambda: voxel_grid(ev, (W, H), 6), args.repeat)
    assert np.allclose(ours[:5], ref[:, 0], rtol=0, atol=1e-4), "voxel grids differ"
    print(f"  voxel grid, 5 bins: tonic {tb * 1e3:.1f} ms, nvlib {to * 1e3:.1f} ms wall ({n / to / 1e6:.1f} Mev/s): "
          f"{tb / to:.1f}x wall, {cb / co:.1f}x cpu vs tonic", flush=True)
    dt = (int(ev.t[-1]) - int(ev.t[0])) // 8
    (tb, cb), ref = best_time(lambda: tf.to_timesurface_numpy(arr.copy(), (W, H, 2), dt=dt, tau=50_000), 1)
    refs = int(ev.t[0]) + dt * (np.arange(len(ref)) + 1)
    (to, co), ours = best_time(lambda: time_surface(ev, (W, H), refs, 50_000), args.repeat)
    assert np.allclose(ours, ref, rtol=1e-6, atol=1e-7), "time surfaces differ"
    print(f"  time surfaces, {len(refs)} reference times: tonic {tb * 1e3:.1f} ms, nvlib {to * 1e3:.1f} ms wall: "
          f"{tb / to:.1f}x wall, {cb / co:.1f}x cpu vs tonic", flush=True)


def peer_part(args) -> None:
    ev = synthetic_events(args.events, args.duration_us)
    print(f"synthetic: {len(ev)} events, {W}x{H}, {args.duration_us / 1e6:.2f} s")
    suite(ev, args, (40_000, 5000))
    others(ev, args)
    real = real_recording()
    if real is None:
        print("real recording: skipped (no shared/fixtures/events/gen41_evt3_sample.raw beside the checkout)")
    else:
        print(f"real recording (Gen4.1, repeated 9x): {len(real)} events, "
              f"{(int(real.t[-1]) - int(real.t[0])) / 1e3:.1f} ms")
        suite(real, args, (5000, 1000))
        others(real, args)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("user", "peer", "all"), default="all")
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--duration-us", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds per comparison")
    args = ap.parse_args(argv)
    numba = getattr(_compiled._numba, "__version__", "absent")
    print(f"{os.cpu_count()} cpus, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, numpy {np.__version__}, "
          f"numba {numba}")
    if args.part in ("user", "all"):
        user_part(args)
    if args.part in ("peer", "all"):
        peer_part(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
