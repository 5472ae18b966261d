"""Compiled TBR passes over structured event arrays (numba): back-to-back windows and arbitrary windows.

They read the records of a 1-d structured event array in place (numba's record access: the dtype's field
offsets, any field order, width or padding) and check the stream as they go or beforehand (inside the
sensor, polarity 0/1 where it is read, times non-decreasing). On any problem the callers run the checked
numpy path of :mod:`nvlib.represent.tbr` instead, which sorts unsorted input or names the bad event.
Results equal the numpy path exactly (the tests compare them). Why these passes exist at all, and why the
other representations have none: ``bench/represent.py`` (part ``user``) and ``bench/RESULTS.md``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

try:  # pragma: no cover - exercised when numba is installed
    import numba as _numba
except ImportError:  # pragma: no cover
    _numba = None


def _njit(fn):
    return _numba.njit(cache=True, nogil=True)(fn) if _numba is not None else None


def _polarity(e) -> int:
    """The polarity of one event record as an integer, 0 where its dtype has no ``p`` field (compiled code
    reads it through the overload below, a constant 0 for such dtypes). Signed and unsigned ``p`` both
    read as their value (an int8 -1 is -1, which the checks reject)."""
    return int(e["p"]) if "p" in e.dtype.names else 0


if _numba is not None:
    from numba.core import types as _types
    from numba.extending import overload as _overload

    @_overload(_polarity)
    def _polarity_compiled(e):
        if not isinstance(e, _types.Record):
            return None
        if "p" in e.fields:
            return lambda e: np.int64(e.p)
        return lambda e: np.int64(0)


class Fields(NamedTuple):
    """What the compiled passes read: ``ev`` the 1-d structured event array, ``t`` its time view (for
    binary searches), the sensor's ``w`` and ``h``, and ``pol``: True where polarity is read (0 for events
    without a ``p`` field), None where it is ignored."""

    ev: np.ndarray
    t: np.ndarray
    w: int
    h: int
    pol: bool | None


def fields(events, sensor_size, polarity: bool = True) -> Fields | None:
    """:class:`Fields` of ``events`` when the compiled passes can read them (numba present, a 1-d
    structured array with integer ``x, y, t[, p]`` whose dtype numba supports: native byte order, no
    object fields), else None. ``polarity`` False: the passes ignore ``p`` (neither read nor checked), as
    the numpy path's :func:`~nvlib.represent._input.columns` does."""
    if _numba is None:
        return None
    from nvlib.events import Events
    from nvlib.represent._input import sensor_wh

    arr = events.array if isinstance(events, Events) else events
    if (not isinstance(arr, np.ndarray) or arr.dtype.names is None or not {"x", "y", "t"} <= set(arr.dtype.names)
            or arr.ndim != 1 or not all(np.issubdtype(arr.dtype[k], np.integer)
                                        for k in arr.dtype.names if k in ("x", "y", "t", "p"))):
        return None
    try:
        _numba.typeof(arr)
    except _numba.core.errors.NumbaError:
        return None
    w, h = sensor_wh(sensor_size, events)
    return Fields(arr, arr["t"], w, h, True if polarity else None)


@_njit
def check_pass(ev, pol, w, h):  # pragma: no cover - compiled
    """True when any event of these records lies outside the sensor, has a polarity other than 0/1 (``pol``
    not None), or is earlier than the one before it; stops at the first such event."""
    uw = np.uint64(w)
    uh = np.uint64(h)
    prev = ev[0].t if ev.shape[0] else 0
    for i in range(ev.shape[0]):
        e = ev[i]
        ti = e.t
        bad = (np.uint64(np.int64(e.x)) >= uw) | (np.uint64(np.int64(e.y)) >= uh) | (ti < prev)
        if pol is not None:
            bad |= np.uint64(_polarity(e)) > np.uint64(1)
        if bad:
            return True
        prev = ti
    return False


@_njit
def search_edges(t, bounds):  # pragma: no cover - compiled
    """For each of the increasing ``bounds``, the first index ``i`` with ``t[i] >= bound`` (``len(t)`` if
    none), by binary search from the previous answer: non-decreasing whatever ``t`` holds; the
    positions ``np.searchsorted`` gives when ``t`` is sorted, without its contiguous copy of a strided ``t``."""
    edges = np.empty(bounds.shape[0], np.int64)
    lo = 0
    n = t.shape[0]
    for b in range(bounds.shape[0]):
        hi = n
        v = bounds[b]
        while lo < hi:
            mid = (lo + hi) >> 1
            if t[mid] < v:
                lo = mid + 1
            else:
                hi = mid
        edges[b] = lo
    return edges


def window_edges(f: Fields, starts: np.ndarray, window: int):
    """Event index ranges of the windows ``[s, s + window)``: ``edges[g]:edges[g+1]`` for window g (binary
    search, exact for time-sorted events), once the events before the first window and after the last pass
    :func:`check_pass`; None when they do not (the pass over the windows checks the rest, including order
    across ranges). ``starts`` non-empty and increasing."""
    t = f.t
    n_ev = t.shape[0]
    edges = search_edges(t, np.append(starts, starts[-1] + window))
    lo, hi = int(edges[0]), int(edges[-1])
    for a, b in ((0, lo), (hi, n_ev)):
        if check_pass(f.ev[a:b], f.pol, f.w, f.h):
            return None
    return None if 0 < hi < n_ev and t[hi] < t[hi - 1] else edges


@_njit
def _flush(buf, out, f, normalize, den):  # pragma: no cover - compiled
    """``out[f] = sum_q buf[q] << 8q`` (as float32 / ``den`` with ``normalize``); clears ``buf``."""
    row = out[f]
    if buf.shape[0] == 1:
        lo = buf[0]
        for j in range(lo.shape[0]):
            if normalize:
                row[j] = np.float32(lo[j]) / den
            else:
                row[j] = lo[j]
    else:  # N in 9..16: two byte planes
        lo = buf[0]
        hi = buf[1]
        for j in range(lo.shape[0]):
            code = np.uint16(lo[j]) | (np.uint16(hi[j]) << np.uint16(8))
            if normalize:
                row[j] = np.float32(code) / den
            else:
                row[j] = code
    buf[:] = 0


@_njit
def _tbr_bits(ev, pol, w, h, t0, dt, n_bits, msb_newest, buf, out, normalize, den, prev,
              check):  # pragma: no cover - compiled
    """TBR of back-to-back windows ``[t0 + f*N*dt, t0 + (f+1)*N*dt)`` from the records of the events that
    fall in them (callers pass that range, found by binary search: :func:`window_edges`). Each event sets
    its slice's bit in the window's code buffer ``buf``, (ceil(N/8), C*H*W) uint8, byte q holding code bits
    8q..8q+7 (C = 2 with ``pol``: channel = polarity); a finished window is written into ``out[f]`` (codes
    / ``den`` in float32 with ``normalize``) and ``buf`` cleared. Rows of windows without events are not
    written. With ``check``, each event is checked first (inside the sensor, polarity 0/1 where read, not
    earlier than the one before it, ``prev`` the time before the first): returns True and stops at the
    first bad one (``out`` is then partial); else False."""
    flat = buf.reshape(-1)
    plane = h * w
    row = buf.shape[1]
    uw = np.uint64(w)
    uh = np.uint64(h)
    f = -1
    s_end = t0
    base = 0
    bit = np.uint8(0)
    for i in range(ev.shape[0]):
        e = ev[i]
        ti = e.t
        xi = np.int64(e.x)
        yi = np.int64(e.y)
        pi = _polarity(e) if pol is not None else np.int64(0)
        if check:
            if (np.uint64(xi) >= uw) | (np.uint64(yi) >= uh) | (np.uint64(pi) > np.uint64(1)) | (ti < prev):
                return True
            prev = ti
        if ti >= s_end:  # the event opens a later slice, maybe a later window
            k = (ti - t0) // dt
            g = k // n_bits
            if g != f:
                if f >= 0:
                    _flush(buf, out, f, normalize, den)
                f = g
            s = k - g * n_bits
            b = s if msb_newest else n_bits - 1 - s
            base = (b >> 3) * row
            bit = np.uint8(1 << (b & 7))
            s_end = t0 + (k + 1) * dt
        flat[base + pi * plane + yi * w + xi] |= bit
    if f >= 0:
        _flush(buf, out, f, normalize, den)
    return False


@_njit
def tbr_pass(ev, pol, w, h, t0, dt, n_bits, msb_newest, buf, out, normalize, den, prev):  # pragma: no cover
    """:func:`_tbr_bits` with each event checked: True (``out`` partial) at the first invalid or out-of-order
    event, else False."""
    return _tbr_bits(ev, pol, w, h, t0, dt, n_bits, msb_newest, buf, out, normalize, den, prev, True)


@_njit
def tbr_windows_pass(ev, pol, w, h, starts, lo, hi, dt, n_bits, msb_newest, buf, out, normalize,
                     den):  # pragma: no cover - compiled
    """TBR of windows ``[starts[i], starts[i] + N*dt)`` that may overlap or leave gaps, from a stream that
    passed :func:`check_pass`: window i's events are ``lo[i]:hi[i]`` (binary search); their bits are set by
    :func:`_tbr_bits` (unchecked) and flushed into ``out[i]`` (rows of empty windows are not written)."""
    for i in range(starts.shape[0]):
        a = lo[i]
        b = hi[i]
        if a < b:
            _tbr_bits(ev[a:b], pol, w, h, starts[i], dt, n_bits, msb_newest, buf, out[i:i + 1], normalize, den,
                      starts[i], False)
