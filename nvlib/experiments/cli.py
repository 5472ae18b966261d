"""``nvlib train``: train one model on a converted dataset cache, evaluate it on the test split.

Usage::

    nvlib train --model resnet18 --data data/converted/<cache>      # a cache written by nvlib convert
    nvlib train --model ic3d --synthetic --epochs 5                  # synthetic faces (prepare_synthetic_va)
    torchrun --nproc_per_node=4 -m nvlib.experiments.cli --model resnet_fusion --data ...   # DDP

Writes ``<out>/`` (checkpoints, metrics.csv, tb/, config.json) and ``<out>/results.json``
(test metrics, predict-the-mean baseline, config, backbone) with the test predictions beside it. The
pipeline is :func:`nvlib.experiments.run_experiment`; notebooks 03-05 run it over seeds through
:func:`nvlib.experiments.run_seeds`. The command lives in the experiments stage (not in
:mod:`nvlib.train`, which the experiments build on) so that no stage imports a later one.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from nvlib.experiments.run import run_experiment
from nvlib.train.config import TrainConfig


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


if __name__ == "__main__":  # torchrun --nproc_per_node=K -m nvlib.experiments.cli ...
    parser = argparse.ArgumentParser(prog="nvlib train", description=__doc__.splitlines()[0])
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
