"""Where a video model's ResNet18 backbone comes from (paper Sec. 4.1: a frozen ImageNet ResNet18).

No weights are downloaded. ``pick_backbone("auto", ...)`` takes ImageNet weights when the torch hub
cache holds torchvision's file, else the frame ResNet18 that the workbook trained (notebook 03) with
the same seed on the same dataset cache and fold, found by its configuration among the per-seed
results (:func:`nvlib.experiments.find_results`), else ``None`` (random init, trained end to end).
"""
from __future__ import annotations

import math
from pathlib import Path


def frame_resnet18_result(cache_dir, *, seed: int, fold: int | None = None, results_root=None):
    """``(results path, results document, best.pt)`` of the frame ResNet18 trained from random init on
    ``cache_dir`` (same content id, same fold, same seed) whose checkpoint still exists, or None. Several configurations (e.g. other epoch
    counts): the one with the best validation score (selected on val, never on test)."""
    from nvlib.experiments.seeds import find_results
    from nvlib.workbook.paths import repo_root

    from nvlib.datasets.cache import CacheError, cache_content_id

    try:
        cache_id = cache_content_id(cache_dir)
    except CacheError:
        return None
    found = find_results(results_root, model="resnet18", data=Path(cache_dir).name, cache_id=cache_id, fold=fold,
                         seed=int(seed), model_cfg={"weights": None})
    usable = []
    for path, doc in found:
        run = Path(doc.get("run_dir", ""))
        ck = (run if run.is_absolute() else repo_root() / run) / "best.pt"
        select = (doc.get("key") or {}).get("train", {}).get("select_metric", "rmse")
        value = doc.get("best_value")
        if ck.is_file() and select == "rmse" and isinstance(value, (int, float)) and not math.isnan(value):
            usable.append((float(value), path.name, path, doc, ck))
    if not usable:
        return None
    _, _, path, doc, ck = min(usable, key=lambda u: (u[0], u[1]))
    return path, doc, ck


def pick_backbone(choice, cache_dir=None, *, seed: int = 0, fold: int | None = None,
                  results_root=None) -> str | None:
    """The ResNet18 weights source for a video model's backbone.

    ``choice``: None/"random" (random init, trained end to end), "hub", "imagenet:<file>",
    "frame:<checkpoint>" (returned as given), or "auto": "hub" when the torch hub cache holds
    torchvision's ImageNet ResNet18, else ``"frame:<best.pt>"`` of :func:`frame_resnet18_result`
    (same cache, fold and seed), else None.
    """
    from nvlib.models import hub_resnet18_path

    if choice != "auto":
        return None if choice in (None, "random") else str(choice)
    if hub_resnet18_path() is not None:
        return "hub"
    if cache_dir is None:
        return None
    found = frame_resnet18_result(cache_dir, seed=seed, fold=fold, results_root=results_root)
    return f"frame:{found[2]}" if found else None
