"""``nvlib samples {fetch,list}``: the real face clips (see :mod:`nvlib.samples`)."""
from __future__ import annotations

import json

from . import samples


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=["fetch", "list"], help="fetch: download and verify; list: show the manifest")
    parser.add_argument("-q", "--quiet", action="store_true")


def main(args) -> int:
    if args.action == "fetch":
        return samples.main_fetch(quiet=args.quiet)
    manifest = samples.samples_dir() / "manifest.json"
    if not manifest.is_file():
        print("no samples fetched yet: run `nvlib samples fetch`")
        return 1
    for name, m in json.loads(manifest.read_text()).items():
        print(f"{name:24s} {m['width']}x{m['height']} {m['fps']:.3f} fps {m['frames']:4d} frames  "
              f"{m['package']}=={m['version']}  {m['license']}; {m['attribution'][:50]}")
    return 0
