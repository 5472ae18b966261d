"""``nvlib simulate``: one-line mistakes, nothing lost silently, v2e's --start_time/--stop_time, sizes from the
input (v2e #42), AEDAT4 output (v2e #59), event frames at the input frames (v2e #57, #58), a light import."""
from __future__ import annotations

import subprocess
import sys

import cv2
import h5py
import numpy as np
import pytest

from nvlib.cli import main as nvlib_main
from nvlib.simulate import DVSParams, simulate_frames

CLEAN = ["--dvs_params", "clean", "--dvs_emulator_seed", "3", "--no_progress"]


def moving_bar(t=12, h=24, w=40, speed=2):
    frames = np.full((t, h, w), 40, np.uint8)
    for i in range(t):
        frames[i, :, 4 + speed * i: 10 + speed * i] = 200
    return frames


@pytest.fixture()
def clip(tmp_path):
    path = tmp_path / "clip.npy"
    np.save(path, moving_bar())
    return path


def run(argv, capsys):
    rc = nvlib_main(["simulate", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("extra, message", [
    ([], "no output chosen"),
    (["--dvs_h5", "o.h5", "--input_frame_rate", "0"], "--input_frame_rate must be a positive number"),
    (["--dvs_h5", "o.h5", "--input_frame_rate", "10", "--max_frames", "0"], "--max_frames must be at least 1"),
    (["--dvs_h5", "o.h5", "--input_frame_rate", "10", "--start_time", "1", "--stop_time", "0.5"],
     "--stop_time 0.5 s must be later than --start_time 1 s"),
    (["--dvs_h5", "o.h5"], "frame rate unknown"),  # .npy without --input_frame_rate
    (["--dvs_h5", "o.h5", "--input_frame_rate", "10", "--start_time", "5"], "past the last of its 12 frames"),
])
def test_cli_mistakes_one_line_exit_2(clip, tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(["-i", str(clip), *CLEAN, *extra], capsys)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nvlib simulate: ") and message in lines[0], err
    assert not list(tmp_path.glob("o.h5*"))


def test_cli_missing_input_one_line(tmp_path, capsys):
    rc, _, err = run(["-i", str(tmp_path / "nope.mp4"), "--dvs_h5", str(tmp_path / "o.h5")], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "nope.mp4" in err


def test_cli_truncated_video_reports_frames_reached(tmp_path, capsys):
    """A video cut in half: outputs hold the frames decoded, the count is printed, exit code 1."""
    full = tmp_path / "full.avi"
    w = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 25, (40, 24))
    for f in moving_bar(t=40):
        w.write(cv2.merge([f, f, f]))
    w.release()
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[:len(data) // 2])
    n_read = 0
    cap = cv2.VideoCapture(str(cut))
    while cap.read()[0]:
        n_read += 1
    assert 0 < n_read < 40 and int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 40
    rc, out, err = run(["-i", str(cut), "--dvs_frames", str(tmp_path / "f.npz"), *CLEAN], capsys)
    assert rc == 1
    assert f"ended after {n_read} of the 40 frames" in err and len(err.strip().splitlines()) == 1
    assert np.load(tmp_path / "f.npz")["frames"].shape[0] == n_read
    rc, _, err = run(["-i", str(full), "--dvs_frames", str(tmp_path / "g.npz"), *CLEAN], capsys)
    assert rc == 0 and err == ""


def test_cli_start_stop_time_as_v2e(clip, tmp_path, capsys):
    """--start_time 0.45 --stop_time 1.04 at 10 frames/s: input frames 5..10, times from 0 at frame 5."""
    frames = np.load(clip)
    rc, out, _ = run(["-i", str(clip), "--input_frame_rate", "10", "--start_time", "0.45", "--stop_time", "1.04",
                      "--dvs_h5", str(tmp_path / "o.h5"), "--dvs_frames", str(tmp_path / "f.npz"), *CLEAN], capsys)
    assert rc == 0 and "6 frames" in out
    ref = simulate_frames(frames[5:11], fps=10, params=DVSParams.preset("clean", seed=3))
    with h5py.File(tmp_path / "o.h5") as f:
        ev = f["events"][:]
    assert len(ref) > 30
    np.testing.assert_array_equal(ev, np.stack([ref.t, ref.x, ref.y, ref.p], 1).astype(np.uint32))
    z = np.load(tmp_path / "f.npz")
    np.testing.assert_allclose(z["times_s"], np.arange(6) / 10)
    rc, _, _ = run(["-i", str(clip), "--input_frame_rate", "10", "--start_time", "0.5", "--max_frames", "3",
                    "--dvs_frames", str(tmp_path / "g.npz"), *CLEAN], capsys)
    assert rc == 0 and np.load(tmp_path / "g.npz")["frames"].shape[0] == 3


@pytest.mark.parametrize("upsample", [None, "3"])
def test_cli_event_frames_match_input_frames(clip, tmp_path, capsys, upsample):
    """v2e #57/#58: one event frame per input frame at its time, with or without upsampling; frame k holds
    the events of (t_(k-1), t_k]: only frame 0 (the frame that sets the pixels) is empty, and the frames
    add up to every event written."""
    extra = ["--upsample", upsample] if upsample else []
    rc, _, _ = run(["-i", str(clip), "--input_frame_rate", "10", "--dvs_h5", str(tmp_path / "o.h5"),
                    "--dvs_frames", str(tmp_path / "f.npz"), *CLEAN, *extra], capsys)
    assert rc == 0
    z = np.load(tmp_path / "f.npz")
    frames, times = z["frames"], z["times_s"]
    assert frames.shape == (12, 2, 24, 40)
    np.testing.assert_allclose(times, np.arange(12) / 10)
    with h5py.File(tmp_path / "o.h5") as f:
        ev = f["events"][:].astype(np.int64)
    per_frame = frames.reshape(12, -1).sum(1)
    assert per_frame[0] == 0 and np.all(per_frame[1:] > 0)
    assert per_frame.sum() == len(ev)
    edges = np.round(np.arange(12) / 10 * 1e6).astype(np.int64)
    k = np.searchsorted(edges, ev[:, 0], side="left")
    np.testing.assert_array_equal(np.bincount(k, minlength=12), per_frame)
    on = np.zeros((24, 40), np.int64)
    np.add.at(on, (ev[ev[:, 3] == 1, 2], ev[ev[:, 3] == 1, 1]), 1)
    np.testing.assert_array_equal(frames[:, 1].sum(0), on)


def test_cli_size_from_input_or_camera_and_aedat4(clip, tmp_path, capsys):
    """v2e #42: the output size is the input's unless a camera preset is chosen; #59: AEDAT4 read back by
    the ``aedat`` package event for event, with that size."""
    import aedat
    rc, _, _ = run(["-i", str(clip), "--input_frame_rate", "10", "--dvs_aedat4", str(tmp_path / "a.aedat4"),
                    "--dvs_h5", str(tmp_path / "a.h5"), *CLEAN], capsys)
    assert rc == 0
    dec = aedat.Decoder(str(tmp_path / "a.aedat4"))
    assert dec.id_to_stream()[0]["width"] == 40 and dec.id_to_stream()[0]["height"] == 24
    back = np.concatenate([p["events"] for p in dec if "events" in p])
    with h5py.File(tmp_path / "a.h5") as f:
        ev = f["events"][:].astype(np.int64)
        assert (f.attrs["width"], f.attrs["height"]) == (40, 24)
    np.testing.assert_array_equal(np.stack([back["t"], back["x"], back["y"], back["on"]], 1).astype(np.int64), ev)
    rc, _, _ = run(["-i", str(clip), "--input_frame_rate", "10", "--dvs128", "--dvs_aedat4",
                    str(tmp_path / "b.aedat4"), *CLEAN], capsys)
    assert rc == 0 and aedat.Decoder(str(tmp_path / "b.aedat4")).id_to_stream()[0]["width"] == 128


def test_cli_import_is_light_and_help_names_the_burst_fix():
    code = ("import sys, nvlib.simulate.cli as c, argparse; p = argparse.ArgumentParser(); c.add_arguments(p); "
            "h = ' '.join(p.format_help().split()); print([m for m in ('torch', 'numba', 'cv2') if m in sys.modules]); "
            "print('--timestamp_mode esim' in h and 'v2e issue #71' in h and '--dvs_aedat4' in h)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "True"
    from nvlib.simulate import DVSParams as P, simulate_frames as s  # the lazy names still import
    assert P is DVSParams and s is simulate_frames
