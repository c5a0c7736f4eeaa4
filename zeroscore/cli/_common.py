"""Helpers shared by the sub-commands: argument types that fail with the option's name, a plain-text table."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any


def data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=None, metavar="DIR",
                        help="data location (default: $ZEROSCORE_DATA, else ~/.cache/zeroscore; "
                             "`zeroscore data check` shows what it holds)")


def seed(text: str) -> int:
    """argparse type: a non-negative integer seed."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a non-negative integer, got {value}")
    return value


def seed_list(text: str) -> list[int]:
    """argparse type: comma-separated non-negative seeds, e.g. ``0,1,2``."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("give at least one seed, e.g. 0,1,2")
    out = [seed(p) for p in parts]
    if len(set(out)) != len(out):
        raise argparse.ArgumentTypeError(f"seeds repeat: {text!r}")
    return out


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def json_object(text: str) -> dict:
    """argparse type: a JSON object (``{"key": value}``)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err.msg} at character {err.pos}): {text!r}; "
                                         "example: '{\"width\": 8}'") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object such as '{{\"key\": 1}}', got {text!r}")
    return value


def table(rows: list[dict], columns: list[str]) -> str:
    """A left-aligned plain-text table."""
    widths = {c: max([len(c)] + [len(str(r.get(c, ""))) for r in rows]) for c in columns}
    line = "  ".join(c.ljust(widths[c]) for c in columns)
    sep = "  ".join("-" * widths[c] for c in columns)
    body = ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join([line, sep, *body]).rstrip()


def say(text: str) -> None:
    """A progress/status line on stderr (stdout stays machine-readable)."""
    print(text, file=sys.stderr, flush=True)


def lazy(module: str, name: str) -> Callable[..., Any]:
    """``module.name`` imported on first call (keeps heavy imports out of argument parsing)."""

    def call(*args, **kwargs):
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    return call
