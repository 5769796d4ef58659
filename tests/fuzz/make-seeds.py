#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/): small valid files of
each kind, from PyTorch (checkpoints in both formats), NumPy and by hand, plus the small real
files of ../shared/real. Run with Debian's python3 (torch, numpy): tests/fuzz/make-seeds.py"""
import io, json, os, shutil, struct, sys, zlib
import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "reference"))
import bft_torch  # noqa: E402

corpus = os.path.join(here, "corpus")
shared = os.path.join(here, "..", "..", "..", "shared")


def put(target, name, data):
    with open(os.path.join(corpus, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def saved(obj, legacy):
    b = io.BytesIO()
    torch.save(obj, b, _use_new_zipfile_serialization=not legacy)
    return b.getvalue()


torch.manual_seed(0)
# Checkpoints: tiny generators of each architecture (ngf 1), in both formats, and odd dicts.
for arch, args in [("bFT_resnet", dict(input_nc=1, guide_nc=3, output_nc=1, ngf=1, n_blocks=1)),
                   ("bFT_unet", dict(input_nc=1, guide_nc=4, output_nc=3, ngf=1, num_downs=6)),
                   ("uFT_resnet", dict(input_nc=3, guide_nc=18, output_nc=3, ngf=1, n_blocks=1))]:
    sd = bft_torch.build(arch, bottleneck_depth=2, **args).state_dict()
    put("checkpoint", arch + "-legacy.pth", saved(sd, True))
    put("checkpoint", arch + "-zip.pth", saved(sd, False))
put("checkpoint", "scalars-zip.pth", saved({"a": torch.zeros(2, dtype=torch.float16), "b": torch.arange(3)}, False))
put("checkpoint", "view-legacy.pth", saved({"w": torch.ones(4, 4)[1:, ::2]}, True))
put("checkpoint", "nested-legacy.pth", saved({"state_dict": {"module.x": torch.ones(1)}}, True))

# .npy: dtypes and shapes the readers take.
for name, a in [("f32", np.ones((1, 4, 3), np.float32)), ("f64", np.zeros((2, 2), np.float64)),
                ("u8", np.arange(6, dtype=np.uint8).reshape(2, 3)), ("i64", np.arange(4, dtype=np.int64)),
                ("bool", np.array([True, False])), ("fortran", np.asfortranarray(np.ones((2, 3), np.float32)))]:
    b = io.BytesIO()
    np.save(b, a)
    put("npy", name + ".npy", b.getvalue())

# OpenPose JSON: COCO-18, BODY_25, normalised with a canvas, several people, the real file.
coco = [v for k in range(18) for v in (10 + k, 20 + 2 * k, 0.9 if k % 5 else 0)]
put("openpose", "coco18.json", json.dumps({"version": 1.3, "people": [{"pose_keypoints_2d": coco}]}))
body25 = [v for k in range(25) for v in (0.1 + 0.01 * k, 0.2 + 0.02 * k, 0.8)]
put("openpose", "body25-normalised.json", json.dumps({"canvas_width": 512, "canvas_height": 768, "people": [{"pose_keypoints_2d": body25}]}))
put("openpose", "two-people.json", json.dumps({"people": [{"pose_keypoints_2d": coco}, {"pose_keypoints_2d": coco[::-1]}]}))
shutil.copy(os.path.join(shared, "real", "controlnet_coco18_pixels_pose_hand_fixed.json"), os.path.join(corpus, "openpose", "controlnet.json"))

# dataset.json of each task.
# dataset.json of each task, as DatasetInfo::write makes them.
for task, nc in [("pose", (3, 18, 3)), ("texture", (1, 4, 3)), ("depth", (1, 3, 1))]:
    d = {"format": "bft-dataset", "version": 1, "task": task, "input_nc": nc[0], "guide_nc": nc[1], "output_nc": nc[2]}
    if task == "pose":
        d["pose"] = {"radius": 4.0, "inside": 1.0, "outside": 0.0}
    if task == "depth":
        d["depth"] = {"units_per_metre": 1000.0, "near_m": 0.0, "far_m": 10.0, "factor": 8, "holes": True}
    put("dataset_json", task + ".json", json.dumps(d, indent=2))

# Patch layouts (the fuzz target keeps a 1x1 t.png beside them).
put("patch_layout", "one.json", json.dumps({"image_width": 64, "image_height": 64, "textures": ["t.png"],
                                            "patches": [{"texture": 0, "x": 5, "y": 6, "width": 20, "height": 10}]}))
put("patch_layout", "two.json", json.dumps({"image_width": 256, "image_height": 128, "textures": ["t.png", "t.png"],
                                            "patches": [{"texture": 1, "x": -5, "y": 100, "width": 300, "height": 40},
                                                        {"texture": 0, "x": 10.5, "y": 0, "width": 1, "height": 1}]}))

# Images: tiny PNGs (8/16-bit, grey/RGB/RGBA), a BMP, a TIFF and a JPEG written by PyTorch's
# friends (cv2 is not needed: PNG by hand, the rest from the real files, cut small).
def png(w, h, colour_type, bit_depth, pixels):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\0" + pixels[y] for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, colour_type, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
put("image", "grey8.png", png(3, 2, 0, 8, [b"\x00\x80\xff"] * 2))
put("image", "rgb8.png", png(2, 2, 2, 8, [b"\xff\x00\x00\x00\xff\x00"] * 2))
put("image", "rgba8.png", png(2, 1, 6, 8, [b"\x10\x20\x30\x40\x50\x60\x70\x80"]))
put("image", "grey16.png", png(2, 2, 0, 16, [b"\x01\x00\xff\xff"] * 2))
bmp_pixels = b"\x00\x00\xff\x00\xff\x00" + b"\x00\x00"  # 2x1, 24-bit, row padded to 4 bytes
put("image", "rgb.bmp", b"BM" + struct.pack("<IHHI", 54 + len(bmp_pixels), 0, 0, 54) +
    struct.pack("<IiiHHIIiiII", 40, 2, 1, 1, 24, 0, len(bmp_pixels), 2835, 2835, 0, 0) + bmp_pixels)
tiff = (b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 8) +
        b"".join(struct.pack("<HHII", tag, typ, 1, val) for tag, typ, val in
                 [(256, 3, 2), (257, 3, 1), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 8 + 2 + 8 * 12 + 4), (277, 3, 1), (279, 4, 2)]) +
        struct.pack("<I", 0) + b"\x00\xff")
put("image", "grey.tif", tiff)
jpeg = open(os.path.join(shared, "real", "texturegan_flask_sketch_tshirt.jpg"), "rb").read()
if len(jpeg) < 64 * 1024:
    put("image", "sketch.jpg", jpeg)

# Depth points.
put("depth_points", "points.txt", "10 10 1.5\n20 30 2.25\n")
put("depth_points", "points.csv", "x,y,metres\n1,2,3.5 # a comment\n63,47,0.25\n")
print("seeds written under", corpus)
