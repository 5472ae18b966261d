"""nvlib.train: config, engine, checkpoints (weights_only, mismatch refusal), NaN stop, exact resume."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from nvlib.models import build_model
from nvlib.evaluation.predict import predict
from nvlib.train import (CheckpointError, NonFiniteLossError, TrainConfig, build_and_fit, fit, load_model,
                         read_checkpoint, seed_everything)


class TinyFrames(Dataset):
    """Frames whose mean brightness encodes valence and left/right contrast encodes arousal."""

    def __init__(self, n=48, size=16, seed=0, nan_at=None):
        g = np.random.default_rng(seed)
        self.va = g.uniform(-0.8, 0.8, size=(n, 2)).astype(np.float32)
        x = g.uniform(0, 0.2, size=(n, 1, size, size)).astype(np.float32)
        x += (self.va[:, 0, None, None, None] + 1) * 0.3
        x[..., : size // 2] += (self.va[:, 1, None, None, None] + 1) * 0.1
        self.x = x
        if nan_at is not None:
            self.va[nan_at] = np.nan
        self.clips = [f"c{i // 8}" for i in range(n)]

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"frame": torch.from_numpy(self.x[i]), "va": torch.from_numpy(self.va[i]), "clip": self.clips[i],
                "index": i % 8}


class TinyChunks(Dataset):
    def __init__(self, n=8, t=6, size=16, seed=1):
        f = TinyFrames(n * t, size, seed)
        self.x = f.x.reshape(n, t, 1, size, size)
        self.va = f.va.reshape(n, t, 2)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"frames": torch.from_numpy(self.x[i]), "va": torch.from_numpy(self.va[i]), "clip": f"v{i // 2}",
                "start": (i % 2) * 6}


VIT = dict(image_size=16, patch_size=8, hidden_dim=32, mlp_dim=64, depth=2, heads=2, dropout=0.1)
QUIET = dict(progress=False, tensorboard=False, device="cpu", batch_size=8)


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_config_frozen_and_unknown_keys(tmp_path):
    cfg = TrainConfig()
    assert (cfg.lr, cfg.lr_step_epochs, cfg.lr_gamma, cfg.loss) == (1e-4, 50, 0.5, "mse")  # paper Sec. 4.1
    with pytest.raises(Exception):
        cfg.lr = 1.0
    with pytest.raises(KeyError, match="unknown option.*'lrr'"):
        TrainConfig.from_dict({"lrr": 1})
    with pytest.raises(ValueError, match="loss"):
        TrainConfig(loss="l1")
    p = cfg.replace(epochs=3).save(tmp_path / "c.json")
    assert TrainConfig.from_dict(json.loads(p.read_text())) == cfg.replace(epochs=3)


def test_fit_logs_checkpoints_and_best_on_validation(tmp_path):
    train, val = TinyFrames(48, seed=0), TinyFrames(16, seed=1)
    cfg = TrainConfig(epochs=3, lr=3e-3, tensorboard=True, **{k: v for k, v in QUIET.items() if k != "tensorboard"})
    model, res = build_and_fit("vit", VIT, train, val, cfg, tmp_path / "run")
    out = tmp_path / "run"
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    vals = [float(r["val_select"]) for r in rows]
    assert res.best_epoch == 1 + int(np.argmin(vals))  # best = lowest validation RMSE
    assert res.best_value == pytest.approx(min(vals))
    assert any(p.name.startswith("events.out.tfevents") for p in (out / "tb").iterdir())
    conf = json.loads((out / "config.json").read_text())
    assert conf["model_name"] == "vit" and conf["train"]["epochs"] == 3 and conf["backbone"] == "random init"
    # StepLR halves every lr_step_epochs: lr recorded per epoch
    ck = read_checkpoint(out / "best.pt")
    assert ck["epoch"] == res.best_epoch and ck["model_name"] == "vit"
    # best.pt reloads to the same predictions as the returned model
    again = load_model(out / "best.pt")
    p1 = predict(model, val)["pred"]
    p2 = predict(again, val)["pred"]
    np.testing.assert_allclose(p1, p2, atol=1e-6)


def test_step_lr_halves(tmp_path):
    cfg = TrainConfig(epochs=4, lr_step_epochs=2, lr=1e-3, **QUIET)
    seed_everything(0)
    res = fit(build_model("vit", **VIT), TinyFrames(16), TinyFrames(8, seed=2), cfg, tmp_path)
    assert [h["lr"] for h in res.history] == pytest.approx([1e-3, 1e-3, 5e-4, 5e-4])


def test_resume_gives_same_weights_as_uninterrupted(tmp_path):
    train, val = TinyFrames(24, seed=0), TinyFrames(8, seed=1)
    cfg = TrainConfig(epochs=3, lr=1e-3, lr_step_epochs=2, deterministic=True, **QUIET)
    seed_everything(0)
    full = build_model("vit", **VIT)
    fit(full, train, val, cfg, tmp_path / "full")
    seed_everything(0)
    part = build_model("vit", **VIT)
    fit(part, train, val, cfg.replace(epochs=1), tmp_path / "part")  # "interrupted" after 1 epoch
    seed_everything(123)  # a fresh process: different init, state comes from the checkpoint
    resumed = build_model("vit", **VIT)
    res = fit(resumed, train, val, cfg, tmp_path / "part")
    assert res.epochs_run == 2 and len(res.history) == 3
    a, b = _state(full), _state(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    ra = read_checkpoint(tmp_path / "full" / "last.pt")["history"]
    rb = read_checkpoint(tmp_path / "part" / "last.pt")["history"]
    assert [r["val_select"] for r in ra] == [r["val_select"] for r in rb]


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    cfg = TrainConfig(epochs=1, lr=1e-3, **QUIET)
    seed_everything(0)
    m = build_model("vit", **VIT)
    fit(m, TinyFrames(16), TinyFrames(8, seed=1), cfg, tmp_path)
    before = (tmp_path / "last.pt").read_bytes()
    with pytest.raises(NonFiniteLossError, match=r"loss is nan at epoch 2.*last\.pt"):
        fit(m, TinyFrames(16, nan_at=3), TinyFrames(8, seed=1), cfg.replace(epochs=2), tmp_path)
    assert (tmp_path / "last.pt").read_bytes() == before
    assert read_checkpoint(tmp_path / "last.pt")["epoch"] == 1


def test_checkpoint_of_other_model_or_shape_is_refused(tmp_path):
    cfg = TrainConfig(epochs=1, **QUIET)
    fit(build_model("vit", **VIT), TinyFrames(8), TinyFrames(8), cfg, tmp_path)
    ck = tmp_path / "best.pt"
    torch.load(ck, weights_only=True)  # loadable with the safe unpickler
    with pytest.raises(CheckpointError, match="holds model 'vit', not 'resnet18'"):
        fit(build_model("resnet18"), TinyFrames(8), TinyFrames(8), cfg.replace(epochs=2), tmp_path)
    with pytest.raises(CheckpointError, match="shape mismatch"):
        fit(build_model("vit", **{**VIT, "hidden_dim": 48}), TinyFrames(8), TinyFrames(8), cfg.replace(epochs=2),
            tmp_path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pt"):
        read_checkpoint(tmp_path / "junk.pt")


def test_video_training_and_chunk_predictions(tmp_path):
    cfg = TrainConfig(epochs=1, lr=1e-3, loss="mse+ccc", **QUIET)
    cfgm = dict(width=0.125)
    model, res = build_and_fit("ic3d", cfgm, TinyChunks(8), TinyChunks(4, seed=3), cfg, tmp_path)
    p = predict(model, TinyChunks(4, seed=3))
    assert p["pred"].shape == (24, 2) and len(p["clip"]) == 24
    assert p["index"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] * 2  # start + offset
    assert np.isfinite(res.best_value)


class Overlap(Dataset):
    """Two overlapping chunks of one clip: frames 2..3 appear twice."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return {"frames": torch.full((4, 1, 8, 8), float(i)), "va": torch.zeros(4, 2), "clip": "c", "start": 2 * i}


class Echo(torch.nn.Module):
    def forward(self, x):  # (B,T,1,H,W) -> (B,T,2): the frame's mean
        m = x.mean(dim=(2, 3, 4))
        return torch.stack([m, m], -1)


def test_predict_averages_overlapping_chunks():
    p = predict(Echo(), Overlap())
    assert p["index"].tolist() == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(p["pred"][:, 0], [0, 0, 0.5, 0.5, 1, 1])


def test_resume_with_other_settings_is_refused(tmp_path):
    cfg = TrainConfig(epochs=1, lr=1e-3, **QUIET)
    fit(build_model("vit", **VIT), TinyFrames(8), TinyFrames(8), cfg, tmp_path)
    with pytest.raises(CheckpointError, match=r"other settings \(lr: 0.001 -> 0.002\)"):
        fit(build_model("vit", **VIT), TinyFrames(8), TinyFrames(8), cfg.replace(epochs=2, lr=2e-3), tmp_path)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("name,model_cfg,data", [("vit", VIT, TinyFrames), ("resnet_lstm", {}, TinyChunks)])
def test_fit_on_cuda_with_amp_resumes_and_loads_on_cpu(tmp_path, name, model_cfg, data):
    train, val = data(seed=0), data(seed=3)
    cfg = TrainConfig(epochs=2, lr=3e-3, progress=False, tensorboard=False, device="cuda", batch_size=4)
    _, res = build_and_fit(name, model_cfg, train, val, cfg, tmp_path / "run")
    conf = json.loads((tmp_path / "run" / "config.json").read_text())
    assert conf["amp"] is True and conf["device"].startswith("cuda")
    assert all(np.isfinite(h["train_loss"]) for h in res.history)
    ck = read_checkpoint(tmp_path / "run" / "last.pt")
    assert ck["scaler"] is not None and ck["epoch"] == 2  # the GradScaler state travels with the run
    res2 = fit(build_model(name, **model_cfg), train, val, cfg.replace(epochs=3), tmp_path / "run")
    assert res2.epochs_run == 1 and len(res2.history) == 3
    model = load_model(tmp_path / "run" / "last.pt")  # mapped to the CPU
    p_cpu = predict(model, val)["pred"]
    p_gpu = predict(model, val, device="cuda")["pred"]
    np.testing.assert_allclose(p_gpu, p_cpu, atol=1e-4)
