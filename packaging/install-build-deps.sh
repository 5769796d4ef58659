#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing bFT Studio need, skipping those
# already present. Run as root, or as a user who may sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopencv-dev nlohmann-json3-dev
  libdnnl-dev                  # oneDNN's API: Winograd convolutions for the ResNet trunk (libtorch links the same libdnnl)
  libopenblas0-openmp          # LibTorch only recommends an optimised BLAS; the reference one is 10x slower (OpenMP: one thread pool)
  zlib1g-dev                   # CRC checks of zip checkpoints
  libgloo-dev                  # data-parallel training: c10d's Gloo process group includes its headers
  libhdf5-dev libmatio-dev     # .mat files: NYU Depth v2 (MATLAB v7.3 = HDF5), splits.mat and the authors' inputs (v5)
  libgtest-dev python3-torch   # tests: GoogleTest, and PyTorch to check interop with Python
  # the editor: Qt 6 Widgets, Charts (training curves; it needs Qt6OpenGL's CMake files, only a Recommends of qt6-base-dev), SVG icons, Qt Test, lupdate/lrelease, Qt's own translations, a CJK
  # font for the Traditional Chinese interface, and an X server for machines without a display
  qt6-base-dev libqt6opengl6-dev qt6-charts-dev qt6-svg-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools qt6-translations-l10n
  libgl-dev fonts-wqy-microhei xvfb xauth
  # the Debian package and its checks: icons from the SVG, lintian and the desktop validators
  librsvg2-bin lintian desktop-file-utils appstream man-db
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
