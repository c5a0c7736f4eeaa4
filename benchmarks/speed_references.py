"""``speed.py --against-references``: every indicator timed against its reference algorithm, in one process.

For each NB201 cell (``space.sample(cells, seed=0)``, built with ``seed=<position>``) and one CIFAR-10 batch
(``load_batch("cifar10", batch_size, seed=0)``):

* zeroscore alone: ``zeroscore.score(model, x, y, indicators=[name], seed=0)`` (probe creation included);
* the reference: ``benchmarks/reference_algorithms.py`` (the papers' plain loops) on a copy of the same network;
* both values, and their relative difference where the protocols are the same (for the randomised protocols --
  swap's re-initialisations, linear_regions' crops, zen's and AZ-NAS's Gaussian inputs, meco_opt's channel
  draws -- the draws differ, so only the order of magnitude is comparable);
* peak resident memory above the process's baseline during each call (sampled every 2 ms);
* all indicators together through one probe, and the indicators that have a reference together, against the sum
  of the references, and the fixed overhead of one ``score()`` call (``params``: no pass at all; best, median and
  mean of 20 calls).

Ratio = reference seconds / zeroscore seconds (> 1: zeroscore is faster). Cells alternate which side runs first.
With ``--best-of k``, an indicator whose two sides both took under ``--best-of-under`` seconds is timed ``k`` times
per side and cell, the sides alternating, and each side keeps its fastest run (on a shared machine the slower runs
measure the neighbours); values and peak memory come from the first run.
"""

from __future__ import annotations

import copy
import math
import threading
import time

import numpy as np
import torch

#: indicators whose reference computes the same quantity from the same draws (values must agree)
SAME_PROTOCOL = {"params", "l2_norm", "grad_norm", "plain", "snip", "fisher", "grasp", "synflow", "jacov", "epe_nas",
                 "naswot", "ntk_cond", "ntk_generalization", "gradsign", "zico", "meco"}


class PeakMemory:
    """Peak resident set size (bytes) above the level at entry, sampled by a thread."""

    def __init__(self, interval: float = 0.002):
        self.interval = interval
        self.peak = 0

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    def __enter__(self):
        self.base = self._rss()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop:
            self.peak = max(self.peak, self._rss() - self.base)
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop = True
        self._thread.join()
        self.peak = max(self.peak, self._rss() - self.base)


class PeakCudaMemory:
    """Peak CUDA memory allocated (bytes) above the level at entry (torch's allocator statistics)."""

    def __init__(self, device: torch.device):
        self.device = device
        self.peak = 0

    def __enter__(self):
        torch.cuda.synchronize(self.device)
        self.base = torch.cuda.memory_allocated(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        return self

    def __exit__(self, *exc):
        torch.cuda.synchronize(self.device)
        self.peak = torch.cuda.max_memory_allocated(self.device) - self.base


def _timed(fn, device: torch.device):
    on_gpu = device.type == "cuda"
    with (PeakCudaMemory(device) if on_gpu else PeakMemory()) as mem:
        start = time.perf_counter()
        value = fn()
        if on_gpu:  # kernels run asynchronously: the time is the time until they are done
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
    return value, seconds, mem.peak


#: score() calls per cell that time the fixed overhead (best, median and mean)
OVERHEAD_CALLS = 20


def run(cells: int, batch_size: int, names: list[str] | None = None, device: str = "cpu", best_of: int = 1,
        best_of_under: float = 3.0) -> dict:
    """Measurements per indicator (lists over cells) plus together / overhead times; on ``device`` (the network
    and the batch live there, for zeroscore and the references alike; peak memory is then the GPU allocator's)."""
    from reference_algorithms import REFERENCES

    import zeroscore
    from zeroscore import data, spaces

    dev = torch.device(device)
    x, y = data.load_batch("cifar10", batch_size=batch_size, seed=0)
    x, y = x.to(dev), y.to(dev)
    space = spaces.get("nb201")
    names = names or zeroscore.list_indicators()
    with_reference = [n for n in names if n in REFERENCES]
    out = {"ours": {n: [] for n in names}, "ref": {n: [] for n in names}, "value": {n: [] for n in names},
           "ref_value": {n: [] for n in names}, "mem": {n: [] for n in names}, "ref_mem": {n: [] for n in names},
           "together": [], "together_ref": [], "ref_sum": [], "overhead": [], "overhead_median": [],
           "overhead_mean": [], "archs": []}
    for i, arch in enumerate(space.sample(cells, seed=0)):
        model = space.build(arch, num_classes=10, seed=i).to(dev)
        out["archs"].append(arch)
        if i == 0:  # warm-up, not timed: first calls initialise kernels (float64 convolutions, torch.func)
            zeroscore.score(model, x[:8], y[:8], indicators=names, seed=0)
            for name in names:
                if name in REFERENCES:
                    REFERENCES[name](copy.deepcopy(model), x[:8], y[:8])
        for name in names:
            reference = REFERENCES.get(name)
            sides = [("ours", lambda: zeroscore.score(model, x, y, indicators=[name], seed=0)[name])]
            if reference is not None:
                sides.append(("ref", lambda: reference(copy.deepcopy(model), x, y)))
            for side, fn in (sides if i % 2 == 0 else sides[::-1]):
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(0)
                    value, seconds, peak = _timed(fn, dev)
                out[side][name].append(seconds)
                out["value" if side == "ours" else "ref_value"][name].append(float(value))
                out["mem" if side == "ours" else "ref_mem"][name].append(peak)
            if best_of > 1 and all(out[side][name][-1] < best_of_under for side, _ in sides):
                for k in range(1, best_of):
                    for side, fn in (sides if (i + k) % 2 == 0 else sides[::-1]):
                        with torch.random.fork_rng(devices=[]):
                            torch.manual_seed(0)
                            seconds = _timed(fn, dev)[1]
                        out[side][name][-1] = min(out[side][name][-1], seconds)
        start = time.perf_counter()
        zeroscore.score(model, x, y, indicators=names, seed=0)
        out["together"].append(time.perf_counter() - start)
        out["ref_sum"].append(sum(out["ref"][n][-1] for n in names if out["ref"][n]))
        if with_reference == names:  # every indicator has a reference: the like-for-like total is the one above
            out["together_ref"].append(out["together"][-1])
        else:  # the like-for-like total: only the indicators that have a reference
            start = time.perf_counter()
            zeroscore.score(model, x, y, indicators=with_reference, seed=0)
            out["together_ref"].append(time.perf_counter() - start)
        overheads = []
        for _ in range(OVERHEAD_CALLS):
            start = time.perf_counter()
            zeroscore.score(model, x, y, indicators=["params"], seed=0)
            overheads.append(time.perf_counter() - start)
        out["overhead"].append(min(overheads))
        out["overhead_median"].append(float(np.median(overheads)))
        out["overhead_mean"].append(float(np.mean(overheads)))
        print(f"[{i + 1}/{cells}] together {out['together'][-1]:.1f}s, references {out['ref_sum'][-1]:.1f}s, "
              f"overhead {1000 * out['overhead'][-1]:.1f} ms  {arch}", flush=True)
    return out


def _rel(a: float, b: float) -> float:
    if a == b:
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def table(result: dict) -> list[str]:
    lines = ["| indicator | zeroscore s | reference s | ratio (ref / ours) | value rel. diff. | peak MB ours / ref |",
             "|---|---:|---:|---:|---:|---:|"]
    names = sorted(result["ours"], key=lambda n: -float(np.mean(result["ref"][n] or result["ours"][n])))
    for n in names:
        ours = float(np.mean(result["ours"][n]))
        mem = float(np.max(result["mem"][n])) / 1e6
        if not result["ref"][n]:
            lines.append(f"| `{n}` | {ours:.2f} | no reference code | – | – | {mem:.0f} / – |")
            continue
        ref = float(np.mean(result["ref"][n]))
        diffs = [_rel(a, b) for a, b in zip(result["value"][n], result["ref_value"][n])]
        diff = f"{max(diffs):.1e}" if n in SAME_PROTOCOL else f"(other draws) {max(diffs):.0%}"
        ref_mem = float(np.max(result["ref_mem"][n])) / 1e6
        lines.append(f"| `{n}` | {ours:.2f} | {ref:.2f} | {ref / ours:.2f} | {diff} | {mem:.0f} / {ref_mem:.0f} |")
    together, ref_sum = float(np.mean(result["together"])), float(np.mean(result["ref_sum"]))
    lines += [
        "",
        f"- All {len(result['ours'])} indicators together through one probe: **{together:.1f} s** per cell; the "
        f"references' sum: **{ref_sum:.1f} s**; ratio **{ref_sum / together:.2f}**.",
        f"- The {sum(1 for n in result['ours'] if result['ref'][n])} indicators that have a reference, together "
        f"through one probe: **{float(np.mean(result['together_ref'])):.1f} s** per cell; ratio to the references' "
        f"sum **{ref_sum / float(np.mean(result['together_ref'])):.2f}** (the like-for-like total).",
        f"- Fixed overhead of one `score()` call (`params`, which runs no pass): **"
        f"{1000 * float(np.median(result['overhead'])):.1f} ms** (median over cells of the best of "
        f"{OVERHEAD_CALLS} calls; per cell {', '.join(f'{1000 * v:.1f}' for v in result['overhead'])} ms); "
        f"the median call {1000 * float(np.median(result['overhead_median'])):.1f} ms (per cell "
        f"{', '.join(f'{1000 * v:.1f}' for v in result['overhead_median'])} ms), the mean call "
        f"{1000 * float(np.median(result['overhead_mean'])):.1f} ms (median over cells; per cell "
        f"{', '.join(f'{1000 * v:.1f}' for v in result['overhead_mean'])} ms: a mean also counts the calls that a full "
        "garbage collection of the process or the machine's other load slowed down).",
    ]
    return lines
