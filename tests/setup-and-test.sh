#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a passing test suite: installs the build
# dependencies, configures and builds (build/), and runs every test with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-build-deps.sh
cmake --preset default
cmake --build --preset default
ctest --preset default
