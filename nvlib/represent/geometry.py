"""Geometry on the code lattice: nearest-neighbour resizing, the face box and face crops.

TBR values are bit words: interpolating two codes makes a word neither pixel had (bilinear 0 and 255
gives 127.5, i.e. events in every slice but the newest), so resizing here only ever copies source pixels.
Sizes are ``(W, H)`` like ``sensor_size`` (an int means a square). A face box is a :class:`FaceBox`
``(x0, y0, side)``: a square in pixels, top-left corner and side, the one box type of the package
(datasets, conversion and the crop transform all use it; OpenCV's ``(x, y, w, h)`` and detectors'
``(cx, cy, side)`` go through :meth:`FaceBox.from_xywh` / :meth:`FaceBox.from_centre`). All array functions
work on the last two axes ``(..., H, W)`` of numpy arrays or torch tensors, with any leading axes.
"""
from __future__ import annotations

import math
import numbers
from collections import namedtuple

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


def _pixel(name: str, v) -> int:
    """``v`` as an int pixel coordinate; integral floats pass, anything else is a clear error."""
    if isinstance(v, (bool, np.bool_)):
        raise ValueError(f"FaceBox {name} must be an integer pixel, got {v!r}")
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real) and math.isfinite(float(v)) and float(v).is_integer():
        return int(v)
    raise ValueError(f"FaceBox {name} must be an integer pixel, got {v!r} (round with FaceBox.from_centre or "
                     "FaceBox.from_xywh)")


class FaceBox(namedtuple("_FaceBoxFields", "x0 y0 side")):
    """A square face box in pixels: top-left corner ``(x0, y0)`` and ``side`` (> 0), all integers.

    The box covers columns ``x0 .. x0 + side - 1`` and rows ``y0 .. y0 + side - 1``; it may extend past the
    image (crops pad it). A tuple, so ``x0, y0, side = box`` and ``box == (x0, y0, side)`` work, and it
    pickles to worker processes. Conversions: :meth:`from_xywh` (OpenCV rectangles), :meth:`from_centre`
    (detections ``(cx, cy, side)``), :meth:`central` (the no-face fallback), :attr:`xywh`, :attr:`centre`.
    """

    __slots__ = ()

    def __new__(cls, x0, y0, side):
        x0, y0, side = _pixel("x0", x0), _pixel("y0", y0), _pixel("side", side)
        if side <= 0:
            raise ValueError(f"FaceBox side must be positive, got {side}")
        return super().__new__(cls, x0, y0, side)

    def _replace(self, **kw) -> "FaceBox":
        return FaceBox(**{**self._asdict(), **kw})

    @classmethod
    def _make(cls, iterable) -> "FaceBox":
        return cls(*iterable)

    @classmethod
    def coerce(cls, box) -> "FaceBox":
        """``box`` as a FaceBox: a FaceBox unchanged, a 3-sequence read as ``(x0, y0, side)``.

        A 4-sequence is refused (it is OpenCV's ``(x, y, w, h)``: use :meth:`from_xywh`), so the two
        conventions are never confused silently.
        """
        if isinstance(box, FaceBox):
            return box
        try:
            vals = tuple(box)
        except TypeError:
            raise ValueError(f"a face box must be a FaceBox or (x0, y0, side), got {box!r}") from None
        if len(vals) == 4:
            raise ValueError(f"a face box is (x0, y0, side); got 4 values {vals!r}: convert OpenCV's (x, y, w, h) "
                             "with FaceBox.from_xywh")
        if len(vals) != 3:
            raise ValueError(f"a face box is (x0, y0, side), got {len(vals)} value(s): {vals!r}")
        return cls(*vals)

    @classmethod
    def from_centre(cls, cx: float, cy: float, side: float, scale: float = 1.0, min_side: int = 1) -> "FaceBox":
        """The square of side ``max(round(side * scale), min_side)`` centred on ``(cx, cy)`` (a detection)."""
        cx, cy, side, scale = float(cx), float(cy), float(side), float(scale)
        if not (math.isfinite(cx) and math.isfinite(cy) and math.isfinite(side)):
            raise ValueError(f"face centre and side must be finite, got ({cx}, {cy}, {side})")
        if side <= 0 or scale <= 0:
            raise ValueError(f"face side and scale must be positive, got side={side}, scale={scale}")
        s = max(int(round(side * scale)), int(min_side))
        return cls(int(round(cx - s / 2)), int(round(cy - s / 2)), s)

    @classmethod
    def from_xywh(cls, x: float, y: float, w: float, h: float, scale: float = 1.0) -> "FaceBox":
        """The square around a rectangle's centre, side ``scale * max(w, h)`` (a square ``(x, y, s, s)``
        comes back unchanged at ``scale=1``)."""
        x, y, w, h = (float(v) for v in (x, y, w, h))
        if w <= 0 or h <= 0 or scale <= 0:
            raise ValueError(f"box (x, y, w, h) must have a positive size and scale > 0, got "
                             f"({x}, {y}, {w}, {h}), scale={scale}")
        return cls.from_centre(x + w / 2, y + h / 2, max(w, h), scale)

    @classmethod
    def central(cls, width: int, height: int, frac: float = 0.8) -> "FaceBox":
        """A central square of side ``frac * min(W, H)`` (at least 2): the fallback when no face is found."""
        if width <= 0 or height <= 0 or not 0 < frac <= 1:
            raise ValueError(f"need a positive frame size and 0 < frac <= 1, got {width}x{height}, frac={frac}")
        side = max(int(round(min(width, height) * frac)), 2)
        return cls((int(width) - side) // 2, (int(height) - side) // 2, side)

    @property
    def xywh(self) -> tuple[int, int, int, int]:
        """OpenCV's ``(x, y, w, h)`` of the box (``w == h == side``)."""
        return self.x0, self.y0, self.side, self.side

    @property
    def centre(self) -> tuple[float, float]:
        """``(cx, cy)``: the box centre in pixel coordinates (``x0 + side / 2``)."""
        return self.x0 + self.side / 2, self.y0 + self.side / 2

    def scaled(self, scale: float) -> "FaceBox":
        """The box grown (``scale > 1``) or shrunk about its centre."""
        cx, cy = self.centre
        return FaceBox.from_centre(cx, cy, self.side, scale)

    def inside(self, frame_size) -> "FaceBox":
        """The box shifted (and if needed shrunk to ``min(W, H)``) to lie inside a ``(W, H)`` frame."""
        fw, fh = _wh(frame_size)
        side = min(self.side, fw, fh)
        return FaceBox(min(max(self.x0, 0), fw - side), min(max(self.y0, 0), fh - side), side)

    def contains(self, x, y):
        """Whether pixels ``(x, y)`` (scalars or arrays) lie in the box."""
        x, y = np.asarray(x), np.asarray(y)
        return (x >= self.x0) & (x < self.x0 + self.side) & (y >= self.y0) & (y < self.y0 + self.side)

    def to_list(self) -> list[int]:
        """``[x0, y0, side]``: the JSON form (``info.json``, NEFER's ``face_boxes/*.json``)."""
        return [self.x0, self.y0, self.side]


def crop_box(frames, box, fill=0):
    """Crop ``(..., H, W)`` frames to a face ``box`` (:class:`FaceBox` or ``(x0, y0, side)``); parts outside
    the frame are ``fill``.

    Returns ``(..., side, side)``: a box partly off the frame (a face at the border) keeps its size. Values
    are copied, never interpolated (codes stay codes).
    """
    x, y, s = FaceBox.coerce(box)
    H, W = frames.shape[-2], frames.shape[-1]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + s, W), min(y + s, H)
    if isinstance(frames, np.ndarray):
        out = np.full((*frames.shape[:-2], s, s), fill, dtype=frames.dtype)
    else:
        import torch

        out = torch.full((*frames.shape[:-2], s, s), fill, dtype=frames.dtype, device=frames.device)
    if x1 > x0 and y1 > y0:
        out[..., y0 - y:y1 - y, x0 - x:x1 - x] = frames[..., y0:y1, x0:x1]
    return out
