#!/usr/bin/env bash
# The training-free searches at their papers' own protocols, for a GPU machine (they do not fit the 2-core CPU):
#   TE-NAS pruning: 3 repeats, NTK batch 72 (TE-NAS's NB201 launcher), 5 seeds, three datasets;
#   TEG-NAS evolution: trainability + expressivity + generalisation ranks (ntk_cond, linear_regions,
#   ntk_generalization), 100 evaluations, 5 seeds, three datasets.
# Rows go to benchmarks/results/search_nb201_gpu.csv (resumable); render with
#   python benchmarks/search_nb201.py --report --csv benchmarks/results/search_nb201_gpu.csv
# Usage: ZEROSCORE_DATA=... bash benchmarks/search_gpu.sh [SEEDS...]   (default seeds 0 1 2 3 4)
set -eu
SEEDS=${*:-0 1 2 3 4}
CSV=benchmarks/results/search_nb201_gpu.csv
python benchmarks/search_nb201.py --methods prune --repeats 3 --prune-batch-size 72 --device cuda \
  --seeds $SEEDS --csv "$CSV"
python benchmarks/search_nb201.py --methods evolve --budget 100 --population 20 --sample 5 --batch-size 64 \
  --evolve-indicators ntk_cond,linear_regions,ntk_generalization --device cuda --seeds $SEEDS --csv "$CSV"
