"""NEFER's supervised baselines, rerun: a 3D CNN trained on event frame clips and the same network
on RGB frame clips, NEFER's split, both label versions, over seeds, with statistics a reader can trust.

What NEFER did (Berlincioni et al., "Neuromorphic Event-based Facial Expression Recognition", CVPRW
2023): a 3D CNN trained to classify a (user, video) sequence from its event frames, and the same
network trained on the paired RGB (GoPro) frames; 20 training users, 6 validation users (03, 07, 17,
19, 27, 28). The valence-arousal paper (Berlincioni et al., Table 5) quotes NEFER's event and RGB
accuracies beside its 7-class a-priori zero-shot results (the published numbers belong in
``params/paper_results.yaml``). The architecture, clip length, input size and schedule of NEFER's
network are not given in the material this project has, so the settings below are ours.

What this module does (the protocol, our choices marked):

* data: :class:`nvlib.datasets.nefer_torch.NEFERSequences`, training users for training, the
  validation users for scoring only (a sequence that would also be in the validation set is left out
  of training and reported); event frames = the event frames of the NEFER tree, RGB = its GoPro
  frames; ``n_frames`` evenly spaced frames of the 51, resized to ``size`` pixels (ours);
* network (ours): :class:`ClipClassifier`, nvlib's ``ic3d`` (a single-stream Inception-3D,
  :class:`nvlib.models.IC3D`) at ``width``, its per-frame head giving class logits that are averaged
  over the clip; for RGB a learned 1x1x1 convolution maps the 3 colour channels to the 1 input
  channel, so that the rest of the network is the same for both modalities; random init;
* training (ours): AdamW (``lr``, ``weight_decay``), cross-entropy, ``epochs`` passes in batches
  of ``batch_size``, shuffled by the seed; the model after the last epoch is scored (NEFER has no
  test split besides validation, so no epoch is picked on the validation scores);
* classes: 7 a-priori classes (``labels="expected"``, chance 1/7) or 8 reported ones including
  "None" (``labels="reported"``, chance 1/8);
* statistics (:mod:`nvlib.evaluation.classification`): per seed the accuracy on the validation
  sequences; a row gives their mean and sample std over seeds and the per-seed values. The Wilson
  95 % interval, the exact one-sided binomial p-value against chance, macro-F1, per-class accuracy
  and the confusion matrix are those of ONE trained model, the first seed's (``stats_seed``), on the
  ``n`` validation sequences: pooling the seeds' predictions would count each sequence once per seed
  and give an interval too narrow for ``n`` independent sequences. ``majority_baseline`` is the
  accuracy of always answering the most frequent training class (useful for the unbalanced
  reported labels).

The default run is small (``size`` 32, 8 frames, 3 epochs, ``width`` 0.25) so that a notebook can
call it on a synthetic NEFER-layout tree in seconds. :data:`FULL_SCALE` is the setting we would use
on the real NEFER data (our choice, not NEFER's published one, which we do not know).

Results, one JSON per (modality, label version, seed), in ``results/`` (``NVLIB_RESULTS``) or
``results_root``, reused by a re-run with the same configuration (so a stopped run resumes at the
next unfinished seed)::

    results/nefer_baseline_<modality>_<labels>_<data>_seed<s>_<hash>.json

``<hash>`` covers every setting that changes a result (network, training, clip, classes, seed) and
the data (per sequence of each split: id, user, label, the chosen frames' paths and byte sizes); the
key is stored in the file and checked on reuse. Each file holds the per-sequence validation
predictions, the training sequences and users, and the loss per epoch. While a seed trains, its state
after each epoch is kept in ``runs/nefer_baselines/<result name>.last.pt``, so a stopped run also
resumes within a seed (deleted once the result is written).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

#: The ``source`` column of every row this module writes.
SOURCE = "ours (NEFER baseline protocol)"
#: Bumped when the meaning of a stored baseline result changes (older files are then retrained).
RESULTS_FORMAT = "nefer-baseline/1"
METHOD_NAMES = {"events": "3D CNN (IC3D), event frames", "rgb": "3D CNN (IC3D), RGB frames"}
#: The setting we would use on the real NEFER data (our choice; NEFER does not state its own in the
#: material we have): all 51 frames at 112 px, the full-width IC3D, 30 epochs, 3 seeds; meant for a GPU.
FULL_SCALE = {"n_frames": 51, "size": 112, "width": 1.0, "epochs": 30, "batch_size": 8, "lr": 1e-4,
              "weight_decay": 1e-2, "seeds": (0, 1, 2)}
COLUMNS = ("method", "source", "data", "modality", "labels", "n_classes", "chance", "n_train", "n", "seeds",
           "accuracies", "accuracy_mean", "accuracy_std", "stats_seed", "correct", "accuracy", "ci_lo", "ci_hi",
           "p_vs_chance", "macro_f1", "macro_f1_mean", "majority_baseline", "n_problems", "n_trained",
           "n_reused")
PREDICTION_COLUMNS = ("method", "modality", "labels", "seed", "sequence", "gopro", "user", "true", "pred",
                      "true_name", "pred_name", "correct")


@dataclass(frozen=True)
class BaselineConfig:
    """Everything but the seed and the data that defines one baseline result."""

    n_frames: int = 8
    size: int = 32
    epochs: int = 3
    width: float = 0.25
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-2

    def __post_init__(self):
        if int(self.epochs) < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if int(self.batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.width > 0:
            raise ValueError(f"width must be > 0, got {self.width}")


class ClipClassifier(nn.Module):
    """A clip classifier built on nvlib's ``ic3d``: input ``(B, T, C, S, S)`` in [0, 1], output
    class logits ``(B, n_classes)`` = the IC3D per-frame outputs (``num_outputs = n_classes``)
    averaged over the ``T`` frames. ``in_channels`` > 1 (RGB) adds a learned 1x1x1 convolution to one
    channel in front, so the 3D CNN itself is the same for every modality."""

    def __init__(self, n_classes: int, in_channels: int = 1, width: float = 0.25):
        super().__init__()
        from nvlib.models import build_model

        self.proj = nn.Conv3d(in_channels, 1, kernel_size=1) if in_channels != 1 else None
        self.net = build_model("ic3d", {"width": float(width), "num_outputs": int(n_classes)})
        self.backbone_info = self.net.backbone_info

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 5:
            raise ValueError(f"ClipClassifier: expected input (B, T, C, H, W), got {tuple(x.shape)}")
        if self.proj is not None:
            x = self.proj(x.transpose(1, 2)).transpose(1, 2)
        return self.net(x).mean(dim=1)


def _as_float(x: torch.Tensor) -> torch.Tensor:
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int, batch_size: int,
                     lr: float, weight_decay: float, seed: int, device="cpu", progress: bool = False,
                     desc: str = "", checkpoint: str | Path | None = None, key: dict | None = None) -> list[float]:
    """Train ``model`` with cross-entropy on clips ``x`` ``(N, T, C, S, S)`` (float in [0, 1], or uint8
    0..255, scaled per batch) and labels ``y`` ``(N,)`` (AdamW, ``epochs`` passes, batches shuffled by a generator seeded with ``seed``). Returns the
    mean training loss of each epoch. A non-finite loss raises
    :class:`nvlib.train.NonFiniteLossError`.

    ``checkpoint``: a file written (atomically) after every epoch with the model, optimizer and
    shuffling state; when it exists and was written for the same ``key``, training resumes after its
    last finished epoch, and the result equals an uninterrupted run's (same seed, CPU). A checkpoint of
    another ``key`` is ignored and overwritten."""
    from tqdm.auto import tqdm

    from nvlib.train import NonFiniteLossError
    from nvlib.workbook.atomic import atomic_path

    n = int(x.shape[0])
    if n == 0:
        raise ValueError("train_classifier: no training clips")
    device = torch.device(device)
    gen = torch.Generator().manual_seed(int(seed))
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    history: list[float] = []
    tag = json.dumps({"key": key, "seed": int(seed)}, sort_keys=True, default=str)
    if checkpoint is not None and Path(checkpoint).is_file():
        try:
            state = torch.load(checkpoint, map_location=device, weights_only=True)
        except Exception:  # an unreadable checkpoint is started over (and replaced)
            state = None
        if state is not None and state.get("tag") == tag and int(state["epoch"]) <= int(epochs):
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            gen.set_state(state["generator"])
            history = [float(v) for v in state["history"]]
    start = len(history)
    epochs_left = range(start, int(epochs))
    bar = tqdm(epochs_left, desc=desc or "training", leave=False) if progress else epochs_left
    for epoch in bar:
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for b in range(0, n, int(batch_size)):
            idx = perm[b:b + int(batch_size)]
            xb, yb = _as_float(x[idx].to(device)), y[idx].to(device)
            loss = nn.functional.cross_entropy(model(xb), yb)
            if not torch.isfinite(loss):
                raise NonFiniteLossError(f"{desc}: non-finite loss in epoch {epoch + 1}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / n)
        if progress:
            bar.set_postfix(loss=f"{history[-1]:.3f}")
        if checkpoint is not None:
            with atomic_path(checkpoint) as tmp:
                torch.save({"tag": tag, "epoch": epoch + 1, "model": model.state_dict(),
                            "optimizer": opt.state_dict(), "generator": gen.get_state(), "history": history}, tmp)
    return history


@torch.no_grad()
def predict_classes(model: nn.Module, x: torch.Tensor, batch_size: int = 16, device="cpu") -> np.ndarray:
    """Arg-max class of each clip (float in [0, 1] or uint8 0..255, as in :func:`train_classifier`;
    eval mode), int64 ``(N,)``."""
    device = torch.device(device)
    model.to(device).eval()
    out = [model(_as_float(x[b:b + batch_size].to(device))).argmax(dim=1).cpu()
           for b in range(0, int(x.shape[0]), batch_size)]
    return torch.cat(out).numpy().astype(np.int64) if out else np.zeros(0, np.int64)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(name)).strip("-") or "data"


def result_path(root: Path, modality: str, labels: str, data: str, seed: int, key: dict) -> tuple[Path, str]:
    """Where one seed's result lives: ``<root>/nefer_baseline_<modality>_<labels>_<data>_seed<s>_<hash>.json``."""
    h = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:10]
    return root / f"nefer_baseline_{modality}_{labels}_{_safe(data)}_seed{int(seed)}_{h}.json", h


def _load_matching(path: Path, key: dict) -> dict | None:
    from nvlib.evaluation.results import read_results_json

    if not path.is_file():
        return None
    try:
        doc = read_results_json(path)
    except ValueError:
        return None  # a damaged file is retrained (and replaced)
    return doc if doc.get("key") == json.loads(json.dumps(key, default=str)) else None


def _split_guard(train, val) -> list:
    """Leave out of training every sequence whose user or id is in the validation set; the problems."""
    from nvlib.datasets.nefer import Problem

    val_users, val_ids = set(val.users), set(val.sequences)
    keep, problems = [], []
    for i, (s, u) in enumerate(zip(train.sequences, train.users)):
        if u in val_users or s in val_ids:
            problems.append(Problem(train.annotation_file, train._rows[i], s,
                                    f"user_{u} / sequence also in the validation set; left out of training"))
        else:
            keep.append(i)
    if len(keep) != len(train.sequences):
        for attr in ("sequences", "gopro", "users", "frame_paths", "_sizes", "_rows"):
            setattr(train, attr, [getattr(train, attr)[i] for i in keep])
        train.targets = train.targets[keep]
    return problems


def _train_seed(train, val, cfg: BaselineConfig, classes, seed: int, device, progress: bool, desc: str,
                checkpoint: Path | None = None, key: dict | None = None) -> dict:
    from nvlib.evaluation.classification import accuracy_summary
    from nvlib.train import seed_everything

    def clips(ds):  # uint8 (N, T, C, S, S) views of the decoded clips; scaled to [0, 1] per batch
        return torch.from_numpy(ds.load()).permute(0, 1, 4, 2, 3), torch.from_numpy(ds.targets.copy())

    xt, yt = clips(train)
    xv, yv = clips(val)
    seed_everything(int(seed))
    model = ClipClassifier(len(classes), in_channels=train.channels, width=cfg.width)
    history = train_classifier(model, xt, yt, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                               weight_decay=cfg.weight_decay, seed=seed, device=device, progress=progress,
                               desc=desc, checkpoint=checkpoint, key=key)
    pred = predict_classes(model, xv, device=device)
    summary = accuracy_summary(yv.numpy(), pred, len(classes))
    counts = np.bincount(yt.numpy(), minlength=len(classes))
    majority = int(np.argmax(counts))
    summary["majority_baseline"] = float(np.mean(yv.numpy() == majority)) if len(yv) else float("nan")
    return {"metrics": summary, "backbone": model.backbone_info, "history": history,
            "train": {"sequences": list(train.sequences), "users": sorted(set(train.users)),
                      "n": len(train.sequences)},
            "predictions": {"sequence": list(val.sequences), "gopro": list(val.gopro), "user": list(val.users),
                            "true": [int(v) for v in yv.tolist()], "pred": [int(v) for v in pred.tolist()]}}


def run_nefer_baselines(nefer_root, labels=("expected", "reported"), modalities=("events", "rgb"),
                        seeds=(0, 1, 2), epochs: int = 3, size: int = 32, n_frames: int = 8, device="cpu",
                        results_root=None, progress: bool = False, *, width: float = 0.25, batch_size: int = 8,
                        lr: float = 1e-3, weight_decay: float = 1e-2, stats_seed: int | None = None,
                        data_name: str | None = None, annotations_dir=None, runs_root=None) -> pd.DataFrame:
    """Train (or reuse) NEFER's supervised baselines and score them on NEFER's validation users.

    One row per (modality, label version), in the order of ``modalities`` then ``labels``; columns
    :data:`COLUMNS`: ``method`` (:data:`METHOD_NAMES`), ``source`` (:data:`SOURCE`), ``data`` (the
    data's name: ``data_name`` or the root folder's name), ``modality``, ``labels``, ``n_classes``,
    ``chance`` (1 / n_classes), ``n_train`` and ``n`` (training / validation sequences), ``seeds``,
    ``accuracies`` (per seed, fractions), ``accuracy_mean``, ``accuracy_std`` (sample std, nan for one
    seed), then for ``stats_seed`` (default: the first seed) ``correct``, ``accuracy``, ``ci_lo``,
    ``ci_hi`` (Wilson 95 %), ``p_vs_chance`` (exact one-sided binomial), ``macro_f1``; then
    ``macro_f1_mean`` over seeds, ``majority_baseline``, ``n_problems``, ``n_trained`` / ``n_reused``
    (seeds trained now / read back from ``results_root``).

    ``df.attrs``: ``"predictions"``, a DataFrame with one row per (method, seed, validation sequence)
    (:data:`PREDICTION_COLUMNS`; ``sequence`` is NEFER's event sequence id, the key every NEFER method
    shares, so McNemar's test can pair methods: :func:`correct_by_sequence`); ``"summaries"``,
    ``{"<modality>/<labels>": accuracy_summary of stats_seed}`` (per-class accuracy, confusion
    matrix); ``"problems"``, a DataFrame (modality, labels, split, file, row, sequence, reason) of
    every sequence left out; ``"classes"``, ``{labels: class names}``; ``"results"``, the result
    files. ``runs_root`` (default ``runs/nefer_baselines``): where a seed being trained keeps its
    per-epoch resume state (deleted once its result is written). See the module docstring for the
    protocol. Bad input (missing frames, labels outside the class list, users outside the split) is
    counted in ``"problems"`` and the run goes on; a (modality, labels) with no training or no
    validation sequence left gives a row of nan scores.
    """
    from nvlib.datasets.nefer_torch import LABEL_VERSIONS, MODALITIES, NEFERSequences, default_classes
    from nvlib.evaluation.results import write_results_json
    from nvlib.workbook.paths import results_dir, runs_dir

    cfg = BaselineConfig(n_frames=int(n_frames), size=int(size), epochs=int(epochs), width=float(width),
                         batch_size=int(batch_size), lr=float(lr), weight_decay=float(weight_decay))
    labels, modalities, seeds = tuple(labels), tuple(modalities), [int(s) for s in seeds]
    for lab in labels:
        if lab not in LABEL_VERSIONS:
            raise ValueError(f"labels: {lab!r} is not one of {LABEL_VERSIONS}")
    for mod in modalities:
        if mod not in MODALITIES:
            raise ValueError(f"modalities: {mod!r} is not one of {MODALITIES}")
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}")
    stats_seed = seeds[0] if stats_seed is None else int(stats_seed)
    if stats_seed not in seeds:
        raise ValueError(f"stats_seed {stats_seed} is not among the seeds {seeds}")
    root = Path(nefer_root)
    data = data_name or root.resolve().name
    out_root = Path(results_root) if results_root is not None else results_dir()
    ckpt_root = Path(runs_root) if runs_root is not None else runs_dir() / "nefer_baselines"
    ckpt_root.mkdir(parents=True, exist_ok=True)

    rows, pred_frames, problem_rows, summaries, files = [], [], [], {}, []
    classes_by_labels = {}
    for mod in modalities:
        frame_cache: dict = {}  # frames are decoded once per modality, for both label versions
        for lab in labels:
            classes = default_classes(lab)
            classes_by_labels[lab] = list(classes)
            common = dict(labels=lab, modality=mod, n_frames=cfg.n_frames, size=cfg.size,
                          annotations_dir=annotations_dir, frame_cache=frame_cache)
            train = NEFERSequences(root, split="train", **common)
            val = NEFERSequences(root, split="validation", **common)
            guard = _split_guard(train, val)
            key_data = {"name": data, "train": train.fingerprint(), "validation": val.fingerprint()}
            method = METHOD_NAMES[mod]
            docs, n_trained = {}, 0
            for seed in seeds:
                key = {"format": RESULTS_FORMAT, "method": "ic3d clip classifier", "modality": mod, "labels": lab,
                       "classes": list(classes), "config": asdict(cfg), "seed": seed, "data": key_data}
                path, h = result_path(out_root, mod, lab, data, seed, key)
                doc = _load_matching(path, key)
                if doc is None:
                    train.load(progress)
                    val.load(progress)
                if doc is None and len(train) and len(val):
                    if progress:
                        print(f"{method}, {lab} labels, seed {seed}: training -> {path.name}")
                    ckpt = ckpt_root / f"{path.stem}.last.pt"
                    res = _train_seed(train, val, cfg, classes, seed, device, progress,
                                      f"{mod}/{lab} seed {seed}", checkpoint=ckpt, key=key)
                    write_results_json(path, model="ic3d", metrics=res["metrics"],
                                       config={**asdict(cfg), "device": str(device), "classes": list(classes)},
                                       backbone=res["backbone"],
                                       extra={"kind": "nefer_baseline", "key": key, "key_hash": h, "seed": seed,
                                              "source": SOURCE, "method": method, "modality": mod, "labels": lab,
                                              "data": data, "history": res["history"], "train": res["train"],
                                              "validation_users": sorted(set(val.users)),
                                              "predictions": res["predictions"]})
                    doc = _load_matching(path, key)
                    if doc is None:
                        raise RuntimeError(f"{path}: the result just written does not match its configuration")
                    ckpt.unlink(missing_ok=True)  # the result is recorded; the resume state is no longer needed
                    n_trained += 1
                elif doc is not None and progress:
                    print(f"{method}, {lab} labels, seed {seed}: reused {path.name}")
                if doc is not None:
                    docs[seed] = doc
                    files.append(path.name)
            for split, ds in (("train", train), ("validation", val)):
                for p in ds.problems:
                    problem_rows.append({"modality": mod, "labels": lab, "split": split, "file": p.file,
                                         "row": p.row, "sequence": p.sequence, "reason": p.reason})
            for p in guard:
                problem_rows.append({"modality": mod, "labels": lab, "split": "train", "file": p.file,
                                     "row": p.row, "sequence": p.sequence, "reason": p.reason})
            n_problems = len(train.problems) + len(val.problems) + len(guard)
            rows.append(_row(method, data, mod, lab, classes, docs, seeds, stats_seed, n_problems, n_trained,
                             len(train)))
            if stats_seed in docs:
                summaries[f"{mod}/{lab}"] = docs[stats_seed]["metrics"]
            for seed, doc in docs.items():
                p = doc["predictions"]
                t, q = np.asarray(p["true"], np.int64), np.asarray(p["pred"], np.int64)
                pred_frames.append(pd.DataFrame({
                    "method": method, "modality": mod, "labels": lab, "seed": seed, "sequence": p["sequence"],
                    "gopro": p["gopro"], "user": p["user"], "true": t, "pred": q,
                    "true_name": [classes[i] for i in t], "pred_name": [classes[i] for i in q], "correct": t == q}))
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    df.attrs["predictions"] = (pd.concat(pred_frames, ignore_index=True) if pred_frames
                               else pd.DataFrame(columns=list(PREDICTION_COLUMNS)))
    df.attrs["summaries"] = summaries
    df.attrs["problems"] = pd.DataFrame(problem_rows, columns=["modality", "labels", "split", "file", "row",
                                                               "sequence", "reason"])
    df.attrs["classes"] = classes_by_labels
    df.attrs["results"] = files
    return df


def _row(method, data, mod, lab, classes, docs, seeds, stats_seed, n_problems, n_trained, n_train) -> dict:
    nan = float("nan")
    accs = [float(docs[s]["metrics"]["accuracy"]) for s in seeds if s in docs]
    f1s = [float(docs[s]["metrics"]["macro_f1"]) for s in seeds if s in docs]
    st = docs.get(stats_seed, {}).get("metrics", {})
    any_doc = next(iter(docs.values()), None)
    return {"method": method, "source": SOURCE, "data": data, "modality": mod, "labels": lab,
            "n_classes": len(classes), "chance": 1.0 / len(classes),
            "n_train": int(any_doc["train"]["n"]) if any_doc else int(n_train), "n": int(st.get("n", 0)),
            "seeds": [s for s in seeds if s in docs], "accuracies": accs,
            "accuracy_mean": float(np.mean(accs)) if accs else nan,
            "accuracy_std": float(np.std(accs, ddof=1)) if len(accs) > 1 else nan,
            "stats_seed": stats_seed, "correct": st.get("correct", 0), "accuracy": st.get("accuracy", nan),
            "ci_lo": st.get("ci_lo", nan), "ci_hi": st.get("ci_hi", nan), "p_vs_chance": st.get("p_vs_chance", nan),
            "macro_f1": st.get("macro_f1", nan), "macro_f1_mean": float(np.mean(f1s)) if f1s else nan,
            "majority_baseline": st.get("majority_baseline", nan), "n_problems": int(n_problems),
            "n_trained": int(n_trained), "n_reused": len(docs) - int(n_trained)}


def correct_by_sequence(df: pd.DataFrame, modality: str, labels: str, seed: int | None = None) -> pd.Series:
    """Per validation sequence (index: NEFER event sequence id), whether the baseline of ``modality``
    and ``labels`` was right, for ``seed`` (default: the row's ``stats_seed``). Align two methods'
    series on the index before :func:`nvlib.evaluation.classification.mcnemar_test`."""
    row = df[(df["modality"] == modality) & (df["labels"] == labels)]
    if row.empty:
        raise KeyError(f"no baseline row for modality {modality!r}, labels {labels!r}")
    seed = int(row.iloc[0]["stats_seed"]) if seed is None else int(seed)
    p = df.attrs["predictions"]
    p = p[(p["modality"] == modality) & (p["labels"] == labels) & (p["seed"] == seed)]
    if p.empty:
        raise KeyError(f"no predictions for {modality}/{labels} seed {seed}")
    return p.set_index("sequence")["correct"].astype(bool)


__all__ = ["run_nefer_baselines", "BaselineConfig", "ClipClassifier", "train_classifier", "predict_classes",
           "correct_by_sequence", "result_path", "SOURCE", "METHOD_NAMES", "FULL_SCALE", "COLUMNS",
           "PREDICTION_COLUMNS", "RESULTS_FORMAT"]
