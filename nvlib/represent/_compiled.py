"""Compiled passes over structured event arrays (numba): TBR codes, polarity histograms, voxel sums, latest times.

They read the records of a 1-d structured event array in place: one pointer and the dtype's fixed field
offsets, where strided views of the four fields spilled the loops' registers to the stack (on 2 M packed
13-byte events, measured 1.21-1.39x faster for the histogram stream, 1.06-1.10x for the TBR, 1.03-1.08x
for the voxel grid). They check the stream (inside the sensor, polarity 0/1, times non-decreasing) as they
go, in rounds of events: for the histogram a checking pass that computes output indices, then a pass that
only adds; for the TBR a checking pass, then a pass that sets bits (voxel grid and time surface: after
:func:`check_pass` of the whole stream). On any problem callers run the checked numpy path instead, which
sorts unsorted input or names the bad event. Results equal the numpy paths exactly (tests compare them).
Loops that write to scattered bins prefetch the bin of an event a fixed distance ahead
(:func:`_prefetch_intrinsic`).
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


def _prefetch_intrinsic():
    """``prefetch(a, i)`` inside compiled code: asks the CPU to start fetching the cache line of ``a[i]``
    (``a`` a 1-d array, ``i`` an integer) for writing (LLVM's ``llvm.prefetch``, read/write 1, locality 3;
    a hint: it changes no data). Lets a loop of scattered read-modify-writes keep more cache misses in
    flight than out-of-order execution alone finds."""
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def prefetch(typingctx, arr, i):
        if not (isinstance(arr, types.Array) and arr.ndim == 1 and isinstance(i, types.Integer)):
            return None

        def codegen(context, builder, sig, args):
            aty, ity = sig.args
            ary = context.make_array(aty)(context, builder, args[0])
            k = context.cast(builder, args[1], ity, types.intp)
            ptr = cgutils.get_item_pointer2(context, builder, ary.data, cgutils.unpack_tuple(builder, ary.shape),
                                            cgutils.unpack_tuple(builder, ary.strides), aty.layout, [k])
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                                "llvm.prefetch.p0i8")
            builder.call(fn, [builder.bitcast(ptr, i8p), i32(1), i32(3), i32(1)])
            return context.get_dummy_value()

        return types.void(arr, i), codegen

    return prefetch


_prefetch = _prefetch_intrinsic() if _numba is not None else None


def _polarity(e) -> int:
    """The polarity of one event record as an integer, 0 where its dtype has no ``p`` field (compiled code
    reads it through the overload below, a constant 0 for such dtypes)."""
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
    binary searches), the sensor's ``w`` and ``h``, ``pol`` True where polarity is read (0 for events
    without a ``p`` field) and None where it is ignored, ``has_p`` whether the events carry polarity."""

    ev: np.ndarray
    t: np.ndarray
    w: int
    h: int
    pol: bool | None
    has_p: bool


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
    return Fields(arr, arr["t"], w, h, True if polarity else None, "p" in arr.dtype.names)


_CHUNK = 65536  # events per round of histogram_pass (their output indices, 512 KiB, stay in L2) and check_pass
_SPARSE = 32  # bins per event below which histogram_pass keeps a step's output indices to clear them one by one
_AHEAD = 128  # events ahead whose output bin histogram_pass prefetches (measured 1.1-1.3x faster; 128 against 32:
#               1.02-1.06x)
_AHEAD_FUSED = 32  # the same for the one-loop passes, which compute the bin of the event this far on


@_njit
def _valid_round(ev, pol, w, h, prev):  # pragma: no cover - compiled
    """True when any event of these records lies outside the sensor, has a polarity other than 0/1 (``pol``
    not None), or is earlier than the one before it (``prev``: the time before the first). Stops at the
    first such event, which keeps the loop scalar (faster on packed records than gathers: see
    :func:`_window_round`)."""
    uw = np.uint64(w)
    uh = np.uint64(h)
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
def check_pass(ev, pol, w, h):  # pragma: no cover - compiled
    """True when any event of the stream lies outside the sensor, has a polarity other than 0/1 (``pol``
    not None), or is earlier than the one before it; by :func:`_valid_round` over rounds of :data:`_CHUNK`."""
    ne = ev.shape[0]
    prev = ev[0].t if ne else 0
    for c0 in range(0, ne, _CHUNK):
        c1 = min(ne, c0 + _CHUNK)
        if _valid_round(ev[c0:c1], pol, w, h, prev):
            return True
        prev = ev[c1 - 1].t
    return False


@_njit
def _window_round(ev, pol, w, h, base, lo, hi, prev, idx):  # pragma: no cover - compiled
    """One round of :func:`histogram_pass` (records of events of one window ``[lo, hi)``; ``pol`` None:
    polarity ignored): ``idx[j] = base + p*H*W + y*W + x``. Returns ``(bad, prev)``: ``bad`` when a
    coordinate or polarity is out of range, a time lies outside the window or decreases (``prev``: the
    time before the round; ``idx`` and ``prev`` are then partial). The loop stops at the first bad event:
    that keeps it scalar, which reads the packed records faster than the gathers of the vectorised
    branch-free loop (measured 9.1 -> 6.0 ms for 2 M events, when the pass still read field views)."""
    plane = h * w
    uw = np.uint64(w)
    uh = np.uint64(h)
    for j in range(ev.shape[0]):
        e = ev[j]
        xi = np.int64(e.x)
        yi = np.int64(e.y)
        ti = e.t
        pi = _polarity(e) if pol is not None else np.int64(0)
        if ((np.uint64(xi) >= uw) | (np.uint64(yi) >= uh) | (np.uint64(pi) > np.uint64(1)) | (ti < prev)
                | (ti < lo) | (ti >= hi)):
            return True, prev
        prev = ti
        idx[j] = base + pi * plane + yi * w + xi
    return False, prev


@_njit
def histogram_pass(ev, pol, w, h, edges, starts, dt, g, nb, out, cmax, idx, kept):  # pragma: no cover
    """Polarity histograms of consecutive windows, whole (``out`` zeros, ``kept`` 0) or one step of a
    window-by-window stream: clear what the last step left in ``out`` (``out[idx[:kept]] = 0``, or all
    of ``out`` when ``kept`` < 0), then count windows ``g .. g+nb-1`` into it (window
    ``g+f`` at ``out[f*2*H*W:]``): its events are ``edges[g+f]:edges[g+f+1]`` (:func:`window_edges`) and
    must lie in ``[starts[g+f], starts[g+f] + dt)``, inside the sensor, time-sorted (checked against the
    event before ``edges[g]`` too). In rounds of :data:`_CHUNK`: :func:`_window_round` computes output
    indices, then a loop only adds (checked against ``cmax`` in windows of more than ``cmax`` events,
    the only ones that can exceed it). One call per step keeps the per-window cost of a Python loop low.
    ``idx``: int64 scratch of at least ``_CHUNK`` entries; the step's indices stay there for the next
    clear when they all fit and are at most one per ``_SPARSE`` bins of ``out`` (beyond that, clearing
    all of ``out`` was measured faster). Kept apart from the adds, the index pass lets the adds overlap
    their cache misses (measured 2-3x faster than one fused loop), and the adds and the one-by-one clear
    prefetch the bin :data:`_AHEAD` events ahead. Returns ``(flags, k, kept)``: ``flags``
    1 for a stream with problems (``out`` is then partial), ``k`` >= 0 when count ``out[k]`` would exceed
    ``cmax``, ``kept`` the number of indices left in ``idx`` for the next step's clear (-1: too many,
    clear all)."""
    if kept < 0:
        out[:] = 0
    else:
        for j in range(kept):
            _prefetch(out, idx[min(j + _AHEAD, kept - 1)])
            out[idx[j]] = 0
    a0 = edges[g]
    b0 = edges[g + nb]
    keep = (b0 - a0) * _SPARSE <= out.shape[0] and b0 - a0 <= idx.shape[0]
    prev = ev[a0 - 1].t if a0 > 0 else (ev[a0].t if b0 > a0 else 0)
    fsz = 2 * h * w
    for f in range(nb):
        a = edges[g + f]
        b = edges[g + f + 1]
        lo = starts[g + f]
        checked = b - a > cmax
        for c0 in range(a, b, _CHUNK):
            c1 = min(b, c0 + _CHUNK)
            r = idx[c0 - a0:c1 - a0] if keep else idx[:c1 - c0]
            bad, prev = _window_round(ev[c0:c1], pol, w, h, f * fsz, lo, lo + dt, prev, r)
            if bad:
                return 1, -1, -1
            m = c1 - c0
            if checked:
                for j in range(m):
                    _prefetch(out, r[min(j + _AHEAD, m - 1)])
                    k = r[j]
                    v = np.int64(out[k]) + 1
                    if v > cmax:
                        return 0, k, -1
                    out[k] = v
            else:
                for j in range(m):
                    _prefetch(out, r[min(j + _AHEAD, m - 1)])
                    out[r[j]] += 1
    return 0, -1, (b0 - a0) if keep else -1


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


_TBR_CHUNK = 4096  # events per round of tbr_pass: checked, then read again from L1


@_njit
def _tbr_round(ev, pol, w, plane, t0, dt, n_bits, msb_newest, flat, buf, out, normalize, den, f, s_end, base,
               bit):  # pragma: no cover - compiled
    """Set each event's slice bit for one round of :func:`tbr_pass` (valid, time-sorted records; ``pol``
    None: polarity ignored); carries window ``f``, the end of the current slice ``s_end``, its byte plane
    offset ``base`` and bit."""
    row = buf.shape[1]
    for i in range(ev.shape[0]):
        e = ev[i]
        ti = e.t
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
        j = base + np.int64(e.y) * w + np.int64(e.x)
        if pol is not None:
            j += _polarity(e) * plane
        flat[j] |= bit
    return f, s_end, base, bit


@_njit
def tbr_pass(ev, pol, w, h, t0, dt, n_bits, msb_newest, buf, out, normalize, den, prev):  # pragma: no cover
    """TBR of back-to-back windows ``[t0 + f*N*dt, t0 + (f+1)*N*dt)`` from the records of the events that
    fall in them (callers pass that range, found by binary search: :func:`window_edges`). Each event sets
    its slice's bit in the window's code buffer ``buf`` (ceil(N/8), C*H*W) uint8, byte q holding code bits
    8q..8q+7, so the plane being written stays in L2 (C = 2 with ``pol``: channel = polarity); a finished
    window is written into ``out[f]`` (codes / ``den`` in float32 with ``normalize``) and ``buf`` cleared.
    Rows of windows without events are not written. In rounds of :data:`_TBR_CHUNK` events, each first
    checked by :func:`_valid_round` (``prev``: the time before the first event), then read again from L1
    to set bits (measured 1.2-1.4x faster on 2 M events at 1280x720 than checking inside the bit-setting
    loop). Returns True (and stops, ``out`` partial) at the first round holding an invalid or out-of-order
    event."""
    flat = buf.reshape(-1)
    plane = h * w
    f = -1
    s_end = t0
    base = 0
    bit = np.uint8(0)
    ne = ev.shape[0]
    for c0 in range(0, ne, _TBR_CHUNK):
        c1 = min(ne, c0 + _TBR_CHUNK)
        if _valid_round(ev[c0:c1], pol, w, h, prev):
            return True
        f, s_end, base, bit = _tbr_round(ev[c0:c1], pol, w, plane, t0, dt, n_bits, msb_newest, flat, buf, out,
                                         normalize, den, f, s_end, base, bit)
        prev = ev[c1 - 1].t
    if f >= 0:
        _flush(buf, out, f, normalize, den)
    return False


@_njit
def tbr_windows_pass(ev, pol, w, h, starts, lo, hi, dt, n_bits, msb_newest, buf, out, normalize,
                     den):  # pragma: no cover - compiled
    """TBR of windows ``[starts[i], starts[i] + N*dt)`` that may overlap or leave gaps, from a stream that
    passed :func:`check_pass`: window i's events are ``lo[i]:hi[i]`` (binary search); their bits are set in
    ``buf`` as in :func:`tbr_pass` and flushed into ``out[i]`` (rows of empty windows are not written)."""
    flat = buf.reshape(-1)
    plane = h * w
    for i in range(starts.shape[0]):
        a = lo[i]
        b = hi[i]
        if a >= b:
            continue
        row = out[i:i + 1]
        _tbr_round(ev[a:b], pol, w, plane, starts[i], dt, n_bits, msb_newest, flat, buf, row, normalize, den, -1,
                   starts[i], 0, np.uint8(0))
        _flush(buf, row, 0, normalize, den)


def window_edges(f: Fields, starts: np.ndarray, window: int):
    """Event index ranges of the windows ``[s, s + window)``: ``edges[g]:edges[g+1]`` for window g (binary
    search, exact for time-sorted events), once the events before the first window and after the last pass
    :func:`check_pass`; None when they do not (the passes over the windows check the rest, including order
    across ranges). ``starts`` non-empty."""
    t = f.t
    n_ev = t.shape[0]
    edges = search_edges(t, np.append(starts, starts[-1] + window))
    lo, hi = int(edges[0]), int(edges[-1])
    for a, b in ((0, lo), (hi, n_ev)):
        if check_pass(f.ev[a:b], f.pol, f.w, f.h):
            return None
    return None if 0 < hi < n_ev and t[hi] < t[hi - 1] else edges


@_njit
def voxel_pass(ev, w, h, n_bins, span, left, right):  # pragma: no cover - compiled
    """e2vid voxel sums of a valid, time-sorted stream of records with polarity: event i adds
    ``pol * (1 - frac)`` to ``left[bin, y, x]`` and ``pol * frac`` to ``right[bin + 1, y, x]`` (flat
    float64), ``ts = (B - 1) * (t - t[0]) / span = bin + frac``, ``pol = 2p - 1``. The same float64
    operations, added in event order, as :func:`nvlib.represent.voxel.voxel_grid`'s bincounts, so the sums
    are bit-identical. Both targets of the event :data:`_AHEAD_FUSED` on are prefetched (measured
    1.6-1.8x faster on 2 M events at 1280x720)."""
    plane = h * w
    t0 = ev[0].t
    n = ev.shape[0]
    for i in range(n):
        ej = ev[min(i + _AHEAD_FUSED, n - 1)]
        kj = (np.int64((n_bins - 1) * np.float64(ej.t - t0) / span) * plane + np.int64(ej.y) * w
              + np.int64(ej.x))
        _prefetch(left, kj)
        _prefetch(right, kj + plane)
        e = ev[i]
        ts = (n_bins - 1) * np.float64(e.t - t0) / span
        ti = np.int64(ts)
        frac = ts - ti
        pol = np.float64(_polarity(e)) * 2 - 1
        k = ti * plane + np.int64(e.y) * w + np.int64(e.x)
        left[k] += pol * (1 - frac)
        if ti + 1 < n_bins:
            right[k + plane] += pol * frac


@_njit
def last_times_pass(ev, pol, w, a, b, plane, last):  # pragma: no cover - compiled
    """``last[(p*plane +) y*W + x] = t`` for events ``a .. b-1`` of a time-sorted stream of records, in
    order: each pixel (and polarity, unless ``pol`` is None) ends with the time of its latest event. The
    pixel of the event :data:`_AHEAD_FUSED` on is prefetched."""
    for i in range(a, b):
        ej = ev[min(i + _AHEAD_FUSED, b - 1)]
        kj = np.int64(ej.y) * w + np.int64(ej.x)
        if pol is not None:
            kj += _polarity(ej) * plane
        _prefetch(last, kj)
        e = ev[i]
        k = np.int64(e.y) * w + np.int64(e.x)
        if pol is not None:
            k += _polarity(e) * plane
        last[k] = np.float64(e.t)
