#!/usr/bin/env bash
# The GPU figures of the planner, in one prepared run (about 8 minutes on one H200).
#
# Where a GPU machine is lent through the project's `device` tool, from the repository root:
#   1. once, here (the GPU image lacks these packages; it has torch, numba, numpy, tqdm, imageio):
#        echo /.whl/ >> .git/info/exclude
#        python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#          --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
#          -d .whl pettingzoo==1.27.0 gymnasium==1.4.0 farama-notifications cloudpickle \
#          ray==2.60.0 tomli-w
#   2. run: `bash benchmarks/gpu_check.sh` with `.whl` carried; the outputs land in $OUT
#      (or ./gpu_out where $OUT is unset).
#
# It runs: self-play at the paper budget with --device cuda (16 and 128 games at once; goal:
# >= 200 env steps/s on one GPU), the forward rates on the GPU, and the decisions of the GPU
# (fp32 and bf16) against the CPU's fp32 on the same prepared decisions.
set -uo pipefail
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONPATH=${PYTHONPATH:-$PWD} PYTHONUNBUFFERED=1
nvidia-smi | tee "$OUT/nvidia_smi.txt"
run() {  # name, command...: each part's output in its own file, a failure does not stop the rest
    local name=$1
    shift
    echo "== $name: $*"
    timeout 300 "$@" 2>&1 | tee "$OUT/$name.txt"
}
run throughput_16 python3 -m benchmarks.selfplay_throughput --device cuda --games 16 --repeats 1
run throughput_128 python3 -m benchmarks.selfplay_throughput --device cuda --games 128 --repeats 1
run forward python3 -m benchmarks.forward_rates --device cuda --quick
run agreement python3 -m benchmarks.inference_precision --device cuda --decisions 300 --episodes 32
