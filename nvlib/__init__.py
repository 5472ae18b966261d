"""nvlib: a workbook for neuromorphic (event-camera) face analysis.

Reproduces *Neuromorphic Valence and Arousal Estimation* (Berlincioni et al.)
with its companions NEFER (Berlincioni et al., CVPRW 2023) and event-based
micro-expression analysis (Mastropasqua et al.). Modules follow the data:
``io -> simulate -> represent -> datasets -> models -> train -> metrics -> plots``.
"""
__version__ = "0.1.0"
