"""Scoring for `reproduce_correlations.py`: the three tiers (core, other cheap, expensive indicators) that fill the
store round-robin over the settings on growing prefixes of the sample, and ``--measure`` (the per-architecture
cost of every indicator). Not a script.
"""

from __future__ import annotations

import os
import sys
import time

import pandas as pd
from correlation_settings import SETTINGS, arch_sample, indicator_names, sample_size, truth_table


def measure(args) -> None:
    """Time every indicator on K archs per setting (one process, serial)."""
    from zeroscore import spaces
    from zeroscore.runner import score_many

    rows = []
    for setting in args.settings:
        space_name, dataset, _ = SETTINGS[setting]
        space = spaces.get(space_name)
        gt = truth_table(space, space_name)
        archs = arch_sample(space, setting, args.measure + 1, args.seed, gt)
        t0 = time.perf_counter()
        df = score_many(space, archs, indicators=indicator_names(args.indicators), dataset=dataset,
                        seeds=(args.seed,), batch_size=args.batch_size, progress=False, device=args.device)
        wall = time.perf_counter() - t0
        df = df[df["arch"] != archs[0]]  # first arch = warm-up
        per = df.groupby("indicator")["seconds"].mean()
        fails = df.groupby("indicator")["error"].apply(lambda e: int(e.notna().sum()))
        for ind, s in per.items():
            rows.append({"setting": setting, "indicator": ind, "seconds_per_arch": s, "failed": fails[ind]})
        print(f"{setting}: {len(archs)} archs in {wall:.1f}s; per arch (excl. warm-up): {per.sum():.2f}s",
              flush=True)
    out = pd.DataFrame(rows).pivot(index="indicator", columns="setting", values="seconds_per_arch")
    out.loc["TOTAL"] = out.sum()
    pd.set_option("display.width", 200)
    print(out.round(3).to_string())
    if args.measure_out:
        out.to_csv(args.measure_out)


def _steps(limit: int, step_sizes: list[int]) -> list[int]:
    return sorted({m for m in step_sizes if 0 < m < limit} | {limit}) if limit > 0 else []


def _tier(args, label: str, indicators: list[str], limit: int, minutes: float) -> None:
    """Score ``indicators`` round-robin over the settings on growing prefixes of the sample, until ``limit`` archs
    or ``minutes`` of wall time (then the current architecture is finished and the tier stops)."""
    import signal
    import threading

    from zeroscore import spaces
    from zeroscore.runner import score_many

    if not indicators or limit <= 0:
        return
    deadline_hit = threading.Event()

    def stop():
        deadline_hit.set()
        os.kill(os.getpid(), signal.SIGINT)  # score_many finishes the current architecture, then stops

    timer = threading.Timer(minutes * 60, stop) if minutes and minutes > 0 else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    t0 = time.time()
    try:
        for m in _steps(limit, args.step_sizes):
            for setting in args.settings:
                space_name, dataset, _ = SETTINGS[setting]
                mm = max(1, int(round(m * args.scale.get(setting, 1.0))))
                space = spaces.get(space_name)
                gt = truth_table(space, space_name)
                archs = arch_sample(space, setting, sample_size(args), args.seed, gt)[:mm]
                print(f"[{time.strftime('%H:%M:%S')}] {label}: {setting} prefix {len(archs)} x {len(indicators)} "
                      f"indicators ({(time.time() - t0) / 60:.1f} min into the tier)", flush=True)
                score_many(space, archs, indicators=indicators, dataset=dataset, store=args.store,
                           seeds=(args.seed,), batch_size=args.batch_size, progress=not args.no_progress,
                           executor=args.executor, device=args.device,
                           run_info={"command": args.command_used or " ".join(sys.argv), "setting": setting,
                                     "tier": label})
    except KeyboardInterrupt:
        if not deadline_hit.is_set():
            raise
        print(f"[{time.strftime('%H:%M:%S')}] {label}: time budget of {minutes} min reached", flush=True)
    finally:
        if timer is not None:
            timer.cancel()


def run(args) -> None:
    """Run the three tiers into ``args.store`` (with ``args.workers`` worker processes)."""
    args.executor = None
    if args.workers > 1:  # one pool for the whole run: spawning workers per score_many call would dominate
        from zeroscore.runner import process_pool

        args.executor = process_pool(args.workers, args.threads)
    try:
        _run_tiers(args)
    finally:
        if args.executor is not None:
            args.executor.shutdown(wait=True, cancel_futures=True)


def _run_tiers(args) -> None:
    inds = indicator_names(args.indicators)
    expensive = [i for i in indicator_names(args.expensive) if i in inds] if args.expensive else []
    core = [i for i in indicator_names(args.core) if i in inds and i not in expensive] if args.core else []
    cheap = [i for i in inds if i not in expensive and i not in core]
    # core first (largest n), then the other cheap indicators, then the expensive ones
    _tier(args, "core", core, args.n, args.minutes_core)
    _tier(args, "cheap", cheap, args.n, args.minutes)
    _tier(args, "expensive", expensive, args.n_expensive, args.minutes_expensive)
