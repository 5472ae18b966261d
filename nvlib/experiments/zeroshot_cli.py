"""``nvlib zeroshot``: zero-shot emotion classification of a NEFER copy with a valence-arousal checkpoint
(paper Section 5.3, Table 5; :mod:`nvlib.experiments.zeroshot`).

Writes into ``--out``: ``table5_zero_shot.csv|md`` (one row per label version and method: accuracy,
95 % Wilson interval, p against chance, macro-F1; the paper's published rows below them),
``problems.csv`` (every sequence or frame left out and why), ``predictions_<labels>.csv`` (one row per
method and validation sequence) and ``mcnemar_<labels>.csv`` (McNemar's test between the methods).
"""
from __future__ import annotations

from pathlib import Path


def add_arguments(parser) -> None:
    from nvlib.experiments.zeroshot import METHODS

    parser.add_argument("--nefer", required=True, metavar="ROOT", help="NEFER root (annotations/, recordings)")
    parser.add_argument("--checkpoint", required=True, metavar="CKPT", help="an nvlib checkpoint (best.pt)")
    parser.add_argument("--labels", choices=("expected", "reported", "both"), default="both",
                        help="a-priori (7 classes) or reported (8 with None) labels (default both)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the tables")
    parser.add_argument("--cache", metavar="DIR", default=None,
                        help="where the converted recordings go (default DIR/cache; reused when finished)")
    parser.add_argument("--size", type=int, default=None, help="check: the input size the checkpoint must have")
    parser.add_argument("--n-bits", type=int, default=None, help="check: the TBR bits N the checkpoint must have")
    parser.add_argument("--delta-t-us", type=int, default=None, help="check: the TBR slice length (us)")
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--annotations", metavar="DIR", default=None, help="NEFER annotations/ elsewhere")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=0, help="conversion worker processes")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args) -> int:
    import pandas as pd

    from nvlib.experiments.zeroshot import LABEL_VERSIONS, paper_rows, run_zero_shot
    from nvlib.workbook.atomic import write_text
    from nvlib.workbook.tables import format_csv, write_table

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    labels = LABEL_VERSIONS if args.labels == "both" else (args.labels,)
    res = run_zero_shot(args.nefer, args.checkpoint, labels, size=args.size, n_bits=args.n_bits,
                        delta_t_us=args.delta_t_us, cache_root=args.cache or out / "cache", methods=args.methods,
                        batch_size=args.batch_size, device=args.device, workers=args.workers,
                        progress=not args.quiet, annotations_dir=args.annotations)
    table = pd.concat([res.table, pd.DataFrame(paper_rows())], ignore_index=True)
    s = res.setting
    caption = (f"Zero-shot NEFER classification on {res.data} with {s['model']} ({s['checkpoint']}; "
               f"{s['size']}x{s['size']} TBR, N = {s['n_bits']}, dt = {s['delta_t_us']} us). Accuracy and its 95 % "
               "Wilson interval in %, p: exact one-sided binomial test against chance 1/K. Rows with source "
               "'paper' or 'NEFER' are published numbers (other data), not measured here.")
    write_table(table, "table5_zero_shot", out, floatfmt=".4g", caption=caption)
    write_text(out / "problems.csv", format_csv(res.problems))
    for lab in labels:
        write_text(out / f"predictions_{lab}.csv", format_csv(res.predictions[lab]))
        write_text(out / f"mcnemar_{lab}.csv", format_csv(res.mcnemar[lab]))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(res.table[["labels", "method", "n", "correct", "accuracy", "ci95_lo", "ci95_hi", "p_vs_chance",
                         "macro_f1"]].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    counts = res.problem_counts()
    print(f"problems: {len(res.problems)} row(s)" + ("" if counts.empty else "\n" + counts.to_string(index=False)))
    print(f"tables in {out}")
    return 0
