"""Training of the valence-arousal models (paper Sec. 4.1): config, engine, checkpoints, DDP.

Prediction and scoring belong to :mod:`nvlib.evaluation` (``predict``, ``evaluate_model``); the
``nvlib train`` command and the runs over seeds and folds to :mod:`nvlib.experiments`
(:mod:`nvlib.experiments.cli`), which builds on this stage.
"""
from nvlib.train.checkpoint import CheckpointError, load_checkpoint, load_model, read_checkpoint, save_checkpoint
from nvlib.train.config import TrainConfig
from nvlib.train.loop import (FitResult, NonFiniteLossError, RunMismatchError, build_and_fit, fit, load_best,
                              seed_everything, set_deterministic)

__all__ = ["TrainConfig", "FitResult", "NonFiniteLossError", "CheckpointError", "RunMismatchError", "fit", "build_and_fit",
           "load_best", "seed_everything", "set_deterministic", "save_checkpoint", "load_checkpoint",
           "read_checkpoint", "load_model"]
