"""Temporal Binary Representation (TBR): N binary event frames read as one N-bit number per pixel.

Innocenti, Becattini, Pernici, Del Bimbo, *Temporal Binary Representation for Event-Based Action
Recognition*, ICPR 2020; used with Δt = 5 ms and N ∈ {8, 16} by Berlincioni et al., *Neuromorphic
Valence and Arousal Estimation* (Section 4). For each Δt slice a binary frame is 1 where any event fell
at (x, y); N consecutive slices become one frame whose pixel value is the N-bit word of those bits.

Conventions (the authors' group, the defaults here):
  * polarity ignored (``polarity=False``);
  * the oldest slice is the least significant bit, the newest the most significant (``msb_newest=True``);
  * values are normalised by ``2**N - 1``: an event only in the newest slice gives
    ``2**(N-1) / (2**N - 1)`` (128/255 for N = 8).
tonic's ``ToBinaRep`` (Barchid et al. 2022, *Bina-Rep*) makes the opposite choices: the oldest slice is the
most significant bit and polarities are kept apart; ``msb_newest=False, polarity=True`` reproduces it.

Implementation: back-to-back windows (:func:`tbr`) and aligned or arbitrary windows (:func:`tbr_windows`,
:func:`tbr_aligned`) are compiled passes over the event records (:mod:`nvlib.represent._compiled`): each
event ORs its slice's bit into the current window's code buffer (ceil(N/8) byte planes); a finished window
is written out and the buffer cleared. The numpy path runs for sliding windows (``stride_us``) and for
input the compiled passes refuse (unsorted times: it sorts; a bad event: it names it; window starts out
of order). It finds every (window, slice) pair as one contiguous run of the time-sorted events with
``searchsorted``; each run ORs its bit into the window's code buffer with one fancy-indexed ``|=`` (exact
with repeated pixels because all events of a run carry the same bit), and a finished window is
normalised into the output; streams with fewer than 64 events per run on average take one masked OR pass
per bit over all events instead. Either way only one window's code words are held, never one frame per
slice. Both paths give the same arrays.
"""
from __future__ import annotations

import numpy as np

from nvlib.represent import _compiled
from nvlib.represent._input import Columns, check_bits, check_delta_t, columns
from nvlib.represent.windows import aligned_windows, window_starts

#: switch to the vectorised per-bit pass when runs hold fewer events than this on average
_DENSE_EVENTS_PER_RUN = 64


def code_dtype(n_bits: int) -> np.dtype:
    """The unsigned integer type holding an ``n_bits`` TBR code: uint8 for N ≤ 8, else uint16."""
    return np.dtype(np.uint8) if check_bits(n_bits) <= 8 else np.dtype(np.uint16)


def bit_weights(n_bits: int, msb_newest: bool = True) -> np.ndarray:
    """Integer weight of each slice, oldest first: ``2**k`` (``msb_newest``) or ``2**(N-1-k)``."""
    n = check_bits(n_bits)
    k = np.arange(n)
    return (1 << (k if msb_newest else n - 1 - k)).astype(code_dtype(n))


def normalize_codes(codes: np.ndarray, n_bits: int) -> np.ndarray:
    """Codes divided by ``2**N - 1`` in float32 (correctly rounded), so the full word maps to 1.0."""
    out = np.empty(codes.shape, np.float32)
    np.divide(codes, np.float32((1 << check_bits(n_bits)) - 1), out=out, dtype=np.float32)
    return out


def codes_from_bits(bits: np.ndarray, msb_newest: bool = True) -> np.ndarray:
    """Pack binary slices ``(..., N, H, W)`` (oldest first along axis -3) into TBR codes ``(..., H, W)``.

    The reference definition used by the tests: ``sum_k bits[k] * weight[k]``.
    """
    bits = np.asarray(bits)
    n = bits.shape[-3]
    w = bit_weights(n, msb_newest).astype(np.int64)
    codes = np.tensordot(np.moveaxis((bits > 0).astype(np.int64), -3, -1), w, axes=([-1], [0]))
    return codes.astype(code_dtype(n))


def _tbr_frames(cols: Columns, starts: np.ndarray, delta_t_us: int, n_bits: int, msb_newest: bool,
                polarity: bool, normalize: bool) -> np.ndarray:
    """TBR frames ``(F, C*H*W)`` for windows ``[starts[f], starts[f] + N*Δt)``, C = 2 with ``polarity``.

    float32 codes / (2**N - 1) with ``normalize``, else the integer codes.
    """
    n_frames = starts.shape[0]
    plane = cols.width * cols.height * (2 if polarity else 1)
    dtype = code_dtype(n_bits)
    out_dtype = np.float32 if normalize else dtype
    if n_frames == 0 or len(cols) == 0:
        return np.zeros((n_frames, plane), out_dtype)
    weights = bit_weights(n_bits, msb_newest)
    bounds = starts[:, None] + delta_t_us * np.arange(n_bits + 1, dtype=np.int64)
    edges = np.searchsorted(cols.t, bounds.ravel(), side="left").reshape(n_frames, n_bits + 1)
    first, last = edges[:, :-1].ravel(), edges[:, 1:].ravel()
    lengths = last - first
    runs = np.flatnonzero(lengths)
    if runs.size == 0:
        return np.zeros((n_frames, plane), out_dtype)
    idx = cols.pixel_index(polarity)
    total = int(lengths[runs].sum())
    if runs.size * _DENSE_EVENTS_PER_RUN > total:
        codes = _sparse_codes(idx, first, lengths, runs, total, n_frames, plane, n_bits, weights)
        return normalize_codes(codes, n_bits) if normalize else codes
    # dense: one window at a time in a single code buffer (N*H*W bits in flight), one fancy-indexed OR per
    # (window, slice) run, then the finished window is written out while it is still in cache
    out = np.empty((n_frames, plane), out_dtype)
    has_runs = np.zeros(n_frames, bool)
    has_runs[runs // n_bits] = True
    out[~has_runs] = 0
    buf = np.zeros(plane, dtype)
    den = np.float32((1 << n_bits) - 1)
    current = -1
    for r, a, b in zip(runs.tolist(), first[runs].tolist(), last[runs].tolist()):
        f = r // n_bits
        if f != current:
            if current >= 0:
                _emit(buf, out[current], normalize, den)
                buf.fill(0)
            current = f
        buf[idx[a:b]] |= weights[r % n_bits]
    _emit(buf, out[current], normalize, den)
    return out


def _emit(buf: np.ndarray, row: np.ndarray, normalize: bool, den: np.float32) -> None:
    if normalize:
        np.divide(buf, den, out=row, dtype=np.float32)
    else:
        row[...] = buf


def _sparse_codes(idx, first, lengths, runs, total, n_frames, plane, n_bits, weights) -> np.ndarray:
    """Codes of many short runs: gather every run's events once, then one masked OR pass per bit."""
    codes = np.zeros((n_frames, plane), weights.dtype)
    run_len = lengths[runs]
    offsets = np.repeat(first[runs] - (np.cumsum(run_len) - run_len), run_len)
    ev = np.arange(total, dtype=np.intp) + offsets
    run_of = np.repeat(runs, run_len)
    key = (run_of // n_bits) * plane + idx[ev]
    slot = run_of % n_bits
    flat = codes.reshape(-1)
    for k in range(n_bits):
        sel = slot == k
        if sel.any():
            flat[key[sel]] |= weights[k]
    return codes


def _shape_output(frames: np.ndarray, cols: Columns, polarity: bool) -> np.ndarray:
    shape = (frames.shape[0], 2, cols.height, cols.width) if polarity else (frames.shape[0], cols.height, cols.width)
    return frames.reshape(shape)


def tbr(events, sensor_size=None, delta_t_us=5000, n_bits=8, normalize=True, start_us=None, n_frames=None,
        msb_newest=True, polarity=False, stride_us=None) -> np.ndarray:
    """TBR frames of an event stream (Innocenti et al., ICPR 2020).

    Args:
        events: :class:`nvlib.events.Events` or a structured array with fields ``x, y, t[, p]`` (t in µs).
            Unsorted timestamps are sorted (a copy); coordinates outside the sensor raise ``ValueError``.
        sensor_size: ``(W, H)`` as in tonic (``None``: the size carried by ``events``).
        delta_t_us: slice length Δt in µs (> 0); n_bits: N in 1..16.
        normalize: float32 codes / (2**N - 1) in [0, 1]; else exact uint8 (N ≤ 8) / uint16 codes.
        start_us: t0 (default: first event time); events before it are ignored.
        n_frames: number of frames (default: enough to cover the last event).
        msb_newest: newest slice = most significant bit (the authors' group); ``False``: tonic's order.
        polarity: keep ON/OFF apart as two channels (channel = p), as tonic's ToBinaRep does.
        stride_us: sliding windows: frame i starts at t0 + i*stride (default: N*Δt, non-overlapping).

    Returns:
        ``(n_frames, H, W)`` (``(n_frames, 2, H, W)`` with ``polarity``); frame i covers
        ``[t0 + i*stride, t0 + i*stride + N*Δt)``, and its slice k ``[.. + k*Δt, .. + (k+1)*Δt)``.
    """
    dt = check_delta_t(delta_t_us)
    n = check_bits(n_bits)
    if stride_us is None:
        fast = _tbr_compiled(events, sensor_size, dt, n, normalize, start_us, n_frames, msb_newest, polarity)
        if fast is not None:
            return fast
    cols = columns(events, sensor_size, polarity=polarity)
    t_first = int(cols.t[0]) if len(cols) else None
    t_last = int(cols.t[-1]) if len(cols) else None
    starts = window_starts(t_first, t_last, n * dt, start_us, n_frames, stride_us)
    return _shape_output(_tbr_frames(cols, starts, dt, n, msb_newest, polarity, normalize), cols, polarity)


def _tbr_compiled(events, sensor_size, dt, n_bits, normalize, start_us, n_frames, msb_newest, polarity):
    """:func:`tbr` (back-to-back windows) by the compiled pass over the events inside them (their range by
    binary search), or None where the checked numpy path must run (no numba, unsorted times: it sorts; a
    bad event: it names it)."""
    f = _compiled.fields(events, sensor_size, polarity)
    if f is None:
        return None
    ev, t, w, h, pol = f.ev, f.t, f.w, f.h, f.pol
    n_ev = t.shape[0]
    starts = window_starts(int(t[0]) if n_ev else None, int(t[-1]) if n_ev else None, n_bits * dt, start_us,
                           n_frames)
    n = starts.shape[0]
    chans = 2 if polarity else 1
    out = np.zeros((n, chans * h * w), np.float32 if normalize else code_dtype(n_bits))
    if n == 0:
        if _compiled.check_pass(ev, pol, w, h):
            return None
    else:
        edges = _compiled.window_edges(f, starts, n_bits * dt)
        if edges is None:
            return None
        a, b = int(edges[0]), int(edges[-1])
        buf = np.zeros(((n_bits + 7) // 8, chans * h * w), np.uint8)
        if _compiled.tbr_pass(ev[a:b], pol, w, h, int(starts[0]), dt, n_bits, msb_newest, buf, out, normalize,
                              np.float32((1 << n_bits) - 1), int(t[a - 1]) if a else (int(t[0]) if n_ev else 0)):
            return None
    return out.reshape((n, 2, h, w) if polarity else (n, h, w))


def tbr_windows(events, sensor_size, starts_us, delta_t_us=5000, n_bits=8, normalize=True, msb_newest=True,
                polarity=False) -> np.ndarray:
    """TBR frames for arbitrary window starts: frame i covers ``[starts_us[i], starts_us[i] + N*Δt)``."""
    dt = check_delta_t(delta_t_us)
    n = check_bits(n_bits)
    starts = np.asarray(starts_us)
    if starts.ndim != 1:
        raise ValueError(f"window start times must be a 1-d array, got shape {starts.shape}")
    if starts.size and not np.issubdtype(starts.dtype, np.integer):
        if not np.all(np.mod(starts, 1) == 0):
            raise ValueError("window start times must be whole microseconds")
    starts = starts.astype(np.int64)
    fast = _tbr_windows_compiled(events, sensor_size, starts, dt, n, normalize, msb_newest, polarity)
    if fast is not None:
        return fast
    cols = columns(events, sensor_size, polarity=polarity)
    frames = _tbr_frames(cols, starts, dt, n, msb_newest, polarity, normalize)
    return _shape_output(frames, cols, polarity)


def _tbr_windows_compiled(events, sensor_size, starts, dt, n_bits, normalize, msb_newest, polarity):
    """:func:`tbr_windows` for non-decreasing starts by the compiled windows pass, after one compiled
    check of the whole stream; None where the numpy path must run (no numba, starts out of order,
    unsorted or bad events)."""
    if starts.size > 1 and np.any(starts[1:] < starts[:-1]):
        return None
    f = _compiled.fields(events, sensor_size, polarity)
    if f is None:
        return None
    ev, t, w, h, pol = f.ev, f.t, f.w, f.h, f.pol
    n_ev = t.shape[0]
    if _compiled.check_pass(ev, pol, w, h):
        return None
    chans = 2 if polarity else 1
    n = starts.shape[0]
    out = np.zeros((n, chans * h * w), np.float32 if normalize else code_dtype(n_bits))
    if n and n_ev:
        lo = _compiled.search_edges(t, starts)
        hi = _compiled.search_edges(t, starts + n_bits * dt)
        buf = np.zeros(((n_bits + 7) // 8, chans * h * w), np.uint8)
        _compiled.tbr_windows_pass(ev, pol, w, h, starts, lo, hi, dt, n_bits, msb_newest, buf, out, normalize,
                                   np.float32((1 << n_bits) - 1))
    return out.reshape((n, 2, h, w) if polarity else (n, h, w))


def tbr_memory_bytes(sensor_size, n_bits: int) -> dict:
    """Bytes per TBR frame: packed bits (N·H·W/8), the code word array held here, and N float32 slices."""
    w, h = int(sensor_size[0]), int(sensor_size[1])
    n = check_bits(n_bits)
    return {
        "n_bits": n,
        "packed_bits": n * w * h / 8,
        "codes": code_dtype(n).itemsize * w * h,
        "float32_frame": 4 * w * h,
        "float32_slices": 4 * n * w * h,
    }


def binary_slices(events, sensor_size=None, start_us=0, delta_t_us=5000, n_bits=8) -> np.ndarray:
    """The N binary frames ``(N, H, W)`` uint8 behind one TBR frame starting at ``start_us``, oldest first.

    Slice k is 1 where any event fell in ``[start + k*Δt, start + (k+1)*Δt)``; the TBR code of the window
    is ``codes_from_bits(binary_slices(...))`` (the definition, used to explain and to test).
    """
    dt = check_delta_t(delta_t_us)
    n = check_bits(n_bits)
    cols = columns(events, sensor_size, polarity=False)
    out = np.zeros((n, cols.height * cols.width), np.uint8)
    edges = np.searchsorted(cols.t, int(start_us) + dt * np.arange(n + 1))
    for k in range(n):
        out[k, cols.pix[edges[k]:edges[k + 1]]] = 1
    return out.reshape(n, cols.height, cols.width)


def active_bits(codes: np.ndarray) -> np.ndarray:
    """Number of set bits (slices with events) per integer TBR code (popcount), uint8."""
    codes = np.asarray(codes)
    if not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"active_bits needs integer codes (normalize=False), got {codes.dtype}")
    return np.bitwise_count(codes.astype(np.uint16)).astype(np.uint8)


def tbr_aligned(events, sensor_size, end_times_us, delta_t_us=5000, n_bits=8, normalize=True, msb_newest=True,
                polarity=False) -> np.ndarray:
    """One TBR frame per end time, covering ``[end - N*Δt, end)``: shape ``(len(end_times_us), H, W)``.

    End times are µs on the events' clock (e.g. :func:`frame_times_us` of the RGB video); windows may
    overlap or lie before the first event (they are then empty). Conventions as in :func:`tbr`.
    """
    starts, _ = aligned_windows(end_times_us, delta_t_us, n_bits)
    return tbr_windows(events, sensor_size, starts, delta_t_us, n_bits, normalize, msb_newest, polarity)
