"""Trains the latent-MNIST autoencoder (autoencoder.py) and measures it.

Reproduce (from the repository root, after prepare_data.py):

    nice -n 10 /usr/bin/python3 tools/latent_mnist/train_ae.py --minutes 10
    nice -n 10 /usr/bin/python3 tools/latent_mnist/train_ae.py --minutes 5 --lr 1e-3 --seed 1 \
        --init models/latent-mnist/autoencoder.pt

(the published autoencoder is these two runs: the second continues the first with a fresh cosine
learning-rate cycle; autoencoder.pt and ae_metrics.json list both under "runs").
Adam (lr 2e-3, cosine decay over the time budget to 2 %), batch 128, loss = MSE + 0.5·L1 on
pixels + 1e-4·mean(z²); during training the latent is perturbed by N(0, (0.1·std(z))²) before decoding.
The time budget makes the step count depend on the machine's speed; the count reached is recorded.
Never sees the 2,000 held-out digits except for the final measurement.

Writes models/latent-mnist/autoencoder.pt (state dict + scaling factor) and ae_metrics.json.
"""

import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F

from autoencoder import AutoEncoder, macs
from common import CKPT, OUT_DIR, classify, frechet, load_classifier, load_heldout, load_train, moments


@torch.no_grad()
def encode_all(enc, x, batch=1000):
    return torch.cat([enc(x[i:i + batch]) for i in range(0, len(x), batch)])


@torch.no_grad()
def decode_all(dec, z, batch=1000):
    return torch.cat([dec(z[i:i + batch]) for i in range(0, len(z), batch)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", choices=["full", "project"], default="full")
    p.add_argument("--init", help="start from this autoencoder.pt (a second run continuing the first)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    xtr, _ = load_train(args.data)
    xho, yho = load_heldout()
    model = AutoEncoder()
    prev_log = []
    if args.init:
        d = torch.load(args.init, map_location="cpu")
        model.load_state_dict(d["state_dict"])
        prev_log = d.get("runs", [])
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    budget = args.minutes * 60
    t0 = time.time()
    step, epoch, log = 0, 0, []
    done = False
    while not done:
        perm = torch.randperm(len(xtr), generator=g)
        tot = n = 0
        for i in range(0, len(xtr) - args.batch + 1, args.batch):
            frac = (time.time() - t0) / budget
            if frac >= 1:
                done = True
                break
            for gr in opt.param_groups:
                gr["lr"] = args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * frac)))
            xb = xtr[perm[i:i + args.batch]]
            z = model.encoder(xb)
            zn = z + 0.1 * z.detach().std() * torch.randn(z.shape, generator=g)
            y = model.decoder(zn)
            loss = F.mse_loss(y, xb) + 0.5 * F.l1_loss(y, xb) + 1e-4 * z.pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step % 100 == 0:
                print(f"step {step} loss {loss.item():.5f} {time.time() - t0:.0f} s", flush=True)
            tot += loss.item()
            n += 1
        epoch += 1
        model.eval()
        with torch.no_grad():
            mse = F.mse_loss(model(xho[:500]), xho[:500]).item()
        model.train()
        log.append(dict(epoch=epoch, steps=step, train_loss=round(tot / max(n, 1), 5), heldout500_mse=round(mse, 5),
                        elapsed_s=round(time.time() - t0, 1)))
        print(json.dumps(log[-1]), flush=True)
        os.makedirs(CKPT, exist_ok=True)
        torch.save(model.state_dict(), os.path.join(CKPT, "ae_last.pt"))
    train_s = time.time() - t0
    model.eval()
    z = encode_all(model.encoder, xtr)
    std = z.std().item()
    scaling = 1.0 / std
    zho = encode_all(model.encoder, xho)
    rec = decode_all(model.decoder, zho)
    mse = F.mse_loss(rec, xho).item()
    clf = load_classifier()
    lr_, fr = classify(clf, rec)
    lo, fo = classify(clf, xho)
    m_ho = moments(fo)
    metrics = dict(
        data=args.data, train_count=len(xtr), steps=step, epochs_started=epoch, train_time_s=round(train_s, 1),
        params=sum(p.numel() for p in model.parameters()),
        encoder_macs=macs(model.encoder, [(1, 28, 28)]), decoder_macs=macs(model.decoder, [(4, 7, 7)]),
        latent_mean=z.mean().item(), latent_std=std, scaling_factor=scaling,
        latent_channel_std=z.std(dim=(0, 2, 3)).tolist(),
        heldout_recon_mse=mse, heldout_recon_psnr_db=10 * math.log10(4 / mse),
        heldout_recon_class_accuracy=(lr_.argmax(1) == yho).float().mean().item(),
        heldout_original_class_accuracy=(lo.argmax(1) == yho).float().mean().item(),
        heldout_recon_fd=frechet(moments(fr), m_ho),
        epoch_log=log)
    os.makedirs(OUT_DIR, exist_ok=True)
    runs = prev_log + [dict(steps=step, train_time_s=round(train_s, 1), lr=args.lr, minutes=args.minutes)]
    metrics["runs"] = runs
    torch.save(dict(state_dict=model.state_dict(), scaling_factor=scaling, runs=runs),
               os.path.join(OUT_DIR, "autoencoder.pt"))
    with open(os.path.join(OUT_DIR, "ae_metrics.json"), "w") as f:
        f.write(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps({k: v for k, v in metrics.items() if k != "epoch_log"}, indent=1))


if __name__ == "__main__":
    main()
