"""Event representations: TBR first (Innocenti et al., ICPR 2020), as used by Berlincioni et al.

Pure functions over :class:`nvlib.events.Events` (or tonic-style structured arrays) with
``sensor_size = (W, H)`` as in tonic, returning ``(n, H, W)``-shaped numpy arrays; frozen-dataclass
transforms in :mod:`nvlib.represent.transforms`.
"""
from nvlib.represent.geometry import FaceBox, crop_box, nearest_indices, resize_codes
from nvlib.represent.histogram import count_image, histogram, iter_histograms
from nvlib.represent.tbr import (
    active_bits,
    binary_slices,
    bit_weights,
    code_dtype,
    codes_from_bits,
    normalize_codes,
    tbr,
    tbr_memory_bytes,
    tbr_aligned,
    tbr_windows,
)
from nvlib.represent.time_surface import time_surface
from nvlib.represent.voxel import voxel_grid
from nvlib.represent.windows import aligned_windows, consecutive_windows, frame_times_us, window_starts


__all__ = [
    "active_bits", "aligned_windows", "binary_slices", "bit_weights", "code_dtype", "codes_from_bits", "consecutive_windows", "count_image",
    "FaceBox", "crop_box", "frame_times_us", "histogram", "iter_histograms",
    "nearest_indices", "normalize_codes", "resize_codes", "tbr", "tbr_aligned",
    "tbr_memory_bytes", "tbr_windows", "time_surface", "voxel_grid", "window_starts",
]
