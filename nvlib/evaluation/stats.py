"""Statistics over training seeds: mean and spread of a metric, and the paired test of two settings.

A learned number in the workbook is the mean over K seeds with its sample standard deviation
(``ddof=1``: the spread a new seed would show). Two settings run with the same seeds (Table 4: N = 8
and N = 16 TBR bits) are compared with a paired t-test on the per-seed differences
(``scipy.stats.ttest_rel``, two-sided), reported with the mean difference and its t-based confidence
interval. With K = 3 seeds the test has 2 degrees of freedom: only large, consistent differences reach
p < 0.05, and p >= 0.05 does not show that the settings are equal.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

#: The paired test used for every comparison over seeds (named in the tables).
PAIRED_TEST = "paired t-test (scipy.stats.ttest_rel, two-sided)"
#: Below this many seeds a paired test is called low-powered in the tables.
LOW_POWER_SEEDS = 5


def _values(values) -> np.ndarray:
    a = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=np.float64).reshape(-1)
    if a.size == 0:
        raise ValueError("no values: at least one seed is needed")
    return a


def mean_std(values, ddof: int = 1) -> tuple[float, float]:
    """``(mean, sample standard deviation)`` of per-seed values; the std is ``nan`` for a single value
    (no spread can be estimated from one seed), and ``nan`` values propagate."""
    a = _values(values)
    mean = float(np.mean(a))
    std = float(np.std(a, ddof=ddof)) if a.size > ddof else float("nan")
    return mean, std


def summarize(values, ddof: int = 1) -> dict:
    """``{"mean", "std", "n", "values"}`` of per-seed values (std with ``ddof``, see :func:`mean_std`)."""
    a = _values(values)
    mean, std = mean_std(a, ddof)
    return {"mean": mean, "std": std, "n": int(a.size), "values": [float(v) for v in a]}


def aggregate_metrics(per_seed: Sequence[Mapping], dims: Iterable[str] = ("arousal", "valence"),
                      metrics: Iterable[str] = ("rmse", "pcc", "ccc", "sagr"), ddof: int = 1) -> dict:
    """Mean and spread of every metric over seeds.

    ``per_seed``: one ``nvlib.evaluation.metrics.evaluate`` result per seed (``{"valence": {"rmse": ..}}``).
    Returns ``{"arousal_rmse": summarize(...), ...}`` in ``dims`` x ``metrics`` order.
    """
    per_seed = list(per_seed)
    if not per_seed:
        raise ValueError("aggregate_metrics: no per-seed results")
    return {f"{d}_{m}": summarize([r[d][m] for r in per_seed], ddof) for d in dims for m in metrics}


def mean_rmse(metrics: Mapping) -> float:
    """The mean of valence and arousal RMSE of one ``evaluate`` result (the workbook's single score)."""
    return (float(metrics["valence"]["rmse"]) + float(metrics["arousal"]["rmse"])) / 2


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison ``b - a`` over the same seeds (see :func:`paired_test`)."""

    test: str
    n: int
    mean_a: float
    mean_b: float
    mean_diff: float
    sd_diff: float
    ci_low: float
    ci_high: float
    confidence: float
    t: float
    df: int
    p_value: float
    alpha: float

    @property
    def significant(self) -> bool:
        """``p < alpha`` (False when the test is undefined)."""
        return bool(self.p_value < self.alpha) if not math.isnan(self.p_value) else False

    @property
    def low_power(self) -> bool:
        return self.n < LOW_POWER_SEEDS

    def verdict(self, worse: str = "b", better: str = "a") -> str:
        """Plain words: does ``b`` differ from ``a`` beyond seed noise?"""
        if self.n < 2 or math.isnan(self.p_value):
            return f"undetermined (n = {self.n} paired seed{'s' if self.n != 1 else ''})"
        if self.significant:
            side = f"{worse} higher" if self.mean_diff > 0 else f"{worse} lower"
            return f"differs beyond seed noise ({side}, p < {self.alpha:g})"
        note = f"; K = {self.n}: low power" if self.low_power else ""
        return f"not beyond seed noise (p >= {self.alpha:g}{note})"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["significant"] = self.significant
        d["low_power"] = self.low_power
        return d


def paired_test(a, b, confidence: float = 0.95, alpha: float = 0.05) -> PairedTest:
    """Paired t-test of per-seed values ``b`` against ``a`` (same seeds, same order).

    The difference is ``b - a``; its mean, sample standard deviation, the two-sided ``confidence``
    interval ``mean +- t_{(1+c)/2, n-1} * sd / sqrt(n)``, and ``scipy.stats.ttest_rel(b, a)``'s t and
    two-sided p-value. Fewer than two pairs, or differences all equal to zero, give ``nan`` t/p/CI;
    identical non-zero differences give an infinite t, p = 0 and a zero-width interval.
    """
    from scipy import stats

    x, y = _values(a), _values(b)
    if x.shape != y.shape:
        raise ValueError(f"paired_test: {x.size} values against {y.size}; pairs need the same seeds")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("paired_test: non-finite per-seed values")
    d = y - x
    n = int(d.size)
    mean_d = float(d.mean())
    nan = float("nan")
    if n < 2:
        return PairedTest(PAIRED_TEST, n, float(x.mean()), float(y.mean()), mean_d, nan, nan, nan, confidence, nan,
                          max(n - 1, 0), nan, alpha)
    sd = float(d.std(ddof=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # zero-variance differences: inf or nan, handled below
        res = stats.ttest_rel(y, x)
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    lo, hi = (mean_d - half, mean_d + half) if sd > 0 or mean_d != 0 else (nan, nan)
    return PairedTest(PAIRED_TEST, n, float(x.mean()), float(y.mean()), mean_d, sd, lo, hi, confidence,
                      float(res.statistic), n - 1, float(res.pvalue), alpha)
