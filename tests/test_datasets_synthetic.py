"""Synthetic faces: expressions follow valence/arousal; deterministic; landmarks follow the drawing."""
import json

import numpy as np

from nvlib.datasets.synthetic import (AU_NAMES, Identity, animate_clip, face_geometry, generate_synthetic_afewva,
                                      render_face, va_to_aus)


def _mouth_corner_lift(v):
    g = face_geometry({k: float(x) for k, x in va_to_aus(v, 0.0).items()}, Identity(), 128, 128)
    lm = g["landmarks"]
    corners = (lm[48, 1] + lm[54, 1]) / 2
    centre = (lm[51, 1] + lm[57, 1]) / 2
    return centre - corners  # > 0: corners above the centre (image y grows downwards)


def test_valence_curves_the_mouth_and_arousal_opens_the_eyes():
    assert _mouth_corner_lift(0.9) > 1.0 > -1.0 > _mouth_corner_lift(-0.9)
    def eye_open(a):
        lm = face_geometry({k: float(x) for k, x in va_to_aus(0.0, a).items()}, Identity(), 128, 128)["landmarks"]
        return float(lm[40, 1] - lm[38, 1])
    assert eye_open(0.9) > eye_open(0.0) > eye_open(-0.9) > 0
    aus = va_to_aus(np.array([-1.0, 0.0, 1.0]), np.array([1.0, 0.0, -1.0]))
    assert set(aus) == set(AU_NAMES)
    assert aus["AU12"].tolist() == [0, 0, 1] and aus["AU15"].tolist() == [1, 0, 0] and aus["AU4"][0] == 1.0


def test_arousal_moves_the_head_faster():
    diffs = []
    for a in (-0.8, 0.8):
        frames, _, _, _ = animate_clip(np.tile([0.0, a], (40, 1)), 25.0, 64, 64, Identity(), np.random.default_rng(1))
        diffs.append(np.abs(np.diff(frames.astype(np.int16), axis=0)).mean())
    assert diffs[1] > 2 * diffs[0]


def test_generator_is_deterministic_and_records_action_units(tmp_path):
    a = generate_synthetic_afewva(tmp_path / "a", n_clips=3, n_frames=4, size=32, seed=7, micro_rate=1.0)
    b = generate_synthetic_afewva(tmp_path / "b", n_clips=3, n_frames=4, size=32, seed=7, micro_rate=1.0)
    for p in sorted(a.rglob("*")):
        if p.is_file():
            assert p.read_bytes() == (b / p.relative_to(a)).read_bytes(), p
    side = json.loads((a / "001" / "001_au.json").read_text())
    assert set(side["action_units"]) == set(AU_NAMES) and len(side["micro_expressions"]) == 1
    ann = json.loads((a / "001" / "001.json").read_text())
    assert set(ann) == {"actor", "video_id", "frames"}
    v = np.array([f["valence"] for f in ann["frames"].values()])
    np.testing.assert_array_equal(v, np.rint(np.array(side["va_continuous"])[:, 0] * 10))


def test_render_is_gray_uint8():
    img = render_face(face_geometry(va_to_aus(0.3, 0.3), Identity(), 40, 30), Identity(), 40, 30)
    assert img.shape == (30, 40) and img.dtype == np.uint8 and img.std() > 10
