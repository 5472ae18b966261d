"""nvlib.evaluation.classification against hand formulas, scipy and torchmetrics."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, binomtest
from torchmetrics.functional.classification import multiclass_confusion_matrix, multiclass_f1_score, multiclass_recall

from nvlib.evaluation import classification as C


def _wilson_by_hand(k, n, z):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_paper_numbers_against_chance():
    # The issue: 24/125 (19.20 %) is not significant against 1/7 chance, p about 0.08.
    p = C.binomial_p_value(24, 125, 1 / 7)
    assert p == pytest.approx(0.0785, abs=5e-4)
    assert p == pytest.approx(float(binom.sf(23, 125, 1 / 7)))  # P(X >= 24) from the binomial tail
    assert C.binomial_p_value(26, 125, 1 / 7) < 0.05
    # exact extremes
    assert C.binomial_p_value(0, 10, 0.3) == pytest.approx(1.0)
    assert C.binomial_p_value(10, 10, 0.3) == pytest.approx(0.3 ** 10)
    assert math.isnan(C.binomial_p_value(0, 0, 0.5))


def test_wilson_against_hand_formula_and_known_value():
    lo, hi = C.wilson_interval(24, 125)
    assert (lo, hi) == pytest.approx(_wilson_by_hand(24, 125, 1.959963984540054))
    assert lo == pytest.approx(0.1326, abs=1e-4) and hi == pytest.approx(0.2698, abs=1e-4)
    # 90 % uses z = 1.6449
    assert C.wilson_interval(7, 20, 0.90) == pytest.approx(_wilson_by_hand(7, 20, 1.6448536269514722))
    # zero successes: lower bound 0, upper bound z^2 / (n + z^2)
    z = 1.959963984540054
    assert C.wilson_interval(0, 10) == pytest.approx((0.0, z * z / (10 + z * z)))
    assert C.wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert all(math.isnan(v) for v in C.wilson_interval(0, 0))
    with pytest.raises(ValueError):
        C.wilson_interval(5, 4)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 300), st.floats(0, 1))
def test_wilson_contains_the_estimate(n, f):
    k = int(round(f * n))
    lo, hi = C.wilson_interval(k, n)
    assert 0 <= lo <= k / n <= hi <= 1
    assert C.wilson_interval(k, n, 0.99)[0] <= lo  # wider at higher confidence


def test_mcnemar_counts_discordant_pairs_and_matches_binomtest():
    a = np.array([1, 1, 1, 1, 1, 1, 0, 0, 1, 0], bool)
    b = np.array([0, 0, 0, 0, 0, 1, 1, 0, 1, 0], bool)
    r = C.mcnemar_test(a, b)
    assert (r["b"], r["c"], r["n"]) == (5, 1, 10)
    assert r["p_value"] == pytest.approx(binomtest(5, 6, 0.5).pvalue)
    assert r["p_value"] == pytest.approx(2 * (1 + 6) / 64)  # 2 * P(X <= 1), X ~ Bin(6, 1/2)
    assert C.mcnemar_test(b, a)["p_value"] == pytest.approx(r["p_value"])  # symmetric
    same = C.mcnemar_test(a, a)
    assert (same["b"], same["c"], same["p_value"]) == (0, 0, 1.0)
    with pytest.raises(ValueError):
        C.mcnemar_test(a, b[:5])


def test_confusion_recall_f1_by_hand():
    t = [0, 0, 0, 1, 1, 2]
    p = [0, 0, 1, 1, 2, 2]
    cm = C.confusion_matrix(t, p, 4)
    assert cm.tolist() == [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    rec = C.per_class_accuracy(t, p, 4)
    assert rec[:3] == pytest.approx([2 / 3, 1 / 2, 1.0]) and math.isnan(rec[3])
    # F1: class 0: 2*2/(4+0+1) = 0.8; class 1: 2/(2+1+1) = 0.5; class 2: 2/(2+1+0) = 2/3; class 3 absent
    assert C.macro_f1(t, p, 4) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    # a class predicted but never true counts with F1 = 0
    assert C.macro_f1([0, 0], [0, 1], 2) == pytest.approx((2 / 3 + 0) / 2)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 8), st.integers(1, 80), st.integers(0, 10_000))
def test_against_torchmetrics(k, n, seed):
    g = np.random.default_rng(seed)
    t = g.integers(0, k, n)
    p = np.where(g.random(n) < 0.4, t, g.integers(0, k, n))
    tt, pp = torch.from_numpy(t), torch.from_numpy(p)
    assert C.confusion_matrix(t, p, k).tolist() == multiclass_confusion_matrix(pp, tt, k).tolist()
    assert C.macro_f1(t, p, k) == pytest.approx(float(multiclass_f1_score(pp, tt, k, average="macro")), abs=1e-6)
    rec = C.per_class_accuracy(t, p, k)
    tm = multiclass_recall(pp, tt, k, average="none").numpy()
    present = ~np.isnan(rec)
    assert rec[present] == pytest.approx(tm[present], abs=1e-6)


def test_accuracy_summary_fields():
    t = np.repeat(np.arange(7), 3)  # 21 items
    p = t.copy()
    p[::3] = (p[::3] + 1) % 7  # one wrong per class -> 14 / 21
    s = C.accuracy_summary(t, p, 7)
    assert (s["n"], s["correct"]) == (21, 14)
    assert s["accuracy"] == pytest.approx(2 / 3)
    assert (s["ci_lo"], s["ci_hi"]) == pytest.approx(C.wilson_interval(14, 21))
    assert s["chance"] == pytest.approx(1 / 7)
    assert s["p_vs_chance"] == pytest.approx(binomtest(14, 21, 1 / 7, alternative="greater").pvalue)
    assert s["per_class"] == pytest.approx([2 / 3] * 7)
    assert np.array(s["confusion"]).sum() == 21 and np.trace(np.array(s["confusion"])) == 14
    assert C.accuracy_summary(t, p, 7, chance=0.5)["p_vs_chance"] > s["p_vs_chance"]
    assert C.format_accuracy(s) == "66.7 % [45.4, 82.8] (14/21)"


def test_labels_outside_the_classes_are_refused():
    with pytest.raises(ValueError, match="outside"):
        C.confusion_matrix([0, 7], [0, 1], 7)
    with pytest.raises(ValueError, match="outside"):
        C.accuracy_summary([0, 1], [0, -1], 7)
    with pytest.raises(ValueError, match="one prediction per item"):
        C.accuracy_summary([0, 1], [0], 7)
