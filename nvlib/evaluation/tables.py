"""The result tables of the workbook (paper Tables 1-4), built from per-seed results.

Every learned number is the mean over the seeds of one configuration with its sample standard
deviation (``ddof=1``, :mod:`nvlib.evaluation.stats`); a configuration run over every fold of the
subject-independent protocol (``fold="all"``) is one run per (fold, seed), and its mean and std are
over folds and seeds. A table's CSV holds, for each metric ``m``,
``m_mean``, ``m_std`` and ``m_seeds`` (the per-seed values, ``;``-separated in the order of the
``seeds`` column); its Markdown shows ``mean ± std``. Paper rows hold the published number in the
``_mean`` column (the paper gives no spread) and name their source; the predict-the-mean row
(the training-set mean predicted for every test frame) is the floor every model must beat. Every
table names the data it came from and marks derived labels: the ``data`` column names the dataset
(with the dataset folder's name for a user's dataset), its labels, the cache's content id and the
fold(s); the ``seeds`` column the training seeds.

Inputs are results documents as written by :func:`nvlib.evaluation.results.write_results_json`
(``metrics``, ``mean_baseline``, ``config.dataset``, ``seed``, ...), one per seed, or the results
:func:`nvlib.experiments.run_experiment` returns (``baseline`` instead of ``mean_baseline``).
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from nvlib.evaluation.stats import PAIRED_TEST, mean_rmse, paired_test, summarize

DIMS = ("arousal", "valence")  # the paper's column order
METRICS = ("rmse", "pcc", "ccc", "sagr")
METRIC_COLUMNS = tuple(f"{d}_{m}" for d in DIMS for m in METRICS)
SOURCE_OURS = "this workbook"

_DATA_LABELS = {"synthetic-va": "synthetic faces", "samples": "sample clips", "afew-va": "AFEW-VA"}


# ----------------------------------------------------------------------------- documents
def _as_docs(runs) -> list[dict]:
    """One configuration's per-seed documents: a sequence of documents, or one document (one seed)."""
    if isinstance(runs, Mapping):
        return [dict(runs)]
    docs = [dict(d) for d in runs]
    if not docs:
        raise ValueError("no per-seed results")
    return docs


def baseline_of(doc: Mapping) -> dict:
    """The predict-the-train-mean metrics stored with a result (``mean_baseline`` or ``baseline``)."""
    base = doc.get("mean_baseline") or doc.get("baseline")
    if not base:
        raise ValueError(f"result of {doc.get('model')!r} holds no predict-the-mean baseline")
    return base


def dataset_meta(doc: Mapping) -> dict:
    """The dataset description stored with a result (``config.dataset``, or ``dataset_meta``)."""
    return dict((doc.get("config") or {}).get("dataset") or doc.get("dataset_meta") or {})


def seeds_of(docs: Sequence[Mapping]) -> list:
    return [d.get("seed", (d.get("config") or {}).get("train", {}).get("seed")) for d in docs]


def provenance(doc: Mapping) -> dict:
    """The data a result came from (``data``: dataset, root, cache, cache_id, fold, ... as written by
    :func:`nvlib.experiments.run.data_provenance`); ``{}`` for a result written without it."""
    return dict(doc.get("data") or {})


def fold_of(doc: Mapping):
    """The fold of a result (None: the fixed split); ``"?"`` when the result does not say."""
    prov = provenance(doc)
    if "fold" in prov:
        return prov["fold"]
    config = doc.get("config") or {}
    return config["fold"] if "fold" in config else "?"


def runs_of(docs: Sequence[Mapping]) -> list[tuple]:
    """``(fold, seed)`` of each result: what pairs two configurations' runs (same fold, same seed)."""
    return list(zip([fold_of(d) for d in docs], seeds_of(docs)))


def _unique(values) -> list:
    return list(dict.fromkeys(values))


def folds_text(folds: Sequence) -> str:
    """"fixed split", "fold 2" or "folds 0,1,2,3,4" (unknown folds left out)."""
    known = _unique(f for f in folds if f != "?")
    if not known:
        return ""
    if known == [None]:
        return "fixed split"
    ks = sorted(int(f) for f in known if f is not None)
    text = f"fold{'s' if len(ks) > 1 else ''} {','.join(str(k) for k in ks)}"
    return text + (" and the fixed split" if None in known else "")


def labels_derived(meta: Mapping) -> bool:
    return str(meta.get("labels_kind", "")).lower() == "derived"


def data_label(meta: Mapping, with_bits: bool = True) -> str:
    """What a table says about its data: the source (synthetic faces / sample clips / AFEW-VA) and the
    label kind, with derived labels marked in capitals (and the TBR N unless ``with_bits`` is off)."""
    source = str(meta.get("source", "unknown data"))
    name = _DATA_LABELS.get(source, source)
    if labels_derived(meta):
        labels = "DERIVED labels (emotion category -> valence/arousal; not annotations)"
    elif source == "synthetic-va":
        labels = "generator's ground-truth labels"
    else:
        labels = f"{meta.get('labels_kind', 'unknown')} labels"
    size = f", {meta['size']}x{meta['size']} px" if meta.get("size") else ""
    bits = f", TBR N = {meta['n_bits']}" if meta.get("n_bits") and with_bits else ""
    return f"{name} ({labels}{size}{bits})"


#: Sources the workbook makes itself: their root is not a user's dataset folder.
_OWN_SOURCES = ("synthetic-va", "samples")


def _common_data(docs: Iterable[Mapping], with_bits: bool = True) -> str:
    """The ``data`` cell: dataset and labels, the dataset folder (a user's dataset), cache content id(s)
    and fold(s) of the results ``docs``."""
    docs = list(docs)
    text = " / ".join(_unique(data_label(dataset_meta(d), with_bits) for d in docs))
    provs = [provenance(d) for d in docs]
    roots = _unique(p["root"] for p in provs if p.get("root") and p.get("dataset") not in _OWN_SOURCES)
    if roots:
        text += f"; root {', '.join(repr(r) for r in roots)}"
    caches = _unique(p["cache_id"] for p in provs if p.get("cache_id"))
    if caches:
        text += f"; cache id {' / '.join(caches)}"
    folds = folds_text([fold_of(d) for d in docs])
    return text + (f"; {folds}" if folds else "")


def _backbone(docs: Sequence[Mapping]) -> str:
    """The backbone of a configuration; a frame ResNet18 backbone comes from each seed's own frame run,
    so run names are folded into one description."""
    names = [re.sub(r"of nvlib run \S+?(,|$)", r"of nvlib run (each seed's own)\1", str(d.get("backbone", "")))
             for d in docs]
    return " / ".join(dict.fromkeys(names))


def _fmt_seeds(seeds) -> str:
    return ",".join(str(s) for s in _unique(seeds))


def _fmt_runs(runs) -> str:
    """Paired runs: their seeds, or ``fold:seed`` pairs when they span several folds."""
    if len(_unique(f for f, _ in runs)) <= 1:
        return _fmt_seeds(s for _, s in runs)
    return ",".join(f"{f}:{s}" for f, s in runs)


def seed_columns(values_by_column: Mapping[str, Sequence[float]], prefix: str = "") -> dict:
    """``{prefix+col+"_mean", "_std", "_seeds"}`` for each column's per-seed values."""
    out = {}
    for col, values in values_by_column.items():
        s = summarize(values)
        out[f"{prefix}{col}_mean"] = s["mean"]
        out[f"{prefix}{col}_std"] = s["std"]
        out[f"{prefix}{col}_seeds"] = ";".join(format(v, ".6g") for v in s["values"])
    return out


def _metric_values(metrics_list: Sequence[Mapping], columns=METRIC_COLUMNS) -> dict:
    out = {}
    for col in columns:
        d, m = col.split("_", 1)
        out[col] = [float(r[d][m]) for r in metrics_list]
    return out


# ----------------------------------------------------------------------------- Tables 1 and 2
def va_table(runs: Mapping[str, Sequence[Mapping]], *, paper: Mapping[str, Mapping] | None = None,
             paper_source: str = "paper", paper_backbone: str | Callable[[str], str] = "not stated") -> list[dict]:
    """Rows of a paper-style valence-arousal table (Tables 1 and 2 of Berlincioni et al.) over seeds.

    ``runs``: ``{model name: per-seed results}``. One row per model (mean, std and per-seed values of
    arousal and valence RMSE, PCC, CCC, SAGR), then predict-the-mean (from the first model's results),
    then the published numbers ``paper[name]`` (``{"n_bits", "arousal_rmse", ...}``, see
    :func:`nvlib.experiments.paper_table`) labelled ``paper_source``; the paper reports no CCC.
    ``paper_backbone``: the backbone the paper states, a string or a function of the model name.
    """
    from nvlib.models import DISPLAY_NAMES

    if not runs:
        raise ValueError("va_table: no models")
    rows = []
    for name, r in runs.items():
        docs = _as_docs(r)
        meta = dataset_meta(docs[0])
        params = docs[0].get("params") or {}
        rows.append({"model": DISPLAY_NAMES[name], "source": SOURCE_OURS, "data": _common_data(docs),
                     "backbone": _backbone(docs),
                     "params_M": params["total"] / 1e6 if params.get("total") is not None else None,
                     "n_bits": int(docs[0].get("n_bits") or meta.get("n_bits") or 0),
                     "seeds": _fmt_seeds(seeds_of(docs)), "n_seeds": len(_unique(seeds_of(docs))),
                     "n_runs": len(docs), **seed_columns(_metric_values([d["metrics"] for d in docs]))})
    docs = _as_docs(next(iter(runs.values())))
    rows.append({"model": "predict-the-mean", "source": SOURCE_OURS, "data": _common_data(docs), "backbone": "none",
                 "params_M": 0.0, "n_bits": rows[0]["n_bits"], "seeds": _fmt_seeds(seeds_of(docs)),
                 "n_seeds": len(_unique(seeds_of(docs))), "n_runs": len(docs),
                 **seed_columns(_metric_values([baseline_of(d) for d in docs]))})
    for name in runs:
        p = (paper or {}).get(name)
        if p is None:
            continue
        row = {"model": DISPLAY_NAMES[name], "source": paper_source, "data": "AFEW-VA events (published)",
               "backbone": paper_backbone(name) if callable(paper_backbone) else paper_backbone, "params_M": None,
               "n_bits": p.get("n_bits"), "seeds": None, "n_seeds": None, "n_runs": None}
        for col in METRIC_COLUMNS:
            row.update({f"{col}_mean": p.get(col), f"{col}_std": None, f"{col}_seeds": None})
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- Table 3
def table3_rows(paper_rows: Sequence[Mapping], ours: Sequence[tuple[str, Sequence[Mapping]]]) -> list[dict]:
    """Table 3: the published rows (``paper_rows``: ``{"label", "modality", "arousal_rmse",
    "valence_rmse"}`` in the paper's order), then ``ours``: ``(label, per-seed results)`` pairs
    (arousal and valence RMSE over seeds), then predict-the-mean of the last of ours."""
    rows = []
    for p in paper_rows:
        rows.append({"model": p["label"], "modality": p["modality"], "source": "paper Table 3",
                     "data": "AFEW-VA (published)", "backbone": "as published", "seeds": None, "n_seeds": None,
                     "n_runs": None,
                     "arousal_rmse_mean": p["arousal_rmse"], "arousal_rmse_std": None, "arousal_rmse_seeds": None,
                     "valence_rmse_mean": p["valence_rmse"], "valence_rmse_std": None, "valence_rmse_seeds": None})
    cols = ("arousal_rmse", "valence_rmse")
    last = None
    for label, r in ours:
        docs = _as_docs(r)
        rows.append({"model": label, "modality": "Event (simulated)", "source": SOURCE_OURS,
                     "data": _common_data(docs), "backbone": _backbone(docs), "seeds": _fmt_seeds(seeds_of(docs)),
                     "n_seeds": len(_unique(seeds_of(docs))), "n_runs": len(docs),
                     **seed_columns(_metric_values([d["metrics"] for d in docs], cols))})
        last = docs
    if last is not None:
        rows.append({"model": "predict-the-mean", "modality": "-", "source": SOURCE_OURS, "data": _common_data(last),
                     "backbone": "none", "seeds": _fmt_seeds(seeds_of(last)), "n_seeds": len(_unique(seeds_of(last))),
                     "n_runs": len(last),
                     **seed_columns(_metric_values([baseline_of(d) for d in last], cols))})
    return rows


# ----------------------------------------------------------------------------- Table 4
def table4_rows(runs: Mapping[tuple[str, int], Sequence[Mapping]], models: Sequence[str],
                n_bits: tuple[int, int] = (8, 16), paper: Mapping[str, Mapping] | None = None) -> list[dict]:
    """Table 4 over seeds, one row per model: arousal, valence and mean RMSE at both ``n_bits``
    (mean, std, per-seed values), the paired test of the per-seed mean RMSE (``b - a`` for
    ``n_bits = (a, b)``, same seeds at both; runs over several folds are paired by fold and seed,
    ``paired_seeds`` then lists ``fold:seed``), and the paper's numbers ``paper[name][N]``
    (``{"label", "arousal_rmse", "valence_rmse"}``).

    Models lacking a result at either N get their available columns and no test. Columns
    ``diff_mean_rmse`` (mean of b - a), ``diff_ci_low/high`` (95 % CI), ``test``, ``t``, ``df``,
    ``p_value``, ``beyond_seed_noise`` (p < 0.05) and ``verdict`` (plain words, low power flagged).
    """
    from nvlib.models import DISPLAY_NAMES

    a_bits, b_bits = n_bits
    cols = ("arousal_rmse", "valence_rmse")
    rows = []
    for name in models:
        row: dict = {"model": DISPLAY_NAMES[name]}
        per_n = {n: _as_docs(runs[name, n]) for n in n_bits if (name, n) in runs}
        all_docs = [d for docs in per_n.values() for d in docs]
        row["data"] = _common_data(all_docs, with_bits=False) if all_docs else None
        row["backbone"] = _backbone(all_docs) if all_docs else None
        for n in n_bits:
            docs = per_n.get(n)
            row[f"n{n}_seeds"] = _fmt_seeds(seeds_of(docs)) if docs else None
            if docs:
                vals = _metric_values([d["metrics"] for d in docs], cols)
                vals["mean_rmse"] = [mean_rmse(d["metrics"]) for d in docs]
                row.update(seed_columns(vals, prefix=f"n{n}_"))
                row[f"n{n}_mean_baseline_rmse"] = summarize([mean_rmse(baseline_of(d)) for d in docs])["mean"]
                row[f"n{n}_test_frames"] = docs[0].get("n_test_frames")
            else:
                for c in (*cols, "mean_rmse"):
                    row.update({f"n{n}_{c}_mean": None, f"n{n}_{c}_std": None, f"n{n}_{c}_seeds": None})
                row[f"n{n}_mean_baseline_rmse"] = None
                row[f"n{n}_test_frames"] = None
        test = None
        if a_bits in per_n and b_bits in per_n:  # runs paired by (fold, seed)
            by_run = [{r: mean_rmse(d["metrics"]) for r, d in zip(runs_of(per_n[n]), per_n[n])} for n in n_bits]
            common = [r for r in by_run[0] if r in by_run[1]]
            if common:
                test = paired_test([by_run[0][r] for r in common], [by_run[1][r] for r in common])
                row["paired_seeds"] = _fmt_runs(common)
        row.update({"test": PAIRED_TEST if test else None,
                    "diff_mean_rmse": test.mean_diff if test else None,
                    "diff_ci_low": test.ci_low if test else None, "diff_ci_high": test.ci_high if test else None,
                    "t": test.t if test else None, "df": test.df if test else None,
                    "p_value": test.p_value if test else None,
                    "beyond_seed_noise": test.significant if test else None,
                    "verdict": test.verdict(worse=f"N = {b_bits}") if test else "no paired seeds"})
        row.setdefault("paired_seeds", None)
        p = (paper or {}).get(name) or {}
        for n in n_bits:
            pn = p.get(n) or {}
            row[f"paper_n{n}_arousal_rmse"] = pn.get("arousal_rmse")
            row[f"paper_n{n}_valence_rmse"] = pn.get("valence_rmse")
        if p.get(a_bits) and p.get(b_bits):
            row["paper_diff_mean_rmse"] = ((p[b_bits]["arousal_rmse"] + p[b_bits]["valence_rmse"])
                                           - (p[a_bits]["arousal_rmse"] + p[a_bits]["valence_rmse"])) / 2
            row["paper_label"] = p[a_bits].get("label") or p[b_bits].get("label")
        else:
            row["paper_diff_mean_rmse"] = None
            row["paper_label"] = None
        rows.append(row)
    return rows


def table4_markdown_rows(rows: Sequence[Mapping], n_bits: tuple[int, int] = (8, 16), floatfmt: str = ".3f") -> list[dict]:
    """The Markdown view of :func:`table4_rows`: ``mean ± std`` cells, the difference with its CI."""
    a, b = n_bits
    out = []
    for r in rows:
        m = {"model": r["model"], "data": r["data"], "seeds": r.get("paired_seeds") or r.get(f"n{a}_seeds"),
             f"test frames (N={a} / N={b})": f"{r.get(f'n{a}_test_frames') or '-'} / {r.get(f'n{b}_test_frames') or '-'}"}
        for n in n_bits:
            for c, title in (("arousal_rmse", "arousal RMSE"), ("valence_rmse", "valence RMSE")):
                m[f"N={n} {title}"] = _pm(r.get(f"n{n}_{c}_mean"), r.get(f"n{n}_{c}_std"), floatfmt)
        m[f"predict-the-mean, mean RMSE (N={a} / N={b})"] = (f"{_num(r.get(f'n{a}_mean_baseline_rmse'), floatfmt)} / "
                                                             f"{_num(r.get(f'n{b}_mean_baseline_rmse'), floatfmt)}")
        d = r.get("diff_mean_rmse")
        m[f"Δ mean RMSE (N={b} − N={a}) [95% CI]"] = (
            "" if d is None else f"{d:+{floatfmt}} [{_num(r['diff_ci_low'], '+' + floatfmt)}, "
                                 f"{_num(r['diff_ci_high'], '+' + floatfmt)}]")
        m["p (paired t)"] = _num(r.get("p_value"), ".3f")
        m["8 vs 16 beyond seed noise?"] = r.get("verdict") or ""
        for n in n_bits:
            pa, pv = r.get(f"paper_n{n}_arousal_rmse"), r.get(f"paper_n{n}_valence_rmse")
            m[f"paper N={n} (A / V)"] = "" if pa is None else f"{pa:{floatfmt}} / {pv:{floatfmt}}"
        pd_ = r.get("paper_diff_mean_rmse")
        m["paper Δ"] = "" if pd_ is None else f"{pd_:+{floatfmt}}"
        out.append(m)
    return out


# ----------------------------------------------------------------------------- learning check
def gain_over_mean(runs: Mapping[str, Sequence[Mapping] | Mapping]) -> list[dict]:
    """Per model: the mean of valence and arousal RMSE against predict-the-train-mean on the same test
    frames, over seeds.

    ``runs``: ``{name: per-seed results}`` (or ``{name: one result}``). Rows hold ``model``,
    ``rmse`` (mean over seeds), ``rmse_std``, ``mean_rmse`` (predict-the-mean), ``gain`` (relative
    RMSE reduction of the mean over seeds; > 0 beats the mean), ``min_gain`` (the worst seed's) and
    ``n_seeds``.
    """
    rows = []
    for name, r in runs.items():
        docs = _as_docs(r)
        ours = summarize([mean_rmse(d["metrics"]) for d in docs])
        base = summarize([mean_rmse(baseline_of(d)) for d in docs])
        gains = [(mean_rmse(baseline_of(d)) - mean_rmse(d["metrics"])) / mean_rmse(baseline_of(d)) for d in docs]
        rows.append({"model": name, "rmse": ours["mean"], "rmse_std": ours["std"], "mean_rmse": base["mean"],
                     "gain": (base["mean"] - ours["mean"]) / base["mean"], "min_gain": min(gains),
                     "n_seeds": len(docs)})
    return rows


def require_gain_over_mean(runs: Mapping, min_gain: float = 0.05) -> list[dict]:
    """:func:`gain_over_mean`, raising ``AssertionError`` naming every model whose gain (of its mean over
    seeds) is below ``min_gain`` (the acceptance check the notebooks run on the synthetic faces,
    where learning must be visible)."""
    rows = gain_over_mean(runs)
    bad = [f"{r['model']} (mean RMSE {r['rmse']:.3f} over {r['n_seeds']} seed(s) vs predict-the-mean "
           f"{r['mean_rmse']:.3f})" for r in rows if not r["gain"] >= min_gain]
    if bad:
        raise AssertionError(f"models not beating predict-the-mean by {100 * min_gain:.0f} %: {', '.join(bad)}")
    return rows


# ----------------------------------------------------------------------------- output
def _num(v, fmt: str) -> str:
    if v is None:
        return ""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "nan" if math.isnan(f) else format(f, fmt)


def _pm(mean, std, floatfmt: str = ".3f") -> str:
    """``"0.213 ± 0.012"``; the mean alone when there is no spread (a paper number, or one seed)."""
    if mean is None:
        return ""
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return _num(mean, floatfmt)
    return f"{_num(mean, floatfmt)} ± {_num(std, floatfmt)}"


def markdown_rows(rows: Sequence[Mapping], floatfmt: str = ".3f") -> list[dict]:
    """Rows with every ``X_mean``/``X_std``/``X_seeds`` triple folded into one ``X`` cell ``mean ± std``."""
    out = []
    for r in rows:
        m = {}
        for k, v in r.items():
            if (k.endswith("_std") and k[:-4] + "_mean" in r) or (k.endswith("_seeds") and k[:-6] + "_mean" in r):
                continue
            if k.endswith("_mean") and k[:-5] + "_std" in r:
                m[k[:-5]] = _pm(v, r[k[:-5] + "_std"], floatfmt)
            else:
                m[k] = v
        out.append(m)
    return out


def write_seed_table(rows: Sequence[Mapping], name: str, caption: str, *, md_rows: Sequence[Mapping] | None = None,
                     out_dir: str | Path | None = None, floatfmt: str = ".3f") -> tuple[Path, Path]:
    """Write ``<out_dir>/<name>.csv`` (every column, 6 significant digits) and ``<name>.md`` (``md_rows``,
    default :func:`markdown_rows`, under ``caption``). ``out_dir`` defaults to ``figures/``."""
    from nvlib.workbook.atomic import write_text
    from nvlib.workbook.paths import figures_dir
    from nvlib.workbook.tables import format_csv, format_markdown

    out_dir = Path(out_dir) if out_dir is not None else figures_dir()
    csv_path, md_path = out_dir / f"{name}.csv", out_dir / f"{name}.md"
    write_text(csv_path, format_csv(list(rows)))
    md = format_markdown(list(md_rows) if md_rows is not None else markdown_rows(rows, floatfmt), floatfmt)
    write_text(md_path, f"**{name}**: {caption}\n\n{md}")
    return csv_path, md_path


def seeds_caption(docs: Sequence[Mapping]) -> str:
    """"mean ± sample std (ddof = 1) over K seeds (s0, s1, ...)", or over folds and seeds when the results
    span several folds."""
    seeds = _unique(seeds_of(docs))
    folds = _unique(f for f in (fold_of(d) for d in docs) if f != "?")
    over = f"{len(seeds)} training seed{'s' if len(seeds) != 1 else ''} ({_fmt_seeds(seeds)})"
    if len(folds) > 1:
        over = (f"{len(folds)} folds x {over} of the subject-independent protocol (one run per fold and seed; "
                f"{folds_text(folds)})")
    return f"mean ± sample std (ddof = 1) over {over}"


def data_caption(docs: Iterable[Mapping], with_bits: bool = True) -> str:
    """"Data: ..." (dataset, labels, root, cache id, folds) with a warning when any label is derived."""
    docs = list(docs)
    text = f"Data: {_common_data(docs, with_bits)}."
    if any(labels_derived(dataset_meta(d)) for d in docs):
        text += (" Labels are DERIVED (an emotion category mapped to valence/arousal), not annotations: "
                 "the numbers measure agreement with that mapping.")
    return text


def table_caption(title: str, docs: Iterable[Mapping], *, paper: str | None = None, notes: Iterable[str] = (),
                  with_bits: bool = True) -> str:
    """A table's caption: what it shows, the seeds, the data (derived labels flagged; its TBR N unless
    ``with_bits`` is off), where the paper's numbers come from, and ``notes``."""
    docs = list(docs)
    parts = [title.rstrip(".") + ".",
             f"Ours: {seeds_caption(docs)}; each run's best epoch is chosen on val and scored on test.",
             data_caption(docs, with_bits)]
    if paper:
        parts.append(f"Paper rows: {paper} (params/paper_results.yaml), single published numbers without spread, "
                     "on AFEW-VA events, not on the data above.")
    parts += [n.rstrip(".") + "." for n in notes]
    return " ".join(parts)


def best_model(runs: Mapping[str, Sequence[Mapping]], names: Iterable[str] | None = None) -> str:
    """The model with the lowest mean over seeds of its mean (valence, arousal) RMSE."""
    names = [n for n in (names if names is not None else runs) if n in runs]
    if not names:
        raise ValueError("best_model: no results")
    return min(names, key=lambda n: (summarize([mean_rmse(d["metrics"]) for d in _as_docs(runs[n])])["mean"], n))
