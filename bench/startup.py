"""Start-up of the ``nvlib`` commands against the interpreter's own floors.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/startup.py [--repeat 5]``. Each command runs in a fresh
subprocess (what a user's shell does); the wall time printed is the best of ``--repeat`` runs, with the
peak resident memory of that process. The floors, timed in the same run: ``python -c pass`` (the
interpreter alone) and ``python -c "import torch"`` (what any command that imports torch pays before
doing anything). A last column says whether the command imported torch (checked in one more run).

The event files for ``nvlib info`` are the Gen4.1 EVT 3.0 and Gen3 EVT 2.0 recordings of ``../shared``
when present, else a small EVT 3.0 file written here (their sizes are printed).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
NVLIB = str(Path(PY).with_name("nvlib"))

#: in one extra run: run the command in-process, then report whether torch was imported
_PROBE = ("import sys\nfrom nvlib.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
          "print('TORCH' if 'torch' in sys.modules else 'NOTORCH', file=sys.__stderr__)")


def event_files(tmp: Path) -> list[tuple[Path, str]]:
    from nvlib.workbook.paths import shared_dir

    root = shared_dir()
    found = [(root / "fixtures/events" / name, what) for name, what in (
        ("gen41_evt3_sample.raw", "../shared Gen4.1 EVT 3.0 recording"),
        ("gen3_evt2_sample.raw", "../shared Gen3 EVT 2.0 recording"))] if root is not None else []
    found = [(f, what) for f, what in found if f.is_file()]
    if found:
        return found
    import numpy as np

    from nvlib.events import make_events
    from nvlib.io import write_evt3

    rng = np.random.default_rng(0)
    n = 200_000
    ev = make_events(rng.integers(0, 640, n), rng.integers(0, 480, n), np.sort(rng.integers(0, 10_000, n)),
                     rng.integers(0, 2, n), (640, 480))
    return [(write_evt3(tmp / "startup.raw", ev), f"synthetic EVT 3.0, {n} events")]


def run_once(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MiB and exit code of one run of ``cmd``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def best(cmd: list[str], repeat: int) -> tuple[float, float, int]:
    runs = [run_once(cmd) for _ in range(repeat)]
    wall, rss, rc = min(runs)
    return wall, max(r[1] for r in runs), rc


def imports_torch(args: list[str]) -> str:
    proc = subprocess.run([PY, "-c", _PROBE, *args], capture_output=True, text=True)
    return "yes" if "\nTORCH" in "\n" + proc.stderr else "no" if "NOTORCH" in proc.stderr else "?"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per command; the best is printed")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nvlib-bench-startup-") as tmp:
        files = event_files(Path(tmp))
        for f, what in files:
            print(f"nvlib info input: {f.name} ({what}, {f.stat().st_size} bytes)")
        floors = {"python -c pass": [PY, "-c", "pass"], 'python -c "import torch"': [PY, "-c", "import torch"]}
        commands = {
            "nvlib --help": ["--help"],
            **{f"nvlib info {f.name}": ["info", str(f)] for f, _ in files},
            "nvlib simulate --help": ["simulate", "--help"],
            "nvlib train --help": ["train", "--help"],
            "nvlib convert --help": ["convert", "--help"],
        }
        rows = [(name, *best(cmd, args.repeat), "-") for name, cmd in floors.items()]
        rows += [(name, *best([NVLIB, *a], args.repeat), imports_torch(a)) for name, a in commands.items()]
    torch_floor = rows[1][1]
    print(f"best of {args.repeat} runs each, fresh processes; floor = python -c \"import torch\"")
    print("| command | wall s | × torch floor | peak RSS MiB | exit | imports torch |")
    print("|---|---:|---:|---:|---:|---|")
    for name, wall, rss, rc, torch_ in rows:
        print(f"| `{name}` | {wall:.3f} | {wall / torch_floor:.2f} | {rss:.0f} | {rc} | {torch_} |")


if __name__ == "__main__":
    main()
