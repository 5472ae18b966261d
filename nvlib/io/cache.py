"""The project's event cache: one file, columns stored separately, exact round trip.

Layout (little-endian)::

    b"NVLIBEVC"  uint32 version (1)  uint32 header_len  JSON header  zero padding
    column x | column y | column t | column p        (each at a 64-byte-aligned offset)

The JSON header holds ``n``, ``sensor_size`` and, per column, ``dtype``, ``offset``,
``nbytes`` and ``codec``: ``"raw"`` (memory-mappable with :func:`numpy.memmap`) or
``"zlib"`` (deflate; ``t`` is delta-encoded first). Raw columns are the default:
reading maps the file and copies the columns into one :data:`~nvlib.events.EVENT_DTYPE`
array (``bench/io.py`` times it against decoding the ``.raw`` file: ``bench/RESULTS.md``).

Column dtypes are the file format's own (:data:`DISK_DTYPES`: ``x``, ``y`` ``<i2``, ``t``
``<i8`` microseconds, ``p`` ``|u1`` 0/1), not the in-memory ``EVENT_DTYPE`` (whose ``p`` is
int8); a reader casts whatever dtype the header names into ``EVENT_DTYPE``.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np

from nvlib.events import Events, pack_columns
from nvlib.io.errors import FormatError

MAGIC = b"NVLIBEVC"
VERSION = 1
ALIGN = 64
COLUMNS = ("x", "y", "t", "p")
DISK_DTYPES = {"x": np.dtype("<i2"), "y": np.dtype("<i2"), "t": np.dtype("<i8"), "p": np.dtype("|u1")}
"""Column dtypes written to new cache files (the format's, not the in-memory event dtype's)."""


class CacheSpool:
    """Column spools for a cache being written chunk by chunk (bounded memory)."""

    def __init__(self, directory, compress: bool = False):
        self.compress = compress
        self.n = 0
        self.files = {c: tempfile.TemporaryFile(dir=directory) for c in COLUMNS}
        self.zs = {c: zlib.compressobj(1) for c in COLUMNS} if compress else None
        self.last_t = 0

    def write(self, arr: np.ndarray) -> None:
        for c in COLUMNS:
            col = np.ascontiguousarray(arr[c], dtype=DISK_DTYPES[c])
            if self.compress and c == "t" and col.size:
                d = np.diff(col, prepend=np.int64(self.last_t))
                self.last_t = int(col[-1])
                col = d
            data = col.tobytes()
            self.files[c].write(self.zs[c].compress(data) if self.compress else data)
        self.n += int(arr.shape[0])

    def finish(self, path: Path, sensor_size) -> None:
        """Write the cache file at ``path`` (an already temporary name) and close the spools."""
        try:
            sizes = {}
            for c in COLUMNS:
                if self.compress:
                    self.files[c].write(self.zs[c].flush())
                sizes[c] = self.files[c].tell()
            cols, off = {}, 0
            for c in COLUMNS:
                cols[c] = {"dtype": DISK_DTYPES[c].str, "offset": off, "nbytes": sizes[c],
                           "codec": "zlib" if self.compress else "raw"}
                off += -(-sizes[c] // ALIGN) * ALIGN
            header = {"n": self.n, "sensor_size": [int(sensor_size[0]), int(sensor_size[1])], "columns": cols,
                      "t_delta": bool(self.compress)}
            hb = json.dumps(header, sort_keys=True).encode("utf-8")
            # room for the ``data_start`` entry itself (at most 40 more bytes)
            header["data_start"] = -(-(16 + len(hb) + 40) // ALIGN) * ALIGN
            hb = json.dumps(header, sort_keys=True).encode("utf-8")
            with open(path, "wb") as f:
                f.write(MAGIC + struct.pack("<II", VERSION, len(hb)) + hb)
                for c in COLUMNS:
                    f.write(b"\0" * (header["data_start"] + cols[c]["offset"] - f.tell()))
                    self.files[c].seek(0)
                    shutil.copyfileobj(self.files[c], f, 1 << 22)
                f.write(b"\0" * (-f.tell() % ALIGN))
        finally:
            self.close()

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()


def read_cache_header(path) -> dict:
    """The JSON header of a cache file (raises FormatError if it is not one)."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(16)
        if len(head) < 16 or head[:8] != MAGIC:
            raise FormatError(path, 0, f"expected the nvlib cache magic {MAGIC!r}, found {head[:8]!r}")
        version, hlen = struct.unpack("<II", head[8:])
        if version != VERSION:
            raise FormatError(path, 8, f"expected cache version {VERSION}, found {version}")
        hb = f.read(hlen)
    try:
        header = json.loads(hb.decode("utf-8"))
        n = int(header["n"])
        size = os.path.getsize(path)
        for c in COLUMNS:
            col = header["columns"][c]
            end = header["data_start"] + col["offset"] + col["nbytes"]
            if end > size:
                raise FormatError(path, size, f"column {c!r} ends at byte {end}: the file is truncated")
            if col["codec"] == "raw" and col["nbytes"] != n * np.dtype(col["dtype"]).itemsize:
                raise FormatError(path, 16, f"column {c!r} holds {col['nbytes']} bytes, expected {n} values")
    except FormatError:
        raise
    except (ValueError, KeyError, TypeError) as e:
        raise FormatError(path, 16, f"expected a JSON cache header: {e}") from e
    return header


def read_cache_columns(path, mmap: bool = True) -> tuple[dict, tuple]:
    """The columns of a cache as arrays (memory maps for raw columns when ``mmap``) and ``(W, H)``."""
    path = Path(path)
    header = read_cache_header(path)
    n = int(header["n"])
    out = {}
    for c in COLUMNS:
        col = header["columns"][c]
        dt = np.dtype(col["dtype"])
        off = header["data_start"] + col["offset"]
        if col["codec"] == "raw":
            if n == 0:
                out[c] = np.empty(0, dt)
            elif mmap:
                out[c] = np.memmap(path, dtype=dt, mode="r", offset=off, shape=(n,))
            else:
                with open(path, "rb") as f:
                    f.seek(off)
                    out[c] = np.fromfile(f, dtype=dt, count=n)
        elif col["codec"] == "zlib":
            with open(path, "rb") as f:
                f.seek(off)
                raw = f.read(col["nbytes"])
            try:
                arr = np.frombuffer(zlib.decompress(raw), dtype=dt)
            except zlib.error as e:
                raise FormatError(path, off, f"column {c!r}: expected a zlib stream: {e}") from e
            if arr.size != n:
                raise FormatError(path, off, f"column {c!r} decompresses to {arr.size} values, expected {n}")
            if c == "t" and header.get("t_delta"):
                arr = np.cumsum(arr, dtype=np.int64)
            out[c] = arr
        else:
            raise FormatError(path, 16, f"column {c!r}: unknown codec {col['codec']!r}")
    return out, tuple(header["sensor_size"])


def read_cache(path, mmap: bool = True) -> Events:
    """Read a cache written by :func:`write_cache` (exact round trip)."""
    cols, size = read_cache_columns(path, mmap=mmap)
    return Events(pack_columns(*(cols[c] for c in COLUMNS)), size)
