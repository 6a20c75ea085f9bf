#!/usr/bin/env bash
# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
# Run the whole test suite the way a ROS workspace does: set up the environment (idempotent),
# `colcon build` this package, `colcon test` it (pytest, ament lint included) with pytest's
# output on the console, then `colcon test-result`; then the ROS tests (test/ros) once more
# against ROS 2 Jazzy's rclpy and messages (the second venv of setup_env.sh), so Kilted and
# Jazzy are both tested on every change. Exits non-zero when any test fails.
# Extra arguments go to pytest, e.g.: scripts/test.sh -k checkpoint
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=setup_env.sh
. "$repo_root/scripts/setup_env.sh"
cd "$repo_root"
touch "$VIRTUAL_ENV/COLCON_IGNORE"
colcon build --base-paths . --event-handlers console_cohesion- >/dev/null
colcon test --base-paths . --event-handlers console_direct+ --return-code-on-test-failure \
  --pytest-args -p no:cacheprovider "$@"
colcon test-result --verbose
jazzy="${MTL_JAZZY_VENV:-$repo_root/.venv-jazzy}"
echo "=== the ROS tests again on ROS 2 Jazzy: rclpy $("$jazzy/bin/python" -c \
  'import importlib.metadata as m; print(m.version("ros-jazzy-rclpy"))') ==="
status=0
PYTHONPATH="$repo_root${PYTHONPATH:+:$PYTHONPATH}" \
  AMENT_PREFIX_PATH="$repo_root/install/mtl_perception${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}" \
  "$jazzy/bin/python" -m pytest -p no:cacheprovider test/ros "$@" || status=$?
[ "$status" -eq 5 ] && status=0  # extra arguments selected no ROS test
exit "$status"
