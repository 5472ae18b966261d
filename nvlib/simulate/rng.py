"""torch's CPU random stream, continued in compiled code: uniforms and ``randperm`` draws.

v2e (SensorsINI/v2e ``emulator.py``) draws its noise from torch's CPU generator: per frame one
normal per pixel (leak jitter), one ``randperm`` per sub-step (its event shuffle), one uniform per
pixel (shot noise). Event-identical noise needs that stream in that order. torch's generator is
MT19937 (Matsumoto & Nishimura, ACM TOMACS 1998; ATen ``MT19937RNGEngine.h``), and on the CPU

* ``torch.rand`` (float32) maps each 32-bit draw ``y`` to ``(y & 0xFFFFFF) * 2**-24``, serially;
* ``torch.randperm(n)`` (n < 2**32/20) makes ``n - 1`` draws.

:class:`TorchStream` takes the state of a ``torch.Generator`` (``get_state``), makes those draws
with numba kernels (several times faster than torch's per-element CPU loop), and writes the state
back (``set_state``) so that torch can go on drawing (its normals are left to torch, whose
vectorised transform is not reproduced here). :func:`stream_matches_torch` checks, once per
process, that this torch draws as described; callers fall back to torch otherwise.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from .expand import HAVE_NUMBA, _njit, shot_test

N = 624
M = 397
_HEAD = np.dtype([("seed", "<u8"), ("left", "<i4"), ("seeded", "<i4"), ("next", "<u8")])
_HEAD_BYTES = _HEAD.itemsize  # 24: then N uint64 words of state
#: ``randperm(n)`` makes ``n - 1`` 32-bit draws below this size (ATen ``randperm_cpu``).
RANDPERM_SMALL = (2**32 - 1) // 20


@_njit
def mt_twist(mt):
    """The MT19937 state transition, in place on the 624 words."""
    upper = np.uint32(0x80000000)
    lower = np.uint32(0x7FFFFFFF)
    mag = np.uint32(0x9908B0DF)
    one = np.uint32(1)
    for i in range(N - M):
        y = (mt[i] & upper) | (mt[i + 1] & lower)
        mt[i] = mt[i + M] ^ (y >> one) ^ (mag if y & one else np.uint32(0))
    for i in range(N - M, N - 1):
        y = (mt[i] & upper) | (mt[i + 1] & lower)
        mt[i] = mt[i + M - N] ^ (y >> one) ^ (mag if y & one else np.uint32(0))
    y = (mt[N - 1] & upper) | (mt[0] & lower)
    mt[N - 1] = mt[M - 1] ^ (y >> one) ^ (mag if y & one else np.uint32(0))


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
        for j in range(m):
            out[k + j] = np.float32(np.float64(mt_temper(mt[i + j]) & np.uint32(0xFFFFFF)) * (1.0 / 16777216.0))
        i += m
        k += m
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
        raw = gen.get_state().numpy().copy()
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


@_njit
def nb_shot_v2e_stream(fr, f_lut, pre_pos, pre_neg, q_on, q_off, mt, i, on_out, off_out):
    """v2e's shot-noise test (:func:`~nvlib.simulate.expand.shot_test`, ``f = f_lut[fr]``) with its
    uniforms drawn from the stream, one per pixel in order (``torch.rand(H, W)``). ``q_on``/``q_off``
    bound ``f*pre_pos`` and ``f*pre_neg`` from above (products of the maxima: rounding is monotonic), so a ``u`` in
    ``[q_off, 1 - q_on]`` is neither and needs no pixel data. The uniforms of each block of words
    between twists are made first (a vectorisable loop), then scanned. Fills the ascending pixel
    lists; returns their lengths and the position."""
    a = 0
    b = 0
    lo = 1.0 - q_on
    n = fr.shape[0]
    u = np.empty(N, np.float64)
    k = 0
    while k < n:
        if i >= N:
            mt_twist(mt)
            i = 0
        m = min(n - k, N - i)
        for j in range(m):
            u[j] = np.float64(mt_temper(mt[i + j]) & np.uint32(0xFFFFFF)) * (1.0 / 16777216.0)
        for j in range(m):
            uj = u[j]
            if uj <= lo and uj >= q_off:
                continue
            px = k + j
            a, b = shot_test(uj, f_lut[fr[px]], pre_pos, pre_neg, px, on_out, off_out, a, b)
        i += m
        k += m
    return a, b, i
