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
