"""Trains the class-conditional latent diffusion network (unet.py) on the autoencoder's latents.

Reproduce (from the repository root, after train_ae.py; resumable: rerun the same command):

    nice -n 10 /usr/bin/python3 tools/latent_mnist/train_unet.py --time-budget-min 44 --fresh

- Data: the autoencoder latents of the training digits (train_ae.py's --data, default the 58,000
  of prepare_data.py), times models/latent-mnist/autoencoder.pt's scaling_factor (diffusers' convention).
- Schedule: 1000-step squaredcos_cap_v2 (schedule.py); target v = √ᾱ·ε − √(1−ᾱ)·x₀ (v_prediction).
- Class labels are replaced by the null class 10 with probability --label-dropout (classifier-free guidance).
- AdamW (lr 1e-3, wd 0), 200 warm-up steps, cosine decay to 5 % over the time budget; batch 128;
  EMA of the weights (decay min(0.999, (1+k)/(10+k))) is what is exported.
- Held-out loss: the 2,000 held-out digits' latents with fixed timesteps (stratified) and fixed noise,
  EMA weights, every --eval-every steps → models/latent-mnist/unet_curve.csv and unet_curve.png.
- Checkpoint every --ckpt-every-min minutes to tools/latent_mnist/checkpoints/unet_ckpt.pt (git-ignored):
  weights, EMA, optimiser, step, cumulative training time, generator state; a rerun resumes from it.
Seeds are fixed (0); with a time budget the number of steps reached depends on the machine.

Writes models/latent-mnist/unet_ema.pt (EMA state dict + config) at the end.
"""

import argparse
import copy
import csv
import json
import math
import os
import time

import torch
import torch.nn.functional as F

from autoencoder import AutoEncoder
from common import CKPT, OUT_DIR, load_heldout, load_train
from png import line_plot
from schedule import NUM_TRAIN_TIMESTEPS, alphas_cumprod
from unet import NULL_CLASS, LatentUNet

UNET_CONFIG = dict(in_ch=4, ch=48, blocks=4, emb=128, classes=10)


@torch.no_grad()
def encode(ae, x, scaling, batch=1000):
    return torch.cat([ae.encoder(x[i:i + batch]) for i in range(0, len(x), batch)]) * scaling


def v_loss(model, z0, t, eps, labels, ab):
    a = ab[t].float()[:, None, None, None]
    xt = a.sqrt() * z0 + (1 - a).sqrt() * eps
    v = a.sqrt() * eps - (1 - a).sqrt() * z0
    return F.mse_loss(model(xt, t, labels), v)


@torch.no_grad()
def heldout_loss(model, z0, labels, ab, seed=4321, batch=500):
    n = len(z0)
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn(z0.shape, generator=g)
    t = ((torch.arange(n) + 0.5) / n * NUM_TRAIN_TIMESTEPS).long()[torch.randperm(n, generator=g)]
    was = model.training
    model.eval()
    tot = sum(v_loss(model, z0[i:i + batch], t[i:i + batch], eps[i:i + batch], labels[i:i + batch], ab).item()
              * len(z0[i:i + batch]) for i in range(0, n, batch))
    model.train(was)
    return tot / n


def plot(csv_path, png_path):
    rows = list(csv.DictReader(open(csv_path)))
    he = [(int(r["step"]), float(r["heldout_loss_ema"])) for r in rows if r["heldout_loss_ema"]]
    tr = [(int(r["step"]), float(r["train_loss"])) for r in rows if r["train_loss"]]
    series = []
    if len(tr) > 1:
        series.append(([a for a, _ in tr], [b for _, b in tr], (120, 160, 230)))
    if len(he) > 1:
        series.append(([a for a, _ in he], [b for _, b in he], (220, 60, 30)))
    if series:
        return line_plot(png_path, series)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--time-budget-min", type=float, default=50.0)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--label-dropout", type=float, default=0.12)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ckpt-every-min", type=float, default=3.0)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--data", choices=["full", "project"], default="full")
    p.add_argument("--fresh", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(CKPT, exist_ok=True)
    os.makedirs(OUT_DIR, exist_ok=True)

    aed = torch.load(os.path.join(OUT_DIR, "autoencoder.pt"), map_location="cpu")
    ae = AutoEncoder().eval()
    ae.load_state_dict(aed["state_dict"])
    scaling = aed["scaling_factor"]
    xtr, ytr = load_train(args.data)
    xho, yho = load_heldout()
    ztr, zho = encode(ae, xtr, scaling), encode(ae, xho, scaling)
    print(f"latents: train {tuple(ztr.shape)} std {ztr.std():.4f}, held-out std {zho.std():.4f}", flush=True)
    ab = alphas_cumprod()

    model = LatentUNet(**UNET_CONFIG)
    ema = copy.deepcopy(model).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(args.seed)
    step, elapsed = 0, 0.0
    ckpt_path = os.path.join(CKPT, "unet_ckpt.pt")
    csv_path = os.path.join(OUT_DIR, "unet_curve.csv")
    png_path = os.path.join(OUT_DIR, "unet_curve.png")
    if os.path.exists(ckpt_path) and not args.fresh:
        ck = torch.load(ckpt_path, map_location="cpu")
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        g.set_state(ck["gen"])
        step, elapsed = ck["step"], ck["elapsed"]
        print(f"resumed at step {step}, {elapsed / 60:.1f} min", flush=True)
        # drop curve rows logged after that checkpoint: they are about to be redone
        lines = open(csv_path).read().splitlines()
        with open(csv_path, "w") as f:
            f.write("\n".join([lines[0]] + [r for r in lines[1:] if int(r.split(",")[0]) <= step]) + "\n")
    else:
        with open(csv_path, "w") as f:
            f.write("step,train_time_s,lr,train_loss,heldout_loss_ema\n")

    def save_ckpt():
        torch.save(dict(model=model.state_dict(), ema=ema.state_dict(), opt=opt.state_dict(), gen=g.get_state(),
                        step=step, elapsed=elapsed), ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    budget = args.time_budget_min * 60
    t_start = time.time() - elapsed
    last_ckpt = time.time()
    run_loss, run_n, lr = 0.0, 0, 0.0
    n = len(ztr)
    perm, pos = torch.randperm(n, generator=g), 0
    while elapsed < budget:
        if pos + args.batch > n:
            perm, pos = torch.randperm(n, generator=g), 0
        idx = perm[pos:pos + args.batch]
        pos += args.batch
        z0, lab = ztr[idx], ytr[idx].clone()
        lab[torch.rand(len(idx), generator=g) < args.label_dropout] = NULL_CLASS
        t = torch.randint(0, NUM_TRAIN_TIMESTEPS, (len(idx),), generator=g)
        eps = torch.randn(z0.shape, generator=g)
        frac = elapsed / budget
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        for gr in opt.param_groups:
            gr["lr"] = lr
        loss = v_loss(model, z0, t, eps, lab, ab)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        d = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm, alpha=1 - d)
        step += 1
        elapsed = time.time() - t_start
        run_loss += loss.item()
        run_n += 1
        if step % args.log_every == 0 or step % args.eval_every == 0:
            he = heldout_loss(ema, zho, yho, ab) if step % args.eval_every == 0 else None
            with open(csv_path, "a") as f:
                f.write(f"{step},{elapsed:.1f},{lr:.6f},{run_loss / run_n:.6f},{'' if he is None else f'{he:.6f}'}\n")
            print(f"step {step} {elapsed / 60:.1f} min lr {lr:.2e} loss {run_loss / run_n:.5f}"
                  + ("" if he is None else f" held-out(EMA) {he:.5f}"), flush=True)
            run_loss, run_n = 0.0, 0
        if time.time() - last_ckpt > args.ckpt_every_min * 60:
            save_ckpt()
            plot(csv_path, png_path)
            last_ckpt = time.time()
    he = heldout_loss(ema, zho, yho, ab)
    with open(csv_path, "a") as f:
        f.write(f"{step},{elapsed:.1f},{lr:.6f},,{he:.6f}\n")
    save_ckpt()
    plot(csv_path, png_path)
    torch.save(dict(state_dict=ema.state_dict(), config=UNET_CONFIG, scaling_factor=scaling, steps=step,
                    train_time_s=round(elapsed, 1), batch=args.batch, label_dropout=args.label_dropout,
                    data=args.data, final_heldout_loss_ema=he), os.path.join(OUT_DIR, "unet_ema.pt"))
    print(json.dumps(dict(steps=step, train_time_s=round(elapsed, 1), final_heldout_loss_ema=he)), flush=True)


if __name__ == "__main__":
    main()
