"""The real sample clips with DERIVED labels, and Haar face boxes with temporal smoothing."""
import numpy as np
import pytest

from nvlib.datasets.faces import clip_box_from_detections, detect_faces, smooth_boxes
from nvlib.datasets.samples import CIRCUMPLEX, CREMA_FACE_RATINGS, PEXELS_SEGMENTS, SampleClips, derived_va
from nvlib.represent import FaceBox


def test_crema_labels_are_circumplex_scaled_by_face_level():
    va, emos = derived_va("crema_1001_HAP", 3)
    np.testing.assert_allclose(va, [[0.8 * 0.6657, 0.5 * 0.6657]] * 3, rtol=1e-6)
    assert emos == ["happy"] * 3
    # perceived: the face-only vote for the acted fear clip is disgust (level 54.0)
    va, emos = derived_va("crema_1001_FEA", 2, source="perceived")
    np.testing.assert_allclose(va[0], np.array(CIRCUMPLEX["disgust"]) * 0.54, rtol=1e-6)
    assert derived_va("crema_1001_NEU", 1)[0].tolist() == [[0.0, 0.0]]
    assert set(CREMA_FACE_RATINGS) == {"NEU", "HAP", "SAD", "ANG", "FEA", "DIS"}


def test_pexels_segments():
    va, emos = derived_va("pexels_wolfganglanger", 472)
    assert emos[175] == "sad" and emos[176] == "fear" and emos[235] == "fear" and emos[236] == "happy"
    assert va[0].tolist() == list(np.float32(CIRCUMPLEX["sad"])) and PEXELS_SEGMENTS[-1][1] == 471
    with pytest.raises(KeyError):
        derived_va("unknown", 3)


def test_smoothing_fills_gaps_and_removes_outliers():
    b = np.tile([50.0, 40.0, 30.0], (20, 1))
    b[3] = np.nan
    b[10] = [150, 140, 90]  # one false detection
    s = smooth_boxes(b, window=5)
    np.testing.assert_allclose(s, np.tile([50.0, 40.0, 30.0], (20, 1)))
    assert clip_box_from_detections(b, margin=0.0) == FaceBox(35, 25, 30)
    assert isinstance(clip_box_from_detections(b, margin=0.0), FaceBox)
    with pytest.raises(ValueError, match="no face"):
        smooth_boxes(np.full((4, 3), np.nan))


def test_haar_finds_the_face_on_a_real_clip(sample_video):
    from nvlib.io.video import read_video

    frames, fps = read_video(sample_video, max_frames=10, gray=True)
    det = detect_faces(frames, every=3)
    found = det[np.all(np.isfinite(det), axis=1)]
    assert len(found) >= 2
    cx, cy, side = np.median(found, axis=0)
    # carphone (176x144): the speaker's face sits in the upper-middle of the frame
    assert 40 < cx < 140 and 20 < cy < 110 and 20 < side < 110


def test_sample_dataset_marks_labels_derived(sample_video):
    ds = SampleClips(names=["carphone"], max_frames=8)
    item = ds[0]
    assert item.labels_kind == "derived" and item.frames.shape[0] == 8 and item.va.shape == (8, 2)
    with pytest.raises(KeyError):
        SampleClips(names=["nope"])


def test_opencv_without_haar_cascades_is_named(monkeypatch):
    import cv2

    monkeypatch.delattr(cv2, "CascadeClassifier")
    with pytest.raises(ImportError, match=r"no Haar cascades.*opencv-python-headless < 5"):
        detect_faces(np.zeros((2, 48, 64), np.uint8))
