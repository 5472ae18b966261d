"""A user's own videos: ``nvlib convert videos DIR OUT [--labels FILE]``.

Videos are found recursively under ``DIR`` by extension (:data:`VIDEO_SUFFIXES`, containers OpenCV
reads; hidden files and folders are skipped). A clip's id is its path relative to ``DIR`` without the
extension, folders joined by ``__`` (``alice/take1.mp4`` -> ``alice__take1``).

Labels (optional) come from a CSV with a header row, in one of two forms:

- per frame: ``clip,frame,valence,arousal[,group]``: ``frame`` counts the video's frames from 0; each
  converted window takes the label of the nearest labelled frame in time, and the clip is cut to the
  span from its first to its last labelled frame;
- per clip: ``clip,valence,arousal[,group]``: one row per clip, its label for the whole clip.

``clip`` names a video by its path relative to ``DIR`` (with or without the extension), by its clip id,
or by its file name when that is unique; valence and arousal are numbers in [-1, 1]; ``group`` names the
person in the clip (one value per clip), so that splits and folds keep each person on one side. Without a
``group`` column every clip is its own group only when asked for (``groups="clip"``, ``--groups clip``):
the folds are then not subject-independent. The labels are the user's annotations: the cache marks them
``labels_kind`` "user". Without a labels file the cache holds no labels (``labels_kind`` "none"): it is
for inference only and cannot be trained on. With a labels file, a video it does not name is skipped
(and counts towards the run's skipped share); a row naming no video is an error.

Faces: OpenCV Haar detection every ``detect_every`` frames, smoothed into one box per clip, else a
central square; ``info.json`` records which (``box_source``).
"""
from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nvlib.convert.identity import source_digest

#: container extensions searched for (case-insensitive); anything OpenCV's FFmpeg backend decodes
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp",
                  ".ogv", ".mts", ".m2ts", ".ts", ".mxf", ".asf", ".vob", ".y4m")
FRAME_COLUMNS = ("clip", "frame", "valence", "arousal")
CLIP_COLUMNS = ("clip", "valence", "arousal")


def find_videos(root, max_count: int | None = None) -> list[Path]:
    """Video files under ``root`` (recursively, sorted by path; hidden files and folders skipped; at most
    ``max_count``)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in sorted(filenames):
            if not f.startswith(".") and Path(f).suffix.lower() in VIDEO_SUFFIXES:
                out.append(Path(dirpath) / f)
                if max_count is not None and len(out) >= max_count:
                    return sorted(out)
    return sorted(out, key=lambda p: Path(p).relative_to(root).parts)


def clip_id(rel: str) -> str:
    """The clip id of a video at ``rel`` (relative to the root): no extension, folders joined by ``__``."""
    p = Path(rel)
    return "__".join(p.with_suffix("").parts)


@dataclass
class ClipLabels:
    """The rows of one clip in a labels CSV: ``mode`` "frame" or "clip", ``frames`` (frame mode), ``va``
    (one [valence, arousal] per row), ``group`` (None without a group column or an empty cell), ``rows``
    (1-based line numbers)."""

    mode: str
    frames: list = field(default_factory=list)
    va: list = field(default_factory=list)
    group: str | None = None
    rows: list = field(default_factory=list)


def _number(path, row: int, name: str, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"{path}:{row}: {name} {text!r} is not a number") from None
    if not math.isfinite(v) or not -1.0 <= v <= 1.0:
        raise ValueError(f"{path}:{row}: {name} {text} outside [-1, 1] (scale the labels to [-1, 1])")
    return v


def read_labels_csv(path, videos: dict[str, str]) -> tuple[dict[str, ClipLabels], bool]:
    """Read a labels CSV (module docstring) for ``videos`` {clip id: path relative to the root}.

    Returns ``({clip id: ClipLabels}, has_group_column)``. Raises ``FileNotFoundError`` / ``ValueError``
    naming the file and line: a missing or unknown column, a clip naming no video (or several), a value
    outside [-1, 1], a frame that is not an integer >= 0, a repeated frame or clip row, a clip whose group
    changes between rows.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"labels file {path} not found")
    lookup: dict[str, set] = {}
    for cid, rel in videos.items():
        r = Path(rel)
        for key in {r.as_posix(), r.with_suffix("").as_posix(), cid, r.name, r.stem}:
            lookup.setdefault(key, set()).add(cid)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, r) for r in reader]  # (line number of the row's end, fields)
    except csv.Error as e:
        raise ValueError(f"{path}:{reader.line_num}: not CSV ({e})") from None
    header_at = next((i for i, (_, r) in enumerate(rows) if any(c.strip() for c in r)), None)
    if header_at is None:
        raise ValueError(f"{path}: empty; expected a header row {','.join(FRAME_COLUMNS)}[,group] or "
                         f"{','.join(CLIP_COLUMNS)}[,group]")
    header_line, header = rows[header_at]
    cols = [c.strip().lower() for c in header]
    has_group = "group" in cols
    core = [c for c in cols if c != "group"]
    if sorted(core) == sorted(FRAME_COLUMNS):
        mode = "frame"
    elif sorted(core) == sorted(CLIP_COLUMNS):
        mode = "clip"
    else:
        raise ValueError(f"{path}:{header_line}: columns {cols}; expected {','.join(FRAME_COLUMNS)}[,group] "
                         f"(per frame) or {','.join(CLIP_COLUMNS)}[,group] (per clip)")
    if len(set(cols)) != len(cols):
        raise ValueError(f"{path}:{header_line}: a column is named twice: {cols}")
    at = {c: cols.index(c) for c in cols}
    out: dict[str, ClipLabels] = {}
    for row, r in rows[header_at + 1:]:
        if not any(c.strip() for c in r):
            continue
        if len(r) != len(cols):
            raise ValueError(f"{path}:{row}: {len(r)} fields, the header has {len(cols)}")
        name = r[at["clip"]].strip().replace("\\", "/").removeprefix("./")
        hits = lookup.get(name, set())
        if not hits:
            some = ", ".join(sorted(videos.values())[:4])
            raise ValueError(f"{path}:{row}: clip {name!r} names no video under the folder (videos: {some}"
                             f"{' ...' if len(videos) > 4 else ''})")
        if len(hits) > 1:
            raise ValueError(f"{path}:{row}: clip {name!r} names {len(hits)} videos ({', '.join(sorted(hits))}); "
                             "give the path relative to the folder")
        cid = next(iter(hits))
        va = [_number(path, row, "valence", r[at["valence"]].strip()),
              _number(path, row, "arousal", r[at["arousal"]].strip())]
        group = r[at["group"]].strip() or None if has_group else None
        lab = out.setdefault(cid, ClipLabels(mode, group=group))
        if lab.rows and lab.group != group:
            raise ValueError(f"{path}:{row}: clip {name!r} has group {group!r} here but {lab.group!r} at line "
                             f"{lab.rows[0]}; a clip shows one person")
        if mode == "frame":
            f = r[at["frame"]].strip()
            if not f.isdigit():
                raise ValueError(f"{path}:{row}: frame {f!r} is not an integer >= 0 (frames count from 0)")
            if int(f) in lab.frames:
                raise ValueError(f"{path}:{row}: frame {int(f)} of clip {name!r} is labelled twice (first at line "
                                 f"{lab.rows[lab.frames.index(int(f))]})")
            lab.frames.append(int(f))
        elif lab.rows:
            raise ValueError(f"{path}:{row}: clip {name!r} has a second row (first at line {lab.rows[0]}); a "
                             "per-clip file has one row per clip (add a frame column for per-frame labels)")
        lab.va.append(va)
        lab.rows.append(row)
    return out, has_group


def video_jobs(root, labels=None, groups: str = "person"):
    """Jobs for the videos under ``root`` and the problems (videos the labels file does not name).

    Returns ``(jobs, problems)``, problems as ``(clip, file, reason)``. Raises ``FileNotFoundError`` when
    ``root`` is not a folder or holds no video, and ``ValueError`` for a bad labels file, clashing clip ids,
    or groups missing from the labels while ``groups`` is "person".
    """
    from nvlib.convert.jobs import _CLIP_GROUPS_HINT, Job, check_groups

    check_groups(groups)
    root = Path(root)
    if not root.is_dir():
        hint = f": pass the folder that holds it ({root.parent})" if root.is_file() else ""
        raise FileNotFoundError(f"video folder {root} is not a folder{hint}")
    found = find_videos(root)
    if not found:
        from nvlib.datasets.afewva import locate_clip_folders

        afew = locate_clip_folders(root)
        hint = "; it holds AFEW-VA clip folders: use `nvlib convert afew-va`" if afew else ""
        raise FileNotFoundError(f"{root}: no video files found (searched all folders below it for "
                                f"{', '.join(VIDEO_SUFFIXES)}){hint}")
    rel = {p: p.relative_to(root).as_posix() for p in found}
    ids: dict[str, str] = {}
    for p, r in rel.items():
        cid = clip_id(r)
        if cid in ids:
            raise ValueError(f"{root}: {ids[cid]} and {r} both make clip id {cid!r}; rename one of them")
        ids[cid] = r
    table, has_group = (read_labels_csv(labels, ids) if labels is not None else ({}, False))
    if labels is not None and groups == "person":
        if not has_group:
            raise ValueError(f"{labels}: no group column: the folds need the person in each clip to stay "
                             f"subject-independent; add a group column (the person), or {_CLIP_GROUPS_HINT}")
        empty = [(c, lab.rows[0]) for c, lab in table.items() if lab.group is None]
        if empty:
            raise ValueError(f"{labels}:{empty[0][1]}: clip {ids[empty[0][0]]} has an empty group "
                             f"({len(empty)} clip(s) without one); fill them in, or {_CLIP_GROUPS_HINT}")
    jobs, problems = [], []
    for p in found:
        cid, r = clip_id(rel[p]), rel[p]
        lab = table.get(cid)
        if labels is not None and lab is None:
            problems.append((cid, str(labels), f"no rows for {r} in the labels file"))
            continue
        group = lab.group if (lab is not None and groups == "person") else cid
        payload = {"path": str(p), "rel": r, "labels_file": str(labels) if labels is not None else None,
                   "labels": None if lab is None else {"mode": lab.mode, "frames": lab.frames, "va": lab.va,
                                                       "rows": lab.rows}}
        digest = source_digest(media=[p], facts={"group": group, "labels": payload["labels"] and
                                                 {k: payload["labels"][k] for k in ("mode", "frames", "va")}},
                               root=root)
        jobs.append(Job(cid, "videos", group, str(p), payload, digest))
    return jobs, problems


def decode_gray(path, max_frames: int | None = None) -> tuple[np.ndarray, float]:
    """``(frames (T, H, W) uint8 luma, the container's fps or 0.0)`` of a video file."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError("OpenCV cannot open this video")
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    frames = []
    while max_frames is None or len(frames) < max_frames:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame)
    cap.release()
    if frames and any(f.shape != frames[0].shape for f in frames):
        raise ValueError("frame size changes within the video")
    return (np.stack(frames) if frames else np.zeros((0, 0, 0), np.uint8)), (fps if math.isfinite(fps) else 0.0)


def load_video_clip(job, params):
    """Decode one video and its labels into a :class:`nvlib.convert.jobs.FrameClip` (raises ``SkipClip``)."""
    from nvlib.convert.jobs import FrameClip, SkipClip
    from nvlib.datasets import faces

    path = Path(job.payload["path"])
    try:
        frames, fps_file = decode_gray(path, params.max_frames)
    except ValueError as e:
        raise SkipClip(path, str(e)) from e
    if frames.shape[0] < 2:
        raise SkipClip(path, f"{frames.shape[0]} decodable frame(s); at least 2 needed")
    if params.fps is None and not fps_file > 0:
        raise SkipClip(path, "the container reports no frame rate; give it with --fps")
    fps = float(params.fps) if params.fps is not None else fps_file
    lab = job.payload.get("labels")
    labels_file = job.payload.get("labels_file")
    info: dict = {"group": job.group, "video": job.payload["rel"], "labels_kind": params.labels_kind,
                  "fps_source": "--fps" if params.fps is not None else "container"}
    n = frames.shape[0]
    frame_index = ann_index = None
    if lab is None:
        va = np.full((n, 2), np.nan, np.float32)
    elif lab["mode"] == "clip":
        va = np.tile(np.asarray(lab["va"][0], np.float32), (n, 1))
        info.update(label_mode="clip", labels_file=Path(labels_file).name, label_rows=lab["rows"])
    else:
        fr = np.asarray(lab["frames"], np.int64)
        vals = np.asarray(lab["va"], np.float32)
        if params.max_frames is None and fr.max() >= n:
            k = int(np.argmax(fr))
            raise SkipClip(labels_file, f"line {lab['rows'][k]} labels frame {int(fr[k])} but "
                                        f"{job.payload['rel']} has {n} frames (frames count from 0)")
        inside = fr < n
        fr, vals = fr[inside], vals[inside]
        order = np.argsort(fr)
        fr, vals = fr[order], vals[order]
        if len(fr) == 0 or fr[-1] == fr[0]:
            raise SkipClip(labels_file, f"{job.payload['rel']}: labelled frames {fr.tolist()} within the "
                                        f"{n} decoded frames span no interval; label at least two frames")
        a, b = int(fr[0]), int(fr[-1])
        frames = frames[a:b + 1]
        frame_index, ann_index, va = np.arange(a, b + 1), fr, vals
        info.update(label_mode="frame", labels_file=Path(labels_file).name, labelled_frames=int(len(fr)),
                    frames_used=[a, b])
    box, info["box_source"] = faces.clip_face_box(frames, every=params.detect_every, margin=params.margin)
    return FrameClip(frames, fps, va, box, info, frame_index=frame_index, ann_index=ann_index)
