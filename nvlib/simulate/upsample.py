"""Temporal upsampling of low-frame-rate video by optical flow, with no learned weights.

v2e upsamples with SuperSloMo (Jiang et al., CVPR 2018), whose checkpoint must be
downloaded. Here intermediate frames are synthesised from OpenCV's dense Farneback flow
(Farneback, SCIA 2003): for a fraction ``a`` of the interval between frames ``f0`` and
``f1`` with flow ``F`` (f0 -> f1), ``I_a(x) = (1-a)*f0(x - a*F(x)) + a*f1(x + (1-a)*F(x))``
(backward warping with the flow at the target pixel, a first-order approximation).
Deterministic: no randomness anywhere.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import cv2
import numpy as np

FARNEBACK = dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0)


def flow_farneback(f0: np.ndarray, f1: np.ndarray) -> np.ndarray:
    """Dense optical flow f0 -> f1, float32 (H, W, 2) in pixels (dx, dy)."""
    return cv2.calcOpticalFlowFarneback(f0, f1, None, **FARNEBACK)


def interpolate_pair(f0: np.ndarray, f1: np.ndarray, fractions: Iterable[float],
                     flow: np.ndarray | None = None) -> list[np.ndarray]:
    """uint8 gray frames between ``f0`` and ``f1`` at the given fractions in (0, 1)."""
    if f0.shape != f1.shape or f0.ndim != 2:
        raise ValueError(f"interpolate_pair needs two gray frames of one size, got {f0.shape} and {f1.shape}")
    if flow is None:
        flow = flow_farneback(f0, f1)
    h, w = f0.shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = []
    for a in fractions:
        a = float(a)
        m0x, m0y = gx - a * flow[..., 0], gy - a * flow[..., 1]
        m1x, m1y = gx + (1 - a) * flow[..., 0], gy + (1 - a) * flow[..., 1]
        w0 = cv2.remap(f0, m0x, m0y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        w1 = cv2.remap(f1, m1x, m1y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        out.append(np.clip(np.rint((1 - a) * w0 + a * w1), 0, 255).astype(np.uint8))
    return out


def auto_factor(flow: np.ndarray, max_pixels_per_step: float = 1.0, max_factor: int = 32) -> int:
    """Sub-frames per interval so that motion per step is at most ``max_pixels_per_step``
    (v2e's ``--auto_timestamp_resolution`` idea), in [1, max_factor]."""
    peak = float(np.percentile(np.hypot(flow[..., 0], flow[..., 1]), 99.0)) if flow.size else 0.0
    return int(min(max_factor, max(1, int(np.ceil(peak / max_pixels_per_step)))))


def upsample_frames(timed_frames: Iterable[tuple[np.ndarray, float]], factor: int | str = 2,
                    max_factor: int = 32, min_factor: int = 1) -> Iterator[tuple[np.ndarray, float]]:
    """From ``(gray frame, t_s)`` pairs, stream them with ``factor - 1`` flow-interpolated frames
    inserted in each interval.

    ``factor="auto"`` picks each interval's factor from its flow (see :func:`auto_factor`), at
    least ``min_factor`` (e.g. enough sub-frames that each lasts no longer than a TBR slice).
    Memory: two frames. The original frames come out unchanged at their own times.
    """
    if factor != "auto" and (not isinstance(factor, int) or factor < 1):
        raise ValueError(f"upsampling factor must be an integer >= 1 or 'auto', got {factor!r}")
    prev, t_prev = None, None
    for fr, t in timed_frames:
        t = float(t)
        if prev is not None and factor != 1:
            flow = flow_farneback(prev, fr)
            k = max(int(min_factor), auto_factor(flow, max_factor=max_factor)) if factor == "auto" else factor
            fr_list = [i / k for i in range(1, k)]
            for a, mid in zip(fr_list, interpolate_pair(prev, fr, fr_list, flow)):
                yield mid, t_prev + a * (t - t_prev)
        yield fr, t
        prev, t_prev = fr, t
