"""Label transfer from annotated RGB frames to event frames (paper Section 3).

Each annotated RGB frame k gets the timestamp of that frame, ``t_k = k / fps`` (microseconds
here). An event frame covering ``[start, end)`` takes the valence and arousal of the annotation
whose timestamp is closest to the *mean timestamp of the events in that frame*; a frame with no
events uses its window centre ``(start + end) / 2``. Ties (a reference time exactly halfway between
two annotations) go to the earlier annotation.
"""
from __future__ import annotations

import numpy as np


def frame_reference_times(t_us: np.ndarray, starts_us: np.ndarray, ends_us: np.ndarray) -> np.ndarray:
    """Mean event timestamp in each window ``[start, end)`` (float64 µs); the window centre when empty.

    ``t_us`` must be sorted (non-decreasing); windows may overlap.
    """
    t = np.asarray(t_us, dtype=np.int64)
    starts = np.asarray(starts_us, dtype=np.int64)
    ends = np.asarray(ends_us, dtype=np.int64)
    if starts.shape != ends.shape:
        raise ValueError(f"starts and ends differ in shape: {starts.shape} vs {ends.shape}")
    if np.any(ends < starts):
        raise ValueError("every window needs end >= start")
    if t.size > 1 and np.any(t[1:] < t[:-1]):
        raise ValueError("event timestamps must be sorted")
    i0 = np.searchsorted(t, starts, side="left")
    i1 = np.searchsorted(t, ends, side="left")
    csum = np.concatenate([[0.0], np.cumsum(t - (t[0] if t.size else 0), dtype=np.float64)])
    n = i1 - i0
    base = float(t[0]) if t.size else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (csum[i1] - csum[i0]) / n + base
    centre = (starts + ends) / 2.0
    return np.where(n > 0, mean, centre)


def nearest_annotation(ref_us: np.ndarray, ann_times_us: np.ndarray) -> np.ndarray:
    """Index of the annotation time closest to each reference time (ties: the earlier one).

    ``ann_times_us`` must be strictly increasing.
    """
    a = np.asarray(ann_times_us, dtype=np.float64)
    r = np.asarray(ref_us, dtype=np.float64)
    if a.size == 0:
        raise ValueError("no annotation timestamps")
    if a.size > 1 and np.any(np.diff(a) <= 0):
        raise ValueError("annotation timestamps must be strictly increasing")
    j = np.clip(np.searchsorted(a, r, side="left"), 1, max(a.size - 1, 1))
    if a.size == 1:
        return np.zeros(r.shape, dtype=np.int64)
    left, right = a[j - 1], a[j]
    return np.where(r - left <= right - r, j - 1, j).astype(np.int64)


def transfer_labels(t_us: np.ndarray, starts_us: np.ndarray, ends_us: np.ndarray, ann_times_us: np.ndarray,
                    ann_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels of event frames from the nearest annotation in time (paper Section 3).

    Args:
        t_us: sorted event timestamps (µs) of the clip.
        starts_us, ends_us: (n,) event-frame windows ``[start, end)``.
        ann_times_us: (K,) strictly increasing annotation timestamps (µs).
        ann_values: (K, C) annotation values (e.g. C=2: valence, arousal).
    Returns:
        ``(values (n, C), index (n,))``: the transferred values and the annotation index used.
    """
    vals = np.asarray(ann_values)
    if vals.shape[0] != np.asarray(ann_times_us).shape[0]:
        raise ValueError(f"{vals.shape[0]} annotation values for {np.asarray(ann_times_us).shape[0]} timestamps")
    idx = nearest_annotation(frame_reference_times(t_us, starts_us, ends_us), ann_times_us)
    return vals[idx], idx
