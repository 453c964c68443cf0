"""Sanity check: sample digits from the trained U-Net with deterministic DDIM (= tAB-DEIS r=0).

    /usr/bin/python3 tools/train/sample_ddim.py [--weights models/mnist/weights.pt | --ckpt CKPT]
        [--steps 50] [--grid quadratic|uniform] [--n 16] [--out tools/train/sanity_samples.png]

Time grid from T = 1 to eps = 1e-3 (quadratic: t_i = (sqrt(T) + i/N (sqrt(eps) - sqrt(T)))^2),
x_T ~ N(0, I), DDIM step x_s = alpha_s x0_hat + sigma_s eps_theta, x0_hat = (x_t - sigma_t eps_theta) / alpha_t,
and a final denoising step x0_hat at t = eps. Writes a 4x4 (n = 16) grid, 4x upscaled.
If models/mnist-features/weights.pt exists, also prints the classifier's labels and confidences.
"""

import argparse
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from unet import T_EPS, TIME_SCALE, UNet, alpha_sigma  # noqa: E402


def time_grid(n, kind, t_start=1.0, t_end=T_EPS):
    i = torch.arange(n + 1, dtype=torch.float64) / n
    if kind == "uniform":
        return t_start + i * (t_end - t_start)
    return (math.sqrt(t_start) + i * (math.sqrt(t_end) - math.sqrt(t_start))) ** 2


@torch.no_grad()
def ddim(model, n, steps, kind, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 28, 28, generator=g)
    ts = time_grid(steps, kind)
    for i in range(steps):
        t, s = ts[i], ts[i + 1]
        at, st = alpha_sigma(t)
        as_, ss = alpha_sigma(s)
        eps = model(x, torch.full((n,), float(t) * TIME_SCALE)).double()
        x0 = (x.double() - st * eps) / at
        x = (as_ * x0 + ss * eps).float()
    at, st = alpha_sigma(ts[-1])
    eps = model(x, torch.full((n,), float(ts[-1]) * TIME_SCALE)).double()
    return ((x.double() - st * eps) / at).float()


def save_grid(x, path, scale=4):
    from PIL import Image
    n = x.shape[0]
    cols = int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    img = np.zeros((rows * 30, cols * 30), dtype=np.uint8)
    arr = ((x.clamp(-1, 1) + 1) * 127.5).round().byte().numpy()
    for k in range(n):
        r, c = divmod(k, cols)
        img[r * 30 + 1:r * 30 + 29, c * 30 + 1:c * 30 + 29] = arr[k, 0]
    Image.fromarray(img).resize((img.shape[1] * scale, img.shape[0] * scale), Image.NEAREST).save(path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", default=os.path.join(ROOT, "models", "mnist", "weights.pt"))
    p.add_argument("--ckpt", default=None, help="use the EMA weights of a training checkpoint instead")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--grid", default="quadratic", choices=["quadratic", "uniform"])
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(HERE, "sanity_samples.png"))
    args = p.parse_args()
    torch.set_num_threads(2)
    if args.ckpt:
        ck = torch.load(args.ckpt, map_location="cpu")
        model = UNet(**{"param": "eps", **ck["config"]})  # configs without "param" predate it: eps
        model.load_state_dict(ck["ema"])
    else:
        ck = torch.load(args.weights, map_location="cpu")
        model = UNet(**{"param": "eps", **ck["config"]})  # configs without "param" predate it: eps
        model.load_state_dict(ck["state_dict"])
    model.eval()
    x = ddim(model, args.n, args.steps, args.grid, args.seed)
    save_grid(x, args.out)
    print(f"step {ck['step']}: wrote {args.n} samples ({args.steps} DDIM steps, {args.grid} t grid) to {args.out}")
    clf_path = os.path.join(ROOT, "models", "mnist-features", "weights.pt")
    if os.path.exists(clf_path):
        from train_classifier import Classifier
        clf = Classifier()
        clf.load_state_dict(torch.load(clf_path, map_location="cpu")["state_dict"])
        clf.eval()
        with torch.no_grad():
            prob = torch.softmax(clf(x.clamp(-1, 1))[0], 1)
        conf, lab = prob.max(1)
        print("classifier labels     :", lab.tolist())
        print("classifier confidences:", [round(c, 2) for c in conf.tolist()])
        print(f"mean confidence {conf.mean():.3f}; confident (>0.9): {(conf > 0.9).float().mean() * 100:.0f}%; "
              f"label histogram {torch.bincount(lab, minlength=10).tolist()}")


if __name__ == "__main__":
    main()
