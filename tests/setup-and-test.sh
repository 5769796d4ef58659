#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a passing test suite: installs the build
# dependencies, configures and builds (build/), and runs every test with CTest; then replays the
# fuzz corpora under ASan + UBSan (build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-build-deps.sh
cmake --preset default
cmake --build --preset default
ctest --preset default
# The fuzz corpora and past findings once more under AddressSanitizer + UndefinedBehaviorSanitizer
# (only the model library and the replay binary are built there).
cmake --preset asan
cmake --build --preset asan --target bft_fuzz_replay
ctest --preset asan -R '^fuzz_corpus[.]'
