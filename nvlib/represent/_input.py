"""Input checks shared by every representation: one place that turns an event stream into columns.

Every public function accepts :class:`nvlib.events.Events` or a tonic-style structured array with fields
``x, y, t, p`` and a ``sensor_size`` of ``(W, H)`` (a tonic ``(W, H, P)`` triple is accepted; ``P`` is
ignored); ``np.asarray(events)`` is such an array. Unsorted timestamps are sorted (a stable copy; the caller's
array is never modified), so results never depend on the input order. Coordinates outside the sensor and,
where a representation reads them, polarities other than 0 and 1 (any integer or bool dtype; a tonic-style
-1 included) raise ``ValueError``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nvlib.events import EVENT_DTYPE, Events

MAX_BITS = 16
POLARITY_DTYPE = EVENT_DTYPE["p"]  # int8: Columns.p holds 0/1 in the event records' own type


@dataclass(frozen=True)
class Columns:
    """Validated, time-sorted, contiguous event columns on a ``(W, H)`` sensor.

    ``pix`` is the flat pixel index ``y*W + x`` (``np.intp``); ``p`` is the polarity (int8, 0 = OFF, 1 = ON, the
    type of :data:`~nvlib.events.EVENT_DTYPE`'s ``p``).
    """

    t: np.ndarray
    pix: np.ndarray
    p: np.ndarray
    width: int
    height: int

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def pixel_index(self, polarity: bool = False) -> np.ndarray:
        """Flat index ``y*W + x``, plus ``p*H*W`` with ``polarity`` (channel = polarity)."""
        if not polarity:
            return self.pix
        return self.pix + self.p.astype(np.intp) * (self.width * self.height)

    def __getitem__(self, sl: slice) -> "Columns":
        return Columns(self.t[sl], self.pix[sl], self.p[sl], self.width, self.height)


def sensor_wh(sensor_size, events=None, name: str = "sensor_size") -> tuple[int, int]:
    """``(W, H)`` from a ``(W, H)`` or tonic ``(W, H, P)`` size; ``None`` takes the size of ``events``."""
    if sensor_size is None:
        if isinstance(events, Events):
            return events.sensor_size
        raise ValueError(f"{name} is required for a structured event array (give (W, H))")
    try:
        size = tuple(int(s) for s in sensor_size)
    except TypeError as exc:
        raise ValueError(f"{name} must be (W, H), got {sensor_size!r}") from exc
    if len(size) not in (2, 3) or size[0] <= 0 or size[1] <= 0:
        raise ValueError(f"{name} must be (W, H) with positive entries, got {sensor_size!r}")
    return size[0], size[1]


_CHUNK = 1 << 16  # events per validation chunk: temporaries stay in cache


def _bad_event(col: np.ndarray, lim: int, offset: int, axis: str, w: int, h: int, name: str) -> ValueError:
    i = int(np.argmax((col < 0) | (col >= lim)))
    return ValueError(f"{name}: event {offset + i} has {axis}={int(col[i])} outside the sensor of size "
                      f"(W={w}, H={h})")


def columns(events, sensor_size, name: str = "events", polarity: bool = True) -> Columns:
    """Validate ``events`` against ``sensor_size`` and return time-sorted, contiguous :class:`Columns`.

    Field views of a structured array are strided, so the columns are read in cache-sized chunks, each
    checked (coordinates inside the sensor, timestamps non-decreasing) while it is turned into the flat
    pixel index. Polarities are read and checked (0 or 1) only with ``polarity`` (representations that
    ignore polarity get zeros).
    """
    w, h = sensor_wh(sensor_size, events)
    arr = events.array if isinstance(events, Events) else events
    if not isinstance(arr, np.ndarray) or arr.dtype.names is None or not {"x", "y", "t"} <= set(arr.dtype.names):
        raise TypeError(
            f"{name}: expected nvlib.events.Events or a structured array with fields x, y, t[, p]; "
            f"got {type(events).__name__}"
        )
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d event array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype["t"], np.integer):
        raise TypeError(f"{name}: timestamps must be integer microseconds, got dtype {arr.dtype['t']}")
    n = arr.shape[0]
    t = np.empty(n, np.int64)
    pix = np.empty(n, np.intp)
    xs, ys, ts = arr["x"], arr["y"], arr["t"]
    ordered = True
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        x, y, tc = np.ascontiguousarray(xs[a:b]), np.ascontiguousarray(ys[a:b]), t[a:b]
        tc[...] = ts[a:b]
        if int(x.min()) < 0 or int(x.max()) >= w:
            raise _bad_event(x, w, a, "x", w, h, name)
        if int(y.min()) < 0 or int(y.max()) >= h:
            raise _bad_event(y, h, a, "y", w, h, name)
        if ordered and (bool(np.any(tc[1:] < tc[:-1])) or (a and t[a - 1] > tc[0])):
            ordered = False
        row = pix[a:b]
        np.multiply(y, w, out=row, dtype=np.intp)
        row += x
    if polarity and "p" in arr.dtype.names:
        p = np.ascontiguousarray(arr["p"])
        if n and (p.dtype != POLARITY_DTYPE or int(p.view(np.uint8).max()) > 1):  # int8 -1 reads as 255
            if int(p.min()) < 0 or int(p.max()) > 1:
                i = int(np.argmax((p < 0) | (p > 1)))
                raise ValueError(f"{name}: event {i} has polarity {int(p[i])}; expected 0 or 1")
            p = p.astype(POLARITY_DTYPE)
    else:
        p = np.zeros(n, POLARITY_DTYPE)
    if not ordered:
        order = np.argsort(t, kind="stable")
        t, pix, p = t[order], pix[order], p[order]
    return Columns(t, pix, p, w, h)


def check_delta_t(delta_t_us, name: str = "delta_t_us") -> int:
    """A positive integer window length in microseconds."""
    if isinstance(delta_t_us, bool) or not float(delta_t_us).is_integer() or delta_t_us <= 0:
        raise ValueError(f"{name} must be a positive whole number of microseconds, got {delta_t_us!r}")
    return int(delta_t_us)


def check_bits(n_bits) -> int:
    """TBR word length ``N`` in 1..16."""
    if isinstance(n_bits, bool) or int(n_bits) != n_bits or not 1 <= int(n_bits) <= MAX_BITS:
        raise ValueError(f"n_bits must be an integer in 1..{MAX_BITS}, got {n_bits!r}")
    return int(n_bits)


def check_count(n, name: str) -> int:
    """A non-negative integer count."""
    if isinstance(n, bool) or int(n) != n or int(n) < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {n!r}")
    return int(n)


def check_positive(n, name: str) -> int:
    """A positive integer (a count of windows, threads, ...)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or int(n) < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)
