"""The converted-dataset cache: event frames + labels, memory-mappable, read without decoding.

Layout (parameters in the folder name, as RVT names its preprocessed datasets)::

    <out>/<source>_<repr><N>b_dt<Δt>us_s<S>_<hash8>/
        params.json              every conversion parameter (the hash covers them)
        clips/<clip>/frames.npy  (n, S, S) uint8 (N <= 8) or uint16 TBR codes, np.load(mmap_mode="r")
        clips/<clip>/va.npy      (n, 2) float32 [valence, arousal] in [-1, 1] (NaN never stored)
        clips/<clip>/info.json   clip facts: group (actor/user), fps, counts, face box, label source, ...
        skipped/<clip>.json      a clip that could not be converted: file and reason
        skipped.log              the same, one line per clip, sorted (written when the run finishes)
        index.json               clips in order, splits, folds, meta: present only when the cache is complete

Every clip folder is written into a temporary sibling and renamed into place, so
a folder under ``clips/`` is always complete; a rerun skips finished clips.
All files are written with deterministic bytes (sorted JSON keys, ``np.save``),
so an interrupted-and-resumed conversion equals an uninterrupted one byte for byte.

Readers: :class:`FrameDataset` (one event frame per item) and :class:`ChunkDataset`
(``chunk`` consecutive frames of one clip per item, paper Section 4.1: chunks of 6).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
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


def write_clip(cache_dir: str | os.PathLike, clip: str, frames: np.ndarray, va: np.ndarray, info: dict) -> Path:
    """Write one converted clip atomically: a temp folder beside it, then a rename.

    ``frames`` (n, S, S) integer codes, ``va`` (n, 2) float in [-1, 1], ``info`` JSON-able.
    """
    frames = np.asarray(frames)
    va = np.asarray(va, dtype=np.float32)
    if frames.ndim != 3 or frames.shape[1] != frames.shape[2]:
        raise ValueError(f"clip {clip}: frames must be (n, S, S), got {frames.shape}")
    if va.shape != (frames.shape[0], 2):
        raise ValueError(f"clip {clip}: va must be ({frames.shape[0]}, 2), got {va.shape}")
    if not np.all(np.isfinite(va)) or np.abs(va).max(initial=0) > 1:
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
        if final.exists():  # a concurrent shard finished it first: identical content
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    skipped = Path(cache_dir) / "skipped" / f"{clip}.json"
    if skipped.exists():
        skipped.unlink()
    return final


def write_skipped(cache_dir: str | os.PathLike, clip: str, file: str, reason: str) -> None:
    """Record that ``clip`` was skipped, with the offending file and the reason (atomic)."""
    write_text(Path(cache_dir) / "skipped" / f"{_clip_dirname(clip)}.json",
               dumps({"clip": clip, "file": str(file), "reason": reason}))


def read_skipped(cache_dir: str | os.PathLike) -> list[dict]:
    """Skipped-clip records, sorted by clip id."""
    d = Path(cache_dir) / "skipped"
    if not d.is_dir():
        return []
    return [json.loads(p.read_text()) for p in sorted(d.glob("*.json")) if not p.name.startswith(".")]


def finalize(cache_dir: str | os.PathLike, clips: Sequence[str], groups: Sequence[str], splits: Sequence[str],
             folds: Sequence[int], meta: dict) -> Path:
    """Write ``skipped.log`` and ``index.json`` (atomic). ``clips`` are those converted, in order."""
    cache_dir = Path(cache_dir)
    lines = [f"{r['clip']}\t{r['file']}\t{r['reason']}" for r in read_skipped(cache_dir)]
    write_text(cache_dir / "skipped.log", "".join(line + "\n" for line in lines))
    entries = []
    for c, g, s, f in zip(clips, groups, splits, folds, strict=True):
        n = json.loads((cache_dir / "clips" / c / "info.json").read_text())["n_frames"]
        entries.append({"clip": c, "group": g, "split": s, "fold": int(f), "n_frames": int(n)})
    write_text(cache_dir / "index.json", dumps({"meta": meta, "clips": entries}))
    return cache_dir


def is_complete(cache_dir: str | os.PathLike) -> bool:
    """A cache is complete once ``index.json`` exists."""
    return (Path(cache_dir) / "index.json").is_file()


def load_index(cache_dir: str | os.PathLike) -> dict:
    """``index.json`` of a finished cache (raises :class:`CacheError` naming the folder otherwise)."""
    p = Path(cache_dir) / "index.json"
    if not p.is_file():
        raise CacheError(f"{cache_dir}: no index.json; the conversion has not finished (rerun `nvlib convert` "
                         "to resume it)")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise CacheError(f"{p}: malformed JSON ({e})") from e


# ----------------------------------------------------------------------------- reading
def select_clips(index: dict, split: str | None, fold: int | None) -> list[dict]:
    """Clip entries of a split.

    ``fold=None``: the fixed actor-grouped split stored per clip ("train"/"val"/"test").
    ``fold=k`` (k-fold subject-independent protocol): "test" = fold k, "val" = fold (k+1) mod K,
    "train" = the other folds; ``split=None`` always selects every clip.
    """
    entries = index["clips"]
    if split is None:
        return list(entries)
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
        self._entries = select_clips(index, split, fold)
        self.clips: list[str] = [e["clip"] for e in self._entries]
        self.split, self.fold = split, fold
        self._bits = int(self.meta["n_bits"])
        self._frames: list | None = None
        self._va: list | None = None

    def _open(self):
        if self._frames is None:
            frames, va = [], []
            for c in self.clips:
                d = self.cache_dir / "clips" / c
                try:
                    frames.append(np.load(d / "frames.npy", mmap_mode="r"))
                    va.append(np.load(d / "va.npy"))
                except (OSError, ValueError) as e:
                    raise CacheError(f"{d}: cannot read the clip arrays ({e})") from e
            self._frames, self._va = frames, va
        return self._frames, self._va

    def __getstate__(self):  # DataLoader workers reopen their own maps
        state = dict(self.__dict__)
        state["_frames"] = state["_va"] = None
        return state

    def clip_arrays(self, clip: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes (n,S,S) memory map, va (n,2)) of one clip of this selection."""
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
        item = {"frame": frame, "va": torch.from_numpy(va[c][j].copy()), "clip": self.clips[c], "index": j}
        return self.transform(item) if self.transform else item

    def labels(self) -> np.ndarray:
        """All (len, 2) labels of this selection, in item order (no frame is read)."""
        _, va = self._open()
        return np.concatenate(va) if va else np.zeros((0, 2), np.float32)


class ChunkDataset(_CacheBase):
    """``chunk`` consecutive event frames of one clip per item (paper Section 4.1: 6).

    Windows start at 0, ``stride``, ... and must fit in the clip (clips shorter than
    ``chunk`` give no item). Item: ``{"frames": float32 (chunk,1,S,S), "va": float32 (chunk,2),
    "clip": str, "start": int}``.
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
                "clip": self.clips[c], "start": s}
        return self.transform(item) if self.transform else item
