"""``nvlib info FILE...``: format, sensor size, event count, time span and rate of event files.

Each file gets one line on stdout; a file that cannot be read gets one line on stderr naming it and what
is wrong, the other files are still described, and the exit code is then 1. ``--sensor-size W H`` gives
the geometry of files whose header has none (the readers' ``sensor_size=(W, H)``); ``--format`` names
the format where detection cannot (the readers' ``format=``, e.g. a RAW header without an ``evt`` line).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from nvlib.io.errors import FormatError
from nvlib.io.reading import READ_FORMATS, detect_format, read_events


def describe(path, sensor_size=None, format: str | None = None) -> dict:
    """A summary of one event file (reads it whole); ``format`` as in :func:`nvlib.io.read_events`."""
    ev = read_events(path, sensor_size=sensor_size, format=format)
    n = len(ev)
    dur = ev.duration_us
    return {
        "file": str(path), "format": format or detect_format(path), "width": ev.width, "height": ev.height,
        "events": n, "t_first_us": int(ev.t[0]) if n else None, "t_last_us": int(ev.t[-1]) if n else None,
        "duration_ms": dur / 1e3, "rate_mev_s": (n / dur) if dur else 0.0,
        "on_fraction": float(np.mean(ev.p)) if n else 0.0, "sorted": ev.is_sorted(),
    }


def _pixels(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels, got {text!r}") from None
    if not 1 <= v <= 1 << 14:
        raise argparse.ArgumentTypeError(f"expected a sensor side in 1..16384 pixels, got {v}")
    return v


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="event files (.raw EVT 2.0/3.0, .dat, .aedat4, .aedat, .h5, .txt, nvlib cache)")
    parser.add_argument("--sensor-size", nargs=2, type=_pixels, metavar=("W", "H"), default=None,
                        help="sensor width and height in pixels, for files whose header has none "
                             "(or to override it)")
    parser.add_argument("--format", choices=READ_FORMATS, default=None,
                        help="the files' format, where detection from the content cannot tell "
                             "(e.g. a RAW header without an 'evt' line: evt3 or evt2)")


def main(args) -> int:
    rc = 0
    size = tuple(args.sensor_size) if args.sensor_size else None
    for f in args.files:
        try:
            d = describe(f, size, args.format)
        except (FormatError, OSError, ValueError) as e:
            if getattr(args, "debug", False):
                raise
            print(f"nvlib info: {' '.join(str(e).split())}", file=sys.stderr)
            rc = 1
            continue
        print(f"{d['file']}: {d['format']}, {d['width']}x{d['height']}, {d['events']} events over "
              f"{d['duration_ms']:.3f} ms ({d['rate_mev_s']:.2f} Mev/s), ON fraction {d['on_fraction']:.3f}"
              f"{'' if d['sorted'] else ', NOT time-sorted'}")
    return rc
