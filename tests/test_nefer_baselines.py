"""NEFER's supervised baselines (nvlib.experiments.nefer_baselines) on a tiny synthetic NEFER-layout tree:
clips read as written, the pipeline and its result reuse, no validation user in training, and a
trivially separable case learned beyond chance."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from nvlib.datasets import generate_synthetic_nefer  # noqa: E402
from nvlib.datasets.nefer import VALIDATION_USERS  # noqa: E402
from nvlib.datasets.nefer_torch import NEFERSequences, clip_indices, read_frame  # noqa: E402
from nvlib.experiments.nefer_baselines import COLUMNS, SOURCE, correct_by_sequence, run_nefer_baselines  # noqa: E402

CLASSES4 = ("Happiness", "Sadness", "Surprise", "Anger")
TRAIN, VAL = ("01", "02"), ("03", "07")
SMALL = dict(seeds=(0,), epochs=1, size=16, n_frames=4, width=0.125)


@pytest.fixture(autouse=True)
def _runs(tmp_path, monkeypatch):
    """Resume states go to a temporary runs/ folder."""
    monkeypatch.setenv("NVLIB_RUNS", str(tmp_path / "runs"))


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("nefer") / "nefer-synth"
    return generate_synthetic_nefer(root, train_users=TRAIN, validation_users=VAL, classes=CLASSES4, face_size=32,
                                    sensor_size=(64, 64), seed=3)


def _copy(tree: Path, dest: Path) -> Path:
    """The tree without its recordings (the baselines read frames only)."""
    return Path(shutil.copytree(tree, dest, ignore=shutil.ignore_patterns("event_raw")))


def _csv(root: Path, split: str, mod: str) -> Path:
    return root / "annotations" / "expected_emotions" / f"{split}_{mod}.csv"


def test_clip_indices_known_values():
    assert clip_indices(8).tolist() == [0, 7, 14, 21, 29, 36, 43, 50]
    assert clip_indices(2).tolist() == [0, 50]
    assert clip_indices(1).tolist() == [25]
    with pytest.raises(ValueError):
        clip_indices(52)


def test_clips_are_the_frames_as_written(tree, tmp_path):
    ev = NEFERSequences(tree, "validation", "expected", "events", n_frames=4, size=16)
    rgb = NEFERSequences(tree, "validation", "expected", "rgb", n_frames=4, size=16)
    assert len(ev) == len(rgb) == len(VAL) * len(CLASSES4) and ev.problems == []
    assert set(ev.users) == set(VAL) and ev.sequences == rgb.sequences
    x, y = ev[3]
    assert ev.indices.tolist() == [0, 17, 33, 50]
    assert x.shape == (4, 1, 16, 16) and y.item() == ev.targets[3]
    assert [ev.classes[t] for t in ev.targets[:4]] == list(CLASSES4)
    path = tree / "event_frames" / f"user_{ev.users[3]}" / ev.sequences[3] / "frame_33.png"  # 3rd of frames 0, 17, 33, 50
    want = cv2.resize(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), (16, 16), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(x[2, 0].numpy(), want / 255.0, atol=1e-6)
    xr, _ = rgb[3]
    assert xr.shape == (4, 3, 16, 16)
    # colour order: a pure blue PNG (BGR on disk) is channel 2 in RGB
    img = np.zeros((20, 20, 3), np.uint8)
    img[..., 0] = 200
    cv2.imwrite(str(tmp_path / "b.png"), img)
    got = read_frame(tmp_path / "b.png", 10, rgb=True)
    assert got.shape == (10, 10, 3) and got[..., 2].min() == 200 and got[..., :2].max() == 0


def test_pipeline_runs_and_reuses_results(tree, tmp_path):
    from scipy.stats import binomtest
    from sklearn.metrics import accuracy_score, f1_score

    res = tmp_path / "results"
    df = run_nefer_baselines(tree, results_root=res, **{**SMALL, "seeds": (0, 1)})
    assert list(df.columns) == list(COLUMNS) and len(df) == 4
    assert list(zip(df.modality, df.labels)) == [("events", "expected"), ("events", "reported"),
                                                 ("rgb", "expected"), ("rgb", "reported")]
    assert (df.source == SOURCE).all() and (df.data == "nefer-synth").all()
    assert df.n_classes.tolist() == [7, 8, 7, 8]
    np.testing.assert_allclose(df.chance, [1 / 7, 1 / 8, 1 / 7, 1 / 8])
    assert (df.n == 8).all() and (df.n_train == 8).all() and (df.n_trained == 2).all()
    preds = df.attrs["predictions"]
    for _, r in df.iterrows():
        for seed, acc in zip(r.seeds, r.accuracies):
            p = preds[(preds.modality == r.modality) & (preds.labels == r.labels) & (preds.seed == seed)]
            assert len(p) == 8 and set(p.user) == set(VAL)
            assert acc == pytest.approx(accuracy_score(p.true, p.pred))
            if seed == r.stats_seed:
                assert r.correct == int((p.true == p.pred).sum())
                present = sorted(set(p.true) | set(p.pred))
                assert r.macro_f1 == pytest.approx(f1_score(p.true, p.pred, labels=present, average="macro"))
                assert r.p_vs_chance == pytest.approx(binomtest(r.correct, 8, r.chance, "greater").pvalue)
                assert r.ci_lo <= r.accuracy <= r.ci_hi
        assert r.accuracy_mean == pytest.approx(np.mean(r.accuracies))
        assert r.accuracy_std == pytest.approx(np.std(r.accuracies, ddof=1))
    # each label version is scored against its own labels (the generator's reported labels differ
    # from the expected ones for every 3rd sequence)
    rep = preds[(preds.labels == "reported") & (preds.seed == 0) & (preds.modality == "events")]
    exp = preds[(preds.labels == "expected") & (preds.seed == 0) & (preds.modality == "events")]
    assert rep.sequence.tolist() == exp.sequence.tolist()
    assert (rep.true_name.values != exp.true_name.values).any()
    assert (exp.true_name.values == np.repeat([list(CLASSES4)], 2, axis=0).ravel()).all()
    files = sorted(p.name for p in res.glob("*.json"))
    assert len(files) == 8 and all(f.startswith("nefer_baseline_") for f in files)
    assert any("_events_reported_nefer-synth_seed1_" in f for f in files)
    assert len(correct_by_sequence(df, "rgb", "expected")) == 8
    assert not list((tmp_path / "runs").rglob("*.pt"))  # resume states go once the results are written

    again = run_nefer_baselines(tree, results_root=res, **{**SMALL, "seeds": (0, 1)})
    assert again.n_trained.tolist() == [0] * 4 and again.n_reused.tolist() == [2] * 4
    assert again.attrs["predictions"].equals(preds)
    other = run_nefer_baselines(tree, labels=("expected",), modalities=("events",), results_root=res,
                                **{**SMALL, "epochs": 2})
    assert other.n_trained.tolist() == [1]  # another configuration is another result


def test_validation_users_never_appear_in_training(tree, tmp_path):
    root = _copy(tree, tmp_path / "leaky")
    rows = _csv(root, "train", "event").read_text().splitlines()
    val_rows = {m: _csv(root, "validation", m).read_text().splitlines() for m in ("event", "gopro")}
    leaked = sorted({r.split(",")[1] for r in val_rows["event"] if r.startswith("user_03,")})
    for m in ("event", "gopro"):  # a validation user's sequences listed among the training ones
        with open(_csv(root, "train", m), "a") as f:
            f.write("".join(r + "\n" for r in val_rows[m] if r.startswith("user_03,")))
    rows = _csv(root, "train", "event").read_text().splitlines()  # now with user_03's rows at the end
    bad_label_seq = rows[0].split(",")[1]  # a label outside the class list
    _csv(root, "train", "event").write_text("".join(
        (r.rsplit(",", 1)[0] + ",Joy" if r.split(",")[1] == bad_label_seq else r) + "\n" for r in rows))
    missing_seq = [r for r in rows if r.startswith("user_02,")][-1].split(",")[1]  # a missing frame
    (root / "event_frames" / "user_02" / missing_seq / "frame_00.png").unlink()

    df = run_nefer_baselines(root, labels=("expected",), modalities=("events",), results_root=tmp_path / "r",
                             **SMALL)
    problems = df.attrs["problems"]
    reasons = " | ".join(problems.reason)
    assert "unknown user 'user_03' for this split" in reasons and "Joy" in reasons and "missing" in reasons
    assert set(leaked) <= set(problems.sequence) and bad_label_seq in set(problems.sequence)
    assert missing_seq in set(problems.sequence)
    assert df.n_problems.iloc[0] == len(problems) >= len(leaked) + 2
    assert df.n_train.iloc[0] == 8 - 2 and df.n.iloc[0] == 8
    doc = json.loads(next((tmp_path / "r").glob("*.json")).read_text())
    assert not set(doc["train"]["users"]) & set(VALIDATION_USERS)
    assert set(doc["train"]["users"]) <= set(TRAIN)
    assert not set(doc["train"]["sequences"]) & set(doc["predictions"]["sequence"])
    assert set(doc["validation_users"]) == set(VAL)


def test_a_trivially_separable_case_is_learned_beyond_chance(tree, tmp_path):
    """Event frames replaced by a bright block whose corner codes the class: any working classifier
    separates them; a broken one (labels shuffled, wrong targets, no training) stays near chance."""
    root = _copy(tree, tmp_path / "separable")
    for split in ("train", "validation"):
        seqs = {tuple(line.split(",")[i] for i in (0, 1, 3)) for line in _csv(root, split, "event").read_text().split()}
        for user, seq, label in sorted(seqs):
            c = CLASSES4.index(label)
            img = np.zeros((32, 32), np.uint8)
            r0, c0 = (c // 2) * 16, (c % 2) * 16
            img[r0:r0 + 16, c0:c0 + 16] = 255
            for f in (root / "event_frames" / user / seq).glob("frame_*.png"):
                cv2.imwrite(str(f), img)
    df = run_nefer_baselines(root, labels=("expected",), modalities=("events",), results_root=tmp_path / "r",
                             seeds=(0,), epochs=25, size=16, n_frames=2, width=0.125, batch_size=4, lr=3e-3)
    r = df.iloc[0]
    assert r.n == 8 and r.chance == pytest.approx(1 / 7)
    assert r.ci_lo > r.chance and r.p_vs_chance < 0.01, r.to_dict()


def test_split_guard_leaves_validation_sequences_out_of_training(tree):
    """Second line of defence behind the reader's split by user: a training entry whose id or user is
    also in the validation set is dropped from training and reported."""
    from nvlib.experiments.nefer_baselines import _split_guard

    tr = NEFERSequences(tree, "train", "expected", "events", n_frames=2, size=8)
    va = NEFERSequences(tree, "validation", "expected", "events", n_frames=2, size=8)
    tr.sequences[0] = va.sequences[0]
    tr.users[1] = va.users[1]
    problems = _split_guard(tr, va)
    assert len(problems) == 2 and len(tr) == len(tr.targets) == len(tr.frame_paths) == 6
    assert not set(tr.users) & set(va.users) and not set(tr.sequences) & set(va.sequences)
    assert tr.load().shape[0] == 6


def test_event_and_gopro_lists_out_of_step_are_reported(tree, tmp_path):
    """The reader pairs event and GoPro sequences by position; a sequence missing from one list
    shifts the pairing, and RGB clips would carry another sequence's label: such pairs are left out."""
    root = _copy(tree, tmp_path / "shifted")
    rows = _csv(root, "train", "event").read_text().splitlines()
    first = rows[0].split(",")[1]
    _csv(root, "train", "event").write_text("".join(r + "\n" for r in rows if r.split(",")[1] != first))
    ev = NEFERSequences(root, "train", "expected", "events", n_frames=2, size=8)
    rgb = NEFERSequences(root, "train", "expected", "rgb", n_frames=2, size=8)
    assert len(ev) == 7 and ev.problems == []
    assert len(rgb) == 4 and set(rgb.users) == {"02"}
    assert len(rgb.problems) == 3 and all("out of step" in p.reason for p in rgb.problems)


def test_training_resumes_where_it_stopped(tmp_path):
    """Stopped after 2 of 4 epochs and resumed from its checkpoint, training ends with the weights and
    losses of an uninterrupted run; a checkpoint of another configuration is not resumed."""
    import torch

    from nvlib.experiments.nefer_baselines import ClipClassifier, train_classifier
    from nvlib.train import seed_everything

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(10, 2, 1, 8, 8, generator=g), torch.arange(10) % 3
    kw = dict(batch_size=4, lr=1e-2, weight_decay=0.0, seed=5)

    def model():
        seed_everything(1)
        return ClipClassifier(3, width=0.125)

    full = model()
    h_full = train_classifier(full, x, y, epochs=4, **kw)
    ckpt = tmp_path / "state.pt"
    part = model()
    h_part = train_classifier(part, x, y, epochs=2, checkpoint=ckpt, key={"a": 1}, **kw)
    assert h_part == h_full[:2]
    resumed = model()
    h_res = train_classifier(resumed, x, y, epochs=4, checkpoint=ckpt, key={"a": 1}, **kw)
    assert h_res == pytest.approx(h_full, rel=1e-6)
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b)
    other = model()
    assert train_classifier(other, x, y, epochs=1, checkpoint=ckpt, key={"a": 2}, **kw) == pytest.approx(h_full[:1])
