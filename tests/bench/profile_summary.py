#!/usr/bin/env python3
"""Sums a `bft bench --profile` trace by layer kind (the engine's `bft::layer::*` ranges) and lists
the operators that took the most time, so that one profiled forward says where its time went:

  build/app/bft bench --preset pose --profile pose.json && tests/bench/profile_summary.py pose.json

On a GPU the profiled forward waits for each layer's kernels, so the layer totals are device time;
the operators inside a layer are then only their launches.
"""
import argparse
import collections
import json


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=12, help="how many operators to list")
    args = ap.parse_args()
    with open(args.trace) as f:
        events = [e for e in json.load(f) if e.get("ph") == "X" and "dur" in e]
    layers = collections.defaultdict(lambda: [0, 0.0])
    ops = collections.defaultdict(lambda: [0, 0.0])
    for e in events:
        name = e["name"]
        bucket = layers if name.startswith("bft::layer::") else ops
        bucket[name][0] += 1
        bucket[name][1] += e["dur"] / 1000.0  # us -> ms
    total = sum(ms for _, ms in layers.values())
    print(f"{'layer':<30} {'calls':>5} {'ms':>9} {'share':>6}")
    for name, (n, ms) in sorted(layers.items(), key=lambda kv: -kv[1][1]):
        print(f"{name[len('bft::layer::'):]:<30} {n:>5} {ms:>9.3f} {ms / total if total else 0:>6.1%}")
    print(f"{'all layers':<30} {sum(n for n, _ in layers.values()):>5} {total:>9.3f}")
    print(f"\n{'operator (inclusive)':<40} {'calls':>5} {'ms':>9}")
    for name, (n, ms) in sorted(ops.items(), key=lambda kv: -kv[1][1])[:args.top]:
        print(f"{name[:40]:<40} {n:>5} {ms:>9.3f}")


if __name__ == "__main__":
    main()
