"""Torch variants of TBR and histograms: tensors in, tensors out, on any device (CPU or CUDA).

Same windows and conventions as :func:`nvlib.represent.tbr` / :func:`nvlib.represent.histogram`. Each
(window, slice) run is found with ``torch.searchsorted`` on the sorted timestamps; events are gathered
run by run (so overlapping windows just see an event several times), and the OR of each pixel's bits is
a sum over the distinct (pixel, bit) pairs (``torch.unique``), which needs no atomic OR.
They are for tensors already on a GPU: on one H100, 2 M events at 1280x720 (resident on the GPU) gave TBR
in 1.4-2.3 ms and histograms in 0.8-1.5 ms (``bench/represent.py --torch``). On the CPU the compiled numpy
functions are faster: 9-32x for TBR, 4-7x for histograms (one thread of the same machine).
Integer codes are ``torch.uint8`` for N ≤ 8 and ``torch.int32`` for N ≤ 16 (torch's uint16 supports few ops).
Normalised values are read from a table of :func:`~nvlib.represent.normalize_codes` (correctly rounded
code / (2**N - 1)), so CPU and CUDA give the numpy path's float32 bits exactly: CUDA's division of a
tensor by a Python scalar multiplies by the reciprocal, which is 1 ulp off for about half of the codes.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from nvlib.events import Events
from nvlib.represent._input import check_bits, check_delta_t, columns, sensor_wh
from nvlib.represent.tbr import normalize_codes
from nvlib.represent.windows import aligned_windows, window_starts


def event_tensors(events, sensor_size=None, device=None, name: str = "events"):
    """``(x, y, t, p)`` int64 tensors on ``device``, validated and time-sorted, and ``(W, H)``.

    ``events``: :class:`~nvlib.events.Events`, a structured array, or a mapping of tensors/arrays with
    keys ``x, y, t[, p]`` (kept on their device unless ``device`` is given).
    """
    if isinstance(events, Mapping):
        w, h = sensor_wh(sensor_size)
        x, y, t = (torch.as_tensor(events[k]) for k in ("x", "y", "t"))
        p = torch.as_tensor(events["p"]) if "p" in events else torch.zeros_like(t)
        dev = torch.device(device) if device is not None else t.device
        x, y, t, p = (v.to(dev, torch.int64) for v in (x, y, t, p))
        if not (x.shape == y.shape == t.shape == p.shape) or t.ndim != 1:
            raise ValueError(f"{name}: x, y, t, p must be 1-d tensors of one length")
        if t.numel():
            for col, lim, axis in ((x, w, "x"), (y, h, "y")):
                bad = (col < 0) | (col >= lim)
                if bool(bad.any()):
                    i = int(torch.argmax(bad.to(torch.uint8)))
                    raise ValueError(f"{name}: event {i} has {axis}={int(col[i])} outside the sensor "
                                     f"of size (W={w}, H={h})")
            if bool(((p < 0) | (p > 1)).any()):
                raise ValueError(f"{name}: polarities must be 0 or 1")
            if t.numel() > 1 and not bool((t[1:] >= t[:-1]).all()):
                order = torch.sort(t, stable=True).indices
                x, y, t, p = x[order], y[order], t[order], p[order]
        return (x, y, t, p), (w, h)
    cols = columns(events, sensor_size if sensor_size is not None or not isinstance(events, Events)
                   else events.sensor_size, name)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    x = torch.from_numpy(cols.pix % cols.width).to(dev)
    y = torch.from_numpy(cols.pix // cols.width).to(dev)
    t = torch.from_numpy(cols.t).to(dev)
    p = torch.from_numpy(cols.p.astype(np.int64)).to(dev)
    return (x, y, t, p), (cols.width, cols.height)


def _runs(t: torch.Tensor, starts: torch.Tensor, dt: int, n_slices: int):
    """Event indices, window index and slice index of every event in every window's slices."""
    bounds = starts[:, None] + dt * torch.arange(n_slices + 1, device=t.device, dtype=torch.int64)
    edges = torch.searchsorted(t, bounds.reshape(-1)).reshape(starts.shape[0], n_slices + 1)
    first = edges[:, :-1].reshape(-1)
    lengths = (edges[:, 1:] - edges[:, :-1]).reshape(-1)
    total = int(lengths.sum())
    run_ids = torch.repeat_interleave(torch.arange(lengths.numel(), device=t.device), lengths, output_size=total)
    offsets = torch.repeat_interleave(first - (torch.cumsum(lengths, 0) - lengths), lengths, output_size=total)
    ev = torch.arange(total, device=t.device) + offsets
    return ev, run_ids // n_slices, run_ids % n_slices


def _tbr_from_starts(tensors, wh, starts, dt, n, normalize, msb_newest, polarity):
    x, y, t, p = tensors
    w, h = wh
    c = 2 if polarity else 1
    plane = c * h * w
    starts = torch.as_tensor(starts, dtype=torch.int64, device=t.device)
    f = starts.shape[0]
    codes = torch.zeros(f * plane, dtype=torch.int32, device=t.device)
    if f and t.numel():
        ev, frame, slot = _runs(t, starts, dt, n)
        pix = y[ev] * w + x[ev]
        if polarity:
            pix = pix + p[ev] * (h * w)
        bit = slot if msb_newest else (n - 1 - slot)
        pairs = torch.unique((frame * plane + pix) * n + bit)
        codes.index_add_(0, pairs // n, (1 << (pairs % n)).to(torch.int32))
    shape = (f, c, h, w) if polarity else (f, h, w)
    codes = codes.reshape(shape)
    if normalize:
        return normalized(codes, n)
    return codes.to(torch.uint8) if n <= 8 else codes


def normalized(codes: torch.Tensor, n_bits: int) -> torch.Tensor:
    """Integer TBR codes (any integer dtype, any device) as float32 ``code / (2**N - 1)``, correctly
    rounded: the same bits as :func:`~nvlib.represent.normalize_codes` on every device."""
    table = torch.from_numpy(normalize_codes(np.arange(1 << n_bits), n_bits)).to(codes.device)
    return torch.index_select(table, 0, codes.reshape(-1).to(torch.int32)).reshape(codes.shape)


def tbr_torch(events, sensor_size=None, delta_t_us=5000, n_bits=8, normalize=True, start_us=None, n_frames=None,
              msb_newest=True, polarity=False, stride_us=None, device=None) -> torch.Tensor:
    """:func:`nvlib.represent.tbr` on torch tensors: ``(n_frames, H, W)`` (``(n, 2, H, W)`` with ``polarity``)."""
    dt, n = check_delta_t(delta_t_us), check_bits(n_bits)
    tensors, wh = event_tensors(events, sensor_size, device)
    t = tensors[2]
    t_first = int(t[0]) if t.numel() else None
    t_last = int(t[-1]) if t.numel() else None
    starts = window_starts(t_first, t_last, n * dt, start_us, n_frames, stride_us)
    return _tbr_from_starts(tensors, wh, starts, dt, n, normalize, msb_newest, polarity)


def tbr_aligned_torch(events, sensor_size, end_times_us, delta_t_us=5000, n_bits=8, normalize=True,
                      msb_newest=True, polarity=False, device=None) -> torch.Tensor:
    """:func:`nvlib.represent.tbr_aligned` on torch tensors."""
    dt, n = check_delta_t(delta_t_us), check_bits(n_bits)
    tensors, wh = event_tensors(events, sensor_size, device)
    starts, _ = aligned_windows(np.asarray(end_times_us), dt, n)
    return _tbr_from_starts(tensors, wh, starts, dt, n, normalize, msb_newest, polarity)


def histogram_torch(events, sensor_size=None, delta_t_us=5000, n_frames=None, start_us=None, device=None,
                    dtype=torch.int32) -> torch.Tensor:
    """:func:`nvlib.represent.histogram` on torch tensors: ``(n_frames, 2, H, W)`` counts."""
    dt = check_delta_t(delta_t_us)
    (x, y, t, p), (w, h) = event_tensors(events, sensor_size, device)
    t_first = int(t[0]) if t.numel() else None
    t_last = int(t[-1]) if t.numel() else None
    starts = window_starts(t_first, t_last, dt, start_us, n_frames)
    f, plane = starts.shape[0], 2 * h * w
    out = torch.zeros(f * plane, dtype=dtype, device=t.device)
    if f and t.numel():
        t0 = int(starts[0])
        keep = (t >= t0) & (t < t0 + f * dt)
        frame = (t[keep] - t0) // dt
        key = frame * plane + p[keep] * (h * w) + y[keep] * w + x[keep]
        out.index_add_(0, key, torch.ones_like(key, dtype=dtype))
    return out.reshape(f, 2, h, w)
