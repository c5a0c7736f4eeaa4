"""How well do indicators rank architectures? Correlations, rank ensembles and paper-style tables.

Pure functions, DataFrame in / DataFrame out:

* :func:`correlate` -- per indicator and accuracy column: Spearman, Kendall tau-b, Pearson, top-k precision,
  best true rank among the predicted top-k, bootstrap confidence intervals (:mod:`.correlate`, statistics in
  :mod:`.stats`);
* :func:`rank_aggregate` -- a rank ensemble of several indicators as a pseudo-indicator (:mod:`.ensemble`);
* :func:`table`, :func:`to_markdown`, :func:`to_latex`, :func:`to_csv` -- paper-style tables (:mod:`.tables`);
* :func:`compare_published`, :func:`compare_scores` -- our correlations / scores next to published ones
  (:mod:`.published`);
* :func:`wide_scores`, :func:`indicator_labels`, :func:`complete_prefix` -- shapes of score frames
  (:mod:`.frames`).

Scores come either as the tidy frame of :func:`zeroscore.score_many` / :func:`zeroscore.store.load_scores`
(columns ``arch, indicator, value`` and optionally ``seed``, ``dataset``, ``space``, ``params_hash`` ...) or as a
wide frame (index = architecture, one column per indicator).

Conventions
    *Direction.* Every indicator is oriented so that larger = predicted better before anything is computed:
    values of lower-is-better indicators (registry ``higher_is_better = False``, e.g. ``ntk_cond``) are
    multiplied by -1 (:mod:`zeroscore.ranking`). A positive correlation therefore always means "agrees with
    accuracy". Names not in the registry (ensembles made by :func:`rank_aggregate`, external columns) count as
    higher-is-better; pass ``directions={name: False}`` to override.

    *Seeds.* Values of the same (arch, indicator) over several seeds are averaged before ranking; if any seed
    failed (NaN) the average is NaN, i.e. the arch counts as failed for that indicator.

    *Failures and infinities.* NaN values are failures: counted in ``n_failed`` and excluded. ``+-inf`` values
    are kept and ranked at the extreme (``+inf`` best, ``-inf`` worst, ties among themselves) by the rank-based
    statistics (Spearman, Kendall, top-k, ensembles); Pearson, which needs finite numbers, leaves them out
    (``n_inf`` counts them). With ``inf="drop"`` they are treated as failures everywhere. Rank ensembles give an
    architecture with a failed component NaN (``failed="exclude"`` of :mod:`zeroscore.ranking`).

    *Top-k.* For a fraction ``f`` of ``n`` architectures, ``k = max(1, ceil(f * n))``. The true top-k are the
    archs whose accuracy is at least the k-th largest accuracy. ``top{p}`` (e.g. ``top5`` for 5 %) is the
    fraction of the k highest-scored archs that are in the true top-k (the "top-k% / top-k%" metric of
    Abdelfattah et al., ICLR 2021, and NAS-Bench-Suite-Zero). Ties in score at the k-th place are broken
    uniformly at random *in expectation* (tie-aware, not by row order), so a constant indicator gets the
    chance level ``k_true/n`` rather than an artefact of the sort. ``best_rank_top{p}`` is the best true rank
    (1 = most accurate; ties share the smallest rank) among the archs whose score ties or beats the k-th
    highest score.

    *Confidence intervals.* Percentile bootstrap (``bootstrap`` resamples of the arch pairs, with replacement,
    ``numpy.random.default_rng(seed)``), 95 % intervals ``spearman_lo``/``spearman_hi`` and
    ``kendall_lo``/``kendall_hi``.
"""

from __future__ import annotations

from zeroscore.analysis.correlate import correlate
from zeroscore.analysis.ensemble import ENSEMBLE_METHODS, rank_aggregate
from zeroscore.analysis.frames import GROUP_COLUMNS, complete_prefix, indicator_labels, wide_scores
from zeroscore.analysis.published import PUBLISHED_METRICS, check_published, compare_published, compare_scores
from zeroscore.analysis.stats import bootstrap_intervals, kendall, pearson, spearman, topk_precision
from zeroscore.analysis.tables import table, to_csv, to_latex, to_markdown
from zeroscore.ranking import higher_is_better as direction

__all__ = [
    "correlate",
    "rank_aggregate",
    "table",
    "to_markdown",
    "to_latex",
    "to_csv",
    "wide_scores",
    "direction",
    "spearman",
    "kendall",
    "pearson",
    "topk_precision",
    "bootstrap_intervals",
    "indicator_labels",
    "complete_prefix",
    "compare_published",
    "compare_scores",
    "check_published",
    "GROUP_COLUMNS",
    "ENSEMBLE_METHODS",
    "PUBLISHED_METRICS",
]
