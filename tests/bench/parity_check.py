#!/usr/bin/env python3
"""Runs `bft translate` on every official-parity fixture (weights, inputs and outputs made by the
authors' code) on a device and in a precision, and prints the largest error of each output and
gamma/beta map. The unit tests do this on the CPU; this is for a device the tests do not run on
(CUDA), against an engine-only build:

  tests/bench/parity_check.py --bft build-cuda/app/bft --fixtures ../shared/fixtures/official-parity \\
      --device cuda --precision fp32,bf16 --json parity.json

Each fixture runs twice: as the editor runs it (on CUDA, one CUDA graph replay) and with the
gamma/beta maps dumped (kernel by kernel). Exits 1 when an fp32 error passes the fixture's
tolerance; the reduced precisions' errors are reported, not judged.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def max_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        a = a.reshape(b.shape)  # CHW against NCHW of one
    return float(np.abs(a - b).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bft", default=os.path.join(os.path.dirname(__file__), "..", "..", "build", "app", "bft"))
    ap.add_argument("--fixtures", required=True, help="the official-parity folder (with manifest.json)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    with open(os.path.join(args.fixtures, "manifest.json")) as f:
        manifest = json.load(f)
    rows, failed = [], False
    with tempfile.TemporaryDirectory() as tmp:
        for fx in manifest:
            d = os.path.join(args.fixtures, fx["name"])
            files = {k: os.path.join(d, v) for k, v in fx["files"].items()}
            expected = np.load(files["output"])
            for precision in args.precision.split(","):
                for with_maps in ([False, True] if fx.get("film_maps") else [False]):
                    out = os.path.join(tmp, f"{fx['name']}_{precision}_{int(with_maps)}.npy")
                    film_dir = os.path.join(tmp, f"film_{fx['name']}_{precision}")
                    cmd = [args.bft, "translate", "--checkpoint", files["weights"], "--input", files["input"],
                           "--guide", files["guide"], "--output", out, "--device", args.device,
                           "--precision", precision] + (["--film-dir", film_dir] if with_maps else [])
                    p = subprocess.run(cmd, capture_output=True, text=True)
                    row = {"fixture": fx["name"], "precision": precision, "path": "maps" if with_maps else "replay",
                           "tolerance": fx.get("tolerance_max_abs", 1e-4)}
                    if p.returncode != 0:
                        row["error"] = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
                        failed = True
                    else:
                        row["output_max_abs"] = max_err(np.load(out), expected)
                        if with_maps:
                            row["film_max_abs"] = max(
                                max_err(np.load(os.path.join(film_dir, f"{kind}_{name}.npy")),
                                        np.load(os.path.join(d, f"{kind}_{name}.npy")))
                                for name in fx["film_maps"] for kind in ("gamma", "beta"))
                        worst = max(row["output_max_abs"], row.get("film_max_abs", 0.0))
                        row["ok"] = precision != "fp32" or worst <= row["tolerance"]
                        failed |= not row["ok"]
                    rows.append(row)
                    shown = (f"output {row['output_max_abs']:.2e}" if "output_max_abs" in row else row["error"])
                    if "film_max_abs" in row:
                        shown += f", gamma/beta {row['film_max_abs']:.2e}"
                    print(f"{fx['name']:<13} {precision:<5} {row['path']:<7} {shown}"
                          + ("" if row.get("ok", False) or precision != "fp32" else "  FAILS"), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": args.device, "rows": rows}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
