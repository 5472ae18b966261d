"""Training configuration: a frozen dataclass, saved resolved with every run (``config.json``).

Defaults follow the paper (Sec. 4.1): AdamW, learning rate 1e-4 halved every 50 epochs, MSE loss.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

LOSSES = ("mse", "ccc", "mse+ccc")


@dataclass(frozen=True)
class TrainConfig:
    """What one ``nvlib.train.fit`` run does.

    epochs: passes over the training set. batch_size: per process (DDP: per rank).
    lr, weight_decay: AdamW (Loshchilov and Hutter 2019; torch defaults for betas/eps).
    lr_step_epochs, lr_gamma: StepLR, lr *= gamma every ``lr_step_epochs`` epochs (paper: 50, 0.5).
    loss: "mse" (paper), "ccc" (1 - CCC, Toisoul et al. 2021) or "mse+ccc".
    seed, deterministic: reproducibility; every epoch reseeds from ``seed + epoch`` so a resumed
      run replays the same shuffles and dropout masks.
    select_metric: validation metric that picks the best checkpoint ("rmse": mean of valence and
      arousal RMSE, lower is better; "ccc": mean CCC, higher is better). Never the test set.
    device: "auto" (cuda when available, else cpu), "cpu", "cuda", "cuda:1"...
    amp: mixed precision on GPU ("auto" = on for cuda; never on CPU).
    num_workers: DataLoader workers. max_batches: cap batches per epoch (quick runs, None = all).
    grad_clip: max gradient norm (None: off). progress: tqdm bars. tensorboard: event logs.
    resume: continue from ``<out_dir>/last.pt`` when it exists and matches.
    clip_predictions: range predictions are clipped to when scoring (emonet), None = off.
    """

    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 1e-2
    lr_step_epochs: int = 50
    lr_gamma: float = 0.5
    loss: str = "mse"
    seed: int = 0
    deterministic: bool = True
    select_metric: str = "rmse"
    device: str = "auto"
    amp: str | bool = "auto"
    num_workers: int = 0
    max_batches: int | None = None
    grad_clip: float | None = None
    progress: bool = True
    tensorboard: bool = True
    resume: bool = True
    clip_predictions: tuple[float, float] | None = (-1.0, 1.0)
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"TrainConfig.loss={self.loss!r}; expected one of {LOSSES}")
        if self.select_metric not in ("rmse", "ccc"):
            raise ValueError(f"TrainConfig.select_metric={self.select_metric!r}; expected 'rmse' or 'ccc'")
        if self.epochs < 1 or self.batch_size < 1 or self.lr_step_epochs < 1:
            raise ValueError(f"TrainConfig: epochs, batch_size, lr_step_epochs must be >= 1 "
                             f"(got {self.epochs}, {self.batch_size}, {self.lr_step_epochs})")
        if self.clip_predictions is not None:
            object.__setattr__(self, "clip_predictions", tuple(float(v) for v in self.clip_predictions))

    def replace(self, **kw) -> "TrainConfig":
        return dataclasses.replace(self, **kw)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["clip_predictions"] = None if self.clip_predictions is None else list(self.clip_predictions)
        return d

    @classmethod
    def from_dict(cls, d: dict | None) -> "TrainConfig":
        """Build from a mapping; unknown keys are an error naming them and the valid ones."""
        d = dict(d or {})
        names = {f.name for f in dataclasses.fields(cls)}
        bad = sorted(set(d) - names)
        if bad:
            raise KeyError(f"TrainConfig: unknown option(s) {bad}; valid: {sorted(names)}")
        return cls(**d)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the resolved configuration as JSON (atomic)."""
        from nvlib.workbook.atomic import write_text

        return write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
