"""Training of the valence-arousal models (paper Sec. 4.1): config, engine, checkpoints, DDP, CLI.

Prediction and scoring belong to :mod:`nvlib.evaluation` (``predict``, ``evaluate_model``).
"""
from nvlib.train.checkpoint import CheckpointError, load_checkpoint, load_model, read_checkpoint, save_checkpoint
from nvlib.train.config import TrainConfig
from nvlib.train.loop import FitResult, NonFiniteLossError, build_and_fit, fit, load_best, seed_everything, set_deterministic

__all__ = ["TrainConfig", "FitResult", "NonFiniteLossError", "CheckpointError", "fit", "build_and_fit",
           "load_best", "seed_everything", "set_deterministic", "save_checkpoint", "load_checkpoint",
           "read_checkpoint", "load_model"]
