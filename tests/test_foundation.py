"""The workbook's foundation: paths, params, run records, tables, figures, the CLI."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nvlib import cli
from nvlib.workbook.atomic import atomic_path
from nvlib.workbook.params import ParamsError, load_params, save_run_info
from nvlib.workbook.paths import repo_root
from nvlib.workbook.tables import format_markdown, read_table, write_table


def test_repo_root_is_the_same_from_root_and_notebooks(root, monkeypatch):
    monkeypatch.delenv("NVLIB_ROOT", raising=False)
    monkeypatch.chdir(root / "notebooks")
    assert repo_root() == root
    monkeypatch.chdir(root)
    assert repo_root() == root
    assert (root / "pyproject.toml").is_file()


def test_params_merge_common_section_overrides(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("common: {seed: 1, size: 32}\n02_tbr: {size: 64, n_bits: 8}\n")
    assert load_params(p, notebook="02_tbr") == {"seed": 1, "size": 64, "n_bits": 8}
    assert load_params(p, {"n_bits": 16}, notebook="02_tbr")["n_bits"] == 16
    assert load_params(p, notebook="03_x") == {"seed": 1, "size": 32}


@pytest.mark.parametrize("text,match", [("- a\n- b\n", "mapping at the top level"), ("a: [1,\n", "not valid YAML"),
                                        ("common: 3\n", "section 'common'")])
def test_bad_params_name_the_file(tmp_path, text, match):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ParamsError, match=match) as e:
        load_params(p, notebook="00_quickstart")
    assert "bad.yaml" in str(e.value)


def test_run_info_records_params_commit_versions_device(tmp_path):
    out = save_run_info(tmp_path, {"seed": 3})
    info = json.loads(out.read_text())
    assert info["params"] == {"seed": 3}
    assert info["packages"]["torch"] and info["packages"]["numpy"]
    assert "cuda" in info["device"] and "python" in info["device"]
    assert "git_commit" in info


def test_table_csv_and_markdown_hold_the_same_rows(tmp_figures):
    rows = [{"model": "ResNet18", "rmse": 0.2, "n": 3}, {"model": "ViT", "rmse": 0.1734, "pcc": float("nan")}]
    csv_path, md_path = write_table(rows, "table9_demo")
    back = read_table(csv_path)
    assert [r["model"] for r in back] == ["ResNet18", "ViT"]
    assert back[1]["rmse"] == "0.1734" and back[0]["pcc"] == "" and back[1]["pcc"] == "nan"
    md = md_path.read_text().splitlines()
    assert md[0] == "| model | rmse | n | pcc |"
    assert md[3] == "| ViT | 0.173 |  | nan |"
    assert format_markdown([{"a|b": "x|y"}]).splitlines()[0] == "| a\\|b |"


def test_figures_have_stable_bytes(tmp_figures):
    import matplotlib.pyplot as plt

    from nvlib.workbook.figures import save_figure

    def draw():
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [1, 0, 1])
        paths = save_figure(fig, "demo")
        plt.close(fig)
        return [p.read_bytes() for p in paths]

    first, second = draw(), draw()
    assert first == second
    assert first[0][:8] == b"\x89PNG\r\n\x1a\n" and first[1][:5] == b"%PDF-"


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_cli_help_and_unknown_command(capsys):
    assert cli.main([]) == 2
    assert "reproduce" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["no-such-command"])
    assert "unknown command" in capsys.readouterr().err


def test_console_script_is_installed(root):
    exe = Path(sys.executable).with_name("nvlib")
    proc = subprocess.run([str(exe), "samples", "--help"], capture_output=True, text=True, cwd=root)
    assert proc.returncode == 0 and "fetch" in proc.stdout


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_follow_the_umask(tmp_path, umask):
    """Atomic writes, event files, cache clips and checkpoints get 0o666 (folders 0o777) less the umask,
    as a plain open() would give them, not a temporary file's 0o600."""
    import stat

    import numpy as np
    import torch

    from nvlib.datasets.cache import write_clip
    from nvlib.events import make_events
    from nvlib.io import write_evt3
    from nvlib.train.checkpoint import save_checkpoint
    from nvlib.workbook.atomic import write_text

    old = os.umask(umask)
    try:
        write_text(tmp_path / "a.txt", "x")
        ev = make_events(np.array([1, 2]), np.array([0, 1]), np.array([10, 20]), np.array([1, 0]), (4, 4))
        write_evt3(tmp_path / "e.raw", ev)
        clip_dir = write_clip(tmp_path / "cache", "c1", np.zeros((2, 4, 4), np.uint8), np.zeros((2, 2)), {})
        save_checkpoint(tmp_path / "m.pt", torch.nn.Linear(2, 2))
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    for f in (tmp_path / "a.txt", tmp_path / "e.raw", tmp_path / "m.pt", clip_dir / "frames.npy"):
        assert mode(f) == 0o666 & ~umask, (f.name, oct(mode(f)))
    assert mode(clip_dir) == 0o777 & ~umask


def test_cli_user_mistakes_end_in_one_line(tmp_path, capsys):
    """A user's mistake ends with one line naming the command and what is wrong, exit code 2;
    --debug shows the traceback instead."""
    missing = tmp_path / "nope.mp4"
    assert cli.main(["simulate", "-i", str(missing), "--dvs_h5", str(tmp_path / "o.h5")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nvlib simulate: ") and "nope.mp4" in err[0]
    with pytest.raises(FileNotFoundError):
        cli.main(["--debug", "simulate", "-i", str(missing), "--dvs_h5", str(tmp_path / "o.h5")])


def test_cli_interrupt_ends_in_one_line(monkeypatch, capsys):
    import types

    def interrupted(args):
        raise KeyboardInterrupt

    fake = types.ModuleType("nvlib_fake_cmd")
    fake.add_arguments = lambda p: None
    fake.main = interrupted
    monkeypatch.setitem(sys.modules, "nvlib_fake_cmd", fake)
    monkeypatch.setitem(cli.COMMANDS, "fake", ("nvlib_fake_cmd", "a command that is interrupted"))
    assert cli.main(["fake"]) == 130
    assert capsys.readouterr().err.strip() == "nvlib fake: interrupted"


def test_top_level_help_imports_no_command_module():
    code = ("import sys; from nvlib import cli; cli.main(['--help']); "
            "print(sorted(m for m in sys.modules if m.startswith(('torch', 'numba', 'nvlib.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "['nvlib.cli']"
