"""Datasets: AFEW-VA, NEFER, the real sample clips, a synthetic generator, label transfer, the converted cache.

Readers return documented records; :mod:`nvlib.convert` turns any of them into a cache of
TBR event frames + labels that :class:`FrameDataset` / :class:`ChunkDataset` read as torch datasets.
"""
from .afewva import AFEWVA, AFEWVAClip, AnnotationError
from .cache import CacheError, ChunkDataset, FrameDataset
from .labels import transfer_labels
from .nefer import NEFER
from .prepare import prepare_sample_clips, prepare_synthetic_va, resolve_va_cache
from .samples import CIRCUMPLEX, SampleClips
from .splits import group_kfold, group_split
from .synthetic import generate_synthetic_afewva, generate_synthetic_nefer

__all__ = ["AFEWVA", "AFEWVAClip", "AnnotationError", "NEFER", "SampleClips", "CIRCUMPLEX", "FrameDataset",
           "ChunkDataset", "CacheError", "prepare_synthetic_va", "prepare_sample_clips", "resolve_va_cache", "transfer_labels",
           "group_kfold", "group_split", "generate_synthetic_afewva", "generate_synthetic_nefer"]
