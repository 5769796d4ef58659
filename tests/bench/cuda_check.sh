#!/usr/bin/env bash
# The checks and benchmarks for a CUDA machine that has PyTorch and nothing else of ours (no Qt,
# OpenCV or test framework): builds the engine-only bft against the LibTorch inside that PyTorch,
# runs every official-parity fixture on the GPU (fp32 must stay within 1e-4), prints where a pose
# forward's time goes, layer by layer, and times our engine against PyTorch eager on the GPU, with
# and without CUDA graphs.
#
#   tests/bench/cuda_check.sh OUTDIR [FIXTURES]     (FIXTURES: the official-parity folder)
#
# Without zlib's header on the machine, set BFT_ZLIB_ROOT to an unpacked zlib1g-dev (+ zlib1g).
# BFT_CHECK_ROUNDS sets the benchmark's rounds (2). Everything it prints also goes to OUTDIR/cuda_check.log;
# the JSON reports land in OUTDIR.
set -uo pipefail
out=${1:?usage: cuda_check.sh OUTDIR [FIXTURES]}
fixtures=${2:-../shared/fixtures/official-parity}
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec > >(tee -a "$out/cuda_check.log") 2>&1
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
python=${PYTHON:-python3}

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
nproc
$python -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version(), "GPU", torch.cuda.get_device_name(0))'
g++ --version | head -1

echo "== build (engine only, against PyTorch's LibTorch)"
prefix=$($python -c 'import torch; print(torch.utils.cmake_prefix_path)')
std=$($python -c 'import torch; v = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2]); print(20 if v >= (2, 12) else 17)')
extra=()
if [ -n "${BFT_ZLIB_ROOT:-}" ] && [ ! -f /usr/include/zlib.h ]; then
  libz=$(ldconfig -p | awk '/libz\.so\.1 .*x86-64/ {print $NF; exit}')
  extra+=(-DZLIB_INCLUDE_DIR="$BFT_ZLIB_ROOT/usr/include" -DZLIB_LIBRARY="${libz:-$BFT_ZLIB_ROOT/lib/x86_64-linux-gnu/libz.so.1}")
fi
if [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH CUDACXX=/usr/local/cuda/bin/nvcc
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
time cmake -S . -B build-cuda "${generator[@]}" -DBFT_ENGINE_ONLY=ON -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_STANDARD="$std" -DCMAKE_PREFIX_PATH="$prefix" "${extra[@]}" > "$out/configure.log" 2>&1
rc=$?
tail -n 25 "$out/configure.log"
[ $rc -eq 0 ] || { echo "configure failed"; exit 1; }
# Every error at once (-k 0 / -k): a build there is a scarce thing.
time cmake --build build-cuda -j "$(nproc)" -- $([ ${#generator[@]} -gt 0 ] && echo "-k 0" || echo "-k") > "$out/build.log" 2>&1
rc=$?
grep -E "error|Error" "$out/build.log" | head -n 60
if [ $rc -ne 0 ]; then
  echo "build failed; PyTorch eager alone, for the record:"
  for c in pose256 texture256; do
    $python - "$c" "$out/$c.pth" <<'PY'
import sys; sys.path[:0] = ["tests/reference", "tests/bench"]
import torch, bft_torch
from compare_with_pytorch import CONFIGS
torch.save(bft_torch.build(**CONFIGS[sys.argv[1]][0]).state_dict(), sys.argv[2])
PY
    for tf32 in on off; do
      echo "$c eager, TF32 $tf32: $($python tests/bench/compare_with_pytorch.py --worker --config $c --weights "$out/$c.pth" \
        --size 256 --batch 1 --threads 1 --runs 20 --warmup 5 --device cuda --torch-tf32 $tf32)"
    done
    rm -f "$out/$c.pth"
  done
  exit 1
fi
bft=build-cuda/app/bft
$bft --version
ldd $bft | grep -E "torch|c10|cuda" | head

echo "== parity on the GPU (fp32 within each fixture's tolerance; bf16 reported)"
$python tests/bench/parity_check.py --bft $bft --fixtures "$fixtures" --device cuda --precision fp32,bf16 \
  --json "$out/parity_cuda.json"
parity=$?

# Before the comparisons: the reading the next change needs first, should the lease run out.
echo "== where a pose forward's time goes on the GPU (each layer waits for its kernels)"
for p in bf16 fp32; do
  echo "-- pose256 $p"
  $bft bench --preset pose --device cuda --precision $p --runs 3 --warmup 3 --profile "$out/trace.json" > /dev/null &&
    $python tests/bench/profile_summary.py "$out/trace.json" --top 8
done
rm -f "$out/trace.json"

echo "== ours against PyTorch eager on the GPU"
# Each measurement is a fresh process (LibTorch's and cuDNN's start-up are most of its time), so
# the rounds are few. PyTorch as it ships (cuDNN's fp32 in TF32); ours in fp32 (exact) and bf16,
# CUDA graphs on.
rounds=${BFT_CHECK_ROUNDS:-2}
timeout 240 $python tests/bench/compare_with_pytorch.py --bft $bft --device cuda --threads 1 --batch 1 \
  --precision fp32,bf16 --rounds "$rounds" --runs 20 --warmup 5 --json "$out/compare_cuda.json"
# Without CUDA graphs, and PyTorch in exact fp32 too: what the graphs give, and fp32 against fp32.
timeout 90 $python tests/bench/compare_with_pytorch.py --bft $bft --device cuda --threads 1 --batch 1 \
  --precision fp32,bf16 --rounds "$rounds" --runs 20 --warmup 5 --torch-tf32 off --ours-args=--no-cuda-graph \
  --configs pose256 --json "$out/compare_cuda_nograph.json"
echo "== done (parity exit $parity)"
exit $parity
