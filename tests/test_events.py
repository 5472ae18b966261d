import numpy as np
import pytest

from nvlib.events import EVENT_DTYPE, Events, concatenate, empty_events, make_events


def _ev(t, size=(8, 4)):
    t = np.asarray(t)
    n = len(t)
    return make_events(np.arange(n) % size[0], np.arange(n) % size[1], t, np.arange(n) % 2, size)


def test_dtype_is_tonic_compatible():
    assert EVENT_DTYPE.names == ("x", "y", "t", "p")
    assert EVENT_DTYPE["x"] == np.int16 and EVENT_DTYPE["t"] == np.int64


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
    out = np.zeros(n + 3, EVENT_DTYPE)
    pack_columns(x, y, t, p, out=out[2:n + 2])
    assert out[2:n + 2].tobytes() == ref.tobytes() and not out[0]["t"] and not out[-1]["t"]
