"""Export the EMA weights of the MNIST diffusion U-Net to ONNX + manifest.

    /usr/bin/python3 tools/train/export_onnx.py [--ckpt tools/train/checkpoints/diffusion_last.pt]
    deno run --allow-read --allow-env tools/train/verify_onnx.ts models/mnist

Writes to models/mnist/:
  model.onnx   opset 17, inputs x [B,1,28,28] float32 and t [B] float32, output eps [B,1,28,28];
               the batch dimension is dynamic. The t input holds 999 * t (t the continuous time in
               [1e-3, 1]); the manifest says so with "time": {"kind": "continuous", "scale": 999}.
  model.json   the manifest (docs/MODEL_FORMAT.md)
  weights.pt   {"config", "state_dict" (EMA weights), "step", "train_time_s"} for unet.UNet
and tools/train/checkpoints/onnx_check.json: a fixed input batch and the PyTorch outputs, which
verify_onnx.ts compares against onnxruntime-web (wasm). --online exports the raw (non-EMA) weights.
"""

import argparse
import json
import os

import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from unet import BETA_MAX, BETA_MIN, T_EPS, TIME_SCALE, UNet, count_flops, count_params  # noqa: E402


def num(v):
    return int(v) if float(v).is_integer() else v


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", default=os.path.join(HERE, "checkpoints", "diffusion_last.pt"))
    p.add_argument("--out-dir", default=os.path.join(ROOT, "models", "mnist"))
    p.add_argument("--check-file", default=os.path.join(HERE, "checkpoints", "onnx_check.json"))
    p.add_argument("--online", action="store_true", help="export the online weights instead of the EMA")
    args = p.parse_args()
    torch.set_num_threads(2)

    ck = torch.load(args.ckpt, map_location="cpu")
    model = UNet(**{"param": "eps", **ck["config"]})  # configs without "param" predate it: eps
    model.load_state_dict(ck["model"] if args.online else ck["ema"])
    model.eval()
    os.makedirs(args.out_dir, exist_ok=True)

    onnx_path = os.path.join(args.out_dir, "model.onnx")
    dummy = (torch.randn(2, 1, 28, 28), torch.tensor([999.0, 1.0]))
    torch.onnx.export(model, dummy, onnx_path, input_names=["x", "t"], output_names=["eps"],
                      dynamic_axes={"x": {0: "batch"}, "t": {0: "batch"}, "eps": {0: "batch"}},
                      opset_version=17, do_constant_folding=True)
    import onnx
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)

    manifest = {
        "format": "deis-model/1",
        "name": "mnist",
        "onnx": "model.onnx",
        "sde": {"name": "vp-linear", "betaMin": num(BETA_MIN), "betaMax": num(BETA_MAX)},
        "tStart": 1,
        "tEnd": T_EPS,
        "time": {"kind": "continuous", "scale": num(TIME_SCALE)},
        "prediction": "eps",
        "sampleShape": [1, 28, 28],
        "dtype": "float32",
        "inputs": {"x": "x", "t": "t"},
        "output": "eps",
        "extraInputs": [],
        "dataRange": [-1, 1],
    }
    with open(os.path.join(args.out_dir, "model.json"), "w") as f:
        f.write(json.dumps(manifest, indent=2) + "\n")
    torch.save(dict(config=ck["config"], state_dict=model.state_dict(), step=ck["step"],
                    train_time_s=ck["train_time_s"], weights="online" if args.online else "ema"),
               os.path.join(args.out_dir, "weights.pt"))

    # reference outputs for verify_onnx.ts: 6 digits-shaped inputs over the whole time range
    g = torch.Generator().manual_seed(2024)
    tc = torch.tensor([1e-3, 0.05, 0.2, 0.5, 0.8, 1.0])
    x = torch.randn(6, 1, 28, 28, generator=g)
    with torch.no_grad():
        eps = model(x, tc * TIME_SCALE)
    os.makedirs(os.path.dirname(args.check_file), exist_ok=True)
    with open(args.check_file, "w") as f:
        json.dump(dict(shape=[6, 1, 28, 28], x=x.flatten().tolist(), t=(tc * TIME_SCALE).tolist(),
                       eps=eps.flatten().tolist(), step=ck["step"]), f)
    fl = count_flops(model)
    size = os.path.getsize(onnx_path)
    print(f"exported step {ck['step']} ({'online' if args.online else 'EMA'} weights): {onnx_path} "
          f"{size / 1e6:.2f} MB, {count_params(model):,} params, {fl['flops'] / 1e6:.1f} MFLOP/eval; "
          f"check data {args.check_file}")
    if size > 8e6:
        raise SystemExit("model.onnx is larger than 8 MB")


if __name__ == "__main__":
    main()
