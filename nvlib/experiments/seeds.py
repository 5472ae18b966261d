"""Experiments over seeds (and folds): one model configuration trained with K seeds, one results file per run.

An :class:`Experiment` is everything that defines a result except the seed: model and its options,
dataset cache, training settings, fold (None: the cache's fixed split; k; or "all": every fold of the
subject-independent k-fold protocol), chunk length. :func:`run_seeds` runs it for each seed (and each
fold), or reuses a run's result when ``results/`` already holds one for exactly that configuration:

    results/<model>_nbits<N>_<cache>_<fold>_seed<s>_<hash>.json      metrics, baseline, config, backbone, data
    results/<model>_nbits<N>_<cache>_<fold>_seed<s>_<hash>.predictions.csv   per-frame test predictions

``<hash>`` covers the resolved configuration of that run (:func:`result_key`: model, options with a
backbone resolved to the checkpoint it loads, the cache's content id (its sources, labels and splits;
the folder name alone does not identify a cache), training settings including the epoch count and the
seed, fold, chunk), so a file is found by computing its name from the configuration, never by
searching for another notebook's outputs; the key is stored in the file and checked on reuse, and a
file holding another run's key is never overwritten (:class:`ResultsConflictError`). Every file
carries its data's provenance at its top level (``data``: dataset, root, cache, cache id, fold;
``seed``). Training runs (checkpoints, logs) live in ``runs/experiments/<model>_<hash>/``.

A video model's ``backbone="auto"`` is resolved per seed by :func:`nvlib.experiments.pick_backbone`:
ImageNet weights when the torch hub cache has them, else the frame ResNet18 trained with the same
seed on the same cache and fold (found by configuration with :func:`find_results`), else random init.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from nvlib.train.config import TrainConfig

#: TrainConfig fields that do not change a result (progress bars, logging, where it runs).
RESULT_NEUTRAL = ("progress", "tensorboard", "resume", "device", "num_workers", "amp")
#: Bumped when the meaning of a stored result changes, so that older files are not reused
#: (2: keyed on the cache's content id, provenance in every file).
RESULTS_FORMAT = 2
DEFAULT_SEEDS = (0, 1, 2)


@dataclass(frozen=True, eq=False)
class Experiment:
    """One model configuration on one dataset; the seed is given to :func:`run_seeds`.

    ``model_cfg`` holds ``build_model`` options; ``backbone="auto"`` (video models) or
    ``weights="auto"`` (frame ResNet18: ImageNet from the hub cache, else random init) is resolved
    per seed. ``train_cfg.seed`` is ignored (replaced by each seed).
    """

    model: str
    cache_dir: Path | str
    model_cfg: dict = field(default_factory=dict)
    train_cfg: TrainConfig = field(default_factory=TrainConfig)
    fold: int | str | None = None
    chunk: int = 6

    def __post_init__(self):
        from nvlib.models import MODELS

        if self.model not in MODELS:
            raise KeyError(f"unknown model {self.model!r}; choose one of {sorted(MODELS)}")
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        object.__setattr__(self, "model_cfg", dict(self.model_cfg or {}))
        if isinstance(self.fold, str) and self.fold.strip().lower() != "all":
            raise ValueError(f"fold must be None, an integer or 'all', got {self.fold!r}")

    @property
    def all_folds(self) -> bool:
        return isinstance(self.fold, str)

    def per_fold(self) -> list["Experiment"]:
        """This experiment once per fold it runs (``fold="all"``: every fold of the cache; otherwise itself)."""
        import dataclasses

        from nvlib.experiments.run import fold_list

        if not self.all_folds:
            return [self]
        return [dataclasses.replace(self, fold=k) for k in fold_list(self.cache_dir, "all")]

    @property
    def cache_id(self) -> str:
        """The dataset cache's content id (:func:`nvlib.datasets.cache.cache_content_id`)."""
        from nvlib.datasets.cache import cache_content_id

        return cache_content_id(self.cache_dir)

    @property
    def kind(self) -> str:
        from nvlib.models import model_kind

        return model_kind(self.model)

    @property
    def data_id(self) -> str:
        """The dataset cache's folder name (source, representation, N, Δt, size and a parameter hash)."""
        return self.cache_dir.name

    @property
    def n_bits(self) -> int:
        from nvlib.datasets.cache import load_index

        return int(load_index(self.cache_dir)["meta"]["n_bits"])

    def resolve(self, seed: int, results_root=None) -> tuple[dict, TrainConfig]:
        """``(model_cfg, train_cfg)`` of one seed: "auto" backbones resolved, the seed set."""
        from nvlib.experiments.backbone import pick_backbone
        from nvlib.models import hub_resnet18_path

        cfg = dict(self.model_cfg)
        if self.kind == "video" and cfg.get("backbone") == "auto":
            cfg["backbone"] = pick_backbone("auto", self.cache_dir, seed=seed, fold=self.fold,
                                            results_root=results_root)
        if self.kind == "frame" and cfg.get("weights") == "auto":
            cfg["weights"] = "hub" if hub_resnet18_path() is not None else None
        return cfg, self.train_cfg.replace(seed=int(seed))


def result_key(exp: Experiment, model_cfg: dict, train_cfg: TrainConfig) -> dict:
    """What identifies one seed's result: everything that changes it, nothing that does not."""
    from nvlib.experiments.run import _portable

    if exp.all_folds:
        raise ValueError("result_key: one fold at a time (Experiment.per_fold())")
    train = {k: v for k, v in train_cfg.to_dict().items() if k not in RESULT_NEUTRAL}
    return {"format": RESULTS_FORMAT, "model": exp.model, "data": exp.data_id, "cache_id": exp.cache_id,
            "model_cfg": _portable(model_cfg), "train": train, "fold": exp.fold,
            "chunk": exp.chunk if exp.kind == "video" else None}


def key_hash(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:10]


class ResultsConflictError(ValueError):
    """A results file already holds another run's result under the name this run would write."""


def result_name(exp: Experiment, seed: int, h: str) -> str:
    """``<model>_nbits<N>_<cache>_<fold>_seed<s>_<hash>`` (the parameters readable, the hash exact: it
    covers :func:`result_key`, the cache's content id included)."""
    fold = "fixedsplit" if exp.fold is None else f"fold{exp.fold}"
    return f"{exp.model}_nbits{exp.n_bits}_{exp.data_id}_{fold}_seed{int(seed)}_{h}"


@dataclass
class SeedRun:
    """Where one seed's result lives and whether it had to be trained."""

    seed: int
    key: dict
    hash: str
    path: Path
    doc: dict | None = None
    reused: bool = False
    fold: int | None = None

    @property
    def predictions_path(self) -> Path:
        from nvlib.experiments.run import predictions_path

        return predictions_path(self.path)


def plan(exp: Experiment, seed: int, results_root=None) -> SeedRun:
    """The result file one seed of ``exp`` has (or will have), without training anything."""
    from nvlib.workbook.paths import results_dir

    model_cfg, train_cfg = exp.resolve(seed, results_root)
    key = result_key(exp, model_cfg, train_cfg)
    h = key_hash(key)
    root = Path(results_root) if results_root is not None else results_dir()
    return SeedRun(int(seed), key, h, root / f"{result_name(exp, seed, h)}.json", fold=exp.fold)


def _stored(run: SeedRun) -> dict | None:
    from nvlib.evaluation.results import read_results_json

    if not run.path.is_file():
        return None
    try:
        return read_results_json(run.path)
    except ValueError:
        return None  # a damaged file is retrained (and replaced)


def _load_matching(run: SeedRun) -> dict | None:
    doc = _stored(run)
    return doc if doc is not None and doc.get("key") == json.loads(json.dumps(run.key, default=str)) else None


def _refuse_conflict(run: SeedRun) -> None:
    """Raise :class:`ResultsConflictError` when ``run.path`` holds a readable result of another configuration."""
    doc = _stored(run)
    if doc is None:
        return
    have, want = doc.get("key") or {}, json.loads(json.dumps(run.key, default=str))
    if have != want:
        diff = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k)) if isinstance(have, dict) else []
        raise ResultsConflictError(f"{run.path}: holds the result of another run (its stored key differs in "
                                   f"{', '.join(diff) or 'its form'}); it is not overwritten: move it away")


class SeedResults(Sequence):
    """The per-run results of one :class:`Experiment` (a sequence of results documents in seed order;
    with ``fold="all"`` fold by fold, seeds within each fold).

    ``runs``: :class:`SeedRun` per (fold, seed) found or trained; ``missing``: seeds (``fold="all"``:
    ``(fold, seed)`` pairs) neither found nor trained (``train_missing=False``); ``n_trained``: how many
    runs this call trained.
    """

    def __init__(self, experiment: Experiment, runs: list[SeedRun], missing: list[int]):
        self.experiment, self.runs, self.missing = experiment, runs, missing

    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [r.doc for r in self.runs[i]]
        return self.runs[i].doc

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs]

    @property
    def folds(self) -> list:
        """The fold of each run (None: the fixed split)."""
        return [r.fold for r in self.runs]

    @property
    def docs(self) -> list[dict]:
        return [r.doc for r in self.runs]

    @property
    def n_trained(self) -> int:
        return sum(not r.reused for r in self.runs)

    def aggregate(self) -> dict:
        """Mean, sample std and per-seed values of every metric (:func:`nvlib.evaluation.stats.aggregate_metrics`)."""
        from nvlib.evaluation.stats import aggregate_metrics

        return aggregate_metrics([d["metrics"] for d in self.docs])

    def predictions(self, seed: int, fold="any"):
        """The per-frame test predictions (DataFrame) of one seed (and fold; by default the first run of
        that seed)."""
        from nvlib.evaluation.results import read_predictions_csv

        for r in self.runs:
            if r.seed == seed and (fold == "any" or r.fold == fold):
                return read_predictions_csv(r.predictions_path)
        raise KeyError(f"{self.experiment.model}: no result for seed {seed}, fold {fold} (have "
                       f"{list(zip(self.folds, self.seeds))})")

    def median_run(self) -> SeedRun:
        """The run whose mean of valence and arousal RMSE is the median (the lower middle for an even
        count): a typical run, for figures that show one run."""
        from nvlib.evaluation.stats import mean_rmse

        if not self.runs:
            raise ValueError(f"{self.experiment.model}: no results")
        order = sorted(self.runs, key=lambda r: (mean_rmse(r.doc["metrics"]), -1 if r.fold is None else r.fold,
                                                 r.seed))
        return order[(len(order) - 1) // 2]

    def median_seed(self) -> int:
        """The seed of :meth:`median_run`."""
        return self.median_run().seed

    def __repr__(self) -> str:
        return (f"SeedResults({self.experiment.model}, seeds={self.seeds}, trained={self.n_trained}, "
                f"missing={self.missing})")


def _train_one(job: tuple) -> str:
    """Train one seed (also in a worker process): ``(exp, seed, results_root, runs_root, extra, threads, keep_last)``."""
    from nvlib.experiments.run import run_experiment
    from nvlib.workbook.paths import runs_dir

    exp, seed, results_root, runs_root, extra, threads, keep_last = job
    if threads is not None:
        import torch

        torch.set_num_threads(int(threads))
    run = plan(exp, seed, results_root)
    _refuse_conflict(run)  # checked again here: another process may have written it since
    model_cfg, train_cfg = exp.resolve(seed, results_root)
    out_dir = Path(runs_root or runs_dir() / "experiments") / f"{exp.model}_{run.hash}"
    run_experiment(exp.model, exp.cache_dir, model_cfg=model_cfg, train_cfg=train_cfg, out_dir=out_dir,
                   results_path=run.path, fold=exp.fold, chunk=exp.chunk, extra=extra,
                   record={"key": run.key, "key_hash": run.hash, "seed": int(seed), "data_id": exp.data_id})
    if not keep_last:  # the result is recorded; only best.pt (a frame backbone for the video models) is kept
        (out_dir / "last.pt").unlink(missing_ok=True)
    return str(run.path)


def run_many(experiments: dict, seeds: Iterable[int] = DEFAULT_SEEDS, *, train_missing: bool = True,
             results_root=None, runs_root=None, extra: dict | None = None, workers: int = 1,
             threads: int | None = None, keep_last: bool = False,
             log: Callable[[str], None] | None = print) -> dict:
    """:func:`run_seeds` for several experiments ``{name: Experiment}`` at once (one pool of workers for
    all their missing seeds); returns ``{name: SeedResults}``. The experiments must not depend on each
    other's results (a video model's "auto" backbone is resolved before anything is trained)."""
    seeds = [int(s) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"run_seeds: repeated seeds {seeds}")
    if not seeds:
        raise ValueError("run_seeds: no seeds")
    planned: dict = {}
    missing: dict = {name: [] for name in experiments}
    jobs = []
    for name, exp in experiments.items():
        for fexp in exp.per_fold():
            where = f" fold {fexp.fold}" if exp.all_folds else ""
            for seed in seeds:
                run = plan(fexp, seed, results_root)
                doc = _load_matching(run)
                if doc is not None:
                    run.doc, run.reused = doc, True
                    if log:
                        log(f"{exp.model}{where} seed {seed}: reused {run.path.name}")
                elif not train_missing:
                    missing[name].append((fexp.fold, seed) if exp.all_folds else seed)
                    if log:
                        log(f"{exp.model}{where} seed {seed}: no result for this configuration ({run.path.name})")
                    continue
                else:
                    _refuse_conflict(run)
                    jobs.append((fexp, seed, results_root, runs_root, extra, threads, keep_last))
                    if log:
                        log(f"{exp.model}{where} seed {seed}: training -> {run.path.name}")
                planned[name, fexp.fold, seed] = run
    if workers > 1 and len(jobs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(_train_one, jobs))
    elif jobs:
        import torch

        before = torch.get_num_threads()
        try:
            for job in jobs:
                _train_one(job)
        finally:
            torch.set_num_threads(before)
    out = {}
    for name, exp in experiments.items():
        runs = []
        for key in [k for k in planned if k[0] == name]:
            run = planned[key]
            if not run.reused:
                run.doc = _load_matching(run)
                if run.doc is None:
                    raise RuntimeError(f"{run.path}: the result just written does not match its configuration")
            runs.append(run)
        out[name] = SeedResults(exp, runs, missing[name])
    return out


def run_seeds(exp: Experiment, seeds: Iterable[int] = DEFAULT_SEEDS, *, train_missing: bool = True,
              results_root=None, runs_root=None, extra: dict | None = None, workers: int = 1,
              threads: int | None = None, keep_last: bool = False,
              log: Callable[[str], None] | None = print) -> SeedResults:
    """Each seed's result of ``exp``: reused from ``results/`` when a file with the same configuration
    exists, else trained now (``train_missing``) and written there, else listed as missing.

    ``workers`` > 1 trains missing seeds in that many processes at once (spawned; each seed's run is
    seeded on its own, so the results do not depend on the order); ``threads`` sets torch's intra-op
    threads of every training (on a small shared CPU one thread per process avoids the slow-down of
    threads waiting for each other); a script that asks for ``workers`` > 1 needs the
    ``if __name__ == "__main__":`` guard, as every spawned process imports the main module.
    ``extra`` is stored in each new result's ``config`` (e.g. the notebook that asked). A finished run's ``last.pt`` (only needed to resume) is deleted unless
    ``keep_last``. With ``exp.fold == "all"`` every fold of the cache is run with every seed (the
    subject-independent protocol over all folds; :meth:`SeedResults.aggregate` then gives mean and
    std over folds and seeds). Returns :class:`SeedResults` in the order of ``seeds`` (fold by fold).
    """
    return run_many({exp.model: exp}, seeds, train_missing=train_missing, results_root=results_root,
                    runs_root=runs_root, extra=extra, workers=workers, threads=threads, keep_last=keep_last,
                    log=log)[exp.model]


def find_results(results_root=None, **criteria) -> list[tuple[Path, dict]]:
    """Results documents in ``results/`` whose stored configuration matches ``criteria``.

    Criteria name fields of the stored key (``model``, ``data``, ``cache_id``, ``fold``, ``chunk``) or ``seed``;
    ``model_cfg`` matches when every given option equals the stored one. Sorted by file name.
    """
    from nvlib.evaluation.results import read_results_json
    from nvlib.workbook.paths import results_dir

    root = Path(results_root) if results_root is not None else results_dir()
    out = []
    for path in sorted(root.glob("*.json")):
        try:
            doc = read_results_json(path)
        except ValueError:
            continue
        key = doc.get("key")
        if not isinstance(key, dict) or key.get("format") != RESULTS_FORMAT:
            continue
        ok = True
        for k, v in criteria.items():
            if k == "seed":
                ok = doc.get("seed") == v
            elif k == "model_cfg":
                stored = key.get("model_cfg") or {}
                ok = all(stored.get(o) == w for o, w in dict(v).items())
            else:
                ok = key.get(k) == v
            if not ok:
                break
        if ok:
            out.append((path, doc))
    return out
