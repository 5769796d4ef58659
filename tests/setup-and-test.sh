#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a passing test suite: installs the build
# dependencies, configures and builds (build/); replays the fuzz corpora under ASan + UBSan
# (build-asan/); builds, installs, tries and removes the Debian package; runs every test with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-build-deps.sh
cmake --preset default
cmake --build --preset default
# The fuzz corpora and past findings once more under AddressSanitizer + UndefinedBehaviorSanitizer
# (only the model library and the replay binary are built there).
cmake --preset asan
cmake --build --preset asan --target bft_fuzz_replay
ctest --preset asan -R '^fuzz_corpus[.]'
# The Debian package: built, validated, installed, run and removed again.
packaging/test-package.sh
# Every test of the default build, last, so that its summary ends the output.
ctest --preset default
