"""Time windows over an event stream: the one place where windows are computed.

- :func:`window_starts`: back-to-back (or strided) windows from the first event or a given start;
- :func:`consecutive_windows`: back-to-back windows covering a time range (the dataset converter);
- :func:`frame_times_us`: RGB frame times at a frame rate;
- :func:`aligned_windows`: windows ending at external timestamps (RGB frame times) for label transfer.

Times are integer microseconds. Berlincioni et al. label each event frame with the annotation of the RGB frame it ends on: the TBR frame
for RGB frame k covers the N·Δt microseconds before that frame's time, ``[end_k - N*Δt, end_k)``.
"""
from __future__ import annotations

import numpy as np

from nvlib.represent._input import check_bits, check_count, check_delta_t


def frame_times_us(n_frames: int, fps: float, t0_us: int = 0) -> np.ndarray:
    """Timestamps (µs, int64, rounded) of ``n_frames`` video frames at ``fps``: ``t0 + round(k * 1e6 / fps)``."""
    n = check_count(n_frames, "n_frames")
    if not fps or fps <= 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    return int(t0_us) + np.rint(np.arange(n) * (1e6 / float(fps))).astype(np.int64)


def aligned_windows(end_times_us, delta_t_us=5000, n_bits=8) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)`` in µs of the windows ``[end - N*Δt, end)`` ending at each of ``end_times_us``."""
    ends = np.asarray(end_times_us)
    if ends.ndim != 1:
        raise ValueError(f"end_times_us must be a 1-d array, got shape {ends.shape}")
    ends = np.rint(ends).astype(np.int64) if not np.issubdtype(ends.dtype, np.integer) else ends.astype(np.int64)
    return ends - check_bits(n_bits) * check_delta_t(delta_t_us), ends


def window_starts(t_first: int | None, t_last: int | None, window_us: int, start_us=None, n_frames=None,
                  stride_us=None) -> np.ndarray:
    """Start times (µs, int64) of windows ``[t0 + i*stride, t0 + i*stride + window)``.

    ``t0`` is ``start_us`` or the first event time (0 without events). Without ``n_frames``, enough
    windows to reach the last event (the last one may extend past it); 0 windows without events.
    """
    stride = window_us if stride_us is None else check_delta_t(stride_us, "stride_us")
    t0 = int(start_us) if start_us is not None else (int(t_first) if t_first is not None else 0)
    if n_frames is None:
        n_frames = 0 if t_last is None or t_last < t0 else (int(t_last) - t0) // stride + 1
    n_frames = check_count(n_frames, "n_frames")
    return t0 + stride * np.arange(n_frames, dtype=np.int64)


def consecutive_windows(t_first_us: int, t_last_us: int, window_us: int) -> tuple[np.ndarray, np.ndarray]:
    """Back-to-back windows ``[t0 + i·w, t0 + (i+1)·w)`` covering ``[t_first, t_last]`` (at least one)."""
    if window_us <= 0:
        raise ValueError(f"window must be positive, got {window_us}")
    n = max(1, int((t_last_us - t_first_us) // window_us) + 1)
    starts = t_first_us + window_us * np.arange(n, dtype=np.int64)
    return starts, starts + window_us
