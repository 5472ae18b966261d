"""The README as a newcomer reads it: every module it names exists, every name it imports imports, and its
layout section names the package's subpackages."""
import importlib
import re

import pytest

from nvlib.workbook.paths import repo_root

README = (repo_root() / "README.md").read_text()
IMPORTS = sorted(set(re.findall(r"^from (nvlib[\w.]*) import ([^#\n]+)", README, flags=re.M)))


def test_readme_has_import_lines():
    assert len(IMPORTS) >= 6


@pytest.mark.parametrize("module,names", IMPORTS)
def test_every_name_the_readme_imports_exists(module, names):
    mod = importlib.import_module(module)
    for name in (n.strip() for n in names.split(",")):
        if name:
            assert hasattr(mod, name) or importlib.util.find_spec(f"{module}.{name}"), f"{module} has no {name}"


def test_every_module_the_readme_names_exists():
    named = set(re.findall(r"`(nvlib(?:\.\w+)+)`", README))
    assert named, "README names no nvlib module"
    missing = []
    for dotted in sorted(named):
        parts = dotted.split(".")
        # `nvlib.a.b` may be a module or an attribute of `nvlib.a`
        for k in range(len(parts), 1, -1):
            try:
                obj = importlib.import_module(".".join(parts[:k]))
            except ModuleNotFoundError:
                continue
            for attr in parts[k:]:
                obj = getattr(obj, attr, None)
            if obj is not None:
                break
        else:
            obj = None
        if obj is None:
            missing.append(dotted)
    assert not missing, f"README names what does not exist: {missing}"


def test_layout_section_lists_every_subpackage():
    import nvlib

    pkg = repo_root() / "nvlib"
    section = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    subpackages = sorted(p.name for p in pkg.iterdir() if (p / "__init__.py").is_file())
    missing = [s for s in subpackages if not re.search(rf"\b{s}/", section)]
    assert not missing, f"README's layout section does not list {missing}"
    assert nvlib.__doc__
