"""The training engine: ``fit`` (train, validate, checkpoint, resume) and ``predict``.

Paper setting (Sec. 4.1): AdamW, lr 1e-4 halved every 50 epochs (StepLR), MSE loss. The best
checkpoint is chosen on the validation set only. Every epoch reseeds the RNGs from
``seed + epoch`` (and the shuffling generator likewise), so a run stopped after k epochs and
resumed from ``last.pt`` replays exactly the epochs an uninterrupted run would have (CPU,
deterministic mode). Logs: ``metrics.csv``, TensorBoard (``tb/``), ``config.json``,
``fit.json``; checkpoints ``last.pt`` (every epoch, with the optimiser, scheduler and scaler state a
resume needs) and ``best.pt`` (the best epoch's weights only: nothing resumes from it).

A run folder holds one run. ``fit(..., identity=...)`` records what the run is (for the experiment
layer: dataset cache content id, fold, model, training settings, seed; see
:func:`nvlib.experiments.run.run_identity`) in ``config.json`` and in every checkpoint, and resumes
``last.pt`` only when the recorded identity equals the new one (:class:`RunMismatchError` names what
differs). A run that does not resume starts clean: the folder's earlier checkpoints, ``metrics.csv``,
``fit.json`` and ``tb/`` are removed first.
Multi-GPU / multi-node: run under torchrun; ``nvlib.train.distributed`` wraps the model in
``DistributedDataParallel`` and shards the training set with ``DistributedSampler``.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler
from tqdm.auto import tqdm

from nvlib.evaluation import metrics as M
from nvlib.evaluation.predict import batch_xy, predict
from nvlib.workbook.atomic import write_text

from nvlib.train import distributed as D
from nvlib.train.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint, unwrap
from nvlib.train.config import TrainConfig


# TrainConfig fields that may differ between a run and its resumption (they do not change the weights)
RESUME_NEUTRAL = ("epochs", "progress", "tensorboard", "resume", "device", "num_workers", "amp")


#: Labels of the identity fields in messages (the fields of :func:`nvlib.experiments.run.run_identity`).
IDENTITY_LABELS = {"cache_id": "cache id", "fold": "fold", "model": "model", "model_cfg": "model",
                   "chunk": "model", "train": "config", "seed": "seed"}
#: The files of one run in its folder (removed before a run that does not resume).
RUN_FILES = ("last.pt", "best.pt", "metrics.csv", "fit.json", "config.json")


class RunMismatchError(CheckpointError):
    """A run folder holds another run (other data, fold, model, settings or seed); the message names what differs."""


def stored_identity(out_dir) -> dict | None:
    """The identity recorded by the run in ``out_dir`` (``config.json``, else ``last.pt``); None when the
    folder holds no run; ``{}`` when it holds one written without an identity."""
    out = Path(out_dir)
    conf = out / "config.json"
    if conf.is_file():
        try:
            doc = json.loads(conf.read_text())
        except (OSError, ValueError):
            doc = {}
        if isinstance(doc, dict) and isinstance(doc.get("identity"), dict):
            return doc["identity"]
    if (out / "last.pt").is_file():
        try:
            return dict(read_checkpoint(out / "last.pt").get("extra", {}).get("identity") or {})
        except CheckpointError:
            return {}
    return {} if conf.is_file() else None


def identity_differences(stored: dict | None, now: dict) -> list[str]:
    """What differs between two run identities, as ``"<label> <stored> -> <now>"`` phrases (labels from
    :data:`IDENTITY_LABELS`: cache id, fold, model, config, seed); ``stored`` empty or None: the
    folder's run recorded no identity."""
    if not stored:
        return ["the run there recorded no identity (an older nvlib, or another tool)"]
    a, b = json.loads(json.dumps(stored, default=str)), json.loads(json.dumps(now, default=str))
    out = []
    for k in sorted(set(a) | set(b), key=lambda k: (list(IDENTITY_LABELS).index(k) if k in IDENTITY_LABELS
                                                     else len(IDENTITY_LABELS), k)):
        if a.get(k) == b.get(k):
            continue
        label = IDENTITY_LABELS.get(k, k)
        if isinstance(a.get(k), dict) and isinstance(b.get(k), dict):
            keys = sorted(x for x in set(a[k]) | set(b[k]) if a[k].get(x) != b[k].get(x))
            out.append(f"{label} (" + ", ".join(f"{x}: {a[k].get(x)!r} -> {b[k].get(x)!r}" for x in keys) + ")")
        else:
            out.append(f"{label} {a.get(k)!r} -> {b.get(k)!r}")
    return out


def clear_run(out_dir) -> None:
    """Remove one run's files from ``out_dir`` (:data:`RUN_FILES` and ``tb/``); other files stay."""
    import shutil

    out = Path(out_dir)
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "tb", ignore_errors=True)


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN/inf loss; the last good checkpoint is left untouched."""


@dataclass
class FitResult:
    out_dir: str
    model_name: str
    backbone_info: str
    best_epoch: int
    best_value: float
    best_val: dict
    history: list = field(default_factory=list)
    best_path: str = ""
    last_path: str = ""
    epochs_run: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def set_deterministic(flag: bool) -> None:
    """Deterministic kernels (cuDNN/cuBLAS settings; ``warn_only`` for ops without one)."""
    if flag:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(flag, warn_only=True)
    torch.backends.cudnn.deterministic = flag
    torch.backends.cudnn.benchmark = not flag


def loss_fn(name: str):
    """The training loss: "mse", "ccc" (1 - CCC) or "mse+ccc"."""
    mse = nn.MSELoss()
    if name == "mse":
        return mse
    if name == "ccc":
        return M.ccc_loss
    if name == "mse+ccc":
        return lambda p, t: mse(p, t) + M.ccc_loss(p, t)
    raise ValueError(f"unknown loss {name!r}")


def _amp_on(cfg: TrainConfig, device: torch.device) -> bool:
    if device.type != "cuda":
        return False
    return True if cfg.amp == "auto" else bool(cfg.amp)


def _select_value(val: dict, metric: str) -> float:
    vals = [val[d][metric] for d in M.DIMENSIONS]
    v = float(np.mean(vals))
    return v


def _better(a: float, b: float | None, metric: str) -> bool:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return not math.isnan(a)
    return a < b if metric == "rmse" else a > b


def _append_csv(path: Path, row: dict) -> None:
    new = not path.exists()
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(row))
    if new:
        w.writeheader()
    w.writerow(row)
    with open(path, "a", newline="") as f:
        f.write(buf.getvalue())


def fit(model: nn.Module, train_ds: Dataset, val_ds: Dataset, cfg: TrainConfig | None = None,
        out_dir: str | os.PathLike | None = None, *, run_info: dict | None = None,
        identity: dict | None = None) -> FitResult:
    """Train ``model`` on ``train_ds``, validate on ``val_ds`` every epoch, checkpoint, resume.

    ``out_dir`` (default ``runs/train/<model_name>``) receives ``config.json`` (resolved config,
    model name/config, backbone, parameter counts, ``run_info`` and ``identity``), ``metrics.csv``,
    ``tb/``, ``last.pt``, ``best.pt`` (weights only) and ``fit.json``. With ``cfg.resume`` a
    ``last.pt`` of the same run is continued: same settings (except :data:`RESUME_NEUTRAL`, e.g. more
    epochs) and, when ``identity`` is given, the same recorded identity, else :class:`RunMismatchError`
    (another run's folder is never continued nor silently overwritten; ``resume=False`` starts over
    there). Raises ``NonFiniteLossError`` on a NaN/inf loss, leaving ``last.pt`` (the last finished
    epoch) as it was.
    """
    from nvlib.models import param_count
    from nvlib.workbook.paths import runs_dir

    cfg = cfg or TrainConfig()
    name = getattr(unwrap(model), "model_name", type(unwrap(model)).__name__)
    out = Path(out_dir) if out_dir is not None else runs_dir() / "train" / name
    device = D.resolve_device(cfg.device)
    info = D.init_from_env(device)
    set_deterministic(cfg.deterministic)
    amp = _amp_on(cfg, device)
    model = model.to(device)
    base = model
    model = D.wrap(model, info, device)
    params = [p for p in base.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.lr_step_epochs, gamma=cfg.lr_gamma)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    crit = loss_fn(cfg.loss)
    last_path, best_path = out / "last.pt", out / "best.pt"

    start, best, history = 0, {}, []
    if cfg.resume and identity is not None and stored_identity(out) is not None:
        diff = identity_differences(stored_identity(out), identity)
        if diff:
            raise RunMismatchError(f"{out}: holds another run ({'; '.join(diff)}); use another out_dir, or "
                                   "resume=False to start over there")
    if cfg.resume and last_path.exists():
        stored = read_checkpoint(last_path).get("config", {})
        now = cfg.to_dict()
        diff = sorted(k for k in set(stored) | set(now) if k not in RESUME_NEUTRAL and stored.get(k) != now.get(k))
        if diff:
            changes = ", ".join(f"{k}: {stored.get(k)!r} -> {now.get(k)!r}" for k in diff)
            raise CheckpointError(f"{last_path}: written with other settings ({changes}); "
                                  "use another out_dir or resume=False")
        ck = load_checkpoint(last_path, base, optimizer=opt, scheduler=sched, scaler=scaler)
        start, best, history = int(ck["epoch"]), dict(ck.get("best", {})), list(ck.get("history", []))
    if info.is_main:
        if start == 0:
            clear_run(out)  # a run that does not resume leaves nothing of an earlier one (metrics.csv appends)
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / "config.json", json.dumps({"identity": identity,
            "train": cfg.to_dict(), "model_name": name, "model_cfg": getattr(base, "model_cfg", {}),
            "backbone": getattr(base, "backbone_info", ""), "params": param_count(base),
            "device": str(device), "world_size": info.world_size, "amp": amp, "resumed_from_epoch": start,
            "run": run_info or {}}, indent=2, sort_keys=True, default=str) + "\n")
    writer = None
    if cfg.tensorboard and info.is_main:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(out / "tb"), purge_step=start + 1 if start else None)

    try:
        for epoch in range(start, cfg.epochs):
            seed_everything(cfg.seed + epoch * 1009 + info.rank)
            if info.enabled:
                sampler = DistributedSampler(train_ds, num_replicas=info.world_size, rank=info.rank,
                                             shuffle=True, seed=cfg.seed)
                sampler.set_epoch(epoch)
            else:
                gen = torch.Generator().manual_seed(cfg.seed + epoch)
                sampler = RandomSampler(train_ds, generator=gen)
            loader = DataLoader(train_ds, batch_size=cfg.batch_size, sampler=sampler,
                                num_workers=cfg.num_workers, pin_memory=device.type == "cuda",
                                persistent_workers=False)
            model.train()
            tot, n, t_data, t_step = 0.0, 0, 0.0, 0.0
            t0 = time.perf_counter()
            bar = tqdm(loader, disable=not (cfg.progress and info.is_main), leave=False,
                       desc=f"{name} epoch {epoch + 1}/{cfg.epochs}")
            for i, batch in enumerate(bar):
                if cfg.max_batches is not None and i >= cfg.max_batches:
                    break
                t1 = time.perf_counter()
                t_data += t1 - t0
                x, y = batch_xy(batch)
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                with torch.autocast(device.type, enabled=amp):
                    pred = model(x)
                loss = crit(pred.float(), y.float())
                if not torch.isfinite(loss):
                    raise NonFiniteLossError(
                        f"{name}: loss is {loss.item()} at epoch {epoch + 1}, batch {i + 1}; training stopped. "
                        f"Last good checkpoint: {last_path if last_path.exists() else 'none (first epoch)'}")
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if cfg.grad_clip is not None:
                    scaler.unscale_(opt)
                    nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                scaler.step(opt)
                scaler.update()
                tot += float(loss.detach()) * len(y)
                n += len(y)
                t0 = time.perf_counter()
                t_step += t0 - t1
                bar.set_postfix(loss=f"{tot / max(n, 1):.4f}")
            lr = opt.param_groups[0]["lr"]
            sched.step()
            train_loss = D.all_reduce_mean(tot / max(n, 1), info, device)
            p = predict(base, val_ds, batch_size=cfg.batch_size, device=device, amp=amp)
            val = M.evaluate(p["gt"], p["pred"], clip=cfg.clip_predictions)
            value = _select_value(val, cfg.select_metric)
            row = {"epoch": epoch + 1, "lr": lr, "train_loss": train_loss, **{
                f"val_{k}": v for k, v in M.metrics_row(val).items()}, "val_select": value,
                "data_s": t_data, "step_s": t_step}
            history.append(row)
            improved = _better(value, best.get("value"), cfg.select_metric)
            if improved:
                best = {"epoch": epoch + 1, "value": value, "metric": cfg.select_metric, "val": {
                    d: val[d] for d in M.DIMENSIONS}}
            if info.is_main:
                common = dict(epoch=epoch + 1, best=best, history=history, config=cfg.to_dict(),
                              extra={"identity": identity} if identity is not None else None)
                if improved:  # the weights only: a resume starts from last.pt
                    save_checkpoint(best_path, base, **common)
                save_checkpoint(last_path, base, optimizer=opt, scheduler=sched, scaler=scaler, **common)
                _append_csv(out / "metrics.csv", row)
                if writer is not None:
                    for k, v in row.items():
                        if k != "epoch":
                            writer.add_scalar(k, v, epoch + 1)
                    writer.flush()
            D.barrier(info)
    finally:
        if writer is not None:
            writer.close()

    result = FitResult(out_dir=str(out), model_name=name, backbone_info=str(getattr(base, "backbone_info", "")),
                       best_epoch=int(best.get("epoch", 0)), best_value=float(best.get("value", float("nan"))),
                       best_val=best.get("val", {}), history=history, best_path=str(best_path),
                       last_path=str(last_path), epochs_run=cfg.epochs - start)
    if info.is_main:
        write_text(out / "fit.json", json.dumps(result.to_dict(), indent=2, default=float) + "\n")
    return result


def load_best(model: nn.Module, result: FitResult | str | os.PathLike) -> nn.Module:
    """Load the best validation checkpoint of a run into ``model`` (returns it)."""
    path = Path(result.best_path if isinstance(result, FitResult) else result)
    if path.is_dir():
        path = path / "best.pt"
    load_checkpoint(path, model)
    return model


def build_and_fit(name: str, model_cfg: dict, train_ds: Dataset, val_ds: Dataset, cfg: TrainConfig,
                  out_dir: str | os.PathLike | None = None, run_info: dict | None = None,
                  identity: dict | None = None):
    """Seed, ``build_model(name, **model_cfg)``, ``fit`` (with ``run_info`` and ``identity``), reload the
    best checkpoint.

    Returns ``(model with best weights, FitResult)``.
    """
    from nvlib.models import build_model

    seed_everything(cfg.seed)
    model = build_model(name, **model_cfg)
    res = fit(model, train_ds, val_ds, cfg, out_dir, run_info=run_info, identity=identity)
    return load_best(model, res), res


__all__ = ["FitResult", "NonFiniteLossError", "CheckpointError", "RunMismatchError", "stored_identity",
           "identity_differences", "clear_run", "fit", "predict", "seed_everything",
           "set_deterministic", "loss_fn", "load_best", "build_and_fit", "read_checkpoint"]
