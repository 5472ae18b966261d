"""``nvlib simulate -i INPUT [options]``: video / frame folder / .npy -> DVS events.

Option names follow v2e's command line (SensorsINI/v2e ``v2e_args.py``). Outputs are
streamed frame by frame through :func:`nvlib.io.open_writer` and renamed into place only
when the run completes, so an interrupted run leaves no partial file.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from nvlib.simulate.params import CAMERAS, DVSParams

_FIELDS = {  # CLI dest -> DVSParams field
    "pos_thres": "pos_thres", "neg_thres": "neg_thres", "sigma_thres": "sigma_thres", "cutoff_hz": "cutoff_hz",
    "leak_rate_hz": "leak_rate_hz", "shot_noise_rate_hz": "shot_noise_rate_hz",
    "refractory_period": "refractory_period_s", "leak_jitter_fraction": "leak_jitter_fraction",
    "noise_rate_cov_decades": "noise_rate_cov_decades", "dvs_emulator_seed": "seed", "timestamp_mode": "timestamp_mode",
}


def _upsample_arg(s: str):
    if s == "auto":
        return s
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--upsample takes an integer >= 1 or 'auto', got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"--upsample takes an integer >= 1 or 'auto', got {s!r}")
    return v


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = DVSParams()
    parser.add_argument("-i", "--input", required=True,
                        help="video file, folder of frames (00000.png ...) or .npy uint8 (T, H, W) gray stack")
    parser.add_argument("--input_frame_rate", type=float, default=None,
                        help="frame rate in Hz (overrides the video's; required for folders and .npy)")
    parser.add_argument("--max_frames", type=int, default=None, help="stop after this many input frames")
    g = parser.add_argument_group("DVS model (v2e's names; defaults are v2e's)")
    g.add_argument("--dvs_params", choices=["clean", "noisy"], default=None,
                   help="v2e preset; model options given explicitly are applied on top of it")
    g.add_argument("--pos_thres", type=float, default=None, help=f"ON threshold, ln units (default {d.pos_thres})")
    g.add_argument("--neg_thres", type=float, default=None, help=f"OFF threshold, ln units (default {d.neg_thres})")
    g.add_argument("--sigma_thres", type=float, default=None, help=f"threshold mismatch std (default {d.sigma_thres})")
    g.add_argument("--cutoff_hz", type=float, default=None,
                   help=f"photoreceptor cutoff at white, Hz; 0 disables (default {d.cutoff_hz})")
    g.add_argument("--leak_rate_hz", type=float, default=None, help=f"leak event rate, Hz (default {d.leak_rate_hz})")
    g.add_argument("--shot_noise_rate_hz", type=float, default=None,
                   help=f"shot noise rate per pixel, Hz (default {d.shot_noise_rate_hz})")
    g.add_argument("--refractory_period", type=float, default=None,
                   help=f"refractory period, s (default {d.refractory_period_s})")
    g.add_argument("--leak_jitter_fraction", type=float, default=None,
                   help=f"leak rate jitter (default {d.leak_jitter_fraction})")
    g.add_argument("--noise_rate_cov_decades", type=float, default=None,
                   help=f"leak rate spread across pixels, decades (default {d.noise_rate_cov_decades})")
    g.add_argument("--dvs_emulator_seed", type=int, default=None, help="threshold/noise seed (default 0)")
    g.add_argument("--timestamp_mode", choices=["v2e", "esim"], default=None,
                   help="v2e: k*dt/N sub-steps (default); esim: per-pixel interpolated crossing times")
    g.add_argument("--upsample", type=_upsample_arg, default=None,
                   help="optical-flow temporal upsampling factor (integer) or 'auto'")
    cam = parser.add_argument_group("camera size (resize with cv2.INTER_AREA)").add_mutually_exclusive_group()
    for name, (w, h) in CAMERAS.items():
        cam.add_argument(f"--{name}", action="store_true", help=f"{w}x{h}")
    o = parser.add_argument_group("outputs")
    o.add_argument("--dvs_h5", default=None, help="v2e HDF5: dataset 'events' (N, 4) uint32 [t_us, x, y, p]")
    o.add_argument("--dvs_text", default=None, help="v2e / jAER text: 't x y p' per line")
    o.add_argument("--cache", default=None, help="project event cache (nvlib.io.read_cache)")
    o.add_argument("--evt3", default=None, help="Prophesee EVT 3.0 .raw")
    parser.add_argument("--device", default="cpu",
                        help="torch device of the per-pixel state: cpu (default), cuda, cuda:1 ...")
    parser.add_argument("--no_progress", action="store_true", help="no progress bar")


def params_from_args(args: argparse.Namespace) -> DVSParams:
    """DVSParams from a preset (or v2e's defaults) with the explicitly given options on top."""
    over = {field: getattr(args, dest) for dest, field in _FIELDS.items() if getattr(args, dest, None) is not None}
    if args.dvs_params:
        return DVSParams.preset(args.dvs_params, **over)
    return DVSParams(**over)


def main(args: argparse.Namespace) -> int:
    from nvlib.io import open_writer
    from nvlib.simulate.emulator import DVSEmulator
    from nvlib.simulate.video import iter_timed_frames, open_frames, source_fps

    try:
        params = params_from_args(args)
    except ValueError as e:
        print(f"nvlib simulate: {e}", file=sys.stderr)
        return 2
    camera = next((name for name in CAMERAS if getattr(args, name, False)), None)
    src = open_frames(args.input, camera=camera, max_frames=args.max_frames)
    fps = source_fps(src, args.input_frame_rate)
    outputs = [(p, fmt) for p, fmt in ((args.dvs_h5, "v2e_h5"), (args.dvs_text, "v2e_text"),
                                       (args.cache, "cache"), (args.evt3, "evt3")) if p]
    emu = DVSEmulator(params, device=args.device)
    frames = iter_timed_frames(src, fps, args.upsample)
    if not args.no_progress:
        from tqdm.auto import tqdm
        total = None if args.upsample not in (None, 1) else (
            min(src.n_frames, args.max_frames) if (src.n_frames and args.max_frames) else src.n_frames)
        frames = tqdm(frames, total=total, desc=f"simulate {Path(args.input).name}", unit="frame")
    t0 = time.perf_counter()
    n_frames = n_events = 0
    with contextlib.ExitStack() as stack:
        writers = None
        for fr, t in frames:
            ev = emu.step(fr, t)
            if writers is None:
                writers = [stack.enter_context(open_writer(p, fmt, emu.sensor_size)) for p, fmt in outputs]
            for w in writers:
                w.write(ev)
            n_frames += 1
            n_events += len(ev)
    dt = time.perf_counter() - t0
    w, h = emu.sensor_size
    up = "" if args.upsample in (None, 1) else f" (flow-upsampled x{args.upsample})"
    print(f"{args.input}: {n_frames} frames{up} from {fps:.3f} fps -> {n_events} events on {w}x{h} "
          f"(ON {emu.num_on}, OFF {emu.num_off}) in {dt:.1f} s ({n_frames / max(dt, 1e-9):.0f} frames/s)")
    for p, fmt in outputs:
        print(f"  wrote {fmt}: {p}")
    return 0
