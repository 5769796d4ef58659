#!/usr/bin/env bash
# Rebuilds the demo models of resources/models/ from nothing: synthetic data (fixed seeds),
# training with `bft train` on the CPU, and the held-out metrics of each model card.
# Usage: resources/models/build-demo-models.sh [pose|texture|depth ...]   (default: all three)
# Needs a built `bft` (cmake --build --preset default --target bft). Takes about an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
bft=${BFT:-build/app/bft}
work=${WORK:-build/demo-models}
size=128
mkdir -p "$work"

synth() { # task seed count out [extra...]
  local task=$1 seed=$2 count=$3 out=$4; shift 4
  [ -f "$out/dataset.json" ] || "$bft" synth --task "$task" --size $size --seed "$seed" --count "$count" --out "$out" "$@"
}

train() { # task ngf steps [extra...]
  local task=$1 ngf=$2 steps=$3; shift 3
  synth "$task" 1 2000 "$work/$task-train"
  synth "$task" 2 400 "$work/$task-heldout" --val 0.5  # val/ (200 samples) is the held-out set
  local run=$work/$task-run
  if [ -d "$run" ]; then "$bft" train --resume "$run"
  else "$bft" train --data "$work/$task-train" --out "$run" --ngf "$ngf" --steps "$steps" --batch 4 \
         --checkpoint-every 500 --val-every 500 --seed 1 "$@"
  fi
  cp "$run/checkpoints/$(cat "$run/checkpoints/latest")/net_G.pth" "resources/models/$task.pth"
  "$bft" eval --checkpoint "resources/models/$task.pth" --data "$work/$task-heldout" --split val --json \
    --grid "$work/$task-grid.png" > "$work/$task-eval.json"
  samples "$task"
}

samples() { # task: the first held-out samples become the editor's demo samples
  local task=$1 src=$work/$1-heldout dst=resources/samples/$1
  rm -rf "$dst"; mkdir -p "$dst"
  cp "$src/dataset.json" "$dst/"
  for role in input guide target; do
    mkdir -p "$dst/val/$role"
    ls "$src/val/$role" | sort | head -4 | while read -r f; do cp "$src/val/$role/$f" "$dst/val/$role/"; done
  done
}

tasks=${*:-pose texture depth}
for t in $tasks; do
  case $t in
    pose)    train pose 24 3000 ;;
    texture) train texture 32 3000 ;;
    depth)   train depth 16 3000 --no-gan ;;
    *) echo "unknown task $t" >&2; exit 2 ;;
  esac
done
