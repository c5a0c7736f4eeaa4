"""score_many, the SQLite store, resumption after SIGKILL / Ctrl-C, executors (threads, processes, Ray) and the
`zeroscore run` / `zeroscore correlate` command line."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import zeroscore
from zeroscore.errors import StoreError
from zeroscore.machine import cpu_model
from zeroscore.runner import plan_indicators, score_many
from zeroscore.store import load_runs, load_scores, open_store, params_hash

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
CHEAP = ["naswot", "ntk_cond"]


class ToySpace:
    """A tiny search space: the arch is a conv width (as a string). Has a thin network like NB201."""

    name = "toy"

    def canonical(self, arch):
        w = int(arch)
        if w < 1:
            raise ValueError(f"width must be >= 1, got {w}")
        return str(w)

    def build(self, arch, num_classes=10, seed=None):
        w = int(self.canonical(arch))
        if w == 13:
            raise RuntimeError("unlucky width")
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            return nn.Sequential(nn.Conv2d(3, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                 nn.Flatten(), nn.Linear(w, num_classes))

    def build_thin(self, arch, num_classes=10, seed=None):
        w = int(self.canonical(arch))
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed + w)
            return nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.BatchNorm2d(1), nn.ReLU(), nn.Conv2d(1, 1, 1),
                                 nn.BatchNorm2d(1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                 nn.Linear(1, num_classes))

    def sample(self, n, seed=0):
        return [str(w) for w in random.Random(seed).sample(range(1, 64), n)]


def _run(space, archs, tmp_path=None, name="s.sqlite", **kw):
    kw.setdefault("indicators", CHEAP)
    kw.setdefault("dataset", "gaussian")
    kw.setdefault("batch_size", 16)
    kw.setdefault("progress", False)
    store = None if tmp_path is None else tmp_path / name
    return score_many(space, archs, store=store, **kw)


# ---------------------------------------------------------------------------------------------------------------
# rows, store, resumption


def test_rows_columns_and_determinism(tmp_path):
    df = _run(ToySpace(), ["4", "8", "8", "16"], seeds=(0, 1))
    assert list(df.columns[:8]) == ["space", "arch", "dataset", "seed", "indicator", "value", "seconds", "error"]
    assert {"batch_size", "params_hash"} <= set(df.columns)
    assert len(df) == 3 * 2 * 2  # duplicates scored once
    assert df["error"].isna().all() and np.isfinite(df["value"]).all()
    assert (df["space"] == "toy").all() and (df["dataset"] == "gaussian").all()
    again = _run(ToySpace(), ["4", "8", "16"], seeds=(0, 1))
    pd.testing.assert_frame_equal(df.drop(columns="seconds"), again.drop(columns="seconds"))
    # seeds matter
    v = df.set_index(["arch", "seed", "indicator"])["value"]
    assert v[("8", 0, "ntk_cond")] != v[("8", 1, "ntk_cond")]


def test_store_resume_and_params_hash(tmp_path):
    first = _run(ToySpace(), ["4", "8"], tmp_path)
    with open_store(tmp_path / "s.sqlite") as st:
        assert st.count() == 4
        assert st.conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    # rerun: nothing recomputed, same frame back
    again = _run(ToySpace(), ["4", "8"], tmp_path)
    pd.testing.assert_frame_equal(first, again)
    runs = load_runs(tmp_path / "s.sqlite")
    assert list(runs["status"]) == ["finished", "finished"]
    assert list(runs["rows_written"]) == [4, 0]
    assert runs["torch_version"].iloc[0] == torch.__version__
    assert runs["zeroscore_version"].iloc[0] == zeroscore.__version__
    assert runs["cpu"].iloc[0] == cpu_model()  # rows from different machines can be told apart
    assert "gaussian" in runs["data"].iloc[0]
    # a new arch and a new indicator: only the missing rows are computed
    _run(ToySpace(), ["4", "8", "16"], tmp_path, indicators=CHEAP + ["linear_regions"])
    assert load_runs(tmp_path / "s.sqlite")["rows_written"].iloc[-1] == 3 + 2
    # a changed hyper-parameter is a new row, not an overwrite
    _run(ToySpace(), ["4"], tmp_path, indicators={"ntk_cond": {"repeats": 2}})
    all_rows = load_scores(tmp_path / "s.sqlite")
    ntk = all_rows[(all_rows["indicator"] == "ntk_cond") & (all_rows["arch"] == "4")]
    assert ntk["params_hash"].nunique() == 2
    assert json.loads(ntk["params"].iloc[0]) != json.loads(ntk["params"].iloc[1])
    assert not all_rows.duplicated(["arch", "seed", "indicator", "params_hash"]).any()
    # the hash is the one of the indicator's parameters
    ind = zeroscore.get_indicator("naswot")
    assert set(all_rows[all_rows["indicator"] == "naswot"]["params_hash"]) == {params_hash(ind.get_params())}
    # a different batch spec is a different row set
    _run(ToySpace(), ["4"], tmp_path, batch_size=8)
    assert len(load_scores(tmp_path / "s.sqlite", batch_size=8)) == 2


def test_add_rows_is_atomic(tmp_path):
    rows = _run(ToySpace(), ["4"]).to_dict("records")
    broken = [dict(rows[0]), {k: v for k, v in rows[1].items() if k != "indicator"}]  # 2nd row malformed
    with open_store(tmp_path / "a.sqlite") as st:
        with pytest.raises(KeyError):
            st.add_rows(broken)
        assert st.count() == 0  # nothing of the architecture was written
        assert st.add_rows(rows) == 2
        assert st.add_rows(rows) == 0  # existing keys are left alone


def test_failures_are_rows_not_crashes(tmp_path):
    df = _run(ToySpace(), ["4", "13"], tmp_path)  # width 13 fails to build
    bad = df[df["arch"] == "13"]
    assert len(bad) == 2 and bad["value"].isna().all()
    assert bad["error"].str.contains("build failed: RuntimeError: unlucky width").all()
    back = load_scores(tmp_path / "s.sqlite")
    assert back[back["arch"] == "13"]["value"].isna().all()  # NULL in SQLite -> NaN
    assert back[back["arch"] == "4"]["error"].isna().all()


def test_forget_failed_then_rerun_recomputes_only_those(tmp_path):
    _run(ToySpace(), ["4", "13"], tmp_path)
    with open_store(tmp_path / "s.sqlite") as st:
        assert st.forget_failed("no such text") == 0
        assert st.forget_failed("unlucky") == 2  # both rows of the unbuildable arch
        assert st.count() == 2
    df = _run(ToySpace(), ["4", "13"], tmp_path)  # resumes: arch 13 again, arch 4 untouched
    assert len(df) == 4 and df[df["arch"] == "13"]["error"].notna().all()
    assert len(load_runs(tmp_path / "s.sqlite")) == 2


def test_merge_stores_from_two_machines(tmp_path):
    a = _run(ToySpace(), ["4", "5"], tmp_path, name="a.sqlite")
    _run(ToySpace(), ["5", "6"], tmp_path, name="b.sqlite", run_info={"command": "machine b"})
    with open_store(tmp_path / "m.sqlite") as st:
        assert st.merge(tmp_path / "a.sqlite") == 4
        assert st.merge(tmp_path / "b.sqlite") == 2  # arch 5 is already there: kept as it was
        assert st.merge(tmp_path / "b.sqlite") == 0
    with open_store(tmp_path / "b.sqlite") as st:  # stores travel compressed: a .gz backup merges the same
        packed = st.backup(tmp_path / "b.sqlite.gz")
    with open_store(tmp_path / "from_gz.sqlite") as st:
        assert st.merge(tmp_path / "a.sqlite") == 4 and st.merge(packed) == 2
    pd.testing.assert_frame_equal(load_scores(tmp_path / "from_gz.sqlite").drop(columns="run_id"),
                                  load_scores(tmp_path / "m.sqlite").drop(columns="run_id"))
    (tmp_path / "cut.sqlite.gz").write_bytes(packed.read_bytes()[:100])
    with open_store(tmp_path / "m.sqlite") as st, pytest.raises(StoreError, match="cannot unpack .*cut.sqlite.gz"):
        st.merge(tmp_path / "cut.sqlite.gz")
    merged = load_scores(tmp_path / "m.sqlite")
    assert sorted(set(merged["arch"])) == ["4", "5", "6"] and len(merged) == 6
    runs = load_runs(tmp_path / "m.sqlite").set_index("run_id")
    six = merged[merged["arch"] == "6"]
    assert (runs.loc[six["run_id"], "command"] == "machine b").all()  # rows point to their re-numbered run
    five = merged[merged["arch"] == "5"].sort_values("indicator")
    assert five["value"].tolist() == a[a["arch"] == "5"].sort_values("indicator")["value"].tolist()


def test_thin_linear_regions_protocol():
    space = ToySpace()
    thin, = plan_indicators(["linear_regions"], space, thin_linear_regions=True)
    full, = plan_indicators(["linear_regions"], space, thin_linear_regions=False)
    assert thin.thin and not full.thin and thin.params_hash != full.params_hash
    assert json.loads(thin.params)["network"] == "thin" and json.loads(thin.params)["channels"] == 1
    assert thin.indicator.channels == 1 and full.indicator.channels is None
    small = {"linear_regions": {"batch_size": 50, "n_batches": 1}}
    a = _run(space, ["4", "32"], indicators=small)
    b = _run(space, ["4", "32"], indicators=small, thin_linear_regions=False)
    assert a["error"].isna().all() and b["error"].isna().all()
    assert set(a["params_hash"]).isdisjoint(set(b["params_hash"]))
    # thin network: few regions; the 32-wide full network sees many more
    assert a["value"].max() < b.set_index("arch")["value"]["32"]


def test_executor_matches_serial_and_tasks_pickle(tmp_path):
    archs = ["3", "5", "7"]
    serial = _run(ToySpace(), archs, seeds=(0, 1))
    with ThreadPoolExecutor(2) as ex:
        threads = _run(ToySpace(), archs, tmp_path, "t.sqlite", seeds=(0, 1), executor=ex)
    pd.testing.assert_frame_equal(serial.drop(columns="seconds"), threads.drop(columns="seconds"), rtol=1e-6)
    # what a process pool / Ray ships: the top-level function, the settings and an arch id -- no module
    import pickle

    from zeroscore.runner import Job, score_task

    job = Job(space=ToySpace(), space_name="toy", dataset="gaussian", batch_size=16, split="train", root=None,
              device=None, indicators=tuple(plan_indicators(CHEAP, ToySpace())), num_classes=10)
    fn, job2, arch = pickle.loads(pickle.dumps((score_task, job, "5")))
    rows = fn(job2, arch, 1)
    expected = serial[(serial["arch"] == "5") & (serial["seed"] == 1)]
    assert [r["value"] for r in rows] == pytest.approx(list(expected["value"]), rel=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# killed and interrupted runs

_SCRIPT = """
import sys, time
sys.path.insert(0, {tests!r})
import torch
torch.set_num_threads(1)
from test_runner import ToySpace
from zeroscore.runner import score_many

class SlowToy(ToySpace):
    def build(self, arch, num_classes=10, seed=None):
        time.sleep(0.1)
        return super().build(arch, num_classes, seed)

archs = [str(w) for w in range(2, 2 + {n})]
try:
    score_many(SlowToy(), archs, indicators={inds!r}, dataset="gaussian", batch_size=8, store={store!r},
               seeds=(0, 1), progress=False)
except KeyboardInterrupt:
    print("INTERRUPTED", flush=True)
    sys.exit(130)
print("DONE", flush=True)
"""


_FAST = {"naswot": {}, "params": {}, "linear_regions": {"batch_size": 100, "n_batches": 1}}


def _script(tmp_path, store, n, inds=None):
    path = tmp_path / "job.py"
    path.write_text(_SCRIPT.format(tests=str(TESTS), n=n, inds=dict(inds or _FAST), store=str(store)))
    return [sys.executable, str(path)]


def _counts(store):
    con = sqlite3.connect(store, timeout=30)
    try:
        total = con.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
        per = con.execute("SELECT arch, seed, COUNT(*), COUNT(DISTINCT indicator) FROM scores "
                          "GROUP BY arch, seed").fetchall()
        dupes = con.execute("SELECT COUNT(*) FROM (SELECT 1 FROM scores GROUP BY space, arch, dataset, batch_size, "
                            "split, seed, indicator, params_hash HAVING COUNT(*) > 1)").fetchone()[0]
    finally:
        con.close()
    return total, per, dupes


def _wait_for_rows(store, proc, minimum, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"job ended early: {proc.communicate()}")
        if store.exists():
            try:
                if _counts(store)[0] >= minimum:
                    return
            except sqlite3.OperationalError:
                pass  # schema not created yet
        time.sleep(0.05)
    raise AssertionError("no rows appeared in time")


def _assert_whole_archs(store, n_ind):
    total, per, dupes = _counts(store)
    assert dupes == 0
    assert all(c == n_ind and d == n_ind for _, _, c, d in per), "a partial architecture was stored"
    return total


def test_ctrl_c_then_sigkill_then_resume(tmp_path):
    """Ctrl-C stops after the current architecture; SIGKILL mid-run leaves only whole architectures; a rerun
    completes the store with every row exactly once."""
    store = tmp_path / "job.sqlite"
    n, n_ind, n_seeds = 20, 3, 2
    cmd = _script(tmp_path, store, n)
    # 1. Ctrl-C
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_rows(store, proc, minimum=2 * n_ind)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "INTERRUPTED" in out and "stopping after the current architecture" in err
    after_int = _assert_whole_archs(store, n_ind)
    assert 0 < after_int < n * n_ind * n_seeds
    assert load_runs(store)["status"].iloc[-1] == "interrupted"
    # 2. resume, then SIGKILL mid-run
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_rows(store, proc, minimum=after_int + 3 * n_ind)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    after_kill = _assert_whole_archs(store, n_ind)
    assert after_int < after_kill < n * n_ind * n_seeds, "the kill should land mid-run"
    # 3. restart: finishes, every row present exactly once
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _assert_whole_archs(store, n_ind) == n * n_ind * n_seeds
    assert len(_counts(store)[1]) == n * n_seeds
    # the killed run never got to say it finished
    assert list(load_runs(store)["status"]) == ["interrupted", "running", "finished"]


# ---------------------------------------------------------------------------------------------------------------
# Ray


def test_ray_matches_serial(tmp_path, data_root):
    import ray  # a test dependency: missing is a failure, not a skip

    from zeroscore import spaces

    archs = spaces.get("nb201").sample(3, seed=1)
    kw = dict(indicators=["naswot", "params"], dataset="cifar10", batch_size=16, seeds=(0,), progress=False)
    serial = score_many("nb201", archs, **kw)
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = score_many("nb201", archs, store=tmp_path / "ray.sqlite", executor="ray", **kw)
    finally:
        if started:
            ray.shutdown()
    assert remote["error"].isna().all()
    pd.testing.assert_frame_equal(serial.drop(columns="seconds"), remote.drop(columns="seconds"), rtol=1e-6)
    assert load_runs(tmp_path / "ray.sqlite")["executor"].iloc[0] == "ray"


# ---------------------------------------------------------------------------------------------------------------
# CLI


def _cli(*args, **kw):
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.run([sys.executable, "-m", "zeroscore", *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=str(REPO), **kw)


def test_cli_run_and_correlate(tmp_path, data_root, capsys):
    store = tmp_path / "cli.sqlite"
    r = _cli("run", "--space", "nb201", "--sample", "5", "--seed", "0", "--dataset", "cifar10",
             "--indicators", "naswot,params", "--store", str(store), "--batch-size", "16", "--no-progress",
             "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert "naswot" in r.stdout
    scores = load_scores(store)
    assert len(scores) == 10 and scores["arch"].nunique() == 5
    assert "zeroscore run" in load_runs(store)["command"].iloc[0]

    md = _cli("correlate", str(store), "--target", "cifar10_test_acc", "--format", "md", "--bootstrap", "50",
              "--ensemble", "log_rank", "--plots", str(tmp_path / "plots"))
    assert md.returncode == 0, md.stderr
    assert "| indicator |" in md.stdout and "naswot" in md.stdout and "log_rank(naswot+params)" in md.stdout
    assert (tmp_path / "plots" / "scores_vs_cifar10_test_acc.png").stat().st_size > 1000
    assert (tmp_path / "plots" / "indicator_spearman.png").stat().st_size > 1000

    # the other formats and a resumed run, in-process (same code path as the command line)
    from zeroscore.cli import main

    assert main(["correlate", str(store), "--format", "latex", "--bootstrap", "0"]) == 0
    tex = capsys.readouterr().out
    assert r"\begin{tabular}" in tex and "cifar10\\_test\\_acc" in tex
    assert main(["correlate", str(store), "--format", "csv", "--bootstrap", "0", "--metric", "spearman"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "indicator,cifar10_test_acc"
    assert main(["run", "--space", "nb201", "--sample", "5", "--seed", "0", "--dataset", "cifar10", "--indicators",
                 "naswot,params", "--store", str(store), "--batch-size", "16", "--no-progress"]) == 0
    assert load_runs(store)["rows_written"].iloc[-1] == 0  # everything was already there


def test_process_pool_reproduces_the_serial_run_exactly(tmp_path):
    """Every task computes with the run's thread count (recorded in the store), so workers give the serial values."""
    archs = ["3", "5"]
    serial = _run(ToySpace(), archs)
    pooled = _run(ToySpace(), archs, tmp_path, executor="process:1")
    pd.testing.assert_frame_equal(serial.drop(columns="seconds"), pooled.drop(columns="seconds"), rtol=0, atol=0)
    runs = load_runs(tmp_path / "s.sqlite")
    assert runs["task_threads"].iloc[0] == torch.get_num_threads()


@pytest.mark.parametrize("text, model", [
    ("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 17\nmodel name\t: AMD EPYC  9R14 96-Core\n",
     "AMD EPYC 9R14 96-Core"),
    ("processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n", None),  # an ARM kernel that names no model
    ("processor\t: 0\nmodel\t\t: IBM,9080-HEX\n", "IBM,9080-HEX"),
])
def test_cpu_model_reads_the_model_name(tmp_path, text, model):
    import platform

    info = tmp_path / "cpuinfo"
    info.write_text(text)
    assert cpu_model(info) == (model or platform.processor() or platform.machine())
    assert cpu_model(tmp_path / "missing") == (platform.processor() or platform.machine())
