"""Event histograms (counts per polarity and time window) and the event-count image.

Counts follow tonic's ``ToFrame`` layout: channel 0 = OFF (p = 0), channel 1 = ON (p = 1), frame i covers
``[t0 + i*Δt, t0 + (i+1)*Δt)``. With numba, compiled passes read the event fields in place, check them
(coordinates, polarity, time order) and add each event to its bin; without it (or for unsorted input),
counting is sort-based (numpy's SIMD sort of one flat key per event, then run lengths). Both equal
``np.add.at``.
"""
from __future__ import annotations

import numpy as np

from nvlib.represent import _compiled
from nvlib.represent._input import check_delta_t, columns
from nvlib.represent.tbr import window_starts


def _count_into(out: np.ndarray, keys: np.ndarray) -> None:
    """Add the counts of ``keys`` (flat indices into ``out``, which is zero there) by sort + run lengths."""
    if keys.size == 0:
        return
    keys = np.sort(keys)
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    counts = np.diff(np.append(starts, keys.size))
    if np.issubdtype(out.dtype, np.integer) and counts.max() > np.iinfo(out.dtype).max:
        raise ValueError(f"a pixel holds {int(counts.max())} events, more than dtype {out.dtype} can count")
    out[keys[starts]] = counts


def _count_keys(keys: np.ndarray, size: int, dtype) -> np.ndarray:
    """Counts of each key in ``[0, size)`` as a flat array of ``dtype``."""
    out = np.zeros(size, dtype)
    _count_into(out, keys.astype(np.int32) if size < 2**31 else keys)
    return out


def histogram(events, sensor_size=None, delta_t_us=5000, n_frames=None, start_us=None, dtype=np.int32) -> np.ndarray:
    """Event counts per polarity in consecutive windows: ``(n_frames, 2, H, W)`` of ``dtype``.

    Window i covers ``[t0 + i*Δt, t0 + (i+1)*Δt)``, ``t0 = start_us`` or the first event time; without
    ``n_frames`` enough windows to cover the last event (tonic's ``ToFrame(time_window=Δt)`` instead drops
    the incomplete last window unless ``include_incomplete``, and returns ``(n, P, W, H)``-ordered zeros for
    empty input; here empty input gives ``(n, 2, H, W)`` zeros). A count that ``dtype`` cannot hold raises.
    """
    dt = check_delta_t(delta_t_us)
    fast = _histogram_compiled(events, sensor_size, dt, n_frames, start_us, dtype)
    if fast is not None:
        return fast
    cols = columns(events, sensor_size)
    t_first = int(cols.t[0]) if len(cols) else None
    t_last = int(cols.t[-1]) if len(cols) else None
    starts = window_starts(t_first, t_last, dt, start_us, n_frames)
    n, plane = starts.shape[0], 2 * cols.width * cols.height
    out = np.zeros((n, plane), dtype)
    if n and len(cols):
        edges = np.searchsorted(cols.t, np.append(starts, starts[-1] + dt), side="left")
        a, b = int(edges[0]), int(edges[-1])
        chan = cols.pixel_index(polarity=True)
        key_type = np.int32 if plane < 2**31 else np.int64
        if n * 64 <= b - a:
            # windows are contiguous runs of the time-sorted events: one cache-sized sort per window
            for f in np.flatnonzero(np.diff(edges)).tolist():
                _count_into(out[f], chan[edges[f]:edges[f + 1]].astype(key_type))
        else:
            keys = (cols.t[a:b] - starts[0]) // dt
            keys *= plane
            keys += chan[a:b]
            _count_into(out.reshape(-1), keys)
    return out.reshape(n, 2, cols.height, cols.width)


def _histogram_compiled(events, sensor_size, dt, n_frames, start_us, dtype):
    """:func:`histogram` in one compiled pass over the fields, or None where the sort-based path must run
    (no numba, non-integer output, unsorted times: that path sorts) or should name a bad event."""
    dtype = np.dtype(dtype)
    f = _compiled.fields(events, sensor_size)
    if f is None or not np.issubdtype(dtype, np.integer):
        return None
    x, y, t, p, w, h = f
    n_ev = t.shape[0]
    starts = window_starts(int(t[0]) if n_ev else None, int(t[-1]) if n_ev else None, dt, start_us, n_frames)
    n = starts.shape[0]
    out = np.zeros(n * 2 * h * w, dtype)
    flags, i = _compiled.histogram_pass(x, y, t, p, w, h, int(starts[0]) if n else 0, dt, n, out,
                                        int(np.iinfo(dtype).max))
    if flags:
        return None
    if i >= 0:
        f, c, yy, xx = np.unravel_index(i, (n, 2, h, w))
        raise ValueError(f"pixel (x={xx}, y={yy}), polarity {c} of window {f} holds more events than dtype "
                         f"{dtype} can count")
    return out.reshape(n, 2, h, w)


def count_image(events, sensor_size=None, polarity=False, dtype=np.int32) -> np.ndarray:
    """Number of events at each pixel over the whole stream: ``(H, W)`` (``(2, H, W)`` with ``polarity``)."""
    cols = columns(events, sensor_size, polarity=polarity)
    c = 2 if polarity else 1
    counts = _count_keys(cols.pixel_index(polarity), c * cols.width * cols.height, dtype)
    return counts.reshape((2, cols.height, cols.width) if polarity else (cols.height, cols.width))
