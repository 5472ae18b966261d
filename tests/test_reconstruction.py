"""Event-to-frame reconstruction: EVREAL metrics, voxel windows, held-out clips, models, PIE-Net, the command."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nvlib.evaluation import reconstruction as ev
from nvlib.events import make_events
from nvlib.experiments import reconstruction as rx
from nvlib.models.reconstruction import (ReconstructionCVAE, RecurrentReconstructor, build_reconstructor,
                                         load_checkpoint, save_checkpoint)


# ------------------------------------------------------------------------------------------- metrics
def _pair(seed=0, shape=(40, 40), noise=0.1):
    rng = np.random.default_rng(seed)
    a = rng.random(shape)
    return a, np.clip(a + noise * rng.standard_normal(shape), 0, 1)


def test_ssim_is_skimage_with_evreal_settings():
    from skimage.metrics import structural_similarity

    a, b = _pair()
    want = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
    assert ev.ssim(a, b) == pytest.approx(want, abs=1e-12)
    # the settings matter: on a structured image skimage's default (uniform 7x7 window, sample covariance) differs
    y, x = np.mgrid[:40, :40]
    c = ((x // 8 + y // 8) % 2) * 0.6 + 0.2
    d = np.roll(c, 1, axis=1)
    assert ev.ssim(c, d) == pytest.approx(structural_similarity(
        c, d, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0), abs=1e-12)
    assert abs(structural_similarity(c, d, data_range=1.0) - ev.ssim(c, d)) > 0.02
    assert ev.ssim(a, a) == pytest.approx(1.0)
    # uint8 frames are read as /255, float frames clipped to [0, 1] (as EVREAL clips)
    assert ev.ssim((a * 255).round().astype(np.uint8), (a * 255).round().astype(np.uint8)) == pytest.approx(1.0)
    assert ev.mse(a, a + 5.0) == pytest.approx(np.mean((a - 1.0) ** 2))


def test_mse_and_psnr_of_a_known_error():
    from skimage.metrics import mean_squared_error, peak_signal_noise_ratio

    a = np.full((16, 16), 0.5)
    b = a + 0.1  # MSE = 0.01 exactly -> PSNR = 10 log10(1 / 0.01) = 20 dB
    assert ev.mse(a, b) == pytest.approx(0.01)
    assert ev.psnr(a, b) == pytest.approx(20.0)
    x, y = _pair(3)
    assert ev.mse(x, y) == pytest.approx(mean_squared_error(x, y))
    assert ev.psnr(x, y) == pytest.approx(peak_signal_noise_ratio(x, y, data_range=1.0))
    assert ev.psnr(a, a) == ev.PSNR_CAP_DB
    with pytest.raises(ValueError, match="differ in size"):
        ev.mse(a, np.zeros((8, 8)))


@pytest.mark.parametrize("shape", [(40, 40), (23, 31)])
def test_training_ssim_equals_the_scored_ssim(shape):
    a, b = _pair(1, shape, 0.2)
    got = ev.ssim_torch(torch.tensor(b)[None, None], torch.tensor(a)[None, None])
    assert float(got) == pytest.approx(ev.ssim(a, b), abs=1e-10)


def test_summary_table_spread_and_paired_comparison():
    import pandas as pd

    rows = []
    for clip, base in (("a", 0.5), ("b", 0.7)):
        for k in range(4):
            rows.append({"method": "prev", "seed": -1, "clip": clip, "frame": k, "ssim": base, "mse": 0.01, "psnr": 20})
            for seed, off in ((0, 0.1), (1, 0.2)):
                rows.append({"method": "ours", "seed": seed, "clip": clip, "frame": k, "ssim": base + off,
                             "mse": 0.01, "psnr": 20})
    f = pd.DataFrame(rows)
    t = ev.summary_table(f, ["ours", "prev"], "toy", seeded=["ours"])
    assert t.loc["ours", "SSIM"] == pytest.approx(0.75)  # mean of per-seed means 0.7, 0.8
    assert t.loc["ours", "SSIM std seeds"] == pytest.approx(np.std([0.7, 0.8], ddof=1))
    assert t.loc["prev", "SSIM std clips"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert math.isnan(t.loc["prev", "SSIM std seeds"]) and t.loc["ours", "n frames"] == 8
    c = ev.paired_comparison(f, "ours", ["prev"]).set_index("level")
    assert c.loc["frames", "diff"] == pytest.approx(0.15) and c.loc["clips", "n"] == 2


# ------------------------------------------------------------------------------------------- windows, leakage
def test_window_voxels_between_frames():
    fps = 10.0  # frames at 0, 100000, 200000, 300000 us
    t = np.array([50_000, 100_000, 100_001, 150_000, 299_999, 300_000])
    ev_ = make_events([1, 2, 3, 1, 0, 0], [0, 1, 1, 2, 0, 3], t, [1, 0, 1, 1, 0, 1], (4, 4))
    vox, counts = rx.window_voxels(ev_, 4, fps, n_bins=3)
    assert vox.shape == (3, 3, 4, 4)
    assert counts.tolist() == [2, 2, 2]  # (t0, t1], (t1, t2], (t2, t3]
    # each window's voxel sums to the sum of its polarities (±1): bilinear weights sum to one
    assert vox.sum(axis=(1, 2, 3)).tolist() == pytest.approx([0.0, 2.0, 0.0])
    vox2, counts2 = rx.window_voxels(ev_[:2], 4, fps, n_bins=3)
    assert counts2.tolist() == [2, 0, 0] and not vox2[1:].any()


def _clip(name, frames):
    f = np.asarray(frames, np.uint8)
    return rx.ReconClip(name, f, 30.0, np.zeros((len(f) - 1, 5, 4, 4), np.float32), np.zeros(len(f) - 1, int),
                        (0, 0, 4))


def test_leakage_is_refused():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 255, (3, 4, 4)), rng.integers(0, 255, (3, 4, 4))
    rx.check_no_leakage([_clip("a", a)], [_clip("b", b)])
    with pytest.raises(ValueError, match="also training clips"):
        rx.check_no_leakage([_clip("a", a)], [_clip("a", b)])
    with pytest.raises(ValueError, match="identical to a frame of training clip a"):
        rx.check_no_leakage([_clip("a", a)], [_clip("b", np.concatenate([b, a[1:2]]))])
    with pytest.raises(ValueError, match="every clip is held out"):
        rx.run_reconstruction(clips=["carphone"], held_out=["carphone"])


# ------------------------------------------------------------------------------------------- models
def test_untrained_models_return_the_previous_frame_and_checkpoints_round_trip(tmp_path):
    torch.manual_seed(0)
    vox, prev = torch.randn(2, 5, 20, 20), torch.rand(2, 1, 20, 20)
    cvae = build_reconstructor("cvae", {"image_size": 20})
    assert torch.equal(cvae.step(vox, prev), prev)  # the residual head starts at zero
    for p in cvae.out.parameters():
        torch.nn.init.normal_(p, std=0.1)
    with torch.no_grad():
        out = cvae(vox, prev, target=prev)
    assert out["image"].shape == prev.shape and float(out["image"].min()) >= 0 and float(out["image"].max()) <= 1
    assert float(out["kl"]) >= 0
    path = save_checkpoint(tmp_path / "c.pt", cvae, {"seed": 0})
    again, meta = load_checkpoint(path)
    assert meta == {"seed": 0} and torch.equal(again.step(vox, prev), cvae.eval().step(vox, prev))
    with pytest.raises(ValueError, match=r"voxel must be \(B, 5, H, W\)"):
        cvae.step(torch.zeros(1, 3, 20, 20), prev[:1])


def test_recurrent_sequence_equals_window_by_window():
    torch.manual_seed(0)
    m = RecurrentReconstructor(n_bins=5, hidden=8)
    for p in m.out.parameters():
        torch.nn.init.normal_(p, std=0.1)
    m.eval()
    v, p = torch.randn(1, 4, 5, 12, 12), torch.rand(1, 4, 1, 12, 12)
    with torch.no_grad():
        seq = m(v, p)
        m.reset_states()
        steps = torch.stack([m.step(v[:, k], p[:, k]) for k in range(4)], 1)
        m.reset_states()
        first_again = m.step(v[:, 3], p[:, 3])
    assert torch.allclose(seq, steps, atol=1e-6)
    assert not torch.allclose(first_again, steps[:, 3])  # the state carries information between windows


def test_wrong_checkpoints_name_both_settings(tmp_path):
    va = tmp_path / "va.pt"
    torch.save({"model_name": "resnet18", "model_cfg": {"num_outputs": 2}, "model": {}}, va)
    with pytest.raises(ValueError, match=r"va\.pt: wrong checkpoint: it holds .*'resnet18'.* needs kind "
                                         r"'nvlib\.reconstruction', model one of \['cvae', 'recurrent'\]"):
        load_checkpoint(va)
    small = ReconstructionCVAE(base=4)
    doc = {"kind": "nvlib.reconstruction", "model": "cvae", "cfg": {"base": 8}, "state_dict": small.state_dict()}
    bad = tmp_path / "bad.pt"
    torch.save(doc, bad)
    with pytest.raises(ValueError, match=r"do not fit the settings it states .*'base': 8"):
        load_checkpoint(bad)


def test_pienet_peer_is_conditioned_on_the_previous_true_frame():
    pie_net = pytest.importorskip("pie_net")
    peer = rx.PIENetPeer()
    torch.manual_seed(0)
    vox, prev = torch.randn(1, 5, 20, 20), torch.rand(1, 1, 20, 20)
    peer.reset_states()
    got = peer.step(vox, prev)
    ref = pie_net.load_model(pretrained=True, device="cpu").eval()
    ref.reset_states()
    ref.f0 = prev
    with torch.no_grad():
        want = ref(vox)["image"]
    assert torch.allclose(got, want) and 0 <= float(got.min()) and float(got.max()) <= 1
    peer.reset_states()
    assert not torch.allclose(peer.step(vox, 1 - prev), got)  # the condition is used


# ------------------------------------------------------------------------------------------- the experiment
def test_run_reconstruction_on_held_out_real_clips(tmp_path):
    kw = dict(clips=["carphone", "feat_single_face"], held_out=["feat_single_face"], size=20, epochs=1, seeds=(0,),
              max_frames=10, results_root=tmp_path, n_examples=2)
    r = rx.run_reconstruction(**kw)
    assert list(r.table.index) == list(rx.ROWS)
    assert r.train_clips == ["carphone"] and r.held_out == ["feat_single_face"]
    assert set(r.frames["clip"]) == {"feat_single_face"} and (r.table["n clips"] == 1).all()
    assert (r.table["n frames"] == 9).all() and "feat_single_face" in r.table["data"].iloc[0]
    for col in ("SSIM", "MSE", "PSNR", "SSIM std clips", "SSIM std seeds", "n seeds"):
        assert col in r.table.columns
    clip = rx.prepare_clip("feat_single_face", 20, 10)
    prev_ssim = np.mean([ev.ssim(clip.frames[k], clip.frames[k - 1]) for k in range(1, 10)])
    assert r.table.loc[rx.PREVIOUS, "SSIM"] == pytest.approx(prev_ssim)
    assert r.examples["true"].shape == (2, 20, 20) and set(r.examples["methods"]) == set(rx.ROWS)
    assert set(r.comparisons["other"]) == {rx.PIENET, rx.PREVIOUS}
    again = rx.run_reconstruction(**kw)  # cached: the same numbers, read back
    assert np.allclose(again.table["SSIM"].values, r.table["SSIM"].values)
    assert r.checkpoints[rx.OURS][0].is_file()

    import matplotlib

    matplotlib.use("Agg")
    from nvlib.pictures.reconstruction import plot_reconstructions

    fig = plot_reconstructions(r, n=2)
    assert len(fig.axes) == 2 * (1 + len(rx.ROWS) + 1)


def test_folds_hold_out_every_clip_once(tmp_path):
    r = rx.run_reconstruction_folds((["carphone"], ["feat_single_face"]), size=20, epochs=1, seeds=(0,),
                                    max_frames=10, results_root=tmp_path, n_examples=1)
    assert r.train_clips == [["feat_single_face"], ["carphone"]]
    assert set(r.frames["clip"]) == {"carphone", "feat_single_face"} and (r.table["n clips"] == 2).all()
    with pytest.raises(ValueError, match="in two folds"):
        rx.run_reconstruction_folds((["carphone"], ["carphone"]))


# ------------------------------------------------------------------------------------------- the command
def _recording(path, size, windows_with_events=(0, 1, 3), window_us=10_000):
    from nvlib.io import write_cache

    rng = np.random.default_rng(0)
    xs, ys, ts, ps = [], [], [], []
    for w in windows_with_events:
        n = 30
        xs.append(rng.integers(0, size, n))
        ys.append(rng.integers(0, size, n))
        ts.append(np.sort(w * window_us + rng.integers(0, window_us, n)))
        ts[-1][0] = w * window_us  # windows start at the first event: make it the window's start
        ps.append(rng.integers(0, 2, n))
    write_cache(path, make_events(np.concatenate(xs), np.concatenate(ys), np.concatenate(ts), np.concatenate(ps),
                                  (size, size)))
    return path


def test_reconstruct_command(tmp_path, capsys):
    import cv2
    import pandas as pd

    from nvlib.cli import main

    torch.manual_seed(0)
    model = build_reconstructor("cvae", {"image_size": 16})  # random init: a test checkpoint, not pretrained
    for p in model.out.parameters():
        torch.nn.init.normal_(p, std=0.1)
    ckpt = save_checkpoint(tmp_path / "cvae.pt", model)
    good = _recording(tmp_path / "good.nvc", 16)
    other = _recording(tmp_path / "big.nvc", 24)
    first = tmp_path / "first.png"
    cv2.imwrite(str(first), np.full((16, 16), 100, np.uint8))
    out = tmp_path / "frames"
    args = ["reconstruct", "-i", str(good), "-i", str(other), "--checkpoint", str(ckpt), "-o", str(out),
            "--window-ms", "10", "--first-frame", str(first), "--no-progress"]
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 1  # one recording skipped, the other reconstructed
    assert "window 2" in err and "no events" in err
    assert "big.nvc: sensor 24x24 but the checkpoint reconstructs 16x16" in err
    pngs = sorted((out / "good").glob("frame_*.png"))
    assert [p.name for p in pngs] == [f"frame_{i:06d}.png" for i in range(4)]
    imgs = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in pngs]
    assert all(i.shape == (16, 16) for i in imgs) and np.array_equal(imgs[2], imgs[1])  # empty window: kept
    table = pd.read_csv(out / "good" / "frames.csv")
    assert table["events"].tolist() == [30, 30, 0, 30]
    assert not list((out / "good").glob(".*partial*")) and not (out / "big").exists()
    # the same run again resumes; a wrong-size first frame is reported and the run goes on
    assert main(args[:3] + args[5:]) == 0
    cv2.imwrite(str(first), np.zeros((8, 8), np.uint8))
    assert main(args[:3] + args[5:] + ["--overwrite"]) == 0
    assert "first frame is 8x8 but the checkpoint reconstructs 16x16" in capsys.readouterr().err
    # a wrong checkpoint stops the run with one line naming both settings
    va = tmp_path / "va.pt"
    torch.save({"model_name": "resnet18", "model_cfg": {"num_outputs": 2}}, va)
    assert main(["reconstruct", "-i", str(good), "--checkpoint", str(va), "-o", str(tmp_path / "x")]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and "'resnet18'" in line and "'cvae'" in line
