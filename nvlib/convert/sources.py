"""One call per source: build the :class:`ConvertParams` and the jobs, then run the conversion.

``convert_afewva``, ``convert_synthetic``, ``convert_samples`` / ``convert_samples_result``,
``convert_nefer`` and ``convert_videos`` (a user's own clips) take plain keyword arguments (the command
line and the notebooks call them) and return a :class:`~nvlib.convert.runner.ConversionResult` (or the
cache folder). ``out_root`` defaults to ``data/converted``. ``groups``: "person" (the actor/user/person
in each clip, the default) or "clip" (every clip its own group; the folds are then not
subject-independent). ``max_skip``: the share of clips a run may skip before it fails
(:class:`~nvlib.convert.runner.ConversionError`).
"""
from __future__ import annotations

from pathlib import Path

from nvlib.convert.jobs import afewva_jobs, nefer_jobs, samples_jobs, synthetic_jobs
from nvlib.convert.params import ConvertParams, GeneratorParams
from nvlib.convert.runner import DEFAULT_MAX_SKIP, ConversionResult, cache_dir_for, run_conversion
from nvlib.datasets import cache as C

#: what the index of a samples cache says about its split
SAMPLES_NOTE = ("sample clips: every clip is its own group (six of the seven default clips show one CREMA-D "
                "actor, 1001), so the split is not subject-independent")


def _default_out() -> Path:
    from nvlib.workbook.paths import data_dir

    return data_dir() / "converted"


def _out(out_root) -> Path:
    return Path(out_root) if out_root is not None else _default_out()


def afewva_params(root, n_bits=8, delta_t_us=5000, size=128, fps=25.0, dvs="default", labels_kind="annotated",
                  upsample="auto", extra=None) -> ConvertParams:
    """The parameters :func:`convert_afewva` converts with (``source_root`` is the tree's folder name)."""
    return ConvertParams("afewva", n_bits=n_bits, delta_t_us=delta_t_us, size=size, dvs=dvs, upsample=upsample,
                         labels_kind=labels_kind, fps=fps, source_root=Path(root).name, extra=extra or ())


def convert_afewva(root, out_root=None, n_bits=8, delta_t_us=5000, size=128, fps=25.0, workers=0, shard=None,
                   progress=True, dvs="default", n_folds=5, split_seed=0, source="afew-va", extra=None,
                   labels_kind="annotated", upsample="auto", groups="person", max_skip=DEFAULT_MAX_SKIP,
                   _fail_after=None) -> ConversionResult:
    """Convert an AFEW-VA tree (real or synthetic layout); ``upsample`` as in :func:`nvlib.convert.jobs.upsampled`,
    ``extra`` further entries for ``params.json``."""
    params = afewva_params(root, n_bits, delta_t_us, size, fps, dvs, labels_kind, upsample, extra)
    return run_conversion(source, params, afewva_jobs(root, fps, groups), _out(out_root), workers, shard, progress,
                          n_folds, split_seed, grouping=groups, max_skip=max_skip, _fail_after=_fail_after)


def synthetic_params(n_clips=12, n_frames=48, size=64, n_bits=8, delta_t_us=5000, seed=0, fps=25.0, n_actors=None,
                     image_size=None) -> ConvertParams:
    """The parameters :func:`convert_synthetic` converts with (``image_size`` defaults to ``size``)."""
    gen = GeneratorParams(n_clips=n_clips, n_frames=n_frames, image_size=size if image_size is None else image_size,
                          seed=seed, fps=fps, n_actors=n_actors)
    return ConvertParams("synthetic", n_bits=n_bits, delta_t_us=delta_t_us, size=size, fps=fps, generator=gen)


def convert_synthetic(out_dir=None, n_clips=12, n_frames=48, size=64, n_bits=8, delta_t_us=5000, seed=0,
                      workers=0, fps=25.0, n_actors=None, progress=False, image_size=None, shard=None,
                      max_skip=DEFAULT_MAX_SKIP, _fail_after=None) -> Path:
    """Generate synthetic AFEW-VA faces (if needed) and convert them; returns the cache folder (reused
    when already complete)."""
    out_dir = _out(out_dir)
    params = synthetic_params(n_clips, n_frames, size, n_bits, delta_t_us, seed, fps, n_actors, image_size)
    cache_dir = cache_dir_for(out_dir, "synthetic-va", params)
    if C.is_complete(cache_dir):
        return cache_dir
    res = run_conversion("synthetic-va", params, synthetic_jobs(out_dir, params), out_dir, workers, shard, progress,
                         max_skip=max_skip, _fail_after=_fail_after)
    return res.cache_dir


def samples_params(n_bits=8, size=128, delta_t_us=5000, max_frames=None, label_source="acted") -> ConvertParams:
    """The parameters :func:`convert_samples_result` converts with."""
    return ConvertParams("samples", n_bits=n_bits, delta_t_us=delta_t_us, size=size, max_frames=max_frames,
                         label_source=label_source)


def convert_samples_result(out_root=None, names=None, n_bits=8, size=128, delta_t_us=5000, max_frames=None,
                           workers=0, progress=True, shard=None, label_source="acted",
                           max_skip=DEFAULT_MAX_SKIP) -> ConversionResult:
    """Convert the real sample clips (labels DERIVED, face boxes by Haar detection).

    The split is by clip (each clip its own group): six of the seven default clips show one actor, so a
    split by person would leave no validation or test clip. The index says so (``groups`` "clip",
    ``subject_independent`` false, ``note``)."""
    params = samples_params(n_bits, size, delta_t_us, max_frames, label_source)
    return run_conversion("samples", params, samples_jobs(names, groups="clip"), _out(out_root), workers, shard,
                          progress, grouping="clip", max_skip=max_skip, meta_extra={"note": SAMPLES_NOTE})


def convert_samples(out_dir=None, names=None, n_bits=8, size=128, delta_t_us=5000, max_frames=None, workers=0,
                    progress=False) -> Path:
    """Convert the real sample clips (labels DERIVED); returns the cache folder."""
    return convert_samples_result(out_dir, names, n_bits, size, delta_t_us, max_frames, workers, progress).cache_dir


def nefer_params(root, labels="expected", n_bits=8, delta_t_us=5000, size=128) -> ConvertParams:
    """The parameters :func:`convert_nefer` converts with."""
    return ConvertParams("nefer", n_bits=n_bits, delta_t_us=delta_t_us, size=size, nefer_labels=labels,
                         source_root=Path(root).name)


def convert_nefer(root, out_root=None, labels="expected", n_bits=8, delta_t_us=5000, size=128, workers=0,
                  shard=None, progress=True, annotations_dir=None, max_skip=DEFAULT_MAX_SKIP) -> ConversionResult:
    """Convert NEFER's real recordings (both splits). CSV problems and recordings that are missing or
    ambiguous are recorded as skipped sequences (and count towards ``max_skip``)."""
    params = nefer_params(root, labels, n_bits, delta_t_us, size)
    jobs, split_of, problems = nefer_jobs(root, labels, annotations_dir)
    if not jobs and not problems:
        raise ValueError(f"{root}: NEFER's annotation files list no sequence")
    left_out = [((pr.sequence.replace("/", "_").lstrip(".") or f"row{pr.row}"), f"{pr.file}:{pr.row}", pr.reason)
                for pr in problems]
    return run_conversion(f"nefer-{labels}", params, jobs, _out(out_root), workers, shard, progress,
                          fixed_splits=split_of, problems=left_out, max_skip=max_skip)


def videos_params(root, labelled: bool, n_bits=8, delta_t_us=5000, size=128, fps=None, max_frames=None,
                  detect_every=5) -> ConvertParams:
    """The parameters :func:`convert_videos` converts with (``labels_kind`` "user" with labels, else "none")."""
    return ConvertParams("videos", n_bits=n_bits, delta_t_us=delta_t_us, size=size, fps=fps, max_frames=max_frames,
                         detect_every=detect_every, labels_kind="user" if labelled else "none",
                         source_root=Path(root).name)


def convert_videos(root, out_root=None, labels=None, n_bits=8, delta_t_us=5000, size=128, fps=None,
                   max_frames=None, groups="person", workers=0, shard=None, progress=True, n_folds=5, split_seed=0,
                   max_skip=DEFAULT_MAX_SKIP) -> ConversionResult:
    """Convert a folder of the user's own videos (:mod:`nvlib.convert.videos`); ``labels``: a CSV of
    per-frame or per-clip valence and arousal (without it the cache holds no labels: inference only);
    ``fps`` overrides the files' own frame rate."""
    from nvlib.convert.videos import video_jobs

    jobs, problems = video_jobs(root, labels, groups if labels is not None else "clip")
    params = videos_params(root, labels is not None, n_bits, delta_t_us, size, fps, max_frames)
    extra = {"labels_file": Path(labels).name} if labels is not None else {}
    return run_conversion("videos", params, jobs, _out(out_root), workers, shard, progress, n_folds, split_seed,
                          problems=problems, grouping=groups if labels is not None else "clip", max_skip=max_skip,
                          meta_extra=extra)
