"""Windows aligned to external timestamps (RGB frame times) for label transfer.

Berlincioni et al. label each event frame with the annotation of the RGB frame it ends on: the TBR frame
for RGB frame k covers the N·Δt microseconds before that frame's time, ``[end_k - N*Δt, end_k)``.
"""
from __future__ import annotations

import numpy as np

from nvlib.represent._input import check_bits, check_count, check_delta_t
from nvlib.represent.tbr import tbr_windows


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


def tbr_aligned(events, sensor_size, end_times_us, delta_t_us=5000, n_bits=8, normalize=True, msb_newest=True,
                polarity=False) -> np.ndarray:
    """One TBR frame per end time, covering ``[end - N*Δt, end)``: shape ``(len(end_times_us), H, W)``.

    End times are µs on the events' clock (e.g. :func:`frame_times_us` of the RGB video); windows may
    overlap or lie before the first event (they are then empty). Conventions as in :func:`nvlib.represent.tbr`.
    """
    starts, _ = aligned_windows(end_times_us, delta_t_us, n_bits)
    return tbr_windows(events, sensor_size, starts, delta_t_us, n_bits, normalize, msb_newest, polarity)
