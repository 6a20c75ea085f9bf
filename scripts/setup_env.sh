#!/usr/bin/env bash
# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
# Create or refresh the project's virtual environment; safe to run any number of times.
#   - Debian packages that Open3D and the venv need (apt-get, via sudo when not root)
#   - a virtualenv at $MTL_VENV (default: .venv in the repository)
#   - this package in editable mode with its runtime, ROS-from-PyPI, teachers, INT8 and test
#     extras
#   - a second virtualenv at $MTL_JAZZY_VENV (default: .venv-jazzy) with ROS 2 Jazzy's rclpy and
#     message wheels, sharing every non-ROS package of the first one, so the ROS tests also
#     run against an LTS rclpy (scripts/test.sh)
# Source it (". scripts/setup_env.sh") to get the venv activated in your shell: the install
# steps run in a subshell with strict options, so sourcing changes nothing in your shell but
# PATH and VIRTUAL_ENV (no set -e left behind, no helper functions).

_mtl_repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_mtl_venv="${MTL_VENV:-$_mtl_repo_root/.venv}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup_env: need root (or sudo) to run: $*" >&2; return 1; fi
}

install_debian_packages() {
  local missing=()
  command -v dpkg-query >/dev/null || return 0
  python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
  for package in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup_env: installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_python_packages() {
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  local stamp="$venv/.mtl_perception_installed"
  local wanted
  wanted="$(cat "$repo_root/setup.py" "$repo_root/setup.cfg" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "setup_env: installing Python packages into $venv (first time: several minutes)"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -e "$repo_root[runtime,ros,teachers,int8,test]"
    echo "$wanted" >"$stamp"
  fi
}

install_jazzy_packages() {
  # ROS 2 Jazzy from PyPI in its own venv (its wheels reuse the Kilted wheels' distribution
  # names); a .pth line appends the main venv's site-packages after its own, so torch & co.
  # are shared while every ROS package resolves to Jazzy's.
  [ -x "$jazzy/bin/python" ] || python3 -m venv "$jazzy"
  local stamp="$jazzy/.mtl_perception_installed"
  local wanted
  wanted="$(printf '%s\n' "${jazzy_packages[@]}" "$venv" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "setup_env: installing ROS 2 Jazzy wheels into $jazzy"
    "$jazzy/bin/python" -m pip install -q "${jazzy_packages[@]}"
    local site
    site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
    "$jazzy/bin/python" -c 'import sys, sysconfig, pathlib; pathlib.Path(sysconfig.get_path("purelib"), "mtl_shared_site.pth").write_text(sys.argv[1] + "\n")' "$site"
    echo "$wanted" >"$stamp"
  fi
}

if ! (
  set -euo pipefail
  repo_root="$_mtl_repo_root"
  venv="$_mtl_venv"
  jazzy="${MTL_JAZZY_VENV:-$_mtl_repo_root/.venv-jazzy}"
  debian_packages=(libusb-1.0-0 libgl1 libgomp1)
  jazzy_packages=('ros-jazzy-rclpy[fastrtps]' ros-jazzy-std-msgs ros-jazzy-sensor-msgs
                  ros-jazzy-diagnostic-msgs ros-jazzy-rcl-interfaces ros-jazzy-lifecycle-msgs)
  install_debian_packages
  install_python_packages
  install_jazzy_packages
); then
  echo "setup_env: setting up the environment failed (see above)" >&2
  unset -f as_root install_debian_packages install_python_packages install_jazzy_packages
  unset _mtl_repo_root _mtl_venv
  return 1 2>/dev/null || exit 1
fi
case ":$PATH:" in *":$_mtl_venv/bin:"*) ;; *) export PATH="$_mtl_venv/bin:$PATH" ;; esac
export VIRTUAL_ENV="$_mtl_venv"
unset -f as_root install_debian_packages install_python_packages install_jazzy_packages
unset _mtl_repo_root _mtl_venv
