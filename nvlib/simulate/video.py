"""Frame sources for the simulator: a video file, a folder of frames, or a ``.npy`` stack.

Colour frames are resized first (``cv2.INTER_AREA``) and then converted to gray, in v2e's
order (SensorsINI/v2e ``v2e.py``). A ``.npy`` file holds uint8 gray frames (T, H, W), used as is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..events import Events
from .emulator import DVSEmulator
from .params import CAMERAS, DVSParams

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def resize_for_camera(frame: np.ndarray, camera) -> np.ndarray:
    """Resize a frame (H, W[, C]) to a camera preset name (``"dvs346"``...) or ``(W, H)``, INTER_AREA."""
    if camera is None:
        return frame
    if isinstance(camera, str):
        if camera not in CAMERAS:
            raise ValueError(f"unknown camera {camera!r}; choose from {sorted(CAMERAS)}")
        w, h = CAMERAS[camera]
    else:
        w, h = int(camera[0]), int(camera[1])
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
        camera: resize target (preset name or (W, H)) or None.
        max_frames: stop after this many frames.
    """

    path: Path
    kind: str
    fps: float | None
    n_frames: int | None
    camera: object = None
    max_frames: int | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        count = 0
        size = None
        for fr in self._raw():
            if self.max_frames is not None and count >= self.max_frames:
                break
            g = to_gray(resize_for_camera(fr, self.camera), "bgr") if self.kind != "npy" else \
                resize_for_camera(fr, self.camera)
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


def open_frames(path, camera=None, max_frames: int | None = None) -> FrameSource:
    """Open a video file, a folder of frames (``00000.png``...) or a ``.npy`` (T, H, W) uint8 stack."""
    path = Path(path)
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"{path}: max_frames must be >= 1, got {max_frames}")
    if not path.exists():
        raise FileNotFoundError(f"{path}: input not found")
    if path.is_dir():
        files = _frame_files(path)
        if not files:
            raise ValueError(f"{path}: folder holds no frames ({', '.join(IMAGE_SUFFIXES)})")
        return FrameSource(path, "folder", None, len(files), camera, max_frames)
    if path.suffix.lower() == ".npy":
        try:
            arr = np.load(path, mmap_mode="r")
        except Exception as e:  # noqa: BLE001 - numpy raises several types for bad files
            raise ValueError(f"{path}: not a readable .npy file ({e})") from e
        if arr.ndim != 3 or arr.dtype != np.uint8:
            raise ValueError(f"{path}: expected uint8 gray frames shaped (T, H, W), got {arr.dtype} {arr.shape}")
        if arr.shape[0] == 0:
            raise ValueError(f"{path}: no frames")
        return FrameSource(path, "npy", None, int(arr.shape[0]), camera, max_frames)
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
    return FrameSource(path, "video", fps if math.isfinite(fps) and fps > 0 else None, n or None, camera,
                       max_frames)


def source_fps(src: FrameSource, input_frame_rate: float | None) -> float:
    """The frame rate to use: ``input_frame_rate`` when given, else the file's; errors name the input."""
    fps = input_frame_rate if input_frame_rate is not None else src.fps
    if fps is None:
        raise ValueError(f"{src.path}: frame rate unknown for a {src.kind} input; give input_frame_rate")
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"{src.path}: frame rate must be positive, got {fps!r}")
    return float(fps)


def iter_timed_frames(src: FrameSource, fps: float, upsample=None) -> Iterator[tuple[np.ndarray, float]]:
    """``(gray frame, t_s)`` at ``i / fps``, optionally flow-upsampled (see :mod:`.upsample`)."""
    def base():
        for i, fr in enumerate(src):
            yield fr, i / fps
    if upsample in (None, 1):
        yield from base()
        return
    from .upsample import upsample_frames
    yield from upsample_frames(base(), upsample)


def simulate_video(path, params: DVSParams = DVSParams(), camera=None, input_frame_rate: float | None = None,
                   max_frames: int | None = None, device="cpu", upsample=None, progress: bool = False) -> Events:
    """Events of a video file / frame folder / ``.npy`` stack (see :func:`open_frames`).

    ``camera``: None (native size) or a v2e preset (``"dvs346"``...); ``input_frame_rate``
    overrides the file's rate (required for folders and ``.npy``); ``upsample``: None, an integer
    factor or ``"auto"`` (optical-flow interpolation, :mod:`nvlib.simulate.upsample`).
    """
    from ..events import concatenate
    src = open_frames(path, camera=camera, max_frames=max_frames)
    fps = source_fps(src, input_frame_rate)
    emu = DVSEmulator(params, device=device)
    it = iter_timed_frames(src, fps, upsample)
    if progress:
        from tqdm.auto import tqdm
        total = src.n_frames if src.max_frames is None else min(src.n_frames or src.max_frames, src.max_frames)
        it = tqdm(it, total=total if upsample in (None, 1) else None, desc=f"simulate {Path(path).name}",
                  unit="frame")
    out = [emu.step(fr, t) for fr, t in it]
    return concatenate(out)
