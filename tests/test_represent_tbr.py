"""TBR: hand-made bit patterns, an independent per-pixel reference, tonic's Bina-Rep, windows, bad input."""
import importlib
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nvlib.events import EVENT_DTYPE, Events, make_events
from nvlib.represent import (active_bits, binary_slices, bit_weights, codes_from_bits, frame_times_us, normalize_codes, tbr, tbr_aligned,
                             tbr_memory_bytes, tbr_windows)
# the package attribute ``tbr`` is the function; the module is reached through importlib
tbr_mod = importlib.import_module("nvlib.represent.tbr")

W, H = 7, 5  # W != H catches swapped axes


def one_event(x, y, t, p=1, size=(W, H)):
    return make_events([x], [y], [t], [p], size)


def random_events(rng, n, size=(W, H), t_max=200_000, sort=True):
    t = rng.integers(0, t_max, n)
    if sort:
        t = np.sort(t)
    return make_events(rng.integers(0, size[0], n), rng.integers(0, size[1], n), t, rng.integers(0, 2, n), size)


def reference_codes(ev, starts, dt, n_bits, msb_newest=True, polarity=False):
    """Independent per-event reference: a Python loop setting bits in a dict of words."""
    c = 2 if polarity else 1
    out = np.zeros((len(starts), c, H, W), np.int64)
    for x, y, t, p in zip(ev.x.tolist(), ev.y.tolist(), ev.t.tolist(), ev.p.tolist()):
        for f, s in enumerate(starts):
            if s <= t < s + n_bits * dt:
                k = (t - s) // dt
                bit = k if msb_newest else n_bits - 1 - k
                out[f, p if polarity else 0, y, x] |= 1 << bit
    return out if polarity else out[:, 0]


@pytest.mark.parametrize("n_bits", [1, 2, 8, 12, 16])
@pytest.mark.parametrize("slot", ["oldest", "newest", "middle"])
def test_single_event_gives_its_bit(n_bits, slot):
    dt = 5000
    k = {"oldest": 0, "newest": n_bits - 1, "middle": n_bits // 2}[slot]
    ev = make_events([0, 3], [0, 2], [0, k * dt + 1234], [1, 0], (W, H))  # the first event pins t0 = 0
    codes = tbr(ev, (W, H), dt, n_bits, normalize=False, n_frames=1)
    assert codes.dtype == (np.uint8 if n_bits <= 8 else np.uint16)
    expected = np.zeros((1, H, W), np.int64)
    expected[0, 0, 0] |= 1
    expected[0, 2, 3] |= 1 << k
    np.testing.assert_array_equal(codes, expected)
    rev = tbr(ev, (W, H), dt, n_bits, normalize=False, n_frames=1, msb_newest=False)
    assert rev[0, 2, 3] == 1 << (n_bits - 1 - k) and rev[0, 0, 0] == 1 << (n_bits - 1)


def test_paper_values_newest_slice_and_full_word():
    dt = 5000
    only_newest = make_events([1], [1], [7 * dt], [0], (W, H))
    frame = tbr(only_newest, (W, H), dt, 8, start_us=0)
    assert frame.dtype == np.float32 and frame.shape == (1, H, W)
    assert frame[0, 1, 1] == np.float32(128 / 255)
    frame16 = tbr(make_events([1], [1], [15 * dt], [0], (W, H)), (W, H), dt, 16, start_us=0)
    assert frame16[0, 1, 1] == np.float32(32768 / 65535)
    every = make_events([2] * 8, [3] * 8, np.arange(8) * dt + 17, [1] * 8, (W, H))
    assert tbr(every, (W, H), dt, 8, normalize=False)[0, 3, 2] == 255
    assert tbr(every, (W, H), dt, 8)[0, 3, 2] == 1.0
    # several events in one slice set the bit once (binary presence, not counts)
    burst = make_events([2] * 5, [3] * 5, [0, 1, 2, 3, 4999], [1, 0, 1, 1, 0], (W, H))
    assert tbr(burst, (W, H), dt, 8, normalize=False)[0, 3, 2] == 1


@pytest.mark.parametrize("n_bits", [8, 16])
def test_normalisation_is_correctly_rounded(n_bits):
    codes = np.arange(1 << n_bits, dtype=np.uint8 if n_bits == 8 else np.uint16)
    got = normalize_codes(codes, n_bits)
    den = (1 << n_bits) - 1
    exact = np.array([float(Fraction(int(c), den)) for c in codes[:: max(1, den // 300)]])
    np.testing.assert_array_equal(got[:: max(1, den // 300)], exact.astype(np.float32))
    assert got[-1] == 1.0 and got[0] == 0.0


@pytest.mark.parametrize("seed", [0])
@pytest.mark.parametrize("n_bits", [1, 3, 8, 16])
@pytest.mark.parametrize("msb_newest", [True, False])
@pytest.mark.parametrize("polarity", [False, True])
@pytest.mark.parametrize("path", ["dense", "sparse"])
def test_matches_per_pixel_reference(seed, n_bits, msb_newest, polarity, path, monkeypatch):
    monkeypatch.setattr(tbr_mod, "_DENSE_EVENTS_PER_RUN", 0 if path == "dense" else 10**9)
    rng = np.random.default_rng(seed)
    ev = random_events(rng, 400)
    dt = 3001
    got = tbr(ev, (W, H), dt, n_bits, normalize=False, msb_newest=msb_newest, polarity=polarity)
    t0 = int(ev.t[0])
    n = (int(ev.t[-1]) - t0) // (n_bits * dt) + 1
    starts = t0 + n_bits * dt * np.arange(n)
    np.testing.assert_array_equal(got, reference_codes(ev, starts, dt, n_bits, msb_newest, polarity))


@pytest.mark.parametrize("stride", [1000, 2500, 7000, 30000])
@pytest.mark.parametrize("path", ["dense", "sparse"])
def test_sliding_windows_match_reference(stride, path, monkeypatch):
    monkeypatch.setattr(tbr_mod, "_DENSE_EVENTS_PER_RUN", 0 if path == "dense" else 10**9)
    ev = random_events(np.random.default_rng(5), 300, t_max=60_000)
    got = tbr(ev, (W, H), 2000, 4, normalize=False, stride_us=stride, start_us=-500)
    n = (int(ev.t[-1]) + 500) // stride + 1
    assert got.shape == (n, H, W)
    np.testing.assert_array_equal(got, reference_codes(ev, -500 + stride * np.arange(n), 2000, 4))


def test_matches_tonic_bina_rep_with_its_conventions():
    tf = pytest.importorskip("tonic.functional")
    rng = np.random.default_rng(3)
    ev = random_events(rng, 2000)
    dt, n_bits, n_frames = 4000, 8, 6
    t0 = int(ev.t[0])
    frames = tf.to_frame_numpy(ev.array.copy(), (W, H, 2), time_window=dt, start_time=t0,
                               end_time=t0 + n_frames * n_bits * dt)
    assert frames.shape == (n_frames * n_bits, 2, H, W)
    tonic = tf.to_bina_rep_numpy(frames, n_frames=n_frames, n_bits=n_bits)
    ours = tbr(ev, (W, H), dt, n_bits, n_frames=n_frames, msb_newest=False, polarity=True)
    np.testing.assert_allclose(ours, tonic, rtol=0, atol=1e-6)
    # and the group's convention is tonic's with the bit order flipped and the polarities merged
    merged = tbr(ev, (W, H), dt, n_bits, normalize=False, n_frames=n_frames)
    flipped = tf.to_bina_rep_numpy(np.flip(frames.reshape(n_frames, n_bits, 2, H, W), 1).sum(2, keepdims=True)
                                   .reshape(n_frames * n_bits, 1, H, W), n_frames=n_frames, n_bits=n_bits)
    np.testing.assert_array_equal(merged, np.rint(flipped[:, 0] * 255).astype(np.uint8))


def test_codes_from_bits_round_trip():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, (3, 16, H, W))
    codes = codes_from_bits(bits)
    assert codes.dtype == np.uint16 and codes.shape == (3, H, W)
    unpacked = (codes[:, None].astype(np.int64) >> np.arange(16)[None, :, None, None]) & 1
    np.testing.assert_array_equal(unpacked, bits)
    np.testing.assert_array_equal(bit_weights(4, msb_newest=False), [8, 4, 2, 1])


def test_empty_windows_are_zeros_of_shape_n_h_w():
    empty = Events(np.empty(0, EVENT_DTYPE), (W, H))
    assert tbr(empty, (W, H), n_frames=4).shape == (4, H, W)
    assert not tbr(empty, (W, H), n_frames=4).any()
    assert tbr(empty, (W, H)).shape == (0, H, W)
    assert tbr(empty, (W, H), n_frames=2, polarity=True, normalize=False).shape == (2, 2, H, W)
    assert tbr_aligned(empty, (W, H), [10_000, 50_000]).shape == (2, H, W)
    ev = one_event(1, 1, 100_000)
    # windows before and after the only event are empty
    out = tbr(ev, (W, H), 1000, 4, start_us=90_000, n_frames=5, normalize=False)
    assert out.shape == (5, H, W) and out[2, 1, 1] == 4 and out.sum() == 4  # slice 2 of window 2


def test_windows_are_half_open_and_events_before_start_are_ignored():
    dt, n = 1000, 4
    ev = make_events([0, 1, 2], [0, 0, 0], [0, 3999, 4000], [1, 1, 1], (W, H))
    out = tbr(ev, (W, H), dt, n, normalize=False)
    assert out.shape == (2, H, W)
    assert (out[0, 0, 0], out[0, 0, 1], out[0, 0, 2]) == (1, 8, 0)
    assert out[1, 0, 2] == 1
    late = tbr(ev, (W, H), dt, n, normalize=False, start_us=1)
    assert late[0, 0, 0] == 0 and late[0, 0, 1] == 8 and late[0, 0, 2] == 8


def test_aligned_windows_end_at_the_given_times():
    rng = np.random.default_rng(2)
    ev = random_events(rng, 500, t_max=300_000)
    ends = frame_times_us(9, 30.0, t0_us=20_000)
    np.testing.assert_array_equal(ends[:3], [20_000, 53_333, 86_667])
    got = tbr_aligned(ev, (W, H), ends, 5000, 8, normalize=False)
    np.testing.assert_array_equal(got, reference_codes(ev, ends - 40_000, 5000, 8))
    # one window per end time, in the given order, overlaps allowed
    back = tbr_aligned(ev, (W, H), ends[::-1], 5000, 8, normalize=False)
    np.testing.assert_array_equal(back, got[::-1])
    np.testing.assert_array_equal(tbr_windows(ev, (W, H), ends - 40_000, normalize=False), got)


def test_unsorted_input_is_sorted_and_not_modified():
    rng = np.random.default_rng(4)
    ev = random_events(rng, 300, sort=False)
    assert not ev.is_sorted()
    before = ev.array.copy()
    np.testing.assert_array_equal(tbr(ev, (W, H), 2000, 8), tbr(ev.sorted(), (W, H), 2000, 8))
    np.testing.assert_array_equal(ev.array, before)


def test_structured_array_and_sensor_size_from_events():
    ev = random_events(np.random.default_rng(6), 100)
    np.testing.assert_array_equal(tbr(ev.array, (W, H, 2)), tbr(ev))


@pytest.mark.parametrize("kwargs, match", [
    ({"delta_t_us": 0}, "delta_t_us"),
    ({"delta_t_us": -5}, "delta_t_us"),
    ({"delta_t_us": 2.5}, "delta_t_us"),
    ({"n_bits": 0}, "n_bits"),
    ({"n_bits": 17}, "n_bits"),
    ({"n_frames": -1}, "n_frames"),
    ({"stride_us": 0}, "stride_us"),
])
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tbr(one_event(1, 1, 0), (W, H), **kwargs)


def test_events_outside_the_sensor_raise():
    arr = np.zeros(3, EVENT_DTYPE)
    arr["x"] = [0, W, 1]
    with pytest.raises(ValueError, match=r"event 1 has x=7 outside the sensor of size \(W=7, H=5\)"):
        tbr(arr, (W, H))
    arr["x"] = 0
    arr["y"] = [0, 0, -1]
    with pytest.raises(ValueError, match="event 2 has y=-1"):
        tbr(arr, (W, H))
    with pytest.raises(TypeError, match="structured array"):
        tbr(np.zeros((3, 4)), (W, H))
    with pytest.raises(ValueError, match="sensor_size"):
        tbr(arr, (W,))


def test_memory_footprint_is_n_bits_per_pixel():
    m8, m16 = tbr_memory_bytes((1280, 720), 8), tbr_memory_bytes((1280, 720), 16)
    assert m8["packed_bits"] == m8["codes"] == 1280 * 720
    assert m16["packed_bits"] == m16["codes"] == 2 * 1280 * 720
    assert m8["float32_slices"] == 32 * 1280 * 720


@pytest.mark.parametrize("n_bits", [4, 8, 16])
def test_binary_slices_pack_into_the_tbr_frame(n_bits):
    ev = random_events(np.random.default_rng(8), 250, t_max=80_000)
    slices = binary_slices(ev, (W, H), start_us=10_000, delta_t_us=2000, n_bits=n_bits)
    assert slices.shape == (n_bits, H, W) and set(np.unique(slices)) <= {0, 1}
    codes = tbr(ev, (W, H), 2000, n_bits, normalize=False, start_us=10_000, n_frames=1)[0]
    np.testing.assert_array_equal(codes_from_bits(slices), codes)
    np.testing.assert_array_equal(active_bits(codes), slices.sum(0))
    with pytest.raises(TypeError, match="integer codes"):
        active_bits(codes.astype(np.float32))


def test_chunked_validation_sees_disorder_and_errors_across_chunks(monkeypatch):
    inp = importlib.import_module("nvlib.represent._input")
    monkeypatch.setattr(inp, "_CHUNK", 4)
    # each chunk of 4 is sorted, but the second chunk starts before the first ends
    t = np.array([10, 20, 30, 40, 15, 25, 35, 45, 50])
    ev = make_events(np.arange(9) % W, np.zeros(9, int), t, np.ones(9, int), (W, H))
    cols = inp.columns(ev, (W, H))
    np.testing.assert_array_equal(cols.t, np.sort(t))
    np.testing.assert_array_equal(cols.pix, (np.arange(9) % W)[np.argsort(t, kind="stable")])
    arr = ev.array.copy()
    arr["y"][6] = H
    with pytest.raises(ValueError, match="event 6 has y=5 outside"):
        inp.columns(arr, (W, H))
    arr["y"][6] = 0
    arr["p"][7] = 2
    with pytest.raises(ValueError, match="event 7 has polarity 2"):
        tbr(arr, (W, H), polarity=True)
    tbr(arr, (W, H))  # polarity is not read when it is ignored


@settings(max_examples=40, deadline=None)
@given(n_bits=st.integers(1, 16), dt=st.integers(1, 4000), n=st.integers(0, 60), seed=st.integers(0, 2**16),
       stride_frac=st.sampled_from([None, 0.5, 1.0, 1.7]), start=st.integers(-3000, 3000))
def test_property_tbr_equals_reference(n_bits, dt, n, seed, stride_frac, start):
    rng = np.random.default_rng(seed)
    ev = make_events(rng.integers(0, W, n), rng.integers(0, H, n), np.sort(rng.integers(0, 30_000, n)),
                     rng.integers(0, 2, n), (W, H))
    stride = None if stride_frac is None else max(1, int(stride_frac * n_bits * dt))
    got = tbr(ev, (W, H), dt, n_bits, normalize=False, start_us=start, n_frames=5, stride_us=stride)
    starts = start + (stride or n_bits * dt) * np.arange(5)
    np.testing.assert_array_equal(got, reference_codes(ev, starts, dt, n_bits))


@pytest.mark.parametrize("kw", [dict(n_bits=8), dict(n_bits=16), dict(n_bits=1), dict(n_bits=5, normalize=False),
                                dict(n_bits=8, msb_newest=False, polarity=True),
                                dict(n_bits=12, start_us=3_000, n_frames=4, normalize=False),
                                dict(n_bits=8, polarity=True, normalize=False)])
@pytest.mark.parametrize("order", ["sorted", "unsorted"])
def test_compiled_pass_equals_numpy_path(kw, order, monkeypatch):
    """The one-pass compiled TBR and the run-based numpy TBR give identical arrays."""
    from nvlib.represent import _compiled

    if _compiled._numba is None:
        pytest.skip("numba not installed")
    rng = np.random.default_rng(21)
    n = 6000
    arr = make_events(rng.integers(0, 13, n), rng.integers(0, 7, n), np.sort(rng.integers(0, 90_000, n)),
                      rng.integers(0, 2, n), (13, 7)).array
    if order == "unsorted":
        arr = arr[rng.permutation(n)]
    fast = tbr(arr, (13, 7), delta_t_us=700, **kw)
    monkeypatch.setattr(_compiled, "fields", lambda *a: None)
    slow = tbr(arr, (13, 7), delta_t_us=700, **kw)
    assert fast.dtype == slow.dtype and fast.shape == slow.shape
    np.testing.assert_array_equal(fast, slow)
    assert fast.any()


@pytest.mark.parametrize("fault", ["none", "disorder in range", "disorder at range end", "disorder in suffix",
                                   "bad y in range", "bad x before start", "bad y after end", "polarity 3 ignored"])
def test_compiled_pass_checks_its_range_and_the_events_outside_the_windows(fault, monkeypatch):
    """The compiled TBR checks the events of its range as it reads them, and the events before and after
    the windows by a separate pass: a fault anywhere hands over to the numpy path (which sorts, or names
    the event); faults it need not see change nothing."""
    from nvlib.represent import _compiled

    if _compiled._numba is None:
        pytest.skip("numba not installed")
    rng = np.random.default_rng(5)
    n, dt, n_bits, start = 20_000, 50, 8, 20_000
    arr = make_events(rng.integers(0, W, n), rng.integers(0, H, n), np.arange(n) * 10, rng.integers(0, 2, n),
                      (W, H)).array
    n_frames = 2 * (n * 10 - start) // (3 * n_bits * dt)  # windows end two thirds into the events after start
    a, b = start // 10, start // 10 + n_frames * n_bits * dt // 10  # the events inside the windows
    assert b - a > 8000 and b < n - 2
    i = {"disorder in range": a + 4096, "disorder at range end": b, "disorder in suffix": b + 1}.get(fault)
    if i is not None:  # one event moved three slices earlier than the one before it
        arr["t"][i] = arr["t"][i - 1] - 3 * dt
    if fault == "bad y in range":
        arr["y"][a + 5000] = H
    if fault == "bad x before start":
        arr["x"][3] = -1
    if fault == "bad y after end":
        arr["y"][n - 1] = H + 2
    if fault == "polarity 3 ignored":
        arr["p"][a + 7000] = 3
    numpy_runs = []
    frames = tbr_mod._tbr_frames
    monkeypatch.setattr(tbr_mod, "_tbr_frames", lambda *a, **k: numpy_runs.append(1) or frames(*a, **k))
    kw = dict(delta_t_us=dt, n_bits=n_bits, start_us=start, n_frames=n_frames, normalize=False)
    if fault.startswith("bad"):
        bad = {"bad y in range": f"event {a + 5000} has y={H}", "bad x before start": "event 3 has x=-1",
               "bad y after end": f"event {n - 1} has y={H + 2}"}[fault]
        with pytest.raises(ValueError, match=bad):
            tbr(arr, (W, H), **kw)
        return
    got = tbr(arr, (W, H), **kw)
    assert numpy_runs == ([1] if fault.startswith("disorder") else [])
    srt = arr[np.argsort(arr["t"], kind="stable")]
    starts = start + n_bits * dt * np.arange(n_frames)
    np.testing.assert_array_equal(got, reference_codes(Events(srt, (W, H)), starts, dt, n_bits))


@pytest.mark.parametrize("kw", [dict(n_bits=8), dict(n_bits=16, normalize=False), dict(n_bits=3, polarity=True),
                                dict(n_bits=12, msb_newest=False, normalize=False)])
@pytest.mark.parametrize("case", ["sorted", "starts unsorted", "events unsorted", "no events", "no windows"])
def test_compiled_windows_equal_numpy_path(kw, case, monkeypatch):
    """Windows that overlap, leave gaps, repeat, or lie before the first and after the last event: the
    compiled windows pass equals the numpy path (which also handles unsorted starts and events)."""
    from nvlib.represent import _compiled

    if _compiled._numba is None:
        pytest.skip("numba not installed")
    rng = np.random.default_rng(17)
    n = 9000
    arr = make_events(rng.integers(0, W, n), rng.integers(0, H, n), np.sort(rng.integers(0, 300_000, n)),
                      rng.integers(0, 2, n), (W, H)).array
    starts = np.sort(np.concatenate([rng.integers(-50_000, 350_000, 40), [1000, 1000, -90_000, 400_000]]))
    if case == "starts unsorted":
        starts = starts[rng.permutation(starts.size)]
    if case == "events unsorted":
        arr = arr[rng.permutation(n)]
    if case == "no events":
        arr = arr[:0]
    if case == "no windows":
        starts = starts[:0]
    fast = tbr_windows(arr, (W, H), starts, 900, **kw)
    monkeypatch.setattr(_compiled, "fields", lambda *a: None)
    slow = tbr_windows(arr, (W, H), starts, 900, **kw)
    assert fast.dtype == slow.dtype and fast.shape == slow.shape
    np.testing.assert_array_equal(fast, slow)
    assert fast.any() == (case not in ("no events", "no windows"))


def test_compiled_windows_name_a_bad_event_outside_every_window():
    rng = np.random.default_rng(3)
    ev = random_events(rng, 5000, t_max=100_000)
    arr = ev.array.copy()
    arr["x"][-1] = W  # the last event, after every window
    with pytest.raises(ValueError, match=f"event 4999 has x={W}"):
        tbr_windows(arr, (W, H), [0, 20_000], 1000, 8)


@pytest.mark.parametrize("where", ["in the windows", "after the windows"])
def test_compiled_passes_refuse_a_negative_int8_polarity(where):
    """A signed polarity field holding -1 (tonic's OFF) is named by both TBR paths when polarity is read,
    and ignored when it is not."""
    rng = np.random.default_rng(9)
    ev = random_events(rng, 3000, t_max=100_000)
    arr = np.empty(len(ev), [("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "i1")])
    for k in "xytp":
        arr[k] = ev.array[k]
    i = 1200 if where == "in the windows" else 2990  # the two windows of tbr end at 80 ms
    arr["p"][i] = -1
    plain = arr.copy()
    plain["p"][i] = 0
    runs = (lambda a, pol: tbr(a, (W, H), 5000, 8, n_frames=2, start_us=0, polarity=pol),
            lambda a, pol: tbr_aligned(a, (W, H), [40_000, 60_000], 1000, 8, polarity=pol))
    for run in runs:
        with pytest.raises(ValueError, match=f"event {i} has polarity -1"):
            run(arr, True)
        np.testing.assert_array_equal(run(arr, False), run(plain, False))
        assert run(plain, True).any()
