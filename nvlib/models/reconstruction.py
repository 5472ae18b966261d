"""Event-to-frame reconstruction: a conditional VAE, a recurrent baseline, and the pretrained PIE-Net peer.

Task (Mastropasqua et al., "Exploring Spatial-Temporal Dynamics in Event-based Facial Micro-Expression
Analysis", ICCV Workshops 2025: frame reconstruction from events with a conditional VAE): given the
events between frame ``k-1`` and frame ``k`` and frame ``k-1`` itself, predict gray frame ``k``.

Inputs and outputs (every model here):

* ``voxel``: ``(B, n_bins, H, W)`` float32, the e2vid voxel grid of the window's events
  (:func:`nvlib.represent.voxel_grid`, polarity ±1, bilinear in time, not normalised);
* ``prev``: ``(B, 1, H, W)`` float32 in ``[0, 1]``, the previous gray frame;
* output: ``(B, 1, H, W)`` float32 in ``[0, 1]``, the predicted frame.

Models:

* :class:`ReconstructionCVAE` ("cvae", ours): a conditional VAE (Sohn, Lee, Yan, "Learning structured
  output representation using deep conditional generative models", NeurIPS 2015). The condition
  ``c = [voxel, prev]`` goes through a U-Net encoder; a prior network ``p(z | c)`` and a posterior
  network ``q(z | x, c)`` give a spatial Gaussian latent at 1/4 resolution; the U-Net-style decoder
  (Ronneberger et al., MICCAI 2015) takes the bottleneck features and ``z`` and the encoder's skip
  connections and predicts a residual added to ``prev`` (the last layer starts at zero, so an untrained
  model returns ``prev``). Training minimises reconstruction loss + ``beta`` · KL(q || p); prediction
  uses the prior mean (deterministic) or a prior sample.
* :class:`RecurrentReconstructor` ("recurrent", the simple baseline): a ConvGRU (Ballas et al., ICLR
  2016) at 1/2 resolution whose state is carried from window to window of a clip, on the same inputs,
  with a residual output; no latent variable, no skip connections.
* :class:`PIENetPeer`: the pretrained PIE-Net of the PyPI package ``event-pienet`` (MIT), run as its
  API expects: a 5-bin voxel grid per call, recurrent states kept between calls of one clip; its
  intensity condition (the attribute ``f0``, its previous intensity frame in ``[0, 1]``, shape
  ``(B, 1, H, W)``) is set to the previous true frame before each call, so it sees exactly what our
  models see. Its output is ``output["image"]`` in ``[0, 1]``.

Checkpoints (:func:`save_checkpoint`, :func:`load_checkpoint`) carry the kind
(``"nvlib.reconstruction"``), the model name and its full configuration, so that a checkpoint rebuilds
its model; anything else is refused with a message naming both settings.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

CHECKPOINT_KIND = "nvlib.reconstruction"


def _block(cin: int, cout: int, stride: int = 1, n: int = 2) -> nn.Sequential:
    """``n`` 3x3 convolutions (the first with ``stride``), each followed by GroupNorm(1) and SiLU."""
    layers = []
    for i in range(n):
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, stride=stride if i == 0 else 1, padding=1),
                   nn.GroupNorm(1, cout), nn.SiLU()]
    return nn.Sequential(*layers)


def _check_inputs(voxel: torch.Tensor, prev: torch.Tensor, n_bins: int, name: str) -> None:
    if voxel.ndim != 4 or voxel.shape[1] != n_bins:
        raise ValueError(f"{name}: voxel must be (B, {n_bins}, H, W), got {tuple(voxel.shape)}")
    if prev.ndim != 4 or prev.shape[1] != 1 or prev.shape[0] != voxel.shape[0] or prev.shape[2:] != voxel.shape[2:]:
        raise ValueError(f"{name}: prev must be (B, 1, H, W) matching voxel {tuple(voxel.shape)}, got "
                         f"{tuple(prev.shape)}")


class ReconstructionCVAE(nn.Module):
    """Conditional VAE with a U-Net decoder (see the module docstring).

    ``n_bins``: voxel bins; ``base``: channels at full resolution (doubled at each of the two
    downsamplings); ``z_channels``: latent channels at 1/4 resolution; ``image_size``: the side of the
    square frames it was built for (recorded in checkpoints; the convolutions take any size).
    """

    kind = "reconstruction"

    def __init__(self, n_bins: int = 5, base: int = 8, z_channels: int = 4, image_size: int = 40):
        super().__init__()
        self.n_bins, self.image_size = int(n_bins), int(image_size)
        c1, c2, c3 = base, 2 * base, 4 * base
        cin = n_bins + 1
        self.enc1, self.enc2, self.enc3 = _block(cin, c1, n=1), _block(c1, c2, 2), _block(c2, c3, 2)
        self.prior = nn.Conv2d(c3, 2 * z_channels, 3, padding=1)
        self.post_enc = nn.Sequential(_block(1, c1, 2, n=1), _block(c1, c2, 2, n=1))
        self.posterior = nn.Conv2d(c3 + c2, 2 * z_channels, 3, padding=1)
        self.dec3 = _block(c3 + z_channels, c3)
        self.dec2 = _block(c3 + c2, c2)
        self.dec1 = _block(c2 + c1, c1, n=1)
        self.out = nn.Conv2d(c1, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def _encode(self, voxel, prev):
        _check_inputs(voxel, prev, self.n_bins, type(self).__name__)
        s1 = self.enc1(torch.cat([voxel, prev], 1))
        s2 = self.enc2(s1)
        h = self.enc3(s2)
        return s1, s2, h

    def _decode(self, s1, s2, h, z, prev):
        d = self.dec3(torch.cat([h, z], 1))
        d = F.interpolate(d, size=s2.shape[-2:], mode="bilinear", align_corners=False)
        d = self.dec2(torch.cat([d, s2], 1))
        d = F.interpolate(d, size=s1.shape[-2:], mode="bilinear", align_corners=False)
        d = self.dec1(torch.cat([d, s1], 1))
        return (prev + self.out(d)).clamp(0.0, 1.0)

    def forward(self, voxel: torch.Tensor, prev: torch.Tensor, target: torch.Tensor | None = None,
                sample: bool = False) -> dict:
        """``{"image", "kl"}``; with ``target`` (training) ``z`` is drawn from the posterior and ``kl``
        is KL(q(z|x,c) || p(z|c)) per element (mean); without it ``z`` is the prior mean (or a prior
        sample when ``sample``) and ``kl`` is 0."""
        s1, s2, h = self._encode(voxel, prev)
        p_mu, p_logvar = self.prior(h).chunk(2, 1)
        p_logvar = p_logvar.clamp(-8, 8)
        if target is not None:
            x = self.post_enc(target)
            x = F.interpolate(x, size=h.shape[-2:], mode="bilinear", align_corners=False)
            q_mu, q_logvar = self.posterior(torch.cat([h, x], 1)).chunk(2, 1)
            q_logvar = q_logvar.clamp(-8, 8)
            z = q_mu + torch.randn_like(q_mu) * torch.exp(0.5 * q_logvar)
            kl = 0.5 * (p_logvar - q_logvar + (q_logvar.exp() + (q_mu - p_mu) ** 2) / p_logvar.exp() - 1)
            kl = kl.mean()
        else:
            z = p_mu + torch.randn_like(p_mu) * torch.exp(0.5 * p_logvar) if sample else p_mu
            kl = voxel.new_zeros(())
        return {"image": self._decode(s1, s2, h, z, prev), "kl": kl}

    def reset_states(self) -> None:
        """No state between windows (kept for a common interface with the recurrent models)."""

    def step(self, voxel: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """One window: the predicted frame (prior mean)."""
        return self.forward(voxel, prev)["image"]


class ConvGRUCell(nn.Module):
    """Convolutional GRU cell (Ballas et al., ICLR 2016), 3x3 gates."""

    def __init__(self, cin: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(cin + hidden, 2 * hidden, 3, padding=1)
        self.cand = nn.Conv2d(cin + hidden, hidden, 3, padding=1)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden, *x.shape[-2:])
        r, u = torch.sigmoid(self.gates(torch.cat([x, h], 1))).chunk(2, 1)
        c = torch.tanh(self.cand(torch.cat([x, r * h], 1)))
        return (1 - u) * h + u * c


class RecurrentReconstructor(nn.Module):
    """The simple recurrent baseline: conv (stride 2) -> ConvGRU -> upsample -> residual on ``prev``.

    The hidden state persists across calls until :meth:`reset_states` (call it at each clip start);
    ``forward(voxels, prevs)`` runs a whole sequence ``(B, T, n_bins, H, W)``, ``(B, T, 1, H, W)`` from a
    fresh state and returns ``(B, T, 1, H, W)`` (training); :meth:`step` runs one window (inference).
    """

    kind = "reconstruction"

    def __init__(self, n_bins: int = 5, hidden: int = 16, image_size: int = 40):
        super().__init__()
        self.n_bins, self.image_size = int(n_bins), int(image_size)
        self.enc = _block(n_bins + 1, hidden, 2, n=1)
        self.cell = ConvGRUCell(hidden, hidden)
        self.dec = _block(hidden + n_bins + 1, hidden, n=1)
        self.out = nn.Conv2d(hidden, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.state = None

    def reset_states(self) -> None:
        self.state = None

    def _one(self, voxel, prev, h):
        _check_inputs(voxel, prev, self.n_bins, type(self).__name__)
        x = torch.cat([voxel, prev], 1)
        h = self.cell(self.enc(x), h)
        d = F.interpolate(h, size=x.shape[-2:], mode="bilinear", align_corners=False)
        d = self.dec(torch.cat([d, x], 1))
        return (prev + self.out(d)).clamp(0.0, 1.0), h

    def forward(self, voxels: torch.Tensor, prevs: torch.Tensor) -> torch.Tensor:
        if voxels.ndim != 5 or prevs.ndim != 5:
            raise ValueError(f"RecurrentReconstructor.forward takes sequences (B, T, C, H, W), got "
                             f"{tuple(voxels.shape)} and {tuple(prevs.shape)}")
        h, outs = None, []
        for t in range(voxels.shape[1]):
            y, h = self._one(voxels[:, t], prevs[:, t], h)
            outs.append(y)
        return torch.stack(outs, 1)

    def step(self, voxel: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        y, self.state = self._one(voxel, prev, self.state)
        return y


RECONSTRUCTORS: dict[str, type[nn.Module]] = {"cvae": ReconstructionCVAE, "recurrent": RecurrentReconstructor}


def build_reconstructor(name: str, cfg: dict | None = None) -> nn.Module:
    """Model ``name`` ("cvae" or "recurrent") from ``cfg`` (constructor options); carries ``model_name`` and
    ``model_cfg`` (the resolved options, what a checkpoint stores)."""
    if name not in RECONSTRUCTORS:
        raise ValueError(f"unknown reconstruction model {name!r}; choose one of {sorted(RECONSTRUCTORS)}")
    import inspect

    cls = RECONSTRUCTORS[name]
    sig = inspect.signature(cls.__init__)
    defaults = {k: p.default for k, p in sig.parameters.items() if k != "self"}
    unknown = sorted(set(cfg or {}) - set(defaults))
    if unknown:
        raise ValueError(f"reconstruction model {name!r}: unknown option(s) {unknown}; options: {sorted(defaults)}")
    resolved = {**defaults, **(cfg or {})}
    model = cls(**resolved)
    model.model_name, model.model_cfg = name, resolved
    return model


def save_checkpoint(path: str | os.PathLike, model: nn.Module, meta: dict | None = None) -> Path:
    """Write ``model`` (built by :func:`build_reconstructor`) to ``path`` atomically, with ``meta`` (e.g. the
    data it was trained on, the seed)."""
    from nvlib.workbook.atomic import atomic_path

    doc = {"kind": CHECKPOINT_KIND, "model": model.model_name, "cfg": dict(model.model_cfg),
           "state_dict": model.state_dict(), "meta": dict(meta or {})}
    with atomic_path(path) as tmp:
        torch.save(doc, tmp)
    return Path(path)


def _settings(doc) -> str:
    if not isinstance(doc, dict):
        return f"a {type(doc).__name__}, not a checkpoint dictionary"
    kind = doc.get("kind") or ("a valence-arousal training checkpoint" if "model_cfg" in doc or "model_name" in doc
                               else "no 'kind'")
    model = doc.get("model") or doc.get("model_name") or "unknown model"
    cfg = doc.get("cfg") or doc.get("model_cfg") or {}
    return f"kind {kind!r}, model {model!r}, settings {cfg}"


def load_checkpoint(path: str | os.PathLike, map_location="cpu") -> tuple[nn.Module, dict]:
    """``(model in eval mode, meta)`` from a checkpoint written by :func:`save_checkpoint`.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file, what it holds and
    what is needed for a file that is not a reconstruction checkpoint, or whose weights do not fit the
    configuration it states.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        doc = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's wrong input
        raise ValueError(f"{path}: not a readable torch checkpoint ({type(e).__name__}: {e})") from None
    need = f"kind {CHECKPOINT_KIND!r}, model one of {sorted(RECONSTRUCTORS)}"
    if not isinstance(doc, dict) or doc.get("kind") != CHECKPOINT_KIND or doc.get("model") not in RECONSTRUCTORS:
        raise ValueError(f"{path}: wrong checkpoint: it holds {_settings(doc)}; nvlib reconstruct needs {need}")
    try:
        model = build_reconstructor(doc["model"], doc.get("cfg") or {})
        model.load_state_dict(doc["state_dict"])
    except (ValueError, RuntimeError, TypeError) as e:
        first = " ".join(str(e).split())[:300]
        raise ValueError(f"{path}: wrong checkpoint: its weights do not fit the settings it states "
                         f"({_settings(doc)}): {first}") from None
    return model.eval(), dict(doc.get("meta") or {})


class PIENetPeer:
    """The pretrained PIE-Net (``event-pienet``, MIT; weights shipped in the package) as a peer.

    ``variant``: "pie-net" or "pie-net-lite". :meth:`reset_states` at each clip start; :meth:`step`
    takes a ``(B, 5, H, W)`` voxel grid and the previous true frame ``(B, 1, H, W)`` in ``[0, 1]``, sets
    the model's intensity condition ``f0`` to that frame, calls the model and returns ``output["image"]``.
    Raises ``ImportError`` naming the package when it is not installed.
    """

    n_bins = 5

    def __init__(self, variant: str = "pie-net", device="cpu"):
        try:
            import pie_net
        except ImportError as e:
            raise ImportError("PIE-Net needs the package event-pienet (pip install --no-deps event-pienet==1.1.3)"
                              ) from e
        self.variant = variant
        self.version = getattr(pie_net, "__version__", "?")
        self.model = pie_net.load_model(pretrained=True, device=str(device), variant=variant).eval()

    def reset_states(self) -> None:
        self.model.reset_states()

    @torch.no_grad()
    def step(self, voxel: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        _check_inputs(voxel, prev, self.n_bins, "PIE-Net")
        self.model.f0 = prev.to(voxel.dtype)
        return self.model(voxel)["image"].clamp(0.0, 1.0)
