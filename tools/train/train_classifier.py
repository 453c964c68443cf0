"""Small MNIST classifier for Frechet-distance features, trained on the 8,000 training digits.

Reproduce (from the repository root, after tools/train/export_mnist.ts):

    nice -n 10 /usr/bin/python3 tools/train/train_classifier.py

Input x [B,1,28,28] float32 in [-1, 1] (byte / 127.5 - 1, white digit on black = +1 on -1).
Architecture (BatchNorm folded into the convolutions at export):
  conv3x3 1->32, BN, ReLU, maxpool2                                (28 -> 14)
  conv3x3 32->64, BN, ReLU, maxpool2                               (14 -> 7)
  conv3x3 64->64, BN, ReLU, maxpool2                               (7 -> 3)
  flatten 576 -> Linear 128 = features [B,128]  (the penultimate layer, taken BEFORE its ReLU:
  no dead dimensions, closer to Gaussian, so its covariance is full rank for a Frechet distance)
  ReLU -> dropout 0.3 (training only) -> Linear 128 -> 10 = logits
Training: seed 0, AdamW (lr 2e-3, wd 1e-4) with a one-cycle cosine schedule, batch 64, 12 epochs,
light augmentation (random affine: rotation +-10 deg, scale 0.9-1.1, shift +-2 px). The held-out
2,000 digits are only evaluated, never used for selection: the final epoch's weights are exported.

Writes models/mnist-features/model.onnx (opset 17, input x, outputs logits [B,10] and features
[B,128], dynamic batch), models/mnist-features/weights.pt and the accuracy to
models/mnist-features/metrics.json; plus tools/train/checkpoints/classifier_check.json (reference
outputs for verify_classifier_onnx.ts).
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(HERE, "data")


def load_split(name):
    x = np.fromfile(os.path.join(DATA, f"{name}_images.u8"), dtype=np.uint8).reshape(-1, 1, 28, 28)
    y = np.fromfile(os.path.join(DATA, f"{name}_labels.u8"), dtype=np.uint8)
    return torch.from_numpy(x.astype(np.float32) / 127.5 - 1.0), torch.from_numpy(y.astype(np.int64))


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Classifier(nn.Module):
    def __init__(self, feat=128):
        super().__init__()
        self.body = nn.Sequential(
            conv_bn(1, 32), nn.MaxPool2d(2),
            conv_bn(32, 64), nn.MaxPool2d(2),
            conv_bn(64, 64), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 3 * 3, feat))
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(feat, 10)

    def forward(self, x):
        """Returns (logits, features); features = the penultimate layer before its ReLU."""
        f = self.body(x)
        return self.head(self.drop(F.relu(f))), f


def fold_bn(model):
    """Returns an eval-mode copy with each Conv+BN pair folded into one Conv with bias."""
    import copy
    m = copy.deepcopy(model).eval()
    for blk in m.body:
        if isinstance(blk, nn.Sequential) and isinstance(blk[1], nn.BatchNorm2d):
            conv, bn = blk[0], blk[1]
            s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, 3, padding=1, bias=True)
            fused.weight.data = conv.weight.data * s[:, None, None, None]
            fused.bias.data = bn.bias.data - bn.running_mean * s
            blk[0] = fused
            blk[1] = nn.Identity()
    return m


def augment(x, g):
    b = x.shape[0]
    ang = (torch.rand(b, generator=g) * 2 - 1) * math.radians(10)
    sc = 0.9 + 0.2 * torch.rand(b, generator=g)
    sh = (torch.rand(b, 2, generator=g) * 2 - 1) * (2 / 14)  # +-2 px in normalised coordinates
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos, -sin, sh[:, 0]], 1), torch.stack([sin, cos, sh[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1  # background -1


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    logits = torch.cat([model(x[i:i + 500])[0] for i in range(0, len(x), 500)])
    return (logits.argmax(1) == y).float().mean().item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out-dir", default=os.path.join(ROOT, "models", "mnist-features"))
    p.add_argument("--export-only", action="store_true",
                   help="skip training: re-export the weights.pt already in --out-dir")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)

    xtr, ytr = load_split("train")
    xho, yho = load_split("heldout")
    model = Classifier()
    if args.export_only:
        model.load_state_dict(torch.load(os.path.join(args.out_dir, "weights.pt"), map_location="cpu")["state_dict"])
        args.epochs = 0
        try:
            prev = json.load(open(os.path.join(args.out_dir, "metrics.json")))
        except (OSError, ValueError):
            prev = {}
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    spe = math.ceil(len(xtr) / args.batch)
    total = spe * args.epochs
    if total:
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total, pct_start=0.15)
    epoch_log = []
    t0 = time.time()
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=g)
        tot, n = 0.0, 0
        for i in range(spe):
            idx = perm[i * args.batch:(i + 1) * args.batch]
            xb = augment(xtr[idx], g)
            loss = F.cross_entropy(model(xb)[0], ytr[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
            n += len(idx)
        acc = evaluate(model, xho, yho)
        epoch_log.append(dict(epoch=ep + 1, loss=round(tot / n, 4), held_out_accuracy=acc))
        print(f"epoch {ep + 1:2d}  loss {tot / n:.4f}  held-out acc {acc * 100:.2f}%  {time.time() - t0:.0f} s",
              flush=True)
    train_acc = evaluate(model, xtr, ytr)
    acc = evaluate(model, xho, yho)

    os.makedirs(args.out_dir, exist_ok=True)
    fused = fold_bn(model)
    with torch.no_grad():
        l1, f1 = model.eval()(xho[:64])
        l2, f2 = fused(xho[:64])
    print(f"BN folding: max diff logits {(l1 - l2).abs().max():.2e}, features {(f1 - f2).abs().max():.2e}")
    torch.save(dict(state_dict=model.state_dict(), held_out_accuracy=acc), os.path.join(args.out_dir, "weights.pt"))

    class Export(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            logits, feats = self.m(x)
            return logits, feats

    onnx_path = os.path.join(args.out_dir, "model.onnx")
    # (an eval-mode wrapper: torch.onnx.export restores the wrapper's train/eval mode afterwards)
    torch.onnx.export(Export(fused).eval(), (xho[:2],), onnx_path, input_names=["x"], output_names=["logits", "features"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}},
                      opset_version=17, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(onnx_path))

    fused.eval()
    with torch.no_grad():
        feats = torch.cat([fused(xho[i:i + 500])[1] for i in range(0, len(xho), 500)])
    dead = int((feats.std(0) < 1e-6).sum())
    ev = torch.linalg.eigvalsh(torch.cov(feats.double().T))
    cond = float(ev.max() / ev.min().clamp_min(1e-300))
    macs = (784 * 9 * 32 + 196 * 9 * 32 * 64 + 49 * 9 * 64 * 64 + 576 * 128 + 128 * 10)
    metrics = dict(held_out_accuracy=acc, held_out_count=len(xho), train_accuracy=train_acc,
                   feature_dim=feats.shape[1], features="penultimate Linear output, before ReLU",
                   dead_features_on_held_out=dead, feature_cov_condition_held_out=round(cond, 1), macs=macs,
                   params=sum(p.numel() for p in model.parameters()), epochs=args.epochs,
                   train_time_s=round(time.time() - t0, 1), epoch_log=epoch_log)
    if args.export_only:
        for k in ("epochs", "train_time_s", "epoch_log"):
            if k in prev:
                metrics[k] = prev[k]
    with open(os.path.join(args.out_dir, "metrics.json"), "w") as f:
        f.write(json.dumps(metrics, indent=2) + "\n")
    xc = xho[:5]
    with torch.no_grad():
        lc, fc = fused(xc)
    os.makedirs(os.path.join(HERE, "checkpoints"), exist_ok=True)
    with open(os.path.join(HERE, "checkpoints", "classifier_check.json"), "w") as f:
        json.dump(dict(shape=[5, 1, 28, 28], x=xc.flatten().tolist(), logits=lc.flatten().tolist(),
                       features=fc.flatten().tolist()), f)
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
