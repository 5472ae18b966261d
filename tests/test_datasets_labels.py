"""Label transfer (paper Section 3): nearest annotation to the mean event timestamp of each frame."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nvlib.represent.windows import consecutive_windows, frame_times_us
from nvlib.datasets.labels import (frame_reference_times, nearest_annotation,
                                   transfer_labels)


def test_mean_timestamp_and_empty_window_centre():
    t = np.array([0, 10, 20, 100, 130], dtype=np.int64)
    ref = frame_reference_times(t, np.array([0, 100, 200]), np.array([100, 200, 300]))
    np.testing.assert_allclose(ref, [10.0, 115.0, 250.0])


def test_transfer_picks_annotation_nearest_to_event_mean_not_window_centre():
    # annotations at 0, 40 ms, 80 ms; one window [0, 80 ms) whose events cluster late (mean 70 ms)
    ann_t = np.array([0, 40_000, 80_000])
    vals = np.array([[0.1, 0.0], [0.5, 0.2], [-0.9, 0.9]])
    t = np.array([60_000, 70_000, 80_000 - 1, 70_001], dtype=np.int64)
    t.sort()
    out, idx = transfer_labels(t, np.array([0]), np.array([80_000]), ann_t, vals)
    assert idx.tolist() == [2]
    np.testing.assert_array_equal(out, vals[[2]])
    # the window centre (40 ms) would have chosen annotation 1: an empty window does
    out, idx = transfer_labels(np.array([], np.int64), np.array([0]), np.array([80_000]), ann_t, vals)
    assert idx.tolist() == [1]


def test_ties_go_to_the_earlier_annotation():
    assert nearest_annotation(np.array([20.0, 20.5, 19.5]), np.array([0, 40])).tolist() == [0, 1, 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=0, max_size=60), st.integers(1, 8), st.integers(50, 3000))
def test_against_bruteforce(ts, n_ann, window):
    t = np.sort(np.array(ts, dtype=np.int64))
    ann_t = np.sort(np.random.default_rng(len(ts)).choice(np.arange(0, 10_000, 7), n_ann, replace=False))
    vals = np.arange(n_ann * 2, dtype=float).reshape(n_ann, 2)
    starts, ends = consecutive_windows(0, 10_000, window)
    out, idx = transfer_labels(t, starts, ends, ann_t, vals)
    for k, (a, b) in enumerate(zip(starts, ends)):
        sel = t[(t >= a) & (t < b)]
        ref = sel.mean() if sel.size else (a + b) / 2
        d = np.abs(ann_t - ref)
        assert idx[k] == int(np.flatnonzero(d == d.min())[0])
    np.testing.assert_array_equal(out, vals[idx])


def test_frame_times_and_windows():
    np.testing.assert_array_equal(frame_times_us(4, 25.0), [0, 40_000, 80_000, 120_000])
    s, e = consecutive_windows(0, 120_000, 40_000)
    assert s.tolist() == [0, 40_000, 80_000, 120_000] and (e - s).tolist() == [40_000] * 4
    with pytest.raises(ValueError):
        frame_times_us(3, 0)
    with pytest.raises(ValueError, match="sorted"):
        frame_reference_times(np.array([5, 1]), np.array([0]), np.array([9]))
