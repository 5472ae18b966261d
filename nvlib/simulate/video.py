"""The simulator on whole inputs: a video file, a folder of frames or a ``.npy`` stack (read by
:mod:`nvlib.io.video`), resized to a v2e camera preset, timed, optionally upsampled, simulated."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from nvlib.events import Events
from nvlib.io.video import FrameSource
from nvlib.io.video import open_frames as _open_frames
from nvlib.io.video import resize_to
from nvlib.simulate.emulator import DVSEmulator
from nvlib.simulate.params import CAMERAS, DVSParams

def resize_for_camera(frame: np.ndarray, camera) -> np.ndarray:
    """Resize a frame (H, W[, C]) to a camera preset name (``"dvs346"``...) or ``(W, H)``, INTER_AREA."""
    return resize_to(frame, camera_wh(camera))


def camera_wh(camera):
    """``(W, H)`` of a camera preset name or an explicit ``(W, H)``; None stays None."""
    if camera is None or not isinstance(camera, str):
        return camera
    if camera not in CAMERAS:
        raise ValueError(f"unknown camera {camera!r}; choose from {sorted(CAMERAS)}")
    return CAMERAS[camera]


def open_frames(path, camera=None, max_frames: int | None = None) -> FrameSource:
    """:func:`nvlib.io.video.open_frames` resized to a v2e camera preset name or ``(W, H)``."""
    return _open_frames(path, size=camera_wh(camera), max_frames=max_frames)


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
    from nvlib.simulate.upsample import upsample_frames
    yield from upsample_frames(base(), upsample)


def simulate_video(path, params: DVSParams = DVSParams(), camera=None, input_frame_rate: float | None = None,
                   max_frames: int | None = None, device="cpu", upsample=None, progress: bool = False) -> Events:
    """Events of a video file / frame folder / ``.npy`` stack (see :func:`open_frames`).

    ``camera``: None (native size) or a v2e preset (``"dvs346"``...); ``input_frame_rate``
    overrides the file's rate (required for folders and ``.npy``); ``upsample``: None, an integer
    factor or ``"auto"`` (optical-flow interpolation, :mod:`nvlib.simulate.upsample`).
    """
    from nvlib.events import concatenate
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


class EventFrames:
    """Event frames at the input frames (v2e issues #57, #58): one frame per input frame, at its time.

    Input frame ``k`` is at ``t_k = k/fps`` seconds (``round(t_k*1e6)`` µs); its frame counts the ON and
    OFF events with ``t_(k-1) < t <= t_k``, so there are exactly as many frames as input frames, at the
    input frame times, whatever the upsampling in between. Frame 0 holds no event: the first input
    frame sets the pixels' memorised brightness (v2e's model emits nothing there). Memory:
    ``T*2*H*W`` counts.
    """

    def __init__(self, fps: float, sensor_size):
        self.fps = float(fps)
        self.sensor_size = (int(sensor_size[0]), int(sensor_size[1]))
        self._frames: list[np.ndarray] = []

    def _edge_us(self, k):
        return np.round(np.asarray(k, np.float64) / self.fps * 1e6).astype(np.int64)

    def _grow(self, n: int) -> None:
        w, h = self.sensor_size
        while len(self._frames) < n:
            self._frames.append(np.zeros((2, h, w), np.uint32))

    def add_events(self, ev: Events) -> None:
        """Count events into the frame of the first input frame at or after their time."""
        if len(ev) == 0:
            return
        t = ev.t.astype(np.int64)
        k = np.maximum(np.ceil(t * (self.fps / 1e6)).astype(np.int64) - 1, 0)
        for _ in range(3):  # fix the float estimate against the integer edges
            k = np.where(self._edge_us(k) < t, k + 1, k)
            k = np.where((k > 0) & (self._edge_us(k - 1) >= t), k - 1, k)
        self._grow(int(k.max()) + 1)
        w, h = self.sensor_size
        flat = (ev.p.astype(np.intp) * h + ev.y) * w + ev.x
        for j in np.unique(k):
            self._frames[j] += np.bincount(flat[k == j], minlength=2 * h * w).reshape(2, h, w).astype(np.uint32)

    def array(self, n_frames: int) -> np.ndarray:
        """(n_frames, 2, H, W) uint16 counts (saturating), channel 0 OFF, 1 ON."""
        if len(self._frames) > n_frames:
            raise ValueError(f"events after input frame {n_frames - 1}")
        self._grow(n_frames)
        return np.minimum(np.stack(self._frames), np.iinfo(np.uint16).max).astype(np.uint16)

    def save(self, path, n_frames: int) -> None:
        """Write ``frames`` (T, 2, H, W) uint16 and ``times_s`` (T,) float64 (``k/fps``) to an ``.npz``,
        atomically (a temporary file renamed into place)."""
        from nvlib.workbook.atomic import atomic_path
        frames = self.array(n_frames)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, frames=frames, times_s=np.arange(n_frames, dtype=np.float64) / self.fps)
