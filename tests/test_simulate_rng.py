"""The compiled continuation of torch's CPU generator equals torch's own draws."""
import numpy as np
import pytest
import torch

from nvlib.simulate import DVSEmulator, DVSParams, expand, rng

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


# torch's float32 randn takes the AVX2 Box-Muller kernel on x86-64 CPUs with AVX2 (also when it
# dispatches AVX512, which has no kernel of its own); elsewhere it computes otherwise.
avx2 = pytest.mark.skipif(torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"),
                          reason="torch's randn takes its AVX2 kernel only on AVX2 CPUs")


@avx2
@pytest.mark.parametrize("seed,warm,size", [(1, 0, 16), (2, 5, 17), (3, 623, 1000), (4, 70, 4096), (5, 1, 89_960),
                                            (6, 0, 230_400)])
def test_normals_equal_torch_randn(seed, warm, size):
    """Bit for bit, including the 16-value tail torch redraws when size % 16 != 0, and the stream
    position afterwards."""
    gen = torch.Generator().manual_seed(seed)
    torch.rand(warm, generator=gen)
    s = rng.TorchStream().load(gen)
    ref = torch.randn(size, generator=gen).numpy()
    out = np.empty(size, np.float32)
    s.pos = rng.mt_fill_normal(s.state, s.pos, out)
    np.testing.assert_array_equal(out, ref)
    after = np.empty(7, np.float32)
    rng.mt_fill_uniform(s.state, s.pos, after)
    np.testing.assert_array_equal(after, torch.rand(7, generator=gen).numpy())
    assert rng.normals_match_torch()


def test_box_muller_is_box_muller():
    """Independently of torch: each block of 16 uniforms gives r*cos(theta) and r*sin(theta), with
    r = sqrt(-2 ln(1 - u[k])) and theta = 2 pi u[k + 8], to float32 accuracy of the polynomials."""
    u = np.random.default_rng(0).random(16 * 500).astype(np.float32)
    d = u.copy()
    for i in range(0, d.shape[0], 16):
        rng.box_muller16(d[i:i + 16])
    b = u.reshape(-1, 16).astype(np.float64)
    r = np.sqrt(-2 * np.log(1 - b[:, :8]))
    th = 2 * np.pi * b[:, 8:]
    want = np.concatenate([r * np.cos(th), r * np.sin(th)], axis=1).ravel()
    np.testing.assert_allclose(d, want, rtol=2e-6, atol=2e-6)
    assert abs(d.mean()) < 0.05 and abs(d.std() - 1) < 0.05


def test_lattice_times_equal_torch_linspace():
    """v2e's sub-step times: torch.linspace in float32, and those times in microseconds."""
    r = np.random.default_rng(3)
    for _ in range(300):
        t_prev, dt, n = float(r.uniform(0, 500)), float(r.uniform(1e-4, 0.1)), int(r.integers(1, 400))
        ref = torch.linspace(t_prev + dt / n, t_prev + dt, n, dtype=torch.float32).numpy()
        ts, t_us = expand.lattice_times(t_prev + dt / n, t_prev + dt, n)
        np.testing.assert_array_equal(ts, ref)
        np.testing.assert_array_equal(t_us, np.round(ref.astype(np.float64) * 1e6).astype(np.int64))
    if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):  # torch's kernel fuses its multiply-adds
        assert expand.linspace_matches_torch()


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
        emu._sync_gen()  # the state kept in compiled code between frames goes back to torch
        out.append((evs, torch.rand(50, generator=emu._gen).numpy().tobytes()))
    assert out[0][0] == out[1][0]
    assert out[0][1] == out[1][1]  # the generator ends where torch's own draws leave it
    assert sum(len(e) for e in out[0][0]) > 13 * 100
