"""NEFER (Berlincioni et al., "Neuromorphic Event-based Facial Expression Recognition", CVPRW 2023).

Real layout under ``root``::

    event_raw/raw/user_NN/userNN_YYYY-MM-DD_HH-MM-SS.raw   EVT 3.0, 1280x720 (Prophesee Gen4)
    event_frames/user_NN/<seq>_cd/frame_00.png ...          TBR frames published with the dataset
    rgb_frames/user_NN/GOPRxxxx/frame_00.png ...            GoPro frames
    annotations/expected_emotions/{train,validation}_{event,gopro}.csv            a-priori labels
    annotations/reported_emotions/{train,validation}_{event,gopro}_subjective.csv self-reports

The CSVs have no header and four columns: user, sequence id, frame path, label; 51 rows
(``frame_00`` ... ``frame_50``) per sequence. Column 3's prefix differs between files
(``../event_frame_NEW/``, ``rgb_frames/``, ``../gopro_frame/``) so it is never followed: paths are
rebuilt from the root. Event ids end in ``_cd``; the recording is the id without it plus ``.raw``.
Event and GoPro files list each user's sequences in the same order and are paired by position.
Splits are by user (:data:`TRAIN_USERS`, :data:`VALIDATION_USERS`; 18, 20, 29 are in neither).
Expected labels: 7 classes; reported labels: the same or ``None``.

Where the recordings are: the layout above (``event_raw/raw/user_NN/``) is a guess, not published
with the dataset. :meth:`NEFER.recording` takes a recording from there when it exists and otherwise
finds it by its sequence id anywhere under the root (:func:`find_recordings`: a file ``<id>.raw``, with
or without the ``_cd`` suffix); exactly one match is required, none or several are reported.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nvlib.represent.geometry import FaceBox

CLASSES = ("Disgust", "Contempt", "Happiness", "Fear", "Anger", "Surprise", "Sadness")
REPORTED_CLASSES = CLASSES + ("None",)
TRAIN_USERS = ("01", "02", "04", "05", "06", "08", "09", "10", "11", "12", "13", "14", "15", "16",
               "21", "22", "23", "24", "25", "26")
VALIDATION_USERS = ("03", "07", "17", "19", "27", "28")
N_FRAMES = 51
SENSOR_SIZE = (1280, 720)
EVENT_PREFIX = "../event_frame_NEW/"
GOPRO_PREFIX = {"train": "rgb_frames/", "validation": "../gopro_frame/"}
_USER_RE = re.compile(r"^user_(\d{2})$")
_SEQ_RE = re.compile(r"^user(\d{2})_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}_cd$")
_GOPRO_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_FRAME_RE = re.compile(r"frame_(\d{2})\.png$")


def annotation_file(split: str, modality: str, labels: str) -> str:
    """Path of the CSV inside ``annotations/`` for a split ("train"/"validation"), modality and label kind."""
    mod = {"events": "event", "event": "event", "rgb": "gopro", "gopro": "gopro"}.get(modality)
    if mod is None:
        raise ValueError(f"modality must be 'events' or 'rgb', got {modality!r}")
    if split not in ("train", "validation"):
        raise ValueError(f"split must be 'train' or 'validation', got {split!r}")
    if labels == "expected":
        return f"expected_emotions/{split}_{mod}.csv"
    if labels == "reported":
        return f"reported_emotions/{split}_{mod}_subjective.csv"
    raise ValueError(f"labels must be 'expected' or 'reported', got {labels!r}")


@dataclass(frozen=True)
class Problem:
    """A sequence left out: the file, its first offending row (1-based) and the reason."""

    file: str
    row: int
    sequence: str
    reason: str

    def __str__(self):
        return f"{self.file}:{self.row}: sequence {self.sequence}: {self.reason}"


@dataclass(frozen=True)
class SequenceEntry:
    """One listed sequence (rows of one (user, id) run in a CSV)."""

    user: str  # "01"
    sequence: str  # event id ("user01_..._cd") or GoPro id
    label: str
    frames: tuple  # frame indices as listed (0..50)
    first_row: int


def read_annotation_csv(path: str | Path, allowed_labels=REPORTED_CLASSES, users=None
                        ) -> tuple[list[SequenceEntry], list[Problem]]:
    """Parse one NEFER CSV into sequences (in file order) and problems (sequences left out).

    A sequence is dropped, with a :class:`Problem`, when a row is malformed (not 4 columns, bad
    user/frame), its label is unknown or changes within the sequence, its user is not in ``users``,
    or its frames are not exactly ``frame_00`` ... ``frame_50``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"NEFER annotation file {path} not found")
    groups: dict[tuple[str, str], dict] = {}
    order: list[tuple[str, str]] = []
    with open(path, newline="") as f:
        for rowno, row in enumerate(csv.reader(f), start=1):
            if not row or all(not c.strip() for c in row):
                continue
            key = (row[0].strip(), row[1].strip() if len(row) > 1 else "")
            g = groups.get(key)
            if g is None:
                g = groups[key] = {"rows": [], "labels": set(), "frames": [], "first": rowno, "err": None}
                order.append(key)
            if g["err"]:
                continue
            if len(row) != 4:
                g["err"] = (rowno, f"expected 4 columns, got {len(row)}")
                continue
            m = _FRAME_RE.search(row[2].strip())
            if not m:
                g["err"] = (rowno, f"frame path {row[2]!r} does not end in frame_NN.png")
                continue
            g["frames"].append(int(m.group(1)))
            g["labels"].add(row[3].strip())
    entries, problems = [], []
    for key in order:
        user_col, seq = key
        g = groups[key]
        um = _USER_RE.match(user_col)
        err = g["err"]
        if err is None and not um:
            err = (g["first"], f"unknown user {user_col!r} (expected user_NN)")
        if err is None and users is not None and um.group(1) not in users:
            err = (g["first"], f"unknown user {user_col!r} for this split")
        if err is None and (not seq or not _GOPRO_RE.match(seq)):
            err = (g["first"], f"invalid sequence id {seq!r}")
        if err is None and len(g["labels"]) != 1:
            err = (g["first"], f"label changes within the sequence: {sorted(g['labels'])}")
        label = next(iter(g["labels"])) if g["labels"] else ""
        if err is None and label not in allowed_labels:
            err = (g["first"], f"unknown label {label!r} (known: {', '.join(allowed_labels)})")
        if err is None and g["frames"] != list(range(N_FRAMES)):
            err = (g["first"], f"expected frames frame_00..frame_{N_FRAMES - 1:02d} in order, got "
                               f"{len(g['frames'])} frame(s)")
        if err is not None:
            problems.append(Problem(str(path), err[0], seq, err[1]))
            continue
        entries.append(SequenceEntry(um.group(1), seq, label, tuple(g["frames"]), g["first"]))
    return entries, problems


def _inside(root: Path, p: Path) -> Path:
    """``p`` unchanged if it lies lexically inside ``root`` (ids are validated, so no component is ``..``)."""
    r = os.path.normpath(os.path.abspath(root))
    q = os.path.normpath(os.path.abspath(p))
    if os.path.commonpath([r, q]) != r:
        raise ValueError(f"path {p} leaves the dataset root {root}")
    return p


@dataclass(frozen=True)
class NEFERSample:
    """One NEFER sequence.

    Attributes:
        user: "01"...; sequence: event id (``..._cd``); gopro: the paired GoPro id; label: class name;
        label_index: index in :data:`CLASSES` (reported "None": -1); raw_path, event_frame_paths,
        rgb_frame_paths: rebuilt under the root; events: :class:`nvlib.events.Events` (modality
        "events", when loaded); frames: (51, H, W[, 3]) uint8 (event TBR PNGs or RGB frames, when loaded);
        face_box: a :class:`~nvlib.represent.geometry.FaceBox` when published boxes are present, else None.
    """

    user: str
    sequence: str
    gopro: str
    label: str
    label_index: int
    raw_path: Path
    event_frame_paths: tuple
    rgb_frame_paths: tuple
    events: object = None
    frames: np.ndarray | None = None
    face_box: FaceBox | None = None
    extra: dict = field(default_factory=dict)


def find_recordings(root: str | Path) -> dict[str, list[Path]]:
    """Every ``.raw`` file under ``root`` (any depth, hidden folders skipped), by file stem."""
    out: dict[str, list[Path]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in sorted(filenames):
            if f.lower().endswith(".raw") and not f.startswith("."):
                out.setdefault(f[:-4], []).append(Path(dirpath) / f)
    return out


def missing_annotations_message(root: str | Path, ann: Path) -> str:
    """Why NEFER's annotations are not at ``ann``, and where they are when they can be found near ``root``."""
    root = Path(root)
    what = f"{ann} not found (NEFER's annotations/expected_emotions/*.csv)"
    if not root.is_dir():
        return f"NEFER root {root} is not a folder"
    if (root / "expected_emotions").is_dir() or (root / "reported_emotions").is_dir():
        return f"{what}: {root} is itself the annotations folder; pass its parent {root.parent}"
    found = []
    base = len(root.parts)
    for dirpath, dirnames, _ in os.walk(root):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if not n.startswith("."))
        if d.name == "annotations" and (d / "expected_emotions").is_dir():
            found.append(d.parent)
            dirnames[:] = []
        elif len(d.parts) - base >= 3:
            dirnames[:] = []
    if found:
        return (f"{what}; found NEFER annotations under {', '.join(map(str, found[:3]))}: pass "
                f"{'that folder' if len(found) == 1 else 'one of them'} as the root")
    return what


class NEFER:
    """NEFER sequences of one split with expected or reported labels (see module docstring).

    ``len()`` = number of sequences. Listing needs only ``annotations/`` (or ``annotations_dir``);
    ``ds[i]`` loads data by ``modality``: "events" reads the EVT 3.0 recording (``load="events"``)
    or the published TBR PNGs (``load="frames"``), "rgb" the GoPro frames. ``load=None`` returns paths only.
    ``problems`` lists sequences left out (file, row, reason). Face boxes: read from
    ``annotations/face_boxes/<sequence>.json`` (``{"box": [x0, y0, side]}``, :func:`read_face_box`) when present.
    """

    def __init__(self, root: str | Path, split: str = "train", labels: str = "expected", modality: str = "events",
                 annotations_dir: str | Path | None = None, load: str | None = "events"):
        self.root = Path(root)
        self.split, self.labels, self.modality, self.load = split, labels, modality, load
        ann = Path(annotations_dir) if annotations_dir is not None else self.root / "annotations"
        self.annotations_dir = ann
        self._recordings: dict | None = None
        if annotations_dir is None and not (ann / annotation_file(split, "events", labels)).is_file():
            raise FileNotFoundError(missing_annotations_message(self.root, ann / annotation_file(split, "events",
                                                                                                   labels)))
        users = TRAIN_USERS if split == "train" else VALIDATION_USERS
        allowed = CLASSES if labels == "expected" else REPORTED_CLASSES
        ev_entries, ev_probs = read_annotation_csv(ann / annotation_file(split, "events", labels), allowed, users)
        go_entries, go_probs = read_annotation_csv(ann / annotation_file(split, "rgb", labels), allowed, users)
        self.problems: list[Problem] = ev_probs + go_probs
        for e in ev_entries:
            if not _SEQ_RE.match(e.sequence) or _SEQ_RE.match(e.sequence).group(1) != e.user:
                self.problems.append(Problem(str(ann / annotation_file(split, "events", labels)), e.first_row,
                                             e.sequence, f"event sequence id does not match user_{e.user}"))
        ev_entries = [e for e in ev_entries if _SEQ_RE.match(e.sequence) and
                      _SEQ_RE.match(e.sequence).group(1) == e.user]
        # pair by position within each user (both files list a user's sequences in the same order); a pair
        # whose labels differ means the two lists went out of step (a row dropped from one file only): that
        # sequence gets no GoPro pair and a problem, never another reaction's frames
        go_by_user: dict[str, list[SequenceEntry]] = {}
        for e in go_entries:
            go_by_user.setdefault(e.user, []).append(e)
        ev_count: dict[str, int] = {}
        self.entries: list[tuple[SequenceEntry, SequenceEntry | None]] = []
        for e in ev_entries:
            k = ev_count.get(e.user, 0)
            ev_count[e.user] = k + 1
            gl = go_by_user.get(e.user, [])
            g = gl[k] if k < len(gl) else None
            if g is not None and g.label != e.label:
                if annotation_file(split, modality, labels) != annotation_file(split, "events", labels):
                    self.problems.append(Problem(str(ann / annotation_file(split, "rgb", labels)), g.first_row,
                                                 e.sequence, f"paired GoPro sequence {g.sequence} is labelled "
                                                 f"{g.label!r}, the event sequence {e.label!r}: event and GoPro "
                                                 "lists out of step; no RGB pair"))
                g = None  # the event modality does not use the pair: no problem there, but no wrong id either
            self.entries.append((e, g))

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def sequences(self) -> list[str]:
        return [e.sequence for e, _ in self.entries]

    @property
    def label_names(self) -> list[str]:
        return [e.label for e, _ in self.entries]

    @property
    def users(self) -> list[str]:
        return [e.user for e, _ in self.entries]

    def paths(self, i: int) -> dict:
        """Rebuilt paths of sequence ``i`` (all inside the root)."""
        e, g = self.entries[i]
        u = f"user_{e.user}"
        raw = _inside(self.root, self.root / "event_raw" / "raw" / u / (e.sequence[:-3] + ".raw"))
        evf = tuple(_inside(self.root, self.root / "event_frames" / u / e.sequence / f"frame_{k:02d}.png")
                    for k in e.frames)
        rgb = tuple(_inside(self.root, self.root / "rgb_frames" / u / g.sequence / f"frame_{k:02d}.png")
                    for k in g.frames) if g is not None else ()
        return {"raw": raw, "event_frames": evf, "rgb_frames": rgb}

    def recording(self, i: int, index: dict | None = None) -> tuple[Path | None, str | None]:
        """``(path, None)`` of sequence ``i``'s recording, or ``(None, what is wrong)``: the guessed
        layout's file when it exists, else the one file named after the sequence id anywhere under the
        root (``index``: :func:`find_recordings` of the root, built once when not given)."""
        guess = self.paths(i)["raw"]
        if guess.is_file():
            return guess, None
        if index is None:
            if self._recordings is None:
                self._recordings = find_recordings(self.root)
            index = self._recordings
        seq = self.entries[i][0].sequence
        hits = index.get(seq[:-3], []) + index.get(seq, [])
        if len(hits) == 1:
            return hits[0], None
        if not hits:
            return None, (f"no recording {seq[:-3]}.raw anywhere under {self.root} (nor at {guess})")
        return None, (f"{len(hits)} recordings named {seq[:-3]}.raw under {self.root}: "
                      f"{'; '.join(map(str, hits[:4]))}; keep one")

    def face_box_path(self, i: int) -> Path:
        """Where sequence ``i``'s published face box would be (``annotations/face_boxes/<sequence>.json``)."""
        return self.annotations_dir / "face_boxes" / f"{self.entries[i][0].sequence}.json"

    def face_box(self, i: int) -> FaceBox | None:
        """Sequence ``i``'s published :class:`FaceBox`, or None when it has none (:func:`read_face_box`)."""
        p = self.face_box_path(i)
        return read_face_box(p) if p.is_file() else None

    def __getitem__(self, i: int) -> NEFERSample:
        e, g = self.entries[i]
        p = self.paths(i)
        events = frames = None
        if self.load is not None:
            if self.modality == "events" and self.load == "events":
                from nvlib.io import read_events

                raw, why = self.recording(i)
                if raw is None:
                    raise FileNotFoundError(f"NEFER sequence {e.sequence}: {why}")
                p["raw"] = raw
                events = read_events(raw)
            else:
                frames = _read_pngs(p["event_frames"] if self.modality == "events" else p["rgb_frames"],
                                    gray=self.modality == "events")
        idx = CLASSES.index(e.label) if e.label in CLASSES else -1
        return NEFERSample(user=e.user, sequence=e.sequence, gopro=g.sequence if g else "", label=e.label,
                           label_index=idx, raw_path=p["raw"], event_frame_paths=p["event_frames"],
                           rgb_frame_paths=p["rgb_frames"], events=events, frames=frames, face_box=self.face_box(i))


def read_face_box(path: str | Path) -> FaceBox:
    """A published face box file ``{"box": [x0, y0, side]}`` (integer pixels, side > 0) as a :class:`FaceBox`.

    Raises ``ValueError`` naming the file and what is wrong (unreadable, malformed JSON, no ``box``,
    not three integers, side not positive).
    """
    import json

    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as e:
        raise ValueError(f"{path}: cannot read the face box ({e.strerror or e})") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: malformed JSON ({e})") from e
    box = data.get("box") if isinstance(data, dict) else None
    if not isinstance(box, list) or len(box) != 3:
        raise ValueError(f"{path}: expected {{\"box\": [x0, y0, side]}}, got {json.dumps(data)[:80]}")
    try:
        return FaceBox(*box)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from e


def _read_pngs(paths, gray: bool) -> np.ndarray:
    import cv2

    out = []
    for path in paths:
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED if gray else cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f"cannot read image {path}")
        out.append(img if gray else img[..., ::-1])
    return np.stack(out)
