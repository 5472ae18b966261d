"""Micro-expression clips with action-unit labels: a folder reader and a synthetic generator.

Built for the dataset of Mastropasqua et al., *Exploring Spatial-Temporal Dynamics in Event-based Facial
Micro-Expression Analysis* (ICCV Workshops 2025): synchronised event and RGB recordings of action units
(AUs). Its release format is not public yet; :func:`read_micro` reads the simple layout below, into which
any such recording can be copied.

Layout (one folder per clip under ``root``; clip folders are sorted by name)::

    <root>/<clip>/
        events.<ext>   one event file in any format nvlib.io reads (EVT 3.0 / EVT 2.0 .raw, .dat,
                       AEDAT4, v2e .h5 / .txt, the nvlib cache); times in µs on the clip clock below
        rgb/           the RGB frames as images (000000.png, ... sorted by name) ...
        rgb.<video>    ... or one video file (.mp4, .avi, .mkv, .mov)
        aus.csv        the AU labels (required), see below
        info.json      {"rgb_fps": 30.0,            frames per second of the RGB camera (required for
                                                    a PNG folder; a video's own rate otherwise)
                        "t0_us": 0,                 event time of the start of RGB frame 0 (default 0)
                        "duration_ms": 480.0,       clip length (optional; checked against both streams)
                        "subject": "s01"}           the person (optional; splits keep a subject whole)

``aus.csv`` has a header and one row per AU occurrence; times in ms from ``t0_us``::

    au,onset_ms,apex_ms,offset_ms
    AU6,120.0,160.0,200.0
    AU12,120.0,160.0,200.0

``au`` is a FACS code ``AU<number>``; ``onset_ms`` where the movement starts, ``apex_ms`` where it peaks,
``offset_ms`` where the face is back at rest (the onset/apex/offset annotation of micro-expression
datasets such as CASME II, on the event clock). The clip's **label** is its set of AUs joined by ``+`` in
FACS order (``"AU6+AU12"``): one class per clip, the single-label task whose accuracy the paper reports.
The clip's **onset speed** is the onset-to-apex time (``apex_ms - onset_ms``) of its slowest AU.

Bad input never stops the reader: a clip without ``aus.csv`` (or with no rows, or a malformed row), an
event file that cannot be read or holds no events, RGB frames missing or of another size than the
others, events running past the RGB frames or a ``duration_ms`` the RGB frames disagree with: the clip
is left out and :attr:`MicroDataset.problems` names it and what is wrong.

Synthetic clips (:func:`generate_synthetic_micro`) use the procedural faces of
:mod:`nvlib.datasets.synthetic`: a neutral face (a small head sway) makes one micro-expression whose AU
intensity rises over the onset time (40-200 ms), peaks and returns to rest over the same time. Faces
are rendered at 1 kHz; events are simulated from the 1 kHz rendering (:func:`nvlib.simulate.simulate_frames`,
v2e's pixel model); the RGB camera samples the same rendering at ``rgb_fps`` (30 fps), each frame the mean
of the renders within its exposure. So whatever the event camera gains over the RGB camera in time comes
from the data, not from the model. The five classes and what draws them (:func:`face_geometry` has no
cheek raiser AU6 and no separate lips-part AU25)::

    AU1+AU2    brow raiser (inner and outer)     AU1, AU2
    AU4        brow lowerer                      AU4
    AU6+AU12   smile (cheek raiser, lip corners)  AU12 (AU6 labelled, not drawn)
    AU25+AU26  lips part and jaw drop            AU26 (the mouth opening)
    AU45       blink                             the eyelid closure (``blink``)
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nvlib.datasets.synthetic import AU_NAMES, Identity, face_geometry, render_face
from nvlib.workbook.atomic import write_bytes, write_text

#: Synthetic classes -> how :func:`face_geometry` draws them: ``{drawn AU or "blink": weight}``.
MICRO_CLASSES: dict[str, dict[str, float]] = {
    "AU1+AU2": {"AU1": 1.0, "AU2": 1.0},
    "AU4": {"AU4": 1.0},
    "AU6+AU12": {"AU12": 1.0},
    "AU25+AU26": {"AU26": 1.0},
    "AU45": {"blink": 1.0},
}
#: Onset-to-apex times of the synthetic micro-expressions (ms).
ONSET_SPEEDS_MS = (40, 100, 200)
AU_CSV_COLUMNS = ("au", "onset_ms", "apex_ms", "offset_ms")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov")
_AU_RE = re.compile(r"^AU(\d+)$")


class MicroClipError(ValueError):
    """A clip that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class AUEvent:
    """One AU occurrence: FACS code and its onset, apex and offset times (ms from the clip start)."""

    au: str
    onset_ms: float
    apex_ms: float
    offset_ms: float


@dataclass(frozen=True)
class ClipProblem:
    """A clip left out by :func:`read_micro` (or by a later stage) and why."""

    clip: str
    reason: str


@dataclass
class MicroClip:
    """One clip: events (times shifted so that 0 is the start of RGB frame 0), gray RGB frames
    ``(T, H, W)`` uint8 with their start times ``rgb_times_us``, the AU occurrences and the label."""

    name: str
    path: Path
    events: object  # nvlib.events.Events
    frames: np.ndarray
    rgb_fps: float
    aus: tuple[AUEvent, ...]
    subject: str
    info: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The clip's class: its AU codes in FACS order joined by ``+``."""
        return au_label([a.au for a in self.aus])

    @property
    def onset_speed_ms(self) -> float:
        """Onset-to-apex time of the slowest AU (ms)."""
        return round(float(max(a.apex_ms - a.onset_ms for a in self.aus)), 3)

    @property
    def rgb_times_us(self) -> np.ndarray:
        return np.arange(len(self.frames)) * (1e6 / self.rgb_fps)

    @property
    def duration_ms(self) -> float:
        """Length of the RGB recording (``n_frames / rgb_fps``), in ms."""
        return 1000.0 * len(self.frames) / self.rgb_fps

    @property
    def au_span_ms(self) -> tuple[float, float]:
        """From the first onset to the last offset (ms)."""
        return min(a.onset_ms for a in self.aus), max(a.offset_ms for a in self.aus)


@dataclass
class MicroDataset:
    """The readable clips of a folder and the problems of the others (see :func:`read_micro`)."""

    root: Path
    clips: list[MicroClip]
    problems: list[ClipProblem]
    size: tuple[int, int] | None
    sensor_size: tuple[int, int] | None

    @property
    def labels(self) -> list[str]:
        """The classes present, in FACS order of their first AU."""
        return sorted({c.label for c in self.clips}, key=label_key)

    def __len__(self) -> int:
        return len(self.clips)


def _au_number(code: str) -> int:
    m = _AU_RE.match(code)
    if not m:
        raise ValueError(f"{code!r} is not an AU code (AU<number>)")
    return int(m.group(1))


def label_key(label: str) -> tuple:
    """Sort key of a class name: its AU numbers (FACS order)."""
    return tuple(_au_number(c) for c in label.split("+"))


def au_label(codes) -> str:
    """The class name of a set of AU codes: unique codes in FACS order joined by ``+``."""
    return "+".join(sorted(set(codes), key=_au_number))


def read_au_csv(path: str | Path) -> tuple[AUEvent, ...]:
    """The rows of an ``aus.csv`` (see the module docstring); :class:`MicroClipError` names the file,
    the line and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise MicroClipError(f"{path}: no AU labels (aus.csv missing)")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in AU_CSV_COLUMNS if c not in header]
        if missing:
            raise MicroClipError(f"{path}: header {header} lacks column(s) {missing}; expected {list(AU_CSV_COLUMNS)}")
        out = []
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            try:
                _au_number(row["au"])
                t = [float(row[c]) for c in AU_CSV_COLUMNS[1:]]
            except ValueError as e:
                raise MicroClipError(f"{path}: line {line}: {e}") from None
            if not all(math.isfinite(x) for x in t) or not (0 <= t[0] < t[1] <= t[2]):
                raise MicroClipError(f"{path}: line {line}: need 0 <= onset_ms < apex_ms <= offset_ms, got {t}")
            out.append(AUEvent(row["au"], *t))
    if not out:
        raise MicroClipError(f"{path}: no AU rows (a clip without AU labels)")
    return tuple(out)


def write_au_csv(path: str | Path, aus) -> Path:
    """Write AU occurrences in the ``aus.csv`` format (atomic)."""
    lines = [",".join(AU_CSV_COLUMNS)]
    lines += [f"{a.au},{a.onset_ms:.3f},{a.apex_ms:.3f},{a.offset_ms:.3f}" for a in aus]
    return write_text(path, "\n".join(lines) + "\n")


def _one(folder: Path, pattern: str, what: str) -> Path | None:
    found = sorted(p for p in folder.glob(pattern) if p.is_file())
    if len(found) > 1:
        raise MicroClipError(f"{folder}: {len(found)} {what} files ({', '.join(p.name for p in found)}); expected one")
    return found[0] if found else None


def read_micro_clip(folder: str | Path) -> MicroClip:
    """One clip folder (see the module docstring); :class:`MicroClipError` names the file and the fault."""
    from nvlib.events import Events
    from nvlib.io import read_events
    from nvlib.io.video import open_frames

    folder = Path(folder)
    aus = read_au_csv(folder / "aus.csv")
    info_path = folder / "info.json"
    info = {}
    if info_path.is_file():
        try:
            info = json.loads(info_path.read_text())
        except ValueError as e:
            raise MicroClipError(f"{info_path}: not valid JSON ({e})") from None
        if not isinstance(info, dict):
            raise MicroClipError(f"{info_path}: expected a JSON object")
    ev_path = _one(folder, "events.*", "event")
    if ev_path is None:
        raise MicroClipError(f"{folder}: no event file (events.<ext>)")
    try:
        ev = read_events(ev_path)
    except (ValueError, OSError) as e:
        raise MicroClipError(f"{ev_path}: cannot read events ({e})") from None
    if len(ev) == 0:
        raise MicroClipError(f"{ev_path}: holds no events")
    rgb = folder / "rgb"
    if not rgb.is_dir():
        rgb = None
        for suf in VIDEO_SUFFIXES:
            rgb = _one(folder, f"rgb{suf}", "RGB video") or rgb
        if rgb is None:
            raise MicroClipError(f"{folder}: no RGB frames (rgb/ folder or rgb.<video>)")
    try:
        src = open_frames(rgb)
        frames = np.stack(list(src))
    except (ValueError, OSError) as e:
        raise MicroClipError(f"{rgb}: cannot read RGB frames ({e})") from None
    fps = info.get("rgb_fps", src.fps)
    if not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
        raise MicroClipError(f"{info_path}: no valid rgb_fps ({fps!r}); needed for the frames in {rgb}")
    t0 = info.get("t0_us", 0)
    if not isinstance(t0, (int, float)) or isinstance(t0, bool) or not math.isfinite(t0):
        raise MicroClipError(f"{info_path}: t0_us must be a number, got {t0!r}")
    arr = np.array(ev.array)
    arr["t"] -= int(t0)
    if arr["t"].min() < 0:
        n = int((arr["t"] < 0).sum())
        arr = arr[arr["t"] >= 0]
        if len(arr) == 0:
            raise MicroClipError(f"{ev_path}: all {n} events precede t0_us = {t0}")
    events = Events(arr, ev.sensor_size)
    period_ms = 1000.0 / fps
    rgb_ms = 1000.0 * len(frames) / fps
    dur = info.get("duration_ms")
    if dur is not None and (not isinstance(dur, (int, float)) or isinstance(dur, bool) or not math.isfinite(dur)):
        raise MicroClipError(f"{info_path}: duration_ms must be a number, got {dur!r}")
    if dur is not None and abs(float(dur) - rgb_ms) > period_ms:
        raise MicroClipError(f"{folder}: RGB and clip lengths disagree: {len(frames)} frames at {fps:g} fps = "
                             f"{rgb_ms:.1f} ms, info.json duration_ms = {float(dur):.1f} ms")
    last_ms = float(arr["t"].max()) / 1000.0
    if last_ms > rgb_ms + period_ms:
        raise MicroClipError(f"{folder}: RGB and event lengths disagree: events run to {last_ms:.1f} ms, the "
                             f"{len(frames)} RGB frames at {fps:g} fps end at {rgb_ms:.1f} ms")
    end = max(a.offset_ms for a in aus)
    if end > rgb_ms + period_ms:
        raise MicroClipError(f"{folder / 'aus.csv'}: an AU ends at {end:.1f} ms, after the recording ({rgb_ms:.1f} ms)")
    return MicroClip(folder.name, folder, events, frames, float(fps), aus, str(info.get("subject", folder.name)), info)


def read_micro(root: str | Path, size: tuple[int, int] | None = None,
               sensor_size: tuple[int, int] | None = None) -> MicroDataset:
    """Every clip folder under ``root`` (see the module docstring).

    ``size``: the RGB frame size ``(W, H)`` every clip must have, ``sensor_size`` the event sensor's
    (None: the first readable clip sets it). A clip that cannot be used is left out and reported in
    ``problems``; the others are read.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: micro-expression dataset folder not found")
    clips, problems = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            clip = read_micro_clip(folder)
        except MicroClipError as e:
            problems.append(ClipProblem(folder.name, str(e)))
            continue
        wh = (clip.frames.shape[2], clip.frames.shape[1])
        size = size or wh
        sensor_size = sensor_size or tuple(clip.events.sensor_size)
        if wh != tuple(size):
            problems.append(ClipProblem(folder.name, f"{folder}: RGB frames are {wh[0]}x{wh[1]}, the dataset's "
                                                     f"are {size[0]}x{size[1]} (W x H)"))
            continue
        if tuple(clip.events.sensor_size) != tuple(sensor_size):
            es = clip.events.sensor_size
            problems.append(ClipProblem(folder.name, f"{folder}: event sensor is {es[0]}x{es[1]}, the dataset's "
                                                     f"is {sensor_size[0]}x{sensor_size[1]} (W x H)"))
            continue
        clips.append(clip)
    if not clips and not problems:
        raise FileNotFoundError(f"{root}: no clip folders")
    return MicroDataset(root, clips, problems, tuple(size) if size else None,
                        tuple(sensor_size) if sensor_size else None)


# ----------------------------------------------------------------------------- synthetic generator
def au_envelope(t_ms: np.ndarray, onset_ms: float, rise_ms: float, peak: float) -> np.ndarray:
    """AU intensity over time: 0 before ``onset_ms``, a raised-cosine rise to ``peak`` at
    ``onset + rise`` (the apex), the mirror-image fall back to 0 at ``onset + 2 * rise`` (the offset)."""
    t = np.asarray(t_ms, dtype=np.float64)
    u = np.clip((t - onset_ms) / rise_ms, 0.0, 2.0)
    return peak * 0.5 * (1.0 - np.cos(np.pi * u))


def render_micro(label: str, onset_ms: float, rise_ms: float, peak: float, identity: Identity, size: int,
                 duration_ms: float, sway: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 0.0),
                 render_hz: float = 1000.0) -> np.ndarray:
    """Gray uint8 frames ``(n, size, size)`` at ``render_hz`` of one micro-expression of class ``label``
    (a key of :data:`MICRO_CLASSES`). ``sway = (amp_x_px, amp_y_px, freq_hz, phase)``: a slow head sway,
    applied as a sub-pixel translation of the rendered face (bilinear); the face is drawn anew only where
    the AU is active (elsewhere it is the face at rest)."""
    import cv2

    if label not in MICRO_CLASSES:
        raise ValueError(f"unknown micro-expression class {label!r}; choose from {list(MICRO_CLASSES)}")
    n = int(round(duration_ms * render_hz / 1000.0))
    t_ms = np.arange(n) * 1000.0 / render_hz
    w = au_envelope(t_ms, onset_ms, rise_ms, peak)
    ax, ay, f, ph = sway
    arg = 2 * math.pi * f * t_ms / 1000.0 + ph
    dx, dy = ax * np.sin(arg), ay * np.sin(0.7 * arg + 1.0)
    drawn = MICRO_CLASSES[label]

    def face(wi):
        aus = {k: 0.0 for k in AU_NAMES}
        for k, g in drawn.items():
            if k != "blink":
                aus[k] = g * wi
        geom = face_geometry(aus, identity, size, size, 0.0, 0.0, 0.0, float(drawn.get("blink", 0.0) * wi))
        return render_face(geom, identity, size, size)

    rest = face(0.0)
    out = np.empty((n, size, size), np.uint8)
    for i in range(n):
        img = face(w[i]) if w[i] > 0 else rest
        m = np.float32([[1, 0, dx[i]], [0, 1, dy[i]]])
        out[i] = cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def sample_rgb(frames_hz: np.ndarray, render_hz: float, fps: float, exposure_ms: float) -> np.ndarray:
    """An RGB camera at ``fps`` over a ``render_hz`` rendering: frame k is the mean of the renders in
    ``[k / fps, k / fps + exposure)`` (the exposure integrates, as a shutter does), rounded to uint8."""
    n = frames_hz.shape[0]
    n_out = int(math.floor(n / render_hz * fps + 1e-9))
    per = max(1, int(round(exposure_ms * render_hz / 1000.0)))
    out = np.empty((n_out,) + frames_hz.shape[1:], np.uint8)
    for k in range(n_out):
        a = int(round(k * render_hz / fps))
        out[k] = np.rint(frames_hz[a:min(n, a + per)].astype(np.float32).mean(axis=0)).astype(np.uint8)
    return out


@dataclass(frozen=True)
class MicroSpec:
    """What :func:`generate_synthetic_micro` writes: ``n_per`` clips per class and onset speed,
    ``n_subjects`` identities (clip j of each class and speed is subject ``j % n_subjects``)."""

    n_per: int = 6
    speeds_ms: tuple = ONSET_SPEEDS_MS
    classes: tuple = tuple(MICRO_CLASSES)
    n_subjects: int = 6
    size: int = 48
    duration_ms: float = 480.0
    rgb_fps: float = 30.0
    exposure_ms: float = 16.0
    render_hz: float = 1000.0
    max_sway_px: float = 0.6
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "speeds_ms", tuple(float(s) for s in self.speeds_ms))
        object.__setattr__(self, "classes", tuple(self.classes))
        unknown = [c for c in self.classes if c not in MICRO_CLASSES]
        if unknown:
            raise ValueError(f"unknown micro-expression class(es) {unknown}; choose from {list(MICRO_CLASSES)}")
        if self.n_per < 1 or self.n_subjects < 1 or self.size < 16:
            raise ValueError(f"need n_per >= 1, n_subjects >= 1, size >= 16; got {self.n_per}, "
                             f"{self.n_subjects}, {self.size}")
        longest = 2 * max(self.speeds_ms) + 40.0
        if self.duration_ms < longest:
            raise ValueError(f"duration_ms = {self.duration_ms} cannot hold a {max(self.speeds_ms):g} ms onset and "
                             f"offset with 20 ms margins (need >= {longest:g})")

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    @property
    def id(self) -> str:
        """A short hash of the specification (names the dataset folder)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:8]


def generate_synthetic_micro(out_root: str | Path, spec: MicroSpec = MicroSpec(), progress: bool = False) -> Path:
    """Write synthetic micro-expression clips in the documented layout under ``out_root``; returns it.

    Per clip: the face rendered at ``render_hz`` (:func:`render_micro`, random onset time with 20 ms
    margins, peak intensity in [0.6, 1], head sway up to ``max_sway_px``), events simulated from every
    render (``DVSParams()`` with a per-clip seed) and written as EVT 3.0 ``events.raw``, the RGB camera
    (:func:`sample_rgb`) as ``rgb/NNNNNN.png``, ``aus.csv`` and ``info.json`` (written last: a clip with
    ``info.json`` is finished and kept on a rerun). Deterministic for ``spec``; ``.complete`` marks the end.
    """
    import cv2

    from nvlib.io import write_evt3
    from nvlib.simulate import DVSParams, simulate_frames

    out = Path(out_root)
    out.mkdir(parents=True, exist_ok=True)
    marker = out / ".complete"
    if marker.is_file():
        done = json.loads(marker.read_text())
        if done != spec.to_dict():
            raise ValueError(f"{out}: holds another synthetic specification ({done}); use another folder")
        return out
    identities = [Identity.random(np.random.default_rng([spec.seed, 7000 + i])) for i in range(spec.n_subjects)]
    jobs = [(s, c, j) for s in spec.speeds_ms for c in spec.classes for j in range(spec.n_per)]
    it = enumerate(jobs)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, total=len(jobs), desc="synthetic micro-expressions", unit="clip")
    for idx, (speed, label, j) in it:
        d = out / f"clip{idx:04d}"
        if (d / "info.json").is_file():
            continue
        rng = np.random.default_rng([spec.seed, idx])
        subject = j % spec.n_subjects
        margin = 20.0
        onset = float(np.round(rng.uniform(margin, spec.duration_ms - 2 * speed - margin)))  # whole ms
        peak = float(rng.uniform(0.6, 1.0))
        sway = (float(rng.uniform(0, spec.max_sway_px)), float(rng.uniform(0, spec.max_sway_px / 2)),
                float(rng.uniform(0.5, 1.5)), float(rng.uniform(0, 2 * math.pi)))
        hz = render_micro(label, onset, speed, peak, identities[subject], spec.size, spec.duration_ms, sway,
                          spec.render_hz)
        dvs_seed = int(rng.integers(1, 2**31))
        ev = simulate_frames(hz, fps=spec.render_hz, params=DVSParams(seed=dvs_seed), name=str(d))
        rgb = sample_rgb(hz, spec.render_hz, spec.rgb_fps, spec.exposure_ms)
        d.mkdir(exist_ok=True)
        write_evt3(d / "events.raw", ev)
        for k, fr in enumerate(rgb):
            ok, buf = cv2.imencode(".png", fr)
            if not ok:
                raise RuntimeError(f"PNG encoding failed for {d / 'rgb' / f'{k:06d}.png'}")
            (d / "rgb").mkdir(exist_ok=True)
            write_bytes(d / "rgb" / f"{k:06d}.png", buf.tobytes())
        write_au_csv(d / "aus.csv", [AUEvent(a, onset, onset + speed, onset + 2 * speed) for a in label.split("+")])
        write_text(d / "info.json", json.dumps({
            "rgb_fps": spec.rgb_fps, "t0_us": 0, "duration_ms": spec.duration_ms, "subject": f"s{subject:02d}",
            "source": "synthetic (nvlib.datasets.micro)", "render_hz": spec.render_hz,
            "exposure_ms": spec.exposure_ms, "peak": round(peak, 4), "sway": [round(x, 4) for x in sway],
            "dvs_seed": dvs_seed, "drawn": MICRO_CLASSES[label]}, sort_keys=True))
    write_text(marker, json.dumps(spec.to_dict(), sort_keys=True))
    return out


def synthetic_micro(spec: MicroSpec = MicroSpec(), root: str | Path | None = None, progress: bool = False) -> Path:
    """The synthetic dataset of ``spec`` under ``data/micro-synthetic_<id>/`` (or ``root``), generated
    once and reused (an unfinished folder is completed)."""
    from nvlib.workbook.paths import data_dir

    out = Path(root) if root is not None else data_dir() / f"micro-synthetic_{spec.id}"
    return generate_synthetic_micro(out, spec, progress=progress)
