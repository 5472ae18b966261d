"""The README's shell commands as a newcomer types them.

Every command line in README.md's code blocks (``nvlib ...``, ``.venv/bin/nvlib ...``, ``make ...``,
``papermill ...``, ``torchrun ... -m nvlib...``) is extracted. Each ``nvlib X`` must be a command whose parser
has every flag the README gives it (sub-commands and option values with fixed choices included); each
``make`` target must exist, and the ``nvlib`` commands it runs pass the same check; the papermill line
must name a notebook whose parameters cell defines the ``-p`` names. The cheap commands run as written on
small inputs in a temporary folder: ``nvlib info``, the ``simulate`` example, ``--help`` of every command,
and the ``reproduce`` lines with notebook execution replaced by a recorder (which notebooks would run with
which parameters).
"""
from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from nvlib import cli
from nvlib.workbook.paths import repo_root

ROOT = repo_root()
README = (ROOT / "README.md").read_text()
_START = re.compile(r"^(?:e\.g\.\s+)?(?:\.venv/bin/)?(nvlib|make|papermill|torchrun)\s")


def code_blocks(text: str) -> list[list[str]]:
    """The lines of each fenced code block except Python ones."""
    blocks, cur, lang = [], None, ""
    for line in text.splitlines():
        if line.startswith("```"):
            if cur is None:
                cur, lang = [], line[3:].strip()
            else:
                if lang != "python":
                    blocks.append(cur)
                cur = None
            continue
        if cur is not None:
            cur.append(line)
    return blocks


def readme_commands(text: str = README) -> list[dict]:
    """One entry per command line: ``tool`` (nvlib, make, papermill, torchrun), ``line`` (the command as
    written, shell comment and trailing description removed) and ``more`` (the indented lines after an
    ``nvlib`` synopsis line, which continue its options)."""
    entries: list[dict] = []
    for block in code_blocks(text):
        for raw in block:
            line = raw.strip()
            m = _START.match(line)
            if m:
                line = re.sub(r"\s+#.*$", "", line)  # a shell comment
                line = re.split(r"\s{3,}", line)[0]  # a synopsis' description column
                line = re.sub(r"^e\.g\.\s+", "", line)
                entries.append({"tool": m.group(1), "line": line, "more": []})
            elif entries and raw.startswith(" ") and entries[-1]["tool"] == "nvlib":
                entries[-1]["more"].append(line)
    return entries


COMMANDS = readme_commands()
NVLIB_LINES = [e for e in COMMANDS if e["tool"] == "nvlib"]
MAKE_TARGETS = sorted({t for e in COMMANDS if e["tool"] == "make" for t in e["line"].split()[1:]})


def command_parser(name: str) -> argparse.ArgumentParser:
    """The parser of ``nvlib name`` as the CLI builds it."""
    top = cli.build_parser({name: cli.COMMANDS[name]})
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def walk(parser: argparse.ArgumentParser) -> tuple[dict, set]:
    """(option string -> action, positional choice words) of ``parser`` and its sub-parsers."""
    options, words = {}, set()
    for a in parser._actions:
        for o in a.option_strings:
            options[o] = a
        if isinstance(a, argparse._SubParsersAction):
            for word, sub in a.choices.items():
                words.add(word)
                o2, w2 = walk(sub)
                options.update(o2)
                words |= w2
        elif not a.option_strings and a.choices:
            words |= {str(c) for c in a.choices}
    return options, words


def check_line(name: str, text: str, first: str) -> list[str]:
    """Problems of one README synopsis of ``nvlib name``: unknown flags, an unknown sub-command word in
    ``first`` (its first line), a value outside a flag's choices."""
    if name not in cli.COMMANDS:
        return [f"`nvlib {name}` is not a command (have: {', '.join(cli.COMMANDS)})"]
    options, words = walk(command_parser(name))
    problems = []
    tokens = [t.strip("[](),") for t in text.replace("|", " | ").split()]
    for i, tok in enumerate(tokens):
        flag = tok.split("=", 1)[0]
        if not re.fullmatch(r"--?[A-Za-z][\w-]*", flag):
            continue
        if flag not in options:
            problems.append(f"nvlib {name}: no option {flag}")
            continue
        value = tok.split("=", 1)[1] if "=" in tok else (tokens[i + 1] if i + 1 < len(tokens) else "")
        choices = options[flag].choices
        if choices and re.fullmatch(r"[a-z][\w-]*", value) and value not in {str(c) for c in choices}:
            problems.append(f"nvlib {name} {flag} {value}: not one of {sorted(map(str, choices))}")
    if words:  # sub-command words on the synopsis line: lower-case identifiers that are not option values
        toks = first.replace("|", " ").split()[2:]
        for i, tok in enumerate(toks):
            if tok.startswith("-") or (i and toks[i - 1].startswith("-")) or not re.fullmatch(r"[a-z][a-z0-9-]*", tok):
                continue
            if tok not in words:
                problems.append(f"nvlib {name}: {tok!r} is not one of {sorted(words)}")
    return problems


def test_readme_commands_are_found():
    tools = {e["tool"] for e in COMMANDS}
    assert {"nvlib", "make", "papermill", "torchrun"} <= tools, tools
    named = {e["line"].split()[1] for e in NVLIB_LINES}
    assert {"samples", "reproduce", "info", "simulate", "convert", "train"} <= named, named
    assert {"demo", "test", "notebooks", "lab"} <= set(MAKE_TARGETS)


@pytest.mark.parametrize("entry", NVLIB_LINES, ids=[e["line"][:50] for e in NVLIB_LINES])
def test_every_nvlib_command_exists_with_the_flags_the_readme_uses(entry):
    name = entry["line"].split()[1]
    problems = check_line(name, " ".join([entry["line"], *entry["more"]]), entry["line"])
    assert not problems, problems


INLINE = sorted(set(re.findall(r"`((?:\.venv/bin/)?(?:nvlib|make) [^`]+)`", README)))


@pytest.mark.parametrize("span", INLINE)
def test_commands_named_in_the_prose_exist(span):
    """`nvlib X --flag` and `make target` written inline in the text pass the same checks."""
    words = span.split()
    if words[0] == "make":
        proc = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    else:
        assert not check_line(words[1], span, span), check_line(words[1], span, span)


def test_torchrun_line_uses_the_train_command_module_and_its_flags():
    lines = [e["line"] for e in COMMANDS if e["tool"] == "torchrun"]
    assert lines
    for line in lines:
        module = re.search(r"-m\s+(nvlib[\w.]*)", line).group(1)
        name = next(n for n, (m, _) in cli.COMMANDS.items() if m == module)
        after = line.split(module, 1)[1]
        assert not check_line(name, after, ""), check_line(name, after, "")
        src = (ROOT / (module.replace(".", "/") + ".py")).read_text()
        assert 'if __name__ == "__main__"' in src, f"{module} cannot run under torchrun -m"


@pytest.mark.parametrize("target", MAKE_TARGETS)
def test_make_targets_exist_and_run_valid_nvlib_commands(target):
    proc = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for line in proc.stdout.splitlines():
        m = re.search(r"(?:^|/)nvlib\s+(\w+)(.*)$", line.strip())
        if m:
            assert not check_line(m.group(1), m.group(2), ""), (line, check_line(m.group(1), m.group(2), ""))


def test_papermill_line_names_a_notebook_and_its_parameters():
    lines = [e["line"] for e in COMMANDS if e["tool"] == "papermill"]
    assert lines
    for line in lines:
        args = shlex.split(line)
        src = ROOT / Path(args[1]).with_suffix(".py")
        assert src.is_file(), f"{line}: {src.name} is not a notebook source"
        cell = re.search(r'^# %% tags=\["parameters"\]\n(.*?)(?=^# %%)', src.read_text(), flags=re.M | re.S)
        assert cell, f"{src.name} has no parameters cell"
        defined = set(re.findall(r"^(\w+)\s*=", cell.group(1), flags=re.M))
        given = [args[i + 1] for i, a in enumerate(args) if a in ("-p", "--parameters")]
        assert given and set(given) <= defined, (given, sorted(defined))


# ------------------------------------------------------------------ run as written, on small inputs
@pytest.mark.parametrize("name", sorted({e["line"].split()[1] for e in NVLIB_LINES} & set(cli.COMMANDS)))
def test_help_of_every_readme_command(name, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([name, "--help"])
    assert e.value.code == 0
    assert f"usage: nvlib {name}" in capsys.readouterr().out
    if name == "convert":
        for dataset in sorted(walk(command_parser("convert"))[1] & {"afew-va", "nefer", "samples", "synthetic",
                                                                       "videos"}):
            with pytest.raises(SystemExit) as e:
                cli.main(["convert", dataset, "--help"])
            assert e.value.code == 0 and f"usage: nvlib convert {dataset}" in capsys.readouterr().out


def test_info_as_written(tmp_path):
    from nvlib.events import make_events
    from nvlib.io import write_evt3

    line = next(e["line"] for e in NVLIB_LINES if e["line"].split()[1] == "info")
    assert "FILE..." in line
    ev = make_events(np.array([1, 2, 3]), np.array([0, 1, 2]), np.array([0, 500, 1000]), np.array([1, 0, 1]), (8, 4))
    write_evt3(tmp_path / "a.raw", ev)
    write_evt3(tmp_path / "b.raw", ev)
    argv = shlex.split(line.replace("FILE...", "a.raw b.raw"))[1:]
    proc = subprocess.run([sys.executable, "-m", "nvlib.cli", *argv], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"{f}: evt3, 8x4, 3 events over 1.000 ms (0.00 Mev/s), ON fraction 0.667"
                                        for f in ("a.raw", "b.raw")]


def test_simulate_example_as_written(tmp_path):
    """``nvlib simulate -i clip.mp4 ... --dvs_h5 clip.h5`` on a 10-frame clip: the h5 file is written and
    ``nvlib info`` reads it back with the DVS346 geometry."""
    import cv2

    line = next(e["line"] for e in COMMANDS if e["tool"] == "nvlib" and e["line"].startswith("nvlib simulate -i") and "--dvs_h5" in e["line"])
    args = shlex.split(line)
    video = args[args.index("-i") + 1]
    w = cv2.VideoWriter(str(tmp_path / video), cv2.VideoWriter_fourcc(*"mp4v"), 25, (64, 48))
    for i in range(10):
        f = np.full((48, 64, 3), 20 * i, np.uint8)
        cv2.rectangle(f, (10 + 2 * i, 10), (30 + 2 * i, 30), (255, 255, 255), -1)
        w.write(f)
    w.release()
    proc = subprocess.run([sys.executable, "-m", "nvlib.cli", *args[1:]], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / args[args.index("--dvs_h5") + 1]
    info = subprocess.run([sys.executable, "-m", "nvlib.cli", "info", str(out)], capture_output=True, text=True)
    assert info.returncode == 0 and ": v2e_h5, 346x260, " in info.stdout, info.stdout + info.stderr


def test_reproduce_lines_as_written(tmp_path, monkeypatch, capsys):
    """Each README ``nvlib reproduce`` line, run from the checkout with notebook building and execution
    replaced by a recorder: the notebooks and parameters it would run."""
    from nvlib.workbook import reproduce
    from nvlib.workbook.params import load_params

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NVLIB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("NVLIB_FIGURES", str(tmp_path / "figures"))
    ran: list[tuple[str, dict]] = []

    def record(ipynb, out, params, root, env=None, **kw):
        ran.append((Path(ipynb).stem, dict(params)))
        return 0.0

    monkeypatch.setattr(reproduce, "build_notebook", lambda src: Path(src).with_suffix(".ipynb"))
    monkeypatch.setattr(reproduce, "run_notebook", record)
    stems = [p.stem for p in reproduce.notebook_sources(ROOT)]
    lines = [e["line"] for e in NVLIB_LINES if e["line"].split()[1] == "reproduce" and "[" not in e["line"]]
    assert lines, "README has no runnable nvlib reproduce line"
    for line in lines:
        ran.clear()
        argv = shlex.split(line)[1:]
        assert cli.main(argv) == 0, capsys.readouterr().err
        names = [n for n, _ in ran]
        if "--only" in argv:
            only = argv[argv.index("--only") + 1]
            assert names == [s for s in stems if s == only or s.startswith(only + "_")] and names, (line, names)
        else:
            assert set(stems) <= set(names), (line, names)
        if "--set" in argv:
            key, value = argv[argv.index("--set") + 1].split("=", 1)
            assert all(p[key] == yaml.safe_load(value) for _, p in ran), line
        if "--sweep" in argv:  # each notebook of the sweep runs twice: as is, then with the sweep's params
            sweep = reproduce.Sweep.load(ROOT / argv[argv.index("--sweep") + 1])
            for stem in sweep.notebooks:
                runs = [p for n, p in ran if n == stem]
                assert len(runs) == 2 and runs[0] == load_params(None, None, notebook=stem), (line, stem)
                assert runs[1] == {**runs[0], **sweep.params}, (line, stem)
