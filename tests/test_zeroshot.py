"""Zero-shot NEFER classification (paper Sec. 5.3): representative frame, templates from the training
split only, the matchers, the problems table, the whole path on a NEFER-layout tree, the command."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nvlib.datasets.nefer import CLASSES, REPORTED_CLASSES
from nvlib.experiments import zeroshot as Z
from nvlib.experiments.zeroshot import SequenceProfile as P

# well-separated class points on the valence-arousal plane
POINTS = {c: np.array([np.cos(a), np.sin(a)]) * 0.8 for c, a in zip(CLASSES, np.linspace(0, 2 * np.pi, 8)[:7])}


def _profile(seq, user, split, label, peak, n=20, rest=(0.0, 0.0), noise=0.01, seed=0):
    """A static profile at ``rest`` with one frame at ``peak`` (the expression burst)."""
    g = np.random.default_rng(seed)
    va = np.asarray(rest, float) + g.normal(0, noise, (n, 2))
    va[n // 2] = peak
    return P(seq, user, split, label, va)


def _train_and_val(n_train=3):
    train = [P(f"t{c}{k}", "01", "train", c, POINTS[c] + np.random.default_rng(k).normal(0, 0.02, (10, 2)))
             for c in CLASSES for k in range(n_train)]
    val = [_profile(f"v{c}", "03", "validation", c, POINTS[c], seed=i) for i, c in enumerate(CLASSES)]
    return train, val


def test_representative_frame_is_the_farthest_from_the_mean():
    va = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.9, -0.5], [0.05, 0.05]])
    mean = va.mean(0)
    assert Z.representative_index(va) == int(np.argmax(((va - mean) ** 2).sum(1))) == 3
    assert Z.representative_index(va, "max_arousal") == 2
    assert Z.representative_point(va, "mean") == pytest.approx(mean)
    with pytest.raises(ValueError):
        Z.representative_point(np.zeros((0, 2)))


def test_hand_built_profiles_give_their_classes():
    train, val = _train_and_val()
    tpl, pred, summaries = Z.evaluate_profiles(train + val, CLASSES)
    assert tpl.means == pytest.approx(np.stack([POINTS[c] for c in CLASSES]), abs=0.03)
    assert (tpl.n_sequences == 3).all() and (tpl.n_frames == 30).all()
    for m in ("paper", "mahalanobis", "nearest_profile"):
        s = summaries[m]
        assert (s["n"], s["correct"]) == (7, 7), m
    # the highest-arousal frame is the burst only where the burst raises arousal
    hi = [c for c in CLASSES if POINTS[c][1] > 0.1]
    right = set(pred[(pred["method"] == "max_arousal") & pred["correct"]]["label"])
    assert right == set(hi)
    got = pred[pred["method"] == "paper"]
    assert list(got["predicted"]) == list(CLASSES)
    # the mean profile is dominated by the resting frames (it keeps only 1/20 of the burst)
    assert np.linalg.norm(Z.representative_point(val[0].va, "mean")) < 0.1


def test_validation_sequences_never_enter_a_template():
    train, val = _train_and_val()
    tpl_train_only = Z.fit_templates(train, CLASSES)
    wild = [P(p.sequence, p.user, p.split, p.label, p.va * 0 + 5.0) for p in val]  # far away from everything
    tpl, pred, _ = Z.evaluate_profiles(train + wild, CLASSES)
    assert np.array_equal(tpl.means, tpl_train_only.means) and np.array_equal(tpl.covs, tpl_train_only.covs)
    assert not set(tpl.sequences) & {p.sequence for p in val}
    assert {p.sequence for p in tpl.train} == {p.sequence for p in train}
    # a validation user marked as training data is refused, not used
    with pytest.raises(ValueError, match="validation user"):
        Z.fit_templates(train + [P("x", "03", "train", "Fear", np.zeros((3, 2)))], CLASSES)


def test_mahalanobis_uses_each_class_spread():
    # class A: tight at (0, 0); class B: spread widely along valence, centred at (1, 0)
    g = np.random.default_rng(0)
    a = P("a", "01", "train", "Disgust", g.normal(0, 0.02, (200, 2)))
    b = P("b", "01", "train", "Contempt", np.c_[1 + g.normal(0, 0.5, 200), g.normal(0, 0.02, 200)])
    tpl = Z.fit_templates([a, b], CLASSES[:2])
    x = np.array([[0.35, 0.0]])  # nearer A's mean, but 17 A-sds away and under 1.5 B-sds
    assert Z.classify_points(x, tpl, "template")[0] == 0
    assert Z.classify_points(x, tpl, "mahalanobis")[0] == 1


def test_nearest_training_profile_and_reported_none():
    train = [_profile("n1", "01", "train", "None", (0.0, 0.02), rest=(0, 0)),
             _profile("h1", "01", "train", "Happiness", (0.8, 0.5)),
             _profile("s1", "02", "train", "Sadness", (-0.7, -0.4))]
    tpl = Z.fit_templates(train, REPORTED_CLASSES)
    assert tpl.available.sum() == 3  # None has a template of its own; classes without training data have none
    pts = np.array([[0.0, 0.0], [0.7, 0.45], [-0.6, -0.3], [-0.6, 0.7]])
    got = [REPORTED_CLASSES[i] for i in Z.classify_points(pts, tpl, "template")]
    assert got[:3] == ["None", "Happiness", "Sadness"] and got[3] in ("None", "Happiness", "Sadness")
    nn = [REPORTED_CLASSES[i] for i in Z.classify_points(pts, tpl, "nearest_profile", "farthest")]
    assert nn[1:3] == ["Happiness", "Sadness"]


def test_mcnemar_table_pairs_methods_on_the_same_sequences():
    train, val = _train_and_val()
    _, pred, summaries = Z.evaluate_profiles(train + val, CLASSES, methods=("paper", "mean_profile"))
    mc = Z.mcnemar_table(pred)
    assert len(mc) == 1
    r = mc.iloc[0]
    assert r["n"] == 7 and r["a_only"] - r["b_only"] == summaries["paper"]["correct"] - summaries["mean_profile"]["correct"]


def test_paper_rows_carry_the_published_numbers():
    rows = {r["method"]: r for r in Z.paper_rows()}
    assert rows["Ours (Frame)"]["accuracy"] == pytest.approx(19.20) and rows["Ours (Frame)"]["correct"] == 24
    assert rows["Ours (Video)"]["correct"] == 26
    assert rows["Ours (Frame)"]["p_vs_chance"] == pytest.approx(0.0785, abs=5e-4)  # not significant at 1/7
    assert rows["RGB Berlincioni et al (2023)"]["accuracy"] == pytest.approx(14.60)
    assert rows["Event Berlincioni et al (2023)"]["accuracy"] == pytest.approx(22.95)
    assert rows["Event Berlincioni et al (2023)"]["n"] is None  # NEFER publishes no count: no interval invented
    assert {r["source"] for r in rows.values()} == {"paper", "NEFER"}


def test_paper_results_table5_matches_the_paper_text(root):
    from nvlib.experiments import paper_results
    from nvlib.workbook.paths import shared_dir

    doc = paper_results()["table5"]["rows"]
    sh = shared_dir()
    papers = sorted((sh / "papers").glob("001_*.txt")) if sh is not None else []
    if not papers:
        pytest.skip("the paper's text is not available beside the checkout")
    text = papers[0].read_text()
    for rid, label in (("nefer_rgb", "RGB"), ("nefer_event", "Event"), ("ours_frame", "Ours (Frame)"),
                       ("ours_video", "Ours (Video)")):
        line = next(ln for ln in text.splitlines() if ln.startswith(label) and "NEFER" in ln)
        assert float(line.split()[-1]) == pytest.approx(doc[rid]["accuracy"]), rid


def test_problems_from_profiles_without_events(tmp_path):
    """Windows without events are left out and counted; a sequence without any event is not classified."""
    # a minimal NEFER annotation tree with two training sequences and no recordings
    ann = tmp_path / "annotations"
    seqs = ["user01_2022-06-08_12-00-00_cd", "user01_2022-06-08_12-01-00_cd"]
    for split, mod in (("train", "event"), ("train", "gopro"), ("validation", "event"), ("validation", "gopro")):
        lines = []
        if split == "train":
            for k, s in enumerate(seqs):
                sid = s if mod == "event" else f"GOPR{k}"
                pref = "../event_frame_NEW/" if mod == "event" else "rgb_frames/"
                lines += [f"user_01,{sid},{pref}user_01/{sid}/frame_{i:02d}.png,Fear" for i in range(51)]
        for d in ("expected_emotions",):
            p = ann / d / f"{split}_{mod}.csv"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("".join(x + "\n" for x in lines))
    (tmp_path / "cache").mkdir()
    preds = {seqs[0]: {"va": np.ones((3, 2)), "frames": np.array([0, 2, 4]), "n_empty": 2, "n_frames": 5},
             seqs[1]: {"va": np.zeros((0, 2)), "frames": np.zeros(0, int), "n_empty": 4, "n_frames": 4}}
    profiles, problems = Z.nefer_profiles(tmp_path, preds, tmp_path / "cache", "expected")
    assert [p.sequence for p in profiles] == [seqs[0]] and profiles[0].n_empty == 2
    reasons = {r["sequence"]: r["reason"] for r in problems}
    assert "2 of 5 TBR windows hold no event" in reasons[seqs[0]]
    assert "not classified" in reasons[seqs[1]]


# ----------------------------------------------------------------------------- the whole path
@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A NEFER-layout tree (user 01 training with face boxes, user 03 validation cropped by detection),
    a tiny ViT checkpoint (random weights) for 32x32, N = 8 TBR, and bad input added to the tree."""
    import torch

    from nvlib.datasets.synthetic import generate_synthetic_nefer
    from nvlib.models import build_model
    from nvlib.train.checkpoint import save_checkpoint

    base = tmp_path_factory.mktemp("zs")
    root = generate_synthetic_nefer(base / "nefer", train_users=("01",), validation_users=("03",),
                                    face_boxes=("01",))
    ann = root / "annotations"
    # bad input: a user outside the split and a label outside the class list (appended sequences)
    for split, user, label in (("train", "03", "Fear"), ("train", "04", "Boredom")):
        seq = f"user{user}_2022-06-08_13-59-00_cd"
        with open(ann / "expected_emotions" / f"{split}_event.csv", "a") as f:
            f.writelines(f"user_{user},{seq},../event_frame_NEW/user_{user}/{seq}/frame_{i:02d}.png,{label}\n"
                         for i in range(51))
    raws = sorted((root / "event_raw" / "raw" / "user_01").glob("*.raw"))
    raws[0].unlink()  # a missing recording
    data = raws[1].read_bytes()
    raws[1].write_bytes(data[: len(data) // 3 + 1])  # a truncated one (cut inside a word)
    torch.manual_seed(0)
    model = build_model("vit", image_size=32, hidden_dim=32, mlp_dim=64)
    ck = save_checkpoint(base / "run" / "best.pt", model,
                         extra={"dataset_meta": {"size": 32, "n_bits": 8, "delta_t_us": 5000}})
    return root, ck, base, {"missing": raws[0].stem + "_cd", "truncated": raws[1].stem + "_cd"}


def test_whole_path_on_a_nefer_layout_tree(tree):
    root, ck, base, bad = tree
    res = Z.run_zero_shot(root, ck, cache_root=base / "cache")
    assert res.setting["size"] == 32 and res.setting["n_bits"] == 8 and res.setting["kind"] == "frame"
    t = res.table
    assert set(t["labels"]) == {"expected", "reported"} and len(t) == 2 * len(Z.METHODS)
    assert {"accuracy", "ci95_lo", "ci95_hi", "p_vs_chance", "macro_f1"} <= set(t.columns)
    assert (t["n"] == 7).all()  # user 03's seven validation sequences
    assert ((t["ci95_lo"] <= t["accuracy"]) & (t["accuracy"] <= t["ci95_hi"])).all()
    exp = res.problems[res.problems["labels"] == "expected"]
    by = {r["sequence"]: r for _, r in exp.iterrows()}
    assert by[bad["missing"]]["stage"] == "recording" and "no recording" in by[bad["missing"]]["reason"]
    assert by[bad["truncated"]]["stage"] == "recording"
    reasons = " ".join(exp["reason"])
    assert "for this split" in reasons and "unknown label 'Boredom'" in reasons
    # the two training classes without a recording have no template
    assert (exp["stage"] == "templates").sum() == 2
    tpl = res.templates["expected"]
    assert not set(tpl.sequences) & {p.sequence for p in res.profiles["expected"] if p.split == "validation"}
    assert len(tpl.sequences) == 5
    # user 03 has no published boxes: its crop comes from the event-count image (or the central fallback)
    val = [p for p in res.profiles["expected"] if p.split == "validation"]
    assert all(p.box_source != "published" for p in val)
    assert all(p.box_source == "published" for p in res.profiles["expected"] if p.split == "train")
    assert len(res.mcnemar["expected"]) == len(Z.METHODS) * (len(Z.METHODS) - 1) // 2


def test_wrong_checkpoint_setting_stops_naming_both(tree):
    root, ck, base, _ = tree
    with pytest.raises(Z.CheckpointSettingError, match=r"trained on 32x32 TBR frames, N = 8 bits.*asks for 32x32 "
                                                         r"TBR frames, N = 16 bits"):
        Z.run_zero_shot(root, ck, n_bits=16, cache_root=base / "cache")
    with pytest.raises(Z.CheckpointSettingError, match="64x64"):
        Z.run_zero_shot(root, ck, size=64, cache_root=base / "cache")


def test_command_writes_the_table(tree, tmp_path, capsys):
    from nvlib.cli import main

    root, ck, base, _ = tree
    rc = main(["zeroshot", "--nefer", str(root), "--checkpoint", str(ck), "--labels", "reported", "--out",
               str(tmp_path), "--cache", str(base / "cache"), "--quiet"])
    assert rc == 0
    table = pd.read_csv(tmp_path / "table5_zero_shot.csv")
    ours = table[table["labels"] == "reported"]
    assert len(ours) == len(Z.METHODS) and set(table["source"]) >= {"paper", "NEFER"}
    assert (tmp_path / "problems.csv").read_text().count("recording") >= 2
    assert "Wilson" in (tmp_path / "table5_zero_shot.md").read_text()
    rc = main(["zeroshot", "--nefer", str(root), "--checkpoint", str(ck), "--out", str(tmp_path), "--size", "48"])
    assert rc == 2 and "48x48" in capsys.readouterr().err
    json.loads(json.dumps(Z.checkpoint_setting(ck), default=str))  # plain data


def test_seed_table_means_over_seeds_and_keeps_one_models_interval():
    import pandas as pd

    from nvlib.experiments.zeroshot import seed_table

    def table(correct):
        from nvlib.evaluation.classification import accuracy_summary
        from nvlib.experiments.zeroshot import summary_row

        y = np.zeros(10, dtype=np.int64)
        pred = np.r_[np.zeros(correct), np.ones(10 - correct)].astype(np.int64)
        return pd.DataFrame([summary_row(accuracy_summary(y, pred, 7), labels="expected", method="F",
                                         source="ours", data="d", model="ViT")])

    out = seed_table({0: table(2), 1: table(6), 2: table(4)})
    assert len(out) == 1
    r = out.iloc[0]
    assert r["seeds"] == "0,1,2" and r["accuracies"] == "20.0, 60.0, 40.0"
    assert r["accuracy_mean"] == pytest.approx(40.0) and r["accuracy_std"] == pytest.approx(20.0)
    assert r["interval_seed"] == 2 and r["correct"] == 4 and r["n"] == 10  # the median seed's own counts
    from nvlib.evaluation.classification import wilson_interval

    lo, hi = wilson_interval(4, 10)
    assert r["ci95_lo"] == pytest.approx(100 * lo) and r["ci95_hi"] == pytest.approx(100 * hi)
