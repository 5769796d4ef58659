#!/usr/bin/env bash
# Builds the Debian package from build/ (configured and built already), validates it, installs it
# as a user would (apt-get install ./bft-studio_*.deb), runs the installed programs, and removes
# it again. Run as root, or as a user who may sudo.
#   packaging/test-package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
fixture=../shared/fixtures/official-parity/pose_resnet

echo "== validators"
desktop-file-validate packaging/io.github.bftstudio.BftStudio.desktop
appstreamcli validate --no-net packaging/io.github.bftstudio.BftStudio.metainfo.xml
xmllint --noout packaging/bft-studio-mime.xml 2>/dev/null || python3 -c 'import sys,xml.dom.minidom as m; m.parse(sys.argv[1])' packaging/bft-studio-mime.xml

echo "== package"
rm -f build/bft-studio_*.deb
cmake --build --preset default --target package
deb=$(ls build/bft-studio_*_amd64.deb)
dpkg-deb --info "$deb" | grep -E "Package|Version|Depends"
# lintian: no errors (warnings are printed, and fail nothing).
lintian --fail-on error --allow-root "$deb"

echo "== install, run, remove"
$sudo apt-get install -y "./$deb" > /dev/null
trap '$sudo apt-get remove -y bft-studio > /dev/null' EXIT
bft --version
bft-studio --version
bft info "$fixture/weights.pth" > /dev/null
out=$(mktemp -d)
bft translate --device cpu --checkpoint "$fixture/weights.pth" --input "$fixture/input.npy" --guide "$fixture/guide.npy" --output "$out/y.npy"
test -s "$out/y.npy"
# The editor, installed: it finds its demo model and samples under /usr/share/bft-studio.
XDG_CONFIG_HOME=$out/config XDG_DATA_HOME=$out/data QT_QPA_PLATFORM=offscreen timeout 300 \
  bft-studio --no-restore --screenshot "$out/shot.png" > /dev/null 2>&1
test -s "$out/shot.png"
man -w bft > /dev/null && man -w bft-studio > /dev/null
test -f /usr/share/bash-completion/completions/bft
echo "package OK: $deb"
