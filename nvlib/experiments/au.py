"""Action-unit classification with a spiking network, events against RGB (Mastropasqua et al., ICCV-W 2025).

The paper reports AU classification *accuracy* with spiking networks, 51.23 % from events against
23.12 % from RGB, on its own (unreleased) recordings. Accuracy of one class per clip is the single-label
task, so here each clip has one class: its set of AUs (:attr:`nvlib.datasets.micro.MicroClip.label`);
per-class F1 (one class against the rest) is reported beside it. Chance is ``1 / K`` for K balanced
classes; the test set's majority-class share is reported too.

Inputs (:func:`prepare_au`), both ``size`` x ``size`` and from the same clips:

- events: T time steps of ``window_ms`` (TBR slices with N = 1 bit, Innocenti et al. 2020, ON and OFF kept
  apart: a pixel is 1 where an event of that polarity fell in the window), area-averaged to ``size``;
- RGB: one time step per RGB frame, area-resized: by default each frame minus the clip's first frame
  (``rgb_input="delta"``, see :func:`prepare_au`), or the gray frame itself (``"raw"``).

The same :class:`nvlib.models.snn.SpikingAUNet` (only its input channels differ) is trained with each
seed on each modality (Adam, cross-entropy on the time-averaged readout membrane, a fixed number of
epochs, no model selection), on the clips of the training subjects, and scored on the clips of held-out
subjects (no subject in both). Over seeds: mean, sample std and a 95 % t-interval of the mean; events
against RGB with :func:`nvlib.evaluation.stats.paired_test` over the same seeds, overall and per onset
speed. Clips whose AU span (first onset to last offset) holds no event are left out of both modalities
and reported (the comparison stays paired).

Each (modality, seed) result is one JSON file in ``results/``, named by the data, the inputs and the
training settings (``au_<modality>_<data>_seed<s>_<hash>.json``); a rerun reuses it.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

MODALITIES = ("events", "rgb")
RESULTS_FORMAT = 1


@dataclass(frozen=True)
class AUTrainConfig:
    """Training settings of the spiking AU classifier (our choices: the paper states none)."""

    epochs: int = 20
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 0.0
    channels: tuple = (8, 16)
    hidden: int = 64
    beta: float = 0.9
    slope: float = 25.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d


@dataclass
class AUData:
    """Model inputs of a set of clips (see :func:`prepare_au`)."""

    events: np.ndarray          # (N, T_ev, 2, S, S) float32
    rgb: np.ndarray             # (N, T_rgb, 1, S, S) float32
    y: np.ndarray               # (N,) class index into ``classes``
    classes: list[str]
    speeds_ms: np.ndarray       # (N,) onset speed of each clip
    subjects: list[str]
    names: list[str]
    window_ms: float
    size: int
    data_id: str
    rgb_input: str
    problems: list = field(default_factory=list)  # nvlib.datasets.micro.ClipProblem
    test: np.ndarray | None = None  # (N,) bool, set by split_subjects

    def __len__(self) -> int:
        return len(self.y)

    def x(self, modality: str) -> np.ndarray:
        if modality not in MODALITIES:
            raise ValueError(f"unknown modality {modality!r}; choose from {MODALITIES}")
        return self.events if modality == "events" else self.rgb

    @property
    def chance(self) -> float:
        """``1 / K``: the accuracy of guessing among the K classes."""
        return 1.0 / len(self.classes)

    @property
    def majority_share(self) -> float:
        """Share of the most frequent class among the test clips (always predicting it scores this)."""
        y = self.y[self.test] if self.test is not None else self.y
        return float(np.bincount(y, minlength=len(self.classes)).max() / max(1, len(y)))


def _area_resize(stack: np.ndarray, size: int) -> np.ndarray:
    """``(..., H, W)`` -> ``(..., size, size)`` float32 by area averaging (cv2.INTER_AREA)."""
    import cv2

    lead = stack.shape[:-2]
    flat = stack.reshape((-1,) + stack.shape[-2:]).astype(np.float32)
    out = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in flat])
    return out.reshape(lead + (size, size))


def event_steps(events, n_steps: int, window_ms: float, size: int) -> np.ndarray:
    """``(n_steps, 2, size, size)``: per window of ``window_ms`` from t = 0, 1 where an OFF (channel 0)
    or ON (channel 1) event fell (TBR with N = 1, polarity kept), area-averaged to ``size``."""
    from nvlib.represent import tbr

    codes = tbr(events, delta_t_us=int(round(window_ms * 1000)), n_bits=1, normalize=False, start_us=0,
                n_frames=n_steps, polarity=True)
    return _area_resize(codes.astype(np.float32), size)


RGB_INPUTS = ("delta", "raw")


def rgb_steps(frames: np.ndarray, n_steps: int, size: int, rgb_input: str = "delta") -> np.ndarray:
    """``(n_steps, 1, size, size)``: gray frames in [0, 1] (``"raw"``) or each frame minus the clip's first
    frame, in [-1, 1] (``"delta"``); zero-padded after the last frame."""
    if rgb_input not in RGB_INPUTS:
        raise ValueError(f"unknown rgb_input {rgb_input!r}; choose from {RGB_INPUTS}")
    out = np.zeros((n_steps, 1, size, size), np.float32)
    k = min(n_steps, len(frames))
    g = _area_resize(frames[:k], size) / 255.0
    out[:k, 0] = g - g[0] if rgb_input == "delta" else g
    return out


def prepare_au(dataset, size: int = 24, window_ms: float = 20.0, rgb_input: str = "delta") -> AUData:
    """Event and RGB inputs of every clip of a :class:`nvlib.datasets.micro.MicroDataset`.

    The number of steps covers the longest clip (event windows: ``ceil(duration / window_ms)``; RGB:
    its frames); shorter clips are zero-padded. Clips with no event between their first AU onset and
    last offset are left out and added to ``problems`` (with the reader's own problems). ``rgb_input``:
    see :func:`rgb_steps` (``"delta"``, the default: the spiking network on raw intensities did not
    train on the synthetic clips, its loss staying at ln K; the difference to the clip's first frame
    is the RGB camera's own view of what changed, at its frame rate).
    """
    from nvlib.datasets.micro import ClipProblem, label_key

    problems = list(dataset.problems)
    clips = []
    for c in dataset.clips:
        lo, hi = c.au_span_ms
        t = c.events.t
        if not np.any((t >= lo * 1000) & (t < hi * 1000)):
            problems.append(ClipProblem(c.name, f"{c.path}: no event inside the AU span {lo:.1f}-{hi:.1f} ms "
                                                f"(event windows empty where the label is)"))
            continue
        clips.append(c)
    if not clips:
        raise ValueError(f"{dataset.root}: no usable clip ({len(problems)} left out)")
    classes = sorted({c.label for c in clips}, key=label_key)
    n_ev = max(int(math.ceil(c.duration_ms / window_ms - 1e-9)) for c in clips)
    n_rgb = max(len(c.frames) for c in clips)
    ev = np.stack([event_steps(c.events, n_ev, window_ms, size) for c in clips])
    rgb = np.stack([rgb_steps(c.frames, n_rgb, size, rgb_input) for c in clips])
    y = np.array([classes.index(c.label) for c in clips], np.int64)
    names = [c.name for c in clips]
    ident = {"root": Path(dataset.root).name, "clips": names, "labels": [c.label for c in clips],
             "speeds": [c.onset_speed_ms for c in clips], "n_events": [int(len(c.events)) for c in clips],
             "size": size, "window_ms": window_ms, "rgb_input": rgb_input}
    data_id = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:10]
    return AUData(ev, rgb, y, classes, np.array([c.onset_speed_ms for c in clips]), [c.subject for c in clips],
                  names, float(window_ms), int(size), f"{Path(dataset.root).name}-{data_id}", rgb_input, problems)


def split_subjects(data: AUData, test_fraction: float = 1 / 3, seed: int = 0) -> AUData:
    """Mark the clips of ``round(test_fraction * n_subjects)`` (at least one) held-out subjects as test,
    subjects drawn by a seeded permutation of their sorted names (the same split for every training seed)."""
    subjects = sorted(set(data.subjects))
    if len(subjects) < 2:
        raise ValueError(f"{data.data_id}: a subject-independent split needs >= 2 subjects, got {subjects}")
    n_test = min(len(subjects) - 1, max(1, int(round(test_fraction * len(subjects)))))
    order = np.random.default_rng(seed).permutation(len(subjects))
    test = {subjects[i] for i in order[:n_test]}
    data.test = np.array([s in test for s in data.subjects])
    return data


def train_snn(x: np.ndarray, y: np.ndarray, n_classes: int, cfg: AUTrainConfig, seed: int,
              progress: bool = False, device="cpu"):
    """Train :class:`~nvlib.models.snn.SpikingAUNet` on ``x (N, T, C, S, S)``, ``y (N,)`` on ``device``;
    returns ``(model on the CPU, losses per epoch)``. Deterministic for a seed on one device (weights and
    batch order)."""
    import torch

    from nvlib.models.snn import build_snn

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = build_snn(x.shape[2], n_classes, image_size=x.shape[-1], channels=tuple(cfg.channels),
                      hidden=cfg.hidden, beta=cfg.beta, slope=cfg.slope).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    losses = []
    it = range(cfg.epochs)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, desc=f"SNN seed {seed}", unit="epoch", leave=False)
    model.train()
    for _ in it:
        perm = torch.randperm(len(yt), generator=gen)
        total = 0.0
        for i in range(0, len(perm), cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(yt))
    return model.cpu().eval(), losses


def predict(model, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class index per clip (argmax of the logits)."""
    import torch

    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(model(torch.from_numpy(x[i:i + batch_size])).argmax(1).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, speeds: np.ndarray) -> dict:
    """Accuracy, per-class F1 (scikit-learn, one class against the rest), macro F1, accuracy per speed."""
    from sklearn.metrics import f1_score

    f1 = f1_score(y_true, y_pred, labels=list(range(n_classes)), average=None, zero_division=0)
    by_speed = {f"{s:g}": float(np.mean(y_pred[speeds == s] == y_true[speeds == s])) for s in np.unique(speeds)}
    return {"accuracy": float(np.mean(y_pred == y_true)), "f1": [float(v) for v in f1],
            "macro_f1": float(np.mean(f1)), "accuracy_by_speed": by_speed, "n": int(len(y_true))}


def _key(data: AUData, modality: str, cfg: AUTrainConfig, seed: int, test_seed: int) -> dict:
    return {"format": RESULTS_FORMAT, "data": data.data_id, "modality": modality, "train": cfg.to_dict(),
            "seed": int(seed), "split_seed": int(test_seed), "test": [n for n, t in zip(data.names, data.test) if t]}


def run_au(data: AUData, seeds=(0, 1, 2), cfg: AUTrainConfig = AUTrainConfig(), modalities=MODALITIES,
           split_seed: int = 0, results_root=None, progress: bool = False, log=print, device="cpu",
           threads: int | None = 1) -> dict:
    """Train and score every (modality, seed) on ``data`` (split by :func:`split_subjects` when not yet).

    Returns ``{modality: [per-seed doc]}``, each doc ``{"seed", "scores", "pred", "y", "speeds", "losses",
    "seconds", "reused", "path"}`` (the network in ``<path>.pt``, see :func:`load_au_model`), ``scores``
    from :func:`scores` on the test clips. A (modality, seed) whose results file exists for exactly this
    configuration is read instead of trained (``device``, like ``progress``, is not part of it).
    ``threads``: torch CPU threads while training (1: small per-step operations gain nothing from more
    threads, and on a shared CPU waiting threads slow them down many times; None: torch's setting).
    """
    import torch

    from nvlib.workbook.atomic import atomic_path, write_text
    from nvlib.workbook.paths import results_dir

    if data.test is None:
        split_subjects(data, seed=split_seed)
    tr, te = ~data.test, data.test
    if not tr.any() or not te.any():
        raise ValueError(f"{data.data_id}: empty train or test split")
    root = Path(results_root) if results_root is not None else results_dir()
    out: dict = {}
    for m in modalities:
        out[m] = []
        for s in seeds:
            key = _key(data, m, cfg, s, split_seed)
            h = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
            path = root / f"au_{m}_{data.data_id}_seed{int(s)}_{h}.json"
            if path.is_file() and path.with_suffix(".pt").is_file():
                try:
                    doc = json.loads(path.read_text())
                except ValueError:
                    doc = None
                if doc and doc.get("key") == key:
                    doc["reused"] = True
                    doc["path"] = str(path)
                    out[m].append(doc)
                    continue
            t0 = time.perf_counter()
            before = torch.get_num_threads()
            if threads is not None:
                torch.set_num_threads(int(threads))
            try:
                model, losses = train_snn(data.x(m)[tr], data.y[tr], len(data.classes), cfg, int(s), progress,
                                          device)
                pred = predict(model, data.x(m)[te])
            finally:
                torch.set_num_threads(before)
            sec = time.perf_counter() - t0
            doc = {"key": key, "seed": int(s), "modality": m, "classes": data.classes,
                   "scores": scores(data.y[te], pred, len(data.classes), data.speeds_ms[te]),
                   "pred": pred.tolist(), "y": data.y[te].tolist(), "speeds": data.speeds_ms[te].tolist(),
                   "losses": losses, "seconds": sec}
            doc["model_file"] = path.with_suffix(".pt").name
            with atomic_path(path.with_suffix(".pt")) as tmp:
                torch.save({"model_cfg": model.model_cfg, "state_dict": model.state_dict()}, tmp)
            write_text(path, json.dumps(doc, sort_keys=True))
            doc["reused"] = False
            doc["path"] = str(path)
            out[m].append(doc)
            if log:
                log(f"{m:6s} seed {s}: accuracy {doc['scores']['accuracy']:.3f} on {len(pred)} test clips, "
                    f"final loss {losses[-1]:.3f}, {sec:.1f} s")
    return out


def load_au_model(doc: dict):
    """The trained network of one per-seed result of :func:`run_au` (its ``.pt`` file beside the JSON)."""
    import torch

    from nvlib.models.snn import build_snn

    path = Path(doc["path"]).with_suffix(".pt")
    state = torch.load(path, map_location="cpu", weights_only=False)
    cfg = dict(state["model_cfg"])
    model = build_snn(cfg.pop("in_channels"), cfg.pop("n_classes"), **cfg)
    model.load_state_dict(state["state_dict"])
    return model.eval()


def record_spikes(model, x: np.ndarray) -> tuple[int, dict]:
    """Predicted class and the recorded spikes / readout membrane of one input ``(T, C, S, S)``
    (see :meth:`nvlib.models.snn.SpikingAUNet.forward`), as numpy arrays without the batch axis."""
    import torch

    with torch.no_grad():
        logits, rec = model(torch.from_numpy(x[None]), record=True)
    return int(logits.argmax(1)[0]), {k: v[:, 0].numpy() for k, v in rec.items()}


def mean_ci(values, confidence: float = 0.95) -> dict:
    """Mean, sample std and the two-sided t-interval of the mean over seeds (nan bounds for one seed)."""
    from scipy import stats

    from nvlib.evaluation.stats import mean_std

    a = np.asarray(values, dtype=np.float64)
    m, s = mean_std(a)
    if a.size < 2:
        return {"mean": m, "std": s, "ci_low": float("nan"), "ci_high": float("nan"), "n": int(a.size)}
    half = float(stats.t.ppf((1 + confidence) / 2, a.size - 1)) * s / math.sqrt(a.size)
    return {"mean": m, "std": s, "ci_low": m - half, "ci_high": m + half, "n": int(a.size)}


def _binom_p(docs) -> float:
    """The largest one-sided exact binomial p-value, over seeds, of 'accuracy > chance'."""
    from scipy.stats import binomtest

    k = len(docs[0]["classes"])
    ps = [binomtest(int(round(d["scores"]["accuracy"] * d["scores"]["n"])), d["scores"]["n"], 1.0 / k,
                    alternative="greater").pvalue for d in docs]
    return float(max(ps))


def _pm(s: dict, scale: float = 100.0) -> str:
    return f"{scale * s['mean']:.1f} ± {scale * s['std']:.1f}"


def _ci(s: dict, scale: float = 100.0) -> str:
    """The t-interval, clipped to the possible range [0, 1] of an accuracy (shown in percent)."""
    lo, hi = (min(max(v, 0.0), 1.0) for v in (s["ci_low"], s["ci_high"]))
    return f"[{scale * lo:.1f}, {scale * hi:.1f}]"


def modality_rows(res: dict, data: AUData) -> list[dict]:
    """One row per modality: accuracy and macro F1 (percent) over seeds, chance, the binomial check."""
    rows = []
    for m, docs in res.items():
        acc = mean_ci([d["scores"]["accuracy"] for d in docs])
        f1 = mean_ci([d["scores"]["macro_f1"] for d in docs])
        rows.append({"modality": m, "source": "ours (synthetic or given clips)", "data": data.data_id,
                     "seeds": len(docs), "test_clips": docs[0]["scores"]["n"],
                     "accuracy_pct": _pm(acc), "accuracy_ci95": _ci(acc), "macro_f1_pct": _pm(f1),
                     "chance_pct": round(100 * data.chance, 2), "majority_pct": round(100 * data.majority_share, 2),
                     "above_chance_by": f"{100 * (acc['mean'] - data.chance):+.1f}",
                     "max_binomial_p": _binom_p(docs),
                     "accuracy_mean": acc["mean"], "accuracy_std": acc["std"],
                     "accuracy_values": " ".join(f"{d['scores']['accuracy']:.4f}" for d in docs)})
    return rows


def paired_rows(res: dict) -> list[dict]:
    """Events against RGB, overall and per onset speed: both means ± std, 95 % CIs, the paired test."""
    from nvlib.evaluation.stats import paired_test

    ev, rgb = res["events"], res["rgb"]
    if [d["seed"] for d in ev] != [d["seed"] for d in rgb]:
        raise ValueError("events and RGB were trained with different seeds; the comparison needs the same seeds")
    speeds = sorted(ev[0]["scores"]["accuracy_by_speed"], key=float)
    rows = []
    for sp in ["all"] + speeds:
        def get(docs):
            return [d["scores"]["accuracy"] if sp == "all" else d["scores"]["accuracy_by_speed"][sp] for d in docs]
        a, b = get(rgb), get(ev)
        pt = paired_test(a, b)
        n = ev[0]["scores"]["n"] if sp == "all" else int(sum(1 for s in ev[0]["speeds"] if f"{s:g}" == sp))
        rows.append({"onset_ms": sp, "test_clips": n, "events_pct": _pm(mean_ci(b)), "events_ci95": _ci(mean_ci(b)),
                     "rgb_pct": _pm(mean_ci(a)), "rgb_ci95": _ci(mean_ci(a)),
                     "events_minus_rgb_pct": f"{100 * pt.mean_diff:+.1f}",
                     "diff_ci95": f"[{100 * pt.ci_low:+.1f}, {100 * pt.ci_high:+.1f}]",
                     "p_value": pt.p_value, "verdict": pt.verdict(worse="events", better="RGB"),
                     "test": pt.test, "events_mean": mean_ci(b)["mean"], "rgb_mean": mean_ci(a)["mean"],
                     "events_std": mean_ci(b)["std"], "rgb_std": mean_ci(a)["std"],
                     "events_ci_low": mean_ci(b)["ci_low"], "events_ci_high": mean_ci(b)["ci_high"],
                     "rgb_ci_low": mean_ci(a)["ci_low"], "rgb_ci_high": mean_ci(a)["ci_high"]})
    return rows


def per_au_rows(res: dict, classes: list[str]) -> list[dict]:
    """Per class (AU set): F1 over seeds for each modality, and the test clips of that class."""
    rows = []
    for k, c in enumerate(classes):
        row = {"class": c, "test_clips": int(sum(1 for y in next(iter(res.values()))[0]["y"] if y == k))}
        for m, docs in res.items():
            row[f"{m}_f1_pct"] = _pm(mean_ci([d["scores"]["f1"][k] for d in docs]))
        rows.append(row)
    return rows


def paper_micro_results(path=None) -> dict:
    """The paper's AU and reconstruction numbers: the ``micro_expressions`` key of
    ``params/paper_results.yaml`` (Mastropasqua et al., ICCV-W 2025)."""
    from nvlib.experiments.paper import paper_results

    doc = paper_results(path).get("micro_expressions")
    if not isinstance(doc, dict):
        raise ValueError("params/paper_results.yaml: no 'micro_expressions' mapping")
    for k in ("au_accuracy_events_pct", "au_accuracy_rgb_pct", "reconstruction_ssim", "reconstruction_psnr_db"):
        if not isinstance(doc.get(k), (int, float)) or isinstance(doc.get(k), bool):
            raise ValueError(f"params/paper_results.yaml: micro_expressions.{k} is {doc.get(k)!r}, not a number")
    return doc
