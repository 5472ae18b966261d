"""Event histograms (counts per polarity and time window), whole or streamed a batch of windows at a time,
and the event-count image.

Counts follow tonic's ``ToFrame`` layout: channel 0 = OFF (p = 0), channel 1 = ON (p = 1), frame i covers
``[t0 + i*Δt, t0 + (i+1)*Δt)``. Counting is sort-based (numpy's sort of one flat key per event, then run
lengths) and equals ``np.add.at``.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from nvlib.events import Events
from nvlib.represent._input import check_delta_t, check_positive, columns
from nvlib.represent.windows import window_starts


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


def histogram(events, sensor_size=None, delta_t_us=5000, n_frames=None, start_us=None,
              dtype=np.int32) -> np.ndarray:
    """Event counts per polarity in consecutive windows: ``(n_frames, 2, H, W)`` of ``dtype``.

    Window i covers ``[t0 + i*Δt, t0 + (i+1)*Δt)``, ``t0 = start_us`` or the first event time; without
    ``n_frames`` enough windows to cover the last event (tonic's ``ToFrame(time_window=Δt)`` instead drops
    the incomplete last window unless ``include_incomplete``, and returns ``(n, P, W, H)``-ordered zeros for
    empty input; here empty input gives ``(n, 2, H, W)`` zeros). Unsorted events are sorted (a copy). A count
    that ``dtype`` cannot hold raises ``ValueError``.
    """
    dt = check_delta_t(delta_t_us)
    cols = columns(events, sensor_size)
    t_first = int(cols.t[0]) if len(cols) else None
    t_last = int(cols.t[-1]) if len(cols) else None
    return _histogram_sorted(cols, window_starts(t_first, t_last, dt, start_us, n_frames), dt, dtype)


def _histogram_sorted(cols, starts: np.ndarray, dt: int, dtype) -> np.ndarray:
    """Counts of validated, time-sorted ``cols`` in the windows ``[s, s + dt)``, ``s`` in ``starts`` (back to
    back), by one sort of the flat output index of every event inside them, then run lengths."""
    n, plane = starts.shape[0], 2 * cols.width * cols.height
    out = np.zeros((n, plane), dtype)
    if n and len(cols):
        a, b = np.searchsorted(cols.t, [starts[0], starts[-1] + dt], side="left")
        keys = (cols.t[a:b] - starts[0]) // dt
        keys *= plane
        keys += cols.pixel_index(polarity=True)[a:b]
        _count_into(out.reshape(-1), keys)
    return out.reshape(n, 2, cols.height, cols.width)


def iter_histograms(events, sensor_size=None, delta_t_us=5000, n_frames=None, start_us=None, dtype=np.int32,
                    batch: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """:func:`histogram`'s windows a batch at a time: yields ``(i, frames)``, ``frames`` the read-only
    ``(b, 2, H, W)`` counts of windows ``i .. i+b-1`` (``b <= batch``), equal to ``histogram(...)[i:i+b]``.

    Only one batch of frames is made at a time, however many windows the stream spans (a materialised
    histogram costs at least writing every one of its bins once, however few events there are). Events must
    be time-sorted (:func:`histogram` sorts, this streams): an event earlier than the one before it, or one
    outside the sensor, raises ``ValueError`` when the iterator is made, before any batch.
    """
    dt = check_delta_t(delta_t_us)
    batch = check_positive(batch, "batch")
    cols = columns(events, sensor_size)
    _check_sorted(events)
    return _iter_sorted(cols, dt, n_frames, start_us, np.dtype(dtype), batch)


def _iter_sorted(cols, dt, n_frames, start_us, dtype, batch):
    """The batches of :func:`iter_histograms` from validated, time-sorted columns."""
    t_first = int(cols.t[0]) if len(cols) else None
    t_last = int(cols.t[-1]) if len(cols) else None
    starts = window_starts(t_first, t_last, dt, start_us, n_frames)
    for g in range(0, starts.shape[0], batch):
        s = starts[g:g + batch]
        a, b = np.searchsorted(cols.t, [s[0], s[-1] + dt], side="left")
        frames = _histogram_sorted(cols[int(a):int(b)], s, dt, dtype)
        frames.flags.writeable = False
        yield g, frames


def _check_sorted(events) -> None:
    """Raise naming the first event earlier than the one before it."""
    t = (events.array if isinstance(events, Events) else events)["t"]
    bad = np.flatnonzero(t[1:] < t[:-1])
    if bad.size:
        i = int(bad[0]) + 1
        raise ValueError(f"events: event {i} (t={int(t[i])} us) is earlier than event {i - 1} "
                         f"(t={int(t[i - 1])} us); iter_histograms streams time-sorted events "
                         f"(sort them, or use histogram(), which does)")


def count_image(events, sensor_size=None, polarity=False, dtype=np.int32) -> np.ndarray:
    """Number of events at each pixel over the whole stream: ``(H, W)`` (``(2, H, W)`` with ``polarity``)."""
    cols = columns(events, sensor_size, polarity=polarity)
    c = 2 if polarity else 1
    counts = _count_keys(cols.pixel_index(polarity), c * cols.width * cols.height, dtype)
    return counts.reshape((2, cols.height, cols.width) if polarity else (cols.height, cols.width))
