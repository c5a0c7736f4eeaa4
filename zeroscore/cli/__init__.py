"""The ``zeroscore`` command line.

One module per sub-command in this package, each with ``configure(parser)`` (arguments only: argparse, no heavy
imports) and ``run(args) -> int``. Only the chosen sub-command's module is imported, and torch/pandas only inside
its ``run``, so ``zeroscore --help`` and ``zeroscore list`` answer quickly.

A known mistake (an unknown name, missing data, a malformed argument: every :class:`~zeroscore.errors.
ZeroscoreError`) prints ``zeroscore: error: <what is wrong and how to fix it>`` on one line and exits with 2, like
argparse's own usage errors; ``--debug`` shows the traceback instead. Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from zeroscore._version import __version__

#: sub-command -> (module, one-line help)
COMMANDS = {
    "list": ("zeroscore.cli.listing", "list indicators (name, direction, needs, cost, paper), spaces or datasets"),
    "score": ("zeroscore.cli.score", "score one model built by an importable factory"),
    "demo": ("zeroscore.cli.demo", "score a few NAS-Bench-201 cells and two small models; print a table"),
    "data": ("zeroscore.cli.data", "check the data location, export benchmark tables"),
    "run": ("zeroscore.cli.run", "score many architectures of a search space into a resumable SQLite store"),
    "correlate": ("zeroscore.cli.correlate", "rank correlation of stored scores with benchmark accuracy"),
    "search": ("zeroscore.cli.search", "training-free architecture search (prune / evolve / random)"),
}


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default after its help, unless the default is None/False (the help then says what
    happens by default) or the help already names it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "%(default)" in text or "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return text + " (default: %(default)s)"
        return text


def _debug_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error instead of a one-line message")
    return parent


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``command``'s arguments are added (its module imported) only when it is the chosen one."""
    parser = argparse.ArgumentParser(
        prog="zeroscore", formatter_class=HelpFormatter, parents=[_debug_parent()],
        description="Training-free neural architecture search indicators for any torch.nn.Module.",
        epilog="Run `zeroscore <command> --help` for a command's options. Docs: README.md of the project.")
    parser.add_argument("--version", action="version", version=f"zeroscore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command", required=True, help="what to do")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text, formatter_class=HelpFormatter,
                           parents=[_debug_parent()])
        if name == command:
            mod = importlib.import_module(module)
            mod.configure(p)
            p.set_defaults(func=mod.run)
    return parser


def _chosen(argv: list[str]) -> str | None:
    for arg in argv:
        if arg in COMMANDS:
            return arg
        if not arg.startswith("-"):
            return None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_chosen(argv))
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    from zeroscore.errors import ZeroscoreError

    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("zeroscore: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except ZeroscoreError as err:
        if debug:
            raise
        message = " ".join(str(err).split())  # one line, whatever the message's layout
        print(f"zeroscore: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
