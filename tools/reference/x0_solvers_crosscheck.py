#!/usr/bin/env python3
"""Run the *original* DPM-Solver++ (multistep) and UniPC (bh1/bh2, data prediction) in float64 and print endpoints.

Cross-check for the TypeScript transcriptions in testing/solvers/ (dpm_solver_pp.ts, uni_pc.ts). The reference code is
NOT part of this repository: pass the folder that holds `dpm_solver_pytorch.py` (LuChengTHU/dpm-solver) and `uni_pc.py`
(wl-zhao/UniPC):

    /usr/bin/python3 tools/reference/x0_solvers_crosscheck.py /tmp > /tmp/x0_crosscheck.json

Needs torch (Debian: apt-get install python3-torch). No test depends on this script. Output: one JSON object
{"cases": [{solver, variant, order, steps, grid, eps, timesteps, x, out}, ...]} with x, out flattened (shape 2x1x2x2).
Noise schedule: NoiseScheduleVP('linear') (beta 0.1..20), T = 1, t_end = 1e-3, grids from the solvers' own
get_time_steps ('time_quadratic', 'logSNR'); the TS side is fed these exact timesteps.
Models (ε-prediction, elementwise):
  gauss: data N(0, s^2), s = 0.5: eps = sigma x / (alpha^2 s^2 + sigma^2)
  mix:   1-D mixture sum_k w_k N(mu_k, s_k^2) per element: eps = -sigma * d/dx log p_t(x)
"""
import contextlib
import io
import json
import math
import sys

import torch

torch.set_default_dtype(torch.float64)  # the references build some tensors with the default dtype (rhos, rks)

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "/tmp")
import dpm_solver_pytorch as dpm  # noqa: E402
import uni_pc as unipc  # noqa: E402

GAUSS_S = 0.5
MIX_W = [0.3, 0.5, 0.2]
MIX_MU = [-1.0, 0.4, 1.5]
MIX_S = [0.3, 0.2, 0.5]


def alpha_sigma(ns, t):
    la = ns.marginal_log_mean_coeff(t)
    return torch.exp(la), torch.sqrt(1.0 - torch.exp(2.0 * la))


def make_models(ns):
    def gauss(x, t):
        a, s = alpha_sigma(ns, t)
        a, s = a.reshape(-1, 1, 1, 1), s.reshape(-1, 1, 1, 1)
        return s * x / (a * a * GAUSS_S**2 + s * s)

    def mix(x, t):
        a, s = alpha_sigma(ns, t)
        a, s = a.reshape(-1, 1, 1, 1), s.reshape(-1, 1, 1, 1)
        logs, grads = [], []
        for w, mu, sk in zip(MIX_W, MIX_MU, MIX_S):
            v = a * a * sk * sk + s * s
            d = x - a * mu
            logs.append(math.log(w) - 0.5 * torch.log(v) - 0.5 * d * d / v)
            grads.append(-d / v)
        logs = torch.stack(logs)
        gam = torch.softmax(logs, dim=0)
        score = (gam * torch.stack(grads)).sum(0)
        return -s * score

    return {"gauss": gauss, "mix": mix}


def main():
    x = torch.tensor([0.3, -1.2, 0.8, 2.1, -0.5, 1.4, -2.2, 0.05]).reshape(2, 1, 2, 2)
    cases = []
    t_T, t_0 = 1.0, 1e-3
    for which in ["dpm", "unipc"]:
        ns = (dpm if which == "dpm" else unipc).NoiseScheduleVP("linear", dtype=torch.float64)
        models = make_models(ns)
        for eps_name, model in models.items():
            mfn = (dpm if which == "dpm" else unipc).model_wrapper(model, ns, model_type="noise")
            variants = [None] if which == "dpm" else ["bh1", "bh2"]
            for variant in variants:
                if which == "dpm":
                    solver = dpm.DPM_Solver(mfn, ns, algorithm_type="dpmsolver++")
                else:
                    solver = unipc.UniPC(mfn, ns, algorithm_type="data_prediction", variant=variant)
                for grid in ["time_quadratic", "logSNR"]:
                    for order in [1, 2, 3]:
                        for steps in [5, 10, 20]:
                            ts = solver.get_time_steps(grid, t_T, t_0, steps, x.device)
                            with contextlib.redirect_stdout(io.StringIO()):  # UniPC prints per step
                                out = solver.sample(x.clone(), steps=steps, t_start=t_T, t_end=t_0, order=order,
                                                    skip_type=grid, method="multistep", lower_order_final=True)
                            cases.append({
                                "solver": "dpm++" if which == "dpm" else "unipc", "variant": variant,
                                "order": order, "steps": steps, "grid": grid, "eps": eps_name,
                                "timesteps": [float(v) for v in ts.reshape(-1)],
                                "x": [float(v) for v in x.reshape(-1)],
                                "out": [float(v) for v in out.reshape(-1)],
                            })
    json.dump({"torch": torch.__version__, "gaussS": GAUSS_S, "mix": {"w": MIX_W, "mu": MIX_MU, "s": MIX_S},
               "cases": cases}, sys.stdout)


if __name__ == "__main__":
    main()
