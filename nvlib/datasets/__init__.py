"""Datasets: AFEW-VA, NEFER, the real sample clips, a synthetic generator, label transfer, the converted cache.

Readers return documented records; :mod:`nvlib.convert` (a later stage) turns any of them into a cache of
TBR event frames + labels that :class:`FrameDataset` / :class:`ChunkDataset` read as torch datasets.
"""
from nvlib.datasets.afewva import AFEWVA, AFEWVAClip, AnnotationError
from nvlib.datasets.cache import CacheError, ChunkDataset, FrameDataset
from nvlib.datasets.labels import transfer_labels
from nvlib.datasets.nefer import NEFER
from nvlib.datasets.samples import CIRCUMPLEX, SampleClips
from nvlib.datasets.splits import group_kfold, group_split
from nvlib.datasets.synthetic import generate_synthetic_afewva, generate_synthetic_nefer

__all__ = ["AFEWVA", "AFEWVAClip", "AnnotationError", "NEFER", "SampleClips", "CIRCUMPLEX", "FrameDataset",
           "ChunkDataset", "CacheError", "transfer_labels",
           "group_kfold", "group_split", "generate_synthetic_afewva", "generate_synthetic_nefer"]
