"""Reference values for the CPU noise's ln, cos and sin (assembly/kernels/noise.ts), in 40 digits.

    /usr/bin/python3 tools/noise/mpmath_points.py > tests/fixtures/noise_mpmath.json

The points are the integer inputs of the kernel's functions: k in [1, 2^24] for ln(k·2^-24) and j in
[0, 2^24) for the angle 2π·j·2^-24. They include the ends of the ranges, the range-reduction seams
(powers of two, m next to √2, quarter turns ± 1) and a fixed pseudo-random spread.
"""
import json
import random

import mpmath as mp

mp.mp.dps = 40
N = 1 << 24

ks = {1, 2, 3, N - 1, N, N // 2, N // 2 + 1}
for e in range(0, 25):
    ks.update(k for k in (2**e - 1, 2**e, 2**e + 1) if 1 <= k <= N)
    s = int(mp.floor(mp.sqrt(2) * 2**e))  # m next to √2 for each exponent
    ks.update(k for k in (s - 1, s, s + 1, s + 2) if 1 <= k <= N)
js = {0, 1, N - 1}
for q in range(5):
    c = q << 22
    js.update(j for j in (c - (1 << 21) - 1, c - (1 << 21), c - 1, c, c + 1, c + (1 << 21) - 1) if 0 <= j < N)
rng = random.Random(20261127)
ks.update(rng.randint(1, N) for _ in range(300))
js.update(rng.randrange(N) for _ in range(300))


def s40(x):
    return mp.nstr(x, 40, min_fixed=-1, max_fixed=-1)


out = {
    "note": "mpmath 40-digit values; see tools/noise/mpmath_points.py",
    "ln": [[k, s40(mp.log(mp.mpf(k) / N))] for k in sorted(ks)],
    "cosSin": [[j, s40(mp.cos(2 * mp.pi * j / N)), s40(mp.sin(2 * mp.pi * j / N))] for j in sorted(js)],
}
rows = lambda key: ",\n".join(json.dumps(r) for r in out[key])
print('{\n"note": %s,\n"ln": [\n%s\n],\n"cosSin": [\n%s\n]\n}' % (json.dumps(out["note"]), rows("ln"), rows("cosSin")))
