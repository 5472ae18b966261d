"""v2e's outputs: HDF5 ``events`` dataset, text ``t x y p`` and jAER AEDAT-2.0.

- HDF5 (v2e ``--dvs_h5``): dataset ``events``, shape (N, 4) uint32, columns
  ``[t_us, x, y, p]`` with p in {0, 1}. nvlib adds ``width``/``height`` file attributes.
- Text (v2e ``--dvs_text``, RPG ``events.txt`` layout): one ``t x y p`` line per
  event, t in seconds, ``#`` comment lines; p 0/1 (or -1/1). nvlib writes t with
  exactly 6 decimals so microsecond timestamps round-trip exactly.
- AEDAT-2.0 (v2e ``--dvs_aedat2``, jAER): ``#`` header lines ending in CRLF, then
  big-endian int32 (address, timestamp us) pairs. For DAVIS sizes (346x260,
  240x180) ``address = y << 22 | x << 12 | p << 11``; for 640x480 (jAER DVS640)
  ``y << 11 | x << 1 | p``; v2e flips x and y (jAER's origin is lower left), which
  is undone here. Addresses with bit 31 set (APS samples) are skipped.
"""
from __future__ import annotations

import numpy as np

from nvlib.io.errors import FormatError

AEDAT2_LAYOUTS = {(346, 260): (22, 12, 11), (240, 180): (22, 12, 11), (640, 480): (11, 1, 0)}


def text_header(sensor_size) -> str:
    w, h = int(sensor_size[0]), int(sensor_size[1])
    return ("# Format is time (float s), x, y, polarity (0=off, 1=on) as in v2e's dvs_text output\n"
            f"# sensor width={w} height={h}\n")


def format_text_lines(x, y, t, p) -> str:
    """``t x y p`` lines, t in seconds with 6 decimals (exact for integer microseconds)."""
    t = np.asarray(t, np.int64)
    if t.size == 0:
        return ""
    if t.min() < 0:
        raise ValueError("v2e text timestamps must be non-negative")
    sec, us = np.divmod(t, 1_000_000)
    cols = np.stack([sec, us, np.asarray(x, np.int64), np.asarray(y, np.int64), np.asarray(p, np.int64)], axis=1)
    import io as _io
    buf = _io.StringIO()
    np.savetxt(buf, cols, fmt="%d.%06d %d %d %d")
    return buf.getvalue()


def parse_text_size(lines) -> tuple | None:
    """Geometry from a ``# ... width=W height=H`` comment, if any."""
    import re
    for line in lines:
        m = re.search(r"width\s*=\s*(\d+)\D+height\s*=\s*(\d+)", line)
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


def decode_aedat2(buf: bytes, sensor_size, path=None, offset: int = 0):
    """Decode AEDAT-2.0 big-endian (address, timestamp) pairs written by v2e."""
    size = tuple(int(v) for v in sensor_size)
    if size not in AEDAT2_LAYOUTS:
        raise FormatError(path, offset, f"expected a v2e AEDAT-2.0 sensor size among {sorted(AEDAT2_LAYOUTS)}, "
                          f"got {size}; pass sensor_size=")
    ys, xs, ps = AEDAT2_LAYOUTS[size]
    pairs = np.frombuffer(buf, dtype=">u4").reshape(-1, 2)
    addr = pairs[:, 0]
    dvs = (addr >> 31) == 0
    addr = addr[dvs]
    xmask = (1 << (ys - xs)) - 1
    x = (size[0] - 1) - ((addr >> xs) & xmask).astype(np.int64)
    y = (size[1] - 1) - ((addr >> ys) & 0x1FF if ys == 22 else (addr >> ys) & 0x3FF).astype(np.int64)
    p = ((addr >> ps) & 1).astype(np.int8)
    t = pairs[dvs, 1].astype(np.int32).astype(np.int64)
    bad = (x < 0) | (y < 0) | (x >= size[0]) | (y >= size[1])
    if bad.any():
        k = int(np.flatnonzero(dvs)[int(np.argmax(bad))])
        raise FormatError(path, offset + 8 * k, f"AEDAT-2.0 address 0x{int(pairs[k, 0]):08X} decodes outside the "
                          f"sensor (W={size[0]}, H={size[1]})")
    return x.astype(np.int16), y.astype(np.int16), t, p


def encode_aedat2(x, y, t, p, sensor_size) -> bytes:
    """AEDAT-2.0 records in v2e's layout (used to test the reader)."""
    size = tuple(int(v) for v in sensor_size)
    ys, xs, ps = AEDAT2_LAYOUTS[size]
    x = (size[0] - 1) - np.asarray(x, np.int64)
    y = (size[1] - 1) - np.asarray(y, np.int64)
    out = np.empty((x.size, 2), ">u4")
    out[:, 0] = (y << ys) | (x << xs) | (np.asarray(p, np.int64) << ps)
    out[:, 1] = np.asarray(t, np.int64)
    return out.tobytes()


def aedat2_header() -> bytes:
    return (b"#!AER-DAT2.0\r\n# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each "
            b"event\r\n# Timestamps tick is 1 us\r\n")
