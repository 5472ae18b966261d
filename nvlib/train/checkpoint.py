"""Checkpoints: atomic ``torch.save`` of weights + optimiser/scheduler state, loaded with
``torch.load(weights_only=True)`` and refused with a clear error when they belong to another
model or shape.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from nvlib.workbook.atomic import atomic_path

FORMAT = "nvlib-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used for the requested model (message names the file)."""


def unwrap(model: nn.Module) -> nn.Module:
    """The bare module under DistributedDataParallel/DataParallel."""
    return model.module if hasattr(model, "module") and isinstance(model.module, nn.Module) else model


def save_checkpoint(path: str | os.PathLike, model: nn.Module, *, optimizer=None, scheduler=None, scaler=None,
                    epoch: int = 0, best: dict | None = None, history: list | None = None,
                    config: dict | None = None, extra: dict | None = None) -> Path:
    """Write ``path`` atomically. ``epoch`` = number of finished epochs."""
    m = unwrap(model)
    state = {
        "format": FORMAT,
        "model_name": getattr(m, "model_name", type(m).__name__),
        "model_cfg": dict(getattr(m, "model_cfg", {})),
        "backbone_info": str(getattr(m, "backbone_info", "")),
        "model": {k: v.detach().cpu() for k, v in m.state_dict().items()},
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "epoch": int(epoch),
        "best": dict(best or {}),
        "history": list(history or []),
        "config": dict(config or {}),
        "extra": dict(extra or {}),
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Load a checkpoint dict with ``weights_only=True``; clear errors for missing/foreign files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - re-raised naming the file
        raise CheckpointError(f"{path}: cannot be loaded with torch.load(weights_only=True): {e}") from e
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an nvlib checkpoint (expected format {FORMAT!r})")
    return ck


def check_compatible(ck: dict, model: nn.Module, path) -> None:
    """Raise ``CheckpointError`` when ``ck`` was written for another model name, keys or shapes."""
    m = unwrap(model)
    want = getattr(m, "model_name", type(m).__name__)
    if ck["model_name"] != want:
        raise CheckpointError(f"{path}: checkpoint holds model {ck['model_name']!r}, not {want!r}")
    ours = m.state_dict()
    theirs = ck["model"]
    missing = sorted(set(ours) - set(theirs))
    extra = sorted(set(theirs) - set(ours))
    shapes = [f"{k}: checkpoint {tuple(theirs[k].shape)} vs model {tuple(v.shape)}"
              for k, v in ours.items() if k in theirs and tuple(theirs[k].shape) != tuple(v.shape)]
    if missing or extra or shapes:
        parts = []
        if shapes:
            parts.append("shape mismatch: " + "; ".join(shapes[:4]))
        if missing:
            parts.append(f"missing keys {missing[:4]}")
        if extra:
            parts.append(f"unexpected keys {extra[:4]}")
        raise CheckpointError(f"{path}: checkpoint of {ck['model_name']!r} (cfg {ck.get('model_cfg')}) does not fit "
                              f"this model (cfg {getattr(m, 'model_cfg', {})}): " + ", ".join(parts))


def load_checkpoint(path: str | os.PathLike, model: nn.Module, *, optimizer=None, scheduler=None,
                    scaler=None) -> dict:
    """Load weights (and optional optimiser/scheduler/scaler state) into the given objects; return the dict."""
    ck = read_checkpoint(path)
    check_compatible(ck, model, path)
    unwrap(model).load_state_dict(ck["model"])
    if optimizer is not None and ck.get("optimizer") is not None:
        optimizer.load_state_dict(ck["optimizer"])
    if scheduler is not None and ck.get("scheduler") is not None:
        scheduler.load_state_dict(ck["scheduler"])
    if scaler is not None and ck.get("scaler") is not None:
        scaler.load_state_dict(ck["scaler"])
    return ck


def load_model(path: str | os.PathLike, **overrides) -> nn.Module:
    """Rebuild the model a checkpoint was written for (``build_model(name, **cfg)``) and load it.

    ``overrides`` replace entries of the stored model config (e.g. ``backbone=None`` so a frozen
    backbone file need not exist any more: its weights are in the checkpoint anyway).
    """
    from nvlib.models import build_model

    ck = read_checkpoint(path)
    cfg = dict(ck.get("model_cfg", {}))
    if cfg.get("backbone") not in (None, "random") and "backbone" not in overrides:
        cfg["backbone"] = None  # the backbone's weights are in the checkpoint; the file may be gone
    cfg.update(overrides)
    model = build_model(ck["model_name"], **cfg)
    check_compatible(ck, model, path)
    model.load_state_dict(ck["model"])
    if ck.get("backbone_info"):
        model.backbone_info = ck["backbone_info"]
    return model
