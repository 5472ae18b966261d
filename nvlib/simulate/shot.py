"""Shot noise drawn sparsely, in O(noise events), with v2e's per-pixel probabilities.

v2e (Hu, Liu, Delbruck, CVPRW 2021; SensorsINI/v2e ``emulator_utils.generate_shot_noise``) draws one
uniform ``u`` per pixel and frame: the pixel emits an ON event if ``u > 1 - f*pre_pos`` and an OFF
event if ``u < f*pre_neg``, with ``f = rate/2*dt*(1 - 0.75*(I + 20)/275)`` from its gray level ``I``
and ``pre_* = nominal threshold / pixel threshold``. So P(ON) = min(1, a), P(OFF) = min(1, b) with
``a = f*pre_pos``, ``b = f*pre_neg``, both at once only when ``a + b > 1``.

:class:`SparseShot` draws the same law without visiting every pixel when few draw. Pixels are grouped
once by ``s = pre_pos + pre_neg`` into buckets whose largest and smallest ``s`` differ by at most
:data:`BUCKET_RATIO` (ascending pixel order inside a bucket). Per frame, with ``f_max`` the largest
``f`` of the frame's table, a bucket's pixels are candidates with probability ``q = f_max*max(s)``:

* ``q < DENSE_Q`` (a sparse bucket): candidates are a Bernoulli(q) process, walked with geometric gaps
  (one logarithm per candidate); a candidate draws ``v`` uniform in ``[0, q)``: ON if ``v < a``, OFF if
  ``a <= v < a + b`` (``a + b <= q``: each pixel ON with probability ``a``, OFF with ``b``);
* ``q >= DENSE_Q`` (a dense bucket): every pixel draws ``u`` in ``[0, 1)`` and v2e's own test runs (ON
  and OFF may both fire when ``a + b > 1``). When dense buckets hold at least a quarter of the pixels,
  this runs as one pass in pixel order over all pixels (sparse-bucket pixels masked out), in float32,
  which vectorises; else bucket by bucket.

The work is O(candidates + buckets), at most O(noise events * ``BUCKET_RATIO * f_max / f_min /
DENSE_Q``), and never more than a few passes over the pixels. Uniforms: SplitMix64 (Steele, Lea, Flood,
"Fast splittable pseudorandom number generators", OOPSLA 2014) seeded from the emulator's seed for the
bucket walks and per-frame keys, and, in the pass in pixel order, a 32-bit integer hash of the pixel
index and the frame's key (24-bit uniforms). Another realisation than v2e's, the same probabilities
(up to float32 rounding of ``f*pre``, relative 6e-8).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from nvlib.simulate.expand import HAVE_NUMBA, _njit

#: Largest ratio of ``pre_pos + pre_neg`` within one bucket.
BUCKET_RATIO = 1.2
#: Candidate probability from which a bucket draws one uniform per pixel instead of geometric gaps.
DENSE_Q = 0.05

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@_njit
def natural_pass(n_dense: int, n_pix: int) -> bool:
    """Whether a frame draws for every pixel in pixel order (at least a quarter of the pixels draw)."""
    return 4 * n_dense >= n_pix


@_njit
def _splitmix_unit(x):
    """SplitMix64 step: ``(new state, uniform in [0, 1))`` (53 bits)."""
    x = x + _GOLDEN
    z = x
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return x, np.float64(z >> _S11) * _TO_UNIT


@_njit
def _natural_codes(fv, pre_pos, pre_neg, bucket, k_sparse, key, lo, hi, code):
    """v2e's test for pixels ``lo <= i < hi`` in pixel order, in float32: ``code[i - lo]`` bit 0 ON, bit 1
    OFF, 0 for pixels of sparse buckets (``bucket[i] >= k_sparse``). ``fv[i]`` is the pixel's ``f``. The
    uniform of pixel ``i`` (24 bits) is the 32-bit integer hash "lowbias32" (C. Wellons, 2018: two
    multiply-xorshift rounds) of ``i*0x9E3779B9 + key``, ``key`` drawn per frame: no state carried from
    pixel to pixel, so the loop vectorises."""
    one = np.float32(1.0)
    fv = fv[lo:hi]  # zero-based views: the loop vectorises
    pre_pos = pre_pos[lo:hi]
    pre_neg = pre_neg[lo:hi]
    bucket = bucket[lo:hi]
    key = np.uint32(key + np.uint32(lo) * np.uint32(0x9E3779B9))
    for i in range(hi - lo):
        z = np.uint32(np.uint32(i) * np.uint32(0x9E3779B9) + key)  # numba widens: keep 32 bits
        z = np.uint32(z ^ (z >> np.uint32(16)))
        z = np.uint32(z * np.uint32(0x7FEB352D))
        z = np.uint32(z ^ (z >> np.uint32(15)))
        z = np.uint32(z * np.uint32(0x846CA68B))
        z = np.uint32(z ^ (z >> np.uint32(16)))
        v = np.float32(np.int32(z >> np.uint32(8))) * np.float32(1.0 / 16777216.0)
        a = fv[i] * pre_pos[i]
        b = fv[i] * pre_neg[i]
        code[i] = np.uint8(bucket[i] < k_sparse) * (np.uint8(v > one - a) | (np.uint8(v < b) << np.uint8(1)))


@_njit
def nb_shot_sparse(fr, fv, f_lut, f_max, pre_pos, pre_neg, bucket, order, ppo, pno, bstart, bmax, state,
                   dense_q, on_out, off_out):
    """The draw of :class:`SparseShot` (see the module docstring): fills ``on_out``/``off_out`` with
    pixel indices, returns their lengths; ``state`` (1,) uint64 is advanced in place. ``fv`` (H*W,)
    float32 holds ``f_lut[fr]`` when most pixels draw (the pass in pixel order), else is not read."""
    x = state[0]
    n_on = 0
    n_off = 0
    n_pix = fr.shape[0]
    nb = bstart.shape[0] - 1
    s_dense = dense_q / f_max if f_max > 0 else np.inf
    k_sparse = 0  # buckets are ordered by decreasing s: the dense ones come first
    while k_sparse < nb and bmax[k_sparse] >= s_dense:
        k_sparse += 1
    n_dense = bstart[k_sparse]
    if natural_pass(n_dense, n_pix):  # most pixels draw: one pass in pixel order
        x, z = _splitmix_unit(x)
        key = np.uint32(np.int64(z * 4294967296.0))
        code = np.empty(4096, np.uint8)
        for lo in range(0, n_pix, 4096):
            hi = min(n_pix, lo + 4096)
            _natural_codes(fv, pre_pos, pre_neg, bucket, k_sparse, key, lo, hi, code)
            for j in range(hi - lo):  # branch-free compaction
                c = code[j]
                on_out[n_on] = lo + j
                off_out[n_off] = lo + j
                n_on += c & np.uint8(1)
                n_off += c >> np.uint8(1)
    else:  # the few dense buckets in bucket order
        for j in range(n_dense):
            x, v = _splitmix_unit(x)
            px = order[j]
            f = f_lut[fr[px]]
            if v > 1.0 - f * np.float64(ppo[j]):
                on_out[n_on] = px
                n_on += 1
            if v < f * np.float64(pno[j]):
                off_out[n_off] = px
                n_off += 1
    for k in range(k_sparse, nb):  # sparse buckets: geometric gaps between candidates
        lo = bstart[k]
        hi = bstart[k + 1]
        q = f_max * bmax[k]
        if q <= 0.0:
            continue
        lq = math.log1p(-q)
        j = lo - 1
        while True:
            x, u = _splitmix_unit(x)
            j += 1 + np.int64(math.log(1.0 - u) / lq)  # 1 - u in (0, 1]
            if j >= hi:
                break
            x, v = _splitmix_unit(x)
            v = v * q
            px = order[j]
            f = f_lut[fr[px]]
            a = f * np.float64(ppo[j])
            if v < a:
                on_out[n_on] = px
                n_on += 1
            elif v < a + f * np.float64(pno[j]):
                off_out[n_off] = px
                n_off += 1
    state[0] = x
    return n_on, n_off


def _shot_sparse_numpy(fr, f_lut, f_max, pre_pos, pre_neg, order, bstart, bmax, rng, dense_q):
    """The same law drawn with numpy (without numba; another realisation): ``(on, off)`` pixel arrays."""
    on, off = [], []
    for k in range(bstart.shape[0] - 1):
        lo, hi = int(bstart[k]), int(bstart[k + 1])
        q = f_max * float(bmax[k])
        if q <= 0:
            continue
        if q >= dense_q:
            idx = order[lo:hi]
            v = rng.random(hi - lo)
        else:
            n = hi - lo
            m = int(n * q + 6 * math.sqrt(n * q) + 16)
            gaps = rng.geometric(q, size=m)
            pos = np.cumsum(gaps) - 1
            while pos[-1] < n:
                pos = np.concatenate([pos, pos[-1] + np.cumsum(rng.geometric(q, size=m))])
            idx = order[lo + pos[pos < n]]
            v = rng.random(idx.shape[0]) * q
        f = f_lut[fr[idx]]
        a = f * pre_pos[idx].astype(np.float64)
        b = f * pre_neg[idx].astype(np.float64)
        if q >= 1:
            on.append(idx[v > 1.0 - a])
            off.append(idx[v < b])
        else:
            is_on = v < a
            on.append(idx[is_on])
            off.append(idx[~is_on & (v < a + b)])
    cat = (lambda xs: np.concatenate(xs) if xs else np.zeros(0, np.int64))  # noqa: E731
    return cat(on).astype(np.int64), cat(off).astype(np.int64)


class SparseShot:
    """Per-pixel shot-noise draws in O(noise events) for fixed thresholds (see the module docstring).

    Args:
        pre_pos, pre_neg: v2e's ``nominal/threshold`` factors: floats (no mismatch) or (H*W,) arrays.
        n_pix: number of pixels.
        seed: 64-bit seed of the SplitMix64 stream (without numba: of numpy's PCG64).
    """

    def __init__(self, pre_pos, pre_neg, n_pix: int, seed: int):
        self.n_pix = int(n_pix)
        pp = np.broadcast_to(np.asarray(pre_pos, np.float32).reshape(-1), (n_pix,))
        pn = np.broadcast_to(np.asarray(pre_neg, np.float32).reshape(-1), (n_pix,))
        self.pre_pos = np.ascontiguousarray(pp)
        self.pre_neg = np.ascontiguousarray(pn)
        s = self.pre_pos.astype(np.float64) + self.pre_neg
        lo, hi = float(s.min()), float(s.max())
        if lo == hi:
            self.order = np.arange(n_pix, dtype=np.int32)
            self.bstart = np.array([0, n_pix], np.int64)
            self.bmax = np.array([lo], np.float64)
            self._bucket = np.zeros(n_pix, np.int16)
        else:  # buckets numbered from the largest s (<= log(40/0.5)/log(1.2) + 1 = 25 of them at most)
            top = int(math.floor(math.log(hi / lo) / math.log(BUCKET_RATIO)))
            rank = (top - np.floor(np.log(s / lo) * (1 / math.log(BUCKET_RATIO)))).astype(np.int16)
            self._bucket = rank  # per pixel
            self.order = np.argsort(rank, kind="stable").astype(np.int32)  # bucket, then pixel (radix sort)
            sizes = np.bincount(rank, minlength=top + 1)
            keep = sizes > 0  # renumber the non-empty buckets 0, 1, ...
            self._bucket = (np.cumsum(keep) - 1).astype(np.int16)[rank]
            self.bstart = np.concatenate([[0], np.cumsum(sizes[keep])]).astype(np.int64)
            self.bmax = np.full(int(keep.sum()), -np.inf)
            np.maximum.at(self.bmax, self._bucket, s)
        self._fv = np.empty(n_pix, np.float32)
        self._ppo = self.pre_pos[self.order]  # bucket order: read sequentially
        self._pno = self.pre_neg[self.order]
        self.state = np.array([seed & 0xFFFFFFFFFFFFFFFF], np.uint64)
        self._rng = np.random.Generator(np.random.PCG64(seed))
        self._on = np.empty(n_pix, np.int64)
        self._off = np.empty(n_pix, np.int64)

    def draw(self, fr_flat: np.ndarray, f_lut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(on_pixels, off_pixels)`` of one frame: ``fr_flat`` (H*W,) uint8 gray levels, ``f_lut`` (256,)
        float64 ``f`` per gray level. Ascending pixel order within each bucket."""
        f_lut = np.ascontiguousarray(f_lut, np.float64)
        f_max = float(f_lut.max())
        if HAVE_NUMBA:
            s_dense = DENSE_Q / f_max if f_max > 0 else math.inf
            n_dense = int(self.bstart[np.searchsorted(-self.bmax, -s_dense, side="right")])
            if natural_pass(n_dense, self.n_pix):  # f per pixel, float32 (an OpenCV table look-up)
                cv2.LUT(fr_flat.reshape(1, -1), f_lut.astype(np.float32), dst=self._fv.reshape(1, -1))
            a, b = nb_shot_sparse(fr_flat, self._fv, f_lut, f_max, self.pre_pos, self.pre_neg, self._bucket,
                                  self.order, self._ppo, self._pno, self.bstart, self.bmax, self.state, DENSE_Q,
                                  self._on, self._off)
            return self._on[:a], self._off[:b]
        return _shot_sparse_numpy(fr_flat, f_lut, f_max, self.pre_pos, self.pre_neg, self.order, self.bstart,
                                  self.bmax, self._rng, DENSE_Q)
