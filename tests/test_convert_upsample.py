"""Temporal upsampling before simulation spreads events over the TBR slices (v2e upsamples too)."""
import numpy as np

from nvlib.convert.jobs import upsampled
from nvlib.simulate.upsample import upsample_frames


def _moving_bar(T=6, size=32, speed=2.0):
    frames = np.full((T, size, size), 60, np.uint8)
    for i in range(T):
        x0 = int(4 + speed * i)
        frames[i, :, x0:x0 + 6] = 200
    return frames


def test_min_factor_sets_sub_frames_per_interval():
    fr = _moving_bar()
    times = np.arange(len(fr)) / 25.0
    out = list(upsample_frames(zip(fr, times), factor="auto", min_factor=8))
    assert len(out) >= (len(fr) - 1) * 8 + 1
    ts = np.array([t for _, t in out])
    assert np.all(np.diff(ts) > 0) and ts[0] == 0 and np.isclose(ts[-1], times[-1])
    originals = [f for f, t in out if np.isclose(t * 25, round(t * 25))]
    assert all(np.array_equal(a, b) for a, b in zip(originals, fr))


def test_converter_upsampling_fills_the_newer_tbr_bits(sample_video):
    import cv2

    from nvlib.represent import tbr
    from nvlib.io.video import read_video
    from nvlib.simulate import DVSParams, simulate_frames

    fr, _ = read_video(sample_video, max_frames=9, gray=True)
    fr = np.stack([cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA) for f in fr])
    share_new = {}
    for mode in (1, "auto"):
        f, t = upsampled(fr, 25.0, mode, delta_t_us=5000)
        assert len(f) == len(t) and (len(f) == len(fr) if mode == 1 else len(f) >= 8 * (len(fr) - 1) + 1)
        ev = simulate_frames(f, times_s=t, params=DVSParams(sigma_thres=0.0, seed=1))
        c = tbr(ev, (64, 64), delta_t_us=5000, n_bits=8, normalize=False, start_us=0)
        bits = np.unpackbits(c[c > 0].astype(np.uint8)[:, None], axis=1).sum(0)[::-1]  # count of bit k set
        share_new[mode] = bits[4:].sum() / bits.sum()
        if mode == "auto":
            assert (bits > 0).all()
    # v2e's sub-step times put most events early in each 40 ms interval; upsampling spreads them
    assert share_new[1] < 0.35 < 0.6 < share_new["auto"]
