"""AFEW-VA (Kossaifi et al., "AFEW-VA database for valence and arousal estimation in-the-wild", IVC 2017).

Real layout: clip folders ``001`` ... ``600`` under the root, frames ``NNN/00000.png`` ... and the
annotation ``NNN/NNN.json``::

    {"actor": str, "video_id": str,
     "frames": {"00000": {"valence": int, "arousal": int, "landmarks": [[x, y] x 68]}, ...}}

Valence and arousal are integers in [-10, 10]; they are scaled to [-1, 1] (divided by 10).
The clips come from movies (about 25 fps); the frame rate is a parameter.

The ``actor`` of each clip groups clips for subject-independent splits; :func:`check_actors` reports
clips without one and names spelled two ways. :func:`locate_clip_folders` says where clip folders are
when a root holds none (a root one level too deep or too shallow, as unpacked zip parts often are).
:meth:`AFEWVAClip.read_frames` decodes the frames it can and reports the others.
"""
from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_CLIP_RE = re.compile(r"^\d{3}$")
_FRAME_RE = re.compile(r"^\d{5}$")
N_LANDMARKS = 68
SCALE = 10.0


class AnnotationError(ValueError):
    """A clip whose files cannot be used; ``.file`` is the offending path and ``.reason`` what is wrong."""

    def __init__(self, file, reason: str):
        self.file, self.reason = str(file), reason
        super().__init__(f"{file}: {reason}")


@dataclass(frozen=True)
class AFEWVAClip:
    """One parsed clip. Arrays are indexed by frame (sorted frame names).

    Attributes:
        clip: folder name ("001").
        actor, video_id: from the JSON.
        frame_paths: T PNG paths.
        va: (T, 2) float32 [valence, arousal] in [-1, 1].
        va_raw: (T, 2) the original integers (as float) in [-10, 10].
        landmarks: (T, 68, 2) float32 pixel coordinates (x, y).
        fps: frames per second (a parameter; AFEW-VA publishes none).
    """

    clip: str
    actor: str
    video_id: str
    frame_paths: tuple
    va: np.ndarray
    va_raw: np.ndarray
    landmarks: np.ndarray
    fps: float

    @property
    def times_us(self) -> np.ndarray:
        from nvlib.represent.windows import frame_times_us

        return frame_times_us(len(self.frame_paths), self.fps)

    def load_frames(self, gray: bool = True) -> np.ndarray:
        """Decode the frames: (T, H, W) uint8 gray or (T, H, W, 3) RGB; raises :class:`AnnotationError`."""
        import cv2

        out = []
        for p in self.frame_paths:
            img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
            if img is None:
                raise AnnotationError(p, "unreadable image (OpenCV cannot decode it)")
            if out and img.shape != out[0].shape:
                raise AnnotationError(p, f"frame size {img.shape} differs from the first frame's {out[0].shape}")
            out.append(img if gray else img[..., ::-1])
        return np.stack(out)

    def read_frames(self, gray: bool = True) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str, str]]]:
        """Decode the frames that can be decoded: ``(frames (K, H, W[, 3]) uint8, kept (K,) frame indices,
        dropped [(index, file, reason)])``. A frame is dropped when OpenCV cannot decode it or its size
        differs from the clip's (the most common size among its frames); labels and landmarks of the kept
        frames are ``va[kept]`` and ``landmarks[kept]``."""
        import cv2

        imgs, dropped = {}, []
        for i, p in enumerate(self.frame_paths):
            img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
            if img is None:
                dropped.append((i, str(p), "unreadable image (OpenCV cannot decode it)"))
            else:
                imgs[i] = img if gray else img[..., ::-1]
        if imgs:
            shape = Counter(im.shape for im in imgs.values()).most_common(1)[0][0]
            for i in sorted(imgs):
                if imgs[i].shape != shape:
                    dropped.append((i, str(self.frame_paths[i]),
                                    f"frame size {imgs[i].shape} differs from the clip's {shape}"))
                    del imgs[i]
        kept = np.array(sorted(imgs), dtype=np.int64)
        frames = np.stack([imgs[i] for i in kept]) if len(kept) else np.zeros((0, 0, 0), np.uint8)
        return frames, kept, sorted(dropped)


def read_clip(clip_dir: str | Path, fps: float = 25.0, min_frames: int = 2) -> AFEWVAClip:
    """Parse and validate one AFEW-VA clip folder.

    Raises :class:`AnnotationError` naming the file for: a missing or malformed JSON, a frame
    without annotation (or an annotation without frame), labels out of [-10, 10] or not finite,
    landmarks that are not 68 (x, y) pairs, fewer than ``min_frames`` frames.
    """
    d = Path(clip_dir)
    jpath = d / f"{d.name}.json"
    if not jpath.is_file():
        raise AnnotationError(jpath, "missing annotation JSON")
    try:
        data = json.loads(jpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AnnotationError(jpath, f"malformed JSON ({e})") from e
    if not isinstance(data, dict) or not isinstance(data.get("frames"), dict):
        raise AnnotationError(jpath, 'expected an object with a "frames" object')
    frames = data["frames"]
    pngs = {p.stem: p for p in d.glob("*.png") if _FRAME_RE.match(p.stem)}
    missing_ann = sorted(set(pngs) - set(frames))
    if missing_ann:
        raise AnnotationError(pngs[missing_ann[0]], f"{len(missing_ann)} frame(s) without annotation "
                                                    f"(first: {missing_ann[0]}) in {jpath.name}")
    missing_png = sorted(set(frames) - set(pngs))
    if missing_png:
        raise AnnotationError(jpath, f"{len(missing_png)} annotated frame(s) without image "
                                     f"(first: {missing_png[0]}.png)")
    names = sorted(frames)
    if len(names) < min_frames:
        raise AnnotationError(jpath, f"clip has {len(names)} frame(s); at least {min_frames} needed")
    va = np.empty((len(names), 2), dtype=np.float64)
    lms = np.empty((len(names), N_LANDMARKS, 2), dtype=np.float32)
    for i, name in enumerate(names):
        fr = frames[name]
        if not isinstance(fr, dict):
            raise AnnotationError(jpath, f"frame {name}: expected an object")
        for j, key in enumerate(("valence", "arousal")):
            v = fr.get(key)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise AnnotationError(jpath, f"frame {name}: {key} missing or not a number ({v!r})")
            if not math.isfinite(v) or not -SCALE <= v <= SCALE:
                raise AnnotationError(jpath, f"frame {name}: {key} {v} outside [-10, 10]")
            va[i, j] = v
        lm = fr.get("landmarks")
        try:
            arr = np.asarray(lm, dtype=np.float32)
        except (TypeError, ValueError):
            arr = np.zeros(0)
        if arr.shape != (N_LANDMARKS, 2) or not np.all(np.isfinite(arr)):
            raise AnnotationError(jpath, f"frame {name}: landmarks must be 68 finite [x, y] pairs, "
                                         f"got shape {arr.shape}")
        lms[i] = arr
    return AFEWVAClip(clip=d.name, actor=str(data.get("actor", "")), video_id=str(data.get("video_id", d.name)),
                      frame_paths=tuple(pngs[n] for n in names), va=(va / SCALE).astype(np.float32),
                      va_raw=va.astype(np.float32), landmarks=lms, fps=float(fps))


class AFEWVA:
    """The AFEW-VA dataset at ``root`` (clip folders ``001``...). ``len()`` = number of clip folders.

    ``ds[i]`` returns an :class:`AFEWVAClip` (parsed and validated; raises :class:`AnnotationError`).
    ``clips`` restricts to given folder names. ``ds.actors`` lists the actor of each clip
    (for :func:`nvlib.datasets.splits.group_kfold`); clips whose JSON is unusable get actor ``""``.
    """

    def __init__(self, root: str | Path, clips: list[str] | None = None, fps: float = 25.0, min_frames: int = 2):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"AFEW-VA root {self.root} is not a folder")
        found = sorted(p.name for p in self.root.iterdir() if p.is_dir() and _CLIP_RE.match(p.name))
        if clips is not None:
            unknown = sorted(set(clips) - set(found))
            if unknown:
                raise FileNotFoundError(f"{self.root}: no clip folder(s) {unknown}")
            found = [c for c in found if c in set(clips)]
        self.clips = found
        self.fps, self.min_frames = float(fps), int(min_frames)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> AFEWVAClip:
        return read_clip(self.root / self.clips[i], fps=self.fps, min_frames=self.min_frames)

    def clip(self, name: str) -> AFEWVAClip:
        return read_clip(self.root / name, fps=self.fps, min_frames=self.min_frames)

    @property
    def actors(self) -> list[str]:
        out = []
        for c in self.clips:
            try:
                out.append(str(json.loads((self.root / c / f"{c}.json").read_text()).get("actor", "")))
            except (OSError, ValueError, AttributeError):
                out.append("")
        return out


# ----------------------------------------------------------------------------- actors (groups)
def read_actor(json_path: str | Path) -> tuple[str | None, str | None]:
    """``(actor, problem)`` of one annotation JSON: the actor as a name (a string, or an integer id), or
    ``None`` with what is wrong ("unreadable": the JSON cannot be read, the clip will be skipped anyway;
    "missing"; or "not a name: ...")."""
    try:
        data = json.loads(Path(json_path).read_text())
    except (OSError, ValueError):
        return None, "unreadable"
    if not isinstance(data, dict) or data.get("actor") is None:
        return None, "missing"
    a = data["actor"]
    if isinstance(a, bool) or not isinstance(a, (str, int)):
        return None, f"not a name: {json.dumps(a)[:40]}"
    a = str(a)
    if not a.strip():
        return None, "missing"
    return a, None


def _actor_key(name: str) -> str:
    return " ".join(re.sub(r"[_\-.]", " ", name.casefold()).split())


def check_actors(root: str | Path, clips: list[str]) -> tuple[list[str | None], list[str]]:
    """The actor of each clip (None when unreadable or unusable) and the problems that break
    subject-independent grouping: clips without an actor, actors that are not names, and names spelled
    two ways (equal up to case, spacing, ``_``, ``-`` and ``.``), each naming the JSON file."""
    root = Path(root)
    actors, missing, bad = [], [], []
    spellings: dict[str, dict[str, str]] = {}
    for c in clips:
        jp = root / c / f"{c}.json"
        a, why = read_actor(jp)
        actors.append(a)
        if why == "missing":
            missing.append(jp)
        elif why not in (None, "unreadable"):
            bad.append(f"{jp}: actor {why.removeprefix('not a name: ')} is not a name")
        if a is not None:
            spellings.setdefault(_actor_key(a), {}).setdefault(a, str(jp))
    problems = []
    if missing:
        problems.append(f"{len(missing)} of {len(clips)} clips have no 'actor' in their annotation JSON "
                        f"(first: {missing[0]})")
    problems += bad[:3] + ([f"... {len(bad) - 3} more"] if len(bad) > 3 else [])
    for variants in spellings.values():
        if len(variants) > 1:
            problems.append("one actor spelled " + " and ".join(f"{a!r} ({f})" for a, f in
                                                                 sorted(variants.items())[:3]))
    return actors, problems


# ----------------------------------------------------------------------------- where the clips are
def is_clip_folder(d: Path) -> bool:
    """A folder named ``NNN`` holding ``NNN.json``."""
    return bool(_CLIP_RE.match(d.name)) and (d / f"{d.name}.json").is_file()


def locate_clip_folders(root: str | Path, max_depth: int = 3) -> dict[Path, list[str]]:
    """Folders under ``root`` (down to ``max_depth`` levels, ``root`` included) that hold AFEW-VA clip
    folders, with the clip names each holds."""
    root = Path(root)
    found: dict[Path, list[str]] = {}
    base = len(root.parts)
    for dirpath, dirnames, _ in os.walk(root):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if not n.startswith("."))
        clips = [n for n in dirnames if is_clip_folder(d / n)]
        if clips:
            found[d] = clips
        if len(d.parts) - base >= max_depth - 1:
            dirnames[:] = []
        else:
            dirnames[:] = [n for n in dirnames if n not in clips]
    return found


def missing_clips_message(root: str | Path) -> str:
    """Why ``root`` holds no AFEW-VA clip folders, and where the clips are when they can be found."""
    root = Path(root)
    what = f"{root} holds no AFEW-VA clip folders (NNN/ with NNN.json and the frames NNN/00000.png ...)"
    if is_clip_folder(root):
        return f"{root} is itself an AFEW-VA clip folder (it holds {root.name}.json): pass its parent {root.parent}"
    found = {d: c for d, c in locate_clip_folders(root).items() if d != root}
    if found:
        n = sum(len(c) for c in found.values())
        depth = {len(d.relative_to(root).parts) for d in found}
        level = "one level deeper" if depth == {1} else "deeper"
        where = ", ".join(f"{d} ({len(c)}: {c[0]}..{c[-1]})" for d, c in list(found.items())[:4])
        more = f" and {len(found) - 4} more folders" if len(found) > 4 else ""
        hint = (f"pass {next(iter(found))} as the root" if len(found) == 1 else
                "move them into one folder and pass that folder")
        return f"{what}; found {n} clip folders {level}: {where}{more}; {hint}"
    return what
