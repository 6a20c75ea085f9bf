#!/usr/bin/env bash
# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
# Run bench/gpu_checks.py on a GPU machine that cannot reach a package index.
#
# The machine has torch with CUDA but only the CPU onnxruntime; onnxruntime-gpu (about 250 MB)
# travels as a wheel cut into parts small enough for each transfer:
#   here:  bench/run_on_gpu.sh prepare          # download the wheel into .whl/, cut it into parts
#   there: bench/run_on_gpu.sh receive          # once per transfer carrying .whl/part-NN
#   there: bench/run_on_gpu.sh run [--quick]    # join the parts, install, run the checks into $OUT
set -euo pipefail
cd "$(dirname "$0")/.."
ORT_GPU=onnxruntime-gpu==1.31.1
PARTS=/tmp/mtl_wheel_parts

case "${1:-}" in
  prepare)
    mkdir -p .whl
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux_2_28_x86_64 -d .whl "$ORT_GPU"
    (cd .whl && split -b 50M -d onnxruntime_gpu-*.whl part- && ls -l part-*)
    ;;
  receive)
    mkdir -p "$PARTS"
    for part in .whl/part-*; do [ -e "$part" ] && cp "$part" "$PARTS/"; done
    ls -l "$PARTS"
    ;;
  run)
    shift
    if compgen -G "$PARTS/part-*" >/dev/null; then
      wheel=/tmp/onnxruntime_gpu-${ORT_GPU#*==}-cp312-cp312-manylinux_2_28_x86_64.whl
      cat "$PARTS"/part-* >"$wheel"
      python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site "$wheel"
      export PYTHONPATH=/tmp/site
    fi
    export PYTHONPATH="$PWD:$PWD/bench:${PYTHONPATH:-}" PYTHONUNBUFFERED=1
    python3 -c 'import onnxruntime; print("onnxruntime", onnxruntime.__version__,
                onnxruntime.get_available_providers())'
    python3 bench/gpu_checks.py "${OUT:-gpu_results}" "$@"
    ;;
  *)
    echo "usage: bench/run_on_gpu.sh prepare | receive | run [--quick]" >&2
    exit 2
    ;;
esac
