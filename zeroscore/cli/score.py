"""``zeroscore score``: every requested indicator of one model, built by an importable factory, on one batch."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from zeroscore.cli._common import data_option, json_object, positive_int, seed, table
from zeroscore.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Score a model built by an importable factory on one batch, with every requested "
                          "indicator, through one shared probe. Example: zeroscore score --model "
                          "zeroscore.models:small_resnet --dataset cifar10 --indicators naswot,ntk_cond")
    parser.add_argument("--model", required=True, metavar="MODULE:FACTORY",
                        help="a callable returning an nn.Module, e.g. zeroscore.models:small_resnet or mypkg.nets:"
                             "build (modules in the current directory are found too)")
    parser.add_argument("--model-kwargs", type=json_object, default=None, metavar="JSON",
                        help='keyword arguments for the factory as a JSON object, e.g. \'{"width": 8}\' '
                             "(default: none)")
    parser.add_argument("--dataset", default="gaussian",
                        help="batch source: gaussian | cifar10 | cifar100 | imagenet16-120 | imagenet16_standin "
                             "(`zeroscore list --datasets`)")
    data_option(parser)
    parser.add_argument("--batch-size", type=positive_int, default=64, help="inputs in the batch")
    parser.add_argument("--indicators", default="all",
                        help="'all', a wildcard such as 'ntk*', or comma-separated names (`zeroscore list`)")
    parser.add_argument("--params", type=json_object, default=None, metavar="JSON",
                        help='hyper-parameters per indicator, e.g. \'{"ntk_cond": {"repeats": 3}}\' (default: each '
                             "paper's)")
    parser.add_argument("--logits", default=None, metavar="INDEX|KEY",
                        help="which element of a tuple/dict model output holds the logits (default: the output "
                             "itself, a dict's 'logits', or the only tensor of a tuple)")
    parser.add_argument("--seed", type=seed, default=0, help="seeds the model's initialisation, the batch and the "
                                                             "indicators' random draws")
    parser.add_argument("--device", default=None, help="cpu | cuda | cuda:N (default: cpu)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def load_factory(spec: str):
    """``module:attr`` -> the attribute, with the current directory importable (as ``python -c`` would)."""
    if ":" not in spec or not all(spec.split(":", 1)):
        raise UsageError(f"--model must look like 'package.module:factory', got {spec!r}")
    module_name, attr = spec.split(":", 1)
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise UsageError(f"--model: cannot import {module_name!r} ({err}); is it installed or in the current "
                         "directory? (or set PYTHONPATH)") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        public = sorted(n for n in vars(module) if not n.startswith("_") and callable(getattr(module, n)))
        raise UsageError(f"--model: module {module_name!r} has no attribute {attr!r}; callables there: "
                         f"{', '.join(public[:12])}") from None


def _logits(text: str | None):
    if text is None:
        return None
    return int(text) if text.lstrip("-").isdigit() else text


def run(args: argparse.Namespace) -> int:
    from zeroscore._nn import seeded_rng
    from zeroscore.data import describe, load_batch
    from zeroscore.scorer import Scorer

    factory = load_factory(args.model)
    scorer = Scorer(args.indicators, params=args.params, seed=args.seed, device=args.device,
                    logits=_logits(args.logits))
    with seeded_rng(args.seed):
        model = factory(**(args.model_kwargs or {}))
    where = describe(args.dataset, root=args.data)
    inputs, targets = load_batch(args.dataset, root=args.data, batch_size=args.batch_size, seed=args.seed)
    if not args.json:
        print(f"# {args.model} on {where}; batch {args.batch_size}, seed {args.seed}, {len(scorer.indicators)} "
              "indicator(s)", flush=True)
    result = scorer.score(model, inputs, targets, progress=not args.no_progress and not args.json)
    if args.json:
        print(json.dumps({
            "model": args.model, "data": where, "batch_size": args.batch_size, "seed": args.seed,
            "values": result.values, "seconds": result.seconds, "errors": result.errors,
            "directions": {n: scorer.direction(n) for n in result.values},
        }, indent=2, default=str))
        return 0
    rows = [{"indicator": n, "value": f"{v:.6g}", "direction": f"{scorer.direction(n)} is better",
             "seconds": f"{result.seconds[n]:.3f}", "error": result.errors.get(n, "")}
            for n, v in result.items()]
    print(table(rows, ["indicator", "value", "direction", "seconds", "error"]))
    return 0
