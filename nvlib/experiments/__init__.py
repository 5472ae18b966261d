"""Experiments: model configurations run over seeds, their per-seed results, the paper's numbers.

- :mod:`nvlib.experiments.run`: ``run_experiment`` (one training run: train, select on val, score on
  test), ``run_id``, ``make_datasets``;
- :mod:`nvlib.experiments.seeds`: ``Experiment`` (a configuration without its seed), ``run_seeds``
  (train or reuse K seeds, one results file per seed in ``results/``), ``run_many`` (several
  configurations in one pool of workers), ``find_results``;
- :mod:`nvlib.experiments.backbone`: ``pick_backbone`` (ImageNet, the same seed's frame ResNet18, or
  random init, found by configuration);
- :mod:`nvlib.experiments.presets`: ``workbook_experiment`` (the settings notebooks 03-05 share);
- :mod:`nvlib.experiments.paper`: ``paper_results`` / ``paper_table`` (``params/paper_results.yaml``);
- :mod:`nvlib.experiments.cli`: the ``nvlib train`` command (one run; ``torchrun -m nvlib.experiments.cli``).

Tables and statistics over the per-seed results are in :mod:`nvlib.evaluation.tables` and
:mod:`nvlib.evaluation.stats`. This package builds on :mod:`nvlib.train` and
:mod:`nvlib.evaluation`; neither imports it.
"""
from nvlib.experiments.backbone import pick_backbone
from nvlib.experiments.paper import paper_at, paper_notes, paper_results, paper_table
from nvlib.experiments.presets import FRAME_SETTINGS, VIDEO_SETTINGS, workbook_experiment
from nvlib.experiments.run import make_datasets, run_experiment, run_id
from nvlib.experiments.seeds import DEFAULT_SEEDS, Experiment, SeedResults, find_results, run_many, run_seeds

__all__ = ["run_experiment", "run_id", "make_datasets", "Experiment", "SeedResults", "run_seeds", "run_many", "find_results",
           "DEFAULT_SEEDS", "pick_backbone", "workbook_experiment", "FRAME_SETTINGS", "VIDEO_SETTINGS",
           "paper_results", "paper_table", "paper_at", "paper_notes"]
