"""The conversion runner: videos -> events -> TBR frames + labels -> cache (``nvlib convert``).

Per clip (paper Sections 3-4): decode the frames; crop a face box that is stable over the clip
(AFEW-VA: from the landmarks; sample clips: OpenCV Haar detection with temporal smoothing);
resize to ``size`` x ``size`` (``cv2.INTER_AREA``); simulate a DVS (:func:`nvlib.simulate.simulate_frames`,
v2e's model, a per-clip seed so the result does not depend on scheduling); cut the events into
back-to-back windows of ``N·Δt`` from the first frame's time and encode each as a TBR frame
(:func:`nvlib.represent.tbr`, integer codes); label each window by the annotation nearest to its
mean event timestamp (:func:`nvlib.datasets.labels.transfer_labels`); write the clip atomically
(:func:`nvlib.datasets.cache.write_clip`). NEFER recordings are real events: they are read from
the EVT 3.0 files, cropped to the face box (published, or detected on the event-count image, or a
central square) and scaled to ``size``.

Runs resume (finished clips are skipped; a clip folder only ever appears complete), run in
parallel over clips (``--workers`` processes), split into cluster job-array shards
(``--shard i/n``: clips ``k`` with ``k % n == i``) and report bad clips with the file and the
reason (``skipped/`` and ``skipped.log``) while the run goes on. When every clip is finished or
skipped, ``index.json`` is written (splits and folds grouped by actor/user) and the cache is complete.
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nvlib.datasets import cache as C

STAGES = ("decode", "simulate", "encode", "write")


@dataclass(frozen=True)
class Job:
    """One clip to convert: ``clip`` id, ``kind`` ("afewva", "samples", "nefer"), ``group`` (actor/user),
    ``payload`` (kind-specific, picklable), ``file`` (path reported when it fails)."""

    clip: str
    kind: str
    group: str
    file: str
    payload: dict = field(default_factory=dict)


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


class _Skip(Exception):
    def __init__(self, file, reason):
        self.file, self.reason = str(file), reason
        super().__init__(f"{file}: {reason}")


def clip_seed(clip: str, base: int = 0) -> int:
    """Deterministic non-zero simulator seed of a clip (CRC32 of its id, mixed with ``base``)."""
    return (zlib.crc32(f"{base}:{clip}".encode()) & 0x7FFFFFFF) or 1


def dvs_params(params: dict, clip: str):
    from nvlib.simulate import DVSParams

    preset = params.get("dvs", "default")
    p = DVSParams() if preset == "default" else DVSParams.preset(preset)
    return p.replace(seed=clip_seed(clip, int(params.get("dvs_seed", 0))))


# ----------------------------------------------------------------------------- per-clip work
def _load_frames_job(job: Job, params: dict):
    """-> (gray frames (T,H,W), fps, ann_values (T,2), box, info) for frame-based kinds."""
    from nvlib.datasets import faces

    info: dict = {"group": job.group}
    if job.kind == "afewva":
        from nvlib.datasets.afewva import AnnotationError, read_clip

        try:
            clip = read_clip(job.payload["clip_dir"], fps=params["fps"])
            frames = clip.load_frames(gray=True)
        except AnnotationError as e:
            raise _Skip(e.file, e.reason) from e
        box = faces.landmark_box(clip.landmarks, margin=params["margin"])
        info.update(actor=clip.actor, video_id=clip.video_id, box_source="landmarks", labels_kind="annotated")
        return frames, clip.fps, clip.va, box, info
    if job.kind == "samples":
        from nvlib.datasets import samples
        from nvlib.io.video import read_video
        from nvlib.datasets.samples import derived_va

        path = samples.sample_path(job.clip)
        frames, fps = read_video(path, max_frames=params.get("max_frames"), gray=True)
        if frames.shape[0] < 2:
            raise _Skip(path, f"clip has {frames.shape[0]} frame(s); at least 2 needed")
        va, emos = derived_va(job.clip, frames.shape[0], params.get("label_source", "acted"))
        try:
            box = faces.detect_clip_box(frames, every=params.get("detect_every", 5), margin=params["margin"])
            info["box_source"] = "haar"
        except ValueError:
            box = faces.centre_box(frames.shape[2], frames.shape[1])
            info["box_source"] = "centre (no face detected)"
        info.update(labels_kind="derived", emotions=sorted(set(emos)))
        return frames, fps, va, box, info
    raise ValueError(f"unknown job kind {job.kind!r}")


def _upsampled(frames: np.ndarray, fps: float, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(frames, times_s)`` for the simulator, temporally upsampled by optical flow.

    v2e upsamples its input (SuperSloMo) before emulating the DVS, so that events spread over the
    frame interval; without it, v2e's linear sub-step timestamps put most events at the start of each
    interval and a TBR frame's newer bits stay empty. ``params["upsample"]``: ``"auto"`` (default: at most
    one pixel of motion per sub-frame, and at least one sub-frame per TBR slice Δt), an integer factor,
    or 1 for none (:func:`nvlib.simulate.upsample.upsample_frames`).
    """
    from nvlib.simulate.upsample import upsample_frames

    mode = params.get("upsample", 1)
    times = np.arange(frames.shape[0], dtype=np.float64) / float(fps)
    if mode in (1, "1", None, "none"):
        return frames, times
    min_k = int(np.ceil(1e6 / (float(fps) * int(params["delta_t_us"])) - 1e-9))
    pairs = list(upsample_frames(zip(frames, times), factor="auto" if mode == "auto" else int(mode),
                                 min_factor=min_k))
    return np.stack([f for f, _ in pairs]), np.array([t for _, t in pairs])


def _convert_frames(job: Job, params: dict, timings: dict):
    from nvlib.datasets import faces
    from nvlib.datasets.labels import transfer_labels
    from nvlib.represent.windows import consecutive_windows, frame_times_us
    from nvlib.represent import tbr
    from nvlib.simulate import simulate_frames

    t0 = time.perf_counter()
    frames, fps, va, box, info = _load_frames_job(job, params)
    S = int(params["size"])
    small = faces.crop_resize(frames, box, S)
    t1 = time.perf_counter()
    timings["decode"] += t1 - t0
    sim_frames, sim_times = _upsampled(small, fps, params)
    ev = simulate_frames(sim_frames, times_s=sim_times, params=dvs_params(params, job.clip))
    t2 = time.perf_counter()
    timings["simulate"] += t2 - t1
    ann_t = frame_times_us(frames.shape[0], fps)
    window = int(params["n_bits"]) * int(params["delta_t_us"])
    starts, ends = consecutive_windows(int(ann_t[0]), int(ann_t[-1]), window)
    codes = tbr(ev, (S, S), delta_t_us=int(params["delta_t_us"]), n_bits=int(params["n_bits"]), normalize=False,
                start_us=int(starts[0]), n_frames=len(starts))
    labels, idx = transfer_labels(ev.t, starts, ends, ann_t, va)
    timings["encode"] += time.perf_counter() - t2
    info.update(fps=float(fps), frames_in=int(frames.shape[0]), n_events=int(len(ev)), box=[int(v) for v in box],
                frame_size=[int(frames.shape[2]), int(frames.shape[1])], annotation_index=idx.tolist())
    return np.asarray(codes), labels.astype(np.float32), info, int(frames.shape[0])


def _convert_nefer(job: Job, params: dict, timings: dict):
    from nvlib.datasets import faces
    from nvlib.represent.windows import consecutive_windows
    from nvlib.datasets.samples import CIRCUMPLEX
    from nvlib.events import make_events
    from nvlib.io import read_events
    from nvlib.represent import tbr

    t0 = time.perf_counter()
    raw = Path(job.payload["raw"])
    if not raw.is_file():
        raise _Skip(raw, "recording not found")
    ev = read_events(raw).sorted()
    if len(ev) < 2:
        raise _Skip(raw, f"recording has {len(ev)} event(s)")
    W, H = ev.sensor_size
    box = job.payload.get("face_box")
    src = "published"
    if box is None:
        box, src = _nefer_face_box(ev)
    x0, y0, side = (int(v) for v in box)
    S = int(params["size"])
    keep = (ev.x >= x0) & (ev.x < x0 + side) & (ev.y >= y0) & (ev.y < y0 + side)
    sub = ev.array[keep]
    cropped = make_events((sub["x"].astype(np.int64) - x0) * S // side, (sub["y"].astype(np.int64) - y0) * S // side,
                          sub["t"], sub["p"], (S, S))
    t1 = time.perf_counter()
    timings["decode"] += t1 - t0
    window = int(params["n_bits"]) * int(params["delta_t_us"])
    starts, _ = consecutive_windows(int(ev.t[0]), int(ev.t[-1]), window)
    codes = tbr(cropped, (S, S), delta_t_us=int(params["delta_t_us"]), n_bits=int(params["n_bits"]),
                normalize=False, start_us=int(starts[0]), n_frames=len(starts))
    label = job.payload["label"]
    va = np.tile(np.asarray(CIRCUMPLEX.get(label.lower(), (0.0, 0.0)), np.float32), (len(starts), 1))
    timings["encode"] += time.perf_counter() - t1
    from nvlib.datasets.nefer import CLASSES

    info = {"group": job.group, "user": job.group, "label": label,
            "label_index": CLASSES.index(label) if label in CLASSES else -1, "labels_kind": "derived",
            "box": [x0, y0, side], "box_source": src, "sensor_size": [W, H], "n_events": int(len(cropped)),
            "gopro": job.payload.get("gopro", "")}
    return np.asarray(codes), va, info, 0


def _nefer_face_box(ev):
    """Face box on a real recording: Haar on the event-count image, else a central square."""
    import cv2

    from nvlib.datasets import faces

    W, H = ev.sensor_size
    img = np.zeros((H, W), np.float64)
    np.add.at(img, (ev.y.astype(np.int64), ev.x.astype(np.int64)), 1.0)
    img = np.log1p(img)
    img = (255 * img / max(img.max(), 1e-9)).astype(np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 2)
    det = faces.detect_faces(img[None], every=1)
    if np.all(np.isfinite(det[0])):
        cx, cy, s = det[0]
        side = int(round(s * 1.3))
        return (int(round(cx - side / 2)), int(round(cy - side / 2)), side), "haar (event-count image)"
    return faces.centre_box(W, H, 0.9), "centre (no face detected)"


def convert_one(job: Job, params: dict, cache_dir: str) -> tuple:
    """Convert one clip into ``cache_dir``. Returns ``(clip, ok, file, reason, timings, frames_in, frames_out)``;
    a bad clip is reported (``ok=False`` with file and reason), never raised."""
    timings = {s: 0.0 for s in STAGES}
    try:
        if job.kind == "nefer":
            codes, va, info, n_in = _convert_nefer(job, params, timings)
        else:
            codes, va, info, n_in = _convert_frames(job, params, timings)
        t = time.perf_counter()
        C.write_clip(cache_dir, job.clip, codes, va, info)
        timings["write"] += time.perf_counter() - t
        return job.clip, True, "", "", timings, n_in, int(codes.shape[0])
    except _Skip as e:
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


def _clean_partials(cache_dir: Path) -> None:
    for sub in ("clips", "skipped"):
        d = cache_dir / sub
        if d.is_dir():
            for p in d.glob(".*.partial-*"):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def run_conversion(source: str, params: dict, jobs: list[Job], out_root, workers: int = 0, shard=None,
                   progress: bool = True, n_folds: int = 5, split_seed: int = 0, fractions=(0.7, 0.15, 0.15),
                   fixed_splits: dict | None = None, _fail_after: int | None = None) -> ConversionResult:
    """Convert ``jobs`` into ``<out_root>/<cache_name>`` (resumable, parallel, shardable).

    ``fixed_splits`` maps group -> split (NEFER's user lists); otherwise groups are split with
    :func:`~nvlib.datasets.splits.group_split`. Folds: :func:`~nvlib.datasets.splits.group_kfold`
    (fewer folds when there are fewer groups). ``_fail_after`` (tests) raises ``RuntimeError`` after
    that many clips of this run were written, as a crash would.
    """
    from tqdm.auto import tqdm

    from nvlib.datasets.splits import group_kfold, group_split

    t_start = time.perf_counter()
    ids = [j.clip for j in jobs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{source}: duplicate clip ids")
    out_root = Path(out_root)
    cache_dir = out_root / C.cache_name(source, params)
    cache_dir.mkdir(parents=True, exist_ok=True)
    ptext = C.dumps(params)
    pfile = cache_dir / "params.json"
    if pfile.is_file() and pfile.read_text() != ptext:
        raise C.CacheError(f"{pfile}: parameters differ from this run's although the folder name matches")
    if not pfile.is_file():
        from nvlib.workbook.atomic import write_text

        write_text(pfile, ptext)
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
        groups = [j.group for j in jobs]
        if fixed_splits is not None:
            split_of = [fixed_splits[g] for g in groups]
        else:
            split_of = group_split(groups, fractions, seed=split_seed) if len(set(groups)) >= 3 else \
                ["train"] * len(groups)
        k = min(n_folds, len(set(groups)))
        fold_of = group_kfold(groups, k, seed=split_seed) if k >= 2 else np.zeros(len(groups), np.int64)
        keep = [i for i, j in enumerate(jobs) if C.clip_done(cache_dir, j.clip)]
        meta = {"source": source, "n_bits": int(params["n_bits"]), "delta_t_us": int(params["delta_t_us"]),
                "size": int(params["size"]), "labels_kind": params["labels_kind"], "representation": "tbr",
                "n_folds": int(max(k, 1)), "n_clips": len(keep), "n_skipped": len(jobs) - len(keep),
                "split_seed": split_seed}
        _clean_partials(cache_dir)
        C.finalize(cache_dir, [jobs[i].clip for i in keep], [groups[i] for i in keep], [split_of[i] for i in keep],
                   [int(fold_of[i]) for i in keep], meta)
        res.complete = True
    res.wall_s = time.perf_counter() - t_start
    return res


# ----------------------------------------------------------------------------- sources
def _base_params(n_bits, delta_t_us, size, dvs="default", dvs_seed=0, margin=0.25, upsample="auto") -> dict:
    C.code_dtype(int(n_bits))
    if int(size) < 8:
        raise ValueError(f"size must be >= 8, got {size}")
    if not (upsample == "auto" or (str(upsample).isdigit() and int(upsample) >= 1)):
        raise ValueError(f"upsample must be 'auto' or an integer factor >= 1, got {upsample!r}")
    return {"representation": "tbr", "n_bits": int(n_bits), "delta_t_us": int(delta_t_us), "size": int(size),
            "dvs": dvs, "dvs_seed": int(dvs_seed), "margin": float(margin), "windows": "consecutive",
            "upsample": upsample if upsample == "auto" else int(upsample)}


def afewva_jobs(root, fps: float = 25.0) -> list[Job]:
    """One job per clip folder of an AFEW-VA tree (the actor comes from the JSON; "" if unreadable)."""
    from nvlib.datasets.afewva import AFEWVA

    ds = AFEWVA(root, fps=fps)
    actors = ds.actors
    return [Job(c, "afewva", actors[i] or f"unknown_{c}", str(ds.root / c / f"{c}.json"),
                {"clip_dir": str(ds.root / c)}) for i, c in enumerate(ds.clips)]


def convert_afewva(root, out_root=None, n_bits=8, delta_t_us=5000, size=128, fps=25.0, workers=0, shard=None,
                   progress=True, dvs="default", n_folds=5, split_seed=0, source="afew-va", extra=None,
                   labels_kind="annotated", upsample="auto", _fail_after=None) -> ConversionResult:
    """Convert an AFEW-VA tree (real or synthetic layout). See the module docstring; ``upsample`` as in
    :func:`_upsampled`."""
    params = _base_params(n_bits, delta_t_us, size, dvs, upsample=upsample)
    params.update(fps=float(fps), labels_kind=labels_kind, source_root=Path(root).name, **(extra or {}))
    out_root = Path(out_root) if out_root is not None else _default_out()
    return run_conversion(source, params, afewva_jobs(root, fps), out_root, workers, shard, progress, n_folds,
                          split_seed, _fail_after=_fail_after)


def _default_out() -> Path:
    from nvlib.workbook.paths import data_dir

    return data_dir() / "converted"


def convert_synthetic(out_dir=None, n_clips=12, n_frames=48, size=64, n_bits=8, delta_t_us=5000, seed=0,
                      workers=0, fps=25.0, n_actors=None, progress=False, image_size=None, shard=None,
                      _fail_after=None) -> Path:
    """Generate synthetic AFEW-VA faces (if needed) and convert them; returns the cache folder (reused
    when already complete)."""
    from nvlib.datasets.synthetic import generate_synthetic_afewva

    out_dir = Path(out_dir) if out_dir is not None else _default_out()
    image_size = int(image_size or size)
    gen = {"n_clips": int(n_clips), "n_frames": int(n_frames), "image_size": image_size, "seed": int(seed),
           "fps": float(fps), "n_actors": n_actors}
    params = _base_params(n_bits, delta_t_us, size)
    params.update(fps=float(fps), labels_kind="annotated", source_root="synthetic", generator=gen)
    cache_dir = out_dir / C.cache_name("synthetic-va", params)
    if C.is_complete(cache_dir):
        return cache_dir
    tree = out_dir / f"synthetic_afewva_n{n_clips}_f{n_frames}_s{image_size}_seed{seed}"
    if not (tree / ".complete").is_file():
        generate_synthetic_afewva(tree, n_clips=n_clips, n_frames=n_frames, size=image_size, seed=seed, fps=fps,
                                  n_actors=n_actors)
    res = run_conversion("synthetic-va", params, afewva_jobs(tree, fps), out_dir, workers, shard, progress,
                         _fail_after=_fail_after)
    return res.cache_dir


def samples_jobs(names=None) -> list[Job]:
    from nvlib.datasets import samples
    from nvlib.datasets.samples import DEFAULT_NAMES, sample_group

    names = list(DEFAULT_NAMES if names is None else names)
    return [Job(n, "samples", sample_group(n), str(samples.samples_dir() / samples.SAMPLES[n].filename)
                if n in samples.SAMPLES else n) for n in names]


def convert_samples_result(out_root=None, names=None, n_bits=8, size=128, delta_t_us=5000, max_frames=None,
                           workers=0, progress=True, shard=None, label_source="acted") -> ConversionResult:
    params = _base_params(n_bits, delta_t_us, size, margin=0.15)
    params.update(labels_kind="derived", max_frames=max_frames, label_source=label_source, detect_every=5)
    jobs = samples_jobs(names)
    out_root = Path(out_root) if out_root is not None else _default_out()
    return run_conversion("samples", params, jobs, out_root, workers, shard, progress)


def convert_samples(out_dir=None, names=None, n_bits=8, size=128, delta_t_us=5000, max_frames=None, workers=0,
                    progress=False) -> Path:
    """Convert the real sample clips (labels DERIVED); returns the cache folder."""
    return convert_samples_result(out_dir, names, n_bits, size, delta_t_us, max_frames, workers, progress).cache_dir


def nefer_jobs(root, labels="expected", annotations_dir=None) -> tuple[list[Job], dict, list]:
    """Jobs for both NEFER splits (train users -> "train", validation users -> "test": the paper evaluates
    on the authors' validation split) and the CSV problems."""
    from nvlib.datasets.nefer import NEFER

    jobs, split_of, problems = [], {}, []
    for split, target in (("train", "train"), ("validation", "test")):
        ds = NEFER(root, split, labels, "events", annotations_dir=annotations_dir, load=None)
        problems += ds.problems
        for i, (e, g) in enumerate(ds.entries):
            p = ds.paths(i)
            jobs.append(Job(e.sequence, "nefer", e.user, str(p["raw"]),
                            {"raw": str(p["raw"]), "label": e.label, "gopro": g.sequence if g else "",
                             "face_box": ds.face_box(i)}))
            split_of[e.user] = target
    return jobs, split_of, problems


def convert_nefer(root, out_root=None, labels="expected", n_bits=8, delta_t_us=5000, size=128, workers=0,
                  shard=None, progress=True, annotations_dir=None) -> ConversionResult:
    """Convert NEFER's real recordings (both splits). CSV problems are recorded as skipped sequences."""
    jobs, split_of, problems = nefer_jobs(root, labels, annotations_dir)
    params = _base_params(n_bits, delta_t_us, size)
    params.update(labels_kind="derived", nefer_labels=labels, source_root=Path(root).name)
    out_root = Path(out_root) if out_root is not None else _default_out()
    cache_dir = out_root / C.cache_name(f"nefer-{labels}", params)
    for pr in problems:
        C.write_skipped(cache_dir, pr.sequence.replace("/", "_") or f"row{pr.row}", f"{pr.file}:{pr.row}",
                        pr.reason)
    return run_conversion(f"nefer-{labels}", params, jobs, out_root, workers, shard, progress,
                          fixed_splits=split_of)
