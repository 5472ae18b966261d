"""Run the workbook headless: build the notebooks and execute them with papermill in paper order.

Each notebook ``notebooks/NN_name.py`` (jupytext percent format) is converted to
``notebooks/NN_name.ipynb`` (git-ignored) and executed with papermill, cwd = the
repository root, parameters = ``common`` + its section of the params file +
``--set`` overrides. Executed notebooks go to ``runs/<params-stem>/`` with
``run_info.json`` (resolved params, git commit, package versions, device);
figures and tables go to ``figures/``. Sweeps (``params/sweeps/*.yaml``) rerun
their notebooks with overrides, writing into ``figures/sweeps/<name>/``; their
per-seed results land in ``results/`` like every run's, where later notebooks
(the Table 4 ablation) find them by configuration. A sweep runs as soon as all
its notebooks have run in the main pass.

Before anything runs, a notebook whose parameters set ``require_dataset`` (the paper's setting)
but none of :data:`DATASET_PARAMS` stops the run with a message (no synthetic stand-in). After each
notebook its problem summary is printed: a notebook reports problems (skipped clips, dropped frames,
splits that are not subject-independent, ...) with :func:`report_problems`, which writes them to
``runs/<params-stem>/<notebook>.problems.json`` when run by ``nvlib reproduce``.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from nvlib.workbook.atomic import write_text
from nvlib.workbook.params import ParamsError, load_params, read_yaml, save_run_info
from nvlib.workbook.paths import figures_dir, repo_root, runs_dir

_NB_RE = re.compile(r"^(\d\d)_[A-Za-z0-9_]+\.py$")


#: Parameters that name a real dataset (any one of them satisfies ``require_dataset``).
DATASET_PARAMS = ("afewva_root", "cache_dir", "cache_dirs")
#: Environment variable naming the file :func:`report_problems` writes (set by :func:`reproduce`).
PROBLEMS_ENV = "NVLIB_PROBLEMS"


def report_problems(notebook: str, problems, log=print) -> list[str]:
    """A notebook's problem summary: print ``problems`` (lines; none: "no problems"), and, when the
    notebook runs under ``nvlib reproduce`` (``$NVLIB_PROBLEMS`` set), add them to that JSON file
    (``{"notebook", "problems"}``, atomic), which reproduce prints after the notebook."""
    lines = [str(p) for p in problems]
    log(f"{notebook}: " + ("no problems" if not lines else f"{len(lines)} problem line(s):\n" + "\n".join(lines)))
    target = os.environ.get(PROBLEMS_ENV)
    if target:
        path = Path(target)
        old: list = []
        try:
            old = list(json.loads(path.read_text()).get("problems", []))
        except (OSError, ValueError, AttributeError):
            old = []
        write_text(path, json.dumps({"notebook": notebook, "problems": old + [x for x in lines if x not in old]},
                                    indent=2) + "\n")
    return lines


def read_problems(path: str | Path) -> list[str] | None:
    """The problem lines a notebook reported (:func:`report_problems`); None when it reported none
    (or the file cannot be read)."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return [str(x) for x in doc.get("problems", [])] if isinstance(doc, dict) else None


def check_data_params(params_path: Path, stem: str, params: dict) -> None:
    """Raise :class:`ParamsError` when ``params`` set ``require_dataset`` but no :data:`DATASET_PARAMS`."""
    if params.get("require_dataset") and not any(params.get(k) for k in DATASET_PARAMS):
        raise ParamsError(f"{params_path}: {stem} needs a real dataset (require_dataset: true) but sets none of "
                          f"{', '.join(DATASET_PARAMS)}; pass --set afewva_root=/path/to/AFEW-VA (or set it in the "
                          "file); nothing was run")


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names the notebook and the failing cell."""


@dataclass(frozen=True)
class Sweep:
    name: str
    notebooks: tuple
    params: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> "Sweep":
        data = read_yaml(path)
        missing = [k for k in ("name", "notebooks", "params") if k not in data]
        if missing:
            raise ValueError(f"{path}: sweep file lacks {', '.join(missing)}")
        if not isinstance(data["notebooks"], list) or not isinstance(data["params"], dict):
            raise ValueError(f"{path}: 'notebooks' must be a list of notebook stems and 'params' a mapping")
        return cls(str(data["name"]), tuple(str(n) for n in data["notebooks"]), dict(data["params"]))


def notebook_sources(root: Path | None = None) -> list[Path]:
    """``notebooks/NN_*.py`` in paper order."""
    root = root or repo_root()
    return sorted(p for p in (root / "notebooks").glob("*.py") if _NB_RE.match(p.name))


def build_notebook(src: Path) -> Path:
    """jupytext ``src`` (percent .py) to the paired ``.ipynb`` beside it; returns the .ipynb path."""
    import jupytext

    nb = jupytext.read(src)
    out = src.with_suffix(".ipynb")
    tmp = out.with_name(f".{out.stem}.partial.ipynb")
    jupytext.write(nb, tmp, fmt="ipynb")
    os.replace(tmp, out)
    return out


def build_all(root: Path | None = None) -> list[Path]:
    """Build every notebook's .ipynb; returns their paths in paper order."""
    return [build_notebook(p) for p in notebook_sources(root)]


def _failing_cell(nb_path: Path) -> str:
    import nbformat

    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:  # the output notebook may not exist when the kernel failed to start
        return "unknown cell"
    inserted = {"injected-parameters", "papermill-error-cell-tag"}
    cells = [c for c in nb.cells if not inserted & set(c.metadata.get("tags", []))]
    for i, cell in enumerate(cells):  # numbered as in the source notebook
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                src = cell.source.strip().splitlines()
                head = src[0] if src else ""
                return f"cell {i} ({head[:60]!r}): {out.get('ename')}: {out.get('evalue')}"
    return "unknown cell"


def run_notebook(ipynb: Path, out_path: Path, parameters: dict, root: Path,
                 env: dict | None = None, kernel: str = "python3", log_output: bool = False) -> float:
    """Execute one notebook with papermill; returns seconds. Raises :class:`NotebookFailed`."""
    import papermill as pm

    out_path.parent.mkdir(parents=True, exist_ok=True)
    old_env = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(str(ipynb), str(out_path), parameters=parameters, cwd=str(root),
                            kernel_name=kernel, progress_bar=False, log_output=log_output)
    except pm.PapermillExecutionError as e:
        raise NotebookFailed(f"notebook {ipynb.stem} failed at {_failing_cell(out_path)} "
                             f"(executed copy: {out_path})") from e
    finally:
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return time.perf_counter() - t0


def reproduce(params_path: str | Path | None = None, only: list[str] | None = None,
              sweeps: list[str | Path] | None = None, overrides: dict | None = None,
              log=print) -> dict[str, float]:
    """Build and run the notebooks (``only``: stems or NN prefixes) and the sweeps; returns seconds per run."""
    root = repo_root()
    params_path = Path(params_path) if params_path else root / "params" / "default.yaml"
    params_all = read_yaml(params_path)
    sources = notebook_sources(root)
    if only:
        keep = [s for s in sources if any(s.stem == o or s.stem.startswith(o + "_") or s.stem[:2] == o for o in only)]
        unknown = [o for o in only if not any(s.stem == o or s.stem[:2] == o or s.stem.startswith(o + "_")
                                              for s in sources)]
        if unknown:
            raise ValueError(f"no notebook named {', '.join(unknown)} in notebooks/ "
                             f"(have: {', '.join(s.stem for s in sources)})")
        sources = keep
    sweep_objs = [Sweep.load(p) for p in (sweeps or [])]
    for src in sources:  # a setting that needs a real dataset stops before anything runs
        check_data_params(params_path, src.stem, load_params(params_path, overrides, notebook=src.stem))
    for sw in sweep_objs:
        for stem in sw.notebooks:
            check_data_params(params_path, f"{stem} (sweep {sw.name})",
                              load_params(params_path, {**(overrides or {}), **sw.params}, notebook=stem))
    run_dir = runs_dir() / params_path.stem
    save_run_info(run_dir, {"params_file": str(params_path.relative_to(root)) if params_path.is_relative_to(root)
                            else str(params_path), "params": params_all, "overrides": overrides or {}})
    times: dict[str, float] = {}
    done: set[str] = set()
    pending = list(sweep_objs)

    def run_one(label: str, src: Path, out: Path, p: dict, env: dict | None = None) -> None:
        problems = out.with_name(f"{src.stem}.problems.json")
        problems.unlink(missing_ok=True)
        times[label] = run_notebook(build_notebook(src), out, p, root,
                                    env={**(env or {}), PROBLEMS_ENV: str(problems)})
        lines = read_problems(problems)
        summary = ("no problem summary (the notebook reports none)" if lines is None else "problems: none" if not lines
                   else f"problems ({len(lines)} line(s)):\n  " + "\n  ".join(lines))
        log(f"[{label}] done in {times[label]:.1f} s; {summary}")

    def run_ready_sweeps(next_stem: str | None):
        for sw in list(pending):
            if all(n in done for n in sw.notebooks) and (next_stem is None or next_stem not in sw.notebooks):
                pending.remove(sw)
                fig_dir = figures_dir() / "sweeps" / sw.name
                for stem in sw.notebooks:
                    src = root / "notebooks" / f"{stem}.py"
                    p = load_params(params_path, {**(overrides or {}), **sw.params}, notebook=stem)
                    log(f"[sweep {sw.name}] {stem} with {sw.params}")
                    run_one(f"{sw.name}/{stem}", src, run_dir / "sweeps" / sw.name / f"{stem}.ipynb", p,
                            env={"NVLIB_FIGURES": str(fig_dir)})

    for src in sources:
        run_ready_sweeps(src.stem)
        p = load_params(params_path, overrides, notebook=src.stem)
        log(f"[{src.stem}] running with {len(p)} parameter(s)")
        run_one(src.stem, src, run_dir / f"{src.stem}.ipynb", p)
        done.add(src.stem)
    run_ready_sweeps(None)
    for sw in pending:
        log(f"[sweep {sw.name}] skipped: its notebooks {', '.join(sw.notebooks)} were not all run")
    return times


def _parse_set(items: list[str]) -> dict:
    import yaml

    out = {}
    for item in items or []:
        if "=" not in item or not item.split("=", 1)[0].strip():
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = yaml.safe_load(v)
    return out


def add_arguments(parser) -> None:
    parser.add_argument("--params", default=None, help="params YAML (default: params/default.yaml)")
    parser.add_argument("--only", action="append", default=None, metavar="NAME",
                        help="run only this notebook (stem like 02_tbr, or its number 02); repeatable")
    parser.add_argument("--sweep", action="append", default=None, metavar="YAML",
                        help="also run this sweep file (params/sweeps/*.yaml); repeatable")
    parser.add_argument("--all-sweeps", action="store_true", help="run every params/sweeps/*.yaml")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a parameter in every notebook (YAML value)")
    parser.add_argument("--build-only", action="store_true", help="only build the .ipynb files")


def main(args) -> int:
    root = repo_root()
    if args.build_only:
        for p in build_all(root):
            print(p.relative_to(root))
        return 0
    sweeps = list(args.sweep or [])
    if args.all_sweeps:
        sweeps += sorted(str(p) for p in (root / "params" / "sweeps").glob("*.yaml"))
    for f in [args.params, *sweeps]:  # e.g. `--params clip.mp4`: an empty file would run the defaults
        if f is not None and Path(f).suffix.lower() not in (".yaml", ".yml"):
            raise ValueError(f"{f}: expected a YAML params file (.yaml or .yml)")
    try:
        times = reproduce(args.params, args.only, sweeps, _parse_set(args.set))
    except NotebookFailed as e:
        print(f"nvlib reproduce: {e}", file=sys.stderr)
        return 1
    total = sum(times.values())
    print(f"nvlib reproduce: {len(times)} notebook run(s) in {total:.0f} s; figures and tables in "
          f"{figures_dir().relative_to(root) if figures_dir().is_relative_to(root) else figures_dir()}")
    return 0
