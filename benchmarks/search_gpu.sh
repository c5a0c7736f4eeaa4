#!/usr/bin/env bash
# The training-free seed systems at their papers' own protocols, for a GPU machine (the full runs do not fit the
# 2-core CPU; the CPU runs committed in search_nb201.md are stated there):
#   TE-NAS pruning (--protocol tenas): 3 initialisations per measurement, NTK batch 72 (TE-NAS's NB201 launcher),
#     5 seeds, three datasets;
#   TEG-NAS evolution (--protocol tegnas): NTK condition number + linear regions + NTK regression error measured on
#     the TE-NAS proxy supernets (3 initialisations, batch 64), population 256, tournament 64, 1000 steps
#     (1256 evaluations), ranks summed within each tournament, the best of the final population returned
#     (VITA-Group/TEGNAS evolution_launch.py, R_EA.py); 5 seeds, three datasets.
# Rows (prune_tenas_protocol, evolve_tegnas_protocol) go to benchmarks/results/search_nb201_gpu.csv (resumable);
# render with
#   python benchmarks/search_nb201.py --report --csv benchmarks/results/search_nb201_gpu.csv
# Usage: ZEROSCORE_DATA=... bash benchmarks/search_gpu.sh [SEEDS...]   (default seeds 0 1 2 3 4)
set -eu
SEEDS=${*:-0 1 2 3 4}
CSV=benchmarks/results/search_nb201_gpu.csv
python benchmarks/search_nb201.py --methods prune --protocol tenas --device cuda \
  --seeds $SEEDS --csv "$CSV"
python benchmarks/search_nb201.py --methods evolve --protocol tegnas --device cuda \
  --seeds $SEEDS --csv "$CSV"
