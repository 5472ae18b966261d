"""``nvlib convert {afew-va,nefer,samples,synthetic,videos}``: the command line of :mod:`nvlib.convert`.

Exit codes: 0 the cache is complete; 1 the conversion finished but did not pass its checks (no clip
converted, or more than ``--max-skip`` of the clips skipped: the summary names the first problems,
``skipped.log`` all of them); 2 bad input (a root without clips, missing actors, a bad labels file, an
OUT that is a file, an unknown sample name, a bad option value: one line naming the file or option,
checked before any clip is converted; ``--debug`` shows the traceback); 3 not complete yet (other
shards pending). Ctrl-C leaves finished clips in place and no half-written one (the runner writes each
clip to a temporary folder and renames it); the next run resumes.
"""
from __future__ import annotations

import argparse
import sys

from nvlib.convert.jobs import GROUPINGS
from nvlib.convert.params import DVS_PRESETS, LABEL_SOURCES, NEFER_LABELS
from nvlib.convert.runner import DEFAULT_MAX_SKIP, ConversionError, parse_shard
from nvlib.convert.sources import (convert_afewva, convert_nefer, convert_samples_result, convert_synthetic,
                                   convert_videos)
from nvlib.datasets.cache import is_complete


def _share(text: str) -> float:
    try:
        v = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.05 or 5%, got {text!r}") from None
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"expected a share in [0, 1] (or 0%..100%), got {text!r}")
    return v


def _count(minimum: int):
    """An argparse type: a whole number >= ``minimum``."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {v}")
        return v
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``nvlib convert {afew-va,nefer,samples,synthetic,videos} ...``."""
    sub = parser.add_subparsers(dest="dataset", required=True)

    def common(p, groups: bool = False):
        p.add_argument("--n-bits", type=int, default=8, help="TBR bits N (paper: 8 or 16)")
        p.add_argument("--delta-t-us", type=int, default=5000, help="TBR bin Δt in µs (paper: 5000)")
        p.add_argument("--size", type=int, default=128, help="face crop side S in pixels")
        p.add_argument("--workers", type=_count(0), default=0, help="worker processes (0: in this process)")
        p.add_argument("--shard", default=None, help="i/n: convert clips k with k %% n == i")
        p.add_argument("--max-skip", type=_share, default=DEFAULT_MAX_SKIP,
                       help=f"fail when more than this share of the clips is skipped, e.g. 0.1 or 10%% "
                            f"(default {DEFAULT_MAX_SKIP:.0%}%; 1 accepts any)")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
        if groups:
            p.add_argument("--groups", choices=GROUPINGS, default="person",
                           help="split and fold by the person in each clip (default; refused when the data do "
                                "not name one) or make every clip its own group (the folds are then not "
                                "subject-independent)")

    p = sub.add_parser("afew-va", help="AFEW-VA tree (clip folders 001...)")
    p.add_argument("root")
    p.add_argument("out")
    p.add_argument("--fps", type=float, default=25.0, help="frame rate of the clips")
    p.add_argument("--dvs", choices=DVS_PRESETS, default="default")
    p.add_argument("--folds", type=_count(2), default=5, help="k of the k-fold protocol (>= 2)")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--upsample", default="auto",
                   help="optical-flow temporal upsampling before simulation: 'auto' (default: <= 1 px of "
                        "motion and <= one TBR slice per sub-frame) or an integer factor (1: none)")
    common(p, groups=True)
    p = sub.add_parser("nefer", help="NEFER root (annotations/; recordings found by sequence id)")
    p.add_argument("root")
    p.add_argument("out")
    p.add_argument("--labels", choices=NEFER_LABELS, default="expected")
    common(p)
    p = sub.add_parser("samples", help="the real sample clips of `nvlib samples` (derived labels)")
    p.add_argument("out")
    p.add_argument("--names", nargs="*", default=None)
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--label-source", choices=LABEL_SOURCES, default="acted")
    common(p)
    p = sub.add_parser("synthetic", help="generate synthetic AFEW-VA faces and convert them")
    p.add_argument("out")
    p.add_argument("--n-clips", type=int, default=12)
    p.add_argument("--n-frames", type=int, default=48)
    p.add_argument("--image-size", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fps", type=float, default=25.0)
    common(p)
    p.set_defaults(size=64)
    p = sub.add_parser("videos", help="your own videos (any container OpenCV reads, found recursively)",
                       description="Convert the videos under DIR. Labels (optional): a CSV with a header, per "
                                   "frame clip,frame,valence,arousal[,group] or per clip "
                                   "clip,valence,arousal[,group]; clip = the path relative to DIR; values in "
                                   "[-1, 1]; group = the person. Without --labels the cache is for inference.")
    p.add_argument("root", metavar="DIR")
    p.add_argument("out", metavar="OUT")
    p.add_argument("--labels", default=None, metavar="CSV", help="valence/arousal per frame or per clip")
    p.add_argument("--fps", type=float, default=None, help="frame rate (default: each file's own)")
    p.add_argument("--max-frames", type=int, default=None, help="decode at most this many frames per video")
    p.add_argument("--folds", type=_count(2), default=5, help="k of the k-fold protocol (>= 2)")
    p.add_argument("--split-seed", type=int, default=0)
    common(p, groups=True)


def _report(res, out=None, failed: bool = False) -> None:
    out = sys.stdout if out is None else out
    meta = res.meta or {}
    changed = f" ({len(res.reconverted)} of them because their source changed)" if res.reconverted else ""
    state = "" if failed else "; cache complete" if res.complete else "; not complete yet (other shards pending)"
    print(f"{res.cache_dir}: {len(res.converted)} converted{changed}, {res.already_done} already done, "
          f"{len(res.skipped)} skipped this run{state}", file=out)
    if not res.complete:
        return
    n_sk = meta.get("n_skipped", 0)
    counts = meta.get("split_counts") or {}
    splits = f" (train/val/test: {'/'.join(str(counts.get(k, 0)) for k in ('train', 'val', 'test'))})" if counts else ""
    split = ("no split (no labels)" if meta.get("split_unit") == "none" else
             f"split by {meta.get('split_unit')}{splits}; subject-independent: "
             f"{'yes' if meta.get('subject_independent') else 'NO'}")
    print(f"  content id {res.content_id}; {meta.get('n_clips')} clips ({n_sk} skipped in all); {split}", file=out)
    for key in ("note", "split_note"):
        if meta.get(key) and meta.get("labels_kind") != "none":
            print(f"  note: {meta[key]}", file=out)
    if meta.get("labels_kind") == "none":
        print("  no labels: this cache is for inference only (nvlib train cannot use it; give --labels to train)",
              file=out)
    if res.dropped_frames:
        first = "; ".join(f"{c} frame {f}: {file}: {why}" for c, f, file, why in res.dropped_frames[:3])
        print(f"  {len(res.dropped_frames)} unreadable frame(s) dropped, their clips kept the other frames: {first}"
              + (" ..." if len(res.dropped_frames) > 3 else ""), file=out)


def _check_paths(args: argparse.Namespace) -> None:
    """One-line errors, before any work, for the mistakes the converters would meet late or word as a
    system error: a bad --shard, OUT that is a file, a labels path that is a folder, an unknown sample name."""
    from pathlib import Path

    parse_shard(args.shard)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"OUT {out} is a file; give a folder to hold the cache (it is created if missing)")
    labels = getattr(args, "labels", None)
    if args.dataset == "videos" and labels is not None and Path(labels).is_dir():
        raise IsADirectoryError(f"labels {labels} is a folder; expected a CSV file (see `nvlib convert videos --help`)")
    if args.dataset == "samples" and args.names:
        from nvlib.datasets.samples import SAMPLES

        unknown = [n for n in args.names if n not in SAMPLES]
        if unknown:
            raise ValueError(f"unknown sample name(s) {', '.join(unknown)}; known: {', '.join(SAMPLES)} "
                             f"(`nvlib samples list` shows the fetched ones)")


def main(args: argparse.Namespace) -> int:
    prog = not args.no_progress
    try:
        _check_paths(args)
        if args.dataset == "afew-va":
            res = convert_afewva(args.root, args.out, args.n_bits, args.delta_t_us, args.size, args.fps,
                                 args.workers, args.shard, prog, args.dvs, args.folds, args.split_seed,
                                 upsample=args.upsample, groups=args.groups, max_skip=args.max_skip)
        elif args.dataset == "nefer":
            res = convert_nefer(args.root, args.out, args.labels, args.n_bits, args.delta_t_us, args.size,
                                args.workers, args.shard, prog, max_skip=args.max_skip)
        elif args.dataset == "samples":
            res = convert_samples_result(args.out, args.names, args.n_bits, args.size, args.delta_t_us,
                                         args.max_frames, args.workers, prog, args.shard, args.label_source,
                                         max_skip=args.max_skip)
        elif args.dataset == "videos":
            res = convert_videos(args.root, args.out, args.labels, args.n_bits, args.delta_t_us, args.size, args.fps,
                                 args.max_frames, args.groups, args.workers, args.shard, prog, args.folds,
                                 args.split_seed, args.max_skip)
        else:
            d = convert_synthetic(args.out, args.n_clips, args.n_frames, args.size, args.n_bits, args.delta_t_us,
                                  args.seed, args.workers, args.fps, progress=prog, image_size=args.image_size,
                                  shard=args.shard, max_skip=args.max_skip)
            print(d)
            return 0 if is_complete(d) else 3
    except ConversionError as e:
        res = e.result
        _report(res, sys.stderr, failed=True)
        print(f"nvlib convert: FAILED: {res.failure}", file=sys.stderr)
        import json

        try:
            problems = json.loads((res.cache_dir / "failed.json").read_text())["problems"]
        except (OSError, ValueError, KeyError):
            problems = []
        if problems:
            print("  first problems:", file=sys.stderr)
            for r in problems[:5]:
                print(f"    {r['clip']}: {r['file']}: {r['reason']}", file=sys.stderr)
        print(f"  all problems: {res.cache_dir / 'skipped.log'}; the cache has no index.json and cannot be "
              f"used until this passes", file=sys.stderr)
        return 1
    except (ValueError, OSError) as e:
        if getattr(args, "debug", False):
            raise
        print(f"nvlib convert: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    _report(res)
    for clip, file, reason in res.skipped:
        print(f"  skipped {clip}: {file}: {reason}", file=sys.stderr)
    return 0 if res.complete else 3
