"""environment.yml (conda) and pyproject.toml describe the same environment."""
import re
import tomllib

import yaml


def _name(req: str) -> str:
    return re.split(r"[=<>!~ ;\[]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_pinned_packages(root):
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((root / "environment.yml").read_text())
    pip_deps = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert {_name(d) for d in deps} == {_name(d) for d in pip_deps}
    assert sorted(d.replace(" ", "") for d in deps) == sorted(d.replace(" ", "") for d in pip_deps)
    assert "python=3.11" in env["dependencies"]


def test_every_dependency_is_pinned(root):
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    assert all("==" in d for d in deps), [d for d in deps if "==" not in d]
    opencv = next(d for d in deps if d.startswith("opencv"))
    assert int(opencv.split("==")[1].split(".")[0]) < 5  # 5.x ships no Haar cascades
