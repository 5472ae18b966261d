"""nvlib.simulate: v2e's pixel model, golden micro-cases and a per-sub-step reference loop.

The reference below is written from the model text of issue 4 (v2e, Hu et al. CVPRW 2021):
a straightforward loop over the N sub-steps of every frame over the whole frame, as v2e
does, with lin-log computed from the formula (no table). The emulator must equal it event
for event (same pixel, polarity and timestamp).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nvlib.simulate import DVSEmulator, DVSParams, lin_log_table, simulate_frames
from nvlib.simulate.expand import expand_counts, refractory_select
from nvlib.simulate.params import TORCH_DEFAULT_SEED

QUIET = dict(sigma_thres=0.0, cutoff_hz=0.0, leak_rate_hz=0.0, shot_noise_rate_hz=0.0, refractory_period_s=0.0)


# ---------------------------------------------------------------- reference loop
def reference_v2e(frames, times, p: DVSParams):
    """Per-sub-step loop following the issue's model text; returns (t_us, x, y, p) rows."""
    gen = torch.Generator().manual_seed(p.seed if p.seed else TORCH_DEFAULT_SEED)
    f20 = (1.0 / 20) * math.log(20)
    rows = []
    lp = base = None
    t_prev = 0.0
    for fr, t in zip(frames, times):
        x = torch.tensor(fr, dtype=torch.float64)
        lin = torch.where(x <= 20, x * f20, torch.log(x))
        lin = (torch.round(lin * 1e8) / 1e8).float()
        dt = t - t_prev
        inten = (x + 20) / 275.0
        if lp is None:
            lp = lin
        if p.cutoff_hz > 0:
            tau = 1 / (math.pi * 2 * p.cutoff_hz)
            eps = torch.clamp(inten * (dt / tau), max=1)
            lp = (1 - eps) * lp + eps * lin
        else:
            lp = lin
        if base is None:
            if p.sigma_thres > 0:
                pos = torch.clamp(torch.normal(p.pos_thres, p.sigma_thres, size=x.shape, generator=gen,
                                               dtype=torch.float32), min=0.01)
                neg = torch.clamp(torch.normal(p.neg_thres, p.sigma_thres, size=x.shape, generator=gen,
                                               dtype=torch.float32), min=0.01)
                pre_pos, pre_neg = p.pos_thres / pos, p.neg_thres / neg
            else:
                pos, neg, pre_pos, pre_neg = p.pos_thres, p.neg_thres, 1.0, 1.0
            if p.leak_rate_hz > 0:
                rate = torch.exp(math.log(10) * p.noise_rate_cov_decades *
                                 torch.randn(x.shape, generator=gen, dtype=torch.float32))
            mem = torch.zeros(x.shape, dtype=torch.float32) - p.refractory_period_s
            base = lp
            t_prev = t
            continue
        if p.leak_rate_hz > 0:
            r = torch.randn(x.shape, generator=gen, dtype=torch.float32)
            base = base - dt * (p.leak_rate_hz * rate * (1 - p.leak_jitter_fraction * r)) * pos
        diff = lp - base
        n_on = torch.div(F.relu(diff), pos, rounding_mode="floor").to(torch.int32)
        n_off = torch.div(F.relu(-diff), neg, rounding_mode="floor").to(torch.int32)
        n = int(max(n_on.max(), n_off.max()))
        steps = n if n > 0 else 1
        ts = torch.linspace(t_prev + dt / steps, t, steps, dtype=torch.float32)
        fin_on = torch.zeros_like(n_on)
        fin_off = torch.zeros_like(n_off)
        for i in range(n):
            c_on, c_off = n_on >= i + 1, n_off >= i + 1
            if p.refractory_period_s > dt / steps:
                c_on = (c_on * ts[i] - mem) > p.refractory_period_s
                c_off = (c_off * ts[i] - mem) > p.refractory_period_s
                mem = torch.where(c_on | c_off, ts[i], mem)
            fin_on += c_on
            fin_off += c_off
            t_us = int(round(float(ts[i]) * 1e6))
            yy, xx = torch.nonzero(c_on, as_tuple=True)
            rows += [(t_us, int(a), int(b), 1) for a, b in zip(xx, yy)]
            yy, xx = torch.nonzero(c_off, as_tuple=True)
            rows += [(t_us, int(a), int(b), 0) for a, b in zip(xx, yy)]
            k = int((c_on | c_off).sum())
            if k and (p.leak_rate_hz > 0 or p.shot_noise_rate_hz > 0):
                torch.randperm(k, generator=gen)  # v2e shuffles each sub-step's events
        base = base + fin_on * pos
        base = base - fin_off * neg
        if p.shot_noise_rate_hz > 0:
            fac = ((p.shot_noise_rate_hz / 2) * dt) * ((0.25 - 1) * inten + 1)
            u = torch.rand(x.shape, generator=gen, dtype=torch.float32)
            s_on, s_off = u > 1 - fac * pre_pos, u < fac * pre_neg
            t_us = int(round(float(ts[-1]) * 1e6))
            for mask, pol in ((s_on, 1), (s_off, 0)):
                yy, xx = torch.nonzero(mask, as_tuple=True)
                rows += [(t_us, int(a), int(b), pol) for a, b in zip(xx, yy)]
            base = torch.where(s_on | s_off, lp.to(base.dtype), base)
        t_prev = t
    return sorted(rows)


def as_rows(ev):
    return sorted(zip(ev.t.tolist(), ev.x.tolist(), ev.y.tolist(), ev.p.tolist()))


def random_clip(seed, t=12, h=9, w=11):
    """Smooth random gray video with occasional jumps (many events per pixel, some > 20 levels)."""
    rng = np.random.default_rng(seed)
    fr = rng.integers(0, 256, (1, h, w)).astype(np.float64)
    steps = rng.normal(0, 25, (t - 1, h, w)) * (rng.random((t - 1, h, w)) < 0.6)
    video = np.clip(np.concatenate([fr, fr + np.cumsum(steps, 0)]), 0, 255)
    return video.astype(np.uint8)


# ---------------------------------------------------------------- golden micro-cases
def test_golden_counts_and_times():
    fr = np.array([[[50, 50, 50, 50]], [[100, 50, 20, 10]]], np.uint8)
    ev = simulate_frames(fr, fps=30, params=DVSParams(**QUIET))
    counts = {(x, p): int(((ev.x == x) & (ev.p == p)).sum()) for x in range(4) for p in (0, 1)}
    assert counts == {(0, 1): 3, (0, 0): 0, (1, 0): 0, (1, 1): 0, (2, 0): 4, (2, 1): 0, (3, 0): 12, (3, 1): 0}
    dt = 1 / 30
    ts = torch.linspace(dt / 12, dt, 12, dtype=torch.float32).double().numpy()
    np.testing.assert_array_equal(np.sort(ev.t[ev.x == 3]), np.round(ts * 1e6).astype(np.int64))
    assert np.all(np.abs(np.sort(ev.t[ev.x == 0]) - np.arange(1, 4) * dt / 12 * 1e6) <= 1)
    assert ev.is_sorted()


def test_golden_refractory():
    fr = np.array([[[50, 50, 50, 50]], [[100, 50, 20, 10]]], np.uint8)
    ev = simulate_frames(fr, fps=30, params=DVSParams(**{**QUIET, "refractory_period_s": 0.005}))
    step_us = 1e6 / 30 / 12
    got = {x: sorted(np.round(ev.t[ev.x == x] / step_us).astype(int).tolist()) for x in range(4)}
    assert got == {0: [1, 3], 1: [], 2: [1, 3], 3: [1, 3, 5, 7, 9, 11]}


def test_golden_lowpass_step():
    fr = np.array([[[50]]] + [[[100]]] * 60, np.uint8)
    ev = simulate_frames(fr, fps=1000, params=DVSParams(**{**QUIET, "cutoff_hz": 10.0}))
    assert ev.p.tolist() == [1, 1]
    assert ev.t.tolist() == [13000, 31000]


def test_lin_log_table_formula():
    lut = lin_log_table().numpy()
    i = np.arange(256, dtype=np.float64)
    expect = np.where(i <= 20, i * np.log(20) / 20, np.log(np.maximum(i, 1)))
    np.testing.assert_allclose(lut, expect, atol=1e-7)
    assert lut.dtype == np.float32 and lut[0] == 0 and abs(lut[255] - np.log(255)) < 1e-6


# ---------------------------------------------------------------- reference equality
CASES = [
    dict(**QUIET),
    dict(**{**QUIET, "sigma_thres": 0.03, "seed": 1}),
    dict(**{**QUIET, "sigma_thres": 0.05, "seed": 42, "cutoff_hz": 300.0}),
    dict(**{**QUIET, "sigma_thres": 0.02, "seed": 7, "cutoff_hz": 30.0, "refractory_period_s": 0.004}),
    dict(**{**QUIET, "sigma_thres": 0.1, "seed": 3, "refractory_period_s": 0.02}),
    dict(**{**QUIET, "sigma_thres": 0.0, "cutoff_hz": 100.0, "refractory_period_s": 0.001}),
    dict(**{**QUIET, "pos_thres": 0.3, "neg_thres": 0.15, "sigma_thres": 0.03, "seed": 11}),
]


@pytest.mark.parametrize("kw", CASES, ids=[f"case{i}" for i in range(len(CASES))])
@pytest.mark.parametrize("clip_seed", [0, 1])
def test_equals_reference_noise_off(kw, clip_seed):
    frames = random_clip(clip_seed)
    times = np.arange(len(frames)) / 30.0
    p = DVSParams(**kw)
    ev = simulate_frames(frames, times_s=times, params=p)
    ref = reference_v2e(frames, times, p)
    assert len(ref) > 50
    assert as_rows(ev) == ref


@pytest.mark.parametrize("p", [DVSParams.preset("noisy", seed=2, noise_rng="v2e"), DVSParams(seed=5, noise_rng="v2e"),
                               DVSParams(seed=4, shot_noise_rate_hz=20.0, leak_rate_hz=2.0, sigma_thres=0.0,
                                         noise_rng="v2e")],
                         ids=["noisy", "defaults", "strong_noise"])
def test_equals_reference_with_noise(p):
    """Leak and shot noise draw from the same generator in v2e's order, incl. its per-sub-step shuffles."""
    frames = random_clip(3, t=10)
    times = np.arange(len(frames)) / 30.0
    ev = simulate_frames(frames, times_s=times, params=p)
    assert as_rows(ev) == reference_v2e(frames, times, p)


def test_equals_reference_on_real_face(sample_video_gray):
    frames = sample_video_gray
    times = np.arange(len(frames)) / 29.97
    for p in (DVSParams(**{**QUIET, "sigma_thres": 0.03, "seed": 9, "cutoff_hz": 200.0,
                           "refractory_period_s": 0.002}),
              DVSParams.preset("noisy", seed=1, noise_rng="v2e")):
        ev = simulate_frames(frames, times_s=times, params=p)
        assert len(ev) > 500
        assert as_rows(ev) == reference_v2e(frames, times, p)


@pytest.fixture(scope="module")
def sample_video_gray():
    import cv2
    from nvlib.datasets.samples import sample_path
    from nvlib.io.video import read_video
    frames, _ = read_video(sample_path("carphone"), max_frames=8, gray=True)
    return np.stack([cv2.resize(f, (44, 36), interpolation=cv2.INTER_AREA) for f in frames])


def test_fast_noise_rates_match_v2e_stream():
    """Fast noise: same per-pixel laws as v2e's stream (shot rate, ON/OFF split, leak), other draws."""
    frames = np.tile(np.linspace(0, 255, 40, dtype=np.uint8)[None, None, :], (200, 30, 1))  # static scene
    rows = {}
    for rng in ("fast", "v2e"):
        for seed in (1, 2):
            p = DVSParams(**{**QUIET, "sigma_thres": 0.03, "seed": seed, "shot_noise_rate_hz": 5.0,
                             "leak_rate_hz": 1.0}, noise_rng=rng)
            ev = simulate_frames(frames, fps=100, params=p)
            rows[rng, seed] = (len(ev), int(ev.p.sum()))
    duration, n_pix = 199 / 100, 30 * 40
    # shot noise: 5 Hz * (1 - 0.75*(I+20)/275) per pixel, half ON; leak: ~1 Hz ON per pixel
    inten = (np.linspace(0, 255, 40).astype(np.uint8).astype(float) + 20) / 275
    shot = 5.0 * np.mean(1 - 0.75 * inten) * duration * n_pix
    for (rng, seed), (n, n_on) in rows.items():
        n_off = n - n_on
        assert abs(n_off - shot / 2) < 5 * math.sqrt(shot / 2), (rng, seed, n_off, shot / 2)
        assert n_on > n_off  # leak events are ON
    fast = np.mean([rows["fast", s][0] for s in (1, 2)])
    exact = np.mean([rows["v2e", s][0] for s in (1, 2)])
    assert abs(fast - exact) / exact < 0.05
    assert rows["fast", 1] != rows["fast", 2]


# ---------------------------------------------------------------- streaming, seeds, devices
def test_streaming_equals_batch_and_seeds():
    frames = random_clip(5)
    p = DVSParams(seed=3)
    whole = simulate_frames(frames, fps=25, params=p)
    emu = DVSEmulator(p, sensor_size=(11, 9))
    assert len(emu.step(frames[0], 0.0)) == 0  # the first frame emits nothing
    parts = [emu.step(f, i / 25) for i, f in enumerate(frames[1:], 1)]
    assert np.array_equal(np.concatenate([e.array for e in parts]), whole.array)
    emu.reset()
    again = [emu.step(f, i / 25) for i, f in enumerate(frames)]
    assert np.array_equal(np.concatenate([e.array for e in again]), whole.array)
    other = simulate_frames(frames, fps=25, params=p.replace(seed=4))
    assert not np.array_equal(other.array, whole.array)
    assert whole.is_sorted() and whole.sensor_size == (11, 9)
    gen = simulate_frames(iter(list(frames)), fps=25, params=p)  # any iterable of frames
    assert np.array_equal(gen.array, whole.array)


@pytest.mark.parametrize("p", [DVSParams(**kw) for kw in CASES[1:5]] + [
    DVSParams.preset("noisy", seed=2, noise_rng="v2e"), DVSParams(seed=5), DVSParams(seed=5, noise_rng="fast"),
    DVSParams(seed=6, shot_noise_rate_hz=900.0, noise_rng="fast", refractory_period_s=0.004),
    DVSParams(**{**QUIET, "sigma_thres": 0.03, "seed": 2}, timestamp_mode="esim")])
def test_torch_state_path_equals_numpy_on_cpu(p):
    """The device code path (per-pixel state as torch tensors, what CUDA runs) gives the CPU's events."""
    frames = random_clip(6, t=10, h=23, w=31)
    out = []
    for dense in ("numpy", "torch"):
        emu = DVSEmulator(p, dense=dense)
        out.append(np.concatenate([emu.step(f, i / 30).array for i, f in enumerate(frames)]))
    assert len(out[0]) > 50
    assert out[0].tobytes() == out[1].tobytes()
    with pytest.raises(ValueError, match="dense"):
        DVSEmulator(p, dense="jax")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_equals_cpu():
    frames = random_clip(6, t=10, h=40, w=50)
    for p in (DVSParams(**{**QUIET, "sigma_thres": 0.03, "seed": 2, "refractory_period_s": 0.003}),
              DVSParams(**{**QUIET, "sigma_thres": 0.03, "seed": 2, "cutoff_hz": 300.0})):
        a = simulate_frames(frames, fps=30, params=p)
        b = simulate_frames(frames, fps=30, params=p, device="cuda")
        assert as_rows(a) == as_rows(b)


def test_esim_mode_same_counts_and_linear_times():
    frames = random_clip(7)
    p = DVSParams(**{**QUIET, "sigma_thres": 0.03, "seed": 1})
    a = simulate_frames(frames, fps=30, params=p)
    b = simulate_frames(frames, fps=30, params=p.replace(timestamp_mode="esim"))
    key = lambda e: np.bincount((e.y.astype(np.int64) * 11 + e.x) * 2 + e.p, minlength=9 * 11 * 2)  # noqa: E731
    assert np.array_equal(key(a), key(b)) and b.is_sorted()
    # one pixel ramping 50 -> 150: the crossings of ln(50) + k*0.2 are linear in lp
    fr = np.array([[[50]], [[150]]], np.uint8)
    ev = simulate_frames(fr, fps=10, params=DVSParams(**QUIET, timestamp_mode="esim"))
    l0, l1 = float(lin_log_table()[50]), float(lin_log_table()[150])
    expect = [round((0.2 * k) / (l1 - l0) * 0.1 * 1e6) for k in range(1, 6)]
    assert ev.t.tolist() == expect and ev.p.tolist() == [1] * 5


def test_esim_refractory_per_pixel_times():
    fr = np.array([[[50]], [[150]]], np.uint8)
    p = DVSParams(**{**QUIET, "refractory_period_s": 0.03}, timestamp_mode="esim")
    ev = simulate_frames(fr, fps=10, params=p)
    free = simulate_frames(fr, fps=10, params=p.replace(refractory_period_s=0.0))
    kept, last = [], -math.inf
    for t in free.t.tolist():
        if t - last > 30000:
            kept.append(t)
            last = t
    assert ev.t.tolist() == kept and len(kept) < len(free)


# ---------------------------------------------------------------- expansion kernels
@pytest.mark.parametrize("seed", range(4))
def test_expand_counts_matches_naive(seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 9, 40)
    src, step = expand_counts(counts, int(counts.max()))
    naive = sorted((k, j) for j, c in enumerate(counts.tolist()) for k in range(c))
    assert sorted(zip(step.tolist(), src.tolist())) == naive
    assert np.all(step[1:] >= step[:-1])


@pytest.mark.parametrize("seed", range(4))
def test_refractory_select_matches_naive(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 30))
    ts = torch.linspace(0.001, 0.033, n, dtype=torch.float32).numpy()
    counts = rng.integers(1, n + 1, 25)
    last = rng.uniform(-0.02, 0.002, 25).astype(np.float32)
    period = float(rng.uniform(0.0005, 0.01))
    src, step, n_emit, last_step = refractory_select(ts, last, counts, period)
    naive = []
    for j in range(25):
        m = torch.tensor(last[j])
        for k in range(int(counts[j])):
            if bool((torch.tensor(ts[k]) - m) > period):
                naive.append((k, j))
                m = torch.tensor(ts[k])
    assert sorted(zip(step.tolist(), src.tolist())) == sorted(naive)
    assert n_emit.tolist() == [sum(1 for _, jj in naive if jj == j) for j in range(25)]


# ---------------------------------------------------------------- parameters and bad input
def test_params_presets_and_validation():
    d = DVSParams()
    assert (d.pos_thres, d.sigma_thres, d.cutoff_hz, d.leak_rate_hz, d.shot_noise_rate_hz,
            d.refractory_period_s) == (0.2, 0.03, 300.0, 0.01, 0.001, 0.0005)
    c = DVSParams.preset("clean")
    assert (c.sigma_thres, c.cutoff_hz, c.leak_rate_hz, c.shot_noise_rate_hz) == (0.02, 0, 0, 0)
    n = DVSParams.preset("noisy")
    assert (n.sigma_thres, n.cutoff_hz, n.leak_rate_hz, n.shot_noise_rate_hz) == (0.05, 30, 0.1, 5.0)
    assert d.replace(seed=3).seed == 3
    with pytest.raises(ValueError, match="pos_thres"):
        DVSParams(pos_thres=-0.1)
    with pytest.raises(ValueError, match="neg_thres"):
        d.replace(neg_thres=0)
    with pytest.raises(ValueError, match="sigma_thres"):
        DVSParams(sigma_thres=-1)
    with pytest.raises(ValueError, match="preset"):
        DVSParams.preset("wild")


def test_bad_frames():
    frames = random_clip(0, t=3)
    with pytest.raises(ValueError, match="positive"):
        simulate_frames(frames, fps=0)
    with pytest.raises(ValueError, match="positive"):
        simulate_frames(frames, fps=-30)
    with pytest.raises(ValueError, match="no frames"):
        simulate_frames(np.zeros((0, 4, 4), np.uint8), fps=30)
    with pytest.raises(ValueError, match="no frames"):
        simulate_frames([], fps=30)
    with pytest.raises(ValueError, match="size changed"):
        simulate_frames([frames[0], frames[1][:, :5]], fps=30)
    with pytest.raises(ValueError, match="uint8"):
        simulate_frames(frames.astype(np.float32), fps=30)
    with pytest.raises(ValueError, match="non-decreasing"):
        simulate_frames(frames, times_s=[0.0, 0.2, 0.1])
    emu = DVSEmulator(DVSParams())
    emu.step(frames[0], 1.0)
    with pytest.raises(ValueError, match="before the previous"):
        emu.step(frames[1], 0.5)


# ---------------------------------------------------------------- compiled kernels = numpy kernels
needs_numba = pytest.mark.skipif(not __import__("nvlib.simulate.expand", fromlist=["x"]).HAVE_NUMBA,
                                 reason="numba not installed")


@needs_numba
@pytest.mark.parametrize("p", [DVSParams(**kw) for kw in CASES] + [
    DVSParams.preset("noisy", seed=2, noise_rng="v2e"), DVSParams(seed=5), DVSParams(seed=5, noise_rng="fast"),
    DVSParams(seed=4, shot_noise_rate_hz=20.0, leak_rate_hz=2.0, sigma_thres=0.0),
    DVSParams(seed=6, shot_noise_rate_hz=900.0, noise_rng="fast", refractory_period_s=0.004)])
def test_numba_kernels_equal_numpy(p):
    """Same event array, byte for byte and in the same order, from both back-ends."""
    frames = random_clip(8, t=10, h=13, w=17)
    a = simulate_frames(frames, fps=30, params=p, kernels="numpy")
    b = simulate_frames(frames, fps=30, params=p, kernels="numba")
    assert len(a) > 50
    assert a.array.tobytes() == b.array.tobytes()


@needs_numba
def test_numba_floor_divide_equals_numpy():
    import numba

    from nvlib.simulate.expand import _floordiv

    @numba.njit
    def many(a, b, is32):
        return np.array([_floordiv(a[i], b[i], is32) for i in range(a.shape[0])])
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        b = rng.uniform(0.01, 0.5, 20000).astype(dt)
        exact = (b * rng.integers(1, 300, b.size)).astype(dt)  # near-integer quotients
        a = np.concatenate([exact, np.nextafter(exact, dt(0)), np.nextafter(exact, dt(99)),
                            rng.uniform(0, 6, b.size).astype(dt)])
        bb = np.tile(b, 4)
        assert np.array_equal(many(a, bb, dt == np.float32), np.floor_divide(a, bb).astype(np.int64))


def test_kernels_argument():
    with pytest.raises(ValueError, match="kernels"):
        DVSEmulator(DVSParams(), kernels="fortran")
