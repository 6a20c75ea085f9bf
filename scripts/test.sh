#!/usr/bin/env bash
# Run the whole test suite: sets up the environment first (idempotent), then builds the
# package with colcon and runs its tests (pytest, including the ament lint checks).
# Exits non-zero when any test fails. Extra arguments go to pytest, e.g. -k checkpoint.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=setup_env.sh
. "$repo_root/scripts/setup_env.sh"
cd "$repo_root"
exec python -m pytest test -p no:cacheprovider "$@"
