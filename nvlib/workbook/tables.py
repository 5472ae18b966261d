"""Table output: each paper table lands in ``figures/`` as ``<name>.csv`` and ``<name>.md`` with the same rows.

Paper tables are named ``table<N>_<what>`` (``table1_frame_models``).
"""
from __future__ import annotations

import csv
import io
import math
from numbers import Real
from pathlib import Path

from nvlib.workbook.atomic import write_text
from nvlib.workbook.paths import figures_dir


def _rows_and_columns(rows) -> tuple[list[dict], list[str]]:
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # pandas DataFrame
        columns = [str(c) for c in rows.columns]
        return [dict(zip(columns, r)) for r in rows.itertuples(index=False, name=None)], columns
    rows = [dict(r) for r in rows]
    columns: list[str] = []
    for r in rows:
        for k in r:
            if k not in columns:
                columns.append(k)
    return rows, columns


def _fmt(v, floatfmt: str) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, Real) and not isinstance(v, int):
        v = float(v)
        return "nan" if math.isnan(v) else format(v, floatfmt)
    return str(v)


def format_markdown(rows, floatfmt: str = ".3f") -> str:
    """A GitHub-flavoured Markdown table of ``rows`` (list of dicts or DataFrame)."""
    rows, cols = _rows_and_columns(rows)
    def esc(s: str) -> str:
        return s.replace("|", "\\|")
    lines = ["| " + " | ".join(esc(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(esc(_fmt(r.get(c), floatfmt)) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def format_csv(rows, floatfmt: str = ".6g") -> str:
    rows, cols = _rows_and_columns(rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_fmt(r.get(c), floatfmt) for c in cols])
    return buf.getvalue()


def write_table(rows, name: str, out_dir: str | Path | None = None, floatfmt: str = ".3f",
                caption: str | None = None) -> tuple[Path, Path]:
    """Write ``<out_dir>/<name>.csv`` (6 significant digits) and ``<name>.md`` (``floatfmt``, optional caption)."""
    out_dir = Path(out_dir) if out_dir is not None else figures_dir()
    csv_path, md_path = out_dir / f"{name}.csv", out_dir / f"{name}.md"
    write_text(csv_path, format_csv(rows))
    md = format_markdown(rows, floatfmt)
    if caption:
        md = f"**{name}**: {caption}\n\n" + md
    write_text(md_path, md)
    return csv_path, md_path


def read_table(path: str | Path) -> list[dict]:
    """Read back a CSV written by :func:`write_table` (values as strings)."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
