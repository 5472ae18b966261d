"""``nvlib info FILE...``: format, sensor size, event count, time span and rate of event files."""
from __future__ import annotations

import sys

import numpy as np

from nvlib.io.errors import FormatError
from nvlib.io.reading import detect_format, read_events


def describe(path, sensor_size=None) -> dict:
    """A summary of one event file (reads it whole)."""
    ev = read_events(path, sensor_size=sensor_size)
    n = len(ev)
    dur = ev.duration_us
    return {
        "file": str(path), "format": detect_format(path), "width": ev.width, "height": ev.height,
        "events": n, "t_first_us": int(ev.t[0]) if n else None, "t_last_us": int(ev.t[-1]) if n else None,
        "duration_ms": dur / 1e3, "rate_mev_s": (n / dur) if dur else 0.0,
        "on_fraction": float(np.mean(ev.p)) if n else 0.0, "sorted": ev.is_sorted(),
    }


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", help="event files (.raw EVT 2.0/3.0, .dat, .aedat4, .aedat, .h5, .txt, cache)")
    parser.add_argument("--sensor-size", nargs=2, type=int, metavar=("W", "H"), default=None,
                        help="geometry for files whose header has none")


def main(args) -> int:
    rc = 0
    for f in args.files:
        try:
            d = describe(f, tuple(args.sensor_size) if args.sensor_size else None)
        except (FormatError, OSError, ValueError) as e:
            print(f"nvlib info: {e}", file=sys.stderr)
            rc = 1
            continue
        print(f"{d['file']}: {d['format']}, {d['width']}x{d['height']}, {d['events']} events over "
              f"{d['duration_ms']:.3f} ms ({d['rate_mev_s']:.2f} Mev/s), ON fraction {d['on_fraction']:.3f}"
              f"{'' if d['sorted'] else ', NOT time-sorted'}")
    return rc
