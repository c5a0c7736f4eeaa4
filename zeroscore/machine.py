"""Which CPU a run or benchmark ran on, in words.

Timings and float rounding depend on the processor and on the vector kernels torch picks for it (AVX2, AVX-512, ...),
not only on the architecture name: result files and run records written on different machines must say which one
each came from, so this reads the processor's model name instead of ``platform.machine()`` alone.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["cpu_model", "describe_cpu"]


def cpu_model(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> str:
    """The processor's model name (``"AMD EPYC 9R14"``); ``platform.processor()`` or the architecture where the
    operating system does not say (no ``/proc/cpuinfo``)."""
    try:
        for line in Path(cpuinfo).read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            # x86 says "model name"; some ARM kernels say "Model" or nothing at all
            if key.strip().lower() in ("model name", "model") and value.strip() and not value.strip().isdigit():
                return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def describe_cpu() -> str:
    """One line for a result file: model, architecture, logical cores and torch's CPU kernel level,
    e.g. ``"AMD EPYC 9R14 (x86_64, 2 logical cores, torch CPU kernels AVX512)"``."""
    import torch

    try:
        kernels = torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # torch < 2.1 had no such query
        kernels = "unknown"
    return f"{cpu_model()} ({platform.machine()}, {os.cpu_count()} logical cores, torch CPU kernels {kernels})"
