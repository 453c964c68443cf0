#!/usr/bin/env python3
"""Reference values for tests/diffusers_interop.test.ts, computed with torch and numpy the way
diffusers' DDIMScheduler does (src/diffusers/schedulers/scheduling_ddim.py: __init__,
betas_for_alpha_bar, rescale_zero_terminal_snr, set_timesteps). The formulas are written here
from the diffusers sources; diffusers itself is not imported.

    /usr/bin/python3 tools/reference/diffusers_values.py > tools/reference/fixtures/diffusers_values.json

torch's float32 linspace depends on the CPU kernel (SIMD width, FMA contraction), so the ᾱ tables
are computed twice: with ATEN_CPU_CAPABILITY=default (the portable kernel our TypeScript copies)
and with the machine's own kernel ("native").
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch

SCHEDULES = [
    {"name": "linear-1000", "num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02,
     "beta_schedule": "linear"},
    {"name": "scaled_linear-1000", "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
     "beta_schedule": "scaled_linear"},
    {"name": "squaredcos-1000", "num_train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2"},
    {"name": "linear-64", "num_train_timesteps": 64, "beta_start": 0.001, "beta_end": 0.2, "beta_schedule": "linear"},
    {"name": "scaled_linear-37", "num_train_timesteps": 37, "beta_start": 0.001, "beta_end": 0.3,
     "beta_schedule": "scaled_linear"},
    {"name": "squaredcos-50", "num_train_timesteps": 50, "beta_schedule": "squaredcos_cap_v2"},
    {"name": "scaled_linear-1000-zsnr", "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
     "beta_schedule": "scaled_linear", "rescale_betas_zero_snr": True},
    {"name": "linear-1000-zsnr", "num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02,
     "beta_schedule": "linear", "rescale_betas_zero_snr": True},
    {"name": "trained-5", "num_train_timesteps": 5, "trained_betas": [0.01, 0.05, 0.1, 0.3, 0.7]},
]


def alpha_bar_cos(t):
    return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2


def betas_of(s):
    n = s["num_train_timesteps"]
    if s.get("trained_betas") is not None:
        return torch.tensor(s["trained_betas"], dtype=torch.float32)
    if s["beta_schedule"] == "linear":
        return torch.linspace(s["beta_start"], s["beta_end"], n, dtype=torch.float32)
    if s["beta_schedule"] == "scaled_linear":
        return torch.linspace(s["beta_start"] ** 0.5, s["beta_end"] ** 0.5, n, dtype=torch.float32) ** 2
    out = [min(1 - alpha_bar_cos((i + 1) / n) / alpha_bar_cos(i / n), 0.999) for i in range(n)]
    return torch.tensor(out, dtype=torch.float32)


def rescale(betas):
    alphas = 1.0 - betas
    sq = torch.cumprod(alphas, dim=0).sqrt()
    s0 = sq[0].clone()
    sT = sq[-1].clone()
    sq -= sT
    sq *= s0 / (s0 - sT)
    ab = sq ** 2
    alphas = torch.cat([ab[0:1], ab[1:] / ab[:-1]])
    return 1 - alphas


def tables():
    out = {}
    for s in SCHEDULES:
        betas = betas_of(s)
        if s.get("rescale_betas_zero_snr"):
            betas = rescale(betas)
        ac = torch.cumprod(1.0 - betas, dim=0)
        ddim_last = float(ac[-1])
        if s.get("rescale_betas_zero_snr"):
            ac[-1] = 2 ** -24  # EulerDiscreteScheduler
        n = len(ac)
        index = list(range(n)) if n <= 100 else sorted(
            set(range(0, 10)) | {15, 16, 17, 31, 32, 33, 100, 250, 499, 500, 501, 750} | set(range(n - 10, n)))
        out[s["name"]] = {"index": index, "ac": [float(ac[i]) for i in index], "ddim_last": ddim_last}
    return out


def np_timesteps(spacing, n, steps, offset):
    if spacing == "linspace":
        t = np.linspace(0, n - 1, steps).round()[::-1].copy().astype(np.int64)
    elif spacing == "leading":
        ratio = n // steps
        t = (np.arange(0, steps) * ratio).round()[::-1].copy().astype(np.int64)
        t += offset
    else:
        ratio = n / steps
        t = np.round(np.arange(n, 0, -ratio)).astype(np.int64)
        t -= 1
    return [int(v) for v in t]


def timestep_cases():
    cases = []
    for n in (1000, 999, 64, 37, 7):
        for steps in sorted({1, 2, 3, 5, 6, 7, 10, 13, 20, 25, 50, 61, 100, 122, 250, 999, 1000}):
            if steps > n:
                continue
            for spacing in ("leading", "trailing", "linspace"):
                for offset in ((0, 1) if spacing == "leading" else (0,)):
                    cases.append({"spacing": spacing, "N": n, "steps": steps, "offset": offset,
                                  "timesteps": np_timesteps(spacing, n, steps, offset)})
    return cases


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--tables":
        json.dump(tables(), sys.stdout)
        sys.exit(0)
    runs = {}
    for label, cap in (("default", "default"), ("native", None)):
        env = dict(os.environ)
        if cap:
            env["ATEN_CPU_CAPABILITY"] = cap
        else:
            env.pop("ATEN_CPU_CAPABILITY", None)
        text = subprocess.run([sys.executable, __file__, "--tables"], env=env, check=True,
                              capture_output=True, text=True).stdout
        runs[label] = json.loads(text)
    native_cap = [l for l in torch.__config__.show().splitlines() if "CPU capability" in l]
    result = {
        "generator": "tools/reference/diffusers_values.py",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "native_capability": native_cap[0].strip() if native_cap else "unknown",
        "schedules": SCHEDULES,
        "alphas_cumprod": runs,
        "timesteps": timestep_cases(),
    }
    json.dump(result, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
