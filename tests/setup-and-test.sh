#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a passing test suite: installs the build
# dependencies, configures and builds (build/); builds the engine alone (build-engine/) and checks it
# on the parity fixtures; replays the fuzz corpora under ASan + UBSan
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
# The engine-only build, as a GPU machine with PyTorch alone builds it (README: "Building against
# LibTorch 2.x with CUDA"): it keeps building, and its bft meets every parity fixture.
cmake --preset engine
cmake --build --preset engine
/usr/bin/python3 tests/bench/parity_check.py --bft build-engine/app/bft --device cpu --precision fp32 \
  --fixtures "$(cmake -L -N build | sed -n 's/^BFT_SHARED_DIR:PATH=//p')/fixtures/official-parity"
# The Debian package: built, validated, installed, run and removed again.
packaging/test-package.sh
# Every test of the default build, last, so that its summary ends the output.
ctest --preset default
