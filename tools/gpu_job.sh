#!/bin/bash
# One lease of a bare GPU machine (see tools/gpu_bundle.sh for the carried .gpu folder):
#   A. benchmarks/gpu.py on the idle GPU (ms per iteration, peak memory, Ψ's largest rise)
#   B. three trainings of g_σ side by side for TRAIN_MINUTES (the shipped size from gs.pt, the
#      same with Prox-PnP's Hessian penalty, twice the channels), while the device lane runs
#   C. benchmarks/prior_capacity.py on what they exported, until EVAL_SECONDS
# Everything lands in $OUT as it is made (weights exported every minute), so a cut-off run
# still returns its weights and logs.   usage: bash tools/gpu_job.sh [TRAIN_MINUTES] [EVAL_SECONDS]
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/fima_out}
mkdir -p "$OUT" /tmp/fima_logs /tmp/fima_ck
TRAIN_MINUTES=${1:-5}
EVAL_SECONDS=${2:-110}
BENCH_SECONDS=${BENCH_SECONDS:-75}
BENCH_ARGS=${BENCH_ARGS:---sizes 4096 2048 1024 512 256 --warmup 3 --iters 20 --cell-seconds 1.5 --tf32}
DEVICE=${DEVICE:-cuda}
exec > >(tee -a "$OUT/job.log") 2>&1
stamp() { echo "[$(date +%H:%M:%S)] $*"; }
TRAIN_SECONDS=$(awk "BEGIN{print int($TRAIN_MINUTES * 60)}")
SITE=/tmp/fima_site
[ -n "${SKIP_SITE:-}" ] || pip install -q --no-index --no-deps --target "$SITE" .gpu/wheels/*.whl 2>&1 | tail -2
export PYTHONPATH="$SITE:$PWD" PYTHONUNBUFFERED=1 OMP_WAIT_POLICY=PASSIVE
DATA=$PWD/.gpu/data
PY=${PY:-python}
stamp "start"; $PY -c "import torch; print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))"

stamp "A: benchmarks/gpu.py"
timeout $((BENCH_SECONDS + 30)) $PY benchmarks/gpu.py --device "$DEVICE" --budget-seconds "$BENCH_SECONDS" \
    --json "$OUT/gpu_bench.json" $BENCH_ARGS || stamp "benchmark ended with $?"

stamp "B: training for $TRAIN_MINUTES min"
COMMON=(--data "$DATA/train400" --val "$DATA/set12" --gradient-step --activation silu
        --init resources/weights/gs.pt --patch ${PATCH:-128} --batch ${BATCH:-32} --lr-final 1e-6
        --warmup ${WARMUP:-100} --l2-from 0 --minutes "$TRAIN_MINUTES" --ckpt-minutes 1
        --val-minutes 2 --log-seconds 5 --device "$DEVICE" --threads 2 --seed 0)
$PY tools/train_denoiser.py "${COMMON[@]}" --lr 1e-4 --checkpoint /tmp/fima_ck/small.ckpt \
    --export "$OUT/gs_small.pt" > /tmp/fima_logs/small.log 2>&1 &
P1=$!
$PY tools/train_denoiser.py "${COMMON[@]}" --lr 1e-4 --hessian-weight 1e-2 --hessian-eps 0.1 \
    --hessian-iters 4 --hessian-batch 8 --hessian-patch 64 --checkpoint /tmp/fima_ck/prox.ckpt \
    --export "$OUT/gs_prox.pt" > /tmp/fima_logs/prox.log 2>&1 &
P2=$!
$PY tools/train_denoiser.py "${COMMON[@]}" --lr 2e-4 --widen 2 --checkpoint /tmp/fima_ck/wide.ckpt \
    --export "$OUT/gs_wide.pt" > /tmp/fima_logs/wide.log 2>&1 &
P3=$!
[ -n "${SKIP_LANE:-}" ] || timeout "$TRAIN_SECONDS" $PY -m pytest -q -m device_lane -p no:cacheprovider tests -rfEs -k cuda \
    --ignore-glob='tests/test_gui_*' --continue-on-collection-errors ${LANE_ARGS:-} > /tmp/fima_logs/lane.txt 2>&1 || stamp "device lane ended with $?"
[ -n "${SKIP_LANE:-}" ] || tail -25 /tmp/fima_logs/lane.txt
wait $P1 $P2 $P3
for f in small prox wide; do stamp "$f:"; grep -E "checkpoint|step 1 |step 3 |done|Error" /tmp/fima_logs/$f.log | tail -8; done

stamp "C: prior_capacity for $EVAL_SECONDS s"
timeout $((EVAL_SECONDS + 90)) $PY benchmarks/prior_capacity.py --device "$DEVICE" \
    --weights small="$OUT/gs_small.pt" prox="$OUT/gs_prox.pt" wide="$OUT/gs_wide.pt" \
    --workers ${WORKERS:-8} --budget-seconds "$EVAL_SECONDS" --results "$OUT/capacity.jsonl" \
    --data "$DATA" ${EVAL_ARGS:-} || stamp "evaluation ended with $?"
tar czf "$OUT/logs.tar.gz" -C /tmp fima_logs
stamp "end"
