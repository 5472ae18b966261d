"""Video-based valence-arousal models (paper Sec. 4.1): a chunk of T=6 TBR frames in,
one (valence, arousal) per frame out.

Input (B, T, 1, S, S) float in [0, 1]; output (B, T, 2).

- ``IC3D``: a single-stream Inception-3D network (after Carreira and Zisserman 2017, I3D's
  RGB stream only): 3D stem, Inception blocks 3b, 3c, 4b with I3D's branch widths (scaled by
  ``width``), spatial pooling only (T is kept so every frame gets an output), per-frame head.
- ``ResNetLSTM``: ResNet18 per-frame features -> 3 LSTM layers (hidden 256) -> 2-layer MLP.
- ``ResNetTransformer``: ResNet18 features -> ``nn.Transformer`` (4 heads, 6 encoder and 6
  decoder layers; the decoder is fed the same projected feature sequence, so it outputs one
  token per frame) -> 2-layer MLP.
- ``ResNetFusion``: trained ResNet18 -> a video-level head over the T stacked features and a
  frame-level head, 128-d each, concatenated per frame -> 2-layer MLP.
MLPs use ReLU (paper). Feature size: the paper calls the ResNet feature 1024-d, but ResNet18's
pooled feature is 512-d; we use the 512-d feature as is (no extra projection), which is the
only reading consistent with "ResNet18".

Backbone: ``backbone`` is a weights source (``nvlib.models.backbones``). The paper freezes an
ImageNet ResNet18 in ResNet+LSTM and ResNet+Transformer; ``freeze_backbone=None`` (default)
freezes it when pretrained weights are given and trains it end to end from a random init
otherwise (a frozen random trunk would be a fixed random projection). ``backbone_info`` says which.
"""
from __future__ import annotations

import torch
from torch import nn

from nvlib.models.backbones import FEATURE_DIM, FrozenTrunk, resnet18_1ch


def _check_video(x: torch.Tensor, name: str) -> tuple[int, int]:
    if x.ndim != 5 or x.shape[2] != 1:
        raise ValueError(f"{name}: expected input (B, T, 1, H, W), got {tuple(x.shape)}")
    return x.shape[0], x.shape[1]


def _mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(inplace=True), nn.Linear(d_hidden, d_out))


class _ResNetFeatures(nn.Module):
    """Per-frame ResNet18 trunk: (B, T, 1, H, W) -> (B, T, 512)."""

    def __init__(self, backbone, freeze: bool | None):
        super().__init__()
        trunk, info = resnet18_1ch(None, backbone)
        pretrained = backbone not in (None, "random")
        frozen = pretrained if freeze is None else bool(freeze)
        self.features = FrozenTrunk(trunk, frozen)
        self.info = f"{info}, {'frozen' if frozen else 'trained'}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[:2]
        return self.features(x.reshape(b * t, *x.shape[2:])).reshape(b, t, -1)


class _Unit3d(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, k=(1, 1, 1), s=(1, 1, 1)):
        pad = tuple(kk // 2 for kk in k)
        super().__init__(nn.Conv3d(c_in, c_out, k, s, pad, bias=False), nn.BatchNorm3d(c_out),
                         nn.ReLU(inplace=True))


class _Inception3d(nn.Module):
    """I3D mixed block: 1x1x1 | 1x1x1->3x3x3 | 1x1x1->3x3x3 | maxpool->1x1x1, concatenated."""

    def __init__(self, c_in: int, b0: int, b1: tuple[int, int], b2: tuple[int, int], b3: int):
        super().__init__()
        self.b0 = _Unit3d(c_in, b0)
        self.b1 = nn.Sequential(_Unit3d(c_in, b1[0]), _Unit3d(b1[0], b1[1], (3, 3, 3)))
        self.b2 = nn.Sequential(_Unit3d(c_in, b2[0]), _Unit3d(b2[0], b2[1], (3, 3, 3)))
        self.b3 = nn.Sequential(nn.MaxPool3d(3, 1, 1), _Unit3d(c_in, b3))
        self.out_channels = b0 + b1[1] + b2[1] + b3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1(x), self.b2(x), self.b3(x)], dim=1)


class IC3D(nn.Module):
    """Single-stream Inception-3D regressor; ``width`` scales every channel count (1.0 = I3D's)."""

    kind = "video"

    def __init__(self, width: float = 1.0, num_outputs: int = 2, dropout: float = 0.0):
        super().__init__()
        c = lambda n: max(4, int(round(n * width)))  # noqa: E731
        self.stem = nn.Sequential(
            _Unit3d(1, c(64), (3, 7, 7), (1, 2, 2)), nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
            _Unit3d(c(64), c(64)), _Unit3d(c(64), c(192), (3, 3, 3)),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)))
        m3b = _Inception3d(c(192), c(64), (c(96), c(128)), (c(16), c(32)), c(32))
        m3c = _Inception3d(m3b.out_channels, c(128), (c(128), c(192)), (c(32), c(96)), c(64))
        m4b = _Inception3d(m3c.out_channels, c(192), (c(96), c(208)), (c(16), c(48)), c(64))
        self.blocks = nn.Sequential(m3b, m3c, nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)), m4b)
        self.head = nn.Sequential(nn.Dropout(dropout), _mlp(m4b.out_channels, 128, num_outputs))
        self.backbone_info = "random init (3D CNN, trained)"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_video(x, "IC3D")
        y = self.blocks(self.stem(x.transpose(1, 2)))  # (B, C, T, h, w)
        y = y.mean(dim=(3, 4)).transpose(1, 2)  # (B, T, C)
        return self.head(y)


class ResNetLSTM(nn.Module):
    """ResNet18 features -> LSTM (3 layers, hidden 256) -> MLP, one output per frame."""

    kind = "video"

    def __init__(self, backbone=None, freeze_backbone: bool | None = None, hidden: int = 256,
                 layers: int = 3, num_outputs: int = 2):
        super().__init__()
        self.features = _ResNetFeatures(backbone, freeze_backbone)
        self.lstm = nn.LSTM(FEATURE_DIM, hidden, num_layers=layers, batch_first=True)
        self.head = _mlp(hidden, 128, num_outputs)
        self.backbone_info = self.features.info

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_video(x, "ResNetLSTM")
        y, _ = self.lstm(self.features(x))
        return self.head(y)


class ResNetTransformer(nn.Module):
    """ResNet18 features -> Transformer encoder-decoder (4 heads, 6+6 layers) -> MLP per frame."""

    kind = "video"

    def __init__(self, backbone=None, freeze_backbone: bool | None = None, d_model: int = 512,
                 heads: int = 4, encoder_layers: int = 6, decoder_layers: int = 6, ff_dim: int = 1024,
                 max_len: int = 64, dropout: float = 0.1, num_outputs: int = 2):
        super().__init__()
        self.features = _ResNetFeatures(backbone, freeze_backbone)
        self.proj = nn.Identity() if d_model == FEATURE_DIM else nn.Linear(FEATURE_DIM, d_model)
        self.pos = nn.Parameter(torch.zeros(1, max_len, d_model))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.transformer = nn.Transformer(d_model, heads, encoder_layers, decoder_layers, ff_dim, dropout,
                                          batch_first=True)
        self.head = _mlp(d_model, 128, num_outputs)
        self.backbone_info = self.features.info

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, t = _check_video(x, "ResNetTransformer")
        if t > self.pos.shape[1]:
            raise ValueError(f"ResNetTransformer: chunk of {t} frames exceeds max_len {self.pos.shape[1]}")
        z = self.proj(self.features(x)) + self.pos[:, :t]
        return self.head(self.transformer(z, z))


class ResNetFusion(nn.Module):
    """Trained ResNet18 -> [video head over stacked features (128) | frame head (128)] -> MLP."""

    kind = "video"

    def __init__(self, backbone=None, freeze_backbone: bool | None = False, chunk: int = 6,
                 num_outputs: int = 2):
        super().__init__()
        self.chunk = chunk
        self.features = _ResNetFeatures(backbone, freeze_backbone)
        self.video_head = nn.Sequential(_mlp(chunk * FEATURE_DIM, 256, 128), nn.ReLU(inplace=True))
        self.frame_head = nn.Sequential(_mlp(FEATURE_DIM, 256, 128), nn.ReLU(inplace=True))
        self.head = _mlp(256, 128, num_outputs)
        self.backbone_info = self.features.info

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = _check_video(x, "ResNetFusion")
        if t != self.chunk:
            raise ValueError(f"ResNetFusion: built for chunks of {self.chunk} frames, got {t}")
        f = self.features(x)  # (B, T, 512)
        v = self.video_head(f.reshape(b, -1)).unsqueeze(1).expand(b, t, -1)
        return self.head(torch.cat([v, self.frame_head(f)], dim=-1))
