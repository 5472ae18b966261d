"""One-call dataset preparation for notebooks and tests: generate/convert once, reuse afterwards."""
from __future__ import annotations

from pathlib import Path


def prepare_synthetic_va(out_dir=None, n_clips: int = 12, n_frames: int = 48, size: int = 64, n_bits: int = 8,
                         delta_t_us: int = 5000, seed: int = 0, workers: int = 0, fps: float = 25.0,
                         n_actors: int | None = None, progress: bool = False) -> Path:
    """Synthetic AFEW-VA-layout faces -> DVS simulation -> TBR -> cache; returns the cache folder.

    ``out_dir`` defaults to ``data/converted``. The generated AFEW-VA tree goes to
    ``<out_dir>/synthetic_afewva_n<clips>_f<frames>_s<size>_seed<seed>``; the cache folder name carries the
    parameters, so a finished cache with the same parameters is reused (idempotent). Labels are the
    generator's known valence/arousal (``labels_kind="annotated"``: exact ground truth of the generator).
    """
    from nvlib.convert import convert_synthetic

    return convert_synthetic(out_dir, n_clips=n_clips, n_frames=n_frames, size=size, n_bits=n_bits,
                             delta_t_us=delta_t_us, seed=seed, workers=workers, fps=fps, n_actors=n_actors,
                             progress=progress)


def prepare_sample_clips(out_dir=None, names=None, n_bits: int = 8, size: int = 128, delta_t_us: int = 5000,
                         max_frames: int | None = None, workers: int = 0, progress: bool = False) -> Path:
    """The real sample clips (``nvlib samples``) -> faces -> simulation -> TBR -> cache, labels DERIVED.

    ``names`` defaults to the clips with derivable labels (six CREMA-D clips and the Pexels clip).
    Returns the cache folder (reused when finished with the same parameters).
    """
    from nvlib.convert import convert_samples

    return convert_samples(out_dir, names=names, n_bits=n_bits, size=size, delta_t_us=delta_t_us,
                           max_frames=max_frames, workers=workers, progress=progress)


def resolve_va_cache(cache_dir=None, afewva_root=None, *, n_clips: int = 64, n_frames: int = 16, size: int = 32,
                     n_bits: int = 8, seed: int = 0, progress: bool = False) -> Path:
    """The valence-arousal cache a training notebook uses: ``cache_dir`` as given, else AFEW-VA at
    ``afewva_root`` converted once (the paper's data), else the synthetic faces
    (:func:`prepare_synthetic_va`)."""
    if cache_dir is not None:
        path = Path(cache_dir)
        if not path.is_dir():
            raise FileNotFoundError(f"{path}: no such dataset cache (make one with `nvlib convert`)")
        return path
    if afewva_root is not None:
        from nvlib.convert import convert_afewva

        return convert_afewva(afewva_root, n_bits=n_bits, size=size, progress=progress).cache_dir
    return prepare_synthetic_va(n_clips=n_clips, n_frames=n_frames, size=size, n_bits=n_bits, seed=seed,
                                progress=progress)
