"""Time surface: exponential decay of the time since each pixel's latest event.

Lagorce et al., *HOTS: a hierarchy of event-based time-surfaces for pattern recognition*, TPAMI 2017,
over the whole sensor as in tonic's ``ToTimesurface``: ``S(x, y, p) = exp(-(t_ref - t_last(x, y, p)) / τ)``
with ``t_last`` the latest event strictly before ``t_ref``; pixels without such an event are 0.
"""
from __future__ import annotations

import numpy as np

from nvlib.represent._input import check_delta_t, columns


def time_surface(events, sensor_size=None, t_ref_us=None, tau_us=50000, polarity=True) -> np.ndarray:
    """Time surface at ``t_ref_us`` (µs): ``(2, H, W)`` float32 (``(H, W)`` without ``polarity``).

    ``t_ref_us`` may be a 1-d sequence of times (any order), giving ``(n, 2, H, W)``; default: one past the
    last event. Unsorted events are sorted (a copy).
    """
    tau = check_delta_t(tau_us, "tau_us")
    cols = columns(events, sensor_size, polarity=polarity)
    h, w = cols.height, cols.width
    c = 2 if polarity else 1
    if t_ref_us is None:
        t_ref_us = int(cols.t[-1]) + 1 if len(cols) else 0
    refs = np.atleast_1d(np.asarray(t_ref_us, dtype=np.int64))
    if refs.ndim != 1:
        raise ValueError(f"t_ref_us must be a time or a 1-d sequence of times, got shape {refs.shape}")
    idx = cols.pixel_index(polarity)
    t = cols.t.astype(np.float64)
    last = np.full(c * h * w, -np.inf)  # latest time at each pixel (and polarity) of the events so far
    out = np.empty((refs.size, c * h * w), np.float32)
    order = np.argsort(refs, kind="stable")
    done = 0
    for i, k in zip(order.tolist(), np.searchsorted(cols.t, refs[order], side="left").tolist()):
        np.maximum.at(last, idx[done:k], t[done:k])
        done = k
        out[i] = np.exp((last - refs[i]) / tau)
    shape = (c, h, w) if polarity else (h, w)
    out = out.reshape((refs.size, *shape))
    return out if np.ndim(t_ref_us) else out[0]
