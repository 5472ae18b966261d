"""tonic's own transforms on ``np.asarray(ev)``: the same results as on tonic's structured arrays.

Every transform runs twice on the same events, once on ``np.asarray(ev)`` (nvlib's records, read-only,
no copy) and once on a tonic array built from the same columns with ``tonic.io.make_structured_array``,
and the outputs must be equal. Sources: synthetic events and, when ``../shared`` is present, the real
recordings. tonic's default dtype stores ``p`` as bool, on which ``ToVoxelGrid`` turns OFF events into
+1 (its ``p == 0 -> -1`` rewrite cannot be stored); its voxel grids are therefore compared against a
tonic-named array with a signed ``p``, against nvlib's own voxel grid and against hand-computed values.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from nvlib.events import EVENT_DTYPE, Events, make_events

tonic = pytest.importorskip("tonic")
from tonic import transforms as T  # noqa: E402
from tonic.io import make_structured_array  # noqa: E402

RECORDINGS = ("atis_ncars_sample.dat", "dvxplorer_person.aedat4", "gen3_evt2_sample.raw", "gen41_evt3_sample.raw")
SOURCES = ("synthetic",) + RECORDINGS
DENOISE_MAX = 20_000  # tonic's Denoise loops over events in Python: real recordings are cut to this many


def synthetic(seed=7, n=3000, size=(34, 26)) -> Events:
    """Sorted events with repeated timestamps, both polarities and every coordinate range used."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, 200_000, n))
    t[100:110] = t[100]  # a run of equal timestamps
    x = rng.integers(0, size[0], n)
    y = rng.integers(0, size[1], n)
    x[:2], y[:2] = (0, size[0] - 1), (0, size[1] - 1)
    return make_events(x, y, 1_000_000 + t, rng.integers(0, 2, n), size)


_LOADED: dict[str, Events] = {}


@pytest.fixture(params=SOURCES)
def source(request) -> tuple[str, Events]:
    name = request.param
    if name not in _LOADED:
        if name == "synthetic":
            _LOADED[name] = synthetic()
        else:
            path = request.getfixturevalue("events_fixtures") / name
            if not path.is_file():
                pytest.skip(f"real recording {name}: not in {path.parent}")
            from nvlib.io import read_events

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # the DAT sample declares no geometry
                _LOADED[name] = read_events(path)
    return name, _LOADED[name]


def tonic_array(ev: Events, p_dtype=None) -> np.ndarray:
    """A fresh tonic structured array of the same events (tonic's own dtype unless ``p_dtype``)."""
    cols = (ev.x.copy(), ev.y.copy(), ev.t.copy(), ev.p.copy())
    if p_dtype is None:
        return make_structured_array(*cols)
    dt = np.dtype([(n, tonic.io.events_struct[n]) for n in ("x", "y", "t")] + [("p", p_dtype)])
    return make_structured_array(*cols, dtype=dt)


def sensor3(ev: Events) -> tuple[int, int, int]:
    return (*ev.sensor_size, 2)


def check_untouched(ev: Events, before: bytes) -> None:
    assert ev.array.tobytes() == before, "a tonic transform changed the events it was given"


def test_tonic_arrays_hold_the_same_events(source):
    _, ev = source
    ref = tonic_array(ev)
    assert ref.dtype == tonic.io.events_struct and ref.dtype != EVENT_DTYPE
    ours = np.asarray(ev)
    for f in ("x", "y", "t", "p"):
        np.testing.assert_array_equal(ours[f].astype(np.int64), ref[f].astype(np.int64))


SLICINGS = {  # each gives a handful of frames, whatever the recording's length
    "n_time_bins": lambda ev: {"n_time_bins": 4},
    "n_event_bins": lambda ev: {"n_event_bins": 3},
    "event_count": lambda ev: {"event_count": len(ev) // 3 + 1},
    "time_window": lambda ev: {"time_window": ev.duration_us // 3 + 1, "include_incomplete": True},
}


@pytest.mark.parametrize("slicing", list(SLICINGS))
def test_to_frame(source, slicing):
    _, ev = source
    before = ev.array.tobytes()
    tf = T.ToFrame(sensor_size=sensor3(ev), **SLICINGS[slicing](ev))
    ours = tf(np.asarray(ev))
    ref = tf(tonic_array(ev))
    assert ours.shape == ref.shape and ours.shape[1:] == (2, ev.height, ev.width) and len(ours) >= 2
    np.testing.assert_array_equal(ours, ref)
    assert 0 < ours.sum() <= len(ev)
    check_untouched(ev, before)


def test_to_frame_counts_every_event_per_polarity(source):
    """With one frame per event bin, the frames hold each event once, at its pixel and polarity."""
    _, ev = source
    frames = T.ToFrame(sensor_size=sensor3(ev), n_event_bins=1)(np.asarray(ev))
    expect = np.zeros((2, ev.height, ev.width), np.int64)
    np.add.at(expect, (ev.p.astype(np.intp), ev.y.astype(np.intp), ev.x.astype(np.intp)), 1)
    np.testing.assert_array_equal(frames[0], expect)


def test_to_bina_rep(source):
    """ToBinaRep takes ToFrame's frames: those of np.asarray(ev) equal tonic's own (so tonic's Bina-Rep of
    either is the same); its result is each pixel's N binary frames read as an N-bit number, oldest
    frame the most significant bit, over 2**N - 1."""
    _, ev = source
    n_frames, n_bits = 2, 4
    frames = T.ToFrame(sensor_size=sensor3(ev), n_time_bins=n_frames * n_bits)
    f = frames(np.asarray(ev))
    np.testing.assert_array_equal(f, frames(tonic_array(ev)))
    ours = T.ToBinaRep(n_frames=n_frames, n_bits=n_bits)(f)
    assert ours.shape == (n_frames, 2, ev.height, ev.width)
    weights = 2.0 ** np.arange(n_bits - 1, -1, -1)
    bits = (f.reshape(n_frames, n_bits, 2, ev.height, ev.width) > 0).astype(np.float64)
    expect = np.tensordot(weights, bits, axes=([0], [1])) / (2**n_bits - 1)
    np.testing.assert_allclose(ours, expect, rtol=1e-6, atol=0)
    assert ours.max() > 0


@pytest.mark.parametrize("n_bins", [1, 5])
def test_to_voxel_grid(source, n_bins):
    from nvlib.represent import voxel_grid

    _, ev = source
    before = ev.array.tobytes()
    tv = T.ToVoxelGrid(sensor_size=sensor3(ev), n_time_bins=n_bins)
    ours = tv(np.asarray(ev))
    check_untouched(ev, before)
    ref = tv(tonic_array(ev, p_dtype=np.int8))
    assert ours.shape == (n_bins, 1, ev.height, ev.width)
    np.testing.assert_array_equal(ours, ref)
    # OFF events count -1: the grid of an OFF-only or ON-only selection has one sign
    assert ours.min() < 0 < ours.max()
    # tonic's B-bin grid is nvlib's (B + 1)-bin grid without its last bin (see nvlib.represent.voxel)
    np.testing.assert_allclose(ours[:, 0], voxel_grid(ev, n_bins=n_bins + 1)[:n_bins], rtol=0, atol=1e-4)


def test_to_voxel_grid_hand_computed():
    """Three events at x = 0, 1, 2, t = 0, 10, 20 us, p = OFF, ON, OFF; two bins: ts = 2 t / 20 = 0, 1, 2.
    OFF at bin 0 gives -1, ON at bin 1 gives +1, the last event (ts = 2) falls past the grid."""
    ev = make_events([0, 1, 2], [0, 0, 0], [0, 10, 20], [0, 1, 0], (3, 1))
    grid = T.ToVoxelGrid(sensor_size=(3, 1, 2), n_time_bins=2)(np.asarray(ev))
    np.testing.assert_array_equal(grid.reshape(2, 3), [[-1, 0, 0], [0, 1, 0]])
    assert ev.p.tolist() == [0, 1, 0]


def test_to_timesurface(source):
    from nvlib.represent import time_surface

    _, ev = source
    dt = max(1, ev.duration_us // 4)
    tau = max(1, ev.duration_us // 10)
    ts = T.ToTimesurface(sensor_size=sensor3(ev), dt=dt, tau=tau)
    ours = ts(np.asarray(ev))
    ref = ts(tonic_array(ev))
    assert ours.shape == ref.shape and ours.shape[1:] == (2, ev.height, ev.width) and len(ours) >= 3
    np.testing.assert_array_equal(ours, ref)
    assert ours.max() > 0
    refs = int(ev.t[0]) + dt * (np.arange(len(ours)) + 1)
    np.testing.assert_allclose(time_surface(ev, t_ref_us=refs, tau_us=tau), ours, rtol=1e-6, atol=1e-7)


def test_denoise(source):
    name, ev = source
    ev = ev[:DENOISE_MAX]
    ft = 5_000 if name == "synthetic" else 1_000
    dn = T.Denoise(filter_time=ft)
    ours = dn(np.asarray(ev))
    ref = dn(tonic_array(ev))
    assert ours.dtype == EVENT_DTYPE  # the result is nvlib records again
    assert 0 < len(ours) < len(ev) and len(ours) == len(ref)
    for f in ("x", "y", "t", "p"):
        np.testing.assert_array_equal(ours[f].astype(np.int64), ref[f].astype(np.int64))
    kept = Events(ours, ev.sensor_size).validate()
    assert kept.is_sorted()


def test_in_place_writes_are_refused_not_applied():
    """tonic's ToFrame on a one-polarity sensor sets ``p = 0`` in its input: np.asarray(ev) is read-only,
    so ``ev`` cannot change; a copy (np.array(ev)) is the way to allow it."""
    ev = make_events([0, 1, 2], [0, 1, 0], [0, 5, 9], [1, 1, 1], (3, 2))
    tf = T.ToFrame(sensor_size=(3, 2, 1), n_event_bins=1)
    with pytest.raises(ValueError, match="read-only"):
        tf(np.asarray(ev))
    assert ev.p.tolist() == [1, 1, 1]
    frames = tf(np.array(ev))
    np.testing.assert_array_equal(frames[0, 0], [[1, 0, 1], [0, 1, 0]])
    assert ev.p.tolist() == [1, 1, 1]


@pytest.mark.shared
def test_to_voxel_grid_runs_on_a_real_aedat4_recording(events_fixtures):
    """The recording on which tonic's ToVoxelGrid raised ``OverflowError`` for uint8 polarities."""
    from nvlib.io import read_events
    from nvlib.represent import voxel_grid

    path = events_fixtures / "dvxplorer_person.aedat4"
    if not path.is_file():
        pytest.skip(f"{path.name}: not in {events_fixtures}")
    ev = read_events(path)
    grid = T.ToVoxelGrid(sensor_size=(*ev.sensor_size, 2), n_time_bins=10)(np.asarray(ev))
    assert grid.shape == (10, 1, ev.height, ev.width) and np.isfinite(grid).all()
    assert grid.min() < 0 < grid.max()
    np.testing.assert_allclose(grid[:, 0], voxel_grid(ev, n_bins=11)[:10], rtol=0, atol=1e-4)


# ---- nvlib.represent on the int8 polarity: hand-computed values, every input dtype, both paths ------

SMALL = ([0, 1, 2, 1, 0], [0, 0, 1, 0, 1], [0, 10, 20, 30, 40], [0, 1, 0, 1, 1])  # x, y, t, p on (3, 2)
LEGACY = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "u1")])  # EVENT_DTYPE before int8
INPUTS = {
    "events": lambda ev: ev,
    "asarray": lambda ev: np.asarray(ev),
    "tonic bool p": lambda ev: tonic_array(ev),
    "uint8 p": lambda ev: ev.array.astype(LEGACY),
    "int64 fields": lambda ev: ev.array.astype([("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")]),
}


def small_expected():
    """By hand from SMALL: OFF at (0,0) t=0; ON at (1,0) t=10 and t=30; OFF at (2,1) t=20; ON at (0,1) t=40."""
    hist = np.zeros((3, 2, 2, 3), np.int64)  # 20 us windows [0,20) [20,40) [40,60); [frame, p, y, x]
    hist[0, 0, 0, 0] = hist[0, 1, 0, 1] = hist[1, 0, 1, 2] = hist[1, 1, 0, 1] = hist[2, 1, 1, 0] = 1
    count = np.zeros((2, 2, 3), np.int64)
    count[0, 0, 0], count[1, 0, 1], count[0, 1, 2], count[1, 1, 0] = 1, 2, 1, 1
    surf = np.zeros((2, 2, 3))  # at t_ref = 40 us (events before it), tau = 10 us: exp(-(40 - t_last) / 10)
    surf[0, 0, 0], surf[1, 0, 1], surf[0, 1, 2] = np.exp(-4.0), np.exp(-1.0), np.exp(-2.0)
    # 3 bins, ts = 2 t / 40 = 0, .5, 1, 1.5, 2; polarity -1/+1; p*(1-frac) to floor(ts), p*frac to the next
    vox = np.zeros((3, 2, 3))
    vox[0, 0, 0] = -1.0
    vox[0, 0, 1] = vox[2, 0, 1] = 0.5
    vox[1, 0, 1] = 1.0
    vox[1, 1, 2] = -1.0
    vox[2, 1, 0] = 1.0
    return hist, count, surf, vox


@pytest.mark.parametrize("path", ["compiled", "numpy"])
@pytest.mark.parametrize("kind", list(INPUTS))
def test_represent_hand_computed_on_every_polarity_dtype(kind, path, monkeypatch):
    from nvlib.represent import _compiled, count_image, histogram, time_surface, voxel_grid

    if path == "compiled" and _compiled._numba is None:
        pytest.skip("numba not installed")
    if path == "numpy":
        monkeypatch.setattr(_compiled, "fields", lambda *a, **k: None)
    ev = make_events(*SMALL, (3, 2))
    events = INPUTS[kind](ev)
    hist, count, surf, vox = small_expected()
    np.testing.assert_array_equal(histogram(events, (3, 2), delta_t_us=20), hist)
    np.testing.assert_array_equal(count_image(events, (3, 2), polarity=True), count)
    np.testing.assert_array_equal(time_surface(events, (3, 2), t_ref_us=40, tau_us=10), surf.astype(np.float32))
    np.testing.assert_array_equal(voxel_grid(events, (3, 2), n_bins=3), vox.astype(np.float32))
    assert ev.array.tobytes() == make_events(*SMALL, (3, 2)).array.tobytes()


import numpy as np
import pytest


@pytest.mark.parametrize("kind", ["events", "asarray"])
def test_compiled_passes_take_int8_polarities(kind, monkeypatch):
    """EVENT_DTYPE (int8 p) is read by the compiled TBR passes, not sent to the numpy fallback; their polarity
    check sees -1 (int8) as invalid."""
    from nvlib.represent import _compiled, tbr, tbr_aligned

    if _compiled._numba is None:
        pytest.skip("numba not installed")
    ev = synthetic()
    events = INPUTS[kind](ev)
    f = _compiled.fields(events, ev.sensor_size)
    assert f is not None and f.ev.dtype == EVENT_DTYPE
    assert not _compiled.check_pass(f.ev, f.pol, f.w, f.h)
    bad = ev.array.copy()
    bad["p"][1234] = -1
    assert _compiled.check_pass(bad, True, f.w, f.h)
    with pytest.raises(ValueError, match="event 1234 has polarity -1"):
        tbr(bad, ev.sensor_size, polarity=True)

    calls = []
    for name in ("tbr_pass", "tbr_windows_pass"):
        real = getattr(_compiled, name)
        monkeypatch.setattr(_compiled, name, lambda *a, _r=real, _n=name: (calls.append(_n), _r(*a))[1])
    ends = np.sort(ev.t[::max(1, len(ev) // 7)])[1:]
    fast = (tbr(events, ev.sensor_size, polarity=True), tbr_aligned(events, ev.sensor_size, ends, polarity=True))
    assert {"tbr_pass", "tbr_windows_pass"} <= set(calls)
    monkeypatch.setattr(_compiled, "fields", lambda *a, **k: None)
    slow = (tbr(events, ev.sensor_size, polarity=True), tbr_aligned(events, ev.sensor_size, ends, polarity=True))
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)
