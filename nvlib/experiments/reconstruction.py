"""Event-to-frame reconstruction on held-out real face clips: ours (CVAE), a recurrent baseline, PIE-Net.

The experiment of Mastropasqua et al. (ICCV Workshops 2025; a conditional VAE reconstructs frames from
events), on data that exists: the real sample clips (:mod:`nvlib.datasets.samples`), cropped to the
face (one Haar box per clip, :func:`nvlib.datasets.faces.detect_clip_box`), resized to ``size`` x
``size`` gray, and turned into events with the v2e pixel model (:func:`nvlib.simulate.simulate_frames`,
default :class:`~nvlib.simulate.DVSParams`). For each frame ``k >= 1`` of a clip the window holds the
events in ``(t_{k-1}, t_k]`` (EVREAL's "between frames" windows) as a 5-bin voxel grid; every method
predicts frame ``k`` from that window and the true frame ``k - 1``.

Whole clips are held out: the models train on the windows of ``clips`` minus ``held_out`` and are
scored on every window of the ``held_out`` clips (:func:`check_no_leakage` refuses a split that shares a
clip name or an identical frame). Rows:

* ``ours (CVAE)``: :class:`nvlib.models.reconstruction.ReconstructionCVAE`, trained per seed;
* ``recurrent baseline``: :class:`nvlib.models.reconstruction.RecurrentReconstructor`, trained per seed;
* ``PIE-Net``: the pretrained ``event-pienet`` model, its condition ``f0`` set to the previous true frame
  (:class:`nvlib.models.reconstruction.PIENetPeer`);
* ``previous frame``: frame ``k - 1`` itself;
* ``mean frame``: the mean of the training clips' frames.

Metrics as EVREAL computes them (:mod:`nvlib.evaluation.reconstruction`). The paper's SSIM / PSNR came
from its own aligned face crops and real event cameras: :func:`paper_reconstruction` (read from ``params/paper_results.yaml``) is printed beside
the table as a reference, never as a row.

:func:`run_reconstruction_folds` repeats this over three folds of the nine clips (:data:`DEFAULT_FOLDS`), so
that every clip is held out once and the clip-level comparison has nine pairs instead of three.

Defaults are small (``size=40``, few epochs, 90 frames per clip) so that the workbook runs on a laptop CPU;
the paper setting is larger aligned face crops and longer training (its crop size and epochs are not given
in the text we have; e.g. ``size=120, epochs=60, max_frames=None``, a multiple of 20 for PIE-Net).
Everything is cached under ``results/reconstruction/<hash>/`` keyed by the configuration (per-frame scores
and weights per method and seed; the prepared clips under ``data/reconstruction/``), so a re-run with
the same settings only reads files, and a new seed trains only that seed.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from nvlib.evaluation.reconstruction import paired_comparison, reference_row, score_frames, ssim_torch, summary_table
from nvlib.models.reconstruction import (PIENetPeer, build_reconstructor, load_checkpoint, save_checkpoint)



def paper_reconstruction() -> dict:
    """Mastropasqua et al. (ICCV Workshops 2025), CVAE reconstruction on their own aligned face crops:
    ``{"SSIM": ..., "PSNR": ...}`` from the ``micro_expressions`` key of ``params/paper_results.yaml``."""
    from nvlib.experiments.au import paper_micro_results

    doc = paper_micro_results()
    return {"SSIM": float(doc["reconstruction_ssim"]), "PSNR": float(doc["reconstruction_psnr_db"])}


PAPER_NOTE = ("Mastropasqua et al. (ICCV-W 2025), own aligned face crops from a real event camera: a reference, "
              "not a like-for-like row")

DEFAULT_TRAIN = ("crema_1001_ANG", "crema_1001_DIS", "crema_1001_FEA", "crema_1001_HAP", "crema_1001_NEU",
                 "pexels_wolfganglanger")
DEFAULT_HELD_OUT = ("crema_1001_SAD", "feat_single_face", "carphone")

OURS, RECURRENT, PIENET, PREVIOUS, MEAN = "ours (CVAE)", "recurrent baseline", "PIE-Net", "previous frame", "mean frame"
ROWS = (OURS, RECURRENT, PIENET, PREVIOUS, MEAN)
TRAINED = {OURS: "cvae", RECURRENT: "recurrent"}
N_BINS = 5
#: bumped when the meaning of cached files changes
FORMAT = 1


# ----------------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class ReconClip:
    """One prepared clip: ``frames`` (T, S, S) uint8 face crops, ``fps``, ``voxels`` (T-1, bins, S, S)
    float32 (window k-1 -> k), ``n_events`` (T-1,) events per window, ``box`` the face box in the video."""

    name: str
    frames: np.ndarray
    fps: float
    voxels: np.ndarray
    n_events: np.ndarray
    box: tuple


def window_voxels(events, n_frames: int, fps: float, n_bins: int = N_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Voxel grids ``(n_frames - 1, n_bins, H, W)`` of the windows ``(t_{k-1}, t_k]`` between frames at
    ``t_k = k / fps`` (µs, rounded), and the event count per window. A window without events is zeros."""
    from nvlib.represent import frame_times_us, voxel_grid

    times = frame_times_us(n_frames, fps)
    w, h = events.sensor_size
    idx = np.searchsorted(times, events.t, side="left")  # k: t_{k-1} < t <= t_k
    vox = np.zeros((max(n_frames - 1, 0), n_bins, h, w), np.float32)
    counts = np.zeros(max(n_frames - 1, 0), np.int64)
    order = np.argsort(idx, kind="stable")
    bounds = np.searchsorted(idx[order], np.arange(1, n_frames + 1))
    for k in range(1, n_frames):
        sel = order[bounds[k - 1]:bounds[k]]
        counts[k - 1] = sel.size
        if sel.size:
            vox[k - 1] = voxel_grid(events[np.sort(sel)], (w, h), n_bins)
    return vox, counts


def _data_key(name: str, size: int, max_frames, n_bins: int) -> str:
    from nvlib.datasets.samples import SAMPLES

    doc = {"name": name, "sha": SAMPLES[name].sha256, "size": size, "max_frames": max_frames, "bins": n_bins,
           "format": FORMAT}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]


def prepare_clip(name: str, size: int = 40, max_frames: int | None = 90, n_bins: int = N_BINS,
                 cache_dir=None) -> ReconClip:
    """Crop, resize and simulate one sample clip (cached as ``<cache_dir>/<name>_<key>.npz``)."""
    from nvlib.datasets import faces
    from nvlib.datasets.samples import sample_path
    from nvlib.io.video import read_video
    from nvlib.simulate import simulate_frames
    from nvlib.workbook.atomic import atomic_path
    from nvlib.workbook.paths import data_dir

    cache_dir = Path(cache_dir) if cache_dir is not None else data_dir() / "reconstruction"
    path = cache_dir / f"{name}_{_data_key(name, size, max_frames, n_bins)}.npz"
    if path.is_file():
        z = np.load(path)
        return ReconClip(name, z["frames"], float(z["fps"]), z["voxels"], z["n_events"], tuple(z["box"].tolist()))
    frames, fps = read_video(sample_path(name), max_frames=max_frames, gray=True)
    if len(frames) < 2:
        raise ValueError(f"sample clip {name}: {len(frames)} frame(s); reconstruction needs at least 2")
    box = faces.detect_clip_box(frames)
    crops = faces.crop_resize(frames, box, int(size))
    events = simulate_frames(crops, fps=float(fps), name=name)
    vox, counts = window_voxels(events, len(crops), float(fps), n_bins)
    with atomic_path(path) as tmp:
        np.savez(tmp, frames=crops, fps=float(fps), voxels=vox, n_events=counts, box=np.asarray(tuple(box)))
    return ReconClip(name, crops, float(fps), vox, counts, tuple(int(v) for v in box))


def check_no_leakage(train: Sequence[ReconClip], test: Sequence[ReconClip]) -> None:
    """Raise ``ValueError`` when a test clip's name is among the training clips, or when any test frame is
    identical to a training frame (a clip copied under another name, or frames of a training clip)."""
    names = {c.name for c in train} & {c.name for c in test}
    if names:
        raise ValueError(f"held-out clip(s) {sorted(names)} are also training clips")
    seen = {hashlib.sha1(np.ascontiguousarray(f).tobytes()).hexdigest(): c.name for c in train for f in c.frames}
    for c in test:
        for k, f in enumerate(c.frames):
            h = hashlib.sha1(np.ascontiguousarray(f).tobytes()).hexdigest()
            if h in seen:
                raise ValueError(f"held-out clip {c.name} frame {k} is identical to a frame of training clip "
                                 f"{seen[h]}: frames leak from training into the evaluation")


def _tensors(clip: ReconClip):
    f = torch.from_numpy(clip.frames.astype(np.float32) / 255.0)[:, None]  # (T, 1, S, S)
    return torch.from_numpy(clip.voxels), f[:-1], f[1:]  # voxel k-1->k, prev, target


# ----------------------------------------------------------------------------------------------- training
def recon_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 + (1 - SSIM) / 2, the SSIM as EVREAL scores it (Gaussian σ = 1.5 window)."""
    return (pred - target).abs().mean() + 0.5 * (1 - ssim_torch(pred, target))


def _flip(*xs):
    return [x.flip(-1) for x in xs]


def train_reconstructor(name: str, train: Sequence[ReconClip], *, seed: int = 0, epochs: int = 12,
                        batch_size: int = 16, lr: float = 2e-3, beta: float = 0.01, seq_len: int = 6,
                        cfg: dict | None = None, device="cpu", progress: bool = False):
    """Train model ``name`` ("cvae" or "recurrent") on the windows of ``train`` clips; returns it in eval mode.

    Adam, ``lr``, ``epochs`` passes over the windows; random horizontal flips. The CVAE's loss is
    :func:`recon_loss` + ``beta`` · KL; the recurrent model trains on runs of ``seq_len`` consecutive
    windows of one clip (truncated back-propagation through time).
    """
    with torch.random.fork_rng(devices=[]):  # seeded, without touching the caller's generator
        torch.manual_seed(seed)
        return _train(name, train, seed, epochs, batch_size, lr, beta, seq_len, cfg, device, progress)


def _train(name, train, seed, epochs, batch_size, lr, beta, seq_len, cfg, device, progress):
    rng = np.random.default_rng(seed)
    model = build_reconstructor(name, cfg).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    data = [tuple(t.to(device) for t in _tensors(c)) for c in train]
    it = range(epochs)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, desc=f"train {name} seed {seed}", unit="epoch", leave=False)
    if name == "cvae":
        vox = torch.cat([d[0] for d in data])
        prev = torch.cat([d[1] for d in data])
        tgt = torch.cat([d[2] for d in data])
        n = vox.shape[0]
        for _ in it:
            perm = torch.from_numpy(rng.permutation(n))
            for i in range(0, n, batch_size):
                b = perm[i:i + batch_size]
                v, p, t = vox[b], prev[b], tgt[b]
                if rng.random() < 0.5:
                    v, p, t = _flip(v, p, t)
                out = model(v, p, target=t)
                loss = recon_loss(out["image"], t) + beta * out["kl"]
                opt.zero_grad()
                loss.backward()
                opt.step()
    else:
        starts = [(ci, s) for ci, d in enumerate(data) for s in range(0, max(1, d[0].shape[0] - seq_len + 1), seq_len)]
        per_batch = max(1, batch_size // 2)
        for _ in it:
            order = rng.permutation(len(starts))
            for i in range(0, len(order), per_batch):
                seqs = [starts[j] for j in order[i:i + per_batch]]
                L = min(seq_len, min(data[ci][0].shape[0] - s for ci, s in seqs))
                v = torch.stack([data[ci][0][s:s + L] for ci, s in seqs])
                p = torch.stack([data[ci][1][s:s + L] for ci, s in seqs])
                t = torch.stack([data[ci][2][s:s + L] for ci, s in seqs])
                if rng.random() < 0.5:
                    v, p, t = _flip(v, p, t)
                y = model(v, p)
                loss = recon_loss(y.flatten(0, 1), t.flatten(0, 1))
                opt.zero_grad()
                loss.backward()
                opt.step()
    return model.eval()


@torch.no_grad()
def predict_clip(model, clip: ReconClip, device="cpu") -> np.ndarray:
    """Predicted frames 1..T-1 of ``clip`` (float32 (T-1, S, S) in [0, 1]) from each window and the previous
    true frame; recurrent models (and PIE-Net) run window by window from a reset state."""
    vox, prev, _ = _tensors(clip)
    vox, prev = vox.to(device), prev.to(device)
    if getattr(model, "model_name", None) == "cvae":
        return model(vox, prev)["image"][:, 0].cpu().numpy()
    model.reset_states()
    out = [model.step(vox[k:k + 1], prev[k:k + 1])[0, 0].cpu().numpy() for k in range(vox.shape[0])]
    model.reset_states()
    return np.stack(out).astype(np.float32)


# ----------------------------------------------------------------------------------------------- the run
@dataclass
class ReconstructionResult:
    """What :func:`run_reconstruction` returns.

    ``table``: one row per method (:data:`ROWS`) with SSIM / MSE / PSNR means and their spread over held-out
    clips and over seeds, ``n frames``, ``n clips``, ``n seeds``, ``data``. ``comparisons``: ours against
    PIE-Net and the previous frame, SSIM, paired over held-out frames and over clips
    (:func:`nvlib.evaluation.reconstruction.paired_comparison`). ``examples``: ``{"clips", "frames",
    "n_events", "true": (n, S, S), "methods": {row: (n, S, S)}}`` (seed 0's reconstructions).
    ``frames``: every per-frame score. ``paper``: the paper's numbers as a reference row.
    """

    table: pd.DataFrame
    examples: dict
    comparisons: pd.DataFrame
    frames: pd.DataFrame
    paper: pd.DataFrame
    config: dict
    train_clips: list
    held_out: list
    checkpoints: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    cache_dir: Path | None = None


def _config_hash(cfg: dict) -> str:
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _pick_examples(clips: Sequence[ReconClip], n: int) -> list[tuple[int, int]]:
    """``n`` (clip index, window index) pairs, spread over clips, each the window with the most events left."""
    picks, used = [], set()
    for i in range(n):
        ci = i % len(clips)
        counts = clips[ci].n_events.astype(float).copy()
        for c, k in used:
            if c == ci:
                counts[k] = -1
        k = int(np.argmax(counts))
        used.add((ci, k))
        picks.append((ci, k))
    return picks


def run_reconstruction(clips=None, held_out=None, size: int = 40, epochs: int = 4, seeds=(0, 1), device="cpu",
                       results_root=None, progress: bool = False, max_frames: int | None = 90,
                       n_examples: int = 6, pienet_variant: str = "pie-net") -> ReconstructionResult:
    """Train ours and the recurrent baseline on ``clips`` minus ``held_out`` and score every row on ``held_out``.

    ``clips``: sample clip names (default :data:`DEFAULT_TRAIN` + :data:`DEFAULT_HELD_OUT`); ``held_out``:
    the clips to evaluate on (default: those of :data:`DEFAULT_HELD_OUT` among ``clips``); ``size``: crop
    side in pixels (PIE-Net pools by 2·2·5, so a multiple of 20 keeps its feature maps exact);
    ``epochs``: training passes; ``seeds``: one trained model per seed and method; ``max_frames``: frames
    decoded per clip. Small defaults (the workbook's); for the paper setting (larger crops, longer training)
    use e.g. ``size=120, epochs=60, max_frames=None``. ``device``: torch device for training and inference;
    ``progress``: tqdm bars; ``n_examples``: frames kept for :func:`plot_reconstructions`; ``pienet_variant``:
    "pie-net" or "pie-net-lite". Results are cached under ``results_root/reconstruction/<hash>/``
    (``results_root`` default ``results/``), per method and seed; the prepared clips under
    ``data/reconstruction/``.
    """
    from nvlib.workbook.atomic import atomic_path
    from nvlib.workbook.paths import results_dir

    t_start = time.perf_counter()
    names = list(clips) if clips is not None else list(DEFAULT_TRAIN + DEFAULT_HELD_OUT)
    held = list(held_out) if held_out is not None else [c for c in names if c in DEFAULT_HELD_OUT]
    if not held:
        raise ValueError(f"no held-out clip among {names}: pass held_out=[...]")
    missing = [c for c in held if c not in names]
    if missing and clips is not None:
        raise ValueError(f"held-out clip(s) {missing} are not among clips {names}")
    train_names = [c for c in names if c not in held]
    if not train_names:
        raise ValueError("every clip is held out: nothing to train on")
    seeds = [int(s) for s in seeds]
    cfg = {"train": train_names, "held_out": held, "size": int(size), "epochs": int(epochs), "bins": N_BINS,
           "max_frames": max_frames, "pienet": pienet_variant, "format": FORMAT,
           "models": {"cvae": build_reconstructor("cvae", {"image_size": size}).model_cfg,
                      "recurrent": build_reconstructor("recurrent", {"image_size": size}).model_cfg}}
    root = Path(results_root) if results_root is not None else results_dir()
    out_dir = root / "reconstruction" / _config_hash(cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "config.json") as tmp:
        tmp.write_text(json.dumps(cfg, indent=1, default=str))

    timings = {}
    t0 = time.perf_counter()
    train = [prepare_clip(n, size, max_frames) for n in train_names]
    test = [prepare_clip(n, size, max_frames) for n in held]
    check_no_leakage(train, test)
    timings["data_s"] = time.perf_counter() - t0

    mean_frame = np.mean(np.concatenate([c.frames for c in train]).astype(np.float64) / 255.0, axis=0)
    picks = _pick_examples(test, n_examples)
    examples = {"clips": [test[ci].name for ci, _ in picks], "frames": [k + 1 for _, k in picks],
                "n_events": [int(test[ci].n_events[k]) for ci, k in picks],
                "true": np.stack([test[ci].frames[k + 1].astype(np.float32) / 255 for ci, k in picks]),
                "methods": {}}

    units = [(row, s) for row in (OURS, RECURRENT) for s in seeds] + [(PIENET, -1), (PREVIOUS, -1), (MEAN, -1)]
    frames, checkpoints = [], {}
    it = units
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(units, desc="reconstruction", unit="row")
    for row, seed in it:
        tag = f"{TRAINED.get(row, row.replace(' ', '_').replace('-', '').lower())}_seed{seed}"
        scores_path = out_dir / f"scores_{tag}.csv"
        preds_path = out_dir / f"predictions_{tag}.npz"
        t0 = time.perf_counter()
        if scores_path.is_file() and preds_path.is_file():
            df = pd.read_csv(scores_path)
            with np.load(preds_path) as z:
                preds = {c.name: z[c.name].astype(np.float32) for c in test}
            if row in TRAINED:
                checkpoints.setdefault(row, []).append(out_dir / f"{tag}.pt")
        else:
            if row in TRAINED:
                ckpt = out_dir / f"{tag}.pt"
                if ckpt.is_file():
                    model, _ = load_checkpoint(ckpt)
                else:
                    model = train_reconstructor(TRAINED[row], train, seed=seed, epochs=epochs,
                                                cfg={"image_size": size}, device=device, progress=progress)
                    save_checkpoint(ckpt, model.cpu(), {"seed": seed, "train_clips": train_names, "size": size,
                                                        "epochs": epochs, "data": "events simulated from face crops"})
                    model.to(device)
                checkpoints.setdefault(row, []).append(ckpt)
                predict = lambda c: predict_clip(model, c, device)  # noqa: E731
            elif row == PIENET:
                peer = PIENetPeer(pienet_variant, device)
                predict = lambda c: predict_clip(peer, c, device)  # noqa: E731
            elif row == PREVIOUS:
                predict = lambda c: c.frames[:-1].astype(np.float32) / 255  # noqa: E731
            else:
                predict = lambda c: np.broadcast_to(mean_frame, c.frames[1:].shape).astype(np.float32)  # noqa: E731
            parts, preds = [], {}
            for c in test:
                p = predict(c)
                preds[c.name] = p
                s = score_frames(c.frames[1:].astype(np.float32) / 255, p)
                s["frame"] += 1
                s.insert(0, "clip", c.name)
                s["n_events"] = c.n_events
                parts.append(s)
            df = pd.concat(parts, ignore_index=True)
            df.insert(0, "seed", seed)
            df.insert(0, "method", row)
            with atomic_path(preds_path) as tmp:
                np.savez_compressed(tmp, **{k: v.astype(np.float16) for k, v in preds.items()})
            with atomic_path(scores_path) as tmp:
                df.to_csv(tmp, index=False)
        timings[f"{tag}_s"] = time.perf_counter() - t0
        frames.append(df)
        if row not in examples["methods"] or seed == min(seeds):
            examples["methods"][row] = np.stack([np.asarray(preds[test[ci].name][k], np.float16).astype(np.float32)
                                                   for ci, k in picks])
    frames = pd.concat(frames, ignore_index=True)
    from nvlib.datasets.samples import sample_group

    shared = sorted({c for c in held if sample_group(c) in {sample_group(t) for t in train_names}})
    same_person = (f" ({', '.join(shared)}: another recording of a person seen in training)" if shared else "")
    n_empty = int(sum((c.n_events == 0).sum() for c in test))
    n_win = int(sum(c.n_events.size for c in test))
    data = (f"held-out real sample clips {', '.join(held)}{same_person} ({n_win} windows, {n_empty} without events); "
            f"trained on "
            f"{', '.join(train_names)}; {size}x{size} gray face crops, events simulated with nvlib.simulate "
            f"(v2e pixel model, default parameters), {N_BINS}-bin voxel grids between frames")
    table = summary_table(frames, ROWS, data, seeded=(OURS, RECURRENT))
    comparisons = paired_comparison(frames, OURS, [PIENET, PREVIOUS], "ssim")
    timings["total_s"] = time.perf_counter() - t_start
    return ReconstructionResult(table=table, examples=examples, comparisons=comparisons, frames=frames,
                                paper=reference_row(paper_reconstruction(), PAPER_NOTE), config=cfg,
                                train_clips=train_names, held_out=held, checkpoints=checkpoints, timings=timings,
                                cache_dir=out_dir)


#: Three folds over the nine sample clips for :func:`run_reconstruction_folds`: each clip is held out once.
DEFAULT_FOLDS = (DEFAULT_HELD_OUT, ("crema_1001_ANG", "crema_1001_DIS", "pexels_wolfganglanger"),
                 ("crema_1001_FEA", "crema_1001_HAP", "crema_1001_NEU"))


def run_reconstruction_folds(folds=DEFAULT_FOLDS, **kw) -> ReconstructionResult:
    """:func:`run_reconstruction` once per fold (the fold's clips held out, the other folds' clips trained on),
    every clip held out exactly once; the table and the paired comparisons over all held-out clips together
    (more clips: more power at the clip level). ``kw`` as for :func:`run_reconstruction` (not ``clips`` /
    ``held_out``). ``examples`` come from the first fold; ``checkpoints`` and ``timings`` are per fold."""
    if "clips" in kw or "held_out" in kw:
        raise ValueError("run_reconstruction_folds: the folds set clips and held_out")
    folds = [list(f) for f in folds]
    names = [c for f in folds for c in f]
    if len(set(names)) != len(names):
        raise ValueError(f"run_reconstruction_folds: a clip is in two folds: {names}")
    canon = list(DEFAULT_TRAIN + DEFAULT_HELD_OUT)  # one clip order: the default run's cache is fold 1's
    names = sorted(names, key=lambda c: (canon.index(c) if c in canon else len(canon), c))
    results = [run_reconstruction(clips=names, held_out=f, **kw) for f in folds]
    frames = pd.concat([r.frames for r in results], ignore_index=True)
    first = results[0]
    size = first.config["size"]
    data = (f"{len(folds)} folds over real sample clips, each held out once by models trained on the other folds: "
            + "; ".join(f"[{', '.join(f)}]" for f in folds)
            + f" ({len(frames[frames['method'] == MEAN])} windows); {size}x{size} gray face crops, events simulated "
              f"with nvlib.simulate (v2e pixel model, default parameters), {N_BINS}-bin voxel grids between frames; "
              "the six CREMA-D clips show one actor")
    seeded = (OURS, RECURRENT)
    return ReconstructionResult(
        table=summary_table(frames, ROWS, data, seeded=seeded),
        examples=first.examples, comparisons=paired_comparison(frames, OURS, [PIENET, PREVIOUS], "ssim"),
        frames=frames, paper=first.paper, config={"folds": folds, **{k: v for k, v in first.config.items()
                                                                      if k not in ("train", "held_out")}},
        train_clips=[r.train_clips for r in results], held_out=[c for f in folds for c in f],
        checkpoints={i: r.checkpoints for i, r in enumerate(results)},
        timings={i: r.timings for i, r in enumerate(results)}, cache_dir=first.cache_dir)
