"""Face boxes: from landmarks (AFEW-VA) or OpenCV Haar detection with temporal smoothing, and crops.

Boxes are :class:`~nvlib.represent.geometry.FaceBox` ``(x0, y0, side)`` in pixels: a square, top-left
corner and side. Detections (:func:`detect_faces`) are float rows ``(cx, cy, side)`` (NaN where no face
was found), turned into boxes by :meth:`FaceBox.from_centre`. This module holds the package's one face
detector. Crops that leave the image are padded with the border value (``cv2.BORDER_REPLICATE``), so every
crop has the same content scale whatever the box position.
"""
from __future__ import annotations

import numpy as np

from nvlib.represent.geometry import FaceBox


def landmark_box(landmarks: np.ndarray, margin: float = 0.25) -> FaceBox:
    """One square box for a whole clip, stable over time, from (T, 68, 2) (or (68, 2)) landmarks.

    Centre: the median over frames of the landmark bounding-box centres; side: the largest
    per-frame bounding-box side times ``1 + 2·margin`` (so the face keeps ``margin`` of its size
    free on each side and never leaves the box as the head moves a little).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim == 2:
        lm = lm[None]
    if lm.ndim != 3 or lm.shape[-1] != 2 or lm.shape[0] == 0 or lm.shape[1] == 0:
        raise ValueError(f"landmarks must be (T, K, 2) or (K, 2) points, got shape {np.shape(landmarks)}")
    if not np.all(np.isfinite(lm)):
        raise ValueError("landmarks contain NaN or infinite coordinates")
    lo, hi = lm.min(axis=1), lm.max(axis=1)  # (T, 2)
    centre = np.median((lo + hi) / 2, axis=0)
    return FaceBox.from_centre(centre[0], centre[1], max(float(np.max(hi - lo)), 1e-9), scale=1 + 2 * margin,
                               min_side=2)


def _cascade():
    import cv2

    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        raise ImportError(f"OpenCV {cv2.__version__} has no Haar cascades (OpenCV 5 dropped them): face "
                          "detection needs opencv-python-headless < 5, as the project pins")
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    c = cv2.CascadeClassifier(path)
    if c.empty():
        raise RuntimeError(f"cannot load OpenCV's Haar cascade {path}")
    return c


def detect_faces(frames: np.ndarray, every: int = 1, min_size_frac: float = 0.15, detect_side: int = 240
                 ) -> np.ndarray:
    """Haar face detection (Viola-Jones, ``haarcascade_frontalface_default``) on gray frames.

    ``frames`` (T, H, W) uint8; detection runs on every ``every``-th frame; the largest face is
    kept. Frames whose shorter side exceeds ``detect_side`` are downscaled for detection.
    Returns (T, 3) float detections ``(cx, cy, side)`` with NaN rows where nothing was found
    (or the frame was not examined); :meth:`FaceBox.from_centre` makes a box of a row. Raises
    ``ImportError`` naming the fix on an OpenCV without Haar cascades (OpenCV 5).
    """
    import cv2

    frames = np.asarray(frames)
    if frames.ndim != 3:
        raise ValueError(f"frames must be (T, H, W) gray, got {frames.shape}")
    c = _cascade()
    T, H, W = frames.shape
    out = np.full((T, 3), np.nan)
    scale = min(1.0, detect_side / min(H, W))  # detect on a downscaled copy (speed), report full-size boxes
    dsize = (max(1, int(round(W * scale))), max(1, int(round(H * scale))))
    ms = max(int(min(dsize) * min_size_frac), 20)
    for t in range(0, T, max(1, every)):
        img = frames[t] if scale == 1.0 else cv2.resize(frames[t], dsize, interpolation=cv2.INTER_AREA)
        faces = c.detectMultiScale(cv2.equalizeHist(img), scaleFactor=1.1, minNeighbors=5, minSize=(ms, ms))
        if len(faces):
            x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
            out[t] = ((x + w / 2) / scale, (y + h / 2) / scale, max(w, h) / scale)
    return out


def smooth_boxes(boxes: np.ndarray, window: int = 9) -> np.ndarray:
    """Temporal smoothing of (T, 3) boxes: NaN gaps filled by linear interpolation (ends held), then a
    centred running median of ``window`` frames. Raises ``ValueError`` when no frame has a box."""
    b = np.asarray(boxes, dtype=np.float64).copy()
    ok = np.all(np.isfinite(b), axis=1)
    if not ok.any():
        raise ValueError("no face found in any frame")
    t = np.arange(len(b))
    for k in range(b.shape[1]):
        b[:, k] = np.interp(t, t[ok], b[ok, k])
    h = max(window, 1) // 2
    pad = np.pad(b, ((h, h), (0, 0)), mode="edge")
    return np.stack([np.median(pad[i:i + 2 * h + 1], axis=0) for i in range(len(b))])


def clip_box_from_detections(boxes: np.ndarray, margin: float = 0.15) -> FaceBox:
    """One stable square :class:`FaceBox` for a clip from (T, 3) ``(cx, cy, side)`` detections, smoothed
    (:func:`smooth_boxes`): median centre, largest side times ``1 + 2·margin``."""
    b = smooth_boxes(boxes)
    return FaceBox.from_centre(np.median(b[:, 0]), np.median(b[:, 1]), np.max(b[:, 2]), scale=1 + 2 * margin,
                               min_side=2)


def detect_face(image: np.ndarray, scale: float = 1.0, min_size_frac: float = 0.15) -> FaceBox | None:
    """The largest face in one uint8 gray ``(H, W)`` image as a :class:`FaceBox` (side grown by ``scale``
    about the detection's centre), or ``None``: :func:`detect_faces` on a single frame."""
    image = np.asarray(image)
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"detect_face needs a uint8 (H, W) gray image, got {image.dtype} {image.shape}")
    det = detect_faces(image[None], every=1, min_size_frac=min_size_frac)[0]
    return FaceBox.from_centre(*det, scale=scale) if np.all(np.isfinite(det)) else None


def detect_clip_box(frames: np.ndarray, every: int = 5, margin: float = 0.15, max_detections: int = 24
                    ) -> FaceBox:
    """Haar detection every ``every`` frames (at most ``max_detections`` frames per clip) + smoothing ->
    one stable box for the clip."""
    every = max(int(every), -(-len(frames) // max(1, int(max_detections))))
    return clip_box_from_detections(detect_faces(frames, every=every), margin=margin)


def crop_resize(frames: np.ndarray, box: FaceBox, size: int) -> np.ndarray:
    """Crop the square ``box`` (:class:`FaceBox` or ``(x0, y0, side)``) from (T, H, W) uint8 frames (border
    replicated outside) and resize to (T, size, size) with ``cv2.INTER_AREA`` (downscale) or
    ``INTER_LINEAR`` (upscale)."""
    import cv2

    frames = np.asarray(frames)
    if frames.ndim != 3:
        raise ValueError(f"frames must be (T, H, W) gray, got {frames.shape}")
    x0, y0, side = FaceBox.coerce(box)
    T, H, W = frames.shape[:3]
    pl, pt = max(0, -x0), max(0, -y0)
    pr, pb = max(0, x0 + side - W), max(0, y0 + side - H)
    interp = cv2.INTER_AREA if side >= size else cv2.INTER_LINEAR
    out = np.empty((T, size, size), dtype=np.uint8)
    for t in range(T):
        f = frames[t]
        if pl or pt or pr or pb:
            f = cv2.copyMakeBorder(f, pt, pb, pl, pr, cv2.BORDER_REPLICATE)
        crop = f[y0 + pt:y0 + pt + side, x0 + pl:x0 + pl + side]
        out[t] = cv2.resize(crop, (size, size), interpolation=interp)
    return out


def centre_box(width: int, height: int, frac: float = 0.8) -> FaceBox:
    """A central square of side ``frac·min(W, H)``: the fallback when no face is found
    (:meth:`FaceBox.central`)."""
    return FaceBox.central(width, height, frac)


def clip_face_box(frames: np.ndarray, every: int = 5, margin: float = 0.15) -> tuple[FaceBox, str]:
    """One face box for a (T, H, W) uint8 gray clip and where it came from: Haar detections smoothed
    (:func:`detect_clip_box`, source ``"haar"``), else the central square of 0.8 of the shorter side
    (``"centre (no face detected)"``)."""
    try:
        return detect_clip_box(frames, every=every, margin=margin), "haar"
    except ValueError:
        return centre_box(frames.shape[2], frames.shape[1]), "centre (no face detected)"


def event_face_box(ev) -> tuple[FaceBox, str]:
    """Face box of an event recording (:class:`nvlib.events.Events`) and where it came from: Haar on the
    blurred log event-count image (side grown by 1.3, ``"haar (event-count image)"``), else a central
    square of 0.9 of the shorter side (``"centre (no face detected)"``). Used where a dataset ships no
    boxes (NEFER's repository has none)."""
    import cv2

    W, H = ev.sensor_size
    img = np.zeros((H, W), np.float64)
    np.add.at(img, (np.asarray(ev.y, np.int64), np.asarray(ev.x, np.int64)), 1.0)
    img = np.log1p(img)
    img = (255 * img / max(img.max(), 1e-9)).astype(np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 2)
    box = detect_face(img, scale=1.3)
    if box is not None:
        return box, "haar (event-count image)"
    return centre_box(W, H, 0.9), "centre (no face detected)"
