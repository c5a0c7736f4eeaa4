"""Ground-truth tables: compact CSVs, the official NATS-Bench sample, a fake NB201 .pth API, a hand-written tfrecord;
the shipped tables, the load order, export, damaged files and ``check_data``."""

from __future__ import annotations

import base64
import json
import os
import struct
import warnings

import numpy as np
import pandas as pd
import pytest

from zeroscore import truth
from zeroscore.settings import DataNotFoundError
from zeroscore.truth import compact, nb201_pth, tfrecord

NATS_TSS = "natsbench_api_sample/NATS-tss-v1_0-3ffb9-simple"
NATS_SSS = "natsbench_api_sample/NATS-sss-v1_0-50262-simple"
SAMPLE_IDX = [0, 11, 284]


# ------------------------------------------------------------------ compact tables


def test_compact_tables_load(data_root):
    # the 500 NASLib NB101 records are 301 distinct networks once pruned (duplicates averaged, see _finish)
    for space, n in [("nb201", 15625), ("nats_sss", 32768), ("nb101", 301)]:
        df = truth.load(space, root=data_root)
        assert len(df) == n and df.index.name == "arch" and df.index.is_unique
        assert df.attrs["source"].startswith("compact:")
        documented = set(truth.describe(space)["column"])
        assert set(df.columns) <= documented, set(df.columns) - documented
        for ds in ["cifar10", "cifar100", "ImageNet16-120"] if space != "nb101" else ["cifar10"]:
            col = truth.default_target(space, ds)
            assert col in df.columns and df[col].notna().all()
    nb201 = truth.load("nats_tss", root=data_root)  # alias
    assert nb201.loc[nb201.index[0], "index"] == 0 and (nb201.index == nb201["arch_str"]).all()
    assert nb201["cifar10_test_acc"].max() == pytest.approx(94.37, abs=0.01)
    sss = truth.load("nats_sss", root=data_root)
    assert sss.loc["64:64:64:64:64", "index"] == 32767
    nb101 = truth.load("nb101", root=data_root)
    assert nb101["n_records"].sum() == 500
    from zeroscore import spaces

    assert all(spaces.get("nb101").canonical(k) == k for k in nb101.index[:50])
    assert nb101["hash"].str.fullmatch("[0-9a-f]{32}").all()
    assert {"naslib_arch", "adjacency", "ops", "hash", "val_accuracy"} <= set(nb101.columns)
    first = nb101.iloc[0]
    assert nb101.index[0] == compact.nb101_key(json.loads(first["adjacency"]), json.loads(first["ops"]))


def test_load_returns_copies(data_root):
    a = truth.load("nb201", root=data_root)
    a["cifar10_test_acc"] = 0.0
    assert truth.load("nb201", root=data_root)["cifar10_test_acc"].max() > 90


def test_default_target_and_describe():
    assert truth.default_target("nb201", "cifar10") == "cifar10_test_acc"
    assert truth.default_target("nb201", "cifar100") == "cifar100_test_acc"
    assert truth.default_target("nb201", "ImageNet16-120") == "imagenet16_test_acc"
    assert truth.default_target("nats_sss", "imagenet16") == "imagenet16_test_acc"
    assert truth.default_target("nb101", "cifar10") == "val_accuracy"
    with pytest.raises(ValueError):
        truth.default_target("nb101", "cifar100")
    with pytest.raises(ValueError):
        truth.load("nb999")
    d = truth.describe("nb201")
    assert list(d.columns) == ["column", "dataset", "split", "epochs", "meaning"]
    row = d.set_index("column").loc["cifar10valid_test_acc"]
    assert (row["dataset"], row["split"], row["epochs"]) == ("cifar10-valid", "ori-test", 200)
    assert truth.describe("nats_sss").set_index("column").loc["cifar10_test_acc", "epochs"] == 90


def test_missing_data_messages(tmp_path):
    # source="local": the data location only; "auto" falls back to the shipped table (see test_shipped_*)
    assert truth.load("nb201", root=tmp_path / "nope").attrs["source"].startswith("shipped:")
    with pytest.raises(DataNotFoundError) as e:
        truth.load("nb201", root=tmp_path / "nope", source="local")
    msg = str(e.value)
    assert "does not exist" in msg and "nb201_tss_accuracies.csv.gz" in msg and "NATS-tss-v1_0-3ffb9-simple" in msg
    assert "zeroscore data export" in msg
    with pytest.raises(DataNotFoundError) as e:
        truth.load("nb101", root=tmp_path, source="local")
    msg = str(e.value)
    assert "none of the expected files" in msg and "naslib_nb101_zc_sample.csv.gz" in msg
    assert "nasbench_only108.tfrecord" in msg
    with pytest.raises(DataNotFoundError):
        truth.load("nats_sss", root=tmp_path, source="nats")
    with pytest.raises(DataNotFoundError):
        truth.from_nb101_tfrecord(tmp_path / "nasbench_only108.tfrecord")
    with pytest.raises(DataNotFoundError):
        truth.from_nas201_pth(tmp_path / "NAS-Bench-201-v1_1-096897.pth")


# ------------------------------------------------------------------ official NATS-Bench sample

_EXACT_TSS = ["cifar10_valid_acc", "cifar10valid_test_acc", "cifar10_test_acc", "nats_cifar10_test_acc",
              "nats_cifar100_test_acc", "nats_imagenet16_test_acc", "params_mb"]


def _nats(path, space=None, **kw):
    with pytest.warns(UserWarning, match="only 3 of"):
        return truth.from_nats_bench(path, space, **kw)


def test_nats_tss_sample_matches_compact(data_root):
    got = _nats(data_root / NATS_TSS)
    ref = truth.load("nb201", root=data_root)
    assert list(got["index"]) == SAMPLE_IDX and list(got.columns) == list(ref.columns)
    ref = ref.loc[got.index]
    assert (ref["index"] == got["index"]).all()
    # the NATS file reproduces these columns bit for bit ...
    pd.testing.assert_frame_equal(got[_EXACT_TSS], ref[_EXACT_TSS], check_exact=True, check_dtype=False)
    # ... and the .pth-generation CIFAR-100 / ImageNet16 columns to float32 rounding (max seen 1.2e-7)
    acc = [c for c in got.columns if c.endswith("_acc")]
    np.testing.assert_allclose(got[acc].to_numpy(float), ref[acc].to_numpy(float), rtol=0, atol=1e-6)


def test_nats_sss_sample_matches_compact(data_root):
    got = _nats(data_root / NATS_SSS)
    ref = truth.load("nats_sss", root=data_root).loc[got.index]
    common = list(ref.columns)
    pd.testing.assert_frame_equal(got[common], ref[common], check_exact=True, check_dtype=False)
    assert {"cifar100_valid_acc", "imagenet16_valid_acc"} <= set(got.columns)  # extra splits from the API
    assert got["params_cifar10"].dtype.kind == "i"


def test_nats_indices_restrict(data_root):
    got = truth.from_nats_bench(data_root / NATS_TSS, "nats_tss", indices=[284])
    assert list(got["index"]) == [284]
    assert got.index[0] == "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|nor_conv_1x1~1|none~2|"


def test_load_finds_nats_folder_and_export(data_root, tmp_path):
    (tmp_path / "official").mkdir()
    os.symlink(data_root / NATS_TSS, tmp_path / "official" / "NATS-tss-v1_0-3ffb9-simple")
    with pytest.warns(UserWarning):
        df = truth.load("nb201", root=tmp_path / "official")  # no compact table there -> NATS folder
    assert df.attrs["source"].startswith("nats:") and len(df) == 3

    out = tmp_path / "exported"
    with pytest.warns(UserWarning):
        paths = truth.export(data_root / NATS_TSS, out)
    assert paths == [out / "nasbench201" / "nb201_tss_accuracies.csv.gz"]
    back = truth.load("nb201", root=out)
    assert back.attrs["source"].startswith("compact:") and len(back) == 3
    ref = truth.load("nb201", root=data_root).loc[back.index]
    pd.testing.assert_frame_equal(back[_EXACT_TSS], ref[_EXACT_TSS], check_exact=True, check_dtype=False)
    pd.testing.assert_frame_equal(back, df, check_exact=True, check_dtype=False)  # CSV round trip is exact
    with pytest.raises(FileExistsError):
        truth.export(data_root / NATS_TSS, out)

    with pytest.warns(UserWarning):
        paths = truth.export(data_root / NATS_SSS, out)
    assert paths == [out / "natsbench_sss" / "nats_sss_accuracies.csv.gz"]
    back = truth.load("nats_sss", root=out)
    ref = truth.load("nats_sss", root=data_root).loc[back.index]
    pd.testing.assert_frame_equal(back[list(ref.columns)], ref, check_exact=True, check_dtype=False)


# ------------------------------------------------------------------ NAS-Bench-201 .pth via a fake nas_201_api


class _FakeArchResults:
    def __init__(self, i):
        self.i = i

    def get_metrics(self, dataset, setname, iepoch=None, is_random=False):
        assert is_random is False  # seed mean
        return {"accuracy": _fake_acc(self.i, dataset, setname), "loss": 0.0}

    def get_compute_costs(self, dataset):
        return {"flops": 1.0, "params": 0.1 * (self.i + 1) if dataset == "cifar10" else -1.0}


def _fake_acc(i, dataset, setname):
    return 10.0 * i + {"cifar10-valid": 1, "cifar10": 2, "cifar100": 3, "ImageNet16-120": 4}[dataset] + \
        {"x-valid": 0.1, "ori-test": 0.2, "x-test": 0.3}[setname]


class _FakeNB201API:
    meta_archs = ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                  "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"]

    def __len__(self):
        return len(self.meta_archs)

    def query_meta_info_by_index(self, i, hp="12"):
        assert hp == "200"
        return _FakeArchResults(i)


def test_nas201_pth_column_mapping(tmp_path, monkeypatch):
    pth = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    pth.write_bytes(b"not read: the API is faked")
    monkeypatch.setattr(nb201_pth, "_open_nas201", lambda path: _FakeNB201API())
    df = truth.from_nas201_pth(pth)
    assert list(df.columns) == [c for c in truth.describe("nb201")["column"]]
    assert list(df.index) == _FakeNB201API.meta_archs and list(df["index"]) == [0, 1]
    expected = {"cifar10_valid_acc": 1.1, "cifar10valid_test_acc": 1.2, "cifar10_test_acc": 2.2,
                "cifar100_valid_acc": 3.1, "cifar100_test_acc": 3.3, "imagenet16_valid_acc": 4.1,
                "imagenet16_test_acc": 4.3}
    for col, v in expected.items():
        assert df[col].tolist() == pytest.approx([v, 10 + v]), col
    assert df[["nats_cifar10_test_acc", "nats_cifar100_test_acc", "nats_imagenet16_test_acc"]].isna().all().all()
    assert df["params_mb"].tolist() == pytest.approx([0.1, 0.2])
    # discovered by load() and converted by export()
    assert truth.load("nb201", root=tmp_path, source="pth").attrs["source"].startswith("pth:")
    assert truth.export(pth, tmp_path / "out") == [tmp_path / "out" / "nasbench201" / "nb201_tss_accuracies.csv.gz"]
    assert truth.load("nb201", root=tmp_path / "out")["cifar100_test_acc"].tolist() == pytest.approx([3.3, 13.3])


# ------------------------------------------------------------------ NAS-Bench-101 tfrecord (own encoder)


def test_crc32c_known_vectors():
    assert tfrecord.crc32c(b"123456789") == 0xE3069283
    assert tfrecord.crc32c(b"") == 0
    assert tfrecord.crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4
    assert tfrecord.crc32c(b"\xff" * 32) == 0x62A8AB43
    assert tfrecord.crc32c(bytes(range(32))) == 0x46DD794E
    rng = np.random.default_rng(0)
    msgs = [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes() for n in rng.integers(0, 300, 200)] + [b""]
    assert tfrecord.crc32c_batch(msgs).tolist() == [tfrecord.crc32c(m) for m in msgs]


def _varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _key(field, wire):
    return _varint(field << 3 | wire)


def _double(field, x):
    return _key(field, 1) + struct.pack("<d", x)


def _bytes(field, b):
    return _key(field, 2) + _varint(len(b)) + b


def _eval(epoch, time, train, valid, test):
    msg = _double(1, epoch) + _double(2, time) + _double(3, train) + _double(4, valid)
    msg += _key(5, 5) + struct.pack("<f", test)  # a 32-bit float must decode too
    msg += _key(9, 0) + _varint(7)  # unknown field: skipped
    return msg + _bytes(6, b"/ckpt/model.ckpt-1")


def _record(h, epochs, adj, ops, repeat, params):
    evals = [_eval(0, 0, 0.1, 0.1, 0.1), _eval(epochs / 2, 50, 0.5, 0.5, 0.5),
             _eval(epochs, 100 + repeat, 0.99, 0.90 + repeat / 100, 0.875 + repeat / 1000)]
    metrics = b"".join(_bytes(1, e) for e in evals) + _key(2, 0) + _varint(params) + _double(3, 123.0)
    raw_adj = "".join(str(v) for row in adj for v in row)
    return json.dumps([h, epochs, raw_adj, ",".join(ops), base64.b64encode(metrics).decode()]).encode()


def _frame(data):
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", tfrecord.masked_crc32c(length)) + data + \
        struct.pack("<I", tfrecord.masked_crc32c(data))


ADJ_A = [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
OPS_A = ["input", "conv3x3-bn-relu", "output"]
ADJ_B = [[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
OPS_B = ["input", "maxpool3x3", "conv1x1-bn-relu", "output"]


def _write_nb101(path):
    recs = [_record("a" * 32, 108, ADJ_A, OPS_A, r, 227274) for r in range(3)]
    recs += [_record("b" * 32, 108, ADJ_B, OPS_B, r, 1000) for r in range(3)]
    recs += [_record("b" * 32, 4, ADJ_B, OPS_B, 0, 1000)]  # other epoch budget: ignored
    path.write_bytes(b"".join(_frame(r) for r in recs))


def test_nb101_tfrecord_roundtrip(tmp_path):
    path = tmp_path / "nasbench_only108.tfrecord"
    _write_nb101(path)
    assert len(list(tfrecord.read_records(path))) == 7
    df = truth.from_nb101_tfrecord(path)
    assert len(df) == 2 and df.index.name == "arch"
    a = df.set_index("hash").loc["a" * 32]
    assert json.loads(a["adjacency"]) == ADJ_A and json.loads(a["ops"]) == OPS_A
    assert df.index[df["hash"] == "a" * 32][0] == compact.nb101_key(ADJ_A, OPS_A)
    assert a["n_repeats"] == 3 and a["trainable_parameters"] == 227274 and a["params"] == pytest.approx(0.227274)
    assert [a[f"val_accuracy_r{k}"] for k in range(3)] == pytest.approx([90.0, 91.0, 92.0])
    assert a["val_accuracy"] == pytest.approx(91.0)
    assert a["test_accuracy"] == pytest.approx(87.6, abs=1e-4)  # float32 on the wire
    assert a["train_accuracy"] == pytest.approx(99.0)
    assert a["training_time"] == pytest.approx(101.0)
    # export + load by the compact path
    assert truth.export(path, tmp_path / "out") == [tmp_path / "out" / "nasbench101" / "nb101_accuracies.csv.gz"]
    back = truth.load("nb101", root=tmp_path / "out")
    assert set(back.index) == set(df.index)
    assert back.loc[df.index, "val_accuracy"].tolist() == df["val_accuracy"].tolist()
    # the raw file is found by load() too
    assert truth.load("nb101", root=tmp_path, source="tfrecord").attrs["source"].startswith("tfrecord:")


def test_tfrecord_checksums_are_verified(tmp_path):
    path = tmp_path / "x.tfrecord"
    _write_nb101(path)
    raw = bytearray(path.read_bytes())
    raw[40] ^= 0x01  # inside the first record's data
    bad = tmp_path / "bad.tfrecord"
    bad.write_bytes(bytes(raw))
    with pytest.raises(tfrecord.TFRecordError, match="data checksum"):
        list(tfrecord.read_records(bad))
    assert len(list(tfrecord.read_records(bad, verify=False))) == 7
    raw = bytearray(path.read_bytes())
    raw[0] ^= 0x01  # first length
    bad.write_bytes(bytes(raw))
    with pytest.raises(tfrecord.TFRecordError, match="length checksum"):
        list(tfrecord.read_records(bad))
    bad.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(tfrecord.TFRecordError, match="truncated"):
        list(tfrecord.read_records(bad))


# ------------------------------------------------------------------ shipped tables and the load order

SHIPPED_NAMES = {"nb201": "nasbench201/nb201_tss_accuracies.csv.gz",
                 "nats_sss": "natsbench_sss/nats_sss_accuracies.csv.gz",
                 "nb101": "nasbench101/naslib_nb101_zc_sample.csv.gz"}


@pytest.fixture
def no_data_location(tmp_path, monkeypatch):
    """A fresh install: $ZEROSCORE_DATA and the default cache (via HOME / XDG_CACHE_HOME) are empty folders."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("ZEROSCORE_DATA", str(empty))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return empty


def _write_table(path, df):
    """A small compact table (e.g. a few rows of the shipped one) written as export writes it."""
    compact.write(path, compact.gzip_bytes(df.to_csv(index=False, lineterminator="\n").encode()))


def test_shipped_tables_load_without_data_location(no_data_location):
    assert truth.SHIPPED_DIR.is_dir() and (truth.SHIPPED_DIR / "ATTRIBUTION.md").is_file()
    for space, n in [("nb201", 15625), ("nats_sss", 32768), ("nb101", 301)]:
        df = truth.load(space)
        assert df.attrs["source"] == f"shipped:{truth.SHIPPED_DIR / SHIPPED_NAMES[space]}"
        assert df.attrs["space"] == space and len(df) == n and df.index.name == "arch" and df.index.is_unique
        assert set(df.columns) <= set(truth.describe(space)["column"])
        assert truth.SHIPPED_FILES[space] == SHIPPED_NAMES[space]
    assert truth.load("nb101")["n_records"].sum() == 500
    assert truth.load("nb201").loc[:, "cifar10_test_acc"].max() == pytest.approx(94.37, abs=0.01)
    # the same without the env var: the (empty) default cache
    os.environ.pop("ZEROSCORE_DATA")
    assert truth.load("nats_sss").attrs["source"].startswith("shipped:")
    with pytest.raises(DataNotFoundError):
        truth.load("nb201", source="local")


def test_shipped_tables_equal_shared_tables(data_root):
    for space in ["nb201", "nats_sss", "nb101"]:
        shared = truth.load(space, root=data_root)
        shipped = truth.load(space, source="shipped")
        assert shared.attrs["source"].startswith("compact:") and shipped.attrs["source"].startswith("shipped:")
        pd.testing.assert_frame_equal(shipped, shared, check_exact=True)


def test_load_order_root_then_data_location_then_shipped(no_data_location, tmp_path):
    shipped = truth.load("nb201", source="shipped")
    env_dir, root_dir = no_data_location, tmp_path / "root"
    _write_table(env_dir / "nasbench201" / "nb201_tss_accuracies.csv.gz", shipped.iloc[:5])
    _write_table(root_dir / "nb201_tss_accuracies.csv.gz", shipped.iloc[5:8])  # file name directly in the root
    from_env = truth.load("nb201")
    assert from_env.attrs["source"].startswith(f"compact:{env_dir}") and list(from_env["index"]) == [0, 1, 2, 3, 4]
    from_root = truth.load("nb201", root=root_dir)  # an explicit root replaces the data location
    assert from_root.attrs["source"].startswith(f"compact:{root_dir}") and list(from_root["index"]) == [5, 6, 7]
    assert truth.load("nb201", root=root_dir, source="shipped").attrs["source"].startswith("shipped:")
    # the table file itself as root
    direct = truth.load("nb201", root=root_dir / "nb201_tss_accuracies.csv.gz")
    assert list(direct["index"]) == [5, 6, 7]
    # nothing for nats_sss in either: the shipped table
    assert truth.load("nats_sss", root=root_dir).attrs["source"].startswith("shipped:")
    # the full NB101 table wins over the NASLib sample in the same location
    nb101 = truth.load("nb101", source="shipped").iloc[:4].reset_index(drop=True)
    _write_table(env_dir / "nasbench101" / "naslib_nb101_zc_sample.csv.gz", nb101.iloc[:2].drop(columns="n_records"))
    assert len(truth.load("nb101")) == 2
    _write_table(env_dir / "nb101_accuracies.csv.gz", nb101[["adjacency", "ops", "hash", "val_accuracy"]])
    assert truth.load("nb101").attrs["source"].endswith("nb101_accuracies.csv.gz")


def test_load_order_compact_then_official_then_shipped(data_root, no_data_location, tmp_path):
    env_dir = no_data_location
    os.symlink(data_root / NATS_SSS, env_dir / "NATS-sss-v1_0-50262-simple")
    with pytest.warns(UserWarning, match="only 3 of"):
        official = truth.load("nats_sss")  # official folder before the shipped table
    assert official.attrs["source"] == f"nats:{env_dir / 'NATS-sss-v1_0-50262-simple'}" and len(official) == 3
    _write_table(env_dir / "natsbench_sss" / "nats_sss_accuracies.csv.gz",
                 truth.load("nats_sss", source="shipped").iloc[:7])
    assert len(truth.load("nats_sss")) == 7  # compact table before the official folder
    assert truth.load("nats_sss", source="shipped").attrs["source"].startswith("shipped:")
    assert _quiet(truth.load, "nats_sss", source="nats").attrs["source"].startswith("nats:")


def _quiet(call, *args, **kwargs):
    """``call(...)`` ignoring the "only 3 of N architectures" warning (emitted once per file, then cached)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


def test_official_folder_itself_is_accepted_as_root(data_root, tmp_path):
    for space, folder in [("nats_sss", NATS_SSS), ("nb201", NATS_TSS)]:
        for root in [data_root / folder, data_root / folder.split("/")[0]]:  # the folder itself and its parent
            df = _quiet(truth.load, space, root=root)
            assert df.attrs["source"] == f"nats:{data_root / folder}" and list(df["index"]) == SAMPLE_IDX
    # a renamed official folder is still recognised by its meta file and the tss/sss in its name
    os.symlink(data_root / NATS_SSS, tmp_path / "my_sss_copy")
    assert _quiet(truth.load, "nats_sss", root=tmp_path / "my_sss_copy").attrs["source"].startswith("nats:")
    # from_nats_bench takes the parent too, picking the folder by space
    got = _quiet(truth.from_nats_bench, data_root / "natsbench_api_sample", "nats_sss")
    assert got.attrs["source"] == f"nats:{data_root / NATS_SSS}"
    from zeroscore.errors import UsageError

    with pytest.raises(UsageError, match="both NATS-Bench folders"):
        truth.from_nats_bench(data_root / "natsbench_api_sample")


# ------------------------------------------------------------------ export of compact tables


def _same_gzip(a, b) -> bool:
    """Same table text and the same fixed gzip header (the deflate stream itself may differ between zlib builds)."""
    import gzip

    a, b = a.read_bytes(), b.read_bytes()
    return gzip.decompress(a) == gzip.decompress(b) and a[:8] == b[:8]


def test_export_rebuilds_shipped_tables_identically(data_root, tmp_path):
    out = tmp_path / "tables"
    paths = truth.export(data_root, out)
    assert paths == [out / SHIPPED_NAMES[s] for s in ["nb201", "nats_sss", "nb101"]]
    for space, path in zip(["nb201", "nats_sss", "nb101"], paths):
        assert _same_gzip(path, truth.SHIPPED_DIR / SHIPPED_NAMES[space]), path
        assert path.read_bytes()[4:8] == b"\0\0\0\0" and not path.read_bytes()[3] & 0x08  # mtime 0, no file name
    # a rebuild onto identical files changes nothing and needs no overwrite; a different file does, and then
    # nothing is written at all
    assert truth.export(data_root, out, space="nb101") == [paths[2]]
    paths[0].unlink()
    _write_table(paths[2], truth.load("nb101", source="shipped").iloc[:3].drop(columns="n_records"))
    with pytest.raises(FileExistsError, match="overwrite"):
        truth.export(data_root, out)
    assert not paths[0].exists() and len(truth.load("nb101", root=out)) == 3
    assert truth.export(data_root, out, space="nb101", overwrite=True) == [paths[2]]
    assert _same_gzip(paths[2], truth.SHIPPED_DIR / SHIPPED_NAMES["nb101"])
    # one compact file, also under another name when the space is given
    one = truth.export(truth.SHIPPED_DIR / SHIPPED_NAMES["nb101"], tmp_path / "one")
    assert one == [tmp_path / "one" / SHIPPED_NAMES["nb101"]]
    renamed = tmp_path / "sss.csv.gz"
    renamed.write_bytes((truth.SHIPPED_DIR / SHIPPED_NAMES["nats_sss"]).read_bytes())
    from zeroscore.errors import UsageError

    with pytest.raises(UsageError, match="pass space="):
        truth.export(renamed, tmp_path / "two")
    assert truth.export(renamed, tmp_path / "two", space="NATS-SSS") == [tmp_path / "two" / SHIPPED_NAMES["nats_sss"]]


def test_export_from_shipped_folder_is_a_fixed_point(tmp_path):
    paths = truth.export(truth.SHIPPED_DIR, tmp_path)
    assert all(_same_gzip(p, truth.SHIPPED_DIR / SHIPPED_NAMES[s])
               for p, s in zip(paths, ["nb201", "nats_sss", "nb101"]))
    again = truth.export(truth.SHIPPED_DIR, tmp_path / "again")
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]  # deterministic bytes
    with pytest.raises(DataNotFoundError, match="neither an official benchmark folder"):
        truth.export(tmp_path / "nasbench101", tmp_path / "x", space="nb201")
    with pytest.raises(DataNotFoundError):
        truth.export(tmp_path / "missing", tmp_path / "x")


# ------------------------------------------------------------------ damaged files

def _damaged_nb201(root, content: bytes):
    path = root / "nasbench201" / "nb201_tss_accuracies.csv.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("case", ["not_gzip", "truncated_gzip", "not_csv", "missing_column", "duplicate_key",
                                  "missing_value", "index_out_of_range"])
def test_damaged_compact_table_names_the_file(tmp_path, case):
    from zeroscore.errors import DamagedFileError

    shipped = truth.SHIPPED_DIR / SHIPPED_NAMES["nb201"]
    head = truth.load("nb201", source="shipped").iloc[:4].reset_index(drop=True)
    csv = head.to_csv(index=False).encode()
    content = {
        "not_gzip": b"index,arch_str\n0,x\n",
        "truncated_gzip": shipped.read_bytes()[:5000],
        "not_csv": compact.gzip_bytes(bytes(range(256)) * 4),
        "missing_column": compact.gzip_bytes(head.drop(columns="cifar10_test_acc").to_csv(index=False).encode()),
        "duplicate_key": compact.gzip_bytes(csv + csv.split(b"\n", 2)[1] + b"\n"),
        "missing_value": compact.gzip_bytes(head.assign(cifar10_test_acc=[1.0, None, 2.0, 3.0]).to_csv(
            index=False).encode()),
        "index_out_of_range": compact.gzip_bytes(head.assign(index=[0, 1, 2, 99999]).to_csv(index=False).encode()),
    }[case]
    path = _damaged_nb201(tmp_path, content)
    expected = {"not_gzip": "not a complete gzip", "truncated_gzip": "not a complete gzip", "not_csv": ".",
                "missing_column": "missing columns", "duplicate_key": "repeated", "missing_value": "missing values",
                "index_out_of_range": "index"}[case]
    with pytest.raises(DamagedFileError, match=expected) as e:
        truth.load("nb201", root=tmp_path)
    assert str(path) in str(e.value) and "zeroscore data" in str(e.value)
    assert isinstance(e.value, ValueError)  # callers catching ValueError keep working
    with pytest.raises(DamagedFileError, match="nb201_tss_accuracies"):
        truth.export(tmp_path, tmp_path / "out")


def test_damaged_nb101_spec_and_tfrecord_payload(tmp_path):
    from zeroscore.errors import DamagedFileError

    bad = pd.DataFrame({"adjacency": ["[[0,1],[0,0]]", "not json"], "ops": ['["input","output"]'] * 2,
                        "val_accuracy": [90.0, 91.0]})
    path = tmp_path / "nb101_accuracies.csv.gz"
    _write_table(path, bad)
    with pytest.raises(DamagedFileError, match="nb101_accuracies.csv.gz"):
        truth.load("nb101", root=tmp_path)
    record = tmp_path / "nasbench_only108.tfrecord"
    record.write_bytes(_frame(b'{"not": "a nasbench record"}'))
    with pytest.raises(DamagedFileError, match="record 0 is not a NAS-Bench-101 record") as e:
        truth.from_nb101_tfrecord(record)
    assert str(record) in str(e.value) and tfrecord.TFRecordError is DamagedFileError


def test_missing_official_packages_name_the_extra(tmp_path, monkeypatch):
    import sys

    from zeroscore.errors import MissingExtraError

    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    folder.mkdir()
    (folder / "meta.pickle.pbz2").write_bytes(b"")
    pth = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    pth.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "nats_bench", None)  # makes `import nats_bench` raise ImportError
    monkeypatch.setitem(sys.modules, "nas_201_api", None)
    for call in [lambda: truth.from_nats_bench(folder), lambda: truth.from_nas201_pth(pth)]:
        with pytest.raises(MissingExtraError, match=r"pip install 'zeroscore\[official\]'"):
            call()


# ------------------------------------------------------------------ names, spaces without a table


def test_aliases_and_spaces_without_a_table():
    from zeroscore.errors import NoGroundTruthError, UnknownDatasetError, UnknownSpaceError

    assert truth.default_target("nas-bench-201", "imagenet16_standin") == "imagenet16_test_acc"
    assert truth.default_target("NATS-SSS", "CIFAR-100") == "cifar100_test_acc"
    assert truth.default_target("nas_bench_101", "cifar-10") == "val_accuracy"
    assert truth.default_target("tss", "cifar10-valid") == "cifar10_valid_acc"
    assert truth.default_target("nb201", "ImageNet16_120") == "imagenet16_test_acc"
    with pytest.raises(UnknownDatasetError):
        truth.default_target("nb201", "gaussian")
    assert truth.load("NAS-Bench-201", source="shipped").attrs["space"] == "nb201"
    assert truth.load("natsbench_sss", source="shipped").attrs["space"] == "nats_sss"
    for call in [lambda: truth.load("darts"), lambda: truth.describe("DARTS"),
                 lambda: truth.default_target("darts_cnn", "cifar10"), lambda: truth.export(".", ".", space="darts")]:
        with pytest.raises(NoGroundTruthError, match="DARTS has no benchmark table"):
            call()
    with pytest.raises(UnknownSpaceError, match="nb201"):
        truth.load("nb-two-o-one")
    from zeroscore.errors import UsageError

    with pytest.raises(UsageError, match="shipped"):
        truth.load("nb101", source="nats")


# ------------------------------------------------------------------ check_data


def test_check_data_on_an_empty_location(no_data_location, tmp_path):
    report = truth.check_data()
    assert report.attrs == {"root": str(no_data_location), "how_set": "$ZEROSCORE_DATA"}
    assert list(report.columns) == ["item", "status", "path", "size", "note", "how_to_get"]
    status = dict(zip(report["item"], report["status"]))
    assert set(report["status"]) == {"shipped", "missing"}
    shipped = report[report["status"] == "shipped"]
    assert len(shipped) == 3 and all(p.startswith(str(truth.SHIPPED_DIR)) for p in shipped["path"])
    assert status["NB101 full table (423,624 cells)"] == "missing"
    how = dict(zip(report["item"], report["how_to_get"]))
    cifar10 = next(k for k in how if k.startswith("CIFAR-10 "))
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in how[cifar10] and "163 MB" in how[cifar10]
    assert "161 MB" in how[next(k for k in how if k.startswith("CIFAR-100"))]
    tfrec = next(k for k in how if "tfrecord" in k and k.startswith("NAS-Bench-101"))
    assert "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord" in how[tfrec] and "499 MB" in how[tfrec]
    assert "4.7 GB" in how[next(k for k in how if "NAS-Bench-201-v1_1-096897.pth" in k)]
    assert all("https://" in h for h in report["how_to_get"] if "ships with" not in h)
    for item in ["ImageNet16", "NATS-Bench tss", "NATS-Bench sss", "nas_splits", "reference scores"]:
        assert any(item in k for k in how), item
    assert truth.check_data(tmp_path).attrs["how_set"] == "argument"
    os.environ.pop("ZEROSCORE_DATA")
    assert truth.check_data().attrs["how_set"] == "default cache"


def test_check_data_on_the_shared_folder(data_root, tmp_path):
    report = truth.check_data(data_root).set_index("item")
    found = report[report["status"] == "found"]
    for item in ["NB201 / NATS-tss", "NATS-sss accuracy", "NB101 500-cell", "CIFAR-10 ", "CIFAR-100", "nas_splits",
                 "reference scores"]:
        row = found[found.index.str.contains(item, regex=False)]
        assert len(row) == 1 and row["size"].iloc[0] and row["path"].iloc[0].startswith(str(data_root)), item
    assert "used instead of the shipped copy" in report.loc["NB201 / NATS-tss accuracy table (15,625 cells)", "note"]
    assert report.loc["CIFAR-10 images (cifar-10-batches-py)", "note"] == "6 of 6 batch files"
    assert (report.loc[report.index.str.startswith("ImageNet16"), "status"] == "missing").all()
    # an official folder is counted (the sample holds 3 of 15,625 architectures)
    os.symlink(data_root / NATS_TSS, tmp_path / "NATS-tss-v1_0-3ffb9-simple")
    nats = truth.check_data(tmp_path).set_index("item").loc["NATS-Bench tss folder (NATS-tss-v1_0-3ffb9-simple)"]
    assert nats["status"] == "found" and nats["note"].startswith("3 of 15,625")


# ------------------------------------------------------------------ layering and size of the truth package


def test_truth_package_layering_and_module_size():
    import ast
    from pathlib import Path

    import zeroscore

    package = Path(zeroscore.__file__).parent
    allowed = {"zeroscore.errors", "zeroscore.names", "zeroscore.settings", "zeroscore.data", "zeroscore.spaces.nb101"}
    for path in sorted((package / "truth").glob("*.py")) + [package / "data.py", package / "settings.py"]:
        text = path.read_text()
        assert len(text.splitlines()) <= 350, path
        inside_truth = path.parent.name == "truth"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("zeroscore"):
                modules = [node.module] if node.module != "zeroscore" else [f"zeroscore.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names if a.name.startswith("zeroscore")]
            else:
                continue
            for module in modules:
                ok = allowed if inside_truth else {"zeroscore.errors", "zeroscore.names", "zeroscore.settings"}
                assert module in ok, f"{path.name} imports {module}"
