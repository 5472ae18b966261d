"""The paper's published numbers (Berlincioni et al., Tables 1-4), read from ``params/paper_results.yaml``.

The file is the one place the workbook keeps them; every table reads it through :func:`paper_table`.
"""
from __future__ import annotations

from pathlib import Path

TABLES = ("table1", "table2", "table3", "table4")
_METRICS = {"table1": ("arousal_rmse", "arousal_pcc", "arousal_sagr", "valence_rmse", "valence_pcc", "valence_sagr"),
            "table2": ("arousal_rmse", "arousal_pcc", "arousal_sagr", "valence_rmse", "valence_pcc", "valence_sagr"),
            "table3": ("arousal_rmse", "valence_rmse"),
            "table4": ("arousal_rmse", "valence_rmse")}


def paper_results_path() -> Path:
    from nvlib.workbook.paths import repo_root

    return repo_root() / "params" / "paper_results.yaml"


def _check(doc: dict, path: Path) -> None:
    from nvlib.models import MODELS

    for t in TABLES:
        if not isinstance(doc.get(t), dict):
            raise ValueError(f"{path}: no mapping {t!r}")
        if t == "table3":
            rows = doc[t].get("rows")
            if not isinstance(rows, dict) or not rows:
                raise ValueError(f"{path}: {t} has no rows")
            entries = [(rid, r) for rid, r in rows.items()]
        else:
            models = doc[t].get("models")
            if not isinstance(models, dict) or not models:
                raise ValueError(f"{path}: {t} has no models")
            entries = []
            for name, m in models.items():
                if name not in MODELS:
                    raise ValueError(f"{path}: {t} names unknown model {name!r}")
                if not isinstance(m.get("label"), str):
                    raise ValueError(f"{path}: {t}.{name} has no label")
                bits = [k for k in m if isinstance(k, int)]
                if not bits:
                    raise ValueError(f"{path}: {t}.{name} holds no N (an integer key such as 8)")
                entries += [(f"{name}.{n}", m[n]) for n in bits]
        for rid, r in entries:
            for col in _METRICS[t]:
                v = r.get(col) if isinstance(r, dict) else None
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    raise ValueError(f"{path}: {t}.{rid}.{col} is {v!r}, not a number")


def paper_results(path=None) -> dict:
    """The whole file, checked: tables 1-4, every model known, every metric a number."""
    import yaml

    path = Path(path) if path is not None else paper_results_path()
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ValueError(f"{path}: cannot read the paper's results ({e})") from e
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a mapping of tables")
    _check(doc, path)
    return doc


def paper_table(table: str, path=None):
    """One table of the paper.

    ``table1``, ``table2``, ``table4``: ``{model: {N: {"label", "n_bits", <metric>: value, ["note"]}}}``;
    ``table3``: its rows in order, ``[{"id", "label", "modality", "arousal_rmse", "valence_rmse", ...}]``.
    """
    if table not in TABLES:
        raise KeyError(f"unknown paper table {table!r}; choose one of {TABLES}")
    doc = paper_results(path)[table]
    if table == "table3":
        return [{"id": rid, **r} for rid, r in doc["rows"].items()]
    out = {}
    for name, m in doc["models"].items():
        out[name] = {n: {"label": m["label"], "n_bits": n, **v} for n, v in m.items() if isinstance(n, int)}
    return out


def paper_at(table: str, n_bits: int, path=None) -> dict:
    """``{model: entry}`` of a table at one N (models without that N left out)."""
    return {name: by_n[n_bits] for name, by_n in paper_table(table, path).items() if n_bits in by_n}


def paper_caption(table: str, path=None) -> str:
    return str(paper_results(path)[table].get("caption", ""))


def paper_notes(table: str, path=None) -> list[str]:
    """The ``note`` fields of a table, as ``"<label> (N = n): note"``."""
    out = []
    if table == "table3":
        return [f"{r['label']}: {r['note']}" for r in paper_table(table, path) if r.get("note")]
    for by_n in paper_table(table, path).values():
        for n, e in by_n.items():
            if e.get("note"):
                out.append(f"{e['label']} (N = {n}): {e['note']}")
    return out
