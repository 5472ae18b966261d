"""A spiking convolutional network for action-unit classification (Mastropasqua et al., ICCV-W 2025).

The paper classifies action units with spiking neural networks from events and from RGB frames; it
does not publish the architecture. This one is small enough to train on a CPU in seconds:

    per time step t:  conv3x3(C_in -> c1) -> maxpool 2 -> Leaky
                      conv3x3(c1 -> c2)   -> maxpool 2 -> Leaky
                      linear(c2 * (S/4)^2 -> hidden)   -> Leaky
                      linear(hidden -> n_classes)      -> Leaky (no reset: the readout integrator)
    logits = the readout's membrane potential averaged over the T time steps

Neurons are snntorch's ``Leaky`` (leaky integrate-and-fire: ``mem[t] = beta * mem[t-1] + input[t]``,
a spike where ``mem`` crosses the threshold 1, reset by subtraction) with a fast-sigmoid surrogate
gradient (Zenke & Ganguli, 2018; slope ``slope``) for backpropagation through time. The hidden
layers communicate only by spikes; the readout's spikes are not used (its membrane is the score),
a common choice for short training (Eshraghian et al., *Training spiking neural networks using lessons
from deep learning*, Proc. IEEE 2023).

Input: ``(B, T, C, S, S)`` float tensors: T time steps of C channels (event windows: C = 2, ON and OFF;
RGB frames: C = 1). The same class serves both modalities; only ``in_channels`` differs.
"""
from __future__ import annotations

import torch
from torch import nn


class SpikingAUNet(nn.Module):
    """Spiking CNN ``(B, T, C, S, S) -> (B, n_classes)`` logits (see the module docstring).

    ``image_size`` S must be divisible by 4. ``forward(x, record=True)`` also returns the spikes of
    every hidden layer, ``{"conv1": (T, B, c1, S/2, S/2), "conv2": ..., "fc1": (T, B, hidden)}``, and the
    readout membrane ``"readout": (T, B, n_classes)``.
    """

    kind = "spiking"

    def __init__(self, in_channels: int = 2, n_classes: int = 5, image_size: int = 24, channels=(8, 16),
                 hidden: int = 64, beta: float = 0.9, slope: float = 25.0, threshold: float = 1.0):
        super().__init__()
        import snntorch as snn
        from snntorch import surrogate

        if image_size % 4:
            raise ValueError(f"SpikingAUNet: image_size must be divisible by 4, got {image_size}")
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"SpikingAUNet: beta (membrane decay per step) must be in [0, 1], got {beta}")
        c1, c2 = (int(c) for c in channels)
        self.in_channels, self.n_classes, self.image_size = int(in_channels), int(n_classes), int(image_size)
        grad = surrogate.fast_sigmoid(slope=slope)
        self.conv1 = nn.Conv2d(self.in_channels, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc1 = nn.Linear(c2 * (image_size // 4) ** 2, hidden)
        self.fc2 = nn.Linear(hidden, n_classes)
        self.lif1 = snn.Leaky(beta=beta, threshold=threshold, spike_grad=grad)
        self.lif2 = snn.Leaky(beta=beta, threshold=threshold, spike_grad=grad)
        self.lif3 = snn.Leaky(beta=beta, threshold=threshold, spike_grad=grad)
        self.readout = snn.Leaky(beta=beta, threshold=threshold, spike_grad=grad, reset_mechanism="none")

    def forward(self, x: torch.Tensor, record: bool = False):
        if x.ndim != 5 or x.shape[2] != self.in_channels or x.shape[-1] != self.image_size \
                or x.shape[-2] != self.image_size:
            raise ValueError(f"SpikingAUNet: expected (B, T, {self.in_channels}, {self.image_size}, "
                             f"{self.image_size}), got {tuple(x.shape)}")
        mem1 = mem2 = mem3 = mem4 = None
        rec = {"conv1": [], "conv2": [], "fc1": [], "readout": []}
        total = 0.0
        for t in range(x.shape[1]):
            cur1 = nn.functional.max_pool2d(self.conv1(x[:, t]), 2)
            spk1, mem1 = self.lif1(cur1, torch.zeros_like(cur1) if mem1 is None else mem1)
            cur2 = nn.functional.max_pool2d(self.conv2(spk1), 2)
            spk2, mem2 = self.lif2(cur2, torch.zeros_like(cur2) if mem2 is None else mem2)
            cur3 = self.fc1(spk2.flatten(1))
            spk3, mem3 = self.lif3(cur3, torch.zeros_like(cur3) if mem3 is None else mem3)
            cur4 = self.fc2(spk3)
            _, mem4 = self.readout(cur4, torch.zeros_like(cur4) if mem4 is None else mem4)
            total = total + mem4
            if record:
                for k, v in (("conv1", spk1), ("conv2", spk2), ("fc1", spk3), ("readout", mem4)):
                    rec[k].append(v.detach())
        logits = total / x.shape[1]
        if record:
            return logits, {k: torch.stack(v) for k, v in rec.items()}
        return logits


def build_snn(in_channels: int, n_classes: int, **cfg) -> SpikingAUNet:
    """:class:`SpikingAUNet` with its resolved configuration attached as ``model_cfg``."""
    model = SpikingAUNet(in_channels=in_channels, n_classes=n_classes, **cfg)
    model.model_name = "snn_au"
    model.model_cfg = {"in_channels": in_channels, "n_classes": n_classes, **cfg}
    return model
