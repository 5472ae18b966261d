"""Training of the valence-arousal models (paper Sec. 4.1): config, engine, checkpoints, DDP, CLI."""
from .checkpoint import CheckpointError, load_checkpoint, load_model, read_checkpoint, save_checkpoint
from .config import TrainConfig
from .loop import (FitResult, NonFiniteLossError, batch_xy, build_and_fit, fit, load_best, predict,
                   seed_everything, set_deterministic)

__all__ = ["TrainConfig", "FitResult", "NonFiniteLossError", "CheckpointError", "fit", "predict", "build_and_fit",
           "load_best", "seed_everything", "set_deterministic", "batch_xy", "save_checkpoint", "load_checkpoint",
           "read_checkpoint", "load_model"]
