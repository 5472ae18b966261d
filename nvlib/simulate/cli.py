"""``nvlib simulate -i INPUT OUTPUT-OPTIONS [options]``: video / frame folder / .npy -> DVS events.

Option names follow v2e's command line (SensorsINI/v2e ``v2e_args.py``). Outputs are
streamed frame by frame through :func:`nvlib.io.open_writer` and renamed into place only
when the run completes, so an interrupted run leaves no partial file. Importing this module
imports neither torch nor numba (``nvlib simulate --help`` stays fast); ``main`` does.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
from pathlib import Path

from nvlib.simulate.params import CAMERAS, DVSParams

_FIELDS = {  # CLI dest -> DVSParams field
    "pos_thres": "pos_thres", "neg_thres": "neg_thres", "sigma_thres": "sigma_thres", "cutoff_hz": "cutoff_hz",
    "leak_rate_hz": "leak_rate_hz", "shot_noise_rate_hz": "shot_noise_rate_hz",
    "refractory_period": "refractory_period_s", "leak_jitter_fraction": "leak_jitter_fraction",
    "noise_rate_cov_decades": "noise_rate_cov_decades", "dvs_emulator_seed": "seed", "timestamp_mode": "timestamp_mode",
    "noise_rng": "noise_rng",
}
#: output option -> writer format (nvlib.io.open_writer)
OUTPUTS = {"dvs_h5": "v2e_h5", "dvs_text": "v2e_text", "dvs_aedat4": "aedat4", "evt3": "evt3", "cache": "cache"}

EPILOG = """\
Timestamps. With --timestamp_mode v2e (the default, v2e's own), a pixel's k-th event of a frame
interval falls on sub-step k of N equal sub-steps (N the largest count of that interval), the same
instants for the whole frame, so the event rate shows periodic bursts at the frame rate (v2e issue
#71). --timestamp_mode esim (each threshold crossing interpolated per pixel between the frames) removes
them; --upsample N or auto (optical-flow frames in between) only spreads them over more, smaller
bursts. Notebook 01 plots the event-rate trace of each.

Sizes. The output has the input's frame size unless a camera preset (--dvs346 ...) resizes it.
Times. Events are in µs from the first simulated frame (at --start_time, as in v2e).
Exit codes: 0 done; 1 the video ended before the frame count its container declares (outputs hold
the frames reached, the count is printed); 2 a mistake in the options or the input (one line)."""


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
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("-i", "--input", required=True,
                        help="video file, folder of frames (00000.png ...) or .npy uint8 (T, H, W) gray stack")
    parser.add_argument("--input_frame_rate", type=float, default=None,
                        help="frame rate in Hz (overrides the video's; required for folders and .npy)")
    parser.add_argument("--start_time", type=float, default=None,
                        help="start at the input frame at this time, s (v2e's option; default: the first frame)")
    parser.add_argument("--stop_time", type=float, default=None,
                        help="stop after the input frame at this time, s (v2e's option; default: the last frame)")
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
    g.add_argument("--shot_noise_rate_as_specified", action="store_true",
                   help="shot noise at the rate given on average (v2e scales it down by its intensity factor, "
                        "v2e issue #74)")
    g.add_argument("--refractory_period", type=float, default=None,
                   help=f"refractory period, s (default {d.refractory_period_s})")
    g.add_argument("--leak_jitter_fraction", type=float, default=None,
                   help=f"leak rate jitter (default {d.leak_jitter_fraction})")
    g.add_argument("--noise_rate_cov_decades", type=float, default=None,
                   help=f"leak rate spread across pixels, decades (default {d.noise_rate_cov_decades})")
    g.add_argument("--dvs_emulator_seed", type=int, default=None, help="threshold/noise seed (default 0)")
    g.add_argument("--noise_rng", choices=["v2e", "fast"], default=None,
                   help="v2e: noise events equal v2e's (default); fast: same laws, other draws, shot noise "
                        "drawn in O(noise events)")
    g.add_argument("--timestamp_mode", choices=["v2e", "esim"], default=None,
                   help="v2e: k*dt/N sub-steps (default; bursts at frame times, see below); esim: per-pixel "
                        "interpolated crossing times (no bursts)")
    g.add_argument("--upsample", type=_upsample_arg, default=None,
                   help="optical-flow temporal upsampling factor (integer) or 'auto' (smaller bursts)")
    cam = parser.add_argument_group("camera size (default: the input's size; a preset resizes with "
                                    "cv2.INTER_AREA)").add_mutually_exclusive_group()
    for name, (w, h) in CAMERAS.items():
        cam.add_argument(f"--{name}", action="store_true", help=f"{w}x{h}")
    o = parser.add_argument_group("outputs (at least one)")
    o.add_argument("--dvs_h5", default=None, help="v2e HDF5: dataset 'events' (N, 4) uint32 [t_us, x, y, p]")
    o.add_argument("--dvs_text", default=None, help="v2e / jAER text: 't x y p' per line")
    o.add_argument("--dvs_aedat4", default=None, help="iniVation AEDAT 4.0 (one events stream, the sensor size)")
    o.add_argument("--evt3", default=None, help="Prophesee EVT 3.0 .raw")
    o.add_argument("--cache", default=None, help="project event cache (nvlib.io.read_cache)")
    o.add_argument("--dvs_frames", default=None,
                   help="event frames .npz: 'frames' (T, 2, H, W) OFF/ON counts, one per input frame, "
                        "'times_s' the input frame times")
    parser.add_argument("--device", default="cpu",
                        help="torch device of the per-pixel state: cpu (default), cuda, cuda:1 ...")
    parser.add_argument("--no_progress", action="store_true", help="no progress bar")


def params_from_args(args: argparse.Namespace) -> DVSParams:
    """DVSParams from a preset (or v2e's defaults) with the explicitly given options on top."""
    over = {field: getattr(args, dest) for dest, field in _FIELDS.items() if getattr(args, dest, None) is not None}
    if getattr(args, "shot_noise_rate_as_specified", False):
        over["shot_noise_rate_as_specified"] = True
    if args.dvs_params:
        return DVSParams.preset(args.dvs_params, **over)
    return DVSParams(**over)


def check_args(args: argparse.Namespace) -> None:
    """Raise ValueError (one line) for option values that cannot work, before anything is read."""
    r = args.input_frame_rate
    if r is not None and not (math.isfinite(r) and r > 0):
        raise ValueError(f"--input_frame_rate must be a positive number of frames per second, got {r:g}")
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max_frames must be at least 1, got {args.max_frames}")
    for name in ("start_time", "stop_time"):
        v = getattr(args, name)
        if v is not None and not (math.isfinite(v) and v >= 0):
            raise ValueError(f"--{name} must be a time >= 0 in seconds, got {v:g}")
    if args.start_time is not None and args.stop_time is not None and args.stop_time <= args.start_time:
        raise ValueError(f"--stop_time {args.stop_time:g} s must be later than --start_time {args.start_time:g} s")
    if not any(getattr(args, k, None) for k in (*OUTPUTS, "dvs_frames")):
        raise ValueError("no output chosen, nothing would be written: give at least one of "
                         + ", ".join(f"--{k}" for k in (*OUTPUTS, "dvs_frames")))


def frame_range(fps: float, start_time: float | None, stop_time: float | None) -> tuple[int, int | None]:
    """Input frame indices ``[first, last]`` (last None: to the end) of the frames at ``start_time`` ..
    ``stop_time`` s (frame ``i`` at ``i/fps``; a time between two frames rounds to the later frame for
    the start, the earlier one for the stop)."""
    eps = 1e-9
    first = 0 if start_time is None else int(math.ceil(start_time * fps - eps))
    last = None if stop_time is None else int(math.floor(stop_time * fps + eps))
    if last is not None and last < first:
        raise ValueError(f"no input frame between --start_time {start_time or 0:g} s and --stop_time "
                         f"{stop_time:g} s at {fps:g} frames/s")
    return first, last


def main(args: argparse.Namespace) -> int:
    check_args(args)
    params = params_from_args(args)

    from nvlib.io import open_writer
    from nvlib.simulate.emulator import DVSEmulator
    from nvlib.simulate.video import EventFrames, open_frames, source_fps

    camera = next((name for name in CAMERAS if getattr(args, name, False)), None)
    src = open_frames(args.input, camera=camera)
    fps = source_fps(src, args.input_frame_rate)
    first, last = frame_range(fps, args.start_time, args.stop_time)
    if src.n_frames and first >= src.n_frames:
        raise ValueError(f"{args.input}: --start_time {args.start_time:g} s is past the last of its "
                         f"{src.n_frames} frames at {fps:g} frames/s")
    if args.max_frames is not None:
        last = first + args.max_frames - 1 if last is None else min(last, first + args.max_frames - 1)
    outputs = [(getattr(args, k), fmt) for k, fmt in OUTPUTS.items() if getattr(args, k, None)]
    emu = DVSEmulator(params, device=args.device)
    state = {"read": 0, "ended": True}

    def selected():
        for i, fr in enumerate(src):
            state["read"] = i + 1
            if i < first:
                continue
            if last is not None and i > last:
                state["ended"] = False
                return
            yield fr, (i - first) / fps
            if last is not None and i == last:
                state["ended"] = False
                return

    frames = selected()
    if args.upsample not in (None, 1):
        from nvlib.simulate.upsample import upsample_frames
        frames = upsample_frames(frames, args.upsample)
    if not args.no_progress:
        from tqdm.auto import tqdm
        n_in = src.n_frames if last is None else (last + 1 if not src.n_frames else min(src.n_frames, last + 1))
        total = None if args.upsample not in (None, 1) or not n_in else n_in - first
        frames = tqdm(frames, total=total, desc=f"simulate {Path(args.input).name}", unit="frame")
    t0 = time.perf_counter()
    n_steps = n_events = 0
    event_frames = None
    with contextlib.ExitStack() as stack:
        writers = None
        for fr, t in frames:
            ev = emu.step(fr, t)
            if writers is None:
                writers = [stack.enter_context(open_writer(p, fmt, emu.sensor_size)) for p, fmt in outputs]
                event_frames = EventFrames(fps, emu.sensor_size) if args.dvs_frames else None
            for w in writers:
                w.write(ev)
            if event_frames is not None:
                event_frames.add_events(ev)
            n_steps += 1
            n_events += len(ev)
        if writers is None:
            raise ValueError(f"{args.input}: no input frame at or after --start_time {args.start_time:g} s "
                             f"({state['read']} frames at {fps:g} frames/s)")
        n_frames = state["read"] - first if state["ended"] else (last - first + 1)
        if event_frames is not None:
            event_frames.save(args.dvs_frames, n_frames)
    dt = time.perf_counter() - t0
    w, h = emu.sensor_size
    up = "" if args.upsample in (None, 1) else f" ({n_steps} after flow upsampling x{args.upsample})"
    print(f"{args.input}: {n_frames} frames{up} from {fps:.3f} fps -> {n_events} events on {w}x{h} "
          f"(ON {emu.num_on}, OFF {emu.num_off}) in {dt:.1f} s ({n_steps / max(dt, 1e-9):.0f} frames/s)")
    for p, fmt in outputs + ([(args.dvs_frames, "event frames")] if args.dvs_frames else []):
        print(f"  wrote {fmt}: {p}")
    if src.kind == "video" and state["ended"] and src.n_frames and state["read"] < src.n_frames:
        print(f"nvlib simulate: {args.input}: the video ended after {state['read']} of the {src.n_frames} frames "
              f"its container declares (truncated or damaged file); the outputs hold those {n_frames} frames",
              file=sys.stderr)
        return 1
    return 0
