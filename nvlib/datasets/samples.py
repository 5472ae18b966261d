"""The real sample clips (``nvlib samples``) as a small dataset with DERIVED valence-arousal labels.

None of these labels is a valence-arousal annotation; every output marks them ``"derived"``.

- CREMA-D actor 1001 (Cao et al., IEEE TAFFC 2014): the acted category is in the file name
  (``1001_DFA_<CAT>_XX``). The published perception ratings of these six clips (face-only
  modality: the majority vote and the mean intensity level 0-100, from CREMA-D's
  ``processedResults/summaryTable.csv``) are in :data:`CREMA_FACE_RATINGS`. The label is the
  circumplex point of the category (acted by default, or the perceived vote) scaled by level/100.
- ``pexels_wolfganglanger``: documented segments (:data:`PEXELS_SEGMENTS`) sad, fear, happy,
  read from the video by eye; intensity 1.
- ``carphone``: a man talking in a car, no acted emotion: neutral (0, 0). ``feat_single_face``:
  neutral, then a smile from frame :data:`SINGLE_FACE_SMILE_FROM`.

The circumplex table (:data:`CIRCUMPLEX`) places discrete emotions on Russell's valence-arousal
plane (J. Russell, "A circumplex model of affect", JPSP 1980), rounded to one decimal.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: (valence, arousal) in [-1, 1] per emotion (Russell 1980, rounded; used for every derived label).
CIRCUMPLEX: dict[str, tuple[float, float]] = {
    "neutral": (0.0, 0.0),
    "happiness": (0.8, 0.5),
    "happy": (0.8, 0.5),
    "surprise": (0.2, 0.8),
    "fear": (-0.6, 0.7),
    "anger": (-0.6, 0.6),
    "disgust": (-0.7, 0.3),
    "sadness": (-0.7, -0.4),
    "sad": (-0.7, -0.4),
    "contempt": (-0.5, 0.2),
}

CREMA_CODES = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
_VOTE = {"A": "anger", "D": "disgust", "F": "fear", "H": "happy", "N": "neutral", "S": "sad"}

#: CREMA-D face-only perception of actor 1001's DFA clips: acted code -> (vote letter, mean level 0-100).
CREMA_FACE_RATINGS: dict[str, tuple[str, float]] = {
    "NEU": ("N", 77.22), "HAP": ("H", 66.57), "SAD": ("N", 66.71),
    "ANG": ("A", 41.8), "FEA": ("D", 54.0), "DIS": ("A", 55.17),
}

#: Pexels clip (472 frames at 23.976 fps): inclusive frame ranges and emotions.
PEXELS_SEGMENTS: tuple[tuple[int, int, str], ...] = ((0, 175, "sad"), (176, 235, "fear"), (236, 471, "happy"))
SINGLE_FACE_SMILE_FROM = None  # unknown onset: feat_single_face is labelled neutral throughout

DEFAULT_NAMES = tuple(f"crema_1001_{c}" for c in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")) + (
    "pexels_wolfganglanger",)


def derived_va(name: str, n_frames: int, source: str = "acted") -> tuple[np.ndarray, list[str]]:
    """Per-frame DERIVED (valence, arousal) (n, 2) float32 and the emotion name per frame for sample ``name``.

    ``source``: for CREMA-D, "acted" (file-name category) or "perceived" (face-only vote); both are
    scaled by the face-only mean intensity level / 100 (neutral stays (0, 0)).
    """
    if source not in ("acted", "perceived"):
        raise ValueError(f"source must be 'acted' or 'perceived', got {source!r}")
    if name.startswith("crema_1001_"):
        code = name.rsplit("_", 1)[1]
        if code not in CREMA_CODES:
            raise KeyError(f"{name}: unknown CREMA-D category {code!r}")
        vote, level = CREMA_FACE_RATINGS[code]
        emo = CREMA_CODES[code] if source == "acted" else _VOTE[vote]
        va = np.tile(np.array(CIRCUMPLEX[emo]) * level / 100.0, (n_frames, 1))
        return va.astype(np.float32), [emo] * n_frames
    if name == "pexels_wolfganglanger":
        va = np.zeros((n_frames, 2), np.float32)
        emos = ["neutral"] * n_frames
        for a, b, emo in PEXELS_SEGMENTS:
            a, b = min(a, n_frames), min(b + 1, n_frames)
            va[a:b] = CIRCUMPLEX[emo]
            emos[a:b] = [emo] * (b - a)
        return va, emos
    if name in ("carphone", "feat_single_face"):
        return np.zeros((n_frames, 2), np.float32), ["neutral"] * n_frames
    raise KeyError(f"no derived labels for sample {name!r}")


@dataclass(frozen=True)
class SampleClipItem:
    """One sample clip: ``frames`` (T,H,W) uint8 gray, ``fps``, derived ``va`` (T,2), ``emotions`` (T,),
    ``group`` (the person: "crema_1001", "pexels", ...), ``labels_kind`` = "derived"."""

    name: str
    frames: np.ndarray
    fps: float
    va: np.ndarray
    emotions: list
    group: str
    labels_kind: str = "derived"


def sample_group(name: str) -> str:
    return "crema_1001" if name.startswith("crema_1001_") else name


class SampleClips:
    """The fetched sample clips as a dataset (labels DERIVED, see module docstring).

    ``names`` default :data:`DEFAULT_NAMES`; ``max_frames`` truncates decoding; ``source`` picks the
    CREMA-D category (acted or perceived). ``ds[i]`` -> :class:`SampleClipItem`.
    """

    labels_kind = "derived"

    def __init__(self, names=None, max_frames: int | None = None, source: str = "acted", fetch: bool = True):
        from .. import samples

        self.names = list(DEFAULT_NAMES if names is None else names)
        unknown = [n for n in self.names if n not in samples.SAMPLES]
        if unknown:
            raise KeyError(f"unknown sample clip(s) {unknown}; known: {samples.list_samples()}")
        self.max_frames, self.source, self.fetch = max_frames, source, fetch

    def __len__(self) -> int:
        return len(self.names)

    def path(self, i: int):
        from .. import samples

        return samples.sample_path(self.names[i], fetch=self.fetch)

    def __getitem__(self, i: int) -> SampleClipItem:
        from .. import samples

        name = self.names[i]
        frames, fps = samples.read_video(self.path(i), max_frames=self.max_frames, gray=True)
        va, emos = derived_va(name, frames.shape[0], self.source)
        return SampleClipItem(name, frames, float(fps), va, emos, sample_group(name))
