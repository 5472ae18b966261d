"""Video reading: frame sources streamed one frame at a time, and whole clips decoded at once.

Colour frames are resized first (``cv2.INTER_AREA``) and then converted to gray, in v2e's order
(SensorsINI/v2e ``v2e.py``); gray uses OpenCV's BGR2GRAY luma weights, as v2e does. A ``.npy`` file
holds uint8 gray frames (T, H, W), used as is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def resize_to(frame: np.ndarray, size) -> np.ndarray:
    """``frame`` (H, W[, C]) resized to ``size = (W, H)`` with ``cv2.INTER_AREA``; None or the same size
    returns it unchanged."""
    if size is None:
        return frame
    w, h = int(size[0]), int(size[1])
    if frame.shape[1] == w and frame.shape[0] == h:
        return frame
    return cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)


def to_gray(frame: np.ndarray, order: str = "bgr") -> np.ndarray:
    """uint8 gray from a gray, BGR(A) or RGB(A) frame (OpenCV's luma weights)."""
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[..., 0]
    if frame.ndim == 3 and frame.shape[2] in (3, 4):
        code = {("bgr", 3): cv2.COLOR_BGR2GRAY, ("rgb", 3): cv2.COLOR_RGB2GRAY,
                ("bgr", 4): cv2.COLOR_BGRA2GRAY, ("rgb", 4): cv2.COLOR_RGBA2GRAY}[(order, frame.shape[2])]
        return cv2.cvtColor(frame, code)
    raise ValueError(f"cannot convert a frame of shape {frame.shape} to gray")


def _to_uint8(frame: np.ndarray, name: str) -> np.ndarray:
    if frame.dtype == np.uint8:
        return frame
    if frame.dtype == np.uint16:
        return (frame >> 8).astype(np.uint8)
    raise ValueError(f"{name}: unsupported pixel type {frame.dtype} (expected 8 or 16 bit)")


@dataclass
class FrameSource:
    """Gray uint8 frames of one input, streamed (memory: one frame).

    Attributes:
        path: the input. kind: ``"video"``, ``"folder"`` or ``"npy"``.
        fps: the file's frame rate (None for folders and ``.npy``).
        n_frames: frame count when known (video: container's count, may be approximate).
        size: resize target ``(W, H)`` (``cv2.INTER_AREA``) or None for the native size.
        max_frames: stop after this many frames.
    """

    path: Path
    kind: str
    fps: float | None
    n_frames: int | None
    size: tuple | None = None
    max_frames: int | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        count = 0
        size = None
        for fr in self._raw():
            if self.max_frames is not None and count >= self.max_frames:
                break
            g = to_gray(resize_to(fr, self.size), "bgr") if self.kind != "npy" else resize_to(fr, self.size)
            g = np.ascontiguousarray(_to_uint8(g, f"{self.path}: frame {count}"))
            if size is None:
                size = g.shape
            elif g.shape != size:
                raise ValueError(f"{self.path}: frame {count} has size {g.shape[::-1]} (W, H) but the first "
                                 f"frame has {size[::-1]}; frames of changing size are not supported")
            count += 1
            yield g
        if count == 0:
            raise ValueError(f"{self.path}: no frames could be read")

    def _raw(self) -> Iterator[np.ndarray]:
        if self.kind == "npy":
            arr = np.load(self.path, mmap_mode="r")
            for i in range(arr.shape[0]):
                yield np.asarray(arr[i])
        elif self.kind == "folder":
            for f in _frame_files(self.path):
                img = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
                if img is None:
                    raise ValueError(f"{f}: unreadable image")
                yield img
        else:
            cap = cv2.VideoCapture(str(self.path))
            try:
                while True:
                    ok, fr = cap.read()
                    if not ok:
                        break
                    yield fr
            finally:
                cap.release()


def _frame_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def open_frames(path, size=None, max_frames: int | None = None) -> FrameSource:
    """Open a video file, a folder of frames (``00000.png``...) or a ``.npy`` (T, H, W) uint8 stack;
    frames are resized to ``size = (W, H)`` when given."""
    path = Path(path)
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"{path}: max_frames must be >= 1, got {max_frames}")
    if not path.exists():
        raise FileNotFoundError(f"{path}: input not found")
    if path.is_dir():
        files = _frame_files(path)
        if not files:
            raise ValueError(f"{path}: folder holds no frames ({', '.join(IMAGE_SUFFIXES)})")
        return FrameSource(path, "folder", None, len(files), size, max_frames)
    if path.suffix.lower() == ".npy":
        try:
            arr = np.load(path, mmap_mode="r")
        except Exception as e:  # noqa: BLE001 - numpy raises several types for bad files
            raise ValueError(f"{path}: not a readable .npy file ({e})") from e
        if arr.ndim != 3 or arr.dtype != np.uint8:
            raise ValueError(f"{path}: expected uint8 gray frames shaped (T, H, W), got {arr.dtype} {arr.shape}")
        if arr.shape[0] == 0:
            raise ValueError(f"{path}: no frames")
        return FrameSource(path, "npy", None, int(arr.shape[0]), size, max_frames)
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise ValueError(f"{path}: unreadable video (OpenCV cannot open it)")
        ok, _ = cap.read()
        if not ok:
            raise ValueError(f"{path}: video has no readable frames")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    finally:
        cap.release()
    return FrameSource(path, "video", fps if math.isfinite(fps) and fps > 0 else None, n or None, size,
                       max_frames)


def probe_video(path: str | Path) -> dict:
    """fps, frame count and size (W, H) of a video file, counted by decoding it."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: OpenCV cannot open this video")
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    n, size = 0, None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        size = (frame.shape[1], frame.shape[0])
        n += 1
    cap.release()
    if n == 0:
        raise ValueError(f"{path}: the video holds no decodable frame")
    return {"fps": round(fps, 3), "frames": n, "width": size[0], "height": size[1]}


def read_video(path: str | Path, max_frames: int | None = None, gray: bool = False,
               start: int = 0) -> tuple[np.ndarray, float]:
    """Decode a video file into ``(frames, fps)``.

    frames: uint8 array (T, H, W, 3) in RGB order, or (T, H, W) luma when ``gray``
    (OpenCV's BGR2GRAY weights, as v2e uses). ``start`` skips frames first.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such video file")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: OpenCV cannot open this video")
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    frames = []
    i = 0
    while max_frames is None or len(frames) < max_frames:
        ok, frame = cap.read()
        if not ok:
            break
        if i >= start:
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY if gray else cv2.COLOR_BGR2RGB))
        i += 1
    cap.release()
    if not frames:
        raise ValueError(f"{path}: no decodable frame (start={start})")
    if not fps > 0:
        raise ValueError(f"{path}: the container reports no frame rate")
    return np.stack(frames), fps
