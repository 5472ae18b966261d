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
