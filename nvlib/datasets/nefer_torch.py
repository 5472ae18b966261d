"""NEFER sequences as a torch ``Dataset`` for sequence-level emotion classification.

NEFER's own baseline (Berlincioni et al., "Neuromorphic Event-based Facial Expression Recognition",
CVPRW 2023) classifies a whole (user, video) sequence from a clip of its frames: the event frames
published with the dataset for the event model, the GoPro frames for the RGB model. This module
reads those frames through :class:`nvlib.datasets.nefer.NEFER` (same split by user, same label
versions, same pairing of event and GoPro sequences) and serves them as fixed-size clips:

* frames: ``n_frames`` of the 51 annotated frames, evenly spaced (:func:`clip_indices`: frame 0,
  frame 50 and the ones evenly in between, rounded), so a clip spans the whole reaction;
* each frame resized as a whole to ``size`` x ``size`` pixels (``cv2.INTER_AREA``; no face crop,
  the published frames are used as they are);
* event frames as one channel (8-bit PNGs as 0..255, 16-bit PNGs scaled to 0..255, a colour PNG
  turned to grey), RGB frames as three channels in RGB order;
* ``x``: float32 tensor ``(n_frames, C, size, size)`` in [0, 1]; ``y``: int64 index into ``classes``.

``classes`` defaults to NEFER's class list of the label version: the 7 a-priori ("expected")
classes, or those and ``"None"`` (8) for the reported ones.

Bad input never stops the reader: a sequence whose annotation rows are malformed, whose user is
outside the split or whose label is outside ``classes`` (:class:`~nvlib.datasets.nefer.NEFER`'s
checks), or one of whose chosen frames is missing, empty or unreadable, is left out and listed in
``problems`` (:class:`~nvlib.datasets.nefer.Problem`: file, row, sequence, reason).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from nvlib.datasets.nefer import CLASSES, N_FRAMES, NEFER, REPORTED_CLASSES, Problem, annotation_file

MODALITIES = ("events", "rgb")
LABEL_VERSIONS = ("expected", "reported")


def default_classes(labels: str) -> tuple[str, ...]:
    """NEFER's class list of a label version: 7 a-priori classes, or 8 reported ones (with "None")."""
    if labels == "expected":
        return CLASSES
    if labels == "reported":
        return REPORTED_CLASSES
    raise ValueError(f"labels must be 'expected' or 'reported', got {labels!r}")


def clip_indices(n_frames: int, n_total: int = N_FRAMES) -> np.ndarray:
    """``n_frames`` evenly spaced indices into ``0 .. n_total - 1`` (first and last included when
    ``n_frames >= 2``; the middle frame when ``n_frames == 1``)."""
    n_frames, n_total = int(n_frames), int(n_total)
    if not 1 <= n_frames <= n_total:
        raise ValueError(f"n_frames must be in 1..{n_total}, got {n_frames}")
    if n_frames == 1:
        return np.array([(n_total - 1) // 2])
    return np.round(np.linspace(0, n_total - 1, n_frames)).astype(np.int64)


def read_frame(path: str | Path, size: int, rgb: bool) -> np.ndarray:
    """One frame as uint8 ``(size, size, C)`` (C = 3 in RGB order, or 1); ``ValueError`` naming the
    file when it cannot be decoded."""
    import cv2

    path = Path(path)
    img = cv2.imread(str(path), cv2.IMREAD_COLOR if rgb else cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"{path}: not a readable image")
    if not rgb:
        if img.ndim == 3:
            img = cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2GRAY)
        if img.dtype == np.uint16:
            img = (img.astype(np.float32) * (255.0 / 65535.0)).round().astype(np.uint8)
        elif img.dtype != np.uint8:
            raise ValueError(f"{path}: unsupported pixel type {img.dtype} (8- or 16-bit PNGs expected)")
    else:
        img = img[..., ::-1]
    if img.shape[:2] != (size, size):
        img = cv2.resize(np.ascontiguousarray(img), (size, size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img.reshape(size, size, -1))


class NEFERSequences(Dataset):
    """The sequences of one NEFER split as classification clips (see the module docstring).

    Args:
        root: the NEFER root (``annotations/``, ``event_frames/``, ``rgb_frames/``).
        split: "train" or "validation" (NEFER's users: 20 training, 6 validation).
        labels: "expected" (a-priori, 7 classes) or "reported" (8 classes incl. "None").
        modality: "events" (the published event frames) or "rgb" (the GoPro frames).
        n_frames, size: clip length (frames of the 51) and frame side in pixels.
        classes: the class list (default :func:`default_classes`); a label outside it is a problem.
        annotations_dir: passed to :class:`~nvlib.datasets.nefer.NEFER`.
        frame_cache: an optional dict shared between datasets (e.g. both label versions of a
            modality) so that each frame file is decoded once.

    Listing (``__init__``) reads only the annotations and checks that each chosen frame file exists
    and is not empty; pixels are decoded on first use (:meth:`load`), where an undecodable frame
    also leaves its sequence out with a problem. Attributes: ``sequences`` (event ids, the key
    shared with every other NEFER method), ``gopro``, ``users``, ``targets`` (int64 array),
    ``frame_paths`` (per sequence, the ``n_frames`` chosen files), ``problems``.
    """

    def __init__(self, root: str | Path, split: str = "train", labels: str = "expected", modality: str = "events",
                 n_frames: int = 8, size: int = 32, classes=None, annotations_dir=None,
                 frame_cache: dict | None = None):
        if modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
        if int(size) < 1:
            raise ValueError(f"size must be a positive number of pixels, got {size}")
        self.root, self.split, self.labels, self.modality = Path(root), split, labels, modality
        self.n_frames, self.size = int(n_frames), int(size)
        self.classes = tuple(default_classes(labels) if classes is None else classes)
        self.indices = clip_indices(self.n_frames)
        self._cache = frame_cache if frame_cache is not None else {}
        ds = NEFER(root, split=split, labels=labels, modality=modality, annotations_dir=annotations_dir, load=None)
        self.annotation_file = str(ds.annotations_dir / annotation_file(split, modality, labels))
        event_file = str(ds.annotations_dir / annotation_file(split, "events", labels))
        self.problems: list[Problem] = list(ds.problems)
        self.sequences, self.gopro, self.users, self.frame_paths, targets = [], [], [], [], []
        self._sizes: list[tuple] = []
        self._rows: list[int] = []
        for i, (e, g) in enumerate(ds.entries):
            if e.label not in self.classes:
                self.problems.append(Problem(event_file, e.first_row, e.sequence,
                                             f"label {e.label!r} outside the class list {list(self.classes)}"))
                continue
            paths = ds.paths(i)["event_frames" if modality == "events" else "rgb_frames"]
            if modality == "rgb" and g is None:
                if any(p.sequence == e.sequence for p in ds.problems):  # the reader said why (lists out of step)
                    continue
                self.problems.append(Problem(self.annotation_file, e.first_row, e.sequence,
                                             "no paired GoPro sequence in the RGB annotation file"))
                continue
            chosen = [paths[k] for k in self.indices]
            why, sizes = None, []
            for p in chosen:
                try:
                    n = p.stat().st_size
                except OSError:
                    why = f"frame {p} missing"
                    break
                if n == 0:
                    why = f"frame {p} is empty"
                    break
                sizes.append(n)
            row = g.first_row if modality == "rgb" else e.first_row
            if why is not None:
                self.problems.append(Problem(self.annotation_file, row, e.sequence, why))
                continue
            self.sequences.append(e.sequence)
            self.gopro.append(g.sequence if g is not None else "")
            self.users.append(e.user)
            self.frame_paths.append(tuple(chosen))
            self._sizes.append(tuple(sizes))
            self._rows.append(row)
            targets.append(self.classes.index(e.label))
        self.targets = np.asarray(targets, dtype=np.int64)
        self._data: np.ndarray | None = None

    @property
    def channels(self) -> int:
        return 3 if self.modality == "rgb" else 1

    def fingerprint(self) -> str:
        """A hash of what this dataset serves without decoding pixels: split, label version,
        modality, clip settings, classes, and per sequence its id, user, label and chosen frames'
        paths (relative to the root) and byte sizes (so a re-run with changed frames or labels gets a
        new hash)."""
        h = hashlib.sha256()
        h.update(repr((self.split, self.labels, self.modality, self.n_frames, self.size, self.classes)).encode())
        for s, u, t, paths, sizes in zip(self.sequences, self.users, self.targets.tolist(), self.frame_paths,
                                         self._sizes):
            h.update(repr((s, u, t, [p.relative_to(self.root).as_posix() for p in paths], sizes)).encode())
        return h.hexdigest()[:16]

    def load(self, progress: bool = False) -> np.ndarray:
        """Decode every clip once: uint8 ``(N, n_frames, size, size, C)``. A sequence with an
        undecodable frame is dropped here (and listed in ``problems``)."""
        if self._data is not None:
            return self._data
        from tqdm.auto import tqdm

        rgb = self.modality == "rgb"
        keep, clips = [], []
        it = range(len(self.sequences))
        for i in (tqdm(it, desc=f"NEFER {self.split} {self.modality} frames", leave=False) if progress else it):
            frames = []
            try:
                for p in self.frame_paths[i]:
                    key = (str(p), self.size, rgb)
                    if key not in self._cache:
                        self._cache[key] = read_frame(p, self.size, rgb)
                    frames.append(self._cache[key])
            except ValueError as err:
                self.problems.append(Problem(self.annotation_file, self._rows[i], self.sequences[i], str(err)))
                continue
            keep.append(i)
            clips.append(np.stack(frames))
        if len(keep) != len(self.sequences):
            self.sequences = [self.sequences[i] for i in keep]
            self.gopro = [self.gopro[i] for i in keep]
            self.users = [self.users[i] for i in keep]
            self.frame_paths = [self.frame_paths[i] for i in keep]
            self._sizes = [self._sizes[i] for i in keep]
            self._rows = [self._rows[i] for i in keep]
            self.targets = self.targets[keep]
        c = self.channels
        self._data = (np.stack(clips) if clips else
                      np.zeros((0, self.n_frames, self.size, self.size, c), np.uint8))
        return self._data

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        data = self.load()
        x = torch.from_numpy(data[i]).permute(0, 3, 1, 2).float().div_(255.0)  # (T, C, S, S)
        return x, torch.tensor(int(self.targets[i]), dtype=torch.long)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All clips at once: ``x`` float32 ``(N, T, C, S, S)`` in [0, 1], ``y`` int64 ``(N,)``."""
        data = self.load()
        x = torch.from_numpy(data).permute(0, 1, 4, 2, 3).float().div_(255.0)
        return x, torch.from_numpy(self.targets.copy())
