#!/usr/bin/python3
"""Independent 30-digit reference for the DEIS coefficient tables.

Written from docs/CONVENTIONS.md and the project's MATH notes only (not from the engine's code).
Run with Debian's python3 (needs python3-mpmath and python3-numpy):

    nice -n 10 /usr/bin/python3 tools/reference/make_fixtures.py [--sde NAME ...] [--check-stride K]

Writes tools/reference/fixtures/<sde>.json.gz. See tools/reference/README.md.

Precision: mp.dps = 40. Every SDE parameter and every grid time is a float64 taken as an exact
binary number; every stored number is the float64 nearest to the high-precision value
(round-to-nearest-even, NOT mpmath's default float() which truncates).

tAB integrals use mpmath.quad (tanh-sinh) in u = log(rho), on the normalised integrand
exp(u - u_k) * ((t(e^u) - t_k)/dt)^p, p = 1..3, with the knots of vp-discrete as breakpoints
(one quad per knot segment). A subset of steps is re-integrated with Gauss-Legendre at dps 60
and the largest relative discrepancy is reported. rhoAB and log-rho use closed forms.
"""

import argparse
import gzip
import json
import math
import os
import sys
import time
from bisect import bisect_left
from fractions import Fraction

import mpmath
import numpy
from mpmath import mp, mpf
from mpmath.libmp import to_float

DPS = 40
GUARD_DPS = 60  # closed forms (log-rho moments) and quadrature checks
mp.dps = DPS

HERE = os.path.dirname(os.path.abspath(__file__))
OUTDIR = os.path.join(HERE, "fixtures")


def f64(x):
    """Nearest float64 (round half to even) of an mpf."""
    return to_float(mpf(x)._mpf_, rnd="n")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# SDE families. All of them expose, for an exact (mp) time t:
#   rho2(t)         rho^2 (VE: sigma^2)
#   alpha_bar(t)    (VE: 1)
#   dlogab(t)       (log alphabar)'(t) (VE: 0); vp-discrete: slope of the segment below a knot
#   drho(t)         rho'(t)
#   t_of_u(u)       t(rho) with rho = e^u
#   segments(ua, ub) list of u breakpoints strictly between (for quad)
# ----------------------------------------------------------------------------------------------


class VP:
    is_ve = False

    def rho(self, t):
        return mp.sqrt(self.rho2(t))

    def alpha_bar(self, t):
        return 1 / (1 + self.rho2(t))

    def drho(self, t):
        # rho^2 = 1/ab - 1  =>  2 rho rho' = -(log ab)' / ab = -(log ab)' (1 + rho^2)
        r2 = self.rho2(t)
        return -self.dlogab(t) * (1 + r2) / (2 * mp.sqrt(r2))

    def t_of_rho(self, rho):
        return self.t_of_u(mp.log(rho))

    def breakpoints(self, t_hi, t_lo):
        return []


class VPLinear(VP):
    name = "vp-linear"

    def __init__(self, beta_min=0.1, beta_max=20.0):
        self.b0 = mpf(beta_min)
        self.b1 = mpf(beta_max)
        self.config = {"name": self.name, "betaMin": beta_min, "betaMax": beta_max}

    def rho2(self, t):
        # -log ab = (b1 - b0) t^2 / 2 + b0 t ; rho^2 = 1/ab - 1
        return mp.expm1((self.b1 - self.b0) * t * t / 2 + self.b0 * t)

    def dlogab(self, t):
        return -(self.b1 - self.b0) * t - self.b0

    def t_of_u(self, u):
        # Solve (b1-b0)/2 t^2 + b0 t = log(1 + rho^2) =: m  (positive root, no cancellation):
        # t = 2m / (b0 + sqrt(b0^2 + 2 (b1-b0) m))
        m = mp.log1p(mp.exp(2 * u))
        return 2 * m / (self.b0 + mp.sqrt(self.b0 ** 2 + 2 * (self.b1 - self.b0) * m))


class VPCosine(VP):
    name = "vp-cosine"

    def __init__(self, s=0.008):
        self.s = mpf(s)
        self.c = mp.pi / (2 * (1 + self.s))  # theta = c (t + s)
        self.theta0 = self.c * self.s
        self.config = {"name": self.name, "s": s}

    def rho2(self, t):
        # ab = cos^2(th)/cos^2(th0): 1/ab - 1 = (cos^2 th0 - cos^2 th)/cos^2 th
        #    = sin(th - th0) sin(th + th0) / cos^2 th
        th = self.c * (t + self.s)
        return mp.sin(th - self.theta0) * mp.sin(th + self.theta0) / mp.cos(th) ** 2

    def dlogab(self, t):
        th = self.c * (t + self.s)
        return -2 * self.c * mp.tan(th)

    def t_of_u(self, u):
        # cos(th) = cos(th0) / sqrt(1 + rho^2)  =>  tan(th) = sqrt((1 + rho^2)/cos^2 th0 - 1)
        # th - th0 via atan of tan difference: tan(th - th0) = (tan th - tan th0)/(1 + tan th tan th0)
        r2 = mp.exp(2 * u)
        c0 = mp.cos(self.theta0)
        tan0 = mp.tan(self.theta0)
        # tan^2 th - tan^2 th0 = (1 + r2)/c0^2 - 1/c0^2 = r2 / c0^2
        tan_th = mp.sqrt(tan0 ** 2 + r2 / c0 ** 2)
        num = (r2 / c0 ** 2) / (tan_th + tan0)  # tan th - tan th0, cancellation-free
        dth = mp.atan(num / (1 + tan_th * tan0))
        return dth / self.c


class VE:
    name = "ve"
    is_ve = True

    def __init__(self, sigma_min=0.01, sigma_max=50.0):
        self.smin = mpf(sigma_min)
        self.smax = mpf(sigma_max)
        self.lr = mp.log(self.smax / self.smin)
        self.config = {"name": self.name, "sigmaMin": sigma_min, "sigmaMax": sigma_max}

    def rho(self, t):
        return self.smin * mp.exp(self.lr * t)

    def rho2(self, t):
        return self.rho(t) ** 2

    def alpha_bar(self, t):
        return mpf(1)

    def dlogab(self, t):
        return mpf(0)

    def drho(self, t):
        return self.rho(t) * self.lr

    def t_of_u(self, u):
        return (u - mp.log(self.smin)) / self.lr

    def t_of_rho(self, rho):
        return self.t_of_u(mp.log(rho))

    def breakpoints(self, t_hi, t_lo):
        return []


class VPDiscrete(VP):
    name = "vp-discrete"

    def __init__(self, alphas_cumprod):
        ac = [float(x) for x in alphas_cumprod]
        self.N = len(ac)
        self.ab = [mpf(x) for x in ac]  # exact doubles
        self.a = [mp.log(x) for x in self.ab]  # log ab at knot n, t_n = (n+1)/N
        self.r2 = [(1 - x) / x for x in self.ab]  # rho^2 at knots (exact up to rounding at dps)
        self.uk = [mp.log(r) / 2 for r in self.r2]  # u = log rho at knots, increasing in n
        for n in range(1, self.N):
            assert self.ab[n] < self.ab[n - 1], "alphasCumprod must be strictly decreasing"
        self.config = {"name": self.name, "alphasCumprod": ac}

    def knot_t(self, n):
        return mpf(n + 1) / self.N

    def seg_of_t(self, t):
        """Segment n (1..N-1) between knots n-1 and n with t_{n-1} < t <= t_n (a knot belongs to the
        segment below it). Exact rational arithmetic on the double t."""
        x = mpf(t) * self.N  # = index + 1; exact for a double t at dps 40
        n = int(mp.ceil(x)) - 1
        return min(max(n, 1), self.N - 1)

    def loga(self, t):
        n = self.seg_of_t(t)
        w = t * self.N - n  # in (0, 1]; t_{n-1} = n/N
        return self.a[n - 1] + (self.a[n] - self.a[n - 1]) * w

    def rho2(self, t):
        n = self.seg_of_t(t)
        w = t * self.N - n
        if w == 1:
            return self.r2[n]
        return mp.expm1(-(self.a[n - 1] + (self.a[n] - self.a[n - 1]) * w))

    def dlogab(self, t):
        n = self.seg_of_t(t)
        return (self.a[n] - self.a[n - 1]) * self.N

    def t_in_seg(self, u, n):
        L = -mp.log1p(mp.exp(2 * u))
        return (n + (L - self.a[n - 1]) / (self.a[n] - self.a[n - 1])) / self.N

    def seg_of_u(self, u):
        # first n with uk[n] >= u
        n = bisect_left(self.uk, u)
        return min(max(n, 1), self.N - 1)

    def t_of_u(self, u):
        return self.t_in_seg(u, self.seg_of_u(u))

    def breakpoints(self, t_hi, t_lo):
        """u of the knots strictly inside (t_lo, t_hi), decreasing (from t_hi to t_lo)."""
        out = []
        lo = Fraction(float(t_lo)) * self.N - 1
        hi = Fraction(float(t_hi)) * self.N - 1
        n = math.ceil(hi) - 1 if hi == math.ceil(hi) else math.floor(hi)
        while n > lo:
            out.append(self.uk[n])
            n -= 1
        return out


def ddpm_table():
    betas = numpy.linspace(1e-4, 0.02, 1000)
    return numpy.cumprod(1.0 - betas)


# ----------------------------------------------------------------------------------------------
# Grids (exact formulas at dps, then each time rounded to the nearest float64)
# ----------------------------------------------------------------------------------------------

GRIDS = [("time-uniform", None), ("time-quadratic", None), ("time-power", 3), ("logrho", None),
         ("karras", 7)]
STEPS = [5, 10, 20, 50, 200]


def make_grid(sde, grid, kappa, N, T, eps):
    T = mpf(T)
    eps = mpf(eps)
    ts = []
    for i in range(N + 1):
        u = mpf(i) / N
        if grid == "time-uniform":
            t = T + u * (eps - T)
        elif grid == "time-quadratic":
            t = (mp.sqrt(T) + u * (mp.sqrt(eps) - mp.sqrt(T))) ** 2
        elif grid == "time-power":
            k = mpf(kappa)
            t = (T ** (1 / k) + u * (eps ** (1 / k) - T ** (1 / k))) ** k
        elif grid == "logrho":
            lT = mp.log(sde.rho(T))
            le = mp.log(sde.rho(eps))
            t = sde.t_of_u(lT + u * (le - lT))
        elif grid == "karras":
            k = mpf(kappa)
            rT = sde.rho(T) ** (1 / k)
            re = sde.rho(eps) ** (1 / k)
            t = sde.t_of_rho((rT + u * (re - rT)) ** k)
        else:
            raise ValueError(grid)
        ts.append(f64(t))
    ts[0] = float(T)
    ts[-1] = float(eps)
    for i in range(N):
        assert ts[i] > ts[i + 1], (grid, N, i)
    return ts


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def lagrange_monomials(nodes):
    """nodes x_0..x_q; returns L[j][p] with l_j(y) = sum_p L[j][p] y^p."""
    q = len(nodes) - 1
    out = []
    for j in range(q + 1):
        poly = [mpf(1)]  # coefficients, ascending
        den = mpf(1)
        for m in range(q + 1):
            if m == j:
                continue
            # multiply by (y - x_m)
            new = [mpf(0)] * (len(poly) + 1)
            for p, c in enumerate(poly):
                new[p + 1] += c
                new[p] -= c * nodes[m]
            poly = new
            den *= nodes[j] - nodes[m]
        out.append([c / den for c in poly])
    return out


def combine(nodes, moments):
    L = lagrange_monomials(nodes)
    return [sum(L[j][p] * moments[p] for p in range(len(nodes))) for j in range(len(nodes))]


def logrho_moments(rho_k, rho_k1, q):
    """M_p = int_{rho_k}^{rho_k1} (log rho - log rho_k)^p d rho = rho_k int_0^d y^p e^y dy, closed form
    I_0 = e^d - 1, I_p = d^p e^d - p I_{p-1} (evaluated with guard digits)."""
    with mp.workdps(GUARD_DPS):
        rk = mpf(rho_k)
        rk1 = mpf(rho_k1)
        d = mp.log(rk1 / rk)
        ed = rk1 / rk
        I = [ed - 1]
        for p in range(1, q + 1):
            I.append(d ** p * ed - p * I[-1])
        return [rk * x for x in I]


RK = {
    "euler": ([0], [], [1]),
    "midpoint2": ([0, Fraction(1, 2)], [[Fraction(1, 2)]], [0, 1]),
    "heun2": ([0, 1], [[1]], [Fraction(1, 2), Fraction(1, 2)]),
    "ralston3": ([0, Fraction(1, 2), Fraction(3, 4)], [[Fraction(1, 2)], [0, Fraction(3, 4)]],
                 [Fraction(2, 9), Fraction(1, 3), Fraction(4, 9)]),
    "kutta3": ([0, Fraction(1, 2), 1], [[Fraction(1, 2)], [-1, 2]],
               [Fraction(1, 6), Fraction(2, 3), Fraction(1, 6)]),
    "rk4": ([0, Fraction(1, 2), Fraction(1, 2), 1], [[Fraction(1, 2)], [0, Fraction(1, 2)], [0, 0, 1]],
            [Fraction(1, 6), Fraction(1, 3), Fraction(1, 3), Fraction(1, 6)]),
}


def frac(x):
    x = Fraction(x)
    return mpf(x.numerator) / x.denominator


IPNDM = [[1], [Fraction(3, 2), Fraction(-1, 2)], [Fraction(23, 12), Fraction(-16, 12), Fraction(5, 12)],
         [Fraction(55, 24), Fraction(-59, 24), Fraction(37, 24), Fraction(-9, 24)]]


# ----------------------------------------------------------------------------------------------
# tAB moments by quadrature
# ----------------------------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.quad_err_est = 0.0  # max relative error estimate reported by mp.quad
        self.check_rel = 0.0  # max relative discrepancy quad vs Gauss-Legendre at GUARD_DPS
        self.check_count = 0
        self.parts_rel = 0.0  # quad in rho vs integration by parts in t (uses rho(t) only)
        self.logrho_rel = 0.0  # closed form at dps vs GUARD_DPS
        self.ve_tab_vs_logrho = 0.0
        self.stage_rho_rel = 0.0
        self.rowsum_rel = 0.0


def tab_moments(sde, tk, tk1, rk, rk1, q, method="tanh-sinh", stats=None):
    """M_p = int_{rho_k}^{rho_{k+1}} (t(rho) - t_k)^p d rho for p = 0..q (q <= 3).

    Integrated in u = log rho: rho_k * dt^p * int exp(u - u_k) ((t(e^u) - t_k)/dt)^p du, the
    integrand being O(1) so that quad's absolute tolerance is a relative one."""
    M = [rk1 - rk]
    if q == 0:
        return M
    uk = mp.log(rk)
    uk1 = mp.log(rk1)
    dt = tk1 - tk
    pts = [uk] + sde.breakpoints(tk, tk1) + [uk1]
    cache = {}

    def g(u, n):
        key = (u, n)
        v = cache.get(key)
        if v is None:
            tt = sde.t_in_seg(u, n) if n is not None else sde.t_of_u(u)
            v = (mp.exp(u - uk), (tt - tk) / dt)
            cache[key] = v
        return v

    res = [mpf(0)] * (q + 1)
    err = [mpf(0)] * (q + 1)
    for i in range(len(pts) - 1):
        a, b = pts[i], pts[i + 1]
        n = sde.seg_of_u((a + b) / 2) if isinstance(sde, VPDiscrete) else None
        for p in range(1, q + 1):
            f = (lambda u, p=p, n=n: (lambda e, s: e * s ** p)(*g(u, n)))
            if method == "tanh-sinh":
                v, e = mp.quad(f, [a, b], method="tanh-sinh", error=True)
            else:
                v, e = mp.quad(f, [a, b], method=method, error=True)
            res[p] += v
            err[p] += e
    for rule in (mp._tanh_sinh, mp._gauss_legendre):  # per-interval node caches grow without bound
        rule.transformed_cache.clear()
        rule.interval_count.clear()
    for p in range(1, q + 1):
        M.append(rk * dt ** p * res[p])
        if stats is not None and res[p] != 0:
            stats.quad_err_est = max(stats.quad_err_est, float(abs(err[p] / res[p])))
    return M


def moments_by_parts(sde, tk, tk1, rk1, q):
    """Independent check of the tAB moments that does not use t(rho):
    int (t(rho) - t_k)^p d rho = dt^p rho_{k+1} - p int_{t_k}^{t_{k+1}} (t - t_k)^{p-1} rho(t) dt."""
    dt = tk1 - tk
    pts = [tk]
    if isinstance(sde, VPDiscrete):
        n = int(mp.ceil(tk * sde.N)) - 1
        while n >= 0 and sde.knot_t(n) > tk1:
            if sde.knot_t(n) < tk:
                pts.append(sde.knot_t(n))
            n -= 1
    pts.append(tk1)
    M = [None]
    for p in range(1, q + 1):
        I = mp.quad(lambda t: ((t - tk) / dt) ** (p - 1) * sde.rho(t), pts)
        M.append(dt ** p * (rk1 - p * I / dt))
    return M


# ----------------------------------------------------------------------------------------------
# One case
# ----------------------------------------------------------------------------------------------


def rel(a, b):
    a = mpf(a)
    b = mpf(b)
    if a == b:
        return 0.0
    return float(abs(a - b) / max(abs(a), abs(b)))


def compute_case(sde, grid, kappa, N, T, eps, stats, check_stride):
    ts_f = make_grid(sde, grid, kappa, N, T, eps)
    ts = [mpf(x) for x in ts_f]
    ab = [sde.alpha_bar(t) for t in ts]
    rho = [sde.rho(t) for t in ts]
    alpha = [mp.sqrt(x) for x in ab]

    R = 3
    tables = {"ddim": [], "euler": [], "ei-score": []}
    for r in range(R + 1):
        for m in ("tab", "rhoab", "logrho", "ipndm"):
            tables[f"{m}{r}"] = []
    sddim = {lam: {"rows": [], "noise": []} for lam in ("0.5", "1")}
    rk_out = {name: {"stages": [], "rows": []} for name in RK}

    for k in range(N):
        tk, tk1 = ts[k], ts[k + 1]
        rk, rk1 = rho[k], rho[k + 1]
        ak, ak1 = alpha[k], alpha[k + 1]
        h = rk1 - rk
        psi = ak1 / ak
        q = min(k, R)
        dt = tk1 - tk
        ddim_c = ak1 * h
        tables["ddim"].append([psi, ddim_c])

        # tAB
        Mt = tab_moments(sde, tk, tk1, rk, rk1, q, stats=stats)
        if q > 0 and check_stride and k % check_stride == 0:
            with mp.workdps(GUARD_DPS):
                Mg = tab_moments(sde, tk, tk1, rk, rk1, q, method="gauss-legendre")
            Mb = moments_by_parts(sde, tk, tk1, rk1, q)
            for p in range(1, q + 1):
                stats.check_rel = max(stats.check_rel, rel(Mt[p], Mg[p]))
                stats.parts_rel = max(stats.parts_rel, rel(Mt[p], Mb[p]))
            stats.check_count += 1
        # rhoAB: int_0^h y^p dy
        Mr = [h ** (p + 1) / (p + 1) for p in range(q + 1)]
        # log-rho: closed form
        Ml = logrho_moments(rk, rk1, q)
        # check: closed form evaluated at dps only
        d = mp.log(rk1 / rk)
        Il = [rk1 / rk - 1]
        for p in range(1, q + 1):
            Il.append(d ** p * (rk1 / rk) - p * Il[-1])
        for p in range(q + 1):
            stats.logrho_rel = max(stats.logrho_rel, rel(rk * Il[p], Ml[p]))

        for r in range(R + 1):
            qq = min(k, r)
            cols = {
                "tab": combine([ts[k - j] - tk for j in range(qq + 1)], Mt),
                "rhoab": combine([rho[k - j] - rk for j in range(qq + 1)], Mr),
                "logrho": combine([mp.log(rho[k - j] / rk) for j in range(qq + 1)], Ml),
            }
            for m, c in cols.items():
                c = [ak1 * x for x in c]
                stats.rowsum_rel = max(stats.rowsum_rel, rel(sum(c), ddim_c))
                tables[f"{m}{r}"].append([psi] + c + [mpf(0)] * (r - qq))
            if sde.is_ve:
                stats.ve_tab_vs_logrho = max(stats.ve_tab_vs_logrho,
                                             max(rel(a, b) for a, b in zip(cols["tab"], cols["logrho"])))
            b = IPNDM[qq]
            tables[f"ipndm{r}"].append([psi] + [ak1 * h * frac(x) for x in b] + [mpf(0)] * (r - qq))

        # Euler in t on the probability-flow ODE
        tables["euler"].append([1 + dt * sde.dlogab(tk) / 2, dt * ak * sde.drho(tk)])
        # EI with score
        if sde.is_ve:
            tables["ei-score"].append([psi, (rk1 ** 2 - rk ** 2) / (2 * rk)])
        else:
            sig_k = rk * ak
            tables["ei-score"].append([psi, (1 - psi) / sig_k])

        # stochastic DDIM
        for lam_s, lam in (("0.5", mpf(1) / 2), ("1", mpf(1))):
            l2 = lam * lam
            c0 = ak1 * rk * mp.expm1((1 + l2) * d)
            s = ak1 * rk1 * mp.sqrt(-mp.expm1(2 * l2 * d))
            sddim[lam_s]["rows"].append([psi, c0])
            sddim[lam_s]["noise"].append(s)

        # rho-RK
        for name, (c, a, bw) in RK.items():
            stages = []
            for m in range(len(c)):
                cm = Fraction(c[m])
                if cm == 0:
                    t_m, r_m = tk, rk
                elif cm == 1:
                    t_m, r_m = tk1, rk1
                else:
                    r_m = rk + frac(cm) * h
                    t_m = sde.t_of_rho(r_m)
                    stats.stage_rho_rel = max(stats.stage_rho_rel, rel(sde.rho(t_m), r_m))
                ab_m = mpf(1) if sde.is_ve else 1 / (1 + r_m ** 2)
                al_m = mp.sqrt(ab_m)
                coefs = [al_m * h * frac(x) for x in (a[m - 1] if m > 0 else [])]
                stages.append({"t": t_m, "alphaBar": ab_m, "rho": r_m, "xCoef": al_m / ak, "coefs": coefs})
            rk_out[name]["stages"].append(stages)
            rk_out[name]["rows"].append([psi] + [ak1 * h * frac(x) for x in bw])

    out_tables = dict(tables)
    for lam_s, v in sddim.items():
        out_tables[f"sddim-{lam_s}"] = v
    for name, v in rk_out.items():
        out_tables[f"rhork-{name}"] = v
    return {
        "grid": grid,
        "kappa": kappa,
        "steps": N,
        "timesteps": ts_f,
        "alphaBar": ab,
        "rho": rho,
        "tables": out_tables,
    }


def to_json(x):
    if isinstance(x, mpmath.mpf):
        return f64(x)
    if isinstance(x, dict):
        return {k: to_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_json(v) for v in x]
    if isinstance(x, float):
        assert math.isfinite(x)
    return x


def make_sde(name):
    if name == "vp-linear":
        return VPLinear(), 1.0, 1e-3
    if name == "vp-cosine":
        return VPCosine(), 0.9946, 1e-3
    if name == "ve":
        return VE(), 1.0, 1e-3
    if name == "vp-discrete":
        return VPDiscrete(ddpm_table()), 1.0, 1e-3
    raise ValueError(name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sde", action="append", choices=["vp-linear", "vp-cosine", "ve", "vp-discrete"])
    ap.add_argument("--steps", type=int, action="append", help="restrict step counts (testing)")
    ap.add_argument("--check-stride", type=int, default=7,
                    help="re-integrate every K-th step with Gauss-Legendre at dps 60 (0: off)")
    ap.add_argument("--outdir", default=OUTDIR)
    args = ap.parse_args()
    names = args.sde or ["vp-linear", "vp-cosine", "ve", "vp-discrete"]
    steps = args.steps or STEPS
    os.makedirs(args.outdir, exist_ok=True)
    t_all = time.time()
    for name in names:
        t0 = time.time()
        sde, T, eps = make_sde(name)
        stats = Stats()
        cases = []
        for grid, kappa in GRIDS:
            for N in steps:
                t1 = time.time()
                cases.append(compute_case(sde, grid, kappa, N, T, eps, stats, args.check_stride))
                log(f"[{name}] {grid:15s} steps={N:4d}  {time.time() - t1:7.1f}s")
        doc = {
            "generator": "tools/reference/make_fixtures.py",
            "dps": DPS,
            "sde": sde.config,
            "tStart": T,
            "tEnd": eps,
            "cases": cases,
        }
        if isinstance(sde, VPDiscrete):
            doc["alphasCumprod"] = sde.config["alphasCumprod"]
            doc["sde"]["construction"] = ("betas = numpy.linspace(1e-4, 0.02, 1000); "
                                          "alphasCumprod = numpy.cumprod(1 - betas) (float64)")
        path = os.path.join(args.outdir, f"{name}.json.gz")
        data = json.dumps(to_json(doc), separators=(",", ":"), allow_nan=False).encode()
        with gzip.open(path, "wb", compresslevel=9) as fh:
            fh.write(data)
        log(f"[{name}] wrote {path}: {len(data) / 1e6:.2f} MB json, {os.path.getsize(path) / 1e6:.2f} MB gz, "
            f"{time.time() - t0:.1f}s")
        log(f"[{name}] checks: quad err est (rel) max {stats.quad_err_est:.2e}; "
            f"quad vs Gauss-Legendre@{GUARD_DPS} max rel {stats.check_rel:.2e} over {stats.check_count} steps; "
            f"by parts in t max rel {stats.parts_rel:.2e}; "
            f"log-rho closed form dps{DPS} vs dps{GUARD_DPS} max rel {stats.logrho_rel:.2e}; "
            f"row sums vs ddim max rel {stats.rowsum_rel:.2e}; rk stage rho(t(rho)) max rel "
            f"{stats.stage_rho_rel:.2e}" +
            (f"; ve tab vs logrho max rel {stats.ve_tab_vs_logrho:.2e}" if sde.is_ve else ""))
    log(f"total {time.time() - t_all:.1f}s")


if __name__ == "__main__":
    main()
