"""``nvlib train``: train one model on a converted dataset cache, evaluate it on the test split.

Usage::

    nvlib train --model resnet18 --data data/converted/<cache>      # a cache written by nvlib convert
    nvlib train --model ic3d --synthetic --epochs 5                  # synthetic faces (prepare_synthetic_va)
    torchrun --nproc_per_node=4 -m nvlib.train.cli --model resnet_fusion --data ...   # DDP

Writes ``<out>/`` (checkpoints, metrics.csv, tb/, config.json) and ``<out>/results.json``
(test metrics, predict-the-mean baseline, config, backbone). ``run_experiment`` is the same
pipeline as a function, used by notebooks 03-05.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
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


def run_id(name: str, cache_dir, model_cfg: dict, cfg: TrainConfig, fold, chunk) -> str:
    """``<name>_<hash>``: a run folder name that changes with every setting that changes the result
    (and not with the checkout's location)."""
    import hashlib

    from nvlib.train.loop import RESUME_NEUTRAL

    d = {k: v for k, v in cfg.to_dict().items() if k not in RESUME_NEUTRAL}
    key = json.dumps({"name": name, "cache": Path(cache_dir).name, "model": _portable(model_cfg), "train": d,
                      "fold": fold,
                      "chunk": chunk}, sort_keys=True, default=str)
    return f"{name}_{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def run_experiment(name: str, cache_dir, *, model_cfg: dict | None = None, train_cfg: TrainConfig | None = None,
                   out_dir=None, out_root=None, results_path=None, fold: int | None = None, chunk: int = 6,
                   extra: dict | None = None) -> dict:
    """Train ``name`` on ``cache_dir``'s train split (best epoch on val), score on test.

    The run folder is ``out_dir``, else ``<out_root or runs/train>/<run_id>`` (a hash of the
    settings), so rerunning the same settings resumes or reuses the finished run.

    Returns ``{"name", "display", "metrics" (test, whole set), "per_clip" (test, clip mean),
    "baseline" (predict-the-train-mean on the same frames), "backbone", "params", "predictions"
    (DataFrame), "fit" (FitResult), "model"}``; with ``results_path`` also writes the JSON.
    """
    import numpy as np

    from nvlib.evaluation import metrics as M
    from nvlib.datasets import FrameDataset
    from nvlib.evaluation.predict import evaluate_model, mean_baseline, write_results_json
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
    if out_dir is None:
        from nvlib.workbook.paths import runs_dir

        out_dir = Path(out_root or runs_dir() / "train") / run_id(name, cache_dir, model_cfg, cfg, fold, chunk)
    run_info = {"cache_dir": str(cache_dir), "dataset_meta": meta, "fold": fold, "chunk": chunk, **(extra or {})}
    model, fit_res = build_and_fit(name, model_cfg, train, val, cfg, out_dir, run_info=run_info)
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
           "n_test_frames": int(len(pred)), "cache_dir": str(cache_dir)}
    if results_path is not None and int(os.environ.get("RANK", "0")) == 0:
        write_results_json(results_path, model=name, metrics=ev["metrics"], backbone=backbone, baseline=baseline,
                           config={"train": cfg.to_dict(), "model": model_cfg, "dataset": meta, "fold": fold,
                                   "chunk": chunk, **(extra or {})},
                           extra={"display": DISPLAY_NAMES[name], "params": param_count(model),
                                  "n_bits": out["n_bits"], "best_epoch": fit_res.best_epoch,
                                  "per_clip": {d: per_clip[d] for d in M.DIMENSIONS},
                                  "n_test_frames": out["n_test_frames"], "run_dir": fit_res.out_dir,
                                  "mean_rmse_gain": float(np.mean([baseline[d]["rmse"] - ev["metrics"][d]["rmse"]
                                                                   for d in M.DIMENSIONS]))})
    return out


def pick_backbone(choice, n_bits: int, results_dir=None) -> str | None:
    """The ResNet18 weights source for the video models' backbone.

    ``choice``: None/"random" (random init, trained end to end), "hub", "imagenet:<file>",
    "frame:<checkpoint>", or "auto": ImageNet from the torch hub cache when present, else the frame
    ResNet18 trained by notebook 03 at the same ``n_bits`` (its results JSON names the run), else None.
    """
    from nvlib.evaluation.predict import read_results_json
    from nvlib.models import hub_resnet18_path
    from nvlib.workbook.paths import figures_dir

    if choice != "auto":
        return None if choice in (None, "random") else str(choice)
    if hub_resnet18_path() is not None:
        return "hub"
    res = Path(results_dir or figures_dir() / "results") / f"03_frame_models_resnet18_nbits{int(n_bits)}.json"
    if res.is_file():
        from nvlib.workbook.paths import repo_root

        run = Path(read_results_json(res).get("run_dir", ""))
        ck = (run if run.is_absolute() else repo_root() / run) / "best.pt"
        if ck.is_file():
            return f"frame:{ck}"
    return None


def add_arguments(p: argparse.ArgumentParser) -> None:
    from nvlib.models import MODELS

    p.add_argument("--model", required=True, choices=sorted(MODELS), help="model name")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="converted dataset cache folder (nvlib convert)")
    src.add_argument("--synthetic", action="store_true", help="synthetic faces (prepare_synthetic_va)")
    p.add_argument("--n-clips", type=int, default=12, help="synthetic: clips")
    p.add_argument("--n-frames", type=int, default=48, help="synthetic: frames per clip")
    p.add_argument("--size", type=int, default=64, help="synthetic: frame side (pixels)")
    p.add_argument("--n-bits", type=int, default=8, help="synthetic: TBR bits N")
    p.add_argument("--fold", type=int, default=None, help="k-fold protocol fold (default: fixed split)")
    p.add_argument("--model-cfg", default="{}", help="JSON options for build_model, e.g. '{\"image_size\": 64}'")
    p.add_argument("--backbone", default=None,
                   help="ResNet18 weights: 'hub', 'imagenet:<file>', 'frame:<checkpoint>' (default: random init)")
    p.add_argument("--train-cfg", default=None, help="JSON/YAML file of TrainConfig fields")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--loss", choices=["mse", "ccc", "mse+ccc"])
    p.add_argument("--seed", type=int)
    p.add_argument("--device")
    p.add_argument("--num-workers", type=int)
    p.add_argument("--max-batches", type=int)
    p.add_argument("--no-resume", action="store_true", help="start over even if <out>/last.pt exists")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--out", default=None, help="run folder (default runs/train/<model>)")


def _train_cfg(args) -> TrainConfig:
    base: dict = {}
    if args.train_cfg:
        path = Path(args.train_cfg)
        import yaml

        try:
            base = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise SystemExit(f"{path}: cannot read the training config ({e})")
    for k in ("epochs", "batch_size", "lr", "loss", "seed", "device", "num_workers", "max_batches"):
        v = getattr(args, k)
        if v is not None:
            base[k] = v
    if args.no_resume:
        base["resume"] = False
    if args.no_progress:
        base["progress"] = False
    return TrainConfig.from_dict(base)


def main(args: argparse.Namespace) -> int:
    from nvlib.models import model_kind
    from nvlib.workbook.paths import runs_dir

    from nvlib.train.distributed import shutdown

    cfg = _train_cfg(args)
    try:
        model_cfg = json.loads(args.model_cfg)
    except json.JSONDecodeError as e:
        raise SystemExit(f"--model-cfg is not JSON: {e}")
    if args.backbone is not None:
        key = "weights" if model_kind(args.model) == "frame" else "backbone"
        model_cfg[key] = args.backbone
    if args.synthetic:
        from nvlib.convert import prepare_synthetic_va

        cache = prepare_synthetic_va(n_clips=args.n_clips, n_frames=args.n_frames, size=args.size, n_bits=args.n_bits,
                                     seed=cfg.seed)
    else:
        cache = Path(args.data)
    out = Path(args.out) if args.out else runs_dir() / "train" / args.model
    res = run_experiment(args.model, cache, model_cfg=model_cfg, train_cfg=cfg, out_dir=out,
                         results_path=out / "results.json", fold=args.fold)
    if int(os.environ.get("RANK", "0")) == 0:
        m, b = res["metrics"], res["baseline"]
        print(f"{res['display']} (backbone: {res['backbone']}; best epoch {res['best_epoch']}) on {cache}")
        for d in ("arousal", "valence"):
            print(f"  {d:8s} RMSE {m[d]['rmse']:.3f} (mean baseline {b[d]['rmse']:.3f})  PCC {m[d]['pcc']:.3f}  "
                  f"CCC {m[d]['ccc']:.3f}  SAGR {m[d]['sagr']:.3f}")
        print(f"results: {out / 'results.json'}")
    shutdown()
    return 0


if __name__ == "__main__":  # torchrun --nproc_per_node=K -m nvlib.train.cli ...
    parser = argparse.ArgumentParser(prog="nvlib train", description=__doc__.splitlines()[0])
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
