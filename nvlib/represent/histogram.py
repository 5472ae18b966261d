"""Event histograms (counts per polarity and time window), whole or streamed window by window, and the
event-count image.

Counts follow tonic's ``ToFrame`` layout: channel 0 = OFF (p = 0), channel 1 = ON (p = 1), frame i covers
``[t0 + i*Δt, t0 + (i+1)*Δt)``. With numba, compiled passes read the event fields in place, check them
(coordinates, polarity, time order) and add each event to its bin; without it (or for unsorted input),
counting is sort-based (numpy's SIMD sort of one flat key per event, then run lengths). Both equal
``np.add.at``.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from nvlib.events import Events
from nvlib.represent import _compiled
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


def histogram(events, sensor_size=None, delta_t_us=5000, n_frames=None, start_us=None, dtype=np.int32,
              workers: int = 1) -> np.ndarray:
    """Event counts per polarity in consecutive windows: ``(n_frames, 2, H, W)`` of ``dtype``.

    Window i covers ``[t0 + i*Δt, t0 + (i+1)*Δt)``, ``t0 = start_us`` or the first event time; without
    ``n_frames`` enough windows to cover the last event (tonic's ``ToFrame(time_window=Δt)`` instead drops
    the incomplete last window unless ``include_incomplete``, and returns ``(n, P, W, H)``-ordered zeros for
    empty input; here empty input gives ``(n, 2, H, W)`` zeros). A count that ``dtype`` cannot hold raises.
    ``workers`` > 1 counts groups of consecutive windows in that many threads (the compiled pass releases
    the GIL; the sort-based path runs in one).
    """
    dt = check_delta_t(delta_t_us)
    workers = check_positive(workers, "workers")
    fast = _histogram_compiled(events, sensor_size, dt, n_frames, start_us, dtype, workers)
    if fast is not None:
        return fast
    cols = columns(events, sensor_size)
    t_first = int(cols.t[0]) if len(cols) else None
    t_last = int(cols.t[-1]) if len(cols) else None
    return _histogram_sorted(cols, window_starts(t_first, t_last, dt, start_us, n_frames), dt, dtype)


def _histogram_sorted(cols, starts: np.ndarray, dt: int, dtype) -> np.ndarray:
    """Counts of validated, time-sorted ``cols`` in the windows ``[s, s + dt)``, ``s`` in ``starts``, by
    sort + run lengths."""
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


def _histogram_compiled(events, sensor_size, dt, n_frames, start_us, dtype, workers=1):
    """:func:`histogram` by the compiled pass (in ``workers`` threads over groups of windows), or None where
    the sort-based path must run (no numba, non-integer output, unsorted times: that path sorts) or should
    name a bad event."""
    dtype = np.dtype(dtype)
    f = _compiled.fields(events, sensor_size)
    if f is None or not np.issubdtype(dtype, np.integer):
        return None
    ev, t, w, h, pol = f.ev, f.t, f.w, f.h, f.pol
    n_ev = t.shape[0]
    starts = window_starts(int(t[0]) if n_ev else None, int(t[-1]) if n_ev else None, dt, start_us, n_frames)
    n, plane, cmax = starts.shape[0], 2 * h * w, int(np.iinfo(dtype).max)
    if n == 0:
        return None if n_ev and _compiled.check_pass(ev, pol, w, h) else np.zeros((0, 2, h, w), dtype)
    edges = _compiled.window_edges(f, starts, dt)
    if edges is None:
        return None
    out = np.zeros(n * plane, dtype)
    groups = [0, n] if workers == 1 or n < 2 else _split_windows(edges, plane, workers)

    def count(g):
        g0, g1 = g
        flags, k, _ = _compiled.histogram_pass(ev, pol, w, h, edges, starts, dt, g0, g1 - g0,
                                               out[g0 * plane:g1 * plane], cmax,
                                               np.empty(_compiled._CHUNK, np.int64), 0)
        return flags, k, g0

    spans = list(zip(groups[:-1], groups[1:]))
    if len(spans) == 1:
        results = [count(spans[0])]
    else:
        with ThreadPoolExecutor(len(spans)) as pool:
            results = list(pool.map(count, spans))
    if any(flags for flags, _, _ in results):
        return None
    for _, i, first in results:
        if i >= 0:
            raise _overflow(i, first, h, w, dtype)
    return out.reshape(n, 2, h, w)


def _split_windows(edges: np.ndarray, plane: int, parts: int) -> list:
    """Window boundaries ``0 = g_0 < ... < g_k = n`` (k <= ``parts``) giving each group about the same work:
    its events plus its bins to allocate and zero, 24 bins weighed as one event (on a 2-core VM, faulting in
    one 1280x720x2 int16 plane took about 0.6 ms, counting an event about 8 ns)."""
    n = edges.shape[0] - 1
    cost = (edges - edges[0]) + np.arange(n + 1) * (plane / 24)
    cuts = np.searchsorted(cost, cost[-1] * np.arange(1, parts) / parts)
    return [0] + sorted({int(c) for c in cuts if 0 < c < n}) + [n]


def _overflow(i: int, first: int, h: int, w: int, dtype) -> ValueError:
    """The error for flat output index ``i`` of a block of windows starting at window ``first``."""
    f, c, yy, xx = np.unravel_index(i, (i // (2 * h * w) + 1, 2, h, w))
    return ValueError(f"pixel (x={xx}, y={yy}), polarity {c} of window {first + f} holds more events than dtype "
                      f"{dtype} can count")


def iter_histograms(events, sensor_size=None, delta_t_us=5000, n_frames=None, start_us=None, dtype=np.int32,
                    batch: int = 1, workers: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """:func:`histogram`'s windows a batch at a time: yields ``(i, frames)``, ``frames`` the read-only
    ``(b, 2, H, W)`` counts of windows ``i .. i+b-1`` (``b <= batch``), equal to ``histogram(...)[i:i+b]``.

    Memory is one batch of frames, however long the stream: with numba every batch is written into the same
    buffer, so ``frames`` holds until the next step (copy it to keep it). Between batches the buffer is
    cleared only where the last batch's events fell when they were few (under one per 32 bins), else whole.
    ``workers`` > 1 counts the next ``workers`` batches ahead in that many threads while the current one
    is in use (``workers + 1`` buffers; the compiled pass releases the GIL): it pays when the consumer
    waits, e.g. on a GPU step; for a loop that does nothing with small windows, the thread hand-offs cost
    more than they save.
    For data loaders and long recordings: a materialised histogram costs at least writing every one of its
    bins once, however few events there are. Events must be time-sorted (:func:`histogram` sorts, this
    streams): an event earlier than the one before it raises ``ValueError``, as does one outside the
    sensor, possibly after earlier batches were yielded.
    """
    dt = check_delta_t(delta_t_us)
    batch = check_positive(batch, "batch")
    workers = check_positive(workers, "workers")
    dtype = np.dtype(dtype)
    f = _compiled.fields(events, sensor_size)
    if f is None or not np.issubdtype(dtype, np.integer):
        return _iter_sorted(events, sensor_size, dt, n_frames, start_us, dtype, batch)
    return _iter_compiled(events, sensor_size, f, dt, n_frames, start_us, dtype, batch, workers)


class _Slot:
    """A reusable batch buffer of :func:`iter_histograms`, its read-only ``(batch, 2, H, W)`` view, and
    the output indices of the events last counted into it (kept when few enough to clear one by one)."""

    def __init__(self, nb: int, h: int, w: int, dtype):
        self.buf = np.zeros(nb * 2 * h * w, dtype)
        self.frames = self.buf.reshape(nb, 2, h, w)
        self.frames.flags.writeable = False
        self.idx = np.empty(max(_compiled._CHUNK, self.buf.size // _compiled._SPARSE), np.int64)
        self.kept = 0

    def count(self, f, starts, dt, edges, g: int, nb: int, cmax: int):
        """Clear what the last batch left, then count windows ``g .. g+nb-1``: ``(flags, k, frames)``."""
        flags, k, self.kept = _compiled.histogram_pass(f.ev, f.pol, f.w, f.h, edges, starts, dt, g, nb,
                                                       self.buf, cmax, self.idx, self.kept)
        return flags, k, self.frames if nb == self.frames.shape[0] else self.frames[:nb]


def _iter_compiled(events, sensor_size, f, dt, n_frames, start_us, dtype, batch, workers=1):
    """:func:`iter_histograms` with the compiled pass (one :func:`~nvlib.represent._compiled.histogram_pass`
    call per batch), reused buffers, window ranges by binary search; with ``workers`` > 1, batch j is
    counted in a thread into buffer ``j % (workers + 1)`` while earlier ones are yielded (submitted once
    batch j - workers - 1, the buffer's last user, has been released)."""
    t, w, h = f.t, f.w, f.h
    n_ev = t.shape[0]
    starts = window_starts(int(t[0]) if n_ev else None, int(t[-1]) if n_ev else None, dt, start_us, n_frames)
    n = starts.shape[0]
    if n == 0:
        if n_ev and _compiled.check_pass(f.ev, f.pol, w, h):
            raise _stream_error(events, sensor_size)
        return
    edges = _compiled.window_edges(f, starts, dt)
    if edges is None:
        raise _stream_error(events, sensor_size)
    cmax = int(np.iinfo(dtype).max)
    n_batches = -(-n // batch)
    ahead = workers > 1 and n_batches > 1
    slots = [_Slot(min(batch, n), h, w, dtype) for _ in range(min(workers + 1, n_batches) if ahead else 1)]

    def count(j):
        g = j * batch
        return (g,) + slots[j % len(slots)].count(f, starts, dt, edges, g, min(batch, n - g), cmax)

    pool = ThreadPoolExecutor(workers) if ahead else None
    try:
        if pool is None:
            results = map(count, range(n_batches))
        else:
            results = _ahead(pool, count, n_batches, workers)
        for g, flags, k, out in results:
            if flags:
                raise _stream_error(events, sensor_size)
            if k >= 0:
                raise _overflow(k, g, h, w, dtype)
            yield g, out
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _ahead(pool, fn, n: int, depth: int):
    """``fn(0), fn(1), ...`` in order, ``fn(j + depth)`` submitted to ``pool`` before ``fn(j)`` is awaited."""
    pending = deque(pool.submit(fn, j) for j in range(min(depth, n)))
    for j in range(n):
        if j + depth < n:
            pending.append(pool.submit(fn, j + depth))
        yield pending.popleft().result()


def _iter_sorted(events, sensor_size, dt, n_frames, start_us, dtype, batch):
    """:func:`iter_histograms` without the compiled pass: validated columns, sort-based counts per batch."""
    cols = columns(events, sensor_size)
    _check_sorted(events)
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


def _stream_error(events, sensor_size) -> ValueError:
    """The error for a stream a compiled pass flagged: a coordinate or polarity (named by
    :func:`~nvlib.represent._input.columns`, which raises) or the first out-of-order event."""
    columns(events, sensor_size)
    _check_sorted(events)
    return ValueError("events: a compiled pass flagged this stream, but no bad event was found")


def count_image(events, sensor_size=None, polarity=False, dtype=np.int32) -> np.ndarray:
    """Number of events at each pixel over the whole stream: ``(H, W)`` (``(2, H, W)`` with ``polarity``)."""
    cols = columns(events, sensor_size, polarity=polarity)
    c = 2 if polarity else 1
    counts = _count_keys(cols.pixel_index(polarity), c * cols.width * cols.height, dtype)
    return counts.reshape((2, cols.height, cols.width) if polarity else (cols.height, cols.width))
