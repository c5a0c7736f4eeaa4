"""End-to-end runs of the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run_cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zeroscore", *args], capture_output=True, text=True, timeout=timeout)


def test_list_prints_every_indicator():
    import zeroscore

    out = run_cli("list")
    assert out.returncode == 0, out.stderr
    for name in zeroscore.list_indicators():
        assert name in out.stdout
    rows = json.loads(run_cli("list", "ntk*", "--json").stdout)
    assert {r["name"] for r in rows} == set(zeroscore.list_indicators("ntk*"))
    assert all(r["direction"] in ("higher", "lower") for r in rows)


def test_score_a_factory_model_as_json():
    out = run_cli("score", "--model", "zeroscore.models:mlp", "--dataset", "gaussian", "--batch-size", "16",
                  "--indicators", "naswot,ntk_cond,jacobian_isometry", "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert set(payload["values"]) == {"naswot", "ntk_cond", "jacobian_isometry"}
    assert "Gaussian" in payload["data"] or "gaussian" in payload["data"]


def test_score_on_real_cifar10_prints_a_table(data_root):
    out = run_cli("score", "--model", "zeroscore.models:small_resnet", "--model-kwargs", '{"width": 4}',
                  "--dataset", "cifar10", "--data", str(data_root), "--batch-size", "16", "--indicators", "naswot")
    assert out.returncode == 0, out.stderr
    assert "naswot" in out.stdout and "real images" in out.stdout


def test_bad_model_spec_is_a_clear_error():
    out = run_cli("score", "--model", "zeroscore.models:no_such_factory")
    assert out.returncode != 0 and "no_such_factory" in out.stderr


def test_unknown_indicator_on_the_command_line():
    out = run_cli("score", "--model", "zeroscore.models:mlp", "--indicators", "naswto", "--batch-size", "4")
    assert out.returncode != 0 and "naswot" in out.stderr


# ---------------------------------------------------------------------------------------------------------------
# conventions: one-line errors with exit 2, help and defaults everywhere, a fast `list`


def _main(capsys, *args):
    from zeroscore.cli import main

    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_version_and_help_are_fast_and_torch_free():
    code = ("import sys; from zeroscore.cli import main\n"
            "for argv in (['list'], ['list', '--spaces'], ['list', '--datasets']):\n"
            "    assert main(argv) == 0\n"
            "for argv in (['--help'], ['run', '--help'], ['search', '--help'], ['score', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit as e:\n        assert e.code == 0\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("NO-TORCH")
    version = run_cli("--version")
    import zeroscore

    assert version.returncode == 0 and zeroscore.__version__ in version.stdout


def test_every_option_has_help_and_shows_its_default():
    import argparse

    from zeroscore.cli import COMMANDS, build_parser

    for command in COMMANDS:
        parser = build_parser(command)
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
        parsers = [sub]
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers += list(action.choices.values())
        assert sub.description, command
        for p in parsers:
            text = " ".join(p.format_help().split())
            for action in p._actions:
                if action.dest in ("help",) or action.help == argparse.SUPPRESS:
                    continue
                assert action.help, (command, action.dest)
                if action.default not in (None, False, argparse.SUPPRESS) and action.option_strings:
                    assert "default" in (action.help or "") or f"(default: {action.default})" in text, \
                        (command, action.dest)


def test_listings_match_the_registries(capsys):
    from zeroscore import data, spaces
    from zeroscore.cli.listing import DATASETS, SPACES

    assert sorted(r["name"] for r in SPACES) == spaces.list_spaces()
    assert sorted(r["name"] for r in DATASETS) == sorted(data.DATASETS)
    code, out, _ = _main(capsys, "list", "--spaces")
    assert code == 0 and "nats_sss" in out and "thin network" in out
    for name in spaces.list_spaces():
        assert (spaces.get(name).has_thin()) == (next(r for r in SPACES if r["name"] == name)["thin network"] == "yes")


def test_indicator_catalog_is_generated_from_the_registry():
    from zeroscore.cli.listing import CATALOG
    from zeroscore.indicators._doc import catalog_json

    assert CATALOG.read_text() == catalog_json(), "regenerate with `python -m zeroscore.indicators._doc`"


@pytest.mark.parametrize("argv, needle", [
    (["score", "--model", "zeroscore.models:mlp", "--indicators", "naswto"], "zeroscore list"),
    (["score", "--model", "zeroscore.models:mlp", "--dataset", "imagenet32"], "unknown dataset"),
    (["score", "--model", "zeroscore.models:mlp", "--indicators", "naswot", "--params", '{"ntk_cond": {}}'],
     "not among the requested"),
    (["score", "--model", "zeroscore.models:no_such_factory"], "no attribute 'no_such_factory'"),
    (["score", "--model", "nomodule_xyz:f"], "cannot import"),
    (["run", "--space", "nb999", "--sample", "2", "--store", "x.sqlite"], "unknown space"),
    (["correlate", "no_such_store.sqlite"], "no score store"),
    (["search", "--space", "nb201", "--method", "random", "--dataset", "nope", "--budget", "1"], "unknown dataset"),
])
def test_known_mistakes_are_one_line_errors_with_exit_2(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _main(capsys, *argv)
    assert code == 2, (code, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("zeroscore: error: "), err
    assert needle in lines[0], err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, option", [
    (["run", "--space", "nb201", "--sample", "2", "--store", "x.sqlite", "--seeds", "0,x"], "--seeds"),
    (["run", "--space", "nb201", "--sample", "2", "--store", "x.sqlite", "--params", "{bad"], "--params"),
    (["score", "--model", "zeroscore.models:mlp", "--model-kwargs", "[1, 2]"], "--model-kwargs"),
    (["score", "--model", "zeroscore.models:mlp", "--seed", "-3"], "--seed"),
    (["search", "--tournament-size", "0"], "--tournament-size"),
])
def test_malformed_options_name_the_option(argv, option, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _main(capsys, *argv)
    assert code == 2 and option in err and "Traceback" not in err, err


def test_missing_data_is_an_error_with_the_fix(capsys, tmp_path):
    code, _, err = _main(capsys, "score", "--model", "zeroscore.models:mlp", "--dataset", "cifar10", "--data",
                         str(tmp_path), "--indicators", "naswot")
    assert code == 2 and "cifar-10-python.tar.gz" in err and len(err.strip().splitlines()) == 1, err


def test_debug_shows_the_traceback(capsys):
    from zeroscore.cli import main
    from zeroscore.errors import UnknownIndicatorError

    with pytest.raises(UnknownIndicatorError):
        main(["score", "--debug", "--model", "zeroscore.models:mlp", "--indicators", "naswto"])


def test_model_from_the_working_directory(capsys, tmp_path, monkeypatch):
    (tmp_path / "mymodels_cwd.py").write_text(
        "import torch.nn as nn\n\ndef tiny():\n    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 8), "
        "nn.ReLU(), nn.Linear(8, 10))\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = _main(capsys, "score", "--model", "mymodels_cwd:tiny", "--indicators", "naswot,params",
                           "--batch-size", "8", "--no-progress")
    assert code == 0, err
    assert "higher is better" in out and "naswot" in out
    assert "gaussian" in out.lower()  # says which inputs it used


def test_data_check_on_an_empty_location(capsys, tmp_path):
    code, out, _ = _main(capsys, "data", "check", "--data", str(tmp_path))
    assert code == 0 and str(tmp_path) in out and "missing" in out and "shipped" in out


def test_demo_runs_with_an_empty_data_location(tmp_path):
    env = {**os.environ, "ZEROSCORE_DATA": str(tmp_path), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "zeroscore", "demo", "--cells", "3", "--batch-size", "8"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "Gaussian inputs" in out.stdout and "cifar-10-python.tar.gz" in out.stdout
    assert "Spearman rank correlation" in out.stdout and "shipped" in out.stdout


def _fake_store(path, space: str) -> None:
    from zeroscore.store import open_store

    rows = [{"space": space, "arch": f"a{i}", "dataset": "cifar10", "batch_size": 4, "split": "train", "seed": 0,
             "indicator": "params", "params_hash": "h", "params": "{}", "value": float(i), "seconds": 0.0,
             "error": None} for i in range(4)]
    with open_store(path) as st:
        st.add_rows(rows)


def test_correlate_mistakes_name_the_fix(capsys, tmp_path):
    darts = tmp_path / "darts.sqlite"
    _fake_store(darts, "darts")
    code, _, err = _main(capsys, "correlate", str(darts))
    assert code == 2 and "no benchmark table" in err, err
    nb201 = tmp_path / "nb201.sqlite"
    _fake_store(nb201, "nb201")
    code, _, err = _main(capsys, "correlate", str(nb201), "--indicators", "nope")
    assert code == 2 and "nope" in err and "stored: params" in err, err
    code, _, err = _main(capsys, "correlate", str(nb201), "--target", "no_such_column")
    assert code == 2 and "no_such_column" in err and "cifar10_test_acc" in err, err


def test_capability_and_device_mistakes_are_one_line_errors(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _main(capsys, "run", "--space", "darts", "--all", "--store", "x.sqlite")
    assert code == 2 and "not enumerable" in err and "Traceback" not in err, err
    import torch

    if not torch.cuda.is_available():
        code, _, err = _main(capsys, "score", "--model", "zeroscore.models:mlp", "--indicators", "params",
                             "--device", "cuda")
        assert code == 2 and "no CUDA device" in err, err


# ---------------------------------------------------------------------------------------------------------------
# weight-sharing search (zeroscore.oneshot)


def test_weight_sharing_search_prints_the_cell_its_cost_and_three_accuracies(data_root, tmp_path):
    args = ["search", "--space", "nb201", "--method", "darts", "--dataset", "cifar10", "--epochs", "1",
            "--channels", "4", "--cells", "1", "--batch-size", "512", "--data", str(data_root),
            "--checkpoint", str(tmp_path / "ck"), "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "zeroscore", *args, "--json"], capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["arch"].count("~") == 6 and record["epochs"] == 1 and record["images_seen"] == 2 * 2541
    assert set(record["accuracy"]) == {"cifar10", "cifar100", "imagenet16"}
    assert all(0 < acc < 100 for acc in record["accuracy"].values())
    assert "cifar-split.txt" in record["data"]
    again = subprocess.run([sys.executable, "-m", "zeroscore", *args], capture_output=True, text=True, env=env,
                           timeout=600)  # the finished checkpoint: no training, same cell
    assert again.returncode == 0, again.stderr
    assert record["arch"] in again.stdout and "resumed at epoch 1" in again.stdout
    assert "images seen" in again.stdout and again.stdout.count("accuracy:") == 3


def test_weight_sharing_mistakes_are_one_line_errors(capsys, tmp_path):
    wrong = tmp_path / "split.txt"
    wrong.write_text(json.dumps({"xvalid": ["int", ["0"]], "xtest": ["int", ["1"]]}))
    code, _, err = _main(capsys, "search", "--method", "nasp", "--dataset", "cifar10", "--split-file", str(wrong))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "does not match dataset 'cifar10'" in err, err
    code, _, err = _main(capsys, "search", "--method", "gdas", "--epochs", "0")
    assert code == 2 and "--epochs" in err and "Traceback" not in err
    code, _, err = _main(capsys, "search", "--method", "dartz")
    assert code == 2 and "dartz" in err and "rf_darts" in err
