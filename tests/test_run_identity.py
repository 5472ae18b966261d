"""Run identity: a run is keyed on its cache's content (not its folder name), fold, model, settings and seed;
`nvlib train` resumes only the same run, never another dataset's or fold's; what `--data` says when it is not a
cache; best.pt without optimiser state."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from nvlib import cli as NV
from nvlib.datasets import cache as C
from nvlib.experiments import run_id, run_identity
from nvlib.train import RunMismatchError, TrainConfig, build_and_fit, read_checkpoint
from nvlib.train.loop import identity_differences

VIT = {"image_size": 16, "patch_size": 8, "hidden_dim": 16, "mlp_dim": 32, "depth": 1, "heads": 2}
QUIET = TrainConfig(epochs=1, batch_size=8, lr=1e-3, device="cpu", progress=False, tensorboard=False)


def make_cache(d, seed=0, n_clips=10, n_folds=5, root="MyAFEW", n_frames=6):
    """A finished cache written directly: ``n_clips`` clips of 16x16 random codes and labels, one actor each,
    fold ``i % n_folds``, and a ``params.json`` naming the dataset folder ``root``."""
    rng = np.random.default_rng(seed)
    C.write_or_check_params(d, {"n_bits": 8, "delta_t_us": 5000, "size": 16, "source_root": root})
    clips = [f"{i:03d}" for i in range(n_clips)]
    for c in clips:
        C.write_clip(d, c, rng.integers(0, 256, (n_frames, 16, 16)).astype(np.uint8),
                     rng.uniform(-0.9, 0.9, (n_frames, 2)), {"group": f"actor{c}", "source_digest": f"s{seed}{c}"})
    splits = [("train", "train", "train", "val", "test")[i % 5] for i in range(n_clips)]
    C.finalize(d, clips, [f"actor{c}" for c in clips], splits, [i % n_folds for i in range(n_clips)],
               {"source": "afew-va", "n_bits": 8, "delta_t_us": 5000, "size": 16, "labels_kind": "annotated",
                "n_folds": n_folds, "split_unit": "group", "subject_independent": True, "n_clips": n_clips})
    return d


def nvlib(capsys, *argv):
    capsys.readouterr()
    try:
        rc = NV.main([str(a) for a in argv])
    except SystemExit as e:
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_run_id_follows_the_cache_content_fold_model_settings_and_seed(tmp_path):
    a = make_cache(tmp_path / "a" / "cache", seed=0)
    b = make_cache(tmp_path / "b" / "cache", seed=1)  # the same folder name, other clips
    assert a.name == b.name and C.cache_content_id(a) != C.cache_content_id(b)
    ident = run_identity("vit", a, VIT, QUIET, 0, 6)
    assert ident["cache_id"] == C.cache_content_id(a) and ident["fold"] == 0 and ident["seed"] == 0
    base = run_id("vit", a, VIT, QUIET, 0, 6)
    assert run_id("vit", b, VIT, QUIET, 0, 6) != base
    assert run_id("vit", a, VIT, QUIET, 2, 6) != base
    assert run_id("vit", a, VIT, QUIET.replace(seed=1), 0, 6) != base
    assert run_id("vit", a, {**VIT, "hidden_dim": 32}, QUIET, 0, 6) != base
    assert run_id("vit", a, VIT, QUIET.replace(lr=0.5), 0, 6) != base
    # neutral settings and the epoch count (a longer run resumes a shorter one) leave it alone
    assert run_id("vit", a, VIT, QUIET.replace(epochs=9, progress=True, device="cuda"), 0, 6) == base
    # a copy of a cache in another place is the same data: the same id
    shutil.copytree(a, tmp_path / "copy" / "cache")
    assert run_id("vit", tmp_path / "copy" / "cache", VIT, QUIET, 0, 6) == base
    diff = identity_differences(ident, run_identity("vit", b, VIT, QUIET.replace(seed=3, lr=0.5), 2, 6))
    assert [d.split(" ")[0] for d in diff] == ["cache", "fold", "config", "seed"]
    assert diff[1] == "fold 0 -> 2" and "lr: 0.001 -> 0.5" in diff[2]
    assert identity_differences({}, ident) == ["the run there recorded no identity (an older nvlib, or another tool)"]


def test_a_cache_without_a_stored_content_id_gets_one_from_its_contents(tmp_path):
    a = make_cache(tmp_path / "a", seed=0)
    cid = C.cache_content_id(a)
    index = json.loads((a / "index.json").read_text())
    del index["meta"]["content_id"]
    (a / "index.json").write_text(json.dumps(index))
    assert C.cache_content_id(a) == cid  # computed from params, sources, labels and splits


def test_adding_a_clip_to_the_source_tree_changes_the_cache_id_and_the_run_ids(tmp_path):
    from nvlib.convert import convert_afewva
    from nvlib.datasets.synthetic import generate_synthetic_afewva

    root = generate_synthetic_afewva(tmp_path / "src" / "AFEW", n_clips=6, n_frames=6, size=32, seed=3)
    kw = dict(n_bits=8, delta_t_us=5000, size=16, fps=25.0, progress=False)
    first = convert_afewva(root, tmp_path / "out", **kw)
    ids = {f: run_id("vit", first.cache_dir, VIT, QUIET, f, 6) for f in (None, 0)}
    # a seventh clip: a copy of clip 001 under a new id (same actor, so the groups stay persons)
    shutil.copytree(root / "001", root / "007")
    for f in (root / "007").glob("001*.json"):
        f.rename(f.with_name(f.name.replace("001", "007")))
    doc = json.loads((root / "007" / "007.json").read_text())
    (root / "007" / "007.json").write_text(json.dumps({**doc, "video_id": "007"}))
    second = convert_afewva(root, tmp_path / "out", **kw)
    assert second.cache_dir == first.cache_dir and second.converted == ["007"]  # only the new clip converted
    assert second.content_id != first.content_id
    assert C.cache_content_id(second.cache_dir) == second.content_id
    for f, old in ids.items():
        assert run_id("vit", second.cache_dir, VIT, QUIET, f, 6) != old


def test_fit_continues_only_the_same_run_and_a_fresh_start_leaves_nothing_of_the_old_one(tmp_path):
    from nvlib.datasets import FrameDataset

    a = make_cache(tmp_path / "a", seed=0)
    train, val = FrameDataset(a, "train", fold=0), FrameDataset(a, "val", fold=0)
    ident = run_identity("vit", a, VIT, QUIET, 0, 6)
    out = tmp_path / "run"
    build_and_fit("vit", VIT, train, val, QUIET, out, identity=ident)
    best, last = read_checkpoint(out / "best.pt"), read_checkpoint(out / "last.pt")
    assert best["optimizer"] is None and best["scheduler"] is None  # best.pt: weights only
    assert last["optimizer"] is not None and last["extra"]["identity"] == ident  # last.pt: resumable
    assert (out / "best.pt").stat().st_size < 0.6 * (out / "last.pt").stat().st_size  # AdamW keeps 2 moments
    other = run_identity("vit", a, VIT, QUIET.replace(seed=5), 2, 6)
    with pytest.raises(RunMismatchError, match=r"holds another run \(fold 0 -> 2; seed 0 -> 5\)"):
        build_and_fit("vit", VIT, train, val, QUIET.replace(seed=5, epochs=2), out, identity=other)
    assert read_checkpoint(out / "last.pt")["epoch"] == 1
    _, res = build_and_fit("vit", VIT, train, val, QUIET.replace(seed=5, epochs=2, resume=False), out, identity=other)
    assert res.epochs_run == 2 and [r["epoch"] for r in res.history] == [1, 2]
    assert [line.split(",")[0] for line in (out / "metrics.csv").read_text().splitlines()[1:]] == ["1", "2"]
    assert json.loads((out / "config.json").read_text())["identity"] == other
    _, res = build_and_fit("vit", VIT, train, val, QUIET.replace(seed=5, epochs=3), out, identity=other)
    assert res.epochs_run == 1 and len(res.history) == 3  # the same run, more epochs: resumed


def _train(capsys, cache, out, fold, *extra):
    cfg = out.parent / "train.yaml"
    cfg.write_text("tensorboard: false\nprogress: false\n")
    return nvlib(capsys, "train", "--model", "vit", "--data", cache, "--fold", fold, "--epochs", "1", "--batch-size",
                 "8", "--device", "cpu", "--model-cfg", json.dumps(VIT), "--train-cfg", cfg, "--out", out, *extra)


def test_train_on_cache_b_fold_2_never_resumes_cache_a_fold_0(tmp_path, capsys):
    a, b = make_cache(tmp_path / "a" / "cache", seed=0), make_cache(tmp_path / "b" / "cache", seed=1)
    out = tmp_path / "run"
    rc, text, err = _train(capsys, a, out, 0)
    assert rc == 0 and f"cache id {C.cache_content_id(a)}, fold 0, seed 0" in text, err
    before = (out / "last.pt").read_bytes()
    rc, _, err = _train(capsys, b, out, 2)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert f"cache id '{C.cache_content_id(a)}' -> '{C.cache_content_id(b)}'" in err and "fold 0 -> 2" in err
    assert "pass another --out, or --fresh" in err
    assert (out / "last.pt").read_bytes() == before  # A's run untouched
    rc, _, err = _train(capsys, b, out, 2, "--fresh")
    assert rc == 0, err
    fit = json.loads((out / "fit.json").read_text())
    assert fit["epochs_run"] == 1 and len(fit["history"]) == 1  # B from scratch
    res = json.loads((out / "results.json").read_text())
    assert res["data"]["cache_id"] == C.cache_content_id(b) and res["data"]["fold"] == 2 and res["seed"] == 0
    assert res["data"]["root"] == "MyAFEW" and res["data"]["dataset"] == "afew-va"
    rc, _, err = _train(capsys, b, out, 2, "--epochs", "2")  # the same run, one more epoch: resumed
    assert rc == 0 and json.loads((out / "fit.json").read_text())["epochs_run"] == 1, err


def test_train_default_folders_differ_per_data_and_fold(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NVLIB_RUNS", str(tmp_path / "runs"))
    a, b = make_cache(tmp_path / "a" / "cache", seed=0), make_cache(tmp_path / "b" / "cache", seed=1)
    cfg = tmp_path / "train.yaml"
    cfg.write_text("tensorboard: false\nprogress: false\n")
    common = ["--model", "vit", "--epochs", "1", "--batch-size", "8", "--device", "cpu", "--model-cfg",
              json.dumps(VIT), "--train-cfg", cfg]
    for cache, fold in ((a, "0"), (b, "2")):
        rc, _, err = nvlib(capsys, "train", "--data", cache, "--fold", fold, *common)
        assert rc == 0, err
    runs = sorted(p.name for p in (tmp_path / "runs" / "train").iterdir())
    assert len(runs) == 2 and all(r.startswith("vit_") for r in runs)
    assert {json.loads((tmp_path / "runs" / "train" / r / "results.json").read_text())["data"]["fold"]
            for r in runs} == {0, 2}


def test_train_fold_all_runs_every_fold_and_reports_mean_and_std(tmp_path, capsys):
    a = make_cache(tmp_path / "cache", seed=0, n_clips=9, n_folds=3)
    out = tmp_path / "run"
    rc, text, err = _train(capsys, a, out, "all")
    assert rc == 0, err
    docs = [json.loads((out / f"fold{k}" / "results.json").read_text()) for k in range(3)]
    assert [d["data"]["fold"] for d in docs] == [0, 1, 2]
    summary = json.loads((out / "summary.json").read_text())
    vals = [d["metrics"]["valence"]["rmse"] for d in docs]
    assert summary["folds"] == [0, 1, 2] and summary["aggregate"]["valence_rmse"]["values"] == vals
    assert summary["aggregate"]["valence_rmse"]["mean"] == pytest.approx(np.mean(vals))
    assert summary["aggregate"]["valence_rmse"]["std"] == pytest.approx(np.std(vals, ddof=1))
    assert "over 3 folds" in text and f"{np.mean(vals):.3f} ± {np.std(vals, ddof=1):.3f}" in text
    rc, _, err = _train(capsys, a, out, "7")
    assert rc == 2 and "fold must be in 0..2, got 7" in err


def test_train_data_that_is_not_a_cache_gets_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for d, want in ((tmp_path / "nope", f"{tmp_path / 'nope'}: no such folder: not a converted cache"),
                    (empty, f"no index.json in {empty}: not a converted cache (convert one with `nvlib convert ...`)")):
        rc, _, err = nvlib(capsys, "train", "--model", "vit", "--data", d)
        assert rc == 2 and want in err and "has not finished" not in err and len(err.strip().splitlines()) == 1
    partial = tmp_path / "partial"
    C.write_clip(partial, "a", np.zeros((2, 4, 4), np.uint8), np.zeros((2, 2)), {})
    rc, _, err = nvlib(capsys, "train", "--model", "vit", "--data", partial)
    assert rc == 2 and "the conversion has not finished" in err
