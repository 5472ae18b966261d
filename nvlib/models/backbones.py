"""ResNet18 backbones for one-channel TBR frames, and where their weights come from.

The paper (Sec. 4.1) freezes a ResNet18 (He et al. 2016) pretrained on ImageNet. No
weights are downloaded here: ImageNet weights are read from a file the user names (a
torchvision ``resnet18`` state dict, e.g. ``resnet18-f37072fd.pth``) or from the torch hub
cache (``torch.hub.get_dir()/checkpoints``). The RGB stem is converted to one channel by
summing ``conv1.weight`` over its input channels, so a gray image ``g`` replicated into
three channels gives the same response as ``g`` through the summed kernel.

A weights *source* is one of
- ``None`` / ``"random"``: random initialisation (called "random init", never ImageNet);
- ``"hub"``: torchvision's ImageNet file in the torch hub cache (error when absent);
- ``"imagenet:<path>"`` or a plain path to a ``.pth``: a torchvision resnet18 state dict;
- ``"frame:<path>"``: the frame ResNet18 trained by ``nvlib.train`` (notebook 03) whose
  checkpoint holds ``model_name == "resnet18"``.
Every loader returns a human-readable ``info`` string that tables print as "backbone".
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn
from torchvision.models import resnet18

IMAGENET_RESNET18_FILE = "resnet18-f37072fd.pth"  # torchvision ResNet18_Weights.IMAGENET1K_V1
FEATURE_DIM = 512  # ResNet18's pooled feature (the paper says 1024; see nvlib.models.video)
RANDOM_INFO = "random init"


def hub_resnet18_path() -> Path | None:
    """torchvision's ImageNet ResNet18 file in the torch hub cache, or None when absent."""
    p = Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_RESNET18_FILE
    return p if p.is_file() else None


def to_one_channel(state: dict) -> dict:
    """Copy of a resnet state dict with ``conv1.weight`` (64,3,7,7) summed to (64,1,7,7)."""
    out = dict(state)
    w = out.get("conv1.weight")
    if w is not None and w.ndim == 4 and w.shape[1] == 3:
        out["conv1.weight"] = w.sum(dim=1, keepdim=True)
    return out


def _load_state(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"backbone weights file not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - re-raised with the file named
        raise ValueError(f"{path}: cannot be read as a torch state dict with weights_only=True ({e})") from e
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a dict of tensors, got {type(obj).__name__}")
    return obj


def imagenet_state(path: str | os.PathLike) -> dict:
    """Read a torchvision resnet18 ImageNet state dict, check it and convert conv1 to one channel."""
    path = Path(path)
    state = _load_state(path)
    w = state.get("conv1.weight")
    if w is None or tuple(w.shape) != (64, 3, 7, 7) or "layer4.1.bn2.weight" not in state:
        raise ValueError(f"{path}: not a torchvision resnet18 state dict (conv1.weight "
                         f"{None if w is None else tuple(w.shape)}, expected (64, 3, 7, 7))")
    return to_one_channel({k: v for k, v in state.items() if not k.startswith("fc.")})


def frame_checkpoint_state(path: str | os.PathLike) -> dict:
    """Trunk weights of a frame ResNet18 trained by ``nvlib.train`` (its ``fc`` head dropped)."""
    path = Path(path)
    ck = _load_state(path)
    if ck.get("model_name") != "resnet18" or not isinstance(ck.get("model"), dict):
        raise ValueError(f"{path}: not an nvlib checkpoint of the frame model 'resnet18' "
                         f"(model_name={ck.get('model_name')!r})")
    pre = "net."
    return {k[len(pre):]: v for k, v in ck["model"].items() if k.startswith(pre) and not k.startswith(pre + "fc.")}


def resolve_weights(source) -> tuple[dict | None, str]:
    """``(state dict or None, info)`` for a weights source (see module docstring)."""
    if source is None or source == "random":
        return None, RANDOM_INFO
    s = str(source)
    if s == "hub":
        p = hub_resnet18_path()
        if p is None:
            raise FileNotFoundError(f"no ImageNet resnet18 in the torch hub cache "
                                    f"({Path(torch.hub.get_dir()) / 'checkpoints' / IMAGENET_RESNET18_FILE}); "
                                    "name a file with 'imagenet:<path>'")
        return imagenet_state(p), f"ImageNet ({p.name}, hub cache)"
    if s.startswith("frame:"):
        p = Path(s[len("frame:"):])
        return frame_checkpoint_state(p), f"frame ResNet18 of nvlib run {p.parent.name}"
    if s.startswith("imagenet:"):
        s = s[len("imagenet:"):]
    p = Path(s)
    return imagenet_state(p), f"ImageNet ({p.name})"


def resnet18_1ch(num_outputs: int | None = 2, weights=None) -> tuple[nn.Module, str]:
    """torchvision ResNet18 with a one-channel stem. ``num_outputs=None`` gives the 512-d trunk
    (``fc = Identity``). Returns ``(module, backbone info)``."""
    net = resnet18(weights=None, num_classes=1000)
    net.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    state, info = resolve_weights(weights)
    if state is not None:
        missing, unexpected = net.load_state_dict(state, strict=False)
        bad = [k for k in missing if not k.startswith("fc.")] + list(unexpected)
        if bad:
            raise ValueError(f"backbone weights {weights!r} do not fit resnet18: {bad[:5]}")
    net.fc = nn.Identity() if num_outputs is None else nn.Linear(FEATURE_DIM, num_outputs)
    return net, info


def freeze(module: nn.Module) -> nn.Module:
    """Stop gradients through ``module`` (its BatchNorm statistics are kept by ``FrozenTrunk``)."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


class FrozenTrunk(nn.Module):
    """Wraps a feature extractor; when ``frozen`` it stays in eval mode and runs without grad."""

    def __init__(self, trunk: nn.Module, frozen: bool):
        super().__init__()
        self.trunk = freeze(trunk) if frozen else trunk
        self.frozen = frozen

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.trunk.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen:
            with torch.no_grad():
                return self.trunk(x)
        return self.trunk(x)
