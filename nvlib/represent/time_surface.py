"""Time surface: exponential decay of the time since each pixel's latest event.

Lagorce et al., *HOTS: a hierarchy of event-based time-surfaces for pattern recognition*, TPAMI 2017,
over the whole sensor as in tonic's ``ToTimesurface``: ``S(x, y, p) = exp(-(t_ref - t_last(x, y, p)) / τ)``
with ``t_last`` the latest event strictly before ``t_ref``; pixels without such an event are 0.
"""
from __future__ import annotations

import numpy as np

from nvlib.represent import _compiled
from nvlib.represent._input import check_delta_t, columns


def _last_times(idx: np.ndarray, t: np.ndarray, size: int) -> np.ndarray:
    """Latest timestamp at each flat index (``-inf`` where none), order-independent."""
    last = np.full(size, -np.inf)
    if idx.size:
        order = np.lexsort((t, idx))
        ks = idx[order]
        ends = np.flatnonzero(np.append(ks[1:] != ks[:-1], True))
        last[ks[ends]] = t[order[ends]]
    return last


_EXP_FLOOR = -128.0  # exp of anything at or below it rounds to 0 in float32 (exp(-104) < 2**-150)


def _decay(last: np.ndarray, ref: int, tau: int, tmp: np.ndarray, row: np.ndarray) -> None:
    """``row[:] = exp((last - ref) / tau)`` (float64, then float32) through the reused buffer ``tmp``.

    Exponents are raised to :data:`_EXP_FLOOR` first: the float32 values stay the same (0), but numpy's
    vectorised exp leaves its fast path for -inf (pixels without events) and underflowing inputs
    (measured 2-3x slower over a 1280x720x2 surface half without events)."""
    np.subtract(last, ref, out=tmp)
    np.divide(tmp, tau, out=tmp)
    np.maximum(tmp, _EXP_FLOOR, out=tmp)
    np.exp(tmp, out=tmp)
    row[...] = tmp


def time_surface(events, sensor_size=None, t_ref_us=None, tau_us=50000, polarity=True) -> np.ndarray:
    """Time surface at ``t_ref_us`` (µs): ``(2, H, W)`` float32 (``(H, W)`` without ``polarity``).

    ``t_ref_us`` may be a 1-d sequence of times, giving ``(n, 2, H, W)``; default: one past the last event.
    """
    tau = check_delta_t(tau_us, "tau_us")
    fast = _time_surface_compiled(events, sensor_size, t_ref_us, tau, polarity)
    if fast is not None:
        return fast
    cols = columns(events, sensor_size, polarity=polarity)
    h, w = cols.height, cols.width
    c = 2 if polarity else 1
    if t_ref_us is None:
        t_ref_us = int(cols.t[-1]) + 1 if len(cols) else 0
    refs = np.atleast_1d(np.asarray(t_ref_us, dtype=np.int64))
    if refs.ndim != 1:
        raise ValueError(f"t_ref_us must be a time or a 1-d sequence of times, got shape {refs.shape}")
    idx = cols.pixel_index(polarity)
    out = np.empty((refs.size, c * h * w), np.float32)
    tmp = np.empty(c * h * w)
    for i, ref in enumerate(refs.tolist()):
        k = int(np.searchsorted(cols.t, ref, side="left"))
        _decay(_last_times(idx[:k], cols.t[:k].astype(np.float64), c * h * w), ref, tau, tmp, out[i])
    shape = (c, h, w) if polarity else (h, w)
    out = out.reshape((refs.size, *shape))
    return out if np.ndim(t_ref_us) else out[0]


def _time_surface_compiled(events, sensor_size, t_ref_us, tau: int, polarity: bool):
    """:func:`time_surface` with each pixel's latest time from one compiled pass over the time-sorted
    stream, the reference times taken in increasing order (the same :func:`_decay` as the numpy path, so
    equal values), or None where the numpy path runs (no numba, unsorted times, bad events or ``t_ref_us``)."""
    f = _compiled.fields(events, sensor_size, polarity)
    if f is None:
        return None
    ev, t, w, h, pol = f.ev, f.t, f.w, f.h, f.pol
    if _compiled.check_pass(ev, pol, w, h):
        return None
    if t_ref_us is None:
        t_ref_us = int(t[-1]) + 1 if t.shape[0] else 0
    refs = np.atleast_1d(np.asarray(t_ref_us))
    if refs.ndim != 1 or not np.issubdtype(refs.dtype, np.integer):
        return None
    refs = refs.astype(np.int64)
    c, plane = (2 if polarity else 1), h * w
    order = np.argsort(refs, kind="stable")
    ends = _compiled.search_edges(t, refs[order])
    last = np.full(c * plane, -np.inf)
    out = np.empty((refs.size, c * plane), np.float32)
    tmp = np.empty(c * plane)
    done = 0
    for i, k in zip(order.tolist(), ends.tolist()):
        _compiled.last_times_pass(ev, pol, w, done, k, plane, last)
        done = k
        _decay(last, int(refs[i]), tau, tmp, out[i])
    shape = (c, h, w) if polarity else (h, w)
    out = out.reshape((refs.size, *shape))
    return out if np.ndim(t_ref_us) else out[0]
