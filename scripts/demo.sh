#!/usr/bin/env bash
# The main job on the embedded default: set up the environment (idempotent), generate a
# street-like test image and run offline inference on it with mtl_infer.
# NOTE: until default weights ship in models/, the network is UNTRAINED (random weights):
# this shows the pipeline working end to end, not a meaningful segmentation or depth.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=setup_env.sh
. "$repo_root/scripts/setup_env.sh"
output="${1:-$repo_root/demo_output}"
mkdir -p "$output"
python - "$output/input.png" <<'PY'
"""Draw a simple street-like scene: sky, facades with windows, road with a lane marking."""
import sys

import cv2
import numpy as np

height, width = 192, 640
image = np.zeros((height, width, 3), np.uint8)
rows = np.linspace(0.0, 1.0, height)[:, None, None]
image[:] = (235 - 60 * rows) * np.array([0.55, 0.75, 1.0])
image[40:110, :260] = (150, 120, 100)
image[55:110, 380:] = (120, 125, 135)
for x in range(20, 240, 40):
    image[55:75, x:x + 20] = (60, 80, 110)
road = np.array([[0, height], [width, height], [width // 2 + 40, 110], [width // 2 - 40, 110]])
cv2.fillPoly(image, [road], (85, 85, 90))
cv2.line(image, (width // 2, height), (width // 2, 112), (240, 240, 240), 3)
cv2.imwrite(sys.argv[1], image[..., ::-1])
PY
mtl_infer "$output/input.png" --random-init --ply --output "$output"
echo
echo "demo: results in $output (input.png, input_mosaic.png, input_segmentation.png,"
echo "      input_depth.png, input_labels.png, input.ply)."
echo "demo: the network is UNTRAINED (random weights) until default weights ship in models/."
