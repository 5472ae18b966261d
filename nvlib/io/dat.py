"""Prophesee legacy ``*_cd.dat`` / ``*_td.dat`` files (ATIS, Gen1-3 era).

Layout (Prophesee "DAT file format"): ``% key value`` header lines, then two
bytes (event type: 0 = ATIS TD ``Event2d``, 12 = CD; event size: 8), then 8-byte
little-endian records: uint32 t (microseconds) and uint32 w with
``x = w & 0x3FFF``, ``y = (w >> 14) & 0x3FFF``, ``p = (w >> 28) & 1``.
Geometry comes from ``% Width``/``% Height`` (or ``% geometry WxH``) lines when present.
"""
from __future__ import annotations

import numpy as np

from nvlib.io.errors import FormatError

RECORD = np.dtype([("t", "<u4"), ("w", "<u4")])
VALID_TYPES = (0, 12)


def check_type_bytes(tb: bytes, path, offset: int) -> None:
    """Validate the (event type, event size) byte pair after the header."""
    if len(tb) < 2:
        raise FormatError(path, offset, "expected the 2-byte DAT event type/size after the header, found the end "
                          "of the file")
    if tb[0] not in VALID_TYPES or tb[1] != 8:
        raise FormatError(path, offset, f"expected DAT event type 0 or 12 and event size 8, found type {tb[0]} "
                          f"size {tb[1]}")


def decode_dat_records(buf: bytes, sensor_size, path=None, offset: int = 0):
    """Decode whole 8-byte records from ``buf``; returns ``(x int16, y int16, t int64, p int8)`` columns."""
    rec = np.frombuffer(buf, dtype=RECORD)
    w = rec["w"]
    x = (w & 0x3FFF).astype(np.int16)
    y = ((w >> 14) & 0x3FFF).astype(np.int16)
    p = ((w >> 28) & 1).astype(np.int8)
    t = rec["t"].astype(np.int64)
    if sensor_size is not None:
        width, height = sensor_size
        out = (x >= width) | (y >= height)
        if out.any():
            k = int(np.argmax(out))
            raise FormatError(path, offset + 8 * k, f"event at (x={int(x[k])}, y={int(y[k])}) lies outside the "
                              f"sensor geometry (W={width}, H={height})")
    return x, y, t, p


def encode_dat_records(x, y, t, p) -> bytes:
    """Encode event columns as DAT records (t must fit uint32, x and y 14 bits)."""
    t = np.asarray(t, np.int64)
    if t.size and (t.min() < 0 or t.max() >= 1 << 32):
        raise ValueError(f"DAT stores uint32 microsecond timestamps; got t in [{t.min()}, {t.max()}]")
    x = np.asarray(x, np.int64)
    y = np.asarray(y, np.int64)
    if x.size and (x.min() < 0 or y.min() < 0 or x.max() >= 1 << 14 or y.max() >= 1 << 14):
        raise ValueError("DAT stores 14-bit x and y coordinates")
    rec = np.empty(t.size, RECORD)
    rec["t"] = t
    rec["w"] = x.astype(np.uint32) | (y.astype(np.uint32) << 14) | (np.asarray(p, np.uint32) << 28)
    return rec.tobytes()


def header_bytes(sensor_size, ev_type: int = 12) -> bytes:
    """DAT header lines (with Width/Height) followed by the type and size bytes."""
    w, h = int(sensor_size[0]), int(sensor_size[1])
    return (f"% Data file containing CD events.\n% Version 2\n% Width {w}\n% Height {h}\n"
            f"% geometry {w}x{h}\n").encode("ascii") + bytes([ev_type, 8])
