"""The workbook's model configurations: one definition for notebooks 03, 04 and 05.

Notebook 03 trains the frame models and notebook 04 the video models with these settings (their
parameters cells hold the same defaults, which ``tests/test_experiments.py`` checks); notebook 05
builds the same experiments at N = 8 and N = 16, so it reuses their per-seed results instead of
training again. ``settings`` override the defaults key by key; ``per_model`` holds TrainConfig
overrides for single models.
"""
from __future__ import annotations

from pathlib import Path

from nvlib.experiments.seeds import Experiment
from nvlib.train.config import TrainConfig

#: Frame models (notebook 03) on the CPU defaults: 32x32 synthetic faces.
FRAME_SETTINGS = {
    "epochs": 4,
    "batch_size": 32,
    "lr": 1e-3,              # paper: 1e-4 (a larger step for the short CPU budget)
    "lr_step_epochs": 50,    # paper: halve every 50 epochs
    "loss": "mse",
    "per_model": {},
    "vit_hidden_dim": 128,   # not given by the paper; depth 4, 4 heads, patch 8 are the paper's
    "vit_mlp_dim": 256,
    "resnet_weights": None,  # None: random init; "hub" / "imagenet:<file>": ImageNet; "auto": hub if present
}

#: Video models (notebook 04): chunks of 6 frames; ``batch_size`` counts chunks.
VIDEO_SETTINGS = {
    "chunk": 6,
    "epochs": 3,
    "batch_size": 8,
    "lr": 1e-3,
    "lr_step_epochs": 50,
    "loss": "mse",
    "per_model": {"ic3d": {"lr": 1e-4, "epochs": 6}, "resnet_transformer": {"lr": 3e-4}},
    "backbone": "auto",      # ImageNet from the hub cache, else the same seed's frame ResNet18, else random init
    "ic3d_width": 0.25,      # channel multiplier of IC3D (1.0 = I3D's widths)
    "transformer_d_model": 128,
    "transformer_ff_dim": 256,
}

_TRAIN_KEYS = ("epochs", "batch_size", "lr", "lr_step_epochs", "loss")


def settings_for(kind: str, settings: dict | None = None) -> dict:
    """The defaults of ``kind`` ("frame"/"video") with ``settings`` applied; unknown keys raise."""
    base = {"frame": FRAME_SETTINGS, "video": VIDEO_SETTINGS}[kind]
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(base))
    if unknown:
        raise KeyError(f"unknown {kind} model setting(s) {unknown}; valid: {sorted(base)}")
    return {**base, **settings}


def model_cfg_for(name: str, settings: dict, image_size: int) -> dict:
    """``build_model`` options of one model under the workbook's settings."""
    table = {"resnet18": lambda: dict(weights=settings.get("resnet_weights")),
             "vit": lambda: dict(image_size=int(image_size), hidden_dim=settings["vit_hidden_dim"],
                                 mlp_dim=settings["vit_mlp_dim"]),
             "ic3d": lambda: dict(width=settings["ic3d_width"]),
             "resnet_lstm": lambda: dict(backbone=settings["backbone"]),
             "resnet_transformer": lambda: dict(backbone=settings["backbone"], d_model=settings["transformer_d_model"],
                                                ff_dim=settings["transformer_ff_dim"]),
             "resnet_fusion": lambda: dict(backbone=settings["backbone"], chunk=settings["chunk"])}
    if name not in table:
        raise KeyError(f"no workbook configuration for model {name!r}; choose one of {sorted(table)}")
    return table[name]()


def workbook_cache(cache_dir=None, afewva_root=None, *, require_dataset: bool = False, **synthetic) -> Path:
    """The dataset cache of a training notebook: ``cache_dir``, else AFEW-VA at ``afewva_root`` converted
    once, else the synthetic faces (``synthetic``: ``n_clips``, ``n_frames``, ``size``, ``n_bits``,
    ``seed``, ``progress``; :func:`nvlib.convert.resolve_va_cache`). ``require_dataset`` (the paper's
    setting, ``params/paper.yaml``) refuses the synthetic fallback: without ``cache_dir`` or
    ``afewva_root`` it raises ValueError saying which parameter to set."""
    from nvlib.convert import resolve_va_cache

    if require_dataset and cache_dir is None and afewva_root is None:
        raise ValueError("this setting needs a real dataset (require_dataset is on): set afewva_root to your "
                         "AFEW-VA folder (e.g. --set afewva_root=/data/AFEW-VA) or cache_dir to a converted cache; "
                         "no synthetic faces are used in its place")
    return Path(resolve_va_cache(cache_dir, afewva_root, **synthetic))


def workbook_experiment(name: str, cache_dir, *, settings: dict | None = None, fold: int | str | None = None,
                        device: str = "cpu", max_batches: int | None = None, progress: bool = False) -> Experiment:
    """The :class:`Experiment` a workbook notebook runs for model ``name`` on ``cache_dir``.

    ``settings`` override :data:`FRAME_SETTINGS` or :data:`VIDEO_SETTINGS` (by the model's kind);
    ``fold``: None (the cache's fixed split), k, or "all" (every fold of the subject-independent
    protocol); ``device``, ``max_batches`` and ``progress`` are run options (``max_batches`` changes
    the result).
    """
    from nvlib.datasets.cache import load_index
    from nvlib.models import model_kind

    kind = model_kind(name)
    s = settings_for(kind, settings)
    per = dict((s.get("per_model") or {}).get(name, {}))
    cfg = TrainConfig(**{k: s[k] for k in _TRAIN_KEYS}, device=device, max_batches=max_batches,
                      progress=progress).replace(**per)
    size = int(load_index(cache_dir)["meta"]["size"])
    return Experiment(name, cache_dir, model_cfg_for(name, s, size), cfg, fold=fold,
                      chunk=int(s["chunk"]) if kind == "video" else 6)
