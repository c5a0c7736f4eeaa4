"""Where benchmark files live: the compact tables' names, the official files' names, the tables shipped with the
package, and how a user gets each file (download link and size)."""

from __future__ import annotations

from pathlib import Path

#: the tables shipped with the package, laid out like a data location (see tables/ATTRIBUTION.md)
SHIPPED_DIR = Path(__file__).resolve().parent / "tables"

#: compact table per space: (sub folder, file names in order of preference)
COMPACT_FILES = {
    "nb201": ("nasbench201", ["nb201_tss_accuracies.csv.gz"]),
    "nats_sss": ("natsbench_sss", ["nats_sss_accuracies.csv.gz"]),
    "nb101": ("nasbench101", ["nb101_accuracies.csv.gz", "naslib_nb101_zc_sample.csv.gz"]),
}

#: the shipped table per space, relative to SHIPPED_DIR (NB101: the 500-cell NASLib sample, the only one shipped)
SHIPPED_FILES = {
    "nb201": "nasbench201/nb201_tss_accuracies.csv.gz",
    "nats_sss": "natsbench_sss/nats_sss_accuracies.csv.gz",
    "nb101": "nasbench101/naslib_nb101_zc_sample.csv.gz",
}

NATS_DIRS = {"nb201": "NATS-tss-v1_0-3ffb9-simple", "nats_sss": "NATS-sss-v1_0-50262-simple"}
NB201_PTH = "NAS-Bench-201-v1_1-096897.pth"
NB101_TFRECORD = "nasbench_only108.tfrecord"
#: sub folders of the data location where official files may sit ("" = the data location itself)
OFFICIAL_SUBDIRS = ["", "nasbench201", "natsbench", "natsbench_sss", "nasbench101"]
#: the official formats each space can be read from, in the order ``load`` tries them after the compact table
OFFICIAL_KINDS = {"nb201": ["nats", "pth"], "nats_sss": ["nats"], "nb101": ["tfrecord"]}

NB101_URL = "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord"

#: how to get each official file: (what and where, download size as published or "size: see the link" where the
#: publisher states none)
DOWNLOADS = {
    "nats_tss": ("NATS-tss-v1_0-3ffb9-simple.tar, Google Drive link in the README of "
                 "https://github.com/D-X-Y/NATS-Bench (untar it)", "size: see the link"),
    "nats_sss": ("NATS-sss-v1_0-50262-simple.tar, Google Drive link in the README of "
                 "https://github.com/D-X-Y/NATS-Bench (untar it)", "size: see the link"),
    "nb201_pth": (f"{NB201_PTH}, Google Drive link in the README of https://github.com/D-X-Y/NAS-Bench-201",
                  "about 4.7 GB"),
    "nb101_tfrecord": (f"{NB101_URL} (documented at https://github.com/google-research/nasbench)", "about 499 MB"),
}


def download(key: str) -> str:
    """``"<what and where>; <size>"`` of an official file."""
    return "; ".join(DOWNLOADS[key])


_EXPORT = "then `zeroscore data export --from {what} --to DIR` and use DIR as the data location"
#: how to get a space's table from the official files (the first suggestion of every missing-table message)
HOW = {
    "nb201": f"Download {download('nats_tss')}; or {download('nb201_pth')}; "
             + _EXPORT.format(what="FOLDER_OR_FILE")
             + ". Without them zeroscore uses the table shipped with it (all 15,625 cells).",
    "nats_sss": f"Download {download('nats_sss')}; " + _EXPORT.format(what="FOLDER")
                + ". Without it zeroscore uses the table shipped with it (all 32,768 channel configurations).",
    "nb101": f"Download {download('nb101_tfrecord')}; " + _EXPORT.format(what=NB101_TFRECORD)
             + ". Without it zeroscore uses the 500-cell NASLib sample shipped with it.",
}


def shipped_path(space: str) -> Path:
    return SHIPPED_DIR / SHIPPED_FILES[space]


def nats_space_of(path: Path) -> str | None:
    """``nb201`` / ``nats_sss`` from a NATS-Bench file or folder name (``tss`` / ``sss``), None when it says neither."""
    name = path.name.lower()
    if "tss" in name or "topology" in name:
        return "nb201"
    if "sss" in name or "size" in name:
        return "nats_sss"
    return None


def compact_candidates(root: Path, space: str) -> list[Path]:
    """Where a compact table of ``space`` may sit: ``root/<sub folder>/<name>``, ``root/<name>``, or ``root`` itself
    when it is the table file."""
    sub, names = COMPACT_FILES[space]
    found = [p for name in names for p in (root / sub / name, root / name)]
    return ([root] if root.name in names else []) + found


def official_name(space: str, kind: str) -> str | None:
    return {"nats": NATS_DIRS.get(space), "pth": NB201_PTH if space == "nb201" else None,
            "tfrecord": NB101_TFRECORD if space == "nb101" else None}[kind]


def official_candidates(root: Path, space: str, kind: str) -> list[Path]:
    """Where an official file of ``kind`` (``nats``, ``pth``, ``tfrecord``) for ``space`` may sit.

    ``root`` may be the official folder or file itself (so ``root=".../NATS-sss-v1_0-50262-simple"`` works, also when
    the folder was renamed but still holds ``meta.pickle.pbz2`` and says tss/sss in its name), its parent, or a data
    location holding it in one of :data:`OFFICIAL_SUBDIRS`.
    """
    name = official_name(space, kind)
    if name is None:
        return []
    itself = root.name == name or (kind == "nats" and (root / "meta.pickle.pbz2").is_file()
                                   and nats_space_of(root) == space)
    return ([root] if itself else []) + [root / sub / name if sub else root / name for sub in OFFICIAL_SUBDIRS]
