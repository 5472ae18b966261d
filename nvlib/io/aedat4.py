"""iniVation AEDAT 4.0 files, read through the ``aedat`` package (MIT, Rust).

AEDAT4 (iniVation "AEDAT 4.0" format) is a sequence of LZ4/zstd-compressed
flatbuffer packets; the first ``events`` stream (lowest id) is read and its
width/height taken from the file's stream description. Packets are yielded one
by one, so :func:`iter_aedat4` streams with bounded memory.
"""
from __future__ import annotations

import os

import numpy as np

from nvlib.io.errors import FormatError

MAGIC = b"#!AER-DAT4.0"


def _decoder(path):
    try:
        import aedat
    except ImportError as e:  # pragma: no cover - aedat is a declared dependency
        raise FormatError(path, 0, "reading AEDAT4 needs the 'aedat' package") from e
    try:
        return aedat.Decoder(os.fspath(path))
    except Exception as e:  # the Rust decoder raises plain RuntimeError/OSError
        raise FormatError(path, None, f"expected a valid AEDAT 4.0 file: {e}") from e


def aedat4_info(path) -> tuple[int, tuple[int, int]]:
    """``(stream_id, (W, H))`` of the first events stream."""
    dec = _decoder(path)
    streams = {k: v for k, v in dec.id_to_stream().items() if v.get("type") == "events"}
    if not streams:
        raise FormatError(path, None, "expected an AEDAT 4.0 'events' stream, found none")
    sid = min(streams)
    return sid, (int(streams[sid]["width"]), int(streams[sid]["height"]))


def iter_aedat4(path, sensor_size=None):
    """Yield ``(x int16, y int16, t int64 us, p int8 0/1)`` column tuples, one per events packet."""
    sid, size = aedat4_info(path)
    size = tuple(sensor_size) if sensor_size is not None else size
    dec = _decoder(path)
    try:
        for packet in dec:
            if packet.get("stream_id") != sid or "events" not in packet:
                continue
            ev = packet["events"]
            names = ev.dtype.names
            pol = ev["on"] if "on" in names else ev["p"]
            x = ev["x"].astype(np.int16)
            y = ev["y"].astype(np.int16)
            if x.size and (int(ev["x"].max()) >= size[0] or int(ev["y"].max()) >= size[1]):
                raise FormatError(path, None, f"AEDAT4 events outside the declared sensor (W={size[0]}, H={size[1]})")
            yield x, y, ev["t"].astype(np.int64), pol.astype(np.int8)
    except FormatError:
        raise
    except Exception as e:
        raise FormatError(path, None, f"expected a valid AEDAT 4.0 packet stream: {e}") from e
