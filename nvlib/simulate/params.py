"""DVS pixel-model parameters, v2e's presets and camera sizes.

Defaults are v2e's command-line defaults (Hu, Liu, Delbruck, "v2e: From Video Frames
to Realistic DVS Events", CVPRW 2021; SensorsINI/v2e ``v2e_args.py``); the presets
are v2e's ``--dvs_params clean|noisy`` (``EventEmulator.set_dvs_params``).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

#: v2e's camera presets: name -> (W, H) in pixels.
CAMERAS: dict[str, tuple[int, int]] = {
    "dvs128": (128, 128),
    "dvs240": (240, 180),
    "dvs346": (346, 260),
    "dvs640": (640, 480),
    "dvs1024": (1024, 768),
}

#: Seed of torch's default CPU generator in a fresh process; ``seed=0`` uses it, which is
#: what v2e draws from when it is not seeded (it seeds only when ``seed != 0``).
TORCH_DEFAULT_SEED = 67280421310721

TIMESTAMP_MODES = ("v2e", "esim")
NOISE_RNGS = ("fast", "v2e")


@dataclass(frozen=True)
class DVSParams:
    """Parameters of v2e's DVS pixel model (units in the names; thresholds in ln units).

    Attributes:
        pos_thres, neg_thres: nominal ON / OFF log-intensity thresholds.
        sigma_thres: std of the per-pixel threshold mismatch (0: every pixel nominal).
        cutoff_hz: photoreceptor low-pass 3 dB cutoff at full white (0: no filter).
        leak_rate_hz: leak (reset-switch junction leakage) event rate per pixel.
        shot_noise_rate_hz: shot-noise event rate per pixel (ON + OFF) in the dark.
        refractory_period_s: a pixel's dead time after an emitted event.
        leak_jitter_fraction: per-frame relative jitter of the leak rate.
        noise_rate_cov_decades: per-pixel log-normal spread of the leak rate, in decades.
        seed: threshold/noise seed; 0 means torch's fresh-process default seed (see
            :data:`TORCH_DEFAULT_SEED`), so every seed is deterministic.
        timestamp_mode: ``"v2e"`` (a pixel's k-th event at ``t_prev + k*dt/N``, N the
            largest count in the frame) or ``"esim"`` (each threshold crossing interpolated
            linearly between the frames, per pixel, as ESIM does: Rebecq et al., CoRL 2018).
        noise_rng: where the per-frame leak jitter and shot noise come from. ``"v2e"`` (default):
            torch's generator in v2e's exact drawing order (one normal and one uniform per pixel
            per frame, plus v2e's per-sub-step shuffles), so that noise events equal v2e's (CPU)
            for the same seed. ``"fast"``: other draws with the same laws: leak jitter from a pool
            of normals (numpy's PCG64 seeded with ``seed``), shot noise drawn sparsely with v2e's
            per-pixel probabilities, in O(noise events) (:mod:`nvlib.simulate.shot`).
            Thresholds and per-pixel leak rates always come from torch's generator.
        shot_noise_rate_as_specified: False (default, v2e): a pixel's shot-noise rate is
            ``shot_noise_rate_hz`` times v2e's intensity factor ``1 - 0.75*(I + 20)/275``, so the
            mean rate is below the one given (v2e issue #74). True: that factor divided by its mean
            over the frame, so the expected count per pixel and frame is ``shot_noise_rate_hz*dt``
            at nominal thresholds, still higher in dark pixels than in bright ones.
    """

    pos_thres: float = 0.2
    neg_thres: float = 0.2
    sigma_thres: float = 0.03
    cutoff_hz: float = 300.0
    leak_rate_hz: float = 0.01
    shot_noise_rate_hz: float = 0.001
    refractory_period_s: float = 0.0005
    leak_jitter_fraction: float = 0.1
    noise_rate_cov_decades: float = 0.1
    seed: int = 0
    timestamp_mode: str = "v2e"
    noise_rng: str = "v2e"
    shot_noise_rate_as_specified: bool = False

    def __post_init__(self):
        for name in ("pos_thres", "neg_thres"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"DVSParams.{name} must be a positive number (ln units), got {v!r}")
        for name in ("sigma_thres", "cutoff_hz", "leak_rate_hz", "shot_noise_rate_hz", "refractory_period_s",
                     "leak_jitter_fraction", "noise_rate_cov_decades"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"DVSParams.{name} must be a finite number >= 0, got {v!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"DVSParams.seed must be an integer >= 0, got {self.seed!r}")
        if self.timestamp_mode not in TIMESTAMP_MODES:
            raise ValueError(f"DVSParams.timestamp_mode must be one of {TIMESTAMP_MODES}, got {self.timestamp_mode!r}")
        if not isinstance(self.shot_noise_rate_as_specified, bool):
            raise ValueError("DVSParams.shot_noise_rate_as_specified must be True or False, "
                             f"got {self.shot_noise_rate_as_specified!r}")
        if self.noise_rng not in NOISE_RNGS:
            raise ValueError(f"DVSParams.noise_rng must be one of {NOISE_RNGS}, got {self.noise_rng!r}")

    @classmethod
    def preset(cls, name: str, **overrides) -> "DVSParams":
        """v2e's ``--dvs_params`` presets ``"clean"`` / ``"noisy"`` (plus field overrides)."""
        presets = {
            "clean": dict(pos_thres=0.2, neg_thres=0.2, sigma_thres=0.02, cutoff_hz=0.0, leak_rate_hz=0.0,
                          shot_noise_rate_hz=0.0, refractory_period_s=0.0, leak_jitter_fraction=0.0,
                          noise_rate_cov_decades=0.0),
            "noisy": dict(pos_thres=0.2, neg_thres=0.2, sigma_thres=0.05, cutoff_hz=30.0, leak_rate_hz=0.1,
                          shot_noise_rate_hz=5.0, refractory_period_s=0.0, leak_jitter_fraction=0.1,
                          noise_rate_cov_decades=0.1),
        }
        if name not in presets:
            raise ValueError(f"unknown DVS preset {name!r}; choose from {sorted(presets)}")
        return cls(**{**presets[name], **overrides})

    def replace(self, **kw) -> "DVSParams":
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **kw)

    @property
    def torch_seed(self) -> int:
        """The seed given to the threshold/noise generator."""
        return self.seed if self.seed != 0 else TORCH_DEFAULT_SEED


def camera_size(camera: str) -> tuple[int, int]:
    """``(W, H)`` of a v2e camera preset name (``"dvs346"`` ...)."""
    if camera not in CAMERAS:
        raise ValueError(f"unknown camera {camera!r}; choose from {sorted(CAMERAS)}")
    return CAMERAS[camera]
