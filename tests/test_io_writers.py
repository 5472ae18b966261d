"""nvlib.io writers: round trips through the readers and the independent decoders."""
from __future__ import annotations

import numpy as np
import pytest

import nvlib.io as nio
from nvlib.events import make_events
from test_io_reference import as_tuples, ref_evt2, ref_evt3

WRITERS = {"evt3": nio.write_evt3, "evt2": nio.write_evt2, "dat": nio.write_dat, "v2e_h5": nio.write_v2e_h5,
           "v2e_text": nio.write_v2e_text, "cache": nio.write_cache, "aedat4": nio.write_aedat4}
EXT = {"evt3": ".raw", "evt2": ".raw", "dat": ".dat", "v2e_h5": ".h5", "v2e_text": ".txt", "cache": ".evc",
       "aedat4": ".aedat4"}


def synthetic(n=5000, size=(640, 480), seed=0, t0=0, span=200_000, bursts=True):
    """Sorted events with bursts of same-(t, y, p) runs so the EVT 3.0 writer uses vectors."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(t0, t0 + span, n))
    x = rng.integers(0, size[0], n)
    y = rng.integers(0, size[1], n)
    p = rng.integers(0, 2, n)
    if bursts:  # rows of neighbouring pixels firing together
        k = n // 4
        i = np.arange(k) * 4
        for j in range(1, 4):
            t[i + j], y[i + j], p[i + j] = t[i], y[i], p[i]
            x[i + j] = np.minimum(x[i] + 3 * j, size[0] - 1)
    return make_events(x, y, t, p, size)


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_round_trip(tmp_path, fmt):
    ev = synthetic()
    path = WRITERS[fmt](tmp_path / f"rt{EXT[fmt]}", ev)
    back = nio.read_events(path)
    assert back.sensor_size == ev.sensor_size
    np.testing.assert_array_equal(back.array, ev.array)
    assert not list(tmp_path.glob(".*partial*"))


def test_evt3_writer_is_real_evt3_and_matches_evt3_package(tmp_path):
    evt3 = pytest.importorskip("evt3")
    ev = synthetic(20_000, size=(1280, 720), seed=1)
    path = nio.write_evt3(tmp_path / "w.raw", ev)
    with open(path, "rb") as f:
        start = nio.reading.read_header(f).data_offset
        words = np.frombuffer(f.read(), "<u2")
    types = set((words >> 12).tolist())
    assert {0x0, 0x2, 0x3, 0x4, 0x6, 0x8} <= types  # ADDR_Y, ADDR_X, VECT_BASE_X, VECT_12, TIME_LOW/HIGH
    vec = words[(words >> 12) == 0x4] & 0xFFF
    assert sum(bin(int(m)).count("1") for m in vec) >= len(ev) // 4  # the bursts travel in vector words
    assert as_tuples(ev) == ref_evt3(words.tolist())
    ref = evt3.decode_file(str(path))
    assert ref.sensor_size == (1280, 720)
    for name, col in (("x", ref.x), ("y", ref.y), ("p", ref.p), ("t", ref.t)):
        np.testing.assert_array_equal(getattr(ev, name), col.astype(np.int64), err_msg=name)
    assert start > 0


@pytest.mark.parametrize("t0,span", [(2**24 - 50_000, 100_000), (5 * 2**24 + 123, 3 * 2**24), (0, 40 * 2**24)])
def test_evt3_time_high_wraps(tmp_path, t0, span):
    evt3 = pytest.importorskip("evt3")
    ev = synthetic(3000, size=(320, 240), seed=2, t0=t0, span=span)
    path = nio.write_evt3(tmp_path / "wrap.raw", ev)
    np.testing.assert_array_equal(nio.read_events(path, backend="numpy").array, ev.array)
    np.testing.assert_array_equal(nio.read_events(path).array, ev.array)
    ref = evt3.decode_file(str(path))
    np.testing.assert_array_equal(ref.t.astype(np.int64), ev.t)


def test_evt3_gap_of_many_loops(tmp_path):
    ev = make_events([1, 2, 3], [4, 5, 6], [7, 7 + 9 * 2**24 + 5, 7 + 9 * 2**24 + 4096], [0, 1, 0], (64, 64))
    path = nio.write_evt3(tmp_path / "gap.raw", ev)
    np.testing.assert_array_equal(nio.read_events(path).array, ev.array)


@pytest.mark.parametrize("t0", [0, 2**34 - 1000])
def test_evt2_round_trip_and_reference(tmp_path, t0):
    ev = synthetic(2000, seed=3, t0=t0, span=5000)
    path = nio.write_evt2(tmp_path / "w2.raw", ev)
    np.testing.assert_array_equal(nio.read_events(path).array, ev.array)
    with open(path, "rb") as f:
        f.seek(nio.reading.read_header(f).data_offset)
        words = np.frombuffer(f.read(), "<u4")
    assert as_tuples(ev) == ref_evt2(words.tolist())


def test_streaming_writer_equals_whole_writer(tmp_path):
    ev = synthetic(6000, seed=4)
    for fmt in WRITERS:
        whole = WRITERS[fmt](tmp_path / f"whole{EXT[fmt]}", ev)
        with nio.open_writer(tmp_path / f"chunks{EXT[fmt]}", fmt, ev.sensor_size) as w:
            for i in range(0, len(ev), 777):
                w.write(ev[i:i + 777])
        back = nio.read_events(tmp_path / f"chunks{EXT[fmt]}")
        np.testing.assert_array_equal(back.array, ev.array, err_msg=fmt)
        if fmt in ("dat", "v2e_text", "evt2"):
            assert whole.read_bytes() == (tmp_path / f"chunks{EXT[fmt]}").read_bytes()


def test_writer_leaves_no_file_on_error(tmp_path):
    ev = synthetic(100)
    target = tmp_path / "broken.raw"
    with pytest.raises(RuntimeError):
        with nio.open_writer(target, "evt3", ev.sensor_size) as w:
            w.write(ev)
            raise RuntimeError("simulated crash")
    assert list(tmp_path.iterdir()) == []


def test_evt_writers_reject_unsorted_and_outside(tmp_path):
    ev = synthetic(100)
    shuffled = ev[::-1]
    for fmt in ("evt3", "evt2"):
        with pytest.raises(ValueError, match="sorted"):
            WRITERS[fmt](tmp_path / f"u.{fmt}", shuffled)
    with pytest.raises(ValueError, match="sensor size"):
        with nio.open_writer(tmp_path / "s.raw", "evt3", (10, 10)) as w:
            w.write(ev)
    assert list(tmp_path.iterdir()) == []


def test_cache_compressed_mmap_and_empty(tmp_path):
    ev = synthetic(3000, seed=5)
    plain = nio.write_cache(tmp_path / "a.evc", ev)
    packed = nio.write_cache(tmp_path / "b.evc", ev, compress=True)
    assert packed.stat().st_size < plain.stat().st_size
    for path in (plain, packed):
        for mmap in (True, False):
            np.testing.assert_array_equal(nio.read_cache(path, mmap=mmap).array, ev.array)
    cols, size = nio.read_cache_columns(plain)
    assert isinstance(cols["t"], np.memmap) and size == ev.sensor_size
    empty = ev[0:0]
    e = nio.read_cache(nio.write_cache(tmp_path / "e.evc", empty))
    assert len(e) == 0 and e.sensor_size == ev.sensor_size


def test_cache_keeps_unsorted_and_negative_times(tmp_path):
    ev = make_events([3, 1, 2], [0, 1, 2], [50, -10, 2**40], [1, 0, 1], (4, 4))
    np.testing.assert_array_equal(nio.read_cache(nio.write_cache(tmp_path / "c.evc", ev)).array, ev.array)


def test_nvlib_info_describes_a_written_file(tmp_path, capsys):
    from nvlib.cli import main as cli_main
    from nvlib.events import make_events
    from nvlib.io import write_evt3

    ev = make_events([1, 2, 3], [4, 5, 6], [100, 1100, 2100], [1, 0, 1], (64, 48))
    path = tmp_path / "rec.raw"
    write_evt3(path, ev)
    assert cli_main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "evt3, 64x48, 3 events over 2.000 ms" in out and "ON fraction 0.667" in out
    bad = tmp_path / "bad.raw"
    bad.write_bytes(b"% format EVT3;height=48;width=64\n% end\n\x01")
    assert cli_main(["info", str(bad)]) == 1
    assert "bad.raw" in capsys.readouterr().err


@pytest.mark.parametrize("size", [(346, 260), (640, 480), (1, 1)])
def test_aedat4_read_back_by_the_aedat_package(tmp_path, size):
    """v2e issue #59: AEDAT4 output with the right sensor size, read event for event by the independent
    ``aedat`` decoder (iniVation's flatbuffer layout), across several packets and chunked writes."""
    import aedat

    from nvlib.io.aedat4 import PACKET_EVENTS
    ev = synthetic(n=PACKET_EVENTS + 4321 if size != (1, 1) else 50, size=size, bursts=size != (1, 1))
    path = tmp_path / "out.aedat4"
    with nio.open_writer(path, "aedat4", size) as w:
        w.write(ev.array[:1000])
        w.write(ev.array[1000:])
    dec = aedat.Decoder(str(path))
    assert dec.id_to_stream() == {0: {"type": "events", "width": size[0], "height": size[1]}}
    back = np.concatenate([pk["events"] for pk in dec if "events" in pk])
    assert len(back) == len(ev)
    np.testing.assert_array_equal(back["t"].astype(np.int64), ev.t)
    np.testing.assert_array_equal(back["x"].astype(np.int64), ev.x)
    np.testing.assert_array_equal(back["y"].astype(np.int64), ev.y)
    np.testing.assert_array_equal(back["on"].astype(np.int64), ev.p)
    with pytest.raises(ValueError, match="sensor size"):
        nio.open_writer(tmp_path / "big.aedat4", "aedat4", (70000, 10))
