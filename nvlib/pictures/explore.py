"""Interactive event explorer for JupyterLab (ipywidgets): RGB frame, event frame and labels side by side.

Pick a recording or clip, scrub through its RGB frames, change Δt, N and the representation; the event
frame shown is the one *aligned* to the RGB frame (the window ``[t_k - N*Δt, t_k)`` ending at that frame's
time, as used for label transfer by Berlincioni et al.). Rendering goes through matplotlib's Agg canvas
into a PNG ``widgets.Image``, so the explorer also runs headless (nbmake, papermill, tests): every widget
callback can be driven programmatically with :meth:`EventExplorer.set`, and :attr:`EventExplorer.last`
holds what was drawn.

    from nvlib.pictures.explore import explore
    explore(["carphone"], max_frames=60)        # simulated events from the real sample clip
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import numpy as np

from nvlib.events import Events
from nvlib.represent import count_image, histogram, tbr_aligned, time_surface, voxel_grid
from nvlib.represent.windows import aligned_windows, frame_times_us

#: representations offered by the explorer (display name -> short description)
REPRESENTATIONS = {
    "tbr": "TBR code / (2^N - 1) over the N·Δt window (newest slice = MSB; shown with γ = 0.3)",
    "tbr (tonic order)": "TBR with the oldest slice as MSB (tonic's ToBinaRep)",
    "histogram": "ON minus OFF counts over the N·Δt window",
    "count": "event count over the N·Δt window",
    "time surface": "exp(-(t - t_last)/τ), τ = N·Δt / 4, both polarities",
    "voxel grid": "e2vid voxel grid with N bins over the window: every bin, oldest top left, row by row",
}


@dataclass
class Clip:
    """One recording for the explorer.

    Attributes:
        name: shown in the clip menu.
        events: the event stream (µs timestamps on the RGB clock).
        frames: RGB ``(T, H, W, 3)`` or gray ``(T, H, W)`` uint8 frames, or None (events only).
        fps: RGB frame rate (frame k at ``k / fps`` s) unless ``frame_times_us`` is given.
        labels: per-frame labels ``(T, K)`` (e.g. valence, arousal), or None.
        label_names: names of the K label columns.
        labels_kind: "annotated" or "derived" (shown in the labels panel title).
        frame_times_us: explicit RGB frame times (µs).
    """

    name: str
    events: Events
    frames: np.ndarray | None = None
    fps: float | None = None
    labels: np.ndarray | None = None
    label_names: tuple = ("valence", "arousal")
    labels_kind: str = "annotated"
    frame_times_us: np.ndarray | None = None
    _times: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.events, Events):
            raise TypeError(f"clip {self.name!r}: events must be nvlib.events.Events, got {type(self.events)}")
        if self.frame_times_us is not None:
            times = np.asarray(self.frame_times_us, dtype=np.int64)
        elif self.frames is not None and self.fps:
            times = frame_times_us(len(self.frames), self.fps)
        elif self.fps:
            n = int(self.events.t[-1] * self.fps // 1e6) + 1 if len(self.events) else 1
            times = frame_times_us(n, self.fps)
        else:
            raise ValueError(f"clip {self.name!r}: give fps or frame_times_us")
        if self.frames is not None and len(self.frames) != len(times):
            raise ValueError(f"clip {self.name!r}: {len(self.frames)} frames but {len(times)} frame times")
        if self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=np.float32).reshape(len(self.labels), -1)
            if len(self.labels) != len(times):
                raise ValueError(f"clip {self.name!r}: {len(self.labels)} label rows for {len(times)} frames")
        self._times = times

    @property
    def times_us(self) -> np.ndarray:
        """RGB frame times in µs (int64)."""
        return self._times

    @property
    def n_frames(self) -> int:
        return int(self._times.shape[0])


def clip_from_sample(name: str, max_frames: int | None = 60, params=None) -> Clip:
    """A :class:`Clip` from a real sample video (``nvlib.datasets.samples``): events simulated with
    :func:`nvlib.simulate.simulate_frames` from its gray frames, derived labels when
    :mod:`nvlib.datasets` knows the clip."""
    import cv2

    from nvlib.datasets import samples

    from nvlib.io.video import read_video
    from nvlib.simulate import DVSParams, simulate_frames

    rgb, fps = read_video(samples.sample_path(name), max_frames=max_frames)
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in rgb]) if rgb.ndim == 4 else rgb
    events = simulate_frames(gray, fps=fps, params=params or DVSParams())
    labels, kind = None, "derived"
    try:
        from nvlib.datasets.samples import derived_va

        labels, _ = derived_va(name, len(rgb))
    except (ImportError, KeyError):
        labels = None
    return Clip(name, events, rgb, float(fps), labels, labels_kind=kind)


def tile_bins(bins: np.ndarray, columns: int = 4) -> np.ndarray:
    """``(n, H, W)`` bins as one image: rows of ``columns`` bins (fewer when n is smaller), oldest top
    left, separated by one pixel of NaN (drawn blank); missing cells of the last row are NaN."""
    bins = np.asarray(bins, dtype=np.float32)
    n, H, W = bins.shape
    c = max(1, min(int(columns), n))
    r = -(-n // c)
    out = np.full((r * (H + 1) - 1, c * (W + 1) - 1), np.nan, np.float32)
    for i in range(n):
        y, x = divmod(i, c)
        out[y * (H + 1):y * (H + 1) + H, x * (W + 1):x * (W + 1) + W] = bins[i]
    return out


def render_events(clip: Clip, representation: str, end_us: int, delta_t_us: int, n_bits: int) -> np.ndarray:
    """The event image ``(H, W)`` float32 for the window of N·Δt µs ending at ``end_us``."""
    if representation not in REPRESENTATIONS:
        raise ValueError(f"unknown representation {representation!r}; choose from {list(REPRESENTATIONS)}")
    ev, size = clip.events, clip.events.sensor_size
    if representation in ("tbr", "tbr (tonic order)"):
        return tbr_aligned(ev, size, [end_us], delta_t_us, n_bits, msb_newest=representation == "tbr")[0]
    (start,), _ = aligned_windows([end_us], delta_t_us, n_bits)
    window = ev.time_slice(int(start), int(end_us))
    if representation == "histogram":
        h = histogram(window, size, n_bits * delta_t_us, n_frames=1, start_us=int(start))[0]
        return (h[1] - h[0]).astype(np.float32)
    if representation == "count":
        return count_image(window, size).astype(np.float32)
    if representation == "time surface":
        tau = max(1, n_bits * delta_t_us // 4)
        return time_surface(window, size, int(end_us), tau, polarity=False)
    return tile_bins(voxel_grid(window, size, n_bits))


class EventExplorer:
    """ipywidgets explorer over one or more :class:`Clip` (see the module docstring).

    Widgets: ``clip`` (Dropdown), ``frame`` (IntSlider, RGB frame index), ``delta_t_ms`` (FloatSlider),
    ``n_bits`` (IntSlider 1..16), ``representation`` (Dropdown); the picture is ``image`` (PNG) and the
    caption ``info``. Display it in a notebook by leaving it as the cell's last expression.
    """

    def __init__(self, clips, delta_t_ms: float = 5.0, n_bits: int = 8, representation: str = "tbr",
                 figsize=(12, 3.6)):
        import ipywidgets as w

        clips = list(clips.values()) if isinstance(clips, dict) else list(clips)
        if not clips:
            raise ValueError("EventExplorer needs at least one clip")
        self.clips = {c.name: c for c in clips}
        self.figsize = figsize
        self.last: dict = {}
        self._holding = False
        first = clips[0]
        self.clip = w.Dropdown(options=list(self.clips), value=first.name, description="clip")
        self.frame = w.IntSlider(value=min(first.n_frames - 1, 10), min=0, max=first.n_frames - 1,
                                 description="frame", continuous_update=False)
        self.delta_t_ms = w.FloatSlider(value=delta_t_ms, min=0.5, max=50.0, step=0.5, description="Δt (ms)",
                                        continuous_update=False)
        self.n_bits = w.IntSlider(value=n_bits, min=1, max=16, description="N bits", continuous_update=False)
        self.representation = w.Dropdown(options=list(REPRESENTATIONS), value=representation,
                                         description="repr.")
        self.image = w.Image(format="png")
        self.info = w.HTML()
        self.clip.observe(self._on_clip, names="value")
        for wid in (self.frame, self.delta_t_ms, self.n_bits, self.representation):
            wid.observe(self._on_change, names="value")
        controls = w.HBox([w.VBox([self.clip, self.representation]), w.VBox([self.frame, self.delta_t_ms]),
                           w.VBox([self.n_bits])])
        self.widget = w.VBox([controls, self.image, self.info])
        self.update()

    # -------------------------------------------------------------- callbacks
    def _on_clip(self, change) -> None:
        clip = self.clips[change["new"]]
        held, self._holding = self._holding, True
        try:
            self.frame.value = min(self.frame.value, clip.n_frames - 1)
            self.frame.max = clip.n_frames - 1
        finally:
            self._holding = held
        self._on_change(change)

    def _on_change(self, change) -> None:
        if not self._holding:
            self.update()

    def set(self, **values) -> "EventExplorer":
        """Set widget values by name (``clip``, ``frame``, ``delta_t_ms``, ``n_bits``, ``representation``),
        exactly as a user would; each change fires the widget's callback."""
        unknown = set(values) - {"clip", "frame", "delta_t_ms", "n_bits", "representation"}
        if unknown:
            raise KeyError(f"no explorer control named {sorted(unknown)}")
        self._holding = True
        try:  # the clip first: it resets the frame range
            for key in sorted(values, key=lambda k: k != "clip"):
                getattr(self, key).value = values[key]
        finally:
            self._holding = False
        self.update()
        return self

    # -------------------------------------------------------------- drawing
    def update(self) -> None:
        """Recompute the event frame for the current controls and redraw."""
        clip = self.clips[self.clip.value]
        k = int(self.frame.value)
        end = int(clip.times_us[k])
        dt = max(1, int(round(self.delta_t_ms.value * 1000)))
        n = int(self.n_bits.value)
        rep = self.representation.value
        img = render_events(clip, rep, end, dt, n)
        n_events = len(clip.events.time_slice(end - n * dt, end))
        self.last = {"clip": clip.name, "frame": k, "end_us": end, "delta_t_us": dt, "n_bits": n,
                     "representation": rep, "event_image": img, "n_events": n_events,
                     "labels": None if clip.labels is None else clip.labels[k]}
        self.image.value = self._draw(clip, k, img, rep)
        self.info.value = (f"<b>{clip.name}</b> frame {k}/{clip.n_frames - 1} at {end / 1e3:.1f} ms · window "
                           f"[{(end - n * dt) / 1e3:.1f}, {end / 1e3:.1f}) ms = {n} × {dt / 1e3:g} ms · "
                           f"{n_events} events · {REPRESENTATIONS[rep]}")

    def _draw(self, clip: Clip, k: int, img: np.ndarray, rep: str) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=self.figsize, dpi=80)
        FigureCanvasAgg(fig)
        ax_rgb, ax_ev, ax_lab = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.2]})
        if clip.frames is not None:
            fr = clip.frames[k]
            ax_rgb.imshow(fr, cmap="gray" if fr.ndim == 2 else None, vmin=0, vmax=255)
            ax_rgb.set_title(f"RGB frame {k}")
        else:
            ax_rgb.text(0.5, 0.5, "no RGB frames", ha="center", va="center")
        ax_rgb.axis("off")
        if rep == "histogram" or rep == "voxel grid":
            lim = float(np.nanmax(np.abs(img))) if np.isfinite(img).any() else 0.0
            lim = lim or 1.0
            ax_ev.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
        elif rep.startswith("tbr"):  # power-law scale: codes made of old (low) bits stay visible
            from matplotlib.colors import PowerNorm

            ax_ev.imshow(img, cmap="magma", norm=PowerNorm(0.3, 0, 1))
        else:
            ax_ev.imshow(img, cmap="magma", vmin=0, vmax=float(img.max()) if rep == "count" and img.max() else 1)
        ax_ev.set_title(rep)
        ax_ev.axis("off")
        if clip.labels is not None:
            for j in range(clip.labels.shape[1]):
                name = clip.label_names[j] if j < len(clip.label_names) else f"label {j}"
                ax_lab.plot(clip.labels[:, j], label=name)
            ax_lab.axvline(k, color="k", lw=1)
            ax_lab.set_ylim(-1.05, 1.05)
            ax_lab.set_xlabel("frame")
            ax_lab.legend(loc="upper right", fontsize=8)
            ax_lab.set_title(f"labels ({clip.labels_kind})")
        else:
            ax_lab.text(0.5, 0.5, "no labels", ha="center", va="center")
            ax_lab.axis("off")
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.15, top=0.88, wspace=0.15)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus the current picture as PNG and the caption as text: a saved or
        headless-executed notebook, where no widget state is kept, still shows what the explorer drew."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["image/png"] = base64.b64encode(bytes(self.image.value)).decode("ascii")  # as notebooks store it
        caption = self.info.value.replace("<b>", "").replace("</b>", "")
        bundle["text/plain"] = f"EventExplorer: {caption}"
        return bundle


def explore(clips=("carphone",), max_frames: int | None = 60, **kwargs) -> EventExplorer:
    """An :class:`EventExplorer` over ``clips``: :class:`Clip` objects or sample names (events simulated)."""
    built = [c if isinstance(c, Clip) else clip_from_sample(c, max_frames) for c in clips]
    return EventExplorer(built, **kwargs)
