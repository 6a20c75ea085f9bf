#!/usr/bin/env bash
# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
# Run the whole test suite the way a ROS workspace does: set up the environment (idempotent),
# `colcon build` this package, `colcon test` it (pytest, ament lint included) with pytest's
# output on the console, then `colcon test-result`. Exits non-zero when any test fails.
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
