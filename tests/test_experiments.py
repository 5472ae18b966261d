"""nvlib.experiments (runs over seeds, results by configuration, backbones, the paper's numbers) and the
tables and statistics over seeds (nvlib.evaluation.tables, nvlib.evaluation.stats)."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from scipy import stats

from nvlib.evaluation.stats import PAIRED_TEST, aggregate_metrics, mean_std, paired_test, summarize
from nvlib.evaluation.tables import (gain_over_mean, markdown_rows, require_gain_over_mean, table4_markdown_rows,
                                     table4_rows, va_table, write_seed_table)
from nvlib.experiments import (Experiment, ResultsConflictError, find_results, paper_results, pick_backbone, run_many,
                               run_seeds)
from nvlib.train import TrainConfig

TINY_TRAIN = TrainConfig(epochs=1, batch_size=8, lr=1e-3, device="cpu", progress=False, tensorboard=False)
VIT = {"image_size": 16, "hidden_dim": 16, "mlp_dim": 32}


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory):
    from nvlib.convert import prepare_synthetic_va

    return prepare_synthetic_va(tmp_path_factory.mktemp("data"), n_clips=6, n_frames=8, size=16, n_bits=8, seed=0)


@pytest.fixture()
def roots(tmp_path, monkeypatch):
    res, runs = tmp_path / "results", tmp_path / "runs"
    monkeypatch.setenv("NVLIB_RESULTS", str(res))
    monkeypatch.setenv("NVLIB_RUNS", str(runs))
    return res, runs


def _count_trainings(monkeypatch) -> list:
    import nvlib.experiments.run as run_mod

    calls = []
    real = run_mod.run_experiment

    def counting(*a, **kw):
        calls.append((a[0], kw["train_cfg"].seed))
        return real(*a, **kw)

    monkeypatch.setattr(run_mod, "run_experiment", counting)
    return calls


# ----------------------------------------------------------------------------- runs over seeds
def test_seeds_give_distinct_runs_and_one_named_file_each(tiny_cache, roots):
    res, runs = roots
    exp = Experiment("vit", tiny_cache, VIT, TINY_TRAIN.replace(seed=123))
    r = run_seeds(exp, [0, 1], log=None)
    assert r.seeds == [0, 1] and r.n_trained == 2 and r.missing == []
    jsons = sorted(res.glob("*.json"))
    assert len(jsons) == 2 and len(list(res.glob("*.predictions.csv"))) == 2
    for seed, path in zip((0, 1), jsons):
        assert re.fullmatch(rf"vit_nbits8_{re.escape(tiny_cache.name)}_fixedsplit_seed{seed}_[0-9a-f]{{10}}\.json",
                            path.name), path.name
        doc = json.loads(path.read_text())
        assert doc["seed"] == seed and doc["config"]["train"]["seed"] == seed  # train_cfg's own seed is replaced
        assert doc["key"]["data"] == tiny_cache.name and doc["key"]["train"]["epochs"] == 1
    # distinct runs: own run folders, different weights, different predictions
    assert len({d["run_dir"] for d in r}) == 2
    p0, p1 = r.predictions(0), r.predictions(1)
    assert len(p0) == r[0]["n_test_frames"] and not np.allclose(p0["valence_pred"], p1["valence_pred"])
    assert r[0]["metrics"]["valence"]["rmse"] != r[1]["metrics"]["valence"]["rmse"]
    # the finished run keeps best.pt (a frame backbone for video models), not last.pt
    run_dirs = sorted(runs.glob("experiments/*"))
    assert len(run_dirs) == 2 and all((d / "best.pt").is_file() and not (d / "last.pt").exists() for d in run_dirs)


def test_rerun_reuses_every_seed_and_trains_only_what_is_missing(tiny_cache, roots, monkeypatch):
    res, _ = roots
    exp = Experiment("vit", tiny_cache, VIT, TINY_TRAIN)
    first = run_seeds(exp, [0, 1], log=None)
    mtimes = {p.name: p.stat().st_mtime_ns for p in res.iterdir()}
    calls = _count_trainings(monkeypatch)
    again = run_seeds(exp, [0, 1, 2], log=None)
    assert calls == [("vit", 2)]  # seeds 0 and 1 reused: nothing retrained
    assert [r.reused for r in again.runs] == [True, True, False] and again.n_trained == 1
    assert {p.name: p.stat().st_mtime_ns for p in res.iterdir() if p.name in mtimes} == mtimes
    assert again[0] == first[0] and again[1] == first[1]
    # the same seeds, loaded only
    assert run_seeds(exp, [2, 0], train_missing=False, log=None).seeds == [2, 0] and len(calls) == 1
    # another configuration is another result (epochs change the result), found missing without training
    longer = Experiment("vit", tiny_cache, VIT, TINY_TRAIN.replace(epochs=2))
    miss = run_seeds(longer, [0], train_missing=False, log=None)
    assert len(miss) == 0 and miss.missing == [0] and len(calls) == 1
    # settings that do not change a result (progress, device, logging) reuse it
    assert run_seeds(Experiment("vit", tiny_cache, VIT, TINY_TRAIN.replace(progress=True, tensorboard=True)), [0],
                     log=None).n_trained == 0
    # a file whose stored configuration does not match its name is another run's: never overwritten
    path = again.runs[0].path
    doc = json.loads(path.read_text())
    doc["key"]["train"]["lr"] = 0.5
    path.write_text(json.dumps(doc))
    with pytest.raises(ResultsConflictError, match=rf"{re.escape(path.name)}: holds the result of another run .*train"):
        run_seeds(exp, [0], log=None)
    assert json.loads(path.read_text()) == doc and len(calls) == 1
    # a damaged file is retrained and replaced
    path.write_text("{not json")
    assert run_seeds(exp, [0], log=None).n_trained == 1 and calls[-1] == ("vit", 0)
    assert len(find_results(model="vit", seed=0, data=tiny_cache.name)) == 1
    assert len(find_results(model="vit", seed=0, cache_id=exp.cache_id)) == 1


def test_parallel_workers_give_the_sequential_results(tiny_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("NVLIB_RUNS", str(tmp_path / "runs"))
    exp = Experiment("vit", tiny_cache, VIT, TINY_TRAIN)
    seq = run_seeds(exp, [0, 1], results_root=tmp_path / "a", threads=1, log=None)
    par = run_many({"v": exp}, [0, 1], results_root=tmp_path / "b", workers=2, threads=1, log=None)["v"]
    assert par.n_trained == 2
    for a, b in zip(seq, par):
        assert a["key"] == b["key"] and a["metrics"] == b["metrics"]


def test_aggregate_equals_numpy(tiny_cache, roots):
    r = run_seeds(Experiment("vit", tiny_cache, VIT, TINY_TRAIN), [0, 1, 2], log=None)
    agg = r.aggregate()
    for col in ("arousal_rmse", "valence_ccc", "valence_sagr"):
        d, m = col.split("_")
        vals = np.array([doc["metrics"][d][m] for doc in r])
        assert agg[col]["values"] == vals.tolist()
        assert agg[col]["mean"] == pytest.approx(np.mean(vals), abs=0, rel=1e-15)
        assert agg[col]["std"] == pytest.approx(np.std(vals, ddof=1), rel=1e-12)
    assert r.median_seed() == sorted(r.seeds, key=lambda s: (r[r.seeds.index(s)]["metrics"]["valence"]["rmse"]
                                                             + r[r.seeds.index(s)]["metrics"]["arousal"]["rmse"], s))[1]


def test_summaries_on_fixed_numbers():
    assert mean_std([0.2, 0.4, 0.9]) == pytest.approx((0.5, math.sqrt(((0.3) ** 2 + 0.1 ** 2 + 0.4 ** 2) / 2)))
    m, s = mean_std([0.3])
    assert m == 0.3 and math.isnan(s)  # one seed: no spread
    s = summarize(np.array([1.0, 2.0, 4.0]))
    assert s["n"] == 3 and s["values"] == [1.0, 2.0, 4.0] and s["std"] == pytest.approx(np.std([1, 2, 4], ddof=1))
    per_seed = [{"arousal": {"rmse": a}, "valence": {"rmse": v}} for a, v in ((0.1, 0.4), (0.3, 0.2))]
    agg = aggregate_metrics(per_seed, metrics=("rmse",))
    assert list(agg) == ["arousal_rmse", "valence_rmse"]
    assert agg["valence_rmse"]["mean"] == pytest.approx(0.3) and agg["valence_rmse"]["std"] == pytest.approx(
        math.sqrt(0.02))
    with pytest.raises(ValueError):
        summarize([])


# ----------------------------------------------------------------------------- paired test
A8 = [0.50, 0.61, 0.55]
B16 = [0.52, 0.66, 0.60]


def test_paired_test_equals_scipy_and_a_hand_computation():
    t = paired_test(A8, B16)
    ref = stats.ttest_rel(B16, A8)
    assert t.test == PAIRED_TEST and "ttest_rel" in t.test
    assert t.t == pytest.approx(ref.statistic) and t.p_value == pytest.approx(ref.pvalue) and t.df == 2
    # by hand: d = 0.02, 0.05, 0.05; mean 0.04, sd sqrt(0.0003), se 0.01, t = 4; with 2 degrees of freedom
    # the two-sided p-value has the closed form 1 - |t| / sqrt(t^2 + 2)
    assert t.mean_diff == pytest.approx(0.04) and t.sd_diff == pytest.approx(math.sqrt(0.0003))
    assert t.t == pytest.approx(4.0) and t.p_value == pytest.approx(1 - 4 / math.sqrt(18))
    half = 4.302652729911275 * 0.01  # t_{0.975, 2} * se
    assert (t.ci_low, t.ci_high) == pytest.approx((0.04 - half, 0.04 + half))
    ci = ref.confidence_interval(0.95)
    assert (t.ci_low, t.ci_high) == pytest.approx((ci.low, ci.high))
    assert not t.significant and t.low_power  # p = 0.057 with three seeds
    assert "not beyond seed noise" in t.verdict() and "low power" in t.verdict()
    clear = paired_test(A8, [0.53, 0.66, 0.60])  # d = 0.03, 0.05, 0.05: t = 6.5
    assert clear.t == pytest.approx(6.5) and clear.p_value == pytest.approx(1 - 6.5 / math.sqrt(6.5 ** 2 + 2))
    assert clear.significant and "beyond seed noise" in clear.verdict(worse="N = 16")
    assert "N = 16 higher" in clear.verdict(worse="N = 16")
    assert clear.p_value == pytest.approx(stats.ttest_rel([0.53, 0.66, 0.60], A8).pvalue)


def test_paired_test_edge_cases():
    same = paired_test([0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    assert math.isnan(same.p_value) and math.isnan(same.ci_low) and not same.significant
    shift = paired_test([1.0, 2.0, 3.0], [1.5, 2.5, 3.5])  # exactly the same difference every seed
    assert shift.p_value == 0.0 and math.isinf(shift.t) and shift.ci_low == shift.ci_high == 0.5
    one = paired_test([0.1], [0.3])
    assert one.n == 1 and math.isnan(one.p_value) and "undetermined" in one.verdict()
    with pytest.raises(ValueError, match="same seeds"):
        paired_test([0.1, 0.2], [0.1])


# ----------------------------------------------------------------------------- tables
def _doc(model, seed, a, v, n_bits=8, base=(0.6, 0.6), labels="annotated", source="synthetic-va"):
    m = {"arousal": {"rmse": a, "pcc": 0.5, "ccc": 0.4, "sagr": 0.7},
         "valence": {"rmse": v, "pcc": 0.3, "ccc": 0.2, "sagr": 0.6}}
    b = {"arousal": {"rmse": base[0], "pcc": float("nan"), "ccc": 0.0, "sagr": 0.4},
         "valence": {"rmse": base[1], "pcc": float("nan"), "ccc": 0.0, "sagr": 0.4}}
    return {"model": model, "seed": seed, "metrics": m, "mean_baseline": b, "backbone": "random init",
            "params": {"total": 2_000_000}, "n_bits": n_bits, "n_test_frames": 160 // (n_bits // 8),
            "config": {"dataset": {"source": source, "labels_kind": labels, "size": 32, "n_bits": n_bits},
                       "train": {"seed": seed}}}


def test_table4_names_the_test_and_gives_its_p_value(tmp_path):
    runs = {("vit", 8): [_doc("vit", s, a, a) for s, a in zip((0, 1, 2), A8)],
            ("vit", 16): [_doc("vit", s, b, b, n_bits=16) for s, b in zip((0, 1, 2), B16)],
            ("ic3d", 8): [_doc("ic3d", s, 0.4, 0.4) for s in (0, 1, 2)]}
    paper = {"vit": {8: {"label": "ViT", "arousal_rmse": 0.173, "valence_rmse": 0.211},
                     16: {"label": "ViT", "arousal_rmse": 0.232, "valence_rmse": 0.305}}}
    rows = table4_rows(runs, ["vit", "ic3d"], (8, 16), paper=paper)
    vit, ic3d = rows
    ref = stats.ttest_rel(B16, A8)
    assert vit["test"] == PAIRED_TEST and vit["p_value"] == pytest.approx(ref.pvalue)
    assert vit["diff_mean_rmse"] == pytest.approx(0.04) and vit["beyond_seed_noise"] is False
    assert "not beyond seed noise" in vit["verdict"] and "low power" in vit["verdict"]
    assert vit["n8_arousal_rmse_mean"] == pytest.approx(np.mean(A8))
    assert vit["n16_valence_rmse_std"] == pytest.approx(np.std(B16, ddof=1))
    assert vit["n16_arousal_rmse_seeds"] == "0.52;0.66;0.6" and vit["paired_seeds"] == "0,1,2"
    assert vit["paper_diff_mean_rmse"] == pytest.approx((0.232 + 0.305 - 0.173 - 0.211) / 2)
    assert vit["n8_test_frames"] == 160 and vit["n16_test_frames"] == 80
    assert ic3d["test"] is None and ic3d["verdict"] == "no paired seeds" and ic3d["n16_arousal_rmse_mean"] is None
    md = table4_markdown_rows(rows)
    assert md[0]["p (paired t)"] == f"{ref.pvalue:.3f}" and md[0]["N=8 arousal RMSE"] == (
        f"{np.mean(A8):.3f} ± {np.std(A8, ddof=1):.3f}")
    assert md[0]["Δ mean RMSE (N=16 − N=8) [95% CI]"].startswith("+0.040 [")
    assert md[0]["predict-the-mean, mean RMSE (N=8 / N=16)"] == "0.600 / 0.600"
    csv_path, md_path = write_seed_table(rows, "table4_x", f"Test: {PAIRED_TEST}.", md_rows=md, out_dir=tmp_path)
    assert "ttest_rel" in md_path.read_text() and "p_value" in csv_path.read_text().splitlines()[0]


def test_va_table_rows_hold_mean_std_and_every_seed(tmp_path):
    runs = {"vit": [_doc("vit", 0, 0.2, 0.30), _doc("vit", 1, 0.4, 0.34)]}
    paper = {"vit": {"label": "ViT", "n_bits": 8, "arousal_rmse": 0.173, "arousal_pcc": 0.34, "arousal_sagr": 0.802,
                     "valence_rmse": 0.211, "valence_pcc": 0.005, "valence_sagr": 0.463}}
    rows = va_table(runs, paper=paper, paper_source="paper Table 1")
    assert [r["model"] for r in rows] == ["ViT", "predict-the-mean", "ViT"]
    ours, base, pub = rows
    assert ours["arousal_rmse_mean"] == pytest.approx(0.3) and ours["arousal_rmse_std"] == pytest.approx(
        np.std([0.2, 0.4], ddof=1)) and ours["arousal_rmse_seeds"] == "0.2;0.4" and ours["seeds"] == "0,1"
    assert ours["params_M"] == 2.0 and "synthetic faces" in ours["data"]
    assert base["valence_rmse_mean"] == 0.6 and base["valence_rmse_std"] == 0.0
    assert pub["source"] == "paper Table 1" and pub["valence_rmse_mean"] == 0.211 and pub["valence_ccc_mean"] is None
    md = markdown_rows(rows)
    assert md[0]["arousal_rmse"] == "0.300 ± 0.141" and md[2]["arousal_rmse"] == "0.173"
    assert "arousal_rmse_std" not in md[0] and md[0]["n_seeds"] == 2
    _, md_path = write_seed_table(rows, "table1_x", "caption", out_dir=tmp_path)
    assert "0.300 ± 0.141" in md_path.read_text()
    derived = va_table({"vit": [_doc("vit", 0, 0.2, 0.3, labels="derived", source="samples")]})
    assert "DERIVED" in derived[0]["data"] and "sample clips" in derived[0]["data"]


def test_gain_over_mean_uses_the_mean_over_seeds():
    runs = {"good": [_doc("vit", 0, 0.40, 0.40), _doc("vit", 1, 0.44, 0.44)],
            "flat": [_doc("vit", 0, 0.62, 0.62), _doc("vit", 1, 0.52, 0.52)]}
    good, flat = gain_over_mean(runs)
    assert good["rmse"] == pytest.approx(0.42) and good["gain"] == pytest.approx(0.3)
    assert good["min_gain"] == pytest.approx((0.6 - 0.44) / 0.6) and good["n_seeds"] == 2
    assert flat["gain"] == pytest.approx(0.03 / 0.6) and flat["min_gain"] < 0  # one seed worse than the mean
    with pytest.raises(AssertionError, match=r"flat \(mean RMSE 0.570 over 2 seed"):
        require_gain_over_mean(runs, min_gain=0.1)


# ----------------------------------------------------------------------------- backbones by configuration
def test_pick_backbone_finds_the_same_seeds_frame_resnet18(tiny_cache, roots, tmp_path, monkeypatch):
    import nvlib.models.backbones as B

    res, _ = roots
    monkeypatch.setattr(B.torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    assert pick_backbone(None, tiny_cache) is None and pick_backbone("imagenet:x.pth") == "imagenet:x.pth"
    assert pick_backbone("auto", tiny_cache, seed=0) is None  # nothing trained yet
    frame = run_seeds(Experiment("resnet18", tiny_cache, {"weights": None}, TINY_TRAIN), [0], log=None)
    ck = f"frame:{frame[0]['run_dir']}/best.pt"
    assert pick_backbone("auto", tiny_cache, seed=0) == ck
    assert pick_backbone("auto", tiny_cache, seed=1) is None  # another seed's backbone is never borrowed
    assert pick_backbone("auto", tiny_cache, seed=0, fold=0) is None  # nor another fold's
    assert pick_backbone("auto", tiny_cache.with_name("other_cache"), seed=0) is None
    video = Experiment("resnet_lstm", tiny_cache, {"backbone": "auto"}, TINY_TRAIN)
    cfg0, _ = video.resolve(0)
    cfg1, _ = video.resolve(1)
    assert cfg0["backbone"] == ck and cfg1["backbone"] is None
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth").write_bytes(b"")
    assert pick_backbone("auto", tiny_cache, seed=0) == "hub"


# ----------------------------------------------------------------------------- the paper's numbers
def _paper_text_tables(text: str) -> dict:
    """The paper's Tables 1-4 parsed from its text: ``{k: [cells of each data row]}``."""
    lines = text.splitlines()
    out = {}
    for i, line in enumerate(lines):
        m = re.match(r"\*\*Table ([1-4])\*\*", line.strip())
        if not m:
            continue
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        rows = []
        while j >= 0 and "\t" in lines[j]:
            rows.append([re.sub(r"<[^>]+>", "", c).strip() for c in lines[j].split("\t")])
            j -= 1
        out[int(m.group(1))] = [r for r in reversed(rows) if re.fullmatch(r"\d+\.\d+", r[-1])]
    return out


def _mismatches(tables: dict, doc: dict) -> list[str]:
    """Every difference between the parsed paper tables and the data file (labels, N, numbers)."""
    def norm(label):
        return label.rstrip(".")

    bad = []
    six = ("arousal_rmse", "arousal_pcc", "arousal_sagr", "valence_rmse", "valence_pcc", "valence_sagr")
    for k in (1, 2):
        text = {norm(r[0]): [float(v) for v in r[1:]] for r in tables[k]}
        ours = {norm(m["label"]): [m[8][c] for c in six] for m in doc[f"table{k}"]["models"].values()}
        if text != ours:
            bad.append(f"table{k}: paper {text} != file {ours}")
    text3 = {norm(r[0]): (r[1], float(r[2]), float(r[3])) for r in tables[3]}
    ours3 = {norm(r["label"]): (r["modality"], r["arousal_rmse"], r["valence_rmse"])
             for r in doc["table3"]["rows"].values()}
    if text3 != ours3:
        bad.append(f"table3: paper {text3} != file {ours3}")
    if [norm(r[0]) for r in tables[3]] != [norm(r["label"]) for r in doc["table3"]["rows"].values()]:
        bad.append("table3: rows in another order than the paper's")
    text4 = {(norm(r[0]), int(r[1])): (float(r[2]), float(r[3])) for r in tables[4]}
    ours4 = {(norm(m["label"]), n): (m[n]["arousal_rmse"], m[n]["valence_rmse"])
             for m in doc["table4"]["models"].values() for n in m if isinstance(n, int)}
    if text4 != ours4:
        bad.append(f"table4: paper {text4} != file {ours4}")
    return bad


def test_paper_results_file_matches_the_paper_text():
    import copy

    from nvlib.workbook.paths import shared_dir

    shared = shared_dir()
    paper = shared / "papers" / "001_443973787140965c.txt" if shared else None
    if paper is None or not paper.is_file():
        pytest.skip("the paper's text (shared/papers/001_443973787140965c.txt) is not available beside the checkout")
    tables = _paper_text_tables(paper.read_text())
    assert sorted(tables) == [1, 2, 3, 4] and [len(tables[k]) for k in (1, 2, 3, 4)] == [2, 4, 9, 8]
    doc = paper_results()
    assert _mismatches(tables, doc) == []
    # the check catches a typo, a swapped pair, a missing row
    typo = copy.deepcopy(doc)
    typo["table1"]["models"]["resnet18"][8]["valence_rmse"] = 0.264
    swapped = copy.deepcopy(doc)
    swapped["table4"]["models"]["vit"][16].update(arousal_rmse=0.305, valence_rmse=0.232)
    missing = copy.deepcopy(doc)
    del missing["table3"]["rows"]["handrich2020"]
    for wrong in (typo, swapped, missing):
        assert _mismatches(tables, wrong)


def test_paper_results_reader(tmp_path):
    from nvlib.experiments import paper_at, paper_notes, paper_table

    t4 = paper_table("table4")
    assert t4["resnet18"][8]["label"] == "ResNet" and (t4["resnet18"][8]["arousal_rmse"],
                                                        t4["resnet18"][8]["valence_rmse"]) == (0.124, 0.191)
    assert any("ResNet+Fusion" in n for n in paper_notes("table4"))  # the 8-bit ResNet row is explained
    assert paper_at("table2", 8)["ic3d"]["valence_sagr"] == 0.455 and paper_at("table2", 16) == {}
    assert [r["label"] for r in paper_table("table3")][-2:] == ["Ours (Frame)", "Ours (Video)"]
    bad = tmp_path / "bad.yaml"
    bad.write_text((paper_results.__globals__["paper_results_path"]()).read_text().replace("0.246", "'0.246'"))
    with pytest.raises(ValueError, match="valence_rmse is '0.246'"):
        paper_results(bad)
