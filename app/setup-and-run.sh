#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to bFT Studio running: installs the dependencies,
# builds (build/), and runs the `bft` command line on the pose-transfer parity fixture.
# (The editor, bft-studio, takes this place once it exists.)
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-build-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target bft
bft=build/app/bft
case_dir=../shared/fixtures/official-parity/pose_resnet
if [ $# -gt 0 ]; then
  exec "$bft" "$@"
fi
"$bft" info "$case_dir/weights.pth"
mkdir -p build/demo
"$bft" translate --checkpoint "$case_dir/weights.pth" --input "$case_dir/input.npy" --guide "$case_dir/guide.npy" \
  --output build/demo/pose_output.npy --film-dir build/demo/film
echo "wrote build/demo/pose_output.npy and the gamma/beta maps in build/demo/film; try: build/app/bft --help"
