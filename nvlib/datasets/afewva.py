"""AFEW-VA (Kossaifi et al., "AFEW-VA database for valence and arousal estimation in-the-wild", IVC 2017).

Real layout: clip folders ``001`` ... ``600`` under the root, frames ``NNN/00000.png`` ... and the
annotation ``NNN/NNN.json``::

    {"actor": str, "video_id": str,
     "frames": {"00000": {"valence": int, "arousal": int, "landmarks": [[x, y] x 68]}, ...}}

Valence and arousal are integers in [-10, 10]; they are scaled to [-1, 1] (divided by 10).
The clips come from movies (about 25 fps); the frame rate is a parameter.
"""
from __future__ import annotations

import json
import math
import re
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
