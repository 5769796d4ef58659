#!/usr/bin/env python3
"""Writes a demo model's card from its training run and `bft eval --json` reports.

    make-card.py TASK RUN_DIR EVAL_JSON [UFT_EVAL_JSON] --size S --command "..." --out resources/models

Two files: TASK.json (read by the editor: title, the size the model was trained at, metrics) and
TASK.md (for people: what it is, how it was made, how it scores against the baselines).
"""
import argparse
import json
import os
import tempfile


def atomic_write(path, text):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".card-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; cards are for everyone
    os.replace(tmp, path)


def row(name, m, depth):
    cells = [name, "%.4f" % m["l1"], "%.2f" % m["psnr_db"], "%.4f" % m["ssim"]]
    if depth:
        cells.append("%.4f" % m["rmse_m"])
    return "| " + " | ".join(cells) + " |"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task")
    ap.add_argument("run")
    ap.add_argument("eval")
    ap.add_argument("uft_eval", nargs="?")
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--command", action="append", default=[])
    ap.add_argument("--out", required=True)
    ap.add_argument("--note", action="append", default=[], help="a paragraph after the metrics")
    a = ap.parse_args()

    config = json.load(open(os.path.join(a.run, "config.json")))
    ev = json.load(open(a.eval))
    uft = json.load(open(a.uft_eval)) if a.uft_eval and os.path.exists(a.uft_eval) else None
    depth = a.task == "depth"
    arch = config["arch"]
    titles = {"pose": "Pose transfer demo", "texture": "Texture transfer demo", "depth": "Depth upsampling demo (x%d)"}
    title = titles[a.task] % 8 if depth else titles[a.task]

    card = {
        "title": title,
        "task": a.task,
        "size": a.size,
        "arch": arch,
        "training": {k: config[k] for k in ("steps", "batch", "lr", "beta1", "lambda_l1", "use_gan", "seed")},
        "heldout": {"samples": ev["samples"], "model": {k: v for k, v in ev.items() if k in ("l1", "psnr_db", "ssim", "rmse_m")},
                    "baselines": ev.get("baselines", {})},
    }
    if uft:
        card["heldout"]["uFT"] = {k: v for k, v in uft.items() if k in ("l1", "psnr_db", "ssim", "rmse_m")}
    atomic_write(os.path.join(a.out, a.task + ".json"), json.dumps(card, indent=2) + "\n")

    header = "| | L1 | PSNR dB | SSIM |" + (" RMSE m |" if depth else "")
    sep = "| --- | --- | --- | --- |" + (" --- |" if depth else "")
    lines = [
        "# %s (`%s.pth`)" % (title, a.task),
        "",
        "A small %s generator (ngf %d%s) trained on this repository's synthetic %s data at %dx%d, on a CPU,"
        % (arch["arch"], arch["ngf"], ", %d blocks" % arch["n_blocks"] if "resnet" in arch["arch"] else ", %d downs" % arch.get("num_downs", 7),
           a.task, a.size, a.size),
        "so that the editor works out of the box. It is a demonstration of the method on a toy world, not a",
        "model of real %s." % {"pose": "people", "texture": "objects", "depth": "scenes"}[a.task],
        "",
        "Loss: %s; Adam lr %g, beta1 %g, batch %d, %d steps (constant, then linear decay to zero from half way); seed %d."
        % ("L1 + LSGAN (PatchGAN, lambda %g)" % config["lambda_l1"] if config["use_gan"] else "L1 only",
           config["lr"], config["beta1"], config["batch"], config["steps"], config["seed"]),
        "",
        "## Held-out metrics",
        "",
        "%d samples of a synthetic set made with another seed than the training set (`bft eval`):" % ev["samples"],
        "",
        header,
        sep,
        row("bFT (this model)", ev, depth),
    ]
    if uft:
        lines.append(row("uFT (one-way FiLM, trained the same way)", uft, depth))
    names = {"bicubic": "bicubic upsampling of the input", "joint_bilateral": "joint bilateral upsampling (RGB-guided)",
             "input": "the input image itself", "nearest_colour": "nearest-colour fill of the patches"}
    for k, m in ev.get("baselines", {}).items():
        lines.append(row(names.get(k, k), m, depth))
    if depth:
        b = ev["baselines"]["bicubic"]["rmse_m"]
        lines += ["", "RMSE is %.0f%% lower than bicubic upsampling's." % (100 * (1 - ev["rmse_m"] / b))]
    for n in a.note:
        lines += ["", n]
    lines += ["", "## Rebuild", "", "```sh"] + a.command + ["```", ""]
    atomic_write(os.path.join(a.out, a.task + ".md"), "\n".join(lines))


if __name__ == "__main__":
    main()
