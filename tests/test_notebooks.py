"""The example notebooks run top to bottom (with a small N) and produce their tables and plots."""

from __future__ import annotations

import os
import re
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _run_notebook(name: str, tmp_path: Path, **params):
    import nbclient  # test extras: a missing one must fail, not skip
    import nbformat

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "code", "the first cell holds the parameters"
    for key, value in params.items():
        first.source, count = re.subn(rf"^{key} = .*$", f"{key} = {value!r}", first.source, flags=re.M)
        assert count == 1, f"parameter {key} not found in the first cell"
    env_threads = os.environ.get("OMP_NUM_THREADS")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
    finally:
        if env_threads is None:
            os.environ.pop("OMP_NUM_THREADS", None)
    return nb


def _outputs(nb) -> str:
    text = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text.append(out.get("text", ""))
            for v in out.get("data", {}).values():
                text.append(v if isinstance(v, str) else "")
    return "\n".join(text)


def test_score_your_model_notebook(tmp_path, data_root):
    nb = _run_notebook("01_score_your_model.ipynb", tmp_path, N=3)
    out = _outputs(nb)
    assert "rank of my_cnn among 4 networks" in out
    assert "naswot" in out


def test_reproduce_nb201_table_notebook(tmp_path, data_root):
    nb = _run_notebook("02_reproduce_nb201_table.ipynb", tmp_path, N=5, BOOTSTRAP=20,
                       INDICATORS=["naswot", "params"])
    out = _outputs(nb)
    assert "| indicator | cifar10 / spearman" in out
    assert "log_rank(all)" in out
    assert (tmp_path / "runs" / "nb201_table.sqlite").exists()
    assert (tmp_path / "runs" / "nb201_c10_grid.png").stat().st_size > 1000
    assert (tmp_path / "runs" / "nb201_c10_heatmap.png").stat().st_size > 1000


def test_search_notebook(tmp_path, data_root):
    nb = _run_notebook("03_search.ipynb", tmp_path, BUDGET=4, PRUNE_REPEATS=1, PRUNE_BATCH=4, OPTUNA_TRIALS=3,
                       DATASET="imagenet16_standin")
    out = _outputs(nb)
    assert "random: |" in out and "evolve" in out and "prune" in out and "architectures scored" in out
