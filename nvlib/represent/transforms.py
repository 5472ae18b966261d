"""Thin frozen-dataclass transforms over the representation functions (tonic's style).

Each transform stores its parameters and calls the matching pure function on ``events``
(:class:`nvlib.events.Events` or a structured array), e.g. ``ToTBR(sensor_size=(W, H), n_bits=16)(events)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nvlib.represent.geometry import FaceBox, crop_box, resize_codes
from nvlib.represent.histogram import count_image, histogram
from nvlib.represent.tbr import tbr, tbr_aligned
from nvlib.represent.time_surface import time_surface
from nvlib.represent.voxel import voxel_grid


@dataclass(frozen=True)
class ToTBR:
    """:func:`nvlib.represent.tbr` with fixed parameters."""

    sensor_size: tuple | None = None
    delta_t_us: int = 5000
    n_bits: int = 8
    normalize: bool = True
    start_us: int | None = None
    n_frames: int | None = None
    msb_newest: bool = True
    polarity: bool = False
    stride_us: int | None = None

    def __call__(self, events) -> np.ndarray:
        return tbr(events, self.sensor_size, self.delta_t_us, self.n_bits, self.normalize, self.start_us,
                   self.n_frames, self.msb_newest, self.polarity, self.stride_us)


@dataclass(frozen=True)
class ToAlignedTBR:
    """:func:`nvlib.represent.tbr_aligned`: one frame ending at each of ``end_times_us``."""

    end_times_us: tuple
    sensor_size: tuple | None = None
    delta_t_us: int = 5000
    n_bits: int = 8
    normalize: bool = True
    msb_newest: bool = True
    polarity: bool = False

    def __call__(self, events) -> np.ndarray:
        return tbr_aligned(events, self.sensor_size, np.asarray(self.end_times_us), self.delta_t_us, self.n_bits,
                           self.normalize, self.msb_newest, self.polarity)


@dataclass(frozen=True)
class ToHistogram:
    """:func:`nvlib.represent.histogram`: ``(n, 2, H, W)`` counts per polarity."""

    sensor_size: tuple | None = None
    delta_t_us: int = 5000
    n_frames: int | None = None
    start_us: int | None = None

    def __call__(self, events) -> np.ndarray:
        return histogram(events, self.sensor_size, self.delta_t_us, self.n_frames, self.start_us)


@dataclass(frozen=True)
class ToVoxelGrid:
    """:func:`nvlib.represent.voxel_grid` (e2vid convention)."""

    sensor_size: tuple | None = None
    n_bins: int = 5

    def __call__(self, events) -> np.ndarray:
        return voxel_grid(events, self.sensor_size, self.n_bins)


@dataclass(frozen=True)
class ToTimeSurface:
    """:func:`nvlib.represent.time_surface` at ``t_ref_us`` (default: just after the last event)."""

    sensor_size: tuple | None = None
    t_ref_us: int | None = None
    tau_us: int = 50000
    polarity: bool = True

    def __call__(self, events) -> np.ndarray:
        return time_surface(events, self.sensor_size, self.t_ref_us, self.tau_us, self.polarity)


@dataclass(frozen=True)
class ToCountImage:
    """:func:`nvlib.represent.count_image`."""

    sensor_size: tuple | None = None
    polarity: bool = False

    def __call__(self, events) -> np.ndarray:
        return count_image(events, self.sensor_size, self.polarity)


@dataclass(frozen=True)
class ResizeCodes:
    """:func:`nvlib.represent.resize_codes` (nearest neighbour) to ``size = (W, H)`` or an int."""

    size: int | tuple = 64

    def __call__(self, frames):
        return resize_codes(frames, self.size)


@dataclass(frozen=True)
class CropBox:
    """:func:`nvlib.represent.crop_box` to a face ``box``: a :class:`~nvlib.represent.FaceBox` (a plain
    ``(x0, y0, side)`` is converted, and checked, when the transform is made)."""

    box: FaceBox
    fill: float = 0

    def __post_init__(self):
        object.__setattr__(self, "box", FaceBox.coerce(self.box))

    def __call__(self, frames):
        return crop_box(frames, self.box, self.fill)
