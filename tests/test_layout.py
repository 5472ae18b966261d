"""The package layout: stages in data-flow order, no import cycles between them.

Every ``import`` and ``from ... import`` in nvlib is parsed (function-level imports included) and
mapped to its unit: a subpackage (``nvlib.io``, ``nvlib.simulate``, ...) or a top-level module
(``nvlib.events``, ``nvlib.cli``). The unit graph must be acyclic.
"""
import ast
from pathlib import Path

import pytest

import nvlib

PKG = Path(nvlib.__file__).parent
STAGES = ["io", "simulate", "represent", "datasets", "convert", "models", "train", "evaluation", "experiments",
          "pictures", "workbook"]


def _module_name(path: Path, pkg: Path = PKG) -> str:
    rel = path.relative_to(pkg.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def _imports(path: Path, module: str) -> set[str]:
    """Absolute nvlib modules imported anywhere in ``path`` (relative imports resolved)."""
    out = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "nvlib"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "nvlib":
                continue
            out.add(target)
            out |= {f"{target}.{a.name}" for a in node.names}  # `from nvlib import io` names a unit
    return out


def unit_graph(pkg: Path = PKG) -> dict[str, set[str]]:
    """Unit -> the other units it imports."""
    files = {path: _module_name(path, pkg) for path in sorted(pkg.rglob("*.py"))}
    graph: dict[str, set[str]] = {_unit(m): set() for m in files.values() if m != "nvlib"}
    for path, module in files.items():
        for target in _imports(path, module):
            u, v = _unit(module), _unit(target)
            if v in graph and v != u and u != "nvlib":
                graph[u].add(v)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a list of units (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if state.get(v) is None:
                c = visit(v)
                if c:
                    return c
        state[u] = 2
        stack.pop()
        return None

    for u in sorted(graph):
        if state.get(u) is None:
            c = visit(u)
            if c:
                return c
    return None


def test_no_import_cycle_between_units():
    graph = unit_graph()
    assert "nvlib.io" in graph and "nvlib.train" in graph and "nvlib.events" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "nvlib"
    for sub in ("a", "b"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "x.py").write_text("from nvlib.b import y\n")
    (pkg / "b" / "y.py").write_text("def f():\n    from ..a import x\n    return x\n")
    graph = unit_graph(pkg)
    assert graph["nvlib.a"] == {"nvlib.b"} and graph["nvlib.b"] == {"nvlib.a"}
    assert find_cycle(graph) in (["nvlib.a", "nvlib.b", "nvlib.a"], ["nvlib.b", "nvlib.a", "nvlib.b"])


def test_top_level_holds_only_init_cli_and_the_event_type():
    top = sorted(p.name for p in PKG.glob("*.py"))
    assert top == ["__init__.py", "cli.py", "events.py"], top
    subpackages = sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").is_file())
    assert subpackages == sorted(STAGES), subpackages


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_states_its_job(stage):
    import importlib

    doc = importlib.import_module(f"nvlib.{stage}").__doc__
    assert doc and len(doc.strip()) > 20, f"nvlib.{stage} has no package docstring"
