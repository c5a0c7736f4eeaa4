"""Every indicator whose reference algorithm follows the same protocol gives the reference's value.

The references are the plain loops of ``benchmarks/reference_algorithms.py`` (what the speed benchmark times
zeroscore against); zeroscore's shared passes, vectorised routes and cached features must not change a value.
A sequential network with BatchNorm in train mode and an NB201 cell against the references; every indicator's
value unchanged by ``F.relu`` calls, a frozen layer and eval mode on a network with tied weights.
"""

from __future__ import annotations

import copy
import math
import os

import pytest
import torch
from conftest import BENCHMARKS
from conftest import load_benchmark as _load
from torch import nn

import zeroscore
from zeroscore._cpu_routes import faster_pooling

REFERENCES = _load("reference_algorithms").REFERENCES
SAME_PROTOCOL = sorted(_load("speed_references").SAME_PROTOCOL)


class _TiedNet(nn.Module):
    """Two conv stages with BatchNorm and a tied pair of 1x1 convolutions; ReLU by ``F.relu`` calls or by modules."""

    def __init__(self, functional: bool):
        super().__init__()
        self.functional = functional
        self.stem = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.mix_a = nn.Conv2d(6, 6, 1)
        self.mix_b = nn.Conv2d(6, 6, 1)
        self.mix_b.weight = self.mix_a.weight
        self.bn2 = nn.BatchNorm2d(6)
        self.head = nn.Linear(6, 4)
        self.relus = nn.ModuleList([nn.ReLU() for _ in range(3)])

    def relu(self, i, h):
        return torch.nn.functional.relu(h) if self.functional else self.relus[i](h)

    def forward(self, x):
        h = self.relu(0, self.bn(self.stem(x)))
        h = self.relu(2, self.bn2(self.mix_b(self.relu(1, self.mix_a(h)))))
        return self.head(h.mean(dim=(2, 3)))


def _batch(n: int = 8, size: int = 8):
    g = torch.Generator().manual_seed(3)
    return torch.randn(n, 3, size, size, generator=g), torch.randint(0, 4, (n,), generator=g)


def _models():
    torch.manual_seed(0)
    sequential = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                               nn.Conv2d(6, 8, 3, padding=1, stride=2), nn.BatchNorm2d(8), nn.ReLU(),
                               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    space = zeroscore.spaces.get("nb201")
    arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|skip_connect~2|"
    cell = space.build(arch, num_classes=4, seed=0)
    return {"sequential_bn": sequential, "nb201_cell": cell}


@pytest.mark.parametrize("kind", ["sequential_bn", "nb201_cell"])
@pytest.mark.parametrize("name", SAME_PROTOCOL)
def test_indicator_equals_its_reference_algorithm(name, kind):
    model = _models()[kind]
    x, y = _batch(size=8 if kind == "sequential_bn" else 16)
    ours = zeroscore.score(model, x, y, indicators=[name], seed=0)
    assert ours.errors.get(name) is None, ours.errors.get(name)
    torch.manual_seed(0)
    # on the probe's kernels: its copy pools by depthwise convolution, whose float32 rounding differs from
    # avg_pool2d's (equal to it as an op: tests/test_cpu_routes.py), and ZiCo's ratios of per-weight mean to standard
    # deviation over 16 samples move by 1e-4 with such rounding (float32 against float64: 5e-4)
    same_kernels = copy.deepcopy(model)
    faster_pooling(same_kernels)
    reference = REFERENCES[name](same_kernels, x, y)
    value = ours[name]
    if math.isinf(reference) or math.isinf(value):
        assert value == reference
    else:
        assert value == pytest.approx(reference, rel=1e-4, abs=1e-6)


#: indicators that read every module's output (MeCo) or every block's (AZ-NAS), as their references do: there, a
#: ReLU module is one more feature map by definition, so the module network scores differently
READS_MODULE_OUTPUTS = {"meco", "meco_opt", "az_expressivity", "az_progressivity", "az_trainability"}


@pytest.mark.parametrize("name", sorted(set(zeroscore.list_indicators()) - READS_MODULE_OUTPUTS))
def test_relu_calls_frozen_layers_and_eval_mode_do_not_change_values(name):
    """The same weights scored as given (``F.relu`` calls, a frozen stem, eval mode) and as a plain module
    network (``nn.ReLU`` modules, everything trainable, train mode) give the same value."""
    torch.manual_seed(0)
    functional = _TiedNet(functional=True)
    modular = _TiedNet(functional=False)
    modular.load_state_dict(functional.state_dict())
    modular.mix_b.weight = modular.mix_a.weight
    functional.stem.requires_grad_(False)
    functional.eval()
    x, y = _batch()
    a = zeroscore.score(functional, x, y, indicators=[name], seed=0)
    b = zeroscore.score(modular, x, y, indicators=[name], seed=0)
    assert (a.errors.get(name) is None) == (b.errors.get(name) is None), (a.errors, b.errors)
    if a.errors.get(name) is None:
        assert a[name] == pytest.approx(b[name], rel=1e-6, abs=1e-9) or (math.isinf(a[name]) and a[name] == b[name])


@pytest.fixture
def benchmark_main(monkeypatch):
    """A benchmark's ``main`` sets torch's thread count (and, on import, ``OMP_WAIT_POLICY``): both are put back
    after the test, so the rest of the session runs as before."""
    threads = torch.get_num_threads()
    monkeypatch.setenv("OMP_WAIT_POLICY", os.environ.get("OMP_WAIT_POLICY", ""))  # restored (or removed) after
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as when run as a script: its sibling modules import
    yield
    torch.set_num_threads(threads)


def test_ntk_routes_benchmark_runs_and_every_exact_route_is_the_same_jacobian(data_root, tmp_path, benchmark_main):
    """``benchmarks/ntk_routes.py`` end to end on one cell at a tiny batch: every exact route gives TE-NAS's
    Jacobian to float32 precision, the frozen-statistics approximation does not (it is another matrix)."""
    routes = _load("ntk_routes")
    out = tmp_path / "routes.md"
    assert routes.main(["--cells", "1", "--batch-size", "4", "--threads", "1", "--out", str(out)]) == 0
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in out.read_text().splitlines()
            if line.startswith("| ") and line.split(" | ")[0].strip("| ") in routes.ROUTES}
    assert set(rows) == set(routes.ROUTES)
    assert "Per cell" in out.read_text()
    for route, cells in rows.items():
        error = float(cells[3])
        assert (error > 1e-2) if "approximation" in route else (error < 1e-3), (route, error)


def test_pooling_routes_benchmark_runs_and_writes_every_row(data_root, tmp_path, benchmark_main):
    """``benchmarks/pooling_routes.py`` end to end with one repeat and one small NB101 network: a row per pooling
    op (the benchmark itself checks that each route's output is the native one) and the network row."""
    pooling = _load("pooling_routes")
    out = tmp_path / "pooling.md"
    pooling.main(["--repeats", "1", "--cells", "1", "--stem-channels", "16", "--batch-size", "4",
                  "--repeats-network", "1", "--threads", "1", "--out", str(out)])
    text = out.read_text()
    table = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(table) == len(pooling.OPS) + 1
    assert all(float(line.rstrip(" |").split(" | ")[-1]) > 0 for line in table)
    assert "Machine: " in text and "logical cores" in text


class _CountingNet(nn.Module):
    """Counts its forward calls in a list its private copies share."""

    def __init__(self, calls: list):
        super().__init__()
        self.body = _TiedNet(functional=False)
        self.calls = calls

    def __deepcopy__(self, memo):
        new = _CountingNet.__new__(_CountingNet)
        memo[id(self)] = new
        new.__dict__.update({k: v if k == "calls" else copy.deepcopy(v, memo) for k, v in self.__dict__.items()})
        return new

    def forward(self, x):
        self.calls.append(1)
        return self.body(x)


@pytest.mark.parametrize("names, passes", [
    (["grad_norm", "snip", "plain", "fisher"], 1),  # one forward/backward for all four, whatever the order
    (["fisher", "plain", "snip", "grad_norm"], 1),
    (["grad_norm", "snip", "plain"], 1),  # without fisher: the plain pass, still shared
    (["grad_norm"], 1),
])
def test_loss_gradient_indicators_share_one_pass(names, passes):
    x, y = _batch()
    calls: list = []
    torch.manual_seed(0)
    model = _CountingNet(calls)
    together = zeroscore.score(model, x, y, indicators=names, seed=0)
    assert len(calls) == passes, calls
    for name in names:  # the same values as each scored alone
        assert together[name] == zeroscore.score(model, x, y, indicators=[name], seed=0)[name]


def test_speed_against_references_runs_end_to_end(data_root, tmp_path, benchmark_main):
    """``speed.py --against-references`` on a tiny batch: the table, the like-for-like total, equal values."""
    speed = _load("speed")
    out = tmp_path / "speed.md"
    assert speed.main(["--against-references", "--cells", "1", "--batch-size", "4", "--threads", "1",
                       "--indicators", "params,naswot,grasp", "--best-of", "2", "--out", str(out)]) == 0
    text = out.read_text()
    rows = {line.split(" | ")[0].strip("|` "): line.split(" | ") for line in text.splitlines()
            if line.startswith("| `")}
    assert set(rows) == {"params", "naswot", "grasp"}
    for name in ("params", "naswot", "grasp"):  # same protocol: the same value
        assert float(rows[name][4]) < 1e-4, rows[name]
    assert "The 3 indicators that have a reference, together" in text and "CPU)" in text.splitlines()[0]
    assert "the best of 2 runs for indicators under 3 s" in text
    assert "the median call" in text and "the mean call" in text  # the overhead: best, median and mean of 20 calls


@pytest.mark.parametrize("width, columns", [(50, 16), (48, 16), (10, 16), (7, 1)])
def test_gram_by_column_blocks_is_the_float64_product(width, columns):
    from zeroscore.passes import gram_float64

    jac = torch.randn(6, width, generator=torch.Generator().manual_seed(width)) * 1e3
    plain = jac.double() @ jac.double().T
    gram = gram_float64(jac, columns=columns)
    assert gram.dtype == torch.float64 and gram.shape == (6, 6)
    torch.testing.assert_close(gram, plain, rtol=1e-14, atol=0)
