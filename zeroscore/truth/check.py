"""``check_data``: what the data location holds, what is missing, and where to get it (zeroscore never downloads)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from zeroscore import data
from zeroscore.settings import resolve_root

from .compact import SPACE_SIZE
from .files import (
    COMPACT_FILES,
    NB101_TFRECORD,
    NB201_PTH,
    compact_candidates,
    download,
    official_candidates,
    shipped_path,
)

COLUMNS = ["item", "status", "path", "size", "note", "how_to_get"]

_SPLIT_FILES = ["cifar-split.txt", "cifar100-test-split.txt", "imagenet-16-120-test-split.txt"]
_SPLITS_URL = ("https://github.com/D-X-Y/AutoDL-Projects/tree/f46486e21b71ae6459a700be720d7648b5429569/"
               "configs/nas-benchmark")
_EXPORT = "`zeroscore data export --from {what} --to DIR`"


#: (item, space, compact file name, how to get it) for every compact table zeroscore reads
_TABLES = [
    ("NB201 / NATS-tss accuracy table (15,625 cells)", "nb201", "nb201_tss_accuracies.csv.gz",
     "ships with zeroscore; to rebuild from the official files: " + _EXPORT.format(what="NATS-tss-v1_0-3ffb9-simple")
     + " (or the .pth)"),
    ("NATS-sss accuracy table (32,768 configs)", "nats_sss", "nats_sss_accuracies.csv.gz",
     "ships with zeroscore; to rebuild: " + _EXPORT.format(what="NATS-sss-v1_0-50262-simple")),
    ("NB101 full table (423,624 cells)", "nb101", "nb101_accuracies.csv.gz",
     f"download {download('nb101_tfrecord')}; then " + _EXPORT.format(what=NB101_TFRECORD)),
    ("NB101 500-cell NASLib sample", "nb101", "naslib_nb101_zc_sample.csv.gz",
     "ships with zeroscore (from NASLib, https://github.com/automl/NASLib)"),
]

#: (item, space, official kind, how to get it)
_OFFICIAL = [
    ("NATS-Bench tss folder (NATS-tss-v1_0-3ffb9-simple)", "nb201", "nats", download("nats_tss")),
    ("NATS-Bench sss folder (NATS-sss-v1_0-50262-simple)", "nats_sss", "nats", download("nats_sss")),
    (f"NAS-Bench-201 {NB201_PTH}", "nb201", "pth", download("nb201_pth")),
    (f"NAS-Bench-101 {NB101_TFRECORD}", "nb101", "tfrecord", download("nb101_tfrecord")),
]

_IMAGES = [
    ("CIFAR-10 images (cifar-10-batches-py)", "cifar10",
     "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz; 163 MB; extract into the data location"),
    ("CIFAR-100 images (cifar-100-python)", "cifar100",
     "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz; 161 MB; extract into the data location"),
    ("ImageNet16 pickles (ImageNet16/, for imagenet16 and ImageNet16-120)", "imagenet16",
     "downsampled ImageNet 16x16 (Chrabaszcz et al. 2017): https://image-net.org/download-images (account needed), "
     "or the link in https://github.com/D-X-Y/NAS-Bench-201; see the link for the size. Without it, "
     "dataset imagenet16_standin (CIFAR-100 downsampled, NOT ImageNet) runs the same code paths"),
]


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    return total


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def _row(item, status, path, note, how) -> dict:
    size = _human(_size(path)) if path is not None and status != "missing" else ""
    return dict(item=item, status=status, path=str(path) if path is not None else "", size=size, note=note,
                how_to_get=how)


def _find_table(base: Path, space: str, name: str) -> Path | None:
    return next((p for p in compact_candidates(base, space) if p.name == name and p.is_file()), None)


def _table_rows(base: Path) -> list[dict]:
    full_nb101 = _find_table(base, "nb101", COMPACT_FILES["nb101"][1][0])
    rows = []
    for item, space, name, how in _TABLES:
        found = _find_table(base, space, name)
        shipped = shipped_path(space)
        if found is not None:
            if space == "nb101" and found != full_nb101 and full_nb101 is not None:
                note = "the full NB101 table is used instead"
            else:
                note = "used instead of the shipped copy" if shipped.name == name else "used by truth.load"
            rows.append(_row(item, "found", found, note, how))
        elif shipped.name == name and shipped.is_file():
            rows.append(_row(item, "shipped", shipped, "not in the data location; the shipped copy is used", how))
        else:
            rows.append(_row(item, "missing", None, "", how))
    return rows


def _official_rows(base: Path) -> list[dict]:
    rows = []
    for item, space, kind, how in _OFFICIAL:
        found = next((p for p in official_candidates(base, space, kind) if p.exists()), None)
        note = "read when no compact table is there (slow); export it once" if found is not None else ""
        if found is not None and kind == "nats" and found.is_dir():
            with os.scandir(found) as entries:
                n = sum(1 for f in entries if f.name.endswith(".pickle.pbz2") and f.name != "meta.pickle.pbz2")
            note = f"{n:,} of {SPACE_SIZE[space]:,} architecture files; " + note
        extra = "" if kind == "tfrecord" else "; reading it needs pip install 'zeroscore[official]'"
        rows.append(_row(item, "found" if found is not None else "missing", found, note, how + extra))
    return rows


def _image_rows(base: Path) -> list[dict]:
    rows = []
    for item, name, how in _IMAGES:
        folder = data.locate(name, base)
        note = ""
        if folder is not None:
            spec = data.DATASETS[name]
            wanted = spec["files"]["train"] + spec["files"]["test"]
            have = [f for f in wanted if (folder / f).is_file()]
            absent = sorted(set(wanted) - set(have))
            note = f"{len(have)} of {len(wanted)} batch files" + (f" (missing: {', '.join(absent)})" if absent else "")
        rows.append(_row(item, "found" if folder is not None else "missing", folder, note, how))
    return rows


def _folder_row(item: str, folder: Path, files: list[str], how: str) -> dict:
    have = [f for f in files if (folder / f).is_file()] if files else \
        (sorted(p.name for p in folder.glob("*.csv.gz")) if folder.is_dir() else [])
    if not have:
        return _row(item, "missing", None, "", how)
    note = f"{len(have)} of {len(files)} files" if files else f"{len(have)} tables"
    return _row(item, "found", folder, note, how)


def check_data(root=None) -> pd.DataFrame:
    """What the data location holds, what is missing, and where to get it: one row per item zeroscore can use.

    Columns: ``item``, ``status`` (``found`` in the data location / ``missing`` / ``shipped``: not there, the copy
    shipped with zeroscore is used), ``path``, ``size`` (on disk), ``note``, ``how_to_get`` (link and download size;
    "see the link" where the publisher states no size). ``df.attrs["root"]`` is the data location and
    ``df.attrs["how_set"]`` how it was chosen (``argument``, ``$ZEROSCORE_DATA`` or ``default cache``).
    Only names and sizes are looked at: no file is opened, so this is safe on untrusted folders.
    """
    base, how_set = resolve_root(root)
    rows = _table_rows(base) + _image_rows(base) + _official_rows(base)
    rows.append(_folder_row("NB201 search splits (nas_splits/)", base / "nas_splits", _SPLIT_FILES,
                            f"{_SPLITS_URL} (3 text files, 0.6 MB)"))
    rows.append(_folder_row("published per-architecture reference scores (zc_proxies_reference/)",
                            base / "zc_proxies_reference", [],
                            "not distributed by zeroscore; sources listed in the project's data folder "
                            "(zc_proxies_reference/PROVENANCE.md): NASLib https://github.com/automl/NASLib, "
                            "https://github.com/BayesWatch/nas-without-training, https://github.com/vilhess/MONET; "
                            "see the links"))
    df = pd.DataFrame(rows, columns=COLUMNS)
    df.attrs["root"] = str(base)
    df.attrs["how_set"] = how_set
    return df
