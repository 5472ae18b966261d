"""The converted-dataset cache: event frames + labels, memory-mappable, read without decoding.

Layout (parameters in the folder name, as RVT names its preprocessed datasets)::

    <out>/<source>_<repr><N>b_dt<Δt>us_s<S>_<hash8>/
        params.json              every conversion parameter (the hash covers them)
        clips/<clip>/frames.npy  (n, S, S) uint8 (N <= 8) or uint16 TBR codes, np.load(mmap_mode="r")
        clips/<clip>/va.npy      (n, 2) float32 [valence, arousal] in [-1, 1]; NaN only in a cache
                                 without labels (``labels_kind`` "none": converted for inference)
        clips/<clip>/info.json   clip facts: group (actor/user), fps, counts, face box, label source,
                                 ``source_digest`` (what the clip was converted from), dropped frames ...
        skipped/<clip>.json      a clip that could not be converted: file and reason
        skipped.log              the same, one line per clip, sorted (written when the run finishes)
        index.json               clips in order, splits, folds, meta (with ``content_id``): present only
                                 when the cache is complete and passed the conversion's checks
        failed.json              instead of index.json: why the conversion did not pass its checks

Every clip folder is written into a temporary sibling and renamed into place, so
a folder under ``clips/`` is always complete; a rerun skips finished clips whose ``source_digest``
still matches their source and converts the others again (the old folder is swapped out).
All files are written with deterministic bytes (sorted JSON keys, ``np.save``),
so an interrupted-and-resumed conversion equals an uninterrupted one byte for byte.

Identity: the folder name carries the parameters only; ``index.json``'s ``meta.content_id``
(:func:`content_id`) is a digest over the parameters, every clip's source digest and labels, and the
groups, splits and folds, so two caches with the same folder name but other sources or splits have
different content ids. Index entries may cut a clip into time segments (``start`` and ``n_frames``,
when a conversion has too few groups for a split by group: ``meta.split_unit`` "segment").

Readers: :class:`FrameDataset` (one event frame per item) and :class:`ChunkDataset`
(``chunk`` consecutive frames of one clip per item, paper Section 4.1: chunks of 6).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from nvlib.workbook.atomic import plain_mode, write_text
from nvlib.represent.tbr import code_dtype, normalize_codes

SPLITS = ("train", "val", "test")


class CacheError(ValueError):
    """A cache folder that is missing, incomplete or inconsistent (the message names the file)."""


# ----------------------------------------------------------------------------- naming
def _params_dict(params) -> dict:
    """A parameters mapping, or an object's ``to_dict()`` (``nvlib.convert.ConvertParams``)."""
    if hasattr(params, "to_dict") and not isinstance(params, dict):
        params = params.to_dict()
    if not isinstance(params, dict):
        raise TypeError(f"cache parameters must be a dict or have to_dict(), got {type(params).__name__}")
    return params


def params_hash(params) -> str:
    """First 8 hex digits of the sha256 of ``params`` (a dict, or an object's ``to_dict()``) as sorted JSON."""
    blob = json.dumps(_params_dict(params), sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:8]


def cache_name(source: str, params) -> str:
    """Folder name with the main parameters readable, e.g. ``synthetic-va_tbr8b_dt5000us_s64_1a2b3c4d``.

    ``params``: the dict written to ``params.json`` (or an object with ``to_dict()`` giving it); the name
    depends on that dict only, so the same settings always name the same folder.
    """
    params = _params_dict(params)
    missing = [k for k in ("n_bits", "delta_t_us", "size") if k not in params]
    if missing:
        raise ValueError(f"cache parameters lack {missing}")
    rep = params.get("representation", "tbr")
    return (f"{source}_{rep}{int(params['n_bits'])}b_dt{int(params['delta_t_us'])}us_s{int(params['size'])}"
            f"_{params_hash(params)}")


def write_or_check_params(cache_dir: str | os.PathLike, params) -> Path:
    """Write ``<cache_dir>/params.json`` (atomic) or, when it exists, check it holds the same parameters.

    The check compares the JSON values (not the text), so a run resumes a cache written with the same
    settings; different values raise :class:`CacheError` naming the file and the differing keys.
    """
    params = json.loads(dumps(_params_dict(params)))
    pfile = Path(cache_dir) / "params.json"
    if not pfile.is_file():
        write_text(pfile, dumps(params))
        return pfile
    try:
        old = json.loads(pfile.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CacheError(f"{pfile}: malformed JSON ({e}); move the folder away to convert again") from e
    if old != params:
        if not isinstance(old, dict):
            raise CacheError(f"{pfile}: expected a JSON object of parameters, got {type(old).__name__}")
        keys = sorted(k for k in set(old) | set(params) if old.get(k, "<absent>") != params.get(k, "<absent>"))
        diff = "; ".join(f"{k}: cache {old.get(k, '<absent>')!r}, this run {params.get(k, '<absent>')!r}"
                         for k in keys)
        raise CacheError(f"{pfile}: parameters differ from this run's although the folder name matches ({diff})")
    return pfile


def dumps(obj) -> str:
    """Deterministic JSON text (sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(obj, sort_keys=True, indent=2, default=_json_default) + "\n"


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def _clip_dirname(clip: str) -> str:
    if not clip or "/" in clip or "\\" in clip or clip.startswith("."):
        raise ValueError(f"clip id {clip!r} cannot name a folder (no slashes, no leading dot)")
    return clip


# ----------------------------------------------------------------------------- writing
def _save_npy(path: Path, arr: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(arr), allow_pickle=False)


def clip_done(cache_dir: str | os.PathLike, clip: str) -> bool:
    """True when the clip's folder exists (it only ever appears complete)."""
    return (Path(cache_dir) / "clips" / _clip_dirname(clip) / "info.json").is_file()


def clip_info(cache_dir: str | os.PathLike, clip: str) -> dict | None:
    """The clip's ``info.json`` (None when the clip is not converted, or its info cannot be read)."""
    p = Path(cache_dir) / "clips" / _clip_dirname(clip) / "info.json"
    try:
        info = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def remove_clip(cache_dir: str | os.PathLike, clip: str) -> None:
    """Take a clip's folder out of the cache (renamed away first, so it never appears half-deleted)."""
    final = Path(cache_dir) / "clips" / _clip_dirname(clip)
    if final.exists():
        trash = final.with_name(f".{clip}.stale-{uuid.uuid4().hex[:8]}")
        os.replace(final, trash)
        shutil.rmtree(trash, ignore_errors=True)


def write_clip(cache_dir: str | os.PathLike, clip: str, frames: np.ndarray, va: np.ndarray, info: dict) -> Path:
    """Write one converted clip atomically: a temp folder beside it, then a rename.

    ``frames`` (n, S, S) integer codes, ``va`` (n, 2) float in [-1, 1] (all NaN when ``info["labels_kind"]``
    is "none": no labels), ``info`` JSON-able. An existing folder of the clip is kept when its
    ``source_digest`` equals ``info``'s (another shard wrote the same clip) and replaced otherwise.
    """
    frames = np.asarray(frames)
    va = np.asarray(va, dtype=np.float32)
    if frames.ndim != 3 or frames.shape[1] != frames.shape[2]:
        raise ValueError(f"clip {clip}: frames must be (n, S, S), got {frames.shape}")
    if va.shape != (frames.shape[0], 2):
        raise ValueError(f"clip {clip}: va must be ({frames.shape[0]}, 2), got {va.shape}")
    unlabelled = info.get("labels_kind") == "none"
    if unlabelled and not np.all(np.isnan(va)):
        raise ValueError(f"clip {clip}: a clip without labels (labels_kind 'none') must store NaN labels")
    if not unlabelled and (not np.all(np.isfinite(va)) or np.abs(va).max(initial=0) > 1):
        raise ValueError(f"clip {clip}: labels must be finite and in [-1, 1]")
    clips = Path(cache_dir) / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    final = clips / _clip_dirname(clip)
    tmp = Path(tempfile.mkdtemp(prefix=f".{clip}.partial-", dir=clips))
    os.chmod(tmp, plain_mode(directory=True))  # mkdtemp makes it 0o700: the finished folder follows the umask
    try:
        _save_npy(tmp / "frames.npy", frames)
        _save_npy(tmp / "va.npy", va)
        (tmp / "info.json").write_text(dumps({**info, "clip": clip, "n_frames": int(frames.shape[0])}))
        old = clip_info(cache_dir, clip) if final.exists() else None
        if old is not None and old.get("source_digest") == info.get("source_digest"):
            shutil.rmtree(tmp)  # a concurrent shard finished it first: identical content
        else:
            if final.exists():  # converted from another source: swap the new folder in
                trash = clips / f".{clip}.stale-{uuid.uuid4().hex[:8]}"
                os.replace(final, trash)
                os.replace(tmp, final)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    skipped = Path(cache_dir) / "skipped" / f"{clip}.json"
    if skipped.exists():
        skipped.unlink()
    return final


def write_skipped(cache_dir: str | os.PathLike, clip: str, file: str, reason: str,
                  source_digest: str | None = None) -> None:
    """Record that ``clip`` was skipped, with the offending file and the reason (atomic); ``source_digest``
    (when given) is the source the record is about."""
    rec = {"clip": clip, "file": str(file), "reason": reason}
    if source_digest is not None:
        rec["source_digest"] = source_digest
    write_text(Path(cache_dir) / "skipped" / f"{_clip_dirname(clip)}.json", dumps(rec))


def remove_skipped(cache_dir: str | os.PathLike, clip: str) -> None:
    """Forget a skipped-clip record (its clip is no longer part of the source)."""
    (Path(cache_dir) / "skipped" / f"{_clip_dirname(clip)}.json").unlink(missing_ok=True)


def read_skipped(cache_dir: str | os.PathLike) -> list[dict]:
    """Skipped-clip records, sorted by clip id."""
    d = Path(cache_dir) / "skipped"
    if not d.is_dir():
        return []
    return [json.loads(p.read_text()) for p in sorted(d.glob("*.json")) if not p.name.startswith(".")]


def write_skipped_log(cache_dir: str | os.PathLike) -> Path:
    """``skipped.log``: one line ``clip<TAB>file<TAB>reason`` per skipped-clip record, sorted (atomic)."""
    cache_dir = Path(cache_dir)
    lines = [f"{r['clip']}\t{r['file']}\t{r['reason']}" for r in read_skipped(cache_dir)]
    return write_text(cache_dir / "skipped.log", "".join(line + "\n" for line in lines))


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def content_id(cache_dir: str | os.PathLike, entries: Sequence[dict]) -> str:
    """16 hex digits identifying what a cache holds: sha256 over its ``params.json`` values, each clip's
    ``source_digest`` (from its ``info.json``) and labels (``va.npy`` bytes), and every index entry
    (clip, group, split, fold, segment). Two caches with equal content ids were converted from the same
    sources with the same settings and splits; the folder name alone does not say that."""
    cache_dir = Path(cache_dir)
    try:
        params = json.loads((cache_dir / "params.json").read_text())
    except (OSError, ValueError):
        params = None
    h = hashlib.sha256(json.dumps({"params": params}, sort_keys=True, default=str).encode())
    seen = set()
    for e in entries:
        c = e["clip"]
        if c not in seen:
            seen.add(c)
            info = clip_info(cache_dir, c) or {}
            h.update(json.dumps([c, info.get("source_digest", ""),
                                 _sha256_file(cache_dir / "clips" / c / "va.npy")]).encode())
        h.update(json.dumps([c, e["group"], e["split"], int(e["fold"]), int(e.get("start", 0)),
                             int(e["n_frames"])]).encode())
    return h.hexdigest()[:16]


def finalize(cache_dir: str | os.PathLike, clips: Sequence[str], groups: Sequence[str], splits: Sequence[str],
             folds: Sequence[int], meta: dict, starts: Sequence[int] | None = None,
             lengths: Sequence[int] | None = None) -> Path:
    """Write ``skipped.log`` and ``index.json`` (atomic; ``failed.json`` is removed). ``clips`` are those
    converted, in order; with ``starts`` and ``lengths`` each entry is a time segment of its clip
    (a clip may then appear once per segment). ``meta`` gets the :func:`content_id`."""
    cache_dir = Path(cache_dir)
    write_skipped_log(cache_dir)
    entries = []
    n = len(clips)
    starts = [None] * n if starts is None else list(starts)
    lengths = [None] * n if lengths is None else list(lengths)
    for c, g, s, f, a, k in zip(clips, groups, splits, folds, starts, lengths, strict=True):
        total = json.loads((cache_dir / "clips" / c / "info.json").read_text())["n_frames"]
        e = {"clip": c, "group": g, "split": s, "fold": int(f), "n_frames": int(total if k is None else k)}
        if a is not None:
            if not (0 <= int(a) and int(a) + e["n_frames"] <= int(total)):
                raise ValueError(f"clip {c}: segment [{a}, {int(a) + e['n_frames']}) outside its {total} frames")
            e["start"], e["clip_frames"] = int(a), int(total)
        entries.append(e)
    meta = {**meta, "content_id": content_id(cache_dir, entries)}
    write_text(cache_dir / "index.json", dumps({"meta": meta, "clips": entries}))
    (cache_dir / "failed.json").unlink(missing_ok=True)
    return cache_dir


def mark_failed(cache_dir: str | os.PathLike, summary: str, problems: Sequence[dict] = ()) -> Path:
    """Record that a conversion did not pass its checks: ``failed.json`` (summary and first problems),
    ``skipped.log``, and no ``index.json`` (so no reader takes the cache for a finished one)."""
    cache_dir = Path(cache_dir)
    write_skipped_log(cache_dir)
    (cache_dir / "index.json").unlink(missing_ok=True)
    return write_text(cache_dir / "failed.json", dumps({"summary": summary, "problems": list(problems)}))


def is_complete(cache_dir: str | os.PathLike) -> bool:
    """A cache is complete once ``index.json`` exists."""
    return (Path(cache_dir) / "index.json").is_file()


def cache_content_id(cache_dir: str | os.PathLike) -> str:
    """The content id of a finished cache (``index.json``'s ``meta.content_id``); use it, not the folder
    name, to tell caches apart (see the module docstring). A cache finished before caches recorded one
    gets :func:`content_id` computed now from what it holds (its clips carry no source digests then,
    so the id covers its parameters, labels and splits)."""
    index = load_index(cache_dir)
    if "content_id" in index["meta"]:
        return str(index["meta"]["content_id"])
    return content_id(cache_dir, index["clips"])


def cache_problems(cache_dir: str | os.PathLike, limit: int = 5) -> list[str]:
    """What a reader of results from this cache should know, one line each: skipped clips (the first
    ``limit`` with file and reason), frames dropped as unreadable, a split problem, folds that are not
    subject-independent. Empty for a cache without problems."""
    cache_dir = Path(cache_dir)
    meta = load_index(cache_dir)["meta"]
    out = []
    skipped = read_skipped(cache_dir)
    if skipped or meta.get("n_skipped"):
        n = max(len(skipped), int(meta.get("n_skipped") or 0))
        total = n + int(meta.get("n_clips") or 0)
        out.append(f"{cache_dir.name}: {n} of {total} clips skipped (all in {cache_dir / 'skipped.log'})")
        out += [f"  {r['clip']}: {r['file']}: {r['reason']}" for r in skipped[:limit]]
    if meta.get("n_dropped_frames"):
        out.append(f"{cache_dir.name}: {meta['n_dropped_frames']} unreadable frame(s) dropped (listed per clip in "
                   "clips/<clip>/info.json, dropped_frames)")
    if meta.get("split_problem"):
        out.append(f"{cache_dir.name}: {meta['split_problem']}")
    if meta.get("subject_independent") is False and meta.get("labels_kind") != "none":
        out.append(f"{cache_dir.name}: the splits are not subject-independent (split by {meta.get('split_unit')})")
    return out


def load_index(cache_dir: str | os.PathLike) -> dict:
    """``index.json`` of a finished cache (raises :class:`CacheError` naming the folder otherwise)."""
    p = Path(cache_dir) / "index.json"
    if not p.is_file():
        failed = Path(cache_dir) / "failed.json"
        if failed.is_file():
            try:
                summary = json.loads(failed.read_text()).get("summary", "")
            except (OSError, ValueError, AttributeError):
                summary = ""
            raise CacheError(f"{cache_dir}: the conversion did not pass its checks ({summary or 'see failed.json'});"
                             f" see {Path(cache_dir) / 'skipped.log'}")
        d = Path(cache_dir)
        if not d.exists():
            raise CacheError(f"{d}: no such folder: not a converted cache (convert one with `nvlib convert ...`)")
        if not (d / "params.json").is_file() and not (d / "clips").is_dir():
            raise CacheError(f"no index.json in {d}: not a converted cache (convert one with `nvlib convert ...`)")
        raise CacheError(f"{d}: no index.json; the conversion has not finished (rerun `nvlib convert` "
                         "to resume it)")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise CacheError(f"{p}: malformed JSON ({e})") from e


# ----------------------------------------------------------------------------- reading
def _whole_clips(entries: list[dict]) -> list[dict]:
    """Entries with the time segments of each clip merged back into one whole-clip entry."""
    out, seen = [], set()
    for e in entries:
        if "start" not in e:
            out.append(e)
        elif e["clip"] not in seen:
            seen.add(e["clip"])
            out.append({k: v for k, v in e.items() if k not in ("start", "clip_frames", "split", "fold")}
                       | {"n_frames": int(e["clip_frames"])})
    return out


def select_clips(index: dict, split: str | None, fold: int | None) -> list[dict]:
    """Clip entries of a split.

    ``fold=None``: the fixed actor-grouped split stored per clip ("train"/"val"/"test").
    ``fold=k`` (k-fold subject-independent protocol): "test" = fold k, "val" = fold (k+1) mod K,
    "train" = the other folds; ``split=None`` always selects every clip (time segments merged back into
    whole clips). An entry with ``start`` is a segment ``[start, start + n_frames)`` of its clip.
    """
    entries = index["clips"]
    if split is None:
        return _whole_clips(list(entries))
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} or None, got {split!r}")
    if fold is None:
        return [e for e in entries if e["split"] == split]
    k = int(index["meta"]["n_folds"])
    if not 0 <= fold < k:
        raise ValueError(f"fold must be in 0..{k - 1}, got {fold}")
    if split == "test":
        return [e for e in entries if e["fold"] == fold]
    if split == "val":
        return [e for e in entries if e["fold"] == (fold + 1) % k]
    return [e for e in entries if e["fold"] not in (fold, (fold + 1) % k)]


class _CacheBase:
    """Shared reader state: index, clip selection, lazily opened memory maps (safe across fork/spawn)."""

    def __init__(self, cache_dir, split=None, fold=None):
        import torch  # noqa: F401  (fail early with a clear ImportError)

        self.cache_dir = Path(cache_dir)
        index = load_index(self.cache_dir)
        self.meta: dict = dict(index["meta"])
        if self.meta.get("labels_kind") == "none" and split in ("train", "val"):
            raise CacheError(f"{self.cache_dir}: this cache holds no labels (converted for inference, e.g. "
                             "`nvlib convert videos` without --labels), so it has no train or val split; "
                             "convert with --labels FILE to train on these clips")
        self._entries = select_clips(index, split, fold)
        if not self._entries and split is not None and self.meta.get("split_problem"):
            raise CacheError(f"{self.cache_dir}: the {split} split is empty: {self.meta['split_problem']}")
        self.clips: list[str] = [e["clip"] for e in self._entries]
        self._starts = [int(e.get("start", 0)) for e in self._entries]
        self.split, self.fold = split, fold
        self._bits = int(self.meta["n_bits"])
        self._frames: list | None = None
        self._va: list | None = None

    def _open(self):
        if self._frames is None:
            frames, va = [], []
            for c, e in zip(self.clips, self._entries):
                d = self.cache_dir / "clips" / c
                a, n = int(e.get("start", 0)), int(e["n_frames"])
                try:
                    codes, labels = np.load(d / "frames.npy", mmap_mode="r"), np.load(d / "va.npy")
                except (OSError, ValueError) as err:
                    raise CacheError(f"{d}: cannot read the clip arrays ({err})") from err
                if codes.shape[0] < a + n or labels.shape[0] != codes.shape[0]:
                    raise CacheError(f"{d}: {codes.shape[0]} frames and {labels.shape[0]} labels; index.json "
                                     f"expects frames {a}..{a + n - 1}")
                frames.append(codes[a:a + n])
                va.append(labels[a:a + n])
            self._frames, self._va = frames, va
        return self._frames, self._va

    def __getstate__(self):  # DataLoader workers reopen their own maps
        state = dict(self.__dict__)
        state["_frames"] = state["_va"] = None
        return state

    def clip_arrays(self, clip: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes (n,S,S) memory map, va (n,2)) of one clip of this selection (its segment, when the
        selection holds a time segment of the clip)."""
        frames, va = self._open()
        i = self.clips.index(clip)
        return frames[i], va[i]


class FrameDataset(_CacheBase):
    """One event frame per item, from a finished cache (see module docstring).

    Item: ``{"frame": float32 tensor (1,S,S) in [0,1] (codes / (2^N - 1)), "va": float32 tensor (2,)
    [valence, arousal] in [-1,1], "clip": str, "index": int (frame index in the clip)}``.
    ``transform`` (optional) maps the item dict to a new dict.
    """

    def __init__(self, cache_dir, split: str | None = "train", fold: int | None = None,
                 transform: Callable | None = None):
        super().__init__(cache_dir, split, fold)
        self.transform = transform
        counts = np.array([e["n_frames"] for e in self._entries], dtype=np.int64)
        self._clip_of = np.repeat(np.arange(len(counts)), counts)
        self._offset = np.concatenate([[0], np.cumsum(counts)])[:-1]

    def __len__(self) -> int:
        return int(self._clip_of.shape[0])

    def __getitem__(self, i: int) -> dict:
        import torch

        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"index {i} out of range for {n} frames")
        frames, va = self._open()
        c = int(self._clip_of[i])
        j = int(i - self._offset[c])
        frame = torch.from_numpy(normalize_codes(frames[c][j], self._bits)).unsqueeze(0)
        item = {"frame": frame, "va": torch.from_numpy(va[c][j].copy()), "clip": self.clips[c],
                "index": self._starts[c] + j}
        return self.transform(item) if self.transform else item

    def labels(self) -> np.ndarray:
        """All (len, 2) labels of this selection, in item order (no frame is read)."""
        if self.meta.get("labels_kind") == "none":
            raise CacheError(f"{self.cache_dir}: this cache holds no labels (converted for inference)")
        _, va = self._open()
        return np.concatenate(va) if va else np.zeros((0, 2), np.float32)


class ChunkDataset(_CacheBase):
    """``chunk`` consecutive event frames of one clip per item (paper Section 4.1: 6).

    Windows start at 0, ``stride``, ... and must fit in the clip (clips shorter than
    ``chunk`` give no item; in a time segment of a clip they start at the segment's start and must fit
    in it). Item: ``{"frames": float32 (chunk,1,S,S), "va": float32 (chunk,2), "clip": str, "start": int}``
    (``start``: frame index in the whole clip).
    """

    def __init__(self, cache_dir, split: str | None = "train", fold: int | None = None, chunk: int = 6,
                 stride: int = 6, transform: Callable | None = None):
        super().__init__(cache_dir, split, fold)
        if chunk < 1 or stride < 1:
            raise ValueError(f"chunk and stride must be >= 1, got {chunk}, {stride}")
        self.chunk, self.stride, self.transform = chunk, stride, transform
        items = [(c, s) for c, e in enumerate(self._entries)
                 for s in range(0, e["n_frames"] - chunk + 1, stride)]
        self._items = np.array(items, dtype=np.int64).reshape(-1, 2)

    def __len__(self) -> int:
        return int(self._items.shape[0])

    def __getitem__(self, i: int) -> dict:
        import torch

        c, s = (int(v) for v in self._items[i])
        frames, va = self._open()
        x = normalize_codes(frames[c][s:s + self.chunk], self._bits)
        item = {"frames": torch.from_numpy(x).unsqueeze(1), "va": torch.from_numpy(va[c][s:s + self.chunk].copy()),
                "clip": self.clips[c], "start": self._starts[c] + s}
        return self.transform(item) if self.transform else item
