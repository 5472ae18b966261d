"""The compiled continuation of torch's CPU generator equals torch's own draws."""
import numpy as np
import pytest
import torch

from nvlib.simulate import DVSEmulator, DVSParams, rng

pytestmark = pytest.mark.skipif(not rng.HAVE_NUMBA, reason="numba not installed")


@pytest.mark.parametrize("seed,warm,size", [(1, 0, 5), (7, 623, 624), (42, 1000, 89_960), (0, 17, 1)])
def test_uniforms_equal_torch_rand(seed, warm, size):
    gen = torch.Generator().manual_seed(seed)
    torch.randn(max(warm, 1), generator=gen)  # start mid-block
    s = rng.TorchStream().load(gen)
    ref = torch.rand(size, generator=gen).numpy()
    out = np.empty(size, np.float32)
    s.pos = rng.mt_fill_uniform(s.state, s.pos, out)
    np.testing.assert_array_equal(out, ref)


def test_randperm_skips_and_store_continue_torch():
    gen = torch.Generator().manual_seed(3)
    torch.rand(10, generator=gen)
    s = rng.TorchStream().load(gen)
    sizes = [0, 1, 2, 5, 624, 1300, 1]
    for n in sizes:
        torch.randperm(n, generator=gen)
    s.pos = rng.mt_skip_randperms(s.state, s.pos, np.array(sizes, np.int64))
    twin = torch.Generator()
    twin.set_state(gen.get_state())
    s.store(twin)  # our state written into another generator: both must now draw the same
    np.testing.assert_array_equal(torch.rand(2000, generator=twin).numpy(), torch.rand(2000, generator=gen).numpy())
    np.testing.assert_array_equal(torch.randn(100, generator=twin).numpy(), torch.randn(100, generator=gen).numpy())


def test_shot_kernel_equals_dense_test():
    """The early rejection in nb_shot_v2e_stream changes nothing: same lists as the plain per-pixel test."""
    r = np.random.default_rng(0)
    n = 5000
    fr = r.integers(0, 256, n).astype(np.uint8)
    f_lut = np.linspace(0.02, 0.3, 256)
    pre_pos = r.uniform(0.5, 2.0, n).astype(np.float32)
    pre_neg = r.uniform(0.5, 2.0, n).astype(np.float32)
    gen = torch.Generator().manual_seed(5)
    s = rng.TorchStream().load(gen)
    on_b, off_b = np.empty(n, np.int64), np.empty(n, np.int64)
    a, b, s.pos = rng.nb_shot_v2e_stream(fr, f_lut, pre_pos, pre_neg, float(f_lut.max()) * float(pre_pos.max()),
                                         float(f_lut.max()) * float(pre_neg.max()), s.state, s.pos, on_b, off_b)
    u = torch.rand(n, generator=gen).numpy().astype(np.float64)
    f = f_lut[fr]
    np.testing.assert_array_equal(on_b[:a], np.flatnonzero(u > 1.0 - f * pre_pos.astype(np.float64)))
    np.testing.assert_array_equal(off_b[:b], np.flatnonzero(u < f * pre_neg.astype(np.float64)))
    assert a > 100 and b > 100


def test_stream_check_passes_for_the_pinned_torch():
    assert rng.stream_matches_torch()


@pytest.mark.parametrize("p", [DVSParams(seed=5), DVSParams.preset("noisy", seed=2, noise_rng="v2e"),
                               DVSParams(seed=4, shot_noise_rate_hz=30.0, leak_rate_hz=0.0, sigma_thres=0.0)])
def test_emulator_with_stream_equals_torch_draws(p):
    """Same events, byte for byte, whether the noise draws run in compiled code or in torch."""
    r = np.random.default_rng(11)
    frames = np.clip(r.normal(120, 40, (12, 21, 34)), 0, 255).astype(np.uint8)
    out = []
    for use_stream in (True, False):
        emu = DVSEmulator(p, kernels="numba")
        evs = []
        for i, fr in enumerate(frames):
            if i == 1 and not use_stream:
                emu._stream = None  # after the first frame set up the kernels
            evs.append(emu.step(fr, i / 30).array.tobytes())
        assert (emu._stream is not None) == use_stream
        out.append(evs)
    assert out[0] == out[1]
    assert sum(len(e) for e in out[0]) > 13 * 100
