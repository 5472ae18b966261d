"""RGB video -> DVS events with v2e's pixel model (paper Section 3), event for event.

Public API::

    DVSParams(...), DVSParams.preset("clean" | "noisy"), CAMERAS
    DVSEmulator(params, sensor_size=(W, H), device="cpu").step(gray_u8, t_s) -> Events
    simulate_frames(frames, fps=None, times_s=None, params=DVSParams(), device="cpu", progress=False)
    simulate_video(path, params=DVSParams(), camera=None, input_frame_rate=None, max_frames=None, device="cpu")
    resize_for_camera(frame, camera)

Model: Hu, Liu, Delbruck, "v2e: From Video Frames to Realistic DVS Events", CVPRW 2021.

The names are imported on first use (module ``__getattr__``, PEP 562), so that ``nvlib simulate --help``
and ``import nvlib.simulate.cli`` do not import torch, OpenCV or numba.
"""
from __future__ import annotations

import importlib

_HOMES = {
    "DVSEmulator": "emulator", "lin_log_table": "emulator", "simulate_frames": "emulator",
    "CAMERAS": "params", "DVSParams": "params", "camera_size": "params",
    "open_frames": "video", "resize_for_camera": "video", "simulate_video": "video",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'nvlib.simulate' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"nvlib.simulate.{home}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
