#!/usr/bin/env bash
# Installs what building mixprec needs on Debian 12, only where something is missing.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds the benchmarks' peer libraries)
set -euo pipefail
# CLI11 and nlohmann-json: mixprec-compare (the main job) and its tests. DLPack: tensor
# exchange. pybind11, NumPy, SciPy and pytest: the Python bindings and their tests.
packages=(build-essential cmake libgtest-dev libbenchmark-dev libeigen3-dev libcli11-dev nlohmann-json3-dev
          libdlpack-dev pybind11-dev python3-dev python3-numpy python3-scipy python3-pytest)
if [[ "${1:-}" == "--bench" ]]; then
  # Debian's oneDNN CMake package requires OpenCL (its GPU runtime), which libdnnl-dev only
  # recommends: without it configuring the benchmarks fails.
  packages+=(libopenblas-openmp-dev libdnnl-dev ocl-icd-opencl-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
