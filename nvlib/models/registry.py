"""Model registry: ``build_model(name, **cfg)`` for the six models of the paper's Tables 1-2."""
from __future__ import annotations

from torch import nn

from nvlib.models.frame import ResNet18VA, ViTVA
from nvlib.models.video import IC3D, ResNetFusion, ResNetLSTM, ResNetTransformer

MODELS: dict[str, type[nn.Module]] = {
    "resnet18": ResNet18VA,
    "vit": ViTVA,
    "ic3d": IC3D,
    "resnet_lstm": ResNetLSTM,
    "resnet_transformer": ResNetTransformer,
    "resnet_fusion": ResNetFusion,
}
FRAME_MODELS = ("resnet18", "vit")
VIDEO_MODELS = ("ic3d", "resnet_lstm", "resnet_transformer", "resnet_fusion")
DISPLAY_NAMES = {"resnet18": "ResNet18", "vit": "ViT", "ic3d": "IC3D", "resnet_lstm": "ResNet+LSTM",
                 "resnet_transformer": "ResNet+Transf.", "resnet_fusion": "ResNet+Fusion"}


def build_model(name: str, **cfg) -> nn.Module:
    """Instantiate a model by name; unknown names or options raise with the valid choices.

    The returned module carries ``model_name``, ``model_cfg`` (the kwargs) and ``kind``
    ("frame": input (B,1,S,S) -> (B,2); "video": (B,T,1,S,S) -> (B,T,2)).
    """
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    try:
        model = MODELS[name](**cfg)
    except TypeError as e:
        raise TypeError(f"build_model({name!r}): bad options {sorted(cfg)}: {e}") from e
    model.model_name = name
    model.model_cfg = dict(cfg)
    return model


def model_kind(name: str) -> str:
    """"frame" or "video"."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name].kind


def param_count(model: nn.Module) -> dict[str, int]:
    """``{"total": .., "trainable": ..}`` parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"total": int(total), "trainable": int(trainable)}
