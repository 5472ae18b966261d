"""Geometry on the code lattice: nearest-neighbour resizing and face crops.

TBR values are bit words: interpolating two codes makes a word neither pixel had (bilinear 0 and 255
gives 127.5, i.e. events in every slice but the newest), so resizing here only ever copies source pixels.
Sizes are ``(W, H)`` like ``sensor_size`` (an int means a square); boxes are ``(x, y, w, h)`` in pixels,
as OpenCV's face detectors return them. All functions work on the last two axes ``(..., H, W)`` of numpy
arrays or torch tensors, with any leading axes.
"""
from __future__ import annotations

import numpy as np


def _wh(size) -> tuple[int, int]:
    if np.ndim(size) == 0:
        w = h = int(size)
    else:
        if len(size) != 2:
            raise ValueError(f"size must be an int or (W, H), got {size!r}")
        w, h = int(size[0]), int(size[1])
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    return w, h


def nearest_indices(n_in: int, n_out: int) -> np.ndarray:
    """Source index of each output pixel, sampling pixel centres: ``floor((i + 0.5) * n_in / n_out)``.

    Exact integer arithmetic. PIL's ``NEAREST`` and OpenCV's ``INTER_NEAREST_EXACT`` pick the same pixels
    except where a centre falls exactly on a source pixel border, which their float / fixed-point scales
    round either way (here: the upper pixel, always). Checked in the tests.
    """
    i = np.arange(n_out, dtype=np.int64)
    return np.minimum(((2 * i + 1) * n_in) // (2 * n_out), n_in - 1)


def resize_codes(frames, size):
    """Nearest-neighbour resize of ``(..., H, W)`` frames to ``size = (W, H)`` (or an int: square).

    Keeps every output value one of the input values (TBR codes stay on their lattice).
    """
    w, h = _wh(size)
    if frames.ndim < 2:
        raise ValueError(f"frames must have shape (..., H, W), got {tuple(frames.shape)}")
    rows = nearest_indices(frames.shape[-2], h)
    cols = nearest_indices(frames.shape[-1], w)
    if isinstance(frames, np.ndarray):
        return np.ascontiguousarray(frames[..., rows[:, None], cols[None, :]])
    import torch

    r = torch.as_tensor(rows, device=frames.device)
    c = torch.as_tensor(cols, device=frames.device)
    return frames.index_select(-2, r).index_select(-1, c).contiguous()


def crop_box(frames, box, fill=0):
    """Crop ``(..., H, W)`` frames to ``box = (x, y, w, h)``; parts outside the frame are ``fill``.

    Returns ``(..., h, w)``: a box partly off the frame (a face at the border) keeps its size.
    """
    x, y, bw, bh = (int(round(float(v))) for v in box)
    if bw <= 0 or bh <= 0:
        raise ValueError(f"box (x, y, w, h) must have a positive size, got {tuple(box)}")
    H, W = frames.shape[-2], frames.shape[-1]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + bw, W), min(y + bh, H)
    if isinstance(frames, np.ndarray):
        out = np.full((*frames.shape[:-2], bh, bw), fill, dtype=frames.dtype)
    else:
        import torch

        out = torch.full((*frames.shape[:-2], bh, bw), fill, dtype=frames.dtype, device=frames.device)
    if x1 > x0 and y1 > y0:
        out[..., y0 - y:y1 - y, x0 - x:x1 - x] = frames[..., y0:y1, x0:x1]
    return out


def square_box(box, scale: float = 1.0, frame_size=None) -> tuple[int, int, int, int]:
    """A square ``(x, y, s, s)`` around a box's centre, side ``scale * max(w, h)``.

    With ``frame_size = (W, H)`` the square is shifted (and if needed shrunk) to lie inside the frame.
    """
    x, y, w, h = (float(v) for v in box)
    if w <= 0 or h <= 0 or scale <= 0:
        raise ValueError(f"box must have a positive size and scale > 0, got box={tuple(box)}, scale={scale}")
    side = int(round(scale * max(w, h)))
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    if frame_size is not None:
        fw, fh = _wh(frame_size)
        side = min(side, fw, fh)
        x0 = min(max(x0, 0), fw - side)
        y0 = min(max(y0, 0), fh - side)
    return x0, y0, side, side


def detect_face_box(gray: np.ndarray, min_size: int = 24):
    """Largest frontal face ``(x, y, w, h)`` in a uint8 gray image (OpenCV Haar cascade), or ``None``."""
    import cv2

    gray = np.asarray(gray)
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"detect_face_box needs a uint8 (H, W) gray image, got {gray.dtype} {gray.shape}")
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    faces = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(min_size, min_size))
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda f: int(f[2]) * int(f[3]))
    return int(x), int(y), int(w), int(h)
