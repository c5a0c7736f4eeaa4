"""The reproduction benchmark (benchmarks/reproduce_correlations.py and its correlation_*.py modules): the published
values it compares with (benchmarks/published_values.csv and published_sources.csv: names, ranges, how differences
are taken, and that the committed report still follows from them), and its report on a small fake store."""

import hashlib
import importlib
import importlib.util
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zeroscore
from zeroscore import analysis

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPT = BENCHMARKS / "reproduce_correlations.py"


@pytest.fixture(scope="module")
def repro():
    """The command line, loaded by path; loading it puts its modules (benchmarks/correlation_*.py) on the path."""
    spec = importlib.util.spec_from_file_location("reproduce_correlations", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench_settings(repro):
    return importlib.import_module("correlation_settings")


@pytest.fixture(scope="module")
def references(repro):
    return importlib.import_module("correlation_references")


@pytest.fixture(scope="module")
def published(references):
    return references.load_published()


def test_every_published_value_names_a_setting_and_an_indicator(bench_settings, published):
    # a typo in an indicator or setting name would silently drop a published value from the report
    known = set(zeroscore.list_indicators()) | set(bench_settings.ENSEMBLES)
    assert len(published) > 100
    for row in published.itertuples():
        assert row.setting in bench_settings.SETTINGS, row.setting
        assert row.indicator in known, row.indicator
        assert row.metric in {"spearman", "|spearman|", "kendall"}, row.metric
        assert -1.0 <= row.value <= 1.0 and row.source.strip()
        if row.metric == "|spearman|":
            assert row.value >= 0
    assert analysis.check_published(published) is published


def test_every_source_is_cited_and_defined(references):
    values = pd.read_csv(references.PUBLISHED_VALUES, keep_default_na=False)
    sources = pd.read_csv(references.PUBLISHED_SOURCES, keep_default_na=False)
    assert list(values.columns) == ["setting", "indicator", "metric", "value", "source"]
    assert list(sources.columns) == ["source", "text", "note"]
    assert sources["source"].is_unique and sources["text"].is_unique
    assert set(values["source"]) == set(sources["source"])
    # one cell, one value per source and metric: a duplicated row would be printed twice
    assert not values.duplicated(["setting", "indicator", "metric", "source"]).any()


def test_published_cell_compares_like_with_like(published):
    pub = pd.DataFrame({"indicator": "naswot", "value": [0.80, 0.60, 0.70], "metric": ["spearman", "kendall",
                        "|spearman|"], "source": ["source A", "source B", "source A"]})
    corr = pd.DataFrame({"indicator": ["naswot", "synflow"], "spearman": [-0.75, 0.3], "kendall": [0.55, 0.2]})
    cells, sources = analysis.compare_published(corr, pub)
    assert sources == ["source A", "source B"]
    assert cells.loc[0, "published"] == "0.80 [1], 0.60 (tau) [2], 0.70 (abs) [1]"
    # Spearman against Spearman, Kendall against Kendall, |rho| against an absolute value
    assert cells.loc[0, "diff"] == "-1.55, -0.05 (tau), +0.05 (abs)"
    assert (cells.loc[1, "published"], cells.loc[1, "diff"]) == ("", "")
    nan_rho = corr.assign(spearman=math.nan, kendall=math.nan)
    assert analysis.compare_published(nan_rho, pub)[0].loc[0, "diff"] == ""
    # a setting without published values for an indicator gets empty cells
    sss = published[published["setting"] == "sss-cifar10"]
    assert analysis.compare_published(pd.DataFrame({"indicator": ["epe_nas"], "spearman": [0.5], "kendall": [0.4]}),
                                      sss)[0].iloc[0].tolist() == ["", ""]
    with pytest.raises(ValueError):
        analysis.compare_published(corr, pub.assign(metric="pearson"))


def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"[+-]\d+\.\d+", text)]


@pytest.mark.parametrize("setting", ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16", "sss-cifar10",
                                     "sss-cifar100", "sss-imagenet16", "nb101-cifar10"])
def test_committed_report_follows_from_the_data_file(published, setting):
    # the committed per-setting tables were written when the values were Python code; the data file must give the
    # same published cells, footnotes and (up to the CSV's 4-digit rounding of our rho) differences
    committed = pd.read_csv(BENCHMARKS / "results" / f"correlations_{setting}.csv", keep_default_na=False)
    corr = committed.assign(spearman=pd.to_numeric(committed["spearman"]),
                            kendall=pd.to_numeric(committed["kendall"]))
    cells, sources = analysis.compare_published(corr, published[published["setting"] == setting])
    assert cells["published"].tolist() == committed["published"].tolist()
    for ours, theirs in zip(cells["diff"], committed["diff"]):
        assert len(_numbers(ours)) == len(_numbers(theirs))
        assert all(abs(a - b) <= 0.0101 for a, b in zip(_numbers(ours), _numbers(theirs))), (ours, theirs)
    report = (BENCHMARKS / "results" / f"correlations_{setting}.md").read_text()
    footnotes = "\n".join(f"{k}. {text}" for k, text in enumerate(sources, start=1))
    assert footnotes in report


# ---------------------------------------------------------------------------------------------------------------
# the report on a small fake store: real ground truth, sample and published per-architecture score files, made-up
# indicator values, fixed published values and data description (so that edits of published_values.csv or of
# zeroscore.data's wording do not move it)

FAKE_SETTINGS = ["nb201-cifar10", "nb201-imagenet16", "nb101-cifar10"]
FAKE_INDICATORS = ["naswot", "synflow", "jacov", "params", "ntk_cond", "linear_regions", "zen"]
FAKE_N = 40  # architectures per setting ...
FAKE_N_SHORT = 25  # ... and for ntk_cond, a shorter complete prefix
FAKE_PUBLISHED = pd.DataFrame(
    [("nb201-cifar10", "naswot", "spearman", 0.79, "source A"),
     ("nb201-cifar10", "naswot", "kendall", 0.57, "source B"),
     ("nb201-cifar10", "synflow", "|spearman|", 0.74, "source C"),
     ("nb201-cifar10", "zen", "spearman", 0.10, "source A"),
     ("nb201-imagenet16", "jacov", "|spearman|", 0.70, "source C"),
     ("nb101-cifar10", "params", "spearman", 0.37, "source A")],
    columns=["setting", "indicator", "metric", "value", "source"])

#: sha256 of each file the report writes for the fake store, taken from the single-file script before it was split
#: into correlation_*.py modules. When the report is meant to change, read the new text (printed on failure) and
#: update the digest.
FAKE_REPORT_SHA256 = {
    "correlations_nb101-cifar10.csv": "f27b5c42351baec03cd6be9f85d59f1d6cfcd7ef2d07457301709f66fef9ced7",
    "correlations_nb101-cifar10.md": "f43b18dc5d0abdc1e46c4a3959258285f69854f3512d9014f21d07a020c39268",
    "correlations_nb201-cifar10.csv": "a72bbece0d344800c4aa2b1b07723af0d005fd6990a583abe962514cbe7158ca",
    "correlations_nb201-cifar10.md": "33975c8af12ebf1e81dbb33975813c0ac71fa8d868e37c70bcf2c6863206f39b",
    "correlations_nb201-imagenet16.csv": "0d6e8ae98764009a9336e535e56b668b6cb091a2fa57d5ea5647d25fc8429ace",
    "correlations_nb201-imagenet16.md": "aab3fbf2fb3ad48b9dc437166da88f767f597c75ebb83994ac70b8faed3ab193",
    "correlations_summary.csv": "fecf4ff7b77abab1486556e6aa895a53c93f8a1c50095e2722dc78aca7c27486",
    "correlations_summary.md": "3167bf66a6c2632fdcba9d5955172533b20a4c8cf5164e77c735aa7370a539d2",
    "correlations_summary.tex": "ff2a2e367b748881abb35eec2a615a6ef53e5f8a8eed1e9f8c48a291feed43ca",
}


def _fill_fake_store(path, bench_settings) -> None:
    """Rows of two runs (a CPU one and a GPU one for ntk_cond), a failing indicator, an infinite value and rows of
    an older parameter set that the report must leave out."""
    from zeroscore import spaces
    from zeroscore.ranking import higher_is_better
    from zeroscore.runner import plan_indicators
    from zeroscore.store import open_store

    with open_store(path) as store:
        cpu = store.start_run({"device": "cpu", "torch_version": "2.0-fake", "command": "fake cpu run"})
        gpu = store.start_run({"device": "cuda:0 (fake GPU)", "torch_version": "2.0-fake", "command": "fake gpu run"})
        for k, setting in enumerate(FAKE_SETTINGS):
            space_name, dataset, target = bench_settings.SETTINGS[setting]
            space = spaces.get(space_name)
            gt = bench_settings.truth_table(space, space_name)
            archs = bench_settings.arch_sample(space, setting, 1000, 0, gt)[:FAKE_N]
            acc = gt[target].reindex(archs).to_numpy(dtype=float)
            rng = np.random.default_rng(k)
            planned = plan_indicators(FAKE_INDICATORS, space)
            for i, arch in enumerate(archs):
                cpu_rows, gpu_rows = [], []
                for j, job in enumerate(planned):
                    if job.name == "ntk_cond" and i >= FAKE_N_SHORT:
                        continue
                    value = (acc[i] + rng.normal(0, 1 + 2 * j)) * (1 if higher_is_better(job.name) else -1)
                    error = None
                    if job.name == "zen" and i % 13 == 5:
                        value, error = math.nan, "ValueError: fake failure"
                    if job.name == "synflow" and i == 7:
                        value = math.inf
                    row = {"space": space_name, "arch": arch, "dataset": dataset, "batch_size": 64, "split": "train",
                           "seed": 0, "indicator": job.name, "params_hash": job.params_hash, "params": job.params,
                           "value": value, "seconds": 0.01 * (j + 1) + 0.001 * i, "error": error}
                    (gpu_rows if job.name == "ntk_cond" else cpu_rows).append(row)
                cpu_rows.append({**cpu_rows[0], "params_hash": "0ld0ld0ld0ld0ld0", "value": -1e9})
                store.add_rows(cpu_rows, run_id=cpu)
                if gpu_rows:
                    store.add_rows(gpu_rows, run_id=gpu)


def fake_report(repro, bench_settings, report_module, workdir: Path, monkeypatch) -> dict[str, str]:
    """The files ``reproduce_correlations.py --report-only`` writes for the fake store: name -> text."""
    import zeroscore.data

    monkeypatch.setattr(report_module, "load_published", lambda: FAKE_PUBLISHED.copy())
    monkeypatch.setattr(zeroscore.data, "describe", lambda dataset: f"{dataset} (fake description)")
    _fill_fake_store(workdir / "fake.sqlite", bench_settings)
    out = workdir / "results"
    argv = ["--report-only", "--settings", ",".join(FAKE_SETTINGS), "--indicators", ",".join(FAKE_INDICATORS),
            "--store", str(workdir / "fake.sqlite"), "--out", str(out), "--bootstrap", "50", "--no-plots",
            "--command-used", "reproduce_correlations.py --report-only (fake store)"]
    assert repro.main(argv) == 0
    return {p.name: p.read_text() for p in sorted(out.iterdir())}


def test_report_on_a_fake_store_is_unchanged(repro, bench_settings, data_root, tmp_path, monkeypatch):
    # data_root: the same-cells tables read the published per-architecture scores of the shared data folder
    written = fake_report(repro, bench_settings, importlib.import_module("correlation_report"), tmp_path, monkeypatch)
    assert sorted(written) == sorted(FAKE_REPORT_SHA256)
    for name, text in written.items():
        digest = hashlib.sha256(text.encode()).hexdigest()
        assert digest == FAKE_REPORT_SHA256[name], f"{name} changed (sha256 {digest}):\n{text}"
    # what the fake store is there to exercise
    c10 = written["correlations_nb201-cifar10.md"]
    assert "| zen | 37 | 3 |" in c10 and "0.79 [1], 0.57 (tau) [2]" in c10 and "0.74 (abs) [3]" in c10
    assert "25 rows on cuda:0 (fake GPU)" in c10 and "-1000000000" not in written["correlations_nb201-cifar10.csv"]
    assert "naswot (MONET file)" in c10 and "NASWOT v1 = jacov (BayesWatch file)" in c10
    assert "STAND-IN DATA" in written["correlations_nb201-imagenet16.md"]
    assert "(NASLib NB101 sample)" in written["correlations_nb101-cifar10.md"]
    assert "TE-NAS rank_sum(ntk_cond+linear_regions)" in written["correlations_summary.md"]
    assert "a separate CPU store holds them on larger samples of some settings" in written["correlations_summary.md"]


def test_reproduction_modules_stay_small(repro):
    # the script is a thin command line; the work is split by job (the project keeps modules under ~350 lines)
    for path in [SCRIPT, *BENCHMARKS.glob("correlation_*.py")]:
        assert len(path.read_text().splitlines()) <= 350, path
    assert len(SCRIPT.read_text().splitlines()) <= 150
    # benchmarks/az_inputs.py reads these from the script
    assert {"REPO", "SETTINGS", "_truth", "_arch_sample"} <= set(vars(repro))


def test_provenance_names_the_processor_of_cpu_rows(repro):
    report = importlib.import_module("correlation_report")
    runs = pd.DataFrame({"run_id": [1, 2, 3], "device": ["cpu", "cuda:0 (H100)", "cpu"],
                         "torch_version": ["2.13.0+cpu", "2.13.0", "2.13.0+cpu"], "command": ["c", "g", "c"],
                         "cpu": ["AMD EPYC 9R14", "Intel Xeon (the GPU's host)", None]})  # run 3: an older store
    scores = pd.DataFrame({"run_id": [1, 1, 2, 3]})
    prov = report._provenance(scores, runs).set_index("device")["rows"].to_dict()
    assert prov == {"cpu, AMD EPYC 9R14": 2, "cuda:0 (H100)": 1, "cpu": 1}


CPU_RESCORING = BENCHMARKS / "results" / "cpu_rescoring"
SIX = "ntk_cond,ntk_generalization,jacobian_isometry,block_isometry,gradsign,grasp"


@pytest.mark.parametrize("setting", ["nb201-cifar10", "nb201-cifar100"])
def test_committed_cpu_store_gives_the_committed_correlations(repro, data_root, tmp_path, setting):
    """The CPU top-up's store is committed (``cpu_rescoring/stores/``, so that a later machine resumes it instead of
    scoring from cell 0): the report on it gives the committed table's n and coefficients."""
    from zeroscore.store import open_store

    committed = pd.read_csv(CPU_RESCORING / f"correlations_{setting}.csv").set_index("indicator")
    n = int(committed["n"].max())
    with open_store(tmp_path / "store.sqlite") as store:
        assert store.merge(CPU_RESCORING / "stores" / f"{setting}.sqlite.gz") >= 6 * n
    argv = ["--report-only", "--settings", setting, "--indicators", SIX, "--expensive", SIX, "--core", "",
            "--n", str(n), "--n-expensive", str(n), "--store", str(tmp_path / "store.sqlite"),
            "--out", str(tmp_path), "--no-plots", "--bootstrap", "20"]
    assert repro.main(argv) == 0
    again = pd.read_csv(tmp_path / f"correlations_{setting}.csv").set_index("indicator").loc[committed.index]
    for column in ["n", "n_failed", "spearman", "kendall", "pearson", "top10"]:
        np.testing.assert_allclose(again[column], committed[column], atol=1e-4, err_msg=column)
