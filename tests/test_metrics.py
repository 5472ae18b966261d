"""nvlib.evaluation.metrics against hand-computed values, emonet's formulas and torchmetrics."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torchmetrics.functional.regression import concordance_corrcoef, mean_squared_error, pearson_corrcoef

from nvlib.evaluation import metrics as M

GT = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
PR = np.array([-0.5, -0.5, 0.5, 0.0, 1.0])


def test_hand_computed_values():
    assert M.rmse(GT, PR) == pytest.approx(math.sqrt((0.25 + 0 + 0.25 + 0.25 + 0) / 5))
    # means 0 and 0.1; population variances 0.5 and 0.34; covariance 1.75 / 5 = 0.35
    assert M.pcc(GT, PR) == pytest.approx(0.35 / math.sqrt(0.5 * 0.34))
    assert M.ccc(GT, PR) == pytest.approx(2 * 0.35 / (0.5 + 0.34 + 0.01))
    # signs gt [-,-,0,+,+], pred [-,-,+,0,+]: strict agrees on 3 of 5
    assert M.sagr(GT, PR) == pytest.approx(3 / 5)
    # >= 0 positive: gt [F,F,T,T,T], pred [F,F,T,T,T] -> all agree
    assert M.sagr(GT, PR, zero="nonneg") == 1.0


def _emonet_ccc(g, p):  # emonet metrics.CCC written from its formula: np.std (ddof=0), np.corrcoef
    r = np.corrcoef(g, p)[0, 1]
    return 2 * r * p.std() * g.std() / (p.std() ** 2 + g.std() ** 2 + (p.mean() - g.mean()) ** 2)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 60), st.integers(0, 10_000))
def test_against_emonet_formulas_and_torchmetrics(n, seed):
    g = np.random.default_rng(seed)
    gt = g.uniform(-1, 1, n)
    pr = np.clip(0.6 * gt + g.normal(0, 0.3, n) + 0.1, -1, 1)
    assert M.rmse(gt, pr) == pytest.approx(math.sqrt(float(mean_squared_error(torch.tensor(pr), torch.tensor(gt)))))
    assert M.pcc(gt, pr) == pytest.approx(float(pearson_corrcoef(torch.tensor(pr), torch.tensor(gt))), abs=1e-9)
    assert M.pcc(gt, pr) == pytest.approx(np.corrcoef(gt, pr)[0, 1], abs=1e-12)
    assert M.ccc(gt, pr) == pytest.approx(_emonet_ccc(gt, pr), abs=1e-12)
    assert M.sagr(gt, pr) == np.mean(np.sign(gt) == np.sign(pr))
    # torchmetrics' CCC uses ddof=1: rescale its variances to population ones and they agree
    tm = float(concordance_corrcoef(torch.tensor(pr), torch.tensor(gt)))
    sp2, sg2 = pr.var(), gt.var()
    cov = np.mean((pr - pr.mean()) * (gt - gt.mean()))
    d = (pr.mean() - gt.mean()) ** 2
    k = n / (n - 1)
    assert tm == pytest.approx(2 * cov * k / (k * (sp2 + sg2) + d), abs=1e-9)
    assert M.ccc(gt, pr) == pytest.approx(2 * cov / (sp2 + sg2 + d), abs=1e-12)


def test_ddof_difference_with_torchmetrics_is_real():
    gt = np.array([-0.5, 0.0, 0.5, 0.2])
    pr = np.array([0.1, 0.3, 0.6, 0.0])
    tm = float(concordance_corrcoef(torch.tensor(pr), torch.tensor(gt)))
    assert abs(M.ccc(gt, pr) - tm) > 1e-3  # the mean offset weighs differently under ddof 0 and 1


def test_constant_inputs_and_bad_input():
    assert math.isnan(M.pcc([0.1, 0.1, 0.1], [0.0, 0.5, 1.0]))
    assert M.ccc([0.1, 0.1, 0.1], [0.0, 0.5, 1.0]) == 0.0
    assert M.ccc([0.2, 0.2], [0.2, 0.2]) is not None and math.isnan(M.ccc([0.2, 0.2], [0.2, 0.2]))
    with pytest.raises(ValueError, match="differ in length"):
        M.rmse([0, 1], [0])
    with pytest.raises(ValueError, match="NaN"):
        M.rmse([0, np.nan], [0, 1])
    with pytest.raises(ValueError, match="zero mode"):
        M.sagr([0], [0], zero="pos")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        M.evaluate(np.zeros((3, 3)), np.zeros((3, 3)))


def test_evaluate_clipping_and_layout():
    gt = np.array([[0.5, -0.5], [1.0, 0.2], [-1.0, 0.9]])
    pr = np.array([[2.0, -0.4], [1.5, 0.2], [-0.9, 3.0]])
    r = M.evaluate(gt, pr)
    assert r["valence"]["rmse"] == pytest.approx(M.rmse(gt[:, 0], np.clip(pr[:, 0], -1, 1)))
    assert r["arousal"]["rmse"] == pytest.approx(math.sqrt((0.01 + 0 + 0.01) / 3))
    raw = M.evaluate(gt, pr, clip=None)
    assert raw["arousal"]["rmse"] == pytest.approx(M.rmse(gt[:, 1], pr[:, 1]))
    assert raw["clip"] is None and r["clip"] == [-1.0, 1.0]
    row = M.metrics_row(r)
    assert list(row)[:4] == ["arousal_rmse", "arousal_pcc", "arousal_ccc", "arousal_sagr"]
    # chunk-shaped input (B, T, 2) is flattened
    r3 = M.evaluate(gt.reshape(1, 3, 2), pr.reshape(1, 3, 2))
    assert r3["valence"] == r["valence"]


def test_per_clip_mean():
    g = np.random.default_rng(0)
    gt = g.uniform(-1, 1, (10, 2))
    pr = g.uniform(-1, 1, (10, 2))
    clips = ["a"] * 4 + ["b"] * 6
    r = M.evaluate(gt, pr, clips=clips, per_clip=True)
    assert set(r["clips"]) == {"a", "b"} and r["clips"]["b"]["n"] == 6
    for m in M.METRICS:
        want = np.mean([getattr(M, m)(gt[:4, 0], pr[:4, 0]), getattr(M, m)(gt[4:, 0], pr[4:, 0])])
        assert r["valence"][m] == pytest.approx(want)
    with pytest.raises(ValueError, match="needs clips"):
        M.evaluate(gt, pr, per_clip=True)


def test_ccc_loss_matches_metric():
    g = np.random.default_rng(1)
    gt = g.uniform(-1, 1, (50, 2))
    pr = 0.5 * gt + g.normal(0, 0.2, (50, 2))
    loss = float(M.ccc_loss(torch.tensor(pr), torch.tensor(gt)))
    want = 1 - np.mean([M.ccc(gt[:, k], pr[:, k]) for k in range(2)])
    assert loss == pytest.approx(want, abs=1e-5)
