"""Histograms, voxel grid, time surface and count image against tonic and hand-computed values; the compiled
TBR passes on any record layout."""
import numpy as np
import pytest

from nvlib.events import EVENT_DTYPE, Events, make_events
from nvlib.represent import _compiled, count_image, histogram, iter_histograms, time_surface, voxel_grid

W, H = 9, 4


def random_events(seed, n=1500, t_max=100_000):
    rng = np.random.default_rng(seed)
    return make_events(rng.integers(0, W, n), rng.integers(0, H, n), np.sort(rng.integers(0, t_max, n)),
                       rng.integers(0, 2, n), (W, H))


def tonic_copy(ev, p_dtype="u1"):
    """The same events in a fresh structured array (tonic rewrites columns in place)."""
    arr = np.empty(len(ev), dtype=[("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", p_dtype)])
    for k in "xytp":
        arr[k] = ev.array[k]
    return arr


@pytest.mark.parametrize("dt", [1000, 7777, 40_000])
def test_histogram_matches_tonic_to_frame(dt):
    tf = pytest.importorskip("tonic.functional")
    ev = random_events(0)
    t0 = int(ev.t[0])
    ours = histogram(ev, (W, H), dt)
    n = ours.shape[0]
    assert n == (int(ev.t[-1]) - t0) // dt + 1
    tonic = tf.to_frame_numpy(tonic_copy(ev), (W, H, 2), time_window=dt, start_time=t0, end_time=t0 + n * dt)
    np.testing.assert_array_equal(ours, tonic)
    assert ours.sum() == len(ev)


def test_histogram_hand_values_and_windows():
    ev = make_events([1, 1, 1, 2, 8], [0, 0, 0, 3, 3], [0, 10, 999, 1000, 2500], [1, 1, 0, 0, 1], (W, H))
    h = histogram(ev, (W, H), 1000)
    assert h.shape == (3, 2, H, W) and h.dtype == np.int32
    assert (h[0, 1, 0, 1], h[0, 0, 0, 1], h[1, 0, 3, 2], h[2, 1, 3, 8]) == (2, 1, 1, 1)
    assert h.sum() == 5
    late = histogram(ev, (W, H), 1000, start_us=500, n_frames=1)
    assert late.sum() == 2 and late[0, 0, 0, 1] == 1 and late[0, 0, 3, 2] == 1
    empty = Events(np.empty(0, EVENT_DTYPE), (W, H))
    assert histogram(empty, (W, H), 1000, n_frames=3).shape == (3, 2, H, W)
    with pytest.raises(ValueError, match="delta_t_us"):
        histogram(ev, (W, H), 0)
    hot = make_events([0] * 300, [0] * 300, np.arange(300), [1] * 300, (W, H))
    with pytest.raises(ValueError, match=r"more (events )?than dtype uint8"):
        histogram(hot, (W, H), 1000, dtype=np.uint8)


@pytest.mark.parametrize("n_bins", [2, 5, 9])
def test_voxel_grid_matches_tonic_with_one_more_bin(n_bins):
    """tonic scales time by B (e2vid by B - 1) and drops what falls past its last bin."""
    tf = pytest.importorskip("tonic.functional")
    ev = random_events(1, n=800)
    tonic = tf.to_voxel_grid_numpy(tonic_copy(ev, "i1"), (W, H, 2), n_time_bins=n_bins)
    ours = voxel_grid(ev, (W, H), n_bins + 1)
    np.testing.assert_allclose(ours[:n_bins], tonic[:, 0], rtol=0, atol=1e-5)


def test_voxel_grid_hand_values():
    # three events at 0, 500, 1000 us with B = 3 bins: ts = 0, 1, 2 exactly; an event at 250 us splits 0.5/0.5
    ev = make_events([0, 1, 2, 3], [0, 0, 0, 1], [0, 250, 500, 1000], [1, 0, 1, 1], (W, H))
    g = voxel_grid(ev, (W, H), 3)
    assert g.shape == (3, H, W) and g.dtype == np.float32
    assert g[0, 0, 0] == 1 and g[1, 0, 2] == 1 and g[2, 1, 3] == 1
    assert g[0, 0, 1] == -0.5 and g[1, 0, 1] == -0.5
    assert g.sum() == 2.0  # polarity-weighted total: 1 - 1 + 1 + 1
    assert voxel_grid(Events(np.empty(0, EVENT_DTYPE), (W, H)), (W, H), 4).shape == (4, H, W)
    # all events at one time: everything in bin 0 (e2vid's Δ = 1 guard)
    same = make_events([0, 1], [0, 0], [7, 7], [1, 1], (W, H))
    assert voxel_grid(same, (W, H), 3)[0].sum() == 2


def test_time_surface_matches_tonic():
    tf = pytest.importorskip("tonic.functional")
    ev = random_events(2, n=600, t_max=50_000)
    dt, tau = 5000, 8000
    tonic = tf.to_timesurface_numpy(tonic_copy(ev), (W, H, 2), dt=dt, tau=tau)
    t0 = int(ev.t[0])
    refs = t0 + dt * (np.arange(tonic.shape[0]) + 1)
    ours = time_surface(ev, (W, H), refs, tau)
    assert ours.shape == tonic.shape == (len(refs), 2, H, W)
    np.testing.assert_allclose(ours, tonic, rtol=1e-6, atol=1e-7)


def test_time_surface_hand_values():
    ev = make_events([1, 1, 2], [0, 0, 3], [0, 4000, 9000], [1, 1, 0], (W, H))
    s = time_surface(ev, (W, H), 5000, 1000)
    assert s.shape == (2, H, W)
    assert s[1, 0, 1] == np.float32(np.exp(-1.0))  # latest event before t_ref wins
    assert s[0, 3, 2] == 0  # events at or after t_ref do not count
    flat = time_surface(ev, (W, H), 10_000, 1000, polarity=False)
    assert flat.shape == (H, W) and flat[3, 2] == np.float32(np.exp(-1.0))
    with pytest.raises(ValueError, match="tau_us"):
        time_surface(ev, (W, H), 10_000, 0)


def test_voxel_and_time_surface_sort_unsorted_input_and_name_bad_events():
    """Unsorted events give the arrays of the sorted stream; an event outside the sensor is named."""
    ev = random_events(13, n=5000, t_max=400_000)
    shuffled = ev.array[np.random.default_rng(1).permutation(len(ev))]
    refs = np.array([350_000, 1, 90_000, 90_000, 400_001, -5])  # unsorted, repeated, before and after the events
    np.testing.assert_array_equal(voxel_grid(shuffled, (W, H), 4), voxel_grid(ev, (W, H), 4))
    for polarity in (True, False):
        s = time_surface(shuffled, (W, H), refs, 30_000, polarity=polarity)
        np.testing.assert_array_equal(s, time_surface(ev, (W, H), refs, 30_000, polarity=polarity))
        assert s[0].any() and not s[5].any()  # pixels with events before t_ref, and none before t = -5
    bad = ev.array.copy()
    bad["x"][4321] = W
    for fn in (lambda: voxel_grid(bad, (W, H), 4), lambda: time_surface(bad, (W, H), refs, 30_000)):
        with pytest.raises(ValueError, match=f"event 4321 has x={W}"):
            fn()


def test_count_image_matches_add_at():
    ev = random_events(3)
    ref = np.zeros((2, H, W), np.int64)
    np.add.at(ref, (ev.p.astype(int), ev.y, ev.x), 1)
    np.testing.assert_array_equal(count_image(ev, (W, H), polarity=True), ref)
    np.testing.assert_array_equal(count_image(ev, (W, H)), ref.sum(0))
    assert count_image(Events(np.empty(0, EVENT_DTYPE), (W, H))).shape == (H, W)


@pytest.mark.parametrize("case", ["plain", "start_and_n", "unsorted", "int8_polarity", "no_polarity"])
def test_histogram_equals_add_at(case):
    """Counts equal np.add.at over the windows for unsorted input, int8 polarities and arrays without ``p``
    (all OFF)."""
    ev = random_events(3, n=4000)
    arr, kw, t0 = ev.array, {}, int(ev.t[0])
    if case == "start_and_n":
        kw, t0 = dict(start_us=20_000, n_frames=7), 20_000
    elif case == "unsorted":
        arr = arr[np.random.default_rng(1).permutation(len(arr))]
    elif case == "int8_polarity":
        arr = tonic_copy(ev, "i1")
    elif case == "no_polarity":
        arr = np.empty(len(ev), dtype=[("x", "<i2"), ("y", "<i2"), ("t", "<i8")])
        for k in "xyt":
            arr[k] = ev.array[k]
    got = histogram(arr, (W, H), 3000, dtype=np.int16, **kw)
    n = got.shape[0]
    ref = np.zeros((n, 2, H, W), np.int16)
    f = (ev.t - t0) // 3000
    inside = (f >= 0) & (f < n)
    p = ev.p.astype(np.intp) if case != "no_polarity" else np.zeros(len(ev), np.intp)
    np.add.at(ref, (f[inside], p[inside], ev.y[inside], ev.x[inside]), 1)
    np.testing.assert_array_equal(got, ref)
    assert got.dtype == np.int16 and got.sum() > 0


def test_histogram_reports_bad_events():
    ev = random_events(4, n=100)
    arr = ev.array.copy()
    arr["x"][57] = W
    with pytest.raises(ValueError, match="event 57 has x=9"):
        histogram(arr, (W, H), 1000)
    arr = tonic_copy(ev, "i1")
    arr["p"][3] = -1
    with pytest.raises(ValueError, match="polarity -1"):
        histogram(arr, (W, H), 1000)


def bursty_events(seed):
    """Windows of 1 ms alternating between dense (many events per bin) and sparse (a few), so that
    batches hold very different numbers of events."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, n in enumerate([3, 400, 0, 70_000, 2, 1, 300, 0, 0, 4]):
        parts.append(np.stack([rng.integers(0, W, n), rng.integers(0, H, n),
                               np.sort(rng.integers(k * 1000, (k + 1) * 1000, n)), rng.integers(0, 2, n)], 1))
    a = np.concatenate(parts)
    return make_events(a[:, 0], a[:, 1], a[:, 2], a[:, 3], (W, H))


def streamed(ev, dt, **kw):
    """iter_histograms' batches (copied) and their first window indices."""
    out, firsts = [], []
    for i, frames in iter_histograms(ev, (W, H), dt, **kw):
        assert not frames.flags.writeable
        out.append(frames.copy())
        firsts.append(i)
    return out, firsts


@pytest.mark.parametrize("batch", [1, 3, 50])
@pytest.mark.parametrize("kw", [{}, dict(start_us=1500, n_frames=6), dict(n_frames=14)])
def test_iter_histograms_equals_histogram(batch, kw):
    """Every batch equals the matching slice of histogram()."""
    ev = bursty_events(5)
    ref = histogram(ev, (W, H), 1000, dtype=np.int32, **kw)
    batches, firsts = streamed(ev, 1000, batch=batch, **kw)
    assert firsts == list(range(0, ref.shape[0], batch))
    assert all(len(b) == min(batch, ref.shape[0] - i) for b, i in zip(batches, firsts))
    np.testing.assert_array_equal(np.concatenate(batches), ref)


def test_iter_histograms_dtype_and_read_only_batches():
    ev = bursty_events(6)
    frames = [f for _, f in iter_histograms(ev, (W, H), 1000, dtype=np.int16)]
    assert len(frames) == 10 and all(f.dtype == np.int16 and f.shape == (1, 2, H, W) for f in frames)
    with pytest.raises(ValueError, match="read-only"):
        frames[0][...] = 1
    float_frames = np.concatenate([f for _, f in iter_histograms(ev, (W, H), 1000, dtype=np.float32)])
    np.testing.assert_array_equal(float_frames, histogram(ev, (W, H), 1000, dtype=np.float32))


def test_iter_histograms_empty_and_bad_input():
    empty = Events(np.empty(0, EVENT_DTYPE), (W, H))
    assert list(iter_histograms(empty, (W, H), 1000)) == []
    (i, z), = iter_histograms(empty, (W, H), 1000, n_frames=2, batch=4)
    assert i == 0 and z.shape == (2, 2, H, W) and not z.any()
    ev = bursty_events(7)
    with pytest.raises(ValueError, match="batch"):
        iter_histograms(ev, (W, H), 1000, batch=0)
    with pytest.raises(ValueError, match="delta_t_us"):
        iter_histograms(ev, (W, H), -5)
    arr = ev.array.copy()
    k = int(np.searchsorted(arr["t"], 6000))  # a decrease in a late window: raised before any batch
    arr["t"][k] = arr["t"][k - 1] - 1
    with pytest.raises(ValueError, match=rf"event {k} \(t={arr['t'][k]} us\) is earlier than event {k - 1}"):
        iter_histograms(arr, (W, H), 1000)
    arr = ev.array.copy()
    arr["y"][len(arr) - 2] = H  # past the last window
    with pytest.raises(ValueError, match=rf"event {len(arr) - 2} has y={H}"):
        iter_histograms(arr, (W, H), 1000, n_frames=3)
    hot = make_events([2] * 300, [1] * 300, 5000 + np.arange(300), [0] * 300, (W, H))
    with pytest.raises(ValueError, match=r"more (events )?than dtype uint8"):
        list(iter_histograms(hot, (W, H), 1000, dtype=np.uint8, start_us=1000))


def test_iter_histograms_counts_up_to_the_dtype_maximum():
    """A window of exactly 255 events at one bin fits uint8; one more event raises."""
    for n, fits in ((255, True), (256, False)):
        ev = make_events([7] * n + [1], [3] * n + [1], np.r_[2000 + np.arange(n), 4000], [1] * n + [0], (W, H))
        it = iter_histograms(ev, (W, H), 1000, dtype=np.uint8)
        if fits:
            got = np.concatenate([f.copy() for _, f in it])
            np.testing.assert_array_equal(got, histogram(ev, (W, H), 1000, dtype=np.int32))
            assert got[0, 1, 3, 7] == 255 and got.dtype == np.uint8
        else:
            with pytest.raises(ValueError, match=r"more (events )?than dtype uint8"):
                list(it)


def test_search_edges_is_searchsorted():
    if _compiled._numba is None:
        pytest.skip("numba not installed")
    rng = np.random.default_rng(8)
    t = np.sort(rng.integers(0, 1000, 500))
    bounds = np.sort(rng.integers(-10, 1010, 40))
    np.testing.assert_array_equal(_compiled.search_edges(t, bounds), np.searchsorted(t, bounds))
    shuffled = rng.permutation(t)  # any input: monotone edges, so the ranges partition the events
    assert (np.diff(_compiled.search_edges(shuffled, bounds)) >= 0).all()


RECORD_LAYOUTS = {
    "tonic order, wide fields": [("t", "<u8"), ("x", "<i8"), ("y", "<u4"), ("p", "<i8")],
    "extra fields": [("x", "<u2"), ("c", "<f4"), ("y", "<i2"), ("s", "U2"), ("t", "<i8"), ("p", "i1")],
    "aligned, padded": np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "u1")], align=True),
    "no polarity": [("y", "<i2"), ("x", "<i2"), ("t", "<i8")],
    "big-endian x": [("x", ">i2"), ("y", "<i2"), ("t", "<i8"), ("p", "u1")],
    "object field": [("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "u1"), ("tag", "O")],
}


@pytest.mark.parametrize("layout", RECORD_LAYOUTS)
def test_compiled_passes_read_any_record_layout(layout, monkeypatch):
    """The compiled TBR passes read records at the dtype's field offsets: any field order, width, padding or
    extra fields give the numpy path's arrays, and the arrays of the plain event dtype; dtypes numba
    cannot type (non-native byte order, object fields) take the numpy path."""
    from nvlib.represent import tbr, tbr_aligned

    if _compiled._numba is None:
        pytest.skip("numba not installed")
    ev = random_events(21, n=3000, t_max=300_000)
    arr = np.zeros(len(ev), RECORD_LAYOUTS[layout])
    for k in arr.dtype.names:
        if k in "xytp":
            arr[k] = ev.array[k]
    untyped = layout in ("big-endian x", "object field")
    assert (_compiled.fields(arr, (W, H)) is None) == untyped
    assert [_compiled._polarity(e) for e in arr[:20]] == ([int(v) for v in ev.p[:20]] if "p" in arr.dtype.names
                                                         else [0] * 20)
    plain = ev.array if "p" in arr.dtype.names else arr[["x", "y", "t"]]
    ends = [350_000, 1, 90_000, 90_000, 120_000]
    runs = [lambda a: tbr(a, (W, H), 2000, 5),
            lambda a: tbr(a, (W, H), 2000, 12, normalize=False, polarity=True),
            lambda a: tbr_aligned(a, (W, H), ends, 3000, 9, polarity=True),
            lambda a: tbr_aligned(a, (W, H), sorted(ends), 3000, 8, normalize=False)]
    fast = [fn(arr) for fn in runs]
    same_as_plain = [fn(plain) for fn in runs]
    monkeypatch.setattr(_compiled, "fields", lambda *a: None)
    slow = [fn(arr) for fn in runs]
    for a, b, c in zip(fast, slow, same_as_plain):
        assert a.dtype == b.dtype == c.dtype
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert all(a.any() for a in fast)
