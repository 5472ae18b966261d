"""Figure output: every figure lands in ``figures/`` as PNG and PDF with stable bytes.

Stable bytes: no creation dates or software stamps in the metadata and a
fixed hash salt for SVG ids, so regenerating an unchanged figure leaves git clean.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt

from nvlib.workbook.atomic import atomic_path
from nvlib.workbook.paths import figures_dir

_METADATA = {
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None},
}


def setup_style() -> None:
    """The workbook's plotting defaults (small, readable, deterministic)."""
    matplotlib.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 150, "font.size": 9, "axes.titlesize": 10,
        "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "nvlib",
        "pdf.compression": 6, "image.interpolation": "nearest",
    })


def save_figure(fig, name: str, out_dir: str | Path | None = None, formats=("png", "pdf")) -> list[Path]:
    """Save ``fig`` as ``<out_dir>/<name>.<fmt>`` for each format (default ``figures/``); returns the paths."""
    out_dir = Path(out_dir) if out_dir is not None else figures_dir()
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, metadata=_METADATA.get(fmt), bbox_inches="tight")
        paths.append(path)
    return paths


def close(fig) -> None:
    plt.close(fig)
