"""Zero-shot emotion recognition on NEFER from predicted valence and arousal (Berlincioni et al.,
"Neuromorphic Valence and Arousal Estimation", Section 5.3 and Table 5).

A valence-arousal model trained on simulated events (any nvlib checkpoint, frame or video) is run,
without further training, on NEFER's real event recordings (Berlincioni et al., CVPRW 2023):

1. every recording (EVT 3.0) is read, cropped to the face and encoded as back-to-back TBR frames at the
   checkpoint's input size, bit depth N and slice length (the conversion of
   :func:`nvlib.convert.convert_nefer`: NEFER's face box where published, otherwise the face found on the
   event-count image, otherwise a central square);
2. the model predicts one ``(v, a)`` per TBR frame: the sequence's *profile* (T, 2);
3. the representative frame F is the frame whose ``(v, a)`` is farthest (Euclidean) from the profile's
   mean;
4. the template of a class is the mean ``(v, a)`` over every frame of every *training-split* sequence of
   that class (NEFER's 20 training users); validation sequences never enter a template
   (:func:`fit_templates` refuses a validation user);
5. the predicted class is the one whose template is nearest (Euclidean) to F.

Methods (:data:`METHODS`): ``paper`` is the above; the variants marked "ours" change one step: the mean
profile instead of F (``mean_profile``), the highest-arousal frame (``max_arousal``), Mahalanobis
distance to each class's frame distribution (``mahalanobis``: ``(x - mu)^T (S + r I)^-1 (x - mu)`` with
the class's frame covariance ``S`` and a small ridge ``r``), and the class of the nearest training
sequence's F (``nearest_profile``, 1-nearest neighbour).

Labels: "expected" (a-priori, the 7 classes of :data:`nvlib.datasets.nefer.CLASSES`) or "reported"
(self-reports: the 7 classes or "None"). "None" is handled as an 8th class: it gets a template from the
training sequences reported as None and can be predicted; chance is then 1/8. The paper builds 7
templates and does not say which label version Table 5 uses.

Bad input never stops the run and is never dropped silently: every sequence that is not classified,
and every frame left out of a profile, is a row of the problems table (:attr:`ZeroShotResult.problems`):
annotation rows the reader refuses (users outside the split, labels outside the class list, malformed
rows), recordings missing, truncated or unreadable, TBR windows without any event (left out of the
profile; a sequence with no event at all is not classified), classes without a training sequence (no
template), and faces that had to be cropped by the central fallback. A checkpoint whose input size,
bit depth or slice length differs from the one asked for stops the run with a
:class:`CheckpointSettingError` naming both settings.

Statistics per method (:mod:`nvlib.evaluation.classification`): accuracy with its 95 % Wilson
interval, exact one-sided binomial p-value against chance ``1/K``, macro-F1, per-class accuracy,
confusion matrix, and McNemar's exact test between any two methods scored on the same sequences.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from nvlib.evaluation.classification import accuracy_summary, mcnemar_test, wilson_interval, binomial_p_value

LABEL_VERSIONS = ("expected", "reported")

#: method key -> (frame rule, matcher, display name, source)
METHODS: dict[str, tuple[str, str, str, str]] = {
    "paper": ("farthest", "template", "farthest frame F, nearest template (paper Sec. 5.3)", "ours, paper's method"),
    "mean_profile": ("mean", "template", "mean profile, nearest template", "ours, variant"),
    "max_arousal": ("max_arousal", "template", "highest-arousal frame, nearest template", "ours, variant"),
    "mahalanobis": ("farthest", "mahalanobis", "farthest frame F, Mahalanobis template", "ours, variant"),
    "nearest_profile": ("farthest", "nearest_profile", "farthest frame F, nearest training sequence's F",
                        "ours, variant"),
}
FRAME_RULES = ("farthest", "mean", "max_arousal")


class CheckpointSettingError(ValueError):
    """A checkpoint trained on another input size, bit depth or slice length than the run asks for."""


def classes_for(labels: str) -> tuple[str, ...]:
    """The class list of a label version (reported: the 7 classes + "None")."""
    from nvlib.datasets.nefer import CLASSES, REPORTED_CLASSES

    if labels == "expected":
        return tuple(CLASSES)
    if labels == "reported":
        return tuple(REPORTED_CLASSES)
    raise ValueError(f"labels must be 'expected' or 'reported', got {labels!r}")


# ----------------------------------------------------------------------------- profiles and templates
@dataclass
class SequenceProfile:
    """The per-frame ``(v, a)`` predictions of one sequence.

    ``va``: (T, 2) float64 (frames without events already left out); ``frames``: (T,) TBR frame indices;
    ``split``: "train" or "validation" (NEFER's published split); ``n_empty``: TBR windows without events.
    """

    sequence: str
    user: str
    split: str
    label: str
    va: np.ndarray
    frames: np.ndarray | None = None
    n_empty: int = 0
    box_source: str = ""

    def __post_init__(self):
        self.va = np.asarray(self.va, dtype=np.float64).reshape(-1, 2)
        if self.frames is None:
            self.frames = np.arange(len(self.va))


def representative_index(va: np.ndarray, rule: str = "farthest") -> int:
    """The frame that stands for a profile: ``farthest`` from the profile's mean (Euclidean; the first
    one on ties), or ``max_arousal`` (the highest arousal)."""
    va = np.asarray(va, dtype=np.float64).reshape(-1, 2)
    if len(va) == 0:
        raise ValueError("an empty profile has no representative frame")
    if rule == "farthest":
        return int(np.argmax(np.linalg.norm(va - va.mean(axis=0), axis=1)))
    if rule == "max_arousal":
        return int(np.argmax(va[:, 1]))
    raise ValueError(f"no frame index for rule {rule!r} (frame rules: farthest, max_arousal)")


def representative_point(va: np.ndarray, rule: str = "farthest") -> np.ndarray:
    """``(v, a)`` that stands for a profile under ``rule`` (:data:`FRAME_RULES`; ``mean``: the profile mean)."""
    va = np.asarray(va, dtype=np.float64).reshape(-1, 2)
    if rule not in FRAME_RULES:
        raise ValueError(f"unknown frame rule {rule!r}; choose one of {FRAME_RULES}")
    if len(va) == 0:
        raise ValueError("an empty profile has no representative point")
    if rule == "mean":
        return va.mean(axis=0)
    return va[representative_index(va, rule)]


@dataclass
class Templates:
    """Per-class templates from the training split.

    ``means`` (K, 2): mean ``(v, a)`` over every frame of every training sequence of the class (NaN: no
    training sequence); ``covs`` (K, 2, 2): the frames' covariance (ridge added, see module docstring);
    ``n_frames``, ``n_sequences`` (K,); ``sequences``: the training sequence ids used; ``train``: the
    training profiles (for the nearest-profile method).
    """

    classes: tuple
    means: np.ndarray
    covs: np.ndarray
    n_frames: np.ndarray
    n_sequences: np.ndarray
    sequences: tuple
    train: list = field(default_factory=list)

    @property
    def available(self) -> np.ndarray:
        return ~np.isnan(self.means[:, 0])


def fit_templates(profiles: Iterable[SequenceProfile], classes: Sequence[str], ridge: float = 1e-3) -> Templates:
    """Templates from the training-split profiles among ``profiles`` (others are ignored).

    Raises ``ValueError`` when a profile marked "train" belongs to one of NEFER's validation users (a
    leak of the test split into the templates) or carries a label outside ``classes``.
    """
    from nvlib.datasets.nefer import VALIDATION_USERS

    classes = tuple(classes)
    train = [p for p in profiles if p.split == "train"]
    for p in train:
        if p.user in VALIDATION_USERS:
            raise ValueError(f"sequence {p.sequence}: user {p.user} is a NEFER validation user and cannot build "
                             "a template (validation sequences never enter a template)")
        if p.label not in classes:
            raise ValueError(f"sequence {p.sequence}: label {p.label!r} outside the classes {classes}")
    K = len(classes)
    means = np.full((K, 2), np.nan)
    covs = np.tile(np.eye(2), (K, 1, 1))
    n_frames = np.zeros(K, np.int64)
    n_seq = np.zeros(K, np.int64)
    all_frames = [p.va for p in train if len(p.va)]
    pooled = np.cov(np.concatenate(all_frames).T) if all_frames and sum(map(len, all_frames)) > 1 else np.eye(2)
    r = ridge * max(float(np.trace(pooled)) / 2, 1e-6)
    for k, c in enumerate(classes):
        frames = [p.va for p in train if p.label == c and len(p.va)]
        if not frames:
            continue
        x = np.concatenate(frames)
        means[k] = x.mean(axis=0)
        covs[k] = (np.cov(x.T) if len(x) > 1 else np.zeros((2, 2))) + r * np.eye(2)
        n_frames[k], n_seq[k] = len(x), len(frames)
    return Templates(classes, means, covs, n_frames, n_seq, tuple(p.sequence for p in train if len(p.va)),
                     [p for p in train if len(p.va)])


def classify_points(points: np.ndarray, templates: Templates, matcher: str = "template",
                    frame_rule: str = "farthest") -> np.ndarray:
    """Class index per point (N, 2): nearest template (``template``, Euclidean), Mahalanobis
    (``mahalanobis``) or the class of the nearest training sequence's representative point under
    ``frame_rule`` (``nearest_profile``). Classes without a template are never predicted."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    ok = templates.available
    if not ok.any():
        raise ValueError("no class has a template (no training sequence)")
    if matcher == "template":
        d = np.linalg.norm(pts[:, None, :] - templates.means[None], axis=2)
    elif matcher == "mahalanobis":
        inv = np.linalg.inv(templates.covs)
        diff = pts[:, None, :] - templates.means[None]
        d = np.einsum("nki,kij,nkj->nk", diff, inv, diff)
    elif matcher == "nearest_profile":
        ref = np.stack([representative_point(p.va, frame_rule) for p in templates.train])
        lab = np.array([templates.classes.index(p.label) for p in templates.train])
        dd = np.linalg.norm(pts[:, None, :] - ref[None], axis=2)
        return lab[np.argmin(dd, axis=1)]
    else:
        raise ValueError(f"unknown matcher {matcher!r}")
    d = np.where(ok[None, :], d, np.inf)
    return np.argmin(d, axis=1)


def predict_sequences(profiles: Sequence[SequenceProfile], templates: Templates, method: str = "paper"
                      ) -> np.ndarray:
    """Predicted class index of each profile under ``method`` (:data:`METHODS`)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")
    rule, matcher = METHODS[method][:2]
    if not profiles:
        return np.zeros(0, np.int64)
    pts = np.stack([representative_point(p.va, rule) for p in profiles])
    return classify_points(pts, templates, matcher, rule)


def evaluate_profiles(profiles: Sequence[SequenceProfile], classes: Sequence[str], methods=tuple(METHODS),
                      test_split: str = "validation") -> tuple[Templates, pd.DataFrame, dict]:
    """Templates from the training profiles, predictions on the ``test_split`` profiles by every method.

    Returns ``(templates, predictions, summaries)``: ``predictions`` one row per (method, sequence)
    (method, sequence, user, label, true, pred, predicted, correct); ``summaries``
    ``{method: accuracy_summary(...)}``.
    """
    classes = tuple(classes)
    templates = fit_templates(profiles, classes)
    test = [p for p in profiles if p.split == test_split]
    y = np.array([classes.index(p.label) for p in test], dtype=np.int64)
    rows, summaries = [], {}
    for m in methods:
        pred = predict_sequences(test, templates, m)
        summaries[m] = accuracy_summary(y, pred, len(classes))
        for p, t, q in zip(test, y, pred):
            rows.append({"method": m, "sequence": p.sequence, "user": p.user, "label": p.label, "true": int(t),
                         "pred": int(q), "predicted": classes[int(q)], "correct": bool(t == q)})
    cols = ["method", "sequence", "user", "label", "true", "pred", "predicted", "correct"]
    return templates, pd.DataFrame(rows, columns=cols), summaries


def mcnemar_table(predictions: pd.DataFrame, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """McNemar's exact test between every pair of methods scored on the same sequences of ``predictions``
    (one row per pair: a, b, n, a_only (right under a only), b_only, p_value, test)."""
    methods = list(methods or dict.fromkeys(predictions["method"]))
    ok = {m: predictions[predictions["method"] == m].set_index("sequence")["correct"] for m in methods}
    rows = []
    for i, a in enumerate(methods):
        for b in methods[i + 1:]:
            common = ok[a].index.intersection(ok[b].index)
            r = mcnemar_test(ok[a].loc[common].to_numpy(), ok[b].loc[common].to_numpy())
            rows.append({"a": a, "b": b, "n": r["n"], "a_only": r["b"], "b_only": r["c"], "p_value": r["p_value"],
                         "test": r["test"]})
    return pd.DataFrame(rows, columns=["a", "b", "n", "a_only", "b_only", "p_value", "test"])


def summary_row(summary: dict, **facts) -> dict:
    """A Table 5 row: ``facts`` then accuracy (%), its Wilson interval (%), chance (%), p vs chance,
    macro-F1 and the counts."""
    return {**facts, "n": summary["n"], "correct": summary["correct"], "accuracy": 100 * summary["accuracy"],
            "ci95_lo": 100 * summary["ci_lo"], "ci95_hi": 100 * summary["ci_hi"], "chance": 100 * summary["chance"],
            "p_vs_chance": summary["p_vs_chance"], "macro_f1": summary["macro_f1"]}


def paper_rows(n_classes: int = 7) -> list[dict]:
    """Table 5 as published (``params/paper_results.yaml``, key ``table5``), marked by source. Where the
    number of test sequences is known (the paper's rows: NEFER's 125 validation sequences) the count
    ``k = round(acc * n)``, its Wilson interval and p against ``1/n_classes`` chance are filled in;
    NEFER's own rows publish no count, so those columns stay empty."""
    from nvlib.experiments.paper import paper_results

    out = []
    for rid, r in paper_results()["table5"]["rows"].items():
        row = {"labels": "not stated", "method": r["label"], "source": r["source"], "data": f"{r['train']} -> "
               f"{r['test']} (published)", "model": r.get("model", ""), "n": None, "correct": None,
               "accuracy": float(r["accuracy"]), "ci95_lo": None, "ci95_hi": None, "chance": 100 / n_classes,
               "p_vs_chance": None, "macro_f1": None}
        n = r.get("n")
        if n:
            k = int(round(r["accuracy"] / 100 * n))
            lo, hi = wilson_interval(k, n)
            row.update(n=int(n), correct=k, ci95_lo=100 * lo, ci95_hi=100 * hi,
                       p_vs_chance=binomial_p_value(k, n, 1 / n_classes))
        out.append(row)
    return out


# ----------------------------------------------------------------------------- checkpoints
def checkpoint_setting(checkpoint) -> dict:
    """What a checkpoint was trained on: ``{"model", "kind" (frame/video), "size", "n_bits",
    "delta_t_us", "chunk", "from"}`` read from the checkpoint (``extra``/``config`` ``dataset_meta``)
    or its run folder's ``config.json`` (``run.dataset_meta``); unknown values are None."""
    from nvlib.models import model_kind
    from nvlib.train.checkpoint import read_checkpoint

    path = Path(checkpoint)
    ck = read_checkpoint(path)
    meta, chunk, where = None, None, None
    for key in ("extra", "config"):
        d = ck.get(key) or {}
        if isinstance(d.get("dataset_meta"), dict):
            meta, chunk, where = d["dataset_meta"], d.get("chunk"), f"{path} ({key})"
            break
    conf = path.parent / "config.json"
    if meta is None and conf.is_file():
        try:
            run = json.loads(conf.read_text()).get("run", {})
        except (OSError, ValueError) as e:
            raise ValueError(f"{conf}: cannot read the run's configuration ({e})") from e
        if isinstance(run.get("dataset_meta"), dict):
            meta, chunk, where = run["dataset_meta"], run.get("chunk"), str(conf)
    meta = meta or {}
    name = ck["model_name"]
    return {"model": name, "kind": model_kind(name), "size": meta.get("size"), "n_bits": meta.get("n_bits"),
            "delta_t_us": meta.get("delta_t_us"), "from": where,
            "chunk": int((ck.get("model_cfg") or {}).get("chunk") or chunk or 6),
            "model_cfg": dict(ck.get("model_cfg") or {})}


def _setting_text(size, n_bits, dt) -> str:
    s = f"{size}x{size}" if size else "unknown size"
    return f"{s} TBR frames, N = {n_bits if n_bits else '?'} bits, dt = {dt if dt else '?'} us"


def resolve_setting(setting: dict, checkpoint, size=None, n_bits=None, delta_t_us=None) -> tuple[int, int, int]:
    """The ``(size, n_bits, delta_t_us)`` a run uses: the checkpoint's, where given values agree.

    Raises :class:`CheckpointSettingError` naming both settings when a given value differs from the
    checkpoint's, or when neither names it."""
    want = {"size": size, "n_bits": n_bits, "delta_t_us": delta_t_us}
    have = {k: setting.get(k) for k in want}
    clash = [k for k in want if want[k] is not None and have[k] is not None and int(want[k]) != int(have[k])]
    if clash:
        raise CheckpointSettingError(
            f"checkpoint {checkpoint} was trained on {_setting_text(have['size'], have['n_bits'], have['delta_t_us'])}"
            f"; this run asks for {_setting_text(want['size'] or have['size'], want['n_bits'] or have['n_bits'], want['delta_t_us'] or have['delta_t_us'])}"
            f" (differs in {', '.join(clash)}): use a checkpoint trained at that setting or drop the option")
    out = {k: int(want[k] if want[k] is not None else have[k]) if (want[k] or have[k]) else None for k in want}
    if out["delta_t_us"] is None:
        out["delta_t_us"] = 5000  # the paper's slice length (Sec. 4)
    missing = [k for k in ("size", "n_bits") if out[k] is None]
    if missing:
        raise CheckpointSettingError(f"checkpoint {checkpoint} does not record its input {', '.join(missing)} "
                                     "(no dataset_meta in it or its run folder's config.json): pass them")
    return out["size"], out["n_bits"], out["delta_t_us"]


def load_zero_shot_model(checkpoint, size: int, chunk: int = 6):
    """The checkpoint's model in eval mode, checked on one ``size`` x ``size`` input (video models: one
    chunk of ``chunk`` frames)."""
    import torch

    from nvlib.models import model_kind
    from nvlib.train.checkpoint import load_model

    model = load_model(checkpoint).eval()
    kind = model_kind(model.model_name) if hasattr(model, "model_name") else "frame"
    x = torch.zeros((1, 1, size, size)) if kind == "frame" else torch.zeros((1, chunk, 1, size, size))
    try:
        with torch.no_grad():
            model(x)
    except Exception as e:  # noqa: BLE001 - re-raised naming the file and the input
        raise CheckpointSettingError(f"checkpoint {checkpoint}: the model does not accept {size}x{size} TBR frames "
                                     f"({type(e).__name__}: {e})") from e
    return model


# ----------------------------------------------------------------------------- running a model over a cache
def predict_cache(model, cache_dir, kind: str = "frame", chunk: int = 6, batch_size: int = 64, device: str = "cpu",
                  drop_empty: bool = True) -> dict:
    """Per-clip ``(v, a)`` of every TBR frame in a converted cache: ``{clip: {"va": (T, 2), "frames": (T,),
    "n_empty": int, "n_frames": int}}``. Video models see every window of ``chunk`` frames (stride 1);
    a frame in several windows gets the mean of its predictions. Frames without events are left out
    (``drop_empty``) and counted."""
    from nvlib.datasets import cache as C
    from nvlib.datasets.cache import ChunkDataset, FrameDataset
    from nvlib.evaluation.predict import predict

    index = C.load_index(cache_dir)
    clips = [e["clip"] for e in C.select_clips(index, None, None)]
    empty = {}
    for c in clips:
        codes = np.load(Path(cache_dir) / "clips" / c / "frames.npy", mmap_mode="r")
        empty[c] = np.asarray(codes).reshape(len(codes), -1).max(axis=1) == 0 if len(codes) else np.zeros(0, bool)
    if kind == "video":
        ds = ChunkDataset(cache_dir, None, chunk=chunk, stride=1)
    else:
        ds = FrameDataset(cache_dir, None)
    out = {c: {"va": np.zeros((0, 2)), "frames": np.zeros(0, np.int64), "n_empty": int(empty[c].sum()),
               "n_frames": int(len(empty[c]))} for c in clips}
    if len(ds):
        p = predict(model, ds, batch_size=batch_size, device=device)
        clip_arr = np.asarray(p["clip"])
        for c in clips:
            sel = clip_arr == c
            va, idx = p["pred"][sel], p["index"][sel]
            order = np.argsort(idx, kind="stable")
            va, idx = va[order], idx[order]
            if drop_empty:
                keep = ~empty[c][idx]
                va, idx = va[keep], idx[keep]
            out[c]["va"], out[c]["frames"] = va, idx
    return out


# ----------------------------------------------------------------------------- the whole run
@dataclass
class ZeroShotResult:
    """One zero-shot run of a checkpoint over a NEFER tree.

    ``table``: one row per (label version, method) (:func:`summary_row` columns); ``predictions``
    {labels: DataFrame}; ``summaries`` {labels: {method: accuracy_summary}}; ``templates`` {labels:
    Templates}; ``profiles`` {labels: [SequenceProfile]}; ``problems``: DataFrame (labels, stage,
    sequence, file, reason); ``mcnemar`` {labels: DataFrame}; ``setting``: the checkpoint's setting;
    ``cache_dir``: the converted NEFER cache.
    """

    table: pd.DataFrame
    predictions: dict
    summaries: dict
    templates: dict
    profiles: dict
    problems: pd.DataFrame
    mcnemar: dict
    setting: dict
    cache_dir: Path
    data: str = ""

    def problem_counts(self) -> pd.DataFrame:
        """Problems counted by label version and stage."""
        if self.problems.empty:
            return pd.DataFrame(columns=["labels", "stage", "count"])
        return self.problems.groupby(["labels", "stage"]).size().rename("count").reset_index()


PROBLEM_COLUMNS = ["labels", "stage", "sequence", "file", "reason"]


def nefer_profiles(nefer_root, clip_predictions: dict, cache_dir, labels: str, annotations_dir=None
                   ) -> tuple[list[SequenceProfile], list[dict]]:
    """Profiles of every sequence listed for ``labels`` in both splits, and the problems (dict rows):
    reader problems, sequences without a converted recording, frames and sequences without events,
    faces cropped by the central fallback."""
    from nvlib.datasets import cache as C
    from nvlib.datasets.nefer import NEFER

    skipped = {r["clip"]: r for r in C.read_skipped(cache_dir)}
    profiles, problems = [], []
    for split in ("train", "validation"):
        ds = NEFER(nefer_root, split, labels, "events", annotations_dir=annotations_dir, load=None)
        problems += [{"labels": labels, "stage": "annotations", "sequence": p.sequence, "file": f"{p.file}:{p.row}",
                      "reason": p.reason} for p in ds.problems]
        for e, _g in ds.entries:
            seq = e.sequence
            pred = clip_predictions.get(seq)
            if pred is None:
                r = skipped.get(seq)
                problems.append({"labels": labels, "stage": "recording", "sequence": seq,
                                 "file": r["file"] if r else "", "reason": r["reason"] if r else
                                 "not in the converted cache"})
                continue
            info = C.clip_info(cache_dir, seq) or {}
            if pred["n_empty"]:
                whole = len(pred["va"]) == 0
                problems.append({"labels": labels, "stage": "events", "sequence": seq, "file": "",
                                 "reason": (f"none of its {pred['n_frames']} TBR windows holds an event: not classified"
                                            if whole else f"{pred['n_empty']} of {pred['n_frames']} TBR windows hold "
                                            "no event (left out of the profile)")})
                if whole:
                    continue
            if len(pred["va"]) == 0:
                problems.append({"labels": labels, "stage": "events", "sequence": seq, "file": "",
                                 "reason": "no TBR frame: not classified"})
                continue
            src = str(info.get("box_source", ""))
            if src.startswith("centre"):
                problems.append({"labels": labels, "stage": "face", "sequence": seq, "file": "",
                                 "reason": "no published face box and no face detected: central square used"})
            profiles.append(SequenceProfile(seq, e.user, split, e.label, pred["va"], pred["frames"], pred["n_empty"],
                                            src))
    return profiles, problems


def run_zero_shot(nefer_root, checkpoint, labels: Sequence[str] = LABEL_VERSIONS, *, size: int | None = None,
                  n_bits: int | None = None, delta_t_us: int | None = None, cache_root=None,
                  methods: Sequence[str] = tuple(METHODS), batch_size: int = 64, device: str = "cpu",
                  workers: int = 0, progress: bool = False, annotations_dir=None, data: str | None = None,
                  model_label: str | None = None) -> ZeroShotResult:
    """Zero-shot NEFER classification with ``checkpoint`` (see the module docstring).

    The recordings are converted once (``nvlib.convert.convert_nefer`` into ``cache_root``, default
    ``data/converted``; a finished conversion is reused) at the checkpoint's setting; ``size``,
    ``n_bits``, ``delta_t_us`` only check it. ``data`` names the data in the table (default: the
    root's folder name).
    """
    from nvlib.convert import convert_nefer
    from nvlib.models import DISPLAY_NAMES

    labels = [labels] if isinstance(labels, str) else list(labels)
    for lab in labels:
        classes_for(lab)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {list(METHODS)}")
    root = Path(nefer_root)
    if not root.is_dir():
        raise FileNotFoundError(f"NEFER root {root} is not a folder")
    setting = checkpoint_setting(checkpoint)
    S, N, dt = resolve_setting(setting, checkpoint, size, n_bits, delta_t_us)
    setting = {**setting, "size": S, "n_bits": N, "delta_t_us": dt, "checkpoint": str(checkpoint)}
    model = load_zero_shot_model(checkpoint, S, setting["chunk"])
    conv = convert_nefer(root, cache_root, "expected", n_bits=N, delta_t_us=dt, size=S, workers=workers,
                         progress=progress, annotations_dir=annotations_dir, max_skip=1.0)
    cache_dir = conv.cache_dir
    preds = predict_cache(model, cache_dir, setting["kind"], setting["chunk"], batch_size, device)
    data = data or f"{root.name} (NEFER layout)"
    mlabel = model_label or DISPLAY_NAMES.get(setting["model"], setting["model"])
    rows, problems = [], []
    out_pred, out_sum, out_tpl, out_prof, out_mc = {}, {}, {}, {}, {}
    for lab in labels:
        classes = classes_for(lab)
        profiles, probs = nefer_profiles(root, preds, cache_dir, lab, annotations_dir)
        problems += probs
        templates, pred_df, sums = evaluate_profiles(profiles, classes, methods)
        for k, c in enumerate(classes):
            if not templates.available[k]:
                problems.append({"labels": lab, "stage": "templates", "sequence": "", "file": "",
                                 "reason": f"class {c} has no training sequence: no template (never predicted)"})
        for m in methods:
            rows.append(summary_row(sums[m], labels=lab, method=METHODS[m][2], source=METHODS[m][3], data=data,
                                    model=mlabel))
        out_pred[lab], out_sum[lab], out_tpl[lab], out_prof[lab] = pred_df, sums, templates, profiles
        out_mc[lab] = mcnemar_table(pred_df, methods)
    return ZeroShotResult(pd.DataFrame(rows), out_pred, out_sum, out_tpl, out_prof,
                          pd.DataFrame(problems, columns=PROBLEM_COLUMNS), out_mc, setting, Path(cache_dir), data)


# ----------------------------------------------------------------------------- data for the default run
def prepare_synthetic_nefer(out_dir=None, train_users=("01", "02"), validation_users=("03",), seed: int = 0,
                            face_boxes=True) -> Path:
    """A NEFER-layout tree from :func:`nvlib.datasets.synthetic.generate_synthetic_nefer` under
    ``<out_dir or data/converted>/synthetic_nefer_<users>_seed<seed>``, generated once (a ``.complete``
    marker with the parameters is written last; another marker regenerates)."""
    from nvlib.datasets.synthetic import generate_synthetic_nefer
    from nvlib.workbook.atomic import write_text
    from nvlib.workbook.paths import data_dir

    base = Path(out_dir) if out_dir is not None else data_dir() / "converted"
    fb = face_boxes if isinstance(face_boxes, bool) else sorted(face_boxes)
    tag = f"t{''.join(train_users)}_v{''.join(validation_users)}"
    root = base / f"synthetic_nefer_{tag}_seed{seed}{'' if fb is True else '_fb' + ''.join(fb or ['none'])}"
    marker = {"train_users": list(train_users), "validation_users": list(validation_users), "seed": seed,
              "face_boxes": fb}
    done = root / ".complete"
    if done.is_file():
        try:
            if json.loads(done.read_text()) == marker:
                return root
        except ValueError:
            pass
    if root.exists():
        import shutil

        shutil.rmtree(root)
    generate_synthetic_nefer(root, train_users=tuple(train_users), validation_users=tuple(validation_users),
                             seed=seed, face_boxes=face_boxes)
    write_text(done, json.dumps(marker, sort_keys=True))
    return root


def sample_clip_profiles(model, setting: dict, names=None, batch_size: int = 64, device: str = "cpu",
                         out_dir=None) -> tuple[list[SequenceProfile], dict]:
    """Profiles of the real sample clips (CREMA-D actor 1001's six acted emotions by default), simulated
    to events and TBR-encoded at the checkpoint's setting (:func:`nvlib.convert.prepare_sample_clips`).

    Each profile's label is the acted emotion mapped to NEFER's reported classes (anger -> Anger,
    disgust -> Disgust, fear -> Fear, happy -> Happiness, sad -> Sadness, neutral -> None); its split
    is "sample". Returns ``(profiles, predictions by clip)``."""
    from nvlib.convert import prepare_sample_clips
    from nvlib.datasets import cache as C
    from nvlib.datasets.samples import CREMA_CODES

    names = list(names) if names is not None else [f"crema_1001_{c}" for c in ("ANG", "DIS", "FEA", "HAP", "NEU",
                                                                                "SAD")]
    to_nefer = {"anger": "Anger", "disgust": "Disgust", "fear": "Fear", "happy": "Happiness", "sad": "Sadness",
                "neutral": "None"}
    cache = prepare_sample_clips(out_dir, names=names, n_bits=setting["n_bits"], size=setting["size"],
                                 delta_t_us=setting["delta_t_us"])
    preds = predict_cache(load_zero_shot_model(setting["checkpoint"], setting["size"], setting["chunk"])
                          if model is None else model,
                          cache, setting["kind"], setting["chunk"], batch_size, device)
    profiles = []
    for name in names:
        if name not in preds or len(preds[name]["va"]) == 0:
            continue
        code = name.rsplit("_", 1)[1]
        profiles.append(SequenceProfile(name, "crema_1001", "sample", to_nefer[CREMA_CODES[code]], preds[name]["va"],
                                        preds[name]["frames"], preds[name]["n_empty"],
                                        str((C.clip_info(cache, name) or {}).get("box_source", ""))))
    return profiles, preds


# ----------------------------------------------------------------------------- workbook helpers
def run_checkpoint(run) -> Path:
    """``best.pt`` of one :class:`nvlib.experiments.seeds.SeedRun` (its result names its run folder,
    stored relative to the repository)."""
    doc = run.doc or {}
    run_dir = doc.get("run_dir") or (doc.get("extra") or {}).get("run_dir")
    if not run_dir:
        raise ValueError(f"{run.path}: the result names no run folder (run_dir)")
    from nvlib.workbook.paths import repo_root, runs_dir

    rd = Path(run_dir)
    candidates = [rd] if rd.is_absolute() else [rd, repo_root() / rd]
    candidates.append(runs_dir() / "experiments" / rd.name)
    path = next((c / "best.pt" for c in candidates if (c / "best.pt").is_file()), rd / "best.pt")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the checkpoint of {run.path} is gone; retrain it "
                                "(delete the result file) or pass a checkpoint")
    return path


def workbook_checkpoint(results) -> Path:
    """``best.pt`` of the median-seed run of a :class:`nvlib.experiments.SeedResults` (a typical run, as
    the notebooks' figures use)."""
    return run_checkpoint(results.median_run())


def seed_checkpoints(results) -> dict[int, Path]:
    """``{seed: best.pt}`` of every run of a :class:`nvlib.experiments.SeedResults` (one fold)."""
    return {int(r.seed): run_checkpoint(r) for r in results.runs}


def seed_table(tables: dict) -> pd.DataFrame:
    """Table 5 rows over training seeds: ``tables`` ``{seed: ZeroShotResult.table}`` of one model's
    checkpoints (one per seed) -> one row per (model, labels, method) with ``accuracy_mean`` and
    ``accuracy_std`` (%, ddof 1) and ``macro_f1_mean`` over seeds, the per-seed accuracies, and the
    counts, Wilson interval and p-value of the median-accuracy seed (an interval belongs to one model's
    predictions on the n test sequences; pooling seeds would count each sequence several times)."""
    from nvlib.evaluation.stats import mean_std

    seeds = sorted(tables)
    frame = pd.concat([tables[s].assign(seed=s) for s in seeds], ignore_index=True)
    keys = ["model", "labels", "method", "source", "data"]
    rows = []
    for _, g in frame.groupby(keys, sort=False):
        g = g.sort_values("seed")
        acc = g["accuracy"].to_numpy(float)
        m, sd = mean_std(acc) if len(acc) > 1 else (float(acc[0]), float("nan"))
        med = g.iloc[int(np.argsort(acc, kind="stable")[(len(acc) - 1) // 2])]
        rows.append({**{k: med[k] for k in keys}, "seeds": ",".join(str(int(x)) for x in g["seed"]),
                     "accuracy_mean": m, "accuracy_std": sd,
                     "accuracies": ", ".join(f"{a:.1f}" for a in acc),
                     "macro_f1_mean": float(g["macro_f1"].mean()), "interval_seed": int(med["seed"]),
                     "n": med["n"], "correct": med["correct"], "accuracy": med["accuracy"],
                     "ci95_lo": med["ci95_lo"], "ci95_hi": med["ci95_hi"], "chance": med["chance"],
                     "p_vs_chance": med["p_vs_chance"], "macro_f1": med["macro_f1"]})
    return pd.DataFrame(rows)


def baseline_rows(baselines: pd.DataFrame) -> list[dict]:
    """Rows of :func:`nvlib.experiments.nefer_baselines.run_nefer_baselines` in Table 5's columns
    (percent); ``accuracy`` etc. are its ``stats_seed`` model's, ``seeds_mean_std`` the mean ± std over
    its seeds."""
    out = []
    for _, r in baselines.iterrows():
        ms = (f"{100 * r['accuracy_mean']:.1f} ± {100 * r['accuracy_std']:.1f} ({len(r['seeds'])} seeds)"
              if r.get("accuracy_std") == r.get("accuracy_std") else f"{100 * r['accuracy_mean']:.1f} (1 seed)")
        n = int(r["n"]) if r["n"] == r["n"] else 0
        out.append({"labels": r["labels"], "method": r["method"], "source": r["source"], "data": r["data"],
                    "model": f"{r['modality']} 3D CNN (ours, supervised)", "n": n,
                    "correct": None if r["correct"] != r["correct"] else int(r["correct"]),
                    "accuracy": 100 * r["accuracy"], "ci95_lo": 100 * r["ci_lo"], "ci95_hi": 100 * r["ci_hi"],
                    "chance": 100 * r["chance"], "p_vs_chance": r["p_vs_chance"], "macro_f1": r["macro_f1"],
                    "seeds_mean_std": ms})
    return out


def mcnemar_against(predictions: pd.DataFrame, method: str, other: pd.Series, other_name: str) -> dict:
    """McNemar's exact test of one zero-shot ``method`` against another method's per-sequence
    correctness ``other`` (a boolean Series indexed by sequence id), on the sequences both scored."""
    ours = predictions[predictions["method"] == method].set_index("sequence")["correct"].astype(bool)
    common = ours.index.intersection(other.index)
    r = mcnemar_test(ours.loc[common].to_numpy(), other.loc[common].astype(bool).to_numpy())
    return {"a": method, "b": other_name, "n": r["n"], "a_only": r["b"], "b_only": r["c"], "p_value": r["p_value"],
            "test": r["test"]}
