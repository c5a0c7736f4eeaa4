"""The report of `reproduce_correlations.py`, written from what the store holds: per setting
``correlations_<setting>.md`` / ``.csv`` (correlations, published values and our differences, same-cells
comparison with published scores, plots under ``plots/``) and ``correlations_summary.md`` / ``.csv`` / ``.tex``.
Not a script.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from correlation_references import PUBLISHED_NOTE, load_published, reference_scores
from correlation_settings import ENSEMBLES, SETTINGS, arch_sample, indicator_names, sample_size, truth_table


def report(args) -> None:
    """Write the per-setting files and the summary under ``args.out`` for the settings in ``args.settings``."""
    from zeroscore.store import load_runs

    outdir = Path(args.out)
    outdir.mkdir(parents=True, exist_ok=True)
    runs = load_runs(args.store)
    published = load_published()
    command = args.command_used or " ".join(sys.argv)
    summary_rows = []
    all_provenance: list[pd.DataFrame] = []
    for setting in args.settings:
        written = _setting_report(args, setting, runs, published, outdir, command)
        if written is None:
            continue
        corr, provenance = written
        all_provenance.append(provenance)
        for _, r in corr.iterrows():
            summary_rows.append({"setting": setting, "indicator": r["indicator"], "n": r["n"],
                                 "n_failed": r["n_failed"],
                                 "spearman": r["spearman"] if r["n"] >= args.min_n_summary else math.nan,
                                 "kendall": r["kendall"] if r["n"] >= args.min_n_summary else math.nan,
                                 "published": r["published"], "diff": r["diff"]})
    if summary_rows:
        _write_summary(args, pd.DataFrame(summary_rows), pd.concat(all_provenance, ignore_index=True), outdir,
                       command)


def _setting_report(args, setting: str, runs: pd.DataFrame, published: pd.DataFrame, outdir: Path,
                    command: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Write ``correlations_<setting>.csv`` / ``.md`` (and its plots); returns the correlations and where the rows
    were computed, or None when the store has nothing for the setting."""
    from zeroscore import analysis, spaces
    from zeroscore.runner import plan_indicators
    from zeroscore.store import load_scores

    space_name, dataset, target = SETTINGS[setting]
    space = spaces.get(space_name)
    gt = truth_table(space, space_name)
    archs = arch_sample(space, setting, sample_size(args), args.seed, gt)
    scores = load_scores(args.store, space=space_name, dataset=dataset, batch_size=args.batch_size,
                         seeds=[args.seed])
    if scores.empty:
        print(f"{setting}: nothing stored yet", flush=True)
        return None
    # only rows of the indicators' current parameters (a store may also hold older protocols' rows)
    current = {ij.params_hash for ij in plan_indicators(indicator_names(args.indicators), space)}
    scores = scores[scores["params_hash"].isin(current)]
    scores = analysis.complete_prefix(scores[scores["arch"].isin(set(archs))], archs)
    provenance = _provenance(scores, runs)
    scores = _with_ensembles(scores, archs)
    corr = analysis.correlate(scores, gt, targets=[target], bootstrap=args.bootstrap, seed=0,
                              top_k=(0.01, 0.05, 0.10))
    # the rows with n too small for the summary go last, each group by Spearman
    corr = (corr.assign(_big=corr["n"] >= args.min_n_summary)
            .sort_values(["_big", "spearman"], ascending=[False, False], na_position="last")
            .drop(columns="_big").reset_index(drop=True))
    secs = scores.groupby("indicator")["seconds"].mean()
    compared, sources = analysis.compare_published(corr, published[published["setting"] == setting])
    corr["published"], corr["diff"] = compared["published"], compared["diff"]
    corr["seconds_per_arch"] = corr["indicator"].map(secs)
    corr.to_csv(outdir / f"correlations_{setting}.csv", index=False, float_format="%.4f")
    ref = pd.DataFrame(reference_scores(setting, scores, gt, target))
    lines = _setting_header(args, setting, corr, provenance, command)
    lines += _correlation_table(corr)
    if sources:
        lines += ["", "Published values ((abs) = absolute value printed by the source, the difference is "
                      "abs(ours) - published; (tau) = Kendall's tau, the difference is our Kendall - published):",
                  ""]
        lines += [f"{k}. {src}" for k, src in enumerate(sources, start=1)]
        lines += ["", PUBLISHED_NOTE]
    if len(ref):
        lines += _same_cells_table(ref)
    if args.plots:
        _plots(outdir / "plots", setting, scores, gt, target)
        lines += ["", f"Plots: `plots/{setting}_vs_accuracy.png` (score vs accuracy, rho in each panel), "
                      f"`plots/{setting}_heatmap.png` (indicator x indicator Spearman)."]
    (outdir / f"correlations_{setting}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {outdir / f'correlations_{setting}.md'} (max n {_max_n(corr)})", flush=True)
    return corr, provenance


def _with_ensembles(scores: pd.DataFrame, archs: list[str]) -> pd.DataFrame:
    """``scores`` plus the rows of every ensemble in :data:`ENSEMBLES` whose components are all there, on the
    prefix of the sample that all of them scored."""
    from zeroscore import analysis

    for label, (method, comps) in ENSEMBLES.items():
        have = set(scores["indicator"])
        if all(c in have for c in comps):
            n_common = min(scores[scores["indicator"] == c]["arch"].nunique() for c in comps)
            sub = scores[scores["arch"].isin(set(archs[:n_common]))]
            ens = analysis.rank_aggregate(sub[sub["indicator"].isin(comps)], comps, method=method, name=label)
            scores = pd.concat([scores, ens[ens["indicator"] == label]], ignore_index=True)
    return scores


def _max_n(corr: pd.DataFrame) -> int:
    return int(corr["n"].max()) if len(corr) else 0


def _setting_header(args, setting: str, corr: pd.DataFrame, provenance: pd.DataFrame, command: str) -> list[str]:
    """The title and the bullet list of a per-setting file: data, sample, n reached, how it was computed."""
    from zeroscore import data

    space_name, dataset, target = SETTINGS[setting]
    lines = [f"# Correlations: {setting}", ""]
    if data.is_standin(dataset):
        lines += ["**STAND-IN DATA: the batches are CIFAR-100 images downsampled to 16x16 (120-class head), NOT "
                  "ImageNet16-120. The ground truth is the real ImageNet16-120 test accuracy; these numbers are "
                  "not ImageNet16-120 zero-cost results.**", ""]
    nb101 = space_name == "nb101"
    lines += [
        f"* space `{space_name}`, target `{target}` "
        f"({'all 500 NASLib NB101 cells available' if nb101 else 'benchmark ground truth'})",
        f"* data: {data.describe(dataset)}; batch {args.batch_size}, split `train`, one seed ({args.seed}) for "
        "sampling, network initialisation, batch and indicator randomness",
        f"* sample: `space.sample({sample_size(args)}, seed={args.seed})`"
        + (" (NB101: the 500 cells, permuted with the seed)" if nb101 else "")
        + f"; indicators use the longest complete prefix: n per row below (max {_max_n(corr)})",
        ("* NB101: the sample has 500 cells; " + _reached(corr, 500) if nb101 else
         "* n >= 1000 (the target for NB201/SSS): " + _reached(corr)),
        "* differences from published values are explained in `correlations_notes.md`",
        "* positive = agrees with accuracy (lower-is-better indicators negated); CI = 95 % percentile bootstrap "
        f"({args.bootstrap} resamples); top10 = fraction of the predicted top-10 % in the true top-10 %",
        f"* computed by (rows per machine and command; the report itself: `{command}`):",
        *[f"  * {r.rows:,} rows on {r.device} (torch {r.torch_version}): `{r.command}`"
          for r in provenance.itertuples()],
        "",
    ]
    return lines


def _correlation_table(corr: pd.DataFrame) -> list[str]:
    """The markdown table of a per-setting file: one row per indicator or ensemble."""

    def f(v, d=3):
        return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.{d}f}"

    lines = ["| indicator | n | failed | Spearman [95% CI] | Kendall | Pearson | top-10% | best rank in pred. "
             "top-10% | s/arch | published Spearman (source) | ours - published |",
             "| :-- | --: | --: | :-: | --: | --: | --: | --: | --: | :-- | --: |"]
    for _, r in corr.iterrows():
        lines.append(f"| {r['indicator']} | {int(r['n'])} | {int(r['n_failed'])} | {f(r['spearman'])} "
                     f"[{f(r['spearman_lo'], 2)}, {f(r['spearman_hi'], 2)}] | {f(r['kendall'])} | "
                     f"{f(r['pearson'])} | {f(r['top10'], 2)} | {f(r['best_rank_top10'], 0)} | "
                     f"{f(r['seconds_per_arch'], 2)} | {r['published']} | {r['diff']} |")
    return lines


def _same_cells_table(ref: pd.DataFrame) -> list[str]:
    """Published per-architecture scores vs ours on the shared cells (:func:`reference_scores`)."""
    lines = ["", "Same cells, same target: published per-architecture scores vs ours, on the cells of our "
                 "sample that the published file also scores (both finite). `agreement` = Spearman between "
                 "our scores and the published ones.", "",
             "| published scores | n | Spearman, published | Spearman, ours | agreement | source |",
             "| :-- | --: | --: | --: | --: | :-- |"]
    for _, r in ref.iterrows():
        lines.append(f"| {r['published scores']} | {r['n']} | {r['spearman']:.3f} | {r['ours']:.3f} | "
                     f"{r['agreement']:.3f} | {r['source']} |")
    return lines


def _write_summary(args, summ: pd.DataFrame, prov: pd.DataFrame, outdir: Path, command: str) -> None:
    """``correlations_summary.csv`` / ``.md`` / ``.tex``: Spearman per indicator and setting, and n per cell."""
    from zeroscore import analysis

    summ.to_csv(outdir / "correlations_summary.csv", index=False, float_format="%.4f")
    tab = analysis.table(summ.rename(columns={"setting": "target"}), metric="spearman", rows="indicator",
                         columns="target")
    ns = summ.pivot(index="indicator", columns="setting", values="n")
    per_machine = (prov.assign(machine=prov["device"] + " (torch " + prov["torch_version"] + ")")
                   .groupby("machine")["rows"].sum().sort_values(ascending=False))
    big = summ[summ["setting"] != "nb101-cifar10"]
    ind_rows = big[~big["indicator"].isin(ENSEMBLES)]
    full = sorted(set(ind_rows["indicator"]) - set(ind_rows[_scored(ind_rows) < 1000]["indicator"]))
    text = ["# Zero-cost indicator correlations (Spearman, direction-aware) -- summary", "",
            f"* report: `{command}`; the scores were computed by the commands listed in each per-setting file",
            f"* seeded random sample `space.sample({sample_size(args)}, seed={args.seed})` per space (NB101: the 500 "
            f"NASLib cells permuted with the seed); every n is a prefix of it; batch {args.batch_size} images of "
            "the `train` split, drawn with the same seed, which also seeds initialisation and indicators",
            "* computed on: " + "; ".join(f"{n:,} score rows on {m}" for m, n in per_machine.items())
            + " (GPU and CPU values of an indicator agree to ~1e-3 relative: `cpu_gpu_agreement.md`)",
            "* imagenet16 columns use STAND-IN data (CIFAR-100 images at 16x16, 120-class head), NOT "
            "ImageNet16-120 images; their target is the real ImageNet16-120 test accuracy",
            "* the issue asks for n >= 1000 per NB201/SSS dataset: 1000 architectures scored (failures "
            "included, they are counted in the per-setting files) on all six for "
            f"{len(full)} indicators ({', '.join(full) or 'none'}); the others have the n given in the table "
            "below: the six per-sample NTK / Jacobian / Hessian indicators (ntk_cond: 64 backward passes of the "
            "batch) took ~9 s per ImageNet16 architecture on the 2-core CPU and would take ~25 s per CIFAR one, "
            "about 30 hours for the rest, and the GPU time lent to development ran out; the script resumes the "
            "store to go further (`correlations_notes.md`); a separate CPU store holds them on larger samples of "
            "some settings (`cpu_rescoring/README.md`)",
            "* per-setting files `correlations_<setting>.md` have n, 95 % CIs, Kendall, Pearson, top-10 %, timing "
            "and the published values with their sources and our difference; **where and why we differ from "
            "published values: `correlations_notes.md`**",
            f"* cells with n < {args.min_n_summary} are shown as – here (their numbers, with CIs, are in the "
            "per-setting files)",
            "", analysis.to_markdown(tab), "",
            "n per cell (architectures in the correlation; failed ones, in the per-setting files, not counted):",
            "", analysis.to_markdown(ns, bold_best=False, digits=0)]
    (outdir / "correlations_summary.md").write_text("\n".join(text) + "\n")
    (outdir / "correlations_summary.tex").write_text(analysis.to_latex(
        tab, caption="Spearman rank correlation of each indicator with test accuracy (direction-aware); "
                     "n per cell in correlations_summary.md", label="tab:zeroscore-correlations") + "\n")
    print(f"wrote {outdir / 'correlations_summary.md'}", flush=True)


def _provenance(scores: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Where the rows in ``scores`` were computed: row counts per (device, torch, command) of the runs that wrote
    them. A store can hold rows of several runs and machines (the store key has no device: GPU and CPU values of
    one indicator agree to ~1e-3 relative, see tests/test_gpu.py and cpu_gpu_agreement.md)."""
    cols = ["device", "torch_version", "command"]
    if "run_id" not in scores or runs.empty:
        return pd.DataFrame(columns=cols + ["rows"])
    info = runs.set_index("run_id").reindex(columns=cols + ["cpu"])
    joined = scores[["run_id"]].join(info, on="run_id")
    joined["device"] = joined["device"].fillna("cpu")
    # CPU rows name the processor (runs record it since 2026-12): CPUs differ in speed and in float rounding
    on_named_cpu = joined["device"].eq("cpu") & joined["cpu"].notna()
    joined.loc[on_named_cpu, "device"] = "cpu, " + joined.loc[on_named_cpu, "cpu"].astype(str)
    joined = joined.drop(columns="cpu")
    return (joined.fillna("?").groupby(cols).size().rename("rows").reset_index()
            .sort_values("rows", ascending=False, ignore_index=True))


def _scored(corr: pd.DataFrame) -> pd.Series:
    """Architectures of the sample each row scored: the ones in its correlation plus the ones it failed on (a
    failure, e.g. zen on a cell whose output ignores its input, is a result, reported in ``n_failed``)."""
    return corr["n"] + corr["n_failed"]


def _reached(corr: pd.DataFrame, target_n: int = 1000) -> str:
    ind = corr[~corr["indicator"].isin(ENSEMBLES)]
    scored = _scored(ind)
    ok = ind[scored >= target_n]["indicator"].tolist()
    short = ind[scored < target_n].assign(scored=scored).sort_values("scored", ascending=False)
    text = f"{len(ok)} of {len(ind)} indicators scored n >= {target_n} architectures (failures included)"
    if len(short):
        groups = (short.groupby("scored")["indicator"].apply(lambda s: ", ".join(sorted(s)))
                  .sort_index(ascending=False))
        text += "; the others: " + "; ".join(f"{int(n)} for {names}" for n, names in groups.items())
    return text


def _plots(plot_dir: Path, setting: str, scores: pd.DataFrame, gt: pd.DataFrame, target: str) -> None:
    from zeroscore import plots

    plot_dir.mkdir(parents=True, exist_ok=True)
    single = scores[~scores["indicator"].isin(ENSEMBLES)]
    # the plots title themselves with space, dataset, target and n, and print correlate's rho per panel
    plots.score_vs_accuracy_grid(single, gt, target, plot_dir / f"{setting}_vs_accuracy.png", ncols=6, dpi=70,
                                 title=setting)
    plots.indicator_heatmap(single, plot_dir / f"{setting}_heatmap.png", dpi=70,
                            title=f"{setting}: Spearman between indicators (direction-aware)")
