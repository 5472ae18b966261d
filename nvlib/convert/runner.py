"""The conversion runner: jobs -> a dataset cache, resumable, parallel, shardable.

Runs resume (finished clips are skipped; a clip folder only ever appears complete), run in parallel over
clips (``workers`` processes), split into cluster job-array shards (``shard="i/n"``: clips ``k`` with
``k % n == i``) and report bad clips with the file and the reason (``skipped/`` and ``skipped.log``)
while the run goes on. When every clip is finished or skipped, ``index.json`` is written (splits and
folds grouped by actor/user) and the cache is complete. The cache folder is named after the parameters
(:func:`nvlib.datasets.cache.cache_name` of :meth:`ConvertParams.to_dict`), which are written to
``params.json`` and checked when a run resumes. What each clip goes through: :mod:`nvlib.convert.jobs`.
"""
from __future__ import annotations

import contextlib
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from nvlib.convert.jobs import STAGES, Job, SkipClip, convert_clip
from nvlib.convert.params import ConvertParams, as_params
from nvlib.datasets import cache as C


@dataclass
class ConversionResult:
    """What a run did: the cache folder, counts, and seconds per stage (summed over clips)."""

    cache_dir: Path
    n_jobs: int = 0
    converted: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    already_done: int = 0
    complete: bool = False
    frames_in: int = 0
    frames_out: int = 0
    seconds: dict = field(default_factory=lambda: {s: 0.0 for s in STAGES})
    wall_s: float = 0.0


def convert_one(job: Job, params: ConvertParams | Mapping, cache_dir: str) -> tuple:
    """Convert one clip into ``cache_dir``. Returns ``(clip, ok, file, reason, timings, frames_in, frames_out)``;
    a bad clip is reported (``ok=False`` with file and reason), never raised."""
    timings = {s: 0.0 for s in STAGES}
    try:
        codes, va, info, n_in = convert_clip(job, as_params(params), timings)
        t = time.perf_counter()
        C.write_clip(cache_dir, job.clip, codes, va, info)
        timings["write"] += time.perf_counter() - t
        return job.clip, True, "", "", timings, n_in, int(codes.shape[0])
    except SkipClip as e:
        return job.clip, False, e.file, e.reason, timings, 0, 0
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception as e:  # any other failure is this clip's, reported with its input file
        return job.clip, False, job.file, f"{type(e).__name__}: {e}", timings, 0, 0


def _init_worker():
    with contextlib.suppress(Exception):
        import torch

        torch.set_num_threads(1)


def _worker(args):
    return convert_one(*args)


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"i/n"`` -> (i, n) with 0 <= i < n; None -> (0, 1)."""
    if text is None:
        return 0, 1
    try:
        i, n = (int(v) for v in str(text).split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like i/n (e.g. 0/4), got {text!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"--shard {text}: need 0 <= i < n")
    return i, n


def cache_dir_for(out_root, source: str, params: ConvertParams | Mapping) -> Path:
    """``<out_root>/<cache_name>``: where ``params`` converted from ``source`` go (nothing is written)."""
    return Path(out_root) / C.cache_name(source, as_params(params).to_dict())


def open_cache(out_root, source: str, params: ConvertParams | Mapping) -> Path:
    """Create (or reopen) the cache folder of ``params`` and write (or check) its ``params.json``."""
    params = as_params(params)
    cache_dir = cache_dir_for(out_root, source, params)
    cache_dir.mkdir(parents=True, exist_ok=True)
    C.write_or_check_params(cache_dir, params.to_dict())
    return cache_dir


def _clean_partials(cache_dir: Path) -> None:
    for sub in ("clips", "skipped"):
        d = cache_dir / sub
        if d.is_dir():
            for p in d.glob(".*.partial-*"):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def _finalize(cache_dir: Path, source: str, params: ConvertParams, jobs: list[Job], n_folds: int, split_seed: int,
              fractions, fixed_splits: dict | None) -> None:
    from nvlib.datasets.splits import group_kfold, group_split

    groups = [j.group for j in jobs]
    if fixed_splits is not None:
        missing = sorted({g for g in groups if g not in fixed_splits})
        if missing:
            raise ValueError(f"{source}: fixed_splits names no split for group(s) {missing}")
        split_of = [fixed_splits[g] for g in groups]
    else:
        split_of = group_split(groups, fractions, seed=split_seed) if len(set(groups)) >= 3 else \
            ["train"] * len(groups)
    k = min(n_folds, len(set(groups)))
    fold_of = group_kfold(groups, k, seed=split_seed) if k >= 2 else np.zeros(len(groups), np.int64)
    keep = [i for i, j in enumerate(jobs) if C.clip_done(cache_dir, j.clip)]
    meta = {"source": source, "n_bits": params.n_bits, "delta_t_us": params.delta_t_us, "size": params.size,
            "labels_kind": params.labels_kind, "representation": params.representation, "n_folds": int(max(k, 1)),
            "n_clips": len(keep), "n_skipped": len(jobs) - len(keep), "split_seed": split_seed}
    _clean_partials(cache_dir)
    C.finalize(cache_dir, [jobs[i].clip for i in keep], [groups[i] for i in keep], [split_of[i] for i in keep],
               [int(fold_of[i]) for i in keep], meta)


def run_conversion(source: str, params: ConvertParams | Mapping, jobs: list[Job], out_root, workers: int = 0,
                   shard=None, progress: bool = True, n_folds: int = 5, split_seed: int = 0,
                   fractions=(0.7, 0.15, 0.15), fixed_splits: dict | None = None,
                   _fail_after: int | None = None) -> ConversionResult:
    """Convert ``jobs`` into ``<out_root>/<cache_name>`` (resumable, parallel, shardable).

    ``params``: :class:`ConvertParams` (a ``params.json``-style mapping is accepted and read with
    :meth:`ConvertParams.from_dict`); every job must be of its :attr:`~ConvertParams.job_kind`.
    ``fixed_splits`` maps group -> split (NEFER's user lists); otherwise groups are split with
    :func:`~nvlib.datasets.splits.group_split`. Folds: :func:`~nvlib.datasets.splits.group_kfold`
    (fewer folds when there are fewer groups). ``_fail_after`` (tests) raises ``RuntimeError`` after
    that many clips of this run were written, as a crash would.
    """
    from tqdm.auto import tqdm

    params = as_params(params)
    t_start = time.perf_counter()
    ids = [j.clip for j in jobs]
    if len(set(ids)) != len(ids):
        dup = sorted({c for c in ids if ids.count(c) > 1})
        raise ValueError(f"{source}: duplicate clip ids {dup[:5]}")
    wrong = sorted({j.kind for j in jobs} - {params.job_kind})
    if wrong:
        raise ValueError(f"{source}: {params.kind} parameters convert {params.job_kind!r} jobs, got {wrong}")
    cache_dir = open_cache(out_root, source, params)
    res = ConversionResult(cache_dir, n_jobs=len(jobs))
    si, sn = parse_shard(shard)
    mine = [j for k, j in enumerate(jobs) if k % sn == si]
    todo = [j for j in mine if not C.clip_done(cache_dir, j.clip)]
    res.already_done = len(mine) - len(todo)
    args = [(j, params, str(cache_dir)) for j in todo]
    bar = tqdm(total=len(todo), desc=f"convert {source}", unit="clip", disable=not progress, file=sys.stderr)
    pool = None
    try:
        if workers and workers > 0 and len(todo) > 1:
            import multiprocessing as mp

            pool = mp.get_context("spawn").Pool(min(workers, len(todo)), initializer=_init_worker)
            results = pool.imap_unordered(_worker, args, chunksize=1)
        else:
            results = (convert_one(*a) for a in args)
        for clip, ok, file, reason, timings, n_in, n_out in results:
            for s in STAGES:
                res.seconds[s] += timings[s]
            if ok:
                res.converted.append(clip)
                res.frames_in += n_in
                res.frames_out += n_out
            else:
                C.write_skipped(cache_dir, clip, file, reason)
                res.skipped.append((clip, file, reason))
                bar.write(f"skipped {clip}: {file}: {reason}")
            bar.update(1)
            if _fail_after is not None and len(res.converted) >= _fail_after:
                raise RuntimeError(f"injected failure after {_fail_after} clip(s)")
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
            pool.join()
    skipped_ids = {r["clip"] for r in C.read_skipped(cache_dir)}
    if all(C.clip_done(cache_dir, j.clip) or j.clip in skipped_ids for j in jobs):
        _finalize(cache_dir, source, params, jobs, n_folds, split_seed, fractions, fixed_splits)
        res.complete = True
    res.wall_s = time.perf_counter() - t_start
    return res
