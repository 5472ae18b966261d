"""v2e's DVS pixel model in torch, event for event, on CPU or CUDA.

Follows v2e (Hu, Liu, Delbruck, "v2e: From Video Frames to Realistic DVS Events", CVPRW
2021; SensorsINI/v2e ``v2ecore/emulator.py`` and ``emulator_utils.py``, MIT), per gray
frame ``I`` in [0, 255] at time ``t`` (``dt`` since the previous frame):

1. lin-log ``L = I*ln(20)/20`` for ``I <= 20`` else ``ln(I)``, in float64, rounded to 1e-8,
   cast to float32 (a 256-entry table here, computed with the same torch ops);
2. photoreceptor low-pass when ``cutoff_hz > 0``: ``tau = 1/(2*pi*cutoff_hz)``,
   ``eps = min(1, (I + 20)/275 * dt/tau)``, ``lp = (1 - eps)*lp + eps*L`` (float64, as v2e's
   dtype promotion makes it); else ``lp = L``;
3. the first frame sets ``lp = L``, the memorised ``base = lp``, draws thresholds, emits nothing;
4. thresholds ``clamp(normal(thres, sigma, (H, W)), min=0.01)``, ON then OFF, float32, from a
   CPU generator seeded with ``seed`` (so results do not depend on the device); if leak > 0
   a log-normal per-pixel leak-rate factor ``exp(ln(10)*cov*randn)``;
5. leak: ``base -= dt*leak_rate*factor*(1 - jitter*randn)*pos``;
6. ``diff = lp - base``; ``n_on = floor(relu(diff)/pos)``, ``n_off = floor(relu(-diff)/neg)``;
7. a pixel's k-th event at ``ts[k-1]``, ``ts = linspace(t_prev + dt/N, t, N)`` in float32,
   ``N`` the largest count in the frame (or per-pixel crossing times, ``timestamp_mode="esim"``);
8. refractory period ``R``, only when ``R > dt/N``: an event within ``R`` of the pixel's last
   emitted event is dropped and does not move the base;
9. ``base += emitted_on*pos - emitted_off*neg``;
10. shot noise: per pixel and frame ``f = rate/2*dt*(1 - 0.75*(I + 20)/275)``, one uniform ``u``:
    ON if ``u > 1 - f*thres/pos``, OFF if ``u < f*thres/neg``, stamped at ``t``; base reset to ``lp``.

Unlike v2e, which scans the whole frame at every one of the N sub-steps, only firing pixels
are expanded into events (:mod:`nvlib.simulate.expand`), so a frame costs O(H*W + events).
v2e also draws ``torch.randperm`` at every sub-step to shuffle events; with noise on, those
draws are replayed (``replay_v2e_shuffle``) so that the random stream, and the noise events,
stay those of v2e on the CPU. With numba, all per-frame draws (the leak normals, the replayed
draws, the shot-noise uniforms) continue torch's generator in compiled code
(:mod:`nvlib.simulate.rng`, each kind checked against torch once per process, with torch itself
as the fallback); the generator's state then stays in that code between frames. v2e's sub-step
times (``torch.linspace``) are computed there too. Events come out sorted by time.
"""
from __future__ import annotations

import math
from typing import Iterable

import cv2
import numpy as np
import torch

from nvlib.events import EVENT_DTYPE, Events, concatenate, empty_events
from nvlib.simulate.esim import esim_select
from nvlib.simulate import expand as _ex
from nvlib.simulate import rng as _rng
from nvlib.simulate.expand import expand_counts, refractory_select
from nvlib.simulate.params import DVSParams
from nvlib.simulate.shot import SparseShot

_LIN_LOG_THRESHOLD = 20
SHOT_NOISE_INTEN_FACTOR = 0.25


def lin_log_table() -> torch.Tensor:
    """v2e's lin-log map of the 256 gray levels, float32 (256,) (ln units)."""
    x = torch.arange(256, dtype=torch.float64)
    f = (1.0 / _LIN_LOG_THRESHOLD) * math.log(_LIN_LOG_THRESHOLD)
    y = torch.where(x <= _LIN_LOG_THRESHOLD, x * f, torch.log(x))
    return (torch.round(y * 1e8) / 1e8).float()


def intensity01_table() -> torch.Tensor:
    """v2e's ``(I + 20)/275`` for the 256 gray levels, float64 (256,)."""
    return (torch.arange(256, dtype=torch.float64) + 20) / 275.0


def _as_frame(frame, size_hw: tuple[int, int] | None, name: str):
    if isinstance(frame, torch.Tensor):
        arr = frame
        dtype_ok = arr.dtype == torch.uint8
    else:
        arr = np.asarray(frame)
        dtype_ok = arr.dtype == np.uint8
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a gray frame shaped (H, W), got shape {tuple(arr.shape)}")
    if not dtype_ok:
        raise ValueError(f"{name}: expected uint8 gray levels, got dtype {arr.dtype}")
    if size_hw is not None and tuple(arr.shape) != tuple(size_hw):
        raise ValueError(f"{name}: frame size changed: expected (H, W) = {tuple(size_hw)}, got {tuple(arr.shape)}")
    return arr


class DVSEmulator:
    """Streaming DVS emulator: feed gray frames with their times, get events per frame.

    Args:
        params: :class:`DVSParams`.
        sensor_size: ``(W, H)``; None takes it from the first frame.
        device: where the dense per-pixel state lives: ``"cpu"`` (numpy + OpenCV look-up
            tables) or a torch device such as ``"cuda"``; event expansion runs on the host.
            ``bench/simulate.py --device cuda`` times a device against the CPU (``bench/RESULTS.md``).
        replay_v2e_shuffle: draw v2e's per-sub-step ``randperm`` calls from the generator when
            noise is on, so noise events equal v2e's on the CPU (costs O(events)).
        kernels: ``"auto"`` (compiled numba kernels when numba is installed, for the CPU and
            ``timestamp_mode="v2e"``), ``"numba"`` (require them) or ``"numpy"``; all give the
            same events. The first use compiles them (cached on disk afterwards).
        dense: where the per-pixel state lives: ``"auto"`` (numpy on the CPU, torch tensors on
            other devices), ``"numpy"`` (CPU only) or ``"torch"`` (torch tensors on ``device``,
            also on the CPU: the code path CUDA runs, testable without a GPU).
    Memory is O(H*W) whatever the clip length. ``step`` on the first frame emits nothing.
    """

    def __init__(self, params: DVSParams = DVSParams(), sensor_size=None, device="cpu",
                 replay_v2e_shuffle: bool = True, kernels: str = "auto", dense: str = "auto"):
        if not isinstance(params, DVSParams):
            raise TypeError(f"params must be a DVSParams, got {type(params).__name__}")
        self.params = params
        self.sensor_size = None if sensor_size is None else (int(sensor_size[0]), int(sensor_size[1]))
        self.device = torch.device(device)
        if dense not in ("auto", "numpy", "torch"):
            raise ValueError(f"dense must be 'auto', 'numpy' or 'torch', got {dense!r}")
        if dense == "numpy" and self.device.type != "cpu":
            raise ValueError(f"dense='numpy' runs on the CPU only, not on {self.device}")
        self._cpu = dense == "numpy" or (dense == "auto" and self.device.type == "cpu")
        self.replay_v2e_shuffle = replay_v2e_shuffle
        if kernels not in ("auto", "numba", "numpy"):
            raise ValueError(f"kernels must be 'auto', 'numba' or 'numpy', got {kernels!r}")
        if kernels == "numba" and not _ex.HAVE_NUMBA:
            raise ImportError("kernels='numba' needs the numba package")
        self.kernels = kernels
        self._nb = (kernels != "numpy" and _ex.HAVE_NUMBA and self._cpu and params.timestamp_mode == "v2e")
        self._lut_l32 = lin_log_table()
        self._lut_inten = intensity01_table()
        self._lut_l32_dense = self._dense(self._lut_l32)
        self._nb_inten = self._lut_inten.numpy()
        self._nb_shot_inten = ((SHOT_NOISE_INTEN_FACTOR - 1) * self._lut_inten + 1).numpy()
        self._tau = 1.0 / (math.pi * 2 * params.cutoff_hz) if params.cutoff_hz > 0 else None
        self.reset()

    def reset(self) -> None:
        """Forget the state: the next frame initialises the pixels again (same seed)."""
        self._gen = torch.Generator().manual_seed(self.params.torch_seed)
        self._stream_live = False  # True while self._stream holds the generator's state (see _live_stream)
        self._rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.params.seed, 0xD5])))
        self._t_prev = 0.0
        self._lp = self._base = None
        self._pos = self._neg = None
        self._pre_pos = self._pre_neg = None
        self._noise_rate = None
        self._leak_pool = None
        self._shot = None  # SparseShot, made at the first fast shot-noise draw
        self._mem = None  # host float32 (H*W,): v2e's refractory memory
        self._mem_esim = None  # host float64 (H*W,)
        self.frames_seen = 0
        self.num_on = 0
        self.num_off = 0

    # ---------------------------------------------------------------- dense helpers
    def _dense(self, t: torch.Tensor):
        """A CPU tensor as the dense-state type: numpy on the CPU, a torch tensor on a device."""
        return t.numpy() if self._cpu else t.to(self.device)

    def _lookup(self, table: torch.Tensor, frame):
        """``table[frame]`` for a 256-entry table (OpenCV LUT on the CPU, a gather on a device)."""
        if self._cpu:
            return cv2.LUT(frame, table.numpy() if isinstance(table, torch.Tensor) else table)
        return (table.to(self.device) if table.device != self.device else table)[frame]

    def _flatnonzero(self, mask) -> np.ndarray:
        if self._cpu:
            return np.flatnonzero(mask)
        return torch.nonzero(mask.reshape(-1)).view(-1).cpu().numpy()

    def _gather(self, dense, flat: np.ndarray) -> np.ndarray:
        """``dense.ravel()[flat]`` as a host numpy array."""
        if self._cpu:
            return dense.reshape(-1)[flat]
        return dense.reshape(-1)[torch.from_numpy(flat).to(self.device)].cpu().numpy()

    def _scatter(self, dense, flat: np.ndarray, values: np.ndarray) -> None:
        if self._cpu:
            dense.reshape(-1)[flat] = values
        else:
            dense.view(-1)[torch.from_numpy(flat).to(self.device)] = torch.from_numpy(values).to(self.device)

    def _randn(self, shape):
        self._sync_gen()
        return self._dense(torch.randn(shape, generator=self._gen, dtype=torch.float32))

    def _live_stream(self) -> "_rng.TorchStream":
        """The generator's state in :attr:`_stream`, read from torch once and then kept there while
        only compiled code draws (no torch call per frame for these draws)."""
        if not self._stream_live:
            self._stream.load(self._gen)
            self._stream_live = True
        return self._stream

    def _sync_gen(self) -> None:
        """Write a live stream's state back to the torch generator before torch draws from it."""
        if self._stream_live:
            self._stream.store(self._gen)
            self._stream_live = False

    def _init_pixels(self, shape) -> None:
        p = self.params
        if p.sigma_thres > 0:
            pos = torch.normal(p.pos_thres, p.sigma_thres, size=shape, generator=self._gen, dtype=torch.float32)
            pos = torch.clamp(pos, min=0.01)
            neg = torch.normal(p.neg_thres, p.sigma_thres, size=shape, generator=self._gen, dtype=torch.float32)
            neg = torch.clamp(neg, min=0.01)
            self._pos, self._neg = self._dense(pos), self._dense(neg)
            self._pre_pos = self._dense(torch.div(p.pos_thres, pos))
            self._pre_neg = self._dense(torch.div(p.neg_thres, neg))
        else:  # v2e keeps scalar thresholds (python floats) when there is no mismatch
            self._pos, self._neg = float(p.pos_thres), float(p.neg_thres)
            self._pre_pos = self._pre_neg = 1.0
        if p.leak_rate_hz > 0:
            r = torch.randn(shape, generator=self._gen, dtype=torch.float32)
            self._noise_rate = self._dense(torch.exp(math.log(10) * p.noise_rate_cov_decades * r))
        if isinstance(self._pos, float):
            self._pos_cmp, self._negneg_cmp = self._pos, -self._neg
            self._pre_max = (1.0, 1.0)
        else:  # thresholds in the dtype of diff (float64 with the low-pass): same values, no mixed ops
            wide = (lambda a: a.astype(np.float64)) if self._cpu else (lambda a: a.double())
            keep = (lambda a: a) if p.cutoff_hz <= 0 else wide
            self._pos_cmp, self._negneg_cmp = keep(self._pos), -keep(self._neg)
            self._pre_max = (float(self._pre_pos.max()), float(self._pre_neg.max()))
        n = shape[0] * shape[1]
        if p.refractory_period_s > 0:
            self._mem = (torch.zeros(n, dtype=torch.float32) - p.refractory_period_s).numpy()
        if p.timestamp_mode == "esim":
            self._mem_esim = np.full(n, -np.inf, dtype=np.float64)
        if self._nb:
            self._init_nb(n)

    def _init_nb(self, n: int) -> None:
        """Flat per-pixel operands of the compiled kernels (float32 thresholds, widened in the kernels)."""
        def full(v, dtype):
            return (np.full(n, dtype(v), dtype=dtype) if isinstance(v, float)
                    else np.ascontiguousarray(v, dtype=dtype).reshape(-1))
        self._nb_pos32, self._nb_neg32 = full(self._pos, np.float32), full(self._neg, np.float32)
        self._nb_pre_pos, self._nb_pre_neg = full(self._pre_pos, np.float32), full(self._pre_neg, np.float32)
        self._nb_flat = np.empty(n, np.int64)
        self._nb_counts = np.empty(n, np.int64)
        self._nb_on = np.empty(n, np.bool_)
        self._nb_shot = (np.empty(n, np.int64), np.empty(n, np.int64))
        # randperm(c) draws c - 1 words below RANDPERM_SMALL (c <= H*W events per sub-step)
        self._stream = _rng.TorchStream() if n < _rng.RANDPERM_SMALL and _rng.stream_matches_torch() else None
        # v2e's leak normals (torch.randn(H, W)) from the stream where this torch draws them as it does
        self._nb_randn = (np.empty(n, np.float32) if self._stream is not None and n >= 16
                          and _rng.normals_match_torch() else None)

    # ---------------------------------------------------------------- one frame
    def step(self, frame, t_s: float) -> Events:
        """Feed one uint8 gray frame (H, W) taken at ``t_s`` seconds; return its events.

        Times must not decrease (and start at >= 0, as in v2e). Events are sorted by time.
        """
        p = self.params
        size_hw = None if self.sensor_size is None else (self.sensor_size[1], self.sensor_size[0])
        arr = _as_frame(frame, size_hw, f"frame {self.frames_seen}")
        h, w = int(arr.shape[0]), int(arr.shape[1])
        t_s = float(t_s)
        if not math.isfinite(t_s) or t_s < self._t_prev:
            raise ValueError(f"frame {self.frames_seen}: time {t_s!r} s is before the previous frame time "
                             f"{self._t_prev!r} s (times must not decrease and start at >= 0)")
        if self.sensor_size is None:
            self.sensor_size = (w, h)
        dt = t_s - self._t_prev
        if self._cpu:
            fr = np.ascontiguousarray(arr.numpy() if isinstance(arr, torch.Tensor) else arr)
        else:
            fr = (arr if isinstance(arr, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(arr)))
            fr = fr.to(self.device).long()
        first = self._base is None
        self.frames_seen += 1
        if self._nb and not first:
            return self._step_nb(fr, t_s, dt, h, w)
        log_new = self._lookup(self._lut_l32_dense, fr) if (first or p.cutoff_hz <= 0) else None

        lp_prev = log_new if first else self._lp
        if p.cutoff_hz > 0:  # float64 from here on, as v2e's dtype promotion makes it
            eps = torch.clamp(self._lut_inten * (dt / self._tau), max=1)
            lp = self._lookup(1 - eps, fr)
            lp *= lp_prev
            lp += self._lookup(eps * self._lut_l32.double(), fr)
        else:
            lp = log_new
        self._lp = lp
        if first:
            self._init_pixels((h, w))
            self._base = lp.copy() if self._cpu else lp.clone()
            self._t_prev = t_s
            return empty_events((w, h))

        v2e_rng = p.noise_rng == "v2e"
        if p.leak_rate_hz > 0:
            if v2e_rng:  # v2e's exact expression and draws
                rand = self._randn((h, w))
                curr = p.leak_rate_hz * self._noise_rate * (1 - p.leak_jitter_fraction * rand)
                self._base = self._base - dt * curr * self._pos
            else:
                self._leak_fast(dt, h, w)
        base = self._base
        pos, neg = self._pos, self._neg
        diff = lp - base
        flat = self._flatnonzero((diff >= self._pos_cmp) | (diff <= self._negneg_cmp))
        d = self._gather(diff, flat)
        pos_a = self._gather(pos, flat) if not isinstance(pos, float) else pos
        neg_a = self._gather(neg, flat) if not isinstance(neg, float) else neg
        # numpy's float floor_divide is torch's div(rounding_mode="floor") (both Python's algorithm)
        n_on = np.floor_divide(np.maximum(d, 0), pos_a).astype(np.int32)
        n_off = np.floor_divide(np.maximum(-d, 0), neg_a).astype(np.int32)
        counts = n_on + n_off
        on = n_on > 0
        n_max = int(counts.max()) if counts.shape[0] else 0
        n_steps = n_max if n_max > 0 else 1
        ts_step = dt / n_steps
        ts = torch.linspace(self._t_prev + ts_step, t_s, n_steps, dtype=torch.float32).numpy()
        period = p.refractory_period_s
        step_of_event = None

        if p.timestamp_mode == "esim":
            thr = np.where(on, pos_a, neg_a)
            lp_prev_a = self._gather(lp_prev, flat)
            src, t_ev, n_emit, new_last = esim_select(lp_prev_a, self._gather(lp, flat),
                                                      self._gather(base, flat), thr, counts, on,
                                                      self._t_prev, dt, self._mem_esim[flat], period)
            self._mem_esim[flat] = new_last
            t_us = np.round(t_ev * 1e6).astype(np.int64)
        else:
            if n_max > 0 and period > ts_step:
                src, step_of_event, n_emit, last_step = refractory_select(ts, self._mem[flat], counts, period)
                fired = last_step >= 0
                self._mem[flat[fired]] = ts[last_step[fired]]
            else:
                src, step_of_event = expand_counts(counts, n_max)
                n_emit = counts
            t_table = np.round(ts.astype(np.float64) * 1e6).astype(np.int64)
            t_us = t_table[step_of_event]

        if flat.shape[0]:  # v2e: base += n_on*pos (int32*float32 -> float32), then base -= n_off*neg
            em = n_emit.astype(np.float32)
            b = self._gather(base, flat)
            b = b + np.where(on, em, np.float32(0)) * pos_a
            b = b - np.where(on, np.float32(0), em) * neg_a
            self._scatter(base, flat, b)

        if v2e_rng and self.replay_v2e_shuffle and (p.leak_rate_hz > 0 or p.shot_noise_rate_hz > 0) and n_max > 0:
            if step_of_event is None:  # esim: replay v2e's lattice counts for the random stream
                _, step_of_event = expand_counts(n_emit[n_emit > 0], n_max)
            for n in np.bincount(step_of_event, minlength=n_max).tolist():
                if n > 0:
                    self._sync_gen()
                    torch.randperm(n, generator=self._gen)

        ev_flat = flat[src]
        ev_on = on[src]
        if p.shot_noise_rate_hz > 0:
            f_np = self._shot_table(dt, fr)
            if v2e_rng:
                f = self._lookup(torch.from_numpy(f_np), fr)
                one_minus_on = 1 - f * self._pre_pos
                p_off = f * self._pre_neg
                self._sync_gen()
                u = self._dense(torch.rand((h, w), generator=self._gen, dtype=torch.float32))
                on_flat = self._flatnonzero(u > one_minus_on)
                off_flat = self._flatnonzero(u < p_off)
            else:
                on_flat, off_flat = self._shot_fast(fr, f_np)
            t_last = int(np.round(np.float64(ts[-1]) * 1e6))
            shot_flat = np.concatenate([on_flat, off_flat])
            ev_flat = np.concatenate([ev_flat, shot_flat])
            t_us = np.concatenate([t_us, np.full(shot_flat.shape[0], t_last, dtype=np.int64)])
            ev_on = np.concatenate([ev_on, np.ones(on_flat.shape[0], bool), np.zeros(off_flat.shape[0], bool)])
            if shot_flat.shape[0]:
                self._scatter(base, shot_flat, self._gather(lp, shot_flat))

        self._t_prev = t_s
        return self._to_events(ev_flat, t_us, ev_on, w, h)

    def _step_nb(self, fr: np.ndarray, t_s: float, dt: float, h: int, w: int) -> Events:
        """:meth:`step` after the first frame with the compiled kernels (CPU, v2e timestamps)."""
        p = self.params
        frf = fr.reshape(-1)
        inten = self._nb_inten if p.cutoff_hz > 0 else None  # the low-pass tables are made in nb_pixels
        lp_f = self._lp.reshape(-1)
        base_f = self._base.reshape(-1)
        v2e_rng = p.noise_rng == "v2e"
        noisy = p.leak_rate_hz > 0 or p.shot_noise_rate_hz > 0
        replay = v2e_rng and self.replay_v2e_shuffle and noisy
        stream = self._stream if v2e_rng and noisy else None  # compiled draws (see _live_stream)
        leak_from_stream = stream is not None and p.leak_rate_hz > 0 and self._nb_randn is not None
        noise_rate = c_leak = cj_leak = rand = None
        if p.leak_rate_hz > 0:
            if v2e_rng:  # torch's normals, exactly as v2e draws them
                if leak_from_stream:
                    rand = self._nb_randn
                    st = self._live_stream()
                    st.pos = _rng.mt_fill_normal(st.state, st.pos, rand)
                else:
                    rand = self._randn((h, w)).reshape(-1)
                noise_rate = self._noise_rate.reshape(-1)
            else:
                c_leak, cj_leak, rand = (a.reshape(-1) for a in self._leak_fast_operands(h, w))
                cj_leak = cj_leak if p.leak_jitter_fraction > 0 else None
        flat, counts, on = self._nb_flat, self._nb_counts, self._nb_on
        n_fire, n_max, cap = _ex.nb_pixels(frf, lp_f, inten, dt / self._tau if inten is not None else 0.0,
                                           self._lut_l32_dense, base_f, noise_rate,
                                           c_leak, cj_leak, rand, self._nb_pos32, self._nb_neg32,
                                           np.float32(p.leak_rate_hz), np.float32(p.leak_jitter_fraction),
                                           np.float32(dt), flat, counts, on, lp_f.dtype == np.float32)
        n_steps = n_max if n_max > 0 else 1
        ts_step = dt / n_steps
        ts, t_table = _ex.lattice_times(self._t_prev + ts_step, t_s, n_steps)
        period = p.refractory_period_s
        shot = p.shot_noise_rate_hz > 0
        f_np = self._shot_table(dt, fr) if shot else None
        fast_shot = self._shot_fast(fr, f_np) if shot and not v2e_rng else None  # drawn first: sizes ev
        n_fast = 0 if fast_shot is None else fast_shot[0].shape[0] + fast_shot[1].shape[0]
        ev = np.empty(cap + n_fast, dtype=EVENT_DTYPE)
        if n_max > 0 and period > ts_step:
            n_ev, per_step = _ex.nb_emit_refractory(flat, counts, on, n_fire, ts, t_table, self._mem,
                                                     np.float32(period), w, base_f, self._nb_pos32,
                                                     self._nb_neg32, ev)
        else:
            n_ev = cap
            per_step = _ex.nb_emit_lattice(flat, counts, on, n_fire, n_max, t_table, w, base_f,
                                           self._nb_pos32, self._nb_neg32, ev)
        if replay:
            if stream is not None:  # v2e's per-sub-step randperm draws, skipped in compiled code
                st = self._live_stream()
                st.pos = _rng.mt_skip_randperms(st.state, st.pos, per_step)
            else:
                self._sync_gen()
                for c in per_step.tolist():
                    if c > 0:
                        torch.randperm(c, generator=self._gen)
        if shot:
            on_b, off_b = self._nb_shot
            if fast_shot is not None:
                on_flat, off_flat = fast_shot
            elif stream is not None:  # torch.rand(H, W) drawn inside the test
                f_max = float(f_np.max())
                st = self._live_stream()
                a, b, st.pos = _rng.nb_shot_v2e_stream(frf, f_np, self._nb_pre_pos, self._nb_pre_neg,
                                                       f_max * self._pre_max[0], f_max * self._pre_max[1],
                                                       st.state, st.pos, on_b, off_b)
                on_flat, off_flat = on_b[:a], off_b[:b]
            else:
                self._sync_gen()
                u = torch.rand((h, w), generator=self._gen, dtype=torch.float32).numpy()
                a, b = _ex.nb_shot_v2e(frf, u.reshape(-1), f_np, self._nb_pre_pos, self._nb_pre_neg, on_b, off_b)
                on_flat, off_flat = on_b[:a], off_b[:b]
            n_shot = on_flat.shape[0] + off_flat.shape[0]
            if n_ev + n_shot > ev.shape[0]:  # exact draws: known only now
                grown = np.empty(n_ev + n_shot, dtype=EVENT_DTYPE)
                grown[:n_ev] = ev[:n_ev]
                ev = grown
            n_ev = _ex.nb_put_shot_reset(ev, n_ev, on_flat, off_flat, w, int(t_table[-1]), base_f, lp_f)
        if n_ev < ev.shape[0]:
            ev = ev[:n_ev] if 2 * n_ev >= ev.shape[0] else ev[:n_ev].copy()  # refractory drops
        self._t_prev = t_s
        n_on = int(np.count_nonzero(ev["p"]))
        self.num_on += n_on
        self.num_off += ev.shape[0] - n_on
        return Events(ev, (w, h))

    def _leak_fast_operands(self, h: int, w: int):
        """``(c, cj, r)`` for ``base -= c*dt - (cj*dt)*r``: per-pixel leak ``c = leak*rate*pos`` (ln units
        per s), its jitter part ``cj = c*jitter``, and ``r``, H*W normals (see :meth:`_leak_fast`)."""
        p = self.params
        n = h * w
        if self._leak_pool is None:
            size = n + (1 << 16)
            pool = self._rng.standard_normal(size, dtype=np.float32)
            self._leak_pool = pool if self._cpu else torch.from_numpy(pool).to(self.device)
            c = p.leak_rate_hz * self._noise_rate * self._pos  # per-pixel leak in ln units per s
            self._leak_c = c
            self._leak_cj = c * np.float32(p.leak_jitter_fraction) if self._cpu else c * p.leak_jitter_fraction
            self._leak_dt = None
        o = int(self._rng.integers(0, self._leak_pool.shape[0] - n + 1))
        return self._leak_c, self._leak_cj, self._leak_pool[o:o + n]

    def _leak_fast(self, dt: float, h: int, w: int) -> None:
        """``base -= dt*leak*rate*pos*(1 - jitter*n)`` with ``n`` N(0, 1) per pixel and frame.

        The normals are a contiguous slice, at a random offset per frame, of a pool of H*W + 2**16
        normals drawn once: independent across pixels, and a pixel's across frames up to offset
        collisions (probability 2**-16 per pair of frames), at the cost of one slice.
        """
        p = self.params
        c, cj, r = self._leak_fast_operands(h, w)
        if self._leak_dt != dt:
            self._leak_c_dt, self._leak_cj_dt = c * dt, cj * dt
            self._leak_dt = dt
        r = r.reshape(h, w)
        delta = self._leak_c_dt - self._leak_cj_dt * r if p.leak_jitter_fraction > 0 else self._leak_c_dt
        if self._cpu:
            np.subtract(self._base, delta, out=self._base)
        else:
            self._base.sub_(delta)

    def _shot_table(self, dt: float, fr) -> np.ndarray:
        """v2e's shot-noise factor ``f`` per gray level (256,) float64: ``(rate/2*dt)*((0.25 - 1)*inten + 1)``;
        with ``shot_noise_rate_as_specified`` divided by the frame's mean of the bracket (v2e issue #74),
        so that the expected count per pixel is ``rate*dt`` at nominal thresholds."""
        p = self.params
        f = ((p.shot_noise_rate_hz / 2) * dt) * self._nb_shot_inten
        if p.shot_noise_rate_as_specified:  # the bracket is linear in inten: its mean is at the mean level
            mean_level = float(cv2.mean(fr)[0]) if self._cpu else float(fr.double().mean())
            f = f / ((SHOT_NOISE_INTEN_FACTOR - 1) * (mean_level + 20) / 275.0 + 1)
        return f

    def _shot_fast(self, fr, f_np: np.ndarray):
        """``noise_rng="fast"`` shot noise: :class:`~nvlib.simulate.shot.SparseShot` in O(noise events).
        Returns ``(on_pixels, off_pixels)``, views valid until the next draw."""
        if self._shot is None:
            host = (lambda a: a if isinstance(a, (float, np.ndarray)) else a.cpu().numpy())  # noqa: E731
            seed = int(np.random.SeedSequence([self.params.seed, 0x5407]).generate_state(1, np.uint64)[0])
            self._shot = SparseShot(host(self._pre_pos), host(self._pre_neg), fr.shape[0] * fr.shape[1], seed)
        fr_h = fr.reshape(-1) if self._cpu else fr.reshape(-1).to(torch.uint8).cpu().numpy()
        return self._shot.draw(fr_h, f_np)

    def _to_events(self, flat: np.ndarray, t_us: np.ndarray, on: np.ndarray, w: int, h: int) -> Events:
        n = int(flat.shape[0])
        arr = np.empty(n, dtype=EVENT_DTYPE)
        if n:
            flat32 = flat.astype(np.int32, copy=False)
            arr["y"] = flat32 // w
            arr["x"] = flat32 - arr["y"].astype(np.int32) * w
            arr["t"] = t_us
            arr["p"] = on
            n_on = int(np.count_nonzero(on))
            self.num_on += n_on
            self.num_off += n - n_on
        return Events(arr, (w, h))


def frame_times(n_frames: int, fps: float | None = None, times_s=None, name: str = "frames") -> np.ndarray:
    """Frame times in seconds: ``times_s`` as given, else ``i / fps``."""
    if times_s is not None:
        t = np.asarray(times_s, dtype=np.float64).reshape(-1)
        if n_frames >= 0 and t.size != n_frames:
            raise ValueError(f"{name}: {n_frames} frames but {t.size} times")
        if t.size and (not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0) or t[0] < 0):
            raise ValueError(f"{name}: frame times must be finite, >= 0 and non-decreasing")
        return t
    if fps is None:
        raise ValueError(f"{name}: give fps or times_s")
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"{name}: frame rate must be a positive number, got {fps!r}")
    return np.arange(n_frames, dtype=np.float64) / float(fps)


def simulate_frames(frames, fps: float | None = None, times_s=None, params: DVSParams = DVSParams(),
                    device="cpu", progress: bool = False, name: str = "frames", kernels: str = "auto") -> Events:
    """Events of a gray uint8 clip: ``frames`` (T, H, W) array or an iterable of (H, W) frames.

    Frame ``i`` is at ``times_s[i]`` or ``i / fps`` seconds. Returns all events, sorted by time,
    on a ``(W, H)`` sensor. ``name`` labels error messages; ``kernels`` as in :class:`DVSEmulator`.
    """
    if isinstance(frames, np.ndarray):
        if frames.ndim != 3:
            raise ValueError(f"{name}: expected frames shaped (T, H, W), got {frames.shape}")
        n = frames.shape[0]
    elif isinstance(frames, torch.Tensor):
        frames = frames.cpu().numpy()
        n = frames.shape[0] if frames.ndim == 3 else -1
    else:
        n = len(frames) if hasattr(frames, "__len__") else -1
    if n == 0:
        raise ValueError(f"{name}: no frames")
    if n > 0:
        times = frame_times(n, fps, times_s, name)
        it_times: Iterable[float] = times
    else:
        if times_s is not None:
            it_times = (float(t) for t in times_s)
        else:
            frame_times(0, fps, None, name)  # validates fps
            it_times = (i / float(fps) for i in _count())
    emu = DVSEmulator(params, device=device, kernels=kernels)
    out = []
    it = zip(frames, it_times)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, total=n if n > 0 else None, desc="simulate", unit="frame")
    for k, (fr, t) in enumerate(it):
        out.append(emu.step(_as_frame(fr, None, f"{name}: frame {k}"), t))
    if not out:
        raise ValueError(f"{name}: no frames")
    return concatenate(out)


def _count():
    i = 0
    while True:
        yield i
        i += 1
