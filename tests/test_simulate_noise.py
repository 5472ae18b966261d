"""Shot noise: the sparse draws of ``noise_rng="fast"`` (nvlib.simulate.shot) keep v2e's laws, and the
rate-as-specified option (v2e issue #74) gives the expected count."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nvlib.simulate import DVSParams, simulate_frames
from nvlib.simulate.expand import HAVE_NUMBA
from nvlib.simulate.shot import DENSE_Q, SparseShot, _shot_sparse_numpy

QUIET = dict(sigma_thres=0.0, cutoff_hz=0.0, leak_rate_hz=0.0, shot_noise_rate_hz=0.0, refractory_period_s=0.0)


def _v2e_probabilities(f, pre_pos, pre_neg):
    """v2e's test ``u > 1 - f*pre_pos`` (ON), ``u < f*pre_neg`` (OFF) with one uniform u: P(ON), P(OFF)."""
    return np.clip(f * pre_pos, 0, 1), np.clip(f * pre_neg, 0, 1)


@pytest.mark.parametrize("scale", [0.002, 0.04, 0.3])  # sparse buckets, mixed, dense and overlapping (a + b > 1)
@pytest.mark.parametrize("impl", ["compiled", "numpy"])
def test_sparse_shot_per_pixel_probabilities(scale, impl):
    """Per-pixel ON and OFF counts over many frames match v2e's probabilities (5-sigma binomial bands on
    groups of pixels, and in total), whichever regime each bucket of pixels is in."""
    if impl == "compiled" and not HAVE_NUMBA:
        pytest.skip("numba not installed")
    rng = np.random.default_rng(7)
    n = 3000
    thr_pos = np.clip(rng.normal(0.2, 0.06, n), 0.01, None).astype(np.float32)
    thr_neg = np.clip(rng.normal(0.2, 0.06, n), 0.01, None).astype(np.float32)
    pre_pos, pre_neg = (np.float32(0.2) / thr_pos), (np.float32(0.2) / thr_neg)
    fr = rng.integers(0, 256, n).astype(np.uint8)
    f_lut = scale * (1 - 0.75 * (np.arange(256) + 20) / 275.0)
    shot = SparseShot(pre_pos, pre_neg, n, seed=11)
    frames = 400
    on = np.zeros(n)
    off = np.zeros(n)
    for _ in range(frames):
        if impl == "compiled":
            a, b = shot.draw(fr, f_lut)
        else:
            a, b = _shot_sparse_numpy(fr, f_lut, float(f_lut.max()), shot.pre_pos, shot.pre_neg, shot.order,
                                      shot.bstart, shot.bmax, shot._rng, DENSE_Q)
        assert len(np.unique(a)) == len(a) and len(np.unique(b)) == len(b)  # at most one ON, one OFF a pixel
        on[a] += 1
        off[b] += 1
    p_on, p_off = _v2e_probabilities(f_lut[fr], pre_pos.astype(np.float64), pre_neg.astype(np.float64))
    groups = np.argsort(p_on + p_off).reshape(20, -1)  # 20 groups of pixels with similar rates
    for count, p in ((on, p_on), (off, p_off)):
        for g in list(groups) + [np.arange(n)]:
            expect = frames * p[g].sum()
            sd = math.sqrt(frames * (p[g] * (1 - p[g])).sum()) + 1e-9
            assert abs(count[g].sum() - expect) < 5 * sd + 1, (scale, impl, count[g].sum(), expect)
    if scale == 0.3:  # the overlapping regime: some pixels fire ON and OFF in the same frame
        assert np.any(p_on + p_off > 1)


def test_sparse_shot_deterministic_per_seed():
    n = 500
    fr = np.full(n, 60, np.uint8)
    f_lut = np.full(256, 0.05)
    a = [SparseShot(1.0, 1.0, n, seed=s).draw(fr, f_lut) for s in (1, 1, 2)]
    assert np.array_equal(a[0][0], a[1][0]) and np.array_equal(a[0][1], a[1][1])
    assert not np.array_equal(a[0][0], a[2][0])


@pytest.fixture(scope="module")
def carphone_small():
    import cv2

    from nvlib.datasets.samples import sample_path
    from nvlib.io.video import read_video
    frames, fps = read_video(sample_path("carphone"), max_frames=60, gray=True)
    small = np.stack([cv2.resize(f, (64, 48), interpolation=cv2.INTER_AREA) for f in frames])
    seq = np.concatenate([small, small[::-1]] * 3)  # 360 frames, played back and forth
    return seq, float(fps)


def test_fast_noisy_preset_statistics_match_exact(carphone_small):
    """v2e's noisy preset on a real clip: totals and ON/OFF counts within 2%, per-pixel counts correlated
    >= 0.95 between the sparse draws (fast) and v2e's exact draws (same thresholds, same seed)."""
    frames, fps = carphone_small
    out = {}
    for rng in ("v2e", "fast"):
        ev = simulate_frames(frames, fps=fps, params=DVSParams.preset("noisy", seed=3, noise_rng=rng))
        on = np.bincount(ev.y[ev.p == 1].astype(np.int64) * 64 + ev.x[ev.p == 1], minlength=64 * 48)
        off = np.bincount(ev.y[ev.p == 0].astype(np.int64) * 64 + ev.x[ev.p == 0], minlength=64 * 48)
        out[rng] = on, off
    (on_v, off_v), (on_f, off_f) = out["v2e"], out["fast"]
    assert on_v.sum() > 50_000 and off_v.sum() > 50_000
    pairs = ((on_f.sum(), on_v.sum()), (off_f.sum(), off_v.sum()),
             (on_f.sum() + off_f.sum(), on_v.sum() + off_v.sum()))
    for a, b in pairs:
        assert abs(a - b) / b < 0.02, (a, b)
    r = np.corrcoef(on_f + off_f, on_v + off_v)[0, 1]
    assert r >= 0.95
    assert not np.array_equal(on_f, on_v)  # other draws


@pytest.mark.parametrize("rng", ["v2e", "fast"])
def test_shot_rate_as_specified_expected_count(rng):
    """v2e issue #74: with ``shot_noise_rate_as_specified`` a static scene with nominal thresholds gives
    ``rate*dt`` shot events per pixel and frame on average (half ON); v2e's default gives that times the
    frame's mean of ``1 - 0.75*(I + 20)/275``."""
    levels = np.linspace(0, 255, 50).astype(np.uint8)
    frames = np.tile(levels[None, None, :], (301, 20, 1))
    rate, fps = 2.0, 50.0
    n_pix, n_steps = 20 * 50, 300
    base = dict(QUIET, pos_thres=5.0, neg_thres=5.0, shot_noise_rate_hz=rate, seed=4, noise_rng=rng)
    n_spec = len(simulate_frames(frames, fps=fps, params=DVSParams(**base, shot_noise_rate_as_specified=True)))
    n_v2e = len(simulate_frames(frames, fps=fps, params=DVSParams(**base)))
    expect_spec = rate / fps * n_pix * n_steps
    expect_v2e = expect_spec * np.mean(1 - 0.75 * (levels.astype(float) + 20) / 275)
    for n, e in ((n_spec, expect_spec), (n_v2e, expect_v2e)):
        assert abs(n - e) < 5 * math.sqrt(e), (rng, n, e)
    assert n_spec > n_v2e + 10 * math.sqrt(expect_spec)


def test_shot_rate_as_specified_validated():
    with pytest.raises(ValueError, match="shot_noise_rate_as_specified"):
        DVSParams(shot_noise_rate_as_specified="yes")
