"""Conversion, its own stage: datasets -> events -> representation frames + labels -> a dataset cache.

- :mod:`nvlib.convert.params`: :class:`ConvertParams`, every parameter of a conversion (typed, frozen,
  validated); its ``to_dict()`` is the cache's ``params.json`` and names the cache folder.
- :mod:`nvlib.convert.jobs`: per source (AFEW-VA, synthetic faces, sample clips, NEFER) the job builder and
  the conversion of one clip.
- :mod:`nvlib.convert.runner`: :func:`run_conversion`, resumable, parallel, shardable, and the index.
- :mod:`nvlib.convert.sources`: one call per source (``convert_afewva`` ...); :mod:`nvlib.convert.prepare`:
  one-call preparation for notebooks and tests; :mod:`nvlib.convert.cli`: ``nvlib convert``.
- :mod:`nvlib.convert.videos`: a user's own videos and labels CSV; :mod:`nvlib.convert.identity`: the
  source digest that decides whether a converted clip is still current.
"""
from nvlib.convert.jobs import (GROUPINGS, STAGES, Job, SkipClip, afewva_jobs, convert_clip, nefer_jobs,
                                samples_jobs, synthetic_jobs, upsampled)
from nvlib.convert.params import ConvertParams, GeneratorParams, as_params, clip_seed, dvs_params
from nvlib.convert.prepare import prepare_sample_clips, prepare_synthetic_va, resolve_va_cache
from nvlib.convert.runner import (DEFAULT_MAX_SKIP, ConversionError, ConversionResult, cache_dir_for, convert_one,
                                  open_cache, parse_shard, run_conversion)
from nvlib.convert.sources import (afewva_params, convert_afewva, convert_nefer, convert_samples,
                                   convert_samples_result, convert_synthetic, convert_videos, nefer_params,
                                   samples_params, synthetic_params, videos_params)

__all__ = ["ConversionError", "ConversionResult", "ConvertParams", "DEFAULT_MAX_SKIP", "GROUPINGS",
           "GeneratorParams", "Job", "STAGES", "SkipClip", "afewva_jobs", "afewva_params", "as_params",
           "cache_dir_for", "clip_seed", "convert_afewva", "convert_clip", "convert_nefer", "convert_one",
           "convert_samples", "convert_samples_result", "convert_synthetic", "convert_videos", "dvs_params",
           "nefer_jobs", "nefer_params", "open_cache", "parse_shard", "prepare_sample_clips",
           "prepare_synthetic_va", "resolve_va_cache", "run_conversion", "samples_jobs", "samples_params",
           "synthetic_jobs", "synthetic_params", "upsampled", "videos_params"]
