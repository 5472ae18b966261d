"""One training run: a model trained on a converted cache's train split (best epoch on val), scored on test.

``run_experiment`` is the pipeline behind ``nvlib train`` and behind every per-seed run of
:func:`nvlib.experiments.run_seeds`; ``run_identity`` / ``run_id`` say what a run is (the dataset
cache's content id, fold, model, training settings, seed), so that a run folder is resumed only by the
same run; ``data_provenance`` is what every results file and table row says about its data;
``make_datasets`` builds the splits a model reads (frames or chunks of frames); ``fold_list`` expands
a fold setting (None, k or "all") into the folds to run.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from nvlib.train.config import TrainConfig


def make_datasets(name: str, cache_dir, fold: int | None = None, chunk: int = 6, stride: int | None = None):
    """(train, val, test) datasets for a model: FrameDataset for frame models, ChunkDataset for video."""
    from nvlib.datasets import ChunkDataset, FrameDataset
    from nvlib.models import model_kind

    if model_kind(name) == "frame":
        return tuple(FrameDataset(cache_dir, s, fold=fold) for s in ("train", "val", "test"))
    return tuple(ChunkDataset(cache_dir, s, fold=fold, chunk=chunk, stride=stride or chunk)
                 for s in ("train", "val", "test"))


def _portable(value):
    """``value`` with paths inside the repository (also after a ``frame:``/``imagenet:`` prefix) made
    relative to its root, so that run ids do not depend on where the checkout lives."""
    from nvlib.workbook.paths import repo_root

    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_portable(v) for v in value]
    if isinstance(value, (str, Path)):
        text = str(value)
        prefix, _, rest = text.partition(":") if ":" in text and not Path(text).is_absolute() else ("", "", text)
        path = Path(rest)
        if path.is_absolute() and path.is_relative_to(repo_root()):
            rel = path.relative_to(repo_root()).as_posix()
            return f"{prefix}:{rel}" if prefix else rel
    return value


#: A fold setting that runs every fold of the subject-independent k-fold protocol.
ALL_FOLDS = "all"


def fold_list(cache_dir, fold) -> list:
    """The folds a fold setting runs: ``None`` (the cache's fixed split) -> ``[None]``, ``k`` -> ``[k]``,
    ``"all"`` -> ``[0, ..., K-1]`` with K the cache's ``meta.n_folds`` (the subject-independent protocol
    over every fold: each fold is the test set once, the next one val)."""
    from nvlib.datasets.cache import load_index

    if fold is None:
        return [None]
    if isinstance(fold, str):
        if fold.strip().lower() != ALL_FOLDS:
            try:
                return [int(fold)]
            except ValueError:
                raise ValueError(f"fold must be None, an integer or {ALL_FOLDS!r}, got {fold!r}") from None
        k = int(load_index(cache_dir)["meta"].get("n_folds") or 1)
        if k < 2:
            raise ValueError(f"{cache_dir}: the cache has {k} fold(s); fold='all' needs at least 2")
        return list(range(k))
    return [int(fold)]


def run_identity(name: str, cache_dir, model_cfg: dict, cfg: TrainConfig, fold, chunk) -> dict:
    """What a training run is: ``{"cache_id"`` (the cache's content id,
    :func:`nvlib.datasets.cache.cache_content_id`: its sources, labels and splits, not its folder
    name), ``"fold"``, ``"model"``, ``"model_cfg"`` (resolved build options; paths inside the checkout
    relative to it), ``"chunk"`` (video models), ``"train"`` (TrainConfig without the seed and the
    fields that do not change the weights, :data:`nvlib.train.loop.RESUME_NEUTRAL`: the epoch count is
    left out so that a longer run resumes a shorter one), ``"seed"}``. A run folder is resumed only by
    a run of the same identity (:func:`nvlib.train.fit`)."""
    from nvlib.datasets.cache import cache_content_id
    from nvlib.models import model_kind
    from nvlib.train.loop import RESUME_NEUTRAL

    train = {k: v for k, v in cfg.to_dict().items() if k not in RESUME_NEUTRAL and k != "seed"}
    return json.loads(json.dumps({"cache_id": cache_content_id(cache_dir), "fold": fold, "model": name,
                                  "model_cfg": _portable(model_cfg),
                                  "chunk": int(chunk) if model_kind(name) == "video" else None,
                                  "train": train, "seed": int(cfg.seed)}, sort_keys=True, default=str))


def run_id(name: str, cache_dir, model_cfg: dict, cfg: TrainConfig, fold, chunk) -> str:
    """``<name>_<hash>``: a run folder name, a hash of :func:`run_identity` (it changes with the cache's
    content, the fold, the model, the training settings and the seed, not with the checkout's location
    or the epoch count)."""
    import hashlib

    key = json.dumps(run_identity(name, cache_dir, model_cfg, cfg, fold, chunk), sort_keys=True)
    return f"{name}_{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def data_provenance(cache_dir, fold) -> dict:
    """What a result says about its data: ``dataset`` (the cache's source, e.g. "afew-va"), ``root``
    (the dataset folder's name recorded by the conversion, ``params.json`` ``source_root``; None for
    data without one), ``labels_kind``, ``cache`` (folder name), ``cache_id`` (content id), ``fold``
    (None: the fixed split), ``n_folds`` and ``split_unit``."""
    from nvlib.datasets.cache import cache_content_id, load_index

    cache_dir = Path(cache_dir)
    meta = load_index(cache_dir)["meta"]
    try:
        root = json.loads((cache_dir / "params.json").read_text()).get("source_root")
    except (OSError, ValueError, AttributeError):
        root = None
    return {"dataset": meta.get("source"), "root": root, "labels_kind": meta.get("labels_kind"),
            "cache": cache_dir.name, "cache_id": cache_content_id(cache_dir), "fold": fold,
            "n_folds": meta.get("n_folds"), "split_unit": meta.get("split_unit")}


def predictions_path(results_path) -> Path:
    """The per-frame test predictions beside a results JSON: ``<stem>.predictions.csv``."""
    p = Path(results_path)
    return p.with_name(p.stem + ".predictions.csv")


def run_experiment(name: str, cache_dir, *, model_cfg: dict | None = None, train_cfg: TrainConfig | None = None,
                   out_dir=None, out_root=None, results_path=None, fold: int | None = None, chunk: int = 6,
                   extra: dict | None = None, record: dict | None = None) -> dict:
    """Train ``name`` on ``cache_dir``'s train split (best epoch on val), score on test.

    The run folder is ``out_dir``, else ``<out_root or runs/train>/<run_id>`` (a hash of
    :func:`run_identity`), so rerunning the same run resumes it; a folder holding another run raises
    :class:`nvlib.train.RunMismatchError` (with ``train_cfg.resume``) or is started over (without).

    Returns ``{"name", "display", "metrics" (test, whole set), "per_clip" (test, clip mean),
    "baseline" (predict-the-train-mean on the same frames), "backbone", "params", "predictions"
    (DataFrame), "fit" (FitResult), "model", "seed", "data" (:func:`data_provenance`), "identity",
    ...}``; with ``results_path`` also writes the JSON
    (:func:`nvlib.evaluation.results.write_results_json`: ``data`` and ``seed`` at its top level;
    ``extra`` goes into its ``config`` and the run folder's ``config.json``, ``record`` to its top
    level) and the test predictions beside it (:func:`predictions_path`).
    """
    import numpy as np

    from nvlib.datasets import FrameDataset
    from nvlib.evaluation import metrics as M
    from nvlib.evaluation.predict import evaluate_model, mean_baseline
    from nvlib.evaluation.results import write_predictions_csv, write_results_json
    from nvlib.models import DISPLAY_NAMES, param_count
    from nvlib.train.loop import build_and_fit

    cfg = train_cfg or TrainConfig()
    model_cfg = dict(model_cfg or {})
    train, val, test = make_datasets(name, cache_dir, fold, chunk)
    for split, ds in (("train", train), ("val", val), ("test", test)):
        if len(ds) == 0:
            raise ValueError(f"{cache_dir}: the {split} split holds no {'frames' if 'frame' in type(ds).__name__.lower() else 'chunks'} "
                             f"for model {name!r} (fold={fold})")
    meta = dict(train.meta)
    identity = run_identity(name, cache_dir, model_cfg, cfg, fold, chunk)
    data = data_provenance(cache_dir, fold)
    if out_dir is None:
        from nvlib.workbook.paths import runs_dir

        out_dir = Path(out_root or runs_dir() / "train") / run_id(name, cache_dir, model_cfg, cfg, fold, chunk)
    run_info = {"cache_dir": str(cache_dir), "dataset_meta": meta, "data": data, "fold": fold, "chunk": chunk,
                **(extra or {})}
    model, fit_res = build_and_fit(name, model_cfg, train, val, cfg, out_dir, run_info=run_info, identity=identity)
    dev = "cpu" if cfg.device == "auto" else cfg.device
    ev = evaluate_model(model, test, batch_size=cfg.batch_size, device=dev, clip=cfg.clip_predictions)
    pred = ev["predictions"]
    gt = pred[["valence_true", "arousal_true"]].to_numpy()
    per_clip = M.evaluate(gt, pred[["valence_pred", "arousal_pred"]].to_numpy(), clip=cfg.clip_predictions,
                          clips=pred["clip"].tolist(), per_clip=True)
    baseline = mean_baseline(FrameDataset(cache_dir, "train", fold=fold).labels(), gt, clip=cfg.clip_predictions)
    backbone = str(getattr(model, "backbone_info", ""))
    out = {"name": name, "display": DISPLAY_NAMES[name], "metrics": ev["metrics"], "per_clip": per_clip,
           "baseline": baseline, "backbone": backbone, "params": param_count(model), "predictions": pred,
           "fit": fit_res, "model": model, "n_bits": int(meta.get("n_bits", 0)), "best_epoch": fit_res.best_epoch,
           "n_test_frames": int(len(pred)), "cache_dir": str(cache_dir), "seed": cfg.seed,
           "dataset_meta": meta, "data": data, "identity": identity}
    if results_path is not None and int(os.environ.get("RANK", "0")) == 0:
        pred_path = predictions_path(results_path)
        write_predictions_csv(pred_path, pred)
        write_results_json(results_path, model=name, metrics=ev["metrics"], backbone=backbone, baseline=baseline,
                           config={"train": cfg.to_dict(), "model": model_cfg, "dataset": meta, "fold": fold,
                                   "chunk": chunk, **(extra or {})},
                           extra={"display": DISPLAY_NAMES[name], "params": param_count(model),
                                  "n_bits": out["n_bits"], "best_epoch": fit_res.best_epoch,
                                  "best_value": fit_res.best_value, "seed": cfg.seed,
                                  "per_clip": {d: per_clip[d] for d in M.DIMENSIONS},
                                  "n_test_frames": out["n_test_frames"], "run_dir": fit_res.out_dir,
                                  "predictions_file": pred_path.name,
                                  "mean_rmse_gain": float(np.mean([baseline[d]["rmse"] - ev["metrics"][d]["rmse"]
                                                                   for d in M.DIMENSIONS])),
                                  "data": data, "identity": identity, **(record or {})})
    return out
