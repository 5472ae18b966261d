"""nvlib.simulate.analysis: the measurements of notebook 01, on events with known answers."""
import numpy as np
import pytest

from nvlib.events import make_events
from nvlib.simulate.analysis import (block_grid_stats, event_stats, jpeg_frames, rate_summary, rate_trace,
                                     same_pixel_polarity_counts)


def _ev(x, y, t, p, size=(16, 8)):
    return make_events(np.array(x), np.array(y), np.array(t), np.array(p), size)


def test_block_grid_stats_counts_boundary_events():
    # x = 0, 7 are block boundaries, 3 and 4 inner; y = 8 boundary, 2 inner
    ev = _ev([0, 7, 3, 4], [8, 2, 2, 8], [0, 1, 2, 3], [1, 0, 1, 0], size=(16, 16))
    stats, counts = block_grid_stats(ev, (16, 16))
    assert stats["events"] == 4
    assert stats["boundary_share_x"] == 0.5 and stats["boundary_share_y"] == 0.5
    # boundary columns (0, 7, 8, 15) hold 2 events over 4 columns, inner ones 2 over 12
    assert stats["boundary_vs_inner_cols"] == pytest.approx((2 / 4) / (2 / 12))
    assert counts.shape == (16, 16) and counts.sum() == 4 and counts[8, 0] == 1


def test_uniform_events_show_no_grid():
    W = H = 64
    yy, xx = np.mgrid[0:H, 0:W]
    ev = _ev(xx.ravel(), yy.ravel(), np.arange(W * H), np.zeros(W * H, int), size=(W, H))
    stats, _ = block_grid_stats(ev, (W, H))
    assert stats["boundary_share_x"] == pytest.approx(0.25) and stats["boundary_vs_inner_cols"] == pytest.approx(1.0)


def test_event_stats_and_rates():
    ev = _ev([0, 1, 1, 2], [0, 0, 0, 1], [0, 5_000, 15_000, 25_000], [1, 1, 0, 1], size=(4, 2))
    stats, img = event_stats(ev, (4, 2), duration_s=0.5)
    assert stats["events"] == 4 and stats["ON/OFF"] == 3.0
    assert stats["rate (Mev/s)"] == pytest.approx(8e-6) and stats["per pixel (ev/s)"] == pytest.approx(1.0)
    assert stats["active pixels (%)"] == pytest.approx(100 * 3 / 8) and img[0, 1] == 2
    starts, rate = rate_trace(ev.t, 30_000, bin_us=10_000)
    np.testing.assert_array_equal(starts, [0, 10_000, 20_000])  # bins [0, 10), [10, 20), [20, 30] ms
    np.testing.assert_allclose(rate, [200.0, 100.0, 100.0])
    rows = {r["quantity"]: r["value"] for r in rate_summary(ev, (4, 2), duration_s=0.04)}
    assert rows["active pixels (%)"] == pytest.approx(37.5)
    assert rows["events per active pixel per s: median"] == pytest.approx(25.0)  # counts 1, 2, 1 over 0.04 s
    with pytest.raises(ValueError, match="duration_s"):
        event_stats(ev, (4, 2), 0)


def test_same_pixel_polarity_counts_ignores_times_only():
    a = _ev([0, 1], [0, 0], [0, 10], [1, 0], size=(2, 1))
    b = _ev([0, 1], [0, 0], [3, 7], [1, 0], size=(2, 1))
    c = _ev([0, 1], [0, 0], [3, 7], [0, 0], size=(2, 1))
    assert same_pixel_polarity_counts(a, b, (2, 1)) and not same_pixel_polarity_counts(a, c, (2, 1))


def test_jpeg_frames_add_block_artifacts_and_check_quality():
    rng = np.random.default_rng(0)
    frames = np.repeat(np.linspace(0, 255, 32, dtype=np.uint8)[None, None, :], 32, axis=1).repeat(2, 0)
    frames = np.clip(frames + rng.integers(0, 30, frames.shape), 0, 255).astype(np.uint8)
    out = jpeg_frames(frames, 5)
    assert out.shape == frames.shape and out.dtype == np.uint8 and not np.array_equal(out, frames)
    assert np.abs(jpeg_frames(frames, 100).astype(int) - frames).mean() < np.abs(out.astype(int) - frames).mean()
    with pytest.raises(ValueError, match="quality"):
        jpeg_frames(frames, 0)
