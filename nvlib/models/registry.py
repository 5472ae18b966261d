"""Model registry: each of the paper's six models with its default configuration.

``build_model(name, cfg)`` instantiates a model from its registered defaults overridden by ``cfg``;
the returned module carries the fully resolved configuration (``model_cfg``), which is what a run
saves and what rebuilds the model from a checkpoint. Models of Berlincioni et al., Sec. 4.1 (Tables 1-2).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from torch import nn

from nvlib.models.frame import ResNet18VA, ViTVA
from nvlib.models.video import IC3D, ResNetFusion, ResNetLSTM, ResNetTransformer


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its class, display name (as in the paper's tables), kind ("frame": input
    (B, 1, S, S) -> (B, 2); "video": (B, T, 1, S, S) -> (B, T, 2)), and ``paper``: the settings the
    paper states for it (the constructor's defaults follow them; the rest are our choices)."""

    name: str
    cls: type
    display: str
    paper: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.cls.kind

    @property
    def default_cfg(self) -> dict:
        """Every constructor option with its default value."""
        sig = inspect.signature(self.cls.__init__)
        return {k: p.default for k, p in sig.parameters.items()
                if k != "self" and p.default is not inspect.Parameter.empty}


REGISTRY: dict[str, ModelSpec] = {s.name: s for s in (
    ModelSpec("resnet18", ResNet18VA, "ResNet18", {"input_channels": 1, "image_size": 224}),
    ModelSpec("vit", ViTVA, "ViT", {"depth": 4, "heads": 4, "patch_size": 8, "image_size": 224}),
    ModelSpec("ic3d", IC3D, "IC3D", {"chunk": 6}),
    ModelSpec("resnet_lstm", ResNetLSTM, "ResNet+LSTM", {"backbone": "ImageNet ResNet18, frozen", "chunk": 6}),
    ModelSpec("resnet_transformer", ResNetTransformer, "ResNet+Transf.",
              {"backbone": "ImageNet ResNet18, frozen", "chunk": 6}),
    ModelSpec("resnet_fusion", ResNetFusion, "ResNet+Fusion", {"chunk": 6}),
)}

MODELS: dict[str, type[nn.Module]] = {n: s.cls for n, s in REGISTRY.items()}

from nvlib.models import MODEL_NAMES  # noqa: E402  (the light list the command line offers)

if tuple(REGISTRY) != MODEL_NAMES:
    raise RuntimeError(f"nvlib.models.MODEL_NAMES {MODEL_NAMES} differs from the registry {tuple(REGISTRY)}")
FRAME_MODELS = tuple(n for n, s in REGISTRY.items() if s.kind == "frame")
VIDEO_MODELS = tuple(n for n, s in REGISTRY.items() if s.kind == "video")
DISPLAY_NAMES = {n: s.display for n, s in REGISTRY.items()}


def _spec(name: str) -> ModelSpec:
    if name not in REGISTRY:
        raise KeyError(f"unknown model {name!r}; choose one of {sorted(REGISTRY)}")
    return REGISTRY[name]


def default_cfg(name: str) -> dict:
    """The default configuration of model ``name`` (every constructor option)."""
    return _spec(name).default_cfg


def build_model(name: str, cfg: dict | None = None, **overrides) -> nn.Module:
    """Instantiate model ``name`` from its defaults, overridden by ``cfg`` and then ``overrides``.

    Unknown names or options raise with the valid choices. The module carries ``model_name``,
    ``model_cfg`` (the resolved configuration: defaults plus overrides) and ``kind``.
    """
    spec = _spec(name)
    given = {**(cfg or {}), **overrides}
    defaults = spec.default_cfg
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise TypeError(f"build_model({name!r}): unknown option(s) {unknown}; options: {sorted(defaults)}")
    resolved = {**defaults, **given}
    model = spec.cls(**resolved)
    model.model_name = name
    model.model_cfg = resolved
    return model


def model_kind(name: str) -> str:
    """"frame" or "video"."""
    return _spec(name).kind


def param_count(model: nn.Module) -> dict[str, int]:
    """``{"total": .., "trainable": ..}`` parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"total": int(total), "trainable": int(trainable)}
