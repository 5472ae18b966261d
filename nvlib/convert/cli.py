"""``nvlib convert {afew-va,nefer,samples,synthetic}``: the command line of :mod:`nvlib.convert`."""
from __future__ import annotations

import argparse
import sys

from nvlib.convert.params import DVS_PRESETS, LABEL_SOURCES, NEFER_LABELS
from nvlib.convert.sources import convert_afewva, convert_nefer, convert_samples_result, convert_synthetic
from nvlib.datasets.cache import is_complete


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``nvlib convert {afew-va,nefer,samples,synthetic} ...``."""
    sub = parser.add_subparsers(dest="dataset", required=True)

    def common(p):
        p.add_argument("--n-bits", type=int, default=8, help="TBR bits N (paper: 8 or 16)")
        p.add_argument("--delta-t-us", type=int, default=5000, help="TBR bin Δt in µs (paper: 5000)")
        p.add_argument("--size", type=int, default=128, help="face crop side S in pixels")
        p.add_argument("--workers", type=int, default=0, help="worker processes (0: in this process)")
        p.add_argument("--shard", default=None, help="i/n: convert clips k with k %% n == i")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("afew-va", help="AFEW-VA tree (clip folders 001...)")
    p.add_argument("root")
    p.add_argument("out")
    p.add_argument("--fps", type=float, default=25.0, help="frame rate of the clips")
    p.add_argument("--dvs", choices=DVS_PRESETS, default="default")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--upsample", default="auto",
                   help="optical-flow temporal upsampling before simulation: 'auto' (default: <= 1 px of "
                        "motion and <= one TBR slice per sub-frame) or an integer factor (1: none)")
    common(p)
    p = sub.add_parser("nefer", help="NEFER root (event_raw/, annotations/)")
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


def main(args: argparse.Namespace) -> int:
    prog = not args.no_progress
    try:
        if args.dataset == "afew-va":
            res = convert_afewva(args.root, args.out, args.n_bits, args.delta_t_us, args.size, args.fps,
                                 args.workers, args.shard, prog, args.dvs, args.folds, args.split_seed,
                                 upsample=args.upsample)
        elif args.dataset == "nefer":
            res = convert_nefer(args.root, args.out, args.labels, args.n_bits, args.delta_t_us, args.size,
                                args.workers, args.shard, prog)
        elif args.dataset == "samples":
            res = convert_samples_result(args.out, args.names, args.n_bits, args.size, args.delta_t_us,
                                         args.max_frames, args.workers, prog, args.shard, args.label_source)
        else:
            d = convert_synthetic(args.out, args.n_clips, args.n_frames, args.size, args.n_bits, args.delta_t_us,
                                  args.seed, args.workers, args.fps, progress=prog, image_size=args.image_size,
                                  shard=args.shard)
            print(d)
            return 0 if is_complete(d) else 3
    except (ValueError, FileNotFoundError) as e:
        print(f"nvlib convert: {e}", file=sys.stderr)
        return 2
    print(f"{res.cache_dir}: {len(res.converted)} converted, {res.already_done} already done, "
          f"{len(res.skipped)} skipped this run" + ("; cache complete" if res.complete else
                                                   "; not complete yet (other shards pending)"))
    for clip, file, reason in res.skipped:
        print(f"  skipped {clip}: {file}: {reason}", file=sys.stderr)
    return 0 if res.complete else 3
