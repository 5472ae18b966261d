"""Histograms, voxel grid, time surface and count image against tonic and hand-computed values."""
import threading

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
    with pytest.raises(ValueError, match=r"more (events )?than dtype uint8") as err:
        histogram(hot, (W, H), 1000, dtype=np.uint8)
    if _compiled.fields(hot, (W, H)) is not None:  # the compiled pass names the bin
        assert "pixel (x=0, y=0), polarity 1 of window 0" in str(err.value)


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


def test_time_surface_decay_equals_plain_exp_at_the_extremes():
    """The floored exponent gives float32(exp((t_last - t_ref) / tau)) exactly: -inf (no event), times
    far enough back to underflow, the floor's neighbourhood, and recent times."""
    from nvlib.represent.time_surface import _EXP_FLOOR, _decay

    tau, ref = 1000, 10**9
    gaps = np.concatenate([[np.inf, 1e12, 745_200.0, 708_000.0], -_EXP_FLOOR * tau + np.arange(-3000, 3001, 7.0),
                           np.linspace(0, 200_000, 5001)])
    last = ref - gaps
    with np.errstate(under="ignore"):
        expected = np.exp((last - ref) / tau).astype(np.float32)
    row = np.empty(last.size, np.float32)
    _decay(last, ref, tau, np.empty(last.size), row)
    np.testing.assert_array_equal(row, expected)
    assert expected[0] == 0 and (expected[-5001:] > 0).sum() > 1000


@pytest.mark.parametrize("case", ["sorted", "unsorted", "no polarity field", "one time", "bad x"])
def test_voxel_and_time_surface_compiled_equal_numpy_path(case, monkeypatch):
    """The compiled voxel sums (event order, float64) and latest-time pass give the numpy path's arrays
    bit for bit; unsorted or bad input goes to the numpy path (which sorts, or names the event)."""
    if _compiled._numba is None:
        pytest.skip("numba not installed")
    ev = random_events(13, n=5000, t_max=400_000)
    arr = ev.array
    if case == "unsorted":
        arr = arr[np.random.default_rng(1).permutation(len(arr))]
    if case == "no polarity field":
        arr = np.rec.fromarrays([arr["x"], arr["y"], arr["t"]], names="x,y,t")
        arr = np.asarray(arr).view(np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8")]))
    if case == "one time":
        arr = arr.copy()
        arr["t"] = 777
    if case == "bad x":
        arr = arr.copy()
        arr["x"][4321] = W
    refs = np.array([350_000, 1, 90_000, 90_000, 400_001, -5])  # unsorted, repeated, before and after the events

    def both(fn):
        if case == "bad x":
            with pytest.raises(ValueError, match=f"event 4321 has x={W}"):
                fn()
            return None, None
        fast = fn()
        with monkeypatch.context() as m:
            m.setattr(_compiled, "fields", lambda *a: None)
            slow = fn()
        assert fast.dtype == slow.dtype and fast.shape == slow.shape
        np.testing.assert_array_equal(fast, slow)
        return fast, slow

    for n_bins in (1, 4, 9):
        both(lambda: voxel_grid(arr, (W, H), n_bins))
    for polarity in (True, False):
        s, _ = both(lambda: time_surface(arr, (W, H), refs, 30_000, polarity=polarity))
        if s is not None:
            assert s[0].any() and not s[5].any()  # pixels with events before t_ref, and none before t = -5
        both(lambda: time_surface(arr, (W, H), None, 30_000, polarity=polarity))
        both(lambda: time_surface(arr, (W, H), 123_456, 30_000, polarity=polarity))


def test_voxel_pass_float64_sums_equal_bincount():
    """Before the float32 cast: the compiled sums are numpy's bincounts to the bit."""
    if _compiled._numba is None:
        pytest.skip("numba not installed")
    ev = random_events(14, n=20_000, t_max=1_000_003)
    b, plane = 6, W * H
    span = int(ev.t[-1] - ev.t[0])
    left, right = np.zeros(b * plane), np.zeros(b * plane)
    _compiled.voxel_pass(ev.array, W, H, b, span, left, right)
    ts = (b - 1) * (ev.t - ev.t[0]).astype(np.float64) / span
    ti = ts.astype(np.int64)
    frac, pol, pix = ts - ti, ev.p * 2.0 - 1, ev.y.astype(np.int64) * W + ev.x
    np.testing.assert_array_equal(left, np.bincount(ti * plane + pix, pol * (1 - frac), b * plane))
    nxt = ti + 1 < b
    np.testing.assert_array_equal(right, np.bincount((ti + 1)[nxt] * plane + pix[nxt], (pol * frac)[nxt], b * plane))


def test_count_image_matches_add_at():
    ev = random_events(3)
    ref = np.zeros((2, H, W), np.int64)
    np.add.at(ref, (ev.p.astype(int), ev.y, ev.x), 1)
    np.testing.assert_array_equal(count_image(ev, (W, H), polarity=True), ref)
    np.testing.assert_array_equal(count_image(ev, (W, H)), ref.sum(0))
    assert count_image(Events(np.empty(0, EVENT_DTYPE), (W, H))).shape == (H, W)


@pytest.mark.parametrize("case", ["plain", "start_and_n", "unsorted", "int8_polarity", "no_polarity",
                                  "chunks", "unsorted_at_chunk_edge"])
def test_histogram_compiled_pass_equals_sort_path(case, monkeypatch):
    """The compiled pass (rounds of _CHUNK events) and the sort-based counting give the same array."""
    if _compiled._numba is None:
        pytest.skip("numba not installed")
    ev = random_events(3, n=4000 if "chunk" not in case else 2 * _compiled._CHUNK + 123)
    arr = ev.array
    kw = {}
    if case == "unsorted_at_chunk_edge":  # the only decrease straddles two rounds
        arr = arr.copy()
        c = _compiled._CHUNK
        arr["t"][c - 1], arr["t"][c] = arr["t"][c] + 1, arr["t"][c - 1]
        assert (np.diff(arr["t"]) < 0).sum() == 1
    if case == "start_and_n":
        kw = dict(start_us=20_000, n_frames=7)
    elif case == "unsorted":
        arr = arr[np.random.default_rng(1).permutation(len(arr))]
    elif case == "int8_polarity":
        arr = tonic_copy(ev, "i1")
    elif case == "no_polarity":
        arr = np.empty(len(ev), dtype=[("x", "<i2"), ("y", "<i2"), ("t", "<i8")])
        for k in "xyt":
            arr[k] = ev.array[k]
    fast = histogram(arr, (W, H), 3000, dtype=np.int16, **kw)
    monkeypatch.setattr(_compiled, "fields", lambda *a: None)  # the numpy path
    slow = histogram(arr, (W, H), 3000, dtype=np.int16, **kw)
    np.testing.assert_array_equal(fast, slow)
    assert fast.dtype == np.int16 and fast.sum() > 0


def test_prefetch_hint_compiles_to_a_prefetch_instruction():
    """The compiled histogram pass's prefetch is a real instruction (x86 prefetch*, ARM prfm), not a
    no-op, and addresses strided arrays without changing them."""
    if _compiled._numba is None:
        pytest.skip("numba not installed")
    import numba

    @numba.njit
    def touch(a, idx):
        for j in range(idx.shape[0]):
            _compiled._prefetch(a, idx[j])
        return a.sum()

    a = np.arange(40, dtype=np.int16)[::3]
    assert touch(a, np.array([0, 5, 13])) == a.sum()
    asm = "\n".join(touch.inspect_asm().values()).lower()
    assert "prefetch" in asm or "prfm" in asm


def test_histogram_compiled_pass_reports_bad_events():
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
    iter_histograms clears its buffer both whole and event by event; 2 rounds of _CHUNK in one window."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, n in enumerate([3, 400, 0, 2 * _compiled._CHUNK + 5, 2, 1, 300, 0, 0, 4]):
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


@pytest.mark.parametrize("path", ["compiled", "compiled, 2 workers", "compiled, 3 workers", "numpy"])
@pytest.mark.parametrize("batch", [1, 3, 50])
@pytest.mark.parametrize("kw", [{}, dict(start_us=1500, n_frames=6), dict(n_frames=14)])
def test_iter_histograms_equals_histogram(path, batch, kw, monkeypatch):
    """Every batch equals the matching slice of histogram(), whatever was in the buffer before it (with
    workers, whatever the batch counted into that buffer ``workers + 1`` steps before)."""
    if path.startswith("compiled") and _compiled._numba is None:
        pytest.skip("numba not installed")
    ev = bursty_events(5)
    ref = histogram(ev, (W, H), 1000, dtype=np.int32, **kw)
    if path == "numpy":
        monkeypatch.setattr(_compiled, "fields", lambda *a: None)
    workers = int(path.split(", ")[1][0]) if ", " in path else 1
    batches, firsts = streamed(ev, 1000, batch=batch, workers=workers, **kw)
    assert firsts == list(range(0, ref.shape[0], batch))
    assert all(len(b) == min(batch, ref.shape[0] - i) for b, i in zip(batches, firsts))
    np.testing.assert_array_equal(np.concatenate(batches), ref)


def test_iter_histograms_reuses_one_buffer_and_dtype():
    if _compiled._numba is None:
        pytest.skip("numba not installed")
    ev = bursty_events(6)
    frames = [f for _, f in iter_histograms(ev, (W, H), 1000, dtype=np.int16)]
    assert len(frames) == 10 and all(f.dtype == np.int16 and f.shape == (1, 2, H, W) for f in frames)
    assert all(np.shares_memory(frames[0], f) for f in frames[1:])  # memory: one window, not ten
    with pytest.raises(ValueError, match="read-only"):
        frames[0][...] = 1
    float_frames = np.concatenate([f for _, f in iter_histograms(ev, (W, H), 1000, dtype=np.float32)])
    np.testing.assert_array_equal(float_frames, histogram(ev, (W, H), 1000, dtype=np.float32))


def test_iter_histograms_workers_rotate_buffers_and_stop_cleanly():
    if _compiled._numba is None:
        pytest.skip("numba not installed")
    ev = bursty_events(12)
    frames = [f for _, f in iter_histograms(ev, (W, H), 1000, dtype=np.int16, workers=2)]
    assert len(frames) == 10
    assert all(np.shares_memory(frames[i], frames[i + 3]) for i in range(7))  # three buffers, in turn
    assert not any(np.shares_memory(frames[i], frames[i + 1]) for i in range(9))
    threads = threading.active_count()
    it = iter_histograms(ev, (W, H), 1000, workers=3)
    first = next(it)[1].copy()
    it.close()  # waits for the batches counted ahead, then lets the threads go
    assert threading.active_count() == threads
    np.testing.assert_array_equal(first, histogram(ev, (W, H), 1000)[:1])
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        iter_histograms(ev, (W, H), 1000, workers=0)


@pytest.mark.parametrize("workers", [1, 2])
def test_iter_histograms_empty_and_bad_input(workers):
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
    k = int(np.searchsorted(arr["t"], 6000))  # a decrease after the first windows were yielded
    arr["t"][k] = arr["t"][k - 1] - 1
    it = iter_histograms(arr, (W, H), 1000, workers=workers)
    assert next(it)[0] == 0
    with pytest.raises(ValueError, match=rf"event {k} \(t={arr['t'][k]} us\) is earlier than event {k - 1}"):
        list(it)
    arr = ev.array.copy()
    arr["y"][len(arr) - 2] = H  # past the last window: checked before anything is yielded
    with pytest.raises(ValueError, match=rf"event {len(arr) - 2} has y={H}"):
        next(iter_histograms(arr, (W, H), 1000, n_frames=3))
    hot = make_events([2] * 300, [1] * 300, 5000 + np.arange(300), [0] * 300, (W, H))
    with pytest.raises(ValueError, match=r"more (events )?than dtype uint8") as err:
        list(iter_histograms(hot, (W, H), 1000, dtype=np.uint8, start_us=1000, workers=workers))
    if _compiled.fields(hot, (W, H)) is not None:  # the compiled pass names the bin and the window
        assert "pixel (x=2, y=1), polarity 0 of window 4" in str(err.value)


@pytest.mark.parametrize("workers", [1, 2])
def test_iter_histograms_counts_up_to_the_dtype_maximum(workers):
    """A window of exactly 255 events at one bin fits uint8 (windows of at most the maximum are added
    unchecked); one more event raises, in whichever window it falls."""
    for n, fits in ((255, True), (256, False)):
        ev = make_events([7] * n + [1], [3] * n + [1], np.r_[2000 + np.arange(n), 4000], [1] * n + [0], (W, H))
        it = iter_histograms(ev, (W, H), 1000, dtype=np.uint8, workers=workers)
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


@pytest.mark.parametrize("workers", [2, 3, 16])
@pytest.mark.parametrize("kw", [{}, dict(start_us=1500, n_frames=6), dict(n_frames=14), dict(start_us=-3000)])
def test_histogram_workers_equal_one_thread(workers, kw):
    """Groups of windows counted in threads give the single pass's array (balanced split, any edges)."""
    ev = bursty_events(9)
    one = histogram(ev, (W, H), 1000, dtype=np.int32, **kw)
    np.testing.assert_array_equal(histogram(ev, (W, H), 1000, dtype=np.int32, workers=workers, **kw), one)
    unsorted = ev.array[np.random.default_rng(2).permutation(len(ev))]  # sorted by the numpy path
    np.testing.assert_array_equal(histogram(unsorted, (W, H), 1000, workers=workers, **kw), one)


def test_histogram_workers_bad_input():
    ev = bursty_events(10)
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        histogram(ev, (W, H), 1000, workers=0)
    arr = ev.array.copy()
    arr["x"][-1] = W  # after the last window: checked before the threads start
    with pytest.raises(ValueError, match=rf"event {len(arr) - 1} has x={W}"):
        histogram(arr, (W, H), 1000, workers=2, n_frames=4)
    hot = make_events([3] * 300, [2] * 300, 9000 + np.arange(300), [1] * 300, (W, H))
    both = np.concatenate([random_events(11, n=500, t_max=10_000).array, hot.array])
    both = both[np.argsort(both["t"], kind="stable")]
    with pytest.raises(ValueError, match=r"more (events )?than dtype uint8") as err:
        histogram(both, (W, H), 1000, dtype=np.uint8, workers=2, start_us=0)
    if _compiled.fields(both, (W, H)) is not None:  # the window is counted in the second group
        assert "pixel (x=3, y=2), polarity 1 of window 9" in str(err.value)


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
    """The compiled passes read records at the dtype's field offsets: any field order, width, padding or
    extra fields give the numpy path's arrays, and the arrays of the plain event dtype; dtypes numba
    cannot type (non-native byte order, object fields) take the numpy path."""
    from nvlib.represent import tbr

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
    refs = [350_000, 1, 90_000]
    runs = [lambda a: histogram(a, (W, H), 7000, dtype=np.int16),
            lambda a: np.concatenate([f.copy() for _, f in iter_histograms(a, (W, H), 7000, batch=3)]),
            lambda a: tbr(a, (W, H), 2000, 5),
            lambda a: tbr(a, (W, H), 2000, 12, normalize=False, polarity=True),
            lambda a: time_surface(a, (W, H), refs, 20_000, polarity=True),
            lambda a: time_surface(a, (W, H), refs, 20_000)]
    if "p" in arr.dtype.names:
        runs.append(lambda a: voxel_grid(a, (W, H), 5))
    fast = [fn(arr) for fn in runs]
    same_as_plain = [fn(plain) for fn in runs]
    monkeypatch.setattr(_compiled, "fields", lambda *a: None)
    slow = [fn(arr) for fn in runs]
    for a, b, c in zip(fast, slow, same_as_plain):
        assert a.dtype == b.dtype == c.dtype
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert fast[0].sum() == len(ev)
