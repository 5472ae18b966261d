"""Per-pixel event counts -> time-ordered events in O(number of events) (numpy, host side).

v2e (Hu et al., CVPRW 2021; SensorsINI/v2e ``emulator.py``) loops over the ``N`` sub-steps
of a frame and scans the whole ``H x W`` frame at each one: O(N*H*W). Here only the P
pixels that fire are touched: a pixel's k-th event falls on sub-step ``k - 1``.
"""
from __future__ import annotations

import math

import numpy as np


def _stable_desc_order(counts: np.ndarray, n_max: int) -> np.ndarray:
    key = -counts.astype(np.int16 if n_max < 32767 else np.int64)  # int16: numpy's O(P) radix sort
    return np.argsort(key, kind="stable")


def expand_counts(counts: np.ndarray, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (pixel j, sub-step k) with ``k < counts[j]``, ordered by sub-step.

    Args:
        counts: (P,) integer event counts of the firing pixels, each in ``[1, n_steps]``.
        n_steps: the largest count ``N``.
    Returns:
        ``(src, step)``, both (E,) int64 with ``E = counts.sum()``: ``src`` indexes ``counts``;
        within a sub-step pixels are ordered by decreasing count, then by input order.
    Cost: O(P + E + N) (a radix sort of the counts, then prefixes of that order).
    """
    counts = np.asarray(counts)
    p = counts.shape[0]
    if p == 0 or n_steps <= 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e.copy()
    order = _stable_desc_order(counts, n_steps)
    hist = np.bincount(counts, minlength=n_steps + 1)
    n_at = p - np.cumsum(hist)[:n_steps]  # pixels still firing at sub-step k (count > k)
    step = np.repeat(np.arange(n_steps, dtype=np.int64), n_at)
    starts = np.cumsum(n_at) - n_at
    rank = np.arange(step.shape[0], dtype=np.int64) - np.repeat(starts, n_at)
    return order[rank].astype(np.int64, copy=False), step


def first_after(ts: np.ndarray, ref: np.ndarray, lo: np.ndarray, hi: np.ndarray, period: float) -> np.ndarray:
    """Smallest ``k`` in ``[lo, hi)`` with ``ts[k] - ref > period``, else ``hi`` (vectorised).

    ``ts`` (N,) is non-decreasing, so the condition holds on a suffix and a binary search finds
    it; the subtraction and comparison run in ``ts``'s dtype (float32), as in v2e.
    """
    n = ts.shape[0]
    lo = lo.astype(np.int64, copy=True)
    hi = hi.astype(np.int64, copy=True)
    for _ in range(max(1, math.ceil(math.log2(n + 1)) + 1)):
        open_ = lo < hi
        if not open_.any():
            break
        mid = (lo + hi) // 2
        cond = (ts[np.minimum(mid, n - 1)] - ref) > ts.dtype.type(period)
        hi = np.where(open_ & cond, mid, hi)
        lo = np.where(open_ & ~cond, mid + 1, lo)
    return lo


def refractory_select(ts: np.ndarray, last_t: np.ndarray, counts: np.ndarray, period: float):
    """v2e's refractory filter on the sub-step lattice ``ts``, per firing pixel.

    A pixel's candidate events lie on sub-steps ``0 .. count-1``; one is emitted when
    ``ts[k] - t_last > period`` (``t_last``: the pixel's last emitted event), else it is dropped.
    The emitted sub-steps form a chain ``k0, next[k0], next[next[k0]], ...``, walked for all
    pixels at once: O(emitted events + (P + N) log N).

    Args:
        ts: (N,) float32 sub-step times (s). last_t: (P,) float32 last emitted event time (s).
        counts: (P,) candidate counts. period: refractory period (s).
    Returns:
        ``(src, step, n_emit, last_step)``: emitted events ordered by sub-step (``src`` indexes
        the P pixels), emitted count per pixel (int32), last emitted sub-step (-1: none).
    """
    n = ts.shape[0]
    p = counts.shape[0]
    counts = counts.astype(np.int64, copy=False)
    k0 = first_after(ts, last_t, np.zeros(p, dtype=np.int64), counts, period)
    j = np.arange(n, dtype=np.int64)
    nxt = first_after(ts, ts, j + 1, np.full(n, n, dtype=np.int64), period)
    idx = np.arange(p, dtype=np.int64)
    alive = k0 < counts
    idx, cur, cnt = idx[alive], k0[alive], counts[alive]
    srcs, steps = [], []
    last_step = np.full(p, -1, dtype=np.int64)
    while idx.shape[0]:
        srcs.append(idx)
        steps.append(cur)
        last_step[idx] = cur
        cur = nxt[cur]
        keep = cur < cnt
        idx, cur, cnt = idx[keep], cur[keep], cnt[keep]
    if srcs:
        src = np.concatenate(srcs)
        step = np.concatenate(steps)
        order = np.argsort(step.astype(np.int16) if n < 32767 else step, kind="stable")
        src, step = src[order], step[order]
    else:
        src = np.zeros(0, dtype=np.int64)
        step = src.copy()
    n_emit = np.bincount(src, minlength=p).astype(np.int32)
    return src, step, n_emit, last_step
