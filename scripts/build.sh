#!/usr/bin/env bash
# Configures (first time only) and builds Cairn with a CMake preset from CMakePresets.json.
# Incremental: ninja rebuilds only what changed and re-runs CMake itself when a CMakeLists.txt
# changes.
#
# Usage: scripts/build.sh [preset] [extra arguments for `cmake --build`]
#   preset: release (default), debug, asan or tsan. The build tree is build/<preset>.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRESET="${1:-release}"
shift || true

cd "${ROOT}"
# Let ccache share results between checkouts in different folders (CI builds a fresh clone).
export CCACHE_BASEDIR="${ROOT}"
export CCACHE_NOHASHDIR=true
if [[ ! -f "build/${PRESET}/build.ninja" ]]; then
  cmake --preset "${PRESET}"
fi
cmake --build --preset "${PRESET}" "$@"
