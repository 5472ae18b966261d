"""nvlib.io on bad input: one exception type (FormatError) naming file, offset and expectation."""
from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nvlib.io as nio
from nvlib.io import evt2 as nevt2
from nvlib.io import evt3 as nevt3
from test_io_reference import ref_evt2, ref_evt3

EVT3_HEADER = b"% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n"
EVT2_HEADER = b"% evt 2.0\n% format EVT2;height=480;width=640\n% end\n"
DAT_HEADER = b"% Data file containing CD events.\n% Version 2\n% Width 304\n% Height 240\n\x0c\x08"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_empty_file(tmp_path):
    p = write(tmp_path, "empty.raw", b"")
    with pytest.raises(nio.FormatError, match=r"empty\.raw at byte offset 0: the file is empty"):
        nio.read_events(p)


def test_unknown_format(tmp_path):
    with pytest.raises(nio.FormatError, match="unknown event file format"):
        nio.read_events(write(tmp_path, "x.bin", b"\x01\x02\x03\x04garbage"))
    with pytest.raises(nio.FormatError, match="unsupported RAW encoding 'EVT21'"):
        nio.read_events(write(tmp_path, "y.raw", b"% format EVT21;height=1;width=1\n% end\n\x00\x00\x00\x00"))


def test_dangling_evt3_byte(tmp_path):
    p = write(tmp_path, "d.raw", EVT3_HEADER + b"\x23\x81\x56")
    with pytest.raises(nio.FormatError, match=f"byte offset {len(EVT3_HEADER) + 2}: .*dangling byte"):
        nio.read_events(p)
    with pytest.raises(nio.FormatError, match="dangling"):
        list(nio.iter_events(p, 1000))


def test_truncated_evt2_and_dat(tmp_path):
    with pytest.raises(nio.FormatError, match="dangling"):
        nio.read_events(write(tmp_path, "t2.raw", EVT2_HEADER + b"\x15\x8d\x04\x80\x64"))
    rec = struct.pack("<II", 10, 0x101900C8)
    with pytest.raises(nio.FormatError, match=r"whole 8-byte DAT records.*truncated"):
        nio.read_events(write(tmp_path, "t_cd.dat", DAT_HEADER + rec + rec[:5]))
    with pytest.raises(nio.FormatError, match="event type 0 or 12"):
        nio.read_events(write(tmp_path, "bad_cd.dat", DAT_HEADER[:-2] + b"\x05\x08" + rec))


def test_garbage_after_header(tmp_path):
    # 0x9... and 0xB... are reserved EVT 3.0 word types
    p = write(tmp_path, "g.raw", EVT3_HEADER + np.array([0x8001, 0x0001, 0x9ABC], "<u2").tobytes())
    with pytest.raises(nio.FormatError, match=f"byte offset {len(EVT3_HEADER) + 4}: .*reserved type 0x9"):
        nio.read_events(p)
    p2 = write(tmp_path, "g2.raw", EVT2_HEADER + np.array([0x80000001, 0x30000000], "<u4").tobytes())
    with pytest.raises(nio.FormatError, match="reserved type 0x3"):
        nio.read_events(p2)


@pytest.mark.parametrize("backend", ["auto", "numpy", "evt3"])
def test_coordinates_outside_geometry(tmp_path, backend):
    words = [0x8000, 0x0000 | 719, 0x2000 | 1279, 0x0000 | 720, 0x2000 | 5]
    p = write(tmp_path, "o.raw", EVT3_HEADER + np.array(words, "<u2").tobytes())
    with pytest.raises(nio.FormatError, match=f"byte offset {len(EVT3_HEADER) + 8}: event at \\(x=5, y=720\\)"):
        nio.read_events(p, backend=backend)
    vec = [0x8000, 0x0001, 0x3000 | 1276, 0x4FFF]  # a vector running past x = 1279
    p = write(tmp_path, "v.raw", EVT3_HEADER + np.array(vec, "<u2").tobytes())
    with pytest.raises(nio.FormatError, match="outside the declared sensor geometry"):
        nio.read_events(p, backend=backend)


def test_old_style_header_without_geometry(tmp_path):
    p = write(tmp_path, "old.raw", b"% evt 3.0\n% plugin_name hal_plugin_unknown\n"
              + np.array([0x8000, 0x0001, 0x2002], "<u2").tobytes())
    with pytest.raises(nio.FormatError, match="declares no sensor geometry"):
        nio.read_events(p)
    assert len(nio.read_events(p, sensor_size=(4, 4))) == 1
    gen3 = write(tmp_path, "gen3.raw", b"% evt 3.0\n% plugin_name hal_plugin_gen31_fx3\n"
                 + np.array([0x8000, 0x0001, 0x2002], "<u2").tobytes())
    assert nio.read_events(gen3).sensor_size == (640, 480)


def test_truncated_cache(tmp_path):
    from nvlib.events import make_events
    ev = make_events(np.arange(100) % 7, np.arange(100) % 5, np.arange(100), np.arange(100) % 2, (8, 8))
    p = nio.write_cache(tmp_path / "c.evc", ev)
    data = p.read_bytes()
    with pytest.raises(nio.FormatError, match="truncated"):
        nio.read_events(write(tmp_path, "cut.evc", data[:-200]))
    with pytest.raises(nio.FormatError, match="JSON cache header"):
        nio.read_events(write(tmp_path, "bad.evc", data[:20] + b"\xff" * 40 + data[60:]))


# --- fuzzing: random input never escapes as anything but FormatError ---------------------------

def _only_format_error(path, **kw):
    try:
        ev = nio.read_events(path, **kw)
    except nio.FormatError:
        return None
    ev.validate("fuzz")
    return ev


@FUZZ
@given(st.binary(max_size=600))
def test_fuzz_evt3_body(tmp_path, body):
    p = write(tmp_path, "f3.raw", EVT3_HEADER + body)
    ev = _only_format_error(p, backend="numpy")
    if ev is not None:
        assert len(body) % 2 == 0
        assert [tuple(e) for e in zip(ev.x.tolist(), ev.y.tolist(), ev.p.tolist(), ev.t.tolist())] == \
            ref_evt3(np.frombuffer(body, "<u2").tolist())
    auto = _only_format_error(p)
    assert (ev is None) == (auto is None)
    if ev is not None:
        np.testing.assert_array_equal(auto.array, ev.array)


@FUZZ
@given(st.binary(max_size=600))
def test_fuzz_evt2_body(tmp_path, body):
    ev = _only_format_error(write(tmp_path, "f2.raw", EVT2_HEADER + body))
    if ev is not None:
        assert [tuple(e) for e in zip(ev.x.tolist(), ev.y.tolist(), ev.p.tolist(), ev.t.tolist())] == \
            ref_evt2(np.frombuffer(body, "<u4").tolist())


@pytest.mark.filterwarnings("ignore:.*bounding box:UserWarning")
@FUZZ
@given(st.binary(max_size=400), st.sampled_from(["x.raw", "x.dat", "x.txt", "x.h5", "x.evc", "x.aedat4", "x"]))
def test_fuzz_whole_files(tmp_path, data, name):
    p = write(tmp_path, name, data)
    try:
        nio.read_events(p)
    except nio.FormatError:
        pass


@FUZZ
@given(st.sampled_from([EVT3_HEADER, EVT2_HEADER, DAT_HEADER, b"% evt 3.0\n% plugin_name gen41\n"]),
       st.binary(max_size=300), st.integers(0, 400))
def test_fuzz_headers_cut_and_spliced(tmp_path, header, body, cut):
    data = (header + body)[:cut] if cut < len(header) + len(body) else header + body
    p = write(tmp_path, "h.raw" if header[2:5] != b"Dat" else "h.dat", data)
    try:
        nio.read_events(p)
    except nio.FormatError:
        pass


# --- differential: well-formed random EVT 3.0 streams against the evt3 package -----------------

_word = st.one_of(
    st.integers(0, 0x7FF).map(lambda v: 0x0000 | (v % 720)),          # ADDR_Y
    st.integers(0, 0xFFF).map(lambda v: 0x2000 | (v & 0x800) | (v & 0x7FF) % 1268),  # ADDR_X
    st.integers(0, 0xFFF).map(lambda v: 0x3000 | (v & 0x800) | (v & 0x7FF) % 1200),  # VECT_BASE_X
    st.integers(0, 0xFFF).map(lambda v: 0x4000 | v),                   # VECT_12
    st.integers(0, 0xFF).map(lambda v: 0x5000 | v),                    # VECT_8
    st.integers(0, 0xFFF).map(lambda v: 0x6000 | v),                   # TIME_LOW
    st.tuples(st.just("th"), st.integers(-20, 10)),                   # TIME_HIGH step, sensor-like
    st.integers(0, 0xFFF).map(lambda v: 0xA000 | v),                   # EXT_TRIGGER
    st.integers(0, 0xFFF).map(lambda v: 0xE000 | v),                   # OTHERS
)


@FUZZ
@given(st.integers(0, 0xFFF), st.lists(_word, max_size=120))
def test_differential_evt3_package(th0, items):
    evt3 = pytest.importorskip("evt3")
    words, th, base = [0x8000 | th0, 0x0000, 0x3000], th0, 0
    for it in items:
        if isinstance(it, tuple):
            th = (th + it[1]) % 4096
            words.append(0x8000 | th)
            continue
        words.append(it)
        if it >> 12 == 0x3:
            base = it & 0x7FF
        elif it >> 12 in (0x4, 0x5):
            base += 12 if it >> 12 == 0x4 else 8
            if base > 1268:  # keep vectors inside the sensor: reset the base
                words.append(0x3000)
                base = 0
    arr = np.array(words, np.uint16)
    cols, _ = nevt3.decode_evt3_words(arr, nevt3.Evt3State(), (1280, 720))
    ref = evt3.decode_bytes(arr.tobytes(), 1280, 720)
    np.testing.assert_array_equal(cols[0], ref.x.astype(np.int16))
    np.testing.assert_array_equal(cols[1], ref.y.astype(np.int16))
    np.testing.assert_array_equal(cols[2], ref.t.astype(np.int64))
    np.testing.assert_array_equal(cols[3], ref.p)


# --- AEDAT4: corrupted headers and packets of the real recordings, each decoded in a child process ----------
# The `aedat` decoder panics (pyo3_runtime.PanicException, a BaseException) or aborts the interpreter on some
# corrupted headers, so every mutated file is read in a subprocess (one per batch): an abort fails this test
# naming the mutation instead of killing pytest.

_AEDAT4_MUTANTS = r'''
import random, sys
from pathlib import Path
from nvlib.io import FormatError, read_events
src, work, region, seed0, n = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
data = src.read_bytes()
head = min(2048, len(data))
for s in range(seed0, seed0 + n):
    rng = random.Random(s)
    b = bytearray(data)
    if region == "cut":
        b = b[:rng.randrange(1, len(b))]
    else:
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(0, head) if region == "head" else rng.randrange(head, len(b))
            b[i] = rng.randrange(32, 127) if rng.random() < 0.5 else rng.randrange(256)  # text and binary
    p = work / f"{region}{s}.aedat4"
    p.write_bytes(bytes(b))
    print("start", s, flush=True)
    try:
        print("ok", s, len(read_events(p)), flush=True)
    except FormatError as e:
        print("format", s, e.offset, e.path == str(p) and str(e).startswith(str(p)), flush=True)
    except BaseException as e:
        print("escaped", s, type(e).__name__, " ".join(str(e).split())[:120], flush=True)
    p.unlink()
'''


@pytest.mark.shared
@pytest.mark.parametrize("region, n", [("head", 150), ("body", 150), ("cut", 30)])
def test_fuzz_real_aedat4_recordings_in_a_subprocess(events_fixtures, tmp_path, region, n):
    import subprocess
    import sys

    recordings = sorted(events_fixtures.glob("*.aedat4"))
    if not recordings:
        pytest.skip(f"no AEDAT4 recording in {events_fixtures}")
    for rec in recordings:
        proc = subprocess.run([sys.executable, "-c", _AEDAT4_MUTANTS, str(rec), str(tmp_path), region, "0", str(n)],
                              capture_output=True, text=True, timeout=120)
        lines = [ln.split(" ", 3) for ln in proc.stdout.splitlines()]
        last = next((ln[1] for ln in reversed(lines) if ln[0] == "start"), None)
        assert proc.returncode == 0, (f"{rec.name}: mutation {region} seed {last} killed the interpreter (exit "
                                      f"{proc.returncode}): {proc.stderr[-500:]}")
        outcomes = {}
        for kind, seed, *rest in lines:
            if kind != "start":
                outcomes[int(seed)] = (kind, rest)
        assert sorted(outcomes) == list(range(n))
        escaped = {s: r for s, (k, r) in outcomes.items() if k == "escaped"}
        assert not escaped, f"{rec.name}: {region} mutations escaped as other exceptions: {escaped}"
        errors = [r for k, r in outcomes.values() if k == "format"]
        assert all(r[0] != "None" and r[1] == "True" for r in errors), \
            f"{rec.name}: FormatErrors without a byte offset or the file: {errors}"
        assert len(errors) >= n // 2, f"{rec.name}: only {len(errors)} of {n} {region} mutations detected"


@pytest.mark.shared
def test_aedat4_layout_errors_name_the_byte(events_fixtures, tmp_path):
    from nvlib.io.aedat4 import check_aedat4

    src = events_fixtures / "dvxplorer_person.aedat4"
    if not src.is_file():
        pytest.skip(f"{src} not available")
    data = src.read_bytes()
    layout = check_aedat4(src)
    assert layout.streams[0] == {"type": "events", "width": 320, "height": 240} and layout.compression == 1
    first, sid, size = layout.packets[0]
    assert len(nio.read_events(src)) == 111954

    def broken(name, b):
        p = write(tmp_path, name, bytes(b))
        with pytest.raises(nio.FormatError) as e:
            nio.read_events(p)
        assert e.value.path == str(p)
        return e.value

    b = bytearray(data)
    b[14:18] = struct.pack("<I", len(data))  # header length past the end
    assert broken("len.aedat4", b).offset == 14
    b = bytearray(data)
    b[first:first + 4] = struct.pack("<I", 7)  # an undeclared stream
    e = broken("sid.aedat4", b)
    assert e.offset == first and "stream 7, which the header does not declare" in str(e)
    b = bytearray(data)
    b[first + 4:first + 8] = struct.pack("<I", size + 3)  # packets no longer end at the data table
    assert broken("size.aedat4", b).offset is not None
    i = data.index(b'key="sizeX"') + len(b'key="sizeX" type="int">')
    b = bytearray(data)
    b[i:i + 3] = b"3x0"
    e = broken("xml.aedat4", b)
    assert e.offset == i - len(b'<attr key="sizeX" type="int">') and "sizeX '3x0'" in str(e)
    b = bytearray(data)
    b[i] = 0xC3  # a lone UTF-8 lead byte: `aedat` would abort the interpreter on it
    e = broken("utf8.aedat4", b)
    assert e.offset == i and "not UTF-8" in str(e)
    b = bytearray(data)
    b[:2] = b"#?"  # a damaged magic is reported as such, not read as a text file
    assert broken("magic.aedat4", b).offset == 1
