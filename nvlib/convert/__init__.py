"""Conversion, its own stage: datasets -> events -> representation frames + labels -> a dataset cache.

Per-source jobs and the resumable, parallel, shardable runner (:mod:`nvlib.convert.runner`), one-call
preparation for notebooks and tests (:mod:`nvlib.convert.prepare`) and ``nvlib convert``
(:mod:`nvlib.convert.cli`).
"""
from nvlib.convert.prepare import prepare_sample_clips, prepare_synthetic_va, resolve_va_cache
from nvlib.convert.runner import (ConversionResult, Job, afewva_jobs, clip_seed, convert_afewva, convert_nefer,
                                  convert_one, convert_samples, convert_samples_result, convert_synthetic,
                                  dvs_params, nefer_jobs, parse_shard, run_conversion, samples_jobs)

__all__ = ["ConversionResult", "Job", "afewva_jobs", "clip_seed", "convert_afewva", "convert_nefer", "convert_one",
           "convert_samples", "convert_samples_result", "convert_synthetic", "dvs_params", "nefer_jobs",
           "parse_shard", "prepare_sample_clips", "prepare_synthetic_va", "resolve_va_cache", "run_conversion",
           "samples_jobs"]
