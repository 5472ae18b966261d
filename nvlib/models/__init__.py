"""Valence-arousal models of the paper's Sec. 4.1 (frame- and video-based) and their registry."""
from nvlib.models.backbones import IMAGENET_RESNET18_FILE, hub_resnet18_path, resolve_weights, to_one_channel
from nvlib.models.frame import ResNet18VA, ViTVA
from nvlib.models.registry import (DISPLAY_NAMES, FRAME_MODELS, MODELS, REGISTRY, VIDEO_MODELS, ModelSpec, build_model,
                                  default_cfg, model_kind, param_count)
from nvlib.models.video import IC3D, ResNetFusion, ResNetLSTM, ResNetTransformer

__all__ = ["IMAGENET_RESNET18_FILE", "hub_resnet18_path", "resolve_weights", "to_one_channel", "ResNet18VA",
           "ViTVA", "IC3D", "ResNetLSTM", "ResNetTransformer", "ResNetFusion", "MODELS", "FRAME_MODELS",
           "VIDEO_MODELS", "DISPLAY_NAMES", "REGISTRY", "ModelSpec", "build_model", "default_cfg", "model_kind", "param_count"]
