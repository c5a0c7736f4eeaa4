"""Input batches: official CIFAR / ImageNet16 pickle layouts (tiny hand-written files and the shared real samples)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from zeroscore import data
from zeroscore.errors import UsageError
from zeroscore.settings import DataNotFoundError


def _write_cifar10(folder, n=20, bytes_keys=False, seed=0):
    """Tiny CIFAR-10 python-layout folder; returns {file: (images NCHW uint8, labels)}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        x = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        y = rng.integers(0, 10, n).tolist()
        d = {"data": x, "labels": y, "batch_label": name}
        if bytes_keys:
            d = {k.encode(): v for k, v in d.items()}
        with open(folder / name, "wb") as f:
            pickle.dump(d, f, protocol=2)
        written[name] = (x.reshape(-1, 3, 32, 32), np.array(y))
    return written


@pytest.mark.parametrize("bytes_keys", [False, True])
def test_cifar_pickles_with_bytes_or_str_keys(tmp_path, bytes_keys):
    written = _write_cifar10(tmp_path / "cifar-10-batches-py", bytes_keys=bytes_keys)
    x, y = data.load_images("cifar10", root=tmp_path, split="train")
    assert x.shape == (100, 3, 32, 32) and x.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(x[:20], written["data_batch_1"][0])
    np.testing.assert_array_equal(y[80:], written["data_batch_5"][1])
    xt, yt = data.load_images("cifar10", root=tmp_path, split="test")
    np.testing.assert_array_equal(xt, written["test_batch"][0])
    # the data location may also be the batch folder itself
    x2, _ = data.load_images("cifar10", root=tmp_path / "cifar-10-batches-py", split="test")
    np.testing.assert_array_equal(x2, xt)
    # normalisation is (x/255 - mean)/std with NB201's CIFAR-10 statistics
    xb, yb = data.load_batch("cifar10", root=tmp_path, batch_size=5, split="test", seed=3)
    idx = np.random.default_rng(3).choice(20, 5, replace=False)
    mean = torch.tensor([125.3, 123.0, 113.9]).view(1, 3, 1, 1) / 255
    std = torch.tensor([63.0, 62.1, 66.7]).view(1, 3, 1, 1) / 255
    expect = (torch.from_numpy(xt[idx]).float() / 255 - mean) / std
    torch.testing.assert_close(xb, expect)
    assert yb.tolist() == yt[idx].tolist()


def test_missing_cifar_names_expected_files(tmp_path):
    with pytest.raises(DataNotFoundError) as e:
        data.load_batch("cifar10", root=tmp_path)
    msg = str(e.value)
    assert "data_batch_1" in msg and "test_batch" in msg and "cifar-10-batches-py" in msg
    with pytest.raises(DataNotFoundError, match="cifar-100-python"):
        data.load_batch("cifar100", root=tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar10(folder)
    (folder / "data_batch_3").unlink()
    with pytest.raises(DataNotFoundError, match="data_batch_3"):
        data.load_images("cifar10", root=tmp_path, split="train")


@pytest.mark.parametrize("name,split", [("cifar10", "train"), ("cifar100", "test")])
def test_real_samples_shapes_and_normalisation(data_root, name, split):
    x, y = data.load_batch(name, root=data_root, batch_size=512, split=split, seed=0)
    assert x.shape == (512, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert int(y.min()) >= 0 and int(y.max()) < data.num_classes(name)
    assert x.mean(dim=(0, 2, 3)).abs().max() < 0.1  # NB201 statistics centre real images
    assert ((x.std(dim=(0, 2, 3)) - 1).abs() < 0.1).all()
    assert len(set(y.tolist())) > 5


def test_real_sample_sizes(data_root):
    assert data.load_images("cifar10", data_root, "train")[0].shape == (5170, 3, 32, 32)
    assert data.load_images("cifar10", data_root, "test")[0].shape == (1017, 3, 32, 32)
    x, y = data.load_images("cifar100", data_root, "test")
    assert x.shape == (916, 3, 32, 32) and set(y.tolist()) == set(range(100))
    assert data.load_images("cifar10", data_root, "test")[1][:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]


def test_determinism_and_no_global_rng(data_root):
    np_state, torch_state = np.random.get_state()[1].copy(), torch.get_rng_state().clone()
    a = data.load_batch("cifar10", root=data_root, batch_size=32, seed=7)
    b = data.load_batch("cifar10", root=data_root, batch_size=32, seed=7)
    c = data.load_batch("cifar10", root=data_root, batch_size=32, seed=8)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    ga = data.load_batch("gaussian", batch_size=4, seed=1, num_classes=3, shape=(3, 8, 8))
    gb = data.load_batch("gaussian", batch_size=4, seed=1, num_classes=3, shape=(3, 8, 8))
    gc = data.load_batch("gaussian", batch_size=4, seed=2, num_classes=3, shape=(3, 8, 8))
    assert ga[0].shape == (4, 3, 8, 8) and torch.equal(ga[0], gb[0]) and torch.equal(ga[1], gb[1])
    assert not torch.equal(ga[0], gc[0]) and int(ga[1].max()) < 3
    assert data.load_batch("gaussian", batch_size=2)[0].shape == (2, 3, 32, 32)
    aug1 = data.load_batch("cifar10", root=data_root, batch_size=32, seed=7, augment=True)
    aug2 = data.load_batch("cifar10", root=data_root, batch_size=32, seed=7, augment=True)
    assert torch.equal(aug1[0], aug2[0]) and torch.equal(aug1[1], a[1]) and not torch.equal(aug1[0], a[0])
    assert np.array_equal(np.random.get_state()[1], np_state) and torch.equal(torch.get_rng_state(), torch_state)
    x, y = data.load_batch("cifar10", root=data_root, batch_size=64, num_classes=3, seed=0)
    assert int(y.max()) < 3


def _write_imagenet16(folder, n=30):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    out = {}
    for name in [f"train_data_batch_{i}" for i in range(1, 11)] + ["val_data"]:
        x = rng.integers(0, 256, (n, 768), dtype=np.uint8)
        y = rng.integers(1, 241, n).tolist()  # 1-based, some beyond 120
        with open(folder / name, "wb") as f:
            pickle.dump({"data": x, "labels": y, "mean": np.zeros(768)}, f)
        out[name] = (x.reshape(-1, 3, 16, 16), np.array(y))
    return out


def test_imagenet16_layout_roundtrip(tmp_path):
    written = _write_imagenet16(tmp_path / "ImageNet16")
    x, y = data.load_images("imagenet16", root=tmp_path, split="test")
    vx, vy = written["val_data"]
    np.testing.assert_array_equal(x, vx)
    np.testing.assert_array_equal(y, vy - 1)
    x120, y120 = data.load_images("ImageNet16-120", root=tmp_path, split="test")
    keep = vy <= 120
    np.testing.assert_array_equal(x120, vx[keep])
    np.testing.assert_array_equal(y120, vy[keep] - 1)
    assert data.load_images("imagenet16_120", root=tmp_path, split="train")[0].shape[0] == sum(
        (w[1] <= 120).sum() for k, w in written.items() if k.startswith("train"))
    xb, yb = data.load_batch("imagenet16-120", root=tmp_path, batch_size=8, split="test", seed=0)
    assert xb.shape == (8, 3, 16, 16) and int(yb.max()) < 120
    mean = torch.tensor([122.68, 116.66, 104.01]).view(1, 3, 1, 1) / 255
    std = torch.tensor([63.22, 61.26, 65.09]).view(1, 3, 1, 1) / 255
    idx = np.random.default_rng(0).choice(len(y120), 8, replace=False)
    torch.testing.assert_close(xb, (torch.from_numpy(x120[idx]).float() / 255 - mean) / std)
    assert data.num_classes("ImageNet16-120") == 120 and data.num_classes("imagenet16") == 1000
    assert data.input_shape("imagenet16-120") == (3, 16, 16) and not data.is_standin("imagenet16-120")


def test_imagenet16_missing_mentions_standin(tmp_path):
    with pytest.raises(DataNotFoundError) as e:
        data.load_batch("ImageNet16-120", root=tmp_path)
    msg = str(e.value)
    assert "val_data" in msg and "train_data_batch_1" in msg and "imagenet16_standin" in msg


def test_standin_says_so(data_root):
    assert data.is_standin("imagenet16_standin") and not data.is_standin("cifar100")
    line = data.describe("imagenet16_standin", root=data_root)
    assert "STAND-IN" in line and "CIFAR-100" in line and "\n" not in line
    assert "real images" in data.describe("cifar10", root=data_root)
    assert data.num_classes("imagenet16_standin") == 120 and data.input_shape("imagenet16_standin") == (3, 16, 16)
    x16, y16 = data.load_images("imagenet16_standin", data_root, "test")
    x32, y32 = data.load_images("cifar100", data_root, "test")
    np.testing.assert_array_equal(y16, y32)
    pooled = x32[:4].astype(np.float64).reshape(4, 3, 16, 2, 16, 2).mean(axis=(3, 5))
    assert np.abs(x16[:4] - pooled).max() <= 0.5
    x, y = data.load_batch("imagenet16_standin", root=data_root, batch_size=16, split="test")
    assert x.shape == (16, 3, 16, 16) and int(y.max()) < 100


def test_bad_arguments(data_root):
    with pytest.raises(ValueError):
        data.load_batch("mnist")
    with pytest.raises(ValueError):
        data.load_batch("cifar10", root=data_root, split="valid")
    with pytest.raises(ValueError, match="batch_size"):
        data.load_batch("cifar100", root=data_root, batch_size=10_000)


def test_a_batch_size_passed_as_the_root_is_named():
    # load_batch's second parameter is the data location: a number there fails with the slip named, not in pathlib
    with pytest.raises(UsageError, match=r"got int 64 .*batch_size=\.\.\. by name"):
        data.load_batch("cifar10", 64)
    with pytest.raises(UsageError, match="must be a path"):
        data.load_batch("cifar10", root=["/data"])


# ------------------------------------------------------------------ names, missing and damaged files


def test_names_come_from_the_shared_alias_table():
    from zeroscore.errors import UnknownDatasetError

    with pytest.raises(UnknownDatasetError, match="mnist"):
        data.num_classes("mnist")
    assert data.num_classes("CIFAR-10") == 10 and data.num_classes("cifar_100") == 100
    assert data.is_standin("ImageNet16-120-standin") and data.num_classes("imagenet16_1000") == 1000
    assert data.input_shape("Gauss") == (3, 32, 32) and set(data.DATASETS) == {
        "cifar10", "cifar100", "imagenet16", "imagenet16-120", "imagenet16_standin", "gaussian"}
    from zeroscore.errors import UsageError

    with pytest.raises(UsageError, match="split"):
        data.load_images("cifar10", split="valid")


def test_missing_files_say_how_to_get_them_first(tmp_path):
    with pytest.raises(DataNotFoundError) as e:
        data.load_batch("cifar10", root=tmp_path)
    msg = str(e.value)
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert url in msg and "zeroscore data check" in msg
    assert msg.index(url) < msg.index(str(tmp_path)) and "shared data folder" not in msg
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar10(folder)
    (folder / "data_batch_2").unlink()
    with pytest.raises(DataNotFoundError, match="zeroscore data check"):
        data.load_images("cifar10", root=tmp_path, split="train")


def test_locate(tmp_path, data_root):
    assert data.locate("cifar10", tmp_path) is None and data.locate("gaussian", tmp_path) is None
    _write_cifar10(tmp_path / "cifar-10-batches-py")
    assert data.locate("CIFAR-10", tmp_path) == tmp_path / "cifar-10-batches-py"
    assert data.locate("imagenet16_standin", data_root) == data_root / "cifar100_sample" / "cifar-100-python"


def _pickle_bytes(obj) -> bytes:
    return pickle.dumps(obj, protocol=2)


_GOOD = {"data": np.zeros((4, 3072), dtype=np.uint8), "labels": [0, 1, 2, 3]}


@pytest.mark.parametrize("case,expected", [
    ("truncated", "cannot be unpickled"),
    ("not_a_pickle", "cannot be unpickled"),
    ("empty", "cannot be unpickled"),
    ("foreign_list", "holds a list"),
    ("no_labels", "lacks 'labels'"),
    ("wrong_width", "shape"),
    ("label_count", "4 images but 3 labels"),
    ("not_numeric", "not numeric"),
])
def test_damaged_batch_file_names_the_file(tmp_path, case, expected):
    from zeroscore.errors import DamagedFileError

    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar10(folder)
    content = {
        "truncated": _pickle_bytes(_GOOD)[:200],
        "not_a_pickle": b"<html>404 Not Found</html>",
        "empty": b"",
        "foreign_list": _pickle_bytes([1, 2, 3]),
        "no_labels": _pickle_bytes({"data": _GOOD["data"]}),
        "wrong_width": _pickle_bytes({"data": np.zeros((4, 100), dtype=np.uint8), "labels": [0, 1, 2, 3]}),
        "label_count": _pickle_bytes({"data": _GOOD["data"], "labels": [0, 1, 2]}),
        "not_numeric": _pickle_bytes({"data": _GOOD["data"], "labels": ["a", "b", "c", "d"]}),
    }[case]
    (folder / "test_batch").write_bytes(content)
    with pytest.raises(DamagedFileError, match=expected) as e:
        data.load_images("cifar10", root=tmp_path, split="test")
    msg = str(e.value)
    assert str(folder / "test_batch") in msg and "download" in msg
    assert isinstance(e.value, ValueError)
    # the intact split of the same folder still loads
    assert data.load_images("cifar10", root=tmp_path, split="train")[0].shape == (100, 3, 32, 32)
