"""Notebook pairs: exactly one parameters cell, jupytext round trip, papermill with injected parameters."""
import json
import os

import jupytext
import pytest

from nvlib.workbook import reproduce

NOTEBOOKS = reproduce.notebook_sources()


@pytest.mark.parametrize("src", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_parameters_cell_and_round_trip(src):
    nb = jupytext.read(src)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{src.name}: {len(tagged)} cells tagged parameters"
    text = jupytext.writes(nb, fmt="py:percent")
    again = jupytext.reads(text, fmt="py:percent")
    jupytext.compare.compare_notebooks(again, nb, fmt="py:percent")
    ipynb = jupytext.reads(jupytext.writes(nb, fmt="ipynb"), fmt="ipynb")
    jupytext.compare.compare_notebooks(ipynb, nb, fmt="py:percent")


@pytest.mark.parametrize("src", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_reads_every_parameter(src):
    """papermill's parameter inspection (`papermill --help-notebook`, sweeps) splits on '=': a second '='
    in a line (e.g. in its comment) makes it skip that parameter with a warning."""
    from papermill.translators import PythonTranslator

    nb = jupytext.read(src)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assigned = [ln.split("=")[0].strip() for ln in cell.source.splitlines()
                if ln.strip() and not ln.startswith((" ", "#")) and "=" in ln]
    found = [p.name for p in PythonTranslator.inspect(cell)]
    assert found == assigned, f"{src.name}: papermill cannot read {sorted(set(assigned) - set(found))}"


def test_papermill_injects_parameters(tmp_figures, tmp_path, root):
    ipynb = reproduce.build_notebook(root / "notebooks" / "00_quickstart.py")
    reproduce.run_notebook(ipynb, tmp_path / "out.ipynb", {"n_show": 2, "max_frames": 7}, root,
                           env={"NVLIB_FIGURES": str(tmp_figures)})
    table = (tmp_figures / "nb00_clip.csv").read_text().splitlines()
    header, row = table[0].split(","), table[1].split(",")
    rec = dict(zip(header, row))
    assert rec["frames_shown"] == "2" and rec["frames_decoded"] == "7"
    out = json.loads((tmp_path / "out.ipynb").read_text())
    injected = [c for c in out["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "n_show = 2" in "".join(injected[0]["source"])


def test_failing_notebook_is_named_with_its_cell(tmp_path, monkeypatch):
    fake = tmp_path / "repo"
    (fake / "nvlib").mkdir(parents=True)
    (fake / "notebooks").mkdir()
    (fake / "params").mkdir()
    (fake / "pyproject.toml").write_text("")
    (fake / "params" / "default.yaml").write_text("common: {}\n")
    (fake / "notebooks" / "07_broken.py").write_text(
        '# %% tags=["parameters"]\nx = 1\n\n# %%\nraise ValueError("boom " + str(x))\n')
    monkeypatch.setenv("NVLIB_ROOT", str(fake))
    monkeypatch.setenv("NVLIB_RUNS", str(tmp_path / "runs"))
    with pytest.raises(reproduce.NotebookFailed, match=r"07_broken failed at cell 1 .*ValueError: boom 1"):
        reproduce.reproduce(only=["07"], log=lambda *_: None)
    with pytest.raises(ValueError, match="no notebook named 99"):
        reproduce.reproduce(only=["99"], log=lambda *_: None)


def _parameter_names(src):
    import ast

    nb = jupytext.read(src)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)}


@pytest.mark.parametrize("params_file", ["default.yaml", "paper.yaml"])
def test_params_files_name_only_real_notebook_parameters(root, params_file):
    import yaml

    data = yaml.safe_load((root / "params" / params_file).read_text())
    stems = {p.stem: p for p in NOTEBOOKS}
    for section, values in data.items():
        if section == "common":
            continue
        assert section in stems, f"{params_file}: section {section!r} names no notebook"
        unknown = set(values or {}) - _parameter_names(stems[section])
        assert not unknown, f"{params_file}: {section} sets unknown parameters {sorted(unknown)}"
    common = set(data.get("common") or {})
    assert all(common <= _parameter_names(p) for p in NOTEBOOKS), "common keys must be parameters of every notebook"


@pytest.mark.parametrize("sweep", sorted((reproduce.repo_root() / "params" / "sweeps").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_sweeps_name_real_notebooks_and_parameters(sweep):
    sw = reproduce.Sweep.load(sweep)
    stems = {p.stem: p for p in NOTEBOOKS}
    for nb in sw.notebooks:
        assert nb in stems and set(sw.params) <= _parameter_names(stems[nb])


def _parameter_defaults(src) -> dict:
    """The literal values of a notebook's parameters cell."""
    import ast

    nb = jupytext.read(src)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    out = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = ast.literal_eval(node.value)
    return out


def test_training_notebooks_defaults_are_the_shared_presets(root):
    """Notebook 05 builds its experiments from nvlib.experiments' presets: they must be the defaults of the
    parameters cells of notebooks 03 and 04, or 05 would not find (and would retrain) their results."""
    from nvlib.experiments import FRAME_SETTINGS, VIDEO_SETTINGS

    nb = {s: _parameter_defaults(root / "notebooks" / f"{s}.py")
          for s in ("03_frame_models", "04_video_models", "05_tbr_ablation")}
    for stem, presets in (("03_frame_models", FRAME_SETTINGS), ("04_video_models", VIDEO_SETTINGS)):
        assert {k: nb[stem][k] for k in presets} == presets, f"{stem}: parameters differ from the presets"
    assert nb["05_tbr_ablation"]["frame_settings"] == {} and nb["05_tbr_ablation"]["video_settings"] == {}


@pytest.mark.parametrize("params_file", ["default.yaml", "paper.yaml"])
def test_params_files_keep_notebooks_03_to_05_on_the_same_runs(root, params_file):
    """Under every params file, notebook 05 asks for the configurations 03 and 04 ran: the same seeds,
    fold, data and training settings (05's frame_settings/video_settings over the presets)."""
    from nvlib.experiments import FRAME_SETTINGS, VIDEO_SETTINGS
    from nvlib.workbook.params import load_params

    stems = ("03_frame_models", "04_video_models", "05_tbr_ablation")
    p = {s: {**_parameter_defaults(root / "notebooks" / f"{s}.py"),
             **load_params(root / "params" / params_file, notebook=s)} for s in stems}
    for key in ("seeds", "fold", "afewva_root", "n_clips", "n_frames", "size", "data_seed", "max_batches"):
        assert p["03_frame_models"][key] == p["04_video_models"][key] == p["05_tbr_ablation"][key], key
    for stem, presets, name in (("03_frame_models", FRAME_SETTINGS, "frame_settings"),
                                ("04_video_models", VIDEO_SETTINGS, "video_settings")):
        ran = {k: p[stem][k] for k in presets}
        asked = {**presets, **p["05_tbr_ablation"][name]}
        assert ran == asked, f"{params_file}: 05's {name} differ from {stem}'s parameters"
    assert p["03_frame_models"]["n_bits"] == p["04_video_models"]["n_bits"] in p["05_tbr_ablation"]["n_bits_pair"]
