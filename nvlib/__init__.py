"""nvlib: a workbook for neuromorphic (event-camera) face analysis.

Reproduces *Neuromorphic Valence and Arousal Estimation* (Berlincioni et al.)
with its companions NEFER (Berlincioni et al., CVPRW 2023) and event-based
micro-expression analysis (Mastropasqua et al.). Subpackages follow the data:
``io -> simulate -> represent -> datasets -> convert -> models -> train -> evaluation -> experiments ->
pictures``, plus ``workbook`` (paths, params, ``nvlib reproduce``, table and figure output). The top level
holds only this file, the CLI entry point (:mod:`nvlib.cli`) and the event type (:mod:`nvlib.events`).
"""
__version__ = "0.1.0"
