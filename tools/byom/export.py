"""Exports the byom fixture networks: ONNX (opset 17, dynamic batch), manifests, weights and probes.

Writes, under tests/fixtures/byom/:
  diffusers-unet/  unet.fp16.onnx, scheduler_config.json, model.json, torch_state.pt, probe.json
  edm-denoiser/    denoiser.onnx, model.json, torch_state.pt, probe.json
  latent/          eps.onnx, decoder.onnx, model.json, torch_state.pt, decoder_state.pt, probe.json

probe.json holds a batch of 3 inputs (not the sampling batch, to exercise the dynamic batch axis)
and the float32 torch module's outputs on them; tools/byom/check_onnx.ts runs the ONNX files on
the same inputs with onnxruntime and compares. Run through tools/byom/regenerate.sh.
"""

import io
import json
import os
import sys

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(__file__))
import fp16  # noqa: E402
import nets  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "byom")
OPSET = 17

SCHEDULER = {
    "_class_name": "DDIMScheduler",
    "num_train_timesteps": 1000,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "prediction_type": "v_prediction",
    "timestep_spacing": "trailing",
    "steps_offset": 1,
    "clip_sample": False,
    "set_alpha_to_one": False,
}

MANIFESTS = {
    "diffusers-unet": {
        "format": "deis-model/2",
        "name": "byom-diffusers-unet",
        "onnx": "unet.fp16.onnx",
        "scheduler": "scheduler_config.json",
        "dtype": "float16",
        "time": {"kind": "index", "dtype": "int64"},
        "inputs": {"x": "sample", "t": "timestep"},
        "output": "out_sample",
        "sampleShape": [4, 8, 8],
        "extraInputs": [{"name": "encoder_hidden_states", "dtype": "float16", "shape": [3, 8]}],
    },
    "edm-denoiser": {
        "format": "deis-model/2",
        "name": "byom-edm-denoiser",
        "onnx": "denoiser.onnx",
        "sde": {"name": "ve", "sigmaMin": 0.002, "sigmaMax": 80},
        "precondition": {"kind": "edm", "sigmaData": 0.5},
        "dtype": "float32",
        "inputs": {"x": "x", "t": "sigma_noise"},
        "output": "F",
        "sampleShape": [1, 8, 8],
        "extraInputs": [],
    },
    "latent": {
        "format": "deis-model/2",
        "name": "byom-latent",
        "onnx": "eps.onnx",
        "sde": {"name": "vp-linear", "betaMin": 0.1, "betaMax": 20},
        "time": {"kind": "continuous", "scale": 999},
        "prediction": "eps",
        "dtype": "float32",
        "inputs": {"x": "x", "t": "t"},
        "output": "eps",
        "sampleShape": [4, 4, 4],
        "extraInputs": [],
        "decoder": {
            "onnx": "decoder.onnx",
            "input": "latent",
            "output": "image",
            "scalingFactor": 0.5,
            "outputShape": [1, 16, 16],
            "dataRange": [-1, 1],
        },
    },
}


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def export(net, args, names, output, path, time_input=None, half=False):
    buf = io.BytesIO()
    axes = {n: {0: "batch"} for n in names + [output]}
    torch.onnx.export(
        net, args, buf, opset_version=OPSET, input_names=names, output_names=[output], dynamic_axes=axes,
        do_constant_folding=True,
    )
    model = onnx.load_from_string(buf.getvalue())
    model.producer_name = "tools/byom/export.py"
    if half:
        model = fp16.convert(model, [time_input])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def flat(t):
    return [float(v) for v in t.detach().double().flatten()]


def main():
    g = torch.Generator().manual_seed(7)

    # (a) diffusers-layout UNet, float16 at the boundary.
    d = os.path.join(ROOT, "diffusers-unet")
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "scheduler_config.json"), SCHEDULER)
    net = nets.build("diffusers-unet", SCHEDULER)
    # probe values are float16-representable so that torch float32 and the float16 graph see the same inputs
    sample = torch.randn(3, 4, 8, 8, generator=g).half().float()
    timestep = torch.tensor([999, 499, 0], dtype=torch.int64)
    ehs = torch.randn(3, 3, 8, generator=g).half().float()
    export(net, (sample, timestep, ehs), ["sample", "timestep", "encoder_hidden_states"], "out_sample",
           os.path.join(d, "unet.fp16.onnx"), time_input="timestep", half=True)
    with torch.no_grad():
        out = net(sample, timestep, ehs)
    torch.save(net.state_dict(), os.path.join(d, "torch_state.pt"))
    write_json(os.path.join(d, "probe.json"), {
        "onnx": "unet.fp16.onnx", "dtype": "float16", "output": "out_sample",
        "inputs": {
            "sample": {"dtype": "float16", "shape": [3, 4, 8, 8], "data": flat(sample)},
            "timestep": {"dtype": "int64", "shape": [3], "data": [int(v) for v in timestep]},
            "encoder_hidden_states": {"dtype": "float16", "shape": [3, 3, 8], "data": flat(ehs)},
        },
        "torchFloat32": flat(out),
    })
    write_json(os.path.join(d, "model.json"), MANIFESTS["diffusers-unet"])

    # (b) raw EDM denoiser.
    d = os.path.join(ROOT, "edm-denoiser")
    os.makedirs(d, exist_ok=True)
    net = nets.build("edm-denoiser")
    x = torch.randn(3, 1, 8, 8, generator=g) * 2.0
    c_noise = 0.25 * torch.log(torch.tensor([80.0, 1.0, 0.002]))
    export(net, (x, c_noise), ["x", "sigma_noise"], "F", os.path.join(d, "denoiser.onnx"))
    with torch.no_grad():
        out = net(x, c_noise)
    torch.save(net.state_dict(), os.path.join(d, "torch_state.pt"))
    write_json(os.path.join(d, "probe.json"), {
        "onnx": "denoiser.onnx", "dtype": "float32", "output": "F",
        "inputs": {
            "x": {"dtype": "float32", "shape": [3, 1, 8, 8], "data": flat(x)},
            "sigma_noise": {"dtype": "float32", "shape": [3], "data": flat(c_noise)},
        },
        "torchFloat32": flat(out),
    })
    write_json(os.path.join(d, "model.json"), MANIFESTS["edm-denoiser"])

    # (c) latent eps-network and its decoder.
    d = os.path.join(ROOT, "latent")
    os.makedirs(d, exist_ok=True)
    net = nets.build("latent")
    x = torch.randn(3, 4, 4, 4, generator=g)
    t = torch.tensor([999.0, 400.0, 0.999])
    export(net, (x, t), ["x", "t"], "eps", os.path.join(d, "eps.onnx"))
    with torch.no_grad():
        out = net(x, t)
    torch.save(net.state_dict(), os.path.join(d, "torch_state.pt"))
    dec = nets.build("latent-decoder")
    lat = torch.randn(3, 4, 4, 4, generator=g)
    export(dec, (lat,), ["latent"], "image", os.path.join(d, "decoder.onnx"))
    with torch.no_grad():
        img = dec(lat)
    torch.save(dec.state_dict(), os.path.join(d, "decoder_state.pt"))
    write_json(os.path.join(d, "probe.json"), {
        "onnx": "eps.onnx", "dtype": "float32", "output": "eps",
        "inputs": {
            "x": {"dtype": "float32", "shape": [3, 4, 4, 4], "data": flat(x)},
            "t": {"dtype": "float32", "shape": [3], "data": flat(t)},
        },
        "torchFloat32": flat(out),
        "decoder": {
            "onnx": "decoder.onnx", "output": "image",
            "inputs": {"latent": {"dtype": "float32", "shape": [3, 4, 4, 4], "data": flat(lat)}},
            "torchFloat32": flat(img),
        },
    })
    write_json(os.path.join(d, "model.json"), MANIFESTS["latent"])

    for case in MANIFESTS:
        n = sum(p.numel() for p in nets.build(case, SCHEDULER).parameters())
        print(f"{case}: {n} parameters")
    print(f"latent-decoder: {sum(p.numel() for p in nets.build('latent-decoder').parameters())} parameters")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
