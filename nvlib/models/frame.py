"""Frame-based valence-arousal models (paper Sec. 4.1): one TBR frame in, (valence, arousal) out.

- ``ResNet18VA``: torchvision ResNet18 (He et al. 2016) with a one-channel stem and a 2-unit head.
- ``ViTVA``: torchvision ``VisionTransformer`` (Dosovitskiy et al. 2020) with depth 4, 4 heads and
  8x8 patches on 224x224 (paper); the hidden width (256) and MLP width (512) are not given by the
  paper and are our choice. The patch embedding takes one channel.
Input (B, 1, S, S) float in [0, 1]; output (B, 2) [valence, arousal] (unbounded, clipped at scoring).
"""
from __future__ import annotations

import torch
from torch import nn
from torchvision.models.vision_transformer import VisionTransformer

from nvlib.models.backbones import resnet18_1ch


class ResNet18VA(nn.Module):
    """ResNet18 regressor; ``weights`` is a backbone source (``nvlib.models.backbones``)."""

    kind = "frame"

    def __init__(self, weights=None, num_outputs: int = 2):
        super().__init__()
        self.net, self.backbone_info = resnet18_1ch(num_outputs, weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ViTVA(nn.Module):
    """Vision Transformer regressor (depth 4, 4 heads, patch 8 by default)."""

    kind = "frame"

    def __init__(self, image_size: int = 224, patch_size: int = 8, depth: int = 4, heads: int = 4,
                 hidden_dim: int = 256, mlp_dim: int = 512, num_outputs: int = 2, dropout: float = 0.0):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"ViT: image_size {image_size} is not a multiple of patch_size {patch_size}")
        self.net = VisionTransformer(image_size=image_size, patch_size=patch_size, num_layers=depth,
                                     num_heads=heads, hidden_dim=hidden_dim, mlp_dim=mlp_dim,
                                     dropout=dropout, num_classes=num_outputs)
        self.net.conv_proj = nn.Conv2d(1, hidden_dim, kernel_size=patch_size, stride=patch_size)
        self.backbone_info = "random init"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
