#!/usr/bin/env bash
# What ran on the GPU machine lent to a development session (one H100, 16 CPU cores): the GPU tests, the GPU
# speed table and slices of the correlation reproduction, each slice inside one 10-minute command.
#
#   benchmarks/gpu_run.sh PART [SECONDS]
#
# PART  nb201: tests/test_gpu.py, benchmarks/speed.py --device cuda (and --against-references), then the three
#             NB201 settings
#       rest:  the three NATS-Bench SSS settings and NB101
#       topup: the NB201 and SSS settings (or $SETTINGS), resuming $STORE (default runs/gpu_topup.sqlite,
#              carried in; a new one starts from benchmarks/results/cpu_rescoring/stores/); the rows it scores
#              come back as $OUT/gpu_topup_new.sqlite.gz
# SECONDS: wall-time budget of the whole command (default 560). The reproduction runs WORKERS processes (default
# 14) that share the GPU (through MPS when MPS=1 and it starts); its three tiers get SHARE_CORE/SHARE_CHEAP/
# SHARE_EXPENSIVE (default 0.4/0.25/0.25) of the time left, the rest is slack for the architectures in flight.
# RETRY=TEXT first forgets stored rows whose error contains TEXT. Data come from $ZEROSCORE_DATA (default
# .zsdata/, a copy of the shared data folder); what is worth keeping is written to $OUT (default runs/gpu_out).
set -u
START=$(date +%s)
PART=$1
BUDGET=${2:-560}
WORKERS=${WORKERS:-14}
export ZEROSCORE_DATA=${ZEROSCORE_DATA:-$PWD/.zsdata} PYTHONPATH=$PWD PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
OUT=${OUT:-runs/gpu_out}
mkdir -p "$OUT" runs
nvidia-smi -L
python3 -c "import torch, sys; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0), 'python', sys.version.split()[0])"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 20 > "$OUT/nvidia_smi_$PART.csv" 2>&1 &
SMI=$!
STORE=${STORE:-runs/gpu_$PART.sqlite}
case "$PART" in
  nb201)
    timeout 150 python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py > "$OUT/gpu_tests.log" 2>&1
    tail -n 15 "$OUT/gpu_tests.log"
    timeout 170 python3 benchmarks/speed.py --cells 6 --threads 1 --device cuda --out "$OUT/speed_gpu.md" \
      > "$OUT/speed_gpu.log" 2>&1
    tail -n 8 "$OUT/speed_gpu.log"
    # every indicator against its reference algorithm, both on the GPU (issue "Faster than the reference code")
    timeout 240 python3 benchmarks/speed.py --against-references --cells 3 --batch-size 64 --threads 1 \
      --device cuda --out "$OUT/speed_vs_reference_gpu.md" > "$OUT/speed_vs_reference_gpu.log" 2>&1
    tail -n 4 "$OUT/speed_vs_reference_gpu.log"
    SETTINGS=nb201-cifar10,nb201-cifar100,nb201-imagenet16 ;;
  rest) SETTINGS=sss-cifar10,sss-cifar100,sss-imagenet16,nb101-cifar10 ;;
  topup)
    timeout 120 python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py > "$OUT/gpu_tests_topup.log" 2>&1
    tail -n 5 "$OUT/gpu_tests_topup.log"
    # NB101 networks are ~5x bigger: with 15 processes on one GPU some ran out of memory, so NB101 gets its
    # own command with fewer workers (SETTINGS=nb101-cifar10 WORKERS=6)
    SETTINGS=${SETTINGS:-nb201-cifar10,nb201-cifar100,nb201-imagenet16,sss-cifar10,sss-cifar100,sss-imagenet16}
    # a fresh store starts from the committed CPU stores of the six per-sample indicators (the store's key has no
    # device: the GPU then scores only the cells the CPU did not; their rows keep their own machine and command)
    if [ ! -e "$STORE" ]; then
      for seed_store in benchmarks/results/cpu_rescoring/stores/*.sqlite.gz; do
        python3 -c "import sys; from zeroscore.store import open_store; open_store(sys.argv[1]).merge(sys.argv[2])" \
          "$STORE" "$seed_store" && echo "started from $seed_store"
      done
    fi ;;
  *) echo "unknown PART $PART"; exit 2 ;;
esac
if [ "${MPS:-0}" = 1 ] && command -v nvidia-cuda-mps-control > /dev/null; then
  # MPS lets the kernels of the worker processes run side by side instead of time-slicing the GPU
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps-log
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  nvidia-cuda-mps-control -d && sleep 1
  CHECK="import torch; x = torch.randn(2048, 2048, device='cuda'); print('MPS client ok', float((x @ x).norm()))"
  if timeout 60 python3 -c "$CHECK" && timeout 60 python3 -c "$CHECK"; then echo "MPS on"; else
    echo quit | nvidia-cuda-mps-control; unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY; echo "MPS off"; fi
fi
LEFT=$(( BUDGET - ($(date +%s) - START) ))
read -r CORE CHEAP EXPENSIVE <<< "$(python3 -c "m = $LEFT / 60; print(f'{${SHARE_CORE:-0.4} * m:.2f} {${SHARE_CHEAP:-0.25} * m:.2f} {${SHARE_EXPENSIVE:-0.25} * m:.2f}')")"
echo "reproduction: $LEFT s left -> tiers of $CORE / $CHEAP / $EXPENSIVE min on $WORKERS workers"
# the tiers stop themselves; the timeout only guards against a hung worker (the store is copied out either way)
timeout -s INT -k 30 $(( LEFT + 20 )) python3 benchmarks/reproduce_correlations.py --settings "$SETTINGS" \
  --workers "$WORKERS" --device cuda ${RETRY:+--retry-failed "$RETRY"} \
  --n 1000 --n-expensive 1000 --scale nb101-cifar10=0.5 --minutes-core "$CORE" --minutes "$CHEAP" \
  --minutes-expensive "$EXPENSIVE" --seed 0 --threads 1 --store "$STORE" --no-report --no-progress \
  --command-used "benchmarks/gpu_run.sh $PART $BUDGET (WORKERS=$WORKERS; H100, $WORKERS processes sharing the GPU)" \
  2>&1 | tee "$OUT/reproduce_$PART.log" | grep -v "prefix" | tail -n 20
grep "prefix" "$OUT/reproduce_$PART.log" | tail -n 4
kill $SMI 2>/dev/null
# Only the rows scored by this command come back (the whole store can exceed what $OUT returns), gzipped;
# merge them into the local store with zeroscore.store.open_store(store).merge(path) (it reads the .gz).
python3 - "$STORE" "$OUT/gpu_${PART}_new.sqlite" "$START" <<'EOF'
import gzip, os, shutil, sqlite3, sys
src, dst_path, start = sqlite3.connect(sys.argv[1]), sys.argv[2], float(sys.argv[3])
print(src.execute("SELECT dataset, space, indicator, COUNT(*), SUM(error IS NOT NULL) FROM scores "
                  "GROUP BY 1, 2, 3 ORDER BY 2, 1, 3").fetchall())
dst = sqlite3.connect(dst_path)
src.backup(dst)
dst.execute("DELETE FROM scores WHERE created < ?", (start,))
dst.execute("DELETE FROM runs WHERE run_id NOT IN (SELECT DISTINCT run_id FROM scores WHERE run_id IS NOT NULL)")
dst.commit()
print("rows scored by this command:", dst.execute("SELECT COUNT(*) FROM scores").fetchone()[0])
dst.execute("VACUUM")
dst.close()
with open(dst_path, "rb") as f, gzip.open(dst_path + ".gz", "wb") as g:
    shutil.copyfileobj(f, g)
os.remove(dst_path)
EOF
echo "done in $(( $(date +%s) - START )) s"
