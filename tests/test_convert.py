"""The converter: synthetic AFEW-VA -> events -> TBR -> cache; resume, shards, workers, bad input, NEFER."""
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nvlib import convert as CV
from nvlib.convert import cli as CV_CLI
from nvlib.datasets import ChunkDataset, FrameDataset
from nvlib.datasets import cache as C
from nvlib.datasets.synthetic import generate_synthetic_afewva
from nvlib.represent import FaceBox

KW = dict(n_bits=8, delta_t_us=5000, size=24, fps=25.0, progress=False)


def tree_bytes(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def afew(tmp_path_factory):
    return generate_synthetic_afewva(tmp_path_factory.mktemp("src") / "afew", n_clips=6, n_frames=10, size=32,
                                     seed=1)


@pytest.fixture(scope="module")
def reference(afew, tmp_path_factory):
    res = CV.convert_afewva(afew, tmp_path_factory.mktemp("ref"), **KW)
    assert res.complete and len(res.converted) == 6 and not res.skipped
    return res


def test_cache_content_and_labels(reference, afew):
    d = reference.cache_dir
    assert d.name == "afew-va_tbr8b_dt5000us_s24_56c22957"  # the name caches of these settings always had
    ds = FrameDataset(d, split=None)
    assert ds.meta["labels_kind"] == "annotated" and ds.meta["n_bits"] == 8
    # 10 frames at 25 fps span 360 ms -> 10 windows of 40 ms
    assert len(ds) == 60 and ds.clips == [f"{i:03d}" for i in range(1, 7)]
    info = json.loads((d / "clips" / "001" / "info.json").read_text())
    ann = json.loads((afew / "001" / "001.json").read_text())["frames"]
    va_ann = np.array([[ann[k]["valence"], ann[k]["arousal"]] for k in sorted(ann)]) / 10
    _, va = ds.clip_arrays("001")
    np.testing.assert_allclose(va, va_ann[info["annotation_index"]], atol=1e-6)
    assert info["n_events"] > 0 and ds[5]["frame"].shape == (1, 24, 24)
    codes, _ = ds.clip_arrays("001")
    assert codes.dtype == np.uint8 and codes.max() > 0
    assert len(ChunkDataset(d, None, chunk=6, stride=6)) == 6
    # splits group actors
    idx = json.loads((d / "index.json").read_text())
    for a in {e["group"] for e in idx["clips"]}:
        assert len({e["split"] for e in idx["clips"] if e["group"] == a}) == 1
        assert len({e["fold"] for e in idx["clips"] if e["group"] == a}) == 1


def test_interrupted_run_resumes_to_identical_bytes(afew, reference, tmp_path):
    with pytest.raises(RuntimeError, match="injected failure"):
        CV.convert_afewva(afew, tmp_path, _fail_after=2, **KW)
    d = tmp_path / reference.cache_dir.name
    assert not (d / "index.json").exists() and len(list((d / "clips").iterdir())) == 2
    res = CV.convert_afewva(afew, tmp_path, **KW)
    assert res.already_done == 2 and len(res.converted) == 4 and res.complete
    assert tree_bytes(d) == tree_bytes(reference.cache_dir)
    again = CV.convert_afewva(afew, tmp_path, **KW)  # nothing left to do
    assert again.already_done == 6 and not again.converted


def test_killed_subprocess_then_rerun_is_identical(afew, reference, tmp_path):
    cmd = [sys.executable, "-m", "nvlib.convert", "afew-va", str(afew), str(tmp_path), "--size", "24",
           "--no-progress"]
    d = tmp_path / reference.cache_dir.name
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # kill it as soon as the first clip is written (SIGKILL: no cleanup runs)
        while proc.poll() is None and not (d / "clips" / "001").is_dir():
            time.sleep(0.005)
    finally:
        proc.kill()
        proc.wait()
    if proc.returncode == 0:
        pytest.skip("the conversion finished before it could be killed")
    assert not (d / "index.json").exists()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert tree_bytes(d) == tree_bytes(reference.cache_dir)


def test_shards_and_workers_give_the_same_cache(afew, reference, tmp_path):
    r0 = CV.convert_afewva(afew, tmp_path, shard="0/2", **KW)
    assert not r0.complete and r0.converted == ["001", "003", "005"]
    r1 = CV.convert_afewva(afew, tmp_path, shard="1/2", workers=2, **KW)
    assert r1.complete and sorted(r1.converted) == ["002", "004", "006"]
    assert tree_bytes(r1.cache_dir) == tree_bytes(reference.cache_dir)
    with pytest.raises(ValueError, match="shard"):
        CV.parse_shard("2/2")


def test_bad_clips_are_logged_and_the_run_goes_on(afew, tmp_path):
    src = tmp_path / "afew"
    shutil.copytree(afew, src)
    (src / "002" / "002.json").write_text("{broken")
    j = json.loads((src / "004" / "004.json").read_text())
    j["frames"]["00003"]["arousal"] = 42
    (src / "004" / "004.json").write_text(json.dumps(j))
    for k in ("00002", "00004", "00007"):  # 3 of 10 frames unreadable: more than a clip may drop
        (src / "005" / f"{k}.png").write_bytes(b"garbage")
    # 3 of 6 clips skipped: the run goes on to the end, then fails its check (no index.json)
    with pytest.raises(CV.ConversionError, match=r"3 of 6 clips skipped \(50%") as e:
        CV.convert_afewva(src, tmp_path / "out", **KW)
    d = e.value.result.cache_dir
    assert e.value.result.converted == ["001", "003", "006"] and not (d / "index.json").exists()
    with pytest.raises(C.CacheError, match="did not pass its checks"):
        FrameDataset(d, None)
    res = CV.convert_afewva(src, tmp_path / "out", max_skip=0.5, **KW)
    assert res.complete and res.already_done == 3 and not res.converted
    log = (res.cache_dir / "skipped.log").read_text().splitlines()
    assert [line.split("\t")[0] for line in log] == ["002", "004", "005"]
    assert "malformed JSON" in log[0] and str(src / "002" / "002.json") in log[0]
    assert "outside [-10, 10]" in log[1] and "unreadable image" in log[2] and "00002.png" in log[2]
    assert "3 of 10 frames unusable" in log[2]
    assert FrameDataset(res.cache_dir, None).clips == ["001", "003", "006"] and not (d / "failed.json").exists()


def test_prepare_synthetic_va_is_idempotent(tmp_path):
    from nvlib.convert import prepare_synthetic_va

    d = prepare_synthetic_va(tmp_path, n_clips=5, n_frames=6, size=16)
    assert d.name == "synthetic-va_tbr8b_dt5000us_s16_108f9528"
    before = tree_bytes(d)
    t = (d / "index.json").stat().st_mtime_ns
    assert prepare_synthetic_va(tmp_path, n_clips=5, n_frames=6, size=16) == d
    assert (d / "index.json").stat().st_mtime_ns == t and tree_bytes(d) == before
    assert prepare_synthetic_va(tmp_path, n_clips=5, n_frames=6, size=16, n_bits=4) != d
    assert len(FrameDataset(d, None)) == 30


def test_cli_entry(afew, tmp_path, capsys):
    import argparse

    ap = argparse.ArgumentParser()
    CV_CLI.add_arguments(ap)
    rc = CV_CLI.main(ap.parse_args(["afew-va", str(afew), str(tmp_path), "--size", "16", "--no-progress",
                                "--n-bits", "4"]))
    assert rc == 0 and "6 converted" in capsys.readouterr().out
    assert C.is_complete(next(tmp_path.glob("afew-va_tbr4b_*")))


def test_nefer_layout_through_the_real_readers(tmp_path):
    from nvlib.datasets.nefer import NEFER
    from nvlib.io import read_events

    root = tmp_path / "nefer"
    from nvlib.datasets.synthetic import generate_synthetic_nefer

    generate_synthetic_nefer(root, train_users=("01",), validation_users=("03",),
                             classes=("Happiness", "Sadness"), face_size=32, face_boxes=False)
    tr = NEFER(root, "train", "expected", "events")
    assert len(tr) == 2 and tr.label_names == ["Happiness", "Sadness"] and not tr.problems
    s = tr[0]
    ev = read_events(s.raw_path)
    assert ev.sensor_size == (1280, 720) and len(ev) > 0 and len(s.events) == len(ev)
    assert s.face_box is None  # none published
    rgb = NEFER(root, "validation", "reported", "rgb", load="frames")[1]
    assert rgb.frames.shape[:2] == (51, 32)
    # published face boxes: one good (the face sits at the sensor centre), one malformed
    va_seqs = NEFER(root, "validation", "expected", "events", load=None).sequences
    boxes = root / "annotations" / "face_boxes"
    boxes.mkdir()
    (boxes / f"{va_seqs[0]}.json").write_text(json.dumps({"box": [616, 336, 48]}))
    (boxes / f"{tr.sequences[1]}.json").write_text(json.dumps({"box": [616, 336]}))
    assert NEFER(root, "validation", "expected", "events")[0].face_box == FaceBox(616, 336, 48)
    with pytest.raises(CV.ConversionError, match=r"1 of 4 clips skipped \(25%, more than the allowed 5%"):
        CV.convert_nefer(root, tmp_path / "nefer", size=16, progress=False)
    res = CV.convert_nefer(root, tmp_path / "nefer", size=16, progress=False, max_skip=0.25)
    assert res.cache_dir.name == "nefer-expected_tbr8b_dt5000us_s16_aa849476"
    assert res.complete and res.already_done == 3 and not res.converted  # reused from the failed run
    [(clip, file, reason)] = res.skipped
    assert clip == tr.sequences[1] and file == str(boxes / f"{tr.sequences[1]}.json") and "[x0, y0, side]" in reason
    ds = FrameDataset(res.cache_dir, "test")
    assert ds.meta["labels_kind"] == "derived" and all(c.startswith("user03_") for c in ds.clips)
    info = json.loads((res.cache_dir / "clips" / ds.clips[0] / "info.json").read_text())
    assert info["label"] == "Happiness" and info["label_index"] == 2
    assert info["box"] == [616, 336, 48] and info["box_source"] == "published"
    info = json.loads((res.cache_dir / "clips" / tr.sequences[0] / "info.json").read_text())
    assert info["box_source"] in ("haar (event-count image)", "centre (no face detected)")
    x0, y0, side = info["box"]
    assert side > 0 and 0 <= x0 and x0 + side <= 1280 and 0 <= y0 and y0 + side <= 720


def test_samples_conversion_marks_labels_derived(sample_video, tmp_path):
    res = CV.convert_samples_result(tmp_path, names=["carphone"], size=16, max_frames=12, progress=False)
    assert res.complete and res.converted == ["carphone"]
    assert res.cache_dir.name == "samples_tbr8b_dt5000us_s16_b81f61c0"
    ds = FrameDataset(res.cache_dir, None)
    assert ds.meta["labels_kind"] == "derived" and len(ds) == 10  # 12 frames at 29.97 fps span 367 ms: 10 windows of 40 ms
    info = json.loads((res.cache_dir / "clips" / "carphone" / "info.json").read_text())
    assert info["labels_kind"] == "derived" and info["box_source"] in ("haar", "centre (no face detected)")
    assert float(np.abs(ds.labels()).max()) == 0.0  # carphone: neutral
