"""The conversion runner: jobs -> a dataset cache, resumable, parallel, shardable.

Runs resume (finished clips are skipped; a clip folder only ever appears complete), run in parallel over
clips (``workers`` processes), split into cluster job-array shards (``shard="i/n"``: clips ``k`` with
``k % n == i``) and report bad clips with the file and the reason (``skipped/`` and ``skipped.log``)
while the run goes on. The cache folder is named after the parameters
(:func:`nvlib.datasets.cache.cache_name` of :meth:`ConvertParams.to_dict`), which are written to
``params.json`` and checked when a run resumes. A finished clip is reused only while its source is the
one it was converted from (each job's ``digest``, :mod:`nvlib.convert.identity`); a clip whose source
changed is converted again, alone.

When every clip is finished or skipped the run checks the outcome: no clip converted, or more than
``max_skip`` (default 5%) of the clips skipped, fails with :class:`ConversionError` and ``failed.json``;
otherwise ``index.json`` is written (splits and folds grouped by actor/user, or by clip when asked, or
time segments of each clip when there are fewer than three groups; the index's meta says which and
whether the folds are subject-independent, and carries the cache's ``content_id``) and the cache is
complete. What each clip goes through: :mod:`nvlib.convert.jobs`.
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


#: the share of clips a run may skip before it fails (``--max-skip``)
DEFAULT_MAX_SKIP = 0.05


@dataclass
class ConversionResult:
    """What a run did: the cache folder, counts, and seconds per stage (summed over clips).

    ``converted``: clips converted by this run, ``reconverted`` those among them converted before from
    another source; ``skipped``: (clip, file, reason) of this run; ``problems``: clips left out before
    conversion; ``dropped_frames``: (clip, frame, file, reason) of the whole cache; ``meta`` and
    ``content_id``: the index's, once complete; ``failure``: why the run did not pass its checks."""

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
    reconverted: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    dropped_frames: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    content_id: str | None = None
    failure: str | None = None


class ConversionError(ValueError):
    """A conversion that did not pass its checks (no clip converted, too many skipped); ``result`` is its
    :class:`ConversionResult`. The message names the first problems and the ``skipped.log``."""

    def __init__(self, message: str, result: ConversionResult):
        super().__init__(message)
        self.result = result


def convert_one(job: Job, params: ConvertParams | Mapping, cache_dir: str) -> tuple:
    """Convert one clip into ``cache_dir``. Returns ``(clip, ok, file, reason, timings, frames_in, frames_out)``;
    a bad clip is reported (``ok=False`` with file and reason), never raised."""
    timings = {s: 0.0 for s in STAGES}
    try:
        codes, va, info, n_in = convert_clip(job, as_params(params), timings)
        t = time.perf_counter()
        C.write_clip(cache_dir, job.clip, codes, va, {**info, "source_digest": job.digest})
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
            for p in list(d.glob(".*.partial-*")) + list(d.glob(".*.stale-*")):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def _current(cache_dir: Path, job: Job) -> bool:
    """True when the clip is converted from the source it has now (its recorded digest matches)."""
    info = C.clip_info(cache_dir, job.clip)
    return info is not None and info.get("source_digest", None) == job.digest


def _problem_lines(records, limit: int = 5) -> list[str]:
    return [f"{r['clip']}: {r['file']}: {r['reason']}" for r in records[:limit]]


def _splits(source: str, jobs: list[Job], keep: list[int], lengths: dict, n_folds: int, split_seed: int,
            fractions, fixed_splits: dict | None, grouping: str, inference: bool = False) -> tuple[dict, dict]:
    """Index entries (clips, groups, splits, folds, starts, lengths) of the kept clips and the split facts
    for the index's meta."""
    from nvlib.datasets.splits import group_kfold, group_split, segment_splits, time_segments

    groups = [j.group for j in jobs]
    n_groups = len(set(groups))
    facts: dict = {"groups": grouping}
    cols = {"clips": [], "groups": [], "splits": [], "folds": [], "starts": None, "lengths": None}
    if inference:  # no labels: nothing to train on, every clip is for prediction
        for i in keep:
            for k, v in (("clips", jobs[i].clip), ("groups", groups[i]), ("splits", "test"), ("folds", 0)):
                cols[k].append(v)
        facts.update(split_unit="none", subject_independent=False, n_folds=1,
                     split_note="no labels: a cache for inference only (every clip in the test split)")
        return cols, facts
    if fixed_splits is not None:
        missing = sorted({g for g in groups if g not in fixed_splits})
        if missing:
            raise ValueError(f"{source}: fixed_splits names no split for group(s) {missing}")
        split_of = [fixed_splits[g] for g in groups]
        facts.update(split_unit="published", subject_independent=grouping == "person")
    elif n_groups < 3:  # too few groups for train/val/test by group: cut each clip in time
        k = max(int(n_folds), 3)
        cols["starts"], cols["lengths"] = [], []
        n_parts = 1
        for i in keep:
            parts = time_segments(lengths[jobs[i].clip], k)
            n_parts = max(n_parts, len(parts))
            for f, ((a, n), s) in enumerate(zip(parts, segment_splits(len(parts)))):
                cols["clips"].append(jobs[i].clip)
                cols["groups"].append(groups[i])
                cols["splits"].append(s)
                cols["folds"].append(f)
                cols["starts"].append(a)
                cols["lengths"].append(n)
        facts.update(split_unit="segment", subject_independent=False, n_folds=n_parts,
                     split_note=f"only {n_groups} group(s): too few for a split by group, so each clip is cut "
                                f"in time into {k} parts (part k is fold k; the last part is the test split, the "
                                "one before it val); neighbouring parts of a clip are not independent")
        return cols, facts
    else:
        split_of = group_split(groups, fractions, seed=split_seed)
        facts.update(split_unit="group" if grouping == "person" else "clip",
                     subject_independent=grouping == "person")
    k = min(n_folds, n_groups)
    fold_of = group_kfold(groups, k, seed=split_seed) if k >= 2 else np.zeros(len(groups), np.int64)
    facts["n_folds"] = int(max(k, 1))
    for i in keep:
        cols["clips"].append(jobs[i].clip)
        cols["groups"].append(groups[i])
        cols["splits"].append(split_of[i])
        cols["folds"].append(int(fold_of[i]))
    return cols, facts


def _finalize(cache_dir: Path, source: str, params: ConvertParams, jobs: list[Job], problems: list, n_folds: int,
              split_seed: int, fractions, fixed_splits: dict | None, grouping: str, max_skip: float,
              meta_extra: dict | None, res: ConversionResult) -> None:
    infos = {j.clip: C.clip_info(cache_dir, j.clip) for j in jobs}
    keep = [i for i, j in enumerate(jobs) if infos[j.clip] is not None and
            infos[j.clip].get("source_digest") == j.digest]
    n_total = len(jobs) + len(problems)
    n_skipped = n_total - len(keep)
    _clean_partials(cache_dir)
    if not keep or n_skipped > max_skip * n_total:
        records = C.read_skipped(cache_dir)
        if not keep:
            summary = f"{source}: no clip converted: all {n_total} clips were skipped"
        else:
            summary = (f"{source}: {n_skipped} of {n_total} clips skipped ({n_skipped / n_total:.0%}, more than "
                       f"the allowed {max_skip:.0%}; --max-skip raises it)")
        C.mark_failed(cache_dir, summary, records[:10])
        res.failure = summary
        raise ConversionError(summary + "; first problems: " + " | ".join(_problem_lines(records)) +
                              f"; all of them in {cache_dir / 'skipped.log'}", res)
    lengths = {jobs[i].clip: int(infos[jobs[i].clip]["n_frames"]) for i in keep}
    cols, facts = _splits(source, jobs, keep, lengths, n_folds, split_seed, fractions, fixed_splits, grouping,
                          inference=params.labels_kind == "none")
    present = set(cols["splits"])
    empty = [s for s in C.SPLITS if s not in present]
    if empty and params.labels_kind != "none":
        facts["split_problem"] = facts.get("split_note") or (
            f"no clip fell into the {'/'.join(empty)} split ({len(set(cols['groups']))} group(s) among the "
            "converted clips)" if fixed_splits is None else
            f"the published splits of {source} have no {'/'.join(empty)} split")
    dropped = [(c, d.get("frame"), d.get("file"), d.get("reason")) for c in cols["clips"] if infos[c]
               for d in infos[c].get("dropped_frames", [])]
    res.dropped_frames = sorted(set(dropped))
    meta = {"source": source, "n_bits": params.n_bits, "delta_t_us": params.delta_t_us, "size": params.size,
            "labels_kind": params.labels_kind, "representation": params.representation, "n_clips": len(keep),
            "n_skipped": n_skipped, "split_seed": split_seed, "n_dropped_frames": len(res.dropped_frames),
            "split_counts": {k: cols["splits"].count(k) for k in C.SPLITS},
            **facts, **(meta_extra or {})}
    C.finalize(cache_dir, cols["clips"], cols["groups"], cols["splits"], cols["folds"], meta,
               starts=cols["starts"], lengths=cols["lengths"])
    res.meta = C.load_index(cache_dir)["meta"]
    res.content_id = res.meta["content_id"]


def run_conversion(source: str, params: ConvertParams | Mapping, jobs: list[Job], out_root, workers: int = 0,
                   shard=None, progress: bool = True, n_folds: int = 5, split_seed: int = 0,
                   fractions=(0.7, 0.15, 0.15), fixed_splits: dict | None = None, problems=(),
                   grouping: str = "person", max_skip: float = DEFAULT_MAX_SKIP, meta_extra: dict | None = None,
                   _fail_after: int | None = None) -> ConversionResult:
    """Convert ``jobs`` into ``<out_root>/<cache_name>`` (resumable, parallel, shardable).

    ``params``: :class:`ConvertParams` (a ``params.json``-style mapping is accepted and read with
    :meth:`ConvertParams.from_dict`); every job must be of its :attr:`~ConvertParams.job_kind`.
    A clip already converted from the same source (its ``digest``) is reused; one whose source changed is
    converted again. ``problems``: ``(clip, file, reason)`` of clips left out before conversion (they are
    recorded as skipped and count towards the skipped share). ``fixed_splits`` maps group -> split
    (NEFER's user lists); otherwise groups are split with :func:`~nvlib.datasets.splits.group_split`, or,
    with fewer than three groups, each clip is cut in time (:func:`~nvlib.datasets.splits.time_segments`).
    Folds: :func:`~nvlib.datasets.splits.group_kfold` (fewer folds when there are fewer groups).
    ``grouping``: "person" or "clip" (how the jobs' groups were made; recorded in the index).

    When every clip is converted or skipped, the run checks the result: no converted clip, or more than
    ``max_skip`` of the clips skipped, raises :class:`ConversionError` (``failed.json`` instead of an
    ``index.json``); otherwise ``index.json`` is written. ``_fail_after`` (tests) raises ``RuntimeError``
    after that many clips of this run were written, as a crash would.
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
    problems = [tuple(p) for p in problems]
    if not jobs and not problems:
        raise ValueError(f"{source}: no clips to convert")
    if not 0.0 <= float(max_skip) <= 1.0:
        raise ValueError(f"max_skip must be a share in [0, 1], got {max_skip}")
    cache_dir = open_cache(out_root, source, params)
    res = ConversionResult(cache_dir, n_jobs=len(jobs))
    res.problems = list(problems)
    known = set(ids) | {p[0] for p in problems}
    for r in C.read_skipped(cache_dir):  # records of clips that are no longer part of the source
        if r["clip"] not in known:
            C.remove_skipped(cache_dir, r["clip"])
    for clip, file, reason in problems:
        C.remove_clip(cache_dir, clip)
        C.write_skipped(cache_dir, clip, file, reason)
    si, sn = parse_shard(shard)
    mine = [j for k, j in enumerate(jobs) if k % sn == si]
    todo = [j for j in mine if not _current(cache_dir, j)]
    stale = {j.clip for j in todo if C.clip_done(cache_dir, j.clip)}  # converted before, from another source
    res.already_done = len(mine) - len(todo)
    if todo:
        (cache_dir / "index.json").unlink(missing_ok=True)  # the cache changes: not complete until finalized
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
        digest_of = {j.clip: j.digest for j in todo}
        for clip, ok, file, reason, timings, n_in, n_out in results:
            for s in STAGES:
                res.seconds[s] += timings[s]
            if ok:
                res.converted.append(clip)
                if clip in stale:
                    res.reconverted.append(clip)
                res.frames_in += n_in
                res.frames_out += n_out
            else:
                C.remove_clip(cache_dir, clip)  # an earlier conversion of another source must not stay
                C.write_skipped(cache_dir, clip, file, reason, source_digest=digest_of[clip])
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
    digest_all = {j.clip: j.digest for j in jobs}
    skipped_now = {r["clip"] for r in C.read_skipped(cache_dir)
                   if r["clip"] in digest_all and r.get("source_digest") == digest_all[r["clip"]]}
    if all(j.clip in skipped_now or _current(cache_dir, j) for j in jobs):
        try:
            _finalize(cache_dir, source, params, jobs, problems, n_folds, split_seed, fractions, fixed_splits,
                      grouping, max_skip, meta_extra, res)
        finally:
            res.wall_s = time.perf_counter() - t_start
        res.complete = True
    res.wall_s = time.perf_counter() - t_start
    return res
