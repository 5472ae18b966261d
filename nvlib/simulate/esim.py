"""Per-pixel timestamps: threshold crossings interpolated linearly between frames.

ESIM (Rebecq, Gehrig, Scaramuzza, "ESIM: an Open Event Camera Simulator", CoRL 2018)
assumes the (log, low-passed) brightness of each pixel moves linearly between two frames
and stamps each threshold crossing at the time the line reaches it. v2e instead spreads a
pixel's k-th event at ``k*dt/N`` with one ``N`` for the whole frame (users ask for per-pixel
times in SensorsINI/v2e issues #2 and #35). The counts, and so the event set per pixel and
polarity, are the same in both modes; only the timestamps (and what the refractory period
removes) differ.
"""
from __future__ import annotations

import numpy as np


def esim_select(lp_prev: np.ndarray, lp_new: np.ndarray, base: np.ndarray, thr: np.ndarray,
                counts: np.ndarray, on: np.ndarray, t_prev: float, dt: float,
                last_t: np.ndarray, period: float):
    """Crossing times of the P firing pixels, with an optional refractory period.

    Args:
        lp_prev, lp_new: (P,) photoreceptor output at the previous and at this frame (ln units).
        base: (P,) memorised level before this frame's events.
        thr: (P,) the pixel's ON threshold where ``on`` else its OFF threshold.
        counts: (P,) crossings per pixel (>= 1). on: (P,) bool polarity.
        t_prev, dt: previous frame time and frame interval (s).
        last_t: (P,) float64 time of each pixel's last emitted event (s).
        period: refractory period (s): a crossing within it of the last emitted event is dropped.
    Returns:
        ``(src, t_s, n_emit, new_last)``: emitted events sorted by time (``src`` indexes the P
        pixels, ``t_s`` float64 s), emitted count per pixel (int32) and the updated ``last_t``.

    The k-th crossing of an ON pixel is at level ``base + k*thr`` (OFF: ``base - k*thr``), at
    fraction ``(level - lp_prev)/(lp_new - lp_prev)`` of the interval, clipped to [0, 1] (a level
    already passed at the previous frame, e.g. after leak, fires at ``t_prev``; a pixel whose
    input did not move fires at ``t``). Work: O(events + N) for N the largest count.
    """
    p = counts.shape[0]
    counts = counts.astype(np.int64, copy=False)
    lp_prev, lp_new, base, thr = (np.asarray(a, dtype=np.float64) for a in (lp_prev, lp_new, base, thr))
    sign = np.where(on, 1.0, -1.0)
    delta = lp_new - lp_prev
    last = np.array(last_t, dtype=np.float64, copy=True)
    act = np.arange(p, dtype=np.int64)
    srcs, times = [], []
    k = 0
    while act.shape[0]:
        k += 1
        act = act[counts[act] >= k]
        if not act.shape[0]:
            break
        level = base[act] + sign[act] * (k * thr[act])
        d = delta[act]
        nz = d != 0
        frac = np.where(nz, (level - lp_prev[act]) / np.where(nz, d, 1.0), 1.0).clip(0.0, 1.0)
        t = t_prev + frac * dt
        sel = act
        if period > 0:
            keep = (t - last[act]) > period
            sel, t = act[keep], t[keep]
        last[sel] = t
        srcs.append(sel)
        times.append(t)
    if srcs:
        src = np.concatenate(srcs)
        t_s = np.concatenate(times)
        order = np.argsort(t_s, kind="stable")
        src, t_s = src[order], t_s[order]
    else:
        src = np.zeros(0, dtype=np.int64)
        t_s = np.zeros(0, dtype=np.float64)
    n_emit = np.bincount(src, minlength=p).astype(np.int32)
    return src, t_s, n_emit, last
