"""Nearest-neighbour resizing on the code lattice, face crops, transforms and the torch variants."""
import dataclasses

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from nvlib.events import EVENT_DTYPE, Events, make_events
from nvlib.represent import (crop_box, histogram, histogram_torch, resize_codes, square_box, tbr, tbr_aligned,
                             tbr_aligned_torch, tbr_torch)
from nvlib.represent import transforms as T
from nvlib.represent.torch_ops import normalized


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
    inside = crop_box(frames, (2, 1, 3, 4))
    np.testing.assert_array_equal(inside, frames[:, 1:5, 2:5])
    border = crop_box(frames, (-2, 4, 4, 3), fill=-1)
    assert border.shape == (2, 3, 4)
    np.testing.assert_array_equal(border[:, :2, 2:], frames[:, 4:6, 0:2])
    assert (border[:, 2] == -1).all() and (border[:, :, :2] == -1).all()
    t = crop_box(torch.from_numpy(frames), (2, 1, 3, 4))
    np.testing.assert_array_equal(t.numpy(), inside)
    with pytest.raises(ValueError, match="positive size"):
        crop_box(frames, (0, 0, 0, 3))


def test_square_box_is_centred_and_kept_inside():
    assert square_box((10, 20, 30, 40)) == (5, 20, 40, 40)
    assert square_box((10, 20, 30, 40), scale=1.5) == (-5, 10, 60, 60)
    assert square_box((0, 0, 30, 40), scale=1.5, frame_size=(100, 50)) == (0, 0, 50, 50)


def random_events(seed, n, size=(11, 6), t_max=150_000):
    rng = np.random.default_rng(seed)
    return make_events(rng.integers(0, size[0], n), rng.integers(0, size[1], n),
                       np.sort(rng.integers(0, t_max, n)), rng.integers(0, 2, n), size)


@pytest.mark.parametrize("kw", [dict(), dict(n_bits=16, normalize=False), dict(n_bits=3, msb_newest=False),
                                dict(polarity=True, normalize=False), dict(stride_us=7000, n_bits=5),
                                dict(start_us=-3000, n_frames=9, delta_t_us=2000)])
def test_tbr_torch_equals_numpy(kw):
    ev = random_events(0, 700)
    ref = tbr(ev, **kw)
    got = tbr_torch(ev, **kw)
    assert tuple(got.shape) == ref.shape
    np.testing.assert_array_equal(got.numpy().astype(np.float64), ref.astype(np.float64))
    # a mapping of tensors (unsorted) gives the same frames
    order = np.random.default_rng(1).permutation(len(ev))
    cols = {k: torch.from_numpy(ev.array[k][order].astype(np.int64)) for k in "xytp"}
    np.testing.assert_array_equal(tbr_torch(cols, ev.sensor_size, **kw).numpy().astype(np.float64),
                                  ref.astype(np.float64))


def test_tbr_aligned_and_histogram_torch_equal_numpy():
    ev = random_events(2, 900)
    ends = np.array([10_000, 50_000, 45_000, 200_000])
    np.testing.assert_array_equal(tbr_aligned_torch(ev, None, ends).numpy(), tbr_aligned(ev, None, ends))
    np.testing.assert_array_equal(histogram_torch(ev, delta_t_us=9000).numpy(), histogram(ev, delta_t_us=9000))
    empty = Events(np.empty(0, EVENT_DTYPE), (11, 6))
    assert tuple(tbr_torch(empty, n_frames=3).shape) == (3, 6, 11)
    with pytest.raises(ValueError, match="outside the sensor"):
        tbr_torch({"x": torch.tensor([11]), "y": torch.tensor([0]), "t": torch.tensor([0])}, (11, 6))


@pytest.mark.parametrize("n_bits", [1, 8, 12, 16])
def test_torch_normalized_codes_are_correctly_rounded(n_bits):
    codes = np.arange(2**n_bits)
    exact = (codes / (2**n_bits - 1)).astype(np.float32)  # float64 division rounds innocuously to float32
    np.testing.assert_array_equal(normalized(torch.from_numpy(codes), n_bits).numpy(), exact)
    np.testing.assert_array_equal(normalized(torch.from_numpy(codes.astype(np.int32)).reshape(2, -1), n_bits)
                                  .reshape(-1).numpy(), exact)
    if torch.cuda.is_available():
        np.testing.assert_array_equal(normalized(torch.from_numpy(codes).cuda(), n_bits).cpu().numpy(), exact)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("kw", [{}, {"n_bits": 16}, {"n_bits": 5, "polarity": True, "msb_newest": False},
                                {"normalize": False}, {"n_bits": 16, "normalize": False}])
def test_torch_ops_on_cuda_equal_numpy(kw):
    ev = random_events(3, 5000)
    np.testing.assert_array_equal(tbr_torch(ev, device="cuda", **kw).cpu().numpy(), tbr(ev, **kw))
    ends = np.array([10_000, 50_000, 45_000, 200_000])
    np.testing.assert_array_equal(tbr_aligned_torch(ev, None, ends, device="cuda", **kw).cpu().numpy(),
                                  tbr_aligned(ev, None, ends, **kw))
    np.testing.assert_array_equal(histogram_torch(ev, delta_t_us=9000, device="cuda").cpu().numpy(),
                                  histogram(ev, delta_t_us=9000))


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
    assert T.CropBox((1, 1, 5, 5))(frames).shape == (frames.shape[0], 5, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        T.ToTBR().n_bits = 16
