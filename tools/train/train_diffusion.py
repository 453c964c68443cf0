"""Train the small MNIST epsilon-prediction U-Net (unet.py) on the continuous-time VP linear SDE.

Reproduce (from the repository root, after `deno run --allow-read --allow-write --allow-env
tools/train/export_mnist.ts`):

    nice -n 10 /usr/bin/python3 tools/train/train_diffusion.py

Defaults: seed 0, batch 128, Adam lr 2e-3 (linear warm-up over 100 steps), grad-norm clip 1, EMA
decay 0.995 (with the (1+n)/(10+n) warm-up), at most 20,000 steps and at most 70 minutes of training
time (cumulative over resumes); whichever comes first ends the run cleanly. The learning rate is
constant until the progress p = max(step / steps, train_time / time_budget) reaches 1 - decay_frac
(0.3), then decays linearly to 0 at p = 1. When the time budget is what binds (as on a shared 2-core
CPU), the step count reached depends on the machine's speed; the CSV records the lr of every logged
window. For an exactly reproducible run pass --time-budget-min 0 (no time limit) and --steps N.
The run is resumable: it saves tools/train/checkpoints/diffusion_last.pt every few minutes, on
SIGINT/SIGTERM and at the end, and picks it up again when started with the same command
(`--fresh` ignores it). Each step's randomness comes from its own generator seeded with
(seed, step), and the batch order from a per-epoch permutation seeded with (seed, epoch), so a
resumed run draws the same batches, times and noise as an uninterrupted one.

Loss (denoising score matching, eps form): t ~ U[1e-3, 1], eps ~ N(0, I),
x_t = alpha(t) x0 + sigma(t) eps, loss = mean((eps_theta(x_t, 999 t) - eps)^2), x0 in [-1, 1].
eps_theta is unet.UNet with its default output parameterisation eps = sigma x + alpha F (see unet.py).
No augmentation. Batches are drawn as per-epoch permutations (the last 64 digits of each dropped).

Logs: models/mnist/training_curve.csv (step, epoch, train_time_s, lr, train_loss averaged over the
logging window, heldout_loss_ema = the EMA network's loss on the first 1,000 held-out digits with
fixed stratified t and fixed noise) and models/mnist/training_curve.png.
"""

import argparse
import csv
import math
import os
import signal
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from unet import UNet, alpha_sigma, count_flops, count_params, T_EPS, TIME_SCALE  # noqa: E402

DATA = os.path.join(HERE, "data")
CSV_FIELDS = ["step", "epoch", "train_time_s", "lr", "train_loss", "heldout_loss_ema"]


def load_split(name):
    x = np.fromfile(os.path.join(DATA, f"{name}_images.u8"), dtype=np.uint8).reshape(-1, 1, 28, 28)
    y = np.fromfile(os.path.join(DATA, f"{name}_labels.u8"), dtype=np.uint8)
    return torch.from_numpy(x.astype(np.float32) / 127.5 - 1.0), torch.from_numpy(y.astype(np.int64))


def dsm_loss(model, x0, t, eps):
    alpha, sigma = alpha_sigma(t)
    xt = alpha[:, None, None, None] * x0 + sigma[:, None, None, None] * eps
    return ((model(xt, t * TIME_SCALE) - eps) ** 2).mean()


@torch.no_grad()
def heldout_loss(model, x0, seed=12345, batch=500):
    """DSM loss on x0 with stratified t and fixed noise (deterministic)."""
    n = x0.shape[0]
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn(x0.shape, generator=g)
    t = T_EPS + (1 - T_EPS) * (torch.arange(n, dtype=torch.float32) + 0.5) / n
    t = t[torch.randperm(n, generator=g)]
    was = model.training
    model.eval()
    tot = 0.0
    for i in range(0, n, batch):
        tot += dsm_loss(model, x0[i:i + batch], t[i:i + batch], eps[i:i + batch]).item() * min(batch, n - i)
    model.train(was)
    return tot / n


def plot_curve(csv_path, png_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = list(csv.DictReader(open(csv_path)))
    if not rows:
        return
    s = [int(r["step"]) for r in rows]
    tr = [float(r["train_loss"]) for r in rows]
    he = [(int(r["step"]), float(r["heldout_loss_ema"])) for r in rows if r["heldout_loss_ema"]]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.plot(s, tr, lw=0.8, alpha=0.7, label="train loss (online weights, window mean)")
    if he:
        ax.plot([a for a, _ in he], [b for _, b in he], "o-", ms=3, label="held-out loss (EMA weights)")
    ax2 = ax.twinx()
    ax2.plot(s, [float(r["lr"]) for r in rows], color="gray", lw=0.8, ls="--", label="learning rate")
    ax2.set_ylabel("learning rate")
    ax2.set_ylim(bottom=0)
    ax.set_yscale("log")
    ax.set_xlabel("step (batch 128)")
    ax.set_ylabel("DSM loss  mean ||eps_theta - eps||^2")
    ax.set_title(f"MNIST U-Net (VP linear SDE), {s[-1]} steps, {float(rows[-1]['train_time_s']) / 60:.0f} min")
    ax.grid(True, which="both", alpha=0.3)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="center right")
    fig.tight_layout()
    fig.savefig(png_path)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--ema", type=float, default=0.995)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-budget-min", type=float, default=70.0,
                   help="stop cleanly after this much cumulative training time (minutes); 0 = no limit")
    p.add_argument("--decay-frac", type=float, default=0.3,
                   help="linear lr decay to 0 over the last fraction of the run (by steps or time)")
    p.add_argument("--ckpt-every-min", type=float, default=3.0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ckpt-dir", default=os.path.join(HERE, "checkpoints"))
    p.add_argument("--out-dir", default=os.path.join(ROOT, "models", "mnist"))
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.ckpt_dir, exist_ok=True)
    os.makedirs(args.out_dir, exist_ok=True)
    ckpt_path = os.path.join(args.ckpt_dir, "diffusion_last.pt")
    csv_path = os.path.join(args.out_dir, "training_curve.csv")
    png_path = os.path.join(args.out_dir, "training_curve.png")

    x_train, _ = load_split("train")
    x_held, _ = load_split("heldout")
    x_held = x_held[:1000]
    n_train = x_train.shape[0]
    spe = n_train // args.batch  # steps per epoch (the remainder of each permutation is dropped)

    model = UNet().to(memory_format=torch.channels_last)  # channels_last: faster mkldnn convs on CPU
    ema = UNet()
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step = 0
    train_time = 0.0
    if os.path.exists(ckpt_path) and not args.fresh:
        ck = torch.load(ckpt_path, map_location="cpu")
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        train_time = ck["train_time_s"]
        print(f"resumed from {ckpt_path} at step {step} ({train_time / 60:.1f} min trained)", flush=True)
        # drop log rows written after that checkpoint
        if os.path.exists(csv_path):
            rows = [r for r in csv.DictReader(open(csv_path)) if int(r["step"]) <= step]
            with open(csv_path, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n")
                w.writeheader()
                w.writerows(rows)
    else:
        with open(csv_path, "w", newline="") as f:
            csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n").writeheader()
    fl = count_flops(model)
    print(f"UNet {model.config}: {count_params(model):,} params, {fl['flops'] / 1e6:.1f} MFLOP/eval "
          f"(+{fl['elementwise'] / 1e6:.1f} elementwise); {n_train} training digits, {spe} steps/epoch", flush=True)

    stop = {"flag": False}

    def on_signal(signum, frame):
        print(f"signal {signum}: stopping after this step", flush=True)
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def save():
        tmp = ckpt_path + ".tmp"
        torch.save(dict(model=model.state_dict(), ema=ema.state_dict(), opt=opt.state_dict(), step=step,
                        train_time_s=train_time, config=model.config, args=vars(args),
                        ema_decay=args.ema), tmp)
        os.replace(tmp, ckpt_path)

    def log(row):
        with open(csv_path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n").writerow(row)

    perm_epoch, perm = -1, None
    win_loss, win_n = 0.0, 0
    last_ckpt = time.time()
    budget = args.time_budget_min * 60 if args.time_budget_min > 0 else float("inf")
    model.train()
    while step < args.steps and train_time < budget and not stop["flag"]:
        t0 = time.time()
        epoch, pos = divmod(step, spe)
        if epoch != perm_epoch:
            perm = torch.randperm(n_train, generator=torch.Generator().manual_seed(args.seed * 1_000_003 + epoch))
            perm_epoch = epoch
        x0 = x_train[perm[pos * args.batch:(pos + 1) * args.batch]].contiguous(memory_format=torch.channels_last)
        g = torch.Generator().manual_seed(args.seed * 1_000_000_007 + step + 1)
        t = T_EPS + (1 - T_EPS) * torch.rand(x0.shape[0], generator=g)
        eps = torch.randn(x0.shape, generator=g)
        progress = max(step / args.steps, train_time / budget)
        decay = min(1.0, max(0.0, (1.0 - progress) / args.decay_frac)) if args.decay_frac > 0 else 1.0
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * decay
        for grp in opt.param_groups:
            grp["lr"] = lr
        loss = dsm_loss(model, x0, t, eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        d = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
            for be, bm in zip(ema.buffers(), model.buffers()):
                be.copy_(bm)
        win_loss += loss.item()
        win_n += 1
        if step % args.log_every == 0 or step == args.steps:
            held = ""
            if step % args.eval_every == 0 or step == args.steps:
                held = f"{heldout_loss(ema, x_held):.6f}"
            train_time += time.time() - t0
            t0 = time.time()
            log(dict(step=step, epoch=f"{step / spe:.3f}", train_time_s=f"{train_time:.1f}", lr=f"{lr:.3g}",
                     train_loss=f"{win_loss / win_n:.6f}", heldout_loss_ema=held))
            print(f"step {step:6d}  ep {step / spe:6.2f}  {train_time / 60:5.1f} min  loss {win_loss / win_n:.5f}"
                  + (f"  held-out(EMA) {held}" if held else ""), flush=True)
            win_loss, win_n = 0.0, 0
        train_time += time.time() - t0
        if time.time() - last_ckpt > args.ckpt_every_min * 60:
            save()
            try:
                plot_curve(csv_path, png_path)
            except Exception as e:  # plotting is optional
                print("plot failed:", e, flush=True)
            last_ckpt = time.time()
    if win_n:
        log(dict(step=step, epoch=f"{step / spe:.3f}", train_time_s=f"{train_time:.1f}", lr=f"{lr:.3g}",
                 train_loss=f"{win_loss / win_n:.6f}", heldout_loss_ema=f"{heldout_loss(ema, x_held):.6f}"))
    save()
    plot_curve(csv_path, png_path)
    why = "signal" if stop["flag"] else ("steps" if step >= args.steps else "time budget")
    print(f"DONE step {step}, {train_time / 60:.1f} min of training (stopped by {why}); checkpoint {ckpt_path}",
          flush=True)


if __name__ == "__main__":
    main()
