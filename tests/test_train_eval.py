"""nvlib.evaluation.predict and .results, nvlib.pictures.va, run ids and the `nvlib train` command-line plumbing."""
from __future__ import annotations

import argparse
import json
import math

import matplotlib
import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

matplotlib.use("Agg")

from nvlib.evaluation import metrics as M
from nvlib.evaluation.predict import dataset_labels, evaluate_model, mean_baseline
from nvlib.evaluation.results import (read_predictions_csv, read_results_json, write_predictions_csv,
                                      write_results_json)
from nvlib.evaluation.tables import va_table
from nvlib.experiments import run_id
from nvlib.workbook.paths import repo_root
from nvlib.experiments.cli import _train_cfg, add_arguments
from nvlib.train.config import TrainConfig
from nvlib.pictures.va import MIKELS_SECTORS, mikels_sector, plot_va_timeline, plot_va_wheel


def _tiny_cache(d):
    """A finished two-clip cache written directly (no conversion)."""
    from nvlib.datasets import cache as C

    for i in range(2):
        C.write_clip(d, f"c{i}", np.zeros((3, 4, 4), np.uint8), np.zeros((3, 2)), {"group": f"g{i}"})
    C.finalize(d, ["c0", "c1"], ["g0", "g1"], ["train", "test"], [0, 1],
               {"n_bits": 8, "delta_t_us": 5000, "size": 4, "labels_kind": "annotated", "n_folds": 2})
    return d


class Frames(Dataset):
    def __init__(self, n=12):
        g = np.random.default_rng(0)
        self.va = g.uniform(-1, 1, (n, 2)).astype(np.float32)

    def __len__(self):
        return len(self.va)

    def __getitem__(self, i):
        return {"frame": torch.full((1, 4, 4), float(i)), "va": torch.from_numpy(self.va[i]), "clip": f"c{i % 3}",
                "index": i // 3}


class Const(torch.nn.Module):
    def forward(self, x):
        return torch.tensor([[2.0, -0.25]]).expand(len(x), 2)


def test_evaluate_model_matches_metrics_and_clips():
    ds = Frames()
    out = evaluate_model(Const(), ds, batch_size=5)
    df = out["predictions"]
    assert list(df.columns) == ["clip", "index", "valence_true", "arousal_true", "valence_pred", "arousal_pred"]
    assert df["valence_pred"].max() == 2.0  # stored unclipped
    want = M.rmse(ds.va[:, 0], np.ones(len(ds)))  # scored clipped to 1
    assert out["metrics"]["valence"]["rmse"] == pytest.approx(want, rel=1e-6)
    per = evaluate_model(Const(), ds, per_clip=True)["metrics"]
    assert set(per["clips"]) == {"c0", "c1", "c2"}
    want_clip = np.mean([M.rmse(ds.va[k::3, 0], np.ones(4)) for k in range(3)])  # mean over clips
    assert per["valence"]["rmse"] == pytest.approx(want_clip, rel=1e-6)
    np.testing.assert_allclose(dataset_labels(ds), ds.va)


def test_mean_baseline_and_row():
    tr = np.array([[0.5, 0.0], [0.1, 0.4]])
    te = np.array([[0.3, 0.2], [0.0, 0.0]])
    b = mean_baseline(tr, te)
    assert b["valence"]["rmse"] == pytest.approx(np.sqrt((0 + 0.09) / 2))
    run = {"metrics": b, "baseline": b, "backbone": "random init", "params": {"total": 2_000_000}, "n_bits": 8,
           "seed": 0}
    paper = {"vit": {"n_bits": 8, "arousal_rmse": 0.1, "arousal_pcc": 0.2, "arousal_sagr": 0.3, "valence_rmse": 0.4,
                     "valence_pcc": 0.5, "valence_sagr": 0.6}}
    rows = va_table({"vit": [run]}, paper=paper, paper_source="paper Table 1")
    assert [r["source"] for r in rows] == ["this workbook", "this workbook", "paper Table 1"]
    assert list(rows[0])[:6] == ["model", "source", "data", "backbone", "params_M", "n_bits"]
    assert rows[0]["params_M"] == 2.0 and rows[1]["model"] == "predict-the-mean"
    assert rows[2]["valence_rmse_mean"] == 0.4 and rows[2]["arousal_sagr_mean"] == 0.3
    assert rows[2]["valence_ccc_mean"] is None
    assert math.isnan(rows[0]["valence_rmse_std"])  # one seed: no spread


def test_results_json_relative_paths(tmp_path):
    root = repo_root()
    p = write_results_json(tmp_path / "r.json", model="vit", metrics=mean_baseline([[0, 0]], [[0.1, 0.1]]),
                           config={"cache": root / "data" / "x", "backbone": f"frame:{root}/runs/a/best.pt"},
                           backbone="random init")
    text = p.read_text()
    assert str(root) not in text
    doc = read_results_json(p)
    assert doc["config"]["cache"] == "data/x" and doc["config"]["backbone"] == "frame:runs/a/best.pt"
    (tmp_path / "bad.json").write_text(json.dumps({"model": "x"}))
    with pytest.raises(ValueError, match="bad.json.*lacks 'metrics'"):
        read_results_json(tmp_path / "bad.json")


def test_predictions_csv_round_trip(tmp_path):
    df = evaluate_model(Const(), Frames())["predictions"]
    df["clip"] = ["007", "010", "c"] * 4  # clip ids stay strings (leading zeros kept)
    back = read_predictions_csv(write_predictions_csv(tmp_path / "p.csv", df))
    assert back["clip"].tolist() == df["clip"].tolist()
    np.testing.assert_allclose(back["valence_true"], df["valence_true"], rtol=1e-6)
    with pytest.raises(ValueError, match="lack columns"):
        write_predictions_csv(tmp_path / "q.csv", df.drop(columns=["arousal_pred"]))


def test_mikels_sectors_cover_the_circle():
    assert sum(a1 - a0 for _, a0, a1, _ in MIKELS_SECTORS) == 360.0
    assert mikels_sector(0.7, 0.7) == "excitement"
    assert mikels_sector(-0.5, -0.5) == "sadness"
    for name, a0, a1, pol in MIKELS_SECTORS:
        mid = np.radians((a0 + a1) / 2)
        assert mikels_sector(np.cos(mid), np.sin(mid)) == name
        assert (np.cos(mid) > 0) == (pol == "positive")  # positive emotions on the v > 0 half


def test_plots_draw():
    out = evaluate_model(Const(), Frames())
    fig = plot_va_timeline(out["predictions"], "c1")
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) >= 2
    fig2 = plot_va_wheel(np.zeros((3, 2)), np.ones((3, 2)) * 2)
    assert len(fig2.axes[0].patches) == 8
    with pytest.raises(ValueError, match="'nope'"):
        plot_va_timeline(out["predictions"], "nope")


def test_cli_arguments_and_config(tmp_path):
    p = argparse.ArgumentParser()
    add_arguments(p)
    (tmp_path / "t.yaml").write_text("epochs: 7\nlr: 0.01\n")
    a = p.parse_args(["--model", "vit", "--synthetic", "--train-cfg", str(tmp_path / "t.yaml"), "--lr", "0.5",
                      "--no-resume"])
    cfg = _train_cfg(a)
    assert (cfg.epochs, cfg.lr, cfg.resume) == (7, 0.5, False)
    with pytest.raises(SystemExit):
        p.parse_args(["--model", "nope", "--synthetic"])
    assert p.parse_args(["--model", "vit", "--synthetic", "--fresh"]).fresh
    # the run folder name changes with what changes the weights, not with progress bars
    c, x = TrainConfig(), _tiny_cache(tmp_path / "x")
    assert run_id("vit", x, {}, c, None, 6) == run_id("vit", x, {}, c.replace(progress=False), None, 6)
    assert run_id("vit", x, {}, c, None, 6) != run_id("vit", x, {}, c.replace(lr=1), None, 6)


def test_gain_over_mean_flags_models_that_do_not_learn():
    import pytest

    from nvlib.evaluation.tables import gain_over_mean, require_gain_over_mean

    def res(v, a):
        return {"metrics": {"valence": {"rmse": v}, "arousal": {"rmse": a}},
                "baseline": {"valence": {"rmse": 0.5}, "arousal": {"rmse": 0.5}}}

    rows = gain_over_mean({"good": res(0.3, 0.4), "flat": res(0.5, 0.49)})
    assert rows[0]["gain"] == pytest.approx(0.3) and rows[1]["gain"] == pytest.approx(0.01)
    with pytest.raises(AssertionError, match=r"flat \(mean RMSE 0.495"):
        require_gain_over_mean({"good": res(0.3, 0.4), "flat": res(0.5, 0.49)})
    assert len(require_gain_over_mean({"good": res(0.3, 0.4)})) == 1


def test_run_id_does_not_depend_on_the_checkout_location(monkeypatch, tmp_path):
    from nvlib.workbook.paths import repo_root
    from nvlib.experiments import run_id
    from nvlib.train import TrainConfig

    cache = _tiny_cache(tmp_path / "cache_a")
    ck = repo_root() / "runs" / "x" / "best.pt"
    a = run_id("resnet_lstm", cache, {"backbone": f"frame:{ck}"}, TrainConfig(), None, 6)
    other = tmp_path / "elsewhere"
    (other / "nvlib").mkdir(parents=True)
    (other / "pyproject.toml").write_text("")
    monkeypatch.setenv("NVLIB_ROOT", str(other))
    b = run_id("resnet_lstm", cache, {"backbone": f"frame:{other / 'runs' / 'x' / 'best.pt'}"}, TrainConfig(),
               None, 6)
    c = run_id("resnet_lstm", cache, {"backbone": f"frame:{other / 'runs' / 'y' / 'best.pt'}"}, TrainConfig(),
               None, 6)
    assert a == b != c
