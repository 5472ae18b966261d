"""Multi-process training through torchrun and ``torch.nn.parallel.DistributedDataParallel``.

Launch: ``torchrun --nproc_per_node=K -m nvlib.cli train ...`` (or ``--nnodes``/``--rdzv-endpoint``
for several nodes). torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR/PORT``;
``init_from_env`` joins the process group (NCCL on CUDA, gloo on CPU). Without those variables
everything runs in a single process.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_from_env(device: torch.device) -> DistInfo:
    """Join the torchrun process group when ``WORLD_SIZE > 1`` (idempotent)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def resolve_device(name: str = "auto") -> torch.device:
    """"auto" -> this process's GPU (``LOCAL_RANK``) when CUDA is available, else CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return torch.device("cpu")
    return torch.device(name)


def wrap(model: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """DistributedDataParallel around ``model`` when running distributed, else ``model``."""
    if not info.enabled:
        return model
    if device.type == "cuda":
        return nn.parallel.DistributedDataParallel(model, device_ids=[device.index])
    return nn.parallel.DistributedDataParallel(model)


def all_reduce_mean(value: float, info: DistInfo, device: torch.device) -> float:
    """Mean of a scalar across ranks (identity when single-process)."""
    if not info.enabled:
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item()) / info.world_size


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def shutdown() -> None:
    """Leave the process group (call once at the end of a torchrun script)."""
    if dist.is_initialized():
        dist.destroy_process_group()
