"""nvlib.io readers: specification vectors, real fixtures and independent decoders."""
from __future__ import annotations

import struct

import numpy as np
import pytest

import nvlib.io as nio
from nvlib.io import evt3 as nevt3
from nvlib.io.raw_header import read_header
from nvlib.workbook.paths import shared_dir
from test_io_reference import (DAT_SPEC_EVENTS, DAT_SPEC_RECORDS, EVT2_SPEC_EVENTS, EVT2_SPEC_WORDS,
                               EVT3_SPEC_EVENTS, EVT3_SPEC_WORDS, as_tuples, ref_dat, ref_evt2, ref_evt3)

EVT3_HEADER = b"% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n"
EVT2_HEADER = b"% evt 2.0\n% format EVT2;height=720;width=1280\n% end\n"


def fixture(name):
    root = shared_dir()
    if root is None:
        pytest.skip("real event fixtures: ../shared not found")
    path = root / "fixtures" / "events" / name
    if not path.is_file():
        pytest.skip(f"real event fixture {name}: not in ../shared/fixtures/events")
    return path


def words_file(tmp_path, header, words, fmt="<u2", name="spec.raw"):
    path = tmp_path / name
    path.write_bytes(header + np.asarray(words, dtype=fmt).tobytes())
    return path


# --- specification vectors -------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["auto", "numpy", "evt3"])
def test_evt3_spec_vector(tmp_path, backend):
    path = words_file(tmp_path, EVT3_HEADER, EVT3_SPEC_WORDS)
    ev = nio.read_events(path, backend=backend)
    assert ev.sensor_size == (1280, 720)
    assert as_tuples(ev) == EVT3_SPEC_EVENTS


def test_evt3_spec_vector_streaming_every_split(tmp_path):
    data = np.asarray(EVT3_SPEC_WORDS, "<u2").tobytes()
    for cut in range(len(data) + 1):
        dec = nevt3.Evt3Decoder((1280, 720))
        cols = [dec.feed(data[:cut]), dec.feed(data[cut:])]
        dec.finish()
        got = [tuple(int(v) for v in e) for c in cols for e in zip(c[0], c[1], c[3], c[2])]
        assert got == EVT3_SPEC_EVENTS, cut


def test_evt2_spec_vector(tmp_path):
    path = words_file(tmp_path, EVT2_HEADER, EVT2_SPEC_WORDS, fmt="<u4")
    assert as_tuples(nio.read_events(path)) == EVT2_SPEC_EVENTS


@pytest.mark.parametrize("ev_type", [0, 12])
def test_dat_spec_vector(tmp_path, ev_type):
    path = tmp_path / "spec_cd.dat"
    body = b"".join(struct.pack("<II", t, w) for t, w in DAT_SPEC_RECORDS)
    path.write_bytes(b"% Data file containing CD events.\n% Version 2\n% Width 304\n% Height 240\n"
                     + bytes([ev_type, 8]) + body)
    ev = nio.read_events(path)
    assert ev.sensor_size == (304, 240)
    assert as_tuples(ev) == DAT_SPEC_EVENTS


def test_evt3_semantics_match_reference(tmp_path):
    # data before the first TIME_HIGH is dropped; an event before any ADDR_Y is dropped;
    # TIME_HIGH resets TIME_LOW; a drop of >= 2048 is a wrap, smaller drops are not
    words = [0x0005, 0x2001, 0x8010, 0x2002, 0x0007, 0x6100, 0x2003, 0x8010, 0x2004, 0x800F, 0x2005,
             0x8C00, 0x2006, 0x8300, 0x2007, 0x3010, 0x4003, 0x5081]
    path = words_file(tmp_path, EVT3_HEADER, words)
    got = as_tuples(nio.read_events(path))
    assert got == ref_evt3(words)
    assert got[0] == (3, 7, 0, 0x10 * 4096 + 0x100)
    assert got[1] == (4, 7, 0, 0x10 * 4096)  # TIME_HIGH reset TIME_LOW
    assert got[4][3] == 2**24 + 0x300 * 4096  # 0xC00 -> 0x300 dropped by 2304: a wrap


# --- real recordings -------------------------------------------------------------------------

def test_gen41_evt3_fixture_counts_and_independent_decoder():
    evt3 = pytest.importorskip("evt3")
    path = fixture("gen41_evt3_sample.raw")
    ev = nio.read_events(path)
    assert len(ev) == 219_596
    assert ev.sensor_size == (1280, 720)  # old-style header: from plugin_name hal_plugin_gen41_evk3
    assert 8_000 <= ev.duration_us <= 10_000
    assert ev.is_sorted()
    ref = evt3.decode_file(str(path))
    for name, col in (("x", ref.x), ("y", ref.y), ("p", ref.p), ("t", ref.t)):
        np.testing.assert_array_equal(getattr(ev, name), col.astype(np.int64), err_msg=name)
    own = nio.read_events(path, backend="numpy")
    np.testing.assert_array_equal(own.array, ev.array)


def test_gen41_evt3_prefix_matches_scalar_reference():
    path = fixture("gen41_evt3_sample.raw")
    raw = path.read_bytes()
    with open(path, "rb") as f:
        start = read_header(f).data_offset
    words = np.frombuffer(raw[start:start + 40_000], "<u2")
    cols, _ = nevt3.decode_evt3_words(words, nevt3.Evt3State(), (1280, 720))
    got = list(zip(cols[0].tolist(), cols[1].tolist(), cols[3].tolist(), cols[2].tolist()))
    assert got == ref_evt3(words.tolist())


def test_gen41_evt3_streaming_equals_whole():
    path = fixture("gen41_evt3_sample.raw")
    whole = nio.read_events(path)
    size, chunks = nio.iter_chunks(path, chunk_bytes=12_345)
    parts = [c for c in chunks]
    assert size == (1280, 720)
    for i, name in enumerate(("x", "y", "t", "p")):
        np.testing.assert_array_equal(np.concatenate([c[i] for c in parts]), getattr(whole, name))


def test_gen3_evt2_fixture_counts_and_scalar_reference():
    path = fixture("gen3_evt2_sample.raw")
    ev = nio.read_events(path)
    assert len(ev) == 539_481
    assert ev.sensor_size == (640, 480)
    assert 45_000 <= ev.duration_us <= 55_000
    with open(path, "rb") as f:
        start = read_header(f).data_offset
        words = np.frombuffer(f.read(), "<u4")
    # the scalar reference over the first 60k words, and the count of CD words after the first TIME_HIGH
    k = 60_000
    ref = ref_evt2(words[:k].tolist())
    assert as_tuples(ev[:len(ref)]) == ref
    ty = words >> 28
    first_th = int(np.argmax(ty == 8))
    assert len(ev) == int(np.count_nonzero(ty[first_th:] <= 1))


def test_atis_dat_fixture_counts_and_scalar_reference():
    path = fixture("atis_ncars_sample.dat")
    with pytest.warns(UserWarning, match="no geometry"):
        ev = nio.read_events(path)
    assert len(ev) == 2_009
    with open(path, "rb") as f:
        start = read_header(f).data_offset
        f.seek(start)
        assert f.read(2) == bytes([0, 8])
        body = f.read()
    assert as_tuples(ev) == ref_dat(body)
    assert nio.read_events(path, sensor_size=(304, 240)).sensor_size == (304, 240)


def test_dvxplorer_aedat4_fixture():
    pytest.importorskip("aedat")
    path = fixture("dvxplorer_person.aedat4")
    ev = nio.read_events(path)
    assert len(ev) == 111_954
    assert ev.sensor_size == (320, 240)
    assert ev.is_sorted()
    assert set(np.unique(ev.p).tolist()) == {0, 1}
    # streaming by packets gives the same events
    size, chunks = nio.iter_chunks(path)
    x = np.concatenate([c[0] for c in chunks])
    np.testing.assert_array_equal(x, ev.x)


# --- v2e outputs written by hand in v2e's layouts -------------------------------------------

def test_v2e_h5_written_with_h5py(tmp_path):
    h5py = pytest.importorskip("h5py")
    rows = np.array([[5, 1, 2, 1], [7, 3, 4, 0], [7, 345, 259, 1]], dtype=np.uint32)
    path = tmp_path / "events.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("events", data=rows)
    ev = nio.read_events(path, sensor_size=(346, 260))
    assert as_tuples(ev) == [(1, 2, 1, 5), (3, 4, 0, 7), (345, 259, 1, 7)]


def test_v2e_text_with_comments_and_signed_polarity(tmp_path):
    path = tmp_path / "v2e-dvs-events.txt"
    path.write_text("# Format is time (float s), x, y, polarity (0=off,1=on)\n"
                    "0.000000000 33 39 1\n0.000011001 158 145 -1\n1.5 2 3 0\n")
    ev = nio.read_events(path, sensor_size=(346, 260))
    assert as_tuples(ev) == [(33, 39, 1, 0), (158, 145, 0, 11), (2, 3, 0, 1_500_000)]


@pytest.mark.parametrize("size", [(346, 260), (240, 180), (640, 480)])
def test_v2e_aedat2_layout(tmp_path, size):
    # v2e: big-endian (address, t) int32 pairs; x and y flipped; DAVIS y<<22|x<<12|p<<11, DVS640 y<<11|x<<1|p
    ys, xs, ps = {(346, 260): (22, 12, 11), (240, 180): (22, 12, 11), (640, 480): (11, 1, 0)}[size]
    events = [(0, 0, 1, 10), (size[0] - 1, 5, 0, 20), (17, size[1] - 1, 1, 30)]
    body = b""
    for x, y, p, t in events:
        addr = ((size[1] - 1 - y) << ys) | ((size[0] - 1 - x) << xs) | (p << ps)
        body += struct.pack(">II", addr, t)
    body += struct.pack(">II", 1 << 31, 40)  # an APS sample: skipped
    path = tmp_path / "v2e.aedat"
    path.write_bytes(b"#!AER-DAT2.0\r\n# This is a raw AE data file\r\n" + body)
    ev = nio.read_events(path, sensor_size=size)
    assert as_tuples(ev) == events
