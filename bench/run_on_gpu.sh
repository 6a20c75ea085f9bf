#!/usr/bin/env bash
# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
# Run bench/gpu_checks.py on a GPU machine that cannot reach a package index.
#
# The machine has torch with CUDA but only the CPU onnxruntime and no ROS 2. onnxruntime-gpu
# (about 250 MB) and the ROS 2 wheels from PyPI (rclpy with Fast DDS and the message packages,
# for the node over DDS) travel as one archive cut into parts small enough for each transfer:
#   here:  bench/run_on_gpu.sh prepare          # download the wheels, pack, cut into .whl/part-NN
#   there: bench/run_on_gpu.sh receive          # once per transfer carrying .whl/part-NN
#   there: bench/run_on_gpu.sh run [--quick]    # join, install into a venv, run the checks into $OUT
# The ROS part (the node on the GPU, issue #22) has not been run on a GPU yet: no machine was
# lent since it was written.
set -euo pipefail
cd "$(dirname "$0")/.."
ORT_GPU=onnxruntime-gpu==1.31.1
ROS_WHEELS=('ros-rclpy[fastrtps]' ros-std-msgs ros-sensor-msgs ros-rcl-interfaces
            ros-diagnostic-msgs ros-lifecycle-msgs)
PARTS=/tmp/mtl_wheel_parts
VENV=/tmp/mtl_gpu_venv

for_gpu() {  # download one distribution as a CPython 3.12 manylinux wheel
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 -d "$1" "$2"
}

case "${1:-}" in
  prepare)
    rm -rf .whl && mkdir -p .whl/carry/ros
    for_gpu .whl/carry "$ORT_GPU"
    # the ROS closure is resolved here, then each platform wheel is fetched again for 3.12;
    # pure-Python wheels and sdists (empy) are the same everywhere; numpy is there already
    closure=$(mktemp -d)
    python3 -m pip download -q -d "$closure" "${ROS_WHEELS[@]}"
    for file in "$closure"/*; do
      name=$(basename "$file")
      case "$name" in
        numpy-*) ;;
        *-py3-none-any.whl|*.tar.gz) cp "$file" .whl/carry/ros/ ;;
        *) for_gpu .whl/carry/ros "$(echo "$name" | cut -d- -f1)==$(echo "$name" | cut -d- -f2)" ;;
      esac
    done
    rm -rf "$closure"
    tar -C .whl -cf .whl/carry.tar carry
    (cd .whl && split -b 50M -d carry.tar part- && rm -rf carry carry.tar && ls -l part-*)
    ;;
  receive)
    mkdir -p "$PARTS"
    for part in .whl/part-*; do [ -e "$part" ] && cp "$part" "$PARTS/"; done
    ls -l "$PARTS"
    ;;
  run)
    shift
    python=python3
    if compgen -G "$PARTS/part-*" >/dev/null; then
      rm -rf /tmp/carry && cat "$PARTS"/part-* | tar -C /tmp -xf -
      python3 -m venv --system-site-packages "$VENV"
      "$VENV/bin/python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        /tmp/carry/onnxruntime_gpu-*.whl /tmp/carry/ros/*
      python="$VENV/bin/python"
    fi
    export PYTHONPATH="$PWD:$PWD/bench" PYTHONUNBUFFERED=1
    "$python" -c 'import onnxruntime; print("onnxruntime", onnxruntime.__version__,
                  onnxruntime.get_available_providers())'
    "$python" -c 'import rclpy; print("rclpy", rclpy.__file__)' || true
    "$python" bench/gpu_checks.py "${OUT:-gpu_results}" "$@"
    ;;
  *)
    echo "usage: bench/run_on_gpu.sh prepare | receive | run [--quick]" >&2
    exit 2
    ;;
esac
