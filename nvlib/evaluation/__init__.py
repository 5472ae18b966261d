"""Evaluation: metrics (RMSE, PCC, CCC, SAGR as emonet defines them), prediction over a dataset, and
result tables with the statistics a reader needs (mean ± std over seeds, paired tests)."""
