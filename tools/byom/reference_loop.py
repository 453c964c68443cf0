"""Independent float64 reference for the byom fixtures: runs the SDK's plans on the torch modules.

For each case under tests/fixtures/byom/ it reads the manifest (model.json) and the plans
(plan.*.json, made by tools/byom/make_plans.ts), draws x_T and the conditioning from a fixed seed,
and interprets each plan's program in float64 PyTorch with the float32 torch module cast to float64
(not the ONNX file). The manifest's semantics are written here from the formulas of
/work/shared-notes/MANIFEST_V2.md and docs/CONVENTIONS.md, not from the SDK's code:

  time input   continuous: scale*t;  index: round_half_even(t*N - 1) as int64;  edm: c_noise = ln(sigma)/4
  prediction   eps: eps = out;  v: eps = (sigma x + alpha v)/(alpha^2 + sigma^2), alpha = sqrt(abar), sigma = alpha rho
  EDM          x_ve = x/alpha, sigma = rho, F = net(c_in x_ve, c_noise), D = c_skip x_ve + c_out F (the x0
               prediction), so eps = (x/alpha - D)/rho
  guidance     eps = eps_u + w (eps_c - eps_u)
  program      init: x <- x_T;  eval: v <- eps, or x0 = x/alpha - rho eps (alpha-bar and rho from the op);
               combine: dst <- a dst + c src + sum c_j v_j (in float64; noise must be absent)
  decoder      image = decoder(latents / scalingFactor)

Writes tests/fixtures/byom/<case>/reference.json. Run through tools/byom/regenerate.sh.
"""

import glob
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import nets  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "byom")
N_SAMPLES = 4
GUIDANCE_SCALE = 3.0


def load_json(path):
    with open(path) as f:
        return json.load(f)


def f32(t):
    """Rounds to float32 values (kept as float64): what the SDK's float32 registers can hold exactly."""
    return t.float().double()


def f16(t):
    return t.half().double()


class Semantics:
    """The manifest's meaning of the network's inputs and output, as an eps(x, point) map."""

    def __init__(self, case_dir, manifest):
        self.m = manifest
        self.precondition = manifest.get("precondition")
        if "scheduler" in manifest:
            cfg = load_json(os.path.join(case_dir, manifest["scheduler"]))
            self.train_steps = cfg.get("num_train_timesteps", 1000)
            self.prediction = {"epsilon": "eps", "v_prediction": "v", "sample": "x0"}[cfg["prediction_type"]]
            self.time = manifest.get("time", {"kind": "index"})
        else:
            self.train_steps = None
            self.prediction = manifest.get("prediction", "x0-edm" if self.precondition else "eps")
            self.time = manifest.get("time", {"kind": "edm"} if self.precondition else {"kind": "continuous"})
        state = torch.load(os.path.join(case_dir, "torch_state.pt"))
        sched = load_json(os.path.join(case_dir, manifest["scheduler"])) if "scheduler" in manifest else None
        self.net = nets.build(os.path.basename(os.path.normpath(case_dir)), sched)
        self.net.load_state_dict(state)
        self.net = self.net.double().eval()
        self.decoder = None
        if "decoder" in manifest:
            dec = nets.build("latent-decoder")
            dec.load_state_dict(torch.load(os.path.join(case_dir, "decoder_state.pt")))
            self.decoder = dec.double().eval()

    def time_input(self, t, rho, n):
        kind = self.time["kind"]
        if kind == "continuous":
            v = self.time.get("scale", 1.0) * t
        elif kind == "index":
            v = t * self.train_steps - 1
        elif kind == "edm":
            v = 0.25 * math.log(rho)
        else:
            raise ValueError(f"time kind {kind} is not used by these fixtures")
        if self.time.get("dtype") in ("int32", "int64"):
            return torch.full((n,), round(v), dtype=torch.int64)  # Python's round: half to even
        return torch.full((n,), v, dtype=torch.float64)

    def raw(self, x, tin, extra):
        with torch.no_grad():
            return self.net(x, tin, *extra)

    def eps(self, x, op, extra):
        """eps at the op's point for conditioning `extra` (a list of extra-input tensors)."""
        alpha = math.sqrt(op["alphaBar"])
        rho = op["rho"]
        sigma = alpha * rho
        n = x.shape[0]
        if self.precondition:
            sd = self.precondition.get("sigmaData", 0.5)
            s = rho
            x_ve = x / alpha
            c_in = 1 / math.sqrt(s * s + sd * sd)
            c_skip = sd * sd / (s * s + sd * sd)
            c_out = s * sd / math.sqrt(s * s + sd * sd)
            F = self.raw(c_in * x_ve, self.time_input(op["t"], rho, n), extra)
            D = c_skip * x_ve + c_out * F
            return (x / alpha - D) / rho
        out = self.raw(x, self.time_input(op["t"], rho, n), extra)
        if self.prediction == "eps":
            return out
        if self.prediction == "v":
            return (sigma * x + alpha * out) / (alpha * alpha + sigma * sigma)
        raise ValueError(f"prediction {self.prediction} is not used by these fixtures")


def run_program(plan, x_T, eps_fn):
    regs = plan["program"]["registers"]
    X = [None] * regs["x"]
    V = [None] * regs["v"]
    slot = lambda name: int(name[1:])  # noqa: E731
    for i, op in enumerate(plan["program"]["ops"]):
        if op["op"] == "init":
            assert i == 0
            X[slot(op["dst"])] = x_T.clone()
        elif op["op"] == "eval":
            x = X[slot(op["src"])]
            e = eps_fn(x, op)
            if op["out"] == "x0":
                e = x / math.sqrt(op["alphaBar"]) - op["rho"] * e
            V[slot(op["dst"])] = e
        else:
            assert not op.get("noise") or op["noise"]["scale"] == 0, "the fixtures use deterministic plans"
            d = slot(op["dst"])
            acc = op["a"] * X[d] if op["a"] != 0 else torch.zeros_like(x_T)
            if op.get("src"):
                acc = acc + op["src"][1] * X[slot(op["src"][0])]
            for r, c in op["terms"]:
                acc = acc + c * V[slot(r)]
            X[d] = acc
    return X[0]


def flat(t):
    return [float(v) for v in t.flatten()]


def reference(case):
    case_dir = os.path.join(ROOT, case)
    manifest = load_json(os.path.join(case_dir, "model.json"))
    sem = Semantics(case_dir, manifest)
    shape = [N_SAMPLES] + manifest["sampleShape"]
    plans = sorted(glob.glob(os.path.join(case_dir, "plan.*.json")))
    g = torch.Generator().manual_seed({"diffusers-unet": 11, "edm-denoiser": 12, "latent": 13}[case])
    init_scale = load_json(plans[0])["program"]["ops"][0]["scale"]  # sigma(T) under ve, 1 under vp
    x_T = f32(torch.randn(shape, generator=g, dtype=torch.float64) * init_scale)

    conditioning, guidance, cond, uncond = {}, None, [], []
    for ex in manifest.get("extraInputs", []):
        assert ex["dtype"] == "float16", "only the float16 context input is drawn here"
        # conditional: the whole batch, one tensor per sample; negative: one tensor for every sample
        c = f16(torch.randn([N_SAMPLES] + ex["shape"], generator=g, dtype=torch.float64))
        u = f16(0.5 * torch.randn(ex["shape"], generator=g, dtype=torch.float64))
        conditioning[ex["name"]] = flat(c)
        guidance = guidance or {"scale": GUIDANCE_SCALE, "unconditional": {}}
        guidance["unconditional"][ex["name"]] = flat(u)
        cond.append(c)
        uncond.append(u.expand_as(c))

    def eps_fn(x, op):
        if guidance is None:
            return sem.eps(x, op, [])
        e_c = sem.eps(x, op, cond)
        e_u = sem.eps(x, op, uncond)
        return e_u + guidance["scale"] * (e_c - e_u)

    runs = []
    for path in plans:
        plan = load_json(path)
        assert plan["program"]["ops"][0]["scale"] == init_scale
        x = run_program(plan, x_T, eps_fn)
        run = {"plan": os.path.basename(path), "expected": flat(x), "maxAbs": float(x.abs().max())}
        if sem.decoder is not None:
            d = manifest["decoder"]
            with torch.no_grad():
                img = sem.decoder(x / d["scalingFactor"])
            assert list(img.shape[1:]) == d["outputShape"]
            run["decoded"] = flat(img)
            run["decodedShape"] = list(img.shape)
        runs.append(run)
        extra = f", decoded max|img| {float(img.abs().max()):.3f}" if sem.decoder is not None else ""
        print(f"{case}/{run['plan']}: max|x| {run['maxAbs']:.3f}{extra}")

    out = {
        "format": "byom-reference/1",
        "case": case,
        "manifest": "model.json",
        "n": N_SAMPLES,
        "shape": shape,
        "x_T": flat(x_T),
        "conditioning": conditioning,
        "guidance": guidance,
        "runs": runs,
        "generatedBy": "tools/byom/reference_loop.py (float64 PyTorch, torch_state.pt weights)",
    }
    with open(os.path.join(case_dir, "reference.json"), "w") as f:
        json.dump(out, f)
        f.write("\n")


if __name__ == "__main__":
    torch.set_num_threads(1)
    for case in ["diffusers-unet", "edm-denoiser", "latent"]:
        reference(case)
