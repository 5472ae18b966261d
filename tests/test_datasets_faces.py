"""Face boxes on datasets: one FaceBox type from landmarks, detections and published files; crops; the detector."""
import json

import numpy as np
import pytest

from nvlib.datasets import faces
from nvlib.datasets.nefer import read_face_box
from nvlib.represent import FaceBox, crop_box


def test_every_box_maker_returns_a_face_box():
    lm = np.array([[[10.0, 20.0], [30.0, 44.0]], [[12.0, 20.0], [32.0, 44.0]]])  # (T=2, K=2, 2)
    box = faces.landmark_box(lm, margin=0.25)
    # centre: median of (20, 32) and (22, 32) = (21, 32); side: 24 * 1.5 = 36
    assert isinstance(box, FaceBox) and box == (3, 14, 36)
    assert faces.landmark_box(lm[0], margin=0.0) == (8, 20, 24)
    assert faces.landmark_box(np.full((3, 68, 2), 5.0)) == (4, 4, 2)  # a single point: the smallest box
    with pytest.raises(ValueError, match="landmarks must be"):
        faces.landmark_box(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        faces.landmark_box(np.array([[1.0, np.nan], [3.0, 4.0]]))
    det = np.tile([50.0, 40.0, 30.0], (6, 1))
    assert isinstance(faces.clip_box_from_detections(det, margin=0.0), FaceBox)
    assert faces.clip_box_from_detections(det, margin=0.25) == FaceBox.from_centre(50, 40, 45) == (28, 18, 45)
    assert faces.centre_box(64, 48) == FaceBox.central(64, 48) == (13, 5, 38)


def test_crop_resize_on_known_arrays():
    frames = np.arange(3 * 10 * 12, dtype=np.uint8).reshape(3, 10, 12)
    # side == size: an exact crop, no interpolation
    np.testing.assert_array_equal(faces.crop_resize(frames, FaceBox(2, 3, 5), 5), frames[:, 3:8, 2:7])
    np.testing.assert_array_equal(faces.crop_resize(frames, (2, 3, 5), 5), crop_box(frames, FaceBox(2, 3, 5)))
    # off the image: the border is replicated (crop_box would fill), keeping the box's scale
    out = faces.crop_resize(frames, FaceBox(-2, -1, 4), 4)
    np.testing.assert_array_equal(out[:, 1:, 2:], frames[:, 0:3, 0:2])
    np.testing.assert_array_equal(out[:, 0, 2:], frames[:, 0, 0:2])  # top row replicated
    np.testing.assert_array_equal(out[:, 1:, 0], frames[:, 0:3, 0])  # left column replicated
    # downscale by 2 with INTER_AREA: each output pixel is the mean of a 2x2 block
    big = np.kron(np.array([[0, 200], [100, 40]], np.uint8), np.ones((2, 2), np.uint8))[None]
    np.testing.assert_array_equal(faces.crop_resize(big, FaceBox(0, 0, 4), 2)[0], [[0, 200], [100, 40]])
    with pytest.raises(ValueError, match="from_xywh"):
        faces.crop_resize(frames, (0, 0, 4, 4), 4)
    with pytest.raises(ValueError, match=r"\(T, H, W\)"):
        faces.crop_resize(frames[0], FaceBox(0, 0, 4), 4)


def test_the_detector_names_an_opencv_without_cascades(monkeypatch):
    import cv2

    monkeypatch.delattr(cv2, "data", raising=False)
    with pytest.raises(ImportError, match=r"OpenCV .* has no Haar cascades .*opencv-python-headless < 5"):
        faces.detect_faces(np.zeros((1, 48, 64), np.uint8))
    with pytest.raises(ImportError, match="no Haar cascades"):
        faces.detect_face(np.zeros((48, 64), np.uint8))


def test_detect_face_is_detect_faces_on_one_frame(sample_video):
    from nvlib.io.video import read_video

    frames, _ = read_video(sample_video, max_frames=1, gray=True)
    det = faces.detect_faces(frames, every=1)[0]
    assert np.all(np.isfinite(det))
    assert faces.detect_face(frames[0]) == FaceBox.from_centre(*det)
    assert faces.detect_face(frames[0], scale=1.3) == FaceBox.from_centre(*det, scale=1.3)
    assert faces.detect_face(np.full((64, 64), 128, np.uint8)) is None  # nothing to find
    with pytest.raises(ValueError, match=r"uint8 \(H, W\) gray image"):
        faces.detect_face(frames[0].astype(np.float32))


def test_published_nefer_face_boxes(tmp_path):
    f = tmp_path / "user01_2022-06-08_12-00-00_cd.json"
    f.write_text(json.dumps({"box": [600, 310, 100]}))
    assert read_face_box(f) == FaceBox(600, 310, 100) and isinstance(read_face_box(f), FaceBox)
    for text, match in [("{broken", "malformed JSON"), ('{"box": [1, 2]}', r"expected \{\"box\": \[x0, y0, side\]\}"),
                        ('{"face": [1, 2, 3]}', "expected"), ('{"box": [1, 2, 0]}', "side must be positive"),
                        ('{"box": [1.5, 2, 3]}', "x0 must be an integer")]:
        f.write_text(text)
        with pytest.raises(ValueError, match=match) as e:
            read_face_box(f)
        assert str(e.value).startswith(f"{f}: ")
    with pytest.raises(ValueError, match="cannot read the face box"):
        read_face_box(tmp_path / "missing.json")
