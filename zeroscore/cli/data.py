"""``zeroscore data check`` (what the data location holds, what is missing, where to get it) and ``zeroscore data
export`` (official benchmark files, or the shared compact tables, to compact tables)."""

from __future__ import annotations

import argparse

from zeroscore.cli._common import data_option, table


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Inspect the data location or convert benchmark files. zeroscore never downloads: "
                          "`data check` says what is where and how to get what is missing.")
    sub = parser.add_subparsers(dest="data_command", metavar="subcommand", required=True,
                                help="check: what the data location holds; export: write compact tables")
    from zeroscore.cli import HelpFormatter

    check = sub.add_parser("check", formatter_class=HelpFormatter,
                           help="what the data location holds, what is missing, where to get it",
                           description="List every file zeroscore can use, whether the data location holds it, "
                                       "and where to get it.")
    data_option(check)
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    check.set_defaults(data_func=_check)

    export = sub.add_parser("export", formatter_class=HelpFormatter,
                            help="write compact tables from official benchmark files (or a data folder)",
                            description="Convert an official benchmark file or folder (NATS-Bench folder, "
                                        "NAS-Bench-201 .pth, NAS-Bench-101 .tfrecord) into zeroscore's compact "
                                        "table, or re-export the compact tables of a data folder (this is how the "
                                        "tables shipped with the package are built).")
    export.add_argument("--from", dest="source", required=True, metavar="PATH",
                        help="an official NATS-Bench folder, NAS-Bench-201 .pth, NAS-Bench-101 .tfrecord, or a data "
                             "folder holding compact tables")
    export.add_argument("--to", required=True, metavar="DIR", help="output folder")
    export.add_argument("--space", default=None, help="nb201 | nats_sss | nb101 (default: detected from the file)")
    export.add_argument("--overwrite", action="store_true", help="replace existing tables")
    export.set_defaults(data_func=_export)


def run(args: argparse.Namespace) -> int:
    return int(args.data_func(args) or 0)


def _check(args: argparse.Namespace) -> int:
    import json

    from zeroscore.truth import check_data

    report = check_data(args.data)
    if args.json:
        print(json.dumps(report.to_dict("records"), indent=2, default=str))
        return 0
    print(f"data location: {report.attrs.get('root')} ({report.attrs.get('how_set')})")
    print(table(report.to_dict("records"), list(report.columns)))
    return 0


def _export(args: argparse.Namespace) -> int:
    from zeroscore.truth import export

    for path in export(args.source, args.to, space=args.space, overwrite=args.overwrite):
        print(path)
    return 0
