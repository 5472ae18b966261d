"""Voxel grid: events spread bilinearly over time bins (e2vid's convention).

Zhu et al., *Unsupervised event-based learning of optical flow, depth, and egomotion*, CVPR 2019;
Rebecq et al., *High speed and high dynamic range video with an event camera* (e2vid), TPAMI 2019.
Timestamps are mapped to ``ts = (B - 1) * (t - t_first) / (t_last - t_first)`` (Δ = 1 µs when all events
share one time), polarity to ±1, and each event adds ``p * (1 - frac(ts))`` to bin ``floor(ts)`` and
``p * frac(ts)`` to the next bin. tonic's ``to_voxel_grid_numpy`` scales by ``B`` instead of ``B - 1``,
so its last event falls outside the grid and is dropped: tonic with B bins equals this grid with B + 1
bins, last bin removed (the tests check exactly that); tonic also rewrites the caller's polarity column.
"""
from __future__ import annotations

import numpy as np

from nvlib.represent._input import check_count, columns


def voxel_grid(events, sensor_size=None, n_bins=5) -> np.ndarray:
    """e2vid voxel grid ``(n_bins, H, W)`` float32 of a whole event stream (empty stream: zeros)."""
    b = check_count(n_bins, "n_bins")
    if b == 0:
        raise ValueError("n_bins must be at least 1")
    cols = columns(events, sensor_size)
    h, w = cols.height, cols.width
    if len(cols) == 0:
        return np.zeros((b, h, w), np.float32)
    t = cols.t
    span = int(t[-1] - t[0]) or 1
    ts = (b - 1) * (t - t[0]).astype(np.float64) / span
    ti = ts.astype(np.int64)
    frac = ts - ti
    pol = cols.p.astype(np.float64) * 2 - 1
    pix = cols.pixel_index()
    plane = h * w
    left = np.bincount(ti * plane + pix, weights=pol * (1 - frac), minlength=b * plane)
    nxt = ti + 1 < b
    right = np.bincount((ti[nxt] + 1) * plane + pix[nxt], weights=(pol * frac)[nxt], minlength=b * plane)
    return (left + right).astype(np.float32).reshape(b, h, w)
