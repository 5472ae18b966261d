"""Valence-arousal models of the paper's Sec. 4.1 (frame- and video-based) and their registry."""
import importlib

#: the registry's model names without importing torch (``nvlib train --help``); the registry checks it
MODEL_NAMES = ("resnet18", "vit", "ic3d", "resnet_lstm", "resnet_transformer", "resnet_fusion")

#: exported name -> the module that defines it (imported on first use)
_EXPORTS = {
    **dict.fromkeys(["IMAGENET_RESNET18_FILE", "hub_resnet18_path", "resolve_weights", "to_one_channel"], "backbones"),
    **dict.fromkeys(["ResNet18VA", "ViTVA"], "frame"),
    **dict.fromkeys(["DISPLAY_NAMES", "FRAME_MODELS", "MODELS", "REGISTRY", "VIDEO_MODELS", "ModelSpec", "build_model",
                     "default_cfg", "model_kind", "param_count"], "registry"),
    **dict.fromkeys(["IC3D", "ResNetFusion", "ResNetLSTM", "ResNetTransformer"], "video"),
}


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"nvlib.models.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nvlib.models' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = ["MODEL_NAMES", "IMAGENET_RESNET18_FILE", "hub_resnet18_path", "resolve_weights", "to_one_channel", "ResNet18VA",
           "ViTVA", "IC3D", "ResNetLSTM", "ResNetTransformer", "ResNetFusion", "MODELS", "FRAME_MODELS",
           "VIDEO_MODELS", "DISPLAY_NAMES", "REGISTRY", "ModelSpec", "build_model", "default_cfg", "model_kind", "param_count"]
