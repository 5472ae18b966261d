"""Per-pixel event counts -> time-ordered events in O(number of events) (numpy, host side).

v2e (Hu et al., CVPRW 2021; SensorsINI/v2e ``emulator.py``) loops over the ``N`` sub-steps
of a frame and scans the whole ``H x W`` frame at each one: O(N*H*W). Here only the P
pixels that fire are touched: a pixel's k-th event falls on sub-step ``k - 1``.
"""
from __future__ import annotations

import functools
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


# ---------------------------------------------------------------- compiled kernels (optional numba)
# The same computations as the numpy code above and in :mod:`nvlib.simulate.emulator`, fused into
# single passes over the pixels / events. Every arithmetic step keeps numpy's dtypes (float32 ops
# on float32 values, python scalars pre-cast as numpy casts them), so the output is identical;
# ``tests/test_simulate_emulator.py`` checks both back-ends against each other and the reference.
try:  # pragma: no cover - exercised when numba is installed
    import numba as _numba
except ImportError:  # pragma: no cover
    _numba = None

HAVE_NUMBA = _numba is not None


def _njit(fn):
    return _numba.njit(cache=True, nogil=True)(fn) if HAVE_NUMBA else fn


if HAVE_NUMBA:
    from nvlib.simulate._llvm import fma32 as _fma32


@_njit
def nb_lattice_times(start, end, n):
    """v2e's sub-step times ``torch.linspace(start, end, n, dtype=float32)`` as torch's CPU kernel
    makes them (float32 ``start``, ``end`` and ``step = (end - start)/(n - 1)``; the first half
    ``start + step*i``, the rest ``end - step*(n - 1 - i)``, each one fused multiply-add; ``n = 1``
    gives ``[start]``), and those times in integer microseconds (``round(t * 1e6)`` in float64,
    half to even). Returns ``(ts, t_us)``: (n,) float32 and (n,) int64."""
    s = np.float32(start)
    e = np.float32(end)
    ts = np.empty(n, np.float32)
    if n == 1:
        ts[0] = s
    else:
        step = (e - s) / np.float32(n - 1)
        half = n // 2
        for i in range(n):
            if i < half:
                ts[i] = _fma32(step, np.float32(i), s)
            else:
                ts[i] = _fma32(-step, np.float32(n - 1 - i), e)
    t_us = np.empty(n, np.int64)
    for i in range(n):
        t_us[i] = np.int64(np.round(np.float64(ts[i]) * 1e6))
    return ts, t_us


def lattice_times(start: float, end: float, n: int):
    """:func:`nb_lattice_times` where this torch's ``linspace`` computes as it assumes (checked
    once per process by :func:`linspace_matches_torch`), else ``torch.linspace`` itself."""
    if HAVE_NUMBA and linspace_matches_torch():
        return nb_lattice_times(start, end, n)
    import torch
    ts = torch.linspace(start, end, n, dtype=torch.float32).numpy()
    return ts, np.round(ts.astype(np.float64) * 1e6).astype(np.int64)


@functools.lru_cache(maxsize=None)
def linspace_matches_torch() -> bool:
    """Whether :func:`nb_lattice_times` equals ``torch.linspace`` (float32, CPU) on 600 random
    v2e-like lattices (start ``t_prev + dt/n``, end ``t_prev + dt``, n up to 300)."""
    if not HAVE_NUMBA:
        return False
    import torch
    rng = np.random.default_rng(1861)
    for _ in range(600):
        t_prev = float(rng.uniform(0, 200))
        dt = float(rng.choice([1 / 30, 1 / 25, 1 / 60, 1e-3, rng.uniform(0, 0.2)]))
        n = int(rng.integers(1, 300))
        ref = torch.linspace(t_prev + dt / n, t_prev + dt, n, dtype=torch.float32).numpy()
        ts, t_us = nb_lattice_times(t_prev + dt / n, t_prev + dt, n)
        if not (np.array_equal(ts, ref) and np.array_equal(t_us, np.round(ref.astype(np.float64) * 1e6))):
            return False
    return True


@_njit
def _floordiv(a, b, is32):
    """numpy's ``floor_divide(a, b)`` for ``a >= 0``, ``b > 0`` in float32 (``is32``) or float64.

    numpy's result is the exact floor of the real quotient (for quotients << 2**22), so when
    the float64 quotient is clear of an integer by far more than its rounding error, its floor
    is the answer; near an integer, numpy's algorithm itself runs.
    """
    x = np.float64(a) / np.float64(b)
    fl = math.floor(x)
    fr = x - fl
    if x < 1e6 and fr > 1e-7 and fr < 1.0 - 1e-7:
        return int(fl)
    return _floordiv32(a, b) if is32 else _floordiv64(a, b)


@_njit
def _floordiv64(a, b):
    """numpy's float64 ``floor_divide`` (Python's algorithm) for ``a >= 0``, ``b > 0``."""
    mod = np.fmod(a, b)
    div = (a - mod) / b
    if div == 0.0:
        return 0
    fl = math.floor(div)
    if div - fl > 0.5:
        fl += 1.0
    return int(fl)


@_njit
def _floordiv32(a, b):
    """numpy's float32 ``floor_divide`` for float32 ``a >= 0``, ``b > 0``: each step rounded to
    float32 (a float64 op rounded once to float32 is the float32 op; fmod and the subtraction
    are exact)."""
    a64 = np.float64(a)
    b64 = np.float64(b)
    mod = np.float64(np.float32(np.fmod(a64, b64)))
    div = np.float64(np.float32(a64 - mod))
    div = np.float64(np.float32(div / b64))
    if div == 0.0:
        return 0
    fl = math.floor(div)
    if div - fl > 0.5:
        fl += 1.0
    return int(fl)


@_njit
def _put(ev, e, f, w, t, o):
    # f // w without an integer division: (f + 1/2)/w is at least 1/(2w) away from an integer, far more
    # than the float64 rounding error for pixel indices below 2**40
    y = np.int64((np.float64(f) + 0.5) * (1.0 / np.float64(w)))
    ev[e]['x'] = f - y * w
    ev[e]['y'] = y
    ev[e]['t'] = t
    ev[e]['p'] = 1 if o else 0


@_njit
def nb_emit_lattice(flat, counts, on, p, n_max, t_table, w, base, pos32, neg32, ev):
    """Events of ``expand_counts`` order (sub-step, then decreasing count, then pixel), written
    into ``ev`` (EVENT_DTYPE, ``counts[:p].sum()`` long); then ``base += n_on*pos - n_off*neg``.
    Returns the number of events at each sub-step (N,)."""
    hist = np.zeros(n_max + 2, np.int64)
    for j in range(p):
        hist[counts[j]] += 1
    start = np.zeros(n_max + 2, np.int64)  # start[c]: pixels with count > c
    acc = 0
    for c in range(n_max, -1, -1):
        start[c] = acc
        acc += hist[c]
    fill = start.copy()
    xo = np.empty(p, np.int16)  # the pixels' addresses in emission order, computed once per pixel
    yo = np.empty(p, np.int16)
    po = np.empty(p, np.int8)
    for j in range(p):
        c = counts[j]
        r = fill[c]
        fill[c] += 1
        f = flat[j]
        y = f // w
        xo[r] = f - y * w
        yo[r] = y
        po[r] = 1 if on[j] else 0
    per_step = np.empty(n_max, np.int64)
    e = 0
    for k in range(n_max):
        m = start[k]  # the pixels still firing at sub-step k: a prefix of that order
        per_step[k] = m
        t = t_table[k]
        for r in range(m):
            ev[e + r]['x'] = xo[r]
            ev[e + r]['y'] = yo[r]
            ev[e + r]['t'] = t
            ev[e + r]['p'] = po[r]
        e += m
    _update_base(flat, counts, on, p, base, pos32, neg32)
    return per_step


@_njit
def _update_base(flat, em, on, p, base, pos32, neg32):
    zero = np.float32(0.0)
    for j in range(p):
        f = flat[j]
        m = np.float32(em[j])
        b = base[f]
        b = b + (m if on[j] else zero) * pos32[f]
        base[f] = b - (zero if on[j] else m) * neg32[f]


@_njit
def nb_emit_refractory(flat, counts, on, p, ts, t_table, mem, period32, w, base, pos32, neg32, ev):
    """``refractory_select`` order (sub-step, then the event's rank in its pixel's chain, then
    pixel) with v2e's float32 test ``ts[k] - last > R``; writes the emitted events into ``ev``
    (capacity ``counts[:p].sum()``), updates ``mem`` and ``base``. Returns ``(E, per-step counts)``."""
    n = ts.shape[0]
    n_emit = np.zeros(p, np.int64)
    lmax = 0
    for j in range(p):  # pass 1: emitted count per pixel
        last = mem[flat[j]]
        m = 0
        for k in range(counts[j]):
            if ts[k] - last > period32:
                last = ts[k]
                m += 1
        n_emit[j] = m
        if m > lmax:
            lmax = m
    tab = np.zeros(n * lmax + 1, np.int64)  # pass 2: (step, rank) histogram -> offsets
    for j in range(p):
        last = mem[flat[j]]
        m = 0
        for k in range(counts[j]):
            if ts[k] - last > period32:
                last = ts[k]
                tab[k * lmax + m] += 1
                m += 1
    per_step = np.zeros(n, np.int64)
    acc = 0
    for k in range(n):
        for r in range(lmax):
            c = tab[k * lmax + r]
            tab[k * lmax + r] = acc
            acc += c
            per_step[k] += c
    for j in range(p):  # pass 3: write, in pixel order within each (step, rank)
        f = flat[j]
        last = mem[f]
        m = 0
        o = on[j]
        for k in range(counts[j]):
            if ts[k] - last > period32:
                last = ts[k]
                slot = k * lmax + m
                _put(ev, tab[slot], f, w, t_table[k], o)
                tab[slot] += 1
                m += 1
        mem[f] = last
    _update_base(flat, n_emit, on, p, base, pos32, neg32)
    return acc, per_step


@_njit
def nb_put_shot(ev, e, on_flat, off_flat, w, t):
    """Shot-noise events from ``e`` on: the ON pixels, then the OFF pixels, all at ``t``."""
    for i in range(on_flat.shape[0]):
        _put(ev, e + i, on_flat[i], w, t, True)
    e += on_flat.shape[0]
    for i in range(off_flat.shape[0]):
        _put(ev, e + i, off_flat[i], w, t, False)


@_njit
def nb_put_shot_reset(ev, e, on_flat, off_flat, w, t, base, lp):
    """Shot-noise events into ``ev`` from ``e`` on (:func:`nb_put_shot`); each such pixel's ``base`` is
    reset to its ``lp``. Returns the new length."""
    nb_put_shot(ev, e, on_flat, off_flat, w, t)
    for i in range(on_flat.shape[0]):
        base[on_flat[i]] = lp[on_flat[i]]
    for i in range(off_flat.shape[0]):
        base[off_flat[i]] = lp[off_flat[i]]
    return e + on_flat.shape[0] + off_flat.shape[0]


@_njit
def shot_test(uu, f, pre_pos, pre_neg, px, on_out, off_out, a, b):
    """v2e's shot-noise test of pixel ``px`` with uniform ``uu``: ON if ``uu > 1 - f*pre_pos``, OFF if
    ``uu < f*pre_neg`` (float64; ``pre_*`` float32 widened); appends to the lists, returns their lengths."""
    if uu > 1.0 - f * np.float64(pre_pos[px]):
        on_out[a] = px
        a += 1
    if uu < f * np.float64(pre_neg[px]):
        off_out[b] = px
        b += 1
    return a, b


@_njit
def nb_shot_v2e(fr, u, f_lut, pre_pos, pre_neg, on_out, off_out):
    """:func:`shot_test` for every pixel (``f = f_lut[fr]``, ``u`` float32); fills the ascending pixel
    lists, returns their lengths."""
    a = 0
    b = 0
    for i in range(u.shape[0]):
        a, b = shot_test(np.float64(u[i]), f_lut[fr[i]], pre_pos, pre_neg, i, on_out, off_out, a, b)
    return a, b


@_njit
def _pixels_chunk(fr, lp, one_minus_eps, eps_l, lut_l, base, noise_rate, c_leak, cj_leak, rand, pos32, neg32,
                  leak32, jit32, dt32, fire):
    """Steps 1-2 of :func:`nb_pixels` on one chunk (zero-based views, so the second loop
    vectorises; the table lookups of the first do not), and ``fire[i]``: whether pixel i fires."""
    one = np.float32(1.0)
    for i in range(lp.shape[0]):
        g = fr[i]
        if one_minus_eps is not None:
            v = one_minus_eps[g] * lp[i]
            lp[i] = v + eps_l[g]
        else:
            lp[i] = lut_l[g]
    for i in range(lp.shape[0]):
        b = base[i]
        if noise_rate is not None:
            a = leak32 * noise_rate[i]
            cc = one - jit32 * rand[i]
            e = dt32 * (a * cc)
            b = b - e * pos32[i]
        if c_leak is not None:
            c_dt = c_leak[i] * dt32
            if cj_leak is not None:
                c_dt = c_dt - (cj_leak[i] * dt32) * rand[i]
            b = b - c_dt
        base[i] = b
        d = np.float64(lp[i] - b)  # computed in the dtype of lp/base, then widened
        fire[i] = (d >= np.float64(pos32[i])) | (d <= -np.float64(neg32[i]))


@_njit
def _pixels(fr, lp, one_minus_eps, eps_l, lut_l, base, noise_rate, c_leak, cj_leak, rand, pos32, neg32,
            leak32, jit32, dt32, flat, counts, on, is32):
    """:func:`nb_pixels` with the low-pass tables made: chunks of 4096 pixels, each updated by
    :func:`_pixels_chunk`, then its firing pixels counted."""
    p = 0
    n_max = 0
    total = 0
    n = lp.shape[0]
    fire = np.empty(4096, np.bool_)
    for lo in range(0, n, 4096):
        hi = min(n, lo + 4096)
        _pixels_chunk(fr[lo:hi], lp[lo:hi], one_minus_eps, eps_l, lut_l, base[lo:hi],
                      None if noise_rate is None else noise_rate[lo:hi], None if c_leak is None else c_leak[lo:hi],
                      None if cj_leak is None else cj_leak[lo:hi], None if rand is None else rand[lo:hi],
                      pos32[lo:hi], neg32[lo:hi], leak32, jit32, dt32, fire)
        for k in range(hi - lo):
            if not fire[k]:
                continue
            i = lo + k
            d = np.float64(lp[i] - base[i])
            tp = np.float64(pos32[i])
            if d >= tp:
                c = _floordiv(d, tp, is32)
                o = True
            else:
                c = _floordiv(-d, np.float64(neg32[i]), is32)
                o = False
            flat[p] = i
            counts[p] = c
            on[p] = o
            if c > n_max:
                n_max = c
            total += c
            p += 1
    return p, n_max, total


@_njit
def nb_pixels(fr, lp, inten, k_lp, lut_l, base, noise_rate, c_leak, cj_leak, rand, pos32, neg32,
              leak32, jit32, dt32, flat, counts, on, is32):
    """One pass over the flat pixels, in numpy's dtypes step by step (so the same values):

    1. with ``inten`` (the (256,) float64 intensity table), the low-pass: ``eps = min(inten*k_lp, 1)``
       (``k_lp = dt/tau``), ``lp = (1 - eps)[fr]*lp + (eps*L)[fr]`` (float64); else (None)
       ``lp = lut_l[fr]``;
    2. leak, in place on ``base``: with ``noise_rate``, v2e's ``base -= dt*(leak*rate*(1 -
       jit*rand))*pos`` in float32 steps; with ``c_leak``, ``base -= c*dt - (cj*dt)*rand`` (``cj_leak``
       None: no jitter term); neither: no leak;
    3. firing pixels of ``diff = lp - base``: fills ``flat``, ``counts`` (>= 1, ``floor_divide(|diff|,
       thr)`` in the dtype of diff: float32 when ``is32``), ``on``; the float32 thresholds are
       widened exactly, which is what numpy does to them in float64.
    Arguments passed as None are compiled out (numba prunes ``is None`` branches per signature).
    Returns ``(P, N, C)``: the number of firing pixels, the largest count and the sum of counts."""
    if inten is None:
        return _pixels(fr, lp, None, None, lut_l, base, noise_rate, c_leak, cj_leak, rand, pos32, neg32,
                       leak32, jit32, dt32, flat, counts, on, is32)
    one_minus_eps = np.empty(inten.shape[0], np.float64)
    eps_l = np.empty(inten.shape[0], np.float64)
    for g in range(inten.shape[0]):
        e = min(inten[g] * k_lp, 1.0)
        one_minus_eps[g] = 1.0 - e
        eps_l[g] = e * np.float64(lut_l[g])
    return _pixels(fr, lp, one_minus_eps, eps_l, lut_l, base, noise_rate, c_leak, cj_leak, rand, pos32, neg32,
                   leak32, jit32, dt32, flat, counts, on, is32)
