"""Actor-grouped folds and fixed splits: groups never cross, assignment is deterministic."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nvlib.datasets.splits import group_kfold, group_split


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from([f"a{i}" for i in range(12)]), min_size=12, max_size=80), st.integers(2, 5),
       st.integers(0, 3))
def test_groups_never_cross_folds_or_splits(groups, k, seed):
    if len(set(groups)) < max(k, 3):
        return
    folds = group_kfold(groups, k, seed)
    splits = group_split(groups, seed=seed)
    for g in set(groups):
        sel = [i for i, x in enumerate(groups) if x == g]
        assert len(set(folds[sel])) == 1
        assert len({splits[i] for i in sel}) == 1
    assert set(folds.tolist()) == set(range(k))
    assert {"train", "val", "test"} <= set(splits)
    np.testing.assert_array_equal(folds, group_kfold(list(groups), k, seed))  # deterministic


def test_balanced_folds_and_fractions():
    groups = [f"actor{i}" for i in range(20) for _ in range(5)]
    folds = group_kfold(groups, 5)
    assert np.bincount(folds).tolist() == [20] * 5
    s = group_split(groups, (0.6, 0.2, 0.2))
    assert [s.count(x) for x in ("train", "val", "test")] == [60, 20, 20]


def test_errors():
    with pytest.raises(ValueError, match="groups"):
        group_kfold(["a", "b"], 3)
    with pytest.raises(ValueError, match="fractions"):
        group_split(["a", "b", "c"], (0.5, 0.5, 0.5))


def test_time_segments_cover_a_clip_in_order():
    from nvlib.datasets.splits import segment_splits, time_segments

    assert time_segments(30, 5) == [(0, 6), (6, 6), (12, 6), (18, 6), (24, 6)]
    assert time_segments(7, 3) == [(0, 3), (3, 2), (5, 2)]
    assert time_segments(2, 5) == [(0, 1), (1, 1)]
    for n, k in ((1, 1), (13, 5), (100, 7)):
        parts = time_segments(n, k)
        assert parts[0][0] == 0 and sum(m for _, m in parts) == n and all(m >= 1 for _, m in parts)
        assert all(a + m == b for (a, m), (b, _) in zip(parts, parts[1:]))
    assert segment_splits(5) == ["train", "train", "train", "val", "test"]
    assert segment_splits(2) == ["train", "test"] and segment_splits(1) == ["train"]
    with pytest.raises(ValueError):
        time_segments(0, 3)
