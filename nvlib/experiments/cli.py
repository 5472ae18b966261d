"""``nvlib train``: train one model on a converted dataset cache, evaluate it on the test split.

Usage::

    nvlib train --model resnet18 --data data/converted/<cache>      # a cache written by nvlib convert
    nvlib train --model resnet18 --data data/converted/<cache> --fold all   # every fold, mean ± std
    nvlib train --model ic3d --synthetic --epochs 5                  # synthetic faces (prepare_synthetic_va)
    torchrun --nproc_per_node=4 -m nvlib.experiments.cli --model resnet_fusion --data ...   # DDP

Writes ``<out>/`` (checkpoints, metrics.csv, tb/, config.json) and ``<out>/results.json``
(test metrics, predict-the-mean baseline, config, backbone, the data's provenance: dataset, root,
cache id, fold, seed) with the test predictions beside it. ``<out>`` defaults to
``runs/train/<model>_<hash>``, the hash of the run's identity
(:func:`nvlib.experiments.run.run_identity`: the cache's content id, fold, model, training settings,
seed), so another dataset, fold or seed never lands in the same folder. A folder is resumed only by
the same run (more epochs may be asked for); a folder holding another run stops the command with one
line naming what differs: pass another ``--out``, or ``--fresh`` to start over there (its checkpoints,
logs and results are replaced). ``--fold all`` trains every fold of the subject-independent protocol
into ``<out>/fold<k>/`` and writes ``<out>/summary.json`` (mean ± sample std over the folds).

The pipeline is :func:`nvlib.experiments.run_experiment`; notebooks 03-05 run it over seeds through
:func:`nvlib.experiments.run_seeds`. The command lives in the experiments stage (not in
:mod:`nvlib.train`, which the experiments build on) so that no stage imports a later one.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    from nvlib.models import MODEL_NAMES

    p.add_argument("--model", required=True, choices=sorted(MODEL_NAMES), help="model name")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="converted dataset cache folder (nvlib convert)")
    src.add_argument("--synthetic", action="store_true", help="synthetic faces (prepare_synthetic_va)")
    p.add_argument("--n-clips", type=int, default=12, help="synthetic: clips")
    p.add_argument("--n-frames", type=int, default=48, help="synthetic: frames per clip")
    p.add_argument("--size", type=int, default=64, help="synthetic: frame side (pixels)")
    p.add_argument("--n-bits", type=int, default=8, help="synthetic: TBR bits N")
    p.add_argument("--fold", default=None,
                   help="k-fold protocol fold k, or 'all' for every fold (mean ± std over folds); default: the "
                        "cache's fixed split")
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
    p.add_argument("--fresh", "--no-resume", dest="fresh", action="store_true",
                   help="start over in <out>, replacing the run there (by default a folder is resumed only by "
                        "the same run, and a folder holding another run stops the command)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--out", default=None, help="run folder (default runs/train/<model>_<hash of the run's identity>)")


def _train_cfg(args) -> TrainConfig:  # noqa: F821 (imported below: nvlib train --help stays light)
    from nvlib.train.config import TrainConfig

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
    if args.fresh:
        base["resume"] = False
    if args.no_progress:
        base["progress"] = False
    return TrainConfig.from_dict(base)


def _prepare_out(out: Path, identity: dict, fresh: bool) -> None:
    """Stop (ValueError, one line) when ``out`` holds another run, unless ``fresh``; with ``fresh`` the
    run there is removed (checkpoints, logs, results)."""
    from nvlib.experiments.run import predictions_path
    from nvlib.train.loop import clear_run, identity_differences, stored_identity

    stored = stored_identity(out)
    if stored is not None and not fresh:
        diff = identity_differences(stored, identity)
        if diff:
            raise ValueError(f"{out} holds another run ({'; '.join(diff)}): pass another --out, or --fresh to "
                             "start over there")
    if fresh and int(os.environ.get("RANK", "0")) == 0:
        clear_run(out)
        for f in (out / "results.json", predictions_path(out / "results.json")):
            f.unlink(missing_ok=True)


def _print_result(res: dict, cache, path: Path) -> None:
    m, b = res["metrics"], res["baseline"]
    fold = res["data"]["fold"]
    print(f"{res['display']} (backbone: {res['backbone']}; best epoch {res['best_epoch']}) on {cache} "
          f"(cache id {res['data']['cache_id']}, {'fixed split' if fold is None else f'fold {fold}'}, "
          f"seed {res['seed']})")
    for d in ("arousal", "valence"):
        print(f"  {d:8s} RMSE {m[d]['rmse']:.3f} (mean baseline {b[d]['rmse']:.3f})  PCC {m[d]['pcc']:.3f}  "
              f"CCC {m[d]['ccc']:.3f}  SAGR {m[d]['sagr']:.3f}")
    print(f"results: {path}")


def main(args: argparse.Namespace) -> int:
    from nvlib.datasets.cache import load_index
    from nvlib.experiments.run import fold_list, run_experiment, run_id, run_identity
    from nvlib.models import model_kind
    from nvlib.train.distributed import shutdown
    from nvlib.workbook.paths import runs_dir

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
        load_index(cache)  # one line when DIR is not a finished cache
    folds = fold_list(cache, args.fold)
    chunk = 6
    many = isinstance(args.fold, str) and args.fold.strip().lower() == "all"
    base = Path(args.out) if args.out else runs_dir() / "train" / run_id(args.model, cache, model_cfg, cfg,
                                                                        "all" if many else folds[0], chunk)
    rank0 = int(os.environ.get("RANK", "0")) == 0
    results = []
    for k in folds:
        out = base / f"fold{k}" if many else base
        _prepare_out(out, run_identity(args.model, cache, model_cfg, cfg, k, chunk), args.fresh)
        res = run_experiment(args.model, cache, model_cfg=model_cfg, train_cfg=cfg, out_dir=out,
                             results_path=out / "results.json", fold=k, chunk=chunk)
        if rank0:
            _print_result(res, cache, out / "results.json")
        results.append(res)
    if many and rank0:
        from nvlib.evaluation.stats import aggregate_metrics
        from nvlib.workbook.atomic import write_text

        agg = aggregate_metrics([r["metrics"] for r in results])
        summary = {"model": args.model, "seed": cfg.seed, "folds": folds, "data": {**results[0]["data"], "fold": "all"},
                   "aggregate": agg, "results": [str(base / f"fold{k}" / "results.json") for k in folds]}
        write_text(base / "summary.json", json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
        print(f"{results[0]['display']} over {len(folds)} folds (seed {cfg.seed}), mean ± sample std over folds:")
        for d in ("arousal", "valence"):
            print(f"  {d:8s} " + "  ".join(f"{m.upper()} {agg[f'{d}_{m}']['mean']:.3f} ± {agg[f'{d}_{m}']['std']:.3f}"
                                          for m in ("rmse", "pcc", "ccc", "sagr")))
        print(f"summary: {base / 'summary.json'}")
    shutdown()
    return 0


if __name__ == "__main__":  # torchrun --nproc_per_node=K -m nvlib.experiments.cli ...
    parser = argparse.ArgumentParser(prog="nvlib train", description=__doc__.splitlines()[0])
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
