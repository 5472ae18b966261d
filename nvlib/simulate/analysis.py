"""Measurements on simulated events that notebook 01 reports (paper Section 3 and Fig. 5).

- :func:`jpeg_frames`: re-encode gray frames as JPEG at a quality (the compression of AFEW-VA's movie
  clips, exaggerated), so that the simulator's response to 8x8 block artifacts can be measured;
- :func:`block_grid_stats`: how strongly events line up on an 8x8 block grid;
- :func:`event_stats`: event count, ON/OFF ratio, rates and active pixels of a stream;
- :func:`rate_trace` and :func:`rate_summary`: the event rate in fixed time bins and per pixel;
- :func:`same_pixel_polarity_counts`: whether two streams hold the same events per pixel and polarity.

Events are :class:`nvlib.events.Events` (or structured arrays with ``x, y, t, p``), times in µs,
``sensor_size = (W, H)``.
"""
from __future__ import annotations

import numpy as np

from nvlib.represent import count_image


def jpeg_frames(frames: np.ndarray, quality: int) -> np.ndarray:
    """(T, H, W) uint8 gray frames, each JPEG-encoded at ``quality`` (1-100) and decoded again."""
    import cv2

    q = int(quality)
    if not 1 <= q <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality!r}")
    out = []
    for f in np.asarray(frames):
        ok, buf = cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:
            raise ValueError(f"OpenCV could not JPEG-encode a frame of shape {f.shape}")
        out.append(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE))
    return np.stack(out)


def block_grid_stats(events, sensor_size, block: int = 8) -> tuple[dict, np.ndarray]:
    """Alignment of events on a ``block`` x ``block`` grid, and the (H, W) event-count image.

    Returns ``({"events", "boundary_share_x", "boundary_share_y", "boundary_vs_inner_cols"}, counts)``:
    the share of events whose x (y) lies on a block boundary (coordinate ≡ 0 or block-1 mod block:
    2/block of the columns, 0.25 for 8x8, when events ignore the grid), and the mean event count of
    boundary columns over that of inner columns (1 without a grid).
    """
    b = int(block)
    if b < 2:
        raise ValueError(f"block must be >= 2, got {block}")
    W, _ = (int(v) for v in sensor_size)
    x, y = np.asarray(events["x"]).astype(np.int64), np.asarray(events["y"]).astype(np.int64)
    edges = (0, b - 1)
    counts = count_image(events, sensor_size).astype(np.float64)
    col = counts.sum(0)
    edge_cols = np.isin(np.arange(W) % b, edges)
    inner = col[~edge_cols].mean() if (~edge_cols).any() else 0.0
    n = len(x)
    stats = {"events": int(n),
             "boundary_share_x": float(np.isin(x % b, edges).mean()) if n else float("nan"),
             "boundary_share_y": float(np.isin(y % b, edges).mean()) if n else float("nan"),
             "boundary_vs_inner_cols": float(col[edge_cols].mean() / max(inner, 1e-9))}
    return stats, counts


def event_stats(events, sensor_size, duration_s: float) -> tuple[dict, np.ndarray]:
    """Counts and rates of a stream over ``duration_s`` seconds, and its (H, W) event-count image.

    Keys: ``events``, ``ON/OFF`` (ON events per OFF event), ``rate (Mev/s)``, ``per pixel (ev/s)``
    (over all W·H pixels), ``active pixels (%)`` (pixels with at least one event).
    """
    if not duration_s > 0:
        raise ValueError(f"duration_s must be positive, got {duration_s!r}")
    W, H = (int(v) for v in sensor_size)
    n = len(events)
    n_on = int(np.count_nonzero(np.asarray(events["p"]) > 0))
    img = count_image(events, sensor_size)
    return {"events": int(n), "ON/OFF": n_on / max(n - n_on, 1), "rate (Mev/s)": n / duration_s / 1e6,
            "per pixel (ev/s)": n / duration_s / (W * H), "active pixels (%)": 100 * float((img > 0).mean())}, img


def rate_trace(t_us, end_us: int, bin_us: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """``(bin starts in µs, events per second in each bin)`` over ``[0, end_us]`` in bins of ``bin_us``."""
    if int(bin_us) <= 0:
        raise ValueError(f"bin_us must be positive, got {bin_us}")
    edges = np.arange(0, int(end_us) + int(bin_us), int(bin_us), dtype=np.int64)
    counts = np.histogram(np.asarray(t_us), edges)[0]
    return edges[:-1], counts / (int(bin_us) * 1e-6)


def rate_summary(events, sensor_size, duration_s: float, bin_us: int = 10_000) -> list[dict]:
    """Rows ``{"quantity", "value"}``: median and 95th percentile of the event rate in ``bin_us`` bins,
    the share of active pixels, and the median event rate of active pixels."""
    _, rate = rate_trace(events["t"], int(round(duration_s * 1e6)), bin_us)
    per_pixel = count_image(events, sensor_size).reshape(-1) / duration_s
    active = per_pixel[per_pixel > 0]
    ms = int(bin_us) // 1000
    return [{"quantity": f"events/s, {ms} ms bins: median", "value": float(np.median(rate))},
            {"quantity": f"events/s, {ms} ms bins: 95th percentile", "value": float(np.percentile(rate, 95))},
            {"quantity": "active pixels (%)", "value": 100 * float((per_pixel > 0).mean())},
            {"quantity": "events per active pixel per s: median",
             "value": float(np.median(active)) if active.size else float("nan")}]


def same_pixel_polarity_counts(a, b, sensor_size) -> bool:
    """True when streams ``a`` and ``b`` hold the same number of events at every pixel and polarity."""
    return bool(np.array_equal(count_image(a, sensor_size, polarity=True), count_image(b, sensor_size, polarity=True)))
