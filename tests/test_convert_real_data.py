"""The conversion stage with real-world data: where clips are, groups, unreadable frames, NEFER recordings found
by sequence id, sources that change, the skipped share, a user's own videos, the samples split."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from nvlib import cli as NV
from nvlib import convert as CV
from nvlib.datasets import ChunkDataset, FrameDataset
from nvlib.datasets import cache as C
from nvlib.datasets.synthetic import generate_synthetic_afewva

KW = dict(n_bits=8, delta_t_us=5000, size=16, fps=25.0, progress=False)


@pytest.fixture(scope="module")
def afew(tmp_path_factory):
    return generate_synthetic_afewva(tmp_path_factory.mktemp("src") / "afew", n_clips=6, n_frames=8, size=32,
                                     seed=3)


def nvlib(capsys, *argv):
    """``nvlib ARGV`` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        rc = NV.main([str(a) for a in argv])
    except SystemExit as e:  # argparse refuses an option value
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


# ----------------------------------------------------------------------------- where the clips are
def test_a_tree_one_level_too_deep_or_too_shallow_says_where_the_clips_are(afew, tmp_path, capsys):
    root = tmp_path / "AFEW-VA"
    for k, c in enumerate(["001", "002", "003", "004", "005", "006"]):  # as two unpacked zip parts
        shutil.copytree(afew / c, root / f"part{1 + k // 3}" / c)
    with pytest.raises(FileNotFoundError) as e:
        CV.convert_afewva(root, tmp_path / "out", **KW)
    msg = str(e.value)
    assert "holds no AFEW-VA clip folders" in msg and "found 6 clip folders one level deeper" in msg
    assert f"{root / 'part1'} (3: 001..003)" in msg and f"{root / 'part2'} (3: 004..006)" in msg
    rc, out, err = nvlib(capsys, "convert", "afew-va", tmp_path, tmp_path / "out", "--no-progress")
    assert rc == 2 and "6 clip folders deeper" in err and "cache complete" not in out
    rc, _, err = nvlib(capsys, "convert", "afew-va", root / "part2" / "004", tmp_path / "out", "--no-progress")
    assert rc == 2 and f"is itself an AFEW-VA clip folder (it holds 004.json): pass its parent {root / 'part2'}" in err
    rc, _, err = nvlib(capsys, "convert", "afew-va", root / "part1", tmp_path / "out", "--no-progress",
                       "--size", "16", "--max-skip", "0")
    assert rc == 0 and not err  # one part alone is a root
    assert len(FrameDataset(next((tmp_path / "out").glob("afew-va_*")), None)) == 3 * 8


def test_a_folder_of_videos_given_to_afew_va_points_to_convert_videos(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "a.mp4").write_bytes(b"not decoded here")
    rc, out, err = nvlib(capsys, "convert", "afew-va", tmp_path / "mine", tmp_path / "out", "--no-progress")
    assert rc == 2 and "video files (a.mp4" in err and "nvlib convert videos" in err and not out


# ----------------------------------------------------------------------------- groups
def test_missing_or_inconsistent_actor_stops_unless_clip_groups(afew, tmp_path, capsys):
    src = tmp_path / "afew"
    shutil.copytree(afew, src)
    edit_json(src / "003" / "003.json", lambda d: d.pop("actor"))
    with pytest.raises(ValueError, match=r"1 of 6 clips have no 'actor' .*003\.json.*--groups clip"):
        CV.convert_afewva(src, tmp_path / "out", **KW)
    assert not (tmp_path / "out").exists()  # refused before anything was written
    rc, _, err = nvlib(capsys, "convert", "afew-va", src, tmp_path / "out", "--size", "16", "--no-progress")
    assert rc == 2 and "no 'actor'" in err and err.count("\n") == 1
    res = CV.convert_afewva(src, tmp_path / "out", groups="clip", **KW)
    meta = C.load_index(res.cache_dir)["meta"]
    assert meta["groups"] == "clip" and meta["subject_independent"] is False and meta["split_unit"] == "clip"
    assert [e["group"] for e in C.load_index(res.cache_dir)["clips"]] == [f"{i:03d}" for i in range(1, 7)]
    # one actor spelled two ways would split one person over two groups
    actor = json.loads((src / "001" / "001.json").read_text())["actor"]
    edit_json(src / "003" / "003.json", lambda d: d.update(actor=actor.upper().replace("_", " ")))
    with pytest.raises(ValueError, match="one actor spelled"):
        CV.convert_afewva(src, tmp_path / "out", **KW)


# ----------------------------------------------------------------------------- unreadable frames
def test_a_clip_with_a_corrupt_frame_keeps_its_other_frames(afew, tmp_path, capsys):
    src = tmp_path / "afew"
    shutil.copytree(afew, src)
    (src / "002" / "00005.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    rc, out, _ = nvlib(capsys, "convert", "afew-va", src, tmp_path / "out", "--size", "16", "--no-progress")
    assert rc == 0 and "1 unreadable frame(s) dropped" in out and "002 frame 00005" in out
    d = next((tmp_path / "out").glob("afew-va_*"))
    info = json.loads((d / "clips" / "002" / "info.json").read_text())
    [drop] = info["dropped_frames"]
    assert drop["frame"] == "00005" and drop["index"] == 5 and drop["file"] == str(src / "002" / "00005.png")
    assert "unreadable image" in drop["reason"] and info["frames_in"] == 7
    ann = json.loads((src / "002" / "002.json").read_text())["frames"]
    va_ann = np.array([[ann[k]["valence"], ann[k]["arousal"]] for k in sorted(ann)]) / 10
    _, va = FrameDataset(d, None).clip_arrays("002")
    idx = info["annotation_index"]
    assert 5 not in idx and len(idx) == len(va) == info["n_frames"] == 8  # the frames keep their times
    np.testing.assert_allclose(va, va_ann[idx], atol=1e-6)  # labels stay with the frames kept
    assert C.load_index(d)["meta"]["n_dropped_frames"] == 1


# ----------------------------------------------------------------------------- NEFER recordings
@pytest.fixture(scope="module")
def nefer_tree(tmp_path_factory):
    from nvlib.datasets.synthetic import generate_synthetic_nefer

    root = tmp_path_factory.mktemp("nefer") / "NEFER"
    return generate_synthetic_nefer(root, train_users=("01",), validation_users=("03",),
                                    classes=("Happiness", "Sadness"), face_size=32)


def test_nefer_recordings_in_another_layout_are_found_by_sequence_id(nefer_tree, tmp_path):
    from nvlib.datasets.nefer import NEFER

    root = tmp_path / "NEFER"
    shutil.copytree(nefer_tree, root)
    raws = sorted((root / "event_raw").rglob("*.raw"))
    assert len(raws) == 4
    for k, p in enumerate(raws):  # a layout of one's own: by recording day, one of them with the _cd suffix
        dest = root / "recordings" / f"day{k % 2}" / (p.stem + ("_cd" if k == 3 else "") + ".raw")
        dest.parent.mkdir(parents=True, exist_ok=True)
        p.rename(dest)
    shutil.rmtree(root / "event_raw")
    res = CV.convert_nefer(root, tmp_path / "out", size=16, progress=False)
    assert res.complete and len(res.converted) == 4 and not res.skipped and not res.problems
    seqs = NEFER(root, "train", load=None).sequences
    assert NEFER(root, "train")[0].raw_path.parent.parent == root / "recordings"
    # one recording twice, one missing: both reported with the sequence and the files; 2 of 4 skipped
    dup = root / "recordings" / "day0" / (seqs[0][:-3] + ".raw")
    shutil.copy(dup, root / "recordings" / "day1" / dup.name)
    (root / "recordings" / "day1" / (seqs[1][:-3] + ".raw")).unlink()
    with pytest.raises(CV.ConversionError, match=r"2 of 4 clips skipped") as e:
        CV.convert_nefer(root, tmp_path / "out", size=16, progress=False)
    log = (e.value.result.cache_dir / "skipped.log").read_text()
    assert f"{seqs[0]}\t" in log and f"2 recordings named {seqs[0][:-3]}.raw under {root}" in log
    assert f"{seqs[1]}\t" in log and f"no recording {seqs[1][:-3]}.raw anywhere under {root}" in log
    assert "expected_emotions/train_event.csv:" in log  # the CSV row that lists the sequence
    with pytest.raises(FileNotFoundError, match=r"2 recordings named"):
        NEFER(root, "train")[0]
    res = CV.convert_nefer(root, tmp_path / "out", size=16, progress=False, max_skip=0.5)
    assert res.complete and res.already_done == 2 and not res.converted
    assert FrameDataset(res.cache_dir, None).clips == NEFER(root, "validation", load=None).sequences


@pytest.mark.shared
def test_real_nefer_annotations_without_recordings_fail_naming_them(nefer_annotations, tmp_path, capsys):
    root = tmp_path / "NEFER"
    shutil.copytree(nefer_annotations, root / "annotations")
    (root / "raw_elsewhere").mkdir()
    rc, out, err = nvlib(capsys, "convert", "nefer", root, tmp_path / "out", "--no-progress")
    assert rc == 1 and "cache complete" not in out
    assert "FAILED: nefer-expected: no clip converted: all 545 clips were skipped" in err
    assert "no recording user01_" in err and "anywhere under" in err and "skipped.log" in err
    rc, _, err = nvlib(capsys, "convert", "nefer", root / "annotations", tmp_path / "out", "--no-progress")
    assert rc == 2 and f"is itself the annotations folder; pass its parent {root}" in err
    rc, _, err = nvlib(capsys, "convert", "nefer", tmp_path, tmp_path / "out", "--no-progress")
    assert rc == 2 and f"found NEFER annotations under {root}" in err


# ----------------------------------------------------------------------------- sources that change
def test_an_edited_annotation_is_converted_again_alone(afew, tmp_path):
    a, b = tmp_path / "a" / "afew", tmp_path / "b" / "afew"  # two copies, one folder name
    shutil.copytree(afew, a)
    shutil.copytree(afew, b)  # copytree keeps sizes and times: the copies are the same source
    edit_json(b / "004" / "004.json", lambda d: d["frames"]["00002"].update(valence=-10 if
                                                                          d["frames"]["00002"]["valence"] != -10
                                                                          else 10))
    out = tmp_path / "out"
    ra = CV.convert_afewva(a, out, **KW)
    frames_mtime = {c: (ra.cache_dir / "clips" / c / "frames.npy").stat().st_mtime_ns for c in ra.converted}
    rb = CV.convert_afewva(b, out, **KW)
    assert rb.cache_dir == ra.cache_dir  # the folder name carries the settings only
    assert rb.converted == rb.reconverted == ["004"] and rb.already_done == 5 and rb.complete
    assert rb.content_id != ra.content_id and C.cache_content_id(rb.cache_dir) == rb.content_id
    ann = json.loads((b / "004" / "004.json").read_text())["frames"]
    info = json.loads((rb.cache_dir / "clips" / "004" / "info.json").read_text())
    va_b = np.array([[ann[k]["valence"], ann[k]["arousal"]] for k in sorted(ann)]) / 10
    np.testing.assert_allclose(FrameDataset(rb.cache_dir, None).clip_arrays("004")[1], va_b[info["annotation_index"]],
                               atol=1e-6)
    for c, t in frames_mtime.items():  # the other clips were not touched
        if c != "004":
            assert (rb.cache_dir / "clips" / c / "frames.npy").stat().st_mtime_ns == t
    ra2 = CV.convert_afewva(a, out, **KW)  # back to the first copy: that clip again, the same content id
    assert ra2.converted == ["004"] and ra2.content_id == ra.content_id
    # a copy that does not keep the frames' times (cp -r) is a new source: converted again in full
    (a / "001" / "00000.png").touch()
    assert CV.convert_afewva(a, out, **KW).converted == ["001"]
    assert not list((ra.cache_dir / "clips").glob(".*"))  # no partial or stale folder left behind


def test_a_clip_whose_source_becomes_unusable_leaves_the_cache(afew, tmp_path):
    src = tmp_path / "afew"
    shutil.copytree(afew, src)
    res = CV.convert_afewva(src, tmp_path / "out", **KW)
    (src / "006" / "006.json").write_text("{")
    with pytest.raises(CV.ConversionError):
        CV.convert_afewva(src, tmp_path / "out", **KW)
    assert not (res.cache_dir / "clips" / "006").exists() and not (res.cache_dir / "index.json").exists()


# ----------------------------------------------------------------------------- the skipped share
def test_the_skipped_share_threshold(afew, tmp_path, capsys):
    src = tmp_path / "afew"
    shutil.copytree(afew, src)
    (src / "005" / "005.json").write_text("{broken")
    argv = ["convert", "afew-va", src, tmp_path / "out", "--size", "16", "--no-progress"]
    rc, out, err = nvlib(capsys, *argv)  # 1 of 6 = 17% > 5%
    assert rc == 1 and "cache complete" not in out + err
    assert "FAILED: afew-va: 1 of 6 clips skipped (17%, more than the allowed 5%" in err
    assert f"005: {src / '005' / '005.json'}: malformed JSON" in err and "skipped.log" in err
    d = next((tmp_path / "out").glob("afew-va_*"))
    assert not (d / "index.json").exists()
    assert json.loads((d / "failed.json").read_text())["problems"][0]["clip"] == "005"
    with pytest.raises(C.CacheError, match=r"did not pass its checks \(afew-va: 1 of 6 clips skipped"):
        FrameDataset(d, "train")
    rc, out, _ = nvlib(capsys, *argv, "--max-skip", "20%")
    assert rc == 0 and "0 converted, 5 already done, 1 skipped this run; cache complete" in out
    assert not (d / "failed.json").exists() and C.load_index(d)["meta"]["n_skipped"] == 1
    rc, _, err = nvlib(capsys, *argv, "--max-skip", "0.1")  # the same cache fails the stricter check again
    assert rc == 1 and not (d / "index.json").exists()
    for c in ("001", "002", "003", "004", "006"):
        (src / c / f"{c}.json").write_text("{broken")
    rc, _, err = nvlib(capsys, *argv, "--max-skip", "1")
    assert rc == 1 and "no clip converted: all 6 clips were skipped" in err
    rc, _, err = nvlib(capsys, *argv, "--max-skip", "150%")
    assert rc == 2 and "share in [0, 1]" in err


# ----------------------------------------------------------------------------- your own videos
def write_video(path: Path, n: int, seed: int, fourcc: str) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25.0, (64, 48))
    assert w.isOpened(), f"OpenCV cannot write {fourcc}"
    yy, xx = np.mgrid[0:48, 0:64]
    for t in range(n):  # a bright blob moving over a gradient
        cx, cy = 32 + 20 * np.sin(t / 4 + seed), 24 + 10 * np.cos(t / 6)
        img = (60 + xx + 120 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 50)).clip(0, 255).astype(np.uint8)
        w.write(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
    w.release()


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("mine") / "my clips"
    write_video(d / "alice" / "take1.avi", 30, 0, "MJPG")
    write_video(d / "bob.mp4", 30, 1, "mp4v")
    (d / ".hidden.mp4").write_bytes(b"skipped: hidden")
    (d / "notes.txt").write_text("not a video")
    return d


def test_convert_videos_with_per_clip_labels_then_train(videos, tmp_path, capsys):
    csv = tmp_path / "labels.csv"
    csv.write_text("clip,valence,arousal\nalice/take1.avi,0.5,-0.25\nbob,-0.3,0.4\n")
    argv = ["convert", "videos", videos, tmp_path / "out", "--labels", csv, "--size", "32", "--no-progress"]
    rc, _, err = nvlib(capsys, *argv)
    assert rc == 2 and "no group column" in err and "--groups clip" in err
    rc, out, err = nvlib(capsys, *argv, "--groups", "clip")
    assert rc == 0 and "2 converted" in out and "cache complete" in out and "subject-independent: NO" in out
    d = next((tmp_path / "out").glob("videos_tbr8b_dt5000us_s32_*"))
    index = C.load_index(d)
    meta = index["meta"]
    assert meta["labels_kind"] == "user" and meta["groups"] == "clip" and meta["labels_file"] == "labels.csv"
    assert meta["split_unit"] == "segment" and meta["split_counts"] == {"train": 6, "val": 2, "test": 2}
    info = json.loads((d / "clips" / "alice__take1" / "info.json").read_text())
    assert info["video"] == "alice/take1.avi" and info["labels_kind"] == "user" and info["label_mode"] == "clip"
    assert info["box_source"] in ("haar", "centre (no face detected)") and info["fps"] == 25.0
    ds = FrameDataset(d, None)
    assert ds.clips == ["alice__take1", "bob"] and len(ds) == 2 * 30
    np.testing.assert_allclose(ds.clip_arrays("alice__take1")[1], [[0.5, -0.25]] * 30)
    test = FrameDataset(d, "test")
    assert len(test) == 12 and {test[i]["index"] for i in range(6)} == set(range(24, 30))  # the last part
    assert len(ChunkDataset(d, "train", chunk=6)) == 6
    rc, out, err = nvlib(capsys, "train", "--model", "resnet18", "--data", d, "--epochs", "1", "--batch-size", "8",
                         "--no-progress", "--out", tmp_path / "run")
    assert rc == 0, err
    assert json.loads((tmp_path / "run" / "results.json").read_text())["model"] == "resnet18"


def test_convert_videos_per_frame_labels_groups_and_inference(videos, tmp_path, capsys):
    csv = tmp_path / "frames.csv"
    rows = ["clip,frame,valence,arousal,group"] + [f"alice/take1,{f},{f / 40:.3f},0.1,alice" for f in (4, 12, 20)] + \
        [f"bob.mp4,{f},-0.5,{-f / 40:.3f},bob" for f in (0, 29)]
    csv.write_text("\n".join(rows) + "\n")
    res = CV.convert_videos(videos, tmp_path / "out", labels=csv, size=16, progress=False)
    info = json.loads((res.cache_dir / "clips" / "alice__take1" / "info.json").read_text())
    assert info["label_mode"] == "frame" and info["frames_used"] == [4, 20] and info["frames_in"] == 17
    assert info["group"] == "alice" and set(info["annotation_index"]) == {4, 12, 20}
    _, va = FrameDataset(res.cache_dir, None).clip_arrays("alice__take1")
    np.testing.assert_allclose(va[:, 0], np.array(info["annotation_index"]) / 40, atol=1e-3)
    assert res.meta["groups"] == "person" and res.meta["subject_independent"] is False  # 2 people: segments
    # bad label files name the file and line
    for text, match in [("clip,valence\n", "columns"),
                        ("clip,valence,arousal\ncarol.mp4,0,0\n", r"frames\.csv:2: clip 'carol\.mp4' names no video"),
                        ("clip,valence,arousal\nbob,1.5,0\n", r":2: valence 1.5 outside \[-1, 1\]"),
                        ("clip,valence,arousal\nbob,0,0\nbob,0,0\n", ":3: clip 'bob' has a second row"),
                        ("clip,frame,valence,arousal,group\nbob,3,0,0,b\nbob,4,0,0,c\n", ":3: clip 'bob' has group"),
                        ("clip,frame,valence,arousal\nbob,-1,0,0\n", ":2: frame '-1' is not an integer"),
                        ("clip,valence,arousal,group\nbob,0,0,\n", "empty group")]:
        csv.write_text(text)
        with pytest.raises(ValueError, match=match):
            CV.convert_videos(videos, tmp_path / "bad", labels=csv, size=16, progress=False)
    csv.write_text("clip,frame,valence,arousal\nbob,3,0,0\nbob,90,0,0\n")  # the video has 30 frames
    with pytest.raises(CV.ConversionError, match="labels frame 90 but bob.mp4 has 30 frames"):
        CV.convert_videos(videos, tmp_path / "bad", labels=csv, size=16, progress=False, groups="clip")
    # no labels: a cache for inference that says so and refuses to be trained on
    rc, out, _ = nvlib(capsys, "convert", "videos", videos, tmp_path / "inf", "--size", "16", "--no-progress")
    assert rc == 0 and "no labels: this cache is for inference only" in out
    d = next((tmp_path / "inf").glob("videos_*"))
    assert C.load_index(d)["meta"]["labels_kind"] == "none" and len(FrameDataset(d, "test")) == 60
    assert np.isnan(FrameDataset(d, None).clip_arrays("bob")[1]).all()
    with pytest.raises(C.CacheError, match="holds no labels"):
        FrameDataset(d, "train")
    rc, _, err = nvlib(capsys, "convert", "videos", tmp_path / "inf", tmp_path / "x", "--no-progress")
    assert rc == 2 and "no video files found" in err


# ----------------------------------------------------------------------------- the sample clips
def test_samples_cache_has_validation_and_test_clips(tmp_path):
    from nvlib.datasets import samples

    names = ["crema_1001_ANG", "crema_1001_HAP", "crema_1001_SAD"]
    try:
        for n in names:
            samples.sample_path(n)
    except samples.SampleFetchError as e:
        pytest.skip(f"sample clips not available: {e}")
    res = CV.convert_samples_result(tmp_path, names=names, size=16, max_frames=12, progress=False)
    meta = res.meta
    assert meta["subject_independent"] is False and "not subject-independent" in meta["note"]
    assert meta["split_unit"] == "clip" and meta["split_counts"] == {"train": 1, "val": 1, "test": 1}
    for split in ("train", "val", "test"):
        assert len(FrameDataset(res.cache_dir, split)) == 10
    assert len(FrameDataset(res.cache_dir, "val", fold=0)) == 10  # the folds too


@pytest.mark.parametrize("source", ["afew-va", "nefer", "samples", "synthetic", "videos"])
def test_every_convert_command_has_help(source, capsys):
    rc, out, _ = nvlib(capsys, "convert", source, "--help")
    assert rc == 0 and "--max-skip" in out and ("--groups" in out) == (source in ("afew-va", "videos"))
