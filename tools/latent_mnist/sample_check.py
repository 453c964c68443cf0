"""Sanity sampler for the latent model: DDIM (diffusers' DDIMScheduler, eta 0, trailing spacing) with
classifier-free guidance, decoded by the autoencoder and measured with models/mnist-features.

    nice -n 10 /usr/bin/python3 tools/latent_mnist/sample_check.py --steps 10 --guidance 1 2 4

For each guidance w it draws --per-class digits of every class 0–9 (fixed seed), reports the share the
classifier assigns to the requested class and the Fréchet distance of the classifier's 128-d features
(pre-ReLU, as bench/quality.ts) to the 2,000 held-out digits. Guidance: v = v_null + w·(v_class − v_null).
Also reports the reference floors (real training digits and autoencoder reconstructions vs held-out).
Writes models/latent-mnist/sample_metrics.json (merged per step count) and a PNG grid per step count.
"""

import argparse
import json
import os
import time

import numpy as np
import torch

from autoencoder import AutoEncoder
from common import OUT_DIR, classify, frechet, load_classifier, load_heldout, load_train, moments
from png import write_png
from schedule import alphas_cumprod, ddim_timesteps
from unet import NULL_CLASS, LatentUNet


@torch.no_grad()
def ddim(model, labels, steps, guidance, gen, ab, batch=500):
    out = []
    ts = ddim_timesteps(steps)
    for i in range(0, len(labels), batch):
        lab = labels[i:i + batch]
        b = len(lab)
        x = torch.randn((b, 4, 7, 7), generator=gen)
        for k, t in enumerate(ts):
            prev = ts[k + 1] if k + 1 < len(ts) else -1
            a = ab[t].float()
            a_prev = (ab[prev] if prev >= 0 else ab[0]).float()  # set_alpha_to_one = False
            tt = torch.full((b,), t, dtype=torch.long)
            if guidance == 1:
                v = model(x, tt, lab)
            else:
                vv = model(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([lab, torch.full_like(lab, NULL_CLASS)]))
                vc, vu = vv[:b], vv[b:]
                v = vu + guidance * (vc - vu)
            x0 = a.sqrt() * x - (1 - a).sqrt() * v
            eps = (1 - a).sqrt() * x + a.sqrt() * v
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        out.append(x)
    return torch.cat(out)


def grid_png(path, imgs, rows, cols):
    a = ((imgs[:rows * cols, 0].clamp(-1, 1) + 1) * 127.5).round().byte().numpy()
    g = a.reshape(rows, cols, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, cols * 28)
    write_png(path, np.repeat(g[:, :, None], 3, axis=2))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, nargs="+", default=[10])
    p.add_argument("--guidance", type=float, nargs="+", default=[1, 2, 4])
    p.add_argument("--per-class", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--unet", default=os.path.join(OUT_DIR, "unet_ema.pt"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    ud = torch.load(args.unet, map_location="cpu")
    model = LatentUNet(**ud["config"]).eval()
    model.load_state_dict(ud["state_dict"])
    aed = torch.load(os.path.join(OUT_DIR, "autoencoder.pt"), map_location="cpu")
    ae = AutoEncoder().eval()
    ae.load_state_dict(aed["state_dict"])
    scaling = aed["scaling_factor"]
    clf = load_classifier()
    xho, yho = load_heldout()
    m_ho = moments(classify(clf, xho)[1])
    n = 10 * args.per_class
    xtr, _ = load_train("project")
    floors = dict(train_digits_fd=frechet(moments(classify(clf, xtr[:n])[1]), m_ho))
    with torch.no_grad():
        rec = ae.decoder(ae.encoder(xho))
    floors["heldout_reconstruction_fd"] = frechet(moments(classify(clf, rec)[1]), m_ho)
    print(json.dumps(floors), flush=True)
    ab = alphas_cumprod()
    labels = torch.arange(10).repeat(args.per_class)
    path = os.path.join(OUT_DIR, "sample_metrics.json")
    res = json.load(open(path)) if os.path.exists(path) else {}
    res["floors"] = {**floors, "count": n}
    for steps in args.steps:
        for w in args.guidance:
            t0 = time.time()
            z = ddim(model, labels, steps, w, torch.Generator().manual_seed(args.seed), ab)
            with torch.no_grad():
                img = torch.cat([ae.decoder(z[i:i + 500] / scaling) for i in range(0, n, 500)])
            logits, feats = classify(clf, img)
            r = dict(steps=steps, guidance=w, count=n, class_accuracy=(logits.argmax(1) == labels).float().mean().item(),
                     fd=frechet(moments(feats), m_ho), seconds=round(time.time() - t0, 1))
            print(json.dumps(r), flush=True)
            res[f"steps{steps}_w{w:g}"] = r
            grid_png(os.path.join(OUT_DIR, f"samples_{steps}steps_w{w:g}.png"), img, min(10, n // 10), 10)
    with open(path, "w") as f:
        f.write(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
