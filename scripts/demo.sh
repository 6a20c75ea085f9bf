#!/usr/bin/env bash
# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
# The main job on the embedded default: set up the environment (idempotent), then run the
# whole system as separate processes over DDS with mtl_demo (synthetic drive in KITTI raw
# layout -> mtl_kitti_to_bag -> perception_node with the shipped weights <- mtl_bag_play --clock,
# outputs recorded), and score the weights on held-out synthetic frames with mtl_eval.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=setup_env.sh
. "$repo_root/scripts/setup_env.sh"
output="${1:-$repo_root/demo_output}"
mtl_demo --output "$output" --frames 40
echo
echo "demo: scoring the default weights on 20 held-out synthetic frames (mtl_eval) ..."
mtl_eval --checkpoint "$repo_root/models/synthetic_mbv2_lwrefinenet.pt" --dataset synthetic \
    --seed 1000000 --frames 20 --output "$output/metrics.json"
echo
echo "demo: everything is in $output: mosaic_*.png (image | segmentation | depth), drive.gif,"
echo "      cloud.ply + cloud.png (one fused semantic point cloud), summary.json (frames, drops,"
echo "      latency, rate, device), metrics.json, outputs_bag/ (the recorded node outputs)."
