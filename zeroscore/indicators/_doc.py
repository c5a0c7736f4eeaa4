"""The indicator reference table, generated from the registry (``docs/indicators.md``).

``python -m zeroscore.indicators._doc [PATH]`` writes the table (default ``docs/indicators.md``); the test suite
checks that the committed file is what this module generates, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

from zeroscore.indicators.base import COSTS, KNOWN_NEEDS, indicator_class, list_indicators


def default_needs(name: str) -> frozenset[str]:
    """What the indicator needs with its default parameters."""
    return indicator_class(name)().requires()


def _summary(cls) -> str:
    doc = inspect.getdoc(cls) or ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ").strip()
    return first.replace("|", "\\|")


def _defaults(cls) -> str:
    params = inspect.signature(cls.__init__).parameters
    items = [f"`{p}={v.default!r}`" for p, v in params.items()
             if p != "self" and v.default is not inspect.Parameter.empty]
    return ", ".join(items) if items else "—"


def indicator_table_markdown() -> str:
    """A markdown document with one row per registered indicator (name, paper, direction, needs, defaults, cost)."""
    names = list_indicators()
    lines = [
        "# Indicators",
        "",
        f"All {len(names)} registered indicators (`zeroscore.list_indicators()`). Generated from the registry by "
        "`python -m zeroscore.indicators._doc`; do not edit by hand. The class docstring of each indicator "
        "(`help(zeroscore.indicators.base.indicator_class(name))`) gives the exact protocol, the reference code "
        "it follows and every deviation.",
        "",
        "| name | paper | direction | needs | defaults | cost |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        cls = indicator_class(name)
        needs = ", ".join(sorted(default_needs(name))) or "— (input shape only)"
        direction = "higher is better" if cls.higher_is_better else "lower is better"
        lines.append(f"| `{name}` | {cls.paper} | {direction} | {needs} | {_defaults(cls)} | {cls.cost} |")
    lines += ["", "## What each computes", ""]
    for name in names:
        lines.append(f"- **`{name}`**: {_summary(indicator_class(name))}")
    lines += ["", "## Cost classes", "", "| cost | meaning |", "|---|---|"]
    for cost, meaning in COSTS.items():
        lines.append(f"| {cost} | {meaning} |")
    lines += [
        "",
        "Indicators scored together through one `zeroscore.score` call share the probe's passes (loss gradients, "
        "ReLU codes, input gradients, the AZ-NAS feature pass, FLOP counts), so the cost of a set is less than the "
        "sum of its parts; see `benchmarks/results/speed_cpu.md`.",
        "",
        "`needs` (with the default parameters): " + "; ".join(f"`{k}` = {v}" for k, v in KNOWN_NEEDS.items()) + ".",
        "",
    ]
    return "\n".join(lines)


def indicator_catalog() -> list[dict]:
    """One row per registered indicator (what ``zeroscore list`` prints, without importing torch)."""
    rows = []
    for name in list_indicators():
        cls = indicator_class(name)
        rows.append({"name": name, "direction": "higher" if cls.higher_is_better else "lower",
                     "needs": ",".join(sorted(default_needs(name))), "cost": cls.cost, "paper": cls.paper})
    return rows


def catalog_json() -> str:
    return json.dumps(indicator_catalog(), indent=1) + "\n"


#: where the catalog lives: beside the command line that reads it
CATALOG = Path(__file__).resolve().parents[1] / "cli" / "indicators.json"


def write_indicator_doc(path: str | Path = "docs/indicators.md") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(indicator_table_markdown())
    CATALOG.write_text(catalog_json())
    return path


if __name__ == "__main__":
    print(write_indicator_doc(*(sys.argv[1:2] or ["docs/indicators.md"])))
