"""AFEW-VA reader on generated trees in the real layout: exact labels and landmarks, and every bad input."""
import json
import shutil

import numpy as np
import pytest

from nvlib.datasets.afewva import AFEWVA, AnnotationError, read_clip
from nvlib.datasets.faces import crop_resize, landmark_box
from nvlib.datasets.splits import group_kfold
from nvlib.datasets.synthetic import generate_synthetic_afewva
from nvlib.represent import FaceBox


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return generate_synthetic_afewva(tmp_path_factory.mktemp("afewva"), n_clips=6, n_frames=5, size=48, seed=3)


def test_reads_back_exact_labels_and_landmarks(tree):
    ds = AFEWVA(tree, fps=30.0)
    assert ds.clips == ["001", "002", "003", "004", "005", "006"] and len(ds) == 6
    for i, name in enumerate(ds.clips):
        raw = json.loads((tree / name / f"{name}.json").read_text())
        clip = ds[i]
        keys = sorted(raw["frames"])
        assert keys == [f"{k:05d}" for k in range(5)]
        np.testing.assert_array_equal(clip.va_raw[:, 0], [raw["frames"][k]["valence"] for k in keys])
        np.testing.assert_array_equal(clip.va * 10, clip.va_raw)
        np.testing.assert_array_equal(clip.landmarks, np.array([raw["frames"][k]["landmarks"] for k in keys],
                                                               np.float32))
        assert clip.actor == raw["actor"] and clip.fps == 30.0
        assert clip.times_us.tolist() == [0, 33333, 66667, 100000, 133333]
        frames = clip.load_frames()
        assert frames.shape == (5, 48, 48) and frames.dtype == np.uint8


def test_actors_never_cross_folds(tree):
    ds = AFEWVA(tree)
    actors = ds.actors
    folds = group_kfold(actors, 3)
    for a in set(actors):
        assert len({f for f, b in zip(folds, actors) if b == a}) == 1


def test_landmark_box_is_square_stable_and_contains_the_face(tree):
    clip = AFEWVA(tree)[0]
    box = landmark_box(clip.landmarks, margin=0.25)
    assert isinstance(box, FaceBox)
    x0, y0, side = box
    lm = clip.landmarks
    assert (lm[..., 0] >= x0).all() and (lm[..., 0] < x0 + side).all()
    assert (lm[..., 1] >= y0).all() and (lm[..., 1] < y0 + side).all()
    crops = crop_resize(clip.load_frames(), box, 32)
    assert crops.shape == (5, 32, 32)
    # a box leaving the image is padded, not shifted: same shape
    assert crop_resize(clip.load_frames(), FaceBox(-10, -10, 40), 16).shape == (5, 16, 16)


def _copy(tree, tmp_path, name="001"):
    d = tmp_path / name
    shutil.copytree(tree / name, d)
    return d


def _edit(d, fn):
    j = d / f"{d.name}.json"
    data = json.loads(j.read_text())
    fn(data)
    j.write_text(json.dumps(data))


@pytest.mark.parametrize("case, match", [
    ("missing_json", "missing annotation JSON"),
    ("malformed_json", "malformed JSON"),
    ("frame_without_annotation", "without annotation"),
    ("annotation_without_frame", "without image"),
    ("out_of_range", "outside"),
    ("nan", "outside|not a number"),
    ("bad_landmarks", "landmarks"),
    ("one_frame", "at least 2"),
])
def test_bad_input_names_file_and_reason(tree, tmp_path, case, match):
    d = _copy(tree, tmp_path)
    j = d / "001.json"
    if case == "missing_json":
        j.unlink()
    elif case == "malformed_json":
        j.write_text("{not json")
    elif case == "frame_without_annotation":
        _edit(d, lambda a: a["frames"].pop("00002"))
    elif case == "annotation_without_frame":
        (d / "00004.png").unlink()
    elif case == "out_of_range":
        _edit(d, lambda a: a["frames"]["00001"].update(valence=11))
    elif case == "nan":
        j.write_text(j.read_text().replace('"arousal": ', '"arousal": NaN, "x": ', 1))
    elif case == "bad_landmarks":
        _edit(d, lambda a: a["frames"]["00000"].update(landmarks=[[0, 0]] * 67))
    elif case == "one_frame":
        for k in range(1, 5):
            (d / f"{k:05d}.png").unlink()
        _edit(d, lambda a: [a["frames"].pop(f"{k:05d}") for k in range(1, 5)])
    with pytest.raises(AnnotationError, match=match) as ei:
        read_clip(d)
    assert str(d) in ei.value.file


def test_unreadable_image(tree, tmp_path):
    d = _copy(tree, tmp_path)
    (d / "00003.png").write_bytes(b"not a png")
    clip = read_clip(d)
    with pytest.raises(AnnotationError, match="unreadable") as ei:
        clip.load_frames()
    assert ei.value.file.endswith("00003.png")
