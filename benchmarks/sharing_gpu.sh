#!/usr/bin/env bash
# How far a supernet can be trusted, at the full protocol, for a GPU machine (it does not fit the 2-core CPU):
# NB201 supernet C=16, N=5; the base RSPS supernet trained 250 epochs (NB201's RSPS setting) on the CIFAR-10 search
# split of the data location (a full CIFAR-10 download gives the official 25,000 / 25,000 split); every variant
# (full sharing, few-shot, similarity groups, BN-only, DI-NAS reconstruction, training-free prior) adds 100 epochs;
# 1,000 cells evaluated on all architecture images; 3 seeds. Resumable (checkpoints every epoch).
# Render: python benchmarks/supernet_sharing.py --report --runs runs/sharing_full --channels 16 --depth 5 \
#   --base-epochs 250 --extra-epochs 100 --cells 1000 --max-images 0 --out benchmarks/results/supernet_sharing_gpu.md
# Usage: ZEROSCORE_DATA=... bash benchmarks/sharing_gpu.sh [SEEDS...]   (default seeds 0 1 2)
set -eu
SEEDS=${*:-0 1 2}
python benchmarks/oneshot_nb201.py --protocol full --methods rsps --seeds $SEEDS --device cuda \
  --checkpoints runs/oneshot_nb201_full --csv runs/oneshot_nb201_full.csv
for seed in $SEEDS; do
  python benchmarks/supernet_sharing.py --seeds "$seed" --device cuda --runs runs/sharing_full \
    --base runs/oneshot_nb201_full --channels 16 --depth 5 --base-epochs 250 --extra-epochs 100 \
    --cells 1000 --max-images 0 --threads 4
done
python benchmarks/supernet_sharing.py --report --seeds $SEEDS --runs runs/sharing_full --channels 16 --depth 5 \
  --base-epochs 250 --extra-epochs 100 --cells 1000 --max-images 0 --out benchmarks/results/supernet_sharing_gpu.md
