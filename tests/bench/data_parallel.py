#!/usr/bin/env python3
"""Data-parallel throughput of `bft train` on this machine: samples per second with 1 and 2 ranks
(one thread each) and, for reference, one process with all cores; the gradient all-reduce time per
step (in all, and the part the backward pass did not hide). The texture demo configuration by default
(bFT U-Net, ngf 16, 128 x 128, global batch 4, L1 + LSGAN). The configurations alternate over several
rounds (a noisy machine slows one round, not one configuration); medians over the rounds, and the
worst. Reads rank 0's log.jsonl; prints a table and writes a JSON report.

    tests/bench/data_parallel.py [--bft build/app/bft] [--steps 40] [--warmup 8] [--rounds 3] [--json report.json]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}")
    return r.stdout


def measure(bft, data, out, steps, warmup, batch, ngf, extra):
    run([bft, "train", "--data", data, "--out", out, "--steps", str(steps), "--batch", str(batch), "--ngf", str(ngf),
         "--val-every", "0", "--checkpoint-every", str(steps), "--seed", "1"] + extra)
    with open(os.path.join(out, "log.jsonl")) as f:
        log = [json.loads(line) for line in f if line.strip()]
    timed = [e for e in log if e["step"] > warmup]
    first = next(e for e in log if e["step"] == warmup)
    seconds = timed[-1]["elapsed_s"] - first["elapsed_s"]
    report = {"steps_timed": len(timed), "seconds": seconds, "samples_per_s": len(timed) * batch / seconds,
              "step_ms": 1000 * seconds / len(timed)}
    if "allreduce_ms" in timed[0]:
        report["allreduce_ms_median"] = statistics.median(e["allreduce_ms"] for e in timed)
        report["allreduce_exposed_ms_median"] = statistics.median(e["allreduce_exposed_ms"] for e in timed)
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bft", default="build/app/bft")
    ap.add_argument("--task", default="texture")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--ngf", type=int, default=16)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", help="write the report here")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bft-dp-")
    try:
        data = os.path.join(work, "data")
        run([a.bft, "synth", "--task", a.task, "--size", str(a.size), "--count", "64", "--seed", "3", "--out", data])
        configs = [
            ("1 rank, 1 thread", ["--threads", "1"]),
            ("2 ranks, 1 thread each", ["--threads", "1", "--nproc", "2"]),
            ("1 rank, all cores", ["--threads", "0"]),
        ]
        rounds = {name: [] for name, _ in configs}
        for k in range(a.rounds):
            for name, extra in configs:
                out = os.path.join(work, f"run{k}-{len(rounds[name])}-{name[0]}{extra[-1]}")
                rounds[name].append(measure(a.bft, data, out, a.steps, a.warmup, a.batch, a.ngf, extra))
        results = []
        for name, _ in configs:
            rs = rounds[name]
            r = {"config": name, "rounds": rs,
                 "samples_per_s": statistics.median(x["samples_per_s"] for x in rs),
                 "samples_per_s_worst": min(x["samples_per_s"] for x in rs),
                 "step_ms": statistics.median(x["step_ms"] for x in rs)}
            if "allreduce_ms_median" in rs[0]:
                r["allreduce_ms"] = statistics.median(x["allreduce_ms_median"] for x in rs)
                r["allreduce_exposed_ms"] = statistics.median(x["allreduce_exposed_ms_median"] for x in rs)
            results.append(r)
            ar = (f"  all-reduce {r['allreduce_ms']:.1f} ms/step ({r['allreduce_exposed_ms']:.1f} ms not hidden)"
                  if "allreduce_ms" in r else "")
            print(f"{name:26s} {r['samples_per_s']:7.2f} samples/s (worst {r['samples_per_s_worst']:.2f})"
                  f"  {r['step_ms']:7.1f} ms/step{ar}")
        speedup = results[1]["samples_per_s"] / results[0]["samples_per_s"]
        print(f"2 ranks / 1 rank (one thread each): {speedup:.2f}x")
        report = {"task": a.task, "size": a.size, "ngf": a.ngf, "global_batch": a.batch, "steps": a.steps,
                  "warmup": a.warmup, "rounds": a.rounds, "cores": os.cpu_count(), "results": results,
                  "speedup_2_ranks": speedup}
        if a.json:
            with open(a.json, "w") as f:
                json.dump(report, f, indent=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
