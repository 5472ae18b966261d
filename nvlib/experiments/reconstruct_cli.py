"""``nvlib reconstruct``: gray frames from a user's event recording with a trained reconstruction checkpoint.

    nvlib reconstruct -i EVENTS [-i EVENTS ...] --checkpoint CKPT -o frames/ [--first-frame PNG]
                      [--window-ms 33.37] [--start-us T] [--overwrite]

The recording (any format :func:`nvlib.io.read_events` reads) is cut into back-to-back windows of
``--window-ms`` from its first event (or ``--start-us``); each window's events become a voxel grid with the checkpoint's
number of bins, and the model predicts the next frame from it and the previous frame: ``--first-frame``
(a gray PNG of the checkpoint's size) before the first window, then its own previous output (no true
frames exist here). Without ``--first-frame`` it starts from uniform mid-gray (0.5).

Output: ``frame_000000.png`` ... (8-bit gray, one per window, each written atomically) and
``frames.csv`` (window, start and end in µs, events, file) in ``-o``; with several inputs, one
sub-folder per input (named after the file). When ``-o`` holds a run of the same checkpoint, input,
window and first frame (``.reconstruct.json``), a CVAE run resumes after its last written frame (the
frame is all the state it has); a recurrent model starts again (its state is not on disk). Another
run's folder is refused unless ``--overwrite``.

Reported per window or per recording, the run going on: a window without events (the previous frame is
kept), a recording or first frame whose size differs from the checkpoint's (that recording is skipped),
an unreadable recording among several. A wrong checkpoint stops the run with one line naming what it
holds and what is needed. Exit 0 when every recording was reconstructed, 1 when one was skipped.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--input", action="append", required=True, metavar="EVENTS",
                   help="event recording (repeat for several)")
    p.add_argument("--checkpoint", required=True, metavar="CKPT",
                   help="reconstruction checkpoint (nvlib.models.reconstruction.save_checkpoint, e.g. the "
                        "cvae_seed0.pt that run_reconstruction writes under results/reconstruction/)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the PNG frames")
    p.add_argument("--first-frame", metavar="PNG", help="gray frame before the first window (default mid-gray)")
    p.add_argument("--window-ms", type=float, default=1000 / 29.97,
                   help="window length in ms (default one frame at 29.97 fps)")
    p.add_argument("--start-us", type=int, default=None,
                   help="start of the first window in µs (default: the first event); e.g. the time of --first-frame")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument("--overwrite", action="store_true", help="replace another run's frames in the output folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _say(msg: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(msg, file=sys.stderr)


def _read_png(path: Path) -> np.ndarray:
    import cv2

    if not path.is_file():
        raise FileNotFoundError(f"{path}: first frame not found")
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError(f"{path}: not a readable image")
    return img


def _write_png(path: Path, img01: np.ndarray) -> None:
    import cv2

    from nvlib.workbook.atomic import atomic_path

    u8 = np.clip(np.rint(img01 * 255.0), 0, 255).astype(np.uint8)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), u8):
            raise OSError(f"{path}: cannot write the PNG")


def _file_id(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{int(st.st_mtime)}"


def reconstruct_recording(events_path: Path, model, out_dir: Path, *, first_frame: np.ndarray | None,
                          window_us: int, ckpt_id: str, device="cpu", progress: bool = True,
                          overwrite: bool = False, start_us: int | None = None) -> dict:
    """Reconstruct one recording into ``out_dir``; returns ``{"windows", "written", "empty", "skipped": reason}``."""
    import pandas as pd
    import torch

    from nvlib.io import read_events
    from nvlib.represent import voxel_grid
    from nvlib.workbook.atomic import write_text

    size, n_bins = int(model.image_size), int(model.n_bins)
    ev = read_events(events_path)
    w, h = ev.sensor_size
    if (w, h) != (size, size):
        return {"skipped": f"{events_path}: sensor {w}x{h} but the checkpoint reconstructs {size}x{size} frames; "
                           f"crop or resize the recording to {size}x{size}"}
    if len(ev) == 0:
        return {"skipped": f"{events_path}: no events"}
    if not ev.is_sorted():
        ev = ev.sorted()
    t0 = int(ev.t[0]) if start_us is None else int(start_us)
    if t0 > int(ev.t[-1]):
        return {"skipped": f"{events_path}: --start-us {t0} is after the last event ({int(ev.t[-1])} us)"}
    ev = ev.time_slice(t0, None)
    settings = {"checkpoint": ckpt_id, "input": _file_id(events_path), "window_us": int(window_us), "start_us": t0,
                "first_frame": None if first_frame is None else hashlib.sha1(first_frame.tobytes()).hexdigest()}
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = out_dir / ".reconstruct.json"
    if manifest.is_file() and not overwrite:
        old = json.loads(manifest.read_text())
        if old != settings:
            raise ValueError(f"{out_dir}: holds frames of another run ({old}); this run is {settings}: "
                             "choose another -o or pass --overwrite")
    write_text(manifest, json.dumps(settings, indent=1))

    n_win = int((int(ev.t[-1]) - t0) // window_us) + 1
    starts = t0 + np.arange(n_win, dtype=np.int64) * window_us
    bounds = np.searchsorted(ev.t, np.append(starts, starts[-1] + window_us), side="left")
    prev = (first_frame.astype(np.float32) / 255.0) if first_frame is not None else np.full((size, size), 0.5, np.float32)
    model.reset_states()
    rows, empty, written = [], 0, 0
    it = range(n_win)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, desc=events_path.name, unit="window")
    for i in it:
        path = out_dir / f"frame_{i:06d}.png"
        n = int(bounds[i + 1] - bounds[i])
        rows.append({"window": i, "t_start_us": int(starts[i]), "t_end_us": int(starts[i] + window_us),
                     "events": n, "file": path.name})
        if path.is_file() and not overwrite and getattr(model, "model_name", "") == "cvae":
            prev = _read_png(path).astype(np.float32) / 255.0  # resume: the stateless model needs only prev
            continue
        if n == 0:
            empty += 1
            _say(f"{events_path.name}: window {i} ({int(starts[i])} us): no events; previous frame kept")
            out = prev
        else:
            vox = voxel_grid(ev[int(bounds[i]):int(bounds[i + 1])], (size, size), n_bins)
            with torch.no_grad():
                y = model.step(torch.from_numpy(vox)[None].to(device), torch.from_numpy(prev)[None, None].to(device))
            out = y[0, 0].cpu().numpy().astype(np.float32)
        _write_png(path, out)
        written += 1
        prev = out
    from nvlib.workbook.atomic import atomic_path

    with atomic_path(out_dir / "frames.csv") as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    return {"windows": n_win, "written": written, "empty": empty, "skipped": None}


def main(args: argparse.Namespace) -> int:
    from nvlib.io.errors import FormatError
    from nvlib.models.reconstruction import load_checkpoint

    ckpt = Path(args.checkpoint)
    model, meta = load_checkpoint(ckpt)  # a wrong checkpoint stops here (ValueError, one line)
    model.to(args.device)
    ckpt_id = hashlib.sha256(ckpt.read_bytes()).hexdigest()[:16]
    if not args.window_ms or args.window_ms <= 0:
        raise ValueError(f"--window-ms must be positive, got {args.window_ms}")
    window_us = max(1, int(round(args.window_ms * 1000)))
    size = int(model.image_size)
    first = None
    if args.first_frame:
        first = _read_png(Path(args.first_frame))
        if first.shape != (size, size):
            _say(f"{args.first_frame}: first frame is {first.shape[1]}x{first.shape[0]} but the checkpoint "
                 f"reconstructs {size}x{size} frames; starting from mid-gray instead")
            first = None
    inputs = [Path(p) for p in args.input]
    out = Path(args.output)
    several = len(inputs) > 1
    skipped = 0
    for path in inputs:
        dest = out / path.stem if several else out
        try:
            res = reconstruct_recording(path, model, dest, first_frame=first, window_us=window_us, ckpt_id=ckpt_id,
                                        device=args.device, progress=not args.no_progress, overwrite=args.overwrite,
                                        start_us=args.start_us)
        except (FileNotFoundError, FormatError, ValueError) as e:
            if not several:
                raise
            res = {"skipped": " ".join(str(e).split())}
        if res["skipped"]:
            skipped += 1
            _say(f"skipped: {res['skipped']}")
            continue
        print(f"{path.name}: {res['windows']} windows -> {dest} ({res['written']} written, "
              f"{res['empty']} without events)")
    return 1 if skipped else 0
