"""Statistics of a classifier scored on a fixed set of items (NEFER sequences): accuracy with its
confidence interval and distance from chance, per-class accuracy, macro-F1, confusion matrix, and
McNemar's test between two methods scored on the same items.

Neither the valence-arousal paper (Table 5) nor NEFER reports these; they are what a reader needs to
judge a small test set. Example: 24 correct of NEFER's 125 validation sequences is 19.2 %, whose 95 %
Wilson interval is about 13 %-27 % and whose exact one-sided binomial p-value against 1/7 chance is
about 0.08 (not significant).

Contracts:

* Labels are integer class indices ``0 .. n_classes-1``; anything else raises ``ValueError``.
* The Wilson score interval (Wilson 1927; Agresti & Coull 1998) for ``k`` successes in ``n`` trials
  with ``z = Phi^-1((1 + confidence) / 2)``:
  ``(p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``, ``p = k/n``.
* The p-value against chance is the exact one-sided binomial test ``P(X >= k | n, p0)``
  (``scipy.stats.binomtest(k, n, p0, alternative="greater")``).
* McNemar's test is the exact (binomial) version: with ``b`` items right under A and wrong under B and
  ``c`` the reverse, ``p = binomtest(b, b + c, 0.5)`` two-sided; ``p = 1`` when ``b + c = 0``.
* Confusion matrix: rows are true classes, columns predicted classes.
* Per-class accuracy is recall (``C[i, i] / sum_j C[i, j]``), ``nan`` for a class with no items.
* Macro-F1 is the unweighted mean of per-class F1 ``2 TP / (2 TP + FP + FN)`` over the classes that
  occur among the true labels or the predictions; a class absent from both has no defined F1 and is
  left out (torchmetrics' multiclass macro F1 does the same), a class never predicted right scores 0.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

#: The paired test used between two classifiers (named in the tables).
MCNEMAR_TEST = "McNemar exact (binomial on discordant pairs, two-sided)"
#: The test against chance (named in the tables).
CHANCE_TEST = "exact binomial, one-sided (greater)"


def _labels(y, n_classes: int, name: str) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim != 1:
        a = a.reshape(-1)
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if not np.all(np.equal(np.mod(a, 1), 0)):
            raise ValueError(f"{name}: class labels must be integers 0..{n_classes - 1}")
        a = a.astype(np.int64)
    a = a.astype(np.int64, copy=False)
    if a.size and (a.min() < 0 or a.max() >= n_classes):
        bad = sorted(set(a[(a < 0) | (a >= n_classes)].tolist()))
        raise ValueError(f"{name}: labels {bad[:5]} outside the {n_classes} classes 0..{n_classes - 1}")
    return a


def _pair(y_true, y_pred, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    if int(n_classes) < 1:
        raise ValueError(f"n_classes must be >= 1, got {n_classes}")
    t = _labels(y_true, n_classes, "y_true")
    p = _labels(y_pred, n_classes, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} items, y_pred {p.size}: one prediction per item is needed")
    return t, p


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k / n`` (see the module docstring); ``(nan, nan)``
    when ``n == 0``."""
    k, n = int(k), int(n)
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"wilson_interval: need 0 <= k <= n, got k={k}, n={n}")
    if not 0 < confidence < 1:
        raise ValueError(f"wilson_interval: confidence must be in (0, 1), got {confidence}")
    if n == 0:
        return float("nan"), float("nan")
    from scipy.stats import norm

    z = float(norm.ppf((1 + confidence) / 2))
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo = 0.0 if k == 0 else max(0.0, centre - half)  # exact bounds at the ends (no rounding residue)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def binomial_p_value(k: int, n: int, p0: float) -> float:
    """Exact one-sided p-value ``P(X >= k)``, ``X ~ Binomial(n, p0)``: is ``k / n`` above chance
    ``p0``? ``nan`` when ``n == 0``."""
    k, n = int(k), int(n)
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"binomial_p_value: need 0 <= k <= n, got k={k}, n={n}")
    if not 0 <= p0 <= 1:
        raise ValueError(f"binomial_p_value: chance p0 must be in [0, 1], got {p0}")
    if n == 0:
        return float("nan")
    from scipy.stats import binomtest

    return float(binomtest(k, n, p0, alternative="greater").pvalue)


def mcnemar_test(correct_a, correct_b) -> dict:
    """Exact McNemar test of two classifiers scored on the same items.

    ``correct_a``, ``correct_b``: boolean per item (same items, same order). Returns
    ``{"b": right under A only, "c": right under B only, "n": items, "p_value", "test"}``.
    """
    a = np.asarray(correct_a, dtype=bool).reshape(-1)
    b_ = np.asarray(correct_b, dtype=bool).reshape(-1)
    if a.shape != b_.shape:
        raise ValueError(f"mcnemar_test: {a.size} items against {b_.size}; both methods must score the same items")
    b = int(np.sum(a & ~b_))
    c = int(np.sum(~a & b_))
    if b + c == 0:
        p = 1.0
    else:
        from scipy.stats import binomtest

        p = float(binomtest(b, b + c, 0.5, alternative="two-sided").pvalue)
    return {"b": b, "c": c, "n": int(a.size), "p_value": p, "test": MCNEMAR_TEST}


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """``(n_classes, n_classes)`` int64 counts; row = true class, column = predicted class."""
    t, p = _pair(y_true, y_pred, n_classes)
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def per_class_accuracy(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Recall of each class (``nan`` where the class has no items), shape ``(n_classes,)``."""
    cm = confusion_matrix(y_true, y_pred, n_classes)
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)


def per_class_f1(y_true, y_pred, n_classes: int) -> np.ndarray:
    """F1 of each class; ``nan`` for a class absent from both the true labels and the predictions."""
    cm = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    den = 2 * tp + fp + fn
    return np.where(den > 0, 2 * tp / np.maximum(den, 1), np.nan)


def macro_f1(y_true, y_pred, n_classes: int) -> float:
    """Unweighted mean F1 over the classes present in ``y_true`` or ``y_pred`` (``nan`` with no items)."""
    f1 = per_class_f1(y_true, y_pred, n_classes)
    present = ~np.isnan(f1)
    return float(f1[present].mean()) if present.any() else float("nan")


def accuracy_summary(y_true, y_pred, n_classes: int, chance: float | None = None,
                     confidence: float = 0.95) -> dict:
    """Everything a Table 5 row needs for one method.

    ``chance`` defaults to ``1 / n_classes`` (uniform guessing). Returns ``{"n", "correct", "accuracy",
    "ci_lo", "ci_hi", "chance", "p_vs_chance", "macro_f1", "per_class": [recall per class],
    "confusion": [[...]]}``; accuracy and the interval are fractions in [0, 1].
    """
    t, p = _pair(y_true, y_pred, n_classes)
    n = int(t.size)
    k = int(np.sum(t == p))
    chance = 1.0 / n_classes if chance is None else float(chance)
    lo, hi = wilson_interval(k, n, confidence)
    return {
        "n": n,
        "correct": k,
        "accuracy": k / n if n else float("nan"),
        "ci_lo": lo,
        "ci_hi": hi,
        "chance": chance,
        "p_vs_chance": binomial_p_value(k, n, chance),
        "macro_f1": macro_f1(t, p, n_classes),
        "per_class": [float(v) for v in per_class_accuracy(t, p, n_classes)],
        "confusion": confusion_matrix(t, p, n_classes).tolist(),
    }


def format_accuracy(summary: dict, digits: int = 1) -> str:
    """``"19.2 % [13.3, 26.9] (24/125)"``: accuracy and Wilson interval in percent."""
    s = summary
    if not s["n"]:
        return "n/a (0 items)"
    return (f"{100 * s['accuracy']:.{digits}f} % [{100 * s['ci_lo']:.{digits}f}, {100 * s['ci_hi']:.{digits}f}]"
            f" ({s['correct']}/{s['n']})")


__all__: Sequence[str] = ("wilson_interval", "binomial_p_value", "mcnemar_test", "confusion_matrix",
                          "per_class_accuracy", "per_class_f1", "macro_f1", "accuracy_summary",
                          "format_accuracy", "MCNEMAR_TEST", "CHANCE_TEST")
