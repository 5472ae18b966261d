"""Nearest-neighbour resizing on the code lattice, the face box and face crops, and the transforms."""
import dataclasses

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from nvlib.events import make_events
from nvlib.represent import FaceBox, crop_box, histogram, resize_codes, tbr, tbr_aligned
from nvlib.represent import transforms as T


@pytest.mark.parametrize("src, dst", [((7, 5), (3, 2)), ((64, 48), (100, 80)), ((13, 11), (13, 11)),
                                      ((176, 144), (64, 64)), ((50, 30), (17, 90))])
def test_resize_codes_matches_opencv_and_pil_nearest(src, dst):
    img = np.random.default_rng(0).integers(0, 256, (src[1], src[0]), dtype=np.uint8)
    ours = resize_codes(img, dst)
    assert ours.shape == (dst[1], dst[0])
    # both libraries agree except where an output centre lies exactly on a source pixel border (a tie,
    # decided by their floating/fixed-point rounding; ours takes the upper pixel, exactly)
    rows = np.flatnonzero((2 * np.arange(dst[1]) + 1) * src[1] % (2 * dst[1]))
    cols = np.flatnonzero((2 * np.arange(dst[0]) + 1) * src[0] % (2 * dst[0]))
    for ref in (cv2.resize(img, dst, interpolation=cv2.INTER_NEAREST_EXACT),
                np.asarray(Image.fromarray(img).resize(dst, Image.NEAREST))):
        np.testing.assert_array_equal(ours[np.ix_(rows, cols)], ref[np.ix_(rows, cols)])
    assert rows.size >= dst[1] // 2 and cols.size >= dst[0] // 2


def test_resize_codes_keeps_values_on_the_lattice_for_any_leading_axes():
    codes = np.random.default_rng(1).integers(0, 2**16, (3, 2, 30, 40), dtype=np.uint16)
    small = resize_codes(codes, 16)
    assert small.shape == (3, 2, 16, 16) and small.dtype == np.uint16
    assert set(np.unique(small)) <= set(np.unique(codes))
    as_torch = resize_codes(torch.from_numpy(codes.astype(np.int32)), (16, 16))
    np.testing.assert_array_equal(as_torch.numpy(), small)
    with pytest.raises(ValueError, match="size"):
        resize_codes(codes, (0, 3))


def test_crop_box_pads_outside_the_frame():
    frames = np.arange(2 * 6 * 8, dtype=np.float32).reshape(2, 6, 8)
    inside = crop_box(frames, FaceBox(2, 1, 4))
    np.testing.assert_array_equal(inside, frames[:, 1:5, 2:6])
    assert inside[0, 0, 0] == frames[0, 1, 2] == 10 and inside[1, 3, 3] == frames[1, 4, 5] == 85
    # a plain (x0, y0, side) is the same box
    np.testing.assert_array_equal(crop_box(frames, (2, 1, 4)), inside)
    border = crop_box(frames, FaceBox(-2, 3, 4), fill=-1)
    assert border.shape == (2, 4, 4)
    np.testing.assert_array_equal(border[:, :3, 2:], frames[:, 3:6, 0:2])
    assert (border[:, 3] == -1).all() and (border[:, :, :2] == -1).all()
    off = crop_box(frames, FaceBox(20, 20, 3), fill=7)  # entirely outside: all fill, same size
    assert off.shape == (2, 3, 3) and (off == 7).all()
    t = crop_box(torch.from_numpy(frames), FaceBox(2, 1, 4))
    np.testing.assert_array_equal(t.numpy(), inside)
    with pytest.raises(ValueError, match="side must be positive"):
        crop_box(frames, (0, 0, 0))
    with pytest.raises(ValueError, match="from_xywh"):  # OpenCV's (x, y, w, h) is never taken for a face box
        crop_box(frames, (2, 1, 3, 4))


def test_face_box_conversions_round_trip():
    b = FaceBox(5, 20, 40)
    assert b == (5, 20, 40) and b.xywh == (5, 20, 40, 40) and b.centre == (25.0, 40.0)
    assert FaceBox.from_xywh(*b.xywh) == b and FaceBox.from_centre(*b.centre, b.side) == b
    assert FaceBox.coerce(b) is b and FaceBox.coerce([5, 20, 40]) == b and FaceBox(*b.to_list()) == b
    assert FaceBox(np.int64(5), 20.0, np.int32(40)) == b and type(FaceBox(np.int64(5), 20, 40).x0) is int
    for x0, y0, side in [(-7, 3, 1), (0, 0, 2), (13, -4, 33), (100, 250, 64)]:
        box = FaceBox(x0, y0, side)
        assert FaceBox.from_xywh(*box.xywh) == box and FaceBox.from_centre(*box.centre, box.side) == box
        assert box.scaled(1.0) == box
    # a rectangle becomes the square around its centre (side: the longer edge, times scale)
    assert FaceBox.from_xywh(10, 20, 30, 40) == (5, 20, 40)
    assert FaceBox.from_xywh(10, 20, 30, 40, scale=1.5) == (-5, 10, 60)
    assert FaceBox.from_xywh(0, 0, 30, 40, scale=1.5).inside((100, 50)) == (0, 0, 50)
    assert FaceBox(90, -3, 20).inside((100, 50)) == (80, 0, 20)
    assert FaceBox.from_centre(50.2, 40.7, 19.6) == (40, 31, 20)
    assert FaceBox.from_centre(5, 5, 0.4, min_side=2).side == 2
    assert FaceBox(10, 10, 20).scaled(1.5) == (5, 5, 30)
    assert FaceBox.central(176, 144) == (30, 14, 115) and FaceBox.central(1280, 720, 0.9) == (316, 36, 648)
    m = FaceBox(2, 1, 3).contains(np.array([1, 2, 4, 5, 3]), np.array([1, 1, 3, 3, 4]))
    assert m.tolist() == [False, True, True, False, False]
    # pickles (worker processes) and stays a FaceBox after namedtuple helpers
    import pickle

    assert type(pickle.loads(pickle.dumps(b))) is FaceBox and pickle.loads(pickle.dumps(b)) == b
    assert type(b._replace(side=8)) is FaceBox and FaceBox._make([1, 2, 3]) == (1, 2, 3)


@pytest.mark.parametrize("args, match", [((0, 0, 0), "side must be positive"), ((0, 0, -4), "side must be positive"),
                                         ((1.5, 0, 4), "x0 must be an integer"), ((0, True, 4), "y0 must be"),
                                         ((0, 0, "4"), "side must be an integer"), ((0, 0, float("nan")), "side")])
def test_face_box_refuses_bad_values(args, match):
    with pytest.raises(ValueError, match=match):
        FaceBox(*args)


def test_face_box_conversions_refuse_bad_input():
    with pytest.raises(ValueError, match="side must be positive"):
        FaceBox(0, 0, 5)._replace(side=0)
    with pytest.raises(ValueError, match="positive size"):
        FaceBox.from_xywh(0, 0, 0, 3)
    with pytest.raises(ValueError, match="finite"):
        FaceBox.from_centre(float("nan"), 1, 3)
    with pytest.raises(ValueError, match="got 2 value"):
        FaceBox.coerce((1, 2))
    with pytest.raises(ValueError, match="0 < frac <= 1"):
        FaceBox.central(64, 48, 1.5)


def random_events(seed, n, size=(11, 6), t_max=150_000):
    rng = np.random.default_rng(seed)
    return make_events(rng.integers(0, size[0], n), rng.integers(0, size[1], n),
                       np.sort(rng.integers(0, t_max, n)), rng.integers(0, 2, n), size)


def test_transforms_call_the_functions_and_are_frozen():
    ev = random_events(4, 300)
    np.testing.assert_array_equal(T.ToTBR(n_bits=4, delta_t_us=3000)(ev), tbr(ev, None, 3000, 4))
    np.testing.assert_array_equal(T.ToAlignedTBR((40_000, 80_000))(ev), tbr_aligned(ev, None, [40_000, 80_000]))
    np.testing.assert_array_equal(T.ToHistogram(delta_t_us=20_000)(ev), histogram(ev, None, 20_000))
    assert T.ToVoxelGrid(n_bins=3)(ev).shape == (3, 6, 11)
    assert T.ToTimeSurface(t_ref_us=100_000)(ev).shape == (2, 6, 11)
    assert T.ToCountImage()(ev).sum() == 300
    frames = T.ToTBR(normalize=False)(ev)
    assert T.ResizeCodes((4, 3))(frames).shape == (frames.shape[0], 3, 4)
    crop = T.CropBox((1, 1, 5))
    assert isinstance(crop.box, FaceBox) and crop(frames).shape == (frames.shape[0], 5, 5)
    np.testing.assert_array_equal(T.CropBox(FaceBox(1, 1, 5), fill=3)(frames), crop_box(frames, (1, 1, 5), 3))
    with pytest.raises(ValueError, match="from_xywh"):
        T.CropBox((1, 1, 5, 5))
    with pytest.raises(dataclasses.FrozenInstanceError):
        T.ToTBR().n_bits = 16
