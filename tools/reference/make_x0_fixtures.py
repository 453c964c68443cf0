#!/usr/bin/python3
"""Independent 40-digit reference for the data-prediction multistep tables (DPM-Solver++, UniPC).

Written from the solvers' published update formulas (LuChengTHU/dpm-solver `dpm_solver_pytorch.py`,
"dpmsolver++" multistep with solver_type "dpmsolver"; wl-zhao/UniPC `uni_pc.py`,
`multistep_uni_pc_bh_update` with predict_x0) and docs/CONVENTIONS.md, not from assembly/. Each
update is transcribed literally as a function of the state x and the data predictions D (no
hand expansion into coefficients); the coefficients are then read off by evaluating it on unit
inputs, which is exact because the update is linear in (x, D).

    nice -n 10 /usr/bin/python3 tools/reference/make_x0_fixtures.py [--check-dps 90]

Writes tools/reference/fixtures/x0_multistep.json. Needs python3-mpmath only.

Precision: the formulas are evaluated at WORK_DPS = 60 digits (φ2, φ3 and UniPC's h_phi_k
recursion cancel like h^-1..h^-3, which costs ≤ 16 digits at h = 1e-4), and the whole table is
recomputed at --check-dps digits; the largest relative difference is printed (it must be far
below 1e-30, i.e. the stored 40-digit claim holds). SDE parameters and grid times are float64
taken as exact binary numbers; every stored number is the float64 nearest to the reference value
(round-half-even via to_float(..., rnd='n'), as in make_fixtures.py).

Row layouts (order r, step k from t_k to t_{k+1}, D_i = x0-prediction at t_i, newest first):
  dpmpp:       [sigma_{k+1}/sigma_k, c_0..c_{r-1}]           x_{k+1} = ratio x_k + sum_j c_j D_{k-j}
  unipc pred:  [ratio, p_0..p_{r-1}]                         x^p_{k+1} = ratio x_k + sum_j p_j D_{k-j}
  unipc corr:  [ratio, c_new, c_0..c_{r-1}]                  x^c_{k+1} = ... + c_new D^p_{k+1}
               (all zeros at the last step, where the reference skips the corrector)
Step orders: dpmpp min(r, k+1) and, only when steps < 10, min(., steps-k); unipc min(r, k+1, steps-k).
"""

import argparse
import json
import os
import sys
import time

from mpmath import mp, mpf
from mpmath.libmp import to_float

DPS = 40
WORK_DPS = 60
mp.dps = WORK_DPS

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "x0_multistep.json")


def f64(x):
    """Nearest float64 (round half to even) of an mpf."""
    return to_float(mpf(x)._mpf_, rnd="n")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# SDE families (docs/CONVENTIONS.md): rho(t), alpha(t), and t(rho) with rho = e^u for the logrho grid.
# ----------------------------------------------------------------------------------------------


class VPLinear:
    name = "vp-linear"

    def __init__(self):
        self.b0 = mpf(0.1)
        self.b1 = mpf(20.0)
        self.config = {"name": self.name, "betaMin": 0.1, "betaMax": 20.0}

    def rho(self, t):
        # log abar = -(b1 - b0) t^2/2 - b0 t, rho^2 = 1/abar - 1
        return mp.sqrt(mp.expm1((self.b1 - self.b0) * t * t / 2 + self.b0 * t))

    def alpha(self, t):
        return mp.exp(-((self.b1 - self.b0) * t * t / 2 + self.b0 * t) / 2)

    def t_of_u(self, u):
        m = mp.log1p(mp.exp(2 * u))  # -log abar
        return 2 * m / (self.b0 + mp.sqrt(self.b0 ** 2 + 2 * (self.b1 - self.b0) * m))


class VPCosine:
    name = "vp-cosine"

    def __init__(self):
        self.s = mpf(0.008)
        self.c = mp.pi / (2 * (1 + self.s))
        self.th0 = self.c * self.s
        self.config = {"name": self.name}

    def rho(self, t):
        th = self.c * (t + self.s)
        return mp.sqrt(mp.sin(th - self.th0) * mp.sin(th + self.th0)) / mp.cos(th)

    def alpha(self, t):
        # abar = cos^2(th)/cos^2(th0)
        return mp.cos(self.c * (t + self.s)) / mp.cos(self.th0)

    def t_of_u(self, u):
        r2 = mp.exp(2 * u)
        c0 = mp.cos(self.th0)
        tan0 = mp.tan(self.th0)
        tan_th = mp.sqrt(tan0 ** 2 + r2 / c0 ** 2)
        num = (r2 / c0 ** 2) / (tan_th + tan0)
        return mp.atan(num / (1 + tan_th * tan0)) / self.c


class VE:
    name = "ve"

    def __init__(self):
        self.smin = mpf(0.01)
        self.smax = mpf(50.0)
        self.lr = mp.log(self.smax / self.smin)
        self.config = {"name": self.name, "sigmaMin": 0.01, "sigmaMax": 50.0}

    def rho(self, t):
        return self.smin * mp.exp(self.lr * t)

    def alpha(self, t):
        return mpf(1)

    def t_of_u(self, u):
        return (u - mp.log(self.smin)) / self.lr


SDES = [(VPLinear, 1.0, 1e-3), (VPCosine, 0.9946, 1e-3), (VE, 1.0, 1e-3)]
STEPS = [5, 10, 20]
ORDERS = [1, 2, 3]


def make_grid(sde, grid, N, T, eps):
    """As tools/reference/make_fixtures.py: formula at working precision, each time rounded to the
    nearest float64, ends exactly T and eps."""
    Tm, em = mpf(T), mpf(eps)
    ts = []
    for i in range(N + 1):
        u = mpf(i) / N
        if grid == "time-quadratic":
            t = (mp.sqrt(Tm) + u * (mp.sqrt(em) - mp.sqrt(Tm))) ** 2
        elif grid == "logrho":
            lT, le = mp.log(sde.rho(Tm)), mp.log(sde.rho(em))
            t = sde.t_of_u(lT + u * (le - lT))
        else:
            raise ValueError(grid)
        ts.append(f64(t))
    ts[0], ts[-1] = float(T), float(eps)
    return ts


def custom_grids(name):
    """Hand-made grids for the regimes the formula grids miss: very short steps (h ~ 1e-4 and 1e-2,
    uneven ratios) where phi_2, phi_3 and h_phi_k cancel, and long steps (h up to ~5) on both sides
    of h = 2."""
    out = []
    for tag, scale in (("fine", 1.0), ("medium", 100.0)):
        dts = [1.5e-5, 3e-5, 1e-5, 2e-5, 1.5e-5, 2.5e-5, 1.2e-5]
        t = 0.5
        ts = [t]
        for d in dts:
            t = t - d * scale
            ts.append(t)
        out.append((f"custom-{tag}", ts))
    if name == "ve":
        out.append(("custom-coarse", [1.0, 0.77, 0.53, 0.3, 0.07, 0.001]))
    elif name == "vp-linear":
        out.append(("custom-coarse", [1.0, 0.6, 0.3, 0.1, 0.03, 0.001]))
    else:
        out.append(("custom-coarse", [0.9946, 0.8, 0.5, 0.2, 0.05, 0.001]))
    for _, ts in out:
        assert all(ts[i] > ts[i + 1] for i in range(len(ts) - 1))
    return out


# ----------------------------------------------------------------------------------------------
# The updates, transcribed from the references. lam = lambda = log(alpha/sigma) at the grid times.
# ----------------------------------------------------------------------------------------------


def dpmpp_update(x, D, k, q, alpha, sigma, lam):
    """multistep_dpm_solver_{first,second,third}_update, dpmsolver++; D[i] = D_{k-i}."""
    h = lam[k + 1] - lam[k]
    alpha_t, sigma_t, sigma_prev_0 = alpha[k + 1], sigma[k + 1], sigma[k]
    phi_1 = mp.expm1(-h)
    if q == 1:
        return sigma_t / sigma_prev_0 * x - alpha_t * phi_1 * D[0]
    model_prev_0, model_prev_1 = D[0], D[1]
    h_0 = lam[k] - lam[k - 1]
    r0 = h_0 / h
    D1_0 = (1 / r0) * (model_prev_0 - model_prev_1)
    if q == 2:
        return (sigma_t / sigma_prev_0) * x - (alpha_t * phi_1) * model_prev_0 - mpf(0.5) * (alpha_t * phi_1) * D1_0
    model_prev_2 = D[2]
    h_1 = lam[k - 1] - lam[k - 2]
    r1 = h_1 / h
    D1_1 = (1 / r1) * (model_prev_1 - model_prev_2)
    D1 = D1_0 + (r0 / (r0 + r1)) * (D1_0 - D1_1)
    D2 = (1 / (r0 + r1)) * (D1_0 - D1_1)
    phi_2 = phi_1 / h + 1
    phi_3 = phi_2 / h - mpf(0.5)
    return ((sigma_t / sigma_prev_0) * x - (alpha_t * phi_1) * model_prev_0 + (alpha_t * phi_2) * D1
            - (alpha_t * phi_3) * D2)


def unipc_update(x, D, Dp, k, q, variant, alpha, sigma, lam, use_corrector):
    """multistep_uni_pc_bh_update with predict_x0; D[i] = D_{k-i}, Dp = model at the predicted point.
    Returns (x_pred, x_corr)."""
    h = lam[k + 1] - lam[k]
    alpha_t, sigma_t, sigma_prev_0 = alpha[k + 1], sigma[k + 1], sigma[k]
    model_prev_0 = D[0]
    rks, D1s = [], []
    for i in range(1, q):
        rk = (lam[k - i] - lam[k]) / h
        rks.append(rk)
        D1s.append((D[i] - model_prev_0) / rk)
    rks.append(mpf(1))
    hh = -h
    h_phi_1 = mp.expm1(hh)
    h_phi_k = h_phi_1 / hh - 1
    factorial_i = 1
    B_h = hh if variant == "bh1" else mp.expm1(hh)
    R, b = [], []
    for i in range(1, q + 1):
        R.append([rk ** (i - 1) for rk in rks])
        b.append(h_phi_k * factorial_i / B_h)
        factorial_i *= i + 1
        h_phi_k = h_phi_k / hh - mpf(1) / factorial_i
    rhos_p = None
    if D1s:
        if q == 2:
            rhos_p = [mpf(0.5)]
        else:
            rhos_p = list(mp.lu_solve(mp.matrix([row[:-1] for row in R[:-1]]), mp.matrix(b[:-1])))
    x_t_ = sigma_t / sigma_prev_0 * x - alpha_t * h_phi_1 * model_prev_0
    pred_res = sum((r * d for r, d in zip(rhos_p, D1s)), mpf(0)) if D1s else mpf(0)
    x_pred = x_t_ - alpha_t * B_h * pred_res
    if not use_corrector:
        return x_pred, None
    rhos_c = [mpf(0.5)] if q == 1 else list(mp.lu_solve(mp.matrix(R), mp.matrix(b)))
    corr_res = sum((r * d for r, d in zip(rhos_c[:-1], D1s)), mpf(0)) if D1s else mpf(0)
    D1_t = Dp - model_prev_0
    x_corr = x_t_ - alpha_t * B_h * (corr_res + rhos_c[-1] * D1_t)
    return x_pred, x_corr


def coefficients(f, n_inputs):
    """Coefficients of a linear function of n_inputs arguments."""
    out = []
    for j in range(n_inputs):
        e = [mpf(0)] * n_inputs
        e[j] = mpf(1)
        out.append(f(*e))
    return out


def tables(ts_f, sde, N):
    ts = [mpf(t) for t in ts_f]
    alpha = [sde.alpha(t) for t in ts]
    rho = [sde.rho(t) for t in ts]
    sigma = [a * r for a, r in zip(alpha, rho)]
    lam = [-mp.log(r) for r in rho]
    out = {
        "alpha": alpha,
        "h": [lam[k + 1] - lam[k] for k in range(N)],
        "dpmpp": {},
        "unipc": {},
    }
    for r in ORDERS:
        rows = []
        for k in range(N):
            q = min(r, k + 1)
            if N < 10:  # lower_order_final and steps < 10
                q = min(q, N - k)

            def f(x, *Ds):
                return dpmpp_update(x, list(Ds), k, q, alpha, sigma, lam)

            c = coefficients(f, 1 + q)
            rows.append(c + [mpf(0)] * (r - q))
        out["dpmpp"][str(r)] = rows
    for variant in ("bh1", "bh2"):
        for r in ORDERS:
            pred, corr = [], []
            for k in range(N):
                q = min(r, k + 1, N - k)
                use_c = k < N - 1

                def fp(x, *Ds):
                    return unipc_update(x, list(Ds), mpf(0), k, q, variant, alpha, sigma, lam, False)[0]

                p = coefficients(fp, 1 + q)
                pred.append(p + [mpf(0)] * (r - q))
                if use_c:
                    def fc(x, Dp, *Ds):
                        return unipc_update(x, list(Ds), Dp, k, q, variant, alpha, sigma, lam, True)[1]

                    c = coefficients(fc, 2 + q)
                    corr.append(c + [mpf(0)] * (r - q))
                else:
                    corr.append([mpf(0)] * (r + 2))
            out["unipc"][f"{variant}-{r}"] = {"pred": pred, "corr": corr}
    return out


def flatten(x):
    if isinstance(x, dict):
        for k in sorted(x):
            yield from flatten(x[k])
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from flatten(v)
    else:
        yield x


def to_json(x):
    if isinstance(x, mp.mpf):
        return f64(x)
    if isinstance(x, dict):
        return {k: to_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_json(v) for v in x]
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check-dps", type=int, default=90, help="recompute at this precision and compare (0: off)")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    t0 = time.time()
    doc = {
        "generator": "tools/reference/make_x0_fixtures.py",
        "dps": DPS,
        "layout": {
            "dpmpp": "rows [sigma_{k+1}/sigma_k, c_0..c_{r-1}] on D_k, D_{k-1}, ...",
            "unipc.pred": "rows [sigma_{k+1}/sigma_k, p_0..p_{r-1}]",
            "unipc.corr": "rows [sigma_{k+1}/sigma_k, c_new, c_0..c_{r-1}]; zeros at the last step",
            "alpha": "alpha_i at the grid times", "h": "h_k = lambda_{k+1} - lambda_k",
        },
        "sdes": [],
    }
    worst = 0.0
    for cls, T, eps in SDES:
        sde = cls()
        grids = [(g, make_grid(sde, g, N, T, eps)) for g in ("time-quadratic", "logrho") for N in STEPS]
        grids += custom_grids(sde.name)
        cases = []
        for grid, ts in grids:
            N = len(ts) - 1
            tab = tables(ts, sde, N)
            if args.check_dps:
                with mp.workdps(args.check_dps):
                    hi = tables(ts, cls(), N)
                for a, b in zip(flatten(tab), flatten(hi)):
                    if b != 0:
                        worst = max(worst, float(abs(a - b) / abs(b)))
                    else:
                        assert a == 0
            case = {"grid": grid, "steps": N, "timesteps": ts}
            case.update(to_json(tab))
            cases.append(case)
            log(f"[{sde.name}] {grid:15s} steps={N:3d}  {time.time() - t0:6.1f}s")
        doc["sdes"].append({"sde": sde.config, "tStart": T, "tEnd": eps, "cases": cases})
    if args.check_dps:
        log(f"dps {WORK_DPS} vs dps {args.check_dps}: max rel difference {worst:.2e}")
        assert worst < 1e-40, worst
    data = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write(data + "\n")
    log(f"wrote {args.out}: {len(data) / 1e3:.1f} kB, {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
