"""Experiments: model configurations run over seeds, their per-seed results, the paper's numbers.

- :mod:`nvlib.experiments.run`: ``run_experiment`` (one training run: train, select on val, score on
  test), ``run_identity`` / ``run_id`` (cache content id, fold, model, settings, seed),
  ``data_provenance`` (what results and tables say about their data), ``fold_list``, ``make_datasets``;
- :mod:`nvlib.experiments.seeds`: ``Experiment`` (a configuration without its seed; ``fold="all"``
  runs every fold), ``run_seeds`` (train or reuse K seeds, one results file per run in
  ``results/``), ``run_many`` (several configurations in one pool of workers), ``find_results``;
- :mod:`nvlib.experiments.backbone`: ``pick_backbone`` (ImageNet, the same seed's frame ResNet18, or
  random init, found by configuration);
- :mod:`nvlib.experiments.presets`: ``workbook_experiment`` (the settings notebooks 03-05 share),
  ``workbook_cache`` (their data; no synthetic fallback where a real dataset is required);
- :mod:`nvlib.experiments.paper`: ``paper_results`` / ``paper_table`` (``params/paper_results.yaml``);
- :mod:`nvlib.experiments.cli`: the ``nvlib train`` command (one run; ``torchrun -m nvlib.experiments.cli``).

Tables and statistics over the per-seed results are in :mod:`nvlib.evaluation.tables` and
:mod:`nvlib.evaluation.stats`. This package builds on :mod:`nvlib.train` and
:mod:`nvlib.evaluation`; neither imports it.
"""
import importlib

#: exported name -> the module that defines it (imported on first use, so that ``nvlib train --help``
#: and other light entry points do not load torch)
_EXPORTS = {
    "pick_backbone": "backbone",
    **dict.fromkeys(["paper_at", "paper_notes", "paper_results", "paper_table"], "paper"),
    **dict.fromkeys(["FRAME_SETTINGS", "VIDEO_SETTINGS", "workbook_cache", "workbook_experiment"], "presets"),
    **dict.fromkeys(["data_provenance", "fold_list", "make_datasets", "run_experiment", "run_id", "run_identity"],
                    "run"),
    **dict.fromkeys(["DEFAULT_SEEDS", "Experiment", "ResultsConflictError", "SeedResults", "find_results",
                     "run_many", "run_seeds"], "seeds"),
}


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"nvlib.experiments.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nvlib.experiments' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = ["run_experiment", "run_id", "run_identity", "data_provenance", "fold_list", "make_datasets", "Experiment",
           "SeedResults", "ResultsConflictError", "run_seeds", "run_many", "find_results",
           "DEFAULT_SEEDS", "pick_backbone", "workbook_cache", "workbook_experiment", "FRAME_SETTINGS",
           "VIDEO_SETTINGS", "paper_results", "paper_table", "paper_at", "paper_notes"]
