"""Python's torch.load reads the checkpoints `bft convert` writes: a plain dict of tensors under the
reference's key names with the values of the original file (compared with what PyTorch itself reads
from the fixture). Usage: check_torch_load.py BFT_EXE PARITY_DIR WORK_DIR"""
import json
import os
import subprocess
import sys

import torch

bft, parity, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
cases = json.load(open(os.path.join(parity, "manifest.json")))
assert cases, "no parity cases"
for case in cases:
    src = os.path.join(parity, case["name"], "weights.pth")
    dst = os.path.join(work, case["name"] + ".pth")
    subprocess.run([bft, "convert", src, dst], check=True, stdout=subprocess.DEVNULL)
    ours = torch.load(dst, map_location="cpu")
    theirs = torch.load(src, map_location="cpu")
    assert isinstance(ours, dict), type(ours)
    assert list(ours.keys()) == list(theirs.keys()), (case["name"], set(ours) ^ set(theirs))
    for key, value in theirs.items():
        assert isinstance(ours[key], torch.Tensor), key
        assert ours[key].dtype == value.dtype and ours[key].shape == value.shape, key
        assert torch.equal(ours[key], value), key
    print(f"{case['name']}: {len(ours)} tensors match")
print("python interop: all checkpoints load in PyTorch", torch.__version__)
