#!/usr/bin/env bash
# Rebuilds the demo models of resources/models/ from nothing: synthetic data (fixed seeds),
# training with `bft train` on the CPU, held-out metrics beside the baselines and the one-way FiLM
# (uFT) generator trained the same way, the model cards, and the editor's demo samples.
# Usage: resources/models/build-demo-models.sh [pose|texture|depth ...]   (default: all three)
# Needs a built `bft` (cmake --build --preset default --target bft). About 3 hours on 2 cores;
# finished steps are skipped, so it can be stopped and started again. BFT_DEMO_UFT_TASKS lists the
# tasks whose uFT comparison is trained (default: all three).
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

run() { # run_dir: train (or finish an interrupted run); the flags follow
  local dir=$1; shift
  if [ -d "$dir" ]; then "$bft" train --resume "$dir"; else "$bft" train --out "$dir" "$@"; fi
}

latest() { echo "$1/checkpoints/$(cat "$1/checkpoints/latest")/net_G.pth"; }

samples() { # task: the first held-out samples become the editor's demo samples
  local task=$1 src=$work/$1-heldout dst=resources/samples/$1
  rm -rf "$dst"; mkdir -p "$dst"
  cp "$src/dataset.json" "$dst/"
  for role in input guide target; do
    mkdir -p "$dst/val/$role"
    ls "$src/val/$role" | sort | head -4 | while read -r f; do cp "$src/val/$role/$f" "$dst/val/$role/"; done
  done
}

demo() { # task ngf steps [extra train flags...]
  local task=$1 ngf=$2 steps=$3; shift 3
  local flags=(--data "$work/$task-train" --ngf "$ngf" --steps "$steps" --batch 4 --checkpoint-every 500 --val-every 500 --seed 1 "$@")
  synth "$task" 1 2000 "$work/$task-train"
  synth "$task" 2 400 "$work/$task-heldout" --val 0.5  # val/ (200 samples) is the held-out set
  run "$work/$task-run" "${flags[@]}"
  # Shipped in float16 (each model <= 10 MB); every loader casts the weights back to float32.
  "$bft" convert --half "$(latest "$work/$task-run")" "resources/models/$task.pth"
  "$bft" eval --checkpoint "resources/models/$task.pth" --data "$work/$task-heldout" --split val --json \
    --grid "$work/$task-grid.png" > "$work/$task-eval.json"
  local uft_eval=""
  if [[ " ${BFT_DEMO_UFT_TASKS-pose texture depth} " == *" $task "* ]]; then
    run "$work/$task-uft-run" "${flags[@]}" --film uFT
    "$bft" eval --checkpoint "$(latest "$work/$task-uft-run")" --data "$work/$task-heldout" --split val --json \
      > "$work/$task-uft-eval.json"
    uft_eval=$work/$task-uft-eval.json
  fi
  python3 resources/models/make-card.py "$task" "$work/$task-run" "$work/$task-eval.json" $uft_eval --size $size \
    --out resources/models \
    --command "bft synth --task $task --size $size --seed 1 --count 2000 --out $task-train" \
    --command "bft synth --task $task --size $size --seed 2 --count 400 --val 0.5 --out $task-heldout" \
    --command "bft train --out $task-run ${flags[*]//$work\//}" \
    --command "bft convert --half $task-run/checkpoints/step_$(printf %07d "$steps")/net_G.pth $task.pth" \
    --command "bft eval --checkpoint $task.pth --data $task-heldout --split val" \
    --command "# the uFT row: the same bft train with --film uFT"
  samples "$task"
}

tasks=${*:-pose texture depth}
for t in $tasks; do
  case $t in
    pose)    demo pose 16 4000 ;;
    texture) demo texture 16 3000 ;;
    depth)   demo depth 16 9000 --no-gan ;;
    *) echo "unknown task $t" >&2; exit 2 ;;
  esac
done
