"""Provenance: every results file and table row names its data (dataset, root, cache id, fold, seeds); runs over
every fold (`fold="all"`); results files never overwrite another run's; the paper setting refuses to run without
its dataset; `nvlib reproduce` prints each notebook's problems."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy import stats

from nvlib.datasets import cache as C
from nvlib.evaluation.tables import (data_caption, folds_text, seeds_caption, table3_rows, table4_rows, va_table)
from nvlib.experiments import Experiment, run_seeds
from test_run_identity import QUIET, VIT, make_cache


@pytest.fixture()
def roots(tmp_path, monkeypatch):
    monkeypatch.setenv("NVLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("NVLIB_RUNS", str(tmp_path / "runs"))
    return tmp_path / "results"


def test_results_files_name_their_data_and_runs_over_all_folds(tmp_path, roots):
    cache = make_cache(tmp_path / "cache", seed=0, n_clips=9, n_folds=3)
    cid = C.cache_content_id(cache)
    r = run_seeds(Experiment("vit", cache, VIT, QUIET, fold="all"), [0, 1], log=None)
    assert list(zip(r.folds, r.seeds)) == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    files = sorted(roots.glob("*.json"))
    assert len(files) == 6 and len({f.name for f in files}) == 6  # one file per (fold, seed): none overwritten
    for (fold, seed), doc in zip(zip(r.folds, r.seeds), r):
        assert doc["data"] == {"dataset": "afew-va", "root": "MyAFEW", "labels_kind": "annotated",
                               "cache": "cache", "cache_id": cid, "fold": fold, "n_folds": 3, "split_unit": "group"}
        assert doc["seed"] == seed and doc["key"]["cache_id"] == cid and doc["key"]["fold"] == fold
    assert all(re.search(rf"_fold{f}_seed{s}_[0-9a-f]{{10}}\.json$", run.path.name)
               for f, s, run in zip(r.folds, r.seeds, r.runs))
    # mean ± std over folds and seeds: over all six runs
    agg = r.aggregate()["valence_rmse"]
    vals = [d["metrics"]["valence"]["rmse"] for d in r]
    assert agg["mean"] == pytest.approx(np.mean(vals)) and agg["std"] == pytest.approx(np.std(vals, ddof=1))
    # the same configuration again: every run reused; one fold alone is one of them
    assert run_seeds(Experiment("vit", cache, VIT, QUIET, fold="all"), [0, 1], log=None).n_trained == 0
    one = run_seeds(Experiment("vit", cache, VIT, QUIET, fold=1), [1], log=None)
    assert one.n_trained == 0 and one[0] == r[3]
    rows = va_table({"vit": r})
    assert rows[0]["data"].endswith(f"; root 'MyAFEW'; cache id {cid}; folds 0,1,2")
    assert rows[0]["seeds"] == "0,1" and rows[0]["n_seeds"] == 2 and rows[0]["n_runs"] == 6
    assert "3 folds x 2 training seeds (0,1) of the subject-independent protocol" in seeds_caption(r.docs)
    run = r.median_run()
    assert len(r.predictions(run.seed, run.fold)) == r[r.runs.index(run)]["n_test_frames"]
    with pytest.raises(ValueError, match="fold must be None, an integer or 'all'"):
        Experiment("vit", cache, VIT, QUIET, fold="every")


def test_the_same_folder_name_with_other_contents_is_another_result(tmp_path, roots):
    a = make_cache(tmp_path / "a" / "cache", seed=0)
    b = make_cache(tmp_path / "b" / "cache", seed=1)
    ra = run_seeds(Experiment("vit", a, VIT, QUIET), [0], log=None)
    rb = run_seeds(Experiment("vit", b, VIT, QUIET), [0], log=None)
    assert rb.n_trained == 1 and ra.runs[0].path != rb.runs[0].path  # not reused, not overwritten
    assert ra[0]["data"]["cache_id"] != rb[0]["data"]["cache_id"] and len(list(roots.glob("*.json"))) == 2


def _doc(seed, fold, v, cache_id="c0ffee", source="afew-va", root="MyAFEW", n_bits=8):
    m = {d: {"rmse": v, "pcc": 0.5, "ccc": 0.4, "sagr": 0.7} for d in ("arousal", "valence")}
    b = {d: {"rmse": 0.6, "pcc": 0.0, "ccc": 0.0, "sagr": 0.5} for d in ("arousal", "valence")}
    return {"model": "vit", "seed": seed, "metrics": m, "mean_baseline": b, "backbone": "random init",
            "params": {"total": 1e6}, "n_bits": n_bits, "n_test_frames": 10,
            "config": {"dataset": {"source": source, "labels_kind": "annotated", "size": 16, "n_bits": n_bits}},
            "data": {"dataset": source, "root": root, "cache_id": cache_id, "fold": fold}}


def test_every_table_names_dataset_root_cache_and_folds():
    user = [_doc(s, None, 0.3 + s / 10) for s in (0, 1)]
    rows = va_table({"vit": user})
    assert [r["data"] for r in rows[:2]] == ["AFEW-VA (annotated labels, 16x16 px, TBR N = 8); root 'MyAFEW'; "
                                             "cache id c0ffee; fixed split"] * 2
    synth = va_table({"vit": [_doc(0, 2, 0.3, source="synthetic-va", root="synthetic")]})[0]["data"]
    assert synth.startswith("synthetic faces") and "root" not in synth and synth.endswith("cache id c0ffee; fold 2")
    t3 = table3_rows([], [("ours", user)])
    assert all("cache id c0ffee" in r["data"] for r in t3)
    t4 = table4_rows({("vit", 8): user, ("vit", 16): [_doc(s, None, 0.4, cache_id="beef", n_bits=16) for s in (0, 1)]},
                     ["vit"])
    assert t4[0]["data"].endswith("; root 'MyAFEW'; cache id c0ffee / beef; fixed split")
    assert "cache id c0ffee" in data_caption(user) and folds_text([None, 0, 1]) == "folds 0,1 and the fixed split"


def test_table4_pairs_runs_by_fold_and_seed():
    a8 = {(f, s): 0.3 + 0.01 * f + 0.002 * s for f in (0, 1) for s in (0, 1)}
    b16 = {(f, s): v + (0.05 if f == 0 else 0.01) + 0.003 * s for (f, s), v in a8.items()}
    runs = {("vit", 8): [_doc(s, f, v) for (f, s), v in a8.items()],
            ("vit", 16): [_doc(s, f, v, n_bits=16) for (f, s), v in reversed(list(b16.items()))]}
    row = table4_rows(runs, ["vit"])[0]
    keys = list(a8)
    ref = stats.ttest_rel([b16[k] for k in keys], [a8[k] for k in keys])
    assert row["p_value"] == pytest.approx(ref.pvalue) and row["paired_seeds"] == "0:0,0:1,1:0,1:1"


def test_the_paper_setting_without_a_dataset_stops_before_anything_runs(tmp_path, monkeypatch, capsys):
    from nvlib import cli as NV
    from nvlib.workbook import reproduce as R
    from nvlib.workbook.params import ParamsError

    monkeypatch.setenv("NVLIB_RUNS", str(tmp_path / "runs"))
    ran = []
    monkeypatch.setattr(R, "run_notebook", lambda *a, **k: ran.append(a) or 0.0)
    with pytest.raises(ParamsError, match=r"paper.yaml: 03_frame_models needs a real dataset .*afewva_root"):
        R.reproduce(R.repo_root() / "params" / "paper.yaml", log=lambda *_: None)
    assert ran == []
    rc = NV.main(["reproduce", "--params", str(R.repo_root() / "params" / "paper.yaml")])
    err = capsys.readouterr().err
    assert rc == 2 and "needs a real dataset" in err and len(err.strip().splitlines()) == 1 and ran == []
    R.check_data_params(tmp_path / "p.yaml", "03", {"require_dataset": True, "afewva_root": "/data/AFEW-VA"})
    R.check_data_params(tmp_path / "p.yaml", "03", {"require_dataset": False})
    from nvlib.experiments import workbook_cache

    with pytest.raises(ValueError, match="needs a real dataset"):
        workbook_cache(None, None, require_dataset=True)


def test_reproduce_prints_each_notebooks_problems(tmp_path, monkeypatch):
    from nvlib.workbook import reproduce as R

    fake = tmp_path / "repo"
    (fake / "nvlib").mkdir(parents=True)
    (fake / "notebooks").mkdir()
    (fake / "params").mkdir()
    (fake / "pyproject.toml").write_text("")
    (fake / "params" / "default.yaml").write_text("common: {}\n")
    (fake / "notebooks" / "07_skips.py").write_text(
        '# %% tags=["parameters"]\nn = 2\n\n# %%\nfrom nvlib.workbook.reproduce import report_problems\n'
        'report_problems("07_skips", [f"clip {i}: unreadable" for i in range(n)])\n')
    (fake / "notebooks" / "08_clean.py").write_text(
        '# %% tags=["parameters"]\nn = 0\n\n# %%\nfrom nvlib.workbook.reproduce import report_problems\n'
        'report_problems("08_clean", [])\n')
    monkeypatch.setenv("NVLIB_ROOT", str(fake))
    monkeypatch.setenv("NVLIB_RUNS", str(tmp_path / "runs"))
    lines = []
    R.reproduce(log=lines.append)
    text = "\n".join(lines)
    assert re.search(r"\[07_skips\] done in [\d.]+ s; problems \(2 line\(s\)\):\n  clip 0: unreadable\n  clip 1: "
                     r"unreadable", text), text
    assert re.search(r"\[08_clean\] done in [\d.]+ s; problems: none$", text, re.M), text
    assert json.loads((tmp_path / "runs" / "default" / "07_skips.problems.json").read_text())["problems"] == [
        "clip 0: unreadable", "clip 1: unreadable"]


def test_cache_problems_name_skipped_clips_and_dropped_frames(tmp_path):
    d = make_cache(tmp_path / "c", n_clips=5)
    assert C.cache_problems(d) == []
    C.write_skipped(d, "009", "009/00003.png", "cannot decode")
    index = json.loads((d / "index.json").read_text())
    index["meta"].update(n_skipped=1, n_dropped_frames=2, subject_independent=False, split_unit="clip")
    (d / "index.json").write_text(json.dumps(index))
    lines = C.cache_problems(d)
    assert lines[0].startswith("c: 1 of 6 clips skipped") and lines[1] == "  009: 009/00003.png: cannot decode"
    assert "2 unreadable frame(s) dropped" in lines[2] and "not subject-independent (split by clip)" in lines[3]

