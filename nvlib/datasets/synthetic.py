"""Procedural faces with known valence-arousal trajectories and action units, in real dataset layouts.

Each clip follows a smooth valence-arousal trajectory ``(v, a)`` in [-1, 1]. The trajectory drives
FACS action units (Ekman & Friesen) through :func:`va_to_aus`, and the action units drive the face
geometry (:func:`face_geometry`), so what the event camera sees is caused by the labels:

- valence: lip-corner puller AU12 (smile) for v > 0, lip-corner depressor AU15 and inner-brow
  raiser AU1 for v < 0 (mouth curvature);
- valence also sets the head-motion direction: shaking (v < 0) or nodding (v > 0);
- arousal: upper-lid raiser AU5 / eyes closing AU43, brow raiser AU2, jaw drop AU26, and the
  speed and amplitude of head motion (more motion, more events per TBR frame);
- anger-like quadrant (v < 0, a > 0): brow lowerer AU4.

Frames are drawn 4x supersampled with anti-aliased primitives and area-downsampled, so sub-pixel
motion changes intensities smoothly (what a DVS pixel responds to). 68 landmarks follow the
iBUG/Multi-PIE 68-point order (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67).

Writers: :func:`generate_synthetic_afewva` (the exact AFEW-VA layout, see
:mod:`nvlib.datasets.afewva`; action units in a side file ``NNN/NNN_au.json`` that AFEW-VA readers
ignore) and :func:`generate_synthetic_nefer` (the NEFER layout with real EVT 3.0 recordings written by
:func:`nvlib.io.write_evt3` from simulated events).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nvlib.workbook.atomic import write_text

AU_NAMES = ("AU1", "AU2", "AU4", "AU5", "AU12", "AU15", "AU26", "AU43")
_SS = 4  # supersampling factor
_SHIFT = 4  # cv2 fractional bits


@dataclass(frozen=True)
class Identity:
    """Per-actor appearance (relative units of the image size; intensities 0..255)."""

    face_w: float = 0.27
    face_h: float = 0.34
    skin: int = 175
    background: int = 70
    feature: int = 35
    eye_gap: float = 0.105
    hair: int = 45

    @staticmethod
    def random(rng: np.random.Generator) -> "Identity":
        return Identity(face_w=float(rng.uniform(0.24, 0.29)), face_h=float(rng.uniform(0.31, 0.36)),
                        skin=int(rng.integers(140, 210)), background=int(rng.integers(40, 100)),
                        feature=int(rng.integers(20, 50)), eye_gap=float(rng.uniform(0.095, 0.115)),
                        hair=int(rng.integers(20, 90)))


def va_to_aus(v: np.ndarray, a: np.ndarray) -> dict[str, np.ndarray]:
    """Action-unit intensities in [0, 1] from valence and arousal (arrays of one shape)."""
    v = np.clip(np.asarray(v, dtype=np.float64), -1, 1)
    a = np.clip(np.asarray(a, dtype=np.float64), -1, 1)
    pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
    hi, lo = np.clip(a, 0, 1), np.clip(-a, 0, 1)
    return {
        "AU1": np.clip(0.6 * neg + 0.4 * hi * (1 - pos), 0, 1),
        "AU2": np.clip(0.8 * hi * (1 - 0.5 * neg), 0, 1),
        "AU4": np.clip(1.4 * neg * hi, 0, 1),
        "AU5": hi,
        "AU12": pos,
        "AU15": neg,
        "AU26": np.clip(0.9 * hi * (0.4 + 0.6 * pos) + 0.3 * hi * neg, 0, 1),
        "AU43": np.clip(0.8 * lo, 0, 1),
    }


def face_geometry(aus: dict, identity: Identity, width: int, height: int, dx: float = 0.0, dy: float = 0.0,
                  angle: float = 0.0, blink: float = 0.0) -> dict:
    """Face parts in pixels for one frame: head ellipse, brows, eyes, nose, mouth, and 68 landmarks.

    ``aus``: scalar AU intensities; ``dx, dy`` head translation (pixels), ``angle`` roll (radians),
    ``blink`` in [0, 1] extra lid closure.
    """
    s = float(min(width, height))
    cx, cy = width / 2 + dx, height * 0.5 + dy
    fw, fh = identity.face_w * s, identity.face_h * s
    ca, sa = math.cos(angle), math.sin(angle)

    def P(x, y):  # face-relative (units of s, origin at face centre) -> image, with roll
        X, Y = x * s, y * s
        return (cx + ca * X - sa * Y, cy + sa * X + ca * Y)

    au = {k: float(aus[k]) for k in AU_NAMES}
    eg = identity.eye_gap
    eye_y = -0.06
    eye_w = 0.055
    open_ = np.clip(0.022 + 0.018 * au["AU5"] - 0.018 * au["AU43"], 0.003, 0.05) * (1 - 0.9 * blink)
    brow_y = eye_y - 0.06 - 0.03 * au["AU2"] + 0.022 * au["AU4"]
    inner_raise = 0.03 * au["AU1"] - 0.02 * au["AU4"]
    mouth_y, mouth_w = 0.16, 0.09 + 0.03 * au["AU12"]
    curve = 0.06 * (au["AU12"] - au["AU15"])  # corners up for smiles
    gape = 0.005 + 0.05 * au["AU26"]

    lm = []
    for k in range(17):  # jaw, left ear -> chin -> right ear
        th = math.pi - k * math.pi / 16
        lm.append(P(identity.face_w * math.cos(th) * 0.98, identity.face_h * 0.98 * math.sin(th) * 0.95 + 0.01))
    for side in (-1, 1):  # brows: outer -> inner (left), inner -> outer (right)
        xs = np.linspace(-eg - 0.055, -eg + 0.05, 5) if side < 0 else np.linspace(eg - 0.05, eg + 0.055, 5)
        for x in xs:
            inner = 1 - abs(abs(x) - (eg - 0.05)) / 0.105  # 1 at the inner end
            arch = 0.012 * math.sin(math.pi * (abs(x) - eg + 0.055) / 0.105)
            lm.append(P(x, brow_y - arch - inner_raise * inner))
    for k in range(4):  # nose bridge
        lm.append(P(0.0, eye_y + 0.02 + k * 0.03))
    for k in range(5):  # nostrils
        lm.append(P(-0.035 + k * 0.0175, 0.1 + 0.008 * (1 - abs(k - 2) / 2)))
    for side in (-1, 1):  # eyes: corner, top, top, corner, bottom, bottom
        ex = side * eg
        lm += [P(ex - eye_w / 2, eye_y), P(ex - eye_w / 6, eye_y - open_), P(ex + eye_w / 6, eye_y - open_),
               P(ex + eye_w / 2, eye_y), P(ex + eye_w / 6, eye_y + open_ * 0.7), P(ex - eye_w / 6, eye_y + open_ * 0.7)]

    def lip(x, up):  # upper/lower lip y at relative x in [-1, 1]
        bend = -curve * x * x  # corners (|x|=1) rise with a smile
        return mouth_y + bend + (-0.012 - gape * 0.3 if up else 0.012 + gape) * (1 - x * x)
    outer = [(-1, True), (-0.6, True), (-0.25, True), (0, True), (0.25, True), (0.6, True), (1, True),
             (0.6, False), (0.25, False), (0, False), (-0.25, False), (-0.6, False)]
    for x, up in outer:
        lm.append(P(x * mouth_w, lip(x, up) if abs(x) < 1 else mouth_y - curve))
    inner = [(-0.85, True), (-0.3, True), (0, True), (0.3, True), (0.85, True), (0.3, False), (0, False),
             (-0.3, False)]
    for x, up in inner:
        yy = mouth_y - curve * x * x + (-0.3 if up else 1.0) * gape * (1 - x * x) * 0.8
        lm.append(P(x * mouth_w * 0.9, yy))
    return {"center": (cx, cy), "axes": (fw, fh), "angle": angle, "landmarks": np.array(lm, dtype=np.float32),
            "pupil_r": 0.012 * s, "P": P}


def render_face(geom: dict, identity: Identity, width: int, height: int, background: np.ndarray | None = None
                ) -> np.ndarray:
    """Draw one gray uint8 frame (H, W) from :func:`face_geometry` (4x supersampled, area-averaged)."""
    import cv2

    W, H = width * _SS, height * _SS
    img = (np.full((H, W), identity.background, np.uint8) if background is None
           else cv2.resize(background, (W, H), interpolation=cv2.INTER_LINEAR))
    k = _SS * (1 << _SHIFT)

    def pt(p):
        return (int(round(p[0] * k)), int(round(p[1] * k)))

    def poly(points, color, closed=True, fill=False, thick=1):
        arr = np.array([pt(p) for p in points], np.int32).reshape(-1, 1, 2)
        if fill:
            cv2.fillPoly(img, [arr], int(color), cv2.LINE_AA, _SHIFT)
        else:
            cv2.polylines(img, [arr], closed, int(color), max(1, int(thick * _SS)), cv2.LINE_AA, _SHIFT)

    cx, cy = geom["center"]
    fw, fh = geom["axes"]
    deg = math.degrees(geom["angle"])
    # hair cap then face
    cv2.ellipse(img, pt((cx, cy)), (int(fw * 1.06 * k), int(fh * 1.08 * k)), deg, 180, 360, identity.hair, -1,
                cv2.LINE_AA, _SHIFT)
    cv2.ellipse(img, pt((cx, cy)), (int(fw * k), int(fh * k)), deg, 0, 360, identity.skin, -1, cv2.LINE_AA, _SHIFT)
    lm = geom["landmarks"]
    f = identity.feature
    s = min(width, height)
    thick = max(s / 64.0, 0.6)
    poly(lm[17:22], f, closed=False, thick=1.6 * thick)
    poly(lm[22:27], f, closed=False, thick=1.6 * thick)
    poly(lm[27:31], int(identity.skin * 0.75), closed=False, thick=0.8 * thick)
    poly(lm[31:36], int(identity.skin * 0.6), closed=False, thick=0.8 * thick)
    for e in (lm[36:42], lm[42:48]):
        poly(e, 235, fill=True)
        c = e.mean(axis=0)
        r = min(geom["pupil_r"], float(np.ptp(e[:, 1])) * 0.55)
        if r > 0.3:
            cv2.circle(img, pt(c), int(r * k), f, -1, cv2.LINE_AA, _SHIFT)
        poly(e, f, closed=True, thick=0.7 * thick)
    poly(lm[48:60], int(f * 1.6), fill=True)  # lips
    poly(lm[60:68], 15, fill=True)  # mouth opening
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def smooth_trajectory(n: int, fps: float, rng: np.random.Generator, base: tuple[float, float] | None = None,
                      amplitude: float = 0.35) -> np.ndarray:
    """(n, 2) valence-arousal path in [-1, 1]: a per-clip base plus two slow sinusoids per axis."""
    t = np.arange(n) / fps
    base = rng.uniform(-0.75, 0.75, 2) if base is None else np.asarray(base, dtype=np.float64)
    out = np.empty((n, 2))
    for j in range(2):
        f = rng.uniform(0.15, 0.8, 2)
        ph = rng.uniform(0, 2 * math.pi, 2)
        out[:, j] = base[j] + amplitude * (0.6 * np.sin(2 * math.pi * f[0] * t + ph[0])
                                           + 0.4 * np.sin(2 * math.pi * f[1] * t + ph[1]))
    return np.clip(out, -1, 1)


def _background(rng: np.random.Generator, identity: Identity, width: int, height: int) -> np.ndarray:
    """A static low-frequency texture around the background gray level."""
    import cv2

    g = rng.normal(0, 1, (6, 6))
    tex = cv2.resize(g, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(identity.background + 18 * tex, 0, 255).astype(np.uint8)


def animate_clip(va: np.ndarray, fps: float, width: int, height: int, identity: Identity,
                 rng: np.random.Generator, micro: list[tuple[int, int, str, float]] | None = None):
    """Render a clip following ``va`` (T, 2). Returns ``(frames (T,H,W) uint8, landmarks (T,68,2),
    aus {name: (T,)}, pose (T,3) [dx, dy, roll])``.

    Head motion: a sway whose speed and amplitude grow with arousal (phase integrates the
    instantaneous frequency 0.6 + 2.4·(a+1)/2 Hz; amplitude 2-8 % of the image), mostly
    horizontal (shaking) for negative valence and vertical (nodding) for positive valence,
    plus random blinks.
    ``micro``: (start, length, AU, peak) bursts added to the AUs (micro-expressions).
    """
    T = va.shape[0]
    aus = va_to_aus(va[:, 0], va[:, 1])
    for start, length, au, peak in micro or []:
        w = np.zeros(T)
        idx = np.arange(start, min(T, start + length))
        w[idx] = peak * np.sin(np.pi * (idx - start + 0.5) / length)
        aus[au] = np.clip(aus[au] + w, 0, 1)
    s = min(width, height)
    a01 = (va[:, 1] + 1) / 2
    freq = 0.6 + 2.4 * a01
    phase = np.cumsum(2 * math.pi * freq / fps) + rng.uniform(0, 2 * math.pi)
    phase2 = np.cumsum(2 * math.pi * freq * 0.73 / fps) + rng.uniform(0, 2 * math.pi)
    v01 = (va[:, 0] + 1) / 2
    amp = s * (0.02 + 0.06 * a01)
    dx = amp * (0.25 + 0.75 * (1 - v01)) * np.sin(phase)  # negative valence: head shaking ("no")
    dy = amp * (0.25 + 0.75 * v01) * np.sin(phase2)  # positive valence: nodding ("yes")
    roll = (0.03 + 0.08 * a01) * np.sin(phase2 + 1.0)
    blink = np.zeros(T)
    t = int(rng.integers(0, max(1, int(fps))))
    while t < T:
        for k in range(3):
            if t + k < T:
                blink[t + k] = (1.0, 0.6, 0.2)[k]
        t += int(rng.integers(int(1.5 * fps), int(4 * fps) + 1))
    bg = _background(rng, identity, width, height)
    frames = np.empty((T, height, width), np.uint8)
    lms = np.empty((T, 68, 2), np.float32)
    for i in range(T):
        g = face_geometry({k: v[i] for k, v in aus.items()}, identity, width, height, dx[i], dy[i], roll[i], blink[i])
        frames[i] = render_face(g, identity, width, height, bg)
        lms[i] = g["landmarks"]
    return frames, lms, aus, np.stack([dx, dy, roll], axis=1)


def _actor_names(n_actors: int) -> list[str]:
    return [f"synthetic_actor_{i:02d}" for i in range(n_actors)]


def generate_synthetic_afewva(out_root: str | Path, n_clips: int = 12, n_frames: int = 48, size: int = 64,
                              seed: int = 0, fps: float = 25.0, n_actors: int | None = None,
                              micro_rate: float = 0.0, overwrite: bool = False) -> Path:
    """Write synthetic clips in the exact AFEW-VA layout under ``out_root``; returns ``out_root``.

    ``NNN/00000.png``... gray PNG frames (``size`` x ``size``), ``NNN/NNN.json`` with integer valence
    and arousal in [-10, 10] (the known trajectory, rounded to AFEW-VA's integer grid) and 68
    landmarks per frame, plus ``NNN/NNN_au.json`` (action units, pose, the unrounded trajectory and
    micro-expression bursts). ``n_actors`` (default ``max(5, n_clips // 2)``, at most ``n_clips``)
    identities are assigned round-robin. ``micro_rate``: probability that a clip gets one
    micro-expression burst (1/15-1/5 s of AU12 or AU4). Deterministic for a seed; finished clips
    (JSON present) are kept unless ``overwrite``. A ``.complete`` marker is written last.
    """
    import cv2

    out = Path(out_root)
    out.mkdir(parents=True, exist_ok=True)
    if n_clips < 1 or n_frames < 2:
        raise ValueError(f"need n_clips >= 1 and n_frames >= 2, got {n_clips}, {n_frames}")
    n_actors = min(n_clips, max(5, n_clips // 2)) if n_actors is None else int(n_actors)
    master = np.random.default_rng(seed)
    identities = [Identity.random(np.random.default_rng([seed, 1000 + i])) for i in range(n_actors)]
    names = _actor_names(n_actors)
    clip_seeds = master.integers(0, 2**31, n_clips)
    for c in range(n_clips):
        clip = f"{c + 1:03d}"
        d = out / clip
        jpath = d / f"{clip}.json"
        if jpath.is_file() and not overwrite:
            continue
        d.mkdir(exist_ok=True)
        rng = np.random.default_rng(int(clip_seeds[c]))
        va = smooth_trajectory(n_frames, fps, rng)
        va_int = np.rint(va * 10).astype(int)
        micro = []
        if micro_rate > 0 and rng.random() < micro_rate:
            length = int(rng.integers(max(2, int(fps / 15)), max(3, int(fps / 5)) + 1))
            micro.append((int(rng.integers(0, max(1, n_frames - length))), length, str(rng.choice(["AU12", "AU4"])),
                          float(rng.uniform(0.5, 1.0))))
        ident = identities[c % n_actors]
        frames, lms, aus, pose = animate_clip(va_int / 10.0, fps, size, size, ident, rng, micro)
        for i in range(n_frames):
            ok, buf = cv2.imencode(".png", frames[i])
            if not ok:
                raise RuntimeError(f"PNG encoding failed for {d / f'{i:05d}.png'}")
            (d / f"{i:05d}.png").write_bytes(buf.tobytes())
        ann = {"actor": names[c % n_actors], "video_id": clip, "frames": {
            f"{i:05d}": {"valence": int(va_int[i, 0]), "arousal": int(va_int[i, 1]),
                         "landmarks": [[round(float(x), 3), round(float(y), 3)] for x, y in lms[i]]}
            for i in range(n_frames)}}
        side = {"fps": fps, "action_units": {k: [round(float(x), 4) for x in v] for k, v in aus.items()},
                "pose": [[round(float(x), 4) for x in p] for p in pose],
                "va_continuous": [[round(float(x), 4) for x in p] for p in va],
                "micro_expressions": [{"start": s, "length": n, "au": a, "peak": round(pk, 4)}
                                      for s, n, a, pk in micro]}
        write_text(d / f"{clip}_au.json", json.dumps(side, sort_keys=True))
        write_text(jpath, json.dumps(ann, sort_keys=True))  # last: marks the clip finished
    write_text(out / ".complete", json.dumps({"n_clips": n_clips, "n_frames": n_frames, "size": size,
                                              "seed": seed, "fps": fps, "n_actors": n_actors,
                                              "micro_rate": micro_rate}, sort_keys=True))
    return out


# ----------------------------------------------------------------------------- NEFER layout
#: Circumplex positions (valence, arousal) of the NEFER classes used to animate synthetic sequences.
def _nefer_va(label: str) -> tuple[float, float]:
    from nvlib.datasets.samples import CIRCUMPLEX

    return CIRCUMPLEX[label.lower() if label.lower() in CIRCUMPLEX else "neutral"]


def generate_synthetic_nefer(out_root: str | Path, train_users=("01", "02"), validation_users=("03",),
                             classes=None, n_frames: int = 51, fps: float = 30.0, face_size: int = 96,
                             sensor_size=(1280, 720), seed: int = 0, reported_swap_every: int = 3,
                             face_boxes=True) -> Path:
    """Write a small NEFER-layout tree with real EVT 3.0 recordings; returns ``out_root``.

    For each user and class one sequence: ``n_frames`` synthetic face frames animated at the class's
    circumplex point, simulated with :func:`nvlib.simulate.simulate_frames` (``DVSParams()`` with a
    per-sequence seed), placed at the sensor centre and written with :func:`nvlib.io.write_evt3` to
    ``event_raw/raw/user_NN/userNN_YYYY-MM-DD_HH-MM-SS.raw``; 51 TBR PNGs in ``event_frames/``, 51 RGB
    PNGs in ``rgb_frames/``; ``annotations/`` with the real CSV formats (no header; user, sequence,
    frame path with the published prefixes, label). Reported labels equal the expected ones except
    every ``reported_swap_every``-th sequence, which reports the next class (or "None").
    ``face_boxes``: write each sequence's face box (the face's square on the sensor) as
    ``annotations/face_boxes/<sequence>.json`` (:func:`nvlib.datasets.nefer.read_face_box`'s format) for
    every user (True), no user (False), or the users listed; a user without boxes is cropped by detection.
    """
    import cv2

    from nvlib.events import Events
    from nvlib.io import write_evt3
    from nvlib.simulate import DVSParams, simulate_frames
    from nvlib.represent import tbr
    from nvlib.datasets.nefer import CLASSES, EVENT_PREFIX, GOPRO_PREFIX, N_FRAMES

    if n_frames != N_FRAMES:
        raise ValueError(f"NEFER sequences have {N_FRAMES} frames, got n_frames={n_frames}")

    out = Path(out_root)
    classes = list(CLASSES if classes is None else classes)
    W, H = sensor_size
    ox, oy = (W - face_size) // 2, (H - face_size) // 2
    rows = {(sp, mod, kind): [] for sp in ("train", "validation") for mod in ("event", "gopro")
            for kind in ("expected", "reported")}
    n_seq = 0
    for split, users in (("train", train_users), ("validation", validation_users)):
        for u in users:
            for ci, label in enumerate(classes):
                rng = np.random.default_rng([seed, int(u), ci])
                ident = Identity.random(rng)
                va = np.tile(np.array(_nefer_va(label)), (n_frames, 1))
                # onset: neutral -> expression over the first third
                ramp = np.clip(np.arange(n_frames) / max(1, n_frames // 3), 0, 1)[:, None]
                frames, _, _, _ = animate_clip(va * ramp, fps, face_size, face_size, ident, rng)
                ev = simulate_frames(frames, fps=fps, params=DVSParams(seed=int(rng.integers(1, 2**31))))
                arr = ev.array.copy()
                arr["x"] += ox
                arr["y"] += oy
                ev_full = Events(arr, (W, H))
                hh, mm = divmod(n_seq, 60)
                stamp = f"2022-06-08_{12 + hh:02d}-{mm:02d}-00"
                seq = f"user{u}_{stamp}_cd"
                gopro = f"GOPR{1000 + n_seq:04d}"
                raw = out / "event_raw" / "raw" / f"user_{u}" / f"user{u}_{stamp}.raw"
                raw.parent.mkdir(parents=True, exist_ok=True)
                write_evt3(raw, ev_full)
                if face_boxes is True or (face_boxes and u in tuple(face_boxes)):
                    write_text(out / "annotations" / "face_boxes" / f"{seq}.json",
                               json.dumps({"box": [int(ox), int(oy), int(face_size)]}))
                codes = tbr(ev, (face_size, face_size), n_frames=n_frames, start_us=0,
                            delta_t_us=int(round(1e6 / fps / 8)), n_bits=8, normalize=False)
                fdir = out / "event_frames" / f"user_{u}" / seq
                gdir = out / "rgb_frames" / f"user_{u}" / gopro
                fdir.mkdir(parents=True, exist_ok=True)
                gdir.mkdir(parents=True, exist_ok=True)
                for i in range(n_frames):
                    cv2.imwrite(str(fdir / f"frame_{i:02d}.png"), np.asarray(codes[i], np.uint8))
                    cv2.imwrite(str(gdir / f"frame_{i:02d}.png"), cv2.cvtColor(frames[i], cv2.COLOR_GRAY2BGR))
                reported = label
                if reported_swap_every and n_seq % reported_swap_every == reported_swap_every - 1:
                    reported = classes[(ci + 1) % len(classes)] if n_seq % 2 else "None"
                gpref = GOPRO_PREFIX[split]
                for i in range(n_frames):
                    for kind, lab in (("expected", label), ("reported", reported)):
                        rows[(split, "event", kind)].append(
                            f"user_{u},{seq},{EVENT_PREFIX}user_{u}/{seq}/frame_{i:02d}.png,{lab}")
                        rows[(split, "gopro", kind)].append(
                            f"user_{u},{gopro},{gpref}user_{u}/{gopro}/frame_{i:02d}.png,{lab}")
                n_seq += 1
    for (split, mod, kind), lines in rows.items():
        name = (f"expected_emotions/{split}_{mod}.csv" if kind == "expected"
                else f"reported_emotions/{split}_{mod}_subjective.csv")
        write_text(out / "annotations" / name, "".join(line + "\n" for line in lines))
    return out
