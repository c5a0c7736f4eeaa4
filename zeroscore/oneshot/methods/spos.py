"""SPOS: single path one-shot (Guo et al., ECCV 2020): uniform single-path supernet training (RSPS's weight step),
then evolution over paths with the supernet's validation accuracy as fitness.

Evolution as the official ``SinglePathOneShot/search.py``: a random population of ``population`` (50) paths; each of
``generations`` (20) generations keeps the ``top`` (10) best paths seen so far, makes ``mutations`` (25) children
(every decision unit -- an NB201 edge, a DARTS node -- redrawn with probability ``mutation_prob`` 0.1) and
``crossovers`` (25) children (each unit from one of two parents), fills up with random paths, and scores the new
ones. Fitness: one-shot accuracy on the first ``fitness_images`` architecture images (SPOS: 40 batches of 200 =
8,000). With batch statistics (``track_running_stats=False``) no BatchNorm recalibration is needed.
"""

from __future__ import annotations

from ..evaluation import evaluate
from ..paths import decision_units, path_arch, path_key, random_path, sample_unit
from .rsps import Rsps

__all__ = ["Spos"]


class Spos(Rsps):
    name = "spos"
    OPTIONS = {"population": 50, "generations": 20, "top": 10, "mutations": 25, "mutation_prob": 0.1,
               "crossovers": 25, "fitness_images": 8000}

    def derive(self, supernet, data):
        o = self.options
        rng, units = self.rng, decision_units(self.layout)
        batches = list(data.valid_batches(self.config.eval_batch_size, max_images=int(o["fitness_images"])))
        scored: dict[bytes, tuple[list, float]] = {}

        def unseen(path, pending):
            key = path_key(path)
            return key not in scored and key not in pending

        def fill(children: dict, make, count: int) -> None:
            for _ in range(10 * count):  # SPOS gives up after ten times as many tries
                if len(children) >= count:
                    break
                child = make()
                if child is not None and unseen(child, children):
                    children[path_key(child)] = child

        def mutate():
            parent = top[int(rng.integers(len(top)))]
            child = [m.copy() for m in parent]
            for unit in units:
                if rng.random() < o["mutation_prob"]:
                    sample_unit(self.layout, child, unit, rng)
            return child

        def crossover():
            a, b = (top[int(i)] for i in rng.choice(len(top), size=2, replace=len(top) < 2))
            child = [m.copy() for m in a]
            for t, rows in units:
                if rng.random() < 0.5:
                    child[t][list(rows)] = b[t][list(rows)]
            return child

        pending: dict[bytes, list] = {}
        fill(pending, lambda: random_path(self.layout, rng), int(o["population"]))
        top: list = []
        for generation in range(int(o["generations"]) + 1):
            paths = list(pending.values())
            for path, acc in zip(paths, evaluate(supernet, paths, batches)):
                scored[path_key(path)] = (path, acc)
            ranked = sorted(scored.values(), key=lambda pa: -pa[1])
            top = [p for p, _ in ranked[: int(o["top"])]]
            if generation == int(o["generations"]):
                break
            pending = {}
            fill(pending, mutate, int(o["mutations"]))
            fill(pending, crossover, int(o["mutations"]) + int(o["crossovers"]))
            fill(pending, lambda: random_path(self.layout, rng), int(o["population"]))
        best, acc = sorted(scored.values(), key=lambda pa: -pa[1])[0]
        images = sum(len(y) for _, y in batches)
        return best, {"selection": f"SPOS evolution, {len(scored)} paths scored on {images} validation images",
                      "one_shot_accuracy": acc, "images": images * len(scored),
                      "arch": str(path_arch(self.layout, best))}
