#!/usr/bin/env python3
"""Benchmarks bFT Studio's engine (`bft bench`) against PyTorch eager (Debian's python3-torch, the
same LibTorch) on the same architectures and weights, in the same run, and prints ours/PyTorch.

Each measurement is a fresh process: ours and PyTorch alternate for --rounds rounds, each round
reporting the median of --runs forwards after --warmup; the table shows the median over rounds.
The warm-up is 5 forwards by default: on the Xeon with AMX our bf16 texture forward at 128 took
9.5, 8.9, 8.1, 7.5 ms in its first timed forwards after one warm-up and 7.0-7.4 from the fifth on
(most of the difference in the layers that stream their weights from memory; fp32 showed no such
trend), so that one warm-up timed a process still warming up, and bf16's margin over fp32 swung
between 1.68x and 2.1x from round to round.
Peak memory is the growth of the resident set's high-water mark during the timed forwards (the
activations); ours also reports the derived weights its first forward builds (bf16 copies, fused
and sub-pixel kernels), shown separately.

  tests/bench/compare_with_pytorch.py                      # pose, depth @256, texture @128, @256; 2 threads, batch 1
  tests/bench/compare_with_pytorch.py --threads 1,2 --batch 1,4 --json report.json
  tests/bench/compare_with_pytorch.py --ours-args=--no-winograd     # our engine with direct convolutions only
  tests/bench/compare_with_pytorch.py --precision fp32,bf16         # also bf16's speed-up over our fp32, per round

PyTorch's transposed convolutions (and its fallback convolutions) run on the BLAS. OpenBLAS picks its
kernels by CPU model, and an OpenBLAS older than the CPU falls back to generic ones (Debian 12's 0.3.21
took a 2023 Xeon for a Prescott, 5x slower): the report records which kernels it ran, and
OPENBLAS_CORETYPE=SkylakeX in the environment gives PyTorch its best AVX-512 ones.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

CONFIGS = {  # name: (arch kwargs, input size)
    "pose256": (dict(arch="bFT_resnet", input_nc=3, guide_nc=18, output_nc=3, ngf=64, n_blocks=9), 256),
    "depth256": (dict(arch="bFT_resnet", input_nc=1, guide_nc=3, output_nc=1, ngf=64, n_blocks=9), 256),
    "texture128": (dict(arch="bFT_unet", input_nc=1, guide_nc=4, output_nc=3, ngf=64, num_downs=7), 128),
    "texture256": (dict(arch="bFT_unet", input_nc=1, guide_nc=4, output_nc=3, ngf=64, num_downs=7), 256),
}


def proc_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def torch_worker(args):
    """Times PyTorch eager in this (fresh) process; prints one JSON object."""
    import torch
    import bft_torch
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    if cuda:
        # PyTorch's defaults, unless asked: cuDNN may run fp32 convolutions in TF32 (10-bit mantissa).
        torch.backends.cudnn.allow_tf32 = args.torch_tf32 == "on"
        torch.backends.cudnn.benchmark = True  # as ours: fixed shapes, cuDNN's fastest kernels
    cfg, _ = CONFIGS[args.config]
    net = bft_torch.build(**cfg).eval()
    net.load_state_dict(torch.load(args.weights, map_location="cpu"), strict=True)
    net.to(dev)
    torch.manual_seed(0)
    x = (torch.rand(args.batch, cfg["input_nc"], args.size, args.size) * 2 - 1).to(dev)
    g = (torch.rand(args.batch, cfg["guide_nc"], args.size, args.size) * 2 - 1).to(dev)
    times = []

    def sync():
        if cuda:
            torch.cuda.synchronize(dev)
    if args.train_step:
        net.train()
        d = bft_torch.patchgan(cfg["input_nc"] + cfg["guide_nc"] + cfg["output_nc"])
        d.to(dev)
        b = (torch.rand(args.batch, cfg["output_nc"], args.size, args.size) * 2 - 1).to(dev)
        step = bft_torch.train_step_fn(net, d)
        for k in range(max(1, args.warmup) + args.runs):
            sync()
            t0 = time.perf_counter()
            step(x, g, b)
            sync()
            if k >= max(1, args.warmup):
                times.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"median_ms": statistics.median(times), "times_ms": times, "threads": torch.get_num_threads(),
                          "peak_forward_mib": 0.0}))
        return
    with torch.no_grad():
        # Measured as `bft bench` does: the high-water mark's growth during the timed forwards, after
        # a warm-up and after giving back what was left free in the heap.
        import ctypes
        for _ in range(max(1, args.warmup)):
            net(x, g)
        sync()
        if cuda:  # as ours: the allocator's high-water mark above what was held before the timed forwards
            before = torch.cuda.memory_allocated(dev) / 2**20
            torch.cuda.reset_peak_memory_stats(dev)
        else:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            before = proc_mib("VmRSS")
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            # As ours: the heap malloc_trim gave back is faulted in again by one untimed forward.
            net(x, g)
        for _ in range(args.runs):
            t0 = time.perf_counter()
            net(x, g)
            sync()
            times.append((time.perf_counter() - t0) * 1000)
        peak = (torch.cuda.max_memory_allocated(dev) / 2**20 if cuda else proc_mib("VmHWM")) - before
    print(json.dumps({"median_ms": statistics.median(times), "times_ms": times, "threads": torch.get_num_threads(),
                      "peak_forward_mib": max(0.0, peak)}))


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def openblas_core():
    """The kernels OpenBLAS runs for PyTorch here (it says so on stderr when OPENBLAS_VERBOSE=2)."""
    probe = subprocess.run([sys.executable, "-c", "import torch; torch.mm(torch.ones(64, 64), torch.ones(64, 64))"],
                           capture_output=True, text=True, env=dict(os.environ, OPENBLAS_VERBOSE="2"))
    for line in probe.stderr.splitlines():
        if line.startswith("Core:"):
            return line.split(":", 1)[1].strip()
    return "not OpenBLAS"


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bft", default=os.path.join(HERE, "..", "..", "build", "app", "bft"))
    ap.add_argument("--configs", default="pose256,depth256,texture128,texture256")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--batch", default="1")
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:N]: both engines run there")
    ap.add_argument("--torch-tf32", choices=["on", "off"], default="on",
                    help="CUDA: whether PyTorch's cuDNN may run fp32 convolutions in TF32 (on: PyTorch's default; "
                         "ours runs fp32 exactly, for parity)")
    ap.add_argument("--precision", default="fp32",
                    help="our engine's precisions, e.g. fp32,bf16: each round runs each beside the same PyTorch run "
                         "(fp32), and the table adds each one's speed-up over our fp32, round by round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--json", help="write the report here")
    ap.add_argument("--ours-args", default="", help="more options for `bft bench`, e.g. --no-winograd")
    ap.add_argument("--train-step", action="store_true",
                    help="time training steps (G and D, L1 + LSGAN, Adam) instead of forwards")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--config", help=argparse.SUPPRESS)
    ap.add_argument("--weights", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        args.threads, args.batch = int(args.threads), int(args.batch)
        return torch_worker(args)

    import torch
    import bft_torch
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.configs.split(","):
            cfg, size = CONFIGS[name]
            torch.manual_seed(1)
            weights = os.path.join(tmp, name + ".pth")
            torch.save(bft_torch.build(**cfg).state_dict(), weights)
            for threads in [int(t) for t in args.threads.split(",")]:
                for batch in [int(b) for b in args.batch.split(",")]:
                    precisions = args.precision.split(",")
                    ours, theirs = {p: [] for p in precisions}, []
                    for r in range(args.rounds):
                        step = ["--train-step"] if args.train_step else []
                        for p in precisions:
                            ours[p].append(run_json([args.bft, "bench", "--checkpoint", weights, "--size", str(size),
                                                     "--batch", str(batch), "--threads", str(threads), "--device", args.device,
                                                     "--precision", p, "--runs", str(args.runs),
                                                     "--warmup", str(args.warmup), "--json"] + step + args.ours_args.split()))
                        theirs.append(run_json([sys.executable, __file__, "--worker", "--config", name, "--weights",
                                                weights, "--size", str(size), "--batch", str(batch), "--threads",
                                                str(threads), "--runs", str(args.runs), "--warmup", str(args.warmup),
                                                "--device", args.device, "--torch-tf32", args.torch_tf32] + step))
                        mine = ", ".join(f"ours {p} {ours[p][-1]['median_ms']:.1f} ms" for p in precisions)
                        print(f"  {name} threads={threads} batch={batch} round {r + 1}: {mine}, "
                              f"PyTorch {theirs[-1]['median_ms']:.1f} ms", file=sys.stderr, flush=True)
                    for p in precisions:
                        row = {
                            "config": name, "size": size, "threads": threads, "batch": batch,
                            "precision": "train-step" if args.train_step else p,
                            "ours_ms": statistics.median(o["median_ms"] for o in ours[p]),
                            "pytorch_ms": statistics.median(t["median_ms"] for t in theirs),
                            "ratio_per_round": [o["median_ms"] / t["median_ms"] for o, t in zip(ours[p], theirs)],
                            "ours_peak_mib": max(o["memory"]["peak_forward_mib"] for o in ours[p]),
                            "ours_derived_weights_mib": max(o["memory"]["derived_weights_mib"] for o in ours[p]),
                            "pytorch_peak_mib": max(t["peak_forward_mib"] for t in theirs),
                        }
                        row["ratio"] = row["ours_ms"] / row["pytorch_ms"]
                        if "fp32" in ours and p != "fp32":
                            # The same round's fp32 run: the speed-up a user of this precision gets.
                            row["speedup_over_fp32_per_round"] = [f["median_ms"] / o["median_ms"]
                                                                  for f, o in zip(ours["fp32"], ours[p])]
                        rows.append(row)

    gpu = torch.cuda.get_device_name(torch.device(args.device)) if args.device.startswith("cuda") else None
    print(f"\nOpenBLAS kernels for PyTorch: {openblas_core()}; CPU: {cpu_model()}"
          + (f"; GPU: {gpu} (PyTorch {torch.__version__}, its cuDNN TF32 {args.torch_tf32})" if gpu else ""))
    print(f"\n{'config':<11} {'threads':>7} {'batch':>5} {'precision':>9} {'ours ms':>9} {'PyTorch ms':>10} "
          f"{'ratio':>6} {'worst round':>11} {'ours MiB':>8} {'PyTorch MiB':>11} {'our weight cache MiB':>20} "
          f"{'x our fp32 (rounds)':>19}")
    for r in rows:
        speedup = " ".join(f"{v:.2f}" for v in r.get("speedup_over_fp32_per_round", []))
        print(f"{r['config']:<11} {r['threads']:>7} {r['batch']:>5} {r['precision']:>9} {r['ours_ms']:>9.1f} "
              f"{r['pytorch_ms']:>10.1f} {r['ratio']:>6.2f} {max(r['ratio_per_round']):>11.2f} "
              f"{r['ours_peak_mib']:>8.1f} {r['pytorch_peak_mib']:>11.1f} {r['ours_derived_weights_mib']:>20.1f} "
              f"{speedup:>19}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch_version": torch.__version__, "cpu": cpu_model(), "openblas_core": openblas_core(),
                       "device": args.device, "gpu": gpu, "torch_tf32": args.torch_tf32 if gpu else None,
                       "ours_args": args.ours_args, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
