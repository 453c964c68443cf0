"""Exports the latent-MNIST pipeline to models/latent-mnist/ in the diffusers layout.

    /usr/bin/python3 tools/latent_mnist/export.py

Writes (opset 17, dynamic batch):
  unet.onnx        sample [B,4,7,7] f32, timestep [B] i64, class_labels [B] i64 → out_sample [B,4,7,7] f32
  unet.fp16.onnx   the same with float16 weights, sample and out_sample (timestep/class_labels int64;
                   the sinusoidal timestep embedding is computed in float32 inside, see fp16.py)
  decoder.onnx     latent [B,4,7,7] f32 (unscaled: diffusion latents / scaling_factor) → image [B,1,28,28]
  decoder.fp16.onnx float16 latent/image
  encoder.onnx     image [B,1,28,28] f32 in [-1,1] → latent [B,4,7,7] (unscaled; × scaling_factor
                   gives the diffusion model's space)
  scheduler_config.json, model.json, model.fp16.json, and check.json (PyTorch outputs on fixed inputs)
  (torch reference outputs for verify_onnx.ts).
"""

import json
import os

import onnx
import torch

from autoencoder import AutoEncoder
from common import CKPT, OUT_DIR
from fp16 import convert
from schedule import SCHEDULER_CONFIG
from unet import LatentUNet

OPSET = 17


def export(module, args, path, inputs, outputs):
    dyn = {n: {0: "batch"} for n in inputs + outputs}
    torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=dyn,
                      opset_version=OPSET, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def to_fp16(src, dst, keep=()):
    m, info = convert(onnx.load(src), keep_fp32_from=keep)
    onnx.save(m, dst)
    return info


def manifest(fp16, scaling):
    return {
        "format": "deis-model/2",
        "name": "latent-mnist" + ("-fp16" if fp16 else ""),
        "description": "class-conditional latent diffusion on MNIST (4×7×7 latents, v-prediction, "
                       "squaredcos_cap_v2); see README.md",
        "onnx": "unet.fp16.onnx" if fp16 else "unet.onnx",
        "scheduler": "scheduler_config.json",
        "dtype": "float16" if fp16 else "float32",
        "time": {"kind": "index", "dtype": "int64"},
        "inputs": {"x": "sample", "t": "timestep"},
        "output": "out_sample",
        "sampleShape": [4, 7, 7],
        "extraInputs": [{"name": "class_labels", "dtype": "int64", "shape": [], "null": 10}],
        # the guidance with the lowest FD among those with >= 95 % class accuracy (tab3, 10 NFE, bench:quality:pipeline)
        "defaultGuidance": 1.25,
        "decoder": {"onnx": "decoder.fp16.onnx" if fp16 else "decoder.onnx", "input": "latent", "output": "image",
                    "scalingFactor": scaling, "outputShape": [1, 28, 28],
                    "dtype": "float16" if fp16 else "float32", "dataRange": [-1, 1]},
    }


def main():
    torch.manual_seed(0)
    ud = torch.load(os.path.join(OUT_DIR, "unet_ema.pt"), map_location="cpu")
    unet = LatentUNet(**ud["config"]).eval()
    unet.load_state_dict(ud["state_dict"])
    aed = torch.load(os.path.join(OUT_DIR, "autoencoder.pt"), map_location="cpu")
    ae = AutoEncoder().eval()
    ae.load_state_dict(aed["state_dict"])
    scaling = float(aed["scaling_factor"])

    g = torch.Generator().manual_seed(1)
    x = torch.randn((6, 4, 7, 7), generator=g)
    t = torch.tensor([999, 0, 500, 1, 250, 899], dtype=torch.long)
    c = torch.tensor([0, 3, 10, 7, 9, 10], dtype=torch.long)
    img = torch.rand((3, 1, 28, 28), generator=g) * 2 - 1
    with torch.no_grad():
        out = unet(x, t, c)
        dec = ae.decoder(x[:3] / scaling)
        enc = ae.encoder(img)

    p = lambda n: os.path.join(OUT_DIR, n)
    export(unet, (x, t, c), p("unet.onnx"), ["sample", "timestep", "class_labels"], ["out_sample"])
    info = to_fp16(p("unet.onnx"), p("unet.fp16.onnx"), keep=("timestep",))
    print("unet fp16:", info)
    export(ae.decoder, (x[:3],), p("decoder.onnx"), ["latent"], ["image"])
    print("decoder fp16:", to_fp16(p("decoder.onnx"), p("decoder.fp16.onnx")))
    export(ae.encoder, (img,), p("encoder.onnx"), ["image"], ["latent"])

    with open(p("scheduler_config.json"), "w") as f:
        f.write(json.dumps(SCHEDULER_CONFIG, indent=2) + "\n")
    for name, fp16 in (("model.json", False), ("model.fp16.json", True)):
        with open(p(name), "w") as f:
            f.write(json.dumps(manifest(fp16, scaling), indent=2, ensure_ascii=False) + "\n")
    fl = lambda a: a.flatten().tolist()
    # PyTorch's outputs on fixed inputs: tests/latent_mnist.test.ts holds the ONNX files to them
    with open(p("check.json"), "w") as f:
        json.dump(dict(sample=fl(x), timestep=t.tolist(), class_labels=c.tolist(), out_sample=fl(out),
                       latent=fl(x[:3] / scaling), image=fl(dec), enc_image=fl(img), enc_latent=fl(enc)), f)
    for n in sorted(os.listdir(OUT_DIR)):
        print(f"{n:28s} {os.path.getsize(p(n)):>9d}")


if __name__ == "__main__":
    main()
