"""The parameters of one conversion: a typed, frozen, validated :class:`ConvertParams`.

Everything that changes a converted cache's content is a field; :meth:`ConvertParams.to_dict` is the
exact ``params.json`` of the cache and feeds its folder name
(:func:`nvlib.datasets.cache.cache_name`: ``<source>_tbr<N>b_dt<Δt>us_s<S>_<hash8>``). The keys written
depend on the source ``kind`` and are the ones the converter has always written, so caches made before
this class existed keep their folder names and are resumed, not reconverted (pinned in the tests):

===========  ==================================================================================
kind         keys besides the common ones (representation, n_bits, delta_t_us, size, dvs,
             dvs_seed, margin, windows, upsample, labels_kind)
===========  ==================================================================================
afewva       fps, source_root, and any ``extra`` keys
synthetic    fps, source_root, generator (:class:`GeneratorParams`)
samples      max_frames, label_source, detect_every
nefer        nefer_labels, source_root
videos       source_root, max_frames, detect_every, fps (None: each file's own frame rate)
===========  ==================================================================================

Fields that do not apply to a kind must be left ``None`` (an error says which); ``None`` for a field
that does apply takes the kind's default (``margin`` 0.25, samples and videos 0.15; ``labels_kind``
"annotated" for AFEW-VA and synthetic, "derived" for samples and NEFER; ``fps`` 25; ``label_source``
"acted"; ``detect_every`` 5; ``nefer_labels`` "expected"; ``source_root`` "synthetic" for synthetic
faces). A user's own videos (kind "videos") have ``labels_kind`` "user" (labels from the user's CSV) or
"none" (no labels: a cache for inference), always given.
"""
from __future__ import annotations

import dataclasses
import json
import math
import numbers
import zlib
from dataclasses import dataclass
from typing import Any, Mapping

KINDS = ("afewva", "synthetic", "samples", "nefer", "videos")
#: ``dvs`` values: the simulator's defaults or one of v2e's presets (:meth:`nvlib.simulate.DVSParams.preset`).
DVS_PRESETS = ("default", "clean", "noisy")
LABELS_KINDS = ("annotated", "derived", "user", "none")
#: labels of a user's own videos: from their CSV, or none (a cache for inference)
VIDEO_LABELS_KINDS = ("user", "none")
LABEL_SOURCES = ("acted", "perceived")
NEFER_LABELS = ("expected", "reported")

_COMMON = ("representation", "n_bits", "delta_t_us", "size", "dvs", "dvs_seed", "margin", "windows", "upsample",
           "labels_kind")
_KIND_KEYS = {"afewva": ("fps", "source_root"), "synthetic": ("fps", "source_root", "generator"),
              "samples": ("max_frames", "label_source", "detect_every"), "nefer": ("nefer_labels", "source_root"),
              "videos": ("source_root", "max_frames", "detect_every", "fps")}
_OPTIONAL = ("fps", "source_root", "generator", "max_frames", "label_source", "detect_every", "nefer_labels")
#: which job kind (:class:`nvlib.convert.jobs.Job`) converts the clips of each parameter kind
JOB_KIND = {"afewva": "afewva", "synthetic": "afewva", "samples": "samples", "nefer": "nefer", "videos": "videos"}


def _int(name: str, v, minimum: int | None = None) -> int:
    if isinstance(v, bool) or v is None:
        raise ValueError(f"{name} must be an integer, got {v!r}")
    if isinstance(v, numbers.Integral):
        out = int(v)
    elif isinstance(v, numbers.Real) and math.isfinite(float(v)) and float(v).is_integer():
        out = int(v)
    elif isinstance(v, str) and v.strip().lstrip("-").isdigit():
        out = int(v)
    else:
        raise ValueError(f"{name} must be an integer, got {v!r}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {out}")
    return out


def _float(name: str, v, positive: bool = False, minimum: float | None = None) -> float:
    if isinstance(v, bool) or not isinstance(v, (numbers.Real, str)):
        raise ValueError(f"{name} must be a number, got {v!r}")
    try:
        out = float(v)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {v!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {v!r}")
    if positive and out <= 0:
        raise ValueError(f"{name} must be > 0, got {out}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {out}")
    return out


def _choice(name: str, v, choices) -> str:
    if v not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {v!r}")
    return v


@dataclass(frozen=True)
class GeneratorParams:
    """The synthetic AFEW-VA generator's settings (:func:`nvlib.datasets.synthetic.generate_synthetic_afewva`)."""

    n_clips: int = 12
    n_frames: int = 48
    image_size: int = 64
    seed: int = 0
    fps: float = 25.0
    n_actors: int | None = None

    def __post_init__(self):
        s = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        s("n_clips", _int("generator n_clips", self.n_clips, 1))
        s("n_frames", _int("generator n_frames", self.n_frames, 2))
        s("image_size", _int("generator image_size", self.image_size, 8))
        s("seed", _int("generator seed", self.seed))
        s("fps", _float("generator fps", self.fps, positive=True))
        if self.n_actors is not None:
            s("n_actors", _int("generator n_actors", self.n_actors, 1))

    def to_dict(self) -> dict:
        return {"n_clips": self.n_clips, "n_frames": self.n_frames, "image_size": self.image_size,
                "seed": self.seed, "fps": self.fps, "n_actors": self.n_actors}

    @classmethod
    def from_dict(cls, d: Mapping) -> "GeneratorParams":
        if not isinstance(d, Mapping):
            raise ValueError(f"generator must be a mapping of generator settings, got {d!r}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"generator: unknown key(s) {unknown}; known: {sorted(known)}")
        return cls(**d)

    @property
    def tree_name(self) -> str:
        """Folder of the generated AFEW-VA tree (beside the caches)."""
        return f"synthetic_afewva_n{self.n_clips}_f{self.n_frames}_s{self.image_size}_seed{self.seed}"


@dataclass(frozen=True)
class ConvertParams:
    """Every parameter of a conversion, validated when made (see the module docstring).

    ``kind``: the source ("afewva", "synthetic", "samples", "nefer", "videos": a user's own clips).
    ``n_bits``: TBR bits N (1..16); ``delta_t_us``: TBR slice Δt; ``size``: face crop side S (>= 8); ``dvs``: simulator preset and
    ``dvs_seed`` its base seed (each clip's seed mixes it with the clip id, :func:`clip_seed`);
    ``margin``: free border around the face (fraction of its size, each side); ``upsample``: "auto" or an
    integer factor >= 1 of optical-flow upsampling before simulation; ``labels_kind``: "annotated" or
    "derived" ("user" or "none" for videos). Source fields: ``fps`` (AFEW-VA frame rate; for videos an
    override of the files' own rate, or None), ``source_root`` (name of the dataset folder),
    ``generator``, ``max_frames`` / ``label_source`` / ``detect_every`` (sample clips; videos: the first
    two), ``nefer_labels``;
    ``extra``: further ``(key, value)`` pairs written to ``params.json`` (AFEW-VA only; a mapping is accepted).
    """

    kind: str
    n_bits: int = 8
    delta_t_us: int = 5000
    size: int = 128
    dvs: str = "default"
    dvs_seed: int = 0
    margin: float | None = None
    upsample: int | str = "auto"
    labels_kind: str | None = None
    fps: float | None = None
    source_root: str | None = None
    generator: GeneratorParams | None = None
    max_frames: int | None = None
    label_source: str | None = None
    detect_every: int | None = None
    nefer_labels: str | None = None
    extra: tuple = ()
    representation: str = "tbr"
    windows: str = "consecutive"

    def __post_init__(self):
        s = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        kind = _choice("kind", self.kind, KINDS)
        applies = _KIND_KEYS[kind]
        for name in _OPTIONAL:
            if name not in applies and getattr(self, name) is not None:
                raise ValueError(f"{name} does not apply to {kind} conversions (it applies to "
                                 f"{', '.join(k for k, v in _KIND_KEYS.items() if name in v)}); leave it None")
        _choice("representation", self.representation, ("tbr",))
        _choice("windows", self.windows, ("consecutive",))
        n_bits = _int("n_bits", self.n_bits)
        if not 1 <= n_bits <= 16:
            raise ValueError(f"n_bits must be in 1..16 (TBR codes are stored as uint8/uint16), got {n_bits}")
        s("n_bits", n_bits)
        s("delta_t_us", _int("delta_t_us", self.delta_t_us, 1))
        s("size", _int("size", self.size, 8))
        _choice("dvs", self.dvs, DVS_PRESETS)
        s("dvs_seed", _int("dvs_seed", self.dvs_seed))
        default_margin = 0.15 if kind in ("samples", "videos") else 0.25
        s("margin", _float("margin", default_margin if self.margin is None else self.margin, minimum=0.0))
        up = self.upsample
        if not (up == "auto" or (not isinstance(up, bool) and str(up).isdigit() and int(up) >= 1)):
            raise ValueError(f"upsample must be 'auto' or an integer factor >= 1, got {up!r}")
        s("upsample", "auto" if up == "auto" else int(up))
        if kind == "videos":
            if self.labels_kind is None:
                raise ValueError("videos conversions need labels_kind 'user' (labels from a CSV) or 'none' "
                                 "(no labels: a cache for inference)")
            _choice("labels_kind", self.labels_kind, VIDEO_LABELS_KINDS)
            if self.fps is not None:
                s("fps", _float("fps", self.fps, positive=True))
        else:
            default_labels = "annotated" if kind in ("afewva", "synthetic") else "derived"
            labels_kind = _choice("labels_kind", default_labels if self.labels_kind is None else self.labels_kind,
                                  LABELS_KINDS)
            if kind != "afewva" and labels_kind != default_labels:
                raise ValueError(f"labels_kind of {kind} conversions is {default_labels!r}, got {labels_kind!r}")
            if labels_kind in VIDEO_LABELS_KINDS:
                raise ValueError(f"labels_kind {labels_kind!r} is for videos conversions; {kind} takes "
                                 "'annotated' or 'derived'")
            s("labels_kind", labels_kind)
        if kind in ("afewva", "synthetic"):
            s("fps", _float("fps", 25.0 if self.fps is None else self.fps, positive=True))
        if kind == "synthetic":
            gen = self.generator
            if gen is None:
                gen = GeneratorParams(fps=self.fps)
            elif isinstance(gen, Mapping):
                gen = GeneratorParams.from_dict(gen)
            elif not isinstance(gen, GeneratorParams):
                raise ValueError(f"generator must be GeneratorParams or a mapping, got {gen!r}")
            if gen.fps != self.fps:
                raise ValueError(f"fps {self.fps} differs from the generator's fps {gen.fps}")
            s("generator", gen)
            s("source_root", "synthetic" if self.source_root is None else self.source_root)
        if kind in ("afewva", "nefer", "videos") and self.source_root is None:
            raise ValueError(f"{kind} conversions need source_root (the name of the dataset folder)")
        if self.source_root is not None and not isinstance(self.source_root, str):
            raise ValueError(f"source_root must be a folder name (str), got {self.source_root!r}")
        if kind in ("samples", "videos"):
            if self.max_frames is not None:
                s("max_frames", _int("max_frames", self.max_frames, 2))
            s("detect_every", _int("detect_every", 5 if self.detect_every is None else self.detect_every, 1))
        if kind == "samples":
            s("label_source", _choice("label_source", "acted" if self.label_source is None else self.label_source,
                                      LABEL_SOURCES))
        if kind == "nefer":
            s("nefer_labels", _choice("nefer_labels", "expected" if self.nefer_labels is None else self.nefer_labels,
                                      NEFER_LABELS))
        s("extra", self._check_extra(kind, self.extra))

    @staticmethod
    def _check_extra(kind: str, extra) -> tuple:
        if extra is None:
            return ()
        if isinstance(extra, Mapping):
            items = tuple(extra.items())
        elif isinstance(extra, (tuple, list)):
            items = tuple(tuple(p) if isinstance(p, (tuple, list)) else (p,) for p in extra)
        else:
            raise ValueError(f"extra must be a mapping or (key, value) pairs, got {extra!r}")
        if items and kind != "afewva":
            raise ValueError(f"extra parameters apply to afewva conversions only, got "
                             f"{[p[0] for p in items if p]} for {kind}")
        names = {f.name for f in dataclasses.fields(ConvertParams)}
        seen, out = set(), []
        for pair in items:
            if len(pair) != 2 or not isinstance(pair[0], str):
                raise ValueError(f"extra must be a mapping or (key, value) pairs with string keys, got {pair!r}")
            k, v = pair
            if k in names or k in seen:
                raise ValueError(f"extra key {k!r} {'is a parameter' if k in names else 'is repeated'}; "
                                 "set the parameter itself")
            seen.add(k)
            try:  # stored as params.json will read it back (tuples become lists)
                out.append((k, json.loads(json.dumps(v, allow_nan=False))))
            except (TypeError, ValueError) as e:
                raise ValueError(f"extra value of {k!r} must be JSON (numbers, strings, lists, dicts): {e}") from None
        return tuple(sorted(out))

    # ------------------------------------------------------------------ conversions
    def to_dict(self) -> dict:
        """The ``params.json`` content: the common keys, the kind's keys and ``extra`` (JSON values only)."""
        d = {k: getattr(self, k) for k in _COMMON}
        for k in _KIND_KEYS[self.kind]:
            v = getattr(self, k)
            d[k] = v.to_dict() if isinstance(v, GeneratorParams) else v
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> "ConvertParams":
        """Read a ``params.json`` (or :meth:`to_dict`) back; the kind is told by its keys."""
        if not isinstance(d, Mapping):
            raise ValueError(f"conversion parameters must be a mapping, got {type(d).__name__}")
        kind = ("videos" if d.get("labels_kind") in VIDEO_LABELS_KINDS else
                "synthetic" if "generator" in d else "nefer" if "nefer_labels" in d else
                "samples" if "label_source" in d or "detect_every" in d else "afewva" if "fps" in d else None)
        if kind is None:
            raise ValueError(f"cannot tell the source of these parameters (keys {sorted(d)}): expected fps, "
                             "generator, label_source or nefer_labels")
        allowed = set(_COMMON) | set(_KIND_KEYS[kind])
        missing = sorted(k for k in _COMMON + _KIND_KEYS[kind] if k not in d)
        if missing:
            raise ValueError(f"{kind} parameters lack {missing}")
        unknown = {k: v for k, v in d.items() if k not in allowed}
        if unknown and kind != "afewva":
            raise ValueError(f"{kind} parameters: unknown key(s) {sorted(unknown)}")
        return cls(kind=kind, extra=unknown, **{k: d[k] for k in allowed})

    def replace(self, **changes) -> "ConvertParams":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def job_kind(self) -> str:
        """The :class:`~nvlib.convert.jobs.Job` kind whose clips these parameters convert."""
        return JOB_KIND[self.kind]

    @property
    def window_us(self) -> int:
        """One TBR frame's span ``N·Δt`` (µs)."""
        return self.n_bits * self.delta_t_us

    def dvs_params(self, clip: str):
        """The simulator parameters of one clip: the ``dvs`` preset with the clip's seed."""
        from nvlib.simulate import DVSParams

        p = DVSParams() if self.dvs == "default" else DVSParams.preset(self.dvs)
        return p.replace(seed=clip_seed(clip, self.dvs_seed))


def as_params(params: ConvertParams | Mapping[str, Any]) -> ConvertParams:
    """``params`` as :class:`ConvertParams` (a ``params.json``-style mapping is read with ``from_dict``)."""
    if isinstance(params, ConvertParams):
        return params
    if isinstance(params, Mapping):
        return ConvertParams.from_dict(params)
    raise TypeError(f"conversion parameters must be ConvertParams or a mapping, got {type(params).__name__}")


def clip_seed(clip: str, base: int = 0) -> int:
    """Deterministic non-zero simulator seed of a clip (CRC32 of its id, mixed with ``base``)."""
    return (zlib.crc32(f"{base}:{clip}".encode()) & 0x7FFFFFFF) or 1


def dvs_params(params: ConvertParams | Mapping, clip: str):
    """:meth:`ConvertParams.dvs_params` (kept as a function: ``dvs_params(params, clip)``)."""
    return as_params(params).dvs_params(clip)
