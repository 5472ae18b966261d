"""iniVation AEDAT 4.0 files: the layout checked here, the packets decoded by the ``aedat`` package (MIT, Rust).

An AEDAT 4.0 file is ``#!AER-DAT4.0\\r\\n``, a little-endian uint32 length, an ``IOHeader`` flatbuffer
of that length (compression, the byte position of the file data table or -1, and an XML description
of the streams), then packets ``[stream id uint32][size uint32][size bytes, LZ4/zstd-compressed
flatbuffer]`` up to the data table (or the end of the file).

The ``aedat`` decoder trusts that layout: a corrupted header can make it panic (a
``pyo3_runtime.PanicException``, which is a ``BaseException``) or abort the interpreter (invalid UTF-8
in the description). So :func:`check_aedat4` reads the header flatbuffer with bounds checks, parses the
description with expat (no DTD, the structure ``aedat`` requires: ``<dv>``, an ``outInfo`` node, numeric
stream ids, a known ``typeIdentifier``, integer ``sizeX``/``sizeY`` for event and frame streams) and
walks the packet table (declared stream ids, sizes inside the file, ending exactly at the data table or
the end of the file) before ``aedat`` sees the file. Anything wrong is a :class:`FormatError` with the
file and the byte offset; what ``aedat`` still rejects (a packet that does not decompress) is reported
with the offset of that packet, and a panic inside ``aedat`` is turned into a :class:`FormatError` too.
The first ``events`` stream (lowest id) is read; packets are yielded one by one (bounded memory).

Writing (:func:`header_bytes`, :func:`encode_aedat4_packets`, used by ``open_writer(..., "aedat4")``): one
events stream 0 of the given sensor size, uncompressed packets holding size-prefixed ``EventPacket``
flatbuffers (iniVation's ``events.fbs``, identifier ``EVTS``), no data table, which the ``aedat`` package
reads back.
"""
from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

import numpy as np

from nvlib.io.errors import FormatError

MAGIC = b"#!AER-DAT4.0"
FULL_MAGIC = MAGIC + b"\r\n"
#: IOHeader ``compression`` values (iniVation's CompressionType enum)
COMPRESSIONS = ("none", "LZ4", "LZ4 (high)", "zstd", "zstd (high)")
STREAM_TYPES = {"EVTS": "events", "FRME": "frame", "IMUS": "imus", "TRIG": "triggers"}
_DIGITS = re.compile(r"\d{1,10}")
_PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)


@dataclass(frozen=True)
class Aedat4Layout:
    """What :func:`check_aedat4` found: ``streams`` {id: {"type", "width", "height"}}, ``compression`` (an
    index into :data:`COMPRESSIONS`), ``data_table`` (byte position or -1), ``packets`` ((offset, stream id,
    size) per packet, in file order)."""

    streams: dict
    compression: int
    data_table: int
    packets: tuple

    def events_stream(self, path) -> tuple[int, tuple[int, int]]:
        ids = sorted(k for k, v in self.streams.items() if v["type"] == "events")
        if not ids:
            raise FormatError(path, None, "expected an AEDAT 4.0 'events' stream (typeIdentifier EVTS), found none")
        s = self.streams[ids[0]]
        return ids[0], (s["width"], s["height"])


# ----------------------------------------------------------------------------- the IOHeader flatbuffer
def _ioheader(path, buf: bytes, base: int) -> tuple[int, int, bytes, int]:
    """``(compression, data_table, description bytes, description offset)`` of the IOHeader flatbuffer
    ``buf`` (at byte ``base`` of the file), every offset checked against the buffer."""
    n = len(buf)

    def bad(rel: int, what: str):
        raise FormatError(path, base + rel, f"AEDAT4 header: {what}")

    def u16(o):
        return struct.unpack_from("<H", buf, o)[0]

    def u32(o):
        return struct.unpack_from("<I", buf, o)[0]

    if n < 12:
        bad(0, f"the header flatbuffer has {n} bytes; expected at least 12")
    root = u32(0)
    if root < 4 or root % 4 or root + 4 > n:
        bad(0, f"root table offset {root} lies outside the {n}-byte header")
    vt = root - struct.unpack_from("<i", buf, root)[0]
    if vt < 0 or vt % 2 or vt + 4 > n:
        bad(root, f"vtable offset {vt} lies outside the {n}-byte header")
    vt_size, tbl_size = u16(vt), u16(vt + 2)
    if vt_size < 4 or vt_size % 2 or vt + vt_size > n:
        bad(vt, f"vtable size {vt_size} does not fit the {n}-byte header")
    if tbl_size < 4 or root + tbl_size > n:
        bad(vt + 2, f"table size {tbl_size} does not fit the {n}-byte header")

    def field(i: int, width: int) -> int | None:
        slot = 4 + 2 * i
        if slot + 2 > vt_size:
            return None
        off = u16(vt + slot)
        if off == 0:
            return None
        if off < 4 or off + width > tbl_size:
            bad(vt + slot, f"field {i} at table offset {off} lies outside the {tbl_size}-byte table")
        return root + off

    f = field(0, 4)
    compression = struct.unpack_from("<i", buf, f)[0] if f is not None else 0
    if not 0 <= compression < len(COMPRESSIONS):
        bad(f, f"unknown compression {compression}; expected 0..{len(COMPRESSIONS) - 1} ({', '.join(COMPRESSIONS)})")
    f = field(1, 8)
    data_table = struct.unpack_from("<q", buf, f)[0] if f is not None else -1
    f = field(2, 4)
    if f is None:
        bad(vt, "no stream description (infoNode) in the header")
    s = f + u32(f)
    if s % 4 or s + 4 > n:
        bad(f, f"description offset {s} lies outside the {n}-byte header")
    length = u32(s)
    if s + 4 + length + 1 > n:
        bad(s, f"description of {length} bytes runs past the {n}-byte header")
    if buf[s + 4 + length] != 0:
        bad(s + 4 + length, "description string is not NUL-terminated")
    text = bytes(buf[s + 4:s + 4 + length])
    try:
        text.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        bad(s + 4 + e.start, f"description is not UTF-8 ({e.reason})")
    return compression, data_table, text, base + s + 4


# ----------------------------------------------------------------------------- the XML description
class _Node:
    __slots__ = ("tag", "attrs", "children", "text", "offset")

    def __init__(self, tag, attrs, offset):
        self.tag, self.attrs, self.children, self.text, self.offset = tag, attrs, [], "", offset

    def find(self, tag: str, **attrs) -> "_Node | None":
        for c in self.children:
            if c.tag == tag and all(c.attrs.get(k) == v for k, v in attrs.items()):
                return c
        return None


def _parse_xml(path, text: bytes, base: int) -> _Node:
    parser = expat.ParserCreate("UTF-8")
    stack: list[_Node] = []
    top: list[_Node] = []

    def start(tag, attrs):
        node = _Node(tag, attrs, base + parser.CurrentByteIndex)
        (stack[-1].children if stack else top).append(node)
        stack.append(node)

    def end(tag):
        stack.pop()

    def chars(data):
        if stack:
            stack[-1].text += data

    def no_dtd(*_):
        raise FormatError(path, base + parser.CurrentByteIndex, "AEDAT4 description: a DOCTYPE is not allowed")

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    try:
        parser.Parse(text, True)
    except expat.ExpatError as e:
        raise FormatError(path, base + max(parser.ErrorByteIndex, 0),
                          f"AEDAT4 description is not well-formed XML ({expat.ErrorString(e.code)})") from None
    if len(top) != 1:
        raise FormatError(path, base, "AEDAT4 description: expected one root element <dv>")
    return top[0]


def _streams(path, root: _Node, base: int) -> dict:
    if root.tag != "dv":
        raise FormatError(path, root.offset, f"AEDAT4 description: root element <{root.tag}>, expected <dv>")
    out = root.find("node", name="outInfo")
    if out is None:
        raise FormatError(path, root.offset, "AEDAT4 description: no <node name=\"outInfo\"> listing the streams")
    streams: dict[int, dict] = {}
    for node in out.children:
        if node.tag != "node":
            continue
        name = node.attrs.get("name", "")
        if not _DIGITS.fullmatch(name) or int(name) > 0xFFFFFFFF:
            raise FormatError(path, node.offset, f"AEDAT4 description: stream id {name!r} is not an unsigned integer")
        ident = node.find("attr", key="typeIdentifier")
        if ident is None or ident.text not in STREAM_TYPES:
            got = "none" if ident is None else repr(ident.text)
            raise FormatError(path, node.offset if ident is None else ident.offset,
                              f"AEDAT4 description: stream {name} has typeIdentifier {got}; expected one of "
                              f"{', '.join(STREAM_TYPES)}")
        kind = STREAM_TYPES[ident.text]
        entry = {"type": kind}
        if kind in ("events", "frame"):
            info = node.find("node", name="info")
            if info is None:
                raise FormatError(path, node.offset, f"AEDAT4 description: stream {name} has no <node name=\"info\">")
            for key, dim in (("sizeX", "width"), ("sizeY", "height")):
                a = info.find("attr", key=key)
                if a is None or not _DIGITS.fullmatch(a.text) or int(a.text) > 0xFFFF:
                    raise FormatError(path, info.offset if a is None else a.offset,
                                      f"AEDAT4 description: stream {name} {key} "
                                      f"{'missing' if a is None else repr(a.text)}; expected an integer 0..65535")
                entry[dim] = int(a.text)
        if int(name) in streams:
            raise FormatError(path, node.offset, f"AEDAT4 description: stream id {name} is declared twice")
        streams[int(name)] = entry
    if not streams:
        raise FormatError(path, out.offset, "AEDAT4 description: no stream declared")
    return streams


# ----------------------------------------------------------------------------- the whole layout
def check_aedat4(path) -> Aedat4Layout:
    """Check an AEDAT 4.0 file's header, stream description and packet table (see the module docstring);
    raises :class:`FormatError` naming the file and the byte offset of the first problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
        f = open(path, "rb")
    except OSError as e:
        raise FormatError(path, None, f"cannot open the file ({e.strerror or e})") from e
    with f:
        head = f.read(len(FULL_MAGIC) + 4)
        if head[:len(FULL_MAGIC)] != FULL_MAGIC:
            at = next((i for i, (a, b) in enumerate(zip(head, FULL_MAGIC)) if a != b), len(head))
            raise FormatError(path, at, "expected the AEDAT 4.0 magic '#!AER-DAT4.0\\r\\n'")
        if len(head) < len(FULL_MAGIC) + 4:
            raise FormatError(path, len(FULL_MAGIC), "the file ends inside the header length")
        base = len(FULL_MAGIC) + 4
        hlen = struct.unpack_from("<I", head, len(FULL_MAGIC))[0]
        if base + hlen > size:
            raise FormatError(path, len(FULL_MAGIC), f"header length {hlen} runs past the end of the file "
                                                     f"({size} bytes)")
        compression, data_table, text, text_at = _ioheader(path, f.read(hlen), base)
        streams = _streams(path, _parse_xml(path, text, text_at), text_at)
        pos = base + hlen
        if data_table != -1 and not pos <= data_table <= size:
            raise FormatError(path, base, f"AEDAT4 header: data table position {data_table} lies outside the "
                                          f"packets ({pos}..{size})")
        end = size if data_table == -1 else data_table
        where = "the end of the file" if data_table == -1 else f"the data table at byte {data_table}"
        packets = []
        while pos < end:
            if pos + 8 > end:
                raise FormatError(path, pos, f"packet header cut off by {where}")
            f.seek(pos)
            sid, n = struct.unpack("<II", f.read(8))
            if sid not in streams:
                raise FormatError(path, pos, f"packet of stream {sid}, which the header does not declare "
                                             f"(declared: {sorted(streams)})")
            if n == 0 or pos + 8 + n > end:
                raise FormatError(path, pos + 4, f"packet size {n} " + ("is empty" if n == 0 else f"runs past {where}"))
            packets.append((pos, sid, n))
            pos += 8 + n
    return Aedat4Layout(streams, compression, data_table, tuple(packets))


def _is_panic(e: BaseException) -> bool:
    return type(e).__name__ == "PanicException"


def _decoder(path, offset: int | None = None):
    try:
        import aedat
    except ImportError as e:  # pragma: no cover - aedat is a declared dependency
        raise FormatError(path, 0, "reading AEDAT4 needs the 'aedat' package") from e
    try:
        return aedat.Decoder(os.fspath(path))
    except _PASS_THROUGH:
        raise
    except BaseException as e:  # the Rust decoder raises RuntimeError/OSError, or panics
        if not isinstance(e, Exception) and not _is_panic(e):
            raise
        raise FormatError(path, offset, f"expected a valid AEDAT 4.0 file: {e}") from None


def aedat4_info(path) -> tuple[int, tuple[int, int]]:
    """``(stream_id, (W, H))`` of the first events stream (the file's layout is checked first)."""
    return check_aedat4(path).events_stream(path)


def iter_aedat4(path, sensor_size=None):
    """Yield ``(x int16, y int16, t int64 us, p int8 0/1)`` column tuples, one per events packet."""
    layout = check_aedat4(path)
    sid, size = layout.events_stream(path)
    size = tuple(sensor_size) if sensor_size is not None else size
    dec = _decoder(path, len(FULL_MAGIC))
    packets = layout.packets
    k = 0
    while True:
        at = packets[k][0] if k < len(packets) else None
        try:
            packet = next(dec)
        except StopIteration:
            break
        except _PASS_THROUGH:
            raise
        except BaseException as e:
            if not isinstance(e, Exception) and not _is_panic(e):
                raise
            raise FormatError(path, at, f"expected a valid AEDAT 4.0 packet: {e}") from None
        if at is None or packet.get("stream_id") != packets[k][1]:
            raise FormatError(path, at, "the decoder's packets do not follow the file's packet table")
        k += 1
        if packet.get("stream_id") != sid or "events" not in packet:
            continue
        ev = packet["events"]
        names = ev.dtype.names
        pol = ev["on"] if "on" in names else ev["p"]
        if ev.size and (int(ev["x"].max()) >= size[0] or int(ev["y"].max()) >= size[1]):
            raise FormatError(path, at, f"AEDAT4 events outside the declared sensor (W={size[0]}, H={size[1]})")
        yield ev["x"].astype(np.int16), ev["y"].astype(np.int16), ev["t"].astype(np.int64), pol.astype(np.int8)
    if k != len(packets):
        raise FormatError(path, packets[k][0], f"the decoder stopped after {k} of {len(packets)} packets")


# ----------------------------------------------------------------------------- writing
#: One ``Event`` struct of iniVation's ``events.fbs`` (``t int64, x int16, y int16, on bool``), padded to 16 bytes.
EVENT_STRUCT = np.dtype({"names": ["t", "x", "y", "on"], "formats": ["<i8", "<i2", "<i2", "u1"],
                         "offsets": [0, 8, 10, 12], "itemsize": 16})
#: Most events per packet written by :func:`encode_aedat4_packets`.
PACKET_EVENTS = 1 << 16


def _description(sensor_size) -> bytes:
    w, h = int(sensor_size[0]), int(sensor_size[1])
    return (
        '<dv version="2.0">\n'
        '    <node name="outInfo" path="/mainloop/Recorder/outInfo/">\n'
        '        <node name="0" path="/mainloop/Recorder/outInfo/0/">\n'
        '            <attr key="compression" type="string">NONE</attr>\n'
        '            <attr key="originalModuleName" type="string">nvlib</attr>\n'
        '            <attr key="originalOutputName" type="string">events</attr>\n'
        '            <attr key="typeDescription" type="string">Array of events (polarity ON/OFF).</attr>\n'
        '            <attr key="typeIdentifier" type="string">EVTS</attr>\n'
        '            <node name="info" path="/mainloop/Recorder/outInfo/0/info/">\n'
        f'                <attr key="sizeX" type="int">{w}</attr>\n'
        f'                <attr key="sizeY" type="int">{h}</attr>\n'
        '                <attr key="source" type="string">nvlib</attr>\n'
        '                <attr key="tsOffset" type="long">0</attr>\n'
        '            </node>\n'
        '        </node>\n'
        '    </node>\n'
        '</dv>\n').encode("ascii")


def header_bytes(sensor_size) -> bytes:
    """The AEDAT 4.0 file header: magic, length, and an ``IOHeader`` flatbuffer (identifier ``IOHE``:
    compression none, no data table, the XML description of one events stream 0 of ``(W, H)``)."""
    w, h = int(sensor_size[0]), int(sensor_size[1])
    if not (0 < w <= 0xFFFF and 0 < h <= 0xFFFF):
        raise ValueError(f"AEDAT4 sensor size must be 1..65535 per side, got {sensor_size}")
    text = _description(sensor_size)
    # [root uoffset][IOHE][vtable: 10 bytes][pad 6][table at 24: soffset, compression, pad-free int64, string uoffset]
    vtable = struct.pack("<5H", 10, 20, 4, 8, 16)
    table = struct.pack("<iiqI", 24 - 8, 0, -1, 4)
    body = struct.pack("<I", 24) + b"IOHE" + vtable + b"\0" * 6 + table
    body += struct.pack("<I", len(text)) + text + b"\0"
    body += b"\0" * (-len(body) % 4)
    return FULL_MAGIC + struct.pack("<I", len(body)) + body


def encode_aedat4_packets(x, y, t, p, stream_id: int = 0) -> bytes:
    """AEDAT 4.0 packets (uncompressed) of the events: ``[stream id u32][size u32][size-prefixed
    EventPacket flatbuffer, identifier EVTS]``, at most :data:`PACKET_EVENTS` events each."""
    n = int(np.shape(t)[0])
    out = []
    for lo in range(0, n, PACKET_EVENTS):
        hi = min(n, lo + PACKET_EVENTS)
        ev = np.zeros(hi - lo, EVENT_STRUCT)
        ev["t"], ev["x"], ev["y"], ev["on"] = t[lo:hi], x[lo:hi], y[lo:hi], p[lo:hi]
        # after the size prefix: [root uoffset 16][EVTS][vtable: 6 bytes + 2 pad][table at 16: soffset 8,
        # vector uoffset 4][vector at 24: length, then the structs at 28, 8-aligned counting the prefix]
        fb = (struct.pack("<I", 16) + b"EVTS" + struct.pack("<3H", 6, 8, 4) + b"\0\0"
              + struct.pack("<iI", 8, 4) + struct.pack("<I", hi - lo))
        buf = struct.pack("<I", len(fb) + ev.nbytes) + fb + ev.tobytes()
        out.append(struct.pack("<II", stream_id, len(buf)) + buf)
    return b"".join(out)
