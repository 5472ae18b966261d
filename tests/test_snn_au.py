"""The spiking AU classifier: snntorch Leaky dynamics as documented, shapes and surrogate gradients, the
model inputs (event windows, RGB frames) with known values, the scores and intervals, learning above
chance, and the per-seed results reused by configuration."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nvlib.events import EVENT_DTYPE, Events
from nvlib.experiments.au import (AUData, AUTrainConfig, event_steps, mean_ci, modality_rows, paired_rows, per_au_rows,
                                  predict, prepare_au, rgb_steps, run_au, scores, split_subjects, train_snn)
from nvlib.models.snn import SpikingAUNet, build_snn


def test_leaky_neuron_follows_the_documented_recurrence():
    """mem[t] = beta * mem[t-1] + x[t]; spike when mem > 1; reset by subtracting the threshold."""
    import snntorch as snn

    lif = snn.Leaky(beta=0.9)
    mem = torch.zeros(1)
    spikes, mems = [], []
    for _ in range(6):
        spk, mem = lif(torch.tensor([0.3]), mem)
        spikes.append(int(spk))
        mems.append(float(mem))
    ref, m, out = [], 0.0, []
    for _ in range(6):
        m = 0.9 * m + 0.3 - (1.0 if out and out[-1] else 0.0)
        out.append(m > 1.0)
        ref.append(m)
    assert spikes == [int(s) for s in out] == [0, 0, 0, 1, 0, 0]
    np.testing.assert_allclose(mems, ref, rtol=1e-6)


def test_network_shapes_record_and_surrogate_gradients():
    torch.manual_seed(0)
    net = build_snn(2, 5, image_size=16, channels=(4, 8), hidden=12)
    x = (torch.rand(3, 7, 2, 16, 16) < 0.3).float()
    logits, rec = net(x, record=True)
    assert logits.shape == (3, 5)
    assert rec["conv1"].shape == (7, 3, 4, 8, 8) and rec["conv2"].shape == (7, 3, 8, 4, 4)
    assert rec["fc1"].shape == (7, 3, 12) and rec["readout"].shape == (7, 3, 5)
    for k in ("conv1", "conv2", "fc1"):
        assert set(np.unique(rec[k].numpy())) <= {0.0, 1.0}
    torch.testing.assert_close(logits, rec["readout"].mean(0))
    torch.nn.functional.cross_entropy(net(x), torch.tensor([0, 1, 2])).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    assert net.model_cfg["in_channels"] == 2 and net.model_cfg["hidden"] == 12
    with pytest.raises(ValueError, match=r"expected \(B, T, 2, 16, 16\), got \(3, 7, 1, 16, 16\)"):
        net(torch.rand(3, 7, 1, 16, 16))
    with pytest.raises(ValueError, match="divisible by 4"):
        SpikingAUNet(image_size=18)


def test_event_windows_and_rgb_steps_known_values():
    ev = np.zeros(3, EVENT_DTYPE)
    ev["x"], ev["y"], ev["t"], ev["p"] = [0, 3, 3], [0, 2, 2], [5_000, 25_000, 26_000], [1, 0, 0]
    x = event_steps(Events(ev, (4, 4)), n_steps=3, window_ms=20.0, size=2)
    assert x.shape == (3, 2, 2, 2)
    expect = np.zeros((3, 2, 2, 2), np.float32)
    expect[0, 1, 0, 0] = 0.25  # ON at (0, 0) in window 0, one of the 2x2 pixels averaged
    expect[1, 0, 1, 1] = 0.25  # two OFF events at one pixel in window 1: a binary slice counts it once
    np.testing.assert_array_equal(x, expect)
    frames = np.stack([np.full((4, 4), 100, np.uint8), np.full((4, 4), 151, np.uint8)])
    d = rgb_steps(frames, n_steps=3, size=2)
    np.testing.assert_allclose(d[:, 0, 0, 0], [0.0, 51 / 255, 0.0], atol=1e-6)
    np.testing.assert_allclose(rgb_steps(frames, 2, 2, "raw")[:, 0, 1, 1], [100 / 255, 151 / 255], atol=1e-6)
    with pytest.raises(ValueError, match="unknown rgb_input"):
        rgb_steps(frames, 2, 2, "flow")


def test_scores_and_intervals_known_values():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 2, 0])
    s = scores(y, p, 3, np.array([40, 40, 40, 200, 200, 200]))
    assert s["accuracy"] == pytest.approx(4 / 6)
    # class 0: precision 1/2, recall 1/2; class 1: 2/3 and 1; class 2: 1 and 1/2
    np.testing.assert_allclose(s["f1"], [0.5, 0.8, 2 / 3])
    assert s["accuracy_by_speed"] == {"40": pytest.approx(2 / 3), "200": pytest.approx(2 / 3)}
    ci = mean_ci([1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)
    assert (ci["mean"], ci["std"]) == (2.0, 1.0)
    assert ci["ci_low"] == pytest.approx(2 - half) and ci["ci_high"] == pytest.approx(2 + half)


def _toy(n_per_class=24, seed=0):
    """Two classes that differ only in WHEN events come (early vs late), on the same pixels."""
    rng = np.random.default_rng(seed)
    x = np.zeros((2 * n_per_class, 8, 2, 8, 8), np.float32)
    y = np.repeat([0, 1], n_per_class)
    for i, c in enumerate(y):
        t = rng.integers(0, 2) + (0 if c == 0 else 5)
        x[i, t:t + 2, 1, 1:7, 1:7] = rng.random((2, 6, 6)) < 0.8
    return x, y


def test_the_network_learns_timing_above_chance():
    x, y = _toy()
    xt, yt = _toy(seed=1)
    model, losses = train_snn(x, y, 2, AUTrainConfig(epochs=12, batch_size=8, lr=1e-2, channels=(4, 8), hidden=16),
                              seed=0)
    assert losses[-1] < losses[0]
    assert np.mean(predict(model, xt) == yt) >= 0.9


def _data(n=48):
    x, y = _toy(n // 2)
    rgb = np.zeros((n, 3, 1, 8, 8), np.float32)  # the toy "RGB camera" sees nothing: chance
    subjects = [f"s{i % 4}" for i in range(n)]
    return AUData(x, rgb, y, ["AU4", "AU45"], np.where((np.arange(n) // 4) % 2 == 0, 40.0, 200.0), subjects,
                  [f"c{i:02d}" for i in range(n)], 10.0, 8, "toy", "delta")


def test_run_au_tables_and_reuse(tmp_path):
    data = split_subjects(_data(), test_fraction=0.5, seed=0)
    assert len({s for s, t in zip(data.subjects, data.test) if t}) == 2
    test_subjects = {s for s, t in zip(data.subjects, data.test) if t}
    assert not test_subjects & {s for s, t in zip(data.subjects, data.test) if not t}
    cfg = AUTrainConfig(epochs=12, batch_size=8, lr=1e-2, channels=(4, 8), hidden=16)
    res = run_au(data, seeds=(0, 1), cfg=cfg, results_root=tmp_path, log=None)
    assert [d["reused"] for d in res["events"] + res["rgb"]] == [False] * 4
    again = run_au(data, seeds=(0, 1), cfg=cfg, results_root=tmp_path, log=None)
    assert [d["reused"] for d in again["events"]] == [True, True]
    assert [d["scores"] for d in again["events"]] == [d["scores"] for d in res["events"]]
    rows = {r["modality"]: r for r in modality_rows(res, data)}
    assert rows["events"]["chance_pct"] == 50.0 and rows["events"]["accuracy_mean"] > 0.8
    assert rows["rgb"]["accuracy_mean"] == pytest.approx(0.5)  # constant input: one class for all
    sp = paired_rows(res)
    assert [r["onset_ms"] for r in sp] == ["all", "40", "200"] and sp[0]["test_clips"] == int(data.test.sum())
    assert sp[0]["events_mean"] == pytest.approx(rows["events"]["accuracy_mean"])
    assert [r["class"] for r in per_au_rows(res, data.classes)] == ["AU4", "AU45"]
    other = run_au(data, seeds=(0,), cfg=AUTrainConfig(epochs=1, batch_size=8, channels=(4, 8), hidden=16),
                   modalities=("events",), results_root=tmp_path, log=None)
    assert other["events"][0]["reused"] is False  # another configuration, another file


def test_clips_without_events_in_the_au_span_are_reported(tmp_path):
    from nvlib.datasets.micro import AUEvent, MicroClip, MicroDataset

    def clip(name, t_us, label="AU4"):
        ev = np.zeros(len(t_us), EVENT_DTYPE)
        ev["t"], ev["p"] = t_us, 1
        return MicroClip(name, tmp_path / name, Events(ev, (8, 8)), np.zeros((6, 8, 8), np.uint8), 30.0,
                         (AUEvent(label, 50.0, 90.0, 130.0),), "s0")

    ds = MicroDataset(tmp_path, [clip("a", [60_000]), clip("b", [10_000, 150_000]), clip("c", [100_000], "AU45")],
                      [], (8, 8), (8, 8))
    data = prepare_au(ds, size=4, window_ms=20.0)
    assert data.names == ["a", "c"] and data.classes == ["AU4", "AU45"]
    assert [p.clip for p in data.problems] == ["b"]
    assert "no event inside the AU span 50.0-130.0 ms" in data.problems[0].reason
    assert data.events.shape == (2, 10, 2, 4, 4) and data.rgb.shape == (2, 6, 1, 4, 4)
