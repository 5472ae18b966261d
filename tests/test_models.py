"""nvlib.models: shapes, forward/backward on CPU, registry, backbone weight loading."""
from __future__ import annotations

import pytest
import torch
from torchvision.models import resnet18

from nvlib.models import (FRAME_MODELS, MODELS, VIDEO_MODELS, build_model, model_kind, param_count,
                          resolve_weights, to_one_channel)

SMALL = {"vit": dict(image_size=16), "ic3d": dict(width=0.125), "resnet_transformer": dict(d_model=64, ff_dim=64)}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_forward_backward_shapes(name):
    torch.manual_seed(0)
    m = build_model(name, **SMALL.get(name, {}))
    assert model_kind(name) == m.kind and m.model_name == name
    x = torch.rand(2, 1, 16, 16) if m.kind == "frame" else torch.rand(2, 6, 1, 16, 16)
    y = m(x)
    assert y.shape == ((2, 2) if m.kind == "frame" else (2, 6, 2))
    y.square().mean().backward()
    grads = [p.grad for p in m.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads)
    c = param_count(m)
    assert 0 < c["trainable"] <= c["total"]


def test_paper_configurations():
    vit = build_model("vit")  # 224x224, patch 8, depth 4, heads 4
    assert vit.net.image_size == 224 and vit.net.patch_size == 8
    assert len(vit.net.encoder.layers) == 4 and vit.net.encoder.layers[0].num_heads == 4
    lstm = build_model("resnet_lstm")
    assert (lstm.lstm.num_layers, lstm.lstm.hidden_size, lstm.lstm.input_size) == (3, 256, 512)
    tr = build_model("resnet_transformer")
    assert len(tr.transformer.encoder.layers) == 6 and len(tr.transformer.decoder.layers) == 6
    assert tr.transformer.encoder.layers[0].self_attn.num_heads == 4
    fu = build_model("resnet_fusion")
    assert fu.video_head[0][-1].out_features == 128 and fu.frame_head[0][-1].out_features == 128
    assert set(FRAME_MODELS) | set(VIDEO_MODELS) == set(MODELS)


def test_registry_errors():
    with pytest.raises(KeyError, match="unknown model 'resnet50'.*resnet18"):
        build_model("resnet50")
    with pytest.raises(TypeError, match="unknown option"):
        build_model("vit", depthh=3)
    with pytest.raises(ValueError, match=r"\(B, T, 1, H, W\)"):
        build_model("ic3d", width=0.125)(torch.rand(2, 1, 32, 32))


def test_one_channel_conversion_equals_gray_replicated_to_rgb(tmp_path):
    torch.manual_seed(0)
    rgb = resnet18(weights=None).eval()
    path = tmp_path / "resnet18-f37072fd.pth"
    torch.save(rgb.state_dict(), path)
    m = build_model("resnet18", weights=f"imagenet:{path}").eval()
    assert m.backbone_info == "ImageNet (resnet18-f37072fd.pth)"
    g = torch.rand(2, 1, 64, 64)
    rgb.fc = torch.nn.Identity()
    m.net.fc = torch.nn.Identity()
    torch.testing.assert_close(m(g), rgb(g.expand(-1, 3, -1, -1)), rtol=1e-4, atol=1e-5)
    assert to_one_channel({"conv1.weight": torch.ones(64, 3, 7, 7)})["conv1.weight"].shape == (64, 1, 7, 7)


def test_frozen_backbone_from_file_and_weight_errors(tmp_path):
    path = tmp_path / "r18.pth"
    torch.save(resnet18(weights=None).state_dict(), path)
    m = build_model("resnet_lstm", backbone=str(path))
    assert "frozen" in m.backbone_info and "ImageNet" in m.backbone_info
    assert not any(p.requires_grad for p in m.features.parameters())
    m.train()
    assert not m.features.features.trunk.training  # BatchNorm statistics stay fixed
    assert build_model("resnet_lstm").backbone_info == "random init, trained"  # never called ImageNet
    torch.save({"conv1.weight": torch.zeros(3, 3)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="bad.pth.*not a torchvision resnet18"):
        resolve_weights(str(tmp_path / "bad.pth"))
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        resolve_weights(str(tmp_path / "missing.pth"))


def test_hub_cache_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(FileNotFoundError, match="torch hub cache"):
        resolve_weights("hub")
    (tmp_path / "checkpoints").mkdir()
    sd = resnet18(weights=None).state_dict()
    torch.save(sd, tmp_path / "checkpoints" / "resnet18-f37072fd.pth")
    m = build_model("resnet_fusion", backbone="hub")
    assert m.backbone_info == "ImageNet (resnet18-f37072fd.pth, hub cache), trained"
    torch.testing.assert_close(m.features.features.trunk.layer1[0].conv1.weight, sd["layer1.0.conv1.weight"])
    torch.testing.assert_close(m.features.features.trunk.conv1.weight, sd["conv1.weight"].sum(1, keepdim=True))


def test_frame_resnet_checkpoint_as_backbone(tmp_path):
    from nvlib.train import save_checkpoint

    torch.manual_seed(1)
    frame = build_model("resnet18")
    save_checkpoint(tmp_path / "best.pt", frame)
    m = build_model("resnet_lstm", backbone=f"frame:{tmp_path / 'best.pt'}")
    assert m.backbone_info == f"frame ResNet18 of nvlib run {tmp_path.name}, frozen"
    torch.testing.assert_close(m.features.features.trunk.conv1.weight, frame.net.conv1.weight)
    save_checkpoint(tmp_path / "vit.pt", build_model("vit", image_size=16))
    with pytest.raises(ValueError, match="vit.pt.*not an nvlib checkpoint of the frame model 'resnet18'"):
        build_model("resnet_lstm", backbone=f"frame:{tmp_path / 'vit.pt'}")


def test_registry_defaults_resolve_and_rebuild_the_same_model():
    from nvlib.models import REGISTRY, build_model, default_cfg

    vit = build_model("vit", {"image_size": 32, "hidden_dim": 32, "mlp_dim": 64})
    assert vit.model_cfg == {**default_cfg("vit"), "image_size": 32, "hidden_dim": 32, "mlp_dim": 64}
    assert default_cfg("vit")["depth"] == REGISTRY["vit"].paper["depth"] == 4
    assert default_cfg("vit")["patch_size"] == REGISTRY["vit"].paper["patch_size"] == 8
    again = build_model("vit", vit.model_cfg)  # the resolved config alone rebuilds the same architecture
    assert [tuple(p.shape) for p in again.parameters()] == [tuple(p.shape) for p in vit.parameters()]
    assert build_model("ic3d", width=0.25).model_cfg["width"] == 0.25
    with pytest.raises(TypeError, match="unknown option"):
        build_model("vit", {"depthh": 3})
    with pytest.raises(KeyError, match="unknown model"):
        build_model("resnet50")
