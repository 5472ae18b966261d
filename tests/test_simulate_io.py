"""nvlib.simulate: frame sources, camera resizing, optical-flow upsampling and the CLI."""
from __future__ import annotations

import argparse

import cv2
import h5py
import numpy as np
import pytest

from nvlib.simulate import DVSParams, open_frames, resize_for_camera, simulate_frames, simulate_video
from nvlib.simulate import cli as sim_cli
from nvlib.simulate.upsample import auto_factor, flow_farneback, interpolate_pair, upsample_frames

CLEAN = DVSParams.preset("clean", seed=3)


def moving_bar(t=8, h=24, w=32, speed=2):
    frames = np.full((t, h, w), 40, np.uint8)
    for i in range(t):
        frames[i, :, 4 + speed * i: 10 + speed * i] = 200
    return frames


def parse(argv):
    ap = argparse.ArgumentParser()
    sim_cli.add_arguments(ap)
    return ap.parse_args(argv)


# ---------------------------------------------------------------- sources
def test_resize_for_camera():
    fr = np.random.default_rng(0).integers(0, 256, (90, 120, 3)).astype(np.uint8)
    out = resize_for_camera(fr, "dvs346")
    assert out.shape == (260, 346, 3)
    assert np.array_equal(out, cv2.resize(fr, (346, 260), interpolation=cv2.INTER_AREA))
    assert resize_for_camera(fr, (60, 45)).shape == (45, 60, 3)
    assert resize_for_camera(fr, None) is fr
    with pytest.raises(ValueError, match="unknown camera"):
        resize_for_camera(fr, "dvs999")


def test_npy_folder_and_video_sources_agree(tmp_path):
    frames = moving_bar()
    np.save(tmp_path / "clip.npy", frames)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(frames):  # colour PNGs, AFEW-VA style names
        cv2.imwrite(str(folder / f"{i:05d}.png"), cv2.merge([f, f, f]))
    ref = simulate_frames(frames, fps=25, params=CLEAN)
    assert len(ref) > 20
    for path in (tmp_path / "clip.npy", folder):
        ev = simulate_video(path, params=CLEAN, input_frame_rate=25)
        assert np.array_equal(ev.array, ref.array), path
    src = open_frames(folder, max_frames=3)
    assert src.kind == "folder" and len(list(src)) == 3
    half = simulate_video(tmp_path / "clip.npy", params=CLEAN, input_frame_rate=25, camera=(16, 12))
    assert half.sensor_size == (16, 12)


def test_video_file_source(sample_video):
    from nvlib.io.video import read_video
    src = open_frames(sample_video, max_frames=5)
    assert src.kind == "video" and src.fps == pytest.approx(29.97, abs=0.01)
    got = np.stack(list(src))
    rgb, _ = read_video(sample_video, max_frames=5)
    expect = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in rgb])
    assert got.shape == expect.shape and np.abs(got.astype(int) - expect).max() <= 1
    ev = simulate_video(sample_video, params=CLEAN, camera="dvs128", max_frames=5)
    assert ev.sensor_size == (128, 128) and len(ev) > 0 and ev.is_sorted()


@pytest.fixture(scope="module")
def sample_video():
    from nvlib.datasets.samples import sample_path
    return sample_path("carphone")


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        open_frames(tmp_path / "nope.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no frames"):
        open_frames(tmp_path / "empty")
    bad = tmp_path / "junk.mp4"
    bad.write_bytes(b"this is not a video" * 10)
    with pytest.raises(ValueError, match="junk.mp4"):
        open_frames(bad)
    np.save(tmp_path / "f.npy", np.zeros((3, 4, 4), np.float32))
    with pytest.raises(ValueError, match="uint8"):
        open_frames(tmp_path / "f.npy")
    np.save(tmp_path / "e.npy", np.zeros((0, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="no frames"):
        open_frames(tmp_path / "e.npy")
    np.save(tmp_path / "ok.npy", moving_bar(t=3))
    with pytest.raises(ValueError, match="frame rate unknown"):
        simulate_video(tmp_path / "ok.npy")
    with pytest.raises(ValueError, match="positive"):
        simulate_video(tmp_path / "ok.npy", input_frame_rate=0)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    cv2.imwrite(str(mixed / "00000.png"), np.zeros((8, 8), np.uint8))
    cv2.imwrite(str(mixed / "00001.png"), np.zeros((8, 9), np.uint8))
    with pytest.raises(ValueError, match="changing size"):
        simulate_video(mixed, input_frame_rate=30)
    (mixed / "00001.png").unlink()
    (mixed / "00002.png").write_bytes(b"broken")
    with pytest.raises(ValueError, match="00002.png"):
        list(open_frames(mixed))


# ---------------------------------------------------------------- upsampling
def textured_pair(shift=4):
    """A smooth random texture and the same texture moved right by ``shift`` pixels (+ truth at half)."""
    rng = np.random.default_rng(0)
    tex = cv2.GaussianBlur(rng.integers(0, 256, (80, 120)).astype(np.float32), (0, 0), 3)
    tex = cv2.normalize(tex, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return tex[:, 10:90], tex[:, 10 - shift:90 - shift], tex[:, 10 - shift // 2:90 - shift // 2]


def test_upsample_times_and_motion():
    f0, f1, truth = textured_pair()
    frames = [f0, f1, f0]
    out = list(upsample_frames(((f, i / 10) for i, f in enumerate(frames)), factor=4))
    times = [t for _, t in out]
    assert times == pytest.approx([0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2])
    assert np.array_equal(out[0][0], f0) and np.array_equal(out[4][0], f1)
    # the flow-interpolated midpoint is the texture moved by half the step, unlike a cross-fade
    inner = np.s_[8:-8, 8:-8]
    mid = out[2][0].astype(float)
    fade = (f0.astype(float) + f1) / 2
    err, err_fade = np.abs(mid - truth)[inner].mean(), np.abs(fade - truth)[inner].mean()
    assert err < 0.5 < 3 < err_fade
    same = interpolate_pair(f0, f0, [0.5])[0]
    assert np.abs(same.astype(int) - f0).max() <= 1  # no motion: the frame itself, up to rounding
    assert 3 <= auto_factor(flow_farneback(f0, f1)) <= 8  # ~4 px of motion, at most 1 px per step
    with pytest.raises(ValueError, match="factor"):
        list(upsample_frames([(f0, 0.0)], factor=0))


# ---------------------------------------------------------------- command line
def test_cli_params_mapping():
    a = parse(["-i", "x.npy", "--dvs_params", "noisy", "--sigma_thres", "0.01", "--dvs_emulator_seed", "4"])
    p = sim_cli.params_from_args(a)
    assert p == DVSParams.preset("noisy", sigma_thres=0.01, seed=4)
    a = parse(["-i", "x.npy", "--refractory_period", "0.002", "--cutoff_hz", "0", "--dvs346"])
    p = sim_cli.params_from_args(a)
    assert (p.refractory_period_s, p.cutoff_hz, p.sigma_thres) == (0.002, 0.0, 0.03) and a.dvs346
    with pytest.raises(SystemExit):
        parse(["-i", "x.npy", "--dvs128", "--dvs346"])


def test_cli_writes_v2e_h5_text_and_cache(tmp_path, capsys):
    io = pytest.importorskip("nvlib.io")
    frames = moving_bar()
    np.save(tmp_path / "clip.npy", frames)
    args = parse(["-i", str(tmp_path / "clip.npy"), "--input_frame_rate", "25", "--dvs_params", "clean",
                  "--dvs_emulator_seed", "3", "--dvs_h5", str(tmp_path / "ev.h5"), "--dvs_text",
                  str(tmp_path / "ev.txt"), "--cache", str(tmp_path / "ev.cache"), "--no_progress"])
    assert sim_cli.main(args) == 0
    ref = simulate_frames(frames, fps=25, params=CLEAN)
    with h5py.File(tmp_path / "ev.h5", "r") as f:
        ds = f["events"][:]
    assert ds.dtype == np.uint32 and ds.shape == (len(ref), 4)
    assert np.array_equal(ds, np.stack([ref.t, ref.x, ref.y, ref.p], 1).astype(np.uint32))
    back = io.read_cache(tmp_path / "ev.cache")
    assert np.array_equal(back.array, ref.array)
    txt = io.read_events(tmp_path / "ev.txt")
    assert np.array_equal(txt.t, ref.t) and np.array_equal(txt.x, ref.x)
    assert f"{len(ref)} events" in capsys.readouterr().out


def test_cli_interrupted_run_leaves_no_file(tmp_path, monkeypatch):
    pytest.importorskip("nvlib.io")
    np.save(tmp_path / "clip.npy", moving_bar())
    from nvlib.simulate import emulator

    real_step = emulator.DVSEmulator.step

    def failing_step(self, frame, t):
        if self.frames_seen == 4:
            raise KeyboardInterrupt
        return real_step(self, frame, t)

    monkeypatch.setattr(emulator.DVSEmulator, "step", failing_step)
    args = parse(["-i", str(tmp_path / "clip.npy"), "--input_frame_rate", "25", "--dvs_h5",
                  str(tmp_path / "ev.h5"), "--cache", str(tmp_path / "ev.cache"), "--no_progress"])
    with pytest.raises(KeyboardInterrupt):
        sim_cli.main(args)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.npy"]
