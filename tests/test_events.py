import numpy as np
import pytest

from nvlib.events import EVENT_DTYPE, Events, concatenate, empty_events, make_events


def _ev(t, size=(8, 4)):
    t = np.asarray(t)
    n = len(t)
    return make_events(np.arange(n) % size[0], np.arange(n) % size[1], t, np.arange(n) % 2, size)


def test_dtype_is_tonic_compatible():
    assert EVENT_DTYPE.names == ("x", "y", "t", "p")
    assert EVENT_DTYPE["x"] == np.int16 and EVENT_DTYPE["y"] == np.int16 and EVENT_DTYPE["t"] == np.int64
    # signed, so that tonic's ToVoxelGrid can rewrite OFF (0) as -1 in place; still one packed byte
    assert EVENT_DTYPE["p"] == np.int8 and EVENT_DTYPE.itemsize == 13
    tonic_io = pytest.importorskip("tonic.io")
    assert all(EVENT_DTYPE[f] == tonic_io.events_struct[f] for f in ("x", "y", "t"))
    assert EVENT_DTYPE.names == tonic_io.events_struct.names


def test_asarray_is_the_records_without_a_copy():
    ev = _ev([0, 5, 5, 10, 20])
    a = np.asarray(ev)
    assert type(a) is np.ndarray and a.dtype == EVENT_DTYPE and a.shape == (5,)
    assert a.__array_interface__["data"][0] == ev.array.__array_interface__["data"][0]
    assert np.shares_memory(a, ev.array) and np.asarray(ev, dtype=EVENT_DTYPE).base is not None
    assert a.tobytes() == ev.array.tobytes()
    assert not a.flags.writeable  # third-party code cannot change ev through it
    with pytest.raises(ValueError, match="read-only"):
        a["p"][0] = 1
    assert ev.array.flags.writeable and ev.p[0] == 0
    ev.array["t"][0] = -7  # ...but it is a view: the owner's writes show through
    assert a["t"][0] == -7


def test_array_copies_and_dtype_conversions():
    ev = _ev([0, 5, 5, 10, 20])
    c = np.array(ev)
    assert c.flags.writeable and not np.shares_memory(c, ev.array) and c.tobytes() == ev.array.tobytes()
    c["p"][:] = 0
    assert ev.p.tolist() == [0, 1, 0, 1, 0]
    assert not np.shares_memory(np.asarray(ev, copy=True), ev.array)
    legacy = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "u1")])
    old = np.asarray(ev, dtype=legacy)
    assert old.dtype == legacy and old["p"].tolist() == [0, 1, 0, 1, 0] and old["t"].tolist() == ev.t.tolist()
    with pytest.raises(ValueError):
        np.asarray(ev, dtype=legacy, copy=False)
    with pytest.raises(TypeError, match="astype"):  # an array of the old dtype is refused, with the fix
        Events(old, ev.sensor_size)
    assert Events(old.astype(EVENT_DTYPE), ev.sensor_size).array.tobytes() == ev.array.tobytes()


def test_asarray_is_fast_on_a_million_events():
    import time

    n = 1_000_000
    ev = make_events(np.arange(n) % 640, np.arange(n) % 480, np.arange(n), np.arange(n) % 2, (640, 480))
    t0 = time.perf_counter()
    for _ in range(100):
        a = np.asarray(ev)
    per_call = (time.perf_counter() - t0) / 100
    assert a.shape == (n,) and np.shares_memory(a, ev.array)
    assert per_call < 1e-3, f"np.asarray(ev) took {per_call * 1e3:.2f} ms: it must not touch the records"


@pytest.mark.parametrize("name", ["x", "y", "t", "p"])
def test_column_access_by_name_is_a_view(name):
    ev = _ev([3, 1, 1, 2, 9])
    col = ev[name]
    assert col.dtype == EVENT_DTYPE[name] and col.shape == (5,)
    np.testing.assert_array_equal(col, getattr(ev, name))
    assert np.shares_memory(col, ev.array) and col.base is not None
    expected = {"x": [0, 1, 2, 3, 4], "y": [0, 1, 2, 3, 0], "t": [3, 1, 1, 2, 9], "p": [0, 1, 0, 1, 0]}[name]
    assert col.tolist() == expected
    assert ev.dtype == EVENT_DTYPE
    with pytest.raises((ValueError, KeyError)):
        ev["q"]


def test_np_sort_by_time():
    ev = _ev([30, 10, 20, 10, 0, 10], size=(8, 4))
    before = ev.array.tobytes()
    s = np.sort(ev, order="t")
    assert isinstance(s, np.ndarray) and s.dtype == EVENT_DTYPE
    assert s["t"].tolist() == [0, 10, 10, 10, 20, 30]
    # numpy breaks ties by the other fields in dtype order (x, y, p)
    assert list(zip(s["x"].tolist(), s["y"].tolist(), s["p"].tolist())) == \
        [(4, 0, 0), (1, 1, 1), (3, 3, 1), (5, 1, 1), (2, 2, 0), (0, 0, 0)]
    assert ev.array.tobytes() == before  # sorted a copy
    assert np.argsort(ev, order="t").tolist() == [4, 1, 3, 5, 2, 0]


def test_len_slices_masks_and_index_arrays_give_events():
    ev = _ev([0, 5, 5, 10, 20])
    assert len(ev) == 5
    part = ev[1:4]
    assert isinstance(part, Events) and part.sensor_size == ev.sensor_size and part.t.tolist() == [5, 5, 10]
    on = ev[ev.p == 1]
    assert isinstance(on, Events) and on.t.tolist() == [5, 10] and set(on.p.tolist()) == {1}
    picked = ev[np.array([4, 0])]
    assert isinstance(picked, Events) and picked.t.tolist() == [20, 0]
    one = ev[3]
    assert isinstance(one, Events) and len(one) == 1 and one.t.tolist() == [10]
    assert len(ev[ev.t > 100]) == 0 and ev[ev.t > 100].sensor_size == ev.sensor_size


def test_negative_polarity_is_invalid():
    with pytest.raises(ValueError, match="event 1 has polarity -1"):
        make_events([0, 1], [0, 0], [0, 1], [1, -1], (8, 4))
    arr = _ev([0, 1, 2]).array.copy()
    arr["p"][2] = -1
    with pytest.raises(ValueError, match="event 2 has polarity -1"):
        Events(arr, (8, 4)).validate()


def test_time_slice_is_half_open():
    ev = _ev([0, 5, 5, 10, 20])
    assert list(ev.time_slice(5, 20).t) == [5, 5, 10]
    assert list(ev.time_slice(None, 5).t) == [0]
    assert len(ev.time_slice(21, None)) == 0


def test_sortedness_and_sort_is_stable():
    ev = _ev([3, 1, 1, 2])
    assert not ev.is_sorted()
    s = ev.sorted()
    assert s.is_sorted() and list(s.t) == [1, 1, 2, 3]
    assert list(s.x) == [1, 2, 3, 0]  # equal timestamps keep their order


def test_validate_names_the_stream_and_event():
    with pytest.raises(ValueError, match=r"clip\.raw: event 1 at \(x=9"):
        Events(np.array([(0, 0, 0, 0), (9, 0, 1, 1)], dtype=EVENT_DTYPE), (8, 4)).validate("clip.raw")
    with pytest.raises(ValueError, match="polarity 2"):
        make_events([0], [0], [0], [2], (8, 4))


def test_concatenate_checks_sensor_size():
    a, b = _ev([0, 1]), _ev([2, 3])
    assert list(concatenate([a, b]).t) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="sensor sizes"):
        concatenate([a, empty_events((5, 5))])


def test_wrong_dtype_is_refused():
    with pytest.raises(TypeError):
        Events(np.zeros(3), (4, 4))


@pytest.mark.parametrize("n", [5, 70_000])  # below and above the compiled-pass threshold
def test_pack_columns_equals_field_assignment(n):
    from nvlib.events import pack_columns

    rng = np.random.default_rng(n)
    x = rng.integers(-40_000, 40_000, n)  # int64, out of int16 range: wraps like numpy's cast
    y = rng.integers(0, 720, n).astype(np.uint16)
    t = rng.integers(-2**62, 2**62, n)
    p = rng.integers(0, 2, n).astype(bool)
    ref = np.empty(n, EVENT_DTYPE)
    ref["x"], ref["y"], ref["t"], ref["p"] = x, y, t, p
    assert pack_columns(x, y, t, p).tobytes() == ref.tobytes()
    assert set(pack_columns(x, y, t, p)["p"].tolist()) == {0, 1}
    wide_p = rng.integers(-300, 300, n)  # out of int8 range: wraps like numpy's cast, both paths
    ref_wide = ref.copy()
    ref_wide["p"] = wide_p
    assert pack_columns(x, y, t, wide_p).tobytes() == ref_wide.tobytes()
    assert pack_columns(x, y, t, wide_p.astype(np.uint8))["p"].tolist() == wide_p.astype(np.int8).tolist()
    out = np.zeros(n + 3, EVENT_DTYPE)
    pack_columns(x, y, t, p, out=out[2:n + 2])
    assert out[2:n + 2].tobytes() == ref.tobytes() and not out[0]["t"] and not out[-1]["t"]


# ---- the int8 polarity through nvlib.io: same bytes on disk, -1 refused ------------------------------

def test_cache_stores_polarity_as_its_own_uint8_column(tmp_path):
    from nvlib.io import read_cache, write_cache
    from nvlib.io.cache import read_cache_header

    ev = _ev([0, 5, 5, 10, 20, 21, 40])
    path = write_cache(tmp_path / "c.evc", ev)
    hdr = read_cache_header(path)
    assert {c: hdr["columns"][c]["dtype"] for c in "xytp"} == {"x": "<i2", "y": "<i2", "t": "<i8", "p": "|u1"}
    off = hdr["data_start"] + hdr["columns"]["p"]["offset"]
    assert path.read_bytes()[off:off + len(ev)] == bytes([0, 1, 0, 1, 0, 1, 0])
    back = read_cache(path)
    assert back.array.dtype == EVENT_DTYPE and back.array.tobytes() == ev.array.tobytes()


@pytest.mark.parametrize("fmt", ["evt3", "evt2", "dat", "v2e_h5", "v2e_text", "cache"])
def test_writers_refuse_polarity_minus_one(tmp_path, fmt):
    from nvlib.io import open_writer

    ev = _ev([0, 5, 5, 10])
    arr = ev.array.copy()
    arr["p"][2] = -1
    with pytest.raises(ValueError, match="polarities must be 0 or 1"):
        with open_writer(tmp_path / f"e.{fmt}", fmt, ev.sensor_size) as w:
            w.write(arr)
    assert not (tmp_path / f"e.{fmt}").exists()
    with open_writer(tmp_path / f"ok.{fmt}", fmt, ev.sensor_size) as w:  # np.asarray(ev) is accepted
        w.write(np.asarray(ev))
    assert w.n_written == 4
