#!/usr/bin/env bash
# The main job on the embedded default: set up the environment (idempotent), render held-out
# synthetic street frames, run the shipped default weights on them with mtl_infer (images,
# mosaics, semantic PLY) and measure them against the renderer's ground truth with mtl_eval.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=setup_env.sh
. "$repo_root/scripts/setup_env.sh"
output="${1:-$repo_root/demo_output}"
mkdir -p "$output/frames"
python - "$output/frames" <<'PY'
"""Render three held-out synthetic street frames (seeds never used in training)."""
import sys

import cv2
from mtl_perception.synthetic import render_frame

for seed in (1_000_000, 1_000_001, 1_000_002):
    frame = render_frame(seed)
    cv2.imwrite(f'{sys.argv[1]}/street_{seed}.png', frame.rgb[..., ::-1])
PY
intrinsics=$(python -c "from mtl_perception.synthetic import kitti_like_intrinsics as k; i = k(); print(i.fx, i.fy, i.cx, i.cy)")
# shellcheck disable=SC2086
mtl_infer "$output/frames" --ply --intrinsics $intrinsics --output "$output"
echo
echo "demo: evaluating the default weights on 20 held-out synthetic frames ..."
mtl_eval --checkpoint "$repo_root/models/synthetic_mbv2_lwrefinenet.pt" --dataset synthetic \
    --seed 1000000 --frames 20 --output "$output/metrics.json"
echo
echo "demo: results in $output: *_mosaic.png (image | segmentation | depth), *_segmentation.png,"
echo "      *_labels.png, *_depth.png, *.ply (semantic point clouds), metrics.json."
