"""nvlib.datasets.micro: the documented clip layout (round trip through the synthetic generator), the
micro-expression timing of the synthetic clips, bad input reported per clip, and the paper's numbers."""
from __future__ import annotations

import json
import re
import shutil

import cv2
import numpy as np
import pytest

from nvlib.datasets.micro import (AUEvent, MicroClipError, MicroSpec, au_envelope, au_label, generate_synthetic_micro,
                                  read_au_csv, read_micro, sample_rgb, write_au_csv)

SPEC = MicroSpec(n_per=2, n_subjects=2, speeds_ms=(40.0,), classes=("AU4", "AU45"), size=32, duration_ms=200.0,
                 seed=3)


@pytest.fixture(scope="module")
def micro_root(tmp_path_factory):
    return generate_synthetic_micro(tmp_path_factory.mktemp("micro") / "ds", SPEC)


def test_round_trip_through_the_documented_layout(micro_root):
    ds = read_micro(micro_root)
    assert ds.problems == [] and len(ds) == 4 and ds.labels == ["AU4", "AU45"]
    assert ds.size == (32, 32) and ds.sensor_size == (32, 32)
    for c in ds.clips:
        info = json.loads((c.path / "info.json").read_text())
        assert c.frames.shape == (6, 32, 32)  # 200 ms at 30 fps
        assert c.rgb_fps == 30.0 and c.duration_ms == pytest.approx(200.0)
        assert c.onset_speed_ms == 40.0 and c.subject == info["subject"]
        (a,) = c.aus
        assert a.apex_ms - a.onset_ms == 40.0 and a.offset_ms - a.apex_ms == 40.0 and a.onset_ms == round(a.onset_ms)
        assert c.label == a.au and c.events.sensor_size == (32, 32) and len(c.events) > 0
        assert 0 <= c.events.t.min() and c.events.t.max() < 200_000
    assert sorted({c.subject for c in ds.clips}) == ["s00", "s01"]
    # a second call keeps the finished folder; another specification is refused
    assert generate_synthetic_micro(micro_root, SPEC) == micro_root
    with pytest.raises(ValueError, match="another synthetic specification"):
        generate_synthetic_micro(micro_root, MicroSpec(n_per=1))


def test_events_come_from_the_1khz_rendering_of_the_au(tmp_path):
    """Without head sway, every event lies inside the AU's onset-offset span (noise aside), and events
    fall in many more distinct milliseconds than there are RGB frames in that span."""
    spec = MicroSpec(n_per=1, n_subjects=1, speeds_ms=(40.0,), classes=("AU4",), size=32, duration_ms=200.0,
                     max_sway_px=0.0, seed=5)
    (c,) = read_micro(generate_synthetic_micro(tmp_path / "still", spec)).clips
    lo, hi = c.au_span_ms
    t_ms = c.events.t / 1000.0
    inside = (t_ms >= lo) & (t_ms < hi + 2)
    assert inside.mean() > 0.95, (lo, hi, np.unique(np.floor(t_ms)))
    assert len(np.unique(np.floor(t_ms[inside]))) > 3 * (hi - lo) / (1000 / 30)


def test_envelope_and_rgb_exposure_known_values():
    t = np.array([0.0, 10.0, 30.0, 50.0, 70.0, 90.0, 200.0])
    e = au_envelope(t, onset_ms=10.0, rise_ms=40.0, peak=0.8)
    np.testing.assert_allclose(e, [0, 0, 0.4, 0.8, 0.4, 0, 0], atol=1e-12)
    frames = np.repeat(np.arange(100, dtype=np.uint8)[:, None, None], 2, axis=1).repeat(2, axis=2)  # value = ms
    rgb = sample_rgb(frames, render_hz=1000.0, fps=30.0, exposure_ms=10.0)
    assert rgb.shape == (3, 2, 2)  # 100 ms at 30 fps
    starts = np.round(np.arange(3) * 1000 / 30).astype(int)
    np.testing.assert_array_equal(rgb[:, 0, 0], np.rint(starts + 4.5).astype(np.uint8))  # mean of 10 ms
    assert au_label(["AU12", "AU6", "AU12"]) == "AU6+AU12"


def test_au_csv_round_trip_and_errors(tmp_path):
    aus = [AUEvent("AU12", 10.0, 50.0, 90.0), AUEvent("AU6", 10.0, 50.0, 90.5)]
    p = write_au_csv(tmp_path / "aus.csv", aus)
    assert read_au_csv(p) == tuple(aus)
    p.write_text("au,onset_ms,apex_ms,offset_ms\nAU4,50,40,90\n")
    with pytest.raises(MicroClipError, match=r"aus.csv: line 2: need 0 <= onset_ms < apex_ms"):
        read_au_csv(p)
    p.write_text("au,onset_ms,apex_ms,offset_ms\nsmile,5,40,90\n")
    with pytest.raises(MicroClipError, match=r"line 2: 'smile' is not an AU code"):
        read_au_csv(p)
    p.write_text("au,onset,apex\n")
    with pytest.raises(MicroClipError, match=r"lacks column\(s\) \['onset_ms'"):
        read_au_csv(p)
    p.write_text("au,onset_ms,apex_ms,offset_ms\n")
    with pytest.raises(MicroClipError, match="no AU rows"):
        read_au_csv(p)


def test_bad_clips_are_reported_and_the_rest_read(micro_root, tmp_path):
    from nvlib.events import EVENT_DTYPE, Events
    from nvlib.io import write_evt3

    root = tmp_path / "bad"
    shutil.copytree(micro_root, root)
    names = sorted(p.name for p in root.iterdir() if p.is_dir())
    (root / names[0] / "aus.csv").unlink()                                   # no AU labels
    ev_file = root / names[1] / "events.raw"                                 # no events
    write_evt3(ev_file, Events(np.zeros(0, EVENT_DTYPE), (32, 32)))
    for f in sorted((root / names[2] / "rgb").iterdir())[-3:]:               # RGB shorter than the clip
        f.unlink()
    for f in (root / names[3] / "rgb").iterdir():                            # frames of another size
        cv2.imwrite(str(f), cv2.resize(cv2.imread(str(f), cv2.IMREAD_GRAYSCALE), (16, 16)))
    good = root / "zz_good"
    shutil.copytree(micro_root / names[0], good)
    late = root / "zz_late"                                                  # events past the last frame
    shutil.copytree(micro_root / names[1], late)
    info = json.loads((late / "info.json").read_text())
    del info["duration_ms"]
    (late / "info.json").write_text(json.dumps(info))
    for f in sorted((late / "rgb").iterdir())[-4:]:
        f.unlink()
    badinfo = root / "zz_info"                                               # a malformed info.json value
    shutil.copytree(micro_root / names[1], badinfo)
    (badinfo / "info.json").write_text(json.dumps({**info, "duration_ms": "long"}))
    ds = read_micro(root, size=(32, 32))
    why = {p.clip: p.reason for p in ds.problems}
    assert [c.name for c in ds.clips] == ["zz_good"]
    assert "no AU labels (aus.csv missing)" in why[names[0]] and str(root / names[0]) in why[names[0]]
    assert why[names[1]].endswith("events.raw: holds no events")
    assert "RGB and clip lengths disagree: 3 frames at 30 fps = 100.0 ms, info.json duration_ms = 200.0" \
        in why[names[2]]
    assert "RGB frames are 16x16, the dataset's are 32x32" in why[names[3]]
    assert "RGB and event lengths disagree" in why["zz_late"] and "end at 66.7 ms" in why["zz_late"]
    assert why["zz_info"] == f"{badinfo / 'info.json'}: duration_ms must be a number, got 'long'"
    with pytest.raises(FileNotFoundError, match="micro-expression dataset folder not found"):
        read_micro(tmp_path / "nowhere")


def test_paper_numbers_match_the_paper_text():
    from nvlib.experiments.au import paper_micro_results
    from nvlib.workbook.paths import shared_dir

    doc = paper_micro_results()
    shared = shared_dir()
    papers = sorted((shared / "papers").glob("002_*.txt")) if shared else []
    if not papers:
        pytest.skip("the paper's text (shared/papers/002_*.txt) is not available beside the checkout")
    text = papers[0].read_text()
    m = re.search(r"([\d.]+)% AU classification accuracy versus ([\d.]+)% with RGB", text)
    r = re.search(r"SSIM of ([\d.]+) and PSNR of ([\d.]+) dB", text)
    assert m and r
    assert (doc["au_accuracy_events_pct"], doc["au_accuracy_rgb_pct"]) == (float(m[1]), float(m[2])) == (51.23, 23.12)
    assert (doc["reconstruction_ssim"], doc["reconstruction_psnr_db"]) == (float(r[1]), float(r[2])) == (0.8513, 26.89)


def test_rgb_as_a_video_file_with_its_own_frame_rate(micro_root, tmp_path):
    src = sorted(p for p in micro_root.iterdir() if p.is_dir())[0]
    clip = tmp_path / "v" / src.name
    shutil.copytree(src, clip)
    frames = [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in sorted((clip / "rgb").iterdir())]
    shutil.rmtree(clip / "rgb")
    w = cv2.VideoWriter(str(clip / "rgb.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (32, 32))
    for f in frames:
        w.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    w.release()
    info = json.loads((clip / "info.json").read_text())
    del info["rgb_fps"]
    (clip / "info.json").write_text(json.dumps(info))
    ds = read_micro(clip.parent)
    (c,) = ds.clips
    assert ds.problems == [] and c.rgb_fps == pytest.approx(30.0) and c.frames.shape == (6, 32, 32)
    assert np.abs(c.frames.astype(int) - np.stack(frames)).mean() < 3  # MJPG is lossy
