"""The one event type every nvlib stage consumes.

Contract
--------
An event stream is a 1-d numpy structured array of dtype :data:`EVENT_DTYPE`, one packed 13-byte record
per event, with the fields, in this order:

* ``x``, ``y``: ``int16``, pixel column and row, ``0 <= x < W``, ``0 <= y < H``;
* ``t``: ``int64``, microseconds (the recording's own time base, not shifted to 0);
* ``p``: ``int8``, polarity, 0 = OFF (darker), 1 = ON (brighter); no other value is valid.

The field names, order and the ``x, y, t`` types are tonic's. ``p`` is signed so that code which rewrites
OFF events to -1 in place (tonic's ``ToVoxelGrid`` does) works on the array as it is; the values stored
are still 0 and 1. File formats keep their own polarity encodings: changing this in-memory type changes
no bytes on disk.

:class:`Events` carries that array with the sensor size ``(W, H)`` (tonic's order). It is a thin frozen
container, and it behaves like the structured array where numpy or tonic expect one:

* ``np.asarray(ev)`` is the records themselves (no copy, constant time) as a *read-only* view, so that
  third-party code that writes into its input cannot change ``ev`` behind its back; ``np.array(ev)``
  (or ``np.asarray(ev, copy=True)``) is a writable copy. Hand ``np.asarray(ev)`` to tonic's transforms.
* ``ev["t"]`` (also ``"x"``, ``"y"``, ``"p"``) is that column, a strided view of ``ev.array`` (the
  same array as the attribute ``ev.t``); ``ev.dtype`` is :data:`EVENT_DTYPE`.
* numpy functions take ``ev`` where they take an array: ``np.sort(ev, order="t")`` returns a sorted
  structured array.
* ``len(ev)``, slicing (``ev[10:20]``), boolean masks and integer index arrays return :class:`Events` of
  the same sensor; :meth:`Events.time_slice` cuts by time (half-open ``[t0, t1)``) and
  :func:`concatenate` joins streams of one sensor.

``ev.array`` remains the underlying writable array; writing into it changes the stream for everyone
holding ``ev``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

EVENT_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "i1")])
"""``x, y`` int16 pixels, ``t`` int64 microseconds, ``p`` int8 polarity in {0, 1}; 13 bytes, packed."""


def pack_columns(x, y, t, p, out: np.ndarray | None = None) -> np.ndarray:
    """Interleave column arrays into a structured (N,) array of :data:`EVENT_DTYPE`.

    Values are cast as numpy field assignment casts them (x, y to int16, t to int64, p to int8: bool
    becomes 0/1, out-of-range integers wrap); nothing is validated (see :meth:`Events.validate`).
    ``out`` (an EVENT_DTYPE array of length N) is filled in place.
    """
    x = np.asarray(x)
    n = x.shape[0]
    if out is None:
        out = np.empty(n, EVENT_DTYPE)
    elif out.dtype != EVENT_DTYPE or out.shape != (n,):
        raise ValueError(f"out must be an EVENT_DTYPE array of shape ({n},), got {out.dtype} {out.shape}")
    out["x"], out["y"], out["t"], out["p"] = x, y, t, p
    return out


def make_events(x, y, t, p, sensor_size: Sequence[int], *, check: bool = True) -> "Events":
    """Build :class:`Events` from column arrays (any integer or bool dtype; cast as :func:`pack_columns`).

    ``x, y`` are pixels, ``t`` microseconds, ``p`` 0 = OFF / 1 = ON; ``sensor_size`` is ``(W, H)``.
    With ``check`` (default) the coordinates are validated against the sensor and the polarities
    against {0, 1} (``ValueError`` otherwise; tonic-style -1 for OFF is refused, not mapped).
    """
    ev = Events(pack_columns(x, y, t, p), (int(sensor_size[0]), int(sensor_size[1])))
    if check:
        ev.validate()
    return ev


def empty_events(sensor_size: Sequence[int]) -> "Events":
    """A stream with no events on a ``(W, H)`` sensor."""
    return Events(np.empty(0, dtype=EVENT_DTYPE), (int(sensor_size[0]), int(sensor_size[1])))


@dataclass(frozen=True)
class Events:
    """A time-ordered event stream on one sensor.

    Attributes:
        array: structured array of dtype :data:`EVENT_DTYPE`, shape (N,) (see the module docstring for
            units and valid values).
        sensor_size: ``(W, H)`` in pixels, as tonic orders it.

    Numpy sees an ``Events`` as its records: ``np.asarray(ev)`` is a read-only view of ``array`` (no
    copy), ``np.array(ev)`` a writable copy, and ``ev["t"]`` one column.
    """

    array: np.ndarray
    sensor_size: tuple

    def __post_init__(self):
        if not isinstance(self.array, np.ndarray) or self.array.dtype != EVENT_DTYPE:
            got = getattr(self.array, "dtype", type(self.array))
            hint = ""
            if isinstance(self.array, np.ndarray) and self.array.dtype.names == EVENT_DTYPE.names:
                hint = " (same fields, other types: convert with arr.astype(nvlib.events.EVENT_DTYPE))"
            raise TypeError(f"Events.array must be a numpy array of dtype {EVENT_DTYPE}, got {got}{hint}")
        if len(self.sensor_size) != 2 or min(self.sensor_size) <= 0:
            raise ValueError(f"sensor_size must be (W, H) with positive entries, got {self.sensor_size}")
        object.__setattr__(self, "sensor_size", (int(self.sensor_size[0]), int(self.sensor_size[1])))

    # numpy interoperability ------------------------------------------------
    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """The records for numpy (``np.asarray``, ``np.sort``, tonic ...).

        Without ``dtype`` (or with :data:`EVENT_DTYPE`) and without ``copy=True``: a read-only view of
        :attr:`array`, sharing its memory. ``copy=True`` (``np.array(ev)``): a writable copy. Another
        ``dtype``: a converted copy (``copy=False`` then raises ``ValueError``).
        """
        if dtype is not None and np.dtype(dtype) != EVENT_DTYPE:
            if copy is False:
                raise ValueError(f"Events hold {EVENT_DTYPE} records; {np.dtype(dtype)} needs a copy")
            return self.array.astype(dtype)
        if copy:
            return self.array.copy()
        view = self.array.view()
        view.flags.writeable = False
        return view

    @property
    def dtype(self) -> np.dtype:
        """:data:`EVENT_DTYPE`, the dtype of :attr:`array`."""
        return self.array.dtype

    # column access -------------------------------------------------------
    @property
    def x(self) -> np.ndarray:
        """Pixel columns, int16 (a view of :attr:`array`)."""
        return self.array["x"]

    @property
    def y(self) -> np.ndarray:
        """Pixel rows, int16 (a view of :attr:`array`)."""
        return self.array["y"]

    @property
    def t(self) -> np.ndarray:
        """Timestamps, int64 microseconds (a view of :attr:`array`)."""
        return self.array["t"]

    @property
    def p(self) -> np.ndarray:
        """Polarities, int8, 0 = OFF, 1 = ON (a view of :attr:`array`)."""
        return self.array["p"]

    @property
    def width(self) -> int:
        return self.sensor_size[0]

    @property
    def height(self) -> int:
        return self.sensor_size[1]

    def __len__(self) -> int:
        return int(self.array.shape[0])

    def __getitem__(self, index):
        """A field name (``"x"``, ``"y"``, ``"t"``, ``"p"``): that column, a view of :attr:`array`.
        Anything else numpy accepts as a 1-d index (an integer, a slice, a boolean mask, an index array):
        the selected events as :class:`Events` of the same sensor (an integer gives one event)."""
        if isinstance(index, str):
            return self.array[index]
        sub = self.array[index]
        if sub.ndim == 0:
            sub = sub.reshape(1)
        return Events(sub, self.sensor_size)

    def __repr__(self) -> str:
        span = f", t=[{self.t[0]}, {self.t[-1]}] us" if len(self) else ""
        return f"Events(n={len(self)}, sensor_size={self.sensor_size}{span})"

    @property
    def duration_us(self) -> int:
        """Time from the first to the last event, in microseconds (0 when empty)."""
        return int(self.t[-1] - self.t[0]) if len(self) else 0

    # checks ----------------------------------------------------------------
    def is_sorted(self) -> bool:
        """True when timestamps never decrease."""
        t = self.t
        return bool(t.shape[0] < 2 or np.all(t[1:] >= t[:-1]))

    def validate(self, name: str = "events") -> "Events":
        """Raise ``ValueError`` naming ``name`` and the first bad event if a coordinate lies outside
        ``(W, H)`` or a polarity is not 0 or 1; returns ``self`` otherwise."""
        if len(self) == 0:
            return self
        w, h = self.sensor_size
        bad = (self.x < 0) | (self.x >= w) | (self.y < 0) | (self.y >= h)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{name}: event {i} at (x={int(self.x[i])}, y={int(self.y[i])}) lies outside the "
                f"sensor of size (W={w}, H={h})"
            )
        bad = (self.p < 0) | (self.p > 1)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{name}: event {i} has polarity {int(self.p[i])}; expected 0 or 1")
        return self

    # time ------------------------------------------------------------------
    def sorted(self) -> "Events":
        """A copy ordered by time (stable, so equal timestamps keep their order)."""
        if self.is_sorted():
            return self
        return Events(self.array[np.argsort(self.t, kind="stable")], self.sensor_size)

    def time_slice(self, t_start: int | None = None, t_end: int | None = None) -> "Events":
        """Events with ``t_start <= t < t_end`` (microseconds); needs sorted events."""
        t = self.t
        i0 = 0 if t_start is None else int(np.searchsorted(t, t_start, side="left"))
        i1 = len(self) if t_end is None else int(np.searchsorted(t, t_end, side="left"))
        return Events(self.array[i0:i1], self.sensor_size)

    def shift_time(self, offset_us: int) -> "Events":
        """A copy with ``offset_us`` added to every timestamp."""
        arr = self.array.copy()
        arr["t"] += offset_us
        return Events(arr, self.sensor_size)


def concatenate(streams: Iterable[Events]) -> Events:
    """Join streams recorded on one sensor, in the given order."""
    streams = list(streams)
    if not streams:
        raise ValueError("concatenate needs at least one Events stream")
    size = streams[0].sensor_size
    for s in streams[1:]:
        if s.sensor_size != size:
            raise ValueError(f"cannot concatenate streams of sensor sizes {size} and {s.sensor_size}")
    # as bytes: numpy copies packed records field by field, bytes at memory speed (bench/RESULTS.md)
    raw = np.concatenate([np.ascontiguousarray(s.array).view(np.uint8) for s in streams])
    return Events(raw.view(EVENT_DTYPE), size)
