#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to bFT Studio running: installs the dependencies,
# builds (build/), and starts the editor on a demo sample with the demo model. Arguments go to
# bft-studio (e.g. `--task depth`, `--lang zh_TW`, an image, a project or a checkpoint).
# Without a display (no $DISPLAY / $WAYLAND_DISPLAY), it runs on a virtual X server, saves a
# screenshot of the window once the result is in, and says where.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-build-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target bft-studio bft
studio=build/app/bft-studio
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$studio" "$@"
fi
mkdir -p build/demo
xvfb-run -a -s "-screen 0 1600x1000x24" "$studio" --screenshot build/demo/bft-studio.png "$@"
echo "No display here: bft-studio ran on a virtual screen; its window is in build/demo/bft-studio.png."
echo "On a desktop, run: build/app/bft-studio"
