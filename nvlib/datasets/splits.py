"""Subject-independent splits: folds and train/val/test grouped by actor (AFEW-VA) or user (NEFER);
and the fallback for too few groups, time segments of each clip (:func:`time_segments`).

No group ever spans two folds or two splits. Assignment is deterministic: groups are ordered
by a seeded shuffle of their sorted names, then placed greedily (largest first) into the fold
with the fewest items so far, so folds are balanced in frames/clips, not just in groups.
The k-fold protocol follows the subject-independent evaluation of AFEW-VA (Kossaifi et al. 2017).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def _group_sizes(groups: Sequence[str], weights: Sequence[float] | None):
    groups = [str(g) for g in groups]
    w = np.ones(len(groups)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(groups),):
        raise ValueError(f"weights must have one entry per item ({len(groups)}), got {w.shape}")
    names = sorted(set(groups))
    size = {g: 0.0 for g in names}
    for g, wi in zip(groups, w):
        size[g] += wi
    return groups, names, size


def group_kfold(groups: Sequence[str], n_folds: int = 5, seed: int = 0,
                weights: Sequence[float] | None = None) -> np.ndarray:
    """Fold index (0..n_folds-1) of each item; items of one group share a fold.

    ``weights`` (default 1 per item, e.g. frames per clip) balance the folds.
    """
    groups, names, size = _group_sizes(groups, weights)
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2, got {n_folds}")
    if len(names) < n_folds:
        raise ValueError(f"{len(names)} groups cannot fill {n_folds} folds")
    order = list(np.random.default_rng(seed).permutation(len(names)))
    shuffled = [names[i] for i in order]
    # stable sort by size, largest first: equal sizes keep the seeded order
    shuffled.sort(key=lambda g: -size[g])
    load = np.zeros(n_folds)
    fold_of = {}
    for g in shuffled:
        f = int(np.argmin(load))
        fold_of[g] = f
        load[f] += size[g]
    return np.array([fold_of[g] for g in groups], dtype=np.int64)


def group_split(groups: Sequence[str], fractions: tuple[float, float, float] = (0.7, 0.15, 0.15), seed: int = 0,
                weights: Sequence[float] | None = None) -> list[str]:
    """Fixed "train"/"val"/"test" per item with whole groups, close to ``fractions`` of the total weight.

    Groups are visited in a seeded order and each goes to the split furthest below its target
    share; with at least three groups every split gets at least one group.
    """
    groups, names, size = _group_sizes(groups, weights)
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.shape != (3,) or np.any(fr < 0) or not np.isclose(fr.sum(), 1.0):
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    total = sum(size.values())
    load = np.zeros(3)
    split_of = {}
    for k, g in enumerate(order):
        need = [s for s in range(3) if fr[s] > 0 and load[s] == 0]
        remaining = len(order) - k
        if need and remaining <= len(need):  # make sure every requested split gets a group
            s = need[0]
        else:
            s = int(np.argmax(fr * total - load))
        split_of[g] = ("train", "val", "test")[s]
        load[s] += size[g]
    return [split_of[g] for g in groups]


def time_segments(n_frames: int, n_parts: int) -> list[tuple[int, int]]:
    """``(start, length)`` of ``min(n_parts, n_frames)`` contiguous, near-equal parts covering ``n_frames``
    frames in order (earlier parts take the remainder).

    The fallback split of a conversion with too few groups for a split by group: each clip is cut in
    time, part ``k`` is fold ``k`` and the fixed split is :func:`segment_splits`. Neighbouring parts of
    one clip are not independent, so such a split is marked not subject-independent.
    """
    n_frames, n_parts = int(n_frames), int(n_parts)
    if n_frames < 1 or n_parts < 1:
        raise ValueError(f"need n_frames >= 1 and n_parts >= 1, got {n_frames} and {n_parts}")
    k = min(n_parts, n_frames)
    base, extra = divmod(n_frames, k)
    out, start = [], 0
    for i in range(k):
        n = base + (1 if i < extra else 0)
        out.append((start, n))
        start += n
    return out


def segment_splits(n_parts: int) -> list[str]:
    """The fixed split of a clip cut into ``n_parts`` time segments: the last part "test", the one before
    "val", the others "train" (one part: "train"; two: "train", "test")."""
    n_parts = int(n_parts)
    if n_parts < 1:
        raise ValueError(f"n_parts must be >= 1, got {n_parts}")
    if n_parts == 1:
        return ["train"]
    if n_parts == 2:
        return ["train", "test"]
    return ["train"] * (n_parts - 2) + ["val", "test"]
