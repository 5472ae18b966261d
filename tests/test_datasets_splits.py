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
