"""Per-source jobs: what to convert (job builders) and how one clip is converted, source by source.

Frame sources (paper Sections 3-4) — AFEW-VA, the synthetic faces (generated in AFEW-VA's layout and
converted like it) and the real sample clips: decode the frames; crop a face box that is stable over the
clip (AFEW-VA: from the landmarks; sample clips: OpenCV Haar detection with temporal smoothing, else a
central square); resize to ``size`` x ``size`` (``cv2.INTER_AREA``); upsample in time by optical flow
(:func:`upsampled`); simulate a DVS (:func:`nvlib.simulate.simulate_frames`, v2e's model, a per-clip seed
so the result does not depend on scheduling); cut the events into back-to-back windows of ``N·Δt`` from
the first frame's time and encode each as a TBR frame (:func:`nvlib.represent.tbr`, integer codes); label
each window by the annotation nearest to its mean event timestamp
(:func:`nvlib.datasets.labels.transfer_labels`).

A user's own videos (:mod:`nvlib.convert.videos`) go through the same pipeline as the sample clips,
with the labels of the user's CSV or none.

NEFER recordings are real events: they are read from the EVT 3.0 files (found by sequence id where the
guessed layout does not hold them), cropped to the face box (published, or detected on the event-count
image, or a central square) and scaled to ``size``.

Every job carries its clip's ``digest`` (:mod:`nvlib.convert.identity`), recorded in the clip's
``info.json``: a clip is converted again when its source changed. Groups (the person in each clip) come
from the data; a source without them (an AFEW-VA JSON without ``actor``, a videos CSV without ``group``)
is refused unless ``groups="clip"`` makes every clip its own group (then the folds are not
subject-independent, and the cache's index says so). An AFEW-VA clip with a few unreadable frames
(at most :data:`MAX_DROPPED_SHARE` of them) keeps the others, at their own times and with their own labels;
the dropped frames are listed in ``info.json`` (``dropped_frames``).

A clip that cannot be converted raises :class:`SkipClip` with the offending file and the reason; the
runner (:mod:`nvlib.convert.runner`) records it and goes on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nvlib.convert.identity import source_digest
from nvlib.convert.params import ConvertParams, GeneratorParams
from nvlib.represent.geometry import FaceBox

#: the timed stages of one clip (summed over clips in :class:`nvlib.convert.runner.ConversionResult`)
STAGES = ("decode", "simulate", "encode", "write")
JOB_KINDS = ("afewva", "samples", "nefer", "videos")
#: how clips are grouped for splits and folds: by the person in them (actor, user, the CSV's group), or
#: each clip its own group (an opt-in: the folds are then not subject-independent)
GROUPINGS = ("person", "clip")
#: a frame clip keeps its readable frames while at most this share of its frames is unreadable
MAX_DROPPED_SHARE = 0.25
_CLIP_GROUPS_HINT = ("pass --groups clip to make every clip its own group (the folds are then not "
                     "subject-independent)")


@dataclass(frozen=True)
class Job:
    """One clip to convert: ``clip`` id, ``kind`` ("afewva", "samples", "nefer", "videos"), ``group``
    (actor/user/person, or the clip itself), ``file`` (path reported when it fails), ``payload``
    (kind-specific, picklable), ``digest``: what the clip is converted from (:mod:`nvlib.convert.identity`)."""

    clip: str
    kind: str
    group: str
    file: str
    payload: dict = field(default_factory=dict)
    digest: str = ""


def check_groups(groups: str) -> str:
    if groups not in GROUPINGS:
        raise ValueError(f"groups must be one of {', '.join(GROUPINGS)}, got {groups!r}")
    return groups


class SkipClip(Exception):
    """A clip that cannot be converted: ``file`` is the offending input and ``reason`` what is wrong."""

    def __init__(self, file, reason: str):
        self.file, self.reason = str(file), reason
        super().__init__(f"{file}: {reason}")


@dataclass
class FrameClip:
    """A decoded frame clip ready for the shared pipeline: gray ``frames`` (T, H, W) uint8, ``fps``,
    annotations ``va`` (K, 2), the clip's face ``box`` and the facts for ``info.json``.

    ``frame_index`` (T,): each frame's index in the source clip (None: 0..T-1), so that frames keep their
    times when some are missing; ``ann_index`` (K,): the source frame index of each annotation (None: the
    frames themselves, K = T)."""

    frames: np.ndarray
    fps: float
    va: np.ndarray
    box: FaceBox
    info: dict
    frame_index: np.ndarray | None = None
    ann_index: np.ndarray | None = None


# ----------------------------------------------------------------------------- AFEW-VA
def afewva_jobs(root, fps: float = 25.0, groups: str = "person") -> list[Job]:
    """One job per clip folder of an AFEW-VA tree, grouped by the actor of its JSON.

    Raises ``FileNotFoundError`` when the root holds no clip folders (saying where they are when they sit
    deeper or the root is a clip folder) and ``ValueError`` when actors are missing or spelled two ways,
    unless ``groups="clip"``."""
    from nvlib.datasets.afewva import _FRAME_RE, AFEWVA, check_actors, missing_clips_message

    check_groups(groups)
    ds = AFEWVA(root, fps=fps)
    if not ds.clips:
        msg = missing_clips_message(ds.root)
        from nvlib.convert.videos import find_videos

        videos = find_videos(ds.root, max_count=3)
        if videos and "found" not in msg:
            msg += (f"; it holds video files ({', '.join(p.name for p in videos)} ...): convert your own videos "
                    f"with `nvlib convert videos {ds.root} OUT`")
        raise FileNotFoundError(msg)
    actors, problems = check_actors(ds.root, ds.clips)
    if problems and groups != "clip":
        raise ValueError(f"{ds.root}: " + "; ".join(problems) + "; the folds group clips by actor to stay "
                         "subject-independent: fix the annotation files, or " + _CLIP_GROUPS_HINT)
    jobs = []
    for c, actor in zip(ds.clips, actors):
        d = ds.root / c
        group = c if groups == "clip" else (actor if actor is not None else f"unreadable_{c}")
        pngs = sorted(p for p in d.glob("*.png") if _FRAME_RE.match(p.stem))
        digest = source_digest(media=pngs, contents=[d / f"{c}.json"], facts={"group": group}, root=ds.root)
        jobs.append(Job(c, "afewva", group, str(d / f"{c}.json"), {"clip_dir": str(d)}, digest))
    return jobs


def _load_afewva(job: Job, params: ConvertParams) -> FrameClip:
    from nvlib.datasets import faces
    from nvlib.datasets.afewva import AnnotationError, read_clip

    try:
        clip = read_clip(job.payload["clip_dir"], fps=params.fps)
    except AnnotationError as e:
        raise SkipClip(e.file, e.reason) from e
    frames, kept, dropped = clip.read_frames(gray=True)
    n = len(clip.frame_paths)
    if dropped and (len(kept) < 2 or len(dropped) > MAX_DROPPED_SHARE * n):
        i, file, reason = dropped[0]
        raise SkipClip(file, f"{reason}; {len(dropped)} of {n} frames unusable (a clip keeps its other frames "
                             f"only while at most {MAX_DROPPED_SHARE:.0%} are unusable and 2 remain)")
    box = faces.landmark_box(clip.landmarks[kept], margin=params.margin)
    info = {"group": job.group, "actor": clip.actor, "video_id": clip.video_id, "box_source": "landmarks",
            "labels_kind": "annotated"}
    if dropped:
        info["dropped_frames"] = [{"frame": Path(f).stem, "index": int(i), "file": f, "reason": r}
                                  for i, f, r in dropped]
        return FrameClip(frames, clip.fps, clip.va[kept], box, info, frame_index=kept)
    return FrameClip(frames, clip.fps, clip.va, box, info)


# ----------------------------------------------------------------------------- synthetic faces
def synthetic_tree(out_dir, generator: GeneratorParams) -> Path:
    """The generated AFEW-VA-layout tree ``<out_dir>/synthetic_afewva_n.._f.._s.._seed..`` (made when missing
    or unfinished; the generator marks a finished tree with ``.complete``)."""
    from nvlib.datasets.synthetic import generate_synthetic_afewva

    tree = Path(out_dir) / generator.tree_name
    if not (tree / ".complete").is_file():
        g = generator
        generate_synthetic_afewva(tree, n_clips=g.n_clips, n_frames=g.n_frames, size=g.image_size, seed=g.seed,
                                  fps=g.fps, n_actors=g.n_actors)
    return tree


def synthetic_jobs(out_dir, params: ConvertParams) -> list[Job]:
    """Jobs of the synthetic faces: the generated tree's clips, converted as AFEW-VA clips."""
    if params.kind != "synthetic":
        raise ValueError(f"synthetic_jobs needs synthetic parameters, got kind {params.kind!r}")
    return afewva_jobs(synthetic_tree(out_dir, params.generator), params.fps)


# ----------------------------------------------------------------------------- the real sample clips
def samples_jobs(names=None, groups: str = "clip") -> list[Job]:
    """One job per sample clip (default: the clips with derivable labels), fetched when missing.

    ``groups="clip"`` (the default): each clip is its own group, so that a split has validation and test
    clips (six of the seven default clips show one CREMA-D actor); ``"person"``: the person in the clip
    (:func:`nvlib.datasets.samples.sample_group`)."""
    from nvlib.datasets import samples
    from nvlib.datasets.samples import DEFAULT_NAMES, sample_group

    check_groups(groups)
    names = list(DEFAULT_NAMES if names is None else names)
    jobs = []
    for n in names:
        path = samples.sample_path(n) if n in samples.SAMPLES else None
        group = n if groups == "clip" else sample_group(n)
        digest = source_digest(media=[path] if path is not None else [], facts={"sample": n, "group": group},
                               root=path.parent if path is not None else None)
        jobs.append(Job(n, "samples", group, str(path) if path is not None else n, {}, digest))
    return jobs


def _load_samples(job: Job, params: ConvertParams) -> FrameClip:
    from nvlib.datasets import faces, samples
    from nvlib.datasets.samples import derived_va
    from nvlib.io.video import read_video

    path = samples.sample_path(job.clip)
    frames, fps = read_video(path, max_frames=params.max_frames, gray=True)
    if frames.shape[0] < 2:
        raise SkipClip(path, f"clip has {frames.shape[0]} frame(s); at least 2 needed")
    va, emos = derived_va(job.clip, frames.shape[0], params.label_source)
    info: dict = {"group": job.group}
    box, info["box_source"] = faces.clip_face_box(frames, every=params.detect_every, margin=params.margin)
    info.update(labels_kind="derived", emotions=sorted(set(emos)))
    return FrameClip(frames, fps, va, box, info)


# ----------------------------------------------------------------------------- frames -> events -> TBR
def upsampled(frames: np.ndarray, fps: float, upsample="auto", delta_t_us: int = 5000,
              frame_index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(frames, times_s)`` for the simulator, temporally upsampled by optical flow.

    v2e upsamples its input (SuperSloMo) before emulating the DVS, so that events spread over the frame
    interval; without it, v2e's linear sub-step timestamps put most events at the start of each interval
    and a TBR frame's newer bits stay empty. ``upsample``: ``"auto"`` (at most one pixel of motion per
    sub-frame, and at least one sub-frame per TBR slice Δt), an integer factor, or 1 for none
    (:func:`nvlib.simulate.upsample.upsample_frames`). ``frame_index``: each frame's index in its clip
    (frame ``i`` is at ``frame_index[i] / fps``; default 0..T-1), so missing frames leave a gap.
    """
    from nvlib.simulate.upsample import upsample_frames

    idx = np.arange(frames.shape[0]) if frame_index is None else np.asarray(frame_index, dtype=np.int64)
    times = idx.astype(np.float64) / float(fps)
    if upsample in (1, "1", None, "none"):
        return frames, times
    gap = int(np.max(np.diff(idx))) if idx.size > 1 else 1  # the longest interval, in frame intervals
    min_k = int(np.ceil(gap * 1e6 / (float(fps) * int(delta_t_us)) - 1e-9))
    pairs = list(upsample_frames(zip(frames, times), factor="auto" if upsample == "auto" else int(upsample),
                                 min_factor=min_k))
    return np.stack([f for f, _ in pairs]), np.array([t for _, t in pairs])


def _convert_frames(clip: FrameClip, job: Job, params: ConvertParams, timings: dict, t0: float):
    from nvlib.datasets import faces
    from nvlib.datasets.labels import transfer_labels
    from nvlib.represent import tbr
    from nvlib.represent.windows import consecutive_windows, frame_times_us
    from nvlib.simulate import simulate_frames

    frames, S = clip.frames, params.size
    fidx = np.arange(frames.shape[0]) if clip.frame_index is None else np.asarray(clip.frame_index, np.int64)
    aidx = fidx if clip.ann_index is None else np.asarray(clip.ann_index, np.int64)
    if len(aidx) != len(clip.va):
        raise ValueError(f"clip {job.clip}: {len(clip.va)} annotations for {len(aidx)} annotation frames")
    small = faces.crop_resize(frames, clip.box, S)
    t1 = time.perf_counter()
    timings["decode"] += t1 - t0
    sim_frames, sim_times = upsampled(small, clip.fps, params.upsample, params.delta_t_us, fidx)
    ev = simulate_frames(sim_frames, times_s=sim_times, params=params.dvs_params(job.clip))
    t2 = time.perf_counter()
    timings["simulate"] += t2 - t1
    times = frame_times_us(int(max(fidx.max(), aidx.max())) + 1, clip.fps)
    frame_t, ann_t = times[fidx], times[aidx]
    starts, ends = consecutive_windows(int(frame_t[0]), int(frame_t[-1]), params.window_us)
    codes = tbr(ev, (S, S), delta_t_us=params.delta_t_us, n_bits=params.n_bits, normalize=False,
                start_us=int(starts[0]), n_frames=len(starts))
    labels, idx = transfer_labels(ev.t, starts, ends, ann_t, clip.va)
    timings["encode"] += time.perf_counter() - t2
    info = dict(clip.info)
    info.update(fps=float(clip.fps), frames_in=int(frames.shape[0]), n_events=int(len(ev)),
                box=clip.box.to_list(), frame_size=[int(frames.shape[2]), int(frames.shape[1])],
                annotation_index=aidx[idx].tolist())
    return np.asarray(codes), labels.astype(np.float32), info, int(frames.shape[0])


# ----------------------------------------------------------------------------- NEFER
def nefer_jobs(root, labels="expected", annotations_dir=None) -> tuple[list[Job], dict, list]:
    """Jobs for both NEFER splits (train users -> "train", validation users -> "test": the paper evaluates
    on the authors' validation split), the split of each user, and the problems: CSV rows left out and
    sequences whose recording is missing or ambiguous (found by sequence id anywhere under the root where
    the guessed ``event_raw/raw/user_NN/`` does not hold it, :meth:`nvlib.datasets.nefer.NEFER.recording`)."""
    from nvlib.datasets.nefer import NEFER, Problem, find_recordings

    jobs, split_of, problems = [], {}, []
    index = None
    root = Path(root)
    for split, target in (("train", "train"), ("validation", "test")):
        ds = NEFER(root, split, labels, "events", annotations_dir=annotations_dir, load=None)
        problems += ds.problems
        csv_file = str(ds.annotations_dir / _events_csv(split, labels))
        for i, (e, g) in enumerate(ds.entries):
            split_of[e.user] = target
            if index is None and not ds.paths(i)["raw"].is_file():
                index = find_recordings(root)
            raw, why = ds.recording(i, index if index is not None else {})
            if raw is None:
                problems.append(Problem(csv_file, e.first_row, e.sequence, why))
                continue
            box_file = ds.face_box_path(i)
            box_file = box_file if box_file.is_file() else None
            digest = source_digest(media=[raw], contents=[box_file] if box_file else [],
                                   facts={"user": e.user, "label": e.label, "gopro": g.sequence if g else ""},
                                   root=root)
            jobs.append(Job(e.sequence, "nefer", e.user, str(raw),
                            {"raw": str(raw), "label": e.label, "gopro": g.sequence if g else "",
                             "face_box_file": str(box_file) if box_file else None}, digest))
    return jobs, split_of, problems


def _events_csv(split: str, labels: str) -> str:
    from nvlib.datasets.nefer import annotation_file

    return annotation_file(split, "events", labels)


def _convert_nefer(job: Job, params: ConvertParams, timings: dict, t0: float):
    from nvlib.datasets import faces
    from nvlib.datasets.nefer import CLASSES, read_face_box
    from nvlib.datasets.samples import CIRCUMPLEX
    from nvlib.events import make_events
    from nvlib.io import read_events
    from nvlib.represent import tbr
    from nvlib.represent.windows import consecutive_windows

    raw = Path(job.payload["raw"])
    if not raw.is_file():
        raise SkipClip(raw, "recording not found")
    ev = read_events(raw).sorted()
    if len(ev) < 2:
        raise SkipClip(raw, f"recording has {len(ev)} event(s)")
    W, H = ev.sensor_size
    box_file = job.payload.get("face_box_file")
    if box_file is not None:
        try:
            box, src = read_face_box(box_file), "published"
        except ValueError as e:
            raise SkipClip(box_file, str(e).removeprefix(f"{box_file}: ")) from e
    else:
        box, src = faces.event_face_box(ev)
    x0, y0, side = box
    S = params.size
    sub = ev.array[box.contains(ev.x, ev.y)]
    cropped = make_events((sub["x"].astype(np.int64) - x0) * S // side, (sub["y"].astype(np.int64) - y0) * S // side,
                          sub["t"], sub["p"], (S, S))
    t1 = time.perf_counter()
    timings["decode"] += t1 - t0
    starts, _ = consecutive_windows(int(ev.t[0]), int(ev.t[-1]), params.window_us)
    codes = tbr(cropped, (S, S), delta_t_us=params.delta_t_us, n_bits=params.n_bits, normalize=False,
                start_us=int(starts[0]), n_frames=len(starts))
    label = job.payload["label"]
    va = np.tile(np.asarray(CIRCUMPLEX.get(label.lower(), (0.0, 0.0)), np.float32), (len(starts), 1))
    timings["encode"] += time.perf_counter() - t1
    info = {"group": job.group, "user": job.group, "label": label,
            "label_index": CLASSES.index(label) if label in CLASSES else -1, "labels_kind": "derived",
            "box": box.to_list(), "box_source": src, "sensor_size": [W, H], "n_events": int(len(cropped)),
            "gopro": job.payload.get("gopro", "")}
    return np.asarray(codes), va, info, 0


# ----------------------------------------------------------------------------- dispatch
def _load_videos(job: Job, params: ConvertParams) -> FrameClip:
    from nvlib.convert.videos import load_video_clip

    return load_video_clip(job, params)


_FRAME_LOADERS = {"afewva": _load_afewva, "samples": _load_samples, "videos": _load_videos}


def convert_clip(job: Job, params: ConvertParams, timings: dict) -> tuple[np.ndarray, np.ndarray, dict, int]:
    """Convert one clip: ``(codes (n, S, S), va (n, 2) float32, info, frames_in)``; adds seconds to
    ``timings`` (keys :data:`STAGES`). Raises :class:`SkipClip` for a clip that cannot be converted."""
    if job.kind != params.job_kind:
        raise ValueError(f"clip {job.clip}: a {job.kind!r} job cannot run with {params.kind!r} parameters")
    t0 = time.perf_counter()
    if job.kind == "nefer":
        return _convert_nefer(job, params, timings, t0)
    if job.kind not in _FRAME_LOADERS:
        raise ValueError(f"unknown job kind {job.kind!r}; known: {', '.join(JOB_KINDS)}")
    return _convert_frames(_FRAME_LOADERS[job.kind](job, params), job, params, timings, t0)
