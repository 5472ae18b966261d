"""Event writers: whole-stream functions and chunk-by-chunk :func:`open_writer`.

Every writer is atomic (:func:`nvlib.workbook.atomic.atomic_path`): it writes a temporary
file beside the target and renames it into place on close; on an exception the
temporary file is removed and no partial output remains.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nvlib.workbook.atomic import atomic_path
from nvlib.events import EVENT_DTYPE, Events
from nvlib.io import aedat4 as _aedat4
from nvlib.io import dat as _dat
from nvlib.io import evt2 as _evt2
from nvlib.io import evt3 as _evt3
from nvlib.io import v2e_formats as _v2e
from nvlib.io.cache import CacheSpool

FORMATS = ("evt3", "evt2", "dat", "aedat4", "v2e_h5", "v2e_text", "cache")


def _as_array(events, sensor_size) -> np.ndarray:
    if isinstance(events, Events):
        if tuple(events.sensor_size) != tuple(sensor_size):
            raise ValueError(f"events of sensor size {events.sensor_size} written to a {tuple(sensor_size)} file")
        return events.array
    arr = np.asarray(events)
    if arr.dtype != EVENT_DTYPE:
        raise TypeError(f"expected Events or an array of dtype {EVENT_DTYPE}, got {arr.dtype}")
    return arr


class EventWriter:
    """Append event chunks to one file of a given format; use as a context manager.

    ``write(chunk)`` takes :class:`~nvlib.events.Events` (or an ``EVENT_DTYPE``
    array) of the writer's sensor; ``close()`` renames the file into place. EVT
    formats need non-decreasing timestamps across all chunks.
    """

    def __init__(self, path, format: str, sensor_size, *, compress: bool = False):
        if format not in FORMATS:
            raise ValueError(f"unknown event file format {format!r}; expected one of {FORMATS}")
        self.path = Path(path)
        self.format = format
        self.sensor_size = (int(sensor_size[0]), int(sensor_size[1]))
        w, h = self.sensor_size
        if w <= 0 or h <= 0:
            raise ValueError(f"sensor_size must be positive, got {sensor_size}")
        if format in ("evt3", "evt2") and (w > 2048 or h > 2048):
            raise ValueError(f"{format.upper()} addresses 11-bit coordinates; sensor {self.sensor_size} is too large")
        if format == "dat" and (w > 1 << 14 or h > 1 << 14):
            raise ValueError(f"DAT addresses 14-bit coordinates; sensor {self.sensor_size} is too large")
        self.n_written = 0
        self._last_t = None
        self._state = None
        self._closed = False
        self._ctx = atomic_path(self.path)
        self._tmp = self._ctx.__enter__()
        try:
            self._open(compress)
        except BaseException as e:
            self._ctx.__exit__(type(e), e, e.__traceback__)
            raise

    def _open(self, compress):
        fmt = self.format
        if fmt == "v2e_h5":
            import h5py
            self._h5 = h5py.File(self._tmp, "w")
            self._h5.attrs["width"], self._h5.attrs["height"] = self.sensor_size
            self._ds = self._h5.create_dataset("events", shape=(0, 4), maxshape=(None, 4), dtype="uint32",
                                               chunks=(16384, 4), compression="gzip", compression_opts=1)
        elif fmt == "cache":
            self._spool = CacheSpool(self._tmp.parent, compress=compress)
        elif fmt == "v2e_text":
            self._fh = open(self._tmp, "w", encoding="ascii", newline="\n")
            self._fh.write(_v2e.text_header(self.sensor_size))
        else:
            self._fh = open(self._tmp, "wb")
            header = {"evt3": _evt3.header_bytes, "evt2": _evt2.header_bytes, "dat": _dat.header_bytes,
                      "aedat4": _aedat4.header_bytes}[fmt]
            self._fh.write(header(self.sensor_size))

    def write(self, events) -> None:
        """Append a chunk of events."""
        if self._closed:
            raise ValueError(f"{self.path}: writer is closed")
        arr = _as_array(events, self.sensor_size)
        if arr.shape[0] == 0:
            return
        x, y, t, p = arr["x"], arr["y"], arr["t"], arr["p"]
        w, h = self.sensor_size
        if x.min() < 0 or y.min() < 0 or x.max() >= w or y.max() >= h:
            raise ValueError(f"{self.path}: events outside the sensor (W={w}, H={h})")
        if p.min() < 0 or p.max() > 1:
            raise ValueError(f"{self.path}: polarities must be 0 or 1")
        fmt = self.format
        if fmt in ("evt3", "evt2", "v2e_h5", "v2e_text", "dat", "aedat4") and t.min() < 0:
            raise ValueError(f"{self.path}: {fmt} cannot store negative timestamps")
        if fmt in ("evt3", "evt2"):
            if (self._last_t is not None and t[0] < self._last_t) or np.any(t[1:] < t[:-1]):
                raise ValueError(f"{self.path}: {fmt.upper()} needs events sorted by time (non-decreasing t)")
            enc = _evt3.encode_evt3_words if fmt == "evt3" else _evt2.encode_evt2_words
            words, self._state = enc(x, y, t, p, self._state)
            self._fh.write(words.astype("<u2" if fmt == "evt3" else "<u4", copy=False).tobytes())
        elif fmt == "dat":
            self._fh.write(_dat.encode_dat_records(x, y, t, p))
        elif fmt == "aedat4":
            self._fh.write(_aedat4.encode_aedat4_packets(x, y, t, p))
        elif fmt == "v2e_h5":
            if t.max() >= 1 << 32:
                raise ValueError(f"{self.path}: v2e HDF5 stores uint32 microseconds; t={int(t.max())} is too large")
            n0 = self._ds.shape[0]
            self._ds.resize(n0 + arr.shape[0], axis=0)
            self._ds[n0:] = np.stack([t, x, y, p], axis=1).astype(np.uint32)
        elif fmt == "v2e_text":
            self._fh.write(_v2e.format_text_lines(x, y, t, p))
        else:
            self._spool.write(arr)
        self._last_t = int(t[-1]) if self._last_t is None else max(self._last_t, int(t.max()))
        self.n_written += int(arr.shape[0])

    def _close_sinks(self):
        if self.format == "v2e_h5":
            self._h5.close()
        elif self.format != "cache":
            self._fh.close()

    def close(self) -> Path:
        """Finish the file and rename it into place; returns the final path."""
        if self._closed:
            return self.path
        self._closed = True
        try:
            if self.format == "cache":
                self._spool.finish(self._tmp, self.sensor_size)
            self._close_sinks()
        except BaseException as e:
            self._ctx.__exit__(type(e), e, e.__traceback__)
            raise
        self._ctx.__exit__(None, None, None)
        return self.path

    def abort(self) -> None:
        """Discard everything written; leaves no file."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.format == "cache":
                self._spool.close()
            self._close_sinks()
        finally:
            err = RuntimeError("writer aborted")
            try:
                self._ctx.__exit__(RuntimeError, err, None)
            except RuntimeError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


def open_writer(path, format: str, sensor_size, **options) -> EventWriter:
    """A streaming writer for ``format`` in ``("evt3", "evt2", "dat", "aedat4", "v2e_h5", "v2e_text", "cache")``.

    ``options``: ``compress=True`` for zlib-compressed cache columns.
    """
    return EventWriter(path, format, sensor_size, **options)


def _write_all(path, events: Events, format: str, **options) -> Path:
    with open_writer(path, format, events.sensor_size, **options) as w:
        w.write(events)
    return Path(path)


def write_evt3(path, events: Events) -> Path:
    """Write a Prophesee EVT 3.0 ``.raw`` file (new-style header; events sorted by t)."""
    return _write_all(path, events, "evt3")


def write_evt2(path, events: Events) -> Path:
    """Write a Prophesee EVT 2.0 ``.raw`` file (new-style header; events sorted by t)."""
    return _write_all(path, events, "evt2")


def write_dat(path, events: Events) -> Path:
    """Write a legacy Prophesee DAT file (event type 12, uint32 microsecond timestamps)."""
    return _write_all(path, events, "dat")


def write_aedat4(path, events: Events) -> Path:
    """Write an iniVation AEDAT 4.0 file: one events stream of the events' sensor size, uncompressed
    packets (read back by the ``aedat`` package and :func:`nvlib.io.read_events`)."""
    return _write_all(path, events, "aedat4")


def write_v2e_h5(path, events: Events) -> Path:
    """Write v2e's HDF5 layout: dataset ``events`` (N, 4) uint32 ``[t_us, x, y, p]``."""
    return _write_all(path, events, "v2e_h5")


def write_v2e_text(path, events: Events) -> Path:
    """Write v2e's text layout: ``t x y p`` lines, t in seconds (6 decimals)."""
    return _write_all(path, events, "v2e_text")


def write_cache(path, events: Events, *, compress: bool = False) -> Path:
    """Write the project cache (see :mod:`nvlib.io.cache`); exact round trip with :func:`read_cache`."""
    return _write_all(path, events, "cache", compress=compress)
