"""NEFER annotations: the real CSVs (acceptance counts) and bad rows reported per sequence."""
from collections import Counter

import pytest

from nvlib.datasets.nefer import CLASSES, NEFER, TRAIN_USERS, VALIDATION_USERS, read_annotation_csv


@pytest.mark.shared
@pytest.mark.parametrize("modality", ["events", "rgb"])
def test_real_csv_counts(nefer_annotations, tmp_path, modality):
    tr = NEFER(tmp_path, "train", "expected", modality, annotations_dir=nefer_annotations, load=None)
    va = NEFER(tmp_path, "validation", "expected", modality, annotations_dir=nefer_annotations, load=None)
    assert len(tr) == 420 and len(va) == 125 and not tr.problems and not va.problems
    assert Counter(tr.label_names) == {c: 60 for c in CLASSES}
    assert Counter(va.label_names) == {**{c: 18 for c in CLASSES}, "Surprise": 17}
    assert set(tr.users) == set(TRAIN_USERS) and set(va.users) == set(VALIDATION_USERS)
    assert not {"18", "20", "29"} & (set(tr.users) | set(va.users))
    rep = NEFER(tmp_path, "train", "reported", modality, annotations_dir=nefer_annotations, load=None)
    assert Counter(rep.label_names) == {"Happiness": 66, "Fear": 28, "Disgust": 56, "Sadness": 73, "None": 27,
                                        "Anger": 38, "Surprise": 87, "Contempt": 45}
    assert rep.sequences == tr.sequences  # both label versions list the same sequences


@pytest.mark.shared
def test_real_paths_rebuilt_inside_root_and_paired(nefer_annotations, tmp_path):
    ds = NEFER(tmp_path, "train", annotations_dir=nefer_annotations, load=None)
    root = tmp_path.resolve()
    for i in range(len(ds)):
        p = ds.paths(i)
        for q in (p["raw"], p["event_frames"][i % 51], p["rgb_frames"][-1]):
            assert q.resolve().is_relative_to(root)
        assert len(p["event_frames"]) == len(p["rgb_frames"]) == 51
    p = ds.paths(0)
    assert p["raw"] == tmp_path / "event_raw/raw/user_01/user01_2022-06-08_12-20-03.raw"
    assert p["rgb_frames"][0] == tmp_path / "rgb_frames/user_01/GOPR0762/frame_00.png"
    assert p["event_frames"][50].name == "frame_50.png"


def _rows(user, seq, label, n=51, prefix="../x/"):
    return [f"{user},{seq},{prefix}{user}/{seq}/frame_{k:02d}.png,{label}" for k in range(n)]


def test_bad_rows_are_reported_per_sequence_and_the_rest_is_kept(tmp_path):
    s = "user01_2022-06-08_12-00-0{}_cd"
    rows = (_rows("user_01", s.format(0), "Happiness") + _rows("user_01", s.format(1), "Joy")
            + _rows("user_18", "user18_2022-06-08_12-00-02_cd", "Fear") + _rows("user_01", s.format(3), "Fear", n=50)
            + _rows("user_01", s.format(4), "Anger")[:10] + ["user_01," + s.format(4) + ",bad"]
            + _rows("user_01", s.format(4), "Anger")[10:])
    f = tmp_path / "train_event.csv"
    f.write_text("\n".join(rows) + "\n")
    entries, problems = read_annotation_csv(f, users=TRAIN_USERS)
    assert [e.sequence for e in entries] == [s.format(0)]
    reasons = {p.sequence: p.reason for p in problems}
    assert "unknown label 'Joy'" in reasons[s.format(1)]
    assert "unknown user" in reasons["user18_2022-06-08_12-00-02_cd"]
    assert "frame_00..frame_50" in reasons[s.format(3)]
    assert "4 columns" in reasons[s.format(4)]
    assert all(p.file == str(f) and p.row >= 1 for p in problems)
    assert str(problems[0]).startswith(f"{f}:")


def test_missing_annotation_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_event.csv"):
        NEFER(tmp_path, "train", load=None)
    with pytest.raises(ValueError, match="split"):
        NEFER(tmp_path, "test", load=None)


@pytest.mark.shared
def test_recordings_found_by_sequence_id_anywhere_under_the_root(nefer_annotations, tmp_path):
    from nvlib.datasets.nefer import find_recordings

    ds = NEFER(tmp_path, "train", annotations_dir=nefer_annotations, load=None)
    s0, s1, s2, s3 = ds.sequences[:4]
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / f"{s0[:-3]}.raw").write_bytes(b"")  # another layout
    (tmp_path / "a" / f"{s1}.raw").write_bytes(b"")  # the id with its _cd suffix
    for d in ("x", "y"):  # twice: ambiguous
        (tmp_path / d).mkdir()
        (tmp_path / d / f"{s2[:-3]}.raw").write_bytes(b"")
    (tmp_path / ".trash").mkdir()
    (tmp_path / ".trash" / f"{s3[:-3]}.raw").write_bytes(b"")  # hidden folders are not searched
    index = find_recordings(tmp_path)
    assert ds.recording(0, index) == (tmp_path / "a" / "b" / f"{s0[:-3]}.raw", None)
    assert ds.recording(1, index) == (tmp_path / "a" / f"{s1}.raw", None)
    path, why = ds.recording(2, index)
    assert path is None and why.startswith(f"2 recordings named {s2[:-3]}.raw under {tmp_path}: ") and "keep one" in why
    path, why = ds.recording(3, index)
    assert path is None and f"no recording {s3[:-3]}.raw anywhere under {tmp_path}" in why
    guess = ds.paths(3)["raw"]
    guess.parent.mkdir(parents=True)
    guess.write_bytes(b"")  # the guessed layout wins where it holds the file
    assert ds.recording(3) == (guess, None) and ds.recording(2, {})[0] is None


def test_missing_annotations_say_where_they_are(tmp_path):
    from nvlib.datasets.nefer import annotation_file

    with pytest.raises(FileNotFoundError, match="is not a folder"):
        NEFER(tmp_path / "nope", "train", load=None)
    ann = tmp_path / "download" / "NEFER" / "annotations" / annotation_file("train", "events", "expected")
    ann.parent.mkdir(parents=True)
    ann.write_text("")
    (ann.parent / annotation_file("train", "rgb", "expected").split("/")[1]).write_text("")
    with pytest.raises(FileNotFoundError, match=f"found NEFER annotations under {tmp_path / 'download' / 'NEFER'}"):
        NEFER(tmp_path, "train", load=None)
    with pytest.raises(FileNotFoundError, match="is itself the annotations folder; pass its parent"):
        NEFER(ann.parent.parent, "train", load=None)
    assert len(NEFER(tmp_path / "download" / "NEFER", "train", load=None)) == 0
