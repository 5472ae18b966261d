"""torch's CPU random stream, continued in compiled code: uniforms, normals and ``randperm`` draws.

v2e (SensorsINI/v2e ``emulator.py``) draws its noise from torch's CPU generator: per frame one
normal per pixel (leak jitter), one ``randperm`` per sub-step (its event shuffle), one uniform per
pixel (shot noise). Event-identical noise needs that stream in that order. torch's generator is
MT19937 (Matsumoto & Nishimura, ACM TOMACS 1998; ATen ``MT19937RNGEngine.h``), and on the CPU

* ``torch.rand`` (float32) maps each 32-bit draw ``y`` to ``(y & 0xFFFFFF) * 2**-24``, serially;
* ``torch.randn`` (float32, contiguous, n >= 16) on x86-64 with AVX2 first draws n such uniforms,
  then turns each block of 16 into 16 normals with Box & Muller's transform (Ann. Math. Stat.
  1958): ``r = sqrt(-2 log(1 - u[j]))``, ``theta = 2 pi u[j + 8]``, ``r cos theta`` and
  ``r sin theta`` for j < 8, where log, sin and cos are Cephes' single-precision polynomials
  (Moshier, *Methods and Programs for Mathematical Functions*, 1989) evaluated eight lanes at a
  time with fused multiply-adds; when n is not a multiple of 16 it draws 16 more uniforms and
  recomputes the last 16 normals from them;
* ``torch.randperm(n)`` (n < 2**32/20) makes ``n - 1`` draws.

:class:`TorchStream` takes the state of a ``torch.Generator`` (``get_state``), makes those draws
with numba kernels (``bench/simulate.py`` times them against torch's own draws), and writes the state
back (``set_state``) so that torch can go on drawing. :func:`stream_matches_torch` and
:func:`normals_match_torch` check, once per process, that this torch draws as described (the
normals depend on the CPU torch dispatches to); callers fall back to torch otherwise.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch

from nvlib.simulate.expand import HAVE_NUMBA, _njit, shot_test

if HAVE_NUMBA:  # kernels below use them; without numba the stream is not used (see stream_matches_torch)
    from nvlib.simulate._llvm import bits as _bits, float_of_bits as _float, fma32 as _fma32

N = 624
M = 397
_HEAD = np.dtype([("seed", "<u8"), ("left", "<i4"), ("seeded", "<i4"), ("next", "<u8")])
_HEAD_BYTES = _HEAD.itemsize  # 24: then N uint64 words of state
#: ``randperm(n)`` makes ``n - 1`` 32-bit draws below this size (ATen ``randperm_cpu``).
RANDPERM_SMALL = (2**32 - 1) // 20


@_njit
def mt_twist(mt):
    """The MT19937 state transition, in place on the 624 words (branch-free, so it vectorises:
    the low bit of ``y`` selects the matrix ``0x9908B0DF`` through a mask)."""
    upper = np.uint32(0x80000000)
    lower = np.uint32(0x7FFFFFFF)
    mag = np.uint32(0x9908B0DF)
    one = np.uint32(1)
    zero = np.uint32(0)
    for i in range(N - M):
        y = (mt[i] & upper) | (mt[i + 1] & lower)
        mt[i] = mt[i + M] ^ (y >> one) ^ (mag & (zero - (y & one)))
    for i in range(N - M, N - 1):
        y = (mt[i] & upper) | (mt[i + 1] & lower)
        mt[i] = mt[i + M - N] ^ (y >> one) ^ (mag & (zero - (y & one)))
    y = (mt[N - 1] & upper) | (mt[0] & lower)
    mt[N - 1] = mt[M - 1] ^ (y >> one) ^ (mag & (zero - (y & one)))


@_njit
def mt_temper(y):
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    y ^= y >> np.uint32(18)
    return y


@_njit
def mt_skip(mt, i, k):
    """Position after ``k`` more draws (the values are not needed, so not tempered)."""
    while k > 0:
        if i >= N:
            mt_twist(mt)
            i = 0
        take = min(k, N - i)
        i += take
        k -= take
    return i


@_njit
def mt_skip_randperms(mt, i, sizes):
    """Position after ``torch.randperm(c)`` for each ``c`` in ``sizes`` (0 and 1 draw nothing)."""
    for c in sizes:
        if c > 1:
            i = mt_skip(mt, i, c - 1)
    return i


@_njit
def mt_fill_uniform(mt, i, out):
    """``out[:] = torch.rand(out.shape)`` (float32) from the state; returns the new position."""
    n = out.shape[0]
    k = 0
    while k < n:  # a block of at most 624 words between twists
        if i >= N:
            mt_twist(mt)
            i = 0
        m = min(n - k, N - i)
        o = out[k:k + m]  # zero-based views: loops over them vectorise
        w = mt[i:i + m]
        for j in range(m):
            # 24 bits convert to float32 exactly; the scaling by 2**-24 is exact too
            o[j] = np.float32(np.int32(mt_temper(w[j]) & np.uint32(0xFFFFFF))) * np.float32(1.0 / 16777216.0)
        i += m
        k += m
    return i


_F = np.float32
# Cephes single-precision coefficients (logf, sinf, cosf) and constants, as float32.
_LOG_P = tuple(_F(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                               1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                               3.3333331174e-1))
_LP0, _LP1, _LP2, _LP3, _LP4, _LP5, _LP6, _LP7, _LP8 = _LOG_P
_LOG_Q1, _LOG_Q2 = _F(-2.12194440e-4), _F(0.693359375)  # ln 2 split in two
_SQRT_HALF = _F(0.707106781186547524)
_DP1, _DP2, _DP3 = _F(-0.78515625), _F(-2.4187564849853515625e-4), _F(-3.77489497744594108e-8)  # -pi/4 in three
_SIN_P0, _SIN_P1, _SIN_P2 = _F(-1.9515295891e-4), _F(8.3321608736e-3), _F(-1.6666654611e-1)
_COS_P0, _COS_P1, _COS_P2 = _F(2.443315711809948e-5), _F(-1.388731625493765e-3), _F(4.166664568298827e-2)
_FOUR_OVER_PI = _F(1.27323954473516)
_TWO_PI = _F(2.0 * np.pi)


@_njit
def box_muller16(d):
    """One block of 16 float32 uniforms ``d`` in [0, 1) to 16 normals, in place: for lane k < 8,
    ``r = sqrt(-2 ln(1 - d[k]))``, ``theta = 2 pi d[k + 8]``, ``d[k] = r cos(theta)``,
    ``d[k + 8] = r sin(theta)``, in the operation order and roundings of torch's AVX2 normal fill
    (Cephes polynomials, fused multiply-adds where its build fuses them). Branch-free, so LLVM
    runs the eight lanes as one vector."""
    one = _F(1.0)
    zero = _F(0.0)
    half = _F(0.5)
    for k in range(8):
        # ln(1 - u): exponent e and mantissa x in [sqrt(1/2), sqrt(2)) - 1, then the polynomial
        x = one - d[k]
        bits = _bits(x)
        e = _F(np.int32((bits >> 23) - 127)) + one
        x = _float((bits & np.int32(-2139095041)) | np.int32(0x3F000000))  # mantissa, exponent of 0.5
        small = x < _SQRT_HALF
        e = e - (one if small else zero)
        x = (x if small else zero) + (x - one)
        z = x * x
        y = _fma32(_LP0, x, _LP1)
        y = _fma32(y, x, _LP2)
        y = _fma32(y, x, _LP3)
        y = _fma32(y, x, _LP4)
        y = _fma32(y, x, _LP5)
        y = _fma32(y, x, _LP6)
        y = _fma32(y, x, _LP7)
        y = _fma32(y, x, _LP8)
        y = y * x
        y = _fma32(y, z, e * _LOG_Q1)
        y = _fma32(-z, half, y)
        r = np.sqrt(_F(-2.0) * _fma32(e, _LOG_Q2, x + y))
        # sin and cos of theta in [0, 2 pi): octant j, reduction by pi/4 in three parts
        th = d[k + 8] * _TWO_PI
        j = (np.int32(th * _FOUR_OVER_PI) + np.int32(1)) & np.int32(-2)
        jf = _F(j)
        x = _fma32(jf, _DP1, th)
        x = _fma32(jf, _DP2, x)
        x = _fma32(jf, _DP3, x)
        z = x * x
        yc = _fma32(_COS_P0, z, _COS_P1)
        yc = _fma32(yc, z, _COS_P2)
        yc = yc * z
        yc = _fma32(yc, z, -(z * half)) + one
        ys = _fma32(_SIN_P0, z, _SIN_P1)
        ys = _fma32(ys, z, _SIN_P2)
        ys = ys * z
        ys = _fma32(ys, x, x)
        first = (j & 2) == 0
        sv = ys if first else yc
        cv = yc if first else ys
        d[k] = r * _float(_bits(cv) ^ (((~(j - 2)) & 4) << 29))
        d[k + 8] = r * _float(_bits(sv) ^ ((j & 4) << 29))


@_njit
def _normals_in_place(d):
    """Replace each block of 16 uniforms in ``d`` (length a multiple of 16) by its 16 normals."""
    for i in range(d.shape[0] // 16):
        box_muller16(d[i * 16:i * 16 + 16])


@_njit
def mt_fill_normal(mt, i, out):
    """``out[:] = torch.randn(out.shape)`` (float32, ``len(out) >= 16``) as torch's AVX2 CPU kernel
    draws it (see the module docstring); returns the new position."""
    n = out.shape[0]
    i = mt_fill_uniform(mt, i, out)
    _normals_in_place(out[:n - n % 16])
    if n % 16:
        tail = np.empty(16, np.float32)
        i = mt_fill_uniform(mt, i, tail)
        _normals_in_place(tail)
        out[n - 16:] = tail
    return i


class TorchStream:
    """The MT19937 state of a CPU ``torch.Generator``: ``load`` it, draw, ``store`` it back.

    ``state`` is the (624,) uint32 word array and ``pos`` the index of the next word (624: twist
    first), which is what the numba kernels above take and return.
    """

    def __init__(self):
        self._raw = None
        self.state = np.zeros(N, np.uint32)
        self.pos = N

    def load(self, gen: torch.Generator) -> "TorchStream":
        raw = gen.get_state().numpy()  # a new tensor per call
        head = raw[:_HEAD_BYTES].view(_HEAD)[0]
        self.state[:] = raw[_HEAD_BYTES:_HEAD_BYTES + 8 * N].view("<u8")
        self.pos = N + 1 - int(head["left"])  # torch twists when ``--left`` reaches 0
        self._raw = raw
        return self

    def store(self, gen: torch.Generator) -> None:
        raw = self._raw
        head = raw[:_HEAD_BYTES].view(_HEAD)
        head["left"] = N + 1 - self.pos
        head["next"] = self.pos
        raw[_HEAD_BYTES:_HEAD_BYTES + 8 * N].view("<u8")[:] = self.state
        gen.set_state(torch.from_numpy(raw))


@functools.lru_cache(maxsize=None)
def stream_matches_torch() -> bool:
    """Whether this torch's CPU ``rand`` and ``randperm`` draw as :class:`TorchStream` assumes
    (checked on a few thousand draws across two state transitions, once per process)."""
    if not HAVE_NUMBA:
        return False
    try:
        gen = torch.Generator().manual_seed(20210619)
        torch.randn(1000, generator=gen)  # an arbitrary position
        ours = TorchStream().load(gen)
        ref = torch.rand(1500, generator=gen).numpy()
        out = np.empty(1500, np.float32)
        ours.pos = mt_fill_uniform(ours.state, ours.pos, out)
        if not np.array_equal(out, ref):
            return False
        for n in (1, 2, 700):
            torch.randperm(n, generator=gen)
        ours.pos = mt_skip_randperms(ours.state, ours.pos, np.array([1, 2, 700], np.int64))
        ours.store(gen)
        after = torch.rand(1000, generator=gen).numpy()
        ours.pos = mt_fill_uniform(ours.state, ours.pos, out[:1000])
        return bool(np.array_equal(out[:1000], after))
    except Exception:  # pragma: no cover - a torch whose state layout differs
        return False


@functools.lru_cache(maxsize=None)
def normals_match_torch() -> bool:
    """Whether this torch's CPU ``randn`` (float32) equals :func:`mt_fill_normal`, and leaves the
    stream where it leaves it (checked at sizes with and without a 16-value tail, once per process)."""
    if not stream_matches_torch():
        return False
    try:
        gen = torch.Generator().manual_seed(20240229)
        for n in (4099, 4096, 16, 17):
            ours = TorchStream().load(gen)
            ref = torch.randn(n, generator=gen).numpy()
            out = np.empty(n, np.float32)
            ours.pos = mt_fill_normal(ours.state, ours.pos, out)
            nxt = torch.rand(8, generator=gen).numpy()
            u = np.empty(8, np.float32)
            mt_fill_uniform(ours.state, ours.pos, u)
            if not (np.array_equal(out, ref) and np.array_equal(u, nxt)):
                return False
        return True
    except Exception:  # pragma: no cover - a torch whose state layout differs
        return False


@_njit
def nb_shot_v2e_stream(fr, f_lut, pre_pos, pre_neg, q_on, q_off, mt, i, on_out, off_out):
    """v2e's shot-noise test (:func:`~nvlib.simulate.expand.shot_test`, ``f = f_lut[fr]``) with its
    uniforms drawn from the stream, one per pixel in order (``torch.rand(H, W)``: ``u = k * 2**-24``
    with ``k`` the low 24 bits of a draw). ``q_on``/``q_off`` bound ``f*pre_pos`` and ``f*pre_neg``
    from above (products of the maxima: rounding is monotonic), so a ``u`` in ``[q_off, 1 - q_on]``,
    that is ``k_lo <= k <= k_hi`` in integers, is neither and needs no pixel data. Each block of
    words between twists is tempered and counted against those bounds in one vectorised loop, and
    scanned only when it holds a candidate. Fills the ascending pixel lists; returns their lengths
    and the position."""
    a = 0
    b = 0
    k_hi = np.int32(max(math.floor((1.0 - q_on) * 16777216.0), -1.0))  # u > 1 - q_on  <=>  k > k_hi
    k_lo = np.int32(min(math.ceil(q_off * 16777216.0), 33554432.0))  # u < q_off  <=>  k < k_lo
    n = fr.shape[0]
    kb = np.empty(N, np.int32)
    code = np.empty(N, np.uint8)
    k = 0
    while k < n:
        if i >= N:
            mt_twist(mt)
            i = 0
        m = min(n - k, N - i)
        w = mt[i:i + m]
        hit = 0
        for j in range(m):
            v = np.int32(mt_temper(w[j]) & np.uint32(0xFFFFFF))
            kb[j] = v
            hit += np.int32((v > k_hi) | (v < k_lo))
        if 8 * hit > m:  # many candidates: v2e's test on every pixel of the block, branch-free
            for j in range(m):
                px = k + j
                uu = np.float64(kb[j]) * (1.0 / 16777216.0)  # the float32 uniform, exactly
                f = f_lut[fr[px]]
                code[j] = (np.uint8(uu > 1.0 - f * np.float64(pre_pos[px]))
                           | (np.uint8(uu < f * np.float64(pre_neg[px])) << np.uint8(1)))
            for j in range(m):
                c = code[j]
                on_out[a] = k + j
                off_out[b] = k + j
                a += c & np.uint8(1)
                b += c >> np.uint8(1)
        elif hit > 0:
            for j in range(m):
                v = kb[j]
                if v <= k_hi and v >= k_lo:
                    continue
                px = k + j
                uu = np.float64(v) * (1.0 / 16777216.0)  # the float32 uniform, exactly
                a, b = shot_test(uu, f_lut[fr[px]], pre_pos, pre_neg, px, on_out, off_out, a, b)
        i += m
        k += m
    return a, b, i
